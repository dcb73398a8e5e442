import type { Client } from '@hubspot/api-client';
import { FilterOperatorEnum } from '@hubspot/api-client/lib/codegen/crm/commerce/invoices';
import { sql } from 'kysely';
import { isIsoDate, maxDate } from '../domain/calendar';
import { isCurrencyCode, parseMinor } from '../domain/money';
import type { CustomerFact, IsoDate } from '../domain/types';
import type { Db } from '../store/database';
import {
  deletePayments, ensurePortal, upsertCustomers, upsertInvoices, upsertPayments, type Executor, type InvoiceRecord, type PaymentRecord, touchPortal } from '../store/facts';
import { hubspotClient, type TokenSource } from './client';
import { realSleep, withHubSpotRetry, type RetryEvent } from './http-retry';

/**
 * HubSpot's invoice object as a source of facts (source `hubspot`), for portals that run HubSpot's accounting
 * data sync (QuickBooks/Xero → HubSpot invoices) or bill in HubSpot.
 *
 * What is read: invoices with hs_invoice_status, hs_amount_billed, hs_balance_due, hs_amount_paid, hs_due_date,
 * hs_invoice_date, hs_number, hs_currency and hs_lastmodifieddate; their associated companies and deals (v4
 * batch read); the companies' name, domain, industry and country (batch read).
 *
 * Mapping: the customer is the associated company (external id = company id); the invoice's external id is the
 * HubSpot invoice id; total = amount billed, in minor units of hs_currency (upper-cased ISO 4217); issue and due
 * dates are calendar dates; `voided` sets voided_date (the modification date the void was first seen);
 * `draft` invoices are not issued and are skipped; invoices without a company are skipped; the first
 * associated deal (the one labelled Primary, else the lowest id) becomes invoices.hubspot_deal_id.
 *
 * Payments. HubSpot holds balances, not payment documents, so payment facts are derived from the amount paid:
 * - amount paid = hs_amount_paid when HubSpot gives it (the property is not in HubSpot's documentation), else
 *   amount billed − balance due, else (no balance either) the whole amount for status `paid` and 0 otherwise;
 *   it is kept within 0..amount billed. For a voided invoice without hs_amount_paid the balance says nothing
 *   about payments (HubSpot may zero it), so its payment facts are left as they are.
 * - Every payment fact of an invoice has the external id `hs-paid:<invoiceId>:<cumulative paid in minor
 *   units>` and the amount by which it raised the cumulative amount, so the facts of an invoice sum to the
 *   highest cumulative amount among them.
 * - When the amount paid rises above that sum, one payment fact adds the difference, dated by the invoice's
 *   hs_lastmodifieddate (its calendar date, not before the issue date): the best date HubSpot's balance
 *   offers. Re-reading the same state finds the fact with that id and adds nothing.
 * - When the amount paid falls (a refund or a correction), the facts whose cumulative amount is above the
 *   new amount are deleted, and a fact for the rest is added if they now sum to less.
 *
 * Incremental reads. The cursor (sync_cursors: source 'hubspot', stream 'invoices') is JSON:
 * - `{mode: 'list', startedAt, after, seen}` while the first (or a --full) run lists every invoice page by
 *   page; `startedAt` is HubSpot's clock (the Date header) when the listing began;
 * - `{mode: 'search', since, seen}` afterwards: the next run searches hs_lastmodifieddate ≥ since, sorted
 *   ascending. Each page is a new search from the last timestamp seen (keyset paging), so records modified
 *   while the run pages are not skipped and no search goes near HubSpot's 10,000-result cap; offsets are used
 *   only inside a run of records sharing one timestamp, and hitting the cap there is an error that names
 *   --full (the list API has no cap).
 * - HubSpot's search index lags writes by a few moments, so `since` never passes HubSpot's time at the start
 *   of the run minus `indexLagMs`; `seen` holds the id and modification time of the records already read
 *   at or after `since`, which the next run skips without further calls.
 * Every page is written in one transaction together with the cursor that follows it; the cursor update also
 * checks that the stored cursor is still the one this run started from (another run of the same portal fails
 * instead of interleaving). A crash resumes from the last committed page: pages written again are no-ops.
 *
 * Not covered: invoices deleted (archived) in HubSpot stay in the store; association changes that do not
 * move hs_lastmodifieddate are seen by the next --full run.
 */

export const HUBSPOT_SOURCE = 'hubspot';
export const INVOICES_STREAM = 'invoices';

export const INVOICE_PROPERTIES = [
  'hs_invoice_status', 'hs_amount_billed', 'hs_balance_due', 'hs_amount_paid', 'hs_due_date', 'hs_invoice_date',
  'hs_number', 'hs_currency', 'hs_lastmodifieddate', 'hs_createdate',
] as const;

const COMPANY_PROPERTIES = ['name', 'domain', 'industry', 'country'];

/** Columns HubSpot invoices do not have: an existing row keeps them. */
const KEEP_COLUMNS = ['disputed', 'sales_rep', 'product', 'deal_id', 'terms'] as const;

const LIST_PAGE_MAX = 100;
const SEARCH_PAGE_MAX = 200;
const ASSOCIATION_BATCH_MAX = 1_000;
const OBJECT_BATCH_MAX = 100;
/** HubSpot's search API allows 5 requests per second per account. */
const SEARCH_INTERVAL_MS = 220;
/** Most `seen` entries kept in the cursor; dropped ones are only read again (no loss). */
const SEEN_MAX = 5_000;

export const PAID_PREFIX = 'hs-paid:';
export const paidPaymentId = (invoiceId: string, cumulativeMinor: number): string => `${PAID_PREFIX}${invoiceId}:${cumulativeMinor}`;

// ---------------------------------------------------------------------------------------------------------
// Values

const MS_PATTERN = /^\d{9,}$/;
const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/** Epoch milliseconds of a HubSpot date or datetime value: digits (ms), an ISO datetime or an ISO date. */
export const hubspotTimestamp = (value: string | null | undefined): number | null => {
  const text = value?.trim();
  if (!text) return null;
  if (MS_PATTERN.test(text)) return Number(text);
  if (DATE_PATTERN.test(text)) return isIsoDate(text) ? Date.parse(`${text}T00:00:00Z`) : null;
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text)) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
};

/**
 * The calendar date of a HubSpot date or datetime value. HubSpot sends date properties as ISO dates or as
 * midnight UTC (ms or ISO datetime), which all give their own date here. Datetimes are taken as their UTC
 * date: the portal's time zone is not read, so a time late in the evening west of UTC (or early in the
 * morning east of it) lands on the neighbouring date.
 */
export const hubspotCalendarDate = (value: string | null | undefined): IsoDate | null => {
  const text = value?.trim();
  if (text && DATE_PATTERN.test(text)) return isIsoDate(text) ? text : null;
  const ms = hubspotTimestamp(text);
  return ms === null ? null : new Date(ms).toISOString().slice(0, 10);
};

const present = (value: string | null | undefined): value is string => value !== null && value !== undefined && value.trim() !== '';

export type InvoiceObject = {
  id: string;
  properties: Record<string, string | null>;
  createdAt?: Date | string;
  updatedAt?: Date | string;
};

/** An invoice as read, before its associations are known. */
export type ParsedInvoice = {
  id: string;
  number: string | null;
  status: string;
  currency: string;
  totalMinor: number;
  issueDate: IsoDate;
  dueDate: IsoDate;
  /** hs_lastmodifieddate in epoch ms, and its calendar date. */
  modifiedAt: number;
  modifiedDate: IsoDate;
  /** Cumulative amount paid in minor units; null leaves the invoice's payment facts as they are. */
  paidMinor: number | null;
};

export type ParseOutcome =
  | { kind: 'invoice'; invoice: ParsedInvoice }
  | { kind: 'draft' }
  | { kind: 'invalid'; problem: string };

const dateValue = (value: Date | string | undefined): string | null =>
  value === undefined ? null : value instanceof Date ? (Number.isNaN(value.getTime()) ? null : value.toISOString()) : value;

/** The modification time of an invoice object (hs_lastmodifieddate, else the object's updatedAt). */
export const modifiedAtOf = (object: InvoiceObject): number | null =>
  hubspotTimestamp(object.properties.hs_lastmodifieddate) ?? hubspotTimestamp(dateValue(object.updatedAt));

/** Reads one HubSpot invoice; problems name the invoice and the property. */
export const parseInvoice = (object: InvoiceObject): ParseOutcome => {
  const p = object.properties;
  const invalid = (problem: string): ParseOutcome => ({ kind: 'invalid', problem: `invoice ${object.id}: ${problem}` });
  const status = (p.hs_invoice_status ?? '').trim().toLowerCase();
  if (status === 'draft') return { kind: 'draft' };
  const currency = (p.hs_currency ?? '').trim().toUpperCase();
  if (!isCurrencyCode(currency)) return invalid(`hs_currency ${JSON.stringify(p.hs_currency ?? null)} is not a 3-letter ISO 4217 code`);
  const amount = (name: string): number | null | 'bad' => {
    const text = p[name];
    if (!present(text)) return null;
    const minor = parseMinor(text, currency);
    return minor === null ? 'bad' : minor;
  };
  const billed = amount('hs_amount_billed');
  if (billed === 'bad' || billed === null || billed < 0) {
    return invalid(`hs_amount_billed ${JSON.stringify(p.hs_amount_billed ?? null)} is not an amount of ${currency} of 0 or more`);
  }
  const modifiedAt = modifiedAtOf(object);
  if (modifiedAt === null) return invalid(`hs_lastmodifieddate ${JSON.stringify(p.hs_lastmodifieddate ?? null)} is not a date`);
  const modifiedDate = new Date(modifiedAt).toISOString().slice(0, 10);
  // An invoice without an invoice date is dated by its creation.
  const issueText = present(p.hs_invoice_date) ? p.hs_invoice_date : p.hs_createdate ?? dateValue(object.createdAt);
  const issueDate = hubspotCalendarDate(issueText);
  if (issueDate === null) return invalid(`hs_invoice_date ${JSON.stringify(p.hs_invoice_date ?? null)} is not a date`);
  // Without a due date an invoice is due on receipt.
  const dueDate = present(p.hs_due_date) ? hubspotCalendarDate(p.hs_due_date) : issueDate;
  if (dueDate === null) return invalid(`hs_due_date ${JSON.stringify(p.hs_due_date)} is not a date`);
  if (dueDate < issueDate) return invalid(`hs_due_date ${dueDate} is before the invoice date ${issueDate}`);
  let paidMinor: number | null;
  const paid = amount('hs_amount_paid');
  if (paid === 'bad') return invalid(`hs_amount_paid ${JSON.stringify(p.hs_amount_paid)} is not an amount of ${currency}`);
  if (paid !== null) {
    paidMinor = paid;
  } else if (status === 'voided') {
    paidMinor = null;
  } else {
    const balance = amount('hs_balance_due');
    if (balance === 'bad') return invalid(`hs_balance_due ${JSON.stringify(p.hs_balance_due)} is not an amount of ${currency}`);
    paidMinor = balance !== null ? billed - balance : status === 'paid' ? billed : 0;
  }
  if (paidMinor !== null) paidMinor = Math.min(Math.max(paidMinor, 0), billed);
  return {
    kind: 'invoice',
    invoice: {
      id: object.id, number: present(p.hs_number) ? p.hs_number.trim() : null, status: status || 'open', currency,
      totalMinor: billed, issueDate, dueDate, modifiedAt, modifiedDate, paidMinor,
    },
  };
};

/** The cumulative amount a `hs-paid:` payment id records for the invoice, or null if it is not one of its. */
export const cumulativeOfPaymentId = (invoiceId: string, paymentId: string): number | null => {
  const prefix = `${PAID_PREFIX}${invoiceId}:`;
  if (!paymentId.startsWith(prefix)) return null;
  const rest = paymentId.slice(prefix.length);
  return /^\d+$/.test(rest) ? Number(rest) : null;
};

/**
 * The payment facts that bring an invoice's recorded payments (given by their cumulative amounts) to
 * `paidMinor`: facts above it are removed, and one fact adds what is still missing.
 */
export const paymentChanges = (
  invoice: { id: string; currency: string; paidMinor: number; date: IsoDate }, recordedCumulatives: readonly number[],
): { add: PaymentRecord | null; remove: string[] } => {
  const remove = recordedCumulatives.filter((c) => c > invoice.paidMinor).map((c) => paidPaymentId(invoice.id, c));
  const recorded = Math.max(0, ...recordedCumulatives.filter((c) => c <= invoice.paidMinor));
  if (invoice.paidMinor <= recorded) return { add: null, remove };
  const amountMinor = invoice.paidMinor - recorded;
  return {
    remove,
    add: {
      id: paidPaymentId(invoice.id, invoice.paidMinor), kind: 'payment', date: invoice.date, currency: invoice.currency, amountMinor,
      allocations: [{ invoiceId: invoice.id, amountMinor }],
    },
  };
};

// ---------------------------------------------------------------------------------------------------------
// Cursor

/** Invoice id → modification time (ms) of the records already read at or after the cursor's time. */
type Seen = Record<string, number>;

export type InvoiceCursor =
  | { mode: 'list'; startedAt: number | null; after: string | null; seen: Seen }
  | { mode: 'search'; since: number; seen: Seen };

const isSeen = (value: unknown): value is Seen =>
  typeof value === 'object' && value !== null && Object.values(value).every((v) => typeof v === 'number');

export const parseCursor = (text: string): InvoiceCursor => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = null;
  }
  const v = value as Partial<{ mode: string; startedAt: unknown; after: unknown; since: unknown; seen: unknown }> | null;
  if (v?.mode === 'list' && (v.startedAt === null || typeof v.startedAt === 'number') && (v.after === null || typeof v.after === 'string') && isSeen(v.seen)) {
    return { mode: 'list', startedAt: v.startedAt, after: v.after, seen: v.seen };
  }
  if (v?.mode === 'search' && typeof v.since === 'number' && isSeen(v.seen)) return { mode: 'search', since: v.since, seen: v.seen };
  throw new Error(`sync_cursors ${HUBSPOT_SOURCE}/${INVOICES_STREAM}: unreadable cursor ${JSON.stringify(text.slice(0, 80))}; run with --full`);
};

/** Entries at or after `since`, at most SEEN_MAX (the most recent). */
const pruneSeen = (seen: Seen, since: number): Seen => {
  const entries = Object.entries(seen).filter(([, at]) => at >= since);
  if (entries.length > SEEN_MAX) entries.sort((a, b) => b[1] - a[1]).splice(SEEN_MAX);
  return Object.fromEntries(entries);
};

export class HubSpotSyncConflict extends Error {
  constructor(portalId: number) {
    super(`sync_cursors ${HUBSPOT_SOURCE}/${INVOICES_STREAM} of portal ${portalId} changed during this run: another invoice sync of the portal is running`);
    this.name = 'HubSpotSyncConflict';
  }
}

const readCursor = async (db: Executor, portalId: number): Promise<string | null> => {
  const row = await db.selectFrom('sync_cursors').select('cursor')
    .where('portal_id', '=', portalId).where('source', '=', HUBSPOT_SOURCE).where('stream', '=', INVOICES_STREAM)
    .executeTakeFirst();
  return row?.cursor ?? null;
};

/** Moves the cursor from `expected` (null: no row yet) to `next`, or throws HubSpotSyncConflict. */
const commitCursor = async (db: Executor, portalId: number, expected: string | null, next: string): Promise<void> => {
  if (expected === null) {
    const inserted = await db.insertInto('sync_cursors')
      .values({ portal_id: portalId, source: HUBSPOT_SOURCE, stream: INVOICES_STREAM, cursor: next })
      .onConflict((oc) => oc.columns(['portal_id', 'source', 'stream']).doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) !== 1) throw new HubSpotSyncConflict(portalId);
    return;
  }
  const updated = await db.updateTable('sync_cursors').set({ cursor: next, updated_at: new Date() })
    .where('portal_id', '=', portalId).where('source', '=', HUBSPOT_SOURCE).where('stream', '=', INVOICES_STREAM)
    .where('cursor', '=', expected)
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) !== 1) throw new HubSpotSyncConflict(portalId);
};

// ---------------------------------------------------------------------------------------------------------
// Sync

export type SyncHubSpotInvoicesOptions = {
  db: Db;
  portalId: number;
  /** A static token (private app), or */
  token?: string;
  /** the portal's current token, asked before every call (OAuth tokens are refreshed by it). */
  tokenFor?: TokenSource;
  /** HubSpot's API origin (https://api.hubapi.com, or a fake's URL in tests). */
  basePath: string;
  /** List every invoice again instead of searching from the cursor. */
  full?: boolean;
  /** Invoices per request (default 100; the list API takes at most 100, search 200). */
  pageSize?: number;
  /** How to wait: between searches, and between attempts when `call` is not given. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Runs each HubSpot call: the portal's paced caller (`connection.caller.call`, see caller.ts), which keeps
   * all of the portal's jobs under its burst limit and retries. Default: withHubSpotRetry (429 with
   * Retry-After, 5xx and network failures) with `maxAttempts`, `sleep` and `onRetry`, unpaced.
   */
  call?: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Attempts per HubSpot call when `call` is not given (429, 5xx and network failures are retried; default 6). */
  maxAttempts?: number;
  /** Told of each retry when `call` is not given. */
  onRetry?: (event: RetryEvent) => void;
  /** Epoch ms; the fallback when a response has no Date header, and the search pacing clock. */
  now?: () => number;
  /** How far behind writes HubSpot's search index may be (default 2 minutes). */
  indexLagMs?: number;
  /** Results one search query can page through (HubSpot: 10,000). */
  searchResultCap?: number;
};

export type SyncHubSpotInvoicesResult = {
  /** Invoices HubSpot returned in this run. */
  read: number;
  /** Returned again unchanged since an earlier run read them (no further calls, no writes). */
  alreadyRead: number;
  invoicesInserted: number;
  invoicesUpdated: number;
  invoicesUnchanged: number;
  customersInserted: number;
  customersUpdated: number;
  paymentsAdded: number;
  paymentsRemoved: number;
  skippedDraft: number;
  skippedNoCompany: number;
  skippedInvalid: number;
  /** One line per invalid invoice, naming it and the property (at most 100). */
  problems: string[];
  /** HubSpot requests made, retries included. */
  requests: number;
  mode: 'list' | 'search';
  /** The modification time (ISO) the next run searches from. */
  cursor: string | null;
};

type Company = { id: string; name: string | null; domain: string | null; industry: string | null; country: string | null };

const pickAssociation = (to: ReadonlyArray<{ toObjectId: string | number; associationTypes?: ReadonlyArray<{ label?: string | null }> }>): string | null => {
  if (to.length === 0) return null;
  const primary = to.filter((t) => (t.associationTypes ?? []).some((a) => a.label === 'Primary'));
  const pool = primary.length > 0 ? primary : to;
  const ids = pool.map((t) => String(t.toObjectId));
  ids.sort((a, b) => (a.length - b.length) || (a < b ? -1 : a > b ? 1 : 0));
  return ids[0] ?? null;
};

const chunk = <T>(items: readonly T[], size: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

const text = (value: string | null | undefined): string | null => (present(value) ? value.trim() : null);

/** HubSpot's clock from a response's Date header (second precision, rounded down), or null. */
const serverTime = (headers: Record<string, string> | undefined): number | null => {
  if (!headers) return null;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === 'date');
  const ms = key === undefined ? NaN : Date.parse(headers[key] ?? '');
  return Number.isNaN(ms) ? null : ms;
};

/** Reads HubSpot invoices into the store; see the comment at the top of this module. */
export const syncHubSpotInvoices = async (options: SyncHubSpotInvoicesOptions): Promise<SyncHubSpotInvoicesResult> => {
  const { db, portalId } = options;
  if (options.token === undefined && options.tokenFor === undefined) throw new Error('syncHubSpotInvoices needs token or tokenFor');
  const pageSize = options.pageSize ?? 100;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new Error(`pageSize must be a whole number ≥ 1 (got ${pageSize})`);
  const sleep = options.sleep ?? realSleep;
  const now = options.now ?? Date.now;
  const indexLagMs = options.indexLagMs ?? 120_000;
  const searchResultCap = options.searchResultCap ?? 10_000;

  const result: SyncHubSpotInvoicesResult = {
    read: 0, alreadyRead: 0, invoicesInserted: 0, invoicesUpdated: 0, invoicesUnchanged: 0, customersInserted: 0, customersUpdated: 0,
    paymentsAdded: 0, paymentsRemoved: 0, skippedDraft: 0, skippedNoCompany: 0, skippedInvalid: 0, problems: [], requests: 0,
    mode: 'search', cursor: null,
  };

  // ---- HubSpot calls: one client, the current token before each attempt, pacing and retries around each call.
  let token = options.token ?? await (options.tokenFor as TokenSource)(portalId);
  const client = hubspotClient(token, options.basePath);
  const run = options.call ?? (<T>(fn: () => Promise<T>): Promise<T> => withHubSpotRetry(fn, {
    maxAttempts: options.maxAttempts ?? 6, sleep, ...(options.onRetry ? { onRetry: options.onRetry } : {}),
  }));
  const call = <T>(fn: (c: Client) => Promise<T>): Promise<T> => run(async () => {
    if (options.tokenFor) {
      const current = await options.tokenFor(portalId);
      if (current !== token) {
        token = current;
        client.setAccessToken(current);
      }
    }
    result.requests += 1;
    return fn(client);
  });

  let lastSearchAt = -Infinity;
  const paceSearch = async (): Promise<void> => {
    const wait = lastSearchAt + SEARCH_INTERVAL_MS - now();
    if (wait > 0) await sleep(wait);
    lastSearchAt = now();
  };

  const associations = async (ids: readonly string[], toType: 'companies' | 'deals'): Promise<Map<string, string>> => {
    const found = new Map<string, string>();
    for (const part of chunk(ids, ASSOCIATION_BATCH_MAX)) {
      const response = await call((c) => c.crm.associations.v4.batchApi.getPage('invoices', toType, { inputs: part.map((id) => ({ id })) }));
      // Inputs without associations come back as errors of the batch, which is what they mean here.
      for (const row of response.results) {
        const picked = pickAssociation(row.to);
        if (picked !== null) found.set(String(row._from.id), picked);
      }
    }
    return found;
  };

  const companies = async (ids: readonly string[]): Promise<Map<string, Company>> => {
    const found = new Map<string, Company>();
    for (const part of chunk(ids, OBJECT_BATCH_MAX)) {
      const response = await call((c) => c.crm.companies.batchApi.read({ inputs: part.map((id) => ({ id })), properties: COMPANY_PROPERTIES, propertiesWithHistory: [] }));
      for (const company of response.results) {
        const p = company.properties;
        found.set(String(company.id), {
          id: String(company.id), name: text(p.name), domain: text(p.domain)?.toLowerCase() ?? null, industry: text(p.industry), country: text(p.country),
        });
      }
    }
    return found;
  };

  // ---- One page: read what it needs from HubSpot, then write it and the next cursor in one transaction.
  await ensurePortal(db, portalId);
  let committed = await readCursor(db, portalId);

  const processPage = async (objects: readonly InvoiceObject[], seen: Seen, next: (seen: Seen) => InvoiceCursor): Promise<InvoiceCursor> => {
    result.read += objects.length;
    const merged: Seen = { ...seen };
    const parsed: ParsedInvoice[] = [];
    for (const object of objects) {
      const modifiedAt = modifiedAtOf(object);
      if (modifiedAt !== null && seen[object.id] === modifiedAt) {
        result.alreadyRead += 1;
        continue;
      }
      if (modifiedAt !== null) merged[object.id] = modifiedAt;
      const outcome = parseInvoice(object);
      if (outcome.kind === 'draft') result.skippedDraft += 1;
      else if (outcome.kind === 'invalid') {
        result.skippedInvalid += 1;
        if (result.problems.length < 100) result.problems.push(outcome.problem);
      } else parsed.push(outcome.invoice);
    }
    const ids = parsed.map((i) => i.id);
    const companyOf = ids.length ? await associations(ids, 'companies') : new Map<string, string>();
    const withCompany = parsed.filter((i) => companyOf.has(i.id));
    result.skippedNoCompany += parsed.length - withCompany.length;
    const dealOf = withCompany.length ? await associations(withCompany.map((i) => i.id), 'deals') : new Map<string, string>();
    const companyIds = [...new Set(withCompany.map((i) => companyOf.get(i.id) as string))];
    const companyInfo = companyIds.length ? await companies(companyIds) : new Map<string, Company>();
    const cursor = next(merged);
    const cursorText = JSON.stringify(cursor);
    if (withCompany.length === 0 && cursorText === committed) return cursor;

    await db.transaction().execute(async (trx) => {
      await commitCursor(trx, portalId, committed, cursorText);
      if (withCompany.length > 0) {
        await writeInvoices(trx, portalId, withCompany, companyOf, dealOf, companyInfo, result);
        await touchPortal(trx, portalId);
      }
    });
    committed = cursorText;
    return cursor;
  };

  // A full run lists again from the start (also past a cursor it could not read); otherwise the stored
  // cursor says where to go on, and no cursor means a first run, which lists.
  let state: InvoiceCursor = options.full || committed === null
    ? { mode: 'list', startedAt: null, after: null, seen: {} }
    : parseCursor(committed);

  if (state.mode === 'list') {
    result.mode = 'list';
    const limit = Math.min(pageSize, LIST_PAGE_MAX);
    let listing: Extract<InvoiceCursor, { mode: 'list' }> = state;
    for (;;) {
      const after = listing.after ?? undefined;
      const response = await call((c) => c.crm.commerce.invoices.basicApi.getPageWithHttpInfo(limit, after, [...INVOICE_PROPERTIES], undefined, undefined, false));
      // Everything modified after the listing began is searched for by the next run.
      const startedAt = listing.startedAt ?? serverTime(response.headers) ?? now();
      const nextAfter = response.data.paging?.next?.after ?? null;
      const since = startedAt - indexLagMs;
      state = await processPage(response.data.results, listing.seen, (seen) => nextAfter !== null
        ? { mode: 'list', startedAt, after: nextAfter, seen: pruneSeen(seen, since) }
        : { mode: 'search', since, seen: pruneSeen(seen, since) });
      if (state.mode === 'search') break;
      listing = state;
    }
  } else {
    const limit = Math.min(pageSize, SEARCH_PAGE_MAX);
    let searching: Extract<InvoiceCursor, { mode: 'search' }> = state;
    // The highest modification time read so far, and how many records at exactly that time were paged over.
    let from = searching.since;
    let offset = 0;
    let runStart: number | null = null;
    for (;;) {
      if (offset + limit > searchResultCap) {
        throw new Error(`more than ${searchResultCap - limit} HubSpot invoices share hs_lastmodifieddate ${new Date(from).toISOString()}, beyond what one search can page through; run with --full`);
      }
      await paceSearch();
      const request = {
        filterGroups: [{ filters: [{ propertyName: 'hs_lastmodifieddate', operator: FilterOperatorEnum.Gte, value: String(from) }] }],
        sorts: ['hs_lastmodifieddate'],
        properties: [...INVOICE_PROPERTIES],
        limit,
        after: String(offset),
      };
      const response = await call((c) => c.crm.commerce.invoices.searchApi.doSearchWithHttpInfo(request));
      runStart ??= serverTime(response.headers) ?? now();
      const objects = response.data.results;
      const last = objects.length > 0 ? modifiedAtOf(objects[objects.length - 1] as InvoiceObject) : null;
      // The next search starts at the last time read; records at that time come again and are skipped as
      // seen. Only a page that does not get past its start time pages on by offset.
      if (last !== null && last > from) {
        from = last;
        offset = 0;
      } else {
        offset += objects.length;
      }
      const since = Math.min(from, runStart - indexLagMs);
      searching = await processPage(objects, searching.seen, (seen) => ({ mode: 'search', since, seen: pruneSeen(seen, since) })) as typeof searching;
      if (objects.length < limit || response.data.paging?.next?.after === undefined) break;
    }
    state = searching;
  }
  result.cursor = state.mode === 'search' ? new Date(state.since).toISOString() : null;
  return result;
};

// ---------------------------------------------------------------------------------------------------------
// Store

type ExistingInvoice = {
  external_id: string; customer: string; number: string | null; currency: string; total_minor: number; issue_date: string;
  due_date: string; voided_date: string | null; hubspot_deal_id: string | null;
};

const writeInvoices = async (
  trx: Executor, portalId: number, invoices: readonly ParsedInvoice[], companyOf: ReadonlyMap<string, string>,
  dealOf: ReadonlyMap<string, string>, companyInfo: ReadonlyMap<string, Company>, result: SyncHubSpotInvoicesResult,
): Promise<void> => {
  const ids = invoices.map((i) => i.id);
  const customers: CustomerFact[] = [...new Set(invoices.map((i) => companyOf.get(i.id) as string))].map((id) => {
    const info = companyInfo.get(id);
    return { id, name: info?.name ?? null, domain: info?.domain ?? null, industry: info?.industry ?? null, country: info?.country ?? null };
  });
  const customerCounts = await upsertCustomers(trx, portalId, HUBSPOT_SOURCE, customers);
  result.customersInserted += customerCounts.inserted;
  result.customersUpdated += customerCounts.updated;

  const existing = new Map((await trx.selectFrom('invoices as i').innerJoin('customers as c', 'c.id', 'i.customer_id')
    .select(['i.external_id', 'c.external_id as customer', 'i.number', 'i.currency', 'i.total_minor', 'i.issue_date', 'i.due_date',
      'i.voided_date', 'i.hubspot_deal_id'])
    .where('i.portal_id', '=', portalId).where('i.source', '=', HUBSPOT_SOURCE).where('i.external_id', 'in', ids)
    .execute() as ExistingInvoice[]).map((row) => [row.external_id, row] as const));

  const recorded = new Map<string, number[]>();
  for (const row of await trx.selectFrom('payments as p')
    .innerJoin('payment_allocations as a', 'a.payment_id', 'p.id')
    .innerJoin('invoices as i', 'i.id', 'a.invoice_id')
    .select(['i.external_id as invoice', 'p.external_id as payment'])
    .where('i.portal_id', '=', portalId).where('i.source', '=', HUBSPOT_SOURCE).where('i.external_id', 'in', ids)
    .where('p.source', '=', HUBSPOT_SOURCE).where('p.external_id', 'like', `${PAID_PREFIX}%`)
    .execute()) {
    const cumulative = cumulativeOfPaymentId(row.invoice, row.payment);
    if (cumulative === null) continue;
    recorded.set(row.invoice, [...(recorded.get(row.invoice) ?? []), cumulative]);
  }

  const records: InvoiceRecord[] = [];
  const extras: { external_id: string; deal_id: string | null; status: string; modified: string }[] = [];
  const gone: string[] = [];
  for (const invoice of invoices) {
    const before = existing.get(invoice.id);
    const voidedDate = invoice.status === 'voided' ? before?.voided_date ?? maxDate(invoice.modifiedDate, invoice.issueDate) : null;
    const record: InvoiceRecord = {
      id: invoice.id, number: invoice.number, customerId: companyOf.get(invoice.id) as string, currency: invoice.currency,
      totalMinor: invoice.totalMinor, issueDate: invoice.issueDate, dueDate: invoice.dueDate, voidedDate, disputed: false,
      salesRep: null, product: null, dealId: null, terms: null,
    };
    const dealId = dealOf.get(invoice.id) ?? null;
    extras.push({ external_id: invoice.id, deal_id: dealId, status: invoice.status, modified: new Date(invoice.modifiedAt).toISOString() });
    if (!before) {
      result.invoicesInserted += 1;
      records.push(record);
    } else if (before.customer !== record.customerId || before.number !== record.number || before.currency !== record.currency ||
      before.total_minor !== record.totalMinor || before.issue_date !== record.issueDate || before.due_date !== record.dueDate ||
      before.voided_date !== record.voidedDate || before.hubspot_deal_id !== dealId) {
      result.invoicesUpdated += 1;
      records.push(record);
      // Payment facts are amounts of the invoice's currency: a new currency starts its payments afresh.
      if (before.currency !== record.currency) {
        gone.push(...(recorded.get(invoice.id) ?? []).map((c) => paidPaymentId(invoice.id, c)));
        recorded.delete(invoice.id);
      }
    } else {
      result.invoicesUnchanged += 1;
    }
  }
  if (gone.length > 0) result.paymentsRemoved += await deletePayments(trx, portalId, HUBSPOT_SOURCE, gone);
  if (records.length > 0) await upsertInvoices(trx, portalId, HUBSPOT_SOURCE, records, { keep: KEEP_COLUMNS });
  await sql`
    UPDATE invoices i SET hubspot_deal_id = x.deal_id, source_status = x.status, source_updated_at = x.modified::timestamptz
    FROM json_to_recordset(${JSON.stringify(extras)}::json) AS x(external_id text, deal_id text, status text, modified text)
    WHERE i.portal_id = ${portalId} AND i.source = ${HUBSPOT_SOURCE} AND i.external_id = x.external_id
      AND (i.hubspot_deal_id, i.source_status, i.source_updated_at)
        IS DISTINCT FROM (x.deal_id, x.status, x.modified::timestamptz)`.execute(trx);

  const removals: string[] = [];
  const additions: PaymentRecord[] = [];
  for (const invoice of invoices) {
    if (invoice.paidMinor === null) continue;
    const change = paymentChanges(
      { id: invoice.id, currency: invoice.currency, paidMinor: invoice.paidMinor, date: maxDate(invoice.modifiedDate, invoice.issueDate) },
      recorded.get(invoice.id) ?? [],
    );
    removals.push(...change.remove);
    if (change.add) additions.push(change.add);
  }
  if (removals.length > 0) result.paymentsRemoved += await deletePayments(trx, portalId, HUBSPOT_SOURCE, removals);
  if (additions.length > 0) {
    await upsertPayments(trx, portalId, HUBSPOT_SOURCE, additions);
    result.paymentsAdded += additions.length;
  }
};
