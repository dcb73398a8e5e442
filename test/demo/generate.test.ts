import { describe, expect, it } from '@jest/globals';
import { daysBetween } from '../../src/domain/calendar';
import type { InvoiceFact } from '../../src/domain/types';
import {
  createRng,
  generatePortfolio,
  PAYMENT_BEHAVIOURS,
  PRODUCTS,
  SALES_REPS,
  type PaymentBehaviour,
  type PortfolioItem,
} from '../../src/demo/generate';

const END = '2026-06-30';
const all = (options: Parameters<typeof generatePortfolio>[0]): PortfolioItem[] => [...generatePortfolio(options)];
const invoicesOf = (items: readonly PortfolioItem[]): InvoiceFact[] => items.flatMap((i) => i.invoices);
const settledMinor = (invoice: InvoiceFact): number => invoice.settlements.reduce((sum, s) => sum + s.amountMinor, 0);

// The default portfolio, shared by the tests that only read it.
const portfolio = all({ endDate: END, seed: 42 });
const invoices = invoicesOf(portfolio);

const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

/** Days from due date to the settlement that closed the invoice, for invoices closed by payments. */
const daysLateWhenPaid = (items: readonly InvoiceFact[]): number[] =>
  items
    .filter((i) => i.voidedDate === null && i.settlements.length > 0 && settledMinor(i) === i.totalMinor
      && i.settlements.every((s) => s.kind !== 'write_off'))
    .map((i) => daysBetween(i.dueDate, i.settlements[i.settlements.length - 1]?.date ?? i.dueDate));

const byBehaviour = (behaviour: PaymentBehaviour): InvoiceFact[] =>
  invoicesOf(portfolio.filter((item) => item.behaviour === behaviour));

describe('createRng', () => {
  it('repeats its sequence for a seed and stays in range', () => {
    const a = createRng(123);
    const b = createRng(123);
    const first = Array.from({ length: 1000 }, () => a.next());
    expect(Array.from({ length: 1000 }, () => b.next())).toEqual(first);
    expect(first.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(first).size).toBeGreaterThan(990);
    expect(createRng(124).next()).not.toBe(first[0]);
    const dice = createRng(5);
    const rolls = Array.from({ length: 2000 }, () => dice.int(1, 6));
    expect(new Set(rolls)).toEqual(new Set([1, 2, 3, 4, 5, 6]));
  });
});

describe('generatePortfolio', () => {
  it('is deterministic for a seed and differs for another seed', () => {
    const options = { endDate: END, seed: 7, customers: 40, invoices: 600 };
    const first = all(options);
    expect(all(options)).toEqual(first);
    const other = all({ ...options, seed: 8 });
    expect(other).not.toEqual(first);
    expect(other.map((i) => i.customer.name)).not.toEqual(first.map((i) => i.customer.name));
  });

  it('yields the requested customers and exactly the requested invoices, with stable ids', () => {
    expect(portfolio).toHaveLength(200);
    expect(invoices).toHaveLength(5000);
    expect(portfolio[0]?.customer.id).toBe('C00001');
    expect(portfolio[199]?.customer.id).toBe('C00200');
    expect(new Set(invoices.map((i) => i.id)).size).toBe(5000);
    expect(invoices[0]?.id).toBe('INV-000001');
    expect(invoices[4999]?.id).toBe('INV-005000');
    const settlementIds = invoices.flatMap((i) => i.settlements.map((s) => s.id));
    expect(new Set(settlementIds).size).toBe(settlementIds.length);
    expect(settlementIds.every((id) => /^(PAY|CN|WO)-\d{6}-\d+$/.test(id))).toBe(true);
    expect(portfolio.every((item) => item.invoices.length >= 1)).toBe(true);
    expect(portfolio.every((item) => item.invoices.every((i) => i.customerId === item.customer.id))).toBe(true);

    for (const [customers, count] of [[10, 1], [50, 20], [7, 1001], [1, 0]] as const) {
      const items = all({ endDate: END, seed: 3, customers, invoices: count });
      expect(items).toHaveLength(customers);
      expect(invoicesOf(items)).toHaveLength(count);
    }
  });

  it('gives customers names, domains, industries and countries, names and domains unique', () => {
    const names = portfolio.map((i) => i.customer.name);
    expect(new Set(names).size).toBe(names.length);
    const domains = portfolio.map((i) => i.customer.domain);
    expect(new Set(domains).size).toBe(domains.length);
    for (const { customer } of portfolio) {
      expect(customer.name).toMatch(/^[A-Z]\w+ \w+ /);
      expect(customer.domain).toMatch(/^[a-z0-9]+\.(com|ca|de|fr|nl|es|it|ie|co\.uk|co\.jp)$/);
      expect(customer.industry).toEqual(expect.any(String));
      expect(customer.country).toMatch(/^[A-Z]{2}$/);
    }
  });

  it('dates nothing after the end date and nothing before the first month', () => {
    for (const invoice of invoices) {
      expect(invoice.issueDate >= '2024-07-01').toBe(true);
      expect(invoice.issueDate <= END).toBe(true);
      expect(invoice.dueDate > invoice.issueDate).toBe(true);
      if (invoice.voidedDate !== null) {
        expect(invoice.voidedDate <= END).toBe(true);
        expect(invoice.voidedDate >= invoice.issueDate).toBe(true);
      }
      for (const s of invoice.settlements) {
        expect(s.date <= END).toBe(true);
        expect(s.date >= invoice.issueDate).toBe(true);
      }
    }
    // Invoices span the whole window: 24 calendar months ending with June 2026.
    const months = new Set(invoices.map((i) => i.issueDate.slice(0, 7)));
    expect(months.size).toBe(24);
    // Payments that would fall after the end date are not there yet: recent invoices are open.
    const recent = invoices.filter((i) => i.issueDate >= '2026-06-01' && i.voidedDate === null);
    expect(recent.filter((i) => settledMinor(i) < i.totalMinor).length / recent.length).toBeGreaterThan(0.8);
  });

  it('never settles more than an invoice total, with positive whole minor amounts', () => {
    for (const invoice of invoices) {
      expect(Number.isSafeInteger(invoice.totalMinor) && invoice.totalMinor > 0).toBe(true);
      expect(settledMinor(invoice)).toBeLessThanOrEqual(invoice.totalMinor);
      for (const s of invoice.settlements) expect(Number.isSafeInteger(s.amountMinor) && s.amountMinor > 0).toBe(true);
      if (invoice.voidedDate !== null) expect(invoice.settlements).toEqual([]);
    }
  });

  it('uses reps, products, terms and deal ids as dimensions', () => {
    expect(new Set(invoices.map((i) => i.salesRep))).toEqual(new Set(SALES_REPS));
    expect(new Set(invoices.map((i) => i.product))).toEqual(new Set(PRODUCTS));
    expect(new Set(invoices.map((i) => i.terms))).toEqual(new Set(['Net 15', 'Net 30', 'Net 45', 'Net 60']));
    for (const invoice of invoices) {
      expect(daysBetween(invoice.issueDate, invoice.dueDate)).toBe(Number(invoice.terms?.slice(4)));
    }
    const withDeal = invoices.filter((i) => i.dealId !== null).length / invoices.length;
    expect(withDeal).toBeGreaterThan(0.4);
    expect(withDeal).toBeLessThan(0.7);
  });

  it('bills mostly in USD, some EUR, GBP and JPY, with yen amounts in whole yen of realistic size', () => {
    const share = (currency: string): number => invoices.filter((i) => i.currency === currency).length / invoices.length;
    expect(share('USD')).toBeGreaterThan(0.5);
    for (const c of ['EUR', 'GBP', 'JPY']) expect(share(c)).toBeGreaterThan(0.01);
    const yen = invoices.filter((i) => i.currency === 'JPY').map((i) => i.totalMinor);
    const dollars = invoices.filter((i) => i.currency === 'USD').map((i) => i.totalMinor / 100);
    expect(mean(yen) / mean(dollars)).toBeGreaterThan(50);
    expect(mean(yen) / mean(dollars)).toBeLessThan(500);
    // A customer bills in one currency, in a country that uses it.
    for (const item of portfolio.filter((p) => p.invoices[0]?.currency === 'JPY')) expect(item.customer.country).toBe('JP');
    const onlyUsd = invoicesOf(all({ endDate: END, customers: 20, invoices: 200, currencies: ['usd'] }));
    expect(new Set(onlyUsd.map((i) => i.currency))).toEqual(new Set(['USD']));
  });

  it('includes partial payments, credit notes, write-offs, voids and disputes', () => {
    const partial = invoices.filter((i) => i.settlements.filter((s) => s.kind === 'payment').length >= 2);
    const kinds = new Set(invoices.flatMap((i) => i.settlements.map((s) => s.kind)));
    expect(kinds).toEqual(new Set(['payment', 'credit_note', 'write_off']));
    expect(partial.length).toBeGreaterThan(50);
    const voided = invoices.filter((i) => i.voidedDate !== null).length;
    expect(voided).toBeGreaterThan(10);
    expect(voided).toBeLessThan(150);
    expect(invoices.filter((i) => i.disputed).length).toBeGreaterThan(10);
  });

  it('gives every behaviour to some customers', () => {
    const seen = new Set(portfolio.map((p) => p.behaviour));
    expect(seen).toEqual(new Set(PAYMENT_BEHAVIOURS));
  });

  it('makes behaviours visibly different', () => {
    const promptLate = mean(daysLateWhenPaid(byBehaviour('prompt')));
    const slowLate = mean(daysLateWhenPaid(byBehaviour('slow')));
    expect(promptLate).toBeLessThan(2);
    expect(slowLate).toBeGreaterThan(20);

    // Deteriorating customers pay their late invoices later than their early ones.
    const deteriorating = byBehaviour('deteriorating');
    const early = daysLateWhenPaid(deteriorating.filter((i) => i.issueDate < '2025-01-01'));
    const late = daysLateWhenPaid(deteriorating.filter((i) => i.issueDate >= '2025-09-01'));
    expect(mean(late) - mean(early)).toBeGreaterThan(25);

    // Disputes come from disputing customers; defaulting customers leave the most unpaid and written off.
    expect(invoices.filter((i) => i.disputed).every((i) => byBehaviour('disputing').includes(i))).toBe(true);
    // Defaulting customers leave invoices unpaid for months or written off; prompt ones almost never.
    const badShare = (list: InvoiceFact[]): number =>
      list.filter((i) => i.voidedDate === null && (i.settlements.some((s) => s.kind === 'write_off')
        || (daysBetween(i.dueDate, END) > 60 && settledMinor(i) < i.totalMinor))).length / list.length;
    expect(badShare(byBehaviour('defaulting'))).toBeGreaterThan(0.2);
    expect(badShare(byBehaviour('prompt'))).toBeLessThan(0.02);
    expect(byBehaviour('defaulting').some((i) => i.settlements.some((s) => s.kind === 'write_off'))).toBe(true);
  });

  it('makes seasonal customers late in their slow months only', () => {
    const seasonal = portfolio.filter((p) => p.behaviour === 'seasonal');
    expect(seasonal.length).toBeGreaterThan(3);
    for (const item of seasonal) {
      const lateByMonth = new Map<string, number[]>();
      for (const invoice of item.invoices) {
        const [days] = daysLateWhenPaid([invoice]);
        if (days === undefined) continue;
        const month = invoice.dueDate.slice(5, 7);
        lateByMonth.set(month, [...(lateByMonth.get(month) ?? []), days]);
      }
      const lateMonths = [...lateByMonth].filter(([, days]) => mean(days) > 20).map(([m]) => Number(m));
      expect(lateMonths.length).toBeLessThanOrEqual(3);
    }
    const paidLate = daysLateWhenPaid(invoicesOf(seasonal));
    expect(paidLate.filter((d) => d > 20).length / paidLate.length).toBeGreaterThan(0.1);
    expect(paidLate.filter((d) => d <= 5).length / paidLate.length).toBeGreaterThan(0.5);
  });

  it('streams one customer at a time', () => {
    const stream = generatePortfolio({ endDate: END, customers: 20_000, invoices: 1_000_000 });
    const first = stream.next();
    expect(first.done).toBe(false);
    if (first.done) throw new Error('no customer');
    const { customer, invoices } = first.value;
    expect(invoices.length).toBeGreaterThan(0);
    expect(new Set(invoices.map((i) => i.customerId))).toEqual(new Set([customer.id]));
  });

  it('generates exactly the requested number of invoices at scale', () => {
    let count = 0;
    let settlements = 0;
    for (const item of generatePortfolio({ endDate: END, customers: 4_000, invoices: 200_000, seed: 9 })) {
      count += item.invoices.length;
      for (const invoice of item.invoices) settlements += invoice.settlements.length;
    }
    expect(count).toBe(200_000);
    expect(settlements).toBeGreaterThan(160_000);
  });

  it('refuses options it cannot honour', () => {
    expect(() => all({ endDate: '2026-02-30' })).toThrow(/endDate/);
    expect(() => all({ endDate: END, customers: 0, invoices: 5 })).toThrow(/at least one customer/);
    expect(() => all({ endDate: END, months: 0 })).toThrow(/months/);
    expect(() => all({ endDate: END, currencies: ['dollar'] })).toThrow(/currencies/);
    expect(() => all({ endDate: END, invoices: 2.5 })).toThrow(/invoices/);
  });
});
