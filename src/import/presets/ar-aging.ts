import { z } from 'zod';
import type { CustomerFact } from '../../domain/types';
import type { RowError } from '../csv-parse';
import {
  acceptedAmount, amountText, cellError, cellOf, columnOf, currencyText, customerKey, dateReaders, dateText, filledCells, idText,
  issuesToErrors, readCurrency, readExport, requiredText, type ColumnSpec, type PresetLayout,
} from './read';
import { SkipTally, type PresetParseOptions, type SnapshotFile, type SnapshotInvoice } from './types';

// An A/R aging detail export (QuickBooks Online's "A/R Aging Detail", QuickBooks Desktop's, and look-alikes): one row
// per open document, grouped under aging-bucket headings with "Total for …" rows. Column names are compared without
// case; each field accepts the common variants below.

type Field = 'date' | 'type' | 'number' | 'customer' | 'dueDate' | 'pastDue' | 'amount' | 'openBalance' | 'currency';

export const AR_AGING_COLUMNS: readonly ColumnSpec<Field>[] = [
  { field: 'date', names: ['Date', 'Transaction Date', 'Txn Date', 'Invoice Date'], required: true },
  { field: 'type', names: ['Transaction Type', 'Type', 'Txn Type'], required: true },
  { field: 'number', names: ['Num', 'No.', 'No', 'Number', 'Invoice Number', 'Invoice No.', 'Invoice #', 'Ref No.'], required: true },
  { field: 'customer', names: ['Customer', 'Name', 'Customer Name', 'Customer Full Name', 'Client'], required: true },
  { field: 'dueDate', names: ['Due Date', 'Due'], required: true },
  // Read for recognition only: days past due are worked out from the due date and the snapshot date.
  { field: 'pastDue', names: ['Past Due', 'Past Due (days)', 'Days Past Due', 'Aging', 'Days Overdue'], required: false },
  { field: 'amount', names: ['Amount', 'Original Amount', 'Orig. Amount', 'Invoice Amount', 'Total'], required: true },
  { field: 'openBalance', names: ['Open Balance', 'Balance', 'Open Amount', 'Balance Due', 'Amount Due'], required: true },
  { field: 'currency', names: ['Currency'], required: false },
];

/** QuickBooks writes US dates (`06/30/2024`); ISO is read too. Other regions: --date-format. */
export const AR_AGING_DATE_FORMATS = ['M/D/YYYY', 'YYYY-MM-DD'] as const;

const rowSchema = (reader: ReturnType<typeof dateReaders>, snapshotDate: string, fallback: string | null, currency: string | null) =>
  z.object({
    number: idText,
    customer: requiredText,
    date: dateText(reader, snapshotDate),
    dueDate: dateText(reader),
    currency: currencyText(fallback),
    amount: amountText(currency, true),
    openBalance: amountText(currency, true),
  });

/** Bucket headings ("1 - 30 days past due"), subtotals ("Total for Current", "TOTAL") and footers are not documents. */
const isSummaryRow = (cells: readonly string[], type: string, number: string, customer: string): boolean => {
  if (filledCells(cells) <= 1) return true;
  const first = cells.find((c) => c.trim() !== '')?.trim() ?? '';
  if (/^total\b/i.test(first)) return true;
  return type === '' && number === '' && customer === '';
};

/**
 * Reads an A/R aging detail export as a snapshot at `snapshotDate`. Only rows of transaction type Invoice are read
 * (one invoice each, id = Num); payments, credit memos and other open documents are counted and left out.
 * Paid = Amount − Open Balance. The export lists open documents only (`openOnly`).
 */
export const parseArAging = (text: string, options: PresetParseOptions): SnapshotFile => {
  const reader = dateReaders(options.dateFormat ? [options.dateFormat] : AR_AGING_DATE_FORMATS);
  const fallback = options.currency ? options.currency.toUpperCase() : null;
  const invoices: SnapshotInvoice[] = [];
  const customers = new Map<string, CustomerFact>();
  const skipped = new SkipTally();
  const firstRow = new Map<string, number>();
  let currencyColumn = 'Currency';

  const noCurrency = (layout: PresetLayout<Field>): RowError[] => {
    currencyColumn = columnOf(layout, AR_AGING_COLUMNS, 'currency');
    if (layout.index.currency >= 0 || fallback !== null) return [];
    return [{ row: layout.row, column: 'Currency', value: '', message: `row ${layout.row}: the file has no Currency column and no default currency was given (--currency)` }];
  };

  const outcome = readExport(text, AR_AGING_COLUMNS, options.maxErrors, noCurrency, (layout) => {
    const schemas = new Map<string, ReturnType<typeof rowSchema>>();
    const column = (field: Field): string => columnOf(layout, AR_AGING_COLUMNS, field);
    return ({ row, cells }) => {
      const cell = cellOf(layout, cells);
      const type = cell('type');
      if (isSummaryRow(cells, type, cell('number'), cell('customer'))) return [];
      if (type === '') return [cellError(row, column('type'), '', 'is empty but required')];
      if (type.toLowerCase() !== 'invoice') {
        skipped.add(type, `${cell('customer')}\u0001${cell('number')}\u0001${row}`);
        return [];
      }
      const currency = readCurrency(cell('currency'), fallback);
      let schema = schemas.get(currency ?? '');
      if (!schema) {
        schema = rowSchema(reader, options.snapshotDate, fallback, currency);
        schemas.set(currency ?? '', schema);
      }
      const input = {
        number: cell('number'), customer: cell('customer'), date: cell('date'), dueDate: cell('dueDate'), currency: cell('currency'),
        amount: cell('amount'), openBalance: cell('openBalance'),
      };
      const parsed = schema.safeParse(input);
      const errors = parsed.success ? [] : issuesToErrors(parsed.error.issues, row, column, cell);
      if (input.number !== '') {
        const first = firstRow.get(input.number);
        if (first === undefined) firstRow.set(input.number, row);
        else errors.push(cellError(row, column('number'), input.number, `duplicates row ${first}`));
      }
      if (errors.length > 0 || currency === null) return errors;
      const issueDate = reader.read(input.date) ?? '';
      const dueDate = reader.read(input.dueDate) ?? '';
      if (dueDate < issueDate) return [cellError(row, column('dueDate'), input.dueDate, `is before the issue date ${issueDate}`)];
      const totalMinor = acceptedAmount(input.amount, currency) ?? 0;
      const openMinor = acceptedAmount(input.openBalance, currency) ?? 0;
      if (openMinor > totalMinor) {
        return [cellError(row, column('openBalance'), input.openBalance, `is more than ${column('amount')} ${JSON.stringify(input.amount)}`)];
      }
      const customerId = customerKey(input.customer);
      invoices.push({
        row, id: input.number, number: input.number, customerId, currency, totalMinor, issueDate, dueDate,
        lines: [], voided: false, paidMinor: totalMinor - openMinor, creditedMinor: 0, status: type,
      });
      if (!customers.has(customerId)) customers.set(customerId, { id: customerId, name: customerId, domain: null, industry: null, country: null });
      return [];
    };
  });

  return {
    preset: 'ar-aging', rows: outcome.rows, header: outcome.header, currencyColumn, invoices, customers: [...customers.values()],
    deleted: [], skipped: skipped.list(), openOnly: true, errors: outcome.errors, omittedErrors: outcome.omittedErrors, fatal: outcome.fatal,
  };
};
