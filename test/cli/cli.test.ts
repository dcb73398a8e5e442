import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ReportSchema } from '../../src/domain/report';
import { FIXTURES, runCli, tempDir } from '../helpers/cli';
import { postgresEnabled } from '../helpers/stores';
import pg from 'pg';
import { parse } from 'csv-parse/sync';

const QBO_MAP = 'invoice_id=Num,invoice_number=Num,customer_id=Customer,customer_name=Customer,issue_date=Date,due_date=Due date,amount=Amount';
const QBO_PAYMENTS_MAP = 'payment_id=Num,invoice_id=Applied to,date=Date,amount=Amount';
const QBO_FLAGS = ['--currency', 'USD', '--date-format', 'M/D/YYYY'];

const write = (dir: string, name: string, lines: string[]): string => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
};

describe('arbridge CLI', () => {
  let cwd: string;
  beforeAll(() => { cwd = tempDir(); });
  afterAll(() => fs.rmSync(cwd, { recursive: true, force: true }));

  it('reports straight from a QuickBooks export with a column map, in the JSON contract', async () => {
    const run = await runCli(['report', '--invoices', path.join(FIXTURES, 'quickbooks-invoice-list.csv'),
      '--payments', path.join(FIXTURES, 'quickbooks-payments.csv'), '--map', QBO_MAP, '--payments-map', QBO_PAYMENTS_MAP, ...QBO_FLAGS,
      '--as-of', '2024-06-30', '--format', 'json'], { cwd });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const report = ReportSchema.parse(JSON.parse(lines[0]!));
    expect(report.as_of).toBe('2024-06-30');
    expect(report.currency).toBe('USD');
    // 8 invoices totalling 6,104.85; 1,250.00 + 320.00 paid in full and 500.00 paid on 1006 by 2024-06-30.
    expect(report.portfolio.invoice_count).toBe(8);
    expect(report.portfolio.outstanding).toBe('4034.85');
    expect(report.groups.map((g) => g.key)).toEqual([
      "Amy's Bird Sanctuary", "Bill's Windsurf Shop", 'Cool Cars', 'Diego Rodriguez', 'Geeta Kalapatapu',
    ]);
    const amy = report.groups[0]!;
    expect(amy.metrics.outstanding).toBe('0.00');
    expect(amy.metrics.on_time_rate).toBe(1);
  });

  it('imports, and a second import of the same file changes nothing', async () => {
    const file = path.join(FIXTURES, 'quickbooks-invoice-list.csv');
    const first = await runCli(['import', 'invoices', file, '--map', QBO_MAP, ...QBO_FLAGS], { cwd });
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('8 of 8 rows imported (customers: 5 new, 0 updated, 0 unchanged; invoices: 8 new, 0 updated, 0 unchanged)');
    const again = await runCli(['import', 'invoices', file, '--map', QBO_MAP, ...QBO_FLAGS], { cwd });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('customers: 0 new, 0 updated, 5 unchanged; invoices: 0 new, 0 updated, 8 unchanged');
    const payments = await runCli(['import', 'payments', path.join(FIXTURES, 'quickbooks-payments.csv'), '--map', QBO_PAYMENTS_MAP, ...QBO_FLAGS], { cwd });
    expect(payments.code).toBe(0);
    expect(payments.stdout).toContain('payments: 3 new');
    const report = await runCli(['report', '--as-of', '2024-06-30', '--format', 'json', '--by', 'customer'], { cwd });
    expect(report.code).toBe(0);
    expect(ReportSchema.parse(JSON.parse(report.stdout)).portfolio.outstanding).toBe('4034.85');
  });

  it('rejects a bad file whole, naming row, column and value, and writes nothing', async () => {
    const file = write(cwd, 'bad.csv', [
      'InvoiceNo,Client,Issued,DueDate,Total',
      'B-1,K1,1/15/2024,2/14/2024,100.00',
      'B-2,K1,1/20/2024,31/02/2024,50.00',
      'B-3,K2,1/21/2024,2/20/2024,12.345',
    ]);
    const run = await runCli(['import', 'invoices', file, '--currency', 'USD', '--date-format', 'M/D/YYYY',
      '--map', 'invoice_id=InvoiceNo,customer_id=Client,issue_date=Issued,due_date=DueDate,amount=Total'], { cwd });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('row 3, DueDate: "31/02/2024" is not a date in M/D/YYYY');
    expect(run.stderr).toMatch(/row 4, Total: "12\.345"/);
    expect(run.stderr).toContain('nothing was imported');
    const report = await runCli(['report', '--as-of', '2024-06-30', '--format', 'csv', '--by', 'customer'], { cwd });
    expect(report.stdout).not.toContain('K1');
  });

  it('with --skip-invalid imports the good rows and writes the rejected ones with reasons', async () => {
    const file = write(cwd, 'mixed.csv', [
      'invoice_id,customer_id,issue_date,due_date,amount,currency,disputed',
      'M-1,MX,2024-03-01,2024-03-31,10.00,EUR,no',
      'M-2,MX,2024-03-02,2024-04-01,abc,EUR,no',
      'M-3,MX,2024-03-03,2024-04-02,30.00,EUR,maybe',
    ]);
    const rejects = path.join(cwd, 'rejects.csv');
    const run = await runCli(['import', 'invoices', file, '--skip-invalid', '--rejects', rejects], { cwd });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('1 of 3 rows imported');
    expect(run.stderr).toContain('2 rows skipped');
    const rows: string[][] = parse(fs.readFileSync(rejects, 'utf8'));
    expect(rows[0]).toEqual(['invoice_id', 'customer_id', 'issue_date', 'due_date', 'amount', 'currency', 'disputed', 'error']);
    expect(rows).toHaveLength(3);
    expect(rows[1]?.slice(0, 5)).toEqual(['M-2', 'MX', '2024-03-02', '2024-04-01', 'abc']);
    expect(rows[1]?.[7]).toContain('row 3, amount: "abc"');
    expect(rows[2]?.[0]).toBe('M-3');
    expect(rows[2]?.[7]).toContain('row 4, disputed: "maybe"');
  });

  it('ages by days since issue with custom limits when asked', async () => {
    const run = await runCli(['report', '--as-of', '2024-06-30', '--format', 'json', '--age-by', 'issue', '--aging', '45'], { cwd });
    expect(run.code).toBe(0);
    const reports = run.stdout.trim().split('\n').map((line) => ReportSchema.parse(JSON.parse(line)));
    expect(reports.map((r) => r.currency)).toEqual(['EUR', 'USD']);
    const report = reports[1]!;
    // Open on 2024-06-30: 1008 and 1007 (6 and 27 days since issue), 1006 (41), 1005 (55), 1003 (89), 1002 (104).
    expect(report.portfolio.aging).toEqual([
      { bucket: '0-45', amount: '1504.35', count: 3 },
      { bucket: '46+', amount: '2530.50', count: 3 },
    ]);
  });

  it('refuses to move an invoice that has payments to another currency', async () => {
    const usd = write(cwd, 'k-usd.csv', ['invoice_id,customer_id,issue_date,due_date,amount,currency', 'K1,KC,2024-05-01,2024-05-31,1000.00,USD']);
    const pay = write(cwd, 'k-pay.csv', ['payment_id,invoice_id,date,amount', 'KP1,K1,2024-05-10,10.00']);
    const jpy = write(cwd, 'k-jpy.csv', ['invoice_id,customer_id,issue_date,due_date,amount,currency', 'K1,KC,2024-05-01,2024-05-31,1000,JPY']);
    expect((await runCli(['import', 'invoices', usd], { cwd })).code).toBe(0);
    expect((await runCli(['import', 'payments', pay], { cwd })).code).toBe(0);
    const moved = await runCli(['import', 'invoices', jpy], { cwd });
    expect(moved.code).toBe(1);
    expect(moved.stderr).toContain('row 2, currency: "JPY" is not the currency of invoice K1 (USD), which has payments');
    const report = await runCli(['report', '--as-of', '2024-06-30', '--format', 'csv', '--by', 'customer'], { cwd });
    expect(report.stdout).not.toContain('JPY');
    expect(report.stdout).toMatch(/USD,group,KC,1,1,990\.00,/);
  });

  it('keeps what a file has no column for, clears what it leaves empty, and un-pays an emptied paid_date', async () => {
    const full = write(cwd, 'v1.csv', [
      'invoice_id,customer_id,issue_date,due_date,amount,currency,sales_rep,voided_date,disputed,paid_date',
      'V1,VC,2024-01-05,2024-02-04,100.00,USD,Ann,2024-01-10,no,',
      'V2,VC,2024-01-05,2024-02-04,200.00,USD,Ann,,yes,',
      'V3,VC,2024-01-05,2024-02-04,300.00,USD,Ann,,no,2024-02-01',
    ]);
    expect((await runCli(['import', 'invoices', full], { cwd })).stdout).toContain('invoices: 3 new');
    const lean = write(cwd, 'v2.csv', ['invoice_id,customer_id,issue_date,due_date,amount,currency',
      'V1,VC,2024-01-05,2024-02-04,100.00,USD', 'V2,VC,2024-01-05,2024-02-04,200.00,USD', 'V3,VC,2024-01-05,2024-02-04,300.00,USD']);
    expect((await runCli(['import', 'invoices', lean], { cwd })).stdout).toContain('invoices: 0 new, 0 updated, 3 unchanged');
    const byRep = async () => (await runCli(['report', '--as-of', '2024-06-30', '--format', 'csv', '--by', 'rep'], { cwd })).stdout;
    // V1 stays voided, V2 disputed and open, V3 paid: Ann has 2 invoices and 200.00 open.
    expect(await byRep()).toMatch(/USD,group,Ann,2,1,200\.00,/);
    const cleared = write(cwd, 'v3.csv', ['invoice_id,customer_id,issue_date,due_date,amount,currency,sales_rep,paid_date',
      'V3,VC,2024-01-05,2024-02-04,300.00,USD,,']);
    const run = await runCli(['import', 'invoices', cleared], { cwd });
    expect(run.stdout).toContain('invoices: 0 new, 1 updated, 0 unchanged; payments: 0 new, 1 updated, 0 unchanged');
    const after = await byRep();
    expect(after).toMatch(/USD,group,Ann,1,1,200\.00,/);
    expect(after).toMatch(/USD,group,\(none\),\d+,\d+,/);
  });

  it('prints csv and table formats', async () => {
    const csv = await runCli(['report', '--as-of', '2024-06-30', '--format', 'csv', '--by', 'rep'], { cwd });
    expect(csv.code).toBe(0);
    expect(csv.stdout.split(/\r?\n/)[0]).toBe('currency,group,key,invoice_count,open_count,outstanding,overdue,aging_current,aging_1-30,aging_31-60,aging_61-90,aging_91+,dso_simple,dso_countback,bpdso,add,cei,on_time_rate,weighted_days_late,at_risk_rate,over_60_share,risk_score,risk_tier,risk_reasons');
    const table = await runCli(['report', '--as-of', '2024-06-30'], { cwd });
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('USD');
    expect(table.stdout).toContain('Cool Cars');
  });

  it.each([
    [['report', '--as-of', '2024-02-30']],
    [['report', '--format', 'xml']],
    [['report', '--by', 'planet']],
    [['report', '--aging', '60,30']],
    [['report', '--payments', 'x.csv']],
    [['frobnicate']],
    [['import', 'invoices']],
    [['import', 'invoices', 'x.csv', '--map', 'nonsense=Col']],
    [['import', 'invoices', 'x.csv', '--date-format', 'Q/Q']],
  ])('exits 2 on a usage error: %j', async (args) => {
    const run = await runCli(args, { cwd });
    expect(run.code).toBe(2);
    expect(run.stderr).not.toBe('');
  });

  it('exits 1 when the file cannot be read', async () => {
    const run = await runCli(['import', 'invoices', 'missing.csv'], { cwd });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('cannot read missing.csv: ENOENT');
  });

  it('migrates, and reports the schema up to date afterwards', async () => {
    const run = await runCli(['migrate'], { cwd });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('the schema is up to date\n');
  });

  it('writes the demo portfolio as CSV files that import back', async () => {
    const out = path.join(cwd, 'demo');
    const run = await runCli(['demo', '--customers', '20', '--invoices', '300', '--as-of', '2024-06-30', '--out', out], { cwd });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^wrote 300 invoices to .*invoices\.csv and \d+ payments to .*payments\.csv\n$/);
    const other = tempDir();
    try {
      const inv = await runCli(['import', 'invoices', path.join(out, 'invoices.csv')], { cwd: other });
      expect(inv.code).toBe(0);
      expect(inv.stdout).toContain('300 of 300 rows imported');
      const pay = await runCli(['import', 'payments', path.join(out, 'payments.csv')], { cwd: other });
      expect(pay.stderr).toBe('');
      expect(pay.code).toBe(0);
      const loaded = await runCli(['demo', '--customers', '20', '--invoices', '300', '--as-of', '2024-06-30', '--portal', '5'], { cwd: other });
      expect(loaded.stdout).toMatch(/^loaded 20 customers, 300 invoices and \d+ payments\n$/);
      // The same portfolio through CSV (portal 1) and loaded directly (portal 5) reports the same.
      const viaCsv = await runCli(['report', '--as-of', '2024-06-30', '--format', 'json'], { cwd: other });
      const direct = await runCli(['report', '--as-of', '2024-06-30', '--format', 'json', '--portal', '5'], { cwd: other });
      // One JSON object per line, one line per currency, sorted by currency code.
      const currencies = viaCsv.stdout.trim().split('\n').map((line) => ReportSchema.parse(JSON.parse(line)).currency);
      expect(currencies.length).toBeGreaterThan(1);
      expect([...currencies].sort()).toEqual(currencies);
      expect(direct.stdout).toBe(viaCsv.stdout);
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });
});

(postgresEnabled() ? describe : describe.skip)('arbridge CLI on PostgreSQL (DATABASE_URL)', () => {
  const schema = `cli_${process.pid}`;
  const url = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  let cwd: string;
  beforeAll(() => { cwd = tempDir(); });
  afterAll(async () => {
    fs.rmSync(cwd, { recursive: true, force: true });
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });

  it('migrates, imports and reports against the server instead of the embedded store', async () => {
    const env = { DATABASE_URL: url, DATABASE_SCHEMA: schema };
    const migrations = fs.readdirSync(path.join(__dirname, '../../src/store/migrations')).filter((f) => f.endsWith('.sql')).sort()
      .map((f) => f.replace(/\.sql$/, ''));
    expect(migrations.slice(0, 4)).toEqual(['0001_init', '0002_hubspot', '0003_portal_data_version', '0004_terms_log_connections']);
    expect((await runCli(['migrate'], { cwd, env })).stdout).toBe(`applied ${migrations.join(', ')}\n`);
    const file = path.join(FIXTURES, 'quickbooks-invoice-list.csv');
    expect((await runCli(['import', 'invoices', file, '--map', QBO_MAP, ...QBO_FLAGS], { cwd, env })).code).toBe(0);
    const report = await runCli(['report', '--as-of', '2024-06-30', '--format', 'json'], { cwd, env });
    expect(ReportSchema.parse(JSON.parse(report.stdout)).portfolio.outstanding).toBe('6104.85');
    expect(fs.existsSync(path.join(cwd, '.arbridge-data'))).toBe(false);
  });
});
