import { z } from 'zod';
import { ESCALATION_ACTIONS } from '../../extensions/settings-api';

export { ESCALATION_ACTIONS };

/**
 * Thresholds and weights of the customer risk score (see risk.ts). The score starts at 100 and every factor
 * below subtracts points; the result is rounded and clamped to 0..100 (100 = safest).
 *
 * Defaults (DEFAULT_RISK_POLICY):
 * - neutralScore 70: a set with no invoice closed on or before D starts here instead of 100 (the 30 points
 *   are reported as "no payment history yet"); lateness and trend are then not scored.
 * - tiers A ≥ 80, B ≥ 60, C ≥ 40, else D.
 * - lateness: the last 6 invoices closed on or before D (latest paid date first). Paid more than 30 days
 *   after the due date counts 1, paid 6..30 days late counts 0.5, up to 5 days late counts 0;
 *   points = 40 × sum ÷ number of invoices looked at.
 * - disputes: 10 points per open disputed invoice, at most 20.
 * - writeOffs: 15 points per invoice written off in the last 12 months (a write-off dated in (D − 12 months,
 *   D]), at most 30.
 * - overdueShare: 20 × (open AR more than 60 days past due ÷ open AR).
 * - oldestOpen: the oldest open invoice's days past due p costs 15 × min(1, (p − 15) ÷ (120 − 15)) when p > 15.
 * - trend: average days late (plain mean of paid date − due date) of invoices closed in the last 6 months
 *   (paid date in (D − 6 months, D]) against the 6 months before ((D − 12 months, D − 6 months]); needs at
 *   least 2 invoices in each period. Paying δ > 5 days later costs 15 × min(1, δ ÷ 30).
 * - promises: a promise to pay is kept when payments reach its amount by the promise date + 3 grace days
 *   (graceDays), else broken the day after; 10 points per promise broken in the last 6 months (broken on a
 *   day in (D − 6 months, D]), at most 20.
 */
export type RiskPolicy = {
  neutralScore: number;
  tiers: { A: number; B: number; C: number };
  lateness: { lastInvoices: number; graceDays: number; lateDays: number; mildFactor: number; weight: number };
  disputes: { pointsEach: number; maxPoints: number };
  writeOffs: { months: number; pointsEach: number; maxPoints: number };
  overdueShare: { days: number; weight: number };
  oldestOpen: { graceDays: number; fullDays: number; weight: number };
  trend: { months: number; minInvoices: number; minDaysLater: number; fullDaysLater: number; weight: number };
  promises: { graceDays: number; months: number; pointsEach: number; maxPoints: number };
};

/**
 * When a deal "closes big": its amount, in the deal's currency, is at or above the threshold of that
 * currency. Amounts are integer minor units; currencies are never converted, so a deal in a currency with
 * no threshold is never big. Default: USD 50,000.00 (`{ currency: 'USD', amountMinor: 5_000_000 }`).
 */
export type BigDealPolicy = {
  thresholds: { currency: string; amountMinor: number }[];
  /** The HubSpot owner who gets the AR task of a big deal; absent or null: the deal's own owner. */
  arOwnerId?: string | null;
};

export type EscalationAction = (typeof ESCALATION_ACTIONS)[number];

/**
 * The collections escalation ladder. Each level applies to an invoice that is `days` or more days past due
 * (levels strictly ascending by days); the highest level reached is the one in force:
 * - reminder: a payment reminder to the customer;
 * - ask_rep: the sales rep is asked to help with the customer;
 * - escalate_manager: the rep's manager is brought in;
 * - credit_hold: new orders for the customer wait until it pays.
 * Default: 7 reminder, 30 ask_rep, 60 escalate_manager, 90 credit_hold. helpRequestSlaDays: the days within
 * which a rep answers finance's request for help (default 2). Exceptions for one customer are that
 * customer's data, not part of the policy.
 */
export type EscalationPolicy = {
  levels: { days: number; action: EscalationAction }[];
  helpRequestSlaDays: number;
  /**
   * Who a help request unanswered past its SLA, and the ladder's escalate_manager step, go to: the manager
   * named here for the record's owner (HubSpot's API has no manager of an owner), else `escalateToOwnerId`;
   * with neither, the step is logged without a task.
   */
  managers?: { ownerId: string; managerOwnerId: string }[];
  escalateToOwnerId?: string | null;
};

/**
 * How sales commission is earned, as the portal describes its plan (a description the commission
 * calculation reads; nothing here computes commission).
 * - basis 'collected': commission is earned on cash collected, in proportion to each payment of an
 *   invoice (a half-paid invoice has earned half its commission).
 * - ratePercent: the commission rate in percent of the amount collected (0..100, default 10).
 * - lateRules: a payment made more than `afterDays` days after the invoice's due date earns the rate
 *   reduced by `reducePercent` percent (100 = nothing); the rule with the largest afterDays that the payment
 *   exceeds applies. Strictly ascending by afterDays, reducePercent never decreasing. Default: none.
 * - clawbackAfterDays: commission already paid on an invoice still open this many days after its due date
 *   is taken back in proportion to the unpaid share; null = never (default 120).
 */
export type CommissionPolicy = {
  basis: 'collected';
  ratePercent: number;
  lateRules: { afterDays: number; reducePercent: number }[];
  clawbackAfterDays: number | null;
};

/**
 * Everything a portal can tune.
 * - aging.boundaries: ascending positive whole days, default [30, 60, 90]. With basis 'due' the buckets are
 *   "current" (≤ 0 days past due), "1-30", "31-60", "61-90", "91+". With basis 'issue' they are by days since
 *   the issue date: "0-30", "31-60", "61-90", "91+" (no "current" bucket).
 * - dsoMonths: the DSO window in calendar months ending at D (1..36, default 3).
 * - risk: see RiskPolicy.
 * - bigDeal: see BigDealPolicy; escalation: see EscalationPolicy; commission: see CommissionPolicy.
 */
export type Policy = {
  aging: { boundaries: number[]; basis: 'due' | 'issue' };
  dsoMonths: number;
  risk: RiskPolicy;
  bigDeal: BigDealPolicy;
  escalation: EscalationPolicy;
  commission: CommissionPolicy;
};

export const DEFAULT_AGING_BOUNDARIES: readonly number[] = [30, 60, 90];

export const DEFAULT_RISK_POLICY: RiskPolicy = {
  neutralScore: 70,
  tiers: { A: 80, B: 60, C: 40 },
  lateness: { lastInvoices: 6, graceDays: 5, lateDays: 30, mildFactor: 0.5, weight: 40 },
  disputes: { pointsEach: 10, maxPoints: 20 },
  writeOffs: { months: 12, pointsEach: 15, maxPoints: 30 },
  overdueShare: { days: 60, weight: 20 },
  oldestOpen: { graceDays: 15, fullDays: 120, weight: 15 },
  trend: { months: 6, minInvoices: 2, minDaysLater: 5, fullDaysLater: 30, weight: 15 },
  promises: { graceDays: 3, months: 6, pointsEach: 10, maxPoints: 20 },
};

const days = z.number().int().min(0).max(100_000);
const points = z.number().min(0).max(100);
const d = DEFAULT_RISK_POLICY;

const RiskPolicySchema = z
  .strictObject({
    neutralScore: points.default(d.neutralScore),
    tiers: z
      .strictObject({ A: points.default(d.tiers.A), B: points.default(d.tiers.B), C: points.default(d.tiers.C) })
      .prefault({})
      .refine((t) => t.A > t.B && t.B > t.C, { message: 'tier cut-offs must satisfy A > B > C' }),
    lateness: z
      .strictObject({
        lastInvoices: z.number().int().min(1).max(100).default(d.lateness.lastInvoices),
        graceDays: days.default(d.lateness.graceDays),
        lateDays: days.default(d.lateness.lateDays),
        mildFactor: z.number().min(0).max(1).default(d.lateness.mildFactor),
        weight: points.default(d.lateness.weight),
      })
      .prefault({})
      .refine((l) => l.graceDays < l.lateDays, { message: 'lateness.graceDays must be below lateness.lateDays' }),
    disputes: z
      .strictObject({ pointsEach: points.default(d.disputes.pointsEach), maxPoints: points.default(d.disputes.maxPoints) })
      .prefault({}),
    writeOffs: z
      .strictObject({
        months: z.number().int().min(1).max(120).default(d.writeOffs.months),
        pointsEach: points.default(d.writeOffs.pointsEach),
        maxPoints: points.default(d.writeOffs.maxPoints),
      })
      .prefault({}),
    overdueShare: z
      .strictObject({ days: days.default(d.overdueShare.days), weight: points.default(d.overdueShare.weight) })
      .prefault({}),
    oldestOpen: z
      .strictObject({
        graceDays: days.default(d.oldestOpen.graceDays),
        fullDays: days.default(d.oldestOpen.fullDays),
        weight: points.default(d.oldestOpen.weight),
      })
      .prefault({})
      .refine((o) => o.graceDays < o.fullDays, { message: 'oldestOpen.graceDays must be below oldestOpen.fullDays' }),
    trend: z
      .strictObject({
        months: z.number().int().min(1).max(24).default(d.trend.months),
        minInvoices: z.number().int().min(1).max(100).default(d.trend.minInvoices),
        minDaysLater: days.default(d.trend.minDaysLater),
        fullDaysLater: z.number().int().min(1).max(100_000).default(d.trend.fullDaysLater),
        weight: points.default(d.trend.weight),
      })
      .prefault({}),
    promises: z
      .strictObject({
        graceDays: z.number().int().min(0).max(365).default(d.promises.graceDays),
        months: z.number().int().min(1).max(120).default(d.promises.months),
        pointsEach: points.default(d.promises.pointsEach),
        maxPoints: points.default(d.promises.maxPoints),
      })
      .prefault({}),
  })
  .prefault({});

export const DEFAULT_BIG_DEAL_POLICY: BigDealPolicy = { thresholds: [{ currency: 'USD', amountMinor: 5_000_000 }] };

export const DEFAULT_ESCALATION_POLICY: EscalationPolicy = {
  levels: [
    { days: 7, action: 'reminder' },
    { days: 30, action: 'ask_rep' },
    { days: 60, action: 'escalate_manager' },
    { days: 90, action: 'credit_hold' },
  ],
  helpRequestSlaDays: 2,
};

export const DEFAULT_COMMISSION_POLICY: CommissionPolicy = { basis: 'collected', ratePercent: 10, lateRules: [], clawbackAfterDays: 120 };

/** A zod issue on `list[i].field` wherever it is not above the item before (with `orEqual`: wherever it is below it). */
const ascending = <T extends object>(field: keyof T & string, message: string, orEqual = false) =>
  (list: T[], ctx: z.RefinementCtx): void => {
    list.forEach((item, i) => {
      const previous = list[i - 1];
      if (previous === undefined) return;
      const [a, b] = [previous[field] as number, item[field] as number];
      if (orEqual ? b < a : b <= a) ctx.addIssue({ code: 'custom', path: [i, field], message });
    });
  };

const OwnerId = z.string().regex(/^\d{1,20}$/, 'must be a HubSpot owner id');

const BigDealSchema = z
  .strictObject({
    thresholds: z
      .array(z.strictObject({
        currency: z.string().regex(/^[A-Z]{3}$/, 'must be a three-letter currency code such as USD'),
        amountMinor: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
      }))
      .max(50)
      .superRefine((list, ctx) => {
        const seen = new Set<string>();
        list.forEach((t, i) => {
          if (seen.has(t.currency)) ctx.addIssue({ code: 'custom', path: [i, 'currency'], message: `${t.currency} has a threshold already` });
          seen.add(t.currency);
        });
      })
      .default(() => DEFAULT_BIG_DEAL_POLICY.thresholds.map((t) => ({ ...t }))),
    arOwnerId: OwnerId.nullable().optional(),
  })
  .prefault({});

const EscalationSchema = z
  .strictObject({
    levels: z
      .array(z.strictObject({ days: z.number().int().min(1).max(3650), action: z.enum(ESCALATION_ACTIONS) }))
      .max(10)
      .superRefine(ascending('days', 'must be more days than the level before'))
      .default(() => DEFAULT_ESCALATION_POLICY.levels.map((l) => ({ ...l }))),
    helpRequestSlaDays: z.number().int().min(1).max(365).default(DEFAULT_ESCALATION_POLICY.helpRequestSlaDays),
    managers: z.array(z.strictObject({ ownerId: OwnerId, managerOwnerId: OwnerId })).max(1000).optional(),
    escalateToOwnerId: OwnerId.nullable().optional(),
  })
  .prefault({});

const percent = z.number().min(0).max(100);

const CommissionSchema = z
  .strictObject({
    basis: z.literal('collected').default('collected'),
    ratePercent: percent.default(DEFAULT_COMMISSION_POLICY.ratePercent),
    lateRules: z
      .array(z.strictObject({ afterDays: z.number().int().min(1).max(3650), reducePercent: percent }))
      .max(10)
      .superRefine(ascending('afterDays', 'must be more days than the rule before'))
      .superRefine(ascending('reducePercent', 'must not be less than the rule before', true))
      .default(() => []),
    clawbackAfterDays: z.number().int().min(1).max(3650).nullable().default(DEFAULT_COMMISSION_POLICY.clawbackAfterDays),
  })
  .prefault({});

/**
 * Zod schema of Policy. Every field is optional and takes its default; unknown keys are rejected so that a
 * misspelt option fails loudly instead of being ignored.
 */
export const PolicySchema = z
  .strictObject({
    aging: z
      .strictObject({
        boundaries: z
          .array(z.number().int().positive())
          .min(1)
          .max(20)
          .refine((b) => b.every((v, i) => i === 0 || v > (b[i - 1] ?? 0)), {
            message: 'aging boundaries must be strictly ascending',
          })
          .default(() => [...DEFAULT_AGING_BOUNDARIES]),
        basis: z.enum(['due', 'issue']).default('due'),
      })
      .prefault({}),
    dsoMonths: z.number().int().min(1).max(36).default(3),
    risk: RiskPolicySchema,
    bigDeal: BigDealSchema,
    escalation: EscalationSchema,
    commission: CommissionSchema,
  })
  .prefault({});

/** Validates and completes a policy (undefined or {} gives the defaults). Throws a ZodError when invalid. */
export const parsePolicy = (input: unknown): Policy => PolicySchema.parse(input);

/** One reason a policy was refused: the field's dotted path (e.g. `escalation.levels.1.days`) and what is wrong. */
export type PolicyError = { path: string; message: string };

/**
 * Validates and completes a policy without throwing. Every error names its field path; an unknown key is
 * named by its own path (e.g. `risk.tiers.E`), a problem with the whole policy by `(policy)`.
 */
export const checkPolicy = (input: unknown): { ok: true; policy: Policy } | { ok: false; errors: PolicyError[] } => {
  const result = PolicySchema.safeParse(input);
  if (result.success) return { ok: true, policy: result.data };
  const errors = result.error.issues.flatMap((issue): PolicyError[] => {
    const at = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: [...at, key].join('.'), message: 'is not a policy field' }));
    }
    return [{ path: at.length > 0 ? at.join('.') : '(policy)', message: issue.message }];
  });
  return { ok: false, errors };
};

/** Whether a deal of `amountMinor` in `currency` closes big: at or above that currency's threshold (none: never). */
export const isBigDeal = (policy: Policy, amountMinor: number, currency: string): boolean => {
  const threshold = policy.bigDeal.thresholds.find((t) => t.currency === currency);
  return threshold !== undefined && amountMinor >= threshold.amountMinor;
};

/**
 * The policy used when none is given: aging [30, 60, 90] by due date, a 3-month DSO window, DEFAULT_RISK_POLICY,
 * DEFAULT_BIG_DEAL_POLICY, DEFAULT_ESCALATION_POLICY and DEFAULT_COMMISSION_POLICY.
 */
export const DEFAULT_POLICY: Policy = parsePolicy({});
