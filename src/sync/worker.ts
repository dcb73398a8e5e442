import { sql } from 'kysely';
import { z } from 'zod';
import { firstLine } from '../accounting/errors';
import type { Config } from '../config';
import { SourceError, type AccountingSourceName } from '../connectors/types';
import type { Logger } from '../logger';
import type { Db } from '../store/database';
import { describeSyncError, recordConnectionError, SyncAbortedError, SyncConflictError, syncSource, type SyncOptions, type SyncResult } from './engine';
import type { JobQueue } from './jobs';
import { InvalidPageError } from './page';
import { connectorFor, ConnectorUnavailableError, type ConnectorFactory } from './registry';

// The `sync` job (one connection's incremental or full pull) and the `sync-schedule` job (every minute: the
// connections whose last run started more than the interval ago get a `sync` job).

export const SyncJobSchema = z.object({
  portalId: z.number().int().positive(),
  source: z.enum(['stripe', 'xero', 'quickbooks']),
  full: z.boolean().optional(),
  trigger: z.enum(['schedule', 'webhook', 'manual']).optional(),
});

export type SyncJob = z.infer<typeof SyncJobSchema>;

/** A connection's syncs never overlap: they share this singleton key. */
export const syncJobKey = (portalId: number, source: AccountingSourceName): string => `sync:${portalId}:${source}`;

export const enqueueSync = (queue: JobQueue, job: SyncJob): Promise<string | null> =>
  queue.send('sync', job, { singletonKey: syncJobKey(job.portalId, job.source) });

export type SyncWorkerDeps = {
  db: Db;
  key: Buffer;
  config: Pick<Config, 'accounting' | 'publicUrl'>;
  logger: Logger;
  queue: JobQueue;
  /** Minutes between scheduled pulls of each connection; 0 turns the schedule off. */
  intervalMinutes: number;
  /** Connector factories to use instead of the built-in ones (tests). */
  factories?: Partial<Record<AccountingSourceName, ConnectorFactory>>;
  /** Syncs run at once in this process (each on another connection). */
  concurrency?: number;
  /**
   * Called after a run that stored or removed rows (the service queues a HubSpot write-back round, so the
   * portal's companies and deals get the change); a failure here is logged, the sync stands.
   */
  onChanged?: (portalId: number, source: AccountingSourceName) => Promise<unknown>;
  /** How a run retries its source (tests shorten the waits). */
  retry?: SyncOptions['retry'];
  sleep?: SyncOptions['sleep'];
};

/** Connections due for a scheduled pull: usable, and no run started within the interval. */
export const dueConnections = async (db: Db, intervalMinutes: number): Promise<{ portalId: number; source: AccountingSourceName }[]> => {
  const result = await sql<{ portal_id: number; source: AccountingSourceName }>`
    SELECT c.portal_id, c.source
    FROM accounting_connections c
    WHERE c.status IN ('connected', 'error') AND c.credentials_enc IS NOT NULL
      AND NOT EXISTS (
        SELECT 1 FROM sync_runs r
        WHERE r.portal_id = c.portal_id AND r.source = c.source
          AND r.started_at > now() - make_interval(mins => ${intervalMinutes}))
    ORDER BY c.portal_id, c.source`.execute(db);
  return result.rows.map((r) => ({ portalId: Number(r.portal_id), source: r.source }));
};

/** The sync of one job: errors that retrying will not fix are recorded and logged, not thrown. */
export const runSyncJob = async (deps: SyncWorkerDeps, job: SyncJob, signal?: AbortSignal): Promise<void> => {
  const { db, logger } = deps;
  const { portalId, source } = job;
  let connector;
  try {
    connector = await connectorFor(source, { db, key: deps.key, portalId, config: deps.config, logger, ...(deps.factories ? { factories: deps.factories } : {}) });
  } catch (error) {
    if (error instanceof ConnectorUnavailableError || (error instanceof SourceError && !error.retryable)) {
      logger.warn({ portalId, source, error: firstLine(error) }, 'sync skipped');
      if (error instanceof SourceError) await recordConnectionError(db, portalId, source, describeSyncError(source, error));
      return;
    }
    throw error;
  }
  let result: SyncResult;
  try {
    result = await syncSource(db, portalId, connector, {
      full: job.full ?? false, trigger: job.trigger ?? 'manual', logger, ...(signal ? { signal } : {}),
      ...(deps.retry ? { retry: deps.retry } : {}), ...(deps.sleep ? { sleep: deps.sleep } : {}),
    });
  } catch (error) {
    if (error instanceof SyncAbortedError) {
      logger.info({ portalId, source }, 'sync stopped with the service; the next run resumes from the cursor');
      return;
    }
    if (error instanceof SyncConflictError) {
      logger.info({ portalId, source }, 'sync skipped: another run of this connection is ahead');
      return;
    }
    logger.error({ portalId, source, error: firstLine(error) }, 'sync failed');
    // A source that may answer later, or a store that failed: the job is retried.
    if ((error instanceof SourceError && error.retryable) || !(error instanceof SourceError || error instanceof InvalidPageError)) throw error;
    return;
  }
  const changed = result.customers + result.invoices + result.invoicesRemoved + result.payments + result.paymentsRemoved;
  if (changed > 0 && deps.onChanged) {
    try {
      await deps.onChanged(portalId, source);
    } catch (error) {
      logger.warn({ portalId, source, error: firstLine(error) }, 'could not queue the HubSpot write-back after a sync');
    }
  }
};

/**
 * Registers the sync handlers on the queue and, unless the interval is 0, schedules the check for due
 * connections every minute (one right away too).
 */
export const startSyncWorker = async (deps: SyncWorkerDeps): Promise<void> => {
  const { queue, logger } = deps;
  await queue.work<SyncJob>('sync', async (data, job) => {
    const parsed = SyncJobSchema.safeParse(data);
    if (!parsed.success) {
      logger.error({ job: job.id, error: parsed.error.issues[0]?.message }, 'sync job with invalid data dropped');
      return;
    }
    await runSyncJob(deps, parsed.data, job.signal);
  }, { concurrency: deps.concurrency ?? 2 });
  if (deps.intervalMinutes <= 0) return;
  await queue.work('sync-schedule', async () => {
    const due = await dueConnections(deps.db, deps.intervalMinutes);
    for (const connection of due) await enqueueSync(queue, { ...connection, trigger: 'schedule' });
    if (due.length > 0) logger.debug({ connections: due.length }, 'scheduled syncs queued');
  });
  await queue.schedule('sync-schedule', 1, {});
  await queue.send('sync-schedule', {}, { singletonKey: 'sync-schedule' });
};
