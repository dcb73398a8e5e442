import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../src/config';
import { ReportSchema } from '../../src/domain/report';
import { startService, type Running } from '../../src/http/main';
import { runCli, tempDir } from '../helpers/cli';

describe('the service (npm start)', () => {
  const dir = tempDir();
  const running: Running[] = [];
  afterAll(async () => {
    for (const r of running) await r.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const start = async (env: Record<string, string>): Promise<Running> => {
    const config = loadConfig({ ARBRIDGE_DATA_DIR: path.join(dir, 'data'), PORT: '0', LOG_LEVEL: 'silent', ...env });
    const service = await startService(config);
    running.push(service);
    return service;
  };

  it('creates the embedded store, loads the demo portfolio once, and serves it over HTTP', async () => {
    const first = await start({});
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(fs.existsSync(path.join(dir, 'data'))).toBe(true);
    const health = await fetch(`${first.url}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok' });
    const res = await fetch(`${first.url}/api/v1/portfolio?asOf=2026-01-31`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { reports: unknown[] };
    const reports = body.reports.map((r) => ReportSchema.parse(r));
    expect(reports.length).toBeGreaterThan(1);
    const invoices = reports.reduce((n, r) => n + r.portfolio.invoice_count, 0);
    expect(invoices).toBeGreaterThan(100);
    await first.stop();
    running.pop();
    // A restart on the same data directory finds the data and loads nothing again.
    const second = await start({});
    const again = (await (await fetch(`${second.url}/api/v1/portfolio?asOf=2026-01-31`)).json()) as { reports: unknown[] };
    expect(again.reports.map((r) => ReportSchema.parse(r))).toEqual(reports);
    await second.stop();
    running.pop();

    // The user's own data lives beside the demo without touching it, and the demo can be removed for good.
    const env = { ARBRIDGE_DATA_DIR: path.join(dir, 'data') };
    fs.writeFileSync(path.join(dir, 'mine.csv'), 'invoice_id,customer_id,issue_date,due_date,amount,currency\nINV-000001,ACME,2026-01-02,2026-02-01,5000.00,USD\n');
    const imported = await runCli(['import', 'invoices', path.join(dir, 'mine.csv')], { cwd: dir, env });
    expect(imported.stdout).toContain('invoices: 1 new, 0 updated, 0 unchanged');
    const removed = await runCli(['demo', '--remove'], { cwd: dir, env });
    expect(removed.stdout).toMatch(/^removed 200 demo customers, 5000 invoices and \d+ payments\n$/);
    const third = await start({});
    const mine = (await (await fetch(`${third.url}/api/v1/portfolio?asOf=2026-01-31`)).json()) as { reports: unknown[] };
    const left = mine.reports.map((r) => ReportSchema.parse(r));
    expect(left.map((r) => [r.currency, r.portfolio.invoice_count, r.portfolio.outstanding])).toEqual([['USD', 1, '5000.00']]);
  });

  it('refuses to start with a bad setting, naming it', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ DATABASE_URL: 'not a url' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ NODE_ENV: 'staging' })).toThrow(/NODE_ENV/);
  });
});
