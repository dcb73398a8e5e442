import type { Selectable } from 'kysely';
import { type LogEntry, type LogEntryRequest, type LogExcerptSchema } from '../../extensions/card-api';
import type { z } from 'zod';
import { addDays } from '../domain/calendar';
import { formatMinor, parseMinor } from '../domain/money';
import { promiseStatus, type PaymentFact, type PromiseFact } from '../domain/promises';
import type { LogDisputeFact, RiskLog } from '../domain/risk';
import type { IsoDate } from '../domain/types';
import { loadPolicy } from '../store/policies';
import { AppError } from '../errors';
import { touchPortal, type Executor } from '../store/facts';
import { linkedCustomer } from './linked-customer';
import type { CommunicationKind, CommunicationLogTable } from '../store/schema';

// A customer's communication log: what was said and agreed, by whom and when. Entries are dated facts like
// invoices: a card as of D shows the entries dated on or before D.

export type NewLogEntry = {
  customerId: number;
  kind: CommunicationKind;
  occurredOn: IsoDate;
  summary: string;
  author: string | null;
  promiseDate?: IsoDate | null;
  amountMinor?: number | null;
  currency?: string | null;
  status?: string | null;
  dealId?: string | null;
  invoiceId?: number | null;
  /** Makes the entry exactly-once: a second entry with the same key is not written, the first is returned. */
  entryKey?: string | null;
};

type Row = Selectable<CommunicationLogTable>;

/** A log row with the external id of the invoice it names (null when none). */
type ShownRow = Row & { invoice_external_id?: string | null };

export const logEntryOf = (row: ShownRow): LogEntry => ({
  id: String(row.id),
  kind: row.kind,
  occurred_on: row.occurred_on,
  summary: row.summary,
  author: row.author,
  promise_date: row.promise_date,
  amount: row.amount_minor !== null && row.currency !== null ? formatMinor(row.amount_minor, row.currency) : null,
  currency: row.currency,
  status: row.status,
  deal_id: row.deal_id,
  invoice_id: row.invoice_external_id ?? null,
  promise_status: null,
  promise_paid: null,
  resolved_on: row.resolved_on ?? null,
  resolution: row.resolution ?? null,
});

/**
 * Adds an entry to a customer's log, in the caller's transaction (which must end with touchPortal). With an
 * entry key already used, nothing is written and the existing entry is returned.
 */
export const addLogEntry = async (db: Executor, portalId: number, entry: NewLogEntry): Promise<LogEntry> => {
  const inserted = await db.insertInto('communication_log').values({
    portal_id: portalId,
    customer_id: entry.customerId,
    kind: entry.kind,
    occurred_on: entry.occurredOn,
    summary: entry.summary,
    author: entry.author,
    promise_date: entry.promiseDate ?? null,
    amount_minor: entry.amountMinor ?? null,
    currency: entry.currency ?? null,
    status: entry.status ?? null,
    deal_id: entry.dealId ?? null,
    invoice_id: entry.invoiceId ?? null,
    entry_key: entry.entryKey ?? null,
  })
    .onConflict((oc) => oc.columns(['portal_id', 'entry_key']).where('entry_key', 'is not', null).doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return logEntryOf(inserted);
  const existing = await db.selectFrom('communication_log').selectAll()
    .where('portal_id', '=', portalId).where('entry_key', '=', entry.entryKey ?? '')
    .executeTakeFirstOrThrow();
  return logEntryOf(existing);
};

/** A customer's payments dated by D (settlements of kind payment), by invoice external id and currency. */
export const customerPayments = async (db: Executor, portalId: number, customerId: number, asOf: IsoDate): Promise<PaymentFact[]> => {
  const rows = await db.selectFrom('payment_allocations as a')
    .innerJoin('invoices as i', 'i.id', 'a.invoice_id')
    .select(['a.payment_date', 'a.amount_minor', 'i.currency', 'i.external_id'])
    .where('a.portal_id', '=', portalId).where('a.customer_id', '=', customerId)
    .where('a.kind', '=', 'payment').where('a.payment_date', '<=', asOf)
    .execute();
  return rows.map((r) => ({ date: r.payment_date, amountMinor: Number(r.amount_minor), currency: r.currency, invoiceId: r.external_id }));
};

const promiseOf = (row: ShownRow): PromiseFact | null =>
  row.kind === 'promise' && row.promise_date !== null && row.amount_minor !== null && row.currency !== null
    ? {
      id: String(row.id), loggedOn: row.occurred_on, promiseDate: row.promise_date, amountMinor: Number(row.amount_minor),
      currency: row.currency, invoiceId: row.invoice_external_id ?? null,
    }
    : null;

const disputeOf = (row: ShownRow): LogDisputeFact => ({
  id: String(row.id), openedOn: row.occurred_on, resolvedOn: row.resolved_on, currency: row.currency, invoiceId: row.invoice_external_id ?? null,
});

/** Log rows of a portal with their invoice's external id. */
const logRows = (db: Executor, portalId: number) => db.selectFrom('communication_log as l')
  .leftJoin('invoices as i', 'i.id', 'l.invoice_id')
  .selectAll('l')
  .select('i.external_id as invoice_external_id')
  .where('l.portal_id', '=', portalId);

/**
 * The latest `limit` entries of a customer's log dated on or before D (newest first) and the count of all of
 * them. Promises carry their status as of D (decided from the customer's payments
 * with the portal's grace days); a dispute resolved after D shows as open.
 */
export const logExcerpt = async (
  db: Executor, portalId: number, customerId: number, asOf: IsoDate, limit = 20,
): Promise<z.infer<typeof LogExcerptSchema>> => {
  const rows = await logRows(db, portalId)
    .where('l.customer_id', '=', customerId).where('l.occurred_on', '<=', asOf)
    .orderBy('l.occurred_on', 'desc').orderBy('l.id', 'desc')
    .limit(limit)
    .execute();
  const total = rows.length < limit ? rows.length : Number((await db.selectFrom('communication_log')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('portal_id', '=', portalId).where('customer_id', '=', customerId).where('occurred_on', '<=', asOf)
    .executeTakeFirstOrThrow()).n);
  const hasPromises = rows.some((r) => r.kind === 'promise');
  const [payments, policy] = hasPromises
    ? await Promise.all([customerPayments(db, portalId, customerId, asOf), loadPolicy(db, portalId)])
    : [[], null];
  const entries = rows.map((row): LogEntry => {
    const entry = logEntryOf(row);
    if (row.resolved_on !== null && row.resolved_on > asOf) {
      entry.status = 'open';
      entry.resolved_on = null;
      entry.resolution = null;
    }
    const promise = promiseOf(row);
    if (promise !== null && policy !== null) {
      const outcome = promiseStatus(promise, payments, asOf, policy.risk.promises.graceDays);
      entry.promise_status = outcome.status;
      entry.promise_paid = formatMinor(outcome.paidMinor, promise.currency);
    }
    return entry;
  });
  return { entries, total };
};

/**
 * What the logs of a portal's customers add to their risk as of D: promises and disputes logged by D, by
 * customer external id (customers of several sources sharing one are merged, as the portfolio report groups
 * them), or of the one customer `customerRowId`.
 */
export const riskLogs = async (
  db: Executor, portalId: number, asOf: IsoDate, customerRowId?: number,
): Promise<Map<string, RiskLog>> => {
  const rows = await logRows(db, portalId)
    .innerJoin('customers as c', 'c.id', 'l.customer_id')
    .select('c.external_id as customer_external_id')
    .where('l.kind', 'in', ['promise', 'dispute']).where('l.occurred_on', '<=', asOf)
    .$if(customerRowId !== undefined, (qb) => qb.where('l.customer_id', '=', customerRowId ?? 0))
    .orderBy('l.id')
    .execute();
  const logs = new Map<string, { promises: PromiseFact[]; disputes: LogDisputeFact[] }>();
  for (const row of rows) {
    let log = logs.get(row.customer_external_id);
    if (log === undefined) logs.set(row.customer_external_id, (log = { promises: [], disputes: [] }));
    const promise = promiseOf(row);
    if (promise !== null) log.promises.push(promise);
    if (row.kind === 'dispute') log.disputes.push(disputeOf(row));
  }
  return logs;
};

/**
 * A date a person says something happened on: not after tomorrow (a day's slack for time zones ahead of the
 * service's), else a 400 naming the field.
 */
export const requireNotFuture = (date: IsoDate, today: IsoDate, field: string): void => {
  if (date > addDays(today, 1)) {
    throw new AppError('invalid_request', `${field} ${date} is in the future`, { fields: { [field]: ['must not be in the future'] } });
  }
};

const requireLinked = async (db: Executor, portalId: number, companyId: string) => {
  const customer = await linkedCustomer(db, portalId, companyId);
  if (customer === null) {
    throw new AppError('invalid_request', `Company ${companyId} is not linked to an accounting customer; link it first`, {
      fields: { objectId: ['not linked to an accounting customer'] },
    });
  }
  return customer;
};

const invalid = (field: string, message: string): AppError =>
  new AppError('invalid_request', `${field} ${message}`, { fields: { [field]: [message] } });

/** The customer's invoice named by its external id (as the card shows it), or a 400 naming invoiceId. */
const requireInvoice = async (db: Executor, portalId: number, customerId: number, externalId: string) => {
  const invoice = await db.selectFrom('invoices').select(['id', 'currency', 'number'])
    .where('portal_id', '=', portalId).where('customer_id', '=', customerId).where('external_id', '=', externalId)
    .orderBy('id').executeTakeFirst();
  if (invoice === undefined) throw invalid('invoiceId', `is not an invoice of this customer: ${externalId}`);
  return invoice;
};

const amountOf = (amount: string, currency: string): number => {
  const minor = parseMinor(amount, currency);
  if (minor === null || minor <= 0) throw invalid('amount', `is not a positive amount in ${currency}: ${amount}`);
  return minor;
};

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type CompanyLogRequest = DistributiveOmit<LogEntryRequest, 'objectId' | 'idempotencyKey'> & { companyId: string; author: string | null };

/**
 * Logs an entry against the customer linked to a HubSpot company (from the company card): a note, call or
 * email; a promise to pay (amount > 0 in a currency by a date on or after the day it was made, optionally for
 * one of the customer's invoices, in that invoice's currency); or an open dispute (amount and currency
 * together or neither; an invoice gives the currency when none is named). A company with no linked customer
 * has no log: a 400 naming objectId says to link it first.
 */
export const logCompanyEntry = async (db: Executor, portalId: number, entry: CompanyLogRequest, today: IsoDate): Promise<LogEntry> => {
  requireNotFuture(entry.occurredOn, today, 'occurredOn');
  const customer = await requireLinked(db, portalId, entry.companyId);
  const base = { customerId: customer.internalId, occurredOn: entry.occurredOn, author: entry.author };
  let logged: LogEntry;
  if (entry.kind === 'promise') {
    if (entry.promiseDate < entry.occurredOn) throw invalid('promiseDate', 'must not be before the day the promise was made');
    const invoice = entry.invoiceId ? await requireInvoice(db, portalId, customer.internalId, entry.invoiceId) : null;
    if (invoice !== null && invoice.currency !== entry.currency) throw invalid('currency', `must be the invoice's currency ${invoice.currency}`);
    const amountMinor = amountOf(entry.amount, entry.currency);
    const summary = entry.summary ?? `Promised to pay ${formatMinor(amountMinor, entry.currency)} ${entry.currency} by ${entry.promiseDate}`
      + (invoice !== null ? ` for invoice ${invoice.number ?? entry.invoiceId}` : '');
    logged = await addLogEntry(db, portalId, {
      ...base, kind: 'promise', summary, promiseDate: entry.promiseDate, amountMinor, currency: entry.currency, invoiceId: invoice?.id ?? null,
    });
    logged.invoice_id = invoice === null ? null : entry.invoiceId ?? null;
  } else if (entry.kind === 'dispute') {
    const invoice = entry.invoiceId ? await requireInvoice(db, portalId, customer.internalId, entry.invoiceId) : null;
    const amount = entry.amount ?? null;
    const currency = entry.currency ?? (amount !== null ? invoice?.currency ?? null : null);
    if (amount !== null && currency === null) throw invalid('currency', 'is required with an amount');
    if (amount === null && entry.currency && invoice === null) throw invalid('amount', 'is required with a currency');
    if (invoice !== null && currency !== null && invoice.currency !== currency) throw invalid('currency', `must be the invoice's currency ${invoice.currency}`);
    const amountMinor = amount !== null && currency !== null ? amountOf(amount, currency) : null;
    logged = await addLogEntry(db, portalId, {
      ...base, kind: 'dispute', summary: entry.summary, status: 'open', invoiceId: invoice?.id ?? null,
      amountMinor, currency: amountMinor === null ? null : currency,
    });
    logged.invoice_id = invoice === null ? null : entry.invoiceId ?? null;
  } else {
    logged = await addLogEntry(db, portalId, { ...base, kind: entry.kind, summary: entry.summary });
  }
  await touchPortal(db, portalId);
  return logged;
};

/**
 * Resolves an open dispute of the customer linked to the company: status resolved, with the day and how.
 * 404 when the entry is not a dispute of that customer; 400 naming resolvedOn when it is before the dispute
 * or in the future, and naming the entry when it is resolved already.
 */
export const resolveDispute = async (
  db: Executor, portalId: number,
  request: { companyId: string; entryId: string; resolvedOn: IsoDate; resolution: string },
  today: IsoDate,
): Promise<LogEntry> => {
  requireNotFuture(request.resolvedOn, today, 'resolvedOn');
  const customer = await requireLinked(db, portalId, request.companyId);
  const id = Number(request.entryId);
  const row = /^\d{1,15}$/.test(request.entryId)
    ? await logRows(db, portalId).where('l.id', '=', id).where('l.customer_id', '=', customer.internalId).where('l.kind', '=', 'dispute')
      .forUpdate('l').executeTakeFirst()
    : undefined;
  if (row === undefined) throw new AppError('not_found', `No dispute ${request.entryId} in this company's log`);
  if (row.status === 'resolved') throw invalid('id', `dispute ${request.entryId} was resolved on ${row.resolved_on ?? '?'}`);
  if (request.resolvedOn < row.occurred_on) throw invalid('resolvedOn', `must not be before the dispute was opened (${row.occurred_on})`);
  await db.updateTable('communication_log')
    .set({ status: 'resolved', resolved_on: request.resolvedOn, resolution: request.resolution })
    .where('id', '=', id).execute();
  await touchPortal(db, portalId);
  return logEntryOf({ ...row, status: 'resolved', resolved_on: request.resolvedOn, resolution: request.resolution });
};
