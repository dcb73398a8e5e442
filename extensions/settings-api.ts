import { z } from 'zod';

// The settings API contract (`/api/v1/settings*`, signed like the card API): what the service answers and what
// the settings page parses and sends. The policy's rules (ranges, ordering, defaults) are the service's; the page
// sends what the admin typed and shows the errors the service names.

const Money = z.string().regex(/^-?\d+(\.\d+)?$/, 'a decimal string');
const count = z.number().int().min(0);
const Timestamp = z.iso.datetime({ offset: true });

/** What an escalation level does once an invoice is that many days past due. */
export const ESCALATION_ACTIONS = ['reminder', 'ask_rep', 'escalate_manager', 'credit_hold'] as const;

/** The accounting systems a portal connects through ARBridge (one connection each). */
export const ACCOUNTING_SOURCES = ['quickbooks', 'xero', 'stripe'] as const;

export const CONNECTION_STATUSES = ['connected', 'error', 'disconnected', 'not_connected'] as const;

/**
 * The portal's policy as the settings API shows and takes it: the service's policy with big-deal thresholds as
 * decimal amounts of their currency (`{ currency: 'USD', amount: '50000.00' }`). Keys the page does not edit are
 * kept as they are, so a save sends them back unchanged.
 */
export const PolicyDocumentSchema = z.looseObject({
  aging: z.looseObject({ boundaries: z.array(z.number()), basis: z.enum(['due', 'issue']) }),
  dsoMonths: z.number(),
  risk: z.looseObject({ tiers: z.looseObject({ A: z.number(), B: z.number(), C: z.number() }) }),
  bigDeal: z.looseObject({ thresholds: z.array(z.object({ currency: z.string(), amount: Money })) }),
  escalation: z.looseObject({
    levels: z.array(z.object({ days: z.number(), action: z.enum(ESCALATION_ACTIONS) })),
    helpRequestSlaDays: z.number(),
  }),
  commission: z.looseObject({
    basis: z.literal('collected'),
    ratePercent: z.number(),
    lateRules: z.array(z.object({ afterDays: z.number(), reducePercent: z.number() })),
    clawbackAfterDays: z.number().nullable(),
  }),
});
export type PolicyDocument = z.infer<typeof PolicyDocumentSchema>;

/**
 * One source of invoices: an accounting connection (quickbooks, xero, stripe: status from the connection, or
 * not_connected), or data imported otherwise (csv, hubspot, any other source found in the store: connected when it
 * holds customers or invoices). Counts are the portal's customers and invoices of that source; times are ISO.
 */
export const ConnectionSchema = z.object({
  source: z.string().min(1),
  status: z.enum(CONNECTION_STATUSES),
  tenant_name: z.string().nullable(),
  connected_at: Timestamp.nullable(),
  last_sync_at: Timestamp.nullable(),
  last_error: z.string().nullable(),
  customers: count,
  invoices: count,
});
export type Connection = z.infer<typeof ConnectionSchema>;

/** How the app is installed in the portal (OAuth install or the private app) and what of HubSpot is mirrored. */
export const HubSpotInstallSchema = z.object({
  installed: z.boolean(),
  kind: z.enum(['oauth', 'private_app']).nullable(),
  hub_domain: z.string().nullable(),
  installed_at: Timestamp.nullable(),
  scopes: z.array(z.string()),
  companies: count,
  deals: count,
  last_sync_at: Timestamp.nullable(),
});

/** An accounting customer linked to no HubSpot company (the review list); `candidates` > 0 when several fit. */
export const UnmatchedCustomerSchema = z.object({
  customer_id: z.string(),
  source: z.string(),
  name: z.string().nullable(),
  domain: z.string().nullable(),
  reason: z.enum(['none', 'ambiguous']),
  candidates: count,
});

/** `GET /api/v1/settings`: everything the settings page shows. */
export const SettingsSchema = z.object({
  portal_id: z.number().int().positive(),
  hubspot: HubSpotInstallSchema,
  connections: z.array(ConnectionSchema),
  /** The first `UNMATCHED_LIMIT` unmatched customers (by id) and how many there are in all. */
  unmatched: z.object({ total: count, customers: z.array(UnmatchedCustomerSchema) }),
  /** The portal's policy, complete (defaults filled in). */
  policy: PolicyDocumentSchema,
  /** The policy a portal has when it sets nothing. */
  defaults: PolicyDocumentSchema,
});
export type Settings = z.infer<typeof SettingsSchema>;

export const UNMATCHED_LIMIT = 50;

/** As in the card API: every write carries a key, and a retry with the same key replays the first answer. */
const IdempotencyKey = z.string().min(8).max(200).regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _ . : -');

/**
 * `PUT /api/v1/settings/policy`: replaces the portal's policy (fields left out take their defaults). The service
 * validates `policy` and answers 400 with `fields` keyed by each wrong field's path (e.g. `escalation.levels.1.days`).
 */
export const SavePolicyRequestSchema = z.strictObject({
  policy: z.record(z.string(), z.unknown()),
  idempotencyKey: IdempotencyKey,
});

/** `POST /api/v1/settings/policy/reset`: the defaults become the portal's policy. */
export const ResetPolicyRequestSchema = z.strictObject({ idempotencyKey: IdempotencyKey });

/** The answer of a save or reset: the policy now in force, complete. */
export const PolicyResultSchema = z.object({ policy: PolicyDocumentSchema });
