import type { FieldErrors } from '../../api.ts';
import { ESCALATION_ACTIONS, type PolicyDocument } from '../../settings-api.ts';

// The policy form's state: what the admin types, kept as typed (a comma list, blank numbers), and the policy
// document it becomes on Save. The service checks every rule; here only what cannot be sent at all is refused.

export type EscalationAction = (typeof ESCALATION_ACTIONS)[number];

/** A number field as the form holds it: undefined while blank. */
export type NumberField = number | undefined;

export type PolicyDraft = {
  agingBoundaries: string;
  agingBasis: 'due' | 'issue';
  dsoMonths: NumberField;
  tiers: { A: NumberField; B: NumberField; C: NumberField };
  bigDeal: { currency: string; amount: string }[];
  levels: { days: NumberField; action: EscalationAction }[];
  helpRequestSlaDays: NumberField;
  ratePercent: NumberField;
  lateRules: { afterDays: NumberField; reducePercent: NumberField }[];
  /** Blank: commission is never taken back. */
  clawbackAfterDays: NumberField;
};

export const ESCALATION_ACTION_LABELS: Record<EscalationAction, string> = {
  reminder: 'Send a reminder',
  ask_rep: 'Ask the sales rep for help',
  escalate_manager: 'Escalate to the rep\'s manager',
  credit_hold: 'Put the customer on credit hold',
};

export const draftOf = (policy: PolicyDocument): PolicyDraft => ({
  agingBoundaries: policy.aging.boundaries.join(', '),
  agingBasis: policy.aging.basis,
  dsoMonths: policy.dsoMonths,
  tiers: { A: policy.risk.tiers.A, B: policy.risk.tiers.B, C: policy.risk.tiers.C },
  bigDeal: policy.bigDeal.thresholds.map((t) => ({ currency: t.currency, amount: t.amount })),
  levels: policy.escalation.levels.map((l) => ({ days: l.days, action: l.action })),
  helpRequestSlaDays: policy.escalation.helpRequestSlaDays,
  ratePercent: policy.commission.ratePercent,
  lateRules: policy.commission.lateRules.map((r) => ({ afterDays: r.afterDays, reducePercent: r.reducePercent })),
  clawbackAfterDays: policy.commission.clawbackAfterDays ?? undefined,
});

const isNumber = (value: NumberField): value is number => typeof value === 'number' && Number.isFinite(value);

/**
 * The policy document a draft stands for, on top of `base` (the policy in force: fields the form does not show are
 * sent back as they are), or the fields that cannot be sent: blank numbers and a boundary list that is not numbers.
 */
export const documentOf = (draft: PolicyDraft, base: PolicyDocument): { ok: true; policy: PolicyDocument } | { ok: false; errors: FieldErrors } => {
  const errors: FieldErrors = {};
  const required = (path: string, value: NumberField): number => {
    if (isNumber(value)) return value;
    errors[path] = ['is required'];
    return 0;
  };
  const tokens = draft.agingBoundaries.split(/[,;\s]+/).filter((t) => t !== '');
  const boundaries = tokens.map(Number);
  if (boundaries.some((b) => !Number.isFinite(b))) errors['aging.boundaries'] = ['must be whole days separated by commas, such as 30, 60, 90'];
  const policy: PolicyDocument = {
    ...base,
    aging: { ...base.aging, boundaries, basis: draft.agingBasis },
    dsoMonths: required('dsoMonths', draft.dsoMonths),
    risk: {
      ...base.risk,
      tiers: {
        ...base.risk.tiers,
        A: required('risk.tiers.A', draft.tiers.A), B: required('risk.tiers.B', draft.tiers.B), C: required('risk.tiers.C', draft.tiers.C),
      },
    },
    bigDeal: {
      ...base.bigDeal,
      thresholds: draft.bigDeal.map((t) => ({ currency: t.currency.trim().toUpperCase(), amount: t.amount.trim() })),
    },
    escalation: {
      ...base.escalation,
      levels: draft.levels.map((l, i) => ({ days: required(`escalation.levels.${i}.days`, l.days), action: l.action })),
      helpRequestSlaDays: required('escalation.helpRequestSlaDays', draft.helpRequestSlaDays),
    },
    commission: {
      ...base.commission,
      ratePercent: required('commission.ratePercent', draft.ratePercent),
      lateRules: draft.lateRules.map((r, i) => ({
        afterDays: required(`commission.lateRules.${i}.afterDays`, r.afterDays),
        reducePercent: required(`commission.lateRules.${i}.reducePercent`, r.reducePercent),
      })),
      clawbackAfterDays: isNumber(draft.clawbackAfterDays) ? draft.clawbackAfterDays : null,
    },
  };
  return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, policy };
};

const SECTION_LABELS: Record<string, string> = {
  'aging.boundaries': 'Aging boundaries',
  'aging.basis': 'Aging by',
  dsoMonths: 'DSO window (months)',
  'risk.tiers': 'Risk tiers',
  'risk.tiers.A': 'Tier A from score',
  'risk.tiers.B': 'Tier B from score',
  'risk.tiers.C': 'Tier C from score',
  'bigDeal.thresholds': 'Big-deal thresholds',
  'escalation.levels': 'Escalation ladder',
  'escalation.helpRequestSlaDays': 'Days to answer a help request',
  'commission.ratePercent': 'Commission rate (%)',
  'commission.lateRules': 'Late-payment rules',
  'commission.clawbackAfterDays': 'Clawback after (days past due)',
};

const ROW_FIELDS: Record<string, string> = {
  currency: 'currency', amount: 'amount', days: 'days past due', action: 'action', afterDays: 'paid more than (days late)',
  reducePercent: 'reduce by (%)',
};

/** How a policy field path reads for the admin (`escalation.levels.1.days` → "Escalation ladder, level 2: days past due"). */
export const fieldLabel = (path: string): string => {
  const exact = SECTION_LABELS[path];
  if (exact !== undefined) return exact;
  const row = /^(bigDeal\.thresholds|escalation\.levels|commission\.lateRules)\.(\d+)(?:\.(\w+))?$/.exec(path);
  if (row) {
    const [, list = '', index = '0', field] = row;
    const noun = list === 'escalation.levels' ? 'level' : list === 'bigDeal.thresholds' ? 'threshold' : 'rule';
    const what = `${SECTION_LABELS[list] ?? list}, ${noun} ${Number(index) + 1}`;
    return field === undefined ? what : `${what}: ${ROW_FIELDS[field] ?? field}`;
  }
  return path;
};

/** The problems of one field, and of the whole it belongs to (a tier cut-off shows the tiers' error too). */
export const problemsOf = (errors: FieldErrors, path: string, ...parents: string[]): string | undefined => {
  const all = [path, ...parents].flatMap((p) => errors[p] ?? []);
  return all.length > 0 ? all.join('; ') : undefined;
};
