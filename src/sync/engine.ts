import { sql } from 'kysely';
import { firstLine } from '../accounting/errors';
import { isAccountingSource, SourceError, type AccountingSourceName, type ChangePage, type SourceConnector, type SourceName } from '../connectors/types';
import type { Db } from '../store/database';
import { ensurePortal, touchPortal, type Executor } from '../store/facts';
import { addPageCounts, applyPage, NO_COUNTS, type PageCounts } from './apply';
import { checkPage } from './page';

/**
 * The sync engine: pulls a connector's pages of changes after the connection's cursor and stores each page,
 * its new cursor and the portal's data version in ONE transaction. A process killed at any point leaves the
 * store at the end of the last committed page with the cursor that follows it; the next run pulls from there,
 * and a page applied twice changes nothing the second time (every write is keyed by (portal, source, external
 * id)), so nothing is lost or duplicated.
 *
 * The cursor is written compare-and-set: a page commits only if the stored cursor is still the one its pull
 * started from. Two runs of one connection at once (a CLI run beside the service) cannot interleave: the
 * slower one fails with SyncConflictError and writes nothing.
 */

/** The stream of sync_cursors an accounting connection's cursor is kept under. */
export const MAIN_STREAM = 'main';

export type SyncProgress = PageCounts & {
  pages: number;
  /** The cursor after the last committed page. */
  cursor: string | null;
  done: boolean;
};

export type SyncResult = SyncProgress & { runId: number };

export type RetryPolicy = {
  /** Pull attempts per page, the first included. */
  attempts: number;
  /** The first wait; it doubles (jittered) per attempt, never below the source's Retry-After. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited out: the run stops and the next one tries again. */
  maxWaitMs: number;
};

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 1_000, maxDelayMs: 60_000, maxWaitMs: 5 * 60_000 };

/** Where a run reports retries, pages and its end (a pino logger, or the CLI's lines). */
export type SyncLogger = {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  debug(fields: object, message: string): void;
};

export type SyncOptions = {
  /** Pull everything from the start. The stored cursor stays until the first page of the full pull commits. */
  full?: boolean;
  /** Called after each committed page with the run's totals so far. */
  onPage?: (progress: SyncProgress) => void;
  /** Stops the run between pages (and during a retry wait); it then throws SyncAbortedError. */
  signal?: AbortSignal;
  /** What started the run, recorded in sync_runs: `cli`, `schedule`, `webhook`, `job`, ... */
  trigger?: string;
  retry?: Partial<RetryPolicy>;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  logger?: SyncLogger;
  /** Random numbers in [0, 1) for the backoff jitter. */
  random?: () => number;
};

/** Another run of the same connection moved the cursor: this one stops without writing. */
export class SyncConflictError extends Error {
  constructor(readonly source: SourceName, readonly portalId: number) {
    super(`Another sync of ${source} for portal ${portalId} is running (the cursor moved); this one stopped without writing`);
    this.name = 'SyncConflictError';
  }
}

export class SyncAbortedError extends Error {
  constructor() {
    super('The sync was stopped');
    this.name = 'SyncAbortedError';
  }
}

export const PROVIDER_LABELS: Readonly<Record<SourceName, string>> = {
  stripe: 'Stripe', xero: 'Xero', quickbooks: 'QuickBooks', hubspot: 'HubSpot', csv: 'CSV import',
};

const abortableSleep = (ms: number, signal?: AbortSignal): Promise<void> => new Promise((resolve, reject) => {
  if (signal?.aborted) {
    reject(new SyncAbortedError());
    return;
  }
  const onAbort = (): void => {
    clearTimeout(timer);
    reject(new SyncAbortedError());
  };
  const timer = setTimeout(() => {
    signal?.removeEventListener('abort', onAbort);
    resolve();
  }, ms);
  signal?.addEventListener('abort', onAbort, { once: true });
});

/** The stored cursor of a connection (null before its first committed page). */
export const storedCursor = async (db: Executor, portalId: number, source: SourceName, stream = MAIN_STREAM): Promise<string | null> => {
  const row = await db.selectFrom('sync_cursors').select('cursor')
    .where('portal_id', '=', portalId).where('source', '=', source).where('stream', '=', stream)
    .executeTakeFirst();
  return row?.cursor ?? null;
};

/** Moves the cursor from `expected` to `next`; false when it is no longer `expected` (another run moved it). */
const advanceCursor = async (
  trx: Executor, portalId: number, source: SourceName, stream: string, expected: string | null, next: string,
): Promise<boolean> => {
  if (expected === null) {
    const inserted = await trx.insertInto('sync_cursors')
      .values({ portal_id: portalId, source, stream, cursor: next, updated_at: new Date() })
      .onConflict((oc) => oc.columns(['portal_id', 'source', 'stream']).doNothing())
      .returning('cursor').execute();
    return inserted.length === 1;
  }
  const updated = await trx.updateTable('sync_cursors').set({ cursor: next, updated_at: new Date() })
    .where('portal_id', '=', portalId).where('source', '=', source).where('stream', '=', stream)
    .where('cursor', '=', expected)
    .returning('cursor').execute();
  return updated.length === 1;
};

const isEmpty = (page: ChangePage): boolean => page.customers.length + page.invoices.length + page.payments.length === 0;

/** The text kept as a connection's last error: what failed, for the person who reads the settings page. */
export const describeSyncError = (source: SourceName, error: unknown): string => {
  const label = PROVIDER_LABELS[source];
  if (error instanceof SourceError) return `${label}: ${firstLine(error)}`;
  return `${label} sync failed: ${firstLine(error)}`;
};

/** Marks the connection as failing with `message` (a disconnected connection stays disconnected). */
export const recordConnectionError = async (db: Db, portalId: number, source: AccountingSourceName, message: string): Promise<void> => {
  const now = new Date();
  await db.updateTable('accounting_connections')
    .set({ status: 'error', last_error: message.slice(0, 1_000), last_error_at: now, updated_at: now })
    .where('portal_id', '=', portalId).where('source', '=', source).where('status', '<>', 'disconnected')
    .execute();
};

const recordSuccess = async (db: Db, portalId: number, source: AccountingSourceName): Promise<void> => {
  const now = new Date();
  await db.updateTable('accounting_connections')
    .set({ status: 'connected', last_sync_at: now, last_error: null, last_error_at: null, updated_at: now })
    .where('portal_id', '=', portalId).where('source', '=', source).where('status', '<>', 'disconnected')
    .execute();
};

/** Runs older than this are deleted when a new run of the connection starts. */
const RUN_RETENTION_DAYS = 30;

/** Starts a run; answers its id and the store's time at its start. */
const startRun = async (
  db: Db, portalId: number, source: SourceName, full: boolean, trigger: string,
): Promise<{ runId: number; startedAt: Date }> =>
  db.transaction().execute(async (trx) => {
    await ensurePortal(trx, portalId);
    await sql`DELETE FROM sync_runs WHERE portal_id = ${portalId} AND source = ${source}
      AND started_at < now() - make_interval(days => ${RUN_RETENTION_DAYS})`.execute(trx);
    const row = await trx.insertInto('sync_runs').values({ portal_id: portalId, source, full_sync: full, trigger })
      .returning(['id', 'started_at']).executeTakeFirstOrThrow();
    return { runId: Number(row.id), startedAt: new Date(row.started_at) };
  });

const finishRun = async (db: Db, runId: number, error: string | null): Promise<void> => {
  await db.updateTable('sync_runs').set({ finished_at: new Date(), error }).where('id', '=', runId).execute();
};

/** Marks the connection's webhook events received before `startedAt` as processed: this run has pulled past them. */
const markEventsProcessed = async (db: Db, portalId: number, source: AccountingSourceName, startedAt: Date): Promise<void> => {
  await db.updateTable('source_webhook_events').set({ processed_at: new Date() })
    .where('portal_id', '=', portalId).where('source', '=', source)
    .where('processed_at', 'is', null).where('received_at', '<=', startedAt)
    .execute();
};

/**
 * Syncs one connection: pages after the stored cursor (or from the start with `full`) until the connector says
 * it is done. A retryable SourceError is retried with exponential backoff that honours Retry-After, a bounded
 * number of times; any other failure (or retries exhausted) is recorded as the connection's last error
 * (status `error`) and thrown. On success the connection is `connected` with last_sync_at now and no error.
 */
export const syncSource = async (
  db: Db, portalId: number, connector: SourceConnector, options: SyncOptions = {},
): Promise<SyncResult> => {
  const source = connector.source;
  const stream = connector.stream ?? MAIN_STREAM;
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const sleep = options.sleep ?? abortableSleep;
  const random = options.random ?? Math.random;
  const { signal, logger } = options;
  const full = options.full ?? false;
  const { runId, startedAt } = await startRun(db, portalId, source, full, options.trigger ?? 'manual');

  let progress: SyncProgress = { ...NO_COUNTS, pages: 0, cursor: null, done: false };
  const pull = async (cursor: string | null): Promise<ChangePage> => {
    for (let attempt = 1; ; attempt += 1) {
      if (signal?.aborted) throw new SyncAbortedError();
      try {
        return checkPage(await connector.pull(cursor));
      } catch (error) {
        if (!(error instanceof SourceError) || !error.retryable || attempt >= retry.attempts) throw error;
        if (error.retryAfterMs !== null && error.retryAfterMs > retry.maxWaitMs) throw error;
        const backoff = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
        const wait = Math.max(error.retryAfterMs ?? 0, Math.round(backoff * (0.5 + random() / 2)));
        logger?.warn({ portalId, source, attempt, waitMs: wait, error: firstLine(error) }, 'accounting source failed; retrying');
        await sleep(wait, signal);
      }
    }
  };

  try {
    let expected = await storedCursor(db, portalId, source, stream);
    let next: string | null = full ? null : expected;
    for (;;) {
      const page = await pull(next);
      const from = expected;
      const counts = await db.transaction().execute(async (trx) => {
        // First: the cursor row, locked until commit, so a concurrent run of this connection waits here, then fails.
        if (!(await advanceCursor(trx, portalId, source, stream, from, page.cursor))) throw new SyncConflictError(source, portalId);
        const applied = await applyPage(trx, portalId, source, page);
        const total = addPageCounts(progress, applied);
        await trx.updateTable('sync_runs').set({
          pages: progress.pages + 1, customers: total.customers, invoices: total.invoices, invoices_removed: total.invoicesRemoved,
          payments: total.payments, payments_removed: total.paymentsRemoved, skipped_allocations: total.skippedAllocations,
        }).where('id', '=', runId).execute();
        if (!isEmpty(page)) await touchPortal(trx, portalId);
        return applied;
      });
      progress = { ...addPageCounts(progress, counts), pages: progress.pages + 1, cursor: page.cursor, done: page.done };
      expected = page.cursor;
      next = page.cursor;
      logger?.debug({ portalId, source, page: progress.pages, ...counts }, 'sync page stored');
      options.onPage?.(progress);
      if (page.done) break;
      if (signal?.aborted) throw new SyncAbortedError();
    }
  } catch (error) {
    const message = describeSyncError(source, error);
    await finishRun(db, runId, message).catch(() => undefined);
    // A stop or a concurrent run says nothing about the connection's health.
    if (isAccountingSource(source) && !(error instanceof SyncAbortedError) && !(error instanceof SyncConflictError)) {
      await recordConnectionError(db, portalId, source, message).catch(() => undefined);
    }
    throw error;
  }
  await finishRun(db, runId, null);
  // HubSpot and CSV have no accounting connection and no source webhooks.
  if (isAccountingSource(source)) {
    await recordSuccess(db, portalId, source);
    await markEventsProcessed(db, portalId, source, startedAt);
  }
  logger?.info({ portalId, source, runId, ...progress }, 'sync finished');
  return { ...progress, runId };
};
