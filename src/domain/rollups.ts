import type { CreditCheck } from './credit';
import { dayIndex } from './day-index';
import { emptyInvoiceState, isLiveAt, readInvoiceState } from './invoice-state';
import { computeMetrics } from './metrics';
import { formatMinor } from './money';
import type { Policy } from './policy';
import { scoreRisk } from './risk';
import type { InvoiceFact, IsoDate } from './types';

/**
 * The values ARBridge writes onto HubSpot records: pure functions of (facts, as-of date, policy). Values are
 * strings in the form HubSpot stores for the property's type (numbers as plain decimals, dates as
 * YYYY-MM-DD, enumerations as their option value); an empty string clears a property.
 */
export type PropertyValues = Record<string, string>;

/** The company properties a roll-up sets (all in the `arbridge` group; see hubspot/properties.ts). */
export const COMPANY_ROLLUP_PROPERTIES = [
  'arbridge_currency',
  'arbridge_outstanding',
  'arbridge_overdue',
  'arbridge_overdue_over_60',
  'arbridge_open_invoices',
  'arbridge_avg_days_late',
  'arbridge_on_time_rate',
  'arbridge_dso',
  'arbridge_risk_score',
  'arbridge_risk_tier',
  'arbridge_risk_reason',
  'arbridge_last_payment_date',
] as const;

/** The deal properties a roll-up sets. */
export const DEAL_ROLLUP_PROPERTIES = [
  'arbridge_currency',
  'arbridge_invoiced',
  'arbridge_collected',
  'arbridge_outstanding',
  'arbridge_overdue',
  'arbridge_invoice_count',
  'arbridge_credit_check',
  'arbridge_credit_utilisation',
] as const;

/** The options of `arbridge_credit_check`. */
export const CREDIT_CHECK_VALUES = ['ok', 'over_limit', 'no_limit'] as const;

/** One decimal place, no trailing ".0" noise beyond what HubSpot shows; '' for undefined figures. */
const decimal1 = (value: number | null): string => (value === null || !Number.isFinite(value) ? '' : String(Math.round(value * 10) / 10));

/**
 * The currency a record's figures are given in when its invoices use several: the one with the most invoices
 * live at D, then the larger total, then the code. Counting invoices (not open amounts) keeps the choice
 * from flipping back and forth as payments arrive.
 */
export const primaryCurrency = (invoices: readonly InvoiceFact[], asOf: IsoDate): string | null => {
  const tally = new Map<string, { count: number; total: number }>();
  for (const invoice of invoices) {
    if (!isLiveAt(invoice, asOf)) continue;
    const entry = tally.get(invoice.currency) ?? { count: 0, total: 0 };
    entry.count += 1;
    entry.total += invoice.totalMinor;
    tally.set(invoice.currency, entry);
  }
  let best: [string, { count: number; total: number }] | null = null;
  for (const candidate of tally) {
    if (best === null) {
      best = candidate;
      continue;
    }
    const [code, { count, total }] = candidate;
    const [bestCode, bestTally] = best;
    if (count > bestTally.count || (count === bestTally.count && (total > bestTally.total || (total === bestTally.total && code < bestCode)))) {
      best = candidate;
    }
  }
  return best ? best[0] : null;
};

/**
 * A company's roll-up from the invoices of every accounting customer linked to it, as of D. Returns null when
 * none of them is live at D (nothing to say yet: the properties are left as they are, or cleared when they
 * were written before).
 */
export const companyRollup = (invoices: readonly InvoiceFact[], asOf: IsoDate, policy: Policy): PropertyValues | null => {
  const currency = primaryCurrency(invoices, asOf);
  if (currency === null) return null;
  const list = invoices.filter((invoice) => invoice.currency === currency);
  const metrics = computeMetrics(list, asOf, policy);
  const risk = scoreRisk(list, asOf, policy);
  const asOfDay = dayIndex(asOf);
  const state = emptyInvoiceState();
  let over60 = 0;
  let lastPayment = '';
  for (const invoice of list) {
    for (const s of invoice.settlements) {
      if (s.kind === 'payment' && s.date <= asOf && s.date > lastPayment) lastPayment = s.date;
    }
    readInvoiceState(invoice, asOf, null, state);
    if (!state.visible) continue;
    const open = invoice.totalMinor - state.settled;
    if (open > 0 && asOfDay - dayIndex(invoice.dueDate) > 60) over60 += open;
  }
  return {
    arbridge_currency: currency,
    arbridge_outstanding: formatMinor(metrics.outstandingMinor, currency),
    arbridge_overdue: formatMinor(metrics.overdueMinor, currency),
    arbridge_overdue_over_60: formatMinor(over60, currency),
    arbridge_open_invoices: String(metrics.openCount),
    arbridge_avg_days_late: decimal1(metrics.weightedDaysLate),
    arbridge_on_time_rate: metrics.onTimeRate === null ? '' : decimal1(metrics.onTimeRate * 100),
    arbridge_dso: decimal1(metrics.dsoCountback),
    arbridge_risk_score: String(risk.score),
    arbridge_risk_tier: risk.tier,
    arbridge_risk_reason: risk.reasons[0] ?? '',
    arbridge_last_payment_date: lastPayment,
  };
};

/**
 * One invoice of a deal reduced to what the deal roll-up needs, as of D: `settledMinor` counts payments,
 * credit notes and write-offs dated on or before D; `collectedMinor` counts payments only.
 */
export type DealInvoiceLine = {
  currency: string;
  totalMinor: number;
  issueDate: IsoDate;
  dueDate: IsoDate;
  voidedDate: IsoDate | null;
  settledMinor: number;
  collectedMinor: number;
};

/**
 * A deal's roll-up: invoiced (totals of its invoices issued and not voided by D), collected (payments), open
 * and overdue amounts, in the currency most of its invoices use. null when none is live at D.
 */
export const dealRollup = (lines: readonly DealInvoiceLine[], asOf: IsoDate): PropertyValues | null => {
  const live = lines.filter((line) => line.issueDate <= asOf && (line.voidedDate === null || line.voidedDate > asOf));
  const counts = new Map<string, number>();
  for (const line of live) counts.set(line.currency, (counts.get(line.currency) ?? 0) + 1);
  let currency: string | null = null;
  for (const [code, count] of counts) {
    const best = currency === null ? -1 : (counts.get(currency) as number);
    if (count > best || (count === best && currency !== null && code < currency)) currency = code;
  }
  if (currency === null) return null;
  let invoiced = 0;
  let collected = 0;
  let outstanding = 0;
  let overdue = 0;
  let count = 0;
  for (const line of live) {
    if (line.currency !== currency) continue;
    count += 1;
    invoiced += line.totalMinor;
    collected += line.collectedMinor;
    const open = Math.max(0, line.totalMinor - line.settledMinor);
    outstanding += open;
    if (line.dueDate < asOf) overdue += open;
  }
  return {
    arbridge_currency: currency,
    arbridge_invoiced: formatMinor(invoiced, currency),
    arbridge_collected: formatMinor(collected, currency),
    arbridge_outstanding: formatMinor(outstanding, currency),
    arbridge_overdue: formatMinor(overdue, currency),
    arbridge_invoice_count: String(count),
  };
};

/**
 * A deal's credit-check properties: `ok` or `over_limit` (outstanding + the deal's amount not invoiced yet
 * against the customer's limit) with the utilisation in percent, or `no_limit` when the customer has none.
 * A check that cannot be made (the deal's amount in another currency than the limit) sets nothing.
 */
export const dealCreditValues = (check: CreditCheck | null | 'no_limit'): PropertyValues => {
  if (check === null) return {};
  if (check === 'no_limit') return { arbridge_credit_check: 'no_limit', arbridge_credit_utilisation: '' };
  return {
    arbridge_credit_check: check.exceeds ? 'over_limit' : 'ok',
    arbridge_credit_utilisation: check.utilisation === null ? '' : decimal1(check.utilisation * 100),
  };
};

/**
 * The writes that bring HubSpot from `written` (what was last confirmed written) to `wanted`. A property
 * wanted but never written with an empty value needs no write; a property written before and no longer
 * wanted is cleared with ''.
 */
export const propertyDiff = (wanted: PropertyValues | null, written: Readonly<Record<string, string>>): PropertyValues => {
  const diff: PropertyValues = {};
  if (wanted) {
    for (const [name, value] of Object.entries(wanted)) {
      const before = written[name];
      if (before === undefined ? value !== '' : before !== value) diff[name] = value;
    }
  }
  for (const [name, before] of Object.entries(written)) {
    if ((wanted === null || !(name in wanted)) && before !== '') diff[name] = '';
  }
  return diff;
};
