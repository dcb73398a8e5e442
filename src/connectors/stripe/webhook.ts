import Stripe from 'stripe';
import type { WebhookHint, WebhookVerifier } from '../types';

/**
 * Verifies a Stripe webhook delivery with the SDK (`webhooks.constructEvent`: HMAC-SHA256 of `t.rawBody` in the
 * `Stripe-Signature` header, timestamp within `toleranceSeconds`, default 300; 0 turns the age check off) on the
 * raw body. Several secrets may be given while an endpoint secret is being rolled. The hint names the event, the
 * connected account it belongs to (`account`), and the object it is about; the object itself is not trusted.
 */

const OBJECT_TYPES: Readonly<Record<string, WebhookHint['objectType']>> = {
  customer: 'customer',
  invoice: 'invoice',
  invoice_payment: 'payment',
  payment_intent: 'payment',
  charge: 'payment',
  refund: 'payment',
  credit_note: 'credit_note',
};

export const hintOf = (event: Stripe.Event): WebhookHint => {
  const object = event.data.object as { object?: unknown; id?: unknown };
  const kind = typeof object.object === 'string' ? object.object : '';
  return {
    eventId: event.id,
    tenantId: event.account ?? null,
    objectType: OBJECT_TYPES[kind] ?? 'other',
    objectId: typeof object.id === 'string' ? object.id : null,
    occurredAt: Number.isFinite(event.created) ? new Date(event.created * 1000).toISOString() : null,
  };
};

export const verifyStripeWebhook = (secret: string | readonly string[], toleranceSeconds = 300): WebhookVerifier => {
  const secrets = (typeof secret === 'string' ? [secret] : [...secret]).map((s) => s.trim()).filter((s) => s.length > 0);
  if (secrets.length === 0) throw new Error('verifyStripeWebhook: a webhook signing secret (whsec_…) is required');
  if (!Number.isInteger(toleranceSeconds) || toleranceSeconds < 0) throw new Error('verifyStripeWebhook: toleranceSeconds must be a whole number of seconds, 0 or more');
  return (rawBody, headers) => {
    const header = headers['stripe-signature'];
    const signature = Array.isArray(header) ? header[0] : header;
    if (!signature) return { ok: false, reason: 'no Stripe-Signature header' };
    let reason = 'signature does not match';
    for (const s of secrets) {
      try {
        const event = Stripe.webhooks.constructEvent(rawBody, signature, s, toleranceSeconds);
        return { ok: true, hints: [hintOf(event)] };
      } catch (error) {
        reason = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? reason;
      }
    }
    return { ok: false, reason };
  };
};
