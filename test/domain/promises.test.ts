import { describe, expect, it } from '@jest/globals';
import { paymentsOf, promiseStatus, type PaymentFact, type PromiseFact } from '../../src/domain/promises';
import type { InvoiceFact } from '../../src/domain/types';

// A promise logged 03-01 to pay USD 500.00 by 03-10; with 3 grace days payments count through 03-13.
const promise = (extra: Partial<PromiseFact> = {}): PromiseFact => ({
  id: 'p1', loggedOn: '2025-03-01', promiseDate: '2025-03-10', amountMinor: 50_000, currency: 'USD', invoiceId: null, ...extra,
});
const pay = (date: string, amountMinor: number, extra: Partial<PaymentFact> = {}): PaymentFact => ({
  date, amountMinor, currency: 'USD', invoiceId: 'inv-1', ...extra,
});

describe('promiseStatus', () => {
  it('is pending before the deadline with too little paid', () => {
    expect(promiseStatus(promise(), [pay('2025-03-05', 20_000)], '2025-03-11', 3))
      .toEqual({ status: 'pending', paidMinor: 20_000, deadline: '2025-03-13', decidedOn: null });
  });

  it('is kept on the day the payments reach the amount', () => {
    // 200 on 03-05 + 300 on 03-12 (within grace) = 500
    const payments = [pay('2025-03-12', 30_000), pay('2025-03-05', 20_000)];
    expect(promiseStatus(promise(), payments, '2025-04-01', 3))
      .toEqual({ status: 'kept', paidMinor: 50_000, deadline: '2025-03-13', decidedOn: '2025-03-12' });
  });

  it('counts the last grace day and not the day after', () => {
    expect(promiseStatus(promise(), [pay('2025-03-13', 50_000)], '2025-03-20', 3).status).toBe('kept');
    expect(promiseStatus(promise(), [pay('2025-03-14', 50_000)], '2025-03-20', 3))
      .toEqual({ status: 'broken', paidMinor: 0, deadline: '2025-03-13', decidedOn: '2025-03-14' });
  });

  it('is broken only once D passes the deadline (the as-of cut)', () => {
    expect(promiseStatus(promise(), [], '2025-03-13', 3).status).toBe('pending');
    expect(promiseStatus(promise(), [], '2025-03-14', 3).status).toBe('broken');
    // with no grace the promise date itself is the deadline
    expect(promiseStatus(promise(), [], '2025-03-11', 0).status).toBe('broken');
  });

  it('ignores payments after D: kept later, pending as of an earlier day', () => {
    const payments = [pay('2025-03-09', 50_000)];
    expect(promiseStatus(promise(), payments, '2025-03-08', 3)).toMatchObject({ status: 'pending', paidMinor: 0 });
    expect(promiseStatus(promise(), payments, '2025-03-09', 3)).toMatchObject({ status: 'kept', decidedOn: '2025-03-09' });
  });

  it('ignores payments before the promise was logged and in other currencies', () => {
    const payments = [pay('2025-02-28', 50_000), pay('2025-03-05', 50_000, { currency: 'EUR' })];
    expect(promiseStatus(promise(), payments, '2025-03-20', 3)).toMatchObject({ status: 'broken', paidMinor: 0 });
  });

  it('counts only payments to the named invoice', () => {
    const payments = [pay('2025-03-05', 40_000, { invoiceId: 'inv-2' }), pay('2025-03-06', 10_000)];
    expect(promiseStatus(promise({ invoiceId: 'inv-1' }), payments, '2025-03-20', 3)).toMatchObject({ status: 'broken', paidMinor: 10_000 });
    expect(promiseStatus(promise(), payments, '2025-03-20', 3)).toMatchObject({ status: 'kept', paidMinor: 50_000 });
  });

  it('rejects an as-of date that is not a calendar date', () => {
    expect(() => promiseStatus(promise(), [], '2025-02-30', 3)).toThrow('asOf is not a calendar date');
  });
});

describe('paymentsOf', () => {
  it('lists payments (not credit notes or write-offs) dated by D with their invoice currency', () => {
    const invoice: InvoiceFact = {
      id: 'i1', number: null, customerId: 'c1', currency: 'EUR', totalMinor: 10_000, issueDate: '2025-01-01', dueDate: '2025-01-31',
      voidedDate: null, disputed: false, salesRep: null, product: null, dealId: null, terms: null,
      settlements: [
        { id: 's1', date: '2025-02-01', amountMinor: 1_000, kind: 'payment' },
        { id: 's2', date: '2025-02-02', amountMinor: 2_000, kind: 'credit_note' },
        { id: 's3', date: '2025-03-01', amountMinor: 3_000, kind: 'payment' },
      ],
    };
    expect(paymentsOf([invoice], '2025-02-28')).toEqual([{ date: '2025-02-01', amountMinor: 1_000, currency: 'EUR', invoiceId: 'i1' }]);
  });
});
