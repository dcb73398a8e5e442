import crypto from 'node:crypto';
import PgBoss from 'pg-boss';
import pg from 'pg';
import type { Logger } from '../logger';

/**
 * One job queue for sync and write-back work, with two implementations of the same semantics:
 * - pg-boss on PostgreSQL: several service instances share the queue and each job runs once (pg-boss takes jobs
 *   with FOR UPDATE SKIP LOCKED);
 * - an in-process queue for the embedded store (PGlite is one process by construction).
 *
 * Semantics of both:
 * - `send` with a `singletonKey`: jobs with the same key never run at the same time, in any process (pg-boss:
 *   a PostgreSQL advisory lock on the key held while the handler runs; a job whose key is busy is put back to
 *   start a few seconds later). While a job waits to start, sending the same job again (same name, key and data)
 *   is merged into it and answers null.
 * - a handler that throws is retried with exponential backoff, a bounded number of times (per job name).
 * - `schedule(name, everyMinutes)` sends the job every N minutes, once per period across instances.
 * - handlers get an AbortSignal that fires when the queue stops, so a long job can stop between steps.
 */

export type JobName = 'sync' | 'sync-schedule' | 'hubspot-writeback';

export const JOB_NAMES: readonly JobName[] = ['sync', 'sync-schedule', 'hubspot-writeback'];

export type SendOptions = {
  singletonKey?: string;
  /** When the job may start: a Date, or milliseconds from now. */
  startAfter?: Date | number;
};

export type JobContext = { id: string; name: JobName; signal: AbortSignal };

export type JobHandler<T> = (data: T, job: JobContext) => Promise<void>;

export type JobQueue = {
  readonly kind: 'in-process' | 'pg-boss';
  /** Queues a job; null when it was merged into the same job waiting to start. */
  send(name: JobName, data: object, options?: SendOptions): Promise<string | null>;
  /** Runs `handler` for the jobs of `name` in this process (up to `concurrency` at once). */
  work<T extends object>(name: JobName, handler: JobHandler<T>, options?: { concurrency?: number }): Promise<void>;
  /** Sends `name` with `data` every `everyMinutes` minutes, under `singletonKey` (default: the job's name). */
  schedule(name: JobName, everyMinutes: number, data?: object, options?: { singletonKey?: string }): Promise<void>;
  /** Jobs of `name` waiting to start (retries included). */
  depth(name: JobName): Promise<number>;
  /** Stops taking jobs, signals running handlers to stop, and waits for them (up to a timeout). */
  stop(): Promise<void>;
};

/** Retries and time limits per job name. */
export type JobPolicy = { retryLimit: number; retryDelaySeconds: number; expireInSeconds: number };

export const JOB_POLICIES: Readonly<Record<JobName, JobPolicy>> = {
  // The engine retries a failing source itself; a job retry is for what failed around it (the store, a crash).
  sync: { retryLimit: 3, retryDelaySeconds: 30, expireInSeconds: 4 * 60 * 60 },
  'sync-schedule': { retryLimit: 0, retryDelaySeconds: 0, expireInSeconds: 5 * 60 },
  'hubspot-writeback': { retryLimit: 1, retryDelaySeconds: 60, expireInSeconds: 60 * 60 },
};

/** How long a job whose singleton key is busy waits before it is tried again (pg-boss). */
const BUSY_RETRY_SECONDS = 5;

const stableJson = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
};

/** Two sends are the same job when name, singleton key and data are equal. */
const mergeKeyOf = (singletonKey: string, data: object): string =>
  `${singletonKey}|${crypto.createHash('sha256').update(stableJson(data)).digest('base64url').slice(0, 22)}`;

const startTime = (startAfter: Date | number | undefined, now: number): number =>
  startAfter === undefined ? now : startAfter instanceof Date ? startAfter.getTime() : now + startAfter;

const errorText = (error: unknown): string => (error instanceof Error ? error.message.split('\n')[0] ?? '' : String(error));

// ---------------------------------------------------------------------------------------------------------
// In-process queue

type Waiting = {
  id: string; name: JobName; data: object; key: string | null; mergeKey: string | null; runAt: number; attempt: number;
};

export type InProcessQueueOptions = {
  logger?: Pick<Logger, 'error' | 'warn'>;
  /** Milliseconds since the epoch; the queue's clock for startAfter and retries. */
  now?: () => number;
  /** Retry delays are multiplied by this (tests make them short). */
  retryDelayScale?: number;
};

export type InProcessQueue = JobQueue & {
  /** Resolves when no job is running and none is due (jobs waiting for a later start may remain). */
  idle(): Promise<void>;
  /** The jobs waiting to start, in order (for tests and /healthz). */
  waiting(): { id: string; name: JobName; data: object; singletonKey: string | null }[];
};

/** The queue of the embedded store: in memory, not durable (scheduled pulls repair what a restart forgets). */
export const createInProcessQueue = (options: InProcessQueueOptions = {}): InProcessQueue => {
  const now = options.now ?? Date.now;
  const scale = options.retryDelayScale ?? 1;
  const handlers = new Map<JobName, { handler: JobHandler<object>; concurrency: number; running: number }>();
  let waiting: Waiting[] = [];
  const runningKeys = new Set<string>();
  const running = new Set<Promise<void>>();
  const timers = new Set<NodeJS.Timeout>();
  const intervals = new Set<NodeJS.Timeout>();
  const controller = new AbortController();
  let stopped = false;
  let idleWaiters: (() => void)[] = [];

  const wake = (atMs: number): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      pump();
    }, Math.max(0, atMs - now()));
    timer.unref();
    timers.add(timer);
  };

  const checkIdle = (): void => {
    if (running.size > 0) return;
    const t = now();
    if (waiting.some((job) => job.runAt <= t && handlers.has(job.name))) return;
    const resolve = idleWaiters;
    idleWaiters = [];
    for (const r of resolve) r();
  };

  const run = (job: Waiting, slot: { handler: JobHandler<object>; running: number }): void => {
    slot.running += 1;
    if (job.key !== null) runningKeys.add(job.key);
    const done = (async () => {
      try {
        await slot.handler(job.data, { id: job.id, name: job.name, signal: controller.signal });
      } catch (error) {
        const policy = JOB_POLICIES[job.name];
        if (job.attempt <= policy.retryLimit && !stopped) {
          const delay = policy.retryDelaySeconds * 1000 * 2 ** (job.attempt - 1) * scale;
          options.logger?.warn({ job: job.name, id: job.id, attempt: job.attempt, error: errorText(error) }, 'job failed; it will be retried');
          waiting.push({ ...job, mergeKey: null, attempt: job.attempt + 1, runAt: now() + delay });
          wake(now() + delay);
        } else {
          options.logger?.error({ job: job.name, id: job.id, attempt: job.attempt, error: errorText(error) }, 'job failed');
        }
      } finally {
        slot.running -= 1;
        if (job.key !== null) runningKeys.delete(job.key);
      }
    })();
    running.add(done);
    void done.finally(() => {
      running.delete(done);
      pump();
    });
  };

  const pump = (): void => {
    if (stopped) return;
    const t = now();
    for (const job of [...waiting]) {
      const slot = handlers.get(job.name);
      if (!slot || job.runAt > t || slot.running >= slot.concurrency) continue;
      if (job.key !== null && runningKeys.has(job.key)) continue;
      waiting = waiting.filter((w) => w !== job);
      run(job, slot);
    }
    checkIdle();
  };

  const queue: InProcessQueue = {
    kind: 'in-process',
    async send(name, data, sendOptions = {}) {
      if (stopped) throw new Error('The job queue is stopped');
      const key = sendOptions.singletonKey ?? null;
      const mergeKey = key === null ? null : `${name}:${mergeKeyOf(key, data)}`;
      if (mergeKey !== null && waiting.some((w) => w.mergeKey === mergeKey)) return null;
      const job: Waiting = { id: crypto.randomUUID(), name, data, key, mergeKey, runAt: startTime(sendOptions.startAfter, now()), attempt: 1 };
      waiting.push(job);
      if (job.runAt > now()) wake(job.runAt);
      queueMicrotask(pump);
      return job.id;
    },
    async work(name, handler, workOptions = {}) {
      handlers.set(name, { handler: handler as JobHandler<object>, concurrency: workOptions.concurrency ?? 1, running: 0 });
      queueMicrotask(pump);
    },
    async schedule(name, everyMinutes, data = {}, scheduleOptions = {}) {
      if (!(everyMinutes > 0)) throw new Error(`schedule ${name}: everyMinutes must be positive`);
      const singletonKey = scheduleOptions.singletonKey ?? name;
      const interval = setInterval(() => {
        if (!stopped) void queue.send(name, data, { singletonKey }).catch(() => undefined);
      }, everyMinutes * 60_000);
      interval.unref();
      intervals.add(interval);
    },
    async depth(name) {
      return waiting.filter((w) => w.name === name).length;
    },
    async stop() {
      stopped = true;
      controller.abort();
      for (const timer of [...timers, ...intervals]) clearTimeout(timer);
      timers.clear();
      intervals.clear();
      await Promise.allSettled([...running]);
      const resolve = idleWaiters;
      idleWaiters = [];
      for (const r of resolve) r();
    },
    idle() {
      return new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        queueMicrotask(checkIdle);
      });
    },
    waiting: () => waiting.map((w) => ({ id: w.id, name: w.name, data: w.data, singletonKey: w.key })),
  };
  return queue;
};

// ---------------------------------------------------------------------------------------------------------
// pg-boss

/** What a pg-boss job carries: the data, and the singleton key its handler runs under. */
type Envelope = { key: string | null; data: object };

export type PgBossQueueOptions = {
  connectionString: string;
  /** PostgreSQL schema of pg-boss's tables. */
  schema: string;
  logger?: Pick<Logger, 'error' | 'warn' | 'info'>;
  /** Connections of pg-boss's pool, and of the pool that holds singleton locks. */
  poolSize?: number;
  pollingIntervalSeconds?: number;
  /** Retry delays are multiplied by this (tests make them short; pg-boss counts whole seconds). */
  retryDelayScale?: number;
  /** How long stop() waits for running jobs. */
  stopTimeoutMs?: number;
  /** Seconds before a job whose singleton key is busy is tried again. */
  busyRetrySeconds?: number;
};

/** The advisory-lock class of singleton keys (an arbitrary constant of this application). */
const LOCK_CLASS = 724_311_002;

/** The PostgreSQL queue: pg-boss, started (its schema created or migrated) before this resolves. */
export const createPgBossQueue = async (options: PgBossQueueOptions): Promise<JobQueue> => {
  const poolSize = options.poolSize ?? 4;
  const scale = options.retryDelayScale ?? 1;
  const boss = new PgBoss({
    connectionString: options.connectionString,
    schema: options.schema,
    max: poolSize,
    application_name: 'arbridge-jobs',
  });
  boss.on('error', (error) => options.logger?.error({ error: errorText(error) }, 'job queue error'));
  await boss.start();
  const locks = new pg.Pool({ connectionString: options.connectionString, max: poolSize, application_name: 'arbridge-job-locks' });
  locks.on('error', (error) => options.logger?.error({ error: errorText(error) }, 'job lock connection error'));

  const created = new Set<JobName>();
  const ensureQueue = async (name: JobName): Promise<void> => {
    if (created.has(name)) return;
    const policy = JOB_POLICIES[name];
    if (!(await boss.getQueue(name))) {
      try {
        // `short`: at most one job per singleton key waits to start (a second send of it is merged).
        await boss.createQueue(name, {
          name, policy: 'short', retryLimit: policy.retryLimit,
          retryDelay: Math.max(1, Math.round(policy.retryDelaySeconds * scale)), retryBackoff: true,
          expireInSeconds: policy.expireInSeconds,
        });
      } catch (error) {
        // Another instance created it meanwhile.
        if (!(await boss.getQueue(name))) throw error;
      }
    }
    created.add(name);
  };

  const controller = new AbortController();
  const localWorkers = new Map<JobName, string[]>();

  const send = async (name: JobName, data: object, sendOptions: SendOptions = {}): Promise<string | null> => {
    await ensureQueue(name);
    const key = sendOptions.singletonKey ?? null;
    const envelope: Envelope = { key, data };
    // The `short` policy keeps one waiting job per pg-boss singleton key: a job without a key gets one of its own.
    const id = await boss.send(name, envelope, {
      singletonKey: key !== null ? mergeKeyOf(key, data) : `once:${crypto.randomUUID()}`,
      ...(sendOptions.startAfter !== undefined ? { startAfter: new Date(startTime(sendOptions.startAfter, Date.now())) } : {}),
    });
    // Workers of this instance look now rather than at their next poll.
    if (id !== null && sendOptions.startAfter === undefined) for (const worker of localWorkers.get(name) ?? []) boss.notifyWorker(worker);
    return id;
  };

  /** Runs `run` holding the key's advisory lock; false (nothing run) when another session holds it. */
  const withKeyLock = async (key: string, run: () => Promise<void>): Promise<boolean> => {
    const client = await locks.connect();
    let broken = false;
    try {
      const got = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', [LOCK_CLASS, key]);
      if (!got.rows[0]?.ok) return false;
      try {
        await run();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [LOCK_CLASS, key]).catch(() => {
          broken = true;
        });
      }
      return true;
    } finally {
      // A connection whose unlock failed is dropped, and its session's locks with it.
      client.release(broken);
    }
  };

  return {
    kind: 'pg-boss',
    send,
    async work(name, handler, workOptions = {}) {
      await ensureQueue(name);
      const ids: string[] = [];
      for (let i = 0; i < (workOptions.concurrency ?? 1); i += 1) {
        ids.push(await boss.work<Envelope>(name, {
          batchSize: 1, pollingIntervalSeconds: options.pollingIntervalSeconds ?? 2,
        }, async ([job]) => {
          if (!job) return;
          const { key, data } = job.data;
          const context: JobContext = { id: job.id, name, signal: controller.signal };
          if (key === null) {
            await handler(data as Parameters<typeof handler>[0], context);
            return;
          }
          const ran = await withKeyLock(key, () => handler(data as Parameters<typeof handler>[0], context));
          if (!ran) await send(name, data, { singletonKey: key, startAfter: (options.busyRetrySeconds ?? BUSY_RETRY_SECONDS) * 1000 });
        }));
      }
      localWorkers.set(name, [...(localWorkers.get(name) ?? []), ...ids]);
    },
    async schedule(name, everyMinutes, data = {}, scheduleOptions = {}) {
      await ensureQueue(name);
      const key = scheduleOptions.singletonKey ?? name;
      await boss.schedule(name, cronEvery(everyMinutes), { key, data } satisfies Envelope, { singletonKey: mergeKeyOf(key, data) });
    },
    async depth(name) {
      await ensureQueue(name);
      return boss.getQueueSize(name);
    },
    async stop() {
      controller.abort();
      await boss.stop({ graceful: true, wait: true, timeout: options.stopTimeoutMs ?? 30_000 });
      await locks.end();
    },
  };
};

/** A cron expression for "every N minutes" (minute granularity; above an hour, every round number of hours). */
export const cronEvery = (minutes: number): string => {
  if (!Number.isInteger(minutes) || minutes < 1) throw new Error(`every ${minutes} minutes: a whole number of minutes is needed`);
  if (minutes === 1) return '* * * * *';
  if (minutes < 60) return `*/${minutes} * * * *`;
  const hours = Math.round(minutes / 60);
  return hours >= 24 ? '0 0 * * *' : `0 */${hours} * * *`;
};

/** pg-boss's schema: beside the store's (DATABASE_SCHEMA + `_jobs`), else `pgboss`. */
export const jobsSchemaFor = (databaseSchema: string | null): string => {
  if (databaseSchema === null) return 'pgboss';
  const name = `${databaseSchema}_jobs`;
  return name.length <= 50 ? name : `jobs_${crypto.createHash('sha256').update(databaseSchema).digest('hex').slice(0, 20)}`;
};

/** The queue that goes with the store: pg-boss on PostgreSQL, in-process on the embedded store. */
export const openJobQueue = async (
  store: { kind: 'pglite' | 'postgres' }, config: { databaseUrl: string | null; databaseSchema: string | null }, logger: Logger,
): Promise<JobQueue> => {
  if (store.kind === 'postgres' && config.databaseUrl !== null) {
    return createPgBossQueue({ connectionString: config.databaseUrl, schema: jobsSchemaFor(config.databaseSchema), logger });
  }
  return createInProcessQueue({ logger });
};
