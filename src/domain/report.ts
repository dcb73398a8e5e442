import { z } from 'zod';
import { isIsoDate } from './calendar';
import { computeMetrics, type Metrics } from './metrics';
import { formatMinor } from './money';
import type { Policy } from './policy';
import { EMPTY_RISK_LOG, scoreRisk, type RiskLog } from './risk';
import { ReportMetricsSchema, ReportRiskSchema } from '../../extensions/card-api';
import type { CustomerFact, GroupDimension, InvoiceFact, IsoDate } from './types';

/** The key of a group whose dimension value is missing (null or empty). */
export const NONE_KEY = '(none)';

export { ReportMetricsSchema, ReportRiskSchema };

/** A group row; `name` (customer name or null) is present only when grouping by customer. */
export const ReportGroupSchema = z.strictObject({
  key: z.string().min(1),
  name: z.string().nullable().optional(),
  metrics: ReportMetricsSchema,
  risk: ReportRiskSchema,
  /** The payment terms on record for the customer (its company's latest acknowledgment), or null; customer groups of the service's reports only. */
  terms: z.string().nullable().optional(),
});

/** The JSON contract of one report (one currency). */
export const ReportSchema = z.strictObject({
  as_of: z.string().refine(isIsoDate, 'as_of is a YYYY-MM-DD calendar date'),
  currency: z.string().regex(/^[A-Z]{3}$/),
  portfolio: ReportMetricsSchema,
  groups: z.array(ReportGroupSchema),
});

export type ReportMetrics = z.infer<typeof ReportMetricsSchema>;
export type ReportRisk = z.infer<typeof ReportRiskSchema>;
export type ReportGroup = z.infer<typeof ReportGroupSchema>;
export type Report = z.infer<typeof ReportSchema>;

export type BuildReportsInput = {
  invoices: readonly InvoiceFact[];
  customers: readonly CustomerFact[];
  asOf: IsoDate;
  policy: Policy;
  by: GroupDimension;
  /** Each customer's communication log (by customer id) for its risk score; used when grouping by customer. */
  logs?: ReadonlyMap<string, RiskLog>;
};

/** Rounds half away from zero to `digits` decimals, immune to binary artefacts such as 1.005 × 100. */
export const roundTo = (value: number, digits: number): number => {
  const factor = 10 ** digits;
  const scaled = Number((Math.abs(value) * factor).toPrecision(15));
  const rounded = (Math.sign(value) * Math.round(scaled)) / factor;
  return rounded === 0 ? 0 : rounded;
};

const roundOrNull = (value: number | null, digits: number): number | null =>
  value === null ? null : roundTo(value, digits);

/** Metrics → report shape: money via formatMinor, days to 1 decimal, rates to 4 decimals, CEI to 1 decimal. */
export const toReportMetrics = (m: Metrics, currency: string): ReportMetrics => ({
  invoice_count: m.invoiceCount,
  open_count: m.openCount,
  outstanding: formatMinor(m.outstandingMinor, currency),
  overdue: formatMinor(m.overdueMinor, currency),
  aging: m.aging.map((b) => ({ bucket: b.label, amount: formatMinor(b.amountMinor, currency), count: b.count })),
  dso_simple: roundOrNull(m.dsoSimple, 1),
  dso_countback: roundTo(m.dsoCountback, 1),
  bpdso: roundOrNull(m.bpdso, 1),
  add: roundOrNull(m.add, 1),
  cei: roundOrNull(m.cei, 1),
  on_time_rate: roundOrNull(m.onTimeRate, 4),
  weighted_days_late: roundOrNull(m.weightedDaysLate, 1),
  at_risk_rate: roundOrNull(m.atRiskRate, 4),
  over_60_share: roundOrNull(m.over60Share, 4),
});

const present = (value: string | null | undefined): string => (value === null || value === undefined || value === '' ? NONE_KEY : value);

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const groupKey = (
  invoice: InvoiceFact,
  by: GroupDimension,
  customers: ReadonlyMap<string, CustomerFact>,
): string => {
  switch (by) {
    case 'customer':
      return present(invoice.customerId);
    case 'rep':
      return present(invoice.salesRep);
    case 'product':
      return present(invoice.product);
    case 'industry':
      return present(customers.get(invoice.customerId)?.industry);
    case 'country':
      return present(customers.get(invoice.customerId)?.country);
  }
};

const bucketsOf = <T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> => {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const list = map.get(key);
    if (list === undefined) map.set(key, [item]);
    else list.push(item);
  }
  return map;
};

/**
 * One report per currency of the invoices issued on or before asOf (sorted by currency code), each with
 * portfolio metrics (see Metrics) and one group per value of `by`: customer → invoice.customerId,
 * rep → salesRep, product → product, industry / country → the invoice customer's CustomerFact. A missing
 * value (null, empty, or no CustomerFact) groups under "(none)". Groups are sorted by key (plain code-unit
 * order) and exist only when they hold an invoice issued on or before asOf (even a voided one). Invoices
 * issued after asOf appear nowhere. Customer groups carry the customer's name (null when unknown).
 * Each group also carries scoreRisk of its invoices (and, grouped by customer, of the customer's log in `logs`).
 */
export const buildReports = ({ invoices, customers, asOf, policy, by, logs }: BuildReportsInput): Report[] => {
  if (!isIsoDate(asOf)) throw new Error(`asOf is not a calendar date: ${asOf}`);
  const customerById = new Map(customers.map((c) => [c.id, c] as const));
  const issued = invoices.filter((inv) => inv.issueDate <= asOf);
  const byCurrency = bucketsOf(issued, (inv) => inv.currency);

  return [...byCurrency.keys()].sort(byText).map((currency): Report => {
    const list = byCurrency.get(currency) ?? [];
    const groups = bucketsOf(list, (inv) => groupKey(inv, by, customerById));
    return {
      as_of: asOf,
      currency,
      portfolio: toReportMetrics(computeMetrics(list, asOf, policy), currency),
      groups: [...groups.keys()].sort(byText).map((key): ReportGroup => {
        const members = groups.get(key) ?? [];
        const metrics = toReportMetrics(computeMetrics(members, asOf, policy), currency);
        const risk = scoreRisk(members, asOf, policy, (by === 'customer' ? logs?.get(key) : undefined) ?? EMPTY_RISK_LOG);
        return by === 'customer'
          ? { key, name: customerById.get(key)?.name ?? null, metrics, risk }
          : { key, metrics, risk };
      }),
    };
  });
};
