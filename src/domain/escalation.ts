import { daysBetween } from './calendar';
import type { EscalationAction, EscalationPolicy } from './policy';
import type { IsoDate } from './types';

// The collections escalation ladder, evaluated as of a date: which level each open invoice has reached by its
// days past due, and which steps are due and not yet taken. Pure: the caller brings the facts.

/** An invoice still open (something owed) as of D. */
export type LadderInvoice = { invoiceId: number; customerId: number; dueDate: IsoDate; openMinor: number };

/** A customer's exception: steps held while D ≤ `until` (inclusive); `actions` null holds every step. */
export type LadderException = { customerId: number; reason: string; until: IsoDate; actions: readonly EscalationAction[] | null };

/** A step already taken (recorded) for an invoice. */
export type TakenStep = { invoiceId: number; action: EscalationAction };

export type LadderLevel = { days: number; action: EscalationAction };

export type InvoiceLevel = { invoiceId: number; customerId: number; daysPastDue: number; level: LadderLevel | null };

export type DueStep = { invoiceId: number; customerId: number; daysPastDue: number; level: LadderLevel };

export type HeldStep = DueStep & { reason: string; until: IsoDate };

export type LadderEvaluation = {
  /** Every open invoice with its days past due and the highest level reached (null below the first level). */
  invoices: InvoiceLevel[];
  /** Steps to take now: per invoice the highest level reached, when it was not taken yet and is not held. */
  due: DueStep[];
  /** Steps that would be due but an exception of the customer holds them. */
  held: HeldStep[];
};

/** Days past due of an invoice as of D (0 or less: not yet due). */
export const daysPastDue = (dueDate: IsoDate, asOf: IsoDate): number => daysBetween(dueDate, asOf);

/** The highest level reached at `days` past due, or null. Levels are ascending by days (the policy checks it). */
export const levelReached = (levels: readonly LadderLevel[], days: number): LadderLevel | null => {
  let reached: LadderLevel | null = null;
  for (const level of levels) if (days >= level.days) reached = level;
  return reached;
};

/** The exception of a customer holding `action` as of D: the one that lasts longest, or null. */
export const activeException = (
  exceptions: readonly LadderException[], customerId: number, action: EscalationAction, asOf: IsoDate,
): LadderException | null => {
  let found: LadderException | null = null;
  for (const e of exceptions) {
    if (e.customerId !== customerId || asOf > e.until) continue;
    if (e.actions !== null && !e.actions.includes(action)) continue;
    if (found === null || e.until > found.until) found = e;
  }
  return found;
};

/**
 * Evaluates the ladder as of D. Only the highest level an invoice has reached is a step to take: an invoice
 * first seen at 95 days past due gets the credit hold, not four steps at once, and a lower level skipped
 * that way is never taken later (an open invoice only grows older). A step taken before is never due again.
 * An active exception of the customer (D on or before its end date) holds the step; once the exception
 * ends, the highest level then reached becomes due.
 */
export const evaluateLadder = (
  policy: Pick<EscalationPolicy, 'levels'>, invoices: readonly LadderInvoice[], exceptions: readonly LadderException[],
  taken: readonly TakenStep[], asOf: IsoDate,
): LadderEvaluation => {
  const done = new Set(taken.map((t) => `${t.invoiceId}:${t.action}`));
  const result: LadderEvaluation = { invoices: [], due: [], held: [] };
  const ordered = [...invoices].sort((a, b) => a.customerId - b.customerId || a.invoiceId - b.invoiceId);
  for (const invoice of ordered) {
    if (invoice.openMinor <= 0) continue;
    const days = daysPastDue(invoice.dueDate, asOf);
    const level = levelReached(policy.levels, days);
    result.invoices.push({ invoiceId: invoice.invoiceId, customerId: invoice.customerId, daysPastDue: days, level });
    if (level === null || done.has(`${invoice.invoiceId}:${level.action}`)) continue;
    const step: DueStep = { invoiceId: invoice.invoiceId, customerId: invoice.customerId, daysPastDue: days, level };
    const exception = activeException(exceptions, invoice.customerId, level.action, asOf);
    if (exception === null) result.due.push(step);
    else result.held.push({ ...step, reason: exception.reason, until: exception.until });
  }
  return result;
};

/** Due steps grouped by customer and action (one action per customer and level, listing its invoices). */
export const groupSteps = (steps: readonly DueStep[]): { customerId: number; action: EscalationAction; levelDays: number; steps: DueStep[] }[] => {
  const groups = new Map<string, { customerId: number; action: EscalationAction; levelDays: number; steps: DueStep[] }>();
  for (const step of steps) {
    const key = `${step.customerId}:${step.level.action}`;
    const group = groups.get(key) ?? { customerId: step.customerId, action: step.level.action, levelDays: step.level.days, steps: [] };
    group.steps.push(step);
    groups.set(key, group);
  }
  return [...groups.values()];
};
