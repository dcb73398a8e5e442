import type { TermsAck } from '../../extensions/card-api';
import type { Selectable } from 'kysely';
import { termsDaysOf } from '../domain/terms';
import type { IsoDate } from '../domain/types';
import { touchPortal, type Executor } from '../store/facts';
import type { PaymentTermsAcksTable } from '../store/schema';
import { addLogEntry, requireNotFuture } from './comm-log';
import { linkedCustomer } from './linked-customer';

// Payment-terms acknowledgments: at sale, the customer's contact acknowledges the payment terms of a deal;
// the rep records who, when, and the evidence. Every capture is kept; a deal's latest is the one on record.

export type NewTermsAck = {
  dealId: string;
  terms: string;
  termsDays?: number | null;
  contactId?: string | null;
  contactName: string;
  contactEmail?: string | null;
  acknowledgedOn: IsoDate;
  evidenceUrl?: string | null;
  recordedBy: string | null;
};

const ackOf = (row: Selectable<PaymentTermsAcksTable>): TermsAck => ({
  id: String(row.id),
  deal_id: row.deal_id,
  terms: row.terms,
  terms_days: row.terms_days,
  contact: { id: row.contact_id, name: row.contact_name, email: row.contact_email },
  acknowledged_on: row.acknowledged_on,
  evidence_url: row.evidence_url,
  recorded_by: row.recorded_by,
  recorded_at: new Date(row.recorded_at).toISOString(),
});

/**
 * Records a deal's terms acknowledgment. The deal's company is the one HubSpot associates with it (from the
 * mirror) at the time; when that company is linked to a customer, the acknowledgment also goes into the
 * customer's communication log (once). `termsDays` defaults to what plain terms say ("Net 30" → 30).
 */
export const recordTermsAck = async (db: Executor, portalId: number, ack: NewTermsAck, today: IsoDate): Promise<TermsAck> => {
  requireNotFuture(ack.acknowledgedOn, today, 'acknowledgedOn');
  const deal = await db.selectFrom('hubspot_deals').select('company_id')
    .where('portal_id', '=', portalId).where('deal_id', '=', ack.dealId).executeTakeFirst();
  const companyId = deal?.company_id ?? null;
  const row = await db.insertInto('payment_terms_acks').values({
    portal_id: portalId,
    deal_id: ack.dealId,
    company_id: companyId,
    terms: ack.terms,
    terms_days: ack.termsDays ?? termsDaysOf(ack.terms),
    contact_name: ack.contactName,
    contact_email: ack.contactEmail ?? null,
    contact_id: ack.contactId ?? null,
    acknowledged_on: ack.acknowledgedOn,
    evidence_url: ack.evidenceUrl ?? null,
    recorded_by: ack.recordedBy,
  }).returningAll().executeTakeFirstOrThrow();
  const customer = companyId === null ? null : await linkedCustomer(db, portalId, companyId);
  if (customer !== null) {
    await addLogEntry(db, portalId, {
      customerId: customer.internalId,
      kind: 'terms_ack',
      occurredOn: ack.acknowledgedOn,
      summary: `Payment terms "${row.terms}" acknowledged by ${row.contact_name} for deal ${ack.dealId}`,
      author: ack.recordedBy,
      dealId: ack.dealId,
      entryKey: `terms_ack:${row.id}`,
    });
  }
  await touchPortal(db, portalId);
  return ackOf(row);
};

/** The acknowledgment on record for a deal as of D: the latest captured among those acknowledged by D. */
export const termsAckOfDeal = async (db: Executor, portalId: number, dealId: string, asOf: IsoDate): Promise<TermsAck | null> => {
  const row = await db.selectFrom('payment_terms_acks').selectAll()
    .where('portal_id', '=', portalId).where('deal_id', '=', dealId).where('acknowledged_on', '<=', asOf)
    .orderBy('recorded_at', 'desc').orderBy('id', 'desc')
    .executeTakeFirst();
  return row ? ackOf(row) : null;
};

/** The acknowledgment on record of each of a company's deals as of D, newest first, at most `limit`. */
export const termsAcksOfCompany = async (
  db: Executor, portalId: number, companyId: string, asOf: IsoDate, limit = 3,
): Promise<TermsAck[]> => {
  const latest = db.selectFrom('payment_terms_acks').selectAll()
    .distinctOn('deal_id')
    .where('portal_id', '=', portalId).where('company_id', '=', companyId).where('acknowledged_on', '<=', asOf)
    .orderBy('deal_id').orderBy('recorded_at', 'desc').orderBy('id', 'desc');
  const rows = await db.selectFrom(latest.as('a')).selectAll()
    .orderBy('a.recorded_at', 'desc').orderBy('a.id', 'desc').limit(limit).execute();
  return rows.map(ackOf);
};
