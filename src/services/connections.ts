import { openSecret, sealSecret } from '../secrets/crypto';
import type { Db } from '../store/database';
import { ensurePortal, touchPortal } from '../store/facts';
import type { AccountingSource } from '../store/schema';

/**
 * A portal's connections to accounting systems (table accounting_connections, one row per portal and source).
 * Credentials are sealed with the service's key (AES-256-GCM) in the context of their portal and source, so a
 * sealed value copied to another row does not open. Every write is one transaction ending with touchPortal.
 */

/** In the order the connect page lists them. */
export const ACCOUNTING_SOURCES = ['quickbooks', 'xero', 'stripe'] as const satisfies readonly AccountingSource[];

export type ConnectionStatus = 'connected' | 'error' | 'disconnected' | 'not_connected';

export type ConnectionView = {
  source: AccountingSource;
  status: ConnectionStatus;
  tenantId: string | null;
  tenantName: string | null;
  /** ISO date-times. */
  connectedAt: string | null;
  connectedBy: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
};

/** The additional data a source's credentials are sealed with. */
export const credentialsContext = (portalId: number, source: AccountingSource): string => `portal:${portalId}:accounting:${source}`;

const iso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());

/** Every source, with what the portal has of it (not_connected when it never connected one). */
export const listConnections = async (db: Db, portalId: number): Promise<ConnectionView[]> => {
  const rows = await db.selectFrom('accounting_connections')
    .select(['source', 'status', 'tenant_id', 'tenant_name', 'connected_at', 'connected_by', 'last_error', 'last_error_at'])
    .where('portal_id', '=', portalId)
    .execute();
  return ACCOUNTING_SOURCES.map((source) => {
    const row = rows.find((r) => r.source === source);
    if (!row) {
      return { source, status: 'not_connected', tenantId: null, tenantName: null, connectedAt: null, connectedBy: null, lastError: null, lastErrorAt: null };
    }
    return {
      source,
      status: row.status,
      tenantId: row.tenant_id,
      tenantName: row.tenant_name,
      connectedAt: iso(row.connected_at),
      connectedBy: row.connected_by,
      lastError: row.last_error,
      lastErrorAt: iso(row.last_error_at),
    };
  });
};

export type NewConnection = {
  tenantId: string | null;
  tenantName: string;
  /** Sealed as JSON; never stored in the clear. */
  credentials: Record<string, unknown>;
  scopes: string | null;
  /** When the access credential expires (null: it does not). */
  expiresAt: Date | null;
  connectedBy: string | null;
  now: Date;
};

/** Stores a working connection (a new one, or a reconnect replacing the old credentials and clearing any error). */
export const saveConnection = async (
  db: Db, key: Buffer, portalId: number, source: AccountingSource, connection: NewConnection,
): Promise<void> => {
  const values = {
    status: 'connected' as const,
    tenant_id: connection.tenantId,
    tenant_name: connection.tenantName,
    credentials_enc: sealSecret(key, JSON.stringify(connection.credentials), credentialsContext(portalId, source)),
    scopes: connection.scopes,
    expires_at: connection.expiresAt,
    connected_at: connection.now,
    connected_by: connection.connectedBy,
    last_error: null,
    last_error_at: null,
    updated_at: connection.now,
  };
  await db.transaction().execute(async (trx) => {
    await ensurePortal(trx, portalId);
    await trx.insertInto('accounting_connections')
      .values({ portal_id: portalId, source, ...values })
      .onConflict((oc) => oc.columns(['portal_id', 'source']).doUpdateSet(values))
      .execute();
    await touchPortal(trx, portalId);
  });
};

export type Disconnected = {
  tenantName: string | null;
  /** The credentials as they were, for revoking them at the provider; null when none were stored. */
  credentials: Record<string, unknown> | null;
};

/**
 * Deletes a source's credentials and marks it disconnected (the row stays, with who it was connected to).
 * Answers what was removed, or null when nothing was connected. The credentials are read and deleted in one
 * transaction, so two disconnects do not both revoke.
 */
export const disconnectConnection = async (
  db: Db, key: Buffer, portalId: number, source: AccountingSource, now: Date,
): Promise<Disconnected | null> =>
  db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('accounting_connections')
      .select(['status', 'tenant_name', 'credentials_enc'])
      .where('portal_id', '=', portalId).where('source', '=', source)
      .forUpdate()
      .executeTakeFirst();
    if (!row || (row.status === 'disconnected' && row.credentials_enc === null)) return null;
    let credentials: Record<string, unknown> | null = null;
    if (row.credentials_enc !== null) {
      try {
        credentials = JSON.parse(openSecret(key, row.credentials_enc, credentialsContext(portalId, source))) as Record<string, unknown>;
      } catch {
        // Sealed with another key, or damaged: nothing can be revoked, the row is cleared all the same.
        credentials = null;
      }
    }
    await trx.updateTable('accounting_connections')
      .set({ status: 'disconnected', credentials_enc: null, scopes: null, expires_at: null, last_error: null, last_error_at: null, updated_at: now })
      .where('portal_id', '=', portalId).where('source', '=', source)
      .execute();
    await touchPortal(trx, portalId);
    return { tenantName: row.tenant_name, credentials };
  });

/** A source's opened credentials (for the sync that reads the accounting system); null when not connected. */
export const connectionCredentials = async (
  db: Db, key: Buffer, portalId: number, source: AccountingSource,
): Promise<Record<string, unknown> | null> => {
  const row = await db.selectFrom('accounting_connections').select('credentials_enc')
    .where('portal_id', '=', portalId).where('source', '=', source).where('status', '=', 'connected')
    .executeTakeFirst();
  if (!row?.credentials_enc) return null;
  return JSON.parse(openSecret(key, row.credentials_enc, credentialsContext(portalId, source))) as Record<string, unknown>;
};
