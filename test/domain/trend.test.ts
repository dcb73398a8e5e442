import { describe, expect, it } from '@jest/globals';
import { daysLateByMonth } from '../../src/domain/trend';
import type { InvoiceFact, Settlement } from '../../src/domain/types';

const inv = (id: string, total: number, due: string, settlements: [string, number, Settlement['kind']?][], voided: string | null = null): InvoiceFact => ({
  id, number: id, customerId: 'c', currency: 'USD', totalMinor: total, issueDate: '2025-12-01', dueDate: due, voidedDate: voided,
  disputed: false, salesRep: null, product: null, dealId: null, terms: null,
  settlements: settlements.map(([date, amountMinor, kind = 'payment'], i) => ({ id: `${id}-${i}`, date, amountMinor, kind })),
});

describe('daysLateByMonth', () => {
  it('averages days late by amount over the invoices paid in each month, oldest month first', () => {
    const trend = daysLateByMonth([
      inv('a', 100, '2026-01-10', [['2026-01-20', 100]]), // January, 10 days late, weight 100
      inv('b', 300, '2026-01-31', [['2026-01-29', 300]]), // January, 2 days early, weight 300
      inv('c', 200, '2026-02-01', [['2026-02-15', 50], ['2026-03-03', 150]]), // closed 03-03: March, 30 days late
      inv('d', 100, '2026-02-01', [['2026-02-20', 100, 'write_off']]), // written off: not paid
      inv('e', 100, '2026-02-01', [['2026-04-05', 100]]), // paid after D: not counted
    ], '2026-03-31', 3);
    expect(trend).toEqual([
      { month: '2026-01', paid: 2, avgDaysLate: 1 }, // (100×10 + 300×−2) ÷ 400 = 1
      { month: '2026-02', paid: 0, avgDaysLate: null },
      { month: '2026-03', paid: 1, avgDaysLate: 30 },
    ]);
  });

  it('leaves out months before the window and voided invoices', () => {
    const trend = daysLateByMonth([
      inv('old', 100, '2025-10-01', [['2025-10-05', 100]]),
      inv('void', 100, '2026-03-01', [['2026-03-05', 100]], '2026-03-20'),
    ], '2026-03-31', 2);
    expect(trend).toEqual([{ month: '2026-02', paid: 0, avgDaysLate: null }, { month: '2026-03', paid: 0, avgDaysLate: null }]);
  });
});
