import { CsvError, parse } from 'csv-parse/sync';
import { z } from 'zod';
import { currencyExponent, isCurrencyCode, parseMinor } from '../domain/money';
import {
  SETTLEMENT_KINDS,
  type CustomerFact,
  type InvoiceFact,
  type IsoDate,
  type Settlement,
  type SettlementKind,
} from '../domain/types';
import { readDecimal, type DecimalText } from './amount-text';
import { csvLine } from './csv-text';
import { compileDateFormat, DEFAULT_DATE_FORMAT, type DateReader } from './date-format';

// Reads invoice and payment CSV files into the canonical model. Pure: text in, records and errors out.

export const INVOICE_FIELDS = [
  'invoice_id', 'invoice_number', 'customer_id', 'customer_name', 'customer_domain', 'industry', 'country',
  'issue_date', 'due_date', 'currency', 'amount', 'voided_date', 'disputed', 'sales_rep', 'product', 'deal_id',
  'terms', 'paid_date',
] as const;
/**
 * Optional invoice fields read only when the file has the column: `reference`, a PO or quote number that
 * names a HubSpot deal (see hubspot/matching.ts). A file without the column leaves stored values alone.
 */
export const INVOICE_REFERENCE_FIELDS = ['reference'] as const;
const INVOICE_READ_FIELDS = [...INVOICE_FIELDS, ...INVOICE_REFERENCE_FIELDS] as const;
export type InvoiceField = (typeof INVOICE_READ_FIELDS)[number];
export const INVOICE_REQUIRED: readonly InvoiceField[] = ['invoice_id', 'customer_id', 'issue_date', 'due_date', 'amount'];

export const PAYMENT_FIELDS = ['payment_id', 'invoice_id', 'date', 'amount', 'currency', 'kind'] as const;
export type PaymentField = (typeof PAYMENT_FIELDS)[number];
export const PAYMENT_REQUIRED: readonly PaymentField[] = ['payment_id', 'invoice_id', 'date', 'amount'];

/** Every field name a column map may target. */
export const IMPORT_FIELDS: readonly string[] = [...new Set<string>([...INVOICE_READ_FIELDS, ...PAYMENT_FIELDS])];

export const DEFAULT_MAX_ERRORS = 1000;

/**
 * A problem with one cell, or with the header (on the header's row) or a whole row (column ''). `message`
 * is the full sentence to show: `row 17, DueDate: "31/02/2024" is not a date in M/D/YYYY`.
 */
export type RowError = {
  row: number; // spreadsheet row: the header is row 1 (unless a title block sits above it), data follows
  column: string; // the column name as written in the file
  value: string;
  message: string;
};

/** A bad option (date format, currency, column map): the import cannot start. */
export class CsvOptionError extends Error {
  override name = 'CsvOptionError';
}

export type CsvImportOptions = {
  /** Target field → column name in the file, for files whose headers differ (see parseColumnMap). */
  map?: Readonly<Record<string, string>>;
  /** How dates are written, e.g. `M/D/YYYY`; default `YYYY-MM-DD`. */
  dateFormat?: string;
  /** Currency for rows without one (no currency column, or an empty cell). */
  currency?: string;
  /** How many errors to list; the rest are only counted. Default 1000. */
  maxErrors?: number;
};

export type PaymentsCsvOptions = CsvImportOptions & {
  /**
   * Currency of an already-known invoice (undefined when unknown). A row naming no currency takes it (before
   * `currency`); a row naming another currency is an error.
   */
  invoiceCurrency?: (invoiceId: string) => string | undefined;
  /** With `invoiceCurrency`: a row whose invoice it does not know is an error. */
  requireKnownInvoice?: boolean;
};

/** A data row that failed, with its cells as read, so that it can be written back out (see rejectsCsv). */
export type RejectedRow = { row: number; cells: readonly string[]; messages: readonly string[] };

export type CsvReadResult = {
  header: readonly string[]; // the header cells as written
  columns: Readonly<Record<string, string>>; // target field → the file's column it was read from
  rows: number; // data rows read (blank rows are skipped and not counted)
  validRows: number;
  errors: RowError[]; // the first `maxErrors` errors
  omittedErrors: number; // errors beyond those listed
  rejected: RejectedRow[]; // every data row with at least one error
  fatal: boolean; // the header or the CSV syntax is broken: nothing from this file should be imported
};

/** `reference` is present only when the file has the column (null for an empty cell). */
export type ParsedInvoice = InvoiceFact & { row: number; reference?: string | null };

export type InvoicesCsvResult = CsvReadResult & { invoices: ParsedInvoice[]; customers: CustomerFact[] };

/**
 * A payment row. `currency` is null when neither the row, the invoice lookup nor the default names one; the
 * amount is then kept only as text, to be read in the invoice's currency (see paymentToSettlement).
 */
export type ParsedPayment = {
  row: number;
  id: string;
  invoiceId: string;
  date: IsoDate;
  kind: SettlementKind;
  amount: string; // plain decimal text, e.g. "1234.50"
} & ({ currency: string; amountMinor: number } | { currency: null; amountMinor: null });

export type PaymentsCsvResult = CsvReadResult & { payments: ParsedPayment[] };

// ---------------------------------------------------------------------------------------------------------
// Column map

/**
 * Reads `--map target=Source Column,target2=Other`. Targets must be known field names (`fields`, by
 * default every invoice and payment field); sources are column names as written in the file.
 */
export const parseColumnMap = (text: string, fields: readonly string[] = IMPORT_FIELDS): Record<string, string> => {
  const map: Record<string, string> = {};
  const problems: string[] = [];
  for (const raw of text.split(',')) {
    const pair = raw.trim();
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq < 0) {
      problems.push(`"${pair}" is not target=Column`);
      continue;
    }
    const target = pair.slice(0, eq).trim();
    const source = pair.slice(eq + 1).trim();
    if (!fields.includes(target)) problems.push(`"${target}" is not a field`);
    else if (source === '') problems.push(`"${target}" has no column name`);
    else if (target in map) problems.push(`"${target}" is mapped twice`);
    else map[target] = source;
  }
  if (problems.length > 0) {
    throw new CsvOptionError(`column map: ${problems.join('; ')}. Fields: ${fields.join(', ')}`);
  }
  return map;
};

// ---------------------------------------------------------------------------------------------------------
// Shared reading machinery

type Row = { row: number; cells: string[] };

const columnLetter = (index: number): string => {
  let n = index + 1;
  let letters = '';
  while (n > 0) {
    const rem = (n - 1) % 26;
    letters = String.fromCharCode(65 + rem) + letters;
    n = Math.floor((n - 1) / 26);
  }
  return letters;
};

const isBlank = (cells: readonly string[]): boolean => cells.every((c) => c.trim() === '');

/** Calls onRecord for each non-blank record; returns the CSV syntax error that stopped reading, if any. */
const readRecords = (text: string, onRecord: (record: Row) => void): { row: number; message: string } | null => {
  let lastRow = 0;
  try {
    parse(text, {
      bom: true,
      relax_column_count: true,
      relax_quotes: true,
      record_delimiter: ['\r\n', '\n', '\r'],
      on_record: (cells: string[], context) => {
        lastRow = context.records;
        if (!isBlank(cells)) onRecord({ row: context.records, cells });
        return null;
      },
    });
    return null;
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    return { row: lastRow + 1, message: error.message };
  }
};

type Layout<F extends string> = {
  row: number; // where the header is: 1 unless blank rows precede it
  header: string[];
  index: Record<F, number>; // -1 when the file has no such column
  columns: Partial<Record<F, string>>;
  problems: RowError[];
};

const headerError = (column: string, problem: string, row = 1): RowError => ({
  row, column, value: '', message: `row ${row}: ${problem}`,
});

const resolveLayout = <F extends string>(
  { row, cells: header }: Row,
  fields: readonly F[],
  required: readonly F[],
  map: Readonly<Record<string, string>>,
): Layout<F> => {
  const names = header.map((h) => h.trim());
  const positions = new Map<string, number[]>();
  names.forEach((name, i) => {
    if (name === '') return;
    const list = positions.get(name);
    if (list) list.push(i);
    else positions.set(name, [i]);
  });
  const listing = names.filter((n) => n !== '').join(', ') || '(no column names)';
  const index = {} as Record<F, number>;
  const columns: Partial<Record<F, string>> = {};
  const problems: RowError[] = [];
  const reportedDuplicates = new Set<string>();
  for (const field of fields) {
    const mapped = map[field];
    const source = mapped ?? field;
    const found = positions.get(source);
    index[field] = -1;
    if (!found) {
      if (mapped !== undefined) {
        problems.push(headerError(source, `column "${source}" (mapped to ${field}) is not in the file; the file has: ${listing}`, row));
      } else if (required.includes(field)) {
        problems.push(headerError(field, `required column "${field}" is missing; the file has: ${listing}`, row));
      }
      continue;
    }
    if (found.length > 1) {
      if (!reportedDuplicates.has(source)) {
        reportedDuplicates.add(source);
        problems.push(headerError(source, `column "${source}" appears more than once (columns ${found.map(columnLetter).join(', ')})`, row));
      }
      continue;
    }
    index[field] = found[0] ?? -1;
    columns[field] = source;
  }
  return { row, header, index, columns, problems };
};

const checkMap = (map: Readonly<Record<string, string>>): void => {
  const unknown = Object.keys(map).filter((target) => !IMPORT_FIELDS.includes(target));
  if (unknown.length > 0) {
    throw new CsvOptionError(`column map: ${unknown.map((t) => `"${t}"`).join(', ')} not a field. Fields: ${IMPORT_FIELDS.join(', ')}`);
  }
};

const checkCurrencyOption = (currency: string | undefined): string | null => {
  if (currency === undefined || currency.trim() === '') return null;
  const code = currency.trim().toUpperCase();
  if (!isCurrencyCode(code)) throw new CsvOptionError(`currency "${currency}" is not a 3-letter currency code`);
  return code;
};

const dateReader = (format: string | undefined): DateReader => {
  try {
    return compileDateFormat(format ?? DEFAULT_DATE_FORMAT);
  } catch (error) {
    throw new CsvOptionError(error instanceof Error ? error.message : String(error));
  }
};

/** Throws CsvOptionError for options the importer cannot use (map target, date format, currency), before any file is read. */
export const checkImportOptions = (options: CsvImportOptions): void => {
  checkMap(options.map ?? {});
  dateReader(options.dateFormat);
  checkCurrencyOption(options.currency);
};

/** Collects errors and rejected rows for one file. */
class Collector {
  readonly errors: RowError[] = [];
  readonly rejected: RejectedRow[] = [];
  omitted = 0;

  constructor(private readonly maxErrors: number) {}

  add(error: RowError): void {
    if (this.errors.length < this.maxErrors) this.errors.push(error);
    else this.omitted += 1;
  }

  reject(row: Row, errors: readonly RowError[]): void {
    for (const e of errors) this.add(e);
    this.rejected.push({ row: row.row, cells: row.cells, messages: errors.map((e) => e.message) });
  }
}

const cellError = (row: number, column: string, value: string, problem: string): RowError => ({
  row, column, value, message: `row ${row}, ${column}: ${JSON.stringify(value)} ${problem}`,
});

// ---------------------------------------------------------------------------------------------------------
// Cell rules. A zod schema built once per file checks each row. The schemas only refine: a zod transform
// per cell costs several times more over a million rows. Accepted cells are then converted by the same
// readers the rules use.

const REQUIRED = 'is empty but required';

const TRUE_WORDS: ReadonlySet<string> = new Set(['yes', 'y', 'true', '1']);
const FALSE_WORDS: ReadonlySet<string> = new Set(['no', 'n', 'false', '0', '']);
const readFlag = (cell: string): boolean | null => {
  if (TRUE_WORDS.has(cell)) return true;
  if (FALSE_WORDS.has(cell)) return false;
  const lower = cell.toLowerCase();
  if (TRUE_WORDS.has(lower)) return true;
  return FALSE_WORDS.has(lower) ? false : null;
};

/** The row's currency: the cell uppercased, or `fallback` when the cell is empty; null when neither gives one. */
const readCurrency = (cell: string, fallback: string | null): string | null => {
  if (cell === '') return fallback;
  if (isCurrencyCode(cell)) return cell;
  const code = cell.toUpperCase();
  return isCurrencyCode(code) ? code : null;
};

const SETTLEMENT_KIND_SET: ReadonlySet<string> = new Set(SETTLEMENT_KINDS);
const readKind = (cell: string): SettlementKind | null => {
  if (cell === '') return 'payment';
  if (SETTLEMENT_KIND_SET.has(cell)) return cell as SettlementKind;
  const kind = cell.toLowerCase().replace(/[\s-]+/g, '_');
  return SETTLEMENT_KIND_SET.has(kind) ? (kind as SettlementKind) : null;
};

/** What is wrong with an amount (null when nothing); `minimum` 0 lets invoices be 0, 1 asks for more than 0. */
const amountProblem = (amount: DecimalText, currency: string | null, minimum: 0 | 1): string | null => {
  if (currency !== null && parseMinor(amount.text, currency) === null) {
    const exponent = currencyExponent(currency);
    return amount.fractionDigits > exponent ? `has more decimals than ${currency} allows (${exponent})` : 'is too large';
  }
  const sign = !/[1-9]/.test(amount.text) ? 0 : amount.negative ? -1 : 1;
  if (sign < minimum) return minimum === 0 ? 'is negative' : 'is not more than 0';
  return null;
};

/** A value whose cell the row schema has accepted. */
const accepted = <T>(value: T | null): T => {
  if (value === null) throw new Error('an accepted cell did not convert');
  return value;
};

const textCell = z.string();
// Ids are keys: control characters (tabs, line breaks) in them are a broken export, and the store refuses them.
// eslint-disable-next-line no-control-regex -- control characters are exactly what this looks for
const CONTROL = /[\u0000-\u001f\u007f]/;
const idCell = z.string().refine((v) => v !== '' && !CONTROL.test(v), {
  error: (issue) => (issue.input === '' ? REQUIRED : 'contains a control character (tab or line break)'),
});

const dateCell = (reader: DateReader, required: boolean) =>
  z.string().refine((v) => (v === '' ? !required : reader.read(v) !== null), {
    error: (issue) => (issue.input === '' ? REQUIRED : `is not a date in ${reader.format}`),
  });

const flagCell = z.string().refine((v) => readFlag(v) !== null, 'is not yes/no/true/false/1/0');

// A reference is a key too: it is compared with deals' references, so control characters are refused.
const referenceCell = z.string().refine((v) => !CONTROL.test(v), 'contains a control character (tab or line break)');

const kindCell = z.string().refine((v) => readKind(v) !== null, `is not ${SETTLEMENT_KINDS.join(', ')}`);

const currencyCell = (fallback: string | null, required: boolean) =>
  z.string().refine((v) => readCurrency(v, fallback) !== null || (v === '' && !required), {
    error: (issue) => (issue.input === '' ? 'is empty and no default currency was given' : 'is not a 3-letter currency code'),
  });

const amountCell = z.string().refine((v) => readDecimal(v) !== null, {
  error: (issue) => (issue.input === '' ? REQUIRED : 'is not an amount'),
});

type MoneyCells = { currency: string; amount: string };

/** Currency and amount together: the amount's decimals depend on the currency. */
const moneyGroup = (fallback: string | null, required: boolean, minimum: 0 | 1) => {
  const problem = (cells: MoneyCells): string | null => {
    const amount = readDecimal(cells.amount);
    const currency = readCurrency(cells.currency, fallback);
    if (amount === null || (currency === null && (cells.currency !== '' || required))) return null; // a cell rule reports it
    return amountProblem(amount, currency, minimum);
  };
  return z
    .object({ currency: currencyCell(fallback, required), amount: amountCell })
    .refine((cells) => problem(cells) === null, { path: ['amount'], error: (issue) => problem(issue.input as MoneyCells) ?? '' });
};

type DateCells = { issue_date: string; due_date: string };

const datesGroup = (reader: DateReader) => {
  const problem = (cells: DateCells): string | null => {
    const issued = reader.read(cells.issue_date);
    const due = reader.read(cells.due_date);
    return issued !== null && due !== null && due < issued ? `is before the issue date ${issued}` : null;
  };
  return z
    .object({ issue_date: dateCell(reader, true), due_date: dateCell(reader, true) })
    .refine((cells) => problem(cells) === null, { path: ['due_date'], error: (issue) => problem(issue.input as DateCells) ?? '' });
};

/** Maps zod issues back to the file's columns; the last path element is always the field name. */
const issuesToErrors = <F extends string>(
  issues: readonly z.core.$ZodIssue[],
  row: number,
  layout: Layout<F>,
  cell: (field: F) => string,
): RowError[] =>
  issues.map((issue) => {
    const field = String(issue.path[issue.path.length - 1] ?? '') as F;
    return cellError(row, layout.columns[field] ?? field, cell(field), issue.message);
  });

const cellReader = <F extends string>(layout: Layout<F>, cells: readonly string[]) => (field: F): string => {
  const i = layout.index[field];
  return i < 0 ? '' : (cells[i] ?? '').trim();
};

const baseResult = <F extends string>(
  layout: Layout<F> | null,
  rows: number,
  validRows: number,
  collector: Collector,
  fatal: boolean,
): CsvReadResult => ({
  header: layout?.header ?? [],
  columns: { ...(layout?.columns ?? {}) } as Record<string, string>,
  rows,
  validRows,
  errors: collector.errors,
  omittedErrors: collector.omitted,
  rejected: collector.rejected,
  fatal,
});

/**
 * Runs the shared skeleton: header → layout (header errors are fatal), then each data row through the handler
 * from `makeRowHandler`, which returns the row's errors (empty when the row was accepted).
 */
const readFile = <F extends string>(
  text: string,
  fields: readonly F[],
  required: readonly F[],
  options: CsvImportOptions,
  extraHeaderChecks: (layout: Layout<F>) => RowError[],
  makeRowHandler: (layout: Layout<F>) => (row: Row) => RowError[],
): CsvReadResult => {
  const map = options.map ?? {};
  checkMap(map);
  const collector = new Collector(options.maxErrors ?? DEFAULT_MAX_ERRORS);
  let layout: Layout<F> | null = null;
  let handle: ((row: Row) => RowError[]) | null = null;
  let rows = 0;
  let validRows = 0;
  let firstPreamble: Row | null = null;
  const useHeader = (record: Row): Layout<F> => {
    const found = resolveLayout(record, fields, required, map);
    const problems = [...found.problems, ...extraHeaderChecks(found)];
    for (const p of problems) collector.add(p);
    if (problems.length === 0) handle = makeRowHandler(found);
    return found;
  };
  const syntax = readRecords(text, (record) => {
    if (layout === null) {
      // Report exports put a title block above the header ("Company", "Invoice List", "All Dates"): rows
      // with at most one filled cell before the first row with several are skipped.
      if (record.cells.filter((c) => c.trim() !== '').length <= 1) {
        firstPreamble ??= record;
        return;
      }
      layout = useHeader(record);
      return;
    }
    rows += 1;
    if (handle === null) return;
    const width = layout.header.length;
    if (record.cells.length > width && !isBlank(record.cells.slice(width))) {
      // Usually an unquoted comma (1,234.50) that shifted every cell after it: the rest would only mislead.
      const problem = `has ${record.cells.length} cells but the header has ${width}; is a comma unquoted?`;
      collector.reject(record, [{ row: record.row, column: '', value: '', message: `row ${record.row}: ${problem}` }]);
      return;
    }
    const errors = handle(record);
    if (errors.length === 0) validRows += 1;
    else collector.reject(record, errors);
  });
  if (syntax) collector.add({ row: syntax.row, column: '', value: '', message: `row ${syntax.row}: ${syntax.message}` });
  if (layout === null && firstPreamble !== null) layout = useHeader(firstPreamble);
  if (layout === null && !syntax) collector.add(headerError('', 'the file has no header row'));
  return baseResult(layout, rows, validRows, collector, syntax !== null || handle === null);
};

// ---------------------------------------------------------------------------------------------------------
// Invoices

const invoiceSchema = (reader: DateReader, defaultCurrency: string | null) =>
  z.object({
    invoice_id: idCell,
    invoice_number: textCell,
    customer_id: idCell,
    customer_name: textCell,
    customer_domain: textCell,
    industry: textCell,
    country: textCell,
    dates: datesGroup(reader),
    money: moneyGroup(defaultCurrency, true, 0),
    voided_date: dateCell(reader, false),
    disputed: flagCell,
    sales_rep: textCell,
    product: textCell,
    deal_id: textCell,
    terms: textCell,
    paid_date: dateCell(reader, false),
    reference: referenceCell,
  });

/**
 * Returns one shared string per distinct value (customer ids, reps, products, currencies repeat across a
 * million rows); keeping fewer strings alive keeps the garbage collector's work small.
 */
const interner = (limit = 200_000): ((text: string) => string) => {
  const known = new Map<string, string>();
  return (text) => {
    const hit = known.get(text);
    if (hit !== undefined) return hit;
    if (known.size < limit) known.set(text, text);
    return text;
  };
};

const NO_SETTLEMENTS: readonly Settlement[] = Object.freeze([]);

const orNull = (text: string): string | null => (text === '' ? null : text);

const mergeCustomer = (customers: Map<string, CustomerFact>, next: CustomerFact): void => {
  const known = customers.get(next.id);
  if (!known) {
    customers.set(next.id, next);
    return;
  }
  known.name ??= next.name;
  known.domain ??= next.domain;
  known.industry ??= next.industry;
  known.country ??= next.country;
};

/** Reads an invoices CSV. Invoices with a `paid_date` carry one full payment, `<invoice_id>:paid`. */
export const parseInvoicesCsv = (text: string, options: CsvImportOptions = {}): InvoicesCsvResult => {
  const reader = dateReader(options.dateFormat);
  const defaultCurrency = checkCurrencyOption(options.currency);
  const invoices: ParsedInvoice[] = [];
  const customers = new Map<string, CustomerFact>();

  const noCurrency = (layout: Layout<InvoiceField>): RowError[] => {
    const source = options.map?.currency ?? 'currency';
    if (layout.index.currency >= 0 || defaultCurrency !== null || layout.problems.some((p) => p.column === source)) return [];
    return [headerError(source, 'the file has no currency column and no default currency was given (--currency)', layout.row)];
  };

  const base = readFile(text, INVOICE_READ_FIELDS, INVOICE_REQUIRED, options, noCurrency, (layout) => {
    const schema = invoiceSchema(reader, defaultCurrency);
    const seen = new Map<string, number>();
    const intern = interner();
    const shared = (text: string): string | null => (text === '' ? null : intern(text));
    const hasReference = layout.index.reference >= 0;
    return (record) => {
      const cell = cellReader(layout, record.cells);
      const input = {
        invoice_id: cell('invoice_id'),
        invoice_number: cell('invoice_number'),
        customer_id: cell('customer_id'),
        customer_name: cell('customer_name'),
        customer_domain: cell('customer_domain'),
        industry: cell('industry'),
        country: cell('country'),
        dates: { issue_date: cell('issue_date'), due_date: cell('due_date') },
        money: { currency: cell('currency'), amount: cell('amount') },
        voided_date: cell('voided_date'),
        disputed: cell('disputed'),
        sales_rep: cell('sales_rep'),
        product: cell('product'),
        deal_id: cell('deal_id'),
        terms: cell('terms'),
        paid_date: cell('paid_date'),
        reference: cell('reference'),
      };
      const parsed = schema.safeParse(input);
      const errors = parsed.success ? [] : issuesToErrors(parsed.error.issues, record.row, layout, cell);
      if (input.invoice_id !== '') {
        const first = seen.get(input.invoice_id);
        if (first === undefined) seen.set(input.invoice_id, record.row);
        else {
          const column = layout.columns.invoice_id ?? 'invoice_id';
          errors.push(cellError(record.row, column, input.invoice_id, `duplicates row ${first}`));
        }
      }
      if (!parsed.success || errors.length > 0) return errors;
      const issued = accepted(reader.read(input.dates.issue_date));
      for (const field of ['voided_date', 'paid_date'] as const) {
        const day = input[field] === '' ? null : reader.read(input[field]);
        if (day !== null && day < issued) {
          errors.push(cellError(record.row, layout.columns[field] ?? field, input[field], `is before the issue date ${issued}`));
        }
      }
      if (errors.length > 0) return errors;
      const id = input.invoice_id;
      const currency = intern(accepted(readCurrency(input.money.currency, defaultCurrency)));
      const totalMinor = accepted(parseMinor(accepted(readDecimal(input.money.amount)).text, currency));
      const paidDate = input.paid_date === '' ? null : accepted(reader.read(input.paid_date));
      const settlements: readonly Settlement[] = paidDate !== null && totalMinor > 0
        ? [{ id: `${id}:paid`, date: paidDate, amountMinor: totalMinor, kind: 'payment' }]
        : NO_SETTLEMENTS;
      const customerId = intern(input.customer_id);
      const invoice: ParsedInvoice = {
        row: record.row,
        id,
        number: orNull(input.invoice_number),
        customerId,
        currency,
        totalMinor,
        issueDate: accepted(reader.read(input.dates.issue_date)),
        dueDate: accepted(reader.read(input.dates.due_date)),
        voidedDate: input.voided_date === '' ? null : accepted(reader.read(input.voided_date)),
        disputed: accepted(readFlag(input.disputed)),
        salesRep: shared(input.sales_rep),
        product: shared(input.product),
        dealId: orNull(input.deal_id),
        terms: shared(input.terms),
        settlements,
      };
      if (hasReference) invoice.reference = orNull(input.reference);
      invoices.push(invoice);
      mergeCustomer(customers, {
        id: customerId,
        name: orNull(input.customer_name),
        domain: orNull(input.customer_domain),
        industry: orNull(input.industry),
        country: orNull(input.country),
      });
      return [];
    };
  });
  return { ...base, invoices, customers: [...customers.values()] };
};

// ---------------------------------------------------------------------------------------------------------
// Payments

const paymentSchema = (reader: DateReader, defaultCurrency: string | null) =>
  z.object({
    payment_id: idCell,
    invoice_id: idCell,
    date: dateCell(reader, true),
    money: moneyGroup(defaultCurrency, false, 1),
    kind: kindCell,
  });

/**
 * Reads a payments CSV (payments, credit notes and write-offs). A row's currency comes from its currency
 * cell, else `invoiceCurrency(invoiceId)`, else `currency`; with none, the amount stays text. The same
 * payment id may settle several invoices, so duplicates are rows repeating both payment_id and invoice_id.
 */
export const parsePaymentsCsv = (text: string, options: PaymentsCsvOptions = {}): PaymentsCsvResult => {
  const reader = dateReader(options.dateFormat);
  const defaultCurrency = checkCurrencyOption(options.currency);
  const payments: ParsedPayment[] = [];

  const base = readFile(text, PAYMENT_FIELDS, PAYMENT_REQUIRED, options, () => [], (layout) => {
    const schema = paymentSchema(reader, defaultCurrency);
    const seen = new Map<string, number>();
    const documents = new Map<string, { row: number; date: string; kind: SettlementKind; currency: string | null }>();
    return (record) => {
      const cell = cellReader(layout, record.cells);
      const invoiceId = cell('invoice_id');
      const invoiceCurrency = invoiceId !== '' ? options.invoiceCurrency?.(invoiceId)?.toUpperCase() : undefined;
      const currency = cell('currency') || invoiceCurrency || '';
      const input = {
        payment_id: cell('payment_id'),
        invoice_id: invoiceId,
        date: cell('date'),
        money: { currency, amount: cell('amount') },
        kind: cell('kind'),
      };
      const parsed = schema.safeParse(input);
      const errors = parsed.success ? [] : issuesToErrors(parsed.error.issues, record.row, layout, cell);
      if (input.payment_id !== '' && invoiceId !== '') {
        const key = `${input.payment_id}\u0001${invoiceId}`;
        const first = seen.get(key);
        if (first === undefined) seen.set(key, record.row);
        else {
          const column = layout.columns.payment_id ?? 'payment_id';
          errors.push(cellError(record.row, column, input.payment_id, `duplicates row ${first} (same payment and invoice)`));
        }
      }
      if (invoiceId !== '' && options.invoiceCurrency) {
        const rowCurrency = readCurrency(cell('currency'), null);
        if (invoiceCurrency === undefined) {
          if (options.requireKnownInvoice) {
            errors.push(cellError(record.row, layout.columns.invoice_id ?? 'invoice_id', invoiceId, 'is not a known invoice'));
          }
        } else if (rowCurrency !== null && rowCurrency !== invoiceCurrency) {
          const column = layout.columns.currency ?? 'currency';
          errors.push(cellError(record.row, column, cell('currency'), `is not the currency of invoice ${invoiceId} (${invoiceCurrency})`));
        }
      }
      if (!parsed.success || errors.length > 0) return errors;
      const amount = accepted(readDecimal(input.money.amount)).text;
      const date = accepted(reader.read(input.date));
      const kind = accepted(readKind(input.kind));
      const resolved = readCurrency(currency, defaultCurrency);
      // A payment split over several rows (one per invoice) is one document: one date, kind and currency.
      const split = documents.get(input.payment_id);
      if (split === undefined) documents.set(input.payment_id, { row: record.row, date, kind, currency: resolved });
      else if (split.date !== date || split.kind !== kind || (split.currency !== resolved && split.currency !== null && resolved !== null)) {
        const column = layout.columns.payment_id ?? 'payment_id';
        return [cellError(record.row, column, input.payment_id, `is on row ${split.row} with another date, kind or currency`)];
      }
      // Two literals rather than a spread: a million of these are kept.
      payments.push(resolved === null
        ? { row: record.row, id: input.payment_id, invoiceId, date, kind, amount, currency: null, amountMinor: null }
        : { row: record.row, id: input.payment_id, invoiceId, date, kind, amount, currency: resolved, amountMinor: accepted(parseMinor(amount, resolved)) });
      return [];
    };
  });
  return { ...base, payments };
};

/**
 * The invoice ids a payments file names (each once, in order of first appearance), read from every data row,
 * valid or not: what to look up before calling parsePaymentsCsv with `invoiceCurrency`. Empty when the
 * header lacks the invoice_id column.
 */
export const invoiceIdsInPaymentsCsv = (text: string, options: Pick<CsvImportOptions, 'map'> = {}): string[] => {
  const ids = new Set<string>();
  readFile(text, PAYMENT_FIELDS, ['invoice_id'], { map: options.map ?? {}, maxErrors: 0 }, () => [], (layout) => (record) => {
    const id = cellReader(layout, record.cells)('invoice_id');
    if (id !== '') ids.add(id);
    return [];
  });
  return [...ids];
};

/**
 * The settlement a payment row makes on its invoice, or the reason it cannot: a currency other than the
 * invoice's, or an amount with more decimals than the invoice's currency has.
 */
export const paymentToSettlement = (
  payment: ParsedPayment,
  invoiceCurrency: string,
): { settlement: Settlement } | { error: string } => {
  if (payment.currency !== null && payment.currency !== invoiceCurrency) {
    return { error: `row ${payment.row}: payment ${payment.id} is in ${payment.currency} but invoice ${payment.invoiceId} is in ${invoiceCurrency}` };
  }
  const amountMinor = payment.amountMinor ?? parseMinor(payment.amount, invoiceCurrency);
  if (amountMinor === null) {
    return { error: `row ${payment.row}: amount "${payment.amount}" has more decimals than ${invoiceCurrency} allows (${currencyExponent(invoiceCurrency)})` };
  }
  return { settlement: { id: payment.id, date: payment.date, amountMinor, kind: payment.kind } };
};

// ---------------------------------------------------------------------------------------------------------
// Rejected rows

/**
 * The rejected rows as a CSV file: the original header and cells, plus an `error` column (`import_error`
 * if the file already has an `error` column) holding every problem of the row. Header only when none failed.
 */
export const rejectsCsv = (result: Pick<CsvReadResult, 'header' | 'rejected'>): string => {
  // Rows longer than the header get unnamed columns, so that the error column stays aligned.
  const width = result.rejected.reduce((w, r) => Math.max(w, r.cells.length), result.header.length);
  const header = [...result.header];
  while (header.length < width) header.push('');
  const errorColumn = header.some((h) => h.trim() === 'error') ? 'import_error' : 'error';
  let out = csvLine([...header, errorColumn]);
  for (const rejected of result.rejected) {
    const cells = [...rejected.cells];
    while (cells.length < width) cells.push('');
    out += csvLine([...cells, rejected.messages.join('; ')]);
  }
  return out;
};
