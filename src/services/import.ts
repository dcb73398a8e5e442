import {
  invoiceIdsInPaymentsCsv, parseInvoicesCsv, parsePaymentsCsv, rejectsCsv, type CsvImportOptions, type CsvReadResult, type RowError,
} from '../import/csv-parse';
import type { Db } from '../store/database';
import {
  currencyConflicts, deletePayments, ensurePortal, OPTIONAL_INVOICE_COLUMNS, invoiceCurrencies, settlementsAsPayments, upsertCustomers, upsertInvoices, upsertPayments, ZERO_COUNTS,
  type OptionalInvoiceColumn, type PaymentRecord, type UpsertCounts, touchPortal } from '../store/facts';

export const CSV_SOURCE = 'csv';

export type ImportOptions = CsvImportOptions & {
  /** Import the valid rows and hand back the rejected ones, instead of importing nothing. */
  skipInvalid?: boolean;
  onProgress?: (done: number, total: number) => void;
};

export type ImportResult = {
  file: 'invoices' | 'payments';
  rows: number;
  imported: number;
  rejected: number;
  customers: UpsertCounts;
  invoices: UpsertCounts;
  payments: UpsertCounts;
  errors: RowError[];
  omittedErrors: number;
  /** The rejected rows with an error column, when some were skipped (`skipInvalid`). */
  rejectsCsv: string | null;
};

/** The file was not imported at all: every error is listed (up to the cap), nothing was written. */
export class ImportRejected extends Error {
  constructor(readonly errors: readonly RowError[], readonly omittedErrors: number, readonly rows: number) {
    const total = errors.length + omittedErrors;
    super(`${total} error${total === 1 ? '' : 's'} in ${rows} row${rows === 1 ? '' : 's'}; nothing was imported`);
    this.name = 'ImportRejected';
  }
}

const PROGRESS_CHUNK = 5_000;

const checkParsed = (parsed: CsvReadResult, skipInvalid: boolean): void => {
  const failed = parsed.errors.length + parsed.omittedErrors > 0;
  if (parsed.fatal || (failed && !skipInvalid)) throw new ImportRejected(parsed.errors, parsed.omittedErrors, parsed.rows);
};

const inChunks = async <T>(items: readonly T[], each: (part: T[]) => Promise<UpsertCounts>, progress: (n: number) => void): Promise<UpsertCounts> => {
  let counts = ZERO_COUNTS;
  for (let i = 0; i < items.length; i += PROGRESS_CHUNK) {
    const c = await each(items.slice(i, i + PROGRESS_CHUNK));
    counts = { inserted: counts.inserted + c.inserted, updated: counts.updated + c.updated, unchanged: counts.unchanged + c.unchanged };
    progress(Math.min(items.length, i + PROGRESS_CHUNK));
  }
  return counts;
};

/**
 * Imports an invoices CSV in one transaction: customers, invoices and (one-file variant) the payments that
 * `paid_date` implies. Re-importing the same file changes nothing.
 */
export const importInvoicesCsv = async (db: Db, portalId: number, text: string, options: ImportOptions = {}): Promise<ImportResult> => {
  const parsed = parseInvoicesCsv(text, options);
  checkParsed(parsed, options.skipInvalid ?? false);
  // An invoice already paid in one currency cannot come back in another: the whole file is refused.
  const conflicts = await currencyConflicts(db, portalId, CSV_SOURCE, parsed.invoices);
  if (conflicts.length > 0) {
    const rowOf = new Map(parsed.invoices.map((i) => [i.id, i.row] as const));
    const column = parsed.columns.currency ?? 'currency';
    throw new ImportRejected(conflicts.map((c) => {
      const row = rowOf.get(c.id) ?? 0;
      return { row, column, value: c.given, message: `row ${row}, ${column}: "${c.given}" is not the currency of invoice ${c.id} (${c.stored}), which has payments` };
    }), 0, parsed.rows);
  }
  const payments = settlementsAsPayments(parsed.invoices);
  // A column the file lacks leaves stored values alone; an empty cell in a column it has clears the value.
  const fieldOf: Record<OptionalInvoiceColumn, string> = {
    number: 'invoice_number', voided_date: 'voided_date', disputed: 'disputed', sales_rep: 'sales_rep',
    product: 'product', deal_id: 'deal_id', terms: 'terms', reference: 'reference',
  };
  const keep = OPTIONAL_INVOICE_COLUMNS.filter((column) => parsed.columns[fieldOf[column]] === undefined);
  // With a paid_date column, an invoice whose cell is empty is not (or no longer) paid in full.
  const unpaid = parsed.columns.paid_date === undefined ? [] : parsed.invoices.filter((i) => i.settlements.length === 0).map((i) => `${i.id}:paid`);
  const total = parsed.invoices.length + payments.length;
  const progress = (n: number): void => options.onProgress?.(n, total);
  const counts = await db.transaction().execute(async (trx) => {
    await ensurePortal(trx, portalId);
    const customers = await upsertCustomers(trx, portalId, CSV_SOURCE, parsed.customers);
    const invoices = await inChunks(parsed.invoices, (part) => upsertInvoices(trx, portalId, CSV_SOURCE, part, { keep }), progress);
    const cleared = await deletePayments(trx, portalId, CSV_SOURCE, unpaid);
    const paid = await inChunks(payments, (part) => upsertPayments(trx, portalId, CSV_SOURCE, part), (n) => progress(parsed.invoices.length + n));
    await touchPortal(trx, portalId);
    return { customers, invoices, payments: { ...paid, updated: paid.updated + cleared } };
  });
  return {
    file: 'invoices', rows: parsed.rows, imported: parsed.invoices.length, rejected: parsed.rejected.length, ...counts,
    errors: parsed.errors, omittedErrors: parsed.omittedErrors, rejectsCsv: parsed.rejected.length > 0 ? rejectsCsv(parsed) : null,
  };
};

/**
 * Imports a payments CSV (payments, credit notes, write-offs) in one transaction. Every row must name an
 * invoice already in the store, in the same currency. A payment id on several rows settles several invoices.
 */
export const importPaymentsCsv = async (db: Db, portalId: number, text: string, options: ImportOptions = {}): Promise<ImportResult> => {
  // First pass: which invoices the file names, so their currencies can be checked row by row.
  const named = invoiceIdsInPaymentsCsv(text, options.map ? { map: options.map } : {});
  const currencies = await invoiceCurrencies(db, portalId, CSV_SOURCE, [...named]);
  const parsed = parsePaymentsCsv(text, { ...options, invoiceCurrency: (id) => currencies.get(id), requireKnownInvoice: true });
  checkParsed(parsed, options.skipInvalid ?? false);
  const byId = new Map<string, PaymentRecord>();
  for (const p of parsed.payments) {
    const currency = currencies.get(p.invoiceId);
    if (currency === undefined || p.currency === null || p.amountMinor === null) {
      throw new Error(`row ${p.row}: payment passed validation without a known invoice currency`);
    }
    const existing = byId.get(p.id);
    const allocation = { invoiceId: p.invoiceId, amountMinor: p.amountMinor };
    // The parser has checked that the rows of one payment agree on date, kind and currency.
    if (existing) byId.set(p.id, { ...existing, amountMinor: existing.amountMinor + p.amountMinor, allocations: [...existing.allocations, allocation] });
    else byId.set(p.id, { id: p.id, kind: p.kind, date: p.date, currency, amountMinor: p.amountMinor, allocations: [allocation] });
  }
  const records = [...byId.values()];
  const counts = await db.transaction().execute(async (trx) => {
    await ensurePortal(trx, portalId);
    const upserted = await inChunks(records, (part) => upsertPayments(trx, portalId, CSV_SOURCE, part), (n) => options.onProgress?.(n, records.length));
    await touchPortal(trx, portalId);
    return upserted;
  });
  return {
    file: 'payments', rows: parsed.rows, imported: parsed.payments.length, rejected: parsed.rejected.length,
    customers: ZERO_COUNTS, invoices: ZERO_COUNTS, payments: counts,
    errors: parsed.errors, omittedErrors: parsed.omittedErrors, rejectsCsv: parsed.rejected.length > 0 ? rejectsCsv(parsed) : null,
  };
};
