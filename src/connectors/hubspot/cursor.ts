// The cursor of HubSpot's invoice object (sync_cursors: source `hubspot`, stream `invoices`), JSON:
// - `{mode: 'list', startedAt, after, seen}` while the first (or a --full) run lists every invoice page by page;
//   `startedAt` is HubSpot's clock (the Date header) when the listing began;
// - `{mode: 'search', since, seen}` afterwards: the next run searches hs_lastmodifieddate ≥ since.
// `seen` holds the id and modification time of the records already read at or after the cursor's time, which
// the next run skips without further calls.

export const HUBSPOT_SOURCE = 'hubspot';
export const INVOICES_STREAM = 'invoices';

/** Invoice id → modification time (ms) of the records already read at or after the cursor's time. */
export type Seen = Record<string, number>;

export type InvoiceCursor =
  | { mode: 'list'; startedAt: number | null; after: string | null; seen: Seen }
  | { mode: 'search'; since: number; seen: Seen };

/** Most `seen` entries kept in the cursor; dropped ones are only read again (no loss). */
const SEEN_MAX = 5_000;

const isSeen = (value: unknown): value is Seen =>
  typeof value === 'object' && value !== null && Object.values(value).every((v) => typeof v === 'number');

export const parseCursor = (text: string): InvoiceCursor => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = null;
  }
  const v = value as Partial<{ mode: string; startedAt: unknown; after: unknown; since: unknown; seen: unknown }> | null;
  if (v?.mode === 'list' && (v.startedAt === null || typeof v.startedAt === 'number') && (v.after === null || typeof v.after === 'string') && isSeen(v.seen)) {
    return { mode: 'list', startedAt: v.startedAt, after: v.after, seen: v.seen };
  }
  if (v?.mode === 'search' && typeof v.since === 'number' && isSeen(v.seen)) return { mode: 'search', since: v.since, seen: v.seen };
  throw new Error(`sync_cursors ${HUBSPOT_SOURCE}/${INVOICES_STREAM}: unreadable cursor ${JSON.stringify(text.slice(0, 80))}; run with --full`);
};

/** Entries at or after `since`, at most SEEN_MAX (the most recent). */
export const pruneSeen = (seen: Seen, since: number): Seen => {
  const entries = Object.entries(seen).filter(([, at]) => at >= since);
  if (entries.length > SEEN_MAX) entries.sort((a, b) => b[1] - a[1]).splice(SEEN_MAX);
  return Object.fromEntries(entries);
};
