import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { today } from '../src/clock';
import { loadConfig } from '../src/config';
import { createApp } from '../src/http/app';
import { setCompanyLink } from '../src/hubspot/links';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, signHubSpotV3 } from '../src/hubspot/signature';
import { createLogger } from '../src/logger';
import { loadDemo } from '../src/services/demo';
import { openStore } from '../src/store/store';

// npm run bench:cards -- [--rate 200] [--seconds 30] [--invoices 500] [--seed S]
// The company card endpoint of the real service app (PGlite store in a temporary directory, one customer with
// N invoices and their payments, linked to a HubSpot company), called open-loop at a fixed rate with a fresh
// v3 signature per request over keep-alive connections. Baseline from the same run and process: a tiny
// express app answering the same bytes as a fixed JSON body, at the same rate and duration, measured first.
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

const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;
const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

type Target = { port: number; path: string; headers: () => Record<string, string> };
type Outcome = { latencyMs: number; status: number; bytes: number };

/** One GET over the agent; resolves with the status and body length (status 0 on a connection error). */
const send = (agent: http.Agent, target: Target): Promise<{ status: number; body: Buffer }> =>
  new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: target.port, path: target.path, method: 'GET', agent, headers: target.headers() }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', () => resolve({ status: 0, body: Buffer.alloc(0) }));
    });
    req.on('error', () => resolve({ status: 0, body: Buffer.alloc(0) }));
    req.end();
  });

/**
 * Open loop: request i is due at start + i / rate whatever happened to earlier ones, and its latency counts
 * from that due time, so a slow server (or a late timer) shows up in the figures instead of slowing the load.
 */
const openLoop = async (agent: http.Agent, target: Target, rate: number, seconds: number): Promise<{ outcomes: Outcome[]; maxSendLagMs: number }> => {
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const outcomes: Outcome[] = [];
  const pending: Promise<void>[] = [];
  let maxSendLagMs = 0;
  const start = nowMs() + 20;
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = nowMs();
      while (next < total && start + next * interval <= now) {
        const due = start + next * interval;
        maxSendLagMs = Math.max(maxSendLagMs, now - due);
        pending.push(send(agent, target).then(({ status, body }) => {
          outcomes.push({ latencyMs: nowMs() - due, status, bytes: body.length });
        }));
        next += 1;
      }
      if (next >= total) {
        resolve();
        return;
      }
      setTimeout(tick, Math.max(0, start + next * interval - nowMs()));
    };
    tick();
  });
  await Promise.all(pending);
  return { outcomes, maxSendLagMs };
};

type Figures = {
  p50_ms: number; p99_ms: number; max_ms: number; errors: number; requests: number; bytes: number; max_send_lag_ms: number;
  /** Responses other than 200 by status (0: the connection failed). */
  error_statuses: Record<string, number>;
};

const percentile = (sorted: number[], p: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;

/** Percentiles over every request, errors included (an error's latency is when its response ended). */
const figuresOf = ({ outcomes, maxSendLagMs }: { outcomes: Outcome[]; maxSendLagMs: number }): Figures => {
  const latencies = outcomes.map((o) => o.latencyMs).sort((a, b) => a - b);
  const ok = outcomes.find((o) => o.status === 200);
  const errorStatuses: Record<string, number> = {};
  for (const o of outcomes) if (o.status !== 200) errorStatuses[String(o.status)] = (errorStatuses[String(o.status)] ?? 0) + 1;
  return {
    p50_ms: round(percentile(latencies, 50)),
    p99_ms: round(percentile(latencies, 99)),
    max_ms: round(latencies[latencies.length - 1] ?? NaN),
    errors: outcomes.filter((o) => o.status !== 200).length,
    requests: outcomes.length,
    bytes: ok?.bytes ?? 0,
    max_send_lag_ms: round(maxSendLagMs),
    error_statuses: errorStatuses,
  };
};

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
  const agent = new http.Agent({ keepAlive: true });
  try {
    const asOf = today();
    const setupStart = nowMs();
    const loaded = await loadDemo(store.db, PORTAL, { customers: 1, invoices: args.invoices, seed: args.seed, endDate: asOf });
    if (loaded.customers !== 1 || loaded.invoices !== args.invoices) {
      throw new Error(`loadDemo gave ${loaded.customers} customers and ${loaded.invoices} invoices, not 1 and ${args.invoices}`);
    }
    const customer = await store.db.selectFrom('customers').select('id').where('portal_id', '=', PORTAL).executeTakeFirstOrThrow();
    await setCompanyLink(store.db, PORTAL, { customerId: String(customer.id), companyId: COMPANY_ID, method: 'explicit_id' });
    const setupMs = nowMs() - setupStart;

    const config = loadConfig({
      NODE_ENV: 'development', LOG_LEVEL: 'silent', ARBRIDGE_DATA_DIR: dir, ARBRIDGE_DEMO: 'off',
      HUBSPOT_CLIENT_SECRET: CLIENT_SECRET, ARBRIDGE_PUBLIC_URL: PUBLIC_URL,
      HUBSPOT_ACCESS_TOKEN: 'bench-private-token', HUBSPOT_PORTAL_ID: String(PORTAL), HUBSPOT_PUSH_INTERVAL_MINUTES: '0',
    });
    const cardServer = await listen(createApp({ db: store.db, config, logger: createLogger(config.logLevel), today }));
    servers.push(cardServer);
    const card: Target = {
      port: portOf(cardServer),
      path: CARD_PATH,
      headers: () => {
        const timestamp = String(Date.now());
        const signature = signHubSpotV3({ method: 'GET', url: PUBLIC_URL + CARD_PATH, rawBody: '', timestamp, clientSecret: CLIENT_SECRET });
        return { [SIGNATURE_HEADER]: signature, [TIMESTAMP_HEADER]: timestamp };
      },
    };

    // One card answer, checked, is also the baseline's fixed body: the same bytes, served from memory.
    const first = await send(agent, card);
    if (first.status !== 200) throw new Error(`the company card answered ${first.status}: ${first.body.toString('utf8').slice(0, 500)}`);
    const answer = JSON.parse(first.body.toString('utf8')) as { match?: { status?: string }; summary?: { invoices?: unknown[] } | null };
    const shown = answer.summary?.invoices?.length ?? 0;
    if (answer.match?.status !== 'matched' || shown !== args.invoices) {
      throw new Error(`the company card shows ${shown} invoices (match ${String(answer.match?.status)}), not ${args.invoices}`);
    }
    const staticBody = first.body;
    const staticApp = express();
    staticApp.disable('x-powered-by');
    staticApp.get('/static', (_req, res) => {
      res.type('application/json').send(staticBody);
    });
    const staticServer = await listen(staticApp);
    servers.push(staticServer);
    const fixed: Target = { port: portOf(staticServer), path: '/static', headers: () => ({}) };

    // Warm-up (not measured): JIT, connection pool, the store's caches.
    for (const target of [fixed, card]) {
      for (let i = 0; i < WARMUP_REQUESTS; i += 1) await send(agent, target);
    }

    const fixedFigures = figuresOf(await openLoop(agent, fixed, args.rate, args.seconds));
    const cardFigures = figuresOf(await openLoop(agent, card, args.rate, args.seconds));

    process.stdout.write(`PGlite; 1 company, ${loaded.invoices} invoices, ${loaded.payments} payments; setup ${round(setupMs / 1000)} s; ` +
      `response ${cardFigures.bytes} bytes; ${args.rate} requests/s for ${args.seconds} s each, open loop\n`);
    process.stdout.write('endpoint        requests  errors   p50 ms   p99 ms   max ms  max send lag ms\n');
    for (const [label, f] of [['static JSON', fixedFigures], ['company card', cardFigures]] as const) {
      process.stdout.write(`${label.padEnd(14)}  ${String(f.requests).padStart(8)}  ${String(f.errors).padStart(6)}  ${String(f.p50_ms).padStart(7)}  ` +
        `${String(f.p99_ms).padStart(7)}  ${String(f.max_ms).padStart(7)}  ${String(f.max_send_lag_ms).padStart(15)}\n`);
    }
    const figures = {
      bench: 'cards', invoices: loaded.invoices, payments: loaded.payments, rate: args.rate, seconds: args.seconds, response_bytes: cardFigures.bytes,
      card: cardFigures, static: fixedFigures,
      p99_ratio_vs_static: round(cardFigures.p99_ms / fixedFigures.p99_ms),
      goal_p99_ms: GOAL_P99_MS,
      goal_met: cardFigures.errors === 0 && cardFigures.p99_ms <= GOAL_P99_MS,
    };
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } finally {
    agent.destroy();
    for (const server of servers) await close(server);
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
};

main().catch((error: unknown) => {
  process.stderr.write(`bench:cards failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
