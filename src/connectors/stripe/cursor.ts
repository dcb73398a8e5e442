import { z } from 'zod';
import { SourceError } from '../types';

/**
 * Where a Stripe pull stands. A full pull goes through the phases customers → invoices → invoice payments → credit
 * notes, paging each list with `starting_after`, then reads Events from the newest event that existed when it
 * began (its watermark), so whatever changed while it ran is read again. After that only Events are read, after
 * `last_event_id` (`ending_before`), or from `created[gte]` when there is no event id to go on.
 *
 * Stripe keeps Events for 30 days. A cursor is stale when events after it may have been deleted: neither its last
 * event nor the last time the events were read up to the newest (`caught_up_at`) is within 30 days (less an hour
 * of margin). A stale cursor, or one whose event Stripe no longer has, starts a full pull again.
 */

export const PHASES = ['customers', 'invoices', 'invoice_payments', 'credit_notes', 'events'] as const;
export type Phase = (typeof PHASES)[number];

export const EVENT_RETENTION_SECONDS = 30 * 86_400;
export const RETENTION_MARGIN_SECONDS = 3_600;

const CursorSchema = z.object({
  v: z.literal(1),
  phase: z.enum(PHASES),
  /** Within a list phase: the last object read (Stripe's `starting_after`). */
  starting_after: z.string().min(1).nullable(),
  last_event_id: z.string().regex(/^evt_/, 'must be an event id (evt_…)').nullable(),
  /** `created` of last_event_id, unix seconds. */
  last_event_created: z.number().int().nonnegative().nullable(),
  /** Unix seconds when the events were last read up to the newest (or a full pull took its watermark). */
  caught_up_at: z.number().int().nonnegative(),
}).strict();

export type StripeCursor = z.infer<typeof CursorSchema>;

export const parseCursor = (text: string | null): StripeCursor | null => {
  if (text === null) return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SourceError('stripe', 'The Stripe cursor is not JSON', false);
  }
  const parsed = CursorSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || 'cursor';
    throw new SourceError('stripe', `The Stripe cursor is not valid: ${field}: ${issue?.message ?? 'invalid'}`, false);
  }
  return parsed.data;
};

export const serializeCursor = (cursor: StripeCursor): string => JSON.stringify(cursor);

/** True when Stripe may have deleted events the cursor has not read (see above). */
export const isStale = (cursor: StripeCursor, nowSeconds: number): boolean => {
  const oldest = nowSeconds - EVENT_RETENTION_SECONDS + RETENTION_MARGIN_SECONDS;
  return Math.max(cursor.last_event_created ?? 0, cursor.caught_up_at) < oldest;
};
