import crypto from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { loadConfig, type Config } from '../../src/config';
import { createApp } from '../../src/http/app';
import { roundTrigger, type Timers } from '../../src/hubspot/webhook-events';
import { createLogger } from '../../src/logger';
import { sealSecret } from '../../src/secrets/crypto';
import { ensurePortal } from '../../src/store/facts';
import type { Store } from '../../src/store/store';
import { sdkSignV3, signedRequest, type SignedCall } from '../helpers/sign';
import { describeEachStore, openTestStore } from '../helpers/stores';

const SECRET = 'webhook-test-client-secret';
const PUBLIC_URL = 'https://arbridge.example.com';
const PATH = '/webhooks/hubspot';
const PORTAL_A = 101; // OAuth install row
const PORTAL_PRIVATE = 202; // the private app's portal (no portals row until an event arrives)
const PORTAL_X = 303; // has a portals row, but the app is not installed there
const OCCURRED = Date.parse('2024-06-30T12:00:00.000Z');

const configWith = (env: Record<string, string>): Config => loadConfig({
  ARBRIDGE_PUBLIC_URL: PUBLIC_URL, HUBSPOT_ACCESS_TOKEN: 'pat-test', HUBSPOT_PORTAL_ID: String(PORTAL_PRIVATE), ...env,
});

type Event = Record<string, unknown>;

/** A generic-form event as HubSpot delivers it. */
const event = (n: number, fields: Event = {}): Event => ({
  eventId: 1_000 + n, subscriptionId: 55, portalId: PORTAL_A, appId: 12345, occurredAt: OCCURRED + n,
  subscriptionType: 'object.propertyChange', attemptNumber: 0, objectId: 7_000 + n, objectTypeId: '0-3',
  changeSource: 'CRM_UI', sourceId: 'userId:777', propertyName: 'dealstage', propertyValue: 'closedwon', ...fields,
});

/** Timers the test fires by hand. */
const manualTimers = (): { timers: Timers; pending: () => number; fire: () => void } => {
  const waiting = new Map<number, () => void>();
  let next = 1;
  return {
    timers: {
      set: (run) => {
        const id = next++;
        waiting.set(id, run);
        return id;
      },
      clear: (handle) => {
        waiting.delete(handle as number);
      },
    },
    pending: () => waiting.size,
    fire: () => {
      const runs = [...waiting.values()];
      waiting.clear();
      for (const run of runs) run();
    },
  };
};

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describeEachStore('HubSpot webhook receiver', (backend) => {
  let store: Store;
  const logger = createLogger('silent');
  const config = configWith({ HUBSPOT_CLIENT_SECRET: SECRET });
  let requested = 0;
  let app: ReturnType<typeof createApp>;

  const deliver = (target: ReturnType<typeof createApp>, events: unknown, extra: Partial<SignedCall> = {}) =>
    signedRequest(target, { method: 'POST', path: PATH, body: JSON.stringify(events), secret: SECRET, publicUrl: PUBLIC_URL, ...extra });
  const rows = async () => store.db.selectFrom('hubspot_webhook_events')
    .select(['portal_id', 'event_id', 'subscription_type', 'object_type_id', 'object_id', 'property_name', 'property_value', 'occurred_at', 'processed_at'])
    .orderBy('portal_id').orderBy('event_id').execute();
  const count = async (): Promise<number> => (await rows()).length;

  beforeAll(async () => {
    store = await openTestStore(backend);
    await ensurePortal(store.db, PORTAL_A);
    await ensurePortal(store.db, PORTAL_X);
    const key = crypto.randomBytes(32);
    await store.db.insertInto('hubspot_installs').values({
      portal_id: PORTAL_A, hub_domain: 'a.hubspot.test', scopes: 'oauth',
      access_token_enc: sealSecret(key, 'access-token-a', `hubspot:${PORTAL_A}:access`),
      refresh_token_enc: sealSecret(key, 'refresh-token-a', `hubspot:${PORTAL_A}:refresh`),
      expires_at: new Date(Date.now() + 3_600_000),
    }).execute();
    app = createApp({
      db: store.db, logger, today: () => '2024-06-30', config,
      hubspotWebhooks: { requestRound: () => { requested += 1; } },
    });
  });
  beforeEach(async () => {
    await store.db.deleteFrom('hubspot_webhook_events').execute();
    requested = 0;
  });
  afterAll(async () => store.close());

  describe('storing', () => {
    it('stores a signed batch, one row per event, and asks for a round', async () => {
      const batch = [
        event(1, { subscriptionType: 'object.creation', propertyName: undefined, propertyValue: undefined }),
        event(2),
        // Legacy form: no objectTypeId, the object is named by the subscription type; the id comes as a string.
        event(3, { eventId: '0001003', subscriptionType: 'company.propertyChange', objectTypeId: undefined, propertyName: 'domain', propertyValue: 'acme.com' }),
        event(4, { propertyName: 'amount', propertyValue: 1250.5, someFutureField: { nested: true } }),
      ];
      const res = await deliver(app, batch);
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      expect(await rows()).toEqual([
        { portal_id: PORTAL_A, event_id: '1001', subscription_type: 'object.creation', object_type_id: '0-3', object_id: '7001', property_name: null, property_value: null, occurred_at: new Date(OCCURRED + 1), processed_at: null },
        { portal_id: PORTAL_A, event_id: '1002', subscription_type: 'object.propertyChange', object_type_id: '0-3', object_id: '7002', property_name: 'dealstage', property_value: 'closedwon', occurred_at: new Date(OCCURRED + 2), processed_at: null },
        { portal_id: PORTAL_A, event_id: '1003', subscription_type: 'company.propertyChange', object_type_id: '0-2', object_id: '7003', property_name: 'domain', property_value: 'acme.com', occurred_at: new Date(OCCURRED + 3), processed_at: null },
        { portal_id: PORTAL_A, event_id: '1004', subscription_type: 'object.propertyChange', object_type_id: '0-3', object_id: '7004', property_name: 'amount', property_value: '1250.5', occurred_at: new Date(OCCURRED + 4), processed_at: null },
      ]);
      expect(requested).toBe(1);
    });

    it('stores nothing new on a redelivery, answers 204 again and asks for no round', async () => {
      const batch = [event(1), event(2), event(3)];
      expect((await deliver(app, batch)).status).toBe(204);
      const first = await store.db.selectFrom('hubspot_webhook_events').selectAll().orderBy('event_id').execute();
      expect(first).toHaveLength(3);
      expect(requested).toBe(1);
      // HubSpot retries with a new timestamp and attempt number; the event ids stay.
      const again = batch.map((e) => ({ ...e, attemptNumber: 1 }));
      expect((await deliver(app, again)).status).toBe(204);
      expect((await deliver(app, [event(2, { eventId: '1002' })])).status).toBe(204);
      expect(await store.db.selectFrom('hubspot_webhook_events').selectAll().orderBy('event_id').execute()).toEqual(first);
      expect(requested).toBe(1);
    });

    it('keeps a batch that repeats an event once', async () => {
      expect((await deliver(app, [event(1), event(1, { propertyValue: 'later copy' })])).status).toBe(204);
      expect((await rows()).map((r) => [r.event_id, r.property_value])).toEqual([['1001', 'closedwon']]);
    });

    it('gives the same table whatever order the events arrive in', async () => {
      const batch = [event(1, { objectId: 9, propertyValue: 'appointmentscheduled' }), event(2, { objectId: 9, propertyValue: 'closedwon' }), event(3)];
      expect((await deliver(app, batch)).status).toBe(204);
      const forward = await rows();
      await store.db.deleteFrom('hubspot_webhook_events').execute();
      expect((await deliver(app, [...batch].reverse())).status).toBe(204);
      expect(await rows()).toEqual(forward);
      await store.db.deleteFrom('hubspot_webhook_events').execute();
      for (const e of [...batch].reverse()) expect((await deliver(app, [e])).status).toBe(204);
      expect(await rows()).toEqual(forward);
    });

    it('answers 204 to an empty batch and stores nothing', async () => {
      const res = await deliver(app, []);
      expect(res.status).toBe(204);
      expect(await count()).toBe(0);
      expect(requested).toBe(0);
    });

    it('ignores the events of portals it does not serve and stores the others, the private app\'s portal included', async () => {
      const batch = [
        event(1),
        event(2, { portalId: PORTAL_X }),
        event(3, { portalId: 999_999 }),
        event(4, { portalId: PORTAL_PRIVATE }),
      ];
      expect((await deliver(app, batch)).status).toBe(204);
      expect((await rows()).map((r) => [r.portal_id, r.event_id])).toEqual([[PORTAL_A, '1001'], [PORTAL_PRIVATE, '1004']]);
      expect(await store.db.selectFrom('portals').select('portal_id').where('portal_id', '=', 999_999).executeTakeFirst()).toBeUndefined();
      // Only unserved portals: nothing stored, no round.
      requested = 0;
      expect((await deliver(app, [event(5, { portalId: PORTAL_X })])).status).toBe(204);
      expect(await count()).toBe(2);
      expect(requested).toBe(0);
    });

    it('accepts a 1000-event batch larger than the app-wide 256 kB body limit', async () => {
      const batch = Array.from({ length: 1_000 }, (_, i) => event(i, { propertyValue: `stage-${i}-${'x'.repeat(40)}` }));
      const body = JSON.stringify(batch);
      expect(Buffer.byteLength(body)).toBeGreaterThan(256 * 1024);
      expect((await deliver(app, batch)).status).toBe(204);
      expect(await count()).toBe(1_000);
      expect(requested).toBe(1);
    });

    it('refuses a body over 1 MB and stores nothing; other routes keep the 256 kB limit', async () => {
      const huge = Array.from({ length: 2_500 }, (_, i) => event(i, { propertyValue: 'y'.repeat(400) }));
      expect(Buffer.byteLength(JSON.stringify(huge))).toBeGreaterThan(1024 * 1024);
      const res = await deliver(app, huge);
      expect(res.status).toBe(400);
      expect(res.body.message).toBe('Request body is too large');
      expect(await count()).toBe(0);
      const other = await request(app).post('/api/v1/hubspot/links').set('Content-Type', 'application/json')
        .send(JSON.stringify({ customerId: 'C1', companyId: '1', padding: 'z'.repeat(300 * 1024) }));
      expect(other.status).toBe(400);
      expect(other.body.message).toBe('Request body is too large');
    });
  });

  describe('refusals', () => {
    const batch = [event(1), event(2)];
    const expectRefused = async (res: request.Response, reason: string): Promise<void> => {
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error: 'unauthenticated', reason });
      expect(await count()).toBe(0);
      expect(requested).toBe(0);
    };

    it('refuses an unsigned delivery', async () => {
      const res = await request(app).post(PATH).set('Content-Type', 'application/json').send(JSON.stringify(batch));
      await expectRefused(res, 'missing_signature');
      expect(res.body.message).toBe('Header X-HubSpot-Signature-v3 is missing');
    });

    it('refuses a delivery signed with another secret', async () => {
      await expectRefused(await deliver(app, batch, { secret: 'not-the-client-secret' }), 'signature_mismatch');
    });

    it('refuses a stale delivery, even when its signature is right', async () => {
      const res = await deliver(app, batch, { timestamp: Date.now() - 6 * 60_000 });
      await expectRefused(res, 'stale_timestamp');
      expect(res.body.message).toMatch(/more than 5 minutes old/);
    });

    it('refuses a tampered body: another portal or event than the one signed', async () => {
      const signed = JSON.stringify([event(1, { portalId: PORTAL_X })]);
      await expectRefused(await deliver(app, [event(1)], { signedBody: signed }), 'signature_mismatch');
    });

    it('refuses a delivery signed for another URL', async () => {
      await expectRefused(await deliver(app, batch, { signedPath: '/webhooks/other' }), 'signature_mismatch');
    });

    it('refuses a body that is not JSON, since its signature cannot be checked', async () => {
      const body = JSON.stringify(batch);
      const timestamp = Date.now();
      const signature = sdkSignV3({ method: 'POST', url: PUBLIC_URL + PATH, body, timestamp, secret: SECRET });
      const res = await request(app).post(PATH).set('Content-Type', 'text/plain')
        .set('X-HubSpot-Signature-v3', signature).set('X-HubSpot-Request-Timestamp', String(timestamp)).send(body);
      expect(res.status).toBe(401);
      expect(res.body.reason).toBe('unsigned_body');
      expect(await count()).toBe(0);
    });

    it('refuses every delivery when the client secret is not configured, and says so', async () => {
      const unconfigured = createApp({
        db: store.db, logger, today: () => '2024-06-30', config: configWith({}),
        hubspotWebhooks: { requestRound: () => { requested += 1; } },
      });
      const res = await deliver(unconfigured, batch);
      await expectRefused(res, 'no_client_secret');
      expect(res.body.message).toMatch(/HUBSPOT_CLIENT_SECRET/);
    });
  });

  describe('malformed deliveries', () => {
    const expectInvalid = async (events: unknown, field: string): Promise<request.Response> => {
      const res = await deliver(app, events);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'invalid_request', field });
      expect(res.body.message).toContain(field);
      expect(await count()).toBe(0);
      expect(requested).toBe(0);
      return res;
    };

    it('names the index and field of a bad event and stores none of the batch', async () => {
      await expectInvalid([event(1), event(2), event(3, { objectId: 'seven' })], '[2].objectId');
    });

    it('names a missing field, a bad portal, a bad event id and an unsafe JSON number', async () => {
      const { portalId: _drop, ...noPortal } = event(1);
      await expectInvalid([noPortal], '[0].portalId');
      await expectInvalid([event(1), event(2, { portalId: -5 })], '[1].portalId');
      await expectInvalid([event(1, { eventId: 'abc' })], '[0].eventId');
      await expectInvalid([event(1, { eventId: 2 ** 60 })], '[0].eventId');
      await expectInvalid([event(1, { occurredAt: '2024-06-30' })], '[0].occurredAt');
      await expectInvalid([event(1, { subscriptionType: 7 })], '[0].subscriptionType');
    });

    it('refuses a body that is not an array of events', async () => {
      await expectInvalid(event(1), 'body');
      await expectInvalid([event(1), 'not an event'], '[1]');
    });
  });

  describe('the round after a burst', () => {
    it('runs one round for a burst of deliveries, and another for the next burst', async () => {
      const manual = manualTimers();
      let rounds = 0;
      const trigger = roundTrigger(async () => { rounds += 1; }, { logger, timers: manual.timers });
      const burstApp = createApp({
        db: store.db, logger, today: () => '2024-06-30', config, hubspotWebhooks: { requestRound: trigger.request },
      });
      for (let n = 1; n <= 5; n += 1) expect((await deliver(burstApp, [event(n)])).status).toBe(204);
      expect((await deliver(burstApp, [event(1)])).status).toBe(204); // a redelivery inside the burst
      expect(manual.pending()).toBe(1);
      expect(rounds).toBe(0);
      manual.fire();
      await settle();
      expect(rounds).toBe(1);
      expect(await count()).toBe(5);
      // A redelivery after the round stores nothing and asks for nothing.
      expect((await deliver(burstApp, [event(3)])).status).toBe(204);
      expect(manual.pending()).toBe(0);
      expect((await deliver(burstApp, [event(6), event(7)])).status).toBe(204);
      expect(manual.pending()).toBe(1);
      manual.fire();
      await settle();
      expect(rounds).toBe(2);
      trigger.stop();
    });
  });
});

describe('roundTrigger', () => {
  const logger = createLogger('silent');

  it('runs a window that closes during a round once that round ends', async () => {
    const manual = manualTimers();
    const finishers: Array<() => void> = [];
    const trigger = roundTrigger(() => new Promise<void>((resolve) => { finishers.push(resolve); }), { logger, timers: manual.timers });
    trigger.request();
    manual.fire();
    await settle();
    expect(finishers).toHaveLength(1);
    trigger.request();
    trigger.request();
    manual.fire();
    await settle();
    expect(finishers).toHaveLength(1); // the first round still runs
    finishers[0]?.();
    await settle();
    await settle();
    expect(finishers).toHaveLength(2);
    finishers[1]?.();
    await settle();
    expect(manual.pending()).toBe(0);
    trigger.stop();
  });

  it('logs a failed round and runs the next one', async () => {
    const manual = manualTimers();
    const lines: string[] = [];
    const recording = createLogger('error', { write: (line: string) => { lines.push(line); return true; } } as unknown as NodeJS.WritableStream);
    let calls = 0;
    const trigger = roundTrigger(async () => {
      calls += 1;
      if (calls === 1) throw new Error('HubSpot is down');
    }, { logger: recording, timers: manual.timers });
    trigger.request();
    manual.fire();
    await settle();
    expect(lines.join('')).toContain('HubSpot is down');
    trigger.request();
    manual.fire();
    await settle();
    expect(calls).toBe(2);
    trigger.stop();
  });

  it('cancels a pending round on stop and ignores later requests', async () => {
    const manual = manualTimers();
    let rounds = 0;
    const trigger = roundTrigger(async () => { rounds += 1; }, { logger, timers: manual.timers });
    trigger.request();
    expect(manual.pending()).toBe(1);
    trigger.stop();
    expect(manual.pending()).toBe(0);
    trigger.request();
    expect(manual.pending()).toBe(0);
    await settle();
    expect(rounds).toBe(0);
  });
});
