import { sql } from 'kysely';
import type { AccountingSourceName, WebhookHint } from '../connectors/types';
import type { Db } from '../store/database';

// Verified webhook events of accounting sources. The events are hints: each is stored once per (portal, source,
// event id) for the connections of its tenant, and those connections get a sync, which pulls from the cursor.
// Since the pull is the source of truth, duplicates and the order of arrival change nothing.

export type StoredHints = {
  received: number;
  stored: number;
  duplicates: number;
  /** Events of tenants no connection has (or, without a tenant, with no single connection to go to). */
  ignored: number;
  ignoredTenants: (string | null)[];
  /** The connections to sync: those with an event not yet covered by a finished sync. */
  syncs: { portalId: number; source: AccountingSourceName }[];
};

const INSERT_CHUNK = 1_000;

/**
 * Stores a delivery's hints in one transaction. A hint's tenant picks the connections (accounting_connections.
 * tenant_id, any portal, not disconnected); a hint without a tenant goes to the source's only connection when
 * there is exactly one (a single account's own webhook endpoint), and is ignored otherwise.
 */
export const storeHints = async (db: Db, source: AccountingSourceName, hints: readonly WebhookHint[]): Promise<StoredHints> => {
  const unique = [...new Map(hints.map((h) => [h.eventId, h] as const)).values()];
  return db.transaction().execute(async (trx) => {
    const connections = await trx.selectFrom('accounting_connections').select(['portal_id', 'tenant_id'])
      .where('source', '=', source).where('status', '<>', 'disconnected').execute();
    const portalsOf = (tenantId: string | null): number[] => {
      if (tenantId === null) return connections.length === 1 ? connections.map((c) => Number(c.portal_id)) : [];
      return connections.filter((c) => c.tenant_id === tenantId).map((c) => Number(c.portal_id));
    };
    const rows = unique.flatMap((h) => portalsOf(h.tenantId).map((portalId) => ({
      portal_id: portalId, source, event_id: h.eventId, tenant_id: h.tenantId, object_type: h.objectType, object_id: h.objectId,
      occurred_at: h.occurredAt !== null && !Number.isNaN(Date.parse(h.occurredAt)) ? new Date(h.occurredAt) : null,
    })));
    const ignored = unique.filter((h) => portalsOf(h.tenantId).length === 0);
    let stored = 0;
    for (let at = 0; at < rows.length; at += INSERT_CHUNK) {
      const inserted = await trx.insertInto('source_webhook_events').values(rows.slice(at, at + INSERT_CHUNK))
        .onConflict((oc) => oc.columns(['portal_id', 'source', 'event_id']).doNothing())
        .returning('event_id').execute();
      stored += inserted.length;
    }
    // New events, and repeats of events no sync has covered yet (a delivery stored before a crash), ask for a sync.
    const pending = rows.length === 0 ? [] : (await sql<{ portal_id: number }>`
      SELECT DISTINCT e.portal_id FROM source_webhook_events e
      JOIN json_to_recordset(${JSON.stringify(rows.map((r) => ({ portal_id: r.portal_id, event_id: r.event_id })))}::json)
        AS d(portal_id bigint, event_id text) ON d.portal_id = e.portal_id AND d.event_id = e.event_id
      WHERE e.source = ${source} AND e.processed_at IS NULL
      ORDER BY e.portal_id`.execute(trx)).rows;
    return {
      received: hints.length,
      stored,
      duplicates: rows.length - stored,
      ignored: ignored.length,
      ignoredTenants: [...new Set(ignored.map((h) => h.tenantId))],
      syncs: pending.map((p) => ({ portalId: Number(p.portal_id), source })),
    };
  });
};
