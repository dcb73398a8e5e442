import { describe, expect, it } from '@jest/globals';
import {
  checkPolicy, DEFAULT_BIG_DEAL_POLICY, DEFAULT_COMMISSION_POLICY, DEFAULT_ESCALATION_POLICY, DEFAULT_POLICY, DEFAULT_RISK_POLICY,
  isBigDeal, PolicySchema, parsePolicy,
} from '../../src/domain/policy';

describe('parsePolicy', () => {
  it('fills every default from nothing', () => {
    const expected = {
      aging: { boundaries: [30, 60, 90], basis: 'due' },
      dsoMonths: 3,
      risk: DEFAULT_RISK_POLICY,
      bigDeal: { thresholds: [{ currency: 'USD', amountMinor: 5_000_000 }] },
      escalation: {
        levels: [
          { days: 7, action: 'reminder' }, { days: 30, action: 'ask_rep' },
          { days: 60, action: 'escalate_manager' }, { days: 90, action: 'credit_hold' },
        ],
        helpRequestSlaDays: 2,
      },
      commission: { basis: 'collected', ratePercent: 10, lateRules: [], clawbackAfterDays: 120 },
    };
    expect(parsePolicy(undefined)).toEqual(expected);
    expect(parsePolicy({})).toEqual(expected);
    expect(DEFAULT_POLICY).toEqual(expected);
    expect(DEFAULT_POLICY.risk.tiers).toEqual({ A: 80, B: 60, C: 40 });
  });

  it('keeps defaults next to partial overrides', () => {
    const p = parsePolicy({ aging: { basis: 'issue' }, dsoMonths: 6, risk: { tiers: { A: 90 }, disputes: { pointsEach: 5 } } });
    expect(p.aging).toEqual({ boundaries: [30, 60, 90], basis: 'issue' });
    expect(p.dsoMonths).toBe(6);
    expect(p.risk.tiers).toEqual({ A: 90, B: 60, C: 40 });
    expect(p.risk.disputes).toEqual({ pointsEach: 5, maxPoints: 20 });
    expect(p.risk.lateness).toEqual(DEFAULT_RISK_POLICY.lateness);
  });

  it('returns fresh arrays, never the shared defaults', () => {
    const p = parsePolicy({});
    p.aging.boundaries.push(120);
    expect(parsePolicy({}).aging.boundaries).toEqual([30, 60, 90]);
    expect(DEFAULT_POLICY.aging.boundaries).toEqual([30, 60, 90]);
    const q = parsePolicy({});
    q.escalation.levels.pop();
    q.bigDeal.thresholds.push({ currency: 'EUR', amountMinor: 1 });
    (q.escalation.levels[0] as { days: number }).days = 1;
    expect(parsePolicy({}).escalation).toEqual(DEFAULT_ESCALATION_POLICY);
    expect(DEFAULT_ESCALATION_POLICY.levels).toHaveLength(4);
    expect(DEFAULT_ESCALATION_POLICY.levels[0]?.days).toBe(7);
    expect(parsePolicy({}).bigDeal).toEqual(DEFAULT_BIG_DEAL_POLICY);
  });

  it('still reads a policy stored before big deals, escalation and commission existed', () => {
    const stored = { aging: { boundaries: [45, 90], basis: 'issue' }, dsoMonths: 6, risk: { tiers: { A: 90, B: 70, C: 50 } } };
    const p = parsePolicy(JSON.parse(JSON.stringify(stored)));
    expect(p.aging).toEqual(stored.aging);
    expect(p.risk.tiers).toEqual(stored.risk.tiers);
    expect(p.bigDeal).toEqual(DEFAULT_BIG_DEAL_POLICY);
    expect(p.escalation).toEqual(DEFAULT_ESCALATION_POLICY);
    expect(p.commission).toEqual(DEFAULT_COMMISSION_POLICY);
  });

  it('accepts custom big-deal thresholds, escalation ladders and commission plans', () => {
    const p = parsePolicy({
      bigDeal: { thresholds: [{ currency: 'EUR', amountMinor: 2_500_000 }, { currency: 'JPY', amountMinor: 10_000_000 }] },
      escalation: { levels: [{ days: 14, action: 'reminder' }, { days: 21, action: 'reminder' }, { days: 45, action: 'credit_hold' }], helpRequestSlaDays: 5 },
      commission: { ratePercent: 7.5, lateRules: [{ afterDays: 30, reducePercent: 25 }, { afterDays: 90, reducePercent: 100 }], clawbackAfterDays: null },
    });
    expect(p.bigDeal.thresholds.map((t) => t.currency)).toEqual(['EUR', 'JPY']);
    expect(p.escalation.levels.map((l) => l.days)).toEqual([14, 21, 45]);
    expect(p.escalation.helpRequestSlaDays).toBe(5);
    expect(p.commission).toEqual({
      basis: 'collected', ratePercent: 7.5, lateRules: [{ afterDays: 30, reducePercent: 25 }, { afterDays: 90, reducePercent: 100 }], clawbackAfterDays: null,
    });
    expect(parsePolicy({ bigDeal: { thresholds: [] }, escalation: { levels: [] } })).toMatchObject({ bigDeal: { thresholds: [] }, escalation: { levels: [] } });
  });

  it('a deal closes big at or above the threshold of its own currency, never in a currency without one', () => {
    const p = parsePolicy({ bigDeal: { thresholds: [{ currency: 'USD', amountMinor: 5_000_000 }, { currency: 'JPY', amountMinor: 1_000_000 }] } });
    expect(isBigDeal(p, 5_000_000, 'USD')).toBe(true);
    expect(isBigDeal(p, 4_999_999, 'USD')).toBe(false);
    expect(isBigDeal(p, 1_000_000, 'JPY')).toBe(true);
    expect(isBigDeal(p, 999_999_999, 'EUR')).toBe(false);
    expect(isBigDeal(DEFAULT_POLICY, 5_000_000, 'USD')).toBe(true);
  });

  it('accepts custom ascending boundaries', () => {
    expect(parsePolicy({ aging: { boundaries: [15, 45, 75, 120] } }).aging.boundaries).toEqual([15, 45, 75, 120]);
    expect(parsePolicy({ dsoMonths: 1 }).dsoMonths).toBe(1);
    expect(parsePolicy({ dsoMonths: 36 }).dsoMonths).toBe(36);
  });

  it.each([
    ['boundaries not ascending', { aging: { boundaries: [60, 30] } }],
    ['repeated boundary', { aging: { boundaries: [30, 30, 90] } }],
    ['fractional boundary', { aging: { boundaries: [30.5, 60] } }],
    ['zero boundary', { aging: { boundaries: [0, 30] } }],
    ['negative boundary', { aging: { boundaries: [-30, 30] } }],
    ['no boundaries', { aging: { boundaries: [] } }],
    ['unknown basis', { aging: { basis: 'paid' } }],
    ['dsoMonths 0', { dsoMonths: 0 }],
    ['dsoMonths 37', { dsoMonths: 37 }],
    ['dsoMonths 2.5', { dsoMonths: 2.5 }],
    ['dsoMonths as text', { dsoMonths: '3' }],
    ['misspelt key', { dsoMonth: 3 }],
    ['tiers out of order', { risk: { tiers: { A: 50, B: 60 } } }],
    ['negative weight', { risk: { lateness: { weight: -1 } } }],
    ['not an object', 42],
    ['lowercase currency', { bigDeal: { thresholds: [{ currency: 'usd', amountMinor: 1 }] } }],
    ['fractional minor units', { bigDeal: { thresholds: [{ currency: 'USD', amountMinor: 1.5 }] } }],
    ['escalation days 0', { escalation: { levels: [{ days: 0, action: 'reminder' }] } }],
    ['unknown escalation action', { escalation: { levels: [{ days: 5, action: 'sue' }] } }],
    ['help request SLA 0', { escalation: { helpRequestSlaDays: 0 } }],
    ['commission rate above 100', { commission: { ratePercent: 101 } }],
    ['commission basis other than collected', { commission: { basis: 'booked' } }],
    ['late rule reduce above 100', { commission: { lateRules: [{ afterDays: 30, reducePercent: 120 }] } }],
    ['clawback after 0 days', { commission: { clawbackAfterDays: 0 } }],
  ])('rejects %s', (_label, input) => {
    expect(() => parsePolicy(input)).toThrow();
    expect(PolicySchema.safeParse(input).success).toBe(false);
  });
});

describe('checkPolicy', () => {
  const errorsOf = (input: unknown) => {
    const result = checkPolicy(input);
    if (result.ok) throw new Error('expected the policy to be refused');
    return result.errors;
  };

  it('completes a valid policy like parsePolicy', () => {
    expect(checkPolicy({ dsoMonths: 4 })).toEqual({ ok: true, policy: parsePolicy({ dsoMonths: 4 }) });
  });

  it('names the field path of every error', () => {
    expect(errorsOf({ aging: { boundaries: [60, 30] } })).toEqual([{ path: 'aging.boundaries', message: 'aging boundaries must be strictly ascending' }]);
    expect(errorsOf({ risk: { tiers: { A: 50, B: 60 } } })).toEqual([{ path: 'risk.tiers', message: 'tier cut-offs must satisfy A > B > C' }]);
    expect(errorsOf({ escalation: { levels: [{ days: 30, action: 'reminder' }, { days: 30, action: 'ask_rep' }] } }))
      .toEqual([{ path: 'escalation.levels.1.days', message: 'must be more days than the level before' }]);
    expect(errorsOf({ escalation: { levels: [{ days: 30, action: 'reminder' }, { days: 60, action: 'call' }] } }).map((e) => e.path))
      .toEqual(['escalation.levels.1.action']);
    expect(errorsOf({ bigDeal: { thresholds: [{ currency: 'EUR', amountMinor: 1 }, { currency: 'EUR', amountMinor: 2 }] } }))
      .toEqual([{ path: 'bigDeal.thresholds.1.currency', message: 'EUR has a threshold already' }]);
    expect(errorsOf({ commission: { lateRules: [{ afterDays: 60, reducePercent: 50 }, { afterDays: 30, reducePercent: 40 }] } }))
      .toEqual([
        { path: 'commission.lateRules.1.afterDays', message: 'must be more days than the rule before' },
        { path: 'commission.lateRules.1.reducePercent', message: 'must not be less than the rule before' },
      ]);
    expect(errorsOf({ commission: { ratePercent: -1 } }).map((e) => e.path)).toEqual(['commission.ratePercent']);
  });

  it('names each unknown key by its own path, and a non-object as the whole policy', () => {
    expect(errorsOf({ risk: { tiers: { E: 10 } }, dsoMonth: 3 })).toEqual([
      { path: 'risk.tiers.E', message: 'is not a policy field' },
      { path: 'dsoMonth', message: 'is not a policy field' },
    ]);
    expect(errorsOf('strict').map((e) => e.path)).toEqual(['(policy)']);
  });

  it('reports every error at once', () => {
    const paths = errorsOf({ dsoMonths: 0, escalation: { helpRequestSlaDays: -2 }, commission: { clawbackAfterDays: 1.5 } }).map((e) => e.path).sort();
    expect(paths).toEqual(['commission.clawbackAfterDays', 'dsoMonths', 'escalation.helpRequestSlaDays']);
  });
});
