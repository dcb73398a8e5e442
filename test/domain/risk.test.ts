import { describe, expect, it } from '@jest/globals';
import { addDays } from '../../src/domain/calendar';
import { DEFAULT_POLICY, parsePolicy } from '../../src/domain/policy';
import { NO_HISTORY_REASON, scoreRisk, tierOf } from '../../src/domain/risk';
import type { InvoiceFact } from '../../src/domain/types';

const D = '2024-12-31';

const invoice = (id: string, dueDate: string, extra: Partial<InvoiceFact> = {}): InvoiceFact => ({
  id, number: null, customerId: 'c1', currency: 'USD', totalMinor: 10_000, issueDate: addDays(dueDate, -30), dueDate,
  voidedDate: null, disputed: false, salesRep: null, product: null, dealId: null, terms: null, settlements: [], ...extra,
});

/** Closed by one payment `late` days after its due date. */
const paid = (id: string, dueDate: string, late: number): InvoiceFact =>
  invoice(id, dueDate, { settlements: [{ id: `${id}-p`, date: addDays(dueDate, late), amountMinor: 10_000, kind: 'payment' }] });

// Six due dates whose payments (up to 90 days late) all fall in the last six months before D.
const DUES = ['2024-07-10', '2024-07-20', '2024-08-10', '2024-08-20', '2024-09-10', '2024-09-20'];
const history = (lateDays: number[]): InvoiceFact[] => lateDays.map((late, i) => paid(`h${i}`, DUES[i] as string, late));

describe('scoreRisk: no history', () => {
  it('gives the neutral score to a customer without invoices', () => {
    expect(scoreRisk([], D, DEFAULT_POLICY)).toEqual({ score: 70, tier: 'B', reasons: [NO_HISTORY_REASON] });
    expect(NO_HISTORY_REASON).toBe('no payment history yet');
  });

  it('starts from the neutral score when nothing was closed yet', () => {
    // open only, not yet due: 100 − 30 = 70
    expect(scoreRisk([invoice('a', '2025-01-15')], D, DEFAULT_POLICY).score).toBe(70);
    // open 100 days past due: 100 − 30 − 20 (share 1) − 15 × (100 − 15) ÷ 105 (12.14) = 37.86 → 38
    expect(scoreRisk([invoice('a', addDays(D, -100))], D, DEFAULT_POLICY)).toEqual({
      score: 38,
      tier: 'D',
      reasons: [
        NO_HISTORY_REASON,
        '100% of the open balance is more than 60 days past due',
        'the oldest open invoice is 100 days past due',
      ],
    });
  });
});

describe('scoreRisk: lateness of the last six closed invoices', () => {
  it.each([
    // [days late of the six invoices, score, tier, reasons]; points = 40 × (late>30 + 0.5 × late 6..30) ÷ 6
    [[0, 0, 0, 0, 0, 0], 100, 'A', []],
    [[5, 5, 5, -3, 0, 1], 100, 'A', []], // up to 5 days late is on time
    [[10, 10, 10, 10, 10, 10], 80, 'A', ['6 of the last 6 invoices were paid late']], // 40 × 3 ÷ 6 = 20
    [[40, 40, 40, 40, 0, 0], 73, 'B', ['4 of the last 6 invoices were paid more than 30 days late']], // 26.67
    [[40, 40, 10, 10, 0, 0], 80, 'A', ['4 of the last 6 invoices were paid late, 2 more than 30 days late']], // 40 × 3 ÷ 6
    [[31, 0, 0, 0, 0, 0], 93, 'A', ['1 of the last 6 invoices was paid more than 30 days late']], // 6.67
    [[40, 40, 40, 40, 40, 40], 60, 'B', ['6 of the last 6 invoices were paid more than 30 days late']],
  ])('days late %j → %i %s', (late, score, tier, reasons) => {
    expect(scoreRisk(history(late), D, DEFAULT_POLICY)).toEqual({ score, tier, reasons });
  });

  it('speaks of a single closed invoice in the singular', () => {
    expect(scoreRisk(history([45]), D, DEFAULT_POLICY)).toEqual({
      score: 60,
      tier: 'B',
      reasons: ['the last invoice was paid more than 30 days late'],
    });
  });

  it('scores a customer paying later strictly lower', () => {
    // k of 6 invoices 40 days late: 100 − 40k ÷ 6 → 100, 93, 87, 80, 73, 67, 60
    const scores = [0, 1, 2, 3, 4, 5, 6].map((k) => scoreRisk(history(DUES.map((_, i) => (i < k ? 40 : 0))), D, DEFAULT_POLICY).score);
    expect(scores).toEqual([100, 93, 87, 80, 73, 67, 60]);
    // the same six invoices paid 0, 10, 40 days late
    const byLateness = [0, 10, 40].map((late) => scoreRisk(history(DUES.map(() => late)), D, DEFAULT_POLICY).score);
    expect(byLateness[0]).toBeGreaterThan(byLateness[1] as number);
    expect(byLateness[1]).toBeGreaterThan(byLateness[2] as number);
  });

  it('looks at the last six only', () => {
    const old = paid('old', '2024-03-01', 80); // paid 2024-05-20, before the six below
    expect(scoreRisk([...history([0, 0, 0, 0, 0, 0]), old], D, DEFAULT_POLICY).score).toBe(100);
    expect(scoreRisk([...history([0, 0, 0, 0, 0]), old], D, DEFAULT_POLICY).score).toBeLessThan(100);
  });
});

describe('scoreRisk: trend', () => {
  // prior period (2023-12-31, 2024-06-30]: two invoices 3 days late; recent (2024-06-30, 2024-12-31]: two 15 days late
  const prior = [paid('p1', '2024-03-01', 3), paid('p2', '2024-04-01', 3)];
  const recent = [paid('r1', '2024-09-01', 15), paid('r2', '2024-10-01', 15)];

  it('costs points when paying later than six months earlier', () => {
    // lateness: last 4 closed, 2 paid 15 days late → 40 × 1 ÷ 4 = 10
    // trend: 15 − 3 = 12 days later → 15 × 12 ÷ 30 = 6; score 100 − 16 = 84
    expect(scoreRisk([...prior, ...recent], D, DEFAULT_POLICY)).toEqual({
      score: 84,
      tier: 'A',
      reasons: ['2 of the last 4 invoices were paid late', 'paying 12 days later than six months earlier'],
    });
  });

  it('puts a payment made exactly six months before D in the earlier period', () => {
    // r0 paid 2024-06-30 = D − 6 months → prior: (3 + 3 + 15) ÷ 3 = 7 vs 15 → 8 days later
    const edge = paid('r0', '2024-06-15', 15);
    expect(scoreRisk([...prior, edge, ...recent], D, DEFAULT_POLICY).reasons).toContain('paying 8 days later than six months earlier');
  });

  it('costs nothing when paying earlier, or with too few invoices per period', () => {
    const improving = [paid('p1', '2024-03-01', 15), paid('p2', '2024-04-01', 15), paid('r1', '2024-09-01', 3), paid('r2', '2024-10-01', 3)];
    // lateness only: 2 of 4 mildly late → 10 → 90
    expect(scoreRisk(improving, D, DEFAULT_POLICY)).toEqual({ score: 90, tier: 'A', reasons: ['2 of the last 4 invoices were paid late'] });
    // one prior invoice only: no trend; lateness 40 × 1 ÷ 3 = 13.33 → 87
    expect(scoreRisk([prior[0] as InvoiceFact, ...recent], D, DEFAULT_POLICY).reasons).toEqual(['2 of the last 3 invoices were paid late']);
  });
});

describe('scoreRisk: open invoices', () => {
  const onTime = history([0, 0, 0, 0, 0, 0]);
  const pastDue = invoice('x', addDays(D, -100)); // 100 days past due
  const disputed = invoice('y', '2025-01-20', { disputed: true }); // not yet due

  it('ranks factors by the points they cost, at most three', () => {
    // share over 60: 10000 ÷ 20000 → 20 × 0.5 = 10; oldest 100 days: 15 × 85 ÷ 105 = 12.14; 1 dispute: 10
    // 100 − 32.14 = 67.86 → 68; the dispute (listed first) wins the tie with the share
    expect(scoreRisk([...onTime, pastDue, disputed], D, DEFAULT_POLICY)).toEqual({
      score: 68,
      tier: 'B',
      reasons: [
        'the oldest open invoice is 100 days past due',
        '1 disputed invoice is open',
        '50% of the open balance is more than 60 days past due',
      ],
    });
    // adding one invoice 10 days late (40 × 0.5 ÷ 6 = 3.33) lowers the score but not the top three reasons
    const withLate = scoreRisk([...history([10, 0, 0, 0, 0, 0]), pastDue, disputed], D, DEFAULT_POLICY);
    expect(withLate.score).toBe(65);
    expect(withLate.reasons).toHaveLength(3);
    expect(withLate.reasons).not.toContain('1 of the last 6 invoices was paid late');
  });

  it.each([
    // [days past due, score]: share counts from 61 days; oldest costs 15 × (p − 15) ÷ 105 from 16 days
    [15, 100],
    [16, 100], // 0.14 points, rounds away
    [60, 94], // 15 × 45 ÷ 105 = 6.43
    [61, 73], // 20 + 15 × 46 ÷ 105 = 26.57
  ])('an open invoice %i days past due scores %i', (days, score) => {
    expect(scoreRisk([...onTime, invoice('x', addDays(D, -days))], D, DEFAULT_POLICY).score).toBe(score);
  });

  it('counts 30 days late as late but not as more than 30 days late', () => {
    expect(scoreRisk(history([30, 30, 30, 30, 30, 30]), D, DEFAULT_POLICY)).toEqual({
      score: 80,
      tier: 'A',
      reasons: ['6 of the last 6 invoices were paid late'],
    });
  });

  it('caps disputes and counts them in plain words', () => {
    const three = ['d1', 'd2', 'd3'].map((id) => invoice(id, '2025-01-20', { disputed: true }));
    // 3 × 10 capped at 20 → 80
    expect(scoreRisk([...onTime, ...three], D, DEFAULT_POLICY)).toEqual({ score: 80, tier: 'A', reasons: ['3 disputed invoices are open'] });
    // a settled disputed invoice is not open
    const settled = invoice('d', '2024-12-01', { disputed: true, settlements: [{ id: 'p', date: '2024-12-01', amountMinor: 10_000, kind: 'credit_note' }] });
    expect(scoreRisk([...onTime, settled], D, DEFAULT_POLICY).reasons).toEqual([]);
  });

  it('never adds amounts of different currencies: the worst share counts', () => {
    const usd = invoice('u', addDays(D, -70));
    const eur = { ...invoice('e', '2025-01-20'), currency: 'EUR' };
    // USD share 1 → 20; oldest 70 days: 15 × 55 ÷ 105 = 7.86 → 100 − 27.86 = 72
    expect(scoreRisk([...onTime, usd, eur], D, DEFAULT_POLICY)).toEqual({
      score: 72,
      tier: 'B',
      reasons: ['100% of the open balance is more than 60 days past due', 'the oldest open invoice is 70 days past due'],
    });
  });
});

describe('scoreRisk: as of D', () => {
  it('ignores payments, voids and invoices dated after D', () => {
    const lateAfterD = paid('a', '2024-12-01', 45); // paid 2025-01-15, after D → still open at D, 30 days past due
    const voidedLater = invoice('v', addDays(D, -200), { voidedDate: '2025-01-05' });
    const future = paid('f', '2025-03-01', 90);
    const atD = scoreRisk([...history([0, 0, 0, 0, 0, 0]), lateAfterD, voidedLater, future], D, DEFAULT_POLICY);
    // open: a (30 days) and v (200 days past due, void not yet seen) → share 10000 ÷ 20000 → 10;
    // oldest 200 days → 15; 100 − 25 = 75
    expect(atD).toEqual({
      score: 75,
      tier: 'B',
      reasons: ['the oldest open invoice is 200 days past due', '50% of the open balance is more than 60 days past due'],
    });
  });

  it('breaks ties on the paid date by invoice id', () => {
    // seven invoices all paid on 2024-09-01; the last six are ids a..f, so g does not count
    const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const sameDay = (lateId: string): InvoiceFact[] => ids.map((id) => paid(id, id === lateId ? '2024-07-01' : '2024-09-01', id === lateId ? 62 : 0));
    expect(scoreRisk(sameDay('g'), D, DEFAULT_POLICY).score).toBe(100);
    expect(scoreRisk(sameDay('g').reverse(), D, DEFAULT_POLICY).score).toBe(100);
    // a counts: 40 × 1 ÷ 6 = 6.67 → 93
    expect(scoreRisk(sameDay('a').reverse(), D, DEFAULT_POLICY).score).toBe(93);
  });

  it('is deterministic whatever the input order', () => {
    const set = [...history([40, 10, 0, 20, 35, 0]), invoice('x', addDays(D, -75)), invoice('y', '2025-01-10', { disputed: true })];
    const expected = scoreRisk(set, D, DEFAULT_POLICY);
    expect(scoreRisk([...set].reverse(), D, DEFAULT_POLICY)).toEqual(expected);
    expect(scoreRisk([...set.slice(3), ...set.slice(0, 3)], D, DEFAULT_POLICY)).toEqual(expected);
  });
});

describe('tiers', () => {
  it.each([
    [100, 'A'], [80, 'A'], [79, 'B'], [60, 'B'], [59, 'C'], [40, 'C'], [39, 'D'], [0, 'D'],
  ])('default cut-offs: %i → %s', (score, tier) => {
    expect(tierOf(score, DEFAULT_POLICY)).toBe(tier);
  });

  it('follows policy cut-offs', () => {
    const strict = parsePolicy({ risk: { tiers: { A: 95, B: 85, C: 70 } } });
    expect(scoreRisk(history([10, 10, 10, 10, 10, 10]), D, strict)).toMatchObject({ score: 80, tier: 'C' });
    const heavier = parsePolicy({ risk: { lateness: { weight: 60 } } });
    // 60 × 3 ÷ 6 = 30 → 70
    expect(scoreRisk(history([10, 10, 10, 10, 10, 10]), D, heavier).score).toBe(70);
  });
});

describe('scoreRisk: write-offs', () => {
  const writtenOff = (id: string, dueDate: string, on: string): InvoiceFact =>
    invoice(id, dueDate, { settlements: [{ id: `${id}-w`, date: on, amountMinor: 10_000, kind: 'write_off' }] });

  it('costs 15 points per invoice written off in the last 12 months, and never counts it as paid', () => {
    const onTime = history([0, 0, 0, 0, 0, 0]);
    expect(scoreRisk(onTime, D, DEFAULT_POLICY)).toEqual({ score: 100, tier: 'A', reasons: [] });
    // Written off on 2024-11-30: 100 − 15 = 85; the lateness of the six paid invoices is unchanged.
    expect(scoreRisk([...onTime, writtenOff('w1', '2024-06-30', '2024-11-30')], D, DEFAULT_POLICY)).toEqual({
      score: 85, tier: 'A', reasons: ['1 invoice was written off in the last 12 months'],
    });
    // Two more (one of them 13 months ago, which no longer counts): 100 − 30 (the cap is 30) = 70.
    const three = [...onTime, writtenOff('w1', '2024-06-30', '2024-11-30'), writtenOff('w2', '2024-03-31', '2024-06-30'),
      writtenOff('w3', '2023-10-31', '2023-11-30')];
    expect(scoreRisk(three, D, DEFAULT_POLICY).score).toBe(70);
    expect(scoreRisk(three, D, DEFAULT_POLICY).reasons).toEqual(['2 invoices were written off in the last 12 months']);
  });

  it('gives a customer who only ever had invoices written off no payment history, and the write-off cost', () => {
    // 100 − 30 (no history) − 15 = 55
    expect(scoreRisk([writtenOff('w1', '2024-06-30', '2024-11-30')], D, DEFAULT_POLICY)).toEqual({
      score: 55, tier: 'C', reasons: [NO_HISTORY_REASON, '1 invoice was written off in the last 12 months'],
    });
  });
});
