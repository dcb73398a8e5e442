import type { CustomerFact, IsoDate } from '../../domain/types';
import type { RowError } from '../csv-parse';

/** Report exports ARBridge reads as snapshots of balances (`arbridge import invoices FILE --preset NAME`). */
export const PRESET_NAMES = ['xero-invoices', 'ar-aging'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/** The store source of each preset: its own, so that its ids never collide with another source's. */
export const PRESET_SOURCES: Readonly<Record<PresetName, string>> = { 'xero-invoices': 'xero-export', 'ar-aging': 'ar-aging' };

export type PresetParseOptions = {
  /** The date the export shows balances for. */
  snapshotDate: IsoDate;
  /** How dates are written; default: the preset's usual formats (see each preset). */
  dateFormat?: string;
  /** Currency for rows without one. */
  currency?: string;
  maxErrors?: number;
};

export type SnapshotLine = {
  itemCode: string | null;
  description: string | null;
  quantity: number | null;
  /** Minor units of the invoice's currency, as the export writes the line (tax-exclusive or not). */
  amountMinor: number | null;
};

/** An invoice as one snapshot shows it: its facts and how much of it was settled at the snapshot date. */
export type SnapshotInvoice = {
  row: number; // its first row
  id: string;
  number: string;
  customerId: string;
  currency: string;
  totalMinor: number;
  issueDate: IsoDate;
  dueDate: IsoDate;
  /** undefined when the export has no such column (stored values are kept). */
  reference?: string | null;
  product?: string | null;
  lines: SnapshotLine[];
  voided: boolean;
  /** Paid at the snapshot date (payments), cumulative. */
  paidMinor: number;
  /** Credited at the snapshot date (credit notes), cumulative. */
  creditedMinor: number;
  /** The export's status or type text, kept with the invoice. */
  status: string;
};

export type SkipCount = { reason: string; count: number };

export type SnapshotFile = {
  preset: PresetName;
  rows: number;
  header: readonly string[];
  /** The column each invoice field came from (for errors found later): currency. */
  currencyColumn: string;
  invoices: SnapshotInvoice[];
  customers: CustomerFact[];
  /** Invoices the export lists as deleted: removed from the store if they are there. */
  deleted: string[];
  /** Documents the preset does not import, by reason. */
  skipped: SkipCount[];
  /** The export lists open documents only: an invoice that is no longer listed was settled. */
  openOnly: boolean;
  errors: RowError[];
  omittedErrors: number;
  fatal: boolean;
};

/** Counts of skipped documents, in the order reasons first occur. */
export class SkipTally {
  private readonly seen = new Map<string, Set<string>>();
  add(reason: string, key: string): void {
    const keys = this.seen.get(reason) ?? new Set<string>();
    keys.add(key);
    this.seen.set(reason, keys);
  }
  list(): SkipCount[] {
    return [...this.seen].map(([reason, keys]) => ({ reason, count: keys.size }));
  }
}
