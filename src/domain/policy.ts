import { z } from 'zod';

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
};

/**
 * Everything a report can be tuned with.
 * - aging.boundaries: ascending positive whole days, default [30, 60, 90]. With basis 'due' the buckets are
 *   "current" (≤ 0 days past due), "1-30", "31-60", "61-90", "91+". With basis 'issue' they are by days since
 *   the issue date: "0-30", "31-60", "61-90", "91+" (no "current" bucket).
 * - dsoMonths: the DSO window in calendar months ending at D (1..36, default 3).
 * - risk: see RiskPolicy.
 */
export type Policy = {
  aging: { boundaries: number[]; basis: 'due' | 'issue' };
  dsoMonths: number;
  risk: RiskPolicy;
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
  })
  .prefault({});

/** Validates and completes a policy (undefined or {} gives the defaults). Throws a ZodError when invalid. */
export const parsePolicy = (input: unknown): Policy => PolicySchema.parse(input);

/** The policy used when none is given: aging [30, 60, 90] by due date, a 3-month DSO window, DEFAULT_RISK_POLICY. */
export const DEFAULT_POLICY: Policy = parsePolicy({});
