import { daysBetween, monthStart } from './calendar';
import { emptyInvoiceState, readInvoiceState } from './invoice-state';
import type { InvoiceFact, IsoDate } from './types';

/** Days late of the invoices paid in one calendar month. */
export type MonthTrend = {
  /** `YYYY-MM`. */
  month: string;
  /** Invoices whose payments closed them in the month (write-offs and credit-note closures do not count). */
  paid: number;
  /** Amount-weighted average of paid date − due date over them (negative: early); null when none was paid. */
  avgDaysLate: number | null;
};

/**
 * Days late per month for the `months` calendar months ending with the month of `asOf` (oldest first), from
 * facts dated on or before `asOf` only. One currency's invoices (amounts are weights).
 */
export const daysLateByMonth = (invoices: readonly InvoiceFact[], asOf: IsoDate, months = 12): MonthTrend[] => {
  const first = monthStart(asOf, months - 1);
  const sums = new Map<string, { weight: number; weighted: number; paid: number }>();
  const state = emptyInvoiceState();
  for (const invoice of invoices) {
    readInvoiceState(invoice, asOf, null, state);
    const paidDate = state.paidDate;
    if (!state.visible || paidDate === null || paidDate < first) continue;
    const month = paidDate.slice(0, 7);
    const entry = sums.get(month) ?? { weight: 0, weighted: 0, paid: 0 };
    entry.paid += 1;
    entry.weight += invoice.totalMinor;
    entry.weighted += invoice.totalMinor * daysBetween(invoice.dueDate, paidDate);
    sums.set(month, entry);
  }
  const out: MonthTrend[] = [];
  for (let back = months - 1; back >= 0; back--) {
    const month = monthStart(asOf, back).slice(0, 7);
    const entry = sums.get(month);
    out.push({
      month,
      paid: entry?.paid ?? 0,
      avgDaysLate: entry && entry.weight > 0 ? Math.round((entry.weighted / entry.weight) * 10) / 10 : null,
    });
  }
  return out;
};
