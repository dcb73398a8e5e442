import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import pg from 'pg';
import type { DatabaseOptions } from '../../src/store/database';
import { openStore, type Store } from '../../src/store/store';
import { createPgBossQueue, jobsSchemaFor } from '../../src/sync/jobs';
import { enqueueSync } from '../../src/sync/worker';
import { BACKENDS, postgresEnabled } from '../helpers/stores';
import { seededSource } from './scripted-source';
import { connect, sorted, storeState } from './store-state';

// Two service processes on one PostgreSQL share the job queue (pg-boss): every sync job runs once, in one
// process or the other. Each process is a real child (jobs-processes-child.ts) running the service's sync
// worker; runs are recorded in job_runs by the jobs themselves and in sync_runs by the engine.

const ROOT = path.join(__dirname, '..', '..');
const CHILD = path.join(__dirname, 'jobs-processes-child.ts');
const PORTALS = Array.from({ length: 12 }, (_, i) => 9_301 + i);

type Child = { pid: number; stdout: string };

const runChild = (env: Record<string, string>): Promise<Child> => new Promise((resolve, reject) => {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => { stdout += text; });
  child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text; });
  child.once('error', reject);
  child.once('exit', (code, signal) => {
    if (code === 0) resolve({ pid: child.pid ?? 0, stdout });
    else reject(new Error(`the worker process failed (exit ${code ?? signal}): ${stderr}`));
  });
});

(postgresEnabled() ? describe : describe.skip)('two worker processes on one PostgreSQL [postgres]', () => {
  const url = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const backend = BACKENDS.find((b) => b.name === 'postgres') as (typeof BACKENDS)[number];
  let options: DatabaseOptions;
  let store: Store;
  let jobsSchema: string;

  beforeAll(async () => {
    options = backend.options();
    store = await openStore(options);
    for (const portalId of PORTALS) await connect(store.db, portalId, 'xero');
    await sql`CREATE TABLE job_runs (portal_id bigint NOT NULL, pid integer NOT NULL)`.execute(store.db);
    jobsSchema = jobsSchemaFor(options.kind === 'postgres' ? options.schema ?? null : null);
    // The jobs are queued before either process starts; this process only sends.
    const queue = await createPgBossQueue({ connectionString: url, schema: jobsSchema, poolSize: 2 });
    for (const portalId of PORTALS) expect(await enqueueSync(queue, { portalId, source: 'xero', trigger: 'manual' })).not.toBeNull();
    await queue.stop();
  });
  afterAll(async () => {
    await store?.close();
    await backend.cleanup(options);
  });

  it('runs each sync job exactly once, both processes taking jobs', async () => {
    const env = { JOBS_STORE: JSON.stringify(options), JOBS_URL: url, JOBS_SCHEMA: jobsSchema, JOBS_PORTALS: JSON.stringify(PORTALS) };
    const children = await Promise.all([runChild(env), runChild(env)]);
    expect(children.map((c) => c.stdout)).toEqual(['working\ndone\n', 'working\ndone\n']);

    const runs = (await sql<{ portal_id: number; pid: number }>`SELECT portal_id::int, pid FROM job_runs ORDER BY portal_id`.execute(store.db)).rows;
    expect(runs.map((r) => r.portal_id)).toEqual(PORTALS);
    expect(new Set(runs.map((r) => r.pid))).toEqual(new Set(children.map((c) => c.pid)));

    const syncs = await store.db.selectFrom('sync_runs').select(['portal_id', 'error', 'finished_at']).orderBy('portal_id').execute();
    expect(syncs).toEqual(PORTALS.map((portalId) => ({ portal_id: portalId, error: null, finished_at: expect.any(Date) })));
    for (const portalId of PORTALS) {
      expect(sorted(await storeState(store.db, portalId, 'xero'))).toEqual(sorted(seededSource(portalId, 30, 10).expected()));
    }

    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const jobs = await admin.query<{ state: string; n: number }>(`SELECT state, count(*)::int AS n FROM ${jobsSchema}.job WHERE name = 'sync' GROUP BY state`);
      expect(jobs.rows).toEqual([{ state: 'completed', n: PORTALS.length }]);
    } finally {
      await admin.end();
    }
  }, 180_000);
});
