import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import express from 'express';
import { today } from '../src/clock';
import { loadConfig } from '../src/config';
import { createApp } from '../src/http/app';
import { setCompanyLink } from '../src/hubspot/links';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, signHubSpotV3 } from '../src/hubspot/signature';
import { createLogger } from '../src/logger';
import { loadDemo } from '../src/services/demo';
import { touchPortal } from '../src/store/facts';
import { openStore } from '../src/store/store';
import type { LoadRequest, LoadResult, LoadTarget } from './cards-client';

// npm run bench:cards -- [--rate 200] [--seconds 30] [--invoices 500] [--seed S]
// The company card endpoint of the real service app (PGlite store in a temporary directory, one customer with
// N invoices and their payments, linked to a HubSpot company), called open-loop at a fixed rate with a fresh
// v3 signature per request over keep-alive connections. Baseline from the same run, served by this process the
// same way: a tiny express app answering the card's bytes (and ETag) as a fixed JSON body, at the same rate and
// duration, measured first. The server (both apps) runs in this process; the load comes from a child process
// (bench/cards-client.ts), so the client's work never runs on the server's event loop or heap.
// Latency runs from each request's scheduled send time to the end of its response (no coordinated
// omission); a response other than 200 counts as an error. Last stdout line: one JSON object of figures.

type Args = { rate: number; seconds: number; invoices: number; seed: number };

const parseArgs = (argv: string[]): Args => {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const positive = (name: string, fallback: number): number => {
    const value = Number(get(name) ?? fallback);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
    return value;
  };
  return {
    rate: positive('rate', 200),
    seconds: positive('seconds', 30),
    invoices: Math.round(positive('invoices', 500)),
    seed: Number(get('seed') ?? 5),
  };
};

const PORTAL = 880_005;
const COMPANY_ID = '5005005005';
const CLIENT_SECRET = 'bench-client-secret';
const PUBLIC_URL = 'https://arbridge.example.com';
const CARD_PATH = `/api/v1/cards/company?objectId=${COMPANY_ID}&portalId=${PORTAL}&userId=1&userEmail=a%40b.c&appId=1`;
const GOAL_P99_MS = 25;
const WARMUP_REQUESTS = 200;
const UNCACHED_REQUESTS = 30;

const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;

type Figures = {
  p50_ms: number; p99_ms: number; max_ms: number; errors: number; requests: number; bytes: number; max_send_lag_ms: number;
  /** Responses other than 200 by status (0: the connection failed). */
  error_statuses: Record<string, number>;
  /** CPU time of the server process (both apps, the store, its garbage collector) per request. */
  server_cpu_ms_per_request: number;
  /** Share of the phase the server's event loop was busy. */
  server_event_loop_utilization: number;
};

const percentile = (sorted: number[], p: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;

/** Percentiles over every request, errors included (an error's latency is when its response ended). */
const figuresOf = (result: LoadResult, server: { cpuMs: number; elu: number }): Figures => {
  const latencies = [...result.latencyMs].sort((a, b) => a - b);
  const errorStatuses: Record<string, number> = {};
  let errors = 0;
  for (const status of result.status) {
    if (status === 200) continue;
    errors += 1;
    errorStatuses[String(status)] = (errorStatuses[String(status)] ?? 0) + 1;
  }
  const ok = result.status.indexOf(200);
  return {
    p50_ms: round(percentile(latencies, 50)),
    p99_ms: round(percentile(latencies, 99)),
    max_ms: round(latencies[latencies.length - 1] ?? NaN),
    errors,
    requests: latencies.length,
    bytes: ok >= 0 ? result.bytes[ok]! : 0,
    max_send_lag_ms: round(result.maxSendLagMs),
    error_statuses: errorStatuses,
    server_cpu_ms_per_request: round(server.cpuMs / Math.max(1, latencies.length), 3),
    server_event_loop_utilization: round(server.elu, 3),
  };
};

/** The load client, a child process; `load` runs one phase there and resolves with its result. */
const startClient = (): { load: (request: LoadRequest) => Promise<LoadResult>; stop: () => void } => {
  const child: ChildProcess = fork(path.join(__dirname, 'cards-client.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let waiting: { resolve: (result: LoadResult) => void; reject: (error: Error) => void } | null = null;
  child.on('message', (message) => {
    const w = waiting;
    waiting = null;
    w?.resolve(message as LoadResult);
  });
  child.on('exit', (code) => {
    const w = waiting;
    waiting = null;
    w?.reject(new Error(`the load client exited (code ${String(code)})`));
  });
  return {
    load: (request) => new Promise<LoadResult>((resolve, reject) => {
      if (waiting !== null) throw new Error('one load phase at a time');
      waiting = { resolve, reject };
      child.send(request);
    }),
    stop: () => {
      if (child.connected) child.disconnect();
    },
  };
};

/** One phase of load, with the server process's CPU time and event-loop utilization over it. */
const measured = async (client: ReturnType<typeof startClient>, request: LoadRequest): Promise<Figures> => {
  const cpuBefore = process.cpuUsage();
  const eluBefore = performance.eventLoopUtilization();
  const result = await client.load(request);
  const cpu = process.cpuUsage(cpuBefore);
  const elu = performance.eventLoopUtilization(eluBefore);
  return figuresOf(result, { cpuMs: (cpu.user + cpu.system) / 1000, elu: elu.utilization });
};

/** One signed GET from this process (setup only: the body is checked and becomes the static baseline). */
const fetchOnce = (port: number, headers: Record<string, string>): Promise<{ status: number; etag: string | undefined; body: Buffer }> =>
  new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: CARD_PATH, method: 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, etag: res.headers.etag, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });

const listen = (app: express.Express): Promise<http.Server> =>
  new Promise((resolve, reject) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
    server.once('error', reject);
  });

const portOf = (server: http.Server): number => (server.address() as AddressInfo).port;

const close = (server: http.Server): Promise<void> =>
  new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

const main = async (): Promise<void> => {
  const args = parseArgs(process.argv.slice(2));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbridge-bench-cards-'));
  const store = await openStore({ kind: 'pglite', dataDir: dir }).catch((error: unknown) => {
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  });
  const servers: http.Server[] = [];
  let client: ReturnType<typeof startClient> | null = null;
  try {
    const asOf = today();
    const setupStart = performance.now();
    const loaded = await loadDemo(store.db, PORTAL, { customers: 1, invoices: args.invoices, seed: args.seed, endDate: asOf });
    if (loaded.customers !== 1 || loaded.invoices !== args.invoices) {
      throw new Error(`loadDemo gave ${loaded.customers} customers and ${loaded.invoices} invoices, not 1 and ${args.invoices}`);
    }
    const customer = await store.db.selectFrom('customers').select('id').where('portal_id', '=', PORTAL).executeTakeFirstOrThrow();
    await setCompanyLink(store.db, PORTAL, { customerId: String(customer.id), companyId: COMPANY_ID, method: 'explicit_id' });
    const setupMs = performance.now() - setupStart;

    const config = loadConfig({
      NODE_ENV: 'development', LOG_LEVEL: 'silent', ARBRIDGE_DATA_DIR: dir, ARBRIDGE_DEMO: 'off',
      HUBSPOT_CLIENT_SECRET: CLIENT_SECRET, ARBRIDGE_PUBLIC_URL: PUBLIC_URL,
      HUBSPOT_ACCESS_TOKEN: 'bench-private-token', HUBSPOT_PORTAL_ID: String(PORTAL), HUBSPOT_PUSH_INTERVAL_MINUTES: '0',
    });
    const cardServer = await listen(createApp({ db: store.db, config, logger: createLogger(config.logLevel), today }));
    servers.push(cardServer);

    const signedHeaders = (): Record<string, string> => {
      const timestamp = String(Date.now());
      const signature = signHubSpotV3({ method: 'GET', url: PUBLIC_URL + CARD_PATH, rawBody: '', timestamp, clientSecret: CLIENT_SECRET });
      return { [SIGNATURE_HEADER]: signature, [TIMESTAMP_HEADER]: timestamp };
    };

    // One card answer, checked, is also the baseline's fixed body: the same bytes and ETag, served from memory.
    const first = await fetchOnce(portOf(cardServer), signedHeaders());
    if (first.status !== 200) throw new Error(`the company card answered ${first.status}: ${first.body.toString('utf8').slice(0, 500)}`);
    const answer = JSON.parse(first.body.toString('utf8')) as { match?: { status?: string }; summary?: { invoices?: unknown[] } | null };
    const shown = answer.summary?.invoices?.length ?? 0;
    if (answer.match?.status !== 'matched' || shown !== args.invoices) {
      throw new Error(`the company card shows ${shown} invoices (match ${String(answer.match?.status)}), not ${args.invoices}`);
    }
    const staticBody = first.body;
    const staticEtag = first.etag ?? '"static"';
    const staticApp = express();
    staticApp.disable('x-powered-by');
    staticApp.get('/static', (_req, res) => {
      res.set('ETag', staticEtag).type('application/json').send(staticBody);
    });
    const staticServer = await listen(staticApp);
    servers.push(staticServer);

    const card: LoadTarget = { port: portOf(cardServer), path: CARD_PATH, signWith: { clientSecret: CLIENT_SECRET, publicUrl: PUBLIC_URL } };
    const fixed: LoadTarget = { port: portOf(staticServer), path: '/static' };
    client = startClient();
    for (const target of [fixed, card]) await client.load({ target, rate: args.rate, seconds: 0, warmup: WARMUP_REQUESTS });
    const loadBefore = os.loadavg()[0]!;
    const fixedFigures = await measured(client, { target: fixed, rate: args.rate, seconds: args.seconds, warmup: 0 });
    const cardFigures = await measured(client, { target: card, rate: args.rate, seconds: args.seconds, warmup: 0 });
    const loadAfter = os.loadavg()[0]!;

    // Cache misses, one at a time: each request follows a write to the portal (touchPortal), so its answer is
    // computed afresh (store reads, domain, serialization), as the first card view after a sync is.
    const missMs: number[] = [];
    for (let i = 0; i < UNCACHED_REQUESTS; i += 1) {
      await touchPortal(store.db, PORTAL);
      const started = performance.now();
      const miss = await fetchOnce(portOf(cardServer), signedHeaders());
      missMs.push(performance.now() - started);
      if (miss.status !== 200) throw new Error(`an uncached company card answered ${miss.status}`);
    }
    missMs.sort((a, b) => a - b);
    const uncached = { requests: UNCACHED_REQUESTS, p50_ms: round(percentile(missMs, 50)), max_ms: round(missMs[missMs.length - 1]!) };

    process.stdout.write(`PGlite; 1 company, ${loaded.invoices} invoices, ${loaded.payments} payments; setup ${round(setupMs / 1000)} s; ` +
      `response ${cardFigures.bytes} bytes; ${args.rate} requests/s for ${args.seconds} s each, open loop from a child process; ` +
      `load average ${round(loadBefore)} -> ${round(loadAfter)} (${os.cpus().length} CPUs)\n`);
    process.stdout.write('endpoint        requests  errors   p50 ms   p99 ms   max ms  max send lag ms  server CPU ms/req\n');
    for (const [label, f] of [['static JSON', fixedFigures], ['company card', cardFigures]] as const) {
      process.stdout.write(`${label.padEnd(14)}  ${String(f.requests).padStart(8)}  ${String(f.errors).padStart(6)}  ${String(f.p50_ms).padStart(7)}  ` +
        `${String(f.p99_ms).padStart(7)}  ${String(f.max_ms).padStart(7)}  ${String(f.max_send_lag_ms).padStart(15)}  ` +
        `${String(f.server_cpu_ms_per_request).padStart(17)}\n`);
    }
    process.stdout.write(`company card, uncached (after a write, ${uncached.requests} one at a time): p50 ${uncached.p50_ms} ms, max ${uncached.max_ms} ms\n`);
    const figures = {
      bench: 'cards', invoices: loaded.invoices, payments: loaded.payments, rate: args.rate, seconds: args.seconds, response_bytes: cardFigures.bytes,
      card: cardFigures, static: fixedFigures, card_uncached: uncached,
      p99_ratio_vs_static: round(cardFigures.p99_ms / fixedFigures.p99_ms),
      goal_p99_ms: GOAL_P99_MS,
      goal_met: cardFigures.errors === 0 && cardFigures.p99_ms <= GOAL_P99_MS,
      load_average: { before: round(loadBefore), after: round(loadAfter), cpus: os.cpus().length },
    };
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } finally {
    client?.stop();
    for (const server of servers) await close(server);
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
};

main().catch((error: unknown) => {
  process.stderr.write(`bench:cards failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
