import { daysInMonth, isIsoDate, addDays, monthStart } from './calendar';
import { dayIndex, dayOfMonth, monthIndex } from './day-index';
import { emptyInvoiceState, readInvoiceState } from './invoice-state';
import type { Policy } from './policy';
import type { InvoiceFact, IsoDate } from './types';

/**
 * Receivables metrics of one currency as of a date D. Only facts dated on or before D are seen: invoices
 * issued after D, settlements dated after D and voids dated after D are ignored.
 *
 * Terms used below:
 * - counted invoice: issued on or before D and not voided on or before D (a void dated after D is ignored).
 * - settled at D: the sum of settlements (payments, credit notes, write-offs alike) dated on or before D.
 * - open at D: a counted invoice whose settled-at-D sum is below its total. Open amount = total − settled.
 * - days past due = D − due date, in days. Due on D is current (0). "Past due" means days past due > 0.
 * - paid date: an invoice is closed (fully paid) on the date of the settlement that brings the settled sum to
 *   the total or above (with several settlements, the last one needed). Invoices with a total ≤ 0 have none.
 * - window: the last N = policy.dsoMonths calendar months ending at D: from the 1st of the month N − 1 months
 *   before D's month through D inclusive, in calendar days (2024-06-15, N = 3 → 2024-04-01..2024-06-15, 76 days).
 * - credit sales: the totals of counted invoices issued in the window.
 * - open AR: sum of open amounts at D. Current AR: open amounts of invoices not past due.
 *
 * Amounts are integer minor units; ratios are not rounded (the report rounds).
 */
export type Metrics = {
  /** The currency of the invoices; null when the list was empty. */
  currency: string | null;
  asOf: IsoDate;
  /** The DSO window: first day, last day (D) and its length in days. */
  window: DsoWindow;
  /** Counted invoices (issued on or before D, not voided on or before D). */
  invoiceCount: number;
  /** Counted invoices open at D. */
  openCount: number;
  /** Open AR at D. */
  outstandingMinor: number;
  /** Open AR of invoices past due (days past due > 0). */
  overdueMinor: number;
  /** Open AR of invoices not past due (days past due ≤ 0). */
  currentMinor: number;
  /** Credit sales of the window. */
  creditSalesMinor: number;
  /**
   * Open AR at the day before the window's first day (the opening balance), with that day as "D": invoices
   * issued and not voided by then, settlements dated by then.
   */
  openingArMinor: number;
  /** Open amounts and counts per aging bucket (see agingBucketLabels). */
  aging: AgingBucket[];
  /** Simple DSO = open AR ÷ credit sales × window days. null when credit sales ≤ 0. */
  dsoSimple: number | null;
  /**
   * Countback DSO. Walk back from D month by month (first the partial month holding D, counting its days up
   * to D, then whole earlier months, going past the window if needed): while the remaining AR is at least the
   * month's credit sales (totals of counted invoices issued that month), subtract those sales and add the
   * month's days. The month whose sales exceed the remaining AR (or equal it) counts pro rata:
   * days × remaining ÷ sales. 0 when open AR is 0. The walk stops after the month of the earliest counted
   * invoice; the days walked so far are the result.
   */
  dsoCountback: number;
  /** Best possible DSO = current AR ÷ credit sales × window days. null when credit sales ≤ 0. */
  bpdso: number | null;
  /** Average days delinquent = simple DSO − best possible DSO. null when either is null. */
  add: number | null;
  /**
   * Collection effectiveness index, in percent:
   * (opening AR + credit sales ÷ N − open AR) ÷ (opening AR + credit sales ÷ N − current AR) × 100.
   * null when the denominator is 0.
   */
  cei: number | null;
  /**
   * Invoices closed within the window (paid date from the window's first day through D) on or before their
   * due date ÷ invoices closed within the window. null when none closed in the window.
   */
  onTimeRate: number | null;
  /**
   * Average days late weighted by invoice total. Counted are: invoices closed within the window with
   * paid date − due date (negative when paid early); open invoices that are past due, disputed, or partly
   * settled (settled at D > 0) with D − due date (negative when not yet due). Open invoices not past due,
   * not disputed and with nothing settled are left out. null when nothing counts (total weight 0).
   */
  weightedDaysLate: number | null;
  /**
   * Counted invoices issued in the window that are open and more than 90 days past due at D ÷ counted
   * invoices issued in the window. null when none was issued in the window.
   */
  atRiskRate: number | null;
  /** Open AR more than 60 days past due ÷ open AR. null when there is no open AR. */
  over60Share: number | null;
};

export type AgingBucket = { label: string; amountMinor: number; count: number };

export type DsoWindow = { start: IsoDate; end: IsoDate; days: number };

/**
 * The DSO window of `months` calendar months ending at `asOf` (inclusive), e.g. 2024-06-15 and 3 months →
 * 2024-04-01..2024-06-15, 76 days.
 */
export const dsoWindow = (asOf: IsoDate, months: number): DsoWindow => {
  const start = monthStart(asOf, months - 1);
  return { start, end: asOf, days: dayIndex(asOf) - dayIndex(start) + 1 };
};

/**
 * Bucket labels for aging boundaries b1 < b2 < … < bk.
 * basis 'due' (days past due): "current" (≤ 0), "1-b1", "(b1+1)-b2", …, "(bk+1)+"; [30,60,90] gives
 * current, 1-30, 31-60, 61-90, 91+.
 * basis 'issue' (days since the issue date, never negative for an issued invoice): "0-b1", "(b1+1)-b2", …,
 * "(bk+1)+"; [30,60,90] gives 0-30, 31-60, 61-90, 91+.
 */
export const agingBucketLabels = (aging: Policy['aging']): string[] => {
  const labels: string[] = aging.basis === 'due' ? ['current'] : [];
  let low = aging.basis === 'due' ? 1 : 0;
  for (const bound of aging.boundaries) {
    labels.push(`${low}-${bound}`);
    low = bound + 1;
  }
  labels.push(`${low}+`);
  return labels;
};

/** Index into agingBucketLabels(aging) for an invoice `days` old (days past due, or days since issue). */
export const agingBucketIndex = (days: number, aging: Policy['aging']): number => {
  const bounds = aging.boundaries;
  const offset = aging.basis === 'due' ? 1 : 0;
  if (offset === 1 && days <= 0) return 0;
  for (let i = 0; i < bounds.length; i++) {
    if (days <= (bounds[i] as number)) return i + offset;
  }
  return bounds.length + offset;
};

const ratio = (part: number, whole: number): number | null => (whole === 0 ? null : part / whole);

/**
 * Computes Metrics (see its fields for each definition) for invoices of ONE currency as of `asOf`.
 * Throws when the invoices mix currencies or `asOf` is not a calendar date. One pass over the invoices
 * (settlements are sorted only for an invoice whose settlements are out of date order), then a walk over
 * months for the countback DSO.
 */
export const computeMetrics = (invoices: readonly InvoiceFact[], asOf: IsoDate, policy: Policy): Metrics => {
  if (!isIsoDate(asOf)) throw new Error(`asOf is not a calendar date: ${asOf}`);
  const currency = invoices[0]?.currency ?? null;
  const window = dsoWindow(asOf, policy.dsoMonths);
  const windowStart = window.start;
  const openingDate = addDays(windowStart, -1);
  const asOfDay = dayIndex(asOf);
  const asOfMonth = monthIndex(asOf);
  const aging = policy.aging;
  const byIssue = aging.basis === 'issue';
  const labels = agingBucketLabels(aging);
  const agingAmounts = new Array<number>(labels.length).fill(0);
  const agingCounts = new Array<number>(labels.length).fill(0);
  const monthlySales = new Map<number, number>();
  const state = emptyInvoiceState();

  let invoiceCount = 0;
  let openCount = 0;
  let outstanding = 0;
  let overdue = 0;
  let over60 = 0;
  let creditSales = 0;
  let openingAr = 0;
  let closedInWindow = 0;
  let closedOnTime = 0;
  let lateWeighted = 0;
  let lateWeight = 0;
  let issuedInWindow = 0;
  let atRisk = 0;
  let earliestMonth = Number.POSITIVE_INFINITY;

  for (let i = 0; i < invoices.length; i++) {
    const inv = invoices[i] as InvoiceFact;
    if (inv.currency !== currency) {
      throw new Error(`computeMetrics takes one currency, got ${String(currency)} and ${inv.currency}`);
    }
    if (inv.issueDate > asOf) continue;
    const total = inv.totalMinor;
    readInvoiceState(inv, asOf, openingDate, state);

    if (inv.issueDate <= openingDate && (inv.voidedDate === null || inv.voidedDate > openingDate)) {
      if (state.settledBefore < total) openingAr += total - state.settledBefore;
    }
    if (!state.visible) continue;

    invoiceCount++;
    const month = monthIndex(inv.issueDate);
    if (month < earliestMonth) earliestMonth = month;
    monthlySales.set(month, (monthlySales.get(month) ?? 0) + total);

    const inWindow = inv.issueDate >= windowStart;
    if (inWindow) {
      creditSales += total;
      issuedInWindow++;
    }

    const settled = state.settled;
    if (settled < total) {
      const open = total - settled;
      const pastDue = asOfDay - dayIndex(inv.dueDate);
      openCount++;
      outstanding += open;
      if (pastDue > 0) overdue += open;
      if (pastDue > 60) over60 += open;
      if (inWindow && pastDue > 90) atRisk++;
      const bucket = agingBucketIndex(byIssue ? asOfDay - dayIndex(inv.issueDate) : pastDue, aging);
      agingAmounts[bucket] = (agingAmounts[bucket] as number) + open;
      agingCounts[bucket] = (agingCounts[bucket] as number) + 1;
      if (pastDue > 0 || inv.disputed || settled > 0) {
        lateWeighted += pastDue * total;
        lateWeight += total;
      }
    } else if (state.paidDate !== null && state.paidDate >= windowStart) {
      closedInWindow++;
      if (state.paidDate <= inv.dueDate) closedOnTime++;
      lateWeighted += (dayIndex(state.paidDate) - dayIndex(inv.dueDate)) * total;
      lateWeight += total;
    }
  }

  const current = outstanding - overdue;
  const dsoSimple = creditSales > 0 ? (outstanding / creditSales) * window.days : null;
  const bpdso = creditSales > 0 ? (current / creditSales) * window.days : null;
  const perMonthSales = creditSales / policy.dsoMonths;
  const ceiDenominator = openingAr + perMonthSales - current;

  return {
    currency,
    asOf,
    window,
    invoiceCount,
    openCount,
    outstandingMinor: outstanding,
    overdueMinor: overdue,
    currentMinor: current,
    creditSalesMinor: creditSales,
    openingArMinor: openingAr,
    aging: labels.map((label, i) => ({ label, amountMinor: agingAmounts[i] ?? 0, count: agingCounts[i] ?? 0 })),
    dsoSimple,
    dsoCountback: countbackDso(outstanding, monthlySales, asOfMonth, dayOfMonth(asOf), earliestMonth),
    bpdso,
    add: dsoSimple !== null && bpdso !== null ? dsoSimple - bpdso : null,
    cei: ceiDenominator === 0 ? null : ((openingAr + perMonthSales - outstanding) / ceiDenominator) * 100,
    onTimeRate: ratio(closedOnTime, closedInWindow),
    weightedDaysLate: ratio(lateWeighted, lateWeight),
    atRiskRate: ratio(atRisk, issuedInWindow),
    over60Share: ratio(over60, outstanding),
  };
};

const countbackDso = (
  outstanding: number,
  monthlySales: ReadonlyMap<number, number>,
  asOfMonth: number,
  asOfDayOfMonth: number,
  earliestMonth: number,
): number => {
  if (outstanding <= 0) return 0;
  let remaining = outstanding;
  let days = 0;
  for (let month = asOfMonth; month >= earliestMonth; month--) {
    const sales = monthlySales.get(month) ?? 0;
    const monthDays = month === asOfMonth ? asOfDayOfMonth : daysInMonth(Math.floor(month / 12), (month % 12) + 1);
    if (sales > 0 && remaining <= sales) return days + (monthDays * remaining) / sales;
    remaining -= sales;
    days += monthDays;
  }
  return days;
};
