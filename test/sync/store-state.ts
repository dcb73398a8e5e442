import crypto from 'node:crypto';
import { sql } from 'kysely';
import { saveConnection } from '../../src/services/connections';
import type { Db } from '../../src/store/database';
import type { AccountingSource } from '../../src/store/schema';

/** What the store holds of a source per customer: invoices, their totals, and what was applied to them. */
export const storeState = async (
  db: Db, portalId: number, source: string,
): Promise<Map<string, { invoices: number; totalMinor: number; appliedMinor: number }>> => {
  const result = await sql<{ customer: string; invoices: number; total_minor: number; applied_minor: number }>`
    SELECT c.external_id AS customer, count(*)::int AS invoices, sum(i.total_minor)::bigint AS total_minor,
      coalesce(sum((SELECT sum(a.amount_minor) FROM payment_allocations a WHERE a.invoice_id = i.id)), 0)::bigint AS applied_minor
    FROM invoices i JOIN customers c ON c.id = i.customer_id
    WHERE i.portal_id = ${portalId} AND i.source = ${source}
    GROUP BY c.external_id`.execute(db);
  return new Map(result.rows.map((r) => [r.customer, { invoices: r.invoices, totalMinor: Number(r.total_minor), appliedMinor: Number(r.applied_minor) }]));
};

export const sorted = <V>(map: Map<string, V>): [string, V][] => [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

export const countRows = async (db: Db, table: 'payments' | 'invoices' | 'customers' | 'invoice_lines' | 'payment_allocations', portalId: number): Promise<number> => {
  const result = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)} WHERE portal_id = ${portalId}`.execute(db);
  return result.rows[0]?.n ?? 0;
};

export const TEST_KEY = crypto.createHash('sha256').update('arbridge sync tests').digest();

/** A connected connection of the portal, as the connect page stores one. */
export const connect = async (
  db: Db, portalId: number, source: AccountingSource, credentials: Record<string, unknown> = { api_key: 'rk_test_0123456789abcdef' },
  tenantId: string | null = `tenant-${source}-${portalId}`, key: Buffer = TEST_KEY,
): Promise<void> => {
  await saveConnection(db, key, portalId, source, {
    tenantId, tenantName: `${source} org of ${portalId}`, credentials, scopes: null, expiresAt: null, connectedBy: 'test', now: new Date(),
  });
};

export const connectionRow = async (db: Db, portalId: number, source: AccountingSource) =>
  db.selectFrom('accounting_connections').select(['status', 'last_sync_at', 'last_error', 'last_error_at'])
    .where('portal_id', '=', portalId).where('source', '=', source).executeTakeFirstOrThrow();
