import { describe, expect, it } from '@jest/globals';
import { addDays } from '../../src/domain/calendar';
import { computeMetrics } from '../../src/domain/metrics';
import { parsePolicy } from '../../src/domain/policy';
import { ReportSchema, buildReports } from '../../src/domain/report';
import { scoreRisk } from '../../src/domain/risk';
import { GROUP_DIMENSIONS, type CustomerFact, type InvoiceFact, type Settlement } from '../../src/domain/types';
import { formatMinor, parseMinor } from '../../src/domain/money';
import { createRng } from '../../src/demo/generate';

/** A seeded generator (mulberry32), so every run sees the same sequence. */
const prng = (seed: number): (() => number) => createRng(seed).next;

const generate = (seed: number, count: number): { invoices: InvoiceFact[]; customers: CustomerFact[] } => {
  const rand = prng(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)] as T;
  const customers: CustomerFact[] = Array.from({ length: 8 }, (_, i) => ({
    id: `c${i}`,
    name: i === 7 ? null : `Customer ${i}`,
    domain: null,
    industry: pick(['retail', 'software', null]),
    country: pick(['US', 'DE', 'JP', null]),
  }));
  const invoices = Array.from({ length: count }, (_, i): InvoiceFact => {
    const issueDate = addDays('2023-01-01', int(0, 730));
    const total = int(1, 100_000);
    const settlements: Settlement[] = [];
    let left = total;
    const parts = int(0, 3);
    for (let s = 0; s < parts && left > 0; s++) {
      const amount = s === parts - 1 && rand() < 0.7 ? left + (rand() < 0.1 ? 500 : 0) : int(1, left);
      settlements.push({ id: `s${i}-${s}`, date: addDays(issueDate, int(0, 200)), amountMinor: amount, kind: pick(['payment', 'payment', 'credit_note', 'write_off']) });
      left -= amount;
    }
    return {
      id: `i${i}`,
      number: null,
      customerId: `c${int(0, 9)}`, // c8 and c9 have no CustomerFact
      currency: pick(['USD', 'USD', 'EUR', 'JPY']),
      totalMinor: total,
      issueDate,
      dueDate: addDays(issueDate, pick([0, 15, 30, 45, 60])),
      voidedDate: rand() < 0.08 ? addDays(issueDate, int(0, 120)) : null,
      disputed: rand() < 0.1,
      salesRep: pick(['ann', 'bob', null]),
      product: pick(['core', 'addon', null]),
      dealId: null,
      terms: null,
      settlements: rand() < 0.5 ? settlements : [...settlements].reverse(),
    };
  });
  return { invoices, customers };
};

/** The history as it was known on D: later invoices, settlements and voids removed. */
const cutAt = (invoices: readonly InvoiceFact[], asOf: string): InvoiceFact[] =>
  invoices
    .filter((inv) => inv.issueDate <= asOf)
    .map((inv) => ({
      ...inv,
      voidedDate: inv.voidedDate !== null && inv.voidedDate <= asOf ? inv.voidedDate : null,
      settlements: inv.settlements.filter((s) => s.date <= asOf),
    }));

const DATES = ['2023-03-31', '2023-12-31', '2024-02-29', '2024-03-01', '2024-07-15', '2024-12-31', '2025-06-30'];

describe('facts dated after D are invisible', () => {
  const { invoices, customers } = generate(20_240_615, 1_500);
  const policies = [parsePolicy({}), parsePolicy({ dsoMonths: 6, aging: { basis: 'issue', boundaries: [15, 45] } })];

  it('has facts after each D to hide (the property is not vacuous)', () => {
    for (const asOf of DATES.slice(0, -1)) {
      const later = invoices.filter(
        (inv) => inv.issueDate > asOf || (inv.voidedDate ?? '') > asOf || inv.settlements.some((s) => s.date > asOf),
      );
      expect(later.length).toBeGreaterThan(50);
    }
  });

  it.each(DATES)('report on the full history as of %s equals the report on the history cut there', (asOf) => {
    const cut = cutAt(invoices, asOf);
    for (const policy of policies) {
      for (const by of GROUP_DIMENSIONS) {
        const full = buildReports({ invoices, customers, asOf, policy, by });
        expect(full).toEqual(buildReports({ invoices: cut, customers, asOf, policy, by }));
        for (const report of full) expect(ReportSchema.safeParse(report).success).toBe(true);
      }
    }
  });

  it.each(DATES)('metrics and risk as of %s equal those on the cut history', (asOf) => {
    const cut = cutAt(invoices, asOf);
    for (const currency of ['USD', 'EUR', 'JPY']) {
      const policy = policies[0]!;
      const mine = invoices.filter((i) => i.currency === currency);
      const mineCut = cut.filter((i) => i.currency === currency);
      expect(computeMetrics(mine, asOf, policy)).toEqual(computeMetrics(mineCut, asOf, policy));
      for (const c of ['c0', 'c3', 'c9']) {
        expect(scoreRisk(mine.filter((i) => i.customerId === c), asOf, policy)).toEqual(
          scoreRisk(mineCut.filter((i) => i.customerId === c), asOf, policy),
        );
      }
    }
  });

  it('reports change as D moves (the reports do see the facts)', () => {
    const at = (asOf: string) => buildReports({ invoices, customers, asOf, policy: policies[0]!, by: 'rep' });
    expect(at('2024-03-01')).not.toEqual(at('2024-02-29'));
  });

  it.each(DATES)('keeps the books consistent as of %s', (asOf) => {
    for (const report of buildReports({ invoices, customers, asOf, policy: policies[0]!, by: 'customer' })) {
      const minor = (text: string): number => parseMinor(text, report.currency) ?? Number.NaN;
      const p = report.portfolio;
      // aging buckets add up to the outstanding amount and the open count
      expect(p.aging.reduce((s, b) => s + minor(b.amount), 0)).toBe(minor(p.outstanding));
      expect(p.aging.reduce((s, b) => s + b.count, 0)).toBe(p.open_count);
      expect(minor(p.overdue)).toBeLessThanOrEqual(minor(p.outstanding));
      // groups partition the portfolio
      const sum = report.groups.reduce((s, g) => s + minor(g.metrics.outstanding), 0);
      expect(formatMinor(sum, report.currency)).toBe(p.outstanding);
      expect(report.groups.reduce((s, g) => s + g.metrics.invoice_count, 0)).toBe(p.invoice_count);
    }
  });
});
