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
  /** Received in payments by the as-of date. */
  paid: Money,
  /** Settled by credit notes by the as-of date. */
  credited: Money,
  /** Written off by the as-of date. */
  written_off: Money,
  /** What is still owed: amount − paid − credited − written off (0 once void). */
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
  currencies: z.array(z.object({
    currency: z.string().length(3),
    metrics: ReportMetricsSchema,
    risk: ReportRiskSchema,
    /** Days late per month over the last 12 months (oldest first): invoices paid that month and their amount-weighted average days late. */
    trend: z.array(z.object({ month: z.string().regex(/^\d{4}-\d{2}$/), paid: count, avg_days_late: z.number().nullable() })).optional(),
  })),
  invoices: z.array(InvoiceLineSchema),
  payments: z.array(SettlementLineSchema),
});

export type CompanySummary = z.infer<typeof CompanySummarySchema>;

// ---- The signed card API (`/api/v1/cards/*`): one request per card render. ----

export const COMPANY_LINK_METHODS = ['hubspot', 'explicit_id', 'mapping', 'domain', 'name', 'manual'] as const;
export const DEAL_LINK_METHODS = ['invoice_deal_id', 'association', 'reference', 'manual'] as const;

/** How a HubSpot company is tied to an accounting customer, and how that tie was made. */
export const CompanyMatchSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('matched'),
    customer_id: z.string(),
    customer_name: z.string().nullable(),
    source: z.string(),
    method: z.enum(COMPANY_LINK_METHODS),
    detail: z.string().nullable(),
  }),
  z.object({ status: z.literal('unmatched') }),
]);

/** Payment terms a customer's contact acknowledged for a deal (captured on the deal card). */
export const TermsAckSchema = z.object({
  id: z.string(),
  deal_id: z.string(),
  terms: z.string().min(1),
  /** Days from issue to due the terms give, when they are a plain "net N" (0 = due on receipt). */
  terms_days: z.number().int().min(0).nullable(),
  contact: z.object({ id: z.string().nullable(), name: z.string().min(1), email: z.string().nullable() }),
  acknowledged_on: IsoDate,
  evidence_url: z.string().nullable(),
  recorded_by: z.string().nullable(),
  recorded_at: z.iso.datetime({ offset: true }),
});
export type TermsAck = z.infer<typeof TermsAckSchema>;

export const COMMUNICATION_KINDS = ['note', 'call', 'email', 'promise', 'dispute', 'help_request', 'escalation', 'terms_ack'] as const;
/** Kinds a person logs by hand from the company card; the others are written by the flows they record. */
export const LOGGABLE_KINDS = ['note', 'call', 'email'] as const;

/** One entry of a customer's communication log. Money, when the entry has some, in its own currency. */
export const LogEntrySchema = z.object({
  id: z.string(),
  kind: z.enum(COMMUNICATION_KINDS),
  occurred_on: IsoDate,
  summary: z.string().min(1),
  author: z.string().nullable(),
  promise_date: IsoDate.nullable(),
  amount: Money.nullable(),
  currency: z.string().length(3).nullable(),
  status: z.string().nullable(),
  deal_id: z.string().nullable(),
});
export type LogEntry = z.infer<typeof LogEntrySchema>;

/** The latest entries of a customer's log (newest first) dated by the as-of date, and how many there are in all. */
export const LogExcerptSchema = z.object({ entries: z.array(LogEntrySchema), total: count });

/** `GET /api/v1/cards/company?objectId=&asOf=`: the company card's data. */
export const CompanyCardSchema = z.object({
  portal_id: z.number().int().positive(),
  company_id: z.string(),
  as_of: IsoDate,
  match: CompanyMatchSchema,
  /** Null when the company is not matched to a customer. */
  summary: CompanySummarySchema.nullable(),
  /** The latest terms acknowledgment of each of the company's deals (newest first, at most 3), dated by the as-of date. */
  terms: z.array(TermsAckSchema),
  /** The linked customer's communication log; null when the company is not matched. */
  log: LogExcerptSchema.nullable(),
});
export type CompanyCard = z.infer<typeof CompanyCardSchema>;

/** One invoice of a deal, as the deal card lists it. */
export const DealInvoiceSchema = z.object({
  id: z.string(),
  number: z.string().nullable(),
  currency: z.string().length(3),
  amount: Money,
  collected: Money,
  outstanding: Money,
  overdue: Money,
  due_date: IsoDate,
  status: z.enum(['paid', 'open', 'overdue', 'void', 'written_off', 'credited']),
  link_method: z.enum(DEAL_LINK_METHODS),
});

/** Billed, collected, outstanding and overdue of a deal's invoices in one currency. */
export const DealTotalsSchema = z.object({
  currency: z.string().length(3),
  invoiced: Money,
  collected: Money,
  outstanding: Money,
  overdue: Money,
});

/** `GET /api/v1/cards/deal?objectId=&asOf=`: the deal card's data. */
export const DealCardSchema = z.object({
  portal_id: z.number().int().positive(),
  deal_id: z.string(),
  as_of: IsoDate,
  invoices: z.array(DealInvoiceSchema),
  totals: z.array(DealTotalsSchema),
  /** The deal's company, when HubSpot associates one, with its match and risk per currency. */
  company: z.object({
    company_id: z.string(),
    match: CompanyMatchSchema,
    risk: z.array(z.object({ currency: z.string().length(3), risk: ReportRiskSchema })),
    /**
     * Outstanding + the part of this deal not yet invoiced, against the customer's credit limit, in the
     * limit's currency; null when no limit is known (or the deal is in another currency).
     */
    credit: z.object({
      currency: z.string().length(3),
      limit: Money,
      outstanding: Money,
      uninvoiced_deal: Money,
      total: Money,
      utilisation: z.number().min(0).nullable(),
      exceeds: z.boolean(),
    }).nullable().optional(),
  }).nullable(),
  /** The terms acknowledgment on record for this deal (the latest captured), or null. */
  terms_ack: TermsAckSchema.nullable(),
});
export type DealCard = z.infer<typeof DealCardSchema>;

/** `GET /api/v1/cards/customers?query=`: accounting customers not linked to any company, for the link picker. */
export const CustomerChoicesSchema = z.object({
  customers: z.array(z.object({
    id: z.string(),
    source: z.string(),
    external_id: z.string(),
    name: z.string().nullable(),
    domain: z.string().nullable(),
  })),
});
export type CustomerChoices = z.infer<typeof CustomerChoicesSchema>;

/** Every POST from a card carries an idempotency key; a retry with the same key replays the first answer. */
const IdempotencyKey = z.string().min(8).max(200).regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _ . : -');

/** `POST /api/v1/cards/company/link`: link the card's company to an accounting customer by hand. */
export const LinkCompanyRequestSchema = z.strictObject({
  objectId: z.string().regex(/^\d{1,20}$/, 'a HubSpot record id'),
  customerId: z.string().regex(/^\d{1,20}$/, 'a customer id'),
  idempotencyKey: IdempotencyKey,
});

/** `POST /api/v1/cards/company/unlink`: undo a link; later matching leaves the customer unlinked. */
export const UnlinkCompanyRequestSchema = z.strictObject({
  objectId: z.string().regex(/^\d{1,20}$/, 'a HubSpot record id'),
  idempotencyKey: IdempotencyKey,
});

export const LinkResultSchema = z.object({ company_id: z.string(), match: CompanyMatchSchema });
export type LinkResult = z.infer<typeof LinkResultSchema>;

const RecordId = z.string().regex(/^\d{1,20}$/, 'a HubSpot record id');

/** `POST /api/v1/cards/deal/terms`: record the payment terms the customer acknowledged for the card's deal. */
export const RecordTermsRequestSchema = z.strictObject({
  objectId: RecordId,
  terms: z.string().trim().min(1, 'the terms are required').max(200),
  termsDays: z.number().int().min(0).max(3650).nullable().optional(),
  contactId: RecordId.nullable().optional(),
  contactName: z.string().trim().min(1, 'who acknowledged the terms is required').max(200),
  contactEmail: z.email('an email address').max(320).nullable().optional(),
  acknowledgedOn: IsoDate,
  evidenceUrl: z.url({ protocol: /^https?$/, error: 'an http(s) link' }).max(2000).nullable().optional(),
  idempotencyKey: IdempotencyKey,
});
export type RecordTermsRequest = z.infer<typeof RecordTermsRequestSchema>;

/** `POST /api/v1/cards/company/log`: add a note, call or email to the linked customer's communication log. */
export const LogEntryRequestSchema = z.strictObject({
  objectId: RecordId,
  kind: z.enum(LOGGABLE_KINDS),
  occurredOn: IsoDate,
  summary: z.string().trim().min(1, 'say what happened').max(2000),
  idempotencyKey: IdempotencyKey,
});
export type LogEntryRequest = z.infer<typeof LogEntryRequestSchema>;
