import { CsvError, parse } from 'csv-parse/sync';
import { z } from 'zod';
import { currencyExponent, isCurrencyCode, parseMinor } from '../../domain/money';
import type { IsoDate } from '../../domain/types';
import { readDecimal } from '../amount-text';
import { CsvOptionError, DEFAULT_MAX_ERRORS, type RowError } from '../csv-parse';
import { compileDateFormat, type DateReader } from '../date-format';

// Reading machinery shared by the export presets: records, a header found by accepted names, row errors that
// name the row and the column as the file writes it, and the cell rules (zod) the presets check rows with.

/** A column the preset reads: the names it accepts (compared without case, spaces collapsed, a leading `*` dropped). */
export type ColumnSpec<F extends string> = { field: F; names: readonly string[]; required: boolean };

export type PresetLayout<F extends string> = {
  row: number;
  header: readonly string[];
  index: Readonly<Record<F, number>>; // -1 when the file lacks the column
  columns: Readonly<Partial<Record<F, string>>>; // field → the column's name as written
};

export type Row = { row: number; cells: readonly string[] };

export type ReadOutcome = {
  header: readonly string[];
  rows: number; // data rows read (blank rows are not counted)
  errors: RowError[];
  omittedErrors: number;
  /** The header or the CSV syntax is broken. */
  fatal: boolean;
};

export const normalizeHeader = (name: string): string => name.trim().replace(/^\*+/, '').replace(/\s+/g, ' ').toLowerCase();

const isBlank = (cells: readonly string[]): boolean => cells.every((c) => c.trim() === '');

export const filledCells = (cells: readonly string[]): number => cells.filter((c) => c.trim() !== '').length;

/** Collects errors up to a cap; the rest are counted. */
export class ErrorList {
  readonly errors: RowError[] = [];
  omitted = 0;
  constructor(private readonly max: number) {}
  add(error: RowError): void {
    if (this.errors.length < this.max) this.errors.push(error);
    else this.omitted += 1;
  }
  get count(): number {
    return this.errors.length + this.omitted;
  }
}

export const cellError = (row: number, column: string, value: string, problem: string): RowError => ({
  row, column, value, message: `row ${row}, ${column}: ${JSON.stringify(value)} ${problem}`,
});

const headerError = (row: number, column: string, problem: string): RowError => ({ row, column, value: '', message: `row ${row}: ${problem}` });

const resolveLayout = <F extends string>(record: Row, specs: readonly ColumnSpec<F>[]): { layout: PresetLayout<F>; problems: RowError[] } => {
  const names = record.cells.map(normalizeHeader);
  const listing = record.cells.map((c) => c.trim()).filter((c) => c !== '').join(', ') || '(no column names)';
  const index = {} as Record<F, number>;
  const columns: Partial<Record<F, string>> = {};
  const problems: RowError[] = [];
  for (const spec of specs) {
    const accepted = spec.names.map(normalizeHeader);
    const found = names.flatMap((name, i) => (name !== '' && accepted.includes(name) ? [i] : []));
    index[spec.field] = -1;
    const [first] = found;
    if (first === undefined) {
      if (spec.required) {
        const also = spec.names.length > 1 ? ` (or ${spec.names.slice(1).map((n) => `"${n}"`).join(', ')})` : '';
        problems.push(headerError(record.row, spec.names[0] ?? spec.field, `required column "${spec.names[0] ?? spec.field}"${also} is missing; the file has: ${listing}`));
      }
      continue;
    }
    if (found.length > 1) {
      const written = found.map((i) => `"${(record.cells[i] ?? '').trim()}"`).join(', ');
      problems.push(headerError(record.row, (record.cells[first] ?? '').trim(), `columns ${written} all read as ${spec.names[0] ?? spec.field}; keep one`));
      continue;
    }
    index[spec.field] = first;
    columns[spec.field] = (record.cells[first] ?? '').trim();
  }
  return { layout: { row: record.row, header: record.cells, index, columns }, problems };
};

/**
 * Reads a report export: title lines above the header (rows with at most one filled cell) are skipped, the first
 * row with several filled cells is the header, and every later non-blank row goes to the handler, which returns
 * its errors. Rows are numbered as a spreadsheet shows them.
 */
export const readExport = <F extends string>(
  text: string,
  specs: readonly ColumnSpec<F>[],
  maxErrors: number | undefined,
  extraHeaderChecks: (layout: PresetLayout<F>) => RowError[],
  makeHandler: (layout: PresetLayout<F>) => (row: Row) => RowError[],
): ReadOutcome => {
  const list = new ErrorList(maxErrors ?? DEFAULT_MAX_ERRORS);
  let layout: PresetLayout<F> | null = null;
  let handle: ((row: Row) => RowError[]) | null = null;
  let rows = 0;
  let lastRow = 0;
  let syntax: RowError | null = null;
  try {
    parse(text, {
      bom: true,
      relax_column_count: true,
      relax_quotes: true,
      record_delimiter: ['\r\n', '\n', '\r'],
      on_record: (cells: string[], context) => {
        lastRow = context.records;
        if (isBlank(cells)) return null;
        const record: Row = { row: context.records, cells };
        if (layout === null) {
          if (filledCells(cells) <= 1) return null;
          const resolved = resolveLayout(record, specs);
          layout = resolved.layout;
          const problems = [...resolved.problems, ...extraHeaderChecks(layout)];
          for (const p of problems) list.add(p);
          if (problems.length === 0) handle = makeHandler(layout);
          return null;
        }
        rows += 1;
        if (handle !== null) for (const e of handle(record)) list.add(e);
        return null;
      },
    });
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    syntax = { row: lastRow + 1, column: '', value: '', message: `row ${lastRow + 1}: ${error.message}` };
    list.add(syntax);
  }
  const found = layout as PresetLayout<F> | null;
  if (found === null && syntax === null) list.add(headerError(1, '', 'the file has no header row'));
  return { header: found?.header ?? [], rows, errors: list.errors, omittedErrors: list.omitted, fatal: syntax !== null || handle === null };
};

/** The trimmed cell of a field ('' when the file lacks the column). */
export const cellOf = <F extends string>(layout: PresetLayout<F>, cells: readonly string[]) => (field: F): string => {
  const i = layout.index[field];
  return i < 0 ? '' : (cells[i] ?? '').trim();
};

/** The column a field was read from, or its first accepted name when the file lacks it. */
export const columnOf = <F extends string>(layout: PresetLayout<F>, specs: readonly ColumnSpec<F>[], field: F): string =>
  layout.columns[field] ?? specs.find((s) => s.field === field)?.names[0] ?? field;

// ---------------------------------------------------------------------------------------------------------
// Dates

/** Reads dates in any of several formats (the first that fits wins). */
export type MultiDateReader = { describe: string; read: (text: string) => IsoDate | null };

export const dateReaders = (formats: readonly string[]): MultiDateReader => {
  let readers: DateReader[];
  try {
    readers = formats.map((f) => compileDateFormat(f));
  } catch (error) {
    throw new CsvOptionError(error instanceof Error ? error.message : String(error));
  }
  return {
    describe: readers.map((r) => r.format).join(' or '),
    read: (text) => {
      for (const r of readers) {
        const date = r.read(text);
        if (date !== null) return date;
      }
      return null;
    },
  };
};

// ---------------------------------------------------------------------------------------------------------
// Cell rules

const REQUIRED = 'is empty but required';
// eslint-disable-next-line no-control-regex -- control characters are exactly what this looks for
const CONTROL = /[\u0000-\u001f\u007f]/;

export const requiredText = z.string().refine((v) => v !== '', REQUIRED);

/** An id or number used as a key: required, no control characters (the store refuses them). */
export const idText = z.string().refine((v) => v !== '' && !CONTROL.test(v), {
  error: (issue) => (issue.input === '' ? REQUIRED : 'contains a control character (tab or line break)'),
});

export const optionalKey = z.string().refine((v) => !CONTROL.test(v), 'contains a control character (tab or line break)');

export const dateText = (reader: MultiDateReader, snapshotDate: IsoDate | null = null) => {
  const problem = (v: string): string | null => {
    if (v === '') return REQUIRED;
    const date = reader.read(v);
    if (date === null) return `is not a date in ${reader.describe}`;
    if (snapshotDate !== null && date > snapshotDate) return `is after the snapshot date ${snapshotDate}`;
    return null;
  };
  return z.string().refine((v) => problem(v) === null, { error: (issue) => problem(String(issue.input)) ?? '' });
};

/** The row's currency: the cell upper-cased, else the default; null when neither names a currency code. */
export const readCurrency = (cell: string, fallback: string | null): string | null => {
  if (cell === '') return fallback;
  const code = cell.toUpperCase();
  return isCurrencyCode(code) ? code : null;
};

export const currencyText = (fallback: string | null) =>
  z.string().refine((v) => readCurrency(v, fallback) !== null, {
    error: (issue) => (issue.input === '' ? 'is empty and no default currency was given (--currency)' : 'is not a 3-letter currency code'),
  });

/** Minor units of an amount cell in `currency`, or the reason it is not one. */
export const readAmount = (cell: string, currency: string, { required, negative }: { required: boolean; negative: boolean }):
  { minor: number | null } | { problem: string } => {
  if (cell === '') return required ? { problem: REQUIRED } : { minor: null };
  const decimal = readDecimal(cell);
  if (decimal === null) return { problem: 'is not an amount' };
  const minor = parseMinor(decimal.text, currency);
  if (minor === null) {
    const exponent = currencyExponent(currency);
    return { problem: decimal.fractionDigits > exponent ? `has more decimals than ${currency} allows (${exponent})` : 'is too large' };
  }
  if (minor < 0 && !negative) return { problem: 'is negative' };
  return { minor };
};

/** An amount cell in a currency known for the row (null: the currency cell has its own error). */
export const amountText = (currency: string | null, required: boolean, negative = false) =>
  z.string().refine((v) => currency === null || 'minor' in readAmount(v, currency, { required, negative }), {
    error: (issue) => {
      const read = currency === null ? { minor: null } : readAmount(String(issue.input), currency, { required, negative });
      return 'problem' in read ? read.problem : '';
    },
  });

/** Reads an accepted amount cell (see amountText). */
export const acceptedAmount = (cell: string, currency: string): number | null => {
  const read = readAmount(cell, currency, { required: false, negative: true });
  if ('problem' in read) throw new Error(`an accepted amount did not convert: ${cell}`);
  return read.minor;
};

export const quantityText = z.string().refine((v) => v === '' || readDecimal(v) !== null, 'is not a number');

export const readQuantity = (cell: string): number | null => {
  const decimal = cell === '' ? null : readDecimal(cell);
  return decimal === null ? null : Number(decimal.text);
};

/** Maps zod issues of a row object to errors; the issue path's first element is the field. */
export const issuesToErrors = <F extends string>(
  issues: readonly z.core.$ZodIssue[], row: number, column: (field: F) => string, cell: (field: F) => string,
): RowError[] =>
  issues.map((issue) => {
    const field = String(issue.path[0] ?? '') as F;
    return cellError(row, column(field), cell(field), issue.message);
  });

/** A customer's key from its name: trimmed, inner whitespace collapsed (case kept). */
export const customerKey = (name: string): string => name.trim().replace(/\s+/g, ' ');

/** One "N word" phrase with a plural. */
export const countOf = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
