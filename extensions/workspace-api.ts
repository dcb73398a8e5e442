import { z } from 'zod';

// The AR workspace's contract (`GET /api/v1/workspace`), shared by the service and the app page. Amounts are
// decimal strings in their currency; dates ISO; every row carries the HubSpot record it links to.

const IsoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD');
const Money = z.string().regex(/^-?\d+(\.\d+)?$/, 'a decimal string');
const Currency = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code');
const RecordUrl = z.url();

/** The query: every filter optional; `owner` is a HubSpot owner id. */
export const WorkspaceQuerySchema = z.object({
  owner: z.string().regex(/^\d{1,20}$/, 'a HubSpot owner id').optional(),
  team: z.string().regex(/^\d{1,20}$/, 'a HubSpot team id').optional(),
  currency: Currency.optional(),
  asOf: IsoDate.optional(),
  /** Days without a payment or a log entry after which an account past the ask-the-rep level counts as stalled. */
  quietDays: z.coerce.number().int().min(1).max(365).default(14),
});
export type WorkspaceQuery = z.infer<typeof WorkspaceQuerySchema>;

/** A customer past the ladder's ask-the-rep level with no payment and nothing logged for `quiet_days`. */
export const StalledAccountSchema = z.object({
  customer_id: z.string(),
  customer_name: z.string().nullable(),
  company_id: z.string(),
  company_name: z.string().nullable(),
  owner_id: z.string().nullable(),
  currency: Currency,
  overdue: Money,
  /** Days past due of the oldest open invoice. */
  days_past_due: z.number().int(),
  last_payment_on: IsoDate.nullable(),
  last_logged_on: IsoDate.nullable(),
  url: RecordUrl,
});

export const WorkspaceHelpRequestSchema = z.object({
  id: z.string(),
  customer_name: z.string().nullable(),
  company_id: z.string().nullable(),
  deal_id: z.string().nullable(),
  owner_id: z.string().nullable(),
  needed: z.string(),
  needed_by: IsoDate,
  status: z.enum(['open', 'accepted']),
  sla_due_on: IsoDate,
  sla: z.enum(['within', 'overdue', 'escalated']),
  url: RecordUrl,
});

export const WorkspacePromiseSchema = z.object({
  id: z.string(),
  customer_name: z.string().nullable(),
  company_id: z.string(),
  owner_id: z.string().nullable(),
  promise_date: IsoDate,
  amount: Money,
  currency: Currency,
  /** Decided from payments as of the date (src/domain/promises.ts). */
  status: z.enum(['pending', 'kept', 'broken']),
  paid: Money,
  url: RecordUrl,
});

export const WorkspaceBigDealSchema = z.object({
  deal_id: z.string(),
  name: z.string().nullable(),
  amount: Money,
  currency: Currency,
  company_id: z.string().nullable(),
  owner_id: z.string().nullable(),
  closed_on: IsoDate,
  url: RecordUrl,
});

export const WorkspaceSchema = z.object({
  portal_id: z.number().int().positive(),
  as_of: IsoDate,
  filters: z.object({ owner: z.string().nullable(), currency: z.string().nullable(), quiet_days: z.number().int() }),
  /** The ladder level an account must have reached to count as stalled (policy.escalation, action ask_rep). */
  ask_rep_days: z.number().int().nullable(),
  stalled: z.array(StalledAccountSchema),
  help_requests: z.array(WorkspaceHelpRequestSchema),
  /** Promises falling due from the as-of date to 6 days after it, not kept yet. */
  promises_due: z.array(WorkspacePromiseSchema),
  /** Promises broken in the last 30 days. */
  broken_promises: z.array(WorkspacePromiseSchema),
  /** Deals closed won at or above the big-deal threshold in the last 7 days. */
  big_deals: z.array(WorkspaceBigDealSchema),
});
export type Workspace = z.infer<typeof WorkspaceSchema>;
export type StalledAccount = z.infer<typeof StalledAccountSchema>;
export type WorkspacePromise = z.infer<typeof WorkspacePromiseSchema>;

/** The HubSpot record URL of a company (0-2) or deal (0-3). */
export const recordUrl = (portalId: number, objectType: 'company' | 'deal', objectId: string): string =>
  `https://app.hubspot.com/contacts/${portalId}/record/${objectType === 'company' ? '0-2' : '0-3'}/${objectId}`;
