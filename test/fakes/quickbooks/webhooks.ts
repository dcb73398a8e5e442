import { createHmac } from 'node:crypto';
import type { ChangeEvent } from './company';

// Webhook deliveries as Intuit sends them (https://developer.intuit.com/app/developer/qbo/docs/develop/webhooks):
// `intuit-signature` = base64(HMAC-SHA256(raw body, the app's verifier token)); the body is a CloudEvents array
// (one delivery may mix companies) or, in the legacy format, `eventNotifications` grouped by company.

export type WebhookFormat = 'cloudevents' | 'legacy';
export type WebhookDelivery = { body: string; headers: Record<string, string> };

export const intuitSignature = (body: string | Buffer, verifierToken: string): string =>
  createHmac('sha256', verifierToken).update(body).digest('base64');

const PAST: Readonly<Record<ChangeEvent['operation'], string>> = {
  Create: 'created', Update: 'updated', Delete: 'deleted', Void: 'voided', Merge: 'merged',
};

/** The app's event source, as Intuit names it in CloudEvents (`intuit.<app hash>`). */
const SOURCE = 'intuit.dsnBgbseACLLRZNxo2dfc4evmEJdxde58xeeYcZliOU=';

export const cloudEventsBody = (events: readonly ChangeEvent[]): object[] => events.map((event) => ({
  specversion: '1.0',
  id: event.eventId,
  source: SOURCE,
  type: `qbo.${event.entity.toLowerCase()}.${PAST[event.operation]}.v1`,
  datacontenttype: 'application/json',
  time: new Date(event.at).toISOString(),
  intuitentityid: event.id,
  intuitaccountid: event.realmId,
  data: {},
}));

export const legacyBody = (events: readonly ChangeEvent[]): object => {
  const byRealm = new Map<string, ChangeEvent[]>();
  for (const event of events) byRealm.set(event.realmId, [...(byRealm.get(event.realmId) ?? []), event]);
  return {
    eventNotifications: [...byRealm].map(([realmId, list]) => ({
      realmId,
      dataChangeEvent: {
        entities: list.map((e) => ({ name: e.entity, id: e.id, operation: e.operation, lastUpdated: e.lastUpdated })),
      },
    })),
  };
};

/** One signed delivery of the events. */
export const webhookDelivery = (events: readonly ChangeEvent[], format: WebhookFormat, verifierToken: string): WebhookDelivery => {
  const body = JSON.stringify(format === 'cloudevents' ? cloudEventsBody(events) : legacyBody(events));
  return {
    body,
    headers: { 'content-type': 'application/json; charset=utf-8', 'intuit-signature': intuitSignature(body, verifierToken) },
  };
};
