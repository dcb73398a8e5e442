import type { Selectable } from 'kysely';
import type { LogEntry, LogExcerptSchema } from '../../extensions/card-api';
import type { z } from 'zod';
import { addDays } from '../domain/calendar';
import { formatMinor } from '../domain/money';
import type { IsoDate } from '../domain/types';
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

export const logEntryOf = (row: Row): LogEntry => ({
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

/** The latest `limit` entries of a customer's log dated on or before D (newest first), and the count of all of them. */
export const logExcerpt = async (
  db: Executor, portalId: number, customerId: number, asOf: IsoDate, limit = 5,
): Promise<z.infer<typeof LogExcerptSchema>> => {
  const rows = await db.selectFrom('communication_log').selectAll()
    .where('portal_id', '=', portalId).where('customer_id', '=', customerId).where('occurred_on', '<=', asOf)
    .orderBy('occurred_on', 'desc').orderBy('id', 'desc')
    .limit(limit)
    .execute();
  const total = rows.length < limit ? rows.length : Number((await db.selectFrom('communication_log')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('portal_id', '=', portalId).where('customer_id', '=', customerId).where('occurred_on', '<=', asOf)
    .executeTakeFirstOrThrow()).n);
  return { entries: rows.map(logEntryOf), total };
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

/**
 * Logs a note, call or email against the customer linked to a HubSpot company (from the company card). A
 * company with no linked customer has no log: a 400 naming objectId says to link it first.
 */
export const logCompanyEntry = async (
  db: Executor, portalId: number,
  entry: { companyId: string; kind: 'note' | 'call' | 'email'; occurredOn: IsoDate; summary: string; author: string | null },
  today: IsoDate,
): Promise<LogEntry> => {
  requireNotFuture(entry.occurredOn, today, 'occurredOn');
  const customer = await linkedCustomer(db, portalId, entry.companyId);
  if (customer === null) {
    throw new AppError('invalid_request', `Company ${entry.companyId} is not linked to an accounting customer; link it first`, {
      fields: { objectId: ['not linked to an accounting customer'] },
    });
  }
  const logged = await addLogEntry(db, portalId, {
    customerId: customer.internalId, kind: entry.kind, occurredOn: entry.occurredOn, summary: entry.summary, author: entry.author,
  });
  await touchPortal(db, portalId);
  return logged;
};
