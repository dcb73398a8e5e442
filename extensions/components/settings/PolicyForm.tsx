import {
  Alert, Button, Divider, Flex, Form, Heading, Input, NumberInput, Select, Text,
} from '@hubspot/ui-extensions';
import { useCallback, useState } from 'react';
import type { FieldErrors } from '../../api.ts';
import { useIdempotentPost } from '../../hooks/useIdempotentPost.ts';
import { ESCALATION_ACTIONS, PolicyResultSchema, type PolicyDocument } from '../../settings-api.ts';
import {
  documentOf, draftOf, ESCALATION_ACTION_LABELS, fieldLabel, problemsOf, type EscalationAction, type NumberField, type PolicyDraft,
} from './policy-draft.ts';

const ACTION_OPTIONS = ESCALATION_ACTIONS.map((value) => ({ value, label: ESCALATION_ACTION_LABELS[value] }));
const BASIS_OPTIONS = [{ value: 'due', label: 'Days past due' }, { value: 'issue', label: 'Days since issue' }];

/** A number input's value as the draft keeps it (blank or not a number: undefined). */
const numberOf = (value: number | undefined): NumberField => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

/** Marks an input with its field's problems. */
const marked = (errors: FieldErrors, path: string, ...parents: string[]) => {
  const message = problemsOf(errors, path, ...parents);
  return message === undefined ? {} : { error: true, validationMessage: message };
};

/**
 * The portal's policy as a form: aging, DSO window, risk tiers, big-deal thresholds, the escalation ladder and the
 * commission plan. Save sends the whole policy (PUT, idempotent); the service's errors are listed above the form and
 * marked on their fields. "Reset to defaults" makes the defaults the policy.
 */
export const PolicyForm = ({ policy, defaults }: { policy: PolicyDocument; defaults: PolicyDocument }) => {
  const [saved, setSaved] = useState<PolicyDocument>(policy);
  const [draft, setDraft] = useState<PolicyDraft>(() => draftOf(policy));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [notice, setNotice] = useState<string | null>(null);

  const [last, setLast] = useState<'save' | 'reset' | null>(null);

  const apply = useCallback((result: { policy: PolicyDocument }, message: string) => {
    setSaved(result.policy);
    setDraft(draftOf(result.policy));
    setErrors({});
    setNotice(message);
  }, []);
  const onSaved = useCallback((result: { policy: PolicyDocument }) => apply(result, 'The policy is saved. Cards use it from now on.'), [apply]);
  const onReset = useCallback((result: { policy: PolicyDocument }) => apply(result, 'The default policy is restored.'), [apply]);
  const save = useIdempotentPost('/api/v1/settings/policy', PolicyResultSchema, onSaved, 'PUT');
  const reset = useIdempotentPost('/api/v1/settings/policy/reset', PolicyResultSchema, onReset);

  // Only the latest action's failure is shown: a reset after a refused save clears the save's errors.
  const latest = last === 'save' ? save : last === 'reset' ? reset : null;
  const failed = latest?.state.status === 'failed' ? latest.state.error : null;
  const shown: FieldErrors = Object.keys(errors).length > 0 ? errors : failed?.fields ?? {};
  const busy = save.state.status === 'sending' || reset.state.status === 'sending';

  const update = (change: (d: PolicyDraft) => PolicyDraft) => {
    setNotice(null);
    setDraft((d) => change(d));
  };
  const onSave = () => {
    setNotice(null);
    const built = documentOf(draft, saved);
    if (!built.ok) {
      setErrors(built.errors);
      setLast(null);
      return;
    }
    setErrors({});
    setLast('save');
    void save.start({ policy: built.policy });
  };

  const problems = Object.entries(shown);
  return (
    <Flex direction="column" gap="md">
      {notice !== null && <Alert testId="policy-saved" title={notice} variant="success" />}
      {problems.length > 0 && (
        <Alert testId="policy-errors" title="The policy was not saved" variant="danger">
          {problems.map(([path, messages]) => (
            <Text key={path} testId={`policy-error-${path}`}>{`${fieldLabel(path)} (${path}): ${messages.join('; ')}`}</Text>
          ))}
        </Alert>
      )}
      {failed !== null && problems.length === 0 && (
        <Alert testId="policy-failed" title="The policy was not saved" variant="danger">
          <Text>{failed.message}</Text>
          <Button testId="policy-retry" onClick={() => void latest?.retry()}>Try again</Button>
        </Alert>
      )}
      <Form preventDefault>
        <Flex direction="column" gap="sm">
          <Heading>Aging and DSO</Heading>
          <Input testId="aging-boundaries" name="aging-boundaries" label="Aging boundaries (days)"
            description="Bucket edges in days, separated by commas; 30, 60, 90 gives current, 1-30, 31-60, 61-90, 91+."
            value={draft.agingBoundaries} onChange={(value) => update((d) => ({ ...d, agingBoundaries: value }))}
            {...marked(shown, 'aging.boundaries')} />
          <Select testId="aging-basis" name="aging-basis" label="Age invoices by" options={BASIS_OPTIONS} value={draft.agingBasis}
            onChange={(value) => update((d) => ({ ...d, agingBasis: value === 'issue' ? 'issue' : 'due' }))} {...marked(shown, 'aging.basis')} />
          <NumberInput testId="dso-months" name="dso-months" label="DSO window (months)" min={1} max={36} value={draft.dsoMonths}
            onChange={(value) => update((d) => ({ ...d, dsoMonths: numberOf(value) }))} {...marked(shown, 'dsoMonths')} />

          <Divider />
          <Heading>Risk tiers</Heading>
          <Text variant="microcopy">A score (0–100, higher is safer) at or above a cut-off gets that tier; below C is tier D.</Text>
          <Flex direction="row" gap="sm">
            {(['A', 'B', 'C'] as const).map((tier) => (
              <NumberInput key={tier} testId={`tier-${tier}`} name={`tier-${tier}`} label={`Tier ${tier} from score`} min={0} max={100}
                value={draft.tiers[tier]} onChange={(value) => update((d) => ({ ...d, tiers: { ...d.tiers, [tier]: numberOf(value) } }))}
                {...marked(shown, `risk.tiers.${tier}`, 'risk.tiers')} />
            ))}
          </Flex>

          <Divider />
          <Heading>Big deals</Heading>
          <Text variant="microcopy">A deal closes big when its amount reaches the threshold of its own currency; deals in other currencies never do.</Text>
          {draft.bigDeal.map((t, i) => (
            <Flex key={`big-${i}`} direction="row" gap="sm" align="end">
              <Input testId={`big-deal-currency-${i}`} name={`big-deal-currency-${i}`} label="Currency" value={t.currency}
                onChange={(value) => update((d) => ({ ...d, bigDeal: d.bigDeal.map((x, j) => (j === i ? { ...x, currency: value } : x)) }))}
                {...marked(shown, `bigDeal.thresholds.${i}.currency`)} />
              <Input testId={`big-deal-amount-${i}`} name={`big-deal-amount-${i}`} label="Amount" value={t.amount}
                onChange={(value) => update((d) => ({ ...d, bigDeal: d.bigDeal.map((x, j) => (j === i ? { ...x, amount: value } : x)) }))}
                {...marked(shown, `bigDeal.thresholds.${i}.amount`, `bigDeal.thresholds.${i}`)} />
              <Button testId={`big-deal-remove-${i}`} variant="transparent"
                onClick={() => update((d) => ({ ...d, bigDeal: d.bigDeal.filter((_, j) => j !== i) }))}>Remove</Button>
            </Flex>
          ))}
          <Button testId="big-deal-add" variant="secondary"
            onClick={() => update((d) => ({ ...d, bigDeal: [...d.bigDeal, { currency: '', amount: '' }] }))}>Add a currency</Button>

          <Divider />
          <Heading>Escalation ladder</Heading>
          <Text variant="microcopy">Each step applies once an invoice is that many days past due; days must grow from step to step.</Text>
          {draft.levels.map((level, i) => (
            <Flex key={`level-${i}`} direction="row" gap="sm" align="end">
              <NumberInput testId={`level-days-${i}`} name={`level-days-${i}`} label={`Step ${i + 1}: days past due`} min={1} value={level.days}
                onChange={(value) => update((d) => ({ ...d, levels: d.levels.map((x, j) => (j === i ? { ...x, days: numberOf(value) } : x)) }))}
                {...marked(shown, `escalation.levels.${i}.days`, `escalation.levels.${i}`)} />
              <Select testId={`level-action-${i}`} name={`level-action-${i}`} label="Action" options={ACTION_OPTIONS} value={level.action}
                onChange={(value) => update((d) => ({
                  ...d, levels: d.levels.map((x, j) => (j === i ? { ...x, action: value as EscalationAction } : x)),
                }))}
                {...marked(shown, `escalation.levels.${i}.action`)} />
              <Button testId={`level-remove-${i}`} variant="transparent"
                onClick={() => update((d) => ({ ...d, levels: d.levels.filter((_, j) => j !== i) }))}>Remove</Button>
            </Flex>
          ))}
          <Button testId="level-add" variant="secondary"
            onClick={() => update((d) => ({ ...d, levels: [...d.levels, { days: undefined, action: 'reminder' }] }))}>Add a step</Button>
          <NumberInput testId="help-sla" name="help-sla" label="Days for a rep to answer a help request" min={1} max={365}
            value={draft.helpRequestSlaDays} onChange={(value) => update((d) => ({ ...d, helpRequestSlaDays: numberOf(value) }))}
            {...marked(shown, 'escalation.helpRequestSlaDays')} />

          <Divider />
          <Heading>Commission plan</Heading>
          <Text variant="microcopy">Commission is earned on cash collected, in proportion to each payment.</Text>
          <NumberInput testId="commission-rate" name="commission-rate" label="Rate (% of collected)" min={0} max={100} value={draft.ratePercent}
            onChange={(value) => update((d) => ({ ...d, ratePercent: numberOf(value) }))} {...marked(shown, 'commission.ratePercent')} />
          {draft.lateRules.map((rule, i) => (
            <Flex key={`rule-${i}`} direction="row" gap="sm" align="end">
              <NumberInput testId={`late-after-${i}`} name={`late-after-${i}`} label={`Paid more than (days late)`} min={1} value={rule.afterDays}
                onChange={(value) => update((d) => ({ ...d, lateRules: d.lateRules.map((x, j) => (j === i ? { ...x, afterDays: numberOf(value) } : x)) }))}
                {...marked(shown, `commission.lateRules.${i}.afterDays`, `commission.lateRules.${i}`)} />
              <NumberInput testId={`late-reduce-${i}`} name={`late-reduce-${i}`} label="Reduce the rate by (%)" min={0} max={100} value={rule.reducePercent}
                onChange={(value) => update((d) => ({
                  ...d, lateRules: d.lateRules.map((x, j) => (j === i ? { ...x, reducePercent: numberOf(value) } : x)),
                }))}
                {...marked(shown, `commission.lateRules.${i}.reducePercent`)} />
              <Button testId={`late-remove-${i}`} variant="transparent"
                onClick={() => update((d) => ({ ...d, lateRules: d.lateRules.filter((_, j) => j !== i) }))}>Remove</Button>
            </Flex>
          ))}
          <Button testId="late-add" variant="secondary"
            onClick={() => update((d) => ({ ...d, lateRules: [...d.lateRules, { afterDays: undefined, reducePercent: undefined }] }))}>
            Add a late-payment rule
          </Button>
          <NumberInput testId="clawback" name="clawback" label="Take commission back after (days past due)" min={1}
            description="Leave empty to never take commission back." value={draft.clawbackAfterDays}
            onChange={(value) => update((d) => ({ ...d, clawbackAfterDays: numberOf(value) }))} {...marked(shown, 'commission.clawbackAfterDays')} />
        </Flex>
      </Form>
      <Flex direction="row" gap="sm">
        <Button testId="policy-save" variant="primary" disabled={busy} onClick={onSave}>Save policy</Button>
        <Button testId="policy-reset" variant="secondary" disabled={busy}
          onClick={() => {
            setNotice(null);
            setErrors({});
            setLast('reset');
            void reset.start({});
          }}>Reset to defaults</Button>
      </Flex>
      <Text variant="microcopy" testId="policy-defaults">
        {`Defaults: aging ${defaults.aging.boundaries.join(', ')} days; DSO over ${defaults.dsoMonths} months; tiers A ${defaults.risk.tiers.A}, B ${defaults.risk.tiers.B}, C ${defaults.risk.tiers.C}; commission ${defaults.commission.ratePercent}% of collected.`}
      </Text>
    </Flex>
  );
};
