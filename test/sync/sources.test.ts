import type { Server } from 'node:http';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { createQuickBooksAuth } from '../../src/accounting/quickbooks-auth';
import { createXeroAuth } from '../../src/accounting/xero-auth';
import { loadConfig, type Config } from '../../src/config';
import { createApp } from '../../src/http/app';
import { createLogger } from '../../src/logger';
import type { Store } from '../../src/store/store';
import { storedConnection } from '../../src/sync/credentials';
import { createInProcessQueue, type InProcessQueue } from '../../src/sync/jobs';
import { webhookVerifiers } from '../../src/sync/registry';
import { enqueueSync, startSyncWorker } from '../../src/sync/worker';
import { startFakeQuickBooksApi, type FakeQuickBooksApi } from '../fakes/quickbooks';
import { generateInto, startFakeXeroApi, type FakeXeroApi } from '../fakes/xero';
import { describeEachStore, openTestStore } from '../helpers/stores';
import { connect, countRows, TEST_KEY } from './store-state';

// Xero and QuickBooks through what the service runs: the registry builds each source's connector with credentials
// that refresh (and persist) rotated tokens, the `sync` job pulls into the store, and a webhook signed by the fake
// queues the sync that stores the change it announces.

const XERO_PORTAL = 801;
const QBO_PORTAL = 802;

describeEachStore('Xero and QuickBooks synced by the service\'s jobs', (backend) => {
  let store: Store;
  let xeroApi: FakeXeroApi;
  let qboApi: FakeQuickBooksApi;
  let config: Config;
  let queue: InProcessQueue;
  let server: Server;
  let url: string;
  let realmId: string;

  beforeAll(async () => {
    store = await openTestStore(backend);
    xeroApi = await startFakeXeroApi();
    qboApi = await startFakeQuickBooksApi();
    realmId = '9130357766900456';
    config = loadConfig({
      ARBRIDGE_PUBLIC_URL: 'https://arbridge.example.com',
      XERO_CLIENT_ID: 'xero-client', XERO_CLIENT_SECRET: 'xero-secret', XERO_IDENTITY_URL: xeroApi.url, XERO_API_URL: xeroApi.url,
      XERO_WEBHOOK_KEY: xeroApi.webhookKey,
      QUICKBOOKS_CLIENT_ID: 'qbo-client', QUICKBOOKS_CLIENT_SECRET: 'qbo-secret', QUICKBOOKS_ENVIRONMENT: 'sandbox', ...qboApi.env(),
      QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN: qboApi.verifierToken,
    });
    const logger = createLogger('silent');
    queue = createInProcessQueue();
    await startSyncWorker({ db: store.db, key: TEST_KEY, config, logger, queue, intervalMinutes: 0 });
    const app = createApp({
      db: store.db, config: { env: 'test', defaultPortalId: 1 }, logger, today: () => '2026-11-25',
      sourceWebhooks: {
        verifiers: webhookVerifiers(config.sync.webhookSecrets),
        requestSync: (portalId, source) => enqueueSync(queue, { portalId, source, trigger: 'webhook' }),
      },
    });
    server = await new Promise<Server>((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)); });
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await queue.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await xeroApi.close();
    await qboApi.close();
    await store.close();
  });

  const lastRun = async (portalId: number) => store.db.selectFrom('sync_runs').select(['trigger', 'error', 'finished_at', 'invoices', 'payments'])
    .where('portal_id', '=', portalId).orderBy('id', 'desc').executeTakeFirstOrThrow();

  it('syncs Xero after refreshing its token, then the payment a Xero webhook announces', async () => {
    const generated = generateInto(xeroApi.org, { invoices: 80, seed: 12 });
    xeroApi.takeEvents();
    const auth = createXeroAuth({ ...config.accounting.xero, redirectUri: 'https://arbridge.example.com/oauth/xero/callback' });
    const callback = new URL(xeroApi.identity.consent(await auth.consentUrl('s1'), { allow: true, tenantIds: [xeroApi.tenantId] }));
    const grant = await auth.exchange(`${callback.pathname}${callback.search}`, 's1');
    // The access token is about to expire: the first request of the sync refreshes it.
    const credentials = { ...grant.credentials, expires_at: Math.floor(Date.now() / 1000) + 30 };
    await connect(store.db, XERO_PORTAL, 'xero', credentials, xeroApi.tenantId);

    await enqueueSync(queue, { portalId: XERO_PORTAL, source: 'xero', trigger: 'manual' });
    await queue.idle();
    const first = await lastRun(XERO_PORTAL);
    expect(first).toMatchObject({ trigger: 'manual', error: null });
    // Every sales invoice but drafts (the generator makes a few).
    expect(first.invoices).toBeGreaterThan(generated.invoices * 0.8);
    expect(await countRows(store.db, 'invoices', XERO_PORTAL)).toBe(first.invoices);
    const rotated = (await storedConnection(store.db, TEST_KEY, XERO_PORTAL, 'xero'))?.credentials;
    expect(rotated?.refresh_token).not.toBe(credentials.refresh_token);
    expect(rotated?.access_token).not.toBe(credentials.access_token);

    const open = [...xeroApi.org.invoices.byUpdated()].find((i) => i.type === 'ACCREC' && i.status === 'AUTHORISED' && xeroApi.org.amountDue(i) > 1);
    if (!open) throw new Error('fixture: an open sales invoice');
    const payment = xeroApi.org.addPayment({ invoiceId: open.id, date: '2026-11-20', amount: 1 });
    const delivery = await xeroApi.deliverWebhook(`${url}/webhooks/xero`);
    expect(delivery.status).toBe(200);
    expect(delivery.body).toBe('');
    await queue.idle();
    expect(await lastRun(XERO_PORTAL)).toMatchObject({ trigger: 'webhook', error: null });
    const stored = await store.db.selectFrom('payments').select(['external_id', 'amount_minor'])
      .where('portal_id', '=', XERO_PORTAL).where('external_id', '=', payment.id).execute();
    expect(stored).toHaveLength(1);
    expect((await xeroApi.intentToReceive(`${url}/webhooks/xero`, { signed: false })).status).toBe(401);
    expect((await xeroApi.intentToReceive(`${url}/webhooks/xero`, { signed: true })).status).toBe(200);
  });

  it('syncs QuickBooks after refreshing its token, then the void a QuickBooks webhook announces', async () => {
    qboApi.generate(realmId, { invoices: 60, seed: 3 });
    qboApi.takeEvents();
    const auth = createQuickBooksAuth({ ...config.accounting.quickbooks, redirectUri: 'https://arbridge.example.com/oauth/quickbooks/callback' });
    const callback = new URL(qboApi.oauth.consent(auth.consentUrl('s2'), { allow: true, realmId }));
    const grant = await auth.exchange(`${callback.pathname}${callback.search}`);
    const credentials = { ...grant.credentials, expires_at: Math.floor(Date.now() / 1000) + 30 };
    await connect(store.db, QBO_PORTAL, 'quickbooks', credentials, realmId);

    await enqueueSync(queue, { portalId: QBO_PORTAL, source: 'quickbooks', trigger: 'manual' });
    await queue.idle();
    const first = await lastRun(QBO_PORTAL);
    expect(first).toMatchObject({ trigger: 'manual', error: null });
    expect(first.invoices).toBeGreaterThan(0);
    const rotated = (await storedConnection(store.db, TEST_KEY, QBO_PORTAL, 'quickbooks'))?.credentials;
    expect(rotated?.refresh_token).not.toBe(credentials.refresh_token);

    const target = await store.db.selectFrom('invoices').select('external_id').where('portal_id', '=', QBO_PORTAL)
      .where('voided_date', 'is', null).orderBy('external_id').executeTakeFirstOrThrow();
    qboApi.voidInvoice(realmId, target.external_id);
    const delivered = await qboApi.deliverWebhooks(`${url}/webhooks/quickbooks`, 'cloudevents');
    expect(delivered?.status).toBe(200);
    await queue.idle();
    expect(await lastRun(QBO_PORTAL)).toMatchObject({ trigger: 'webhook', error: null });
    const voided = await store.db.selectFrom('invoices').select(['voided_date', 'source_status'])
      .where('portal_id', '=', QBO_PORTAL).where('external_id', '=', target.external_id).executeTakeFirstOrThrow();
    expect(voided.voided_date).not.toBeNull();
  });
});
