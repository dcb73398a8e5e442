import { sql, type Selectable } from 'kysely';
import { HelpRequestSchema, type HelpRequest } from '../../extensions/card-api';
import { addDays, daysBetween } from '../domain/calendar';
import type { Policy } from '../domain/policy';
import type { IsoDate } from '../domain/types';
import { AppError } from '../errors';
import { completeTasks, queueTask, type CompleteReport, type TaskSender } from '../hubspot/tasks';
import type { Logger } from '../logger';
import type { Db } from '../store/database';
import { touchPortal, type Executor } from '../store/facts';
import { loadPolicy } from '../store/policies';
import type { HelpRequestsTable, HelpRequestStatus } from '../store/schema';
import { addLogEntry, logExcerpt } from './comm-log';
import { linkedCustomer } from './linked-customer';
import { companySummary } from './reports';
import { termsAckOfDeal, termsAcksOfCompany } from './terms';

// Help requests: AR asks the HubSpot owner of an overdue company or deal for help — what is needed and by
// when. The request becomes a HubSpot task for the owner (hubspot/tasks.ts, sent by the next round) and an
// entry in the customer's communication log; the owner answers from the card (open → accepted → done, or
// declined). A request still open past the SLA goes to a second person once.

export type NewHelpRequest = {
  objectType: 'company' | 'deal';
  objectId: string;
  needed: string;
  neededBy: IsoDate;
  requestedBy: string | null;
};

type Row = Selectable<HelpRequestsTable>;

/** The SLA state of a request as of `today`. */
export const slaState = (row: Pick<Row, 'status' | 'escalated_on' | 'sla_due_on'>, today: IsoDate): HelpRequest['sla'] => {
  if (row.status !== 'open') return 'answered';
  if (row.escalated_on !== null) return 'escalated';
  return today > row.sla_due_on ? 'overdue' : 'within';
};

const requestsWithTasks = async (db: Executor, portalId: number, rows: Row[], today: IsoDate): Promise<HelpRequest[]> => {
  if (rows.length === 0) return [];
  const tasks = await db.selectFrom('hubspot_tasks').select(['task_key', 'status', 'hubspot_task_id'])
    .where('portal_id', '=', portalId).where('task_key', 'in', rows.map((r) => `help_request:${r.id}`)).execute();
  const byKey = new Map(tasks.map((t) => [t.task_key, t]));
  const names = await db.selectFrom('customers').select(['id', 'name'])
    .where('portal_id', '=', portalId).where('id', 'in', [...new Set(rows.map((r) => r.customer_id))]).execute();
  const nameOf = new Map(names.map((n) => [Number(n.id), n.name]));
  return rows.map((row) => {
    const task = byKey.get(`help_request:${row.id}`);
    return HelpRequestSchema.parse({
      id: String(row.id), object_type: row.object_type, object_id: row.object_id, company_id: row.company_id, deal_id: row.deal_id,
      customer_name: nameOf.get(Number(row.customer_id)) ?? null, needed: row.needed, needed_by: row.needed_by, status: row.status,
      requested_by: row.requested_by, requested_on: row.requested_on, owner_id: row.owner_id, sla_due_on: row.sla_due_on,
      sla: slaState(row, today), escalated_to: row.escalated_to,
      task: task ? { status: task.status, hubspot_task_id: task.hubspot_task_id } : null,
    });
  });
};

/** A company's or deal's help requests (newest first) requested on or before D. */
export const helpRequestsOf = async (
  db: Executor, portalId: number, which: { companyId: string } | { dealId: string }, asOf: IsoDate, limit = 10,
): Promise<HelpRequest[]> => {
  const rows = await db.selectFrom('help_requests').selectAll()
    .where('portal_id', '=', portalId)
    .$if('companyId' in which, (qb) => qb.where('company_id', '=', (which as { companyId: string }).companyId))
    .$if('dealId' in which, (qb) => qb.where('deal_id', '=', (which as { dealId: string }).dealId))
    .where('requested_on', '<=', asOf)
    .orderBy('id', 'desc').limit(limit).execute();
  return requestsWithTasks(db, portalId, rows, asOf);
};

/** The portal's help requests, newest first, optionally of one status. */
export const listHelpRequests = async (
  db: Executor, portalId: number, today: IsoDate, { status, limit = 100 }: { status?: HelpRequestStatus; limit?: number } = {},
): Promise<HelpRequest[]> => {
  const rows = await db.selectFrom('help_requests').selectAll().where('portal_id', '=', portalId)
    .$if(status !== undefined, (qb) => qb.where('status', '=', status as HelpRequestStatus))
    .orderBy('id', 'desc').limit(limit).execute();
  return requestsWithTasks(db, portalId, rows, today);
};

const invalid = (field: string, message: string, text: string): AppError =>
  new AppError('invalid_request', text, { fields: { [field]: [message] } });

/** The record a request is about: its company, deal, owner and linked customer; a 400 naming objectId otherwise. */
const resolveRecord = async (db: Executor, portalId: number, objectType: 'company' | 'deal', objectId: string) => {
  let companyId: string | null;
  let dealId: string | null = null;
  let ownerId: string | null;
  if (objectType === 'deal') {
    const deal = await db.selectFrom('hubspot_deals').select(['company_id', 'owner_id'])
      .where('portal_id', '=', portalId).where('deal_id', '=', objectId).executeTakeFirst();
    if (!deal) throw invalid('objectId', 'not a known deal', `Deal ${objectId} is not known yet (the next HubSpot round mirrors it)`);
    dealId = objectId;
    companyId = deal.company_id;
    ownerId = deal.owner_id;
  } else {
    companyId = objectId;
    ownerId = null;
  }
  if (companyId === null) throw invalid('objectId', 'has no company', `Deal ${objectId} has no company in HubSpot`);
  const company = await db.selectFrom('hubspot_companies').select(['owner_id', 'name'])
    .where('portal_id', '=', portalId).where('company_id', '=', companyId).executeTakeFirst();
  ownerId ??= company?.owner_id ?? null;
  if (ownerId === null) {
    throw invalid('objectId', 'has no owner to ask', `${objectType === 'deal' ? 'Deal' : 'Company'} ${objectId} has no owner in HubSpot to ask for help`);
  }
  const customer = await linkedCustomer(db, portalId, companyId);
  if (customer === null) {
    throw invalid('objectId', 'not linked to an accounting customer', `Company ${companyId} is not linked to an accounting customer; link it first`);
  }
  return { companyId, dealId, ownerId, customer };
};

/**
 * The task body: what is needed and by when, the customer's open invoices (number, due date, open amount,
 * days late), the payment-terms acknowledgment(s) and the latest contacts.
 */
export const helpTaskBody = async (
  db: Executor, portalId: number,
  request: { customerId: number; customerName: string | null; companyId: string; dealId: string | null; needed: string; neededBy: IsoDate; requestedBy: string | null },
  asOf: IsoDate,
): Promise<string> => {
  const summary = await companySummary(db, portalId, { rowId: request.customerId }, asOf);
  const open = summary.invoices.filter((i) => i.status === 'open' || i.status === 'overdue')
    .sort((a, b) => (a.due_date < b.due_date ? -1 : a.due_date > b.due_date ? 1 : 0));
  const lines = [
    `AR asks for your help with ${request.customerName ?? 'this customer'}${request.requestedBy ? ` (${request.requestedBy})` : ''}.`,
    `What is needed: ${request.needed}`,
    `Needed by: ${request.neededBy}`,
    '',
    open.length === 0 ? 'Open invoices: none' : 'Open invoices:',
    ...open.map((i) => {
      const late = daysBetween(i.due_date, asOf);
      return `- ${i.number ?? i.id}: due ${i.due_date}, open ${i.open} ${i.currency}, ${late > 0 ? `${late} days late` : 'not yet due'}`;
    }),
  ];
  const acks = request.dealId !== null
    ? [await termsAckOfDeal(db, portalId, request.dealId, asOf)].filter((a) => a !== null)
    : await termsAcksOfCompany(db, portalId, request.companyId, asOf);
  lines.push('', acks.length === 0 ? 'Payment terms acknowledged: none on record' : 'Payment terms acknowledged:');
  for (const ack of acks) lines.push(`- "${ack.terms}" by ${ack.contact.name} on ${ack.acknowledged_on} (deal ${ack.deal_id})`);
  const log = await logExcerpt(db, portalId, request.customerId, asOf, 3);
  lines.push('', log.entries.length === 0 ? 'Last contacts: none logged' : 'Last contacts:');
  for (const entry of log.entries) lines.push(`- ${entry.occurred_on} ${entry.kind}: ${entry.summary}`);
  return lines.join('\n');
};

/**
 * Records a help request (in the caller's transaction, ending with touchPortal): the request, the HubSpot
 * task intent for the owner (key `help_request:<id>`, sent by the next round) and a log entry.
 */
export const createHelpRequest = async (
  db: Executor, portalId: number, input: NewHelpRequest, today: IsoDate, policy?: Policy,
): Promise<HelpRequest> => {
  if (input.neededBy < today) throw invalid('neededBy', 'must not be in the past', `neededBy ${input.neededBy} is in the past`);
  const { companyId, dealId, ownerId, customer } = await resolveRecord(db, portalId, input.objectType, input.objectId);
  const slaDays = (policy ?? await loadPolicy(db, portalId)).escalation.helpRequestSlaDays;
  const row = await db.insertInto('help_requests').values({
    portal_id: portalId, customer_id: customer.internalId, object_type: input.objectType, object_id: input.objectId,
    company_id: companyId, deal_id: dealId, owner_id: ownerId, needed: input.needed, needed_by: input.neededBy,
    requested_by: input.requestedBy, requested_on: today, sla_due_on: addDays(today, slaDays),
  }).returningAll().executeTakeFirstOrThrow();
  const body = await helpTaskBody(db, portalId, {
    customerId: customer.internalId, customerName: customer.name, companyId, dealId, needed: input.needed, neededBy: input.neededBy, requestedBy: input.requestedBy,
  }, today);
  await queueTask(db, portalId, {
    key: `help_request:${row.id}`, purpose: 'help_request', ownerId,
    subject: `AR needs help with ${customer.name ?? `customer ${customer.externalId}`} by ${input.neededBy}`,
    body, dueOn: input.neededBy, companyId, dealId,
  });
  await addLogEntry(db, portalId, {
    customerId: customer.internalId, kind: 'help_request', occurredOn: today, author: input.requestedBy, dealId, status: 'open',
    summary: `Help requested from owner ${ownerId} by ${input.neededBy}: ${input.needed}`.slice(0, 2000),
    entryKey: `help_request:${row.id}`,
  });
  await touchPortal(db, portalId);
  const [request] = await requestsWithTasks(db, portalId, [row], today);
  return request as HelpRequest;
};

const NEXT: Readonly<Record<HelpRequestStatus, readonly HelpRequestStatus[]>> = {
  open: ['accepted', 'done', 'declined'],
  accepted: ['done', 'declined'],
  done: [],
  declined: [],
};

/**
 * Moves a request on: open → accepted → done, or declined (from open or accepted). Setting the status it
 * has already changes nothing; any other move is refused (400 naming status). Logged once per status.
 */
export const setHelpRequestStatus = async (
  db: Executor, portalId: number, change: { id: string; status: Exclude<HelpRequestStatus, 'open'>; by: string | null }, today: IsoDate,
): Promise<HelpRequest> => {
  const id = Number(change.id);
  const row = Number.isSafeInteger(id)
    ? await db.selectFrom('help_requests').selectAll().where('portal_id', '=', portalId).where('id', '=', id).forUpdate().executeTakeFirst()
    : undefined;
  if (!row) throw new AppError('not_found', `No help request ${change.id} in this portal`);
  if (row.status === change.status) return (await requestsWithTasks(db, portalId, [row], today))[0] as HelpRequest;
  if (!NEXT[row.status].includes(change.status)) {
    throw invalid('status', `cannot go from ${row.status} to ${change.status}`, `Help request ${change.id} is ${row.status}; it cannot become ${change.status}`);
  }
  const updated = await db.updateTable('help_requests')
    .set({ status: change.status, status_by: change.by, answered_on: row.answered_on ?? today, updated_at: new Date() })
    .where('id', '=', id).returningAll().executeTakeFirstOrThrow();
  await addLogEntry(db, portalId, {
    customerId: row.customer_id, kind: 'help_request', occurredOn: today, author: change.by, dealId: row.deal_id, status: change.status,
    summary: `Help request ${row.id} ${change.status}${change.by ? ` by ${change.by}` : ''}: ${row.needed}`.slice(0, 2000),
    entryKey: `help_request:${row.id}:${change.status}`,
  });
  await touchPortal(db, portalId);
  return (await requestsWithTasks(db, portalId, [updated], today))[0] as HelpRequest;
};

/** Who gets what an owner left unanswered: the owner's manager in the policy, else the escalation user, else nobody. */
export const managerOf = (policy: Policy, ownerId: string | null): string | null => {
  const manager = ownerId === null ? undefined : policy.escalation.managers?.find((m) => m.ownerId === ownerId)?.managerOwnerId;
  return manager ?? policy.escalation.escalateToOwnerId ?? null;
};

/**
 * Escalates every request still open after its SLA day (today > sla_due_on), once: a task for the second
 * person (key `help_request_sla:<id>`) and a log entry. With nobody to escalate to (no manager and no
 * escalation user in the policy) the request is marked escalated and the log says so. One transaction per
 * request. Returns how many were escalated.
 */
export const escalateOverdueHelpRequests = async (db: Db, portalId: number, today: IsoDate): Promise<number> => {
  const policy = await loadPolicy(db, portalId);
  const due = await db.selectFrom('help_requests').select('id')
    .where('portal_id', '=', portalId).where('status', '=', 'open').where('escalated_on', 'is', null).where('sla_due_on', '<', today)
    .orderBy('id').execute();
  let escalated = 0;
  for (const { id } of due) {
    const done = await db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('help_requests').selectAll().where('id', '=', id).forUpdate().executeTakeFirstOrThrow();
      if (row.status !== 'open' || row.escalated_on !== null) return false;
      const target = managerOf(policy, row.owner_id);
      await trx.updateTable('help_requests').set({ escalated_on: today, escalated_to: target, updated_at: new Date() }).where('id', '=', id).execute();
      const late = daysBetween(row.sla_due_on, today);
      if (target !== null) {
        await queueTask(trx, portalId, {
          key: `help_request_sla:${row.id}`, purpose: 'help_request_sla', ownerId: target,
          subject: `Unanswered AR help request (owner ${row.owner_id ?? 'unknown'}, ${late} days past its SLA)`,
          body: [
            `Owner ${row.owner_id ?? 'unknown'} has not answered AR's help request of ${row.requested_on} (SLA ${row.sla_due_on}).`,
            `What is needed: ${row.needed}`, `Needed by: ${row.needed_by}`,
          ].join('\n'),
          dueOn: today > row.needed_by ? today : row.needed_by, companyId: row.company_id, dealId: row.deal_id,
        });
      }
      await addLogEntry(trx, portalId, {
        customerId: row.customer_id, kind: 'escalation', occurredOn: today, author: 'ARBridge', dealId: row.deal_id, status: 'escalated',
        summary: target !== null
          ? `Help request ${row.id} unanswered past its SLA (${row.sla_due_on}): escalated to owner ${target}`
          : `Help request ${row.id} unanswered past its SLA (${row.sla_due_on}): no manager or escalation user is configured`,
        entryKey: `help_request_sla:${row.id}`,
      });
      await touchPortal(trx, portalId);
      return true;
    });
    if (done) escalated += 1;
  }
  return escalated;
};

/**
 * Completes in HubSpot the owner's task of every request answered done or declined (after the task was created): a
 * PATCH per task, repeated harmlessly if its answer is lost. A task is due while its `sent_at` is not the request's
 * last change (`updated_at`), which completeTask records.
 */
export const completeAnsweredHelpRequestTasks = async (
  db: Db, portalId: number, sender: TaskSender, options: { logger?: Logger } = {},
): Promise<CompleteReport> => {
  const due = await db.selectFrom('help_requests as r')
    .innerJoin('hubspot_tasks as t', (join) => join.onRef('t.portal_id', '=', 'r.portal_id')
      .on(sql<boolean>`t.task_key = 'help_request:' || r.id::text`))
    .select(['t.id', 't.task_key', 't.hubspot_task_id', 'r.updated_at'])
    .where('r.portal_id', '=', portalId).where('r.status', 'in', ['done', 'declined'])
    .where('t.status', '=', 'created').where('t.hubspot_task_id', 'is not', null)
    .where(sql<boolean>`t.sent_at is distinct from date_trunc('milliseconds', r.updated_at)`)
    .orderBy('t.id').limit(200).execute();
  return completeTasks(db, portalId, sender, due.map((d) => ({
    row: { id: d.id, task_key: d.task_key, hubspot_task_id: d.hubspot_task_id }, decidedAt: new Date(d.updated_at as unknown as string | Date),
  })), options);
};
