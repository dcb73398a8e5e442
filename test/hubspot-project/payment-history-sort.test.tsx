import { describe, expect, test } from '@jest/globals';
import type { CompanySummary } from '../../extensions/card-api.ts';
import { sortInvoices } from '../../extensions/components/PaymentHistory.tsx';

type Invoice = CompanySummary['invoices'][number];

const line = (id: string, currency: string, amount: string, daysLate: number | null): Invoice => ({
  id, number: id, currency, amount, paid: '0', credited: '0', written_off: '0', open: amount, issue_date: '2026-01-01',
  due_date: '2026-01-31', paid_date: null, days_late: daysLate, status: 'open', disputed: false, sales_rep: null, product: null, deal_id: null,
});

describe('payment history order', () => {
  const invoices = [line('A', 'USD', '500.00', 3), line('B', 'JPY', '90000', null), line('C', 'USD', '20.00', 40), line('D', 'JPY', '100', 1)];

  test('by amount: grouped by currency, amounts of different currencies never compared', () => {
    expect(sortInvoices(invoices, { column: 'amount', direction: 'ascending' }).map((i) => i.id)).toEqual(['D', 'B', 'C', 'A']);
    expect(sortInvoices(invoices, { column: 'amount', direction: 'descending' }).map((i) => i.id)).toEqual(['A', 'C', 'B', 'D']);
  });

  test('by days late: invoices without days late last in either direction; no sort keeps the service\'s order', () => {
    expect(sortInvoices(invoices, { column: 'days_late', direction: 'descending' }).map((i) => i.id)).toEqual(['C', 'A', 'D', 'B']);
    expect(sortInvoices(invoices, { column: 'days_late', direction: 'ascending' }).map((i) => i.id)).toEqual(['D', 'A', 'C', 'B']);
    expect(sortInvoices(invoices, null).map((i) => i.id)).toEqual(['A', 'B', 'C', 'D']);
  });
});
