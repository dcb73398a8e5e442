import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Stripe from 'stripe';
import { amountDue, generateStripeData, rateLimited, RETENTION_SECONDS, startFakeStripe, type FakeStripe } from './stripe';
import { buildScenario, type StripeScenario } from './stripe/scenario';
import { contractsDir } from '../helpers/contracts';

// Stripe's own example objects (stripe/openapi fixtures3.json), read where the shared contracts keep them.
const FIXTURES = path.join(contractsDir(), 'stripe/fixtures3.json');

const KEY = 'sk_test_51ARBridgeFakeStripeTests1';
const START = Date.UTC(2026, 2, 1) / 1000;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The fields of `fixture` that `ours` lacks, at any depth. Nested objects that are resources of their own
 * (they carry `object`) are checked against their own fixture when the fake returns them; a nested value the
 * fake leaves null is not descended into (Stripe's examples fill in every alternative of a one-of).
 */
const missingFields = (fixture: Json, ours: Json, at: string): string[] => {
  const missing: string[] = [];
  for (const [key, expected] of Object.entries(fixture)) {
    if (!(key in ours)) {
      missing.push(`${at}.${key}`);
      continue;
    }
    const actual = ours[key];
    if (isObject(expected) && isObject(actual) && !('object' in expected) && !('object' in actual)) {
      missing.push(...missingFields(expected, actual, `${at}.${key}`));
    }
    if (Array.isArray(expected) && Array.isArray(actual) && isObject(expected[0]) && isObject(actual[0]) && !('object' in expected[0])) {
      missing.push(...missingFields(expected[0], actual[0], `${at}.${key}[0]`));
    }
  }
  return missing;
};

/** Every object with an `object` type anywhere in the value. */
const objectsIn = (value: unknown, out: Json[] = []): Json[] => {
  if (Array.isArray(value)) for (const v of value) objectsIn(v, out);
  else if (isObject(value)) {
    if (typeof value.object === 'string') out.push(value);
    for (const v of Object.values(value)) objectsIn(v, out);
  }
  return out;
};

describe('fake Stripe', () => {
  let fake: FakeStripe;
  let s: StripeScenario;
  let stripe: Stripe;
  const get = async (pathAndQuery: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Json; headers: Headers }> => {
    const res = await fetch(`${fake.url}${pathAndQuery}`, { headers: { Authorization: `Bearer ${KEY}`, ...headers } });
    return { status: res.status, body: await res.json() as Json, headers: res.headers };
  };

  beforeAll(async () => {
    fake = await startFakeStripe({ now: START });
    fake.addKey(KEY);
    s = buildScenario(fake.account(), fake.clock, START);
    const gone = fake.account().createCustomer({ name: 'Gone Ltd', currency: 'usd' });
    fake.account().deleteCustomer(gone.id);
    stripe = new Stripe(KEY, { host: '127.0.0.1', port: Number(new URL(fake.url).port), protocol: 'http', maxNetworkRetries: 0, telemetry: false });
  });
  afterAll(async () => fake.close());

  it('returns objects with every field of Stripe\'s example of their type (fixtures3.json)', async () => {
    const fixtures = (JSON.parse(readFileSync(FIXTURES, 'utf8')) as { resources: Record<string, Json> }).resources;
    const account = fake.account();
    const charge = account.charges.items[0]?.id as string;
    const refund = account.refunds.items[0]?.id as string;
    const answers = await Promise.all([
      '/v1/account', '/v1/balance', '/v1/customers?limit=100', `/v1/customers/${s.customers.acme}`,
      `/v1/customers/${account.customers.items.at(-1)?.id}`,
      '/v1/invoices?limit=100&expand[0]=data.customer', `/v1/invoices/${s.invoices.manyLines}`, `/v1/invoices/${s.invoices.manyLines}/lines?limit=3`,
      '/v1/invoice_payments?limit=100&expand[0]=data.payment.payment_intent.latest_charge&expand[1]=data.invoice',
      '/v1/payment_intents?limit=100', '/v1/charges?limit=100', `/v1/charges/${charge}`, '/v1/refunds?limit=100', `/v1/refunds/${refund}`,
      '/v1/credit_notes?limit=100', `/v1/credit_notes/${s.creditNotes.post}`, '/v1/events?limit=100',
    ].map((p) => get(p)));
    const objects = answers.flatMap((a) => {
      expect(a.status).toBe(200);
      return objectsIn(a.body);
    });
    const seen = new Set<string>();
    const missing: string[] = [];
    for (const object of objects) {
      const type = object.deleted === true ? `deleted_${String(object.object)}` : String(object.object);
      if (type === 'list') continue;
      const fixture = fixtures[type];
      if (!fixture) throw new Error(`no fixture for ${type}`);
      seen.add(type);
      missing.push(...missingFields(fixture, object, `${type} ${String(object.id ?? '')}`));
    }
    expect(missing).toEqual([]);
    expect([...seen].sort()).toEqual([
      'account', 'balance', 'charge', 'credit_note', 'credit_note_line_item', 'customer', 'deleted_customer', 'event', 'invoice',
      'invoice_payment', 'line_item', 'payment_intent', 'refund',
    ]);
    // List envelopes as Stripe sends them.
    expect(Object.keys(answers[2]?.body ?? {}).sort()).toEqual(['data', 'has_more', 'object', 'url']);
  });

  it('pages lists newest first with limit, starting_after and ending_before, as the SDK reads them', async () => {
    const all = await stripe.invoices.list({ limit: 100 });
    const ids = all.data.map((i) => i.id);
    expect(ids.length).toBe(14);
    const paged: string[] = [];
    for await (const invoice of stripe.invoices.list({ limit: 3 })) paged.push(invoice.id);
    expect(paged).toEqual(ids);
    const created = all.data.map((i) => i.created);
    expect([...created].sort((a, b) => b - a)).toEqual(created);
    // ending_before: the objects just newer than the one named, still newest first; the SDK walks them oldest first.
    const before = await stripe.invoices.list({ limit: 2, ending_before: ids[5] });
    expect(before.data.map((i) => i.id)).toEqual([ids[3], ids[4]]);
    expect(before.has_more).toBe(true);
    const backwards: string[] = [];
    for await (const invoice of stripe.invoices.list({ limit: 2, ending_before: ids[5] })) backwards.push(invoice.id);
    expect(backwards).toEqual([ids[4], ids[3], ids[2], ids[1], ids[0]]);
    const filtered = await stripe.invoices.list({ customer: s.customers.bolt, status: 'open', limit: 100 });
    expect(filtered.data.map((i) => i.id).sort()).toEqual([s.invoices.balanced].sort());
    const payments = await stripe.invoicePayments.list({ payment: { type: 'payment_intent', payment_intent: s.payments.multi } });
    expect(payments.data.map((p) => p.invoice).sort()).toEqual([s.invoices.multiA, s.invoices.multiB].sort());
  });

  it('answers Stripe\'s errors: bad parameters, unknown objects, keys and accounts', async () => {
    const tooMany = await get('/v1/customers?limit=101');
    expect(tooMany.status).toBe(400);
    expect(tooMany.body).toMatchObject({ error: { type: 'invalid_request_error', param: 'limit' } });
    expect((await get('/v1/customers?colour=red')).body).toMatchObject({ error: { message: 'Received unknown parameter: colour', param: 'colour' } });
    const unknown = await get('/v1/invoices/in_nope');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: { code: 'resource_missing', message: "No such invoice: 'in_nope'", type: 'invalid_request_error' } });
    expect(unknown.headers.get('request-id')).toMatch(/^req_/);
    expect((await get(`/v1/invoices/${s.invoices.multiA}`, { Authorization: 'Bearer sk_test_unknown0000000000' })).status).toBe(401);
    const notPlatform = await get('/v1/customers', { 'Stripe-Account': 'acct_1NotConnected001' });
    expect(notPlatform.status).toBe(400);
    expect(notPlatform.body).toMatchObject({ error: { message: expect.stringMatching(/^Only Stripe Connect platforms/) } });
    fake.addKey('sk_test_51ARBridgePlatformOnly0001', { account: { id: 'acct_1PlatformOnly0001' }, connected: ['acct_1ConnectedOnly001'] });
    const platform = { Authorization: 'Bearer sk_test_51ARBridgePlatformOnly0001' };
    expect((await get('/v1/customers', { ...platform, 'Stripe-Account': 'acct_1NotConnected001' })).status).toBe(403);
    expect((await get('/v1/customers', { ...platform, 'Stripe-Account': 'acct_1ConnectedOnly001' })).status).toBe(200);
    expect((await get('/v1/events?limit=1&expand[0]=a.b.c.d.e')).status).toBe(400);
    await expect(stripe.invoices.retrieve('in_nope')).rejects.toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
  });

  it('injects faults per route or path, once or several times, and logs every request', async () => {
    fake.reset();
    fake.failNext('invoice', rateLimited(7), 2);
    fake.failNext(/^\/v1\/credit_notes$/, 'drop');
    const first = await get(`/v1/invoices/${s.invoices.yen}`);
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('7');
    expect(first.body).toMatchObject({ error: { code: 'rate_limit' } });
    expect((await get(`/v1/invoices/${s.invoices.yen}`)).status).toBe(429);
    expect((await get(`/v1/invoices/${s.invoices.yen}`)).status).toBe(200);
    await expect(fetch(`${fake.url}/v1/credit_notes`, { headers: { Authorization: `Bearer ${KEY}` } })).rejects.toThrow();
    expect((await get('/v1/credit_notes')).status).toBe(200);
    expect(fake.calls.map((c) => [c.path.replace(/\/in_.*/, '/:id'), c.status, c.fault])).toEqual([
      ['/v1/invoices/:id', 429, true], ['/v1/invoices/:id', 429, true], ['/v1/invoices/:id', 200, false],
      ['/v1/credit_notes', 'dropped', true], ['/v1/credit_notes', 200, false],
    ]);
    expect(fake.calls[2]?.apiVersion).toBeNull();
    await stripe.customers.list({ limit: 1 });
    expect(fake.calls.at(-1)?.apiVersion).toBe('2026-10-28.endive');
  });

  it('keeps events for 30 days, filtered by type, with the object as it was', async () => {
    const events = await stripe.events.list({ types: ['invoice.voided'], limit: 100 });
    expect(events.data.map((e) => (e.data.object as { id: string }).id)).toEqual([s.invoices.voided]);
    expect(events.data[0]?.data.object).toMatchObject({ status: 'void' });
    const created = await stripe.events.list({ type: 'customer.*', limit: 100 });
    expect(created.data.every((e) => e.type.startsWith('customer.'))).toBe(true);
    const all = fake.events();
    const oldest = all[0] as { id: string; created: number };
    const newest = all.at(-1) as { id: string; created: number };
    const now = fake.clock.now();
    try {
      // Thirty days after the oldest event it is gone; the newer ones are still there.
      fake.clock.set(oldest.created + RETENTION_SECONDS);
      await expect(stripe.events.list({ ending_before: oldest.id })).rejects.toMatchObject({ statusCode: 404, code: 'resource_missing' });
      expect((await stripe.events.list({ limit: 100 })).data.at(0)?.id).toBe(newest.id);
      fake.clock.set(newest.created + RETENTION_SECONDS);
      expect((await stripe.events.list({ limit: 100 })).data).toEqual([]);
    } finally {
      fake.clock.set(now);
    }
  });

  it('delivers an event to a webhook endpoint signed as Stripe signs, which the SDK verifies', async () => {
    const received: { body: Buffer; signature: string }[] = [];
    const server: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ body: Buffer.concat(chunks), signature: String(req.headers['stripe-signature']) });
        res.writeHead(200).end('{"received":true}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const event = fake.events().find((e) => e.type === 'invoice.paid') as { id: string };
      const answer = await fake.deliverWebhook(`http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/stripe`, event.id);
      expect(answer.status).toBe(200);
      const [delivery] = received;
      if (!delivery) throw new Error('nothing delivered');
      expect(delivery.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      const verified = stripe.webhooks.constructEvent(delivery.body, delivery.signature, fake.webhookSecret);
      expect(verified).toMatchObject({ id: event.id, type: 'invoice.paid' });
      expect(() => stripe.webhooks.constructEvent(delivery.body, delivery.signature, 'whsec_other')).toThrow(Stripe.errors.StripeSignatureVerificationError);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('generates 100,000 consistent invoices from a seed', () => {
    const data = generateStripeData({ invoices: 100_000, seed: 3, end: START });
    expect(data.invoices?.length).toBe(100_000);
    expect(generateStripeData({ invoices: 50, seed: 3, end: START })).toEqual(generateStripeData({ invoices: 50, seed: 3, end: START }));
    const paidBy = new Map<string, number>();
    for (const ip of data.invoicePayments ?? []) paidBy.set(ip.invoice, (paidBy.get(ip.invoice) ?? 0) + (ip.amount_paid ?? 0));
    const statuses = new Set<string>();
    for (const invoice of data.invoices ?? []) {
      statuses.add(invoice.status);
      if (invoice.amount_paid !== (paidBy.get(invoice.id) ?? 0) + invoice.amount_paid_off_stripe) throw new Error(`${invoice.id}: amount_paid does not add up`);
      if (invoice.status === 'paid' && invoice.amount_paid !== amountDue(invoice)) throw new Error(`${invoice.id}: paid, but not what it was due`);
      if (invoice.status === 'open' && invoice.amount_paid >= amountDue(invoice)) throw new Error(`${invoice.id}: open, but paid`);
      if (invoice.total !== invoice.lines.reduce((sum, l) => sum + l.amount + l.tax, 0)) throw new Error(`${invoice.id}: total is not its lines`);
    }
    expect([...statuses].sort()).toEqual(['draft', 'open', 'paid', 'uncollectible', 'void']);
    expect(new Set(data.invoices?.map((i) => i.currency))).toEqual(new Set(['usd', 'eur', 'gbp', 'jpy']));
    expect(data.refunds?.length).toBeGreaterThan(0);
    expect(data.creditNotes?.length).toBeGreaterThan(0);
  });
});
