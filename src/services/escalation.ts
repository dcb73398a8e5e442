import { sql } from 'kysely';
import { addDays } from '../domain/calendar';
import { evaluateLadder, groupSteps, type LadderException, type LadderInvoice } from '../domain/escalation';
import type { EscalationAction } from '../domain/policy';
import { ESCALATION_ACTIONS } from '../domain/policy';
import type { IsoDate } from '../domain/types';
import { AppError } from '../errors';
import { queueTask } from '../hubspot/tasks';
import type { Db } from '../store/database';
import { touchPortal, type Executor } from '../store/facts';
import { loadPolicy } from '../store/policies';
import { addLogEntry } from './comm-log';
import { createHelpRequest, managerOf } from './help-requests';

// The escalation ladder applied to a portal as of D (after every sync/recompute round and daily): the due
// steps of domain/escalation.ts are taken and recorded once per invoice and action, with who and when.
// - reminder: logged in the customer's communication log (the reminder to send);
// - ask_rep: a help request to the owner of the customer's HubSpot company, unless one is still open;
// - escalate_manager: a task for the owner's manager (policy escalation.managers, else escalateToOwnerId);
// - credit_hold: the customer is flagged (the step itself) and the hold is logged.

export const LADDER_ACTOR = 'escalation ladder';

/** Open invoices (something owed as of D, issued by D, not void by D) of the portal. */
const openInvoices = async (db: Executor, portalId: number, asOf: IsoDate): Promise<(LadderInvoice & { number: string | null; currency: string })[]> => {
  const rows = await sql<{ id: number; customer_id: number; due_date: string; number: string | null; currency: string; open_minor: string }>`
    SELECT i.id, i.customer_id, i.due_date, i.number, i.currency,
      (i.total_minor - COALESCE((SELECT sum(a.amount_minor) FROM payment_allocations a
        WHERE a.portal_id = i.portal_id AND a.invoice_id = i.id AND a.payment_date <= ${asOf}), 0))::text AS open_minor
    FROM invoices i
    WHERE i.portal_id = ${portalId} AND i.issue_date <= ${asOf} AND (i.voided_date IS NULL OR i.voided_date > ${asOf})
      AND i.due_date < ${asOf}`.execute(db);
  return rows.rows
    .map((r) => ({ invoiceId: Number(r.id), customerId: Number(r.customer_id), dueDate: String(r.due_date).slice(0, 10), number: r.number, currency: r.currency, openMinor: Number(r.open_minor) }))
    .filter((r) => r.openMinor > 0);
};

export type LadderRun = { taken: number; held: number; helpRequests: number; tasks: number };

/**
 * Takes the ladder's due steps as of D, one transaction per customer and action (each ends with
 * touchPortal). Steps are unique per invoice and action in the store, so two runs at once or a rerun take
 * nothing twice.
 */
export const runEscalationLadder = async (db: Db, portalId: number, asOf: IsoDate, { by = LADDER_ACTOR }: { by?: string } = {}): Promise<LadderRun> => {
  const policy = await loadPolicy(db, portalId);
  const invoices = await openInvoices(db, portalId, asOf);
  const exceptionRows = await db.selectFrom('escalation_exceptions').select(['customer_id', 'reason', 'until', 'actions'])
    .where('portal_id', '=', portalId).where('until', '>=', asOf).execute();
  const exceptions: LadderException[] = exceptionRows.map((e) => ({
    customerId: Number(e.customer_id), reason: e.reason, until: e.until, actions: e.actions === null ? null : (e.actions as EscalationAction[]),
  }));
  const taken = await db.selectFrom('escalation_steps').select(['invoice_id', 'action']).where('portal_id', '=', portalId).execute();
  const evaluation = evaluateLadder(policy.escalation, invoices, exceptions,
    taken.map((t) => ({ invoiceId: Number(t.invoice_id), action: t.action })), asOf);
  const byId = new Map(invoices.map((i) => [i.invoiceId, i]));
  const run: LadderRun = { taken: 0, held: evaluation.held.length, helpRequests: 0, tasks: 0 };
  for (const group of groupSteps(evaluation.due)) {
    await db.transaction().execute(async (trx) => {
      const recorded = await trx.insertInto('escalation_steps').values(group.steps.map((s) => ({
        portal_id: portalId, customer_id: s.customerId, invoice_id: s.invoiceId, action: s.level.action, level_days: s.level.days,
        days_past_due: s.daysPastDue, taken_on: asOf, taken_by: by,
      }))).onConflict((oc) => oc.columns(['portal_id', 'invoice_id', 'action']).doNothing()).returning(['id', 'invoice_id']).execute();
      if (recorded.length === 0) return;
      run.taken += recorded.length;
      const listed = recorded.map((r) => byId.get(Number(r.invoice_id))).filter((i) => i !== undefined)
        .map((i) => `${i.number ?? i.invoiceId} (due ${i.dueDate})`).join(', ');
      const firstStep = Math.min(...recorded.map((r) => Number(r.id)));
      const link = await trx.selectFrom('company_links as l').leftJoin('hubspot_companies as c', (join) => join.onRef('c.company_id', '=', 'l.company_id').on('c.portal_id', '=', portalId))
        .select(['l.company_id', 'c.owner_id']).where('l.portal_id', '=', portalId).where('l.customer_id', '=', group.customerId)
        .where('l.method', '<>', 'manual_unlink').executeTakeFirst();
      const companyId = link?.company_id ?? null;
      const ownerId = link?.owner_id ?? null;
      let note = '';
      if (group.action === 'ask_rep') {
        const open = await trx.selectFrom('help_requests').select('id').where('portal_id', '=', portalId)
          .where('customer_id', '=', group.customerId).where('status', 'in', ['open', 'accepted']).executeTakeFirst();
        if (open) note = ` (help request ${open.id} is still open)`;
        else if (companyId === null || ownerId === null) note = ' (no HubSpot owner to ask)';
        else {
          const request = await createHelpRequest(trx, portalId, {
            objectType: 'company', objectId: companyId, requestedBy: by,
            needed: `Help collecting ${group.steps.length === 1 ? 'an invoice' : `${group.steps.length} invoices`} ${group.levelDays}+ days past due: ${listed}`,
            neededBy: addDays(asOf, policy.escalation.helpRequestSlaDays),
          }, asOf, policy);
          note = ` (help request ${request.id})`;
          run.helpRequests += 1;
        }
      } else if (group.action === 'escalate_manager') {
        const manager = managerOf(policy, ownerId);
        if (manager === null || companyId === null) note = ' (no manager configured)';
        else {
          await queueTask(trx, portalId, {
            key: `escalation:${firstStep}`, purpose: 'escalation', ownerId: manager,
            subject: `Escalation: invoices ${group.levelDays}+ days past due`,
            body: `Invoices ${group.levelDays} or more days past due: ${listed}.\nThe owner (${ownerId ?? 'none'}) was asked for help at the earlier level.`,
            dueOn: asOf, companyId, dealId: null,
          });
          note = ` (task for owner ${manager})`;
          run.tasks += 1;
        }
      }
      const what: Record<EscalationAction, string> = {
        reminder: 'Payment reminder due', ask_rep: 'Owner asked for help', escalate_manager: 'Escalated to a manager', credit_hold: 'Credit hold flagged',
      };
      await addLogEntry(trx, portalId, {
        customerId: group.customerId, kind: 'escalation', occurredOn: asOf, author: by, status: group.action,
        summary: `${what[group.action]} (${group.levelDays}+ days past due): ${listed}${note}`.slice(0, 2000),
        entryKey: `escalation:${firstStep}`,
      });
      await touchPortal(trx, portalId);
    });
  }
  return run;
};

/** Holds a customer's ladder steps until `until` (inclusive), for a reason; `actions` null holds them all. */
export const addEscalationException = async (
  db: Executor, portalId: number,
  input: { customerId: number; reason: string; until: IsoDate; actions: EscalationAction[] | null; by: string | null }, today: IsoDate,
): Promise<{ id: string }> => {
  if (input.until < today) throw new AppError('invalid_request', `until ${input.until} is in the past`, { fields: { until: ['must not be in the past'] } });
  if (input.reason.trim() === '') throw new AppError('invalid_request', 'An exception needs a reason', { fields: { reason: ['required'] } });
  for (const action of input.actions ?? []) {
    if (!(ESCALATION_ACTIONS as readonly string[]).includes(action)) throw new AppError('invalid_request', `Unknown action ${action}`, { fields: { actions: [`unknown action ${action}`] } });
  }
  const customer = await db.selectFrom('customers').select('id').where('portal_id', '=', portalId).where('id', '=', input.customerId).executeTakeFirst();
  if (!customer) throw new AppError('not_found', `No customer ${input.customerId} in this portal`);
  const row = await db.insertInto('escalation_exceptions').values({
    portal_id: portalId, customer_id: input.customerId, reason: input.reason.trim(), until: input.until, actions: input.actions, created_by: input.by,
  }).returning('id').executeTakeFirstOrThrow();
  await touchPortal(db, portalId);
  return { id: String(row.id) };
};

/** The steps taken for a customer, newest first: the ladder's audit trail. */
export const escalationSteps = async (db: Executor, portalId: number, customerId: number) =>
  db.selectFrom('escalation_steps').select(['invoice_id', 'action', 'level_days', 'days_past_due', 'taken_on', 'taken_by'])
    .where('portal_id', '=', portalId).where('customer_id', '=', customerId).orderBy('taken_on', 'desc').orderBy('id', 'desc').execute();
