import crypto from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { createInProcessQueue, createPgBossQueue, cronEvery, jobsSchemaFor, type JobQueue } from '../../src/sync/jobs';
import { postgresEnabled } from '../helpers/stores';

/** A promise and the function that resolves it. */
const gate = (): { promise: Promise<void>; open: () => void } => {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => { open = resolve; });
  return { promise, open };
};

/** Waits until `check` holds (polling), failing with `what` when it does not within the test's time. */
const until = async (what: string, check: () => Promise<boolean> | boolean, limitMs = 30_000): Promise<void> => {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`still waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

/** Counts handlers running at once per singleton key, and every run. */
const tracker = () => {
  const active = new Map<string, number>();
  let most = 0;
  const runs: string[] = [];
  return {
    runs,
    most: () => most,
    enter: (key: string, id: string) => {
      const n = (active.get(key) ?? 0) + 1;
      active.set(key, n);
      most = Math.max(most, n);
      runs.push(id);
    },
    leave: (key: string) => active.set(key, (active.get(key) ?? 1) - 1),
  };
};

describe('in-process job queue', () => {
  it('merges a job sent again while it waits, and runs jobs of one key one at a time', async () => {
    const queue = createInProcessQueue();
    const first = await queue.send('sync', { n: 1 }, { singletonKey: 'k' });
    expect(first).not.toBeNull();
    expect(await queue.send('sync', { n: 1 }, { singletonKey: 'k' })).toBeNull();
    expect(await queue.send('sync', { n: 2 }, { singletonKey: 'k' })).not.toBeNull();
    await queue.send('sync', { n: 3 }, { singletonKey: 'other' });
    expect(await queue.depth('sync')).toBe(3);

    const t = tracker();
    const release = gate();
    await queue.work<{ n: number }>('sync', async (data) => {
      const key = data.n === 3 ? 'other' : 'k';
      t.enter(key, String(data.n));
      await release.promise;
      t.leave(key);
    }, { concurrency: 3 });
    // Key k's first job and key other's job run; k's second waits for its first.
    await until('two jobs running', () => t.runs.length === 2);
    expect(t.runs.sort()).toEqual(['1', '3']);
    expect(queue.waiting().map((w) => w.data)).toEqual([{ n: 2 }]);
    release.open();
    await queue.idle();
    expect(t.runs.sort()).toEqual(['1', '2', '3']);
    expect(t.most()).toBe(1);
    expect(await queue.depth('sync')).toBe(0);
    await queue.stop();
  });

  it('retries a failing job with backoff up to its limit, and starts a delayed job when it is due', async () => {
    const queue = createInProcessQueue({ retryDelayScale: 0.0001 });
    let calls = 0;
    await queue.work('sync', async () => {
      calls += 1;
      throw new Error('the store is away');
    });
    await queue.send('sync', { n: 1 });
    await until('all attempts', () => calls === 4);
    await queue.idle();
    expect(calls).toBe(4); // the first run and 3 retries (the sync job's limit)

    const ran: string[] = [];
    await queue.work<{ n: number }>('hubspot-writeback', async (data) => { ran.push(`w${data.n}`); });
    await queue.send('hubspot-writeback', { n: 1 }, { startAfter: 40 });
    expect(await queue.depth('hubspot-writeback')).toBe(1);
    await until('the delayed job', () => ran.length === 1);
    expect(ran).toEqual(['w1']);
    await queue.stop();
  });

  it('signals running jobs to stop when the queue stops, and waits for them', async () => {
    const queue = createInProcessQueue();
    const started = gate();
    let sawAbort = false;
    await queue.work('sync', async (_data, job) => {
      started.open();
      await new Promise<void>((resolve) => job.signal.addEventListener('abort', () => resolve(), { once: true }));
      sawAbort = job.signal.aborted;
    });
    await queue.send('sync', {});
    await started.promise;
    await queue.stop();
    expect(sawAbort).toBe(true);
    await expect(queue.send('sync', {})).rejects.toThrow('stopped');
  });

  it('turns minutes into cron expressions', () => {
    expect(cronEvery(1)).toBe('* * * * *');
    expect(cronEvery(15)).toBe('*/15 * * * *');
    expect(cronEvery(120)).toBe('0 */2 * * *');
    expect(cronEvery(1440)).toBe('0 0 * * *');
    expect(() => cronEvery(0)).toThrow('whole number');
    expect(jobsSchemaFor(null)).toBe('pgboss');
    expect(jobsSchemaFor('tenant_a')).toBe('tenant_a_jobs');
    expect(jobsSchemaFor('x'.repeat(60))).toMatch(/^jobs_[0-9a-f]{20}$/);
  });
});

(postgresEnabled() ? describe : describe.skip)('pg-boss job queue [postgres]', () => {
  const url = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `t_${process.pid}_${crypto.randomBytes(4).toString('hex')}_jobs`;
  const queues: JobQueue[] = [];
  const admin = new pg.Client({ connectionString: url });
  const open = async (): Promise<JobQueue> => {
    const queue = await createPgBossQueue({
      connectionString: url, schema, poolSize: 3, pollingIntervalSeconds: 0.5, retryDelayScale: 0.01, busyRetrySeconds: 1, stopTimeoutMs: 2_000,
    });
    queues.push(queue);
    return queue;
  };
  const jobRows = async (name: string): Promise<{ state: string; count: number }[]> =>
    (await admin.query<{ state: string; count: number }>(`SELECT state, count(*)::int AS count FROM ${schema}.job WHERE name = $1 GROUP BY state ORDER BY state`, [name])).rows;

  beforeAll(async () => {
    await admin.connect();
  });
  afterEach(async () => {
    for (const queue of queues.splice(0)) await queue.stop();
  });
  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });

  it('lets two instances on one PostgreSQL share the jobs, each job run once', async () => {
    const [a, b] = [await open(), await open()];
    const runs = new Map<number, string[]>();
    const handler = (instance: string) => async (data: { n: number }) => {
      runs.set(data.n, [...(runs.get(data.n) ?? []), instance]);
    };
    for (let n = 0; n < 40; n += 1) await a.send('sync', { n });
    await a.work('sync', handler('a'), { concurrency: 2 });
    await b.work('sync', handler('b'), { concurrency: 2 });
    await until('40 jobs done', async () => (await jobRows('sync')).some((r) => r.state === 'completed' && r.count === 40));
    expect([...runs.keys()].sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, n) => n));
    expect([...runs.values()].every((instances) => instances.length === 1)).toBe(true);
    expect(await a.depth('sync')).toBe(0);
  });

  it('never runs two jobs of one singleton key at once across instances, and merges a waiting repeat', async () => {
    const [a, b] = [await open(), await open()];
    const t = tracker();
    const release = gate();
    const handler = async (data: { n: number }) => {
      t.enter('portal-1', String(data.n));
      if (data.n === 1) await release.promise;
      t.leave('portal-1');
    };
    expect(await a.send('hubspot-writeback', { n: 1 }, { singletonKey: 'portal-1' })).not.toBeNull();
    await a.work('hubspot-writeback', handler);
    await until('the first job running', () => t.runs.length === 1);
    expect(await b.send('hubspot-writeback', { n: 2 }, { singletonKey: 'portal-1' })).not.toBeNull();
    expect(await b.send('hubspot-writeback', { n: 2 }, { singletonKey: 'portal-1' })).toBeNull();
    await b.work('hubspot-writeback', handler);
    // b takes the second job, finds the key busy, and puts it back for later (a new job row).
    await until('the busy job put back', async () => (await jobRows('hubspot-writeback')).reduce((s, r) => s + r.count, 0) >= 3);
    expect(t.runs).toEqual(['1']);
    release.open();
    await until('the second job run', () => t.runs.length === 2);
    expect(t.runs).toEqual(['1', '2']);
    expect(t.most()).toBe(1);
  });

  it('retries a job whose handler throws', async () => {
    const queue = await open();
    const attempts: number[] = [];
    await queue.work<{ n: number }>('sync-schedule', async () => {
      attempts.push(attempts.length + 1);
      throw new Error('boom');
    });
    await queue.send('sync-schedule', { n: 1 });
    await until('the job failed', async () => (await jobRows('sync-schedule')).some((r) => r.state === 'failed'));
    expect(attempts).toEqual([1]); // sync-schedule is not retried

    const tries: number[] = [];
    await queue.work('sync', async (data: { retry?: boolean }) => {
      if (!data.retry) return;
      tries.push(tries.length + 1);
      if (tries.length < 2) throw new Error('the store is away');
    });
    await queue.send('sync', { retry: true });
    await until('the retried job done', () => tries.length === 2, 20_000);
    expect(tries).toEqual([1, 2]);
  });
});
