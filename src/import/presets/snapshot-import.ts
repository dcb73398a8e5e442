import { sql } from 'kysely';
import { z } from 'zod';
import { isIsoDate } from '../../domain/calendar';
import type { IsoDate } from '../../domain/types';
import { ImportRejected } from '../../services/import';
import type { Db } from '../../store/database';
import {
  currencyConflicts, deletePayments, ensurePortal, upsertCustomers, upsertInvoices, upsertPayments, ZERO_COUNTS, touchPortal,
  type Executor, type InvoiceRecord, type OptionalInvoiceColumn, type UpsertCounts,
} from '../../store/facts';
import { CsvOptionError } from '../csv-parse';
import { parseArAging } from './ar-aging';
import { countOf } from './read';
import { planSnapshot, readSeen, writeSeen, type StoredInvoice, type StoredSettlement } from './snapshot';
import { PRESET_NAMES, PRESET_SOURCES, type PresetName, type SkipCount, type SnapshotFile } from './types';
import { parseXeroInvoices } from './xero-invoices';

// Imports a report export as a snapshot of balances at one date, in one transaction (see snapshot.ts for the
// settlements it derives). The date of the latest snapshot of each source is kept in sync_cursors (stream
// `snapshots`) as JSON {date, previous}; which snapshots listed each invoice, in invoices.source_status.

export const SNAPSHOT_STREAM = 'snapshots';

const OptionsSchema = z.object({
  preset: z.enum(PRESET_NAMES, { error: `preset must be one of ${PRESET_NAMES.join(', ')}` }),
  snapshotDate: z.string().refine(isIsoDate, { error: (issue) => `snapshot date must be a calendar date YYYY-MM-DD (got ${JSON.stringify(issue.input)})` }),
  dateFormat: z.string().min(1).optional(),
  currency: z.string().regex(/^[A-Za-z]{3}$/, { error: (issue) => `currency ${JSON.stringify(issue.input)} is not a 3-letter currency code` }).optional(),
  maxErrors: z.number().int().min(0).optional(),
  /** When given, a snapshot date after it is refused. */
  today: z.string().refine(isIsoDate).optional(),
});

export type SnapshotImportOptions = z.input<typeof OptionsSchema>;

export type SnapshotImportResult = {
  preset: PresetName;
  source: string;
  snapshotDate: IsoDate;
  rows: number;
  imported: number;
  customers: UpsertCounts;
  invoices: UpsertCounts;
  payments: UpsertCounts & { removed: number };
  /** Invoices removed (Xero: listed as Deleted; a replaced snapshot's invoices no earlier snapshot listed). */
  removedInvoices: number;
  /** Invoices the previous snapshot listed and this one does not, settled at the snapshot date. */
  settledByAbsence: number;
  skipped: SkipCount[];
};

/** A snapshot older than one already imported from the same source: the differences could not be worked out. */
export class SnapshotOrderError extends Error {
  override name = 'SnapshotOrderError';
}

const checkOptions = (options: SnapshotImportOptions): z.output<typeof OptionsSchema> => {
  const parsed = OptionsSchema.safeParse(options);
  if (!parsed.success) throw new CsvOptionError(parsed.error.issues.map((i) => i.message).join('; '));
  const { snapshotDate, today } = parsed.data;
  if (today !== undefined && snapshotDate > today) throw new CsvOptionError(`snapshot date ${snapshotDate} is after today (${today})`);
  return parsed.data;
};

/** Reads an export with its preset; nothing is written. Throws CsvOptionError for bad options. */
export const parsePresetCsv = (text: string, options: SnapshotImportOptions): SnapshotFile => {
  const { preset, snapshotDate, dateFormat, currency, maxErrors } = checkOptions(options);
  const parseOptions = { snapshotDate, ...(dateFormat ? { dateFormat } : {}), ...(currency ? { currency } : {}), ...(maxErrors !== undefined ? { maxErrors } : {}) };
  return preset === 'xero-invoices' ? parseXeroInvoices(text, parseOptions) : parseArAging(text, parseOptions);
};

type Cursor = { date: IsoDate | null; previous: IsoDate | null };

const CursorSchema = z.object({ date: z.iso.date().nullable().default(null), previous: z.iso.date().nullable().default(null) });

/** The source's snapshot cursor, locked for this transaction (created empty when missing). */
const lockCursor = async (trx: Executor, portalId: number, source: string): Promise<Cursor> => {
  await trx.insertInto('sync_cursors').values({ portal_id: portalId, source, stream: SNAPSHOT_STREAM, cursor: '{}' })
    .onConflict((oc) => oc.columns(['portal_id', 'source', 'stream']).doNothing()).execute();
  const row = await trx.selectFrom('sync_cursors').select('cursor')
    .where('portal_id', '=', portalId).where('source', '=', source).where('stream', '=', SNAPSHOT_STREAM)
    .forUpdate().executeTakeFirstOrThrow();
  let json: unknown = {};
  try {
    json = JSON.parse(row.cursor);
  } catch {
    json = {};
  }
  const parsed = CursorSchema.safeParse(json);
  if (!parsed.success) throw new Error(`sync_cursors ${source}/${SNAPSHOT_STREAM}: unreadable cursor ${JSON.stringify(row.cursor.slice(0, 80))}`);
  return parsed.data;
};

type PackedSettlement = [id: string, date: string, kind: string, amount: number];

/** Stored invoices of the source that the file lists or deletes, or that a snapshot at `dates` listed. */
const loadStored = async (
  trx: Executor, portalId: number, source: string, ids: readonly string[], dates: readonly IsoDate[],
): Promise<Map<string, StoredInvoice>> => {
  const result = await sql<{ external_id: string; currency: string; total_minor: number; voided_date: string | null; source_status: string | null; settlements: string }>`
    SELECT i.external_id, i.currency, i.total_minor, i.voided_date, i.source_status,
      COALESCE((SELECT json_agg(json_build_array(p.external_id, a.payment_date, a.kind, a.amount_minor))
        FROM payment_allocations a JOIN payments p ON p.id = a.payment_id WHERE a.invoice_id = i.id)::text, '[]') AS settlements
    FROM invoices i
    WHERE i.portal_id = ${portalId} AND i.source = ${source}
      AND (i.external_id IN (SELECT value FROM json_array_elements_text(${JSON.stringify(ids)}::json))
        -- CASE, so that only this source's statuses (JSON written by writeSeen) are ever cast.
        OR CASE WHEN i.source = ${source} AND i.source_status LIKE '{%}' THEN i.source_status::jsonb ->> 'seen' END
          IN (SELECT value FROM json_array_elements_text(${JSON.stringify(dates)}::json)))`
    .execute(trx);
  const stored = new Map<string, StoredInvoice>();
  for (const row of result.rows) {
    const settlements: StoredSettlement[] = (JSON.parse(row.settlements) as PackedSettlement[]).map(([id, date, kind, amount]) => {
      if (kind !== 'payment' && kind !== 'credit_note') throw new Error(`invoice ${row.external_id} of source ${source} has a ${kind}, which snapshots never write`);
      return { id, date, kind, amountMinor: amount };
    });
    stored.set(row.external_id, {
      id: row.external_id, currency: row.currency, totalMinor: row.total_minor, voidedDate: row.voided_date,
      seen: readSeen(row.source_status), settlements,
    });
  }
  return stored;
};

const latestSettlementDate = async (trx: Executor, portalId: number, source: string): Promise<IsoDate | null> => {
  const row = await sql<{ latest: string | null }>`
    SELECT max(payment_date)::text AS latest FROM payments WHERE portal_id = ${portalId} AND source = ${source}`.execute(trx);
  return row.rows[0]?.latest ?? null;
};

const removeInvoices = async (trx: Executor, portalId: number, source: string, ids: readonly string[]): Promise<number> => {
  if (ids.length === 0) return 0;
  const wanted = JSON.stringify(ids);
  // Snapshot settlements each settle one invoice: they go with it.
  await sql`
    DELETE FROM payments p
    WHERE p.portal_id = ${portalId} AND p.source = ${source} AND p.id IN (
      SELECT a.payment_id FROM payment_allocations a JOIN invoices i ON i.id = a.invoice_id
      WHERE i.portal_id = ${portalId} AND i.source = ${source} AND i.external_id IN (SELECT value FROM json_array_elements_text(${wanted}::json)))`.execute(trx);
  const result = await sql`
    DELETE FROM invoices i WHERE i.portal_id = ${portalId} AND i.source = ${source}
      AND i.external_id IN (SELECT value FROM json_array_elements_text(${wanted}::json))`.execute(trx);
  return Number(result.numAffectedRows ?? 0);
};

const writeSeenStates = async (trx: Executor, portalId: number, source: string, states: readonly { id: string; status: string }[]): Promise<void> => {
  if (states.length === 0) return;
  await sql`
    UPDATE invoices i SET source_status = x.status
    FROM json_to_recordset(${JSON.stringify(states)}::json) AS x(id text, status text)
    WHERE i.portal_id = ${portalId} AND i.source = ${source} AND i.external_id = x.id AND i.source_status IS DISTINCT FROM x.status`.execute(trx);
};

/** Columns the presets do not have: stored values stay. */
const KEEP: Readonly<Record<PresetName, readonly OptionalInvoiceColumn[]>> = {
  'xero-invoices': ['disputed', 'sales_rep', 'deal_id', 'terms'],
  'ar-aging': ['disputed', 'sales_rep', 'product', 'deal_id', 'terms'],
};

/**
 * Imports a report export (`preset`) as the snapshot of balances at `snapshotDate`, all or nothing: invoices and
 * customers are upserted, and settlements dated at the snapshot record what it shows paid or credited beyond the
 * previous snapshots. Snapshots of one source are imported in date order; importing the latest one again
 * replaces it (the same file changes nothing).
 */
export const importSnapshotCsv = async (db: Db, portalId: number, text: string, options: SnapshotImportOptions): Promise<SnapshotImportResult> => {
  const { preset, snapshotDate: date } = checkOptions(options);
  const file = parsePresetCsv(text, options);
  if (file.fatal || file.errors.length + file.omittedErrors > 0) throw new ImportRejected(file.errors, file.omittedErrors, file.rows);
  const source = PRESET_SOURCES[preset];
  const conflicts = await currencyConflicts(db, portalId, source, file.invoices);
  if (conflicts.length > 0) {
    const rowOf = new Map(file.invoices.map((i) => [i.id, i.row] as const));
    throw new ImportRejected(conflicts.map((c) => {
      const row = rowOf.get(c.id) ?? 0;
      return { row, column: file.currencyColumn, value: c.given, message: `row ${row}, ${file.currencyColumn}: "${c.given}" is not the currency of invoice ${c.id} (${c.stored}), which has payments` };
    }), 0, file.rows);
  }

  return db.transaction().execute(async (trx) => {
    await ensurePortal(trx, portalId);
    const cursor = await lockCursor(trx, portalId, source);
    const settled = await latestSettlementDate(trx, portalId, source);
    const latest = [cursor.date, settled].reduce<IsoDate | null>((a, b) => (b !== null && (a === null || b > a) ? b : a), null);
    if (latest !== null && date < latest) {
      throw new SnapshotOrderError(`snapshot ${date} is older than the latest snapshot of ${source} (${latest}): import snapshots in date order`);
    }
    const previous = latest === null ? null : date > latest ? latest : cursor.previous;
    const ids = [...file.invoices.map((i) => i.id), ...file.deleted];
    const stored = await loadStored(trx, portalId, source, ids, [date, ...(previous ? [previous] : [])]);

    const records: InvoiceRecord[] = file.invoices.map((i) => ({
      id: i.id, number: i.number, customerId: i.customerId, currency: i.currency, totalMinor: i.totalMinor,
      issueDate: i.issueDate, dueDate: i.dueDate,
      // Exports do not say when an invoice was voided: the first snapshot that shows it voided does.
      voidedDate: i.voided ? (stored.get(i.id)?.voidedDate ?? date) : null,
      disputed: false, salesRep: null, product: i.product ?? null, dealId: null, terms: null,
      ...(i.reference !== undefined ? { reference: i.reference } : {}),
    }));
    const customers = await upsertCustomers(trx, portalId, source, file.customers);
    const invoices = await upsertInvoices(trx, portalId, source, records, { keep: KEEP[preset] });

    const plan = planSnapshot({ date, previous, openOnly: file.openOnly, observed: file.invoices, stored, deleted: file.deleted });
    const removedPayments = await deletePayments(trx, portalId, source, plan.deletes);
    const removedInvoices = await removeInvoices(trx, portalId, source, plan.removeInvoices);
    const payments = plan.upserts.length === 0 ? ZERO_COUNTS : await upsertPayments(trx, portalId, source, plan.upserts.map((s) => ({
      id: s.id, kind: s.kind, date: s.date, currency: s.currency, amountMinor: s.amountMinor,
      allocations: [{ invoiceId: s.invoiceId, amountMinor: s.amountMinor }],
    })));
    await writeSeenStates(trx, portalId, source, plan.seen.map((s) => ({ id: s.id, status: writeSeen(s.state) })));
    if (latest === null || date > latest) {
      await trx.updateTable('sync_cursors').set({ cursor: JSON.stringify({ date, previous: latest }), updated_at: new Date() })
        .where('portal_id', '=', portalId).where('source', '=', source).where('stream', '=', SNAPSHOT_STREAM).execute();
    }
    await touchPortal(trx, portalId);
    return {
      preset, source, snapshotDate: date, rows: file.rows, imported: file.invoices.length, customers, invoices,
      payments: { ...payments, removed: removedPayments }, removedInvoices, settledByAbsence: plan.settledByAbsence.length, skipped: file.skipped,
    };
  });
};

/** What an import did, in lines for people. */
export const describeSnapshotImport = (r: SnapshotImportResult): string[] => {
  const c = (label: string, x: UpsertCounts): string => `${label}: ${x.inserted} new, ${x.updated} updated, ${x.unchanged} unchanged`;
  const lines = [
    `snapshot ${r.snapshotDate} of ${r.source}: ${countOf(r.imported, 'invoice')} from ${countOf(r.rows, 'row')} `
    + `(${c('customers', r.customers)}; ${c('invoices', r.invoices)}; ${c('payments', r.payments)}, ${r.payments.removed} removed)`,
  ];
  if (r.settledByAbsence > 0) lines.push(`${countOf(r.settledByAbsence, 'invoice')} no longer listed: settled at ${r.snapshotDate}`);
  if (r.removedInvoices > 0) lines.push(`${countOf(r.removedInvoices, 'invoice')} removed`);
  if (r.skipped.length > 0) lines.push(`skipped: ${r.skipped.map((s) => `${s.count} × ${s.reason}`).join(', ')}`);
  return lines;
};
