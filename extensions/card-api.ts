import { z } from 'zod';

// The card API contract: what the service answers and what the cards parse. One definition for both sides.

const Money = z.string().regex(/^-?\d+(\.\d+)?$/, 'a decimal string');
const IsoDate = z.iso.date();

const count = z.number().int().min(0);
const days = z.number().nullable();
const rate = z.number().min(0).max(1).nullable();

/**
 * Receivables metrics of one currency as of a date (the report contract, also shown on cards): money as
 * decimal strings of that currency, days and rates as numbers, CEI as a percentage, null where undefined.
 */
export const ReportMetricsSchema = z.strictObject({
  invoice_count: count,
  open_count: count,
  outstanding: Money,
  overdue: Money,
  aging: z.array(z.strictObject({ bucket: z.string().min(1), amount: Money, count })),
  dso_simple: days,
  dso_countback: z.number(),
  bpdso: days,
  add: days,
  cei: z.number().nullable(),
  on_time_rate: rate,
  weighted_days_late: days,
  at_risk_rate: rate,
  over_60_share: rate,
});

export const RISK_TIERS = ['A', 'B', 'C', 'D'] as const;

export const ReportRiskSchema = z.strictObject({
  score: z.number().int().min(0).max(100),
  tier: z.enum(RISK_TIERS),
  reasons: z.array(z.string().min(1)).max(3),
});

export const InvoiceLineSchema = z.object({
  id: z.string(),
  number: z.string().nullable(),
  currency: z.string().length(3),
  amount: Money,
  paid: Money,
  open: Money,
  issue_date: IsoDate,
  due_date: IsoDate,
  paid_date: IsoDate.nullable(),
  days_late: z.number().int().nullable(),
  status: z.enum(['paid', 'open', 'overdue', 'void', 'written_off', 'credited']),
  disputed: z.boolean(),
  sales_rep: z.string().nullable(),
  product: z.string().nullable(),
  deal_id: z.string().nullable(),
});

export const SettlementLineSchema = z.object({
  id: z.string(),
  invoice_id: z.string(),
  date: IsoDate,
  amount: Money,
  currency: z.string().length(3),
  kind: z.enum(['payment', 'credit_note', 'write_off']),
});

/** `GET /api/v1/companies/:customerId/summary?asOf=`: everything a company view shows about one customer. */
export const CompanySummarySchema = z.object({
  as_of: IsoDate,
  customer: z.object({
    id: z.string(),
    name: z.string().nullable(),
    domain: z.string().nullable(),
    industry: z.string().nullable(),
    country: z.string().nullable(),
  }),
  /** One entry per currency the customer is invoiced in; amounts of different currencies are never added. */
  currencies: z.array(z.object({ currency: z.string().length(3), metrics: ReportMetricsSchema, risk: ReportRiskSchema })),
  invoices: z.array(InvoiceLineSchema),
  payments: z.array(SettlementLineSchema),
});

export type CompanySummary = z.infer<typeof CompanySummarySchema>;
