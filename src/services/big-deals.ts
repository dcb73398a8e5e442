import { isBigDeal } from '../domain/policy';
import { parseMinor } from '../domain/money';
import type { IsoDate } from '../domain/types';
import type { TaskSender } from '../hubspot/tasks';
import { queueTask } from '../hubspot/tasks';
import type { Logger } from '../logger';
import type { Db } from '../store/database';
import { touchPortal } from '../store/facts';
import { loadPolicy } from '../store/policies';
import { dealCard } from './cards';
import { linkedCustomer } from './linked-customer';
import { companySummary } from './reports';

// Big deal closed: HubSpot's webhook events on deals (stored by routes/hubspot-webhooks.ts) are read after
// each round; a deal that is closed won with an amount at or above the policy's threshold of its currency
// gets ONE AR task (big_deal_alerts is keyed by deal) with the customer's risk, history, terms
// acknowledgment and credit position.
//
// "Closed won" is the deal stage `closedwon`, HubSpot's internal value of the default pipeline's won stage.
// Stages of other pipelines (internal ids of their own) are not recognised; a portal with its own pipelines
// maps them in HubSpot to `closedwon` or is not alerted. The amount and currency are read from the deal
// itself when the event is processed (`amount`, `deal_currency_code`, else the mirrored currency); a deal
// without a currency is never big (currencies are not converted).

export const DEAL_PROPERTIES = ['dealname', 'amount', 'deal_currency_code', 'dealstage', 'pipeline', 'hubspot_owner_id'];
export const CLOSED_WON = 'closedwon';

export type BigDealReport = { deals: number; alerts: number; skipped: number; failed: number };

const dealEvents = (db: Db, portalId: number) =>
  db.selectFrom('hubspot_webhook_events').select(['event_id', 'object_id'])
    .where('portal_id', '=', portalId).where('processed_at', 'is', null).where('object_type_id', '=', '0-3')
    .where((eb) => eb.or([eb('property_name', '=', 'dealstage'), eb('subscription_type', 'like', '%creation')]))
    .orderBy('occurred_at').orderBy('event_id');

/** The AR task's body: the deal, then the customer's risk, history, credit position and the terms acknowledgment. */
const alertBody = async (db: Db, portalId: number, deal: { id: string; name: string; amount: string; currency: string }, asOf: IsoDate): Promise<string> => {
  const card = await dealCard(db, portalId, deal.id, asOf);
  const lines = [`Deal "${deal.name}" closed won for ${deal.amount} ${deal.currency}.`, ''];
  const company = card.company;
  const customer = company ? await linkedCustomer(db, portalId, company.company_id) : null;
  if (!company || customer === null) {
    lines.push('The customer is not linked to an accounting customer yet: no risk, history or credit on record.');
  } else {
    const summary = await companySummary(db, portalId, { rowId: customer.internalId }, asOf);
    lines.push(`Customer: ${customer.name ?? customer.externalId}`);
    for (const c of summary.currencies) {
      lines.push(`Risk (${c.currency}): ${c.risk.score} (tier ${c.risk.tier})${c.risk.reasons.length > 0 ? ` — ${c.risk.reasons.join('; ')}` : ''}`);
      lines.push(`History (${c.currency}): ${c.metrics.invoice_count} invoices, outstanding ${c.metrics.outstanding}, overdue ${c.metrics.overdue}, ` +
        `on time ${c.metrics.on_time_rate === null ? 'n/a' : `${Math.round(c.metrics.on_time_rate * 100)}%`}, ` +
        `average days delinquent ${c.metrics.add === null ? 'n/a' : Math.round(c.metrics.add)}`);
    }
    const credit = company.credit ?? null;
    lines.push(credit
      ? `Credit: limit ${credit.limit} ${credit.currency}, outstanding ${credit.outstanding}, with this deal ${credit.total}${credit.exceeds ? ' — EXCEEDS THE LIMIT' : ''}`
      : 'Credit: no limit on record');
  }
  const ack = card.terms_ack;
  lines.push(ack ? `Payment terms: "${ack.terms}" acknowledged by ${ack.contact.name} on ${ack.acknowledged_on}` : 'Payment terms: no acknowledgment on record');
  return lines.join('\n');
};

/**
 * Processes the portal's stored deal events: each deal named is read from HubSpot once; a big closed-won
 * deal gets its alert and task intent (in one transaction with marking its events processed). Events of
 * deals that are not big, or not won, are marked processed too; a deal HubSpot could not be asked about
 * keeps its events for the next round. The task intents are sent by sendPendingTasks.
 */
export const processBigDealEvents = async (
  db: Db, portalId: number, sender: TaskSender, today: IsoDate, { logger }: { logger?: Logger } = {},
): Promise<BigDealReport> => {
  const events = await dealEvents(db, portalId).execute();
  const report: BigDealReport = { deals: 0, alerts: 0, skipped: 0, failed: 0 };
  if (events.length === 0) return report;
  const policy = await loadPolicy(db, portalId);
  const byDeal = new Map<string, string[]>();
  for (const e of events) byDeal.set(e.object_id, [...(byDeal.get(e.object_id) ?? []), e.event_id]);
  for (const [dealId, eventIds] of byDeal) {
    report.deals += 1;
    let deal;
    try {
      deal = await sender.caller.call(async () => (await sender.client()).crm.deals.basicApi.getById(dealId, DEAL_PROPERTIES, undefined, ['companies']));
    } catch (error) {
      report.failed += 1;
      logger?.warn({ portalId, dealId, error: error instanceof Error ? error.message.split('\n')[0] : String(error) }, 'could not read a deal for the big-deal check');
      continue;
    }
    const p = deal.properties;
    const mirrored = await db.selectFrom('hubspot_deals').select(['currency', 'company_id']).where('portal_id', '=', portalId).where('deal_id', '=', dealId).executeTakeFirst();
    const currency = (p.deal_currency_code || mirrored?.currency || '').toUpperCase();
    const amountMinor = currency !== '' && p.amount ? parseMinor(p.amount, currency) : null;
    const big = p.dealstage === CLOSED_WON && amountMinor !== null && isBigDeal(policy, amountMinor, currency);
    const companyId = deal.associations?.companies?.results[0]?.id ?? mirrored?.company_id ?? null;
    await db.transaction().execute(async (trx) => {
      if (big) {
        const alert = await trx.insertInto('big_deal_alerts').values({
          portal_id: portalId, deal_id: dealId, amount_minor: amountMinor, currency, stage: CLOSED_WON, event_id: eventIds[0] ?? null, company_id: companyId,
        }).onConflict((oc) => oc.columns(['portal_id', 'deal_id']).doNothing()).returning('deal_id').executeTakeFirst();
        if (alert) {
          const name = p.dealname || `deal ${dealId}`;
          await queueTask(trx, portalId, {
            key: `big_deal:${dealId}`, purpose: 'big_deal', ownerId: policy.bigDeal.arOwnerId ?? p.hubspot_owner_id ?? null,
            subject: `Big deal closed: ${name} (${p.amount} ${currency})`,
            body: await alertBody(trx, portalId, { id: dealId, name, amount: p.amount ?? '', currency }, today),
            dueOn: today, companyId, dealId,
          });
          report.alerts += 1;
        }
      } else {
        report.skipped += 1;
      }
      await trx.updateTable('hubspot_webhook_events').set({ processed_at: new Date() })
        .where('portal_id', '=', portalId).where('event_id', 'in', eventIds).execute();
      await touchPortal(trx, portalId);
    });
  }
  return report;
};
