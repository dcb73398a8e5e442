import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { WebhookHint, WebhookVerifier } from '../types';

// Xero's webhooks (https://developer.xero.com/documentation/guides/webhooks/overview): `x-xero-signature` is the
// base64 HMAC-SHA256 of the raw body with the app's webhook key. Events are hints without data (a credit note's
// event carries its Type and Status): the engine pulls what changed. Xero sends events for contacts, invoices and
// credit notes (and app subscriptions); it has none for payments, whose changes show as an UPDATE of their
// invoice and in the next pull.
//
// Intent to receive: when a webhook is set up, Xero posts deliveries with no events, some with a wrong signature;
// a correctly signed one is answered 200 (here: ok with no hints), every other one 401.

const WebhookEvent = z.object({
  resourceUrl: z.string().optional(),
  resourceId: z.string().min(1).max(100),
  eventDateUtc: z.string().min(1).max(40),
  eventType: z.string().min(1).max(40),
  eventCategory: z.string().min(1).max(40),
  tenantId: z.string().min(1).max(100),
  tenantType: z.string().optional(),
  data: z.object({ Type: z.string().optional(), Status: z.string().optional() }).passthrough().optional(),
});

const WebhookPayload = z.object({
  events: z.array(WebhookEvent),
  firstEventSequence: z.number().int().optional(),
  lastEventSequence: z.number().int().optional(),
  entropy: z.string().optional(),
});

const OBJECT_TYPES: Record<string, WebhookHint['objectType']> = {
  CONTACT: 'customer',
  INVOICE: 'invoice',
  CREDITNOTE: 'credit_note',
};

/** The expected signature of a body. */
export const xeroSignature = (webhookKey: string, rawBody: Buffer | string): string =>
  createHmac('sha256', webhookKey).update(rawBody).digest('base64');

/** Xero's eventDateUtc ("2026-10-30T16:26:41.902", UTC without a zone) as an ISO timestamp, or null. */
const occurredAt = (value: string): string | null => {
  const withZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(value) ? value : `${value}Z`;
  const at = Date.parse(withZone);
  return Number.isNaN(at) ? null : new Date(at).toISOString();
};

export const verifyXeroWebhook = (webhookKey: string): WebhookVerifier => {
  if (webhookKey.length === 0) throw new Error('verifyXeroWebhook: the webhook key is empty');
  return (rawBody, headers) => {
    const given = headers['x-xero-signature'];
    const signature = Array.isArray(given) ? given[0] : given;
    if (!signature) return { ok: false, reason: 'x-xero-signature header is missing' };
    const expected = Buffer.from(xeroSignature(webhookKey, rawBody), 'utf8');
    const received = Buffer.from(signature.trim(), 'utf8');
    if (received.length !== expected.length || !timingSafeEqual(received, expected)) {
      return { ok: false, reason: 'x-xero-signature does not match the body' };
    }
    let json: unknown;
    try {
      json = JSON.parse(rawBody.toString('utf8'));
    } catch {
      return { ok: false, reason: 'the body is not JSON' };
    }
    const parsed = WebhookPayload.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return { ok: false, reason: `the body is not a Xero webhook payload: ${issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'invalid'}` };
    }
    const hints: WebhookHint[] = [];
    for (const event of parsed.data.events) {
      // Supplier credit notes are not receivables.
      if (event.eventCategory === 'CREDITNOTE' && event.data?.Type === 'ACCPAYCREDIT') continue;
      hints.push({
        // Xero's events carry no id of their own; a redelivered event repeats these fields exactly.
        eventId: [event.tenantId, event.eventCategory, event.resourceId, event.eventType, event.eventDateUtc].join(':'),
        tenantId: event.tenantId,
        objectType: OBJECT_TYPES[event.eventCategory] ?? 'other',
        objectId: event.resourceId,
        occurredAt: occurredAt(event.eventDateUtc),
      });
    }
    return { ok: true, hints };
  };
};
