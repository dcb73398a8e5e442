import type { InvoiceFact, IsoDate, Settlement } from './types';

/**
 * What one invoice looks like as of a date D, from facts dated on or before D only.
 * Filled in place by readInvoiceState so that a loop over many invoices reuses one record.
 */
export type InvoiceState = {
  /** Issued on or before D and not voided on or before D. Everything else ignores the invoice. */
  visible: boolean;
  /** Sum of settlements (payments, credit notes, write-offs) dated on or before D. */
  settled: number;
  /** Sum of settlements dated on or before the `before` date passed in (0 when none was passed). */
  settledBefore: number;
  /**
   * Paid date: the date of the settlement (in date order, counting only those dated on or before D) that
   * brings the settled sum to the total or above. null while the invoice is open at D, for invoices whose
   * total is zero or negative (no settlement closes those), and for invoices that were closed without being
   * paid: written off (a write-off among their settlements) or cancelled (credit notes only). Those count
   * neither as paid on time nor as paid late.
   */
  paidDate: IsoDate | null;
  /** A write-off dated on or before D is among the settlements. */
  writtenOff: boolean;
};

export const emptyInvoiceState = (): InvoiceState => ({ visible: false, settled: 0, settledBefore: 0, paidDate: null, writtenOff: false });

/** True when issued on or before `date` and not voided on or before `date`. */
export const isLiveAt = (invoice: InvoiceFact, date: IsoDate): boolean =>
  invoice.issueDate <= date && (invoice.voidedDate === null || invoice.voidedDate > date);

const byDate = (a: Settlement, b: Settlement): number => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0);

const closingDate = (invoice: InvoiceFact, asOf: IsoDate): IsoDate | null => {
  const sorted = invoice.settlements.filter((s) => s.date <= asOf).sort(byDate);
  let settled = 0;
  for (const s of sorted) {
    settled += s.amountMinor;
    if (settled >= invoice.totalMinor) return s.date;
  }
  return null;
};

/**
 * Reads `invoice` as of `asOf` into `out` (and returns it). Settlements may come in any order: they are read
 * in one pass, and only an invoice whose settlements are out of date order and that is closed at D gets a
 * sorted copy to find its paid date. `before` (a date before asOf, or null) also sums settlements up to it,
 * for opening balances; `settledBefore` is filled even when the invoice is not visible at D.
 */
export const readInvoiceState = (
  invoice: InvoiceFact,
  asOf: IsoDate,
  before: IsoDate | null,
  out: InvoiceState,
): InvoiceState => {
  out.visible = isLiveAt(invoice, asOf);
  const total = invoice.totalMinor;
  const list = invoice.settlements;
  let settled = 0;
  let settledBefore = 0;
  let paidDate: IsoDate | null = null;
  let previous = '';
  let inOrder = true;
  let writtenOff = false;
  let paidSome = false;
  for (let i = 0; i < list.length; i++) {
    const s = list[i] as Settlement;
    const date = s.date;
    if (date > asOf) continue;
    settled += s.amountMinor;
    if (s.kind === 'write_off') writtenOff = true;
    else if (s.kind === 'payment') paidSome = true;
    if (before !== null && date <= before) settledBefore += s.amountMinor;
    if (date < previous) inOrder = false;
    previous = date;
    if (paidDate === null && total > 0 && settled >= total) paidDate = date;
  }
  if (total <= 0 || settled < total || writtenOff || !paidSome) paidDate = null;
  else if (!inOrder) paidDate = closingDate(invoice, asOf);
  out.writtenOff = writtenOff;
  out.settled = settled;
  out.settledBefore = settledBefore;
  out.paidDate = paidDate;
  return out;
};
