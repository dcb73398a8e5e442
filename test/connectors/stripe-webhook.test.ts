import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { verifyStripeWebhook } from '../../src/connectors/stripe';
import { startFakeStripe, type FakeStripe } from '../fakes/stripe';

const KEY = 'sk_test_51ARBridgeWebhookTests0001';
const START = Date.UTC(2026, 9, 1) / 1000;

/** A webhook endpoint on loopback that keeps each delivery's raw body and headers. */
const receiver = async (): Promise<{ url: string; deliveries: { body: Buffer; headers: IncomingHttpHeaders }[]; close(): Promise<void> }> => {
  const deliveries: { body: Buffer; headers: IncomingHttpHeaders }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      deliveries.push({ body: Buffer.concat(chunks), headers: req.headers });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/stripe`,
    deliveries,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};

describe('Stripe webhook verification', () => {
  let fake: FakeStripe;
  let endpoint: Awaited<ReturnType<typeof receiver>>;
  let invoiceId: string;
  let paidEvent: string;
  let paidAt: number;

  beforeAll(async () => {
    fake = await startFakeStripe({ now: START });
    fake.addKey(KEY);
    endpoint = await receiver();
    const account = fake.account();
    const customer = account.createCustomer({ name: 'Acme', currency: 'usd' });
    const invoice = account.createInvoice({ customer: customer.id, lines: [{ amount: 5_000 }] });
    invoiceId = invoice.id;
    account.pay({ invoices: [invoice.id] });
    const paid = fake.events().find((e) => e.type === 'invoice.paid') as { id: string; created: number };
    paidEvent = paid.id;
    paidAt = paid.created;
  });
  afterAll(async () => {
    await endpoint.close();
    await fake.close();
  });

  const deliver = async (eventId: string, options: { secret?: string; timestamp?: number; account?: string } = {}): Promise<{ body: Buffer; headers: IncomingHttpHeaders }> => {
    await fake.deliverWebhook(endpoint.url, eventId, options);
    const delivery = endpoint.deliveries.at(-1);
    if (!delivery) throw new Error('nothing delivered');
    return delivery;
  };

  it('accepts a delivery signed with the endpoint secret and says what changed', async () => {
    const { body, headers } = await deliver(paidEvent);
    expect(verifyStripeWebhook(fake.webhookSecret)(body, headers)).toEqual({
      ok: true,
      hints: [{ eventId: paidEvent, tenantId: null, objectType: 'invoice', objectId: invoiceId, occurredAt: new Date(paidAt * 1000).toISOString() }],
    });
  });

  it('refuses a body changed after signing', async () => {
    const { body, headers } = await deliver(paidEvent);
    const tampered = Buffer.from(body.toString('utf8').replace('"amount_due": 5000', '"amount_due": 5001'));
    expect(tampered.equals(body)).toBe(false);
    const result = verifyStripeWebhook(fake.webhookSecret)(tampered, headers);
    expect(result).toMatchObject({ ok: false });
    // The same bytes re-serialized are not the raw body either.
    const reparsed = Buffer.from(JSON.stringify(JSON.parse(body.toString('utf8'))));
    expect(verifyStripeWebhook(fake.webhookSecret)(reparsed, headers)).toMatchObject({ ok: false });
  });

  it('refuses another secret, and accepts either secret while one is being rolled', async () => {
    const { body, headers } = await deliver(paidEvent);
    expect(verifyStripeWebhook('whsec_someOtherEndpoint000000000')(body, headers)).toMatchObject({ ok: false, reason: expect.stringMatching(/signature/i) });
    expect(verifyStripeWebhook(['whsec_someOtherEndpoint000000000', fake.webhookSecret])(body, headers)).toMatchObject({ ok: true });
  });

  it('refuses a delivery signed longer ago than the tolerance, unless the age check is off', async () => {
    const { body, headers } = await deliver(paidEvent, { timestamp: Math.floor(Date.now() / 1000) - 600 });
    expect(verifyStripeWebhook(fake.webhookSecret)(body, headers)).toMatchObject({ ok: false, reason: expect.stringMatching(/tolerance/i) });
    expect(verifyStripeWebhook(fake.webhookSecret, 900)(body, headers)).toMatchObject({ ok: true });
    expect(verifyStripeWebhook(fake.webhookSecret, 0)(body, headers)).toMatchObject({ ok: true });
  });

  it('refuses a delivery without a signature', async () => {
    const { body, headers } = await deliver(paidEvent);
    const { 'stripe-signature': _signature, ...unsigned } = headers;
    expect(verifyStripeWebhook(fake.webhookSecret)(body, unsigned)).toEqual({ ok: false, reason: 'no Stripe-Signature header' });
  });

  it('names the connected account of a Connect event, and the kind of object', async () => {
    const connected = 'acct_1ConnectedWebhook1';
    fake.addKey('sk_test_51ARBridgePlatformWebhook01', { account: { id: 'acct_1PlatformWebhook01' }, connected: [connected] });
    const shop = fake.account(connected);
    shop.connected = true;
    const customer = shop.createCustomer({ name: 'Shop customer' });
    const created = (fake.events(connected).find((e) => e.type === 'customer.created') as { id: string }).id;
    const { body, headers } = await deliver(created, { account: connected });
    expect(verifyStripeWebhook(fake.webhookSecret)(body, headers)).toMatchObject({
      ok: true, hints: [{ eventId: created, tenantId: connected, objectType: 'customer', objectId: customer.id }],
    });
    const paymentEvent = (fake.events().find((e) => e.type === 'invoice_payment.paid') as { id: string }).id;
    const payment = await deliver(paymentEvent);
    expect(verifyStripeWebhook(fake.webhookSecret)(payment.body, payment.headers)).toMatchObject({ ok: true, hints: [{ objectType: 'payment' }] });
  });

  it('needs a secret', () => {
    expect(() => verifyStripeWebhook('')).toThrow(/secret/);
    expect(() => verifyStripeWebhook([])).toThrow(/secret/);
  });
});
