import { describe, expect, it } from '@jest/globals';
import { addDays } from '../../src/domain/calendar';
import { agingBucketIndex, agingBucketLabels, computeMetrics, dsoWindow } from '../../src/domain/metrics';
import { DEFAULT_POLICY, parsePolicy, type Policy } from '../../src/domain/policy';
import type { InvoiceFact, Settlement, SettlementKind } from '../../src/domain/types';

type Paid = [date: string, amount: number, kind?: SettlementKind];

const inv = (
  id: string,
  total: number,
  issueDate: string,
  dueDate: string,
  paid: Paid[] = [],
  extra: Partial<InvoiceFact> = {},
): InvoiceFact => ({
  id,
  number: id,
  customerId: 'c1',
  currency: 'USD',
  totalMinor: total,
  issueDate,
  dueDate,
  voidedDate: null,
  disputed: false,
  salesRep: null,
  product: null,
  dealId: null,
  terms: null,
  settlements: paid.map(([date, amountMinor, kind = 'payment'], i): Settlement => ({ id: `${id}-s${i}`, date, amountMinor, kind })),
  ...extra,
});

const policy = (input: unknown = {}): Policy => parsePolicy(input);

describe('dsoWindow', () => {
  it.each([
    // 2024-04-01..2024-06-15: 30 (Apr) + 31 (May) + 15 (Jun) = 76
    ['2024-06-15', 3, '2024-04-01', 76],
    // leap year: 2024-02-01..2024-03-31: 29 + 31 = 60
    ['2024-03-31', 2, '2024-02-01', 60],
    // common year: 2023-02-01..2023-03-31: 28 + 31 = 59
    ['2023-03-31', 2, '2023-02-01', 59],
    // across a year end: 2023-11-01..2024-01-10: 30 + 31 + 10 = 71
    ['2024-01-10', 3, '2023-11-01', 71],
    // one month, first day: 2024-05-01..2024-05-01 = 1
    ['2024-05-01', 1, '2024-05-01', 1],
    // twelve months ending 2024-12-31: the whole leap year, 366
    ['2024-12-31', 12, '2024-01-01', 366],
  ])('as of %s over %i months starts %s and spans %i days', (asOf, months, start, days) => {
    expect(dsoWindow(asOf, months)).toEqual({ start, end: asOf, days });
  });
});

describe('aging buckets', () => {
  it('derives labels from the boundaries for both bases', () => {
    expect(agingBucketLabels({ boundaries: [30, 60, 90], basis: 'due' })).toEqual(['current', '1-30', '31-60', '61-90', '91+']);
    expect(agingBucketLabels({ boundaries: [30, 60, 90], basis: 'issue' })).toEqual(['0-30', '31-60', '61-90', '91+']);
    expect(agingBucketLabels({ boundaries: [15, 45], basis: 'due' })).toEqual(['current', '1-15', '16-45', '46+']);
  });

  const asOf = '2024-06-30';
  it.each([
    // [days past due, bucket, overdue amount, over-60 share]
    [-5, 'current', 0, 0], // not yet due
    [0, 'current', 0, 0], // due on D is current
    [1, '1-30', 1000, 0],
    [30, '1-30', 1000, 0],
    [31, '31-60', 1000, 0],
    [60, '31-60', 1000, 0],
    [61, '61-90', 1000, 1],
    [90, '61-90', 1000, 1],
    [91, '91+', 1000, 1],
  ])('%i days past due falls in %s', (days, bucket, overdue, over60) => {
    const due = addDays(asOf, -days);
    const m = computeMetrics([inv('a', 1000, '2024-01-01', due)], asOf, DEFAULT_POLICY);
    const hit = m.aging.filter((b) => b.amountMinor > 0);
    expect(hit).toEqual([{ label: bucket, amountMinor: 1000, count: 1 }]);
    expect(m.overdueMinor).toBe(overdue);
    expect(m.currentMinor).toBe(1000 - overdue);
    expect(m.over60Share).toBe(over60);
  });

  it.each([
    // [days since issue, bucket] with basis 'issue' (due date is irrelevant)
    [0, '0-30'],
    [30, '0-30'],
    [31, '31-60'],
    [60, '31-60'],
    [61, '61-90'],
    [90, '61-90'],
    [91, '91+'],
  ])('basis issue: %i days since issue falls in %s', (days, bucket) => {
    const issued = addDays(asOf, -days);
    const m = computeMetrics([inv('a', 700, issued, '2030-01-01')], asOf, policy({ aging: { basis: 'issue' } }));
    expect(m.aging.map((b) => b.label)).toEqual(['0-30', '31-60', '61-90', '91+']);
    expect(m.aging.filter((b) => b.count > 0)).toEqual([{ label: bucket, amountMinor: 700, count: 1 }]);
  });

  it('uses custom boundaries', () => {
    const aging = { boundaries: [7], basis: 'due' as const };
    expect([-1, 0, 1, 7, 8].map((d) => agingBucketIndex(d, aging))).toEqual([0, 0, 1, 1, 2]);
  });
});

describe('computeMetrics: a worked portfolio', () => {
  // D = 2024-06-15, N = 3 → window 2024-04-01..2024-06-15 (76 days), opening date 2024-03-31.
  const asOf = '2024-06-15';
  const invoices = [
    // A: 1000.00 issued in window, 400.00 paid → 600.00 open, due 05-10 → 36 days past due.
    inv('A', 100_000, '2024-04-10', '2024-05-10', [['2024-05-20', 40_000]]),
    // B: 500.00 issued in window, due 06-19 → not yet due (−4), nothing paid.
    inv('B', 50_000, '2024-05-20', '2024-06-19'),
    // C: 300.00 issued in window, paid in full 06-10, due 07-01 → closed 21 days early.
    inv('C', 30_000, '2024-06-01', '2024-07-01', [['2024-06-10', 30_000]]),
    // E: 200.00 issued before the window, open, due 04-14 → 62 days past due.
    inv('E', 20_000, '2024-03-15', '2024-04-14'),
    // F: 2000.00 issued before the window, due 03-02, paid 04-15 → closed in window 44 days late.
    inv('F', 200_000, '2024-02-01', '2024-03-02', [['2024-04-15', 200_000]]),
  ];
  const m = computeMetrics(invoices, asOf, DEFAULT_POLICY);

  it('counts invoices, open amounts and overdue', () => {
    // open: A 60000 + B 50000 + E 20000 = 130000; past due: A + E = 80000; current: B = 50000
    expect(m.invoiceCount).toBe(5);
    expect(m.openCount).toBe(3);
    expect(m.outstandingMinor).toBe(130_000);
    expect(m.overdueMinor).toBe(80_000);
    expect(m.currentMinor).toBe(50_000);
    expect(m.currency).toBe('USD');
  });

  it('ages the open amounts', () => {
    expect(m.aging).toEqual([
      { label: 'current', amountMinor: 50_000, count: 1 }, // B
      { label: '1-30', amountMinor: 0, count: 0 },
      { label: '31-60', amountMinor: 60_000, count: 1 }, // A, 36 days
      { label: '61-90', amountMinor: 20_000, count: 1 }, // E, 62 days
      { label: '91+', amountMinor: 0, count: 0 },
    ]);
  });

  it('computes simple DSO, BPDSO and ADD', () => {
    // credit sales = A + B + C = 100000 + 50000 + 30000 = 180000
    expect(m.creditSalesMinor).toBe(180_000);
    expect(m.window).toEqual({ start: '2024-04-01', end: asOf, days: 76 });
    // simple = 130000 / 180000 × 76 = 54.888…
    expect(m.dsoSimple).toBeCloseTo(54.888_888_9, 6);
    // BPDSO = 50000 / 180000 × 76 = 21.111…
    expect(m.bpdso).toBeCloseTo(21.111_111_1, 6);
    // ADD = 54.888… − 21.111… = 33.777…
    expect(m.add).toBeCloseTo(33.777_777_8, 6);
  });

  it('computes CEI from the opening balance', () => {
    // opening (2024-03-31): E 20000 + F 200000 (paid only on 04-15) = 220000; sales ÷ N = 60000
    // CEI = (220000 + 60000 − 130000) ÷ (220000 + 60000 − 50000) × 100 = 150000 ÷ 230000 × 100 = 65.217…
    expect(m.openingArMinor).toBe(220_000);
    expect(m.cei).toBeCloseTo(65.217_391_3, 6);
  });

  it('computes the on-time rate over invoices closed in the window', () => {
    // closed in window: C (06-10 ≤ due 07-01, on time) and F (04-15 > due 03-02) → 1 / 2
    expect(m.onTimeRate).toBe(0.5);
  });

  it('computes the amount-weighted days late', () => {
    // C −21 × 30000, F 44 × 200000, A 36 × 100000, E 62 × 20000; B (not yet due, clean) left out
    // = (−630000 + 8800000 + 3600000 + 1240000) ÷ (30000 + 200000 + 100000 + 20000) = 13010000 ÷ 350000
    expect(m.weightedDaysLate).toBeCloseTo(37.171_428_57, 6);
  });

  it('computes at-risk rate and over-60 share', () => {
    // issued in window: A, B, C; none more than 90 days past due → 0 / 3
    expect(m.atRiskRate).toBe(0);
    // over 60 days past due: E 20000 ÷ 130000
    expect(m.over60Share).toBeCloseTo(20_000 / 130_000, 12);
  });

  it('computes countback DSO', () => {
    // June (15 days): sales C 30000 ≤ 130000 → remaining 100000, 15 days
    // May (31): sales B 50000 → remaining 50000, 46 days
    // April (30): sales A 100000 > 50000 → 30 × 50000 ÷ 100000 = 15 → 61 days
    expect(m.dsoCountback).toBe(61);
  });

  it('includes disputed or partly paid open invoices not yet due in days late', () => {
    const disputed = computeMetrics(
      [...invoices.filter((i) => i.id !== 'B'), { ...invoices[1]!, disputed: true }],
      asOf,
      DEFAULT_POLICY,
    );
    // adds B at −4 days × 50000: (13010000 − 200000) ÷ 400000 = 32.025
    expect(disputed.weightedDaysLate).toBeCloseTo(32.025, 9);
    const partly = computeMetrics(
      [...invoices.filter((i) => i.id !== 'B'), inv('B', 50_000, '2024-05-20', '2024-06-19', [['2024-06-01', 100]])],
      asOf,
      DEFAULT_POLICY,
    );
    expect(partly.weightedDaysLate).toBeCloseTo(32.025, 9);
  });
});

describe('countback DSO', () => {
  // D = 2024-03-10; March counts 10 days, February 2024 has 29.
  const asOf = '2024-03-10';
  const one = policy({ dsoMonths: 1 });

  it('walks several months back, beyond the window, and ends exactly on a month', () => {
    const m = computeMetrics(
      [
        inv('jan', 10_000, '2024-01-05', '2024-02-04'),
        inv('feb', 20_000, '2024-02-10', '2024-03-11'),
        inv('mar', 5_000, '2024-03-01', '2024-03-31'),
      ],
      asOf,
      one,
    );
    // AR 35000. March: −5000 → 30000, 10 days. Feb: −20000 → 10000, 39 days.
    // Jan: sales 10000 = remaining → 31 × 10000 ÷ 10000 = 31 → 70
    expect(m.dsoCountback).toBe(70);
  });

  it('counts the last month pro rata', () => {
    const m = computeMetrics(
      [
        inv('jan', 40_000, '2024-01-05', '2024-02-04', [['2024-02-01', 10_000]]),
        inv('feb', 20_000, '2024-02-10', '2024-03-11'),
        inv('mar', 5_000, '2024-03-01', '2024-03-31'),
      ],
      asOf,
      one,
    );
    // AR 30000 + 20000 + 5000 = 55000. March → 50000, 10 days. Feb → 30000, 39 days.
    // Jan: sales 40000 > 30000 → 31 × 30000 ÷ 40000 = 23.25 → 62.25
    expect(m.dsoCountback).toBe(62.25);
  });

  it('walks through months without sales', () => {
    const m = computeMetrics(
      [inv('jan', 10_000, '2024-01-05', '2024-02-04'), inv('mar', 5_000, '2024-03-01', '2024-03-31')],
      asOf,
      one,
    );
    // AR 15000. March → 10000, 10 days. Feb: no sales → 39 days. Jan: 31 × 10000 ÷ 10000 → 70
    expect(m.dsoCountback).toBe(70);
  });

  it('stops after the earliest invoice month', () => {
    const m = computeMetrics(
      [
        inv('feb', 20_000, '2024-02-10', '2024-03-11'),
        inv('feb-credit', -20_000, '2024-02-12', '2024-02-12'),
        inv('mar', 5_000, '2024-03-01', '2024-03-31'),
      ],
      asOf,
      one,
    );
    // AR 25000 (a negative total is never open). March → 20000, 10 days. Feb: sales 0 → 39 days.
    // February is the earliest invoice month: stop at 39.
    expect(m.dsoCountback).toBe(39);
  });

  it('is 0 when nothing is open', () => {
    const m = computeMetrics([inv('a', 1_000, '2024-01-05', '2024-02-04', [['2024-02-01', 1_000]])], asOf, one);
    expect(m.dsoCountback).toBe(0);
  });

  it('is the partial month pro rata when that month covers the AR', () => {
    // AR 3000 of March sales 5000 → 10 × 3000 ÷ 5000 = 6
    const m = computeMetrics([inv('mar', 5_000, '2024-03-01', '2024-03-31', [['2024-03-05', 2_000]])], asOf, one);
    expect(m.dsoCountback).toBe(6);
  });
});

describe('settlements', () => {
  const due = '2024-05-31';
  const mixed = (order: 'forward' | 'reverse', last: 'payment' | 'write_off' = 'payment'): InvoiceFact => {
    const paid: Paid[] = [
      ['2024-05-01', 3_000, 'payment'],
      ['2024-05-10', 2_000, 'credit_note'],
      ['2024-05-20', 5_000, last],
    ];
    return inv('x', 10_000, '2024-04-15', due, order === 'forward' ? paid : paid.reverse());
  };

  it('counts payments, credit notes and write-offs alike in the open balance', () => {
    // at 05-15: 3000 + 2000 settled → 5000 open
    const mid = computeMetrics([mixed('forward', 'write_off')], '2024-05-15', DEFAULT_POLICY);
    expect(mid.outstandingMinor).toBe(5_000);
    expect(mid.openCount).toBe(1);
    // at 05-20 the write-off closes it: nothing is open any more…
    const closed = computeMetrics([mixed('forward', 'write_off')], '2024-05-20', DEFAULT_POLICY);
    expect(closed.outstandingMinor).toBe(0);
    expect(closed.openCount).toBe(0);
    // …but it was not paid: it counts neither as paid on time nor as paid late.
    expect(closed.onTimeRate).toBeNull();
    expect(closed.weightedDaysLate).toBeNull();
  });

  it('takes an invoice closed by payments and a credit note as paid on the closing date', () => {
    const paid = computeMetrics([mixed('forward')], '2024-05-20', DEFAULT_POLICY);
    expect(paid.onTimeRate).toBe(1);
    // paid date 05-20, due 05-31 → −11 days
    expect(paid.weightedDaysLate).toBe(-11);
  });

  it('does not take an invoice cancelled by credit notes alone as paid', () => {
    const cancelled = computeMetrics([inv('c', 1_000, '2024-04-15', due, [['2024-05-02', 1_000, 'credit_note']])], '2024-06-30', DEFAULT_POLICY);
    expect(cancelled.outstandingMinor).toBe(0);
    expect(cancelled.onTimeRate).toBeNull();
  });

  it('finds the paid date when settlements are out of order', () => {
    const m = computeMetrics([mixed('reverse')], '2024-06-30', DEFAULT_POLICY);
    expect(m.weightedDaysLate).toBe(-11);
  });

  it('uses the last of several payments as the paid date', () => {
    // 4000 on 05-25 + 6000 on 06-05 → paid 06-05, 5 days after 05-31
    const m = computeMetrics(
      [inv('x', 10_000, '2024-04-15', due, [['2024-06-05', 6_000], ['2024-05-25', 4_000]])],
      '2024-06-30',
      DEFAULT_POLICY,
    );
    expect(m.onTimeRate).toBe(0);
    expect(m.weightedDaysLate).toBe(5);
  });

  it('closes an overpaid invoice on the paying date', () => {
    const m = computeMetrics([inv('x', 10_000, '2024-04-15', due, [['2024-05-02', 12_000]])], '2024-06-30', DEFAULT_POLICY);
    expect(m.outstandingMinor).toBe(0);
    expect(m.onTimeRate).toBe(1);
  });

  it('ignores payments dated after D', () => {
    const paidLater = inv('x', 10_000, '2024-04-15', due, [['2024-05-10', 1_000], ['2024-06-20', 9_000]]);
    const m = computeMetrics([paidLater], '2024-06-15', DEFAULT_POLICY);
    expect(m.outstandingMinor).toBe(9_000);
    expect(m.overdueMinor).toBe(9_000);
    expect(m.onTimeRate).toBeNull();
    // partly paid and 15 days past due: 15 × 10000 ÷ 10000
    expect(m.weightedDaysLate).toBe(15);
  });

  it('does not count invoices closed before the window as closed in it', () => {
    // window 2024-04-01..2024-06-15; closed 2024-03-20
    const m = computeMetrics([inv('x', 10_000, '2024-02-01', '2024-03-01', [['2024-03-20', 10_000]])], '2024-06-15', DEFAULT_POLICY);
    expect(m.onTimeRate).toBeNull();
    expect(m.weightedDaysLate).toBeNull();
    expect(m.invoiceCount).toBe(1);
  });
});

describe('window edges', () => {
  // D = 2024-06-15, window 2024-04-01..2024-06-15, opening date 2024-03-31
  const asOf = '2024-06-15';

  it.each([
    // [paid on, due, closed in window, on time]
    ['2024-04-01', '2024-04-01', 1, 1], // first window day, paid on the due date → on time
    ['2024-03-31', '2024-04-01', 0, null], // the opening date is outside the window
    ['2024-06-15', '2024-06-14', 1, 0], // paid on D, one day late
    ['2024-05-10', '2024-05-10', 1, 1], // paid on the due date
  ])('paid %s, due %s', (paidOn, due, closed, onTime) => {
    const m = computeMetrics([inv('x', 1_000, '2024-03-01', due, [[paidOn, 1_000]])], asOf, DEFAULT_POLICY);
    expect(m.onTimeRate).toBe(closed === 0 ? null : onTime);
    expect(m.weightedDaysLate === null ? 0 : 1).toBe(closed);
  });

  it('puts a settlement dated on the opening date in the opening balance', () => {
    // 1000 issued 03-01, 400 paid 03-31 → opening 600; 600 paid 04-01 → closed in window
    const m = computeMetrics([inv('x', 1_000, '2024-03-01', '2024-03-31', [['2024-03-31', 400], ['2024-04-01', 600]])], asOf, DEFAULT_POLICY);
    expect(m.openingArMinor).toBe(600);
    // CEI = (600 + 0 − 0) ÷ (600 + 0 − 0) × 100
    expect(m.cei).toBe(100);
  });

  it.each([
    ['2024-03-31', 0], // voided on the opening date: not in the opening balance
    ['2024-04-01', 1_000], // voided on the first window day: still open on the opening date
  ])('voided on %s → opening balance %i', (voidedDate, opening) => {
    const m = computeMetrics([inv('x', 1_000, '2024-03-01', '2024-03-31', [], { voidedDate })], asOf, DEFAULT_POLICY);
    expect(m.openingArMinor).toBe(opening);
  });

  it('counts an invoice issued on the first window day as a credit sale, not one issued the day before', () => {
    const m = computeMetrics(
      [inv('in', 3_000, '2024-04-01', '2024-05-01'), inv('out', 5_000, '2024-03-31', '2024-04-30')],
      asOf,
      DEFAULT_POLICY,
    );
    expect(m.creditSalesMinor).toBe(3_000);
    expect(m.openingArMinor).toBe(5_000);
    // CEI = (5000 + 1000 − 8000) ÷ (5000 + 1000 − 0) × 100 = −33.33…
    expect(m.cei).toBeCloseTo(-100 / 3, 9);
  });
});

describe('voids', () => {
  const asOf = '2024-06-15';
  const base = inv('v', 10_000, '2024-05-01', '2024-05-31');

  it.each([
    ['2024-06-01', 0, 0],
    ['2024-06-15', 0, 0], // voided on D: gone
    ['2024-06-16', 1, 10_000], // voided after D: still open at D
  ])('voided on %s → %i invoices, %i open', (voidedDate, count, open) => {
    const m = computeMetrics([{ ...base, voidedDate }], asOf, DEFAULT_POLICY);
    expect(m.invoiceCount).toBe(count);
    expect(m.outstandingMinor).toBe(open);
    expect(m.creditSalesMinor).toBe(open);
    expect(m.dsoSimple).toBe(open === 0 ? null : 76);
  });

  it('keeps an invoice voided inside the window in the opening balance', () => {
    // issued 03-01, voided 04-20: open at 03-31 (opening 10000), gone at D.
    // CEI = (10000 + 0 − 0) ÷ (10000 + 0 − 0) × 100 = 100
    const m = computeMetrics([inv('v', 10_000, '2024-03-01', '2024-03-31', [], { voidedDate: '2024-04-20' })], asOf, DEFAULT_POLICY);
    expect(m.openingArMinor).toBe(10_000);
    expect(m.invoiceCount).toBe(0);
    expect(m.cei).toBe(100);
  });
});

describe('leap days', () => {
  it('counts 29 February in the window', () => {
    // 2024: window 02-01..03-31 = 60 days; AR = sales = 12000 → DSO 60
    const leap = computeMetrics([inv('a', 12_000, '2024-02-29', '2024-03-30')], '2024-03-31', policy({ dsoMonths: 2 }));
    expect(leap.window.days).toBe(60);
    expect(leap.dsoSimple).toBe(60);
    expect(leap.overdueMinor).toBe(12_000); // 1 day past due
    // 2023: 59 days
    const common = computeMetrics([inv('a', 12_000, '2023-02-28', '2023-03-30')], '2023-03-31', policy({ dsoMonths: 2 }));
    expect(common.dsoSimple).toBe(59);
  });

  it('counts days past due across 29 February', () => {
    // due 2024-02-28, D 2024-03-01 → 2 days; paid 2024-03-01 for one due 02-28 is 2 days late
    const m = computeMetrics([inv('a', 1_000, '2024-01-29', '2024-02-28', [['2024-02-15', 500]])], '2024-03-01', DEFAULT_POLICY);
    expect(m.weightedDaysLate).toBe(2);
    const paid = computeMetrics([inv('a', 1_000, '2024-01-29', '2024-02-28', [['2024-03-01', 1_000]])], '2024-03-01', DEFAULT_POLICY);
    expect(paid.weightedDaysLate).toBe(2);
  });
});

describe('at-risk rate', () => {
  it('counts window invoices more than 90 days past due', () => {
    // N = 6, D = 2024-06-30 → window 2024-01-01..2024-06-30
    const m = computeMetrics(
      [
        inv('x', 1_000, '2024-01-05', '2024-02-04'), // 147 days past due → at risk
        inv('y', 1_000, '2024-03-01', '2024-03-31'), // 91 → at risk
        inv('z', 1_000, '2024-04-01', '2024-04-01'), // 90 → not
        inv('w', 1_000, '2024-01-10', '2024-02-09', [['2024-06-01', 1_000]]), // closed → not
        inv('old', 1_000, '2023-12-01', '2023-12-31'), // issued before the window: not counted at all
      ],
      '2024-06-30',
      policy({ dsoMonths: 6 }),
    );
    // 2 ÷ 4
    expect(m.atRiskRate).toBe(0.5);
  });
});

describe('edge cases', () => {
  it('gives nulls and zeros for no invoices', () => {
    const m = computeMetrics([], '2024-06-15', DEFAULT_POLICY);
    expect(m).toMatchObject({
      currency: null,
      invoiceCount: 0,
      outstandingMinor: 0,
      dsoSimple: null,
      dsoCountback: 0,
      bpdso: null,
      add: null,
      cei: null,
      onTimeRate: null,
      weightedDaysLate: null,
      atRiskRate: null,
      over60Share: null,
    });
    expect(m.aging.every((b) => b.amountMinor === 0 && b.count === 0)).toBe(true);
  });

  it('ignores invoices issued after D', () => {
    const m = computeMetrics([inv('a', 1_000, '2024-06-16', '2024-07-16')], '2024-06-15', DEFAULT_POLICY);
    expect(m.invoiceCount).toBe(0);
    expect(m.creditSalesMinor).toBe(0);
  });

  it('throws on mixed currencies', () => {
    const usd = inv('a', 1_000, '2024-06-01', '2024-07-01');
    const eur = { ...inv('b', 1_000, '2024-06-01', '2024-07-01'), currency: 'EUR' };
    expect(() => computeMetrics([usd, eur], '2024-06-15', DEFAULT_POLICY)).toThrow(/one currency/);
  });

  it('throws on an invalid as-of date', () => {
    expect(() => computeMetrics([], '2024-02-30', DEFAULT_POLICY)).toThrow(/calendar date/);
  });
});
