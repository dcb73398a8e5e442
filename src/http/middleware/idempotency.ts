import crypto from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import { sql } from 'kysely';
import type { z } from 'zod';
import { AppError } from '../../errors';
import type { Db } from '../../store/database';
import { ensurePortal } from '../../store/facts';
import { parseOrThrow } from '../parse';
import { portalOf } from './portal';

// POST actions carry an idempotency key in their JSON body. The key is recorded (per portal, with the
// method, path and a hash of the body) in the transaction that does the work, and the answer is stored
// with it, so a retry with the same key and body replays the first answer instead of acting twice. A
// failed action rolls back with its key: only successful answers are kept, and a failed request may be
// retried with the same key.

export type ActionResult = { status: number; body: unknown };

/** Seconds a client should wait before retrying while the first request with its key is still running. */
export const IN_FLIGHT_RETRY_AFTER_SECONDS = 1;

/** JSON with object keys sorted at every level, so equal bodies hash equally whatever their key order. */
export const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
};

/** SHA-256 (hex) of the canonical JSON of a request body. */
export const requestHash = (body: unknown): string => crypto.createHash('sha256').update(canonicalJson(body), 'utf8').digest('hex');

/**
 * The transaction-level advisory lock a request holds while it works under its key: 64 bits of
 * SHA-256(portal:key), as a signed bigint in decimal.
 */
export const idempotencyLockKey = (portalId: number, key: string): string =>
  crypto.createHash('sha256').update(`${portalId}:${key}`, 'utf8').digest().readBigInt64BE(0).toString();

type Outcome =
  | { kind: 'done' | 'replay'; status: number; body: unknown }
  | { kind: 'in_flight' }
  | { kind: 'mismatch' };

/**
 * Runs `action` at most once per (portal, idempotencyKey). The body is validated with `schema` first (a 400
 * names the field). Then, in one transaction: a non-blocking advisory lock on the key (held by another
 * request → 409 with Retry-After), `INSERT … ON CONFLICT DO NOTHING` of the key, and either the action (its
 * answer stored with the key) or, when the key exists, a replay of the stored answer (header
 * `Idempotent-Replayed: true`) — or a 400 naming idempotencyKey when that key was used for another method,
 * path or body. The action must do all its reads and writes through the transaction it is given.
 */
export const idempotentAction = <T extends { idempotencyKey: string }>(
  db: Db,
  schema: z.ZodType<T>,
  action: (trx: Db, input: T, res: Response) => Promise<ActionResult>,
): RequestHandler => async (req, res) => {
  const input = parseOrThrow(schema, req.body ?? {}, 'Request body fields');
  const portalId = portalOf(res);
  const key = input.idempotencyKey;
  const method = req.method;
  const path = req.baseUrl + req.path;
  const hash = requestHash(req.body);
  const outcome = await db.transaction().execute(async (trx): Promise<Outcome> => {
    const lock = await sql<{ locked: boolean }>`
      SELECT pg_try_advisory_xact_lock(${idempotencyLockKey(portalId, key)}::bigint) AS locked`.execute(trx);
    if (lock.rows[0]?.locked !== true) return { kind: 'in_flight' };
    await ensurePortal(trx, portalId);
    const claimed = await trx.insertInto('idempotency_keys')
      .values({ portal_id: portalId, key, method, path, request_hash: hash })
      .onConflict((oc) => oc.columns(['portal_id', 'key']).doNothing())
      .returning('key')
      .executeTakeFirst();
    if (claimed === undefined) {
      const stored = await trx.selectFrom('idempotency_keys')
        .select(['method', 'path', 'request_hash', 'status_code', 'response'])
        .where('portal_id', '=', portalId).where('key', '=', key)
        .executeTakeFirstOrThrow();
      if (stored.method !== method || stored.path !== path || stored.request_hash !== hash) return { kind: 'mismatch' };
      if (stored.status_code === null) return { kind: 'in_flight' };
      return { kind: 'replay', status: stored.status_code, body: stored.response };
    }
    const result = await action(trx, input, res);
    await trx.updateTable('idempotency_keys')
      .set({ status_code: result.status, response: sql`${JSON.stringify(result.body)}::jsonb` })
      .where('portal_id', '=', portalId).where('key', '=', key)
      .execute();
    return { kind: 'done', status: result.status, body: result.body };
  });
  switch (outcome.kind) {
    case 'mismatch':
      throw new AppError(
        'invalid_request',
        `idempotencyKey "${key}" was already used for a different request; send a new key for a new action`,
        { fields: { idempotencyKey: ['already used for a different request'] } },
      );
    case 'in_flight':
      res.status(409).set('Retry-After', String(IN_FLIGHT_RETRY_AFTER_SECONDS)).json({
        error: 'conflict',
        message: `A request with idempotencyKey "${key}" is still being processed; retry after ${IN_FLIGHT_RETRY_AFTER_SECONDS} s`,
        fields: { idempotencyKey: ['in use by a request still being processed'] },
      });
      return;
    case 'replay':
      res.status(outcome.status).set('Idempotent-Replayed', 'true').json(outcome.body);
      return;
    case 'done':
      res.status(outcome.status).json(outcome.body);
  }
};
