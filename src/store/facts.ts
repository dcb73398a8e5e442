import { sql } from 'kysely';
import type { CustomerFact, InvoiceFact, IsoDate, Settlement, SettlementKind } from '../domain/types';
import type { Db } from './database';

// Dated facts in and out of the store. Writes are set-based upserts keyed on (portal, source, external id)
// that touch a row only when a value differs, so re-importing the same data writes nothing.

export type Executor = Db; // a Kysely instance or a transaction

export type UpsertCounts = { inserted: number; updated: number; unchanged: number };

const CHUNK = 5_000;

const chunks = <T>(items: readonly T[], size = CHUNK): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

const addCounts = (a: UpsertCounts, b: UpsertCounts): UpsertCounts => ({
  inserted: a.inserted + b.inserted, updated: a.updated + b.updated, unchanged: a.unchanged + b.unchanged,
});
export const ZERO_COUNTS: UpsertCounts = { inserted: 0, updated: 0, unchanged: 0 };

const countRows = (rows: readonly { inserted: boolean }[], total: number): UpsertCounts => {
  const inserted = rows.filter((row) => row.inserted).length;
  return { inserted, updated: rows.length - inserted, unchanged: total - rows.length };
};

export const ensurePortal = async (db: Executor, portalId: number, name: string | null = null): Promise<void> => {
  await db.insertInto('portals').values({ portal_id: portalId, name }).onConflict((oc) => oc.column('portal_id').doNothing()).execute();
};

let touches = 0;

/** How many touchPortal calls of this process have ended (any store, any portal); see card-cache.ts. */
export const portalTouches = (): number => touches;

/**
 * Marks the portal's data as changed: cached card answers of the portal are stale from now on. Every writer of
 * what cards show (facts, links, the HubSpot mirror, policies) calls it as the LAST statement of its
 * transaction: the new version becomes visible together with the data, and taking the portal's row last keeps
 * concurrent writers of one portal from deadlocking on it (each holds it only while committing).
 */
export const touchPortal = async (db: Executor, portalId: number): Promise<void> => {
  try {
    await sql`UPDATE portals SET data_version = data_version + 1 WHERE portal_id = ${portalId}`.execute(db);
  } finally {
    touches += 1;
  }
};

/** The portal's data version (0 for an unknown portal). */
export const portalDataVersion = async (db: Executor, portalId: number): Promise<number> => {
  const row = await db.selectFrom('portals').select('data_version').where('portal_id', '=', portalId).executeTakeFirst();
  return row ? Number(row.data_version) : 0;
};

/** Upserts customers; an unknown (null) attribute never erases a known one (files that lack the column). */
export const upsertCustomers = async (
  db: Executor, portalId: number, source: string, customers: readonly CustomerFact[],
): Promise<UpsertCounts> => {
  let counts = ZERO_COUNTS;
  for (const part of chunks(customers)) {
    const rows = part.map((c) => ({ external_id: c.id, name: c.name, domain: c.domain, industry: c.industry, country: c.country }));
    const result = await sql<{ inserted: boolean }>`
      INSERT INTO customers (portal_id, source, external_id, name, domain, industry, country)
      SELECT ${portalId}, ${source}, x.external_id, x.name, x.domain, x.industry, x.country
      FROM json_to_recordset(${JSON.stringify(rows)}::json)
        AS x(external_id text, name text, domain text, industry text, country text)
      ON CONFLICT (portal_id, source, external_id) DO UPDATE SET
        name = COALESCE(EXCLUDED.name, customers.name), domain = COALESCE(EXCLUDED.domain, customers.domain),
        industry = COALESCE(EXCLUDED.industry, customers.industry), country = COALESCE(EXCLUDED.country, customers.country),
        updated_at = now()
      WHERE (customers.name, customers.domain, customers.industry, customers.country)
        IS DISTINCT FROM (COALESCE(EXCLUDED.name, customers.name), COALESCE(EXCLUDED.domain, customers.domain),
          COALESCE(EXCLUDED.industry, customers.industry), COALESCE(EXCLUDED.country, customers.country))
      RETURNING (xmax = 0) AS inserted`.execute(db);
    counts = addCounts(counts, countRows(result.rows, part.length));
  }
  return counts;
};

/** Internal ids of the given external ids (one source). */
export const idsByExternalId = async (
  db: Executor, table: 'customers' | 'invoices' | 'payments', portalId: number, source: string, externalIds: readonly string[],
): Promise<Map<string, number>> => {
  const found = new Map<string, number>();
  for (const part of chunks([...new Set(externalIds)], 20_000)) {
    const result = await sql<{ id: number; external_id: string }>`
      SELECT t.id, t.external_id
      FROM json_array_elements_text(${JSON.stringify(part)}::json) AS wanted (external_id)
      JOIN ${sql.table(table)} t ON t.portal_id = ${portalId} AND t.source = ${source} AND t.external_id = wanted.external_id`.execute(db);
    for (const row of result.rows) found.set(row.external_id, row.id);
  }
  return found;
};

/** An invoice to store; `reference` (a PO or quote number that names a HubSpot deal) is optional. */
export type InvoiceRecord = Omit<InvoiceFact, 'settlements'> & { reference?: string | null };

/**
 * Invoices of the list that exist with settlements in another currency. Their settlements are amounts of
 * the old currency, so such a change is refused (by a trigger in the store; this finds them beforehand, so
 * an import can name the rows).
 */
export const currencyConflicts = async (
  db: Executor, portalId: number, source: string, invoices: readonly Pick<InvoiceRecord, 'id' | 'currency'>[],
): Promise<{ id: string; stored: string; given: string }[]> => {
  const conflicts: { id: string; stored: string; given: string }[] = [];
  for (const part of chunks(invoices, 20_000)) {
    const wanted = part.map((i) => ({ external_id: i.id, currency: i.currency }));
    const result = await sql<{ id: string; stored: string; given: string }>`
      SELECT w.external_id AS id, i.currency AS stored, w.currency AS given
      FROM json_to_recordset(${JSON.stringify(wanted)}::json) AS w(external_id text, currency text)
      JOIN invoices i ON i.portal_id = ${portalId} AND i.source = ${source} AND i.external_id = w.external_id
      WHERE i.currency <> w.currency AND EXISTS (SELECT 1 FROM payment_allocations a WHERE a.invoice_id = i.id)`.execute(db);
    conflicts.push(...result.rows);
  }
  return conflicts;
};

/** Invoice columns a source may not have; `keep` leaves the stored value of an existing invoice alone. */
export const OPTIONAL_INVOICE_COLUMNS = ['number', 'voided_date', 'disputed', 'sales_rep', 'product', 'deal_id', 'terms', 'reference'] as const;
export type OptionalInvoiceColumn = (typeof OPTIONAL_INVOICE_COLUMNS)[number];

const INVOICE_COLUMNS = ['customer_id', 'currency', 'total_minor', 'issue_date', 'due_date', ...OPTIONAL_INVOICE_COLUMNS] as const;

/**
 * Upserts invoices whose customers already exist (see upsertCustomers). Columns named in `keep` (those the
 * source does not have, such as a CSV without a sales_rep column) keep their stored values on existing
 * invoices; new invoices get null (or false) there. `reference` is kept too when no record has the key.
 */
export const upsertInvoices = async (
  db: Executor, portalId: number, source: string, invoices: readonly InvoiceRecord[],
  { keep = [] }: { keep?: readonly OptionalInvoiceColumn[] } = {},
): Promise<UpsertCounts> => {
  // An invoice with settlements cannot change currency: a trigger refuses it (see the migrations).
  // Column names below are constants of this module, never input. Records that carry no `reference` at all
  // (sources without one) leave stored references alone.
  const kept: readonly string[] = invoices.some((i) => i.reference !== undefined) ? keep : [...keep, 'reference'];
  const wanted = (column: (typeof INVOICE_COLUMNS)[number]): string =>
    kept.includes(column) ? `invoices.${column}` : `EXCLUDED.${column}`;
  const assignments = sql.raw(INVOICE_COLUMNS.map((c) => `${c} = ${wanted(c)}`).join(', '));
  const stored = sql.raw(INVOICE_COLUMNS.map((c) => `invoices.${c}`).join(', '));
  const given = sql.raw(INVOICE_COLUMNS.map(wanted).join(', '));
  const customerIds = await idsByExternalId(db, 'customers', portalId, source, invoices.map((i) => i.customerId));
  let counts = ZERO_COUNTS;
  for (const part of chunks(invoices)) {
    const rows = part.map((i) => {
      const customerId = customerIds.get(i.customerId);
      if (customerId === undefined) throw new Error(`Invoice ${i.id}: customer ${i.customerId} is not in the store`);
      return {
        external_id: i.id, customer_id: customerId, number: i.number, currency: i.currency, total_minor: i.totalMinor,
        issue_date: i.issueDate, due_date: i.dueDate, voided_date: i.voidedDate, disputed: i.disputed,
        sales_rep: i.salesRep, product: i.product, deal_id: i.dealId, terms: i.terms, reference: i.reference ?? null,
      };
    });
    const result = await sql<{ id: number; inserted: boolean }>`
      INSERT INTO invoices (portal_id, source, external_id, customer_id, number, currency, total_minor, issue_date,
        due_date, voided_date, disputed, sales_rep, product, deal_id, terms, reference)
      SELECT ${portalId}, ${source}, x.external_id, x.customer_id, x.number, x.currency, x.total_minor, x.issue_date,
        x.due_date, x.voided_date, x.disputed, x.sales_rep, x.product, x.deal_id, x.terms, x.reference
      FROM json_to_recordset(${JSON.stringify(rows)}::json) AS x(external_id text, customer_id bigint, number text,
        currency text, total_minor bigint, issue_date date, due_date date, voided_date date, disputed boolean,
        sales_rep text, product text, deal_id text, terms text, reference text)
      ON CONFLICT (portal_id, source, external_id) DO UPDATE SET ${assignments}, updated_at = now()
      WHERE (${stored}) IS DISTINCT FROM (${given})
      RETURNING id, (xmax = 0) AS inserted`.execute(db);
    // An invoice moved to another customer takes its settlements along.
    const updated = result.rows.filter((row) => !row.inserted).map((row) => row.id);
    if (updated.length > 0) {
      await sql`
        UPDATE payment_allocations a SET customer_id = i.customer_id
        FROM invoices i
        WHERE i.id = a.invoice_id AND a.customer_id <> i.customer_id
          AND i.id = ANY(ARRAY(SELECT value::bigint FROM json_array_elements_text(${JSON.stringify(updated)}::json)))`.execute(db);
    }
    counts = addCounts(counts, countRows(result.rows, part.length));
  }
  return counts;
};

/** A payment, credit note or write-off with its allocations to invoices (by invoice external id). */
export type PaymentRecord = {
  id: string;
  kind: SettlementKind;
  date: IsoDate;
  currency: string;
  amountMinor: number;
  allocations: readonly { invoiceId: string; amountMinor: number }[];
};

/** Deletes payments (and so their allocations) by external id; returns how many there were. */
export const deletePayments = async (db: Executor, portalId: number, source: string, externalIds: readonly string[]): Promise<number> => {
  let deleted = 0;
  for (const part of chunks([...new Set(externalIds)], 20_000)) {
    const result = await sql`
      DELETE FROM payments p
      USING json_array_elements_text(${JSON.stringify(part)}::json) AS gone (external_id)
      WHERE p.portal_id = ${portalId} AND p.source = ${source} AND p.external_id = gone.external_id`.execute(db);
    deleted += Number(result.numAffectedRows ?? 0);
  }
  return deleted;
};

/** The settlements carried by invoices as payment records, one allocation each. */
export const settlementsAsPayments = (invoices: readonly InvoiceFact[]): PaymentRecord[] =>
  invoices.flatMap((invoice) => invoice.settlements.map((s) => ({
    id: s.id, kind: s.kind, date: s.date, currency: invoice.currency, amountMinor: s.amountMinor,
    allocations: [{ invoiceId: invoice.id, amountMinor: s.amountMinor }],
  })));

/**
 * Upserts payments and replaces each payment's allocations with the given ones. Invoices must exist.
 * Counts are of payments; a payment whose allocations alone changed counts as updated.
 */
export const upsertPayments = async (
  db: Executor, portalId: number, source: string, payments: readonly PaymentRecord[],
): Promise<UpsertCounts> => {
  const invoiceIds = await idsByExternalId(db, 'invoices', portalId, source, payments.flatMap((p) => p.allocations.map((a) => a.invoiceId)));
  let counts = ZERO_COUNTS;
  for (const part of chunks(payments)) {
    const rows = part.map((p) => ({ external_id: p.id, kind: p.kind, payment_date: p.date, currency: p.currency, amount_minor: p.amountMinor }));
    const upserted = await sql<{ id: number; inserted: boolean; external_id: string }>`
      INSERT INTO payments (portal_id, source, external_id, kind, payment_date, currency, amount_minor)
      SELECT ${portalId}, ${source}, x.external_id, x.kind, x.payment_date, x.currency, x.amount_minor
      FROM json_to_recordset(${JSON.stringify(rows)}::json)
        AS x(external_id text, kind text, payment_date date, currency text, amount_minor bigint)
      ON CONFLICT (portal_id, source, external_id) DO UPDATE SET
        kind = EXCLUDED.kind, payment_date = EXCLUDED.payment_date, currency = EXCLUDED.currency,
        amount_minor = EXCLUDED.amount_minor, updated_at = now()
      WHERE (payments.kind, payments.payment_date, payments.currency, payments.amount_minor)
        IS DISTINCT FROM (EXCLUDED.kind, EXCLUDED.payment_date, EXCLUDED.currency, EXCLUDED.amount_minor)
      RETURNING id, (xmax = 0) AS inserted, external_id`.execute(db);
    // Rows the upsert left alone return nothing: only those need looking up.
    const paymentIds = new Map(upserted.rows.map((r) => [r.external_id, r.id] as const));
    const unseen = part.filter((p) => !paymentIds.has(p.id)).map((p) => p.id);
    for (const [external, id] of await idsByExternalId(db, 'payments', portalId, source, unseen)) paymentIds.set(external, id);
    const inserted = new Set(upserted.rows.filter((r) => r.inserted).map((r) => r.external_id));
    const allocations = part.flatMap((p) => p.allocations.map((a) => {
      const invoiceId = invoiceIds.get(a.invoiceId);
      if (invoiceId === undefined) throw new Error(`Payment ${p.id}: invoice ${a.invoiceId} is not in the store`);
      return { payment_id: paymentIds.get(p.id), invoice_id: invoiceId, payment_date: p.date, kind: p.kind, amount_minor: a.amountMinor };
    }));
    const allocationJson = JSON.stringify(allocations);
    // A new payment has no allocations to replace; an existing one drops those no longer given.
    const existing = part.filter((p) => !inserted.has(p.id)).map((p) => paymentIds.get(p.id));
    const removed = existing.length === 0 ? { rows: [] } : await sql<{ payment_id: number }>`
      DELETE FROM payment_allocations a
      WHERE a.payment_id IN (SELECT value::bigint FROM json_array_elements_text(${JSON.stringify(existing)}::json))
        AND (a.payment_id, a.invoice_id) NOT IN (
          SELECT n.payment_id, n.invoice_id FROM json_to_recordset(${allocationJson}::json) AS n(payment_id bigint, invoice_id bigint))
      RETURNING a.payment_id`.execute(db);
    const changedAllocations = await sql<{ payment_id: number }>`
      INSERT INTO payment_allocations (portal_id, payment_id, invoice_id, customer_id, payment_date, kind, amount_minor)
      SELECT ${portalId}, n.payment_id, n.invoice_id, i.customer_id, n.payment_date, n.kind, n.amount_minor
      FROM json_to_recordset(${allocationJson}::json)
        AS n(payment_id bigint, invoice_id bigint, payment_date date, kind text, amount_minor bigint)
      JOIN invoices i ON i.id = n.invoice_id
      ON CONFLICT (payment_id, invoice_id) DO UPDATE SET
        amount_minor = EXCLUDED.amount_minor, payment_date = EXCLUDED.payment_date, kind = EXCLUDED.kind
      WHERE (payment_allocations.amount_minor, payment_allocations.payment_date, payment_allocations.kind)
        IS DISTINCT FROM (EXCLUDED.amount_minor, EXCLUDED.payment_date, EXCLUDED.kind)
      RETURNING payment_id`.execute(db);
    const touched = new Set(upserted.rows.map((r) => r.external_id));
    const externalOf = new Map([...paymentIds].map(([external, id]) => [id, external]));
    for (const row of [...removed.rows, ...changedAllocations.rows]) {
      const external = externalOf.get(row.payment_id);
      if (external !== undefined) touched.add(external);
    }
    counts = addCounts(counts, { inserted: inserted.size, updated: touched.size - inserted.size, unchanged: part.length - touched.size });
  }
  return counts;
};

type InvoiceRow = {
  id: number; external_id: string; number: string | null; customer: string; currency: string; total_minor: number;
  issue_date: string; due_date: string; voided_date: string | null; disputed: boolean; sales_rep: string | null;
  product: string | null; deal_id: string | null; terms: string | null;
};
type SettlementRow = { invoice_id: number; external_id: string; payment_date: string; amount_minor: number; kind: SettlementKind };

export type FactsFilter = {
  /** Facts dated after this day are not loaded (they are invisible to a report as of it). */
  upTo: IsoDate;
  /**
   * Only customers with this external id. External ids are unique per source, not per portal: customers of
   * several sources (csv, demo, hubspot) may share one, and all of them are loaded.
   */
  customerId?: string;
  /** Only this customer (its id in the store): one customer of one source. */
  customerRowId?: number;
};

export type Facts = { invoices: InvoiceFact[]; customers: CustomerFact[] };

/** Invoices issued on or before `upTo`, each with its settlements dated on or before `upTo`. */
export const loadFacts = async (db: Executor, portalId: number, filter: FactsFilter): Promise<Facts> => {
  const conditions = [
    ...(filter.customerId !== undefined ? [sql`c.external_id = ${filter.customerId}`] : []),
    ...(filter.customerRowId !== undefined ? [sql`c.id = ${filter.customerRowId}`] : []),
  ];
  const customerWhere = conditions.length > 0 ? sql`AND ${sql.join(conditions, sql` AND `)}` : sql``;
  const customers = await sql<CustomerFact & { internal_id: number }>`
    SELECT c.id AS internal_id, c.external_id AS id, c.name, c.domain, c.industry, c.country
    FROM customers c WHERE c.portal_id = ${portalId} ${customerWhere} ORDER BY c.id`.execute(db);
  const invoices = await sql<InvoiceRow>`
    SELECT i.id, i.external_id, i.number, c.external_id AS customer, i.currency, i.total_minor, i.issue_date,
      i.due_date, i.voided_date, i.disputed, i.sales_rep, i.product, i.deal_id, i.terms
    FROM invoices i JOIN customers c ON c.id = i.customer_id
    WHERE i.portal_id = ${portalId} AND i.issue_date <= ${filter.upTo} ${customerWhere}
    ORDER BY i.customer_id, i.issue_date, i.id`.execute(db);
  const settlements = await sql<SettlementRow>`
    SELECT a.invoice_id, p.external_id, a.payment_date, a.amount_minor, a.kind
    FROM payment_allocations a
      JOIN payments p ON p.id = a.payment_id
      JOIN customers c ON c.id = a.customer_id
    WHERE a.portal_id = ${portalId} AND a.payment_date <= ${filter.upTo} ${customerWhere}
    ORDER BY a.invoice_id, a.payment_date, p.external_id`.execute(db);
  // Settlements of invoices issued after upTo find no invoice here and are dropped.
  const byInvoice = new Map<number, Settlement[]>();
  for (const s of settlements.rows) {
    const list = byInvoice.get(s.invoice_id) ?? [];
    list.push({ id: s.external_id, date: s.payment_date, amountMinor: s.amount_minor, kind: s.kind });
    byInvoice.set(s.invoice_id, list);
  }
  return {
    customers: customers.rows.map(({ id, name, domain, industry, country }) => ({ id, name, domain, industry, country })),
    invoices: invoices.rows.map((r) => ({
      id: r.external_id, number: r.number, customerId: r.customer, currency: r.currency, totalMinor: r.total_minor,
      issueDate: r.issue_date, dueDate: r.due_date, voidedDate: r.voided_date, disputed: r.disputed,
      salesRep: r.sales_rep, product: r.product, dealId: r.deal_id, terms: r.terms,
      settlements: byInvoice.get(r.id) ?? [],
    })),
  };
};

type PackedInvoice = [
  id: number, external_id: string, number: string | null, currency: string, total_minor: number, issue_date: string,
  due_date: string, voided_date: string | null, disputed: boolean, sales_rep: string | null, product: string | null,
  deal_id: string | null, terms: string | null,
];
type PackedSettlement = [invoice_id: number, external_id: string, payment_date: string, amount_minor: number, kind: SettlementKind];

/**
 * What `loadFacts` gives for one customer (its id in the store), in one statement: the customer's invoices and
 * settlements travel as two JSON arrays in one row rather than one row each, because a result's cost is mostly
 * per row and per field (on PGlite above all), and the filters are on the customer's own columns (indexed) rather
 * than through joins whose plan depends on statistics. Same facts, same order.
 */
export const loadCustomerFacts = async (db: Executor, portalId: number, customerRowId: number, upTo: IsoDate): Promise<Facts> => {
  const result = await sql<CustomerFact & { invoices: string | null; settlements: string | null }>`
    SELECT c.external_id AS id, c.name, c.domain, c.industry, c.country,
      (SELECT json_agg(json_build_array(i.id, i.external_id, i.number, i.currency, i.total_minor, i.issue_date, i.due_date,
          i.voided_date, i.disputed, i.sales_rep, i.product, i.deal_id, i.terms) ORDER BY i.issue_date, i.id)::text
        FROM invoices i
        WHERE i.portal_id = c.portal_id AND i.customer_id = c.id AND i.issue_date <= ${upTo}) AS invoices,
      (SELECT json_agg(json_build_array(a.invoice_id, p.external_id, a.payment_date, a.amount_minor, a.kind)
          ORDER BY a.invoice_id, a.payment_date, p.external_id)::text
        FROM payment_allocations a JOIN payments p ON p.id = a.payment_id
        WHERE a.portal_id = c.portal_id AND a.customer_id = c.id AND a.payment_date <= ${upTo}) AS settlements
    FROM customers c WHERE c.portal_id = ${portalId} AND c.id = ${customerRowId}`.execute(db);
  const row = result.rows[0];
  if (row === undefined) return { customers: [], invoices: [] };
  // Settlements of invoices issued after upTo find no invoice here and are dropped.
  const byInvoice = new Map<number, Settlement[]>();
  for (const [invoiceId, id, date, amountMinor, kind] of JSON.parse(row.settlements ?? '[]') as PackedSettlement[]) {
    const list = byInvoice.get(invoiceId);
    const settlement: Settlement = { id, date, amountMinor, kind };
    if (list) list.push(settlement);
    else byInvoice.set(invoiceId, [settlement]);
  }
  const customerId = row.id;
  return {
    customers: [{ id: customerId, name: row.name, domain: row.domain, industry: row.industry, country: row.country }],
    invoices: (JSON.parse(row.invoices ?? '[]') as PackedInvoice[]).map(
      ([id, externalId, number, currency, totalMinor, issueDate, dueDate, voidedDate, disputed, salesRep, product, dealId, terms]) => ({
        id: externalId, number, customerId, currency, totalMinor, issueDate, dueDate, voidedDate, disputed, salesRep, product, dealId, terms,
        settlements: byInvoice.get(id) ?? [],
      })),
  };
};

export const countFacts = async (db: Executor, portalId: number): Promise<{ customers: number; invoices: number; payments: number }> => {
  const result = await sql<{ customers: number; invoices: number; payments: number }>`
    SELECT (SELECT count(*) FROM customers WHERE portal_id = ${portalId})::int AS customers,
           (SELECT count(*) FROM invoices WHERE portal_id = ${portalId})::int AS invoices,
           (SELECT count(*) FROM payments WHERE portal_id = ${portalId})::int AS payments`.execute(db);
  return result.rows[0] ?? { customers: 0, invoices: 0, payments: 0 };
};

/** Currency of each of the given invoices (external ids) that exists in the store. */
export const invoiceCurrencies = async (
  db: Executor, portalId: number, source: string, externalIds: readonly string[],
): Promise<Map<string, string>> => {
  const found = new Map<string, string>();
  for (const part of chunks([...new Set(externalIds)], 20_000)) {
    const result = await sql<{ external_id: string; currency: string }>`
      SELECT i.external_id, i.currency
      FROM json_array_elements_text(${JSON.stringify(part)}::json) AS wanted (external_id)
      JOIN invoices i ON i.portal_id = ${portalId} AND i.source = ${source} AND i.external_id = wanted.external_id`.execute(db);
    for (const row of result.rows) found.set(row.external_id, row.currency);
  }
  return found;
};

// Separators of packed fact rows; external ids cannot contain control characters (a CHECK in the schema).
const INVOICE_SEP = '\u001e';
const FIELD_SEP = '\u001f';
const SETTLEMENT_SEP = '\u001d';
const SETTLEMENT_FIELD_SEP = '\u001c';

/** `customerId` is the customer's external id (what reports group by); `rowId` its id in the store. */
export type CustomerFacts = { customerId: string; rowId: number; invoices: InvoiceFact[] };

// Hand-rolled unpacking, run once per fact: indexOf instead of split, integers read from character codes,
// and dates, currencies and kinds interned (a portfolio has a few thousand distinct dates, not millions), so
// that little besides the facts themselves is allocated.
type Interned = { dates: Map<number, string>; words: Map<number, string> };

/** Integer written in packed[from, to), read without allocating. */
const intAt = (packed: string, from: number, to: number): number => {
  let negative = false;
  let i = from;
  if (packed.charCodeAt(i) === 45 /* - */) {
    negative = true;
    i += 1;
  }
  let n = 0;
  for (; i < to; i++) n = n * 10 + (packed.charCodeAt(i) - 48);
  return negative ? -n : n;
};

/** An ISO date at packed[from, from + 10), the same string object for the same day. */
const dateAt = (packed: string, from: number, interned: Interned): string => {
  const key = intAt(packed, from, from + 4) * 10_000 + intAt(packed, from + 5, from + 7) * 100 + intAt(packed, from + 8, from + 10);
  let date = interned.dates.get(key);
  if (date === undefined) {
    date = packed.slice(from, from + 10);
    interned.dates.set(key, date);
  }
  return date;
};

/** Short text (currency code, settlement kind) at packed[from, to), interned by its characters. */
const wordAt = (packed: string, from: number, to: number, interned: Interned): string => {
  let key = to - from;
  for (let i = from; i < to; i++) key = key * 31 + packed.charCodeAt(i);
  let word = interned.words.get(key);
  if (word === undefined || word.length !== to - from || !packed.startsWith(word, from)) {
    word = packed.slice(from, to);
    interned.words.set(key, word);
  }
  return word;
};

const unpackSettlements = (packed: string | null, interned: Interned): Map<number, Settlement[]> => {
  const byInvoice = new Map<number, Settlement[]>();
  if (!packed) return byInvoice;
  let at = 0;
  while (at <= packed.length) {
    let end = packed.indexOf(SETTLEMENT_SEP, at);
    if (end < 0) end = packed.length;
    const f1 = packed.indexOf(SETTLEMENT_FIELD_SEP, at);
    const f2 = packed.indexOf(SETTLEMENT_FIELD_SEP, f1 + 1);
    const f3 = packed.indexOf(SETTLEMENT_FIELD_SEP, f2 + 1);
    const invoiceId = intAt(packed, at, f1);
    const settlement: Settlement = {
      id: '',
      date: dateAt(packed, f1 + 1, interned),
      amountMinor: intAt(packed, f2 + 1, f3),
      kind: wordAt(packed, f3 + 1, end, interned) as SettlementKind,
    };
    const list = byInvoice.get(invoiceId);
    if (list) list.push(settlement);
    else byInvoice.set(invoiceId, [settlement]);
    at = end + 1;
  }
  return byInvoice;
};

const NO_SETTLEMENTS: readonly Settlement[] = Object.freeze([]);

const unpackInvoices = (
  customerId: string, packed: string, settlements: Map<number, Settlement[]>, interned: Interned,
): InvoiceFact[] => {
  const invoices: InvoiceFact[] = [];
  let at = 0;
  while (at <= packed.length) {
    let end = packed.indexOf(INVOICE_SEP, at);
    if (end < 0) end = packed.length;
    const f1 = packed.indexOf(FIELD_SEP, at);
    const f2 = packed.indexOf(FIELD_SEP, f1 + 1);
    const f3 = packed.indexOf(FIELD_SEP, f2 + 1);
    const f4 = packed.indexOf(FIELD_SEP, f3 + 1);
    const f5 = packed.indexOf(FIELD_SEP, f4 + 1);
    const f6 = packed.indexOf(FIELD_SEP, f5 + 1);
    const f7 = packed.indexOf(FIELD_SEP, f6 + 1);
    invoices.push({
      id: packed.slice(f1 + 1, f2), number: null, customerId, currency: wordAt(packed, f2 + 1, f3, interned),
      totalMinor: intAt(packed, f3 + 1, f4), issueDate: dateAt(packed, f4 + 1, interned), dueDate: dateAt(packed, f5 + 1, interned),
      voidedDate: f7 === f6 + 1 ? null : dateAt(packed, f6 + 1, interned), disputed: packed.charCodeAt(f7 + 1) === 116 /* t */,
      salesRep: null, product: null, dealId: null, terms: null,
      settlements: settlements.get(intAt(packed, at, f1)) ?? NO_SETTLEMENTS,
    });
    at = end + 1;
  }
  return invoices;
};

/**
 * Streams, customer by customer, the facts that metrics and risk read (no dimensions such as rep or
 * product), as of `upTo`. Each customer's invoices travel as one packed text row and its settlements as
 * another: the cost of a result set is mostly per row and per field, so two rows per customer instead of
 * one per invoice and one per settlement make a full recompute several times faster, on PGlite above all.
 * Invoices and settlements come in no particular order (the domain does not depend on it), and settlement
 * ids are left empty: metrics and risk never read them. Customers without an invoice issued by `upTo` are
 * left out.
 */
export async function* streamCustomerFacts(
  db: Executor, portalId: number, upTo: IsoDate, customersPerBatch = 5_000,
): AsyncGenerator<CustomerFacts[]> {
  const fetchBatch = async (after: number): Promise<{ last: number | undefined; facts: CustomerFacts[] }> => {
    const batch = await sql<{ id: number; external_id: string }>`
      SELECT id, external_id FROM customers WHERE portal_id = ${portalId} AND id > ${after}
      ORDER BY id LIMIT ${customersPerBatch}`.execute(db);
    const last = batch.rows[batch.rows.length - 1]?.id;
    if (last === undefined) return { last, facts: [] };
    // Two queries, side by side where the store has several connections (PostgreSQL).
    const [invoices, settlements] = await Promise.all([sql<{ customer_id: number; packed: string }>`
      SELECT i.customer_id,
        string_agg(concat_ws(chr(31), i.id, i.external_id, i.currency, i.total_minor, i.issue_date,
                             i.due_date, coalesce(i.voided_date::text, ''), i.disputed), chr(30)) AS packed
      FROM invoices i
      WHERE i.portal_id = ${portalId} AND i.customer_id > ${after} AND i.customer_id <= ${last} AND i.issue_date <= ${upTo}
      GROUP BY i.customer_id`.execute(db), sql<{ customer_id: number; packed: string }>`
      SELECT a.customer_id,
        string_agg(concat_ws(chr(28), a.invoice_id, a.payment_date, a.amount_minor, a.kind), chr(29)) AS packed
      FROM payment_allocations a
      WHERE a.portal_id = ${portalId} AND a.customer_id > ${after} AND a.customer_id <= ${last} AND a.payment_date <= ${upTo}
      GROUP BY a.customer_id`.execute(db)]);
    const packedInvoices = new Map(invoices.rows.map((row) => [row.customer_id, row.packed] as const));
    const packedSettlements = new Map(settlements.rows.map((row) => [row.customer_id, row.packed] as const));
    const facts: CustomerFacts[] = [];
    const interned: Interned = { dates: new Map(), words: new Map() };
    for (const customer of batch.rows) {
      const packed = packedInvoices.get(customer.id);
      if (packed === undefined) continue; // no invoice issued by upTo
      facts.push({
        customerId: customer.external_id,
        rowId: customer.id,
        invoices: unpackInvoices(customer.external_id, packed, unpackSettlements(packedSettlements.get(customer.id) ?? null, interned), interned),
      });
    }
    return { last, facts };
  };
  // The next batch is read while the caller works on this one (on PostgreSQL the two overlap).
  let pending = fetchBatch(0);
  try {
    for (;;) {
      const { last, facts } = await pending;
      if (last === undefined) return;
      pending = fetchBatch(last);
      yield facts;
    }
  } finally {
    pending.catch(() => undefined);
  }
}
