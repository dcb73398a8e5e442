import { z } from 'zod';

// The card API contract: what the service answers and what the cards parse. One definition for both sides.

const Money = z.string().regex(/^-?\d+(\.\d+)?$/, 'a decimal string');
const IsoDate = z.iso.date();

export const AgingBucketSchema = z.object({ bucket: z.string(), amount: Money, count: z.number().int().nonnegative() });

export const MetricsSchema = z.object({
  invoice_count: z.number().int().nonnegative(),
  open_count: z.number().int().nonnegative(),
  outstanding: Money,
  overdue: Money,
  aging: z.array(AgingBucketSchema),
  dso_simple: z.number().nullable(),
  dso_countback: z.number().nullable(),
  bpdso: z.number().nullable(),
  add: z.number().nullable(),
  cei: z.number().nullable(),
  on_time_rate: z.number().min(0).max(1).nullable(),
  weighted_days_late: z.number().nullable(),
  at_risk_rate: z.number().min(0).max(1).nullable(),
  over_60_share: z.number().min(0).max(1).nullable(),
});

export const RiskSchema = z.object({
  score: z.number().int().min(0).max(100),
  tier: z.enum(['A', 'B', 'C', 'D']),
  reasons: z.array(z.string()).max(3),
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
  status: z.enum(['paid', 'open', 'overdue', 'void']),
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
  currencies: z.array(z.object({ currency: z.string().length(3), metrics: MetricsSchema, risk: RiskSchema })),
  invoices: z.array(InvoiceLineSchema),
  payments: z.array(SettlementLineSchema),
});

export type CompanySummary = z.infer<typeof CompanySummarySchema>;
