import { describe, expect, it } from '@jest/globals';
import { addDays } from '../../src/domain/calendar';
import { DEFAULT_POLICY, parsePolicy } from '../../src/domain/policy';
import type { PromiseFact } from '../../src/domain/promises';
import { buildReports } from '../../src/domain/report';
import { scoreRisk, type LogDisputeFact, type RiskLog } from '../../src/domain/risk';
import type { InvoiceFact } from '../../src/domain/types';

const D = '2024-12-31';

const invoice = (id: string, dueDate: string, extra: Partial<InvoiceFact> = {}): InvoiceFact => ({
  id, number: null, customerId: 'c1', currency: 'USD', totalMinor: 10_000, issueDate: addDays(dueDate, -30), dueDate,
  voidedDate: null, disputed: false, salesRep: null, product: null, dealId: null, terms: null, settlements: [], ...extra,
});
/** Paid on time: the score without the log is 100 (nothing open, nothing late). */
const onTime = (id: string, dueDate: string): InvoiceFact =>
  invoice(id, dueDate, { settlements: [{ id: `${id}-p`, date: dueDate, amountMinor: 10_000, kind: 'payment' }] });
const clean = [onTime('a', '2024-10-01'), onTime('b', '2024-11-01')];

const promise = (id: string, promiseDate: string, extra: Partial<PromiseFact> = {}): PromiseFact => ({
  id, loggedOn: addDays(promiseDate, -10), promiseDate, amountMinor: 10_000, currency: 'USD', invoiceId: null, ...extra,
});
const dispute = (id: string, extra: Partial<LogDisputeFact> = {}): LogDisputeFact => ({
  id, openedOn: '2024-12-01', resolvedOn: null, currency: 'USD', invoiceId: null, ...extra,
});
const log = (extra: Partial<RiskLog>): RiskLog => ({ promises: [], disputes: [], ...extra });

describe('scoreRisk: promises to pay', () => {
  it('scores a clean history at 100 with or without an empty log', () => {
    expect(scoreRisk(clean, D, DEFAULT_POLICY)).toEqual({ score: 100, tier: 'A', reasons: [] });
    expect(scoreRisk(clean, D, DEFAULT_POLICY, log({}))).toEqual({ score: 100, tier: 'A', reasons: [] });
  });

  it('costs 10 points per promise broken in the last 6 months, at most 20', () => {
    // two broken (nothing paid from their logging to 12-04 and 11-18); p3 is kept by b's payment on 11-01
    const promises = [promise('p1', '2024-12-01'), promise('p2', '2024-11-15'), promise('p3', '2024-11-01', { loggedOn: '2024-10-20' })];
    expect(scoreRisk(clean, D, DEFAULT_POLICY, log({ promises }))).toEqual({
      score: 80, tier: 'A', reasons: ['2 promises to pay broken in the last 6 months'],
    });
    const four = [promise('p1', '2024-12-01'), promise('p2', '2024-11-15'), promise('p4', '2024-10-15'), promise('p5', '2024-09-15')];
    expect(scoreRisk(clean, D, DEFAULT_POLICY, log({ promises: four })).score).toBe(80);
    expect(scoreRisk(clean, D, DEFAULT_POLICY, log({ promises: [promise('p1', '2024-12-01')] })).reasons)
      .toEqual(['1 promise to pay broken in the last 6 months']);
  });

  it('leaves out promises broken more than 6 months ago, not yet due, logged after D, or in another currency', () => {
    const promises = [
      promise('old', '2024-06-20'), // broken 06-24, before (D − 6 months = 06-30, D]
      promise('due', '2024-12-30'), // deadline 01-02: pending
      promise('later', '2024-12-01', { loggedOn: '2025-01-02' }),
      promise('eur', '2024-12-01', { currency: 'EUR' }),
    ];
    expect(scoreRisk(clean, D, DEFAULT_POLICY, log({ promises }))).toEqual({ score: 100, tier: 'A', reasons: [] });
    // as of 2025-01-03 the one due 12-30 is broken
    expect(scoreRisk(clean, '2025-01-03', DEFAULT_POLICY, log({ promises: [promise('due', '2024-12-30')] })).score).toBe(90);
  });

  it('takes weights and grace days from the policy', () => {
    const policy = parsePolicy({ risk: { promises: { graceDays: 40, pointsEach: 25, maxPoints: 30 } } });
    const promises = [promise('p1', '2024-11-05', { loggedOn: '2024-11-02' }), promise('p2', '2024-11-15')];
    // 11-05 + 40 days = 12-15 and 11-15 + 40 = 12-25 passed: 2 × 25 = 50, at most 30
    expect(scoreRisk(clean, D, policy, log({ promises })).score).toBe(70);
    // 12-01 + 40 days not yet passed
    expect(scoreRisk(clean, D, policy, log({ promises: [promise('p3', '2024-12-01')] })).score).toBe(100);
  });
});

describe('scoreRisk: logged disputes', () => {
  const open = invoice('o1', '2025-01-20');
  const flagged = invoice('o2', '2025-01-20', { disputed: true });
  const base = [...clean, open, flagged];

  it('adds open logged disputes to the disputed invoices, without counting a flagged invoice twice', () => {
    expect(scoreRisk(base, D, DEFAULT_POLICY).reasons).toEqual(['1 disputed invoice is open']);
    const disputes = [dispute('d1', { invoiceId: 'o2' }), dispute('d2', { invoiceId: 'o2' })];
    expect(scoreRisk(base, D, DEFAULT_POLICY, log({ disputes }))).toEqual({ score: 90, tier: 'A', reasons: ['1 disputed invoice is open'] });
    const more = [dispute('d1', { invoiceId: 'o1' }), dispute('d2', { invoiceId: 'o1' }), dispute('d3')];
    // o2 flagged + o1 (once) + d3 = 3 → 30, at most 20
    expect(scoreRisk(base, D, DEFAULT_POLICY, log({ disputes: more }))).toEqual({ score: 80, tier: 'A', reasons: ['3 disputes are open'] });
  });

  it('counts a dispute only while it is open as of D', () => {
    const disputes = [
      dispute('resolved', { resolvedOn: '2024-12-15' }),
      dispute('future', { openedOn: '2025-01-05' }),
      dispute('paid-invoice', { invoiceId: 'a' }),
      dispute('eur', { currency: 'EUR' }),
    ];
    expect(scoreRisk(clean, D, DEFAULT_POLICY, log({ disputes }))).toEqual({ score: 100, tier: 'A', reasons: [] });
    expect(scoreRisk(clean, '2024-12-10', DEFAULT_POLICY, log({ disputes: [dispute('resolved', { resolvedOn: '2024-12-15' })] })))
      .toEqual({ score: 90, tier: 'A', reasons: ['1 dispute is open'] });
    expect(scoreRisk(clean, D, DEFAULT_POLICY, log({ disputes: [dispute('any', { currency: null })] })).score).toBe(90);
  });
});

describe('buildReports with logs', () => {
  it('gives each customer group its own log, per currency', () => {
    const invoices = [...clean, { ...onTime('x', '2024-10-01'), customerId: 'c2', currency: 'EUR' }];
    const logs = new Map([['c1', log({ promises: [promise('p1', '2024-12-01')] })], ['c2', log({ promises: [promise('p2', '2024-12-01')] })]]);
    const reports = buildReports({ invoices, customers: [], asOf: D, policy: DEFAULT_POLICY, by: 'customer', logs });
    expect(reports.map((r) => [r.currency, r.groups.map((g) => [g.key, g.risk.score])])).toEqual([
      ['EUR', [['c2', 100]]],
      ['USD', [['c1', 90]]],
    ]);
    // not grouped by customer: no log
    const byRep = buildReports({ invoices, customers: [], asOf: D, policy: DEFAULT_POLICY, by: 'rep', logs });
    expect(byRep.find((r) => r.currency === 'USD')?.groups[0]?.risk.score).toBe(100);
  });
});
