import { daysInMonth, isIsoDate } from './calendar';
import { dayIndex, dayOfMonth, monthOf, yearOf } from './day-index';
import { emptyInvoiceState, readInvoiceState } from './invoice-state';
import type { Policy } from './policy';
import { paymentsOf, promiseStatus, type PromiseFact } from './promises';
import type { InvoiceFact, IsoDate } from './types';

import { RISK_TIERS } from '../../extensions/card-api';

export { RISK_TIERS };
export type RiskTier = (typeof RISK_TIERS)[number];

/** score: integer 0..100 (100 = safest); reasons: up to 3 plain sentences, the costliest first. */
export type RiskScore = { score: number; tier: RiskTier; reasons: string[] };

/** The reason given when no invoice of the set was closed on or before D. */
export const NO_HISTORY_REASON = 'no payment history yet';

type Factor = { points: number; reason: string };

/** A dispute logged with the customer: open from `openedOn` until `resolvedOn` (null: still open). */
export type LogDisputeFact = { id: string; openedOn: IsoDate; resolvedOn: IsoDate | null; currency: string | null; invoiceId: string | null };

/** What the customer's communication log adds to the score: its promises to pay and logged disputes. */
export type RiskLog = { promises: readonly PromiseFact[]; disputes: readonly LogDisputeFact[] };

export const EMPTY_RISK_LOG: RiskLog = { promises: [], disputes: [] };

const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve'];

const plural = (count: number, one: string, many: string): string => (count === 1 ? one : many);

/** `date` moved by `months` calendar months, the day clamped to the target month (08-31 − 6 months → 02-29). */
const shiftMonths = (date: IsoDate, months: number): IsoDate => {
  const index = yearOf(date) * 12 + monthOf(date) - 1 + months;
  const year = Math.floor(index / 12);
  const month = (index % 12) + 1;
  const day = Math.min(dayOfMonth(date), daysInMonth(year, month));
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
};

const latenessReason = (looked: number, late: number, veryLate: number, lateDays: number): string => {
  if (looked === 1) {
    return veryLate === 1 ? `the last invoice was paid more than ${lateDays} days late` : 'the last invoice was paid late';
  }
  const of = (count: number): string => `${count} of the last ${looked} invoices ${plural(count, 'was', 'were')}`;
  if (late === veryLate) return `${of(veryLate)} paid more than ${lateDays} days late`;
  if (veryLate === 0) return `${of(late)} paid late`;
  return `${of(late)} paid late, ${veryLate} more than ${lateDays} days late`;
};

type Closed = { id: string; paidDate: IsoDate; daysLate: number };

/** Negative when (paidDate, id) comes before `other` in "latest paid first, then by id" order. */
const laterFirst = (paidDate: IsoDate, id: string, other: Closed): number =>
  paidDate !== other.paidDate ? (paidDate > other.paidDate ? -1 : 1) : id < other.id ? -1 : id > other.id ? 1 : 0;

/**
 * A first risk score for a customer (or any set of invoices, any currencies) as of `asOf`, from facts dated
 * on or before it only. Starts at 100 and subtracts points per factor (weights and thresholds in
 * policy.risk; defaults documented on RiskPolicy):
 * - lateness of the last `lateness.lastInvoices` invoices closed on or before D (latest paid date first,
 *   ties by invoice id): days late = paid date − due date; more than `lateDays` counts 1, more than
 *   `graceDays` counts `mildFactor`; points = weight × sum ÷ invoices looked at.
 * - open disputed invoices: `pointsEach` each, at most `maxPoints`.
 * - share of open AR more than `overdueShare.days` past due × weight (amounts of different currencies are
 *   never added: with several currencies the largest share counts).
 * - the oldest open invoice's days past due p: weight × min(1, (p − grace) ÷ (full − grace)) when p > grace.
 * - trend: mean days late of invoices closed in the last `trend.months` months (paid date in
 *   (D − months, D]) minus that of the `months` months before; when both periods hold at least
 *   `minInvoices` invoices and the difference δ exceeds `minDaysLater`: weight × min(1, δ ÷ fullDaysLater).
 * With no invoice closed on or before D there is no payment history: lateness and trend are replaced by a
 * fixed cost of 100 − neutralScore, reported as "no payment history yet" (an empty set scores neutralScore).
 * Score = round(100 − points), clamped to 0..100. Tier: A ≥ tiers.A, B ≥ tiers.B, C ≥ tiers.C, else D.
 * Reasons name only factors that cost points, costliest first (ties in the order above), at most 3.
 * Voided (on or before D) and not-yet-issued invoices are ignored; `disputed` is the invoice's flag as given.
 *
 * `log` (the customer's communication log; only entries in a currency of the invoices given count, so a
 * per-currency set sees its own):
 * - promises logged on or before D are judged by promiseStatus against the payments of these invoices; each
 *   broken on a day in (D − promises.months months, D] costs `promises.pointsEach`, at most `maxPoints`.
 * - logged disputes open as of D (opened by D, not resolved by D) add to the open disputed invoices (same
 *   weights), except one naming an invoice already counted as disputed or not in the set; several open
 *   disputes of one invoice count once. A dispute without a currency counts in every currency.
 */
export const scoreRisk = (invoices: readonly InvoiceFact[], asOf: IsoDate, policy: Policy, log: RiskLog = EMPTY_RISK_LOG): RiskScore => {
  if (!isIsoDate(asOf)) throw new Error(`asOf is not a calendar date: ${asOf}`);
  const rp = policy.risk;
  const asOfDay = dayIndex(asOf);
  const state = emptyInvoiceState();
  const { lastInvoices, graceDays, lateDays, mildFactor, weight: latenessWeight } = rp.lateness;
  const trend = rp.trend;
  const recentFrom = shiftMonths(asOf, -trend.months);
  const priorFrom = shiftMonths(asOf, -2 * trend.months);
  // The last `lastInvoices` closed invoices, latest first, kept by insertion: O(n × lastInvoices) at worst.
  const latest: Closed[] = [];
  let closedCount = 0;
  const recentTrend = { count: 0, sum: 0 };
  const priorTrend = { count: 0, sum: 0 };
  const openByCurrency = new Map<string, { open: number; over: number }>();
  let oldestPastDue = Number.NEGATIVE_INFINITY;
  let openDisputes = 0;
  const disputedOpen = new Set<string>();
  const openIds = new Set<string>();
  const currencies = new Set<string>();
  const writeOffsFrom = shiftMonths(asOf, -rp.writeOffs.months);
  let writeOffs = 0;

  for (const inv of invoices) {
    if (!readInvoiceState(inv, asOf, null, state).visible) continue;
    currencies.add(inv.currency);
    if (state.writtenOff && inv.settlements.some((s) => s.kind === 'write_off' && s.date > writeOffsFrom && s.date <= asOf)) writeOffs++;
    if (state.settled < inv.totalMinor) {
      const open = inv.totalMinor - state.settled;
      const pastDue = asOfDay - dayIndex(inv.dueDate);
      let sums = openByCurrency.get(inv.currency);
      if (sums === undefined) {
        sums = { open: 0, over: 0 };
        openByCurrency.set(inv.currency, sums);
      }
      sums.open += open;
      if (pastDue > rp.overdueShare.days) sums.over += open;
      if (pastDue > oldestPastDue) oldestPastDue = pastDue;
      openIds.add(inv.id);
      if (inv.disputed) {
        openDisputes++;
        disputedOpen.add(inv.id);
      }
    } else if (state.paidDate !== null) {
      const paidDate = state.paidDate;
      const daysLate = dayIndex(paidDate) - dayIndex(inv.dueDate);
      closedCount++;
      if (paidDate > recentFrom) {
        recentTrend.count++;
        recentTrend.sum += daysLate;
      } else if (paidDate > priorFrom) {
        priorTrend.count++;
        priorTrend.sum += daysLate;
      }
      const last = latest[latest.length - 1];
      if (latest.length < lastInvoices || (last !== undefined && laterFirst(paidDate, inv.id, last) < 0)) {
        let at = latest.length;
        while (at > 0 && laterFirst(paidDate, inv.id, latest[at - 1] as Closed) < 0) at--;
        latest.splice(at, 0, { id: inv.id, paidDate, daysLate });
        if (latest.length > lastInvoices) latest.pop();
      }
    }
  }

  const factors: Factor[] = [];
  if (closedCount === 0) {
    factors.push({ points: 100 - rp.neutralScore, reason: NO_HISTORY_REASON });
  } else {
    const veryLate = latest.filter((c) => c.daysLate > lateDays).length;
    const late = latest.filter((c) => c.daysLate > graceDays).length;
    const lateness = veryLate + mildFactor * (late - veryLate);
    factors.push({
      points: (latenessWeight * lateness) / latest.length,
      reason: latenessReason(latest.length, late, veryLate, lateDays),
    });
  }

  const logged = new Set<string>();
  for (const d of log.disputes) {
    if (d.openedOn > asOf || (d.resolvedOn !== null && d.resolvedOn <= asOf)) continue;
    if (d.currency !== null && !currencies.has(d.currency)) continue;
    if (d.invoiceId === null) logged.add(`dispute:${d.id}`);
    else if (openIds.has(d.invoiceId) && !disputedOpen.has(d.invoiceId)) logged.add(`invoice:${d.invoiceId}`);
  }
  const disputes = openDisputes + logged.size;
  const { pointsEach, maxPoints } = rp.disputes;
  factors.push({
    points: Math.min(maxPoints, disputes * pointsEach),
    reason: logged.size === 0
      ? `${openDisputes} disputed ${plural(openDisputes, 'invoice is', 'invoices are')} open`
      : `${disputes} ${plural(disputes, 'dispute is', 'disputes are')} open`,
  });

  const pp = rp.promises;
  const brokenFrom = shiftMonths(asOf, -pp.months);
  const payments = log.promises.length === 0 ? [] : paymentsOf(invoices, asOf);
  let broken = 0;
  for (const promise of log.promises) {
    if (promise.loggedOn > asOf || !currencies.has(promise.currency)) continue;
    const outcome = promiseStatus(promise, payments, asOf, pp.graceDays);
    if (outcome.status === 'broken' && outcome.decidedOn !== null && outcome.decidedOn > brokenFrom) broken++;
  }
  factors.push({
    points: Math.min(pp.maxPoints, broken * pp.pointsEach),
    reason: `${broken} ${plural(broken, 'promise', 'promises')} to pay broken in the last ${pp.months} months`,
  });

  factors.push({
    points: Math.min(rp.writeOffs.maxPoints, writeOffs * rp.writeOffs.pointsEach),
    reason: `${writeOffs} ${plural(writeOffs, 'invoice was', 'invoices were')} written off in the last ${rp.writeOffs.months} months`,
  });

  let share = 0;
  for (const sums of openByCurrency.values()) share = Math.max(share, sums.over / sums.open);
  const percent = Math.round(share * 100);
  factors.push({
    points: rp.overdueShare.weight * share,
    reason: `${percent === 0 ? 'less than 1' : percent}% of the open balance is more than ${rp.overdueShare.days} days past due`,
  });

  const { graceDays: oldGrace, fullDays, weight: oldWeight } = rp.oldestOpen;
  factors.push({
    points: oldestPastDue > oldGrace ? oldWeight * Math.min(1, (oldestPastDue - oldGrace) / (fullDays - oldGrace)) : 0,
    reason: `the oldest open invoice is ${oldestPastDue} ${plural(oldestPastDue, 'day', 'days')} past due`,
  });

  if (recentTrend.count >= trend.minInvoices && priorTrend.count >= trend.minInvoices) {
    const later = recentTrend.sum / recentTrend.count - priorTrend.sum / priorTrend.count;
    const shown = Math.round(later);
    const span = trend.months <= 12 ? NUMBER_WORDS[trend.months] : String(trend.months);
    factors.push({
      points: later > trend.minDaysLater ? trend.weight * Math.min(1, later / trend.fullDaysLater) : 0,
      reason: `paying ${shown} ${plural(shown, 'day', 'days')} later than ${span} ${plural(trend.months, 'month', 'months')} earlier`,
    });
  }

  const totalPoints = factors.reduce((sum, f) => sum + f.points, 0);
  const score = Math.min(100, Math.max(0, Math.round(100 - totalPoints)));
  const reasons = factors
    .map((f, order) => ({ ...f, order }))
    .filter((f) => f.points > 0)
    .sort((a, b) => b.points - a.points || a.order - b.order)
    .slice(0, 3)
    .map((f) => f.reason);
  return { score, tier: tierOf(score, policy), reasons };
};

/** Tier of a score: A ≥ tiers.A, B ≥ tiers.B, C ≥ tiers.C, else D. */
export const tierOf = (score: number, policy: Policy): RiskTier => {
  const { A, B, C } = policy.risk.tiers;
  return score >= A ? 'A' : score >= B ? 'B' : score >= C ? 'C' : 'D';
};
