import { describe, expect, it } from '@jest/globals';
import { fromDayNumber, toDayNumber } from '../../src/domain/calendar';
import { dayIndex, dayOfMonth, monthIndex, monthOf, yearOf } from '../../src/domain/day-index';
import { emptyInvoiceState, readInvoiceState } from '../../src/domain/invoice-state';
import type { InvoiceFact } from '../../src/domain/types';

describe('day-index', () => {
  it('agrees with calendar.toDayNumber on every day from 1899 to 2101', () => {
    const first = toDayNumber('1899-01-01');
    const last = toDayNumber('2101-12-31');
    let mismatches = 0;
    for (let day = first; day <= last; day++) if (dayIndex(fromDayNumber(day)) !== day) mismatches++;
    expect(mismatches).toBe(0);
    expect(dayIndex('1970-01-01')).toBe(0);
    expect(dayIndex('2024-03-01') - dayIndex('2024-02-28')).toBe(2);
  });

  it('reads the parts of a date and numbers months consecutively', () => {
    expect([yearOf('2024-02-29'), monthOf('2024-02-29'), dayOfMonth('2024-02-29')]).toEqual([2024, 2, 29]);
    expect(monthIndex('2024-01-31') - monthIndex('2023-12-01')).toBe(1);
    expect(monthIndex('2024-01-01')).toBe(2024 * 12);
  });
});

describe('readInvoiceState', () => {
  const invoice = (total: number, settlements: [string, number][], voidedDate: string | null = null): InvoiceFact => ({
    id: 'i', number: null, customerId: 'c', currency: 'USD', totalMinor: total, issueDate: '2024-01-10',
    dueDate: '2024-02-09', voidedDate, disputed: false, salesRep: null, product: null, dealId: null, terms: null,
    settlements: settlements.map(([date, amountMinor], n) => ({ id: `s${n}`, date, amountMinor, kind: 'payment' })),
  });

  it('sums settlements at D and before the opening date', () => {
    const s = readInvoiceState(invoice(1_000, [['2024-01-20', 300], ['2024-02-20', 300], ['2024-03-20', 400]]), '2024-02-29', '2024-01-31', emptyInvoiceState());
    expect(s).toEqual({ visible: true, settled: 600, settledBefore: 300, paidDate: null, writtenOff: false });
  });

  it('finds the paid date in date order whatever the list order', () => {
    const s = readInvoiceState(invoice(1_000, [['2024-03-20', 400], ['2024-01-20', 300], ['2024-02-20', 300]]), '2024-12-31', null, emptyInvoiceState());
    expect(s.paidDate).toBe('2024-03-20');
    expect(s.settledBefore).toBe(0);
  });

  it('gives no paid date to a zero total and hides invoices voided by D', () => {
    expect(readInvoiceState(invoice(0, [['2024-01-20', 10]]), '2024-12-31', null, emptyInvoiceState()).paidDate).toBeNull();
    expect(readInvoiceState(invoice(1_000, [], '2024-02-01'), '2024-02-01', null, emptyInvoiceState()).visible).toBe(false);
    expect(readInvoiceState(invoice(1_000, [], '2024-02-02'), '2024-02-01', null, emptyInvoiceState()).visible).toBe(true);
    expect(readInvoiceState(invoice(1_000, []), '2024-01-09', null, emptyInvoiceState()).visible).toBe(false);
  });
});
