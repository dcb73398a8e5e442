import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { today } from '../../src/clock';
import { addDays } from '../../src/domain/calendar';
import { ReportSchema } from '../../src/domain/report';
import { FIXTURES, runCli, tempDir } from '../helpers/cli';

const MAY = path.join(FIXTURES, 'ar-aging-2024-05-31.csv');
const JUNE = path.join(FIXTURES, 'ar-aging-2024-06-30.csv');

describe('arbridge import invoices --preset', () => {
  let cwd: string;
  beforeAll(() => { cwd = tempDir(); });
  afterAll(() => fs.rmSync(cwd, { recursive: true, force: true }));

  it('imports A/R aging snapshots in date order; the same snapshot again adds nothing; reports read the snapshot dates', async () => {
    const may = await runCli(['import', 'invoices', MAY, '--preset', 'ar-aging', '--snapshot-date', '2024-05-31', '--currency', 'USD'], { cwd });
    expect(may.stderr).toBe('');
    expect(may.code).toBe(0);
    expect(may.stdout).toBe([
      'snapshot 2024-05-31 of ar-aging: 5 invoices from 15 rows (customers: 4 new, 0 updated, 0 unchanged; invoices: 5 new, 0 updated, 0 unchanged; payments: 0 new, 0 updated, 0 unchanged, 0 removed)',
      'skipped: 1 × Credit Memo, 1 × Payment',
      '',
    ].join('\n'));
    const june = await runCli(['import', 'invoices', JUNE, '--preset', 'ar-aging', '--snapshot-date', '2024-06-30', '--currency', 'USD'], { cwd });
    expect(june.code).toBe(0);
    expect(june.stdout).toContain('invoices: 2 new, 0 updated, 4 unchanged; payments: 2 new, 0 updated, 0 unchanged, 0 removed)');
    expect(june.stdout).toContain('1 invoice no longer listed: settled at 2024-06-30');
    const again = await runCli(['import', 'invoices', JUNE, '--preset', 'ar-aging', '--snapshot-date', '2024-06-30', '--currency', 'USD'], { cwd });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('invoices: 0 new, 0 updated, 6 unchanged; payments: 0 new, 0 updated, 2 unchanged, 0 removed)');

    const older = await runCli(['import', 'invoices', MAY, '--preset', 'ar-aging', '--snapshot-date', '2024-05-31', '--currency', 'USD'], { cwd });
    expect(older.code).toBe(1);
    expect(older.stderr).toBe('arbridge: snapshot 2024-05-31 is older than the latest snapshot of ar-aging (2024-06-30): import snapshots in date order\n');

    const report = await runCli(['report', '--as-of', '2024-06-30', '--format', 'json'], { cwd });
    expect(report.code).toBe(0);
    const parsed = ReportSchema.parse(JSON.parse(report.stdout));
    expect(parsed.portfolio.outstanding).toBe('4034.85');
    expect(parsed.groups.find((g) => g.key === "Amy's Bird Sanctuary")?.metrics).toMatchObject({ outstanding: '0.00', on_time_rate: 0 });
  });

  it('rejects a bad file whole, naming the row and the column', async () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, 'aging.csv');
      fs.writeFileSync(file, fs.readFileSync(JUNE, 'utf8').replace('06/24/2024,Invoice,1008', '06/31/2024,Invoice,1008'));
      const run = await runCli(['import', 'invoices', file, '--preset', 'ar-aging', '--snapshot-date', '2024-06-30', '--currency', 'USD'], { cwd: dir });
      expect(run.code).toBe(1);
      expect(run.stderr).toBe('arbridge: 1 error in 17 rows; nothing was imported\n  row 8, Date: "06/31/2024" is not a date in M/D/YYYY or YYYY-MM-DD\n');
      const report = await runCli(['report', '--as-of', '2024-06-30', '--format', 'json'], { cwd: dir });
      expect(report.stdout).toBe('');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses option combinations it cannot honour', async () => {
    const run = (...args: string[]) => runCli(['import', 'invoices', MAY, ...args], { cwd });
    const noDate = await run('--preset', 'ar-aging', '--currency', 'USD');
    expect([noDate.code, noDate.stderr]).toEqual([2, 'arbridge: --preset ar-aging needs --snapshot-date YYYY-MM-DD, the date the export shows balances for\n']);
    const noPreset = await run('--snapshot-date', '2024-05-31');
    expect([noPreset.code, noPreset.stderr]).toEqual([2, 'arbridge: --snapshot-date goes with --preset\n']);
    const withMap = await run('--preset', 'ar-aging', '--snapshot-date', '2024-05-31', '--map', 'invoice_id=Num');
    expect(withMap.code).toBe(2);
    expect(withMap.stderr).toContain('--map, --skip-invalid and --rejects do not go with it');
    const unknown = await run('--preset', 'sage', '--snapshot-date', '2024-05-31');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Allowed choices are xero-invoices, ar-aging");
    const future = addDays(today(), 2);
    const ahead = await run('--preset', 'ar-aging', '--snapshot-date', future, '--currency', 'USD');
    expect(ahead.code).toBe(2);
    expect(ahead.stderr).toContain(`snapshot date ${future} is after today`);
    const badDate = await run('--preset', 'ar-aging', '--snapshot-date', '31/05/2024');
    expect([badDate.code, badDate.stderr]).toEqual([2, 'arbridge: snapshot date must be a calendar date YYYY-MM-DD (got "31/05/2024")\n']);
    const payments = await runCli(['import', 'payments', MAY, '--preset', 'ar-aging'], { cwd });
    expect(payments.code).toBe(2);
  });
});
