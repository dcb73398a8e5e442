import type { Client } from '@hubspot/api-client';
import { FilterOperatorEnum } from '@hubspot/api-client/lib/codegen/crm/commerce/invoices';
import { hubspotClient } from '../../hubspot/client';
import { realSleep, withHubSpotRetry, type RetryEvent } from '../../hubspot/http-retry';
import type { ChangePage, SourceConnector } from '../types';
import { HUBSPOT_SOURCE, INVOICES_STREAM, parseCursor, pruneSeen, type InvoiceCursor, type Seen } from './cursor';
import {
  COMPANY_PROPERTIES, derivedPayments, HUBSPOT_KEEPS, INVOICE_PROPERTIES, modifiedAtOf, parseInvoice, pickAssociation, text,
  toSourceCustomer, toSourceInvoice, type Company, type InvoiceObject, type ParsedInvoice, type RecordedInvoice,
} from './mapping';

/**
 * HubSpot's invoice object as a source (source `hubspot`, cursor stream `invoices`), for portals that run
 * HubSpot's accounting data sync (QuickBooks/Xero → HubSpot invoices) or bill in HubSpot.
 *
 * What is read: invoices with hs_invoice_status, hs_amount_billed, hs_balance_due, hs_amount_paid, hs_due_date,
 * hs_invoice_date, hs_number, hs_currency and hs_lastmodifieddate; their associated companies and deals (v4
 * batch read); the companies' name, domain, industry and country (batch read).
 *
 * Mapping: the customer is the associated company (external id = company id); the invoice's external id is the
 * HubSpot invoice id; total = amount billed, in minor units of hs_currency (upper-cased ISO 4217); issue and due
 * dates are calendar dates; `voided` is a void dated by the modification date (the store keeps the first void
 * date it records); `draft` invoices are not issued and are skipped; invoices without a company are skipped;
 * the first associated deal (the one labelled Primary, else the lowest id) is the invoice's HubSpot deal.
 * HubSpot invoices have no terms, reference, product, sales rep or dispute flag: pages say so (`keep`).
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
 *   new amount are removed, and a fact for the rest is added if they now sum to less.
 * The connector does no database I/O: which facts the store holds comes from `recorded`, a read-only view the
 * engine side gives it (read before each page; the engine's compare-and-set cursor keeps another run of the
 * portal from writing in between).
 *
 * Incremental reads (cursor.ts). The first (or a --full) run lists every invoice page by page; afterwards a
 * run searches hs_lastmodifieddate ≥ since, sorted ascending. Each page is a new search from the last
 * timestamp seen (keyset paging, kept in memory between the pages of one run), so records modified while the
 * run pages are not skipped and no search goes near HubSpot's 10,000-result cap; offsets are used only inside
 * a run of records sharing one timestamp, and hitting the cap there is an error that names --full (the list
 * API has no cap). HubSpot's search index lags writes by a few moments, so `since` never passes HubSpot's
 * time at the start of the run minus `indexLagMs`.
 *
 * Not covered: invoices deleted (archived) in HubSpot stay in the store; association changes that do not
 * move hs_lastmodifieddate are seen by the next --full run.
 */

const LIST_PAGE_MAX = 100;
const SEARCH_PAGE_MAX = 200;
const ASSOCIATION_BATCH_MAX = 1_000;
const OBJECT_BATCH_MAX = 100;
/** HubSpot's search API allows 5 requests per second per account. */
const SEARCH_INTERVAL_MS = 220;

export type HubSpotConnectorOptions = {
  /** The portal's current access token, asked for once to start and again before every call (OAuth tokens are refreshed by it). */
  credentials: () => Promise<string>;
  /** HubSpot's API origin (https://api.hubapi.com, or a fake's URL in tests). */
  basePath: string;
  /** What the store holds of the given invoices (see RecordedInvoice); invoices it does not hold are absent. */
  recorded: (invoiceIds: readonly string[]) => Promise<ReadonlyMap<string, RecordedInvoice>>;
  /** Invoices per request (default 100; the list API takes at most 100, search 200). */
  pageSize?: number;
  /** How to wait: between searches, and between attempts when `call` is not given. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Runs each HubSpot call: the portal's paced caller (`connection.caller.call`, see src/hubspot/caller.ts),
   * which keeps all of the portal's jobs under its burst limit and retries. Default: withHubSpotRetry (429 with
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

/** What the connector's pulls read, for the run's report. */
export type HubSpotPullStats = {
  /** Invoices HubSpot returned. */
  read: number;
  /** Returned again unchanged since an earlier run read them (no further calls, nothing in the page). */
  alreadyRead: number;
  skippedDraft: number;
  skippedNoCompany: number;
  skippedInvalid: number;
  /** One line per invalid invoice, naming it and the property (at most 100). */
  problems: string[];
  /** HubSpot requests made, retries included. */
  requests: number;
  /** How the first pull read: listing everything, or searching from the cursor (null before the first pull). */
  mode: 'list' | 'search' | null;
  /** The modification time (epoch ms) the next run searches from, once a page has reached search mode. */
  since: number | null;
};

export type HubSpotConnector = SourceConnector<'hubspot'> & { readonly stats: HubSpotPullStats };

const chunk = <T>(items: readonly T[], size: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

/** HubSpot's clock from a response's Date header (second precision, rounded down), or null. */
const serverTime = (headers: Record<string, string> | undefined): number | null => {
  if (!headers) return null;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === 'date');
  const ms = key === undefined ? NaN : Date.parse(headers[key] ?? '');
  return Number.isNaN(ms) ? null : ms;
};

/** A search run in progress: where the next search starts, kept between the pages of one run. */
type Searching = {
  /** The cursor text of the last page this run answered: a pull with it continues the run. */
  cursorText: string;
  seen: Seen;
  /** The highest modification time read so far, and how many records at exactly that time were paged over. */
  from: number;
  offset: number;
  runStart: number | null;
};

export const createHubSpotConnector = (options: HubSpotConnectorOptions): HubSpotConnector => {
  const pageSize = options.pageSize ?? 100;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new Error(`pageSize must be a whole number ≥ 1 (got ${pageSize})`);
  const sleep = options.sleep ?? realSleep;
  const now = options.now ?? Date.now;
  const indexLagMs = options.indexLagMs ?? 120_000;
  const searchResultCap = options.searchResultCap ?? 10_000;
  const stats: HubSpotPullStats = {
    read: 0, alreadyRead: 0, skippedDraft: 0, skippedNoCompany: 0, skippedInvalid: 0, problems: [], requests: 0, mode: null, since: null,
  };

  // ---- HubSpot calls: one client, the current token before each attempt, pacing and retries around each call.
  let client: { sdk: Client; token: string } | null = null;
  const run = options.call ?? (<T>(fn: () => Promise<T>): Promise<T> => withHubSpotRetry(fn, {
    maxAttempts: options.maxAttempts ?? 6, sleep, ...(options.onRetry ? { onRetry: options.onRetry } : {}),
  }));
  const call = async <T>(fn: (c: Client) => Promise<T>): Promise<T> => {
    if (client === null) {
      const token = await options.credentials();
      client = { sdk: hubspotClient(token, options.basePath), token };
    }
    const current = client;
    return run(async () => {
      const token = await options.credentials();
      if (token !== current.token) {
        current.token = token;
        current.sdk.setAccessToken(token);
      }
      stats.requests += 1;
      return fn(current.sdk);
    });
  };

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

  /** One page: the invoices not read before, their companies and deals, and the payments their amounts paid imply. */
  const page = async (
    objects: readonly InvoiceObject[], seen: Seen, next: (seen: Seen) => InvoiceCursor, done: boolean,
  ): Promise<{ page: ChangePage; cursor: InvoiceCursor }> => {
    stats.read += objects.length;
    const merged: Seen = { ...seen };
    const parsed: ParsedInvoice[] = [];
    for (const object of objects) {
      const modifiedAt = modifiedAtOf(object);
      if (modifiedAt !== null && seen[object.id] === modifiedAt) {
        stats.alreadyRead += 1;
        continue;
      }
      if (modifiedAt !== null) merged[object.id] = modifiedAt;
      const outcome = parseInvoice(object);
      if (outcome.kind === 'draft') stats.skippedDraft += 1;
      else if (outcome.kind === 'invalid') {
        stats.skippedInvalid += 1;
        if (stats.problems.length < 100) stats.problems.push(outcome.problem);
      } else parsed.push(outcome.invoice);
    }
    const ids = parsed.map((i) => i.id);
    const companyOf = ids.length ? await associations(ids, 'companies') : new Map<string, string>();
    const withCompany = parsed.filter((i) => companyOf.has(i.id));
    stats.skippedNoCompany += parsed.length - withCompany.length;
    const dealOf = withCompany.length ? await associations(withCompany.map((i) => i.id), 'deals') : new Map<string, string>();
    const companyIds = [...new Set(withCompany.map((i) => companyOf.get(i.id) as string))];
    const companyInfo = companyIds.length ? await companies(companyIds) : new Map<string, Company>();
    const recorded = withCompany.length ? await options.recorded(withCompany.map((i) => i.id)) : new Map<string, RecordedInvoice>();
    const cursor = next(merged);
    if (cursor.mode === 'search') stats.since = cursor.since;
    return {
      cursor,
      page: {
        customers: companyIds.map((id) => toSourceCustomer(id, companyInfo.get(id))),
        invoices: withCompany.map((i) => toSourceInvoice(i, companyOf.get(i.id) as string, dealOf.get(i.id) ?? null)),
        payments: withCompany.flatMap((i) => derivedPayments(i, recorded.get(i.id))),
        cursor: JSON.stringify(cursor),
        done,
        keep: HUBSPOT_KEEPS,
      },
    };
  };

  const listPage = async (listing: Extract<InvoiceCursor, { mode: 'list' }>): Promise<ChangePage> => {
    const limit = Math.min(pageSize, LIST_PAGE_MAX);
    const after = listing.after ?? undefined;
    const response = await call((c) => c.crm.commerce.invoices.basicApi.getPageWithHttpInfo(limit, after, [...INVOICE_PROPERTIES], undefined, undefined, false));
    // Everything modified after the listing began is searched for by the next run.
    const startedAt = listing.startedAt ?? serverTime(response.headers) ?? now();
    const nextAfter = response.data.paging?.next?.after ?? null;
    const since = startedAt - indexLagMs;
    const result = await page(response.data.results, listing.seen, (seen) => nextAfter !== null
      ? { mode: 'list', startedAt, after: nextAfter, seen: pruneSeen(seen, since) }
      : { mode: 'search', since, seen: pruneSeen(seen, since) }, nextAfter === null);
    return result.page;
  };

  let searching: Searching | null = null;
  const searchPage = async (s: Searching): Promise<ChangePage> => {
    const limit = Math.min(pageSize, SEARCH_PAGE_MAX);
    if (s.offset + limit > searchResultCap) {
      throw new Error(`more than ${searchResultCap - limit} HubSpot invoices share hs_lastmodifieddate ${new Date(s.from).toISOString()}, beyond what one search can page through; run with --full`);
    }
    await paceSearch();
    const request = {
      filterGroups: [{ filters: [{ propertyName: 'hs_lastmodifieddate', operator: FilterOperatorEnum.Gte, value: String(s.from) }] }],
      sorts: ['hs_lastmodifieddate'],
      properties: [...INVOICE_PROPERTIES],
      limit,
      after: String(s.offset),
    };
    const response = await call((c) => c.crm.commerce.invoices.searchApi.doSearchWithHttpInfo(request));
    const runStart = s.runStart ?? serverTime(response.headers) ?? now();
    const objects = response.data.results;
    const last = objects.length > 0 ? modifiedAtOf(objects[objects.length - 1] as InvoiceObject) : null;
    // The next search starts at the last time read; records at that time come again and are skipped as
    // seen. Only a page that does not get past its start time pages on by offset.
    const [from, offset] = last !== null && last > s.from ? [last, 0] : [s.from, s.offset + objects.length];
    const since = Math.min(from, runStart - indexLagMs);
    const done = objects.length < limit || response.data.paging?.next?.after === undefined;
    const result = await page(objects, s.seen, (seen) => ({ mode: 'search', since, seen: pruneSeen(seen, since) }), done);
    // The run moves on only once the page is read whole: a pull that failed can be asked for again.
    Object.assign(s, { cursorText: result.page.cursor, seen: result.cursor.seen, from, offset, runStart });
    return result.page;
  };

  return {
    source: HUBSPOT_SOURCE,
    stream: INVOICES_STREAM,
    stats,
    pull: async (cursorText) => {
      // The next page of this run's search; otherwise a listing from the start (no cursor), or where the cursor says.
      if (searching !== null && cursorText === searching.cursorText) return searchPage(searching);
      const state: InvoiceCursor = cursorText === null ? { mode: 'list', startedAt: null, after: null, seen: {} } : parseCursor(cursorText);
      stats.mode ??= state.mode;
      if (state.mode === 'list') return listPage(state);
      searching = { cursorText: '', seen: state.seen, from: state.since, offset: 0, runStart: null };
      return searchPage(searching);
    },
  };
};
