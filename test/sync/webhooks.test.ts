import crypto from 'node:crypto';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import request from 'supertest';
import type { WebhookHint } from '../../src/connectors/types';
import { verifyXeroWebhook } from '../../src/connectors/xero';
import { createRng, type Rng } from '../../src/demo/generate';
import { createApp } from '../../src/http/app';
import { createLogger } from '../../src/logger';
import type { Store } from '../../src/store/store';
import { createInProcessQueue, type InProcessQueue } from '../../src/sync/jobs';
import { storeHints } from '../../src/sync/webhooks';
import { enqueueSync } from '../../src/sync/worker';
import { describeEachStore, openTestStore } from '../helpers/stores';
import { connect } from './store-state';

// Webhook deliveries signed the way Xero signs them (base64 HMAC-SHA256 of the raw body with the webhook key, in
// x-xero-signature), checked by the Xero connector's verifier; events are hints keyed by tenant.

const KEY = 'xero-webhook-key-for-tests';
const T1 = 'c2cc9b6e-9458-4c7d-93cc-f02b81b0594f'; // connected by portals 501 and 502
const T2 = '4a1c2f0e-0000-4d3b-9c55-6c0a3e1b2d7f'; // connected by portal 503
const T3 = 'ffffffff-0000-4000-8000-000000000000'; // no portal

type XeroEvent = { resourceUrl: string; resourceId: string; tenantId: string; tenantType: string; eventCategory: string; eventType: string; eventDateUtc: string };

const event = (n: number, tenantId: string, category = 'INVOICE'): XeroEvent => {
  const id = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
  return {
    resourceUrl: `https://api.xero.com/api.xro/2.0/Invoices/${id}`, resourceId: id, tenantId, tenantType: 'ORGANISATION',
    eventCategory: category, eventType: 'UPDATE', eventDateUtc: `2026-10-30T16:26:${String(n % 60).padStart(2, '0')}.902`,
  };
};

const body = (events: XeroEvent[], sequence = 1): string =>
  JSON.stringify({ events, firstEventSequence: sequence, lastEventSequence: sequence + Math.max(0, events.length - 1), entropy: 'S0m3r4Nd0mt3xt' });

const sign = (text: string, key = KEY): string => crypto.createHmac('sha256', key).update(text).digest('base64');

const shuffle = <T>(rng: Rng, items: T[]): T[] => {
  for (let i = items.length - 1; i > 0; i -= 1) {
    const j = rng.int(0, i);
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
};

describeEachStore('accounting webhooks', (backend) => {
  let store: Store;
  let queue: InProcessQueue;
  let app: ReturnType<typeof createApp>;
  const requested: string[] = [];
  const logger = createLogger('silent');
  const verify = verifyXeroWebhook(KEY);

  beforeAll(async () => {
    store = await openTestStore(backend);
    await connect(store.db, 501, 'xero', { access_token: 'a' }, T1);
    await connect(store.db, 502, 'xero', { access_token: 'a' }, T1);
    await connect(store.db, 503, 'xero', { access_token: 'a' }, T2);
    await connect(store.db, 504, 'stripe', { api_key: 'rk_test_0123456789abcdef' }, null);
    queue = createInProcessQueue();
    app = createApp({
      db: store.db, config: { env: 'test', defaultPortalId: 1 }, logger, today: () => '2026-11-01',
      sourceWebhooks: {
        verifiers: { xero: verify },
        requestSync: async (portalId, source) => {
          requested.push(`${portalId}:${source}`);
          return enqueueSync(queue, { portalId, source, trigger: 'webhook' });
        },
      },
    });
  });
  afterAll(async () => {
    await queue.stop();
    await store.close();
  });

  const post = (text: string, signature: string | null, path = '/webhooks/xero') => {
    const req = request(app).post(path).set('content-type', 'application/json');
    return (signature === null ? req : req.set('x-xero-signature', signature)).send(text);
  };
  const stored = async () => store.db.selectFrom('source_webhook_events')
    .select(['portal_id', 'source', 'event_id', 'tenant_id', 'object_type', 'object_id', 'occurred_at', 'processed_at'])
    .orderBy('portal_id').orderBy('event_id').execute();

  it('answers Xero\'s intent-to-receive: 200 with an empty body when signed, 401 otherwise', async () => {
    const intent = body([], 0);
    const ok = await post(intent, sign(intent));
    expect(ok.status).toBe(200);
    expect(ok.text).toBe('');
    expect((await post(intent, sign(intent, 'another-key'))).status).toBe(401);
    expect((await post(intent, null)).status).toBe(401);
    expect((await post(`${intent} `, sign(intent))).status).toBe(401);
    expect(await stored()).toEqual([]);
  });

  it('stores each event once for every portal of its tenant, queues their syncs, and drops unknown tenants', async () => {
    // The bytes as sent, spacing included, are what is signed: the route must not parse and re-serialize them.
    const text = body([event(1, T1), event(2, T2, 'CONTACT'), event(3, T3)]).replace(/,"/g, ', "');
    const res = await post(text, sign(text));
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    const rows = await stored();
    expect(rows.map((r) => [r.portal_id, r.tenant_id, r.object_type, r.object_id])).toEqual([
      [501, T1, 'invoice', event(1, T1).resourceId], [502, T1, 'invoice', event(1, T1).resourceId], [503, T2, 'customer', event(2, T2).resourceId],
    ]);
    expect(new Date(rows[0]?.occurred_at as Date).toISOString()).toBe('2026-10-30T16:26:01.902Z');
    expect(requested.sort()).toEqual(['501:xero', '502:xero', '503:xero']);
    expect(queue.waiting().map((w) => w.singletonKey).sort()).toEqual(['sync:501:xero', 'sync:502:xero', 'sync:503:xero']);

    // A redelivery stores nothing new; its syncs are still waiting, so the request merges into them.
    requested.length = 0;
    expect((await post(text, sign(text))).status).toBe(200);
    expect(await stored()).toEqual(rows);
    expect(requested.sort()).toEqual(['501:xero', '502:xero', '503:xero']);
    expect(queue.waiting()).toHaveLength(3);

    // Once a sync has covered the events, a redelivery of them asks for nothing.
    await store.db.updateTable('source_webhook_events').set({ processed_at: new Date() }).execute();
    requested.length = 0;
    expect((await post(text, sign(text))).status).toBe(200);
    expect(requested).toEqual([]);
    await store.db.deleteFrom('source_webhook_events').execute();
  });

  it('answers 404 for a source without a webhook secret, and refuses a body over 1 MB', async () => {
    const res = await request(app).post('/webhooks/stripe').set('content-type', 'application/json').send('{}');
    expect(res.status).toBe(404);
    expect(res.body.message).toContain('STRIPE_WEBHOOK_SECRET');
    const big = body([event(1, T1)]).replace('S0m3r4Nd0mt3xt', 'x'.repeat(1_100_000));
    const tooLarge = await post(big, sign(big));
    expect(tooLarge.status).toBe(400);
    expect(tooLarge.body.message).toBe('Request body is too large');
    expect(await stored()).toEqual([]);
  });

  it('sends an event without a tenant to the source\'s only connection, and drops it when there are several', async () => {
    const hint: WebhookHint = { eventId: 'evt_1', tenantId: null, objectType: 'invoice', objectId: 'in_1', occurredAt: null };
    expect((await storeHints(store.db, 'stripe', [hint])).syncs).toEqual([{ portalId: 504, source: 'stripe' }]);
    await connect(store.db, 505, 'stripe', { api_key: 'rk_test_0123456789abcdef' }, 'acct_2');
    const second = await storeHints(store.db, 'stripe', [{ ...hint, eventId: 'evt_2' }]);
    expect(second).toMatchObject({ stored: 0, ignored: 1, syncs: [] });
    await store.db.deleteFrom('source_webhook_events').execute();
  });

  it('ends 1,000 seeded schedules of duplicated and reordered deliveries with the events and syncs of one in-order delivery', async () => {
    const events = [event(1, T1), event(2, T2), event(3, T1, 'CONTACT'), event(4, T3), event(5, T2, 'CREDITNOTE'), event(6, T1)];
    const deliver = async (batch: XeroEvent[], into: InProcessQueue): Promise<void> => {
      const text = body(batch);
      const verified = verify(Buffer.from(text), { 'x-xero-signature': sign(text) });
      if (!verified.ok) throw new Error(verified.reason);
      const delivery = await storeHints(store.db, 'xero', verified.hints);
      for (const { portalId, source } of delivery.syncs) await enqueueSync(into, { portalId, source, trigger: 'webhook' });
    };
    const outcome = async (into: InProcessQueue) => ({
      events: (await stored()).map((r) => ({ ...r, occurred_at: new Date(r.occurred_at as Date).toISOString() })),
      syncs: into.waiting().map((w) => w.singletonKey).sort(),
    });

    const inOrder = createInProcessQueue();
    for (const e of events) await deliver([e], inOrder);
    const expected = await outcome(inOrder);
    expect(expected.events).toHaveLength(8); // three events of T1 for two portals, two of T2, none of T3
    expect(expected.syncs).toEqual(['sync:501:xero', 'sync:502:xero', 'sync:503:xero']);

    for (let seed = 1; seed <= 1_000; seed += 1) {
      await store.db.deleteFrom('source_webhook_events').execute();
      const rng = createRng(seed);
      // Events in random batches, every batch delivered one to three times, plus random re-batched repeats.
      const deliveries: XeroEvent[][] = [];
      let rest = shuffle(rng, [...events]);
      while (rest.length > 0) {
        const size = rng.int(1, Math.min(3, rest.length));
        const batch = rest.slice(0, size);
        rest = rest.slice(size);
        for (let copies = rng.int(1, 3); copies > 0; copies -= 1) deliveries.push(batch);
      }
      for (let extra = rng.int(0, 2); extra > 0; extra -= 1) deliveries.push(shuffle(rng, [...events]).slice(0, rng.int(1, events.length)));
      const into = createInProcessQueue();
      for (const batch of shuffle(rng, deliveries)) await deliver(batch, into);
      const got = await outcome(into);
      if (JSON.stringify(got) !== JSON.stringify(expected)) {
        expect({ seed, ...got }).toEqual({ seed, ...expected });
      }
    }
  }, 180_000);
});
