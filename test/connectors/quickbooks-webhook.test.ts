import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { verifyQuickBooksWebhook } from '../../src/connectors/quickbooks';
import type { WebhookVerification } from '../../src/connectors/types';
import { startFakeQuickBooksApi, type FakeQuickBooksApi } from '../fakes/quickbooks';
import { intuitSignature } from '../fakes/quickbooks/webhooks';

// Deliveries signed by the fake the way Intuit signs them, checked by the connector's verifier.

const REALM = '9130357766900456';
const OTHER = '4620816365214240';

let fake: FakeQuickBooksApi;

beforeEach(async () => {
  fake = await startFakeQuickBooksApi({ companies: [{ realmId: REALM }, { realmId: OTHER }], verifierToken: 'verifier-token-1' });
  fake.seed(REALM, {
    customers: [{ Id: '1', DisplayName: 'Amy' }],
    invoices: [{ Id: '10', CustomerRef: '1', TxnDate: '2026-10-01', Line: [{ Amount: 100 }] }],
    creditMemos: [{ Id: '20', CustomerRef: '1', TxnDate: '2026-10-02', Line: [{ Amount: 10 }] }],
  });
  fake.seed(OTHER, { customers: [{ Id: '1', DisplayName: 'UK Ltd' }] });
});

afterEach(async () => {
  await fake.close();
});

const changes = (): void => {
  fake.create(REALM, 'Payment', { Id: '30', CustomerRef: '1', TxnDate: '2026-10-03', Line: [{ Amount: 50, LinkedTxn: [{ TxnId: '10', TxnType: 'Invoice' }] }] });
  fake.update(REALM, 'CreditMemo', '20', { PrivateNote: 'x' });
  fake.update(OTHER, 'Customer', '1', { DisplayName: 'UK Limited' });
  fake.delete(REALM, 'Invoice', '10');
};

const verify = (body: string | Buffer, headers: IncomingHttpHeaders, token = 'verifier-token-1'): WebhookVerification =>
  verifyQuickBooksWebhook(token)(Buffer.isBuffer(body) ? body : Buffer.from(body), headers);

describe('verifyQuickBooksWebhook', () => {
  it('accepts a CloudEvents delivery and answers one hint per event, with its id and company', () => {
    changes();
    const events = fake.takeEvents();
    const delivery = fake.webhookDelivery(events, 'cloudevents');
    const result = verify(delivery.body, delivery.headers);
    expect(result).toEqual({
      ok: true,
      hints: [
        { eventId: events[0]?.eventId, tenantId: REALM, objectType: 'payment', objectId: '30', occurredAt: expect.stringMatching(/Z$/) },
        { eventId: events[1]?.eventId, tenantId: REALM, objectType: 'credit_note', objectId: '20', occurredAt: expect.any(String) },
        { eventId: events[2]?.eventId, tenantId: OTHER, objectType: 'customer', objectId: '1', occurredAt: expect.any(String) },
        // Deleting the invoice took it out of the payment: the payment changed too.
        { eventId: events[3]?.eventId, tenantId: REALM, objectType: 'payment', objectId: '30', occurredAt: expect.any(String) },
        { eventId: events[4]?.eventId, tenantId: REALM, objectType: 'invoice', objectId: '10', occurredAt: expect.any(String) },
      ],
    });
  });

  it('accepts a legacy eventNotifications delivery; an event\'s id is its company, entity, id, operation and change time', () => {
    changes();
    const events = fake.takeEvents();
    const delivery = fake.webhookDelivery(events, 'legacy');
    const result = verify(delivery.body, delivery.headers);
    if (!result.ok) throw new Error(result.reason);
    expect(result.hints.map((h) => [h.tenantId, h.objectType, h.objectId])).toEqual([
      [REALM, 'payment', '30'], [REALM, 'credit_note', '20'], [REALM, 'payment', '30'], [REALM, 'invoice', '10'], [OTHER, 'customer', '1'],
    ]);
    expect(result.hints[0]?.eventId).toBe(`${REALM}:Payment:30:Create:${events[0]?.lastUpdated}`);
    expect(result.hints[2]?.eventId).toBe(`${REALM}:Payment:30:Update:${events[3]?.lastUpdated}`);
    expect(new Set(result.hints.map((h) => h.eventId)).size).toBe(5);
  });

  it('the same event delivered twice has the same id in both formats (deduplication)', () => {
    changes();
    const events = fake.takeEvents();
    for (const format of ['cloudevents', 'legacy'] as const) {
      const once = verify(fake.webhookDelivery(events, format).body, fake.webhookDelivery(events, format).headers);
      const again = verify(fake.webhookDelivery(events.slice().reverse(), format).body, fake.webhookDelivery(events.slice().reverse(), format).headers);
      if (!once.ok || !again.ok) throw new Error('not verified');
      expect(new Set(again.hints.map((h) => h.eventId))).toEqual(new Set(once.hints.map((h) => h.eventId)));
    }
  });

  it.each(['cloudevents', 'legacy'] as const)('refuses a %s delivery whose body was changed, or signed with another token', (format) => {
    changes();
    const delivery = fake.webhookDelivery(fake.takeEvents(), format);
    const tampered = delivery.body.replace('"30"', '"31"');
    expect(tampered).not.toBe(delivery.body);
    expect(verify(tampered, delivery.headers)).toEqual({ ok: false, reason: 'the intuit-signature does not match the body' });
    expect(verify(`${delivery.body} `, delivery.headers).ok).toBe(false);
    expect(verify(delivery.body, delivery.headers, 'verifier-token-2').ok).toBe(false);
    const forged = fake.webhookDelivery(fake.pendingEvents(), format, 'verifier-token-2');
    expect(verify(forged.body, forged.headers).ok).toBe(false);
  });

  it('refuses a delivery without a signature, with a malformed one, or whose signed body is not an Intuit payload', () => {
    expect(verify('[]', {})).toEqual({ ok: false, reason: 'the intuit-signature header is missing' });
    expect(verify('[]', { 'intuit-signature': 'not base64!' }).ok).toBe(false);
    expect(verify('[]', { 'intuit-signature': intuitSignature('[]', 'verifier-token-1').slice(0, -4) }).ok).toBe(false);
    for (const body of ['not json', '{"hello":"world"}', '[{"id":"no specversion"}]']) {
      expect(verify(body, { 'intuit-signature': intuitSignature(body, 'verifier-token-1') })).toMatchObject({ ok: false });
    }
    expect(verify('[]', { 'intuit-signature': intuitSignature('[]', 'verifier-token-1') })).toEqual({ ok: true, hints: [] });
  });

  it('refuses an empty verifier token', () => {
    expect(() => verifyQuickBooksWebhook('')).toThrow('the QuickBooks webhook verifier token is empty');
  });

  it('verifies the raw bytes a delivery arrives with over HTTP', async () => {
    const verifier = verifyQuickBooksWebhook(fake.verifierToken);
    const results: WebhookVerification[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const result = verifier(Buffer.concat(chunks), req.headers);
        results.push(result);
        res.writeHead(result.ok ? 200 : 401).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/quickbooks`;
      changes();
      expect((await fake.deliverWebhooks(url, 'cloudevents'))?.status).toBe(200);
      fake.update(OTHER, 'Customer', '1', { DisplayName: 'UK plc' });
      expect((await fake.deliverWebhooks(url, 'legacy'))?.status).toBe(200);
      expect(results.map((r) => (r.ok ? r.hints.length : r.reason))).toEqual([5, 1]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
