import { sql } from 'kysely';
import type { ChangePage, InvoiceAttribute, SourceCustomer, SourceInvoice, SourceName, SourcePayment } from '../connectors/types';
import type { CustomerFact } from '../domain/types';
import {
  deletePayments, idsByExternalId, upsertCustomers, upsertInvoices, upsertPayments,
  type Executor, type InvoiceRecord, type OptionalInvoiceColumn, type PaymentRecord,
} from '../store/facts';

// One page of a source's changes written into the store, inside the caller's transaction. Every write is an
// upsert or delete keyed by (portal, source, external id), so applying a page twice leaves the store as
// applying it once: what makes a sync that was killed and restarted from its last cursor exact.

export type PageCounts = {
  customers: number;
  /** Of `customers`: new to the store, and stored ones whose name, domain, industry or country changed. */
  customersInserted: number;
  customersUpdated: number;
  /** Customers named by an invoice before the source sent them: created with their id only, filled in later. */
  placeholderCustomers: number;
  invoices: number;
  /** Of `invoices`: new to the store, and stored ones whose facts (or HubSpot deal) changed; the rest were as stored. */
  invoicesInserted: number;
  invoicesUpdated: number;
  /** Invoices deleted from the store (draft or deleted in the source), with their allocations and lines. */
  invoicesRemoved: number;
  payments: number;
  /** Payments deleted from the store (removed in the source). */
  paymentsRemoved: number;
  /** Allocations to invoices the store does not have (not receivables, or drafts), left out. */
  skippedAllocations: number;
};

export const NO_COUNTS: PageCounts = {
  customers: 0, customersInserted: 0, customersUpdated: 0, placeholderCustomers: 0, invoices: 0, invoicesInserted: 0, invoicesUpdated: 0,
  invoicesRemoved: 0, payments: 0, paymentsRemoved: 0, skippedAllocations: 0,
};

export const addPageCounts = (a: PageCounts, b: PageCounts): PageCounts => ({
  customers: a.customers + b.customers,
  customersInserted: a.customersInserted + b.customersInserted,
  customersUpdated: a.customersUpdated + b.customersUpdated,
  placeholderCustomers: a.placeholderCustomers + b.placeholderCustomers,
  invoices: a.invoices + b.invoices,
  invoicesInserted: a.invoicesInserted + b.invoicesInserted,
  invoicesUpdated: a.invoicesUpdated + b.invoicesUpdated,
  invoicesRemoved: a.invoicesRemoved + b.invoicesRemoved,
  payments: a.payments + b.payments,
  paymentsRemoved: a.paymentsRemoved + b.paymentsRemoved,
  skippedAllocations: a.skippedAllocations + b.skippedAllocations,
});

/** The last version of each object of a page (an upsert statement may not touch one row twice). */
const lastById = <T extends { id: string }>(items: readonly T[]): T[] => [...new Map(items.map((item) => [item.id, item] as const)).values()];

const timestamp = (value: string | null): string | null => (value === null ? null : new Date(value).toISOString());

// The store records of canonical objects: one mapping for every applier (this one, and the CSV import's).

export const customerFact = (c: SourceCustomer): CustomerFact => ({
  id: c.id, name: c.name, domain: c.domain, industry: c.industry ?? null, country: c.country,
});

/** The product an invoice is reported under: its largest line's product or description. */
const mainProduct = (invoice: SourceInvoice): string | null => {
  let best: SourceInvoice['lines'][number] | null = null;
  for (const line of invoice.lines) if (best === null || line.amountMinor > best.amountMinor) best = line;
  return best === null ? null : (best.description ?? best.productId);
};

export const invoiceRecord = (i: SourceInvoice): InvoiceRecord => ({
  id: i.id, number: i.number, customerId: i.customerId, currency: i.currency, totalMinor: i.totalMinor,
  issueDate: i.issueDate, dueDate: i.dueDate, voidedDate: i.voidedDate, disputed: i.disputed,
  salesRep: i.salesRep ?? null, product: mainProduct(i), dealId: i.dealId ?? null, terms: i.terms, reference: i.reference,
});

export const paymentRecord = (p: SourcePayment): PaymentRecord => ({
  id: p.id, kind: p.kind, date: p.date, currency: p.currency, amountMinor: p.amountMinor, allocations: p.allocations,
});

const COLUMN_OF: Readonly<Record<InvoiceAttribute, OptionalInvoiceColumn>> = {
  number: 'number', voidedDate: 'voided_date', disputed: 'disputed', salesRep: 'sales_rep', product: 'product', dealId: 'deal_id',
  terms: 'terms', reference: 'reference',
};

/**
 * The invoice columns stored values are kept in: those the page says it does not carry, and the sales rep
 * and deal id when no invoice of the page has the field at all (sources without them).
 */
export const keptColumns = (page: Pick<ChangePage, 'keep'>, invoices: readonly SourceInvoice[]): OptionalInvoiceColumn[] => {
  const keep = new Set((page.keep ?? []).map((attribute) => COLUMN_OF[attribute]));
  if (!invoices.some((i) => i.salesRep !== undefined)) keep.add('sales_rep');
  if (!invoices.some((i) => i.dealId !== undefined)) keep.add('deal_id');
  return [...keep];
};

/** Columns of customers the shared upsert does not write: the source owns them on its rows. */
const writeCustomerAttributes = async (db: Executor, portalId: number, source: string, customers: readonly SourceCustomer[]): Promise<void> => {
  const rows = customers.map((c) => ({
    external_id: c.id, email: c.email, archived: c.archived, credit_limit_minor: c.creditLimitMinor,
    credit_limit_currency: c.creditLimitMinor === null ? null : c.creditLimitCurrency, source_updated_at: timestamp(c.updatedAt),
  }));
  await sql`
    UPDATE customers c SET email = x.email, archived = x.archived, credit_limit_minor = x.credit_limit_minor,
      credit_limit_currency = x.credit_limit_currency, source_updated_at = x.source_updated_at, updated_at = now()
    FROM json_to_recordset(${JSON.stringify(rows)}::json) AS x(external_id text, email text, archived boolean,
      credit_limit_minor bigint, credit_limit_currency text, source_updated_at timestamptz)
    WHERE c.portal_id = ${portalId} AND c.source = ${source} AND c.external_id = x.external_id
      AND (c.email, c.archived, c.credit_limit_minor, c.credit_limit_currency, c.source_updated_at)
        IS DISTINCT FROM (x.email, x.archived, x.credit_limit_minor, x.credit_limit_currency, x.source_updated_at)`.execute(db);
};

const removeInvoices = async (db: Executor, portalId: number, source: string, externalIds: readonly string[]): Promise<number> => {
  if (externalIds.length === 0) return 0;
  const result = await sql`
    DELETE FROM invoices i
    USING json_array_elements_text(${JSON.stringify(externalIds)}::json) AS gone (external_id)
    WHERE i.portal_id = ${portalId} AND i.source = ${source} AND i.external_id = gone.external_id`.execute(db);
  return Number(result.numAffectedRows ?? 0);
};

/**
 * The source's own status and change time, and the lines (replaced as a whole, unless the page does not carry
 * products: then the stored lines stay), of stored invoices.
 */
const writeInvoiceDetails = async (
  db: Executor, portalId: number, source: string, invoices: readonly SourceInvoice[], withLines: boolean,
): Promise<void> => {
  const details = invoices.map((i) => ({ external_id: i.id, source_status: i.sourceStatus, source_updated_at: timestamp(i.updatedAt) }));
  await sql`
    UPDATE invoices i SET source_status = x.source_status, source_updated_at = x.source_updated_at, updated_at = now()
    FROM json_to_recordset(${JSON.stringify(details)}::json) AS x(external_id text, source_status text, source_updated_at timestamptz)
    WHERE i.portal_id = ${portalId} AND i.source = ${source} AND i.external_id = x.external_id
      AND (i.source_status, i.source_updated_at) IS DISTINCT FROM (x.source_status, x.source_updated_at)`.execute(db);
  if (!withLines) return;
  const ids = await idsByExternalId(db, 'invoices', portalId, source, invoices.map((i) => i.id));
  const invoiceIds = [...ids.values()];
  await sql`
    DELETE FROM invoice_lines
    WHERE invoice_id IN (SELECT value::bigint FROM json_array_elements_text(${JSON.stringify(invoiceIds)}::json))`.execute(db);
  const lines = invoices.flatMap((invoice) => invoice.lines.map((line, index) => ({
    invoice_id: ids.get(invoice.id), line_no: index + 1, product_id: line.productId, description: line.description,
    quantity: line.quantity, amount_minor: line.amountMinor,
  })));
  for (let at = 0; at < lines.length; at += 5_000) {
    await sql`
      INSERT INTO invoice_lines (portal_id, invoice_id, line_no, product_id, description, quantity, amount_minor)
      SELECT ${portalId}, x.invoice_id, x.line_no, x.product_id, x.description, x.quantity, x.amount_minor
      FROM json_to_recordset(${JSON.stringify(lines.slice(at, at + 5_000))}::json)
        AS x(invoice_id bigint, line_no integer, product_id text, description text, quantity numeric, amount_minor bigint)`.execute(db);
  }
};

/** Payments with only the allocations to invoices the store has, one per invoice; and how many were left out. */
const resolvablePayments = async (
  db: Executor, portalId: number, source: string, payments: readonly SourcePayment[],
): Promise<{ records: PaymentRecord[]; skipped: number }> => {
  const known = await idsByExternalId(db, 'invoices', portalId, source, payments.flatMap((p) => p.allocations.map((a) => a.invoiceId)));
  let skipped = 0;
  const records = payments.map((p) => {
    const byInvoice = new Map<string, number>();
    for (const a of p.allocations) {
      if (!known.has(a.invoiceId)) {
        skipped += 1;
        continue;
      }
      byInvoice.set(a.invoiceId, (byInvoice.get(a.invoiceId) ?? 0) + a.amountMinor);
    }
    return {
      id: p.id, kind: p.kind, date: p.date, currency: p.currency, amountMinor: p.amountMinor,
      allocations: [...byInvoice].map(([invoiceId, amountMinor]) => ({ invoiceId, amountMinor })),
    };
  });
  return { records, skipped };
};

/**
 * The void dates invoices keep: a void is dated once, so an invoice stored as void keeps its stored date when
 * the source says void again (a voided invoice edited later, or a date the connector derives from when it
 * saw the void). An invoice the source no longer calls void gets none.
 */
const keepVoidDates = async (db: Executor, portalId: number, source: string, invoices: SourceInvoice[]): Promise<SourceInvoice[]> => {
  const voided = invoices.filter((i) => i.voidedDate !== null).map((i) => i.id);
  if (voided.length === 0) return invoices;
  const result = await sql<{ external_id: string; voided_date: string }>`
    SELECT i.external_id, i.voided_date::text AS voided_date
    FROM json_array_elements_text(${JSON.stringify(voided)}::json) AS v (external_id)
    JOIN invoices i ON i.portal_id = ${portalId} AND i.source = ${source} AND i.external_id = v.external_id
    WHERE i.voided_date IS NOT NULL`.execute(db);
  if (result.rows.length === 0) return invoices;
  const stored = new Map(result.rows.map((r) => [r.external_id, r.voided_date] as const));
  return invoices.map((i) => {
    const date = i.voidedDate === null ? undefined : stored.get(i.id);
    return date === undefined || date === i.voidedDate ? i : { ...i, voidedDate: date };
  });
};

/**
 * HubSpot's deal association of the invoices that carry one. Answers how many invoices only this changed
 * (rows the upsert wrote in this transaction carry its time, now(), and are counted already).
 */
const writeHubSpotDeals = async (db: Executor, portalId: number, source: string, invoices: readonly SourceInvoice[]): Promise<number> => {
  const rows = invoices.filter((i) => i.hubspotDealId !== undefined).map((i) => ({ external_id: i.id, deal_id: i.hubspotDealId }));
  if (rows.length === 0) return 0;
  const result = await sql<{ touched: boolean }>`
    UPDATE invoices i SET hubspot_deal_id = x.deal_id
    FROM json_to_recordset(${JSON.stringify(rows)}::json) AS x(external_id text, deal_id text)
    WHERE i.portal_id = ${portalId} AND i.source = ${source} AND i.external_id = x.external_id
      AND i.hubspot_deal_id IS DISTINCT FROM x.deal_id
    RETURNING (i.updated_at = now()) AS touched`.execute(db);
  return result.rows.filter((r) => !r.touched).length;
};

/**
 * Writes one page: customers; removed payments (first, so that an invoice whose payments are all removed
 * may change currency); invoices (draft and deleted ones removed with their allocations and lines, the rest
 * upserted with their lines, keeping what the page says it does not carry and the first void date); then
 * the payments that stay, with their allocations. Run it inside the transaction that also stores the
 * page's cursor.
 */
export const applyPage = async (db: Executor, portalId: number, source: SourceName, page: ChangePage): Promise<PageCounts> => {
  const customers = lastById(page.customers);
  const invoices = lastById(page.invoices);
  const payments = lastById(page.payments);
  const counts = { ...NO_COUNTS };

  if (customers.length > 0) {
    const upserted = await upsertCustomers(db, portalId, source, customers.map(customerFact));
    await writeCustomerAttributes(db, portalId, source, customers);
    counts.customers = customers.length;
    counts.customersInserted = upserted.inserted;
    counts.customersUpdated = upserted.updated;
  }

  const removed = payments.filter((p) => p.removed);
  if (removed.length > 0) counts.paymentsRemoved = await deletePayments(db, portalId, source, removed.map((p) => p.id));

  const isGone = (i: SourceInvoice): boolean => i.status === 'draft' || i.status === 'deleted';
  let kept = invoices.filter((i) => !isGone(i));
  counts.invoicesRemoved = await removeInvoices(db, portalId, source, invoices.filter(isGone).map((i) => i.id));
  if (kept.length > 0) {
    const named = [...new Set(kept.map((i) => i.customerId))];
    const existing = await idsByExternalId(db, 'customers', portalId, source, named);
    const missing = named.filter((id) => !existing.has(id));
    if (missing.length > 0) {
      await upsertCustomers(db, portalId, source, missing.map((id) => ({ id, name: null, domain: null, industry: null, country: null })));
      counts.placeholderCustomers = missing.length;
    }
    const keep = keptColumns(page, kept);
    if (!keep.includes('voided_date')) kept = await keepVoidDates(db, portalId, source, kept);
    const upserted = await upsertInvoices(db, portalId, source, kept.map(invoiceRecord), { keep });
    const dealsOnly = await writeHubSpotDeals(db, portalId, source, kept);
    await writeInvoiceDetails(db, portalId, source, kept, !keep.includes('product'));
    counts.invoices = kept.length;
    counts.invoicesInserted = upserted.inserted;
    counts.invoicesUpdated = upserted.updated + dealsOnly;
  }

  const stay = payments.filter((p) => !p.removed);
  if (stay.length > 0) {
    const { records, skipped } = await resolvablePayments(db, portalId, source, stay);
    await upsertPayments(db, portalId, source, records);
    counts.payments = records.length;
    counts.skippedAllocations = skipped;
  }
  return counts;
};
