import { createCsvConnector, CSV_SOURCE } from '../connectors/csv';
import {
  invoiceIdsInPaymentsCsv, parseInvoicesCsv, parsePaymentsCsv, rejectsCsv, type CsvImportOptions, type CsvReadResult, type RowError,
} from '../import/csv-parse';
import type { Db } from '../store/database';
import {
  currencyConflicts, deletePayments, ensurePortal, invoiceCurrencies, upsertCustomers, upsertInvoices, upsertPayments, ZERO_COUNTS,
  type UpsertCounts, touchPortal } from '../store/facts';
import { customerFact, invoiceRecord, keptColumns, paymentRecord } from '../sync/apply';

// A CSV file is read by the CSV connector (src/connectors/csv/) into one canonical page, and that page is
// written here in ONE transaction, with the import's own rules: all or nothing (or --skip-invalid), a
// currency change of a paid invoice refused with its row, progress by rows, new/updated/unchanged counts,
// and the file's void dates as written (the sync engine keeps a first void date instead). See the README's
// design notes ("Sources").

export { CSV_SOURCE };

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
  const page = await createCsvConnector({ kind: 'invoices', parsed }).pull(null);
  // A column the file lacks leaves stored values alone; an empty cell in a column it has clears the value.
  const keep = keptColumns(page, page.invoices);
  const invoices = page.invoices.map(invoiceRecord);
  const payments = page.payments.filter((p) => !p.removed).map(paymentRecord);
  // With a paid_date column, an invoice whose cell is empty is not (or no longer) paid in full.
  const unpaid = page.payments.filter((p) => p.removed).map((p) => p.id);
  const total = invoices.length + payments.length;
  const progress = (n: number): void => options.onProgress?.(n, total);
  const counts = await db.transaction().execute(async (trx) => {
    await ensurePortal(trx, portalId);
    const customers = await upsertCustomers(trx, portalId, CSV_SOURCE, page.customers.map(customerFact));
    const upserted = await inChunks(invoices, (part) => upsertInvoices(trx, portalId, CSV_SOURCE, part, { keep }), progress);
    const cleared = await deletePayments(trx, portalId, CSV_SOURCE, unpaid);
    const paid = await inChunks(payments, (part) => upsertPayments(trx, portalId, CSV_SOURCE, part), (n) => progress(invoices.length + n));
    await touchPortal(trx, portalId);
    return { customers, invoices: upserted, payments: { ...paid, updated: paid.updated + cleared } };
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
  const page = await createCsvConnector({ kind: 'payments', parsed, invoiceCurrency: (id) => currencies.get(id) }).pull(null);
  const records = page.payments.map(paymentRecord);
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
