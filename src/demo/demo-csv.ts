import { formatMinor } from '../domain/money';
import type { CustomerFact, InvoiceFact } from '../domain/types';
import { INVOICE_FIELDS, PAYMENT_FIELDS } from '../import/csv-parse';
import { csvLine } from '../import/csv-text';

// The demo portfolio in the importer's own CSV formats, so that it can be written out and imported back.

/** Invoice columns: every invoice field but paid_date (payments go in the payments file). */
export const INVOICE_CSV_COLUMNS = INVOICE_FIELDS.filter((f) => f !== 'paid_date');
export const PAYMENT_CSV_COLUMNS = PAYMENT_FIELDS;

export const invoiceCsvHeader = (): string => csvLine(INVOICE_CSV_COLUMNS);
export const paymentCsvHeader = (): string => csvLine(PAYMENT_CSV_COLUMNS);

/** One invoices.csv line (with its newline) for an invoice of `customer`. */
export const invoiceCsvLine = (customer: CustomerFact, invoice: InvoiceFact): string =>
  csvLine([
    invoice.id,
    invoice.number,
    customer.id,
    customer.name,
    customer.domain,
    customer.industry,
    customer.country,
    invoice.issueDate,
    invoice.dueDate,
    invoice.currency,
    formatMinor(invoice.totalMinor, invoice.currency),
    invoice.voidedDate,
    invoice.disputed ? 'yes' : 'no',
    invoice.salesRep,
    invoice.product,
    invoice.dealId,
    invoice.terms,
  ]);

/** The payments.csv lines (with newlines) for an invoice's settlements. */
export const paymentCsvLines = (invoice: InvoiceFact): string =>
  invoice.settlements
    .map((s) => csvLine([s.id, invoice.id, s.date, formatMinor(s.amountMinor, invoice.currency), invoice.currency, s.kind]))
    .join('');

/**
 * Both files as text. Customers appear through their invoices' rows (a customer without invoices has no row).
 * For very large portfolios write line by line with the functions above instead.
 */
export const portfolioToCsv = (
  items: Iterable<{ customer: CustomerFact; invoices: readonly InvoiceFact[] }>,
): { invoicesCsv: string; paymentsCsv: string } => {
  const invoiceLines: string[] = [invoiceCsvHeader()];
  const paymentLines: string[] = [paymentCsvHeader()];
  for (const { customer, invoices } of items) {
    for (const invoice of invoices) {
      invoiceLines.push(invoiceCsvLine(customer, invoice));
      if (invoice.settlements.length > 0) paymentLines.push(paymentCsvLines(invoice));
    }
  }
  return { invoicesCsv: invoiceLines.join(''), paymentsCsv: paymentLines.join('') };
};
