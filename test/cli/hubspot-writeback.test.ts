import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generatePortfolio } from '../../src/demo/generate';
import { startFakeHubSpot, type FakeHubSpot } from '../fakes/hubspot';
import { runCli, tempDir } from '../helpers/cli';

const PORTAL = 61;
const TOKEN = 'cli-writeback-token';
const AS_OF = '2026-06-30';
const DEMO = { customers: 12, invoices: 150, seed: 9 };

/** `arbridge hubspot …` end to end through main(): demo data, the fake HubSpot, the private-app token. */
describe('arbridge hubspot install-properties and push', () => {
  let fake: FakeHubSpot;
  let cwd: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    fake = await startFakeHubSpot({ rateLimit: null, searchRateLimit: null });
    fake.addPortal(PORTAL, { privateToken: TOKEN });
    cwd = tempDir();
    env = { HUBSPOT_API_BASE_URL: fake.url, HUBSPOT_ACCESS_TOKEN: TOKEN, HUBSPOT_PORTAL_ID: String(PORTAL), LOG_LEVEL: 'silent' };
    // A HubSpot company for each demo customer but the last, by name.
    const customers = [...generatePortfolio({ ...DEMO, endDate: AS_OF })].map((item) => item.customer);
    for (const customer of customers.slice(0, -1)) fake.createObject(PORTAL, 'companies', { name: customer.name ?? '' });
    const demo = await runCli(['demo', '--customers', String(DEMO.customers), '--invoices', String(DEMO.invoices), '--seed', String(DEMO.seed), '--as-of', AS_OF, '--portal', String(PORTAL)], { cwd, env });
    expect(demo.code).toBe(0);
  });
  afterAll(async () => {
    await fake.close();
    fs.rmSync(cwd, { recursive: true, force: true });
  });

  it('installs the properties, then reports them in place', async () => {
    const first = await runCli(['hubspot', 'install-properties'], { cwd, env });
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toMatch(/^companies: group created; 13 created \(arbridge_currency, /m);
    const again = await runCli(['hubspot', 'install-properties', '--format', 'json'], { cwd, env });
    expect(JSON.parse(again.stdout)).toMatchObject({ portal_id: PORTAL, companies: { groupCreated: false, created: [], updated: [], unchanged: 13 } });
  });

  it('plans with --dry-run without writing, pushes in batches, and then has nothing to send', async () => {
    expect((await runCli(['hubspot', 'match'], { cwd, env })).code).toBe(0);
    fake.clearRequests();
    const dry = await runCli(['hubspot', 'push', '--dry-run', '--as-of', AS_OF], { cwd, env });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`dry run: changes as of ${AS_OF} for portal ${PORTAL}`);
    expect(dry.stdout).toContain('companies: 11 linked, 11 to update');
    expect(dry.stdout).toMatch(/companies \d+: arbridge_currency=[A-Z]{3}, arbridge_outstanding=/);
    expect(fake.requests).toHaveLength(0);

    const push = await runCli(['hubspot', 'push', '--as-of', AS_OF, '--format', 'json'], { cwd, env });
    expect(push.code).toBe(0);
    const report = JSON.parse(push.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({
      portal_id: PORTAL, as_of: AS_OF, dry_run: false, minimum_calls: 1,
      planned: { companies: { records: 11, changed: 11, cleared: 0 }, deals: { records: 0, changed: 0 } },
      sent: { written: 11, calls: 1, rate_limited: 0, refused: 0, remaining: 0, stopped_by: null },
    });
    const written = fake.objects(PORTAL, 'companies').filter((c) => (c.properties.arbridge_currency ?? '') !== '');
    expect(written).toHaveLength(11);

    const again = await runCli(['hubspot', 'push', '--as-of', AS_OF], { cwd, env });
    expect(again.stdout).toContain('companies: 11 linked, 0 to update (0 properties)');
    expect(again.stdout).toContain('sent: 0 records in 0 calls');
  });

  it('exits 1 and keeps the changes queued when HubSpot keeps failing', async () => {
    fake.setFaults({ rate: 1, kinds: ['500'], seed: 1 });
    try {
      const failing = await runCli(['hubspot', 'push', '--as-of', '2026-07-31'], { cwd, env: { ...env } });
      expect(failing.code).toBe(1);
      expect(failing.stderr).toContain('write-back stopped: 500');
      expect(failing.stdout).toMatch(/\d+ waiting in the outbox/);
    } finally {
      fake.setFaults(null);
    }
    const retried = await runCli(['hubspot', 'push', '--as-of', '2026-07-31'], { cwd, env });
    expect(retried.code).toBe(0);
  }, 120_000);
});
