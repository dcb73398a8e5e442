import { sql } from 'kysely';
import { loadConfig } from '../../src/config';
import type { AccountingConnector } from '../../src/connectors/types';
import { createLogger } from '../../src/logger';
import type { DatabaseOptions } from '../../src/store/database';
import { openStore } from '../../src/store/store';
import { createPgBossQueue } from '../../src/sync/jobs';
import type { ConnectorFactory } from '../../src/sync/registry';
import { startSyncWorker } from '../../src/sync/worker';
import { seededSource } from './scripted-source';
import { TEST_KEY } from './store-state';

// A service instance of jobs-processes.test.ts: works the `sync` jobs of the pg-boss queue shared with another
// process, with the service's own sync worker, until every expected sync has finished; then stops.
// Each job records its run in job_runs (portal, process id) when its connector is first pulled, and waits
// there until the other process has recorded one too, so both processes are seen taking jobs.

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

const until = async (check: () => Promise<boolean>, limitMs: number): Promise<boolean> => {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
};

const main = async (): Promise<void> => {
  const options = JSON.parse(env('JOBS_STORE')) as DatabaseOptions;
  const portals = JSON.parse(env('JOBS_PORTALS')) as number[];
  const store = await openStore(options, { migrateOnOpen: false });
  const queue = await createPgBossQueue({
    connectionString: env('JOBS_URL'), schema: env('JOBS_SCHEMA'), poolSize: 3, pollingIntervalSeconds: 0.5, stopTimeoutMs: 10_000,
  });
  const db = store.db;

  const otherProcessRan = async (): Promise<boolean> => {
    const result = await sql<{ n: number }>`SELECT count(*)::int AS n FROM job_runs WHERE pid <> ${process.pid}`.execute(db);
    return (result.rows[0]?.n ?? 0) > 0;
  };
  const recorded = (portalId: number, connector: AccountingConnector): AccountingConnector => {
    let first = true;
    return {
      source: connector.source,
      pull: async (cursor) => {
        if (first) {
          first = false;
          await sql`INSERT INTO job_runs (portal_id, pid) VALUES (${portalId}, ${process.pid})`.execute(db);
          await until(otherProcessRan, 30_000);
        }
        return connector.pull(cursor);
      },
    };
  };
  const factory: ConnectorFactory = (o) => recorded(o.portalId, seededSource(o.portalId, 30, 10).connector());

  await startSyncWorker({
    db, key: TEST_KEY, config: loadConfig({}), logger: createLogger('silent'), queue, intervalMinutes: 0, concurrency: 2,
    factories: { xero: factory },
  });
  process.stdout.write('working\n');
  const allFinished = async (): Promise<boolean> => {
    const result = await sql<{ n: number }>`
      SELECT count(DISTINCT portal_id)::int AS n FROM sync_runs
      WHERE finished_at IS NOT NULL AND portal_id IN (SELECT value::bigint FROM json_array_elements_text(${JSON.stringify(portals)}::json))`.execute(db);
    return result.rows[0]?.n === portals.length && (await queue.depth('sync')) === 0;
  };
  const finished = await until(allFinished, 90_000);
  await queue.stop();
  await store.close();
  if (!finished) throw new Error('the expected syncs did not all finish');
  process.stdout.write('done\n');
};

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
