import { describe, expect, it } from '@jest/globals';
import { DEFAULT_POLICY, DEFAULT_RISK_POLICY, PolicySchema, parsePolicy } from '../../src/domain/policy';

describe('parsePolicy', () => {
  it('fills every default from nothing', () => {
    const expected = {
      aging: { boundaries: [30, 60, 90], basis: 'due' },
      dsoMonths: 3,
      risk: DEFAULT_RISK_POLICY,
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
  ])('rejects %s', (_label, input) => {
    expect(() => parsePolicy(input)).toThrow();
    expect(PolicySchema.safeParse(input).success).toBe(false);
  });
});
