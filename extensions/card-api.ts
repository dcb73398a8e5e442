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
export const LOGGABLE_KINDS = ['note', 'call', 'email', 'promise', 'dispute'] as const;

/** A promise to pay as of the card's date: kept or broken is decided from payments (see src/domain/promises.ts). */
export const PROMISE_STATUSES = ['pending', 'kept', 'broken'] as const;

/** The company card's log filters and the kinds each shows. */
export const LOG_FILTERS = {
  all: COMMUNICATION_KINDS,
  conversations: ['note', 'call', 'email', 'terms_ack'],
  promises: ['promise'],
  disputes: ['dispute'],
  requests: ['help_request', 'escalation'],
} as const satisfies Record<string, readonly (typeof COMMUNICATION_KINDS)[number][]>;
export type LogFilter = keyof typeof LOG_FILTERS;

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
  /** The invoice the entry names (its id as the invoice lines show it), or null. */
  invoice_id: z.string().nullable().optional(),
  /** A promise's status as of the card's date, and what was paid towards it by then; null for other kinds. */
  promise_status: z.enum(PROMISE_STATUSES).nullable().optional(),
  promise_paid: Money.nullable().optional(),
  /** A resolved dispute: when and how; null while open and for other kinds. */
  resolved_on: IsoDate.nullable().optional(),
  resolution: z.string().nullable().optional(),
});
export type LogEntry = z.infer<typeof LogEntrySchema>;

/**
 * The latest entries of a customer's log (newest first, at most 20) dated by the as-of date, and how many
 * there are in all. The card's filters apply to these entries.
 */
export const LogExcerptSchema = z.object({ entries: z.array(LogEntrySchema), total: count });

export const HELP_REQUEST_STATUSES = ['open', 'accepted', 'done', 'declined'] as const;
/** Where a request stands against its SLA: answered (no longer open), within, overdue, or escalated to a second person. */
export const HELP_REQUEST_SLA_STATES = ['answered', 'within', 'overdue', 'escalated'] as const;

/** A request from AR to the owner of a company or deal: what is needed, by when, and where it stands. */
export const HelpRequestSchema = z.object({
  id: z.string(),
  object_type: z.enum(['company', 'deal']),
  object_id: z.string(),
  company_id: z.string().nullable(),
  deal_id: z.string().nullable(),
  customer_name: z.string().nullable(),
  needed: z.string().min(1),
  needed_by: IsoDate,
  status: z.enum(HELP_REQUEST_STATUSES),
  requested_by: z.string().nullable(),
  requested_on: IsoDate,
  owner_id: z.string().nullable(),
  sla_due_on: IsoDate,
  sla: z.enum(HELP_REQUEST_SLA_STATES),
  escalated_to: z.string().nullable(),
  /** The HubSpot task made for the owner: pending until sent, then its id. */
  task: z.object({ status: z.enum(['pending', 'created', 'failed']), hubspot_task_id: z.string().nullable() }).nullable(),
});
export type HelpRequest = z.infer<typeof HelpRequestSchema>;

const HelpIdempotencyKey = z.string().min(8).max(200).regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _ . : -');

/** `POST /api/v1/cards/help-requests`: ask the owner of the card's company or deal for help. */
export const HelpRequestCreateSchema = z.strictObject({
  objectType: z.enum(['company', 'deal']),
  objectId: z.string().regex(/^\d{1,20}$/, 'a HubSpot record id'),
  needed: z.string().trim().min(1, 'say what is needed').max(2000),
  neededBy: IsoDate,
  idempotencyKey: HelpIdempotencyKey,
});
export type HelpRequestCreate = z.infer<typeof HelpRequestCreateSchema>;

/** `POST /api/v1/cards/help-requests/:id/status`: the owner accepts, finishes or declines a request. */
export const HelpRequestStatusSchema = z.strictObject({
  status: z.enum(['accepted', 'done', 'declined']),
  idempotencyKey: HelpIdempotencyKey,
});
export type HelpRequestStatusChange = z.infer<typeof HelpRequestStatusSchema>;

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
  /** The linked customer's credit limit (see CreditLimitSchema); null when the company is not matched. */
  credit_limit: z.lazy(() => CreditLimitSchema).nullable().optional(),
  /** Help requests on this company (newest first). */
  help_requests: z.array(HelpRequestSchema).default([]),
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
  /** Help requests on this deal (newest first). */
  help_requests: z.array(HelpRequestSchema).default([]),
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

const PositiveMoney = z.string().trim().regex(/^\d+(\.\d+)?$/, 'a positive decimal amount such as 1250.00')
  .refine((text) => /[1-9]/.test(text), 'must be more than zero');
const CurrencyCode = z.string().regex(/^[A-Z]{3}$/, 'a three-letter currency code such as USD');
/** An invoice of the customer, by its id as the card's invoice lines show it. */
const InvoiceRef = z.string().trim().min(1).max(200);
const Summary = z.string().trim().min(1, 'say what happened').max(2000);

/**
 * `POST /api/v1/cards/company/log`: add an entry to the linked customer's communication log: a note, call or
 * email; a promise to pay (amount in a currency by a date, optionally for one invoice); or a dispute (open;
 * amount and invoice optional). The summary of a promise may be left out (one is written from its terms).
 */
export const LogEntryRequestSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    objectId: RecordId,
    kind: z.enum(['note', 'call', 'email']),
    occurredOn: IsoDate,
    summary: Summary,
    idempotencyKey: IdempotencyKey,
  }),
  z.strictObject({
    objectId: RecordId,
    kind: z.literal('promise'),
    occurredOn: IsoDate,
    summary: Summary.optional(),
    promiseDate: IsoDate,
    amount: PositiveMoney,
    currency: CurrencyCode,
    invoiceId: InvoiceRef.nullable().optional(),
    idempotencyKey: IdempotencyKey,
  }),
  z.strictObject({
    objectId: RecordId,
    kind: z.literal('dispute'),
    occurredOn: IsoDate,
    summary: Summary,
    amount: PositiveMoney.nullable().optional(),
    currency: CurrencyCode.nullable().optional(),
    invoiceId: InvoiceRef.nullable().optional(),
    idempotencyKey: IdempotencyKey,
  }),
], { error: () => `kind must be one of ${LOGGABLE_KINDS.join(', ')}` });
export type LogEntryRequest = z.infer<typeof LogEntryRequestSchema>;

/** `POST /api/v1/cards/company/log/:id/resolve`: resolve an open dispute of the card's company. */
export const ResolveDisputeRequestSchema = z.strictObject({
  objectId: RecordId,
  resolvedOn: IsoDate,
  resolution: z.string().trim().min(1, 'say how it was resolved').max(2000),
  idempotencyKey: IdempotencyKey,
});
export type ResolveDisputeRequest = z.infer<typeof ResolveDisputeRequestSchema>;

/**
 * A customer's credit limit: the one in force (a limit set by hand wins over the accounting source's) and,
 * beside it, the source's own. `limit`/`currency` are null when neither is known.
 */
export const CreditLimitSchema = z.object({
  customer_id: z.string(),
  limit: Money.nullable(),
  currency: z.string().length(3).nullable(),
  origin: z.enum(['manual', 'source']).nullable(),
  source_limit: Money.nullable(),
  source_currency: z.string().length(3).nullable(),
  set_by: z.string().nullable(),
  set_at: z.string().nullable(),
});
export type CreditLimit = z.infer<typeof CreditLimitSchema>;

/**
 * `POST /api/v1/cards/company/credit-limit`: set the linked customer's credit limit by hand (a decimal amount
 * in `currency`), or clear it with `amount: null` (the accounting source's limit, if any, applies again).
 */
export const SetCreditLimitRequestSchema = z.strictObject({
  objectId: RecordId,
  amount: z.string().trim().regex(/^\d{1,15}(\.\d{1,4})?$/, 'a positive decimal amount such as 25000 or 25000.00').nullable(),
  currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as USD').nullable().optional(),
  idempotencyKey: IdempotencyKey,
}).refine((r) => r.amount === null || (r.currency ?? null) !== null, { path: ['currency'], message: 'the currency of the limit is required' });
export type SetCreditLimitRequest = z.infer<typeof SetCreditLimitRequestSchema>;
