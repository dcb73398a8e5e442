import { sql } from 'kysely';
import type { AccountingSourceName } from '../connectors/types';
import { ACCOUNTING_SOURCES, type ConnectionStatus } from '../services/connections';
import type { Db } from '../store/database';
import { MAIN_STREAM } from './engine';

// How each connection's sync stands: for `arbridge connections` and `GET /healthz?details=1`.

export type SyncRunView = {
  id: number;
  trigger: string;
  full: boolean;
  /** ISO date-times. */
  startedAt: string;
  finishedAt: string | null;
  /** `unfinished`: running now, or stopped by a crash (the next run resumes from the cursor). */
  state: 'ok' | 'failed' | 'unfinished';
  pages: number;
  customers: number;
  invoices: number;
  invoicesRemoved: number;
  payments: number;
  paymentsRemoved: number;
  skippedAllocations: number;
  error: string | null;
};

export type ConnectionSyncView = {
  portalId: number;
  source: AccountingSourceName;
  status: ConnectionStatus;
  tenantId: string | null;
  tenantName: string | null;
  lastSyncAt: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  cursor: string | null;
  cursorUpdatedAt: string | null;
  lastRun: SyncRunView | null;
  /** Webhook events received and not yet covered by a finished sync. */
  pendingEvents: number;
};

const iso = (value: Date | string | null | undefined): string | null => (value == null ? null : new Date(value).toISOString());

type Row = {
  portal_id: number; source: AccountingSourceName; status: ConnectionStatus; tenant_id: string | null; tenant_name: string | null;
  last_sync_at: Date | string | null; last_error: string | null; last_error_at: Date | string | null;
  cursor: string | null; cursor_updated_at: Date | string | null; pending_events: number;
  run_id: number | null; run_trigger: string | null; run_full: boolean | null; run_started_at: Date | string | null;
  run_finished_at: Date | string | null; run_pages: number | null; run_customers: number | null; run_invoices: number | null;
  run_invoices_removed: number | null; run_payments: number | null; run_payments_removed: number | null;
  run_skipped_allocations: number | null; run_error: string | null;
};

const view = (r: Row): ConnectionSyncView => ({
  portalId: Number(r.portal_id),
  source: r.source,
  status: r.status,
  tenantId: r.tenant_id,
  tenantName: r.tenant_name,
  lastSyncAt: iso(r.last_sync_at),
  lastError: r.last_error,
  lastErrorAt: iso(r.last_error_at),
  cursor: r.cursor,
  cursorUpdatedAt: iso(r.cursor_updated_at),
  pendingEvents: Number(r.pending_events),
  lastRun: r.run_id === null ? null : {
    id: Number(r.run_id),
    trigger: r.run_trigger ?? 'manual',
    full: r.run_full ?? false,
    startedAt: iso(r.run_started_at) as string,
    finishedAt: iso(r.run_finished_at),
    state: r.run_finished_at === null ? 'unfinished' : r.run_error === null ? 'ok' : 'failed',
    pages: r.run_pages ?? 0,
    customers: r.run_customers ?? 0,
    invoices: r.run_invoices ?? 0,
    invoicesRemoved: r.run_invoices_removed ?? 0,
    payments: r.run_payments ?? 0,
    paymentsRemoved: r.run_payments_removed ?? 0,
    skippedAllocations: r.run_skipped_allocations ?? 0,
    error: r.run_error,
  },
});

/** The connections of one portal, or of every portal, with their cursor, last run and pending webhook events. */
const connectionRows = async (db: Db, portalId: number | null): Promise<ConnectionSyncView[]> => {
  const where = portalId === null ? sql`` : sql`WHERE c.portal_id = ${portalId}`;
  const result = await sql<Row>`
    SELECT c.portal_id, c.source, c.status, c.tenant_id, c.tenant_name, c.last_sync_at, c.last_error, c.last_error_at,
      k.cursor, k.updated_at AS cursor_updated_at,
      (SELECT count(*) FROM source_webhook_events e
        WHERE e.portal_id = c.portal_id AND e.source = c.source AND e.processed_at IS NULL)::int AS pending_events,
      r.id AS run_id, r.trigger AS run_trigger, r.full_sync AS run_full, r.started_at AS run_started_at,
      r.finished_at AS run_finished_at, r.pages AS run_pages, r.customers AS run_customers, r.invoices AS run_invoices,
      r.invoices_removed AS run_invoices_removed, r.payments AS run_payments, r.payments_removed AS run_payments_removed,
      r.skipped_allocations AS run_skipped_allocations, r.error AS run_error
    FROM accounting_connections c
    LEFT JOIN sync_cursors k ON k.portal_id = c.portal_id AND k.source = c.source AND k.stream = ${MAIN_STREAM}
    LEFT JOIN LATERAL (
      SELECT * FROM sync_runs s WHERE s.portal_id = c.portal_id AND s.source = c.source
      ORDER BY s.started_at DESC, s.id DESC LIMIT 1) r ON true
    ${where}
    ORDER BY c.portal_id, c.source`.execute(db);
  return result.rows.map(view);
};

/** Every source for the portal, in the connect page's order (`not_connected` when it never connected one). */
export const portalSyncStatus = async (db: Db, portalId: number): Promise<ConnectionSyncView[]> => {
  const rows = await connectionRows(db, portalId);
  return ACCOUNTING_SOURCES.map((source) => rows.find((r) => r.source === source) ?? {
    portalId, source, status: 'not_connected', tenantId: null, tenantName: null, lastSyncAt: null, lastError: null,
    lastErrorAt: null, cursor: null, cursorUpdatedAt: null, lastRun: null, pendingEvents: 0,
  });
};

/** Every portal's connections (those that exist), by portal. */
export const allSyncStatus = async (db: Db): Promise<{ portalId: number; connections: ConnectionSyncView[] }[]> => {
  const byPortal = new Map<number, ConnectionSyncView[]>();
  for (const row of await connectionRows(db, null)) byPortal.set(row.portalId, [...(byPortal.get(row.portalId) ?? []), row]);
  return [...byPortal].map(([portalId, connections]) => ({ portalId, connections }));
};

const JOB_NAMES_SHOWN = ['sync', 'hubspot-writeback'] as const;

/** What `GET /healthz?details=1` adds: the store, the queue's depth, and each portal's connections. */
export const healthDetails = async (
  db: Db, storeKind: 'pglite' | 'postgres', queue: { kind: string; depth(name: (typeof JOB_NAMES_SHOWN)[number]): Promise<number> },
): Promise<Record<string, unknown>> => {
  const [portals, ...depths] = await Promise.all([allSyncStatus(db), ...JOB_NAMES_SHOWN.map((name) => queue.depth(name))]);
  return {
    store: storeKind,
    queue: { kind: queue.kind, waiting: Object.fromEntries(JOB_NAMES_SHOWN.map((name, i) => [name, depths[i] ?? 0])) },
    portals: portals.map((p) => ({
      portal_id: p.portalId,
      connections: p.connections.map((c) => ({
        source: c.source,
        status: c.status,
        tenant_id: c.tenantId,
        tenant_name: c.tenantName,
        last_sync_at: c.lastSyncAt,
        last_error: c.lastError,
        last_error_at: c.lastErrorAt,
        cursor_updated_at: c.cursorUpdatedAt,
        pending_events: c.pendingEvents,
        last_run: c.lastRun && {
          trigger: c.lastRun.trigger, full: c.lastRun.full, state: c.lastRun.state, started_at: c.lastRun.startedAt,
          finished_at: c.lastRun.finishedAt, pages: c.lastRun.pages, customers: c.lastRun.customers, invoices: c.lastRun.invoices,
          invoices_removed: c.lastRun.invoicesRemoved, payments: c.lastRun.payments, payments_removed: c.lastRun.paymentsRemoved,
          skipped_allocations: c.lastRun.skippedAllocations, error: c.lastRun.error,
        },
      })),
    })),
  };
};
