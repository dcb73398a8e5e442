import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { createRng } from '../src/demo/generate';
import { createCaller } from '../src/hubspot/caller';
import { hubspotClient } from '../src/hubspot/client';
import type { PortalConnection } from '../src/hubspot/connection';
import { installProperties } from '../src/hubspot/properties';
import { pushToHubSpot, type PushReport } from '../src/hubspot/push';
import { loadDemo, DEMO_SOURCE } from '../src/services/demo';
import { upsertPayments } from '../src/store/facts';
import { openStore, type Store } from '../src/store/store';
import { startFakeHubSpot, type FakeHubSpot } from '../test/fakes/hubspot';

// npm run bench:writeback -- --companies 50000 [--deals N] [--store pglite|postgres] [--seed S]
// Pushes AR roll-ups of N companies (and N/5 deals) to a fake HubSpot on loopback that enforces the OAuth
// burst limit (110 calls per 10 s), three times: the first push, a second with nothing changed, and one after
// 1% of the invoices got a payment. Baselines from the same run: the fewest batch calls that can carry the
// changes (ceil(changed ÷ 100) per object type) and the time those calls need at the paced rate. Last
// stdout line: one JSON object of figures.

type Args = { companies: number; deals: number; store: 'pglite' | 'postgres'; seed: number; asOf: string };

const parseArgs = (argv: string[]): Args => {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const companies = Number(get('companies') ?? 5_000);
  const store = get('store') ?? 'pglite';
  if (store !== 'pglite' && store !== 'postgres') throw new Error('--store is pglite or postgres');
  return { companies, deals: Number(get('deals') ?? Math.round(companies / 5)), store, seed: Number(get('seed') ?? 11), asOf: get('as-of') ?? '2026-06-30' };
};

const PORTAL = 880_001;
const TOKEN = 'bench-private-token';
const LIMIT = { max: 110, windowMs: 10_000 };
const HEADROOM = 0.9;

const seconds = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9;
const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;

type Run = { label: string; changed: number; minimum: number; calls: number; rateLimited: number; seconds: number; idealSeconds: number };

/** One caller for the portal across pushes, as in the service: the window is the account's, not a push's. */
const caller = createCaller({ callsPerWindow: LIMIT.max, headroom: HEADROOM, windowMs: LIMIT.windowMs });

const runPush = async (label: string, store: Store, fake: FakeHubSpot, asOf: string): Promise<Run> => {
  const connection: PortalConnection = { portalId: PORTAL, client: async () => hubspotClient(TOKEN, fake.url), caller };
  fake.clearRequests();
  const start = process.hrtime.bigint();
  const report: PushReport = await pushToHubSpot(store.db, connection, PORTAL, asOf);
  const elapsed = seconds(start);
  const writes = fake.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/batch/update'));
  const rateLimited = fake.requests.filter((r) => r.status === 429).length;
  if (report.drain?.remaining) throw new Error(`${label}: ${report.drain.remaining} rows left in the outbox (${report.drain.stoppedBy ?? ''})`);
  const budgetPerSecond = (LIMIT.max * HEADROOM) / (LIMIT.windowMs / 1000);
  // The paced minimum: the first window's budget goes at once, the rest at the paced rate.
  const idealSeconds = Math.max(0, (report.minimumCalls - Math.floor(LIMIT.max * HEADROOM)) / budgetPerSecond);
  return {
    label,
    changed: report.plan.companies.changed + report.plan.deals.changed,
    minimum: report.minimumCalls,
    calls: writes.length,
    rateLimited,
    seconds: round(elapsed),
    idealSeconds: round(idealSeconds),
  };
};

const main = async (): Promise<void> => {
  const args = parseArgs(process.argv.slice(2));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbridge-bench-writeback-'));
  const schema = `bench_writeback_${process.pid}`;
  const store = await openStore(args.store === 'pglite'
    ? { kind: 'pglite', dataDir: dir }
    : { kind: 'postgres', url: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', schema });
  const fake = await startFakeHubSpot({ rateLimit: LIMIT });
  try {
    fake.addPortal(PORTAL, { privateToken: TOKEN });
    const load = process.hrtime.bigint();
    const loaded = await loadDemo(store.db, PORTAL, { customers: args.companies, invoices: args.companies * 5, seed: args.seed, endDate: args.asOf });
    // Every customer gets a HubSpot company; the first `deals` deal ids on invoices get HubSpot deals.
    const customers = await store.db.selectFrom('customers').select(['id']).where('portal_id', '=', PORTAL).orderBy('id').execute();
    const links = customers.map((c, i) => ({ customer_id: c.id, company_id: fake.createObject(PORTAL, 'companies', { name: `Company ${i}` }) }));
    for (let i = 0; i < links.length; i += 5_000) {
      await sql`INSERT INTO company_links (portal_id, customer_id, company_id, method)
        SELECT ${PORTAL}, l.customer_id, l.company_id, 'explicit_id'
        FROM jsonb_to_recordset(${JSON.stringify(links.slice(i, i + 5_000))}::jsonb) AS l(customer_id bigint, company_id text)`.execute(store.db);
    }
    const dealInvoices = await store.db.selectFrom('invoices').select(['id', 'deal_id'])
      .where('portal_id', '=', PORTAL).where('deal_id', 'is not', null).orderBy('id').limit(args.deals).execute();
    const dealLinks = dealInvoices.map((inv) => ({ invoice_id: inv.id, deal_id: fake.createObject(PORTAL, 'deals', { dealname: String(inv.deal_id) }) }));
    for (let i = 0; i < dealLinks.length; i += 5_000) {
      await sql`INSERT INTO deal_links (portal_id, invoice_id, deal_id, method)
        SELECT ${PORTAL}, l.invoice_id, l.deal_id, 'invoice_deal_id'
        FROM jsonb_to_recordset(${JSON.stringify(dealLinks.slice(i, i + 5_000))}::jsonb) AS l(invoice_id bigint, deal_id text)`.execute(store.db);
    }
    const loadSeconds = seconds(load);
    await installProperties(hubspotClient(TOKEN, fake.url), caller);

    const first = await runPush('first push', store, fake, args.asOf);
    const second = await runPush('nothing changed', store, fake, args.asOf);
    // 1% of the invoices get a payment dated D: a partial payment of an open one, or a small extra on a closed one.
    const invoices = await store.db.selectFrom('invoices').select(['id', 'external_id', 'currency', 'total_minor'])
      .where('portal_id', '=', PORTAL).where('issue_date', '<=', args.asOf).orderBy('id').execute();
    const rng = createRng(args.seed + 1);
    const picked = invoices.filter(() => rng.chance(0.01));
    await upsertPayments(store.db, PORTAL, DEMO_SOURCE, picked.map((inv) => {
      const amountMinor = Math.max(1, Math.floor(inv.total_minor / 10));
      return { id: `bench-pay-${inv.external_id}`, kind: 'payment' as const, date: args.asOf, currency: inv.currency, amountMinor,
        allocations: [{ invoiceId: inv.external_id, amountMinor }] };
    }));
    const third = await runPush('1% of invoices changed', store, fake, args.asOf);

    // The fake now holds what the store says was written.
    const sample = await store.db.selectFrom('hubspot_written').selectAll().where('portal_id', '=', PORTAL).orderBy('object_id').limit(200).execute();
    for (const row of sample) {
      const held = fake.getObject(PORTAL, row.object_type, row.object_id)?.properties[row.property];
      if ((held ?? '') !== row.value) throw new Error(`fake holds ${String(held)} for ${row.object_type} ${row.object_id} ${row.property}, store says ${row.value}`);
    }

    const runs = [first, second, third];
    process.stdout.write(`store ${args.store}; ${loaded.customers} companies, ${dealLinks.length} deals, ${loaded.invoices} invoices; setup ${round(loadSeconds)} s\n`);
    process.stdout.write('push                      changed  min calls  calls  429s  seconds  paced minimum s\n');
    for (const r of runs) {
      process.stdout.write(`${r.label.padEnd(24)}  ${String(r.changed).padStart(7)}  ${String(r.minimum).padStart(9)}  ${String(r.calls).padStart(5)}  ${String(r.rateLimited).padStart(4)}  ${String(r.seconds).padStart(7)}  ${String(r.idealSeconds).padStart(15)}\n`);
    }
    const figures = {
      bench: 'writeback', store: args.store, companies: loaded.customers, deals: dealLinks.length, invoices: loaded.invoices,
      limit_per_10s: LIMIT.max,
      runs: runs.map((r) => ({
        label: r.label, changed: r.changed, minimum_calls: r.minimum, calls: r.calls, calls_over_minimum: r.calls - r.minimum,
        rate_limited: r.rateLimited, seconds: r.seconds, paced_minimum_seconds: r.idealSeconds,
        time_ratio: r.idealSeconds > 0 ? round(r.seconds / r.idealSeconds) : null,
      })),
      goals: {
        calls_within_minimum_plus_2: runs.every((r) => r.calls <= r.minimum + 2),
        zero_calls_when_nothing_changed: second.calls === 0,
        no_429: runs.every((r) => r.rateLimited === 0),
      },
    };
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } finally {
    await fake.close();
    if (args.store === 'postgres') await sql.raw(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).execute(store.db);
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
};

main().catch((error: unknown) => {
  process.stderr.write(`bench:writeback failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
