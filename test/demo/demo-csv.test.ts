import { describe, expect, it } from '@jest/globals';
import { portfolioToCsv } from '../../src/demo/demo-csv';
import { generatePortfolio } from '../../src/demo/generate';
import type { InvoiceFact, Settlement } from '../../src/domain/types';
import { parseInvoicesCsv, parsePaymentsCsv, paymentToSettlement } from '../../src/import/csv-parse';

const END = '2026-06-30';

describe('portfolioToCsv', () => {
  const items = [...generatePortfolio({ endDate: END, seed: 11, customers: 60, invoices: 1500 })];
  const { invoicesCsv, paymentsCsv } = portfolioToCsv(items);

  it('writes the importer formats', () => {
    expect(invoicesCsv.split('\n')[0]).toBe(
      'invoice_id,invoice_number,customer_id,customer_name,customer_domain,industry,country,issue_date,due_date,currency,amount,voided_date,disputed,sales_rep,product,deal_id,terms',
    );
    expect(paymentsCsv.split('\n')[0]).toBe('payment_id,invoice_id,date,amount,currency,kind');
    expect(invoicesCsv.trimEnd().split('\n')).toHaveLength(1 + 1500);
    const settlementCount = items.reduce((n, item) => n + item.invoices.reduce((m, i) => m + i.settlements.length, 0), 0);
    expect(paymentsCsv.trimEnd().split('\n')).toHaveLength(1 + settlementCount);
    const yen = items.flatMap((i) => i.invoices).find((i) => i.currency === 'JPY');
    if (yen) expect(invoicesCsv).toContain(`${yen.id},`);
    expect(invoicesCsv).toMatch(/,JPY,\d+,/); // yen without decimals
    expect(invoicesCsv).toMatch(/,USD,\d+\.\d{2},/);
  });

  it('round-trips through the importer to the same facts', () => {
    const parsedInvoices = parseInvoicesCsv(invoicesCsv);
    expect(parsedInvoices.errors).toEqual([]);
    const parsedPayments = parsePaymentsCsv(paymentsCsv);
    expect(parsedPayments.errors).toEqual([]);

    const currencyOf = new Map(parsedInvoices.invoices.map((i) => [i.id, i.currency]));
    const settlementsOf = new Map<string, Settlement[]>();
    for (const payment of parsedPayments.payments) {
      const result = paymentToSettlement(payment, currencyOf.get(payment.invoiceId) ?? '');
      if ('error' in result) throw new Error(result.error);
      settlementsOf.set(payment.invoiceId, [...(settlementsOf.get(payment.invoiceId) ?? []), result.settlement]);
    }
    const rebuilt: InvoiceFact[] = parsedInvoices.invoices.map(({ row: _row, ...invoice }) => ({
      ...invoice,
      settlements: settlementsOf.get(invoice.id) ?? [],
    }));
    expect(rebuilt).toEqual(items.flatMap((i) => i.invoices));
    expect(parsedInvoices.customers).toEqual(items.map((i) => i.customer));
  });

  it('writes customers without invoices nowhere, and accepts any iterable', () => {
    const few = generatePortfolio({ endDate: END, seed: 2, customers: 5, invoices: 3 });
    const csv = portfolioToCsv(few);
    expect(csv.invoicesCsv.trimEnd().split('\n')).toHaveLength(4);
  });
});
