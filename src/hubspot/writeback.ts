import { randomUUID } from 'node:crypto';
import type { Client } from '@hubspot/api-client';
import { sql } from 'kysely';
import type { Policy } from '../domain/policy';
import {
  companyRollup, dealCreditValues, dealRollup, propertyDiff, type DealInvoiceLine, type PropertyValues,
} from '../domain/rollups';
import type { InvoiceFact, IsoDate } from '../domain/types';
import type { Logger } from '../logger';
import { dealCreditChecks } from '../services/credit';
import { streamCustomerFacts, type Executor } from '../store/facts';
import type { HubSpotObjectType } from '../store/schema';
import { statusOf, type HubSpotCaller } from './caller';

/**
 * The delta write-back. A plan computes the wanted property values of every linked company and deal as of
 * a date, diffs them against `hubspot_written` (what HubSpot last confirmed) and leaves the difference in
 * `hubspot_outbox`, one row per record holding exactly the properties still to write. A drain sends the
 * outbox in batch updates of up to 100 records and, for each record HubSpot confirms, records the values as
 * written and deletes the row, unless a newer plan replaced it meanwhile. Nothing changed → no row → no call.
 */

export const BATCH_LIMIT = 100;
const PLAN_CHUNK = 1_000;

export type PlanCounts = { records: number; changed: number; properties: number; cleared: number };
export type PlanReport = {
  asOf: IsoDate;
  dryRun: boolean;
  companies: PlanCounts;
  deals: PlanCounts;
  /** Up to `sampleSize` planned changes, for people to read. */
  sample: { objectType: HubSpotObjectType; objectId: string; properties: PropertyValues }[];
};

const emptyCounts = (): PlanCounts => ({ records: 0, changed: 0, properties: 0, cleared: 0 });

type Wanted = [objectId: string, values: PropertyValues | null];

type PlanContext = {
  db: Executor; portalId: number; objectType: HubSpotObjectType; dryRun: boolean; now: Date;
  counts: PlanCounts; sample: PlanReport['sample']; sampleSize: number;
};

/** What was last confirmed written, per record of the chunk. */
const writtenOf = async (db: Executor, portalId: number, objectType: HubSpotObjectType, ids: readonly string[]): Promise<Map<string, Record<string, string>>> => {
  const written = await db.selectFrom('hubspot_written')
    .select(['object_id', 'property', 'value'])
    .where('portal_id', '=', portalId).where('object_type', '=', objectType).where('object_id', 'in', ids)
    .execute();
  const byId = new Map<string, Record<string, string>>();
  for (const row of written) {
    let values = byId.get(row.object_id);
    if (!values) byId.set(row.object_id, (values = {}));
    values[row.property] = row.value;
  }
  return byId;
};

/**
 * Diffs one chunk of records against what was written and brings their outbox rows in line, in one
 * transaction (so a confirmation landing meanwhile is seen whole or not at all). A row a worker is sending
 * (leased) is never deleted or made claimable here: it gets its new content and a new version, and the
 * worker's confirmation leaves it for the next claim.
 */
const planChunk = async (ctx: PlanContext, chunk: readonly Wanted[]): Promise<void> => {
  if (chunk.length === 0) return;
  const { portalId, objectType, counts, sample, sampleSize, now } = ctx;
  const ids = chunk.map(([id]) => id);
  const plan = async (db: Executor): Promise<[string, PropertyValues][]> => {
    const writtenById = await writtenOf(db, portalId, objectType, ids);
    const diffs: [string, PropertyValues][] = [];
    for (const [objectId, wanted] of chunk) {
      counts.records += 1;
      const diff = propertyDiff(wanted, writtenById.get(objectId) ?? {});
      const names = Object.keys(diff);
      if (names.length > 0) {
        counts.changed += 1;
        counts.properties += names.length;
        if (wanted === null) counts.cleared += 1;
        if (sample.length < sampleSize) sample.push({ objectType, objectId, properties: diff });
      }
      diffs.push([objectId, diff]);
    }
    return diffs;
  };
  if (ctx.dryRun) {
    await plan(ctx.db);
    return;
  }
  await ctx.db.transaction().execute(async (tx) => {
    const diffs = await plan(tx);
    const pending = await tx.selectFrom('hubspot_outbox')
      .select(['object_id', 'properties', 'lease_token', 'leased_until'])
      .where('portal_id', '=', portalId).where('object_type', '=', objectType).where('object_id', 'in', ids)
      .execute();
    const pendingById = new Map(pending.map((row) => [row.object_id, {
      text: JSON.stringify(sortKeys(row.properties)),
      leased: row.lease_token !== null && row.leased_until !== null && new Date(row.leased_until) > now,
    }]));
    const drop: string[] = [];
    const upserts: { object_id: string; properties: string }[] = [];
    for (const [objectId, diff] of diffs) {
      const had = pendingById.get(objectId);
      const empty = Object.keys(diff).length === 0;
      if (empty && had && !had.leased) {
        drop.push(objectId);
        continue;
      }
      if (empty && !had) continue;
      const text = JSON.stringify(sortKeys(diff));
      if (had?.text !== text) upserts.push({ object_id: objectId, properties: text });
    }
    if (drop.length > 0) {
      await tx.deleteFrom('hubspot_outbox')
        .where('portal_id', '=', portalId).where('object_type', '=', objectType).where('object_id', 'in', drop)
        .execute();
    }
    if (upserts.length > 0) {
      await sql`
        INSERT INTO hubspot_outbox (portal_id, object_type, object_id, properties, next_attempt_at)
        SELECT ${portalId}, ${objectType}, u.object_id, u.properties::jsonb, ${now}
        FROM jsonb_to_recordset(${JSON.stringify(upserts)}::jsonb) AS u(object_id text, properties text)
        ON CONFLICT (portal_id, object_type, object_id) DO UPDATE SET
          properties = excluded.properties, version = hubspot_outbox.version + 1, attempts = 0,
          next_attempt_at = excluded.next_attempt_at, last_error = NULL`.execute(tx);
    }
  });
};

const sortKeys = (values: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(values).sort(([a], [b]) => (a < b ? -1 : 1)));

/**
 * Records no longer among the wanted ones that HubSpot holds values for (they get cleared) or that still
 * wait in the outbox (their queued values are replaced by the clearing, or dropped).
 */
const orphans = async (db: Executor, portalId: number, objectType: HubSpotObjectType, seen: ReadonlySet<string>): Promise<string[]> => {
  const rows = await sql<{ object_id: string }>`
    SELECT object_id FROM hubspot_written
    WHERE portal_id = ${portalId} AND object_type = ${objectType} AND value <> ''
    UNION
    SELECT object_id FROM hubspot_outbox WHERE portal_id = ${portalId} AND object_type = ${objectType}`.execute(db);
  return rows.rows.map((row) => row.object_id).filter((id) => !seen.has(id)).sort();
};

/** Wanted company values: the roll-up of the invoices of every customer linked to the company. */
const planCompanies = async (
  db: Executor, portalId: number, asOf: IsoDate, policy: Policy,
  each: (chunk: Wanted[]) => Promise<void>,
): Promise<Set<string>> => {
  const links = await db.selectFrom('company_links')
    .select(['customer_id', 'company_id'])
    .where('portal_id', '=', portalId).where('company_id', 'is not', null)
    .execute();
  const companyOf = new Map<string, string>();
  const customersPerCompany = new Map<string, number>();
  for (const link of links) {
    const companyId = link.company_id as string;
    companyOf.set(String(link.customer_id), companyId);
    customersPerCompany.set(companyId, (customersPerCompany.get(companyId) ?? 0) + 1);
  }
  const seen = new Set<string>();
  const shared = new Map<string, InvoiceFact[]>(); // companies with several customers, completed at the end
  let chunk: Wanted[] = [];
  const push = async (entry: Wanted): Promise<void> => {
    seen.add(entry[0]);
    chunk.push(entry);
    if (chunk.length >= PLAN_CHUNK) {
      const full = chunk;
      chunk = [];
      await each(full);
    }
  };
  for await (const batch of streamCustomerFacts(db, portalId, asOf, 2_000)) {
    for (const { rowId, invoices } of batch) {
      const companyId = companyOf.get(String(rowId));
      if (companyId === undefined) continue;
      if ((customersPerCompany.get(companyId) ?? 0) > 1) {
        const list = shared.get(companyId);
        if (list) list.push(...invoices);
        else shared.set(companyId, [...invoices]);
        continue;
      }
      await push([companyId, companyRollup(invoices, asOf, policy)]);
    }
  }
  for (const [companyId, invoices] of shared) await push([companyId, companyRollup(invoices, asOf, policy)]);
  // Linked companies whose customers have no invoice yet: nothing to write, but earlier values get cleared.
  for (const companyId of customersPerCompany.keys()) if (!seen.has(companyId)) await push([companyId, null]);
  if (chunk.length > 0) await each(chunk);
  return seen;
};

type DealLineRow = {
  deal_id: string; currency: string; total_minor: number; issue_date: string; due_date: string;
  voided_date: string | null; settled: number; collected: number;
};

/** Wanted deal values: the roll-up of the invoices linked to each deal, a chunk of deals at a time. */
const planDeals = async (
  db: Executor, portalId: number, asOf: IsoDate, each: (chunk: Wanted[]) => Promise<void>,
): Promise<Set<string>> => {
  const seen = new Set<string>();
  let after = '';
  for (;;) {
    // Deals with invoices, and mirrored deals whose company is linked to a customer (for the credit check).
    const deals = await sql<{ deal_id: string }>`
      SELECT deal_id FROM deal_links
      WHERE portal_id = ${portalId} AND deal_id IS NOT NULL AND deal_id > ${after}
      UNION
      SELECT d.deal_id FROM hubspot_deals d
      WHERE d.portal_id = ${portalId} AND d.deal_id > ${after} AND EXISTS (
        SELECT 1 FROM company_links l WHERE l.portal_id = d.portal_id AND l.company_id = d.company_id AND l.method <> 'manual_unlink')
      ORDER BY deal_id LIMIT ${PLAN_CHUNK}`.execute(db);
    if (deals.rows.length === 0) break;
    const ids = deals.rows.map((row) => row.deal_id);
    after = ids[ids.length - 1] as string;
    const lines = await sql<DealLineRow>`
      SELECT dl.deal_id, i.currency, i.total_minor, i.issue_date, i.due_date, i.voided_date,
        coalesce(sum(a.amount_minor) FILTER (WHERE a.payment_date <= ${asOf}), 0) AS settled,
        coalesce(sum(a.amount_minor) FILTER (WHERE a.payment_date <= ${asOf} AND a.kind = 'payment'), 0) AS collected
      FROM deal_links dl
      JOIN invoices i ON i.id = dl.invoice_id
      LEFT JOIN payment_allocations a ON a.invoice_id = i.id
      WHERE dl.portal_id = ${portalId} AND dl.deal_id = ANY(${ids}::text[])
      GROUP BY dl.deal_id, i.id`.execute(db);
    const byDeal = new Map<string, DealInvoiceLine[]>();
    for (const row of lines.rows) {
      const line: DealInvoiceLine = {
        currency: row.currency, totalMinor: row.total_minor, issueDate: row.issue_date, dueDate: row.due_date,
        voidedDate: row.voided_date, settledMinor: Number(row.settled), collectedMinor: Number(row.collected),
      };
      const list = byDeal.get(row.deal_id);
      if (list) list.push(line);
      else byDeal.set(row.deal_id, [line]);
    }
    const credit = await dealCreditChecks(db, portalId, ids, asOf);
    const chunk: Wanted[] = ids.map((id) => {
      const values = { ...dealRollup(byDeal.get(id) ?? [], asOf), ...dealCreditValues(credit.get(id) ?? null) };
      return [id, Object.keys(values).length === 0 ? null : values];
    });
    for (const id of ids) seen.add(id);
    await each(chunk);
  }
  return seen;
};

/**
 * Computes what HubSpot should hold as of `asOf` and queues the difference (or, with `dryRun`, only counts
 * it). Records no longer linked, or with nothing live at `asOf`, get their earlier values cleared.
 */
export const planWriteBack = async (
  db: Executor, portalId: number, asOf: IsoDate, policy: Policy,
  { dryRun = false, sampleSize = 10, now = () => new Date() }: { dryRun?: boolean; sampleSize?: number; now?: () => Date } = {},
): Promise<PlanReport> => {
  const report: PlanReport = { asOf, dryRun, companies: emptyCounts(), deals: emptyCounts(), sample: [] };
  for (const objectType of ['companies', 'deals'] as const) {
    const counts = report[objectType];
    const each = (chunk: Wanted[]): Promise<void> =>
      planChunk({ db, portalId, objectType, dryRun, now: now(), counts, sample: report.sample, sampleSize }, chunk);
    const seen = objectType === 'companies'
      ? await planCompanies(db, portalId, asOf, policy, each)
      : await planDeals(db, portalId, asOf, each);
    const gone = await orphans(db, portalId, objectType, seen);
    for (let i = 0; i < gone.length; i += PLAN_CHUNK) {
      await each(gone.slice(i, i + PLAN_CHUNK).map((id): Wanted => [id, null]));
    }
  }
  return report;
};

export type DrainReport = {
  /** Records HubSpot confirmed. */
  written: number;
  /** Batch-update requests sent (retries included). */
  calls: number;
  rateLimited: number;
  /** Records HubSpot refused (unknown record, invalid value): parked with the error, retried after `parkMs`. */
  refused: number;
  /** Rows still in the outbox for this portal when the drain stopped. */
  remaining: number;
  /** Why the drain stopped early, if it did (HubSpot unreachable or failing). */
  stoppedBy: string | null;
};

export type DrainOptions = {
  db: Executor;
  portalId: number;
  /** A client for the portal; called with `renew` to get a refreshed token after a 401. */
  client: (renew?: boolean) => Promise<Client>;
  caller: HubSpotCaller;
  logger?: Logger;
  now?: () => Date;
  /** How long a claimed batch stays invisible to other workers. */
  leaseMs?: number;
  /** How long a record HubSpot refused waits before it is tried again. */
  parkMs?: number;
  batchSize?: number;
};

type Claimed = { id: number; object_id: string; properties: Record<string, string>; version: number; attempts: number };

/**
 * Claims up to `limit` due rows nobody holds: each gets this drain's lease token until `leaseUntil`. Rows a
 * plan emptied while another worker held them are deleted here, unsent.
 */
const claim = async (
  db: Executor, portalId: number, objectType: HubSpotObjectType, limit: number, now: Date, leaseUntil: Date, token: string,
): Promise<Claimed[]> => {
  const rows = await sql<Claimed>`
    UPDATE hubspot_outbox SET lease_token = ${token}, leased_until = ${leaseUntil}
    WHERE id IN (
      SELECT id FROM hubspot_outbox
      WHERE portal_id = ${portalId} AND object_type = ${objectType} AND next_attempt_at <= ${now}
        AND (leased_until IS NULL OR leased_until <= ${now})
      ORDER BY id LIMIT ${limit}
      FOR UPDATE SKIP LOCKED)
    RETURNING id, object_id, properties, version, attempts`.execute(db);
  const claimed = [...rows.rows].sort((a, b) => a.id - b.id);
  const empty = claimed.filter((row) => Object.keys(row.properties).length === 0);
  if (empty.length > 0) {
    await db.deleteFrom('hubspot_outbox').where('lease_token', '=', token).where('id', 'in', empty.map((row) => row.id)).execute();
  }
  return claimed.filter((row) => Object.keys(row.properties).length > 0);
};

/**
 * Records the confirmed values and removes the rows this drain holds that no newer plan replaced; a replaced
 * row loses the lease and waits for the next claim with its newer content.
 */
const confirm = async (db: Executor, portalId: number, objectType: HubSpotObjectType, rows: readonly Claimed[], now: Date, token: string): Promise<void> => {
  if (rows.length === 0) return;
  const values = rows.flatMap((row) => Object.entries(row.properties).map(([property, value]) => ({ object_id: row.object_id, property, value })));
  await db.transaction().execute(async (tx) => {
    await sql`
      INSERT INTO hubspot_written (portal_id, object_type, object_id, property, value, written_at)
      SELECT ${portalId}, ${objectType}, v.object_id, v.property, v.value, ${now}
      FROM jsonb_to_recordset(${JSON.stringify(values)}::jsonb) AS v(object_id text, property text, value text)
      ON CONFLICT (portal_id, object_type, object_id, property) DO UPDATE SET value = excluded.value, written_at = excluded.written_at`
      .execute(tx);
    const keys = JSON.stringify(rows.map((row) => ({ id: row.id, version: row.version })));
    await sql`
      DELETE FROM hubspot_outbox o USING jsonb_to_recordset(${keys}::jsonb) AS k(id bigint, version integer)
      WHERE o.id = k.id AND o.version = k.version AND o.lease_token = ${token}`.execute(tx);
    await sql`
      UPDATE hubspot_outbox SET lease_token = NULL, leased_until = NULL
      WHERE lease_token = ${token} AND id = ANY(${rows.map((row) => row.id)}::bigint[])`.execute(tx);
  });
};

/** Gives rows this drain holds back, due at `at`, with the error; `failed` also counts an attempt. */
const giveBack = async (db: Executor, rows: readonly { id: number }[], token: string, at: Date, error: string, failed: boolean): Promise<void> => {
  if (rows.length === 0) return;
  await db.updateTable('hubspot_outbox')
    .set({
      next_attempt_at: at, last_error: error.slice(0, 2_000), lease_token: null, leased_until: null,
      ...(failed ? { attempts: sql<number>`attempts + 1` } : {}),
    })
    .where('lease_token', '=', token)
    .where('id', 'in', rows.map((row) => row.id))
    .execute();
};

const messageOf = (error: unknown): string => {
  const body = (error as { body?: unknown } | null)?.body;
  const bodyMessage = typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string'
    ? (body as { message: string }).message : null;
  return `${statusOf(error) ?? 'error'}: ${bodyMessage ?? (error instanceof Error ? error.message : String(error))}`;
};

/**
 * A refusal that is about the portal, not about some records: a missing scope (403), or properties that do
 * not exist (the ARBridge properties were not installed or were deleted). Every record would fail the same
 * way, so the drain stops instead of splitting the batch.
 */
export const isPortalWideRefusal = (error: unknown): boolean => {
  const status = statusOf(error);
  if (status === 403) return true;
  return status === 400 && /PROPERTY_DOESNT_EXIST|property .* does not exist|does not exist on object/i.test(messageOf(error));
};

type BatchResult = { results?: { id: string }[]; errors?: { message?: string; context?: Record<string, string[]> }[] };

/**
 * Sends the portal's due outbox rows to HubSpot until none is left (or HubSpot keeps failing). A batch HubSpot
 * refuses as a whole for some of its records (a 4xx other than 401, 403, 429 and missing properties) is
 * split in halves until the refused records are found; those are parked with the error, the rest go through.
 */
export const drainOutbox = async (options: DrainOptions): Promise<DrainReport> => {
  const { db, portalId, caller } = options;
  const now = options.now ?? (() => new Date());
  const leaseMs = options.leaseMs ?? 10 * 60_000;
  const parkMs = options.parkMs ?? 6 * 3_600_000;
  const batchSize = Math.min(options.batchSize ?? BATCH_LIMIT, BATCH_LIMIT);
  const token = randomUUID();
  const before = { calls: caller.stats.calls, rateLimited: caller.stats.rateLimited };
  const report: DrainReport = { written: 0, calls: 0, rateLimited: 0, refused: 0, remaining: 0, stoppedBy: null };
  let client = await options.client();
  let renewed = false;

  const send = async (objectType: HubSpotObjectType, rows: readonly Claimed[]): Promise<void> => {
    const inputs = rows.map((row) => ({ id: row.object_id, properties: row.properties }));
    let result: BatchResult;
    try {
      result = objectType === 'companies'
        ? await caller.call(() => client.crm.companies.batchApi.update({ inputs }))
        : await caller.call(() => client.crm.deals.batchApi.update({ inputs }));
    } catch (error) {
      const status = statusOf(error);
      if (status === 401 && !renewed) {
        renewed = true;
        client = await options.client(true);
        return send(objectType, rows);
      }
      if (status !== null && status >= 400 && status < 500 && status !== 401 && status !== 429 && !isPortalWideRefusal(error)) {
        if (rows.length === 1) {
          report.refused += 1;
          options.logger?.warn({ portalId, objectType, objectId: rows[0]?.object_id, error: messageOf(error) }, 'HubSpot refused a record update; parked');
          await giveBack(db, rows, token, new Date(now().getTime() + parkMs), messageOf(error), true);
          return;
        }
        const half = Math.ceil(rows.length / 2);
        await send(objectType, rows.slice(0, half));
        await send(objectType, rows.slice(half));
        return;
      }
      throw error;
    }
    // A 207 answer lists the records it could not update; only the records in `results` are confirmed.
    const ok = new Set((result.results ?? []).map((r) => String(r.id)));
    const done = rows.filter((row) => ok.has(row.object_id));
    const failed = rows.filter((row) => !ok.has(row.object_id));
    await confirm(db, portalId, objectType, done, now(), token);
    report.written += done.length;
    if (failed.length > 0) {
      const reason = (result.errors ?? []).map((e) => e.message ?? '').filter(Boolean).join('; ') || 'not confirmed by HubSpot';
      report.refused += failed.length;
      options.logger?.warn({ portalId, objectType, count: failed.length, error: reason }, 'HubSpot did not confirm some record updates; parked');
      await giveBack(db, failed, token, new Date(now().getTime() + parkMs), reason, true);
    }
  };

  try {
    for (const objectType of ['companies', 'deals'] as const) {
      for (;;) {
        const at = now();
        const rows = await claim(db, portalId, objectType, batchSize, at, new Date(at.getTime() + leaseMs), token);
        if (rows.length === 0) break;
        try {
          await send(objectType, rows);
        } catch (error) {
          // HubSpot is failing, out of reach or refusing the portal: give back what this drain still holds
          // (rows parked or confirmed above are no longer held) and stop.
          await giveBack(db, rows, token, new Date(now().getTime() + 60_000), messageOf(error), false);
          report.stoppedBy = messageOf(error);
          options.logger?.error({ portalId, objectType, error: report.stoppedBy }, 'write-back stopped');
          return report;
        }
      }
    }
  } finally {
    report.calls = caller.stats.calls - before.calls;
    report.rateLimited = caller.stats.rateLimited - before.rateLimited;
    const left = await db.selectFrom('hubspot_outbox').select((eb) => eb.fn.countAll<number>().as('n'))
      .where('portal_id', '=', portalId).executeTakeFirstOrThrow();
    report.remaining = Number(left.n);
  }
  return report;
};
