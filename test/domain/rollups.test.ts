import { describe, expect, it } from '@jest/globals';
import { DEFAULT_POLICY } from '../../src/domain/policy';
import { companyRollup, dealRollup, primaryCurrency, propertyDiff, type DealInvoiceLine } from '../../src/domain/rollups';
import type { InvoiceFact, Settlement, SettlementKind } from '../../src/domain/types';

type Paid = [date: string, amount: number, kind?: SettlementKind];

const inv = (id: string, total: number, issueDate: string, dueDate: string, paid: Paid[] = [], extra: Partial<InvoiceFact> = {}): InvoiceFact => ({
  id, number: id, customerId: 'c1', currency: 'USD', totalMinor: total, issueDate, dueDate, voidedDate: null, disputed: false,
  salesRep: null, product: null, dealId: null, terms: null,
  settlements: paid.map(([date, amountMinor, kind = 'payment'], i): Settlement => ({ id: `${id}-s${i}`, date, amountMinor, kind })),
  ...extra,
});

describe('primaryCurrency', () => {
  it('takes the currency with the most live invoices, then the larger total, then the code', () => {
    const list = [
      inv('a', 100, '2026-01-01', '2026-01-31', [], { currency: 'EUR' }),
      inv('b', 100, '2026-01-01', '2026-01-31', [], { currency: 'USD' }),
      inv('c', 100, '2026-01-01', '2026-01-31', [], { currency: 'USD' }),
    ];
    expect(primaryCurrency(list, '2026-03-01')).toBe('USD');
    // Voided before D: not live, so EUR wins on the larger total after the tie on counts.
    const voided = [...list.slice(0, 2), inv('c', 100, '2026-01-01', '2026-01-31', [], { currency: 'USD', voidedDate: '2026-02-01' }),
      inv('d', 500, '2026-01-01', '2026-01-31', [], { currency: 'EUR' }), inv('e', 50, '2026-01-01', '2026-01-31', [], { currency: 'USD' })];
    expect(primaryCurrency(voided, '2026-03-01')).toBe('EUR');
    expect(primaryCurrency([inv('x', 100, '2026-01-01', '2026-01-31', [], { currency: 'GBP' }), inv('y', 100, '2026-01-01', '2026-01-31', [], { currency: 'CHF' })], '2026-03-01')).toBe('CHF');
    expect(primaryCurrency([inv('late', 100, '2026-05-01', '2026-05-31')], '2026-03-01')).toBeNull();
  });
});

describe('companyRollup', () => {
  it('gives the hand-worked figures of a small book', () => {
    // As of 2026-04-30:
    //  i1 1000.00 due 02-01, paid 600 on 02-11 (10 days late) → 400.00 open, 88 days past due (> 60)
    //  i2  500.00 due 04-10, nothing paid → open, 20 days past due
    //  i3  300.00 due 05-15 → open, not due
    //  i4  200.00 due 03-01, paid in full 03-05 (the last payment)
    //  i5  900.00 voided on 04-01 → ignored
    const list = [
      inv('i1', 100_000, '2026-01-02', '2026-02-01', [['2026-02-11', 60_000]]),
      inv('i2', 50_000, '2026-03-11', '2026-04-10'),
      inv('i3', 30_000, '2026-04-15', '2026-05-15'),
      inv('i4', 20_000, '2026-02-01', '2026-03-01', [['2026-03-05', 20_000]]),
      inv('i5', 90_000, '2026-02-01', '2026-03-01', [], { voidedDate: '2026-04-01' }),
    ];
    const values = companyRollup(list, '2026-04-30', DEFAULT_POLICY);
    expect(values).not.toBeNull();
    expect(values).toMatchObject({
      arbridge_currency: 'USD',
      arbridge_outstanding: '1200.00', // 400 + 500 + 300
      arbridge_overdue: '900.00', // 400 + 500
      arbridge_overdue_over_60: '400.00',
      arbridge_open_invoices: '3',
      arbridge_last_payment_date: '2026-03-05',
    });
    expect(Number(values?.arbridge_risk_score)).toBeGreaterThanOrEqual(0);
    expect(['A', 'B', 'C', 'D']).toContain(values?.arbridge_risk_tier);
    // Only i4 closed in the default window and it was paid 4 days late: on-time rate 0 %.
    expect(values?.arbridge_on_time_rate).toBe('0');
  });

  it('leaves the last payment date empty when only credit notes and write-offs settled', () => {
    const values = companyRollup([inv('i1', 10_000, '2026-01-01', '2026-01-31', [['2026-02-01', 4_000, 'credit_note'], ['2026-02-05', 6_000, 'write_off']])], '2026-03-01', DEFAULT_POLICY);
    expect(values?.arbridge_last_payment_date).toBe('');
    expect(values?.arbridge_outstanding).toBe('0.00');
  });

  it('ignores payments dated after D and uses the currency exponent', () => {
    const values = companyRollup([inv('j', 120_000, '2026-01-01', '2026-01-31', [['2026-03-10', 120_000]], { currency: 'JPY' })], '2026-03-01', DEFAULT_POLICY);
    expect(values?.arbridge_currency).toBe('JPY');
    expect(values?.arbridge_outstanding).toBe('120000');
    expect(values?.arbridge_last_payment_date).toBe('');
  });

  it('is null when nothing is live at D', () => {
    expect(companyRollup([inv('future', 100, '2026-06-01', '2026-07-01')], '2026-03-01', DEFAULT_POLICY)).toBeNull();
  });
});

describe('dealRollup', () => {
  const line = (over: Partial<DealInvoiceLine>): DealInvoiceLine => ({
    currency: 'EUR', totalMinor: 10_000, issueDate: '2026-01-01', dueDate: '2026-01-31', voidedDate: null, settledMinor: 0, collectedMinor: 0, ...over,
  });

  it('sums invoiced, collected, outstanding and overdue of the live invoices', () => {
    const values = dealRollup([
      line({ totalMinor: 10_000, settledMinor: 10_000, collectedMinor: 10_000 }), // paid
      line({ totalMinor: 20_000, settledMinor: 5_000, collectedMinor: 3_000 }), // 2,000 credited, 3,000 paid; 15,000 open, overdue
      line({ totalMinor: 7_000, dueDate: '2026-03-31' }), // open, not due
      line({ totalMinor: 99_000, voidedDate: '2026-02-01' }), // voided
      line({ totalMinor: 5_000, issueDate: '2026-04-01', dueDate: '2026-05-01' }), // issued after D
    ], '2026-03-01');
    expect(values).toEqual({
      arbridge_currency: 'EUR', arbridge_invoiced: '370.00', arbridge_collected: '130.00',
      arbridge_outstanding: '220.00', arbridge_overdue: '150.00', arbridge_invoice_count: '3',
    });
  });

  it('is due the day after the due date, not on it', () => {
    expect(dealRollup([line({ dueDate: '2026-03-01' })], '2026-03-01')?.arbridge_overdue).toBe('0.00');
    expect(dealRollup([line({ dueDate: '2026-02-28' })], '2026-03-01')?.arbridge_overdue).toBe('100.00');
  });

  it('is null with no live invoice', () => {
    expect(dealRollup([], '2026-03-01')).toBeNull();
  });
});

describe('propertyDiff', () => {
  it('writes what changed, skips empty values never written, and clears what is no longer wanted', () => {
    expect(propertyDiff({ a: '1', b: '2', c: '' }, { a: '1', b: '3' })).toEqual({ b: '2' });
    expect(propertyDiff({ a: '' }, { a: '5' })).toEqual({ a: '' });
    expect(propertyDiff({ a: '1' }, { a: '1', stale: 'x', gone: '' })).toEqual({ stale: '' });
    expect(propertyDiff(null, { a: '1', b: '' })).toEqual({ a: '' });
    expect(propertyDiff(null, {})).toEqual({});
    expect(propertyDiff({ a: '1' }, { a: '1' })).toEqual({});
  });
});
