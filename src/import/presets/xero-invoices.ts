import { z } from 'zod';
import { matchableDomain } from '../../domain/matching';
import type { CustomerFact } from '../../domain/types';
import type { RowError } from '../csv-parse';
import {
  acceptedAmount, amountText, cellError, cellOf, columnOf, currencyText, customerKey, dateReaders, dateText, idText,
  issuesToErrors, optionalKey, quantityText, readCurrency, readExport, readQuantity, requiredText, type ColumnSpec, type PresetLayout,
} from './read';
import { SkipTally, type PresetParseOptions, type SnapshotFile, type SnapshotInvoice, type SnapshotLine } from './types';

// Xero's invoice export (Business → Invoices → Export): one row per line item, the invoice's own fields repeated on
// each of its rows. Column names as Xero writes them; a leading `*` (Xero's import template) is ignored.

type Field =
  | 'contact' | 'email' | 'country' | 'number' | 'reference' | 'issueDate' | 'dueDate' | 'total' | 'paid' | 'due'
  | 'itemCode' | 'description' | 'quantity' | 'lineAmount' | 'currency' | 'type' | 'status';

export const XERO_COLUMNS: readonly ColumnSpec<Field>[] = [
  { field: 'contact', names: ['ContactName'], required: true },
  { field: 'email', names: ['EmailAddress'], required: false },
  { field: 'country', names: ['POCountry'], required: false },
  { field: 'number', names: ['InvoiceNumber'], required: true },
  { field: 'reference', names: ['Reference'], required: false },
  { field: 'issueDate', names: ['InvoiceDate'], required: true },
  { field: 'dueDate', names: ['DueDate'], required: true },
  { field: 'total', names: ['Total'], required: true },
  { field: 'paid', names: ['InvoiceAmountPaid'], required: true },
  { field: 'due', names: ['InvoiceAmountDue'], required: true },
  { field: 'itemCode', names: ['InventoryItemCode'], required: false },
  { field: 'description', names: ['Description'], required: false },
  { field: 'quantity', names: ['Quantity'], required: false },
  { field: 'lineAmount', names: ['LineAmount'], required: false },
  { field: 'currency', names: ['Currency'], required: false },
  { field: 'type', names: ['Type'], required: true },
  { field: 'status', names: ['Status'], required: true },
];

/** Xero writes dates in the organisation's format: `3 Jul 2024` or `03/07/2024` (day first); ISO is read too. */
export const XERO_DATE_FORMATS = ['D MMM YYYY', 'DD/MM/YYYY', 'YYYY-MM-DD'] as const;

const squash = (cell: string): string => cell.toLowerCase().replace(/[\s_-]+/g, ' ').trim();

type TypeClass = { sales: true } | { skip: string };

/** Sales invoices (ACCREC) are read; bills, credit notes and over/prepayments are counted and left out. */
const classifyType = (cell: string): TypeClass | null => {
  const t = squash(cell);
  if (t === 'accrec' || t === 'sales invoice' || t === 'invoice') return { sales: true };
  if (t === 'accpay' || t === 'accpaycredit' || t.startsWith('bill') || t.startsWith('purchase')) return { skip: 'bill (ACCPAY)' };
  if (t === 'accreccredit' || t.includes('credit note')) return { skip: 'credit note' };
  if (t.includes('overpayment') || t.includes('prepayment')) return { skip: 'overpayment or prepayment' };
  return null;
};

type StatusClass = 'open' | 'void' | 'deleted' | { skip: string };

const classifyStatus = (cell: string): StatusClass | null => {
  switch (squash(cell)) {
    case 'draft': return { skip: 'draft' };
    case 'submitted': case 'awaiting approval': return { skip: 'awaiting approval (SUBMITTED)' };
    case 'authorised': case 'authorized': case 'awaiting payment': case 'approved': case 'paid': return 'open';
    case 'voided': case 'void': return 'void';
    case 'deleted': return 'deleted';
    default: return null;
  }
};

const TYPE_PROBLEM = 'is not a Xero invoice type (Sales invoice or ACCREC are read; Bill/ACCPAY, Sales credit note, overpayments and prepayments are skipped)';
const STATUS_PROBLEM = 'is not a Xero invoice status (Draft, Awaiting Approval, Awaiting Payment, Paid, Voided, Deleted, or DRAFT, SUBMITTED, AUTHORISED, PAID, VOIDED, DELETED)';

/** Invoice-level columns that every row of one invoice repeats, and must repeat unchanged. */
const INVOICE_LEVEL: readonly Field[] = ['contact', 'reference', 'issueDate', 'dueDate', 'total', 'paid', 'due', 'currency', 'status'];

const orNull = (text: string): string | null => (text === '' ? null : text);

const rowSchema = (reader: ReturnType<typeof dateReaders>, snapshotDate: string, fallback: string | null, currency: string | null) =>
  z.object({
    contact: requiredText,
    number: idText,
    reference: optionalKey,
    issueDate: dateText(reader, snapshotDate),
    dueDate: dateText(reader),
    currency: currencyText(fallback),
    total: amountText(currency, true),
    paid: amountText(currency, true),
    due: amountText(currency, true),
    quantity: quantityText,
    lineAmount: amountText(currency, false, true),
  });

type Group = { invoice: SnapshotInvoice; cells: Partial<Record<Field, string>> };

/**
 * Reads a Xero invoice export as a snapshot at `snapshotDate`. Rows are grouped by InvoiceNumber into invoices
 * (total = Total; lines from the rows). Only sales invoices are read; drafts and invoices awaiting approval are
 * skipped; Voided invoices are kept as voided; Deleted ones are listed for removal. Paid = InvoiceAmountPaid;
 * credited = Total − InvoiceAmountPaid − InvoiceAmountDue (credit notes allocated to the invoice).
 */
export const parseXeroInvoices = (text: string, options: PresetParseOptions): SnapshotFile => {
  const reader = dateReaders(options.dateFormat ? [options.dateFormat] : XERO_DATE_FORMATS);
  const fallback = options.currency ? options.currency.toUpperCase() : null;
  const groups = new Map<string, Group>();
  const customers = new Map<string, CustomerFact>();
  const deleted = new Map<string, number>();
  const skipped = new SkipTally();
  let currencyColumn = 'Currency';

  const noCurrency = (layout: PresetLayout<Field>): RowError[] => {
    currencyColumn = columnOf(layout, XERO_COLUMNS, 'currency');
    if (layout.index.currency >= 0 || fallback !== null) return [];
    return [{ row: layout.row, column: 'Currency', value: '', message: `row ${layout.row}: the file has no Currency column and no default currency was given (--currency)` }];
  };

  const outcome = readExport(text, XERO_COLUMNS, options.maxErrors, noCurrency, (layout) => {
    const schemas = new Map<string, ReturnType<typeof rowSchema>>();
    const column = (field: Field): string => columnOf(layout, XERO_COLUMNS, field);
    return ({ row, cells }) => {
      const cell = cellOf(layout, cells);
      const type = classifyType(cell('type'));
      const status = classifyStatus(cell('status'));
      const classErrors = [
        ...(type === null ? [cellError(row, column('type'), cell('type'), TYPE_PROBLEM)] : []),
        ...(status === null ? [cellError(row, column('status'), cell('status'), STATUS_PROBLEM)] : []),
      ];
      if (type === null || status === null) return classErrors;
      if ('skip' in type) {
        skipped.add(type.skip, `${cell('contact')}\u0001${cell('number')}`);
        return [];
      }
      if (typeof status === 'object') {
        skipped.add(status.skip, cell('number') || `row ${row}`);
        return [];
      }
      if (status === 'deleted') {
        if (cell('number') !== '' && !deleted.has(cell('number'))) deleted.set(cell('number'), row);
        return [];
      }
      const currency = readCurrency(cell('currency'), fallback);
      const key = currency ?? '';
      let schema = schemas.get(key);
      if (!schema) {
        schema = rowSchema(reader, options.snapshotDate, fallback, currency);
        schemas.set(key, schema);
      }
      const input = {
        contact: cell('contact'), number: cell('number'), reference: cell('reference'), issueDate: cell('issueDate'),
        dueDate: cell('dueDate'), currency: cell('currency'), total: cell('total'), paid: cell('paid'), due: cell('due'),
        quantity: cell('quantity'), lineAmount: cell('lineAmount'),
      };
      const parsed = schema.safeParse(input);
      if (!parsed.success || currency === null) return issuesToErrors(parsed.error?.issues ?? [], row, column, cell);
      const number = input.number;
      const group = groups.get(number);
      const line: SnapshotLine = {
        itemCode: orNull(cell('itemCode')), description: orNull(cell('description')),
        quantity: readQuantity(input.quantity), amountMinor: acceptedAmount(input.lineAmount, currency),
      };
      if (group) {
        const first = group.invoice.row;
        const errors = INVOICE_LEVEL.filter((f) => (group.cells[f] ?? '') !== cell(f)).map((f) =>
          cellError(row, column(f), cell(f), `differs from row ${first} (${JSON.stringify(group.cells[f] ?? '')}), the first row of invoice ${number}`));
        if (errors.length > 0) return errors;
        group.invoice.lines.push(line);
        return [];
      }
      const issueDate = reader.read(input.issueDate) ?? '';
      const dueDate = reader.read(input.dueDate) ?? '';
      if (dueDate < issueDate) return [cellError(row, column('dueDate'), input.dueDate, `is before the issue date ${issueDate}`)];
      const totalMinor = acceptedAmount(input.total, currency) ?? 0;
      const paidMinor = acceptedAmount(input.paid, currency) ?? 0;
      const dueMinor = acceptedAmount(input.due, currency) ?? 0;
      const voided = status === 'void';
      const creditedMinor = totalMinor - paidMinor - dueMinor;
      if (!voided && creditedMinor < 0) {
        return [cellError(row, column('due'), input.due, `plus ${column('paid')} ${JSON.stringify(input.paid)} is more than ${column('total')} ${JSON.stringify(input.total)}`)];
      }
      const customerId = customerKey(input.contact);
      const invoice: SnapshotInvoice = {
        row, id: number, number, customerId, currency, totalMinor, issueDate, dueDate,
        ...(layout.index.reference >= 0 ? { reference: orNull(input.reference) } : {}),
        lines: [line], voided,
        // A voided Xero invoice has no payments (Xero makes them be removed first) and nothing due.
        paidMinor: voided ? 0 : paidMinor,
        creditedMinor: voided ? 0 : creditedMinor,
        status: cell('status'),
      };
      groups.set(number, { invoice, cells: Object.fromEntries(INVOICE_LEVEL.map((f) => [f, cell(f)])) });
      const known = customers.get(customerId);
      const customer: CustomerFact = {
        id: customerId, name: customerId, domain: matchableDomain(cell('email')), industry: null, country: orNull(cell('country')),
      };
      if (!known) customers.set(customerId, customer);
      else {
        known.domain ??= customer.domain;
        known.country ??= customer.country;
      }
      return [];
    };
  });

  const invoices = [...groups.values()].map(({ invoice }) => ({ ...invoice, product: productOf(invoice.lines) }));
  return {
    preset: 'xero-invoices', rows: outcome.rows, header: outcome.header, currencyColumn, invoices,
    customers: [...customers.values()], deleted: [...deleted.keys()].filter((n) => !groups.has(n)), skipped: skipped.list(),
    openOnly: false, errors: outcome.errors, omittedErrors: outcome.omittedErrors, fatal: outcome.fatal,
  };
};

/** The invoice's product: the item code of its largest line that has one (null when no line has one). */
export const productOf = (lines: readonly SnapshotLine[]): string | null => {
  let best: SnapshotLine | null = null;
  for (const line of lines) {
    if (line.itemCode === null) continue;
    if (best === null || (line.amountMinor ?? -Infinity) > (best.amountMinor ?? -Infinity)) best = line;
  }
  return best?.itemCode ?? null;
};
