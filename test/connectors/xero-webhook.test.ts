import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { verifyXeroWebhook } from '../../src/connectors/xero';
import { startFakeXeroApi, type FakeXeroApi } from '../fakes/xero';
import { webhooksDocument } from '../fakes/xero/contract';

// Xero's webhook deliveries, as the fake signs them, through the verifier: x-xero-signature is the base64
// HMAC-SHA256 of the raw body with the webhook key; intent-to-receive is a signed delivery without events.

const CUSTOMER = '3b2c1d0e-0000-4000-8000-000000000001';

let fake: FakeXeroApi;

beforeAll(async () => {
  fake = await startFakeXeroApi();
  fake.seed({ contacts: [{ id: CUSTOMER, name: 'Acme Ltd', updatedAt: '2026-10-01T00:00:00Z' }] });
});
afterAll(async () => {
  await fake.close();
});

const verify = (body: string, signature: string | string[] | undefined, key = fake.webhookKey) =>
  verifyXeroWebhook(key)(Buffer.from(body, 'utf8'), signature === undefined ? {} : { 'x-xero-signature': signature });

describe('verifyXeroWebhook', () => {
  it('accepts a signed delivery and turns its events into hints: contacts, invoices (payments among them), credit notes', () => {
    const invoice = fake.org.addInvoice({ contactId: CUSTOMER, date: '2026-11-01', lines: [{ unitAmount: 100 }] });
    fake.org.addPayment({ invoiceId: invoice.id, date: '2026-11-02', amount: 40 });
    fake.org.updateContact(CUSTOMER, { email: 'ap@acme.example' });
    const note = fake.org.addCreditNote({ contactId: CUSTOMER, date: '2026-11-03', lineAmountTypes: 'NoTax', lines: [{ unitAmount: 5 }] });
    const events = fake.takeEvents();
    const { body, signature } = fake.webhookPayload(events);
    const payload = JSON.parse(body) as { events: { eventCategory: string }[] };
    expect(webhooksDocument().validate('#/components/schemas/WebhookEvent', { ...payload, events: payload.events.filter((e) => e.eventCategory !== 'CREDITNOTE') })).toEqual([]);

    const result = verify(body, signature);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.hints.map((h) => [h.objectType, h.objectId])).toEqual([
      ['invoice', invoice.id], ['invoice', invoice.id], ['customer', CUSTOMER], ['credit_note', note.id],
    ]);
    const [created, paid] = result.hints;
    expect(created).toMatchObject({ tenantId: fake.tenantId, occurredAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/) });
    expect(created?.eventId).toContain(':CREATE:');
    expect(paid?.eventId).toContain(':UPDATE:');
    expect(new Set(result.hints.map((h) => h.eventId)).size).toBe(4);
    // A redelivery (Xero retries for 24 hours) carries the same events under a new entropy and signature: same ids.
    const again = fake.webhookPayload(events);
    expect(again.body).not.toBe(body);
    const repeated = verify(again.body, again.signature);
    expect(repeated.ok && repeated.hints.map((h) => h.eventId)).toEqual(result.hints.map((h) => h.eventId));
  });

  it('leaves out supplier credit notes, which are not receivables', () => {
    const event = {
      resourceUrl: 'https://api.xero.com/api.xro/2.0/CreditNotes/55d84274-a3da-4829-a7c0-0cab601b95cc', resourceId: '55d84274-a3da-4829-a7c0-0cab601b95cc',
      tenantId: fake.tenantId, tenantType: 'ORGANISATION' as const, eventCategory: 'CREDITNOTE', eventType: 'CREATE', eventDateUtc: '2025-12-02T00:44:09.923',
      data: { Type: 'ACCPAYCREDIT', Status: 'DRAFT' },
    };
    const { body, signature } = fake.webhookPayload([event]);
    expect(verify(body, signature)).toEqual({ ok: true, hints: [] });
  });

  it('accepts the intent-to-receive handshake when it is signed, with nothing to fetch', () => {
    const { body, signature } = fake.webhookPayload([], { sequence: 0 });
    expect(verify(body, signature)).toEqual({ ok: true, hints: [] });
  });

  it('refuses a mis-signed handshake, a tampered body, another key\'s signature and a missing signature', () => {
    const handshake = fake.webhookPayload([], { sequence: 0, signWith: crypto.randomBytes(32).toString('base64') });
    expect(verify(handshake.body, handshake.signature)).toMatchObject({ ok: false, reason: expect.stringMatching(/does not match/) });

    fake.org.updateContact(CUSTOMER, { name: 'Acme Limited' });
    const { body, signature } = fake.webhookPayload(fake.takeEvents());
    const tampered = body.replace(CUSTOMER, '3b2c1d0e-0000-4000-8000-000000000999');
    expect(tampered).not.toBe(body);
    expect(verify(tampered, signature)).toMatchObject({ ok: false });
    expect(verify(body, signature, 'another webhook key')).toMatchObject({ ok: false });
    expect(verify(body, undefined)).toMatchObject({ ok: false, reason: expect.stringMatching(/missing/) });
    expect(verify(body, signature.slice(0, -4))).toMatchObject({ ok: false });
    // The same bytes and signature pass: only the signature decides.
    expect(verify(body, signature)).toMatchObject({ ok: true });
    expect(verify(body, [signature])).toMatchObject({ ok: true });
  });

  it('refuses a correctly signed body that is not a Xero payload', () => {
    const body = JSON.stringify({ hello: 'world' });
    const signature = crypto.createHmac('sha256', fake.webhookKey).update(body).digest('base64');
    expect(verify(body, signature)).toMatchObject({ ok: false, reason: expect.stringMatching(/events/) });
    expect(() => verifyXeroWebhook('')).toThrow(/empty/);
  });
});
