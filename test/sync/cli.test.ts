import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { registerSyncCommands, runSyncCommand } from '../../src/cli/sync';
import type { Io } from '../../src/cli/io';
import { loadConfig } from '../../src/config';
import { LinkPayload, readToken } from '../../src/http/routes/connect';
import { resolveSecretKey } from '../../src/secrets/keys';
import { saveConnection } from '../../src/services/connections';
import { openStore, storeOptionsFrom, type Store } from '../../src/store/store';
import { generateStripeData, startFakeStripe, type FakeStripe } from '../fakes/stripe';
import { runCli, tempDir } from '../helpers/cli';
import { seededSource } from './scripted-source';

const KEY = 'rk_test_ARBridgeCliSync0001';
const START = Date.UTC(2026, 6, 1) / 1000;

describe('arbridge connect, sync and connections', () => {
  let cwd: string;
  let fake: FakeStripe;
  let env: Record<string, string>;
  const cli = (args: string[], extra: Record<string, string> = {}) => runCli(args, { cwd, env: { ...env, ...extra } });

  beforeAll(async () => {
    cwd = tempDir();
    fake = await startFakeStripe({ now: START });
    fake.addKey(KEY, { account: { id: 'acct_1ARBridgeFake00', displayName: 'Acme Billing' }, canReadAccount: true, canReadInvoices: true });
    fake.seed(generateStripeData({ invoices: 150, seed: 3, end: START - 3_600 }));
    env = { STRIPE_API_URL: fake.url, ARBRIDGE_PUBLIC_URL: 'https://arbridge.example.com' };
  });
  afterAll(async () => {
    await fake.close();
    fs.rmSync(cwd, { recursive: true, force: true });
  });

  it('lists every source as not connected, and has nothing to sync', async () => {
    const listed = await cli(['connections']);
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^source\s+status\s+tenant\s+last sync\s+last run\s+cursor\s+last error$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 2))).toEqual([['quickbooks', 'not_connected'], ['xero', 'not_connected'], ['stripe', 'not_connected']]);
    const sync = await cli(['sync']);
    expect(sync.code).toBe(1);
    expect(sync.stderr).toContain('no accounting system is connected for portal 1');
  });

  it('refuses bad connect and sync arguments with exit 2, and a key Stripe refuses with exit 1', async () => {
    for (const args of [['connect', 'stripe'], ['connect', 'stripe', '--key', 'pk_test_123456789'], ['connect', 'paypal'], ['sync', '--source', 'paypal'], ['connect', 'xero', '--key', KEY]]) {
      const run = await cli(args);
      expect([args, run.code]).toEqual([args, 2]);
    }
    const refused = await cli(['connect', 'stripe', '--key', 'rk_test_NotAKeyStripeKnows']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Stripe does not accept this key');
  });

  it('connects Stripe with a key, syncs it through its connector, and shows the connection', async () => {
    const connected = await cli(['connect', 'stripe', '--key', KEY]);
    expect(connected.stderr).toBe('');
    expect(connected.code).toBe(0);
    expect(connected.stdout).toContain('Stripe is connected to Acme Billing (acct_1ARBridgeFake00), in test mode for portal 1.');

    const synced = await cli(['sync', '--source', 'stripe']);
    expect(synced.stderr).toBe('');
    expect(synced.code).toBe(0);
    expect(synced.stdout).toMatch(/^stripe: \d+ pages?; \d+ customers, 1\d\d invoices, \d+ payments/);

    const json = await cli(['connections', '--format', 'json']);
    expect(json.code).toBe(0);
    const stripe = (JSON.parse(json.stdout) as Record<string, unknown>[]).find((c) => c.source === 'stripe');
    expect(stripe).toMatchObject({ status: 'connected', tenant_id: 'acct_1ARBridgeFake00', tenant_name: 'Acme Billing', last_error: null, pending_webhook_events: 0 });
    expect(stripe?.last_sync_at).toEqual(expect.any(String));
    expect(stripe?.cursor).toEqual(expect.any(String));
    expect(stripe?.last_run).toMatchObject({ trigger: 'cli', full: false, state: 'ok', error: null });

    // Stripe refusing the key ends the sync with exit 1 and leaves the reason on the connection.
    fake.failNext(/^\/v1\//, { status: 401, body: { error: { message: 'Invalid API Key provided: rk_test_****0001', type: 'invalid_request_error' } } }, 20);
    const failed = await cli(['sync']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^arbridge: stripe: .+\n/);
    expect(failed.stderr).toContain('1 source did not sync');
    const table = await cli(['connections']);
    expect(table.stdout).toMatch(/\nstripe\s+error\s+Acme Billing\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+failed /);
    fake.reset();

    const xero = await cli(['sync', '--source', 'xero']);
    expect(xero.code).toBe(1);
    expect(xero.stderr).toContain('Xero is not connected for portal 1');
  });

  it('prints a signed connect link for Xero and QuickBooks once their apps are set up', async () => {
    const missing = await cli(['connect', 'xero']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('set XERO_CLIENT_ID and XERO_CLIENT_SECRET');
    const extra = { XERO_CLIENT_ID: 'x-id', XERO_CLIENT_SECRET: 'x-secret' };
    const run = await cli(['connect', 'xero', '--portal', '42'], extra);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('https://arbridge.example.com/oauth/xero/callback');
    const link = /(https:\/\/arbridge\.example\.com\/connect\?token=\S+)/.exec(run.stdout)?.[1];
    expect(link).toBeDefined();
    const key = resolveSecretKey(loadConfig({ ARBRIDGE_DATA_DIR: path.join(cwd, '.arbridge-data'), ...env, ...extra }));
    const token = new URL(link as string).searchParams.get('token') as string;
    expect(readToken(key, 'link', token, LinkPayload)).toMatchObject({ p: 42, u: 'arbridge cli' });
  });
});

describe('arbridge sync, in-process', () => {
  let dir: string;
  let store: Store;
  beforeAll(() => { dir = tempDir(); });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('shows progress on a terminal and prints what each source read', async () => {
    const config = loadConfig({ ARBRIDGE_DATA_DIR: path.join(dir, 'data') });
    const out: string[] = [];
    const err: string[] = [];
    const sink = (chunks: string[]) => new Writable({ write(chunk: Buffer, _e, done) { chunks.push(chunk.toString()); done(); } });
    const io: Io = { stdout: sink(out), stderr: Object.assign(sink(err), { isTTY: true, columns: 100 }), env: {}, cwd: dir };
    const source = seededSource(21, 300, 40);
    const withStore = async <T>(work: (s: Store, portalId: number) => Promise<T>): Promise<T> => {
      store = await openStore(storeOptionsFrom(config));
      try {
        return await work(store, 3);
      } finally {
        await store.close();
      }
    };
    await withStore((s) => saveConnection(s.db, resolveSecretKey(config), 3, 'xero', {
      tenantId: 't-1', tenantName: 'Org', credentials: { access_token: 'a' }, scopes: null, expiresAt: null, connectedBy: null, now: new Date(),
    }));
    const deps = { io, config, withStore, factories: { xero: () => source.connector() } };
    const [result] = await runSyncCommand(deps, {});
    expect(result?.done).toBe(true);
    expect(out.join('')).toBe(`xero: ${result?.pages} pages; 15 customers, ${result?.invoices} invoices, ${result?.payments} payments; ${result?.skippedAllocations} allocation${result?.skippedAllocations === 1 ? '' : 's'} to invoices not synced skipped\n`);
    const progress = err.join('');
    expect(progress).toContain('\rsyncing xero: 1 page; 15 customers, 0 invoices, 0 payments');
    expect(progress.endsWith('\n')).toBe(true);
    // The commands are registered on the program (`arbridge --help` lists them).
    const { Command } = await import('commander');
    const program = new Command('arbridge');
    registerSyncCommands(program, deps);
    expect(program.commands.map((c) => c.name())).toEqual(['sync', 'connections', 'connect']);
  });
});
