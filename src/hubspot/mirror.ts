import { sql } from 'kysely';
import type { Client } from '@hubspot/api-client';
import { FilterOperatorEnum, type PublicObjectSearchRequest } from '@hubspot/api-client/lib/codegen/crm/companies';
import type { Db } from '../store/database';
import { ensurePortal, type Executor, touchPortal } from '../store/facts';
import { hubspotClient, type TokenSource } from './client';
import { realSleep, withHubSpotRetry, type RetryOptions } from './http-retry';

/**
 * A copy of the HubSpot companies and deals that matching reads (hubspot_companies, hubspot_deals), kept up
 * to date incrementally. The first run (or `full`) lists every record (GET /crm/v3/objects/{type}, deals with
 * their company associations) and replaces the mirror; later runs search for records whose
 * hs_lastmodifieddate is at or after the stored cursor (sync_cursors, source 'hubspot'), sorted by it. Each
 * page is stored in one transaction with the cursor it justifies, so an interrupted run resumes where it
 * stopped. HubSpot's search returns at most 10,000 results per query: a longer result is split into queries
 * starting at the last timestamp seen (and, should 10,000 records share one timestamp, walked by id).
 */

export type MirrorStream = 'companies' | 'deals';

export const MIRROR_SOURCE = 'hubspot';
export const DEFAULT_DEAL_REFERENCE_PROPERTY = 'arbridge_reference';
export const CUSTOMER_ID_PROPERTY = 'arbridge_customer_id';
export const LAST_MODIFIED = 'hs_lastmodifieddate';

/** HubSpot's cap on the results one search query can page through. */
export const SEARCH_RESULT_CAP = 10_000;
/** HubSpot's association type id of a deal's primary company. */
export const PRIMARY_DEAL_COMPANY_TYPE_ID = 5;

export type MirrorOptions = {
  /** The HubSpot API origin (https://api.hubapi.com, or the fake's URL in tests). */
  basePath: string;
  /** A static token (private app), or `tokenFor` (asked before every call, so refreshed tokens are used). */
  token?: string;
  tokenFor?: TokenSource;
  /** The deal property holding a quote or PO reference (default arbridge_reference). */
  dealReferenceProperty?: string;
  /** List everything again and drop mirrored records HubSpot no longer has. */
  full?: boolean;
  /** Records per list page (≤ 100) and per search page (≤ 200). */
  listPageSize?: number;
  searchPageSize?: number;
  /** Results one search query may page through (HubSpot: 10,000). */
  searchCap?: number;
  /**
   * The cursor never passes `start of the run − overlapMs`: search results appear a few moments after a write,
   * so records changed just before a run are searched again next time (storing them again changes nothing).
   */
  overlapMs?: number;
  /** Least time between two search calls (HubSpot allows 5 per second per account). */
  searchIntervalMs?: number;
  /** Runs each HubSpot call; default: withHubSpotRetry (429 with Retry-After, 5xx and network failures). */
  call?: <T>(fn: () => Promise<T>) => Promise<T>;
  retry?: RetryOptions;
  /** Epoch milliseconds. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
};

export type StreamReport = {
  mode: 'full' | 'incremental';
  fetched: number;
  inserted: number;
  updated: number;
  unchanged: number;
  /** Records dropped from the mirror by a full listing (HubSpot no longer has them). */
  removed: number;
  /** Search queries started (a long result is split in several). */
  queries: number;
  cursor: string | null;
};

export type MirrorReport = Record<MirrorStream, StreamReport>;

type CompanyRow = { company_id: string; name: string | null; domain: string | null; customer_ref: string | null; owner_id: string | null; hs_updated_at: string | null };
type DealRow = {
  deal_id: string; name: string | null; amount: string | null; currency: string | null; stage: string | null; owner_id: string | null;
  company_id: string | null; reference: string | null; hs_updated_at: string | null;
};

type HubSpotRecord = { id: string; properties: Record<string, string | null>; updatedAt?: Date; associations?: Record<string, { results: { id: string; type: string }[] }> };

const COMPANY_PROPERTIES = ['name', 'domain', CUSTOMER_ID_PROPERTY, 'hubspot_owner_id', LAST_MODIFIED];
const dealProperties = (reference: string): string[] =>
  ['dealname', 'amount', 'deal_currency_code', 'dealstage', 'hubspot_owner_id', reference, LAST_MODIFIED];

const text = (value: string | null | undefined): string | null => {
  const trimmed = value?.trim() ?? '';
  return trimmed === '' ? null : trimmed;
};

/** The record's last modification as ISO text: hs_lastmodifieddate (ISO or epoch ms), else updatedAt. */
export const modifiedAt = (record: Pick<HubSpotRecord, 'properties' | 'updatedAt'>): string | null => {
  const raw = text(record.properties[LAST_MODIFIED]);
  if (raw !== null) {
    const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
    if (!Number.isNaN(ms)) return new Date(ms).toISOString();
  }
  return record.updatedAt instanceof Date && !Number.isNaN(record.updatedAt.getTime()) ? record.updatedAt.toISOString() : null;
};

const ORDER = (a: string, b: string): number => (a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0);

/**
 * A deal's primary company from the v3 association list: the `deal_to_company` (primary) association, else the
 * only company, else the lowest company id.
 */
export const primaryCompanyOf = (associations: HubSpotRecord['associations']): string | null => {
  const results = associations?.companies?.results ?? [];
  const primary = results.find((r) => r.type === 'deal_to_company' || /primary/i.test(r.type));
  if (primary) return primary.id;
  const ids = [...new Set(results.map((r) => r.id))].sort(ORDER);
  return ids[0] ?? null;
};

const companyRow = (record: HubSpotRecord): CompanyRow => ({
  company_id: record.id,
  name: text(record.properties.name),
  domain: text(record.properties.domain),
  customer_ref: text(record.properties[CUSTOMER_ID_PROPERTY]),
  owner_id: text(record.properties.hubspot_owner_id),
  hs_updated_at: modifiedAt(record),
});

const dealRow = (record: HubSpotRecord, referenceProperty: string, companyId: string | null): DealRow => ({
  deal_id: record.id,
  name: text(record.properties.dealname),
  amount: text(record.properties.amount),
  currency: text(record.properties.deal_currency_code),
  stage: text(record.properties.dealstage),
  owner_id: text(record.properties.hubspot_owner_id),
  company_id: companyId,
  reference: text(record.properties[referenceProperty]),
  hs_updated_at: modifiedAt(record),
});

type Counts = { inserted: number; updated: number; unchanged: number };

const countOf = (rows: readonly { inserted: boolean }[], total: number): Counts => {
  const inserted = rows.filter((r) => r.inserted).length;
  return { inserted, updated: rows.length - inserted, unchanged: total - rows.length };
};

/** Stores companies; a row is written only when a value differs. */
export const upsertMirroredCompanies = async (db: Executor, portalId: number, rows: readonly CompanyRow[]): Promise<Counts> => {
  if (rows.length === 0) return { inserted: 0, updated: 0, unchanged: 0 };
  const result = await sql<{ inserted: boolean }>`
    INSERT INTO hubspot_companies (portal_id, company_id, name, domain, customer_ref, owner_id, hs_updated_at)
    SELECT ${portalId}, x.company_id, x.name, x.domain, x.customer_ref, x.owner_id, x.hs_updated_at
    FROM json_to_recordset(${JSON.stringify(rows)}::json)
      AS x(company_id text, name text, domain text, customer_ref text, owner_id text, hs_updated_at timestamptz)
    ON CONFLICT (portal_id, company_id) DO UPDATE SET
      name = EXCLUDED.name, domain = EXCLUDED.domain, customer_ref = EXCLUDED.customer_ref, owner_id = EXCLUDED.owner_id,
      hs_updated_at = EXCLUDED.hs_updated_at, synced_at = now()
    WHERE (hubspot_companies.name, hubspot_companies.domain, hubspot_companies.customer_ref, hubspot_companies.owner_id,
           hubspot_companies.hs_updated_at)
      IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.domain, EXCLUDED.customer_ref, EXCLUDED.owner_id, EXCLUDED.hs_updated_at)
    RETURNING (xmax = 0) AS inserted`.execute(db);
  return countOf(result.rows, rows.length);
};

/** Stores deals; a row is written only when a value differs. */
export const upsertMirroredDeals = async (db: Executor, portalId: number, rows: readonly DealRow[]): Promise<Counts> => {
  if (rows.length === 0) return { inserted: 0, updated: 0, unchanged: 0 };
  const result = await sql<{ inserted: boolean }>`
    INSERT INTO hubspot_deals (portal_id, deal_id, name, amount, currency, stage, owner_id, company_id, reference, hs_updated_at)
    SELECT ${portalId}, x.deal_id, x.name, x.amount, x.currency, x.stage, x.owner_id, x.company_id, x.reference, x.hs_updated_at
    FROM json_to_recordset(${JSON.stringify(rows)}::json)
      AS x(deal_id text, name text, amount text, currency text, stage text, owner_id text, company_id text, reference text,
           hs_updated_at timestamptz)
    ON CONFLICT (portal_id, deal_id) DO UPDATE SET
      name = EXCLUDED.name, amount = EXCLUDED.amount, currency = EXCLUDED.currency, stage = EXCLUDED.stage,
      owner_id = EXCLUDED.owner_id, company_id = EXCLUDED.company_id, reference = EXCLUDED.reference,
      hs_updated_at = EXCLUDED.hs_updated_at, synced_at = now()
    WHERE (hubspot_deals.name, hubspot_deals.amount, hubspot_deals.currency, hubspot_deals.stage, hubspot_deals.owner_id,
           hubspot_deals.company_id, hubspot_deals.reference, hubspot_deals.hs_updated_at)
      IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.amount, EXCLUDED.currency, EXCLUDED.stage, EXCLUDED.owner_id,
           EXCLUDED.company_id, EXCLUDED.reference, EXCLUDED.hs_updated_at)
    RETURNING (xmax = 0) AS inserted`.execute(db);
  return countOf(result.rows, rows.length);
};

export const readCursor = async (db: Executor, portalId: number, stream: MirrorStream): Promise<string | null> => {
  const row = await db.selectFrom('sync_cursors').select('cursor')
    .where('portal_id', '=', portalId).where('source', '=', MIRROR_SOURCE).where('stream', '=', stream)
    .executeTakeFirst();
  return row?.cursor ?? null;
};

const writeCursor = async (db: Executor, portalId: number, stream: MirrorStream, cursor: string): Promise<void> => {
  await db.insertInto('sync_cursors')
    .values({ portal_id: portalId, source: MIRROR_SOURCE, stream, cursor })
    .onConflict((oc) => oc.columns(['portal_id', 'source', 'stream']).doUpdateSet({ cursor, updated_at: sql<Date>`now()` }))
    .execute();
};

/** Runs `work` in a transaction (or in the caller's, when `db` already is one), then marks the portal's data changed. */
const inTransaction = async <T>(db: Executor, portalId: number, work: (trx: Executor) => Promise<T>): Promise<T> => {
  const run = async (trx: Executor): Promise<T> => {
    const result = await work(trx);
    await touchPortal(trx, portalId);
    return result;
  };
  return db.isTransaction ? run(db) : db.transaction().execute(run);
};

const isoMax = (a: string | null, b: string | null): string | null => {
  if (a === null) return b;
  if (b === null) return a;
  return Date.parse(a) >= Date.parse(b) ? a : b;
};

const isoMin = (a: string, b: string): string => (Date.parse(a) <= Date.parse(b) ? a : b);

type Api = {
  list: (after: string | undefined) => Promise<{ results: HubSpotRecord[]; next: string | undefined }>;
  search: (request: PublicObjectSearchRequest) => Promise<{ results: HubSpotRecord[]; next: string | undefined }>;
  /** Primary companies of deals (v4 batch read), for search results, which carry no associations. */
  primaryCompanies: (dealIds: readonly string[]) => Promise<Map<string, string>>;
};

const ASSOCIATION_BATCH = 1_000;

const makeApi = (clientOf: () => Client, stream: MirrorStream, properties: string[], pageSize: number, run: <T>(fn: () => Promise<T>) => Promise<T>): Api => {
  // The client is read at each call: a refreshed token comes with a new client.
  const objects = () => (stream === 'companies' ? clientOf().crm.companies : clientOf().crm.deals);
  return {
    list: async (after) => {
      const page = await run(() => objects().basicApi.getPage(pageSize, after, properties, undefined, stream === 'deals' ? ['companies'] : undefined, false));
      return { results: page.results as HubSpotRecord[], next: page.paging?.next?.after };
    },
    search: async (request) => {
      const page = await run(() => objects().searchApi.doSearch(request));
      return { results: page.results as HubSpotRecord[], next: page.paging?.next?.after };
    },
    primaryCompanies: async (dealIds) => {
      const found = new Map<string, string>();
      for (let i = 0; i < dealIds.length; i += ASSOCIATION_BATCH) {
        const inputs = dealIds.slice(i, i + ASSOCIATION_BATCH).map((id) => ({ id }));
        const response = await run(() => clientOf().crm.associations.v4.batchApi.getPage('deals', 'companies', { inputs }));
        for (const result of response.results) {
          const to = result.to ?? [];
          const primary = to.find((t) => t.associationTypes.some((a) => a.typeId === PRIMARY_DEAL_COMPANY_TYPE_ID || /primary/i.test(a.label ?? '')));
          const chosen = primary?.toObjectId ?? [...new Set(to.map((t) => String(t.toObjectId)))].sort(ORDER)[0];
          if (chosen !== undefined) found.set(String(result._from.id), String(chosen));
        }
      }
      return found;
    },
  };
};

/** Mirrors one stream (companies or deals) of a portal; see the module comment. */
export const mirrorStream = async (db: Db, portalId: number, stream: MirrorStream, options: MirrorOptions): Promise<StreamReport> => {
  if (options.token === undefined && options.tokenFor === undefined) throw new Error('mirror: give a token or tokenFor');
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? realSleep;
  const referenceProperty = options.dealReferenceProperty ?? DEFAULT_DEAL_REFERENCE_PROPERTY;
  const properties = stream === 'companies' ? COMPANY_PROPERTIES : dealProperties(referenceProperty);
  const listPageSize = Math.min(100, Math.max(1, options.listPageSize ?? 100));
  const searchPageSize = Math.min(200, Math.max(1, options.searchPageSize ?? 200));
  const searchCap = Math.max(searchPageSize, options.searchCap ?? SEARCH_RESULT_CAP);
  const overlapMs = options.overlapMs ?? 120_000;
  const searchIntervalMs = options.searchIntervalMs ?? 210;
  let token = options.token ?? '';
  let client = hubspotClient(token, options.basePath);
  const call = options.call ?? (<T>(fn: () => Promise<T>) => withHubSpotRetry(fn, options.retry));
  const run = async <T>(fn: () => Promise<T>): Promise<T> => {
    if (options.tokenFor) {
      const current = await options.tokenFor(portalId);
      if (current !== token) client = hubspotClient((token = current), options.basePath);
    }
    return call(fn);
  };
  const api = makeApi(() => client, stream, properties, listPageSize, run);
  const toRows = (records: HubSpotRecord[], companies?: Map<string, string>): CompanyRow[] | DealRow[] =>
    stream === 'companies'
      ? records.map(companyRow)
      : records.map((r) => dealRow(r, referenceProperty, companies ? companies.get(r.id) ?? null : primaryCompanyOf(r.associations)));
  const store = (trx: Executor, rows: CompanyRow[] | DealRow[]): Promise<Counts> =>
    stream === 'companies' ? upsertMirroredCompanies(trx, portalId, rows as CompanyRow[]) : upsertMirroredDeals(trx, portalId, rows as DealRow[]);

  await ensurePortal(db, portalId);
  const started = now();
  const ceiling = new Date(started - overlapMs).toISOString();
  const stored = await readCursor(db, portalId, stream);
  // No cursor yet (or an unreadable one): list everything.
  const full = options.full === true || stored === null || Number.isNaN(Date.parse(stored));
  const report: StreamReport = { mode: full ? 'full' : 'incremental', fetched: 0, inserted: 0, updated: 0, unchanged: 0, removed: 0, queries: 0, cursor: stored };
  const add = (c: Counts): void => {
    report.inserted += c.inserted;
    report.updated += c.updated;
    report.unchanged += c.unchanged;
  };

  if (full) {
    // Pages are stored as they come; the last one, the removal of records no longer listed and the cursor
    // go in one transaction. A listing that fails half-way leaves no cursor: the next run lists again.
    const seen = new Set<string>();
    let newest: string | null = null;
    let after: string | undefined;
    for (;;) {
      const page = await api.list(after);
      report.fetched += page.results.length;
      const rows = toRows(page.results);
      for (const row of rows) {
        seen.add(stream === 'companies' ? (row as CompanyRow).company_id : (row as DealRow).deal_id);
        newest = isoMax(newest, row.hs_updated_at);
      }
      if (page.next !== undefined) {
        add(await inTransaction(db, portalId, (trx) => store(trx, rows)));
        after = page.next;
        continue;
      }
      const cursor = isoMin(newest ?? ceiling, ceiling);
      await inTransaction(db, portalId, async (trx) => {
        add(await store(trx, rows));
        report.removed = await removeUnlisted(trx, portalId, stream, seen);
        await writeCursor(trx, portalId, stream, cursor);
      });
      report.cursor = cursor;
      return report;
    }
  }

  // Incremental: search hs_lastmodifieddate ≥ cursor, ascending. `from` moves to the last timestamp seen
  // whenever a query reaches the result cap.
  let from = stored as string;
  let lastSearchAt = 0;
  const search = async (request: PublicObjectSearchRequest) => {
    const wait = lastSearchAt + searchIntervalMs - now();
    if (wait > 0) await sleep(wait);
    lastSearchAt = now();
    return api.search(request);
  };
  const storePage = async (records: HubSpotRecord[], lastSeen: string | null): Promise<void> => {
    report.fetched += records.length;
    const companies = stream === 'deals' && records.length > 0 ? await api.primaryCompanies(records.map((r) => r.id)) : undefined;
    const rows = toRows(records, companies);
    const advanced = lastSeen === null ? report.cursor : isoMax(report.cursor, isoMin(lastSeen, ceiling));
    await inTransaction(db, portalId, async (trx) => {
      add(await store(trx, rows));
      if (advanced !== null && advanced !== report.cursor) await writeCursor(trx, portalId, stream, advanced);
    });
    report.cursor = advanced;
  };
  const msOf = (iso: string): string => String(Date.parse(iso));
  for (;;) {
    report.queries += 1;
    let after: string | undefined;
    let lastSeen: string | null = null;
    let capped = false;
    for (;;) {
      const page = await search({
        filterGroups: [{ filters: [{ propertyName: LAST_MODIFIED, operator: FilterOperatorEnum.Gte, value: msOf(from) }] }],
        sorts: [LAST_MODIFIED], properties, limit: searchPageSize, ...(after !== undefined ? { after } : {}),
      });
      for (const r of page.results) lastSeen = isoMax(lastSeen, modifiedAt(r));
      await storePage(page.results, lastSeen);
      if (page.next === undefined || page.results.length === 0) break;
      if (Number(page.next) + searchPageSize > searchCap) {
        capped = true;
        break;
      }
      after = page.next;
    }
    if (!capped) return report;
    if (lastSeen !== null && Date.parse(lastSeen) > Date.parse(from)) {
      from = lastSeen;
      continue;
    }
    // A whole capped query at one timestamp: walk the records of that timestamp by id, then go past it.
    await walkOneTimestamp(from, search, storePage, properties, searchPageSize, searchCap, report);
    from = new Date(Date.parse(from) + 1).toISOString();
  }
};

/** Pages through the records modified exactly at `at`, by ascending id (for more than a query's cap of them). */
const walkOneTimestamp = async (
  at: string,
  search: (request: PublicObjectSearchRequest) => Promise<{ results: HubSpotRecord[]; next: string | undefined }>,
  storePage: (records: HubSpotRecord[], lastSeen: string | null) => Promise<void>,
  properties: string[], pageSize: number, cap: number, report: StreamReport,
): Promise<void> => {
  let lastId = '0';
  for (;;) {
    report.queries += 1;
    let after: string | undefined;
    let capped = false;
    for (;;) {
      const page = await search({
        filterGroups: [{ filters: [
          { propertyName: LAST_MODIFIED, operator: FilterOperatorEnum.Eq, value: String(Date.parse(at)) },
          { propertyName: 'hs_object_id', operator: FilterOperatorEnum.Gt, value: lastId },
        ] }],
        sorts: ['hs_object_id'], properties, limit: pageSize, ...(after !== undefined ? { after } : {}),
      });
      for (const r of page.results) if (ORDER(r.id, lastId) > 0) lastId = r.id;
      await storePage(page.results, at);
      if (page.next === undefined || page.results.length === 0) break;
      if (Number(page.next) + pageSize > cap) {
        capped = true;
        break;
      }
      after = page.next;
    }
    if (!capped) return;
  }
};

const removeUnlisted = async (db: Executor, portalId: number, stream: MirrorStream, seen: ReadonlySet<string>): Promise<number> => {
  const ids = JSON.stringify([...seen]);
  const result = stream === 'companies'
    ? await sql`
        DELETE FROM hubspot_companies c WHERE c.portal_id = ${portalId}
          AND NOT EXISTS (SELECT 1 FROM json_array_elements_text(${ids}::json) AS s(id) WHERE s.id = c.company_id)`.execute(db)
    : await sql`
        DELETE FROM hubspot_deals d WHERE d.portal_id = ${portalId}
          AND NOT EXISTS (SELECT 1 FROM json_array_elements_text(${ids}::json) AS s(id) WHERE s.id = d.deal_id)`.execute(db);
  return Number(result.numAffectedRows ?? 0);
};

/** Mirrors companies, then deals. */
export const mirrorHubSpot = async (db: Db, portalId: number, options: MirrorOptions): Promise<MirrorReport> => {
  const companies = await mirrorStream(db, portalId, 'companies', options);
  const deals = await mirrorStream(db, portalId, 'deals', options);
  return { companies, deals };
};
