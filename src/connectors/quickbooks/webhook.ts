import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { WebhookHint, WebhookVerifier } from '../types';

// QuickBooks Online webhooks (https://developer.intuit.com/app/developer/qbo/docs/develop/webhooks).
// `intuit-signature` is base64(HMAC-SHA256(raw body, the app's webhook verifier token)), with no timestamp: events
// are deduplicated by id and only hint at what changed (the engine pulls Change Data Capture from its cursor).
// Two payloads exist: the CloudEvents array (current) and the legacy `eventNotifications` object.

const CloudEvent = z.object({
  specversion: z.string(),
  id: z.string().min(1),
  type: z.string().min(1),
  time: z.string().optional(),
  intuitentityid: z.string().optional(),
  intuitaccountid: z.string().optional(),
});
const CloudEvents = z.array(CloudEvent);

const Legacy = z.object({
  eventNotifications: z.array(z.object({
    realmId: z.string().min(1),
    dataChangeEvent: z.object({
      entities: z.array(z.object({
        name: z.string().min(1),
        id: z.string().min(1),
        operation: z.string().optional(),
        lastUpdated: z.string().optional(),
      })).default([]),
    }).optional(),
  })),
});

const OBJECT_TYPES: Readonly<Record<string, WebhookHint['objectType']>> = {
  customer: 'customer', invoice: 'invoice', payment: 'payment', creditmemo: 'credit_note',
};

const objectType = (entity: string): WebhookHint['objectType'] => OBJECT_TYPES[entity.toLowerCase()] ?? 'other';

/** `qbo.<entity>.<operation>.v<n>` → the entity (`invoice`, `creditmemo`, …); null for any other type. */
const entityOfType = (type: string): string | null => /^qbo\.([a-z0-9]+)\.[a-z]+\.v\d+$/i.exec(type)?.[1] ?? null;

const hintsOf = (payload: unknown): WebhookHint[] | null => {
  const cloud = CloudEvents.safeParse(payload);
  if (cloud.success) {
    return cloud.data.map((event) => ({
      eventId: event.id,
      tenantId: event.intuitaccountid ?? null,
      objectType: objectType(entityOfType(event.type) ?? ''),
      objectId: event.intuitentityid ?? null,
      occurredAt: event.time ?? null,
    }));
  }
  const legacy = Legacy.safeParse(payload);
  if (legacy.success) {
    return legacy.data.eventNotifications.flatMap((notification) =>
      (notification.dataChangeEvent?.entities ?? []).map((entity) => ({
        // Legacy events carry no id: the change itself (company, entity, id, operation, time) names them.
        eventId: [notification.realmId, entity.name, entity.id, entity.operation ?? '', entity.lastUpdated ?? ''].join(':'),
        tenantId: notification.realmId,
        objectType: objectType(entity.name),
        objectId: entity.id,
        occurredAt: entity.lastUpdated ?? null,
      })));
  }
  return null;
};

export const verifyQuickBooksWebhook = (verifierToken: string): WebhookVerifier => {
  const token = z.string().min(1, 'the QuickBooks webhook verifier token is empty').safeParse(verifierToken);
  if (!token.success) throw new Error(token.error.issues[0]?.message ?? 'the QuickBooks webhook verifier token is invalid');
  const key = token.data;
  return (rawBody, headers) => {
    const header = headers['intuit-signature'];
    const signature = Array.isArray(header) ? header[0] : header;
    if (!signature) return { ok: false, reason: 'the intuit-signature header is missing' };
    const expected = createHmac('sha256', key).update(rawBody).digest();
    const given = /^[A-Za-z0-9+/]+={0,2}$/.test(signature.trim()) ? Buffer.from(signature.trim(), 'base64') : Buffer.alloc(0);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return { ok: false, reason: 'the intuit-signature does not match the body' };
    }
    let payload: unknown;
    try {
      payload = JSON.parse(rawBody.toString('utf8'));
    } catch {
      return { ok: false, reason: 'the body is not JSON' };
    }
    const hints = hintsOf(payload);
    return hints ? { ok: true, hints } : { ok: false, reason: 'the body is neither CloudEvents nor eventNotifications' };
  };
};
