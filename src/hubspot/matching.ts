import { sql } from 'kysely';
import { touchPortal } from '../store/facts';
import {
  buildCompanyIndex, buildDealIndex, matchCustomer, matchInvoice,
  type CompanyIndex, type CompanyMatch, type DealIndex, type DealMatch,
} from '../domain/matching';
import { formatMinor } from '../domain/money';
import type { Db } from '../store/database';
import type { Executor } from '../store/facts';
import type { CompanyLinkMethod, DealLinkMethod } from '../store/schema';

/**
 * Matching of accounting customers to HubSpot companies and of invoices to deals, over the mirror (see
 * hubspot/mirror.ts) with the pure rules of domain/matching.ts. A run streams customers and invoices in
 * batches against in-memory indexes of the mirrored companies and deals, and writes only the links that
 * change, set-based. Manual links and manual unlinks are never touched; automatic links are recomputed
 * (created, changed or removed) on every run, so a run is idempotent.
 */

/** Ids per batch of a matching run. */
const BATCH = 10_000;
const INDEX_PAGE = 50_000;

const isManual = (method: string | null): boolean => method === 'manual' || method === 'manual_unlink';

export type LinkCounts<M extends string> = {
  /** Records with a link (automatic or manual). */
  linked: number;
  /** Links by how they were made, manual unlinks included. */
  byMethod: Partial<Record<M, number>>;
  /** Records with no link and no manual unlink: the review list. */
  unmatched: number;
  /** Of the unmatched, those with several candidates at some level. */
  ambiguous: number;
  /** What this run changed. */
  changes: { added: number; changed: number; removed: number };
};

export type MatchingReport = { companies: LinkCounts<CompanyLinkMethod>; deals: LinkCounts<DealLinkMethod> };

// ---------------------------------------------------------------------------------------------------------
// Indexes of the mirror

/** The portal's mirrored companies, indexed for matching. */
export const loadCompanyIndex = async (db: Executor, portalId: number): Promise<CompanyIndex> => {
  const rows: { companyId: string; name: string | null; domain: string | null; customerRef: string | null }[] = [];
  let after = '';
  for (;;) {
    const page = await db.selectFrom('hubspot_companies')
      .select(['company_id', 'name', 'domain', 'customer_ref'])
      .where('portal_id', '=', portalId).where('company_id', '>', after)
      .orderBy('company_id').limit(INDEX_PAGE).execute();
    for (const r of page) rows.push({ companyId: r.company_id, name: r.name, domain: r.domain, customerRef: r.customer_ref });
    if (page.length < INDEX_PAGE) break;
    after = (page[page.length - 1] as { company_id: string }).company_id;
  }
  return buildCompanyIndex(rows);
};

/** The portal's mirrored deals, indexed for matching. */
export const loadDealIndex = async (db: Executor, portalId: number): Promise<DealIndex> => {
  const rows: { dealId: string; reference: string | null }[] = [];
  let after = '';
  for (;;) {
    const page = await db.selectFrom('hubspot_deals')
      .select(['deal_id', 'reference'])
      .where('portal_id', '=', portalId).where('deal_id', '>', after)
      .orderBy('deal_id').limit(INDEX_PAGE).execute();
    for (const r of page) rows.push({ dealId: r.deal_id, reference: r.reference });
    if (page.length < INDEX_PAGE) break;
    after = (page[page.length - 1] as { deal_id: string }).deal_id;
  }
  return buildDealIndex(rows);
};

// ---------------------------------------------------------------------------------------------------------
// Writing changed links

type WantedLink = { id: number; target: string; method: string; detail: string };

const writeCompanyLinks = async (db: Executor, portalId: number, upserts: WantedLink[], removals: number[]): Promise<void> => {
  if (upserts.length > 0) {
    // A manual decision made meanwhile wins: the update skips rows that became manual.
    await sql`
      INSERT INTO company_links (portal_id, customer_id, company_id, method, detail)
      SELECT ${portalId}, x.id, x.target, x.method, x.detail
      FROM json_to_recordset(${JSON.stringify(upserts)}::json) AS x(id bigint, target text, method text, detail text)
      ON CONFLICT (portal_id, customer_id) DO UPDATE SET
        company_id = EXCLUDED.company_id, method = EXCLUDED.method, detail = EXCLUDED.detail, linked_by = NULL, updated_at = now()
      WHERE company_links.method NOT IN ('manual', 'manual_unlink')
        AND (company_links.company_id, company_links.method, company_links.detail)
          IS DISTINCT FROM (EXCLUDED.company_id, EXCLUDED.method, EXCLUDED.detail)`.execute(db);
  }
  if (removals.length > 0) {
    await sql`
      DELETE FROM company_links l
      WHERE l.portal_id = ${portalId} AND l.method NOT IN ('manual', 'manual_unlink')
        AND l.customer_id IN (SELECT value::bigint FROM json_array_elements_text(${JSON.stringify(removals)}::json))`.execute(db);
  }
};

const writeDealLinks = async (db: Executor, portalId: number, upserts: WantedLink[], removals: number[]): Promise<void> => {
  if (upserts.length > 0) {
    await sql`
      INSERT INTO deal_links (portal_id, invoice_id, deal_id, method, detail)
      SELECT ${portalId}, x.id, x.target, x.method, x.detail
      FROM json_to_recordset(${JSON.stringify(upserts)}::json) AS x(id bigint, target text, method text, detail text)
      ON CONFLICT (portal_id, invoice_id) DO UPDATE SET
        deal_id = EXCLUDED.deal_id, method = EXCLUDED.method, detail = EXCLUDED.detail, linked_by = NULL, updated_at = now()
      WHERE deal_links.method NOT IN ('manual', 'manual_unlink')
        AND (deal_links.deal_id, deal_links.method, deal_links.detail)
          IS DISTINCT FROM (EXCLUDED.deal_id, EXCLUDED.method, EXCLUDED.detail)`.execute(db);
  }
  if (removals.length > 0) {
    await sql`
      DELETE FROM deal_links l
      WHERE l.portal_id = ${portalId} AND l.method NOT IN ('manual', 'manual_unlink')
        AND l.invoice_id IN (SELECT value::bigint FROM json_array_elements_text(${JSON.stringify(removals)}::json))`.execute(db);
  }
};

/** Runs `work` in a transaction (or the caller's), then marks the portal's data changed. */
const inTransaction = async (db: Executor, portalId: number, work: (trx: Executor) => Promise<void>): Promise<void> => {
  const run = async (trx: Executor): Promise<void> => {
    await work(trx);
    await touchPortal(trx, portalId);
  };
  return db.isTransaction ? run(db) : db.transaction().execute(run);
};

type Current = { target: string | null; method: string | null; detail: string | null };

/** Sorts one decision into the batch's upserts and removals; returns what kind of change it is. */
const plan = (
  id: number, current: Current, decision: CompanyMatch | DealMatch, upserts: WantedLink[], removals: number[],
): 'added' | 'changed' | 'removed' | null => {
  if (decision.matched) {
    const target = 'companyId' in decision ? decision.companyId : decision.dealId;
    if (current.method === null) {
      upserts.push({ id, target, method: decision.method, detail: decision.detail });
      return 'added';
    }
    if (current.target === target && current.method === decision.method && current.detail === decision.detail) return null;
    upserts.push({ id, target, method: decision.method, detail: decision.detail });
    return 'changed';
  }
  if (current.method === null) return null;
  removals.push(id);
  return 'removed';
};

// ---------------------------------------------------------------------------------------------------------
// The run

type CustomerBatchRow = {
  id: number; source: string; external_id: string; name: string | null; domain: string | null; mapped: string | null;
  linked: string | null; method: CompanyLinkMethod | null; detail: string | null;
};

type InvoiceBatchRow = {
  id: number; deal_id: string | null; hubspot_deal_id: string | null; reference: string | null;
  linked: string | null; method: DealLinkMethod | null; detail: string | null;
};

/**
 * The portal's id range of a table. Batches are fixed ranges of ids, and the link of each row is looked up by
 * its key (a LATERAL subquery), so that every batch reads only its rows whatever the planner's statistics
 * say (PGlite has no autovacuum to keep them fresh after a bulk import).
 */
const idRange = async (db: Executor, table: 'customers' | 'invoices', portalId: number): Promise<{ lo: number; hi: number } | null> => {
  const row = await sql<{ lo: number | null; hi: number | null }>`
    SELECT min(id) AS lo, max(id) AS hi FROM ${sql.table(table)} WHERE portal_id = ${portalId}`.execute(db);
  const { lo, hi } = row.rows[0] ?? { lo: null, hi: null };
  return lo === null || hi === null ? null : { lo: Number(lo), hi: Number(hi) };
};

const matchCompanies = async (db: Executor, portalId: number): Promise<{ ambiguous: number; changes: LinkCounts<string>['changes'] }> => {
  const index = await loadCompanyIndex(db, portalId);
  const changes = { added: 0, changed: 0, removed: 0 };
  let ambiguous = 0;
  const range = await idRange(db, 'customers', portalId);
  for (let after = (range?.lo ?? 1) - 1; range !== null && after < range.hi; after += BATCH) {
    const batch = await sql<CustomerBatchRow>`
      SELECT c.id, c.source, c.external_id, c.name, c.domain, m.mapped, l.linked, l.method, l.detail
      FROM customers c
        LEFT JOIN LATERAL (SELECT x.company_id AS mapped FROM company_mappings x
          WHERE x.portal_id = c.portal_id AND x.source = c.source AND x.external_id = c.external_id LIMIT 1) m ON true
        LEFT JOIN LATERAL (SELECT y.company_id AS linked, y.method, y.detail FROM company_links y
          WHERE y.portal_id = c.portal_id AND y.customer_id = c.id LIMIT 1) l ON true
      WHERE c.portal_id = ${portalId} AND c.id > ${after} AND c.id <= ${after + BATCH}`.execute(db);
    const upserts: WantedLink[] = [];
    const removals: number[] = [];
    for (const row of batch.rows) {
      if (isManual(row.method)) continue;
      const decision = matchCustomer(
        { source: row.source, externalId: row.external_id, name: row.name, domain: row.domain, mappedCompanyId: row.mapped },
        index,
      );
      if (!decision.matched && decision.reason === 'ambiguous') ambiguous += 1;
      const change = plan(row.id, { target: row.linked, method: row.method, detail: row.detail }, decision, upserts, removals);
      if (change !== null) changes[change] += 1;
    }
    if (upserts.length + removals.length > 0) await inTransaction(db, portalId, (trx) => writeCompanyLinks(trx, portalId, upserts, removals));
  }
  return { ambiguous, changes };
};

const matchDeals = async (db: Executor, portalId: number): Promise<{ ambiguous: number; changes: LinkCounts<string>['changes'] }> => {
  const index = await loadDealIndex(db, portalId);
  const changes = { added: 0, changed: 0, removed: 0 };
  let ambiguous = 0;
  const range = await idRange(db, 'invoices', portalId);
  for (let after = (range?.lo ?? 1) - 1; range !== null && after < range.hi; after += BATCH) {
    // Only invoices that could match, or that hold a link, need a decision.
    const batch = await sql<InvoiceBatchRow>`
      SELECT i.id, i.deal_id, i.hubspot_deal_id, i.reference, l.linked, l.method, l.detail
      FROM invoices i
        LEFT JOIN LATERAL (SELECT y.deal_id AS linked, y.method, y.detail FROM deal_links y
          WHERE y.portal_id = i.portal_id AND y.invoice_id = i.id LIMIT 1) l ON true
      WHERE i.portal_id = ${portalId} AND i.id > ${after} AND i.id <= ${after + BATCH}
        AND (i.deal_id IS NOT NULL OR i.hubspot_deal_id IS NOT NULL OR i.reference IS NOT NULL OR l.method IS NOT NULL)`.execute(db);
    const upserts: WantedLink[] = [];
    const removals: number[] = [];
    for (const row of batch.rows) {
      if (isManual(row.method)) continue;
      const decision = matchInvoice({ dealId: row.deal_id, hubspotDealId: row.hubspot_deal_id, reference: row.reference }, index);
      if (!decision.matched && decision.reason === 'ambiguous') ambiguous += 1;
      const change = plan(row.id, { target: row.linked, method: row.method, detail: row.detail }, decision, upserts, removals);
      if (change !== null) changes[change] += 1;
    }
    if (upserts.length + removals.length > 0) await inTransaction(db, portalId, (trx) => writeDealLinks(trx, portalId, upserts, removals));
  }
  return { ambiguous, changes };
};

/** Link counts of the portal as stored now. */
export const linkCounts = async (db: Executor, portalId: number): Promise<{
  companies: Omit<LinkCounts<CompanyLinkMethod>, 'ambiguous' | 'changes'>; deals: Omit<LinkCounts<DealLinkMethod>, 'ambiguous' | 'changes'>;
}> => {
  const companyMethods = await sql<{ method: CompanyLinkMethod; n: number }>`
    SELECT method, count(*)::int AS n FROM company_links WHERE portal_id = ${portalId} GROUP BY method`.execute(db);
  const dealMethods = await sql<{ method: DealLinkMethod; n: number }>`
    SELECT method, count(*)::int AS n FROM deal_links WHERE portal_id = ${portalId} GROUP BY method`.execute(db);
  const unmatched = await sql<{ customers: number; invoices: number }>`
    SELECT
      (SELECT count(*) FROM customers c WHERE c.portal_id = ${portalId}
         AND NOT EXISTS (SELECT 1 FROM company_links l WHERE l.portal_id = c.portal_id AND l.customer_id = c.id))::int AS customers,
      (SELECT count(*) FROM invoices i WHERE i.portal_id = ${portalId}
         AND NOT EXISTS (SELECT 1 FROM deal_links l WHERE l.portal_id = i.portal_id AND l.invoice_id = i.id))::int AS invoices`.execute(db);
  const tally = <M extends string>(rows: readonly { method: M; n: number }[]) => {
    const byMethod: Partial<Record<M, number>> = {};
    let linked = 0;
    for (const r of [...rows].sort((a, b) => (a.method < b.method ? -1 : 1))) {
      byMethod[r.method] = r.n;
      if (r.method !== 'manual_unlink') linked += r.n;
    }
    return { linked, byMethod };
  };
  return {
    companies: { ...tally(companyMethods.rows), unmatched: unmatched.rows[0]?.customers ?? 0 },
    deals: { ...tally(dealMethods.rows), unmatched: unmatched.rows[0]?.invoices ?? 0 },
  };
};

/**
 * Matches the portal's customers to companies and invoices to deals (see domain/matching.ts for the rules)
 * and returns the resulting counts. Running it again with nothing changed changes nothing.
 */
export const runMatching = async (db: Db, portalId: number): Promise<MatchingReport> => {
  const companies = await matchCompanies(db, portalId);
  const deals = await matchDeals(db, portalId);
  const counts = await linkCounts(db, portalId);
  return {
    companies: { ...counts.companies, ambiguous: companies.ambiguous, changes: companies.changes },
    deals: { ...counts.deals, ambiguous: deals.ambiguous, changes: deals.changes },
  };
};

// ---------------------------------------------------------------------------------------------------------
// The review list

export type CompanyCandidate = { companyId: string; name: string | null; domain: string | null };
export type DealCandidate = { dealId: string; name: string | null; reference: string | null; companyId: string | null };

/** Several candidates at one level; `candidateCount` counts them all, `candidates` lists the first MAX_CANDIDATES. */
export type Ambiguity<C> = { level: string; value: string; candidateCount: number; candidates: C[] };

export const MAX_CANDIDATES = 20;

export type UnmatchedCustomer = {
  customerId: string;
  source: string;
  name: string | null;
  domain: string | null;
  reason: 'none' | 'ambiguous';
  ambiguities: Ambiguity<CompanyCandidate>[];
};

export type UnmatchedInvoice = {
  invoiceId: string;
  source: string;
  number: string | null;
  customerId: string;
  customerName: string | null;
  /** The company the invoice's customer is linked to, if any (its deals are the likely ones). */
  companyId: string | null;
  currency: string;
  /** The invoice total, a decimal string in its currency. */
  amount: string;
  issueDate: string;
  dealId: string | null;
  reference: string | null;
  reason: 'none' | 'ambiguous';
  ambiguities: Ambiguity<DealCandidate>[];
};

export type UnmatchedPage<T> = { kind: 'customers' | 'invoices'; items: T[]; next: string | null };

export type UnmatchedQuery = { limit?: number; after?: string | null };

// The review list explains each item with the same rules as a run, so it needs the indexes; they are kept
// per portal while the mirror is unchanged (same row count and latest sync time).
type CachedIndex<T> = { key: string; index: T };
const companyIndexCache = new Map<number, CachedIndex<CompanyIndex>>();
const dealIndexCache = new Map<number, CachedIndex<DealIndex>>();
const CACHE_PORTALS = 8;

const cached = async <T>(
  cache: Map<number, CachedIndex<T>>, portalId: number, key: string, load: () => Promise<T>,
): Promise<T> => {
  const hit = cache.get(portalId);
  if (hit && hit.key === key) return hit.index;
  const index = await load();
  cache.delete(portalId);
  cache.set(portalId, { key, index });
  while (cache.size > CACHE_PORTALS) cache.delete(cache.keys().next().value as number);
  return index;
};

const mirrorVersion = async (db: Executor, table: 'hubspot_companies' | 'hubspot_deals', portalId: number): Promise<string> => {
  const row = await sql<{ n: number; latest: string | null }>`
    SELECT count(*)::int AS n, max(synced_at)::text AS latest FROM ${sql.table(table)} WHERE portal_id = ${portalId}`.execute(db);
  return `${row.rows[0]?.n ?? 0}|${row.rows[0]?.latest ?? ''}`;
};

const pageParams = (query: UnmatchedQuery): { limit: number; after: number } => {
  const limit = Math.min(1_000, Math.max(1, Math.floor(query.limit ?? 100)));
  const after = query.after !== undefined && query.after !== null && /^\d{1,15}$/.test(query.after) ? Number(query.after) : 0;
  return { limit, after };
};

/** Customers without a company link (and without a manual unlink), with why: no candidate, or several. */
export const listUnmatchedCustomers = async (db: Executor, portalId: number, query: UnmatchedQuery = {}): Promise<UnmatchedPage<UnmatchedCustomer>> => {
  const { limit, after } = pageParams(query);
  const rows = await sql<{ id: number; source: string; external_id: string; name: string | null; domain: string | null; mapped: string | null }>`
    SELECT c.id, c.source, c.external_id, c.name, c.domain, m.company_id AS mapped
    FROM customers c
      LEFT JOIN company_mappings m ON m.portal_id = c.portal_id AND m.source = c.source AND m.external_id = c.external_id
    WHERE c.portal_id = ${portalId} AND c.id > ${after}
      AND NOT EXISTS (SELECT 1 FROM company_links l WHERE l.portal_id = c.portal_id AND l.customer_id = c.id)
    ORDER BY c.id LIMIT ${limit + 1}`.execute(db);
  const page = rows.rows.slice(0, limit);
  const index = page.length === 0 ? null
    : await cached(companyIndexCache, portalId, await mirrorVersion(db, 'hubspot_companies', portalId), () => loadCompanyIndex(db, portalId));
  const decisions = page.map((r) => (index === null ? null
    : matchCustomer({ source: r.source, externalId: r.external_id, name: r.name, domain: r.domain, mappedCompanyId: r.mapped }, index)));
  const candidateIds = [...new Set(decisions.flatMap((d) => (d && !d.matched && d.reason === 'ambiguous'
    ? d.ambiguities.flatMap((a) => a.candidates.slice(0, MAX_CANDIDATES)) : [])))];
  const details = new Map<string, CompanyCandidate>();
  if (candidateIds.length > 0) {
    const found = await db.selectFrom('hubspot_companies').select(['company_id', 'name', 'domain'])
      .where('portal_id', '=', portalId).where('company_id', 'in', candidateIds).execute();
    for (const c of found) details.set(c.company_id, { companyId: c.company_id, name: c.name, domain: c.domain });
  }
  const items = page.map((r, i): UnmatchedCustomer => {
    const decision = decisions[i];
    const ambiguous = decision && !decision.matched && decision.reason === 'ambiguous' ? decision.ambiguities : [];
    return {
      customerId: r.external_id, source: r.source, name: r.name, domain: r.domain,
      reason: ambiguous.length > 0 ? 'ambiguous' : 'none',
      ambiguities: ambiguous.map((a) => ({
        level: a.level, value: a.value, candidateCount: a.candidates.length,
        candidates: a.candidates.slice(0, MAX_CANDIDATES).map((id) => details.get(id) ?? { companyId: id, name: null, domain: null }),
      })),
    };
  });
  const last = page[page.length - 1];
  return { kind: 'customers', items, next: rows.rows.length > limit && last ? String(last.id) : null };
};

/** Invoices without a deal link (and without a manual unlink), with why: no candidate, or several. */
export const listUnmatchedInvoices = async (db: Executor, portalId: number, query: UnmatchedQuery = {}): Promise<UnmatchedPage<UnmatchedInvoice>> => {
  const { limit, after } = pageParams(query);
  const rows = await sql<{
    id: number; source: string; external_id: string; number: string | null; customer: string; customer_name: string | null;
    company_id: string | null; currency: string; total_minor: number; issue_date: string; deal_id: string | null;
    hubspot_deal_id: string | null; reference: string | null;
  }>`
    SELECT i.id, i.source, i.external_id, i.number, c.external_id AS customer, c.name AS customer_name, cl.company_id,
      i.currency, i.total_minor, i.issue_date, i.deal_id, i.hubspot_deal_id, i.reference
    FROM invoices i
      JOIN customers c ON c.id = i.customer_id
      LEFT JOIN company_links cl ON cl.portal_id = i.portal_id AND cl.customer_id = i.customer_id
    WHERE i.portal_id = ${portalId} AND i.id > ${after}
      AND NOT EXISTS (SELECT 1 FROM deal_links l WHERE l.portal_id = i.portal_id AND l.invoice_id = i.id)
    ORDER BY i.id LIMIT ${limit + 1}`.execute(db);
  const page = rows.rows.slice(0, limit);
  const needsIndex = page.some((r) => r.reference !== null);
  const index = !needsIndex ? null
    : await cached(dealIndexCache, portalId, await mirrorVersion(db, 'hubspot_deals', portalId), () => loadDealIndex(db, portalId));
  const decisions = page.map((r) => (index === null ? null
    : matchInvoice({ dealId: r.deal_id, hubspotDealId: r.hubspot_deal_id, reference: r.reference }, index)));
  const candidateIds = [...new Set(decisions.flatMap((d) => (d && !d.matched && d.reason === 'ambiguous'
    ? d.ambiguities.flatMap((a) => a.candidates.slice(0, MAX_CANDIDATES)) : [])))];
  const details = new Map<string, DealCandidate>();
  if (candidateIds.length > 0) {
    const found = await db.selectFrom('hubspot_deals').select(['deal_id', 'name', 'reference', 'company_id'])
      .where('portal_id', '=', portalId).where('deal_id', 'in', candidateIds).execute();
    for (const d of found) details.set(d.deal_id, { dealId: d.deal_id, name: d.name, reference: d.reference, companyId: d.company_id });
  }
  const items = page.map((r, i): UnmatchedInvoice => {
    const decision = decisions[i];
    const ambiguous = decision && !decision.matched && decision.reason === 'ambiguous' ? decision.ambiguities : [];
    return {
      invoiceId: r.external_id, source: r.source, number: r.number, customerId: r.customer, customerName: r.customer_name,
      companyId: r.company_id, currency: r.currency, amount: formatMinor(r.total_minor, r.currency), issueDate: r.issue_date, dealId: r.deal_id,
      reference: r.reference, reason: ambiguous.length > 0 ? 'ambiguous' : 'none',
      ambiguities: ambiguous.map((a) => ({
        level: a.level, value: a.value, candidateCount: a.candidates.length,
        candidates: a.candidates.slice(0, MAX_CANDIDATES).map((id) => details.get(id) ?? { dealId: id, name: null, reference: null, companyId: null }),
      })),
    };
  });
  const last = page[page.length - 1];
  return { kind: 'invoices', items, next: rows.rows.length > limit && last ? String(last.id) : null };
};

export type UnmatchedOptions = UnmatchedQuery & { kind: 'customers' | 'invoices' };

/** The review list: customers without a company, or invoices without a deal; page on with `after: next`. */
export function listUnmatched(db: Executor, portalId: number, options: UnmatchedQuery & { kind: 'customers' }): Promise<UnmatchedPage<UnmatchedCustomer>>;
export function listUnmatched(db: Executor, portalId: number, options: UnmatchedQuery & { kind: 'invoices' }): Promise<UnmatchedPage<UnmatchedInvoice>>;
export function listUnmatched(db: Executor, portalId: number, options: UnmatchedOptions): Promise<UnmatchedPage<UnmatchedCustomer> | UnmatchedPage<UnmatchedInvoice>>;
export function listUnmatched(db: Executor, portalId: number, options: UnmatchedOptions): Promise<UnmatchedPage<UnmatchedCustomer> | UnmatchedPage<UnmatchedInvoice>> {
  return options.kind === 'customers' ? listUnmatchedCustomers(db, portalId, options) : listUnmatchedInvoices(db, portalId, options);
}

