import { z } from 'zod';
import type { Logger } from '../logger';
import type { HubSpotWebhookEventsTable } from '../store/schema';

// HubSpot webhook deliveries: a signed JSON array of events, each naming its portal, object and change.
// https://developers.hubspot.com/docs/apps/developer-platform/add-features/configure-webhooks

/** The path HubSpot delivers to (app-config/app/webhooks/webhooks-hsmeta.json's targetUrl). */
export const HUBSPOT_WEBHOOK_PATH = '/webhooks/hubspot';

// A JSON number is a double: an id beyond 2^53 would arrive with other digits than HubSpot sent, so two
// events could collapse into one. Such ids are refused rather than stored wrong; as strings they are kept.
const WholeNumber = z.number().int().nonnegative().refine(Number.isSafeInteger, 'must be below 2^53 when sent as a JSON number (send it as a string)');
const NumericId = z.union([WholeNumber, z.string().regex(/^\d{1,40}$/, 'must be a whole number')]);
const MAX_EPOCH_MS = 8_640_000_000_000_000; // the largest time a Date holds

/** One event as HubSpot sends it; fields we do not read are kept as they came (passthrough). */
export const HubSpotWebhookEventSchema = z.object({
  eventId: NumericId,
  portalId: WholeNumber.positive(),
  /** `object.creation`, `object.propertyChange`, … (generic) or `deal.propertyChange`, … (legacy). */
  subscriptionType: z.string().min(1).max(200),
  objectId: WholeNumber,
  /** Milliseconds since the epoch. */
  occurredAt: WholeNumber.max(MAX_EPOCH_MS),
  /** `0-2` companies, `0-3` deals, …; generic events carry it, legacy ones name the object in subscriptionType. */
  objectTypeId: z.string().regex(/^\d+-\d+$/, 'must be an object type id such as 0-3').optional(),
  propertyName: z.string().min(1).optional(),
  propertyValue: z.union([z.string(), z.number(), z.boolean()]).nullable().optional(),
  changeSource: z.string().optional(),
  attemptNumber: WholeNumber.optional(),
  appId: NumericId.optional(),
  subscriptionId: NumericId.optional(),
  sourceId: z.string().optional(),
}).passthrough();

export type HubSpotWebhookEvent = z.infer<typeof HubSpotWebhookEventSchema>;

export const HubSpotWebhookBatchSchema = z.array(HubSpotWebhookEventSchema);

/** Where a zod issue lies in a batch, e.g. `[2].objectId` (`body` for the batch itself). */
export const issuePath = (path: readonly PropertyKey[]): string => {
  if (path.length === 0) return 'body';
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`)).join('');
};

export type BatchProblem = { field: string; message: string };

/** Validates a delivery: the events, or every problem with the index and field it concerns. */
export const parseWebhookBatch = (body: unknown): { ok: true; events: HubSpotWebhookEvent[] } | { ok: false; problems: BatchProblem[] } => {
  const parsed = HubSpotWebhookBatchSchema.safeParse(body);
  if (parsed.success) return { ok: true, events: parsed.data };
  return { ok: false, problems: parsed.error.issues.map((issue) => ({ field: issuePath(issue.path), message: issue.message })) };
};

// The standard objects' type ids (https://developers.hubspot.com/docs/guides/api/crm/understanding-the-crm).
const LEGACY_OBJECT_TYPE_IDS: Readonly<Record<string, string>> = {
  contact: '0-1', company: '0-2', deal: '0-3', ticket: '0-5', product: '0-7', line_item: '0-8',
};

/** The event's object type id: as sent, or derived from a legacy subscription type (`deal.creation` → `0-3`). */
export const objectTypeIdOf = (event: Pick<HubSpotWebhookEvent, 'objectTypeId' | 'subscriptionType'>): string | null => {
  if (event.objectTypeId !== undefined) return event.objectTypeId;
  const prefix = event.subscriptionType.split('.')[0] ?? '';
  return LEGACY_OBJECT_TYPE_IDS[prefix] ?? null;
};

/** An id in one canonical decimal form, so `42` and `"042"` are the same event. */
const canonicalId = (id: number | string): string => BigInt(id).toString();

export type WebhookEventRow = Omit<HubSpotWebhookEventsTable, 'received_at' | 'processed_at' | 'occurred_at'> & { occurred_at: string };

/** The `hubspot_webhook_events` row of an event (received_at and processed_at are left to the store). */
export const webhookEventRow = (event: HubSpotWebhookEvent): WebhookEventRow => ({
  portal_id: event.portalId,
  event_id: canonicalId(event.eventId),
  subscription_type: event.subscriptionType,
  object_type_id: objectTypeIdOf(event),
  object_id: String(event.objectId),
  property_name: event.propertyName ?? null,
  property_value: event.propertyValue === undefined || event.propertyValue === null ? null : String(event.propertyValue),
  occurred_at: new Date(event.occurredAt).toISOString(),
});

/** The events of portals we serve, and those of the rest (which are not kept), in their original order. */
export const splitByServedPortal = <E extends Pick<HubSpotWebhookEvent, 'portalId'>>(
  events: readonly E[], servedPortals: readonly number[],
): { served: E[]; ignored: E[] } => {
  const served = new Set(servedPortals);
  const result: { served: E[]; ignored: E[] } = { served: [], ignored: [] };
  for (const event of events) (served.has(event.portalId) ? result.served : result.ignored).push(event);
  return result;
};

/** The rows of a batch, one per (portal, event id): a batch that repeats an event keeps its first copy. */
export const uniqueRows = (rows: readonly WebhookEventRow[]): WebhookEventRow[] => {
  const seen = new Set<string>();
  return rows.filter((row) => {
    const key = `${row.portal_id}:${row.event_id}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
};

export type Timers = {
  set: (run: () => void, ms: number) => unknown;
  clear: (handle: unknown) => void;
};

const realTimers: Timers = {
  set: (run, ms) => {
    const handle = setTimeout(run, ms);
    handle.unref();
    return handle;
  },
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export type RoundTrigger = {
  /** Asks for a round; requests within one window share it. */
  request: () => void;
  /** Cancels a pending round and ignores later requests (a round already running is not awaited). */
  stop: () => void;
};

/** How long deliveries are gathered before the round they asked for starts. */
export const WEBHOOK_ROUND_WINDOW_MS = 5_000;

/**
 * Coalesces round requests: the first request of a quiet period starts a window of `windowMs`; the round
 * runs when it closes, once for every request made meanwhile. A window that closes while the previous round
 * still runs starts its round when that one ends, so events stored during a round get a round of their own.
 * A round that fails is logged; the next request tries again.
 */
export const roundTrigger = (
  run: () => Promise<void>, options: { logger: Logger; windowMs?: number; timers?: Timers },
): RoundTrigger => {
  const windowMs = options.windowMs ?? WEBHOOK_ROUND_WINDOW_MS;
  const timers = options.timers ?? realTimers;
  let pending: unknown = null;
  let running = false;
  let again = false;
  let stopped = false;

  const start = (): void => {
    running = true;
    Promise.resolve()
      .then(run)
      .catch((error: unknown) => {
        options.logger.error({ error: error instanceof Error ? error.message : String(error) }, 'HubSpot round after webhook events failed');
      })
      .finally(() => {
        running = false;
        if (again && !stopped) {
          again = false;
          start();
        }
      });
  };

  const close = (): void => {
    pending = null;
    if (stopped) return;
    if (running) again = true;
    else start();
  };

  return {
    request: () => {
      if (stopped || pending !== null) return;
      pending = timers.set(close, windowMs);
    },
    stop: () => {
      stopped = true;
      if (pending !== null) timers.clear(pending);
      pending = null;
      again = false;
    },
  };
};
