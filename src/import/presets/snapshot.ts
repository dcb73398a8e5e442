import { z } from 'zod';
import type { IsoDate } from '../../domain/types';

// Snapshots of balances as settlements. Pure: what is stored and what the new snapshot shows in, writes out.
//
// Every settlement of a snapshot source is a "snapshot settlement": what became paid (or credited) between the
// previous snapshot and snapshot D, dated D, with the id `snap:<invoice>:<D>` (credit notes: `…:credit`). So the
// settlements of an invoice dated on or before D always sum to what snapshot D showed as settled.

export type SnapshotKind = 'payment' | 'credit_note';

export type StoredSettlement = { id: string; date: IsoDate; kind: SnapshotKind; amountMinor: number };

/** Which snapshots listed an invoice, kept in invoices.source_status as JSON. */
export type SeenState = {
  /** The export's status text in the last snapshot that listed it. */
  status: string;
  /** The last snapshot that listed it. */
  seen: IsoDate;
  /** The snapshot that listed it before `seen` (null: none did). */
  before: IsoDate | null;
};

const SeenSchema = z.object({ status: z.string(), seen: z.iso.date(), before: z.iso.date().nullable() });

export const readSeen = (text: string | null): SeenState | null => {
  if (text === null) return null;
  try {
    const parsed = SeenSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
};

export const writeSeen = (state: SeenState): string => JSON.stringify({ status: state.status, seen: state.seen, before: state.before });

export type StoredInvoice = {
  id: string;
  currency: string;
  totalMinor: number;
  voidedDate: IsoDate | null;
  seen: SeenState | null;
  settlements: StoredSettlement[];
};

/** What one snapshot says of an invoice it lists. */
export type Observed = { id: string; currency: string; totalMinor: number; paidMinor: number; creditedMinor: number; status: string };

export type SettlementWrite = { id: string; invoiceId: string; date: IsoDate; kind: SnapshotKind; currency: string; amountMinor: number };

export type SnapshotPlan = {
  /** Settlements to insert or update (those already equal are written as no-ops). */
  upserts: SettlementWrite[];
  /** Settlements to delete, by external id. */
  deletes: string[];
  /** Invoices to remove with their settlements. */
  removeInvoices: string[];
  /** New source_status (seen state) per invoice. */
  seen: { id: string; state: SeenState }[];
  /** Invoices that the previous snapshot listed and this one does not: settled at D (open-documents exports only). */
  settledByAbsence: string[];
};

export const snapshotSettlementId = (invoiceId: string, date: IsoDate, kind: SnapshotKind): string =>
  kind === 'payment' ? `snap:${invoiceId}:${date}` : `snap:${invoiceId}:${date}:credit`;

const sum = (list: readonly StoredSettlement[]): number => list.reduce((s, x) => s + x.amountMinor, 0);

/**
 * The writes that make an invoice's snapshot settlements of one kind sum to `target` as of `date`, given those
 * stored (none dated after `date`). More than before: one settlement dated `date` for the difference. Less than
 * before (a payment reversed, a credit note removed): the one dated `date` goes, then the latest earlier ones are
 * reduced or deleted until the sum is `target`.
 */
export const settleTo = (
  invoice: { id: string; currency: string }, stored: readonly StoredSettlement[], kind: SnapshotKind, target: number, date: IsoDate,
): { upserts: SettlementWrite[]; deletes: string[] } => {
  const mine = stored.filter((s) => s.kind === kind);
  if (mine.some((s) => s.date > date)) throw new Error(`invoice ${invoice.id} has ${kind} settlements dated after ${date}`);
  const atDate = mine.filter((s) => s.date === date);
  const earlier = mine.filter((s) => s.date < date).sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : a.id < b.id ? -1 : 1));
  const prior = sum(earlier);
  const upserts: SettlementWrite[] = [];
  const deletes: string[] = [];
  const id = snapshotSettlementId(invoice.id, date, kind);
  if (target >= prior) {
    const amount = target - prior;
    for (const s of atDate) if (s.id !== id || amount === 0) deletes.push(s.id);
    if (amount > 0) upserts.push({ id, invoiceId: invoice.id, date, kind, currency: invoice.currency, amountMinor: amount });
    return { upserts, deletes };
  }
  deletes.push(...atDate.map((s) => s.id));
  let excess = prior - target;
  for (let i = earlier.length - 1; i >= 0 && excess > 0; i -= 1) {
    const s = earlier[i] as StoredSettlement;
    if (s.amountMinor <= excess) {
      deletes.push(s.id);
      excess -= s.amountMinor;
    } else {
      upserts.push({ id: s.id, invoiceId: invoice.id, date: s.date, kind, currency: invoice.currency, amountMinor: s.amountMinor - excess });
      excess = 0;
    }
  }
  return { upserts, deletes };
};

export type PlanInput = {
  /** The snapshot being imported. */
  date: IsoDate;
  /** The snapshot before it (null when it is the first). */
  previous: IsoDate | null;
  /** The export lists open documents only: an invoice it no longer lists was settled. */
  openOnly: boolean;
  /** The invoices the snapshot lists. */
  observed: readonly Observed[];
  /** Stored invoices of the source: those the snapshot lists, and those last seen at `date` or `previous`. */
  stored: ReadonlyMap<string, StoredInvoice>;
  /** Invoices the export lists as deleted. */
  deleted: readonly string[];
};

/**
 * The writes that bring the store to snapshot `date`. An invoice it lists gets settlements summing to what it
 * shows paid and credited. With `openOnly`, an invoice the previous snapshot listed and this one does not is
 * settled in full at `date`. Re-importing the latest snapshot replaces it: an invoice that its earlier version
 * listed and this one does not is settled at `date` if an earlier snapshot listed it, and removed if none did.
 */
export const planSnapshot = (input: PlanInput): SnapshotPlan => {
  const plan: SnapshotPlan = { upserts: [], deletes: [], removeInvoices: [], seen: [], settledByAbsence: [] };
  const add = (part: { upserts: SettlementWrite[]; deletes: string[] }): void => {
    plan.upserts.push(...part.upserts);
    plan.deletes.push(...part.deletes);
  };
  const listed = new Set<string>();
  for (const invoice of input.observed) {
    listed.add(invoice.id);
    const stored = input.stored.get(invoice.id);
    const settlements = stored?.settlements ?? [];
    add(settleTo(invoice, settlements, 'payment', invoice.paidMinor, input.date));
    add(settleTo(invoice, settlements, 'credit_note', invoice.creditedMinor, input.date));
    const prior = stored?.seen ?? null;
    const before = prior === null ? null : prior.seen === input.date ? prior.before : prior.seen;
    plan.seen.push({ id: invoice.id, state: { status: invoice.status, seen: input.date, before } });
  }
  for (const id of input.deleted) {
    if (!listed.has(id) && input.stored.has(id)) plan.removeInvoices.push(id);
  }
  if (!input.openOnly) return plan;
  const settleInFull = (stored: StoredInvoice): void => {
    const credited = sum(stored.settlements.filter((s) => s.kind === 'credit_note' && s.date < input.date));
    add(settleTo(stored, stored.settlements, 'payment', Math.max(0, stored.totalMinor - credited), input.date));
    add(settleTo(stored, stored.settlements, 'credit_note', credited, input.date));
    plan.settledByAbsence.push(stored.id);
  };
  for (const stored of input.stored.values()) {
    if (listed.has(stored.id) || stored.seen === null) continue;
    if (stored.seen.seen === input.date) {
      // Listed by the earlier version of this snapshot only.
      if (stored.seen.before === null) plan.removeInvoices.push(stored.id);
      else {
        settleInFull(stored);
        plan.seen.push({ id: stored.id, state: { ...stored.seen, seen: stored.seen.before, before: null } });
      }
    } else if (input.previous !== null && stored.seen.seen === input.previous) {
      settleInFull(stored);
    }
  }
  return plan;
};
