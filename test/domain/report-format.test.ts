import { describe, expect, it } from '@jest/globals';
import { DEFAULT_POLICY } from '../../src/domain/policy';
import { ReportSchema, buildReports, type Report, type ReportMetrics } from '../../src/domain/report';
import { csvField, formatReportsCsv, formatReportsTable } from '../../src/domain/report-format';

const metrics = (over: Partial<ReportMetrics>): ReportMetrics => ({
  invoice_count: 2,
  open_count: 1,
  outstanding: '150.00',
  overdue: '100.00',
  aging: [
    { bucket: 'current', amount: '50.00', count: 1 },
    { bucket: '1-30', amount: '100.00', count: 1 },
    { bucket: '31+', amount: '0.00', count: 0 },
  ],
  dso_simple: 12.5,
  dso_countback: 10,
  bpdso: 4.2,
  add: 8.3,
  cei: 87.5,
  on_time_rate: 0.75,
  weighted_days_late: -1.5,
  at_risk_rate: 0,
  over_60_share: null,
  ...over,
});

const reports: Report[] = [
  {
    as_of: '2024-06-15',
    currency: 'EUR',
    portfolio: metrics({ outstanding: '1234.50' }),
    groups: [
      { key: 'c1', name: 'Acme, "The" Company', metrics: metrics({ dso_simple: null, on_time_rate: null }), risk: { score: 64, tier: 'B', reasons: ['1 disputed invoice is open', 'the oldest open invoice is 40 days past due'] } },
      { key: 'c2', name: null, metrics: metrics({ outstanding: '7.00' }), risk: { score: 100, tier: 'A', reasons: [] } },
    ],
  },
  {
    as_of: '2024-06-15',
    currency: 'JPY',
    portfolio: metrics({ outstanding: '1200', overdue: '0' }),
    groups: [{ key: 'x,y', name: 'Line\nbreak', metrics: metrics({ outstanding: '1200', overdue: '0' }), risk: { score: 70, tier: 'B', reasons: ['no payment history yet'] } }],
  },
];

describe('formatReportsCsv', () => {
  it('writes a header, then per currency a portfolio row and group rows, RFC 4180 quoted', () => {
    for (const report of reports) expect(ReportSchema.safeParse(report).success).toBe(true);
    const csv = formatReportsCsv(reports);
    expect(csv.endsWith('\r\n')).toBe(true);
    expect(csv.split('\r\n')).toEqual([
      'currency,group,key,invoice_count,open_count,outstanding,overdue,aging_current,aging_1-30,aging_31+,dso_simple,dso_countback,bpdso,add,cei,on_time_rate,weighted_days_late,at_risk_rate,over_60_share,risk_score,risk_tier,risk_reasons',
      'EUR,portfolio,,2,1,1234.50,100.00,50.00,100.00,0.00,12.5,10,4.2,8.3,87.5,0.75,-1.5,0,,,,',
      'EUR,group,c1,2,1,150.00,100.00,50.00,100.00,0.00,,10,4.2,8.3,87.5,,-1.5,0,,64,B,1 disputed invoice is open; the oldest open invoice is 40 days past due',
      'EUR,group,c2,2,1,7.00,100.00,50.00,100.00,0.00,12.5,10,4.2,8.3,87.5,0.75,-1.5,0,,100,A,',
      'JPY,portfolio,,2,1,1200,0,50.00,100.00,0.00,12.5,10,4.2,8.3,87.5,0.75,-1.5,0,,,,',
      'JPY,group,"x,y",2,1,1200,0,50.00,100.00,0.00,12.5,10,4.2,8.3,87.5,0.75,-1.5,0,,70,B,no payment history yet',
      '',
    ]);
  });

  it('quotes fields with commas, quotes and line breaks', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\r')).toBe('"cr\r"');
  });

  it('names one aging column per bucket of the policy', () => {
    const built = buildReports({
      invoices: [],
      customers: [],
      asOf: '2024-06-15',
      policy: DEFAULT_POLICY,
      by: 'customer',
    });
    expect(formatReportsCsv(built)).toBe(
      'currency,group,key,invoice_count,open_count,outstanding,overdue,dso_simple,dso_countback,bpdso,add,cei,on_time_rate,weighted_days_late,at_risk_rate,over_60_share,risk_score,risk_tier,risk_reasons\r\n',
    );
  });
});

describe('formatReportsTable', () => {
  const table = formatReportsTable(reports);
  const sections = table.trimEnd().split('\n\n');

  it('has one section per currency with a portfolio line and a row per group', () => {
    expect(sections).toHaveLength(2);
    const eur = (sections[0] as string).split('\n');
    expect(eur[0]).toBe('EUR as of 2024-06-15');
    expect(eur[1]).toMatch(/^group\s+name\s+outstanding\s+overdue\s+dso\s+on-time\s+days late\s+risk\s+current\s+1-30\s+31\+$/);
    expect(eur[2]).toMatch(/^portfolio\s+1234\.50\s+100\.00\s+12\.5\s+75\.0%\s+-1\.5\s+-\s+50\.00\s+100\.00\s+0\.00$/);
    expect(eur[3]).toMatch(/^c1\s+Acme, "The" Company\s+150\.00\s+100\.00\s+-\s+-\s+-1\.5\s+64 B\s+50\.00/);
    expect(eur[4]).toMatch(/^c2\s+-\s+7\.00\s/);
    expect(table.endsWith('\n')).toBe(true);
  });

  it('aligns columns: every row of a section is as wide, numbers flush right', () => {
    const eur = (sections[0] as string).split('\n').slice(1);
    expect(new Set(eur.map((line) => line.length)).size).toBe(1);
    const end = (eur[0] as string).indexOf('outstanding') + 'outstanding'.length;
    for (const line of eur.slice(1)) expect(line[end - 1]).toMatch(/\d/);
    expect((eur[1] as string).slice(0, end).endsWith('1234.50')).toBe(true);
    expect((eur[3] as string).slice(0, end).endsWith('7.00')).toBe(true);
  });

  it('says so when there is nothing to show', () => {
    expect(formatReportsTable([])).toBe('no invoices\n');
  });
});
