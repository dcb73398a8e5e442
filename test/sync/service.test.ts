import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import request from 'supertest';
import { loadConfig } from '../../src/config';
import { createApp } from '../../src/http/app';
import { startService, type Running } from '../../src/http/main';
import { createLogger } from '../../src/logger';
import { saveConnection } from '../../src/services/connections';
import { generateStripeData, startFakeStripe, type FakeStripe } from '../fakes/stripe';
import { tempDir } from '../helpers/cli';
import { describeEachStore } from '../helpers/stores';

// The service end to end: a connected Stripe account is synced by the schedule's first round, a signed Stripe
// webhook queues a sync that stores the change, and /healthz?details=1 shows how each connection stands.

const KEY = 'rk_test_ARBridgeServiceSync01';
const SECRET_KEY = Buffer.alloc(32, 7);
const PORTAL = 1;

type Details = {
  status: string; store: string; queue: { kind: string; waiting: Record<string, number> };
  portals: { portal_id: number; connections: { source: string; status: string; last_sync_at: string | null; last_run: { trigger: string; state: string; invoices: number } | null; pending_events: number }[] }[];
};

/** Waits until `check` holds (polling), failing with `what` when it does not in time. */
const until = async (what: string, check: () => Promise<boolean>, limitMs = 45_000): Promise<void> => {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`still waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

describeEachStore('the service syncing an accounting system', (backend) => {
  let fake: FakeStripe;
  let running: Running;
  let dir: string;
  const options = backend.options();

  beforeAll(async () => {
    dir = tempDir();
    // The fake's clock is the real one: the connector reads Stripe's event window by its own clock.
    fake = await startFakeStripe();
    fake.addKey(KEY, { account: { id: 'acct_1ARBridgeFake00', displayName: 'Acme Billing' } });
    fake.seed(generateStripeData({ invoices: 60, seed: 9, end: fake.clock.now() - 3_600 }));
    const storeEnv: Record<string, string> = options.kind === 'postgres'
      ? { DATABASE_URL: options.url, ...(options.schema ? { DATABASE_SCHEMA: options.schema } : {}) }
      : { ARBRIDGE_DATA_DIR: path.join(dir, 'data') };
    const config = loadConfig({
      NODE_ENV: 'test', PORT: '0', LOG_LEVEL: 'silent', ARBRIDGE_DEMO: 'off', ARBRIDGE_SECRET_KEY: SECRET_KEY.toString('base64'),
      STRIPE_API_URL: fake.url, STRIPE_WEBHOOK_SECRET: fake.webhookSecret, ...storeEnv,
    });
    running = await startService(config);
    // Connected after start: the schedule's check, due again within the minute, picks it up.
    await saveConnection(running.store.db, SECRET_KEY, PORTAL, 'stripe', {
      tenantId: 'acct_1ARBridgeFake00', tenantName: 'Acme Billing', credentials: { api_key: KEY }, scopes: null, expiresAt: null, connectedBy: 'test', now: new Date(),
    });
    await running.queue.send('sync-schedule', {}, { singletonKey: 'sync-schedule' });
  });
  afterAll(async () => {
    await running?.stop();
    await fake.close();
    // Drops the job queue's schema beside the store's too.
    await backend.cleanup(options);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const details = async (): Promise<Details> => (await (await fetch(`${running.url}/healthz?details=1`)).json()) as Details;
  const stripe = async () => (await details()).portals.find((p) => p.portal_id === PORTAL)?.connections.find((c) => c.source === 'stripe');
  const storedInvoice = async (id: string) => running.store.db.selectFrom('invoices').select(['external_id', 'total_minor'])
    .where('portal_id', '=', PORTAL).where('source', '=', 'stripe').where('external_id', '=', id).executeTakeFirst();

  it('syncs a new connection on schedule, and a change a signed webhook announces', async () => {
    expect(await (await fetch(`${running.url}/healthz`)).json()).toEqual({ status: 'ok' });
    await until('the scheduled sync', async () => (await stripe())?.last_run?.state === 'ok');
    const first = await stripe();
    expect(first).toMatchObject({ status: 'connected', last_run: { trigger: 'schedule', state: 'ok' }, pending_events: 0 });
    expect(first?.last_run?.invoices).toBeGreaterThan(0);
    const overview = await details();
    expect(overview).toMatchObject({ status: 'ok', store: backend.name, queue: { kind: backend.name === 'postgres' ? 'pg-boss' : 'in-process' } });

    const account = fake.account();
    fake.clock.set(Math.floor(Date.now() / 1000));
    const customer = account.createCustomer({ name: 'Webhook Ltd', currency: 'usd' });
    const invoice = account.createInvoice({ customer: customer.id, lines: [{ amount: 12_300 }] });
    const events = fake.events();
    const announced = events[events.length - 1] as { id: string };
    const delivered = await fake.deliverWebhook(`${running.url}/webhooks/stripe`, announced.id);
    expect(delivered).toEqual({ status: 200, body: '' });
    await until('the webhook sync', async () => (await storedInvoice(invoice.id)) !== undefined);
    expect(await storedInvoice(invoice.id)).toEqual({ external_id: invoice.id, total_minor: 12_300 });
    await until('the webhook run recorded', async () => (await stripe())?.last_run?.trigger === 'webhook' && (await stripe())?.pending_events === 0);
    const events2 = await running.store.db.selectFrom('source_webhook_events').select(['event_id', 'processed_at']).execute();
    expect(events2).toEqual([{ event_id: announced.id, processed_at: expect.any(Date) }]);

    // A badly signed delivery is refused and changes nothing.
    const forged = await fake.deliverWebhook(`${running.url}/webhooks/stripe`, announced.id, { secret: 'whsec_not_the_secret' });
    expect(forged.status).toBe(401);
  });
});

it('opens /healthz details outside production, and in production only to the health token', async () => {
  const logger = createLogger('silent');
  const health = (token: string | null) => ({ token, details: async () => ({ portals: [] }) });
  const app = (env: 'development' | 'production', token: string | null) =>
    createApp({ db: null as never, config: { env, defaultPortalId: 1 }, logger, today: () => '2026-07-01', health: health(token) });
  expect((await request(app('development', null)).get('/healthz?details=1')).body).toEqual({ status: 'ok', portals: [] });
  expect((await request(app('production', null)).get('/healthz')).body).toEqual({ status: 'ok' });
  const closed = await request(app('production', null)).get('/healthz?details=1');
  expect(closed.status).toBe(404);
  expect(closed.body.message).toContain('ARBRIDGE_HEALTH_TOKEN');
  const token = crypto.randomBytes(24).toString('base64url');
  expect((await request(app('production', token)).get('/healthz?details=1')).status).toBe(401);
  expect((await request(app('production', token)).get('/healthz?details=1').set('authorization', 'Bearer wrong-token-of-some-length')).status).toBe(401);
  const open = await request(app('production', token)).get('/healthz?details=1').set('authorization', `Bearer ${token}`);
  expect(open.status).toBe(200);
  expect(open.body).toEqual({ status: 'ok', portals: [] });
  expect((await request(createApp({ db: null as never, config: { env: 'development', defaultPortalId: 1 }, logger, today: () => '2026-07-01' })).get('/healthz?details=1')).status).toBe(404);
});

it('reads the sync settings from the environment, naming a bad one', () => {
  expect(loadConfig({}).sync).toEqual({ intervalMinutes: 15, webhookSecrets: { stripe: null, xero: null, quickbooks: null }, healthToken: null });
  expect(loadConfig({
    ARBRIDGE_SYNC_INTERVAL_MINUTES: '0', STRIPE_WEBHOOK_SECRET: 'whsec_a', XERO_WEBHOOK_KEY: 'k', QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN: 'v',
    ARBRIDGE_HEALTH_TOKEN: 'a-token-of-16-chars',
  }).sync).toEqual({ intervalMinutes: 0, webhookSecrets: { stripe: 'whsec_a', xero: 'k', quickbooks: 'v' }, healthToken: 'a-token-of-16-chars' });
  expect(() => loadConfig({ ARBRIDGE_SYNC_INTERVAL_MINUTES: '2000' })).toThrow(/ARBRIDGE_SYNC_INTERVAL_MINUTES/);
  expect(() => loadConfig({ ARBRIDGE_HEALTH_TOKEN: 'short' })).toThrow(/ARBRIDGE_HEALTH_TOKEN: must be at least 16 characters/);
});
