import { describe, expect, it } from '@jest/globals';
import { DEFAULT_POLICY } from '../../src/domain/policy';
import { NONE_KEY, ReportSchema, buildReports, roundTo, type Report } from '../../src/domain/report';
import type { CustomerFact, InvoiceFact } from '../../src/domain/types';

const asOf = '2024-06-15';

const inv = (
  id: string,
  customerId: string,
  currency: string,
  total: number,
  issueDate: string,
  dueDate: string,
  extra: Partial<InvoiceFact> = {},
): InvoiceFact => ({
  id, number: id, customerId, currency, totalMinor: total, issueDate, dueDate, voidedDate: null, disputed: false,
  salesRep: null, product: null, dealId: null, terms: null, settlements: [], ...extra,
});

const pay = (date: string, amountMinor: number) => [{ id: `p-${date}`, date, amountMinor, kind: 'payment' as const }];

const customers: CustomerFact[] = [
  { id: 'c1', name: 'Acme', domain: 'acme.test', industry: 'software', country: 'US' },
  { id: 'c2', name: 'Beta, Inc.', domain: null, industry: null, country: 'DE' },
];

// The USD invoices are the worked portfolio of metrics.test.ts (A, B, C for c1; E, F for c2).
const invoices: InvoiceFact[] = [
  inv('A', 'c1', 'USD', 100_000, '2024-04-10', '2024-05-10', { salesRep: 'ann', product: 'core', settlements: pay('2024-05-20', 40_000) }),
  inv('B', 'c1', 'USD', 50_000, '2024-05-20', '2024-06-19', { salesRep: 'ann', product: 'core' }),
  inv('C', 'c1', 'USD', 30_000, '2024-06-01', '2024-07-01', { product: 'addon', settlements: pay('2024-06-10', 30_000) }),
  inv('E', 'c2', 'USD', 20_000, '2024-03-15', '2024-04-14', { salesRep: 'bob' }),
  inv('F', 'c2', 'USD', 200_000, '2024-02-01', '2024-03-02', { salesRep: 'bob', settlements: pay('2024-04-15', 200_000) }),
  // issued after D: no c4 group, no EUR report
  inv('G', 'c4', 'USD', 99_000, '2024-06-16', '2024-07-16'),
  inv('H', 'c1', 'EUR', 5_000, '2024-07-01', '2024-07-31'),
  // JPY for a customer without CustomerFact, KWD with three decimals
  inv('J', 'c3', 'JPY', 1_200, '2024-06-01', '2024-07-01'),
  inv('K', 'c1', 'KWD', 1_250, '2024-06-01', '2024-07-01'),
];

const build = (by: Parameters<typeof buildReports>[0]['by'], list = invoices): Report[] =>
  buildReports({ invoices: list, customers, asOf, policy: DEFAULT_POLICY, by });

describe('buildReports', () => {
  const reports = build('customer');

  it('makes one report per currency issued by D, sorted by code, never summing currencies', () => {
    expect(reports.map((r) => r.currency)).toEqual(['JPY', 'KWD', 'USD']);
    expect(reports.map((r) => r.portfolio.outstanding)).toEqual(['1200', '1.250', '1300.00']);
    expect(reports.every((r) => r.as_of === asOf)).toBe(true);
  });

  it('reports the worked USD portfolio, rounded', () => {
    const usd = reports[2] as Report;
    expect(usd.portfolio).toEqual({
      invoice_count: 5,
      open_count: 3,
      outstanding: '1300.00',
      overdue: '800.00',
      aging: [
        { bucket: 'current', amount: '500.00', count: 1 },
        { bucket: '1-30', amount: '0.00', count: 0 },
        { bucket: '31-60', amount: '600.00', count: 1 },
        { bucket: '61-90', amount: '200.00', count: 1 },
        { bucket: '91+', amount: '0.00', count: 0 },
      ],
      dso_simple: 54.9, // 54.888…
      dso_countback: 61,
      bpdso: 21.1, // 21.111…
      add: 33.8, // 33.777…
      cei: 65.2, // 65.217…
      on_time_rate: 0.5,
      weighted_days_late: 37.2, // 37.1714…
      at_risk_rate: 0,
      over_60_share: 0.1538, // 20000 ÷ 130000 = 0.153846…
    });
  });

  it('groups by customer with names, sorted by key, with the exact key order', () => {
    const usd = reports[2] as Report;
    expect(usd.groups.map((g) => [g.key, g.name])).toEqual([['c1', 'Acme'], ['c2', 'Beta, Inc.']]);
    expect(Object.keys(usd)).toEqual(['as_of', 'currency', 'portfolio', 'groups']);
    expect(Object.keys(usd.groups[0] as object)).toEqual(['key', 'name', 'metrics', 'risk']);
    expect(Object.keys(usd.portfolio)).toEqual([
      'invoice_count', 'open_count', 'outstanding', 'overdue', 'aging', 'dso_simple', 'dso_countback', 'bpdso', 'add',
      'cei', 'on_time_rate', 'weighted_days_late', 'at_risk_rate', 'over_60_share',
    ]);
    // c1: A 60000 + B 50000 open; c2: E 20000 open
    expect(usd.groups.map((g) => g.metrics.outstanding)).toEqual(['1100.00', '200.00']);
    // c3 has no CustomerFact: name null
    expect((reports[0] as Report).groups).toMatchObject([{ key: 'c3', name: null }]);
    expect(JSON.stringify(reports[0]).startsWith('{"as_of":"2024-06-15","currency":"JPY","portfolio":{"invoice_count":1,')).toBe(true);
  });

  it('scores each group', () => {
    const usd = reports[2] as Report;
    // c2: F closed 44 days late (40 points); E open 62 days past due: share 1 (20), oldest 15 × 47 ÷ 105 (6.71)
    // 100 − 66.71 = 33.29 → 33
    expect(usd.groups[1]?.risk).toEqual({
      score: 33,
      tier: 'D',
      reasons: [
        'the last invoice was paid more than 30 days late',
        '100% of the open balance is more than 60 days past due',
        'the oldest open invoice is 62 days past due',
      ],
    });
  });

  it('groups by rep and product without names, missing values under (none)', () => {
    const usdByRep = build('rep')[2] as Report;
    expect(usdByRep.groups.map((g) => g.key)).toEqual([NONE_KEY, 'ann', 'bob']);
    expect(usdByRep.groups.every((g) => !('name' in g))).toBe(true);
    expect(usdByRep.groups.map((g) => g.metrics.invoice_count)).toEqual([1, 2, 2]);
    const usdByProduct = build('product')[2] as Report;
    expect(usdByProduct.groups.map((g) => [g.key, g.metrics.invoice_count])).toEqual([[NONE_KEY, 2], ['addon', 1], ['core', 2]]);
  });

  it('groups by industry and country from the customer facts', () => {
    const byIndustry = build('industry');
    expect(byIndustry[2]?.groups.map((g) => g.key)).toEqual([NONE_KEY, 'software']);
    expect(byIndustry[0]?.groups.map((g) => g.key)).toEqual([NONE_KEY]); // c3 has no CustomerFact
    expect(build('country')[2]?.groups.map((g) => [g.key, g.metrics.outstanding])).toEqual([['DE', '200.00'], ['US', '1100.00']]);
  });

  it('keeps a group whose only invoice is voided, with nothing counted', () => {
    const voided = inv('V', 'c9', 'USD', 5_000, '2024-05-01', '2024-05-31', { voidedDate: '2024-05-05' });
    const usd = build('customer', [...invoices, voided])[2] as Report;
    expect(usd.groups.find((g) => g.key === 'c9')?.metrics).toMatchObject({ invoice_count: 0, outstanding: '0.00' });
    expect(usd.portfolio.invoice_count).toBe(5);
  });

  it('rounds days to one decimal, rates to four, CEI to one', () => {
    // S: 70.00 issued 06-01, 60.00 paid → 10.00 open, due 07-01 (−16 days)
    // T: 140.00 issued 01-10, open, due 02-09 → 127 days past due
    const s = inv('S', 'c1', 'USD', 7_000, '2024-06-01', '2024-07-01', { settlements: pay('2024-06-05', 6_000) });
    const t = inv('T', 'c1', 'USD', 14_000, '2024-01-10', '2024-02-09');
    const [report] = build('customer', [s, t]);
    expect(report?.portfolio).toMatchObject({
      outstanding: '150.00',
      dso_simple: 162.9, // 15000 ÷ 7000 × 76 = 162.857…
      // June 15 → 8000 left; May, Apr, Mar, Feb without sales (31 + 30 + 31 + 29) → 136;
      // Jan: 31 × 8000 ÷ 14000 = 17.714… → 153.714…
      dso_countback: 153.7,
      bpdso: 10.9, // 1000 ÷ 7000 × 76 = 10.857…
      add: 152, // 14000 ÷ 7000 × 76
      cei: 8.7, // (14000 + 2333.3 − 15000) ÷ (14000 + 2333.3 − 1000) × 100 = 8.6956…
      weighted_days_late: 79.3, // (−16 × 7000 + 127 × 14000) ÷ 21000 = 79.333…
      over_60_share: 0.9333, // 14000 ÷ 15000
      at_risk_rate: 0, // only S was issued in the window
      on_time_rate: null,
    });
  });

  it('is empty when nothing was issued by D', () => {
    expect(buildReports({ invoices: [invoices[6] as InvoiceFact], customers, asOf, policy: DEFAULT_POLICY, by: 'customer' })).toEqual([]);
  });

  it('validates against ReportSchema, which rejects other shapes', () => {
    for (const by of ['customer', 'rep', 'product', 'industry', 'country'] as const) {
      for (const report of build(by)) expect(ReportSchema.safeParse(report).success).toBe(true);
    }
    const good = reports[2] as Report;
    expect(ReportSchema.safeParse({ ...good, extra: 1 }).success).toBe(false);
    expect(ReportSchema.safeParse({ ...good, as_of: '2024-02-30' }).success).toBe(false);
    expect(ReportSchema.safeParse({ ...good, portfolio: { ...good.portfolio, outstanding: 1300 } }).success).toBe(false);
    expect(ReportSchema.safeParse({ ...good, portfolio: { ...good.portfolio, on_time_rate: 50 } }).success).toBe(false);
    const badRisk = { ...good.groups[0], risk: { score: 101, tier: 'A', reasons: [] } };
    expect(ReportSchema.safeParse({ ...good, groups: [badRisk] }).success).toBe(false);
  });

  it('rejects an invalid as-of date', () => {
    expect(() => buildReports({ invoices, customers, asOf: '2024-13-01', policy: DEFAULT_POLICY, by: 'rep' })).toThrow();
  });
});

describe('roundTo', () => {
  it.each([
    [54.888_888, 1, 54.9],
    [1.005, 2, 1.01], // 1.005 × 100 is 100.49999… in binary
    [0.153_846_15, 4, 0.1538],
    [-2.25, 1, -2.3], // half away from zero
    [-0.04, 1, 0], // no negative zero
    [65.217_391, 1, 65.2],
  ])('roundTo(%d, %i) = %d', (value, digits, expected) => {
    expect(Object.is(roundTo(value, digits), expected)).toBe(true);
  });
});
