import type { InvoicesCsvResult, ParsedInvoice, PaymentsCsvResult } from '../../import/csv-parse';
import type { CustomerFact } from '../../domain/types';
import type {
  ChangePage, InvoiceAttribute, SourceConnector, SourceCustomer, SourceInvoice, SourceInvoiceStatus, SourcePayment,
} from '../types';

/**
 * A CSV file as a source (source `csv`): the rows the parser accepted (src/import/csv-parse.ts) in the
 * canonical model, as ONE page, since a file is applied whole or not at all. The mapping:
 * - customers: the file's customer columns (name, domain, industry, country); nothing else is known of them;
 * - invoices: one per row, with the file's sales rep, deal id, terms, reference and dispute flag; the product
 *   column is the invoice's only line (its total); status `void` with a void date, `paid` when the paid_date
 *   column settles it in full, else `open`;
 * - payments: a paid_date is one full payment `<invoice id>:paid`; with a paid_date column, an invoice whose
 *   cell is empty is not (or no longer) paid, so that payment is removed; a payments file's rows are grouped by
 *   payment id (one payment may settle several invoices), in the currency of the invoices they settle;
 * - `keep`: the attributes whose column the file lacks, so a re-import leaves their stored values alone (an
 *   empty cell in a column the file has clears the value).
 * The connector does no I/O: the caller reads and parses the file (a payments file needs the stored
 * invoices' currencies to be read).
 */

export const CSV_SOURCE = 'csv';

export type CsvFile =
  | { kind: 'invoices'; parsed: InvoicesCsvResult }
  /** `invoiceCurrency`: the stored currency of an invoice the file names (the parser has checked every row has one). */
  | { kind: 'payments'; parsed: PaymentsCsvResult; invoiceCurrency: (invoiceId: string) => string | undefined };

/** The file's column of each invoice attribute a CSV may lack. */
const COLUMN_OF: Readonly<Record<InvoiceAttribute, string>> = {
  number: 'invoice_number', voidedDate: 'voided_date', disputed: 'disputed', salesRep: 'sales_rep', product: 'product', dealId: 'deal_id',
  terms: 'terms', reference: 'reference',
};

const toSourceCustomer = (c: CustomerFact): SourceCustomer => ({
  id: c.id, name: c.name, email: null, domain: c.domain, country: c.country, currency: null, archived: false,
  creditLimitMinor: null, creditLimitCurrency: null, updatedAt: null, industry: c.industry,
});

const statusOf = (i: ParsedInvoice): SourceInvoiceStatus => {
  if (i.voidedDate !== null) return 'void';
  return i.settlements.reduce((sum, s) => sum + s.amountMinor, 0) >= i.totalMinor && i.settlements.length > 0 ? 'paid' : 'open';
};

const toSourceInvoice = (i: ParsedInvoice): SourceInvoice => {
  const status = statusOf(i);
  return {
    id: i.id, number: i.number, customerId: i.customerId, currency: i.currency, totalMinor: i.totalMinor, issueDate: i.issueDate,
    dueDate: i.dueDate, status, sourceStatus: status, voidedDate: i.voidedDate, disputed: i.disputed, terms: i.terms,
    reference: i.reference ?? null,
    lines: i.product === null ? [] : [{ productId: null, description: i.product, quantity: null, amountMinor: i.totalMinor }],
    updatedAt: null, salesRep: i.salesRep, dealId: i.dealId,
  };
};

const invoicesPage = (parsed: InvoicesCsvResult): Omit<ChangePage, 'cursor' | 'done'> => {
  const payments: SourcePayment[] = [];
  for (const i of parsed.invoices) {
    for (const s of i.settlements) {
      payments.push({
        id: s.id, kind: s.kind, date: s.date, currency: i.currency, amountMinor: s.amountMinor,
        allocations: [{ invoiceId: i.id, amountMinor: s.amountMinor }], removed: false, updatedAt: null,
      });
    }
  }
  // With a paid_date column, an invoice whose cell is empty is not (or no longer) paid in full.
  if (parsed.columns.paid_date !== undefined) {
    for (const i of parsed.invoices) {
      if (i.settlements.length > 0) continue;
      payments.push({
        id: `${i.id}:paid`, kind: 'payment', date: i.issueDate, currency: i.currency, amountMinor: i.totalMinor, allocations: [], removed: true, updatedAt: null,
      });
    }
  }
  const keep = (Object.keys(COLUMN_OF) as InvoiceAttribute[]).filter((attribute) => parsed.columns[COLUMN_OF[attribute]] === undefined);
  return { customers: parsed.customers.map(toSourceCustomer), invoices: parsed.invoices.map(toSourceInvoice), payments, keep };
};

const paymentsPage = (parsed: PaymentsCsvResult, invoiceCurrency: (invoiceId: string) => string | undefined): Omit<ChangePage, 'cursor' | 'done'> => {
  const byId = new Map<string, SourcePayment>();
  for (const p of parsed.payments) {
    const currency = invoiceCurrency(p.invoiceId);
    if (currency === undefined || p.currency === null || p.amountMinor === null) {
      throw new Error(`row ${p.row}: payment passed validation without a known invoice currency`);
    }
    const allocation = { invoiceId: p.invoiceId, amountMinor: p.amountMinor };
    const existing = byId.get(p.id);
    // The parser has checked that the rows of one payment agree on date, kind and currency.
    if (existing) byId.set(p.id, { ...existing, amountMinor: existing.amountMinor + p.amountMinor, allocations: [...existing.allocations, allocation] });
    else byId.set(p.id, { id: p.id, kind: p.kind, date: p.date, currency, amountMinor: p.amountMinor, allocations: [allocation], removed: false, updatedAt: null });
  }
  return { customers: [], invoices: [], payments: [...byId.values()] };
};

/** The file as one canonical page. */
export const csvPage = (file: CsvFile): ChangePage => ({
  ...(file.kind === 'invoices' ? invoicesPage(file.parsed) : paymentsPage(file.parsed, file.invoiceCurrency)),
  cursor: JSON.stringify({ file: file.kind, rows: file.parsed.rows }),
  done: true,
});

/**
 * The connector of one parsed file. A file has no "after": whatever the cursor, a pull answers the whole file
 * in one page (applying it again changes nothing, every write being keyed by the file's ids).
 */
export const createCsvConnector = (file: CsvFile): SourceConnector<'csv'> => ({
  source: CSV_SOURCE,
  pull: async () => csvPage(file),
});
