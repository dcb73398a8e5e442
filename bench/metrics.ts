import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CompiledQuery, sql } from 'kysely';
import pg from 'pg';
import { generatePortfolio } from '../src/demo/generate';
import { DEFAULT_POLICY } from '../src/domain/policy';
import { loadDemo } from '../src/services/demo';
import type { DatabaseOptions, Db } from '../src/store/database';
import { recomputeCustomers } from '../src/services/recompute';
import { openStore } from '../src/store/store';

// npm run bench:metrics -- --invoices 1000000 [--customers N] [--seed S] [--stores pglite,postgres]
// Generates a portfolio, bulk-loads it, and recomputes every customer's metrics and risk, on each store.
// Baselines measured in the same run on the same data: a raw multi-row INSERT of the same rows, and one SQL
// GROUP BY customer summing open balances. Last stdout line: one JSON object of figures and ratios.

type Args = { invoices: number; customers: number; seed: number; stores: ('pglite' | 'postgres')[]; asOf: string };

const parseArgs = (argv: string[]): Args => {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const invoices = Number(get('invoices') ?? 100_000);
  const stores = (get('stores') ?? 'pglite,postgres').split(',').filter((s): s is 'pglite' | 'postgres' => s === 'pglite' || s === 'postgres');
  return {
    invoices,
    customers: Number(get('customers') ?? Math.max(50, Math.round(invoices / 50))),
    seed: Number(get('seed') ?? 7),
    stores,
    asOf: get('as-of') ?? '2026-06-30',
  };
};

const seconds = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9;
const round = (x: number, digits = 3): number => Math.round(x * 10 ** digits) / 10 ** digits;
const mib = (bytes: number): number => Math.round(bytes / 1024 / 1024);

/** Samples RSS while `run` works, for the peak of one phase (the process-wide peak includes loading). */
const withPeakRss = async <T>(run: () => Promise<T>): Promise<{ value: T; peakRss: number }> => {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage.rss()); }, 20);
  try {
    const value = await run();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { value, peakRss: peak };
  } finally {
    clearInterval(timer);
  }
};

/**
 * The baseline load: the same customers, invoices, payments and allocations as plain multi-row INSERTs
 * (1,000 rows a statement, ids assigned up front) into copies of the real tables with the same columns,
 * defaults, checks, unique keys and indexes (LIKE … INCLUDING ALL), only without foreign keys.
 */
const rawInsert = async (db: Db, args: Args): Promise<number> => {
  const tables = ['customers', 'invoices', 'payments', 'payment_allocations'] as const;
  for (const table of tables) {
    await sql.raw(`DROP TABLE IF EXISTS raw_${table}; CREATE TABLE raw_${table} (LIKE ${table} INCLUDING ALL)`).execute(db);
  }
  let elapsed = 0;
  const ROWS = 1_000;
  const pending: Record<(typeof tables)[number], unknown[][]> = { customers: [], invoices: [], payments: [], payment_allocations: [] };
  const COLUMNS: Record<(typeof tables)[number], string> = {
    customers: 'id, portal_id, source, external_id, name, domain, industry, country',
    invoices: 'id, portal_id, source, external_id, customer_id, number, currency, total_minor, issue_date, due_date, voided_date, disputed, sales_rep, product, deal_id, terms',
    payments: 'id, portal_id, source, external_id, kind, payment_date, currency, amount_minor',
    payment_allocations: 'portal_id, payment_id, invoice_id, customer_id, payment_date, kind, amount_minor',
  };
  const insert = async (trx: Db, table: (typeof tables)[number]): Promise<void> => {
    const rows = pending[table];
    if (rows.length === 0) return;
    pending[table] = [];
    const width = rows[0]!.length;
    const values = rows.map((_, r) => `(${Array.from({ length: width }, (_c, c) => `$${r * width + c + 1}`).join(',')})`).join(',');
    const text = `INSERT INTO raw_${table} (${COLUMNS[table]}) VALUES ${values}`;
    const start = process.hrtime.bigint();
    await trx.executeQuery(CompiledQuery.raw(text, rows.flat()));
    elapsed += seconds(start);
  };
  await db.transaction().execute(async (trx) => {
    const add = async (table: (typeof tables)[number], row: unknown[]): Promise<void> => {
      pending[table].push(row);
      if (pending[table].length >= ROWS) await insert(trx, table);
    };
    let customerId = 0;
    let invoiceId = 0;
    let paymentId = 0;
    for (const item of generatePortfolio({ customers: args.customers, invoices: args.invoices, seed: args.seed, endDate: args.asOf })) {
      const c = item.customer;
      customerId += 1;
      await add('customers', [customerId, 1, 'csv', c.id, c.name, c.domain, c.industry, c.country]);
      for (const i of item.invoices) {
        invoiceId += 1;
        await add('invoices', [invoiceId, 1, 'csv', i.id, customerId, i.number, i.currency, i.totalMinor, i.issueDate, i.dueDate, i.voidedDate, i.disputed, i.salesRep, i.product, i.dealId, i.terms]);
        for (const st of i.settlements) {
          paymentId += 1;
          await add('payments', [paymentId, 1, 'csv', st.id, st.kind, st.date, i.currency, st.amountMinor]);
          await add('payment_allocations', [1, paymentId, invoiceId, customerId, st.date, st.kind, st.amountMinor]);
        }
      }
    }
    for (const table of tables) await insert(trx, table);
  });
  for (const table of tables) await sql.raw(`DROP TABLE raw_${table}`).execute(db);
  return elapsed;
};

/** The baseline query: open balance per customer as of D in one GROUP BY. */
const groupByBaseline = async (db: Db, portalId: number, asOf: string): Promise<{ seconds: number; customers: number }> => {
  const start = process.hrtime.bigint();
  const result = await sql<{ customer_id: number; open: number }>`
    SELECT i.customer_id, sum(i.total_minor - coalesce(s.settled, 0)) AS open
    FROM invoices i
    LEFT JOIN (SELECT a.invoice_id, sum(a.amount_minor) AS settled
               FROM payment_allocations a
               WHERE a.portal_id = ${portalId} AND a.payment_date <= ${asOf} GROUP BY a.invoice_id) s ON s.invoice_id = i.id
    WHERE i.portal_id = ${portalId} AND i.issue_date <= ${asOf} AND (i.voided_date IS NULL OR i.voided_date > ${asOf})
    GROUP BY i.customer_id`.execute(db);
  return { seconds: seconds(start), customers: result.rows.length };
};

/** Every customer's metrics and risk (per currency), the way a full roll-up recompute runs. */
const recompute = async (db: Db, portalId: number, asOf: string): Promise<{ seconds: number; customers: number; checksum: number }> => {
  const start = process.hrtime.bigint();
  let checksum = 0;
  const { customers } = await recomputeCustomers(db, portalId, asOf, DEFAULT_POLICY, (rollups) => {
    for (const r of rollups) checksum += (r.metrics.outstandingMinor % 1_000) + r.risk.score;
  });
  return { seconds: seconds(start), customers, checksum };
};

const storeOptions = async (kind: 'pglite' | 'postgres', cleanups: (() => Promise<void>)[]): Promise<DatabaseOptions | null> => {
  if (kind === 'pglite') {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbridge-bench-'));
    cleanups.push(async () => fs.rmSync(dataDir, { recursive: true, force: true }));
    return { kind: 'pglite', dataDir };
  }
  const url = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
  } catch (error) {
    process.stdout.write(`postgres: skipped, ${url} is unreachable (${(error as Error).message})\n`);
    return null;
  } finally {
    await client.end().catch(() => undefined);
  }
  const schema = `bench_${process.pid}`;
  cleanups.push(async () => {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });
  return { kind: 'postgres', url, schema };
};

/**
 * The recompute phase runs in a fresh process that reopens the loaded store, as a service does after a
 * restart, so that its peak RSS is its own and not the loading's.
 */
const recomputePhase = async (options: DatabaseOptions, asOf: string): Promise<void> => {
  const store = await openStore(options);
  try {
    const portalId = 1;
    const runs = [await groupByBaseline(store.db, portalId, asOf), await groupByBaseline(store.db, portalId, asOf)];
    const { value, peakRss } = await withPeakRss(() => recompute(store.db, portalId, asOf));
    const figures = {
      group_by_s: Math.min(...runs.map((r) => r.seconds)),
      recompute_s: value.seconds,
      customers: value.customers,
      checksum: value.checksum,
      sampled_peak_rss: peakRss,
      max_rss: process.resourceUsage().maxRSS * 1024,
    };
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } finally {
    await store.close();
  }
};

type PhaseFigures = { group_by_s: number; recompute_s: number; customers: number; max_rss: number };

const runRecomputeProcess = (options: DatabaseOptions, asOf: string): PhaseFigures => {
  const child = spawnSync(process.execPath, [...process.execArgv, __filename, '--phase', 'recompute', '--store', JSON.stringify(options), '--as-of', asOf], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 16 * 1024 * 1024,
  });
  if (child.status !== 0) throw new Error(`recompute phase failed with status ${child.status}`);
  const last = child.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as PhaseFigures;
};

const main = async (): Promise<void> => {
  const argv = process.argv.slice(2);
  if (argv[0] === '--phase' && argv[1] === 'recompute') {
    const store = argv[argv.indexOf('--store') + 1] ?? '';
    const asOf = argv[argv.indexOf('--as-of') + 1] ?? '';
    await recomputePhase(JSON.parse(store) as DatabaseOptions, asOf);
    return;
  }
  const args = parseArgs(argv);
  process.stdout.write(`bench:metrics: ${args.invoices} invoices, ${args.customers} customers, seed ${args.seed}, as of ${args.asOf}\n`);
  const results: Record<string, unknown> = {};
  for (const kind of args.stores) {
    const cleanups: (() => Promise<void>)[] = [];
    try {
      const options = await storeOptions(kind, cleanups);
      if (!options) continue;
      const wallStart = process.hrtime.bigint();
      const store = await openStore(options);
      let loaded: { invoices: number; payments: number };
      let load: number;
      let raw: number;
      try {
        const loadStart = process.hrtime.bigint();
        loaded = await loadDemo(store.db, 1, { customers: args.customers, invoices: args.invoices, seed: args.seed, endDate: args.asOf });
        load = seconds(loadStart);
        raw = await rawInsert(store.db, args);
        await sql`ANALYZE`.execute(store.db);
      } finally {
        await store.close();
      }
      const phase = runRecomputeProcess(options, args.asOf);
      const wall = seconds(wallStart);
      const figures = {
        wall_s: round(wall),
        invoices: loaded.invoices,
        payments: loaded.payments,
        customers: phase.customers,
        load_s: round(load),
        raw_insert_s: round(raw),
        load_vs_raw_insert: round(raw / load),
        group_by_s: round(phase.group_by_s),
        recompute_s: round(phase.recompute_s),
        recompute_vs_group_by: round(phase.recompute_s / phase.group_by_s),
        recompute_peak_rss_mib: mib(phase.max_rss),
        goals_met: raw / load >= 0.5 && phase.recompute_s / phase.group_by_s <= 3 && phase.max_rss <= 1024 ** 3,
      };
      results[kind] = figures;
      process.stdout.write(
        `${kind}: wall ${figures.wall_s}s; load ${figures.load_s}s (raw INSERT ${figures.raw_insert_s}s, ratio ${figures.load_vs_raw_insert}, goal >= 0.5); ` +
          `recompute ${figures.recompute_s}s for ${figures.customers} customers (GROUP BY ${figures.group_by_s}s, ratio ${figures.recompute_vs_group_by}, goal <= 3); ` +
          `recompute process peak RSS ${figures.recompute_peak_rss_mib} MiB (goal <= 1024)\n`,
      );
    } finally {
      for (const cleanup of cleanups) await cleanup();
    }
  }
  results.invoices_requested = args.invoices;
  process.stdout.write(`${JSON.stringify(results)}\n`);
};

main().catch((error: unknown) => {
  process.stderr.write(`bench:metrics failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
