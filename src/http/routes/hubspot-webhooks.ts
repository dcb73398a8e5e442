import express, { Router } from 'express';
import type { Config } from '../../config';
import { AppError } from '../../errors';
import {
  SIGNATURE_FAILURE_MESSAGES, SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyHubSpotSignatureV3, type SignatureFailure,
} from '../../hubspot/signature';
import {
  HUBSPOT_WEBHOOK_PATH, parseWebhookBatch, splitByServedPortal, uniqueRows, webhookEventRow, type HubSpotWebhookEvent,
} from '../../hubspot/webhook-events';
import type { Logger } from '../../logger';
import type { Db } from '../../store/database';
import { ensurePortal } from '../../store/facts';
import { keepRawBody, type RawBodyRequest } from '../middleware/hubspot-signature';

// POST /webhooks/hubspot: HubSpot's webhook deliveries (app-config/app/webhooks/webhooks-hsmeta.json).
// https://developers.hubspot.com/docs/apps/developer-platform/add-features/configure-webhooks

/**
 * HubSpot batches events (about 100 per request), and a batch of long property values can pass the app-wide
 * 256 kB limit. This route parses its own body with a 1 MB limit, so it is mounted before the app-wide JSON
 * parser, whose smaller limit stays for every other route.
 */
export const HUBSPOT_WEBHOOK_BODY_LIMIT = '1mb';

/** Rows per INSERT statement: far below PostgreSQL's 65 535 bind parameters (8 per row). */
const INSERT_CHUNK = 1_000;

export type HubSpotWebhookDeps = {
  /** Called (without waiting) after a delivery stored at least one new event; e.g. a debounced write-back round. */
  requestRound?: () => void;
  /** Milliseconds since the epoch (signature timestamps are checked against it). */
  now?: () => number;
};

export type HubSpotWebhookRouteDeps = {
  db: Db;
  config: { publicUrl?: string; hubspot?: Pick<Config['hubspot'], 'clientSecret' | 'privateApp'> };
  logger: Logger;
  hubspotWebhooks?: HubSpotWebhookDeps;
};

type Refusal = SignatureFailure | 'no_client_secret' | 'no_public_url' | 'unsigned_body';

const REFUSALS: Readonly<Record<Exclude<Refusal, SignatureFailure>, string>> = {
  no_client_secret: 'Webhook deliveries are verified with the app\'s client secret: set HUBSPOT_CLIENT_SECRET (there is no unsigned access)',
  no_public_url: 'Webhook deliveries are verified against the public URL: set ARBRIDGE_PUBLIC_URL',
  unsigned_body: 'The webhook body must be JSON (Content-Type: application/json) so that its signature can be checked',
};

const refusalMessage = (reason: Refusal): string =>
  reason in REFUSALS ? REFUSALS[reason as keyof typeof REFUSALS] : SIGNATURE_FAILURE_MESSAGES[reason as SignatureFailure];

const MAX_PROBLEMS_IN_MESSAGE = 5;

export type StoredDelivery = { received: number; stored: number; duplicates: number; ignored: number; ignoredPortals: number[] };

/** The portals among `portalIds` that we serve: an OAuth install, or the private app's portal. */
const servedPortals = async (
  db: Db, portalIds: readonly number[], privateApp: { portalId: number } | null | undefined,
): Promise<number[]> => {
  if (portalIds.length === 0) return [];
  const rows = await db.selectFrom('hubspot_installs').select('portal_id').where('portal_id', 'in', [...portalIds]).execute();
  const served = rows.map((row) => Number(row.portal_id));
  if (privateApp && portalIds.includes(privateApp.portalId)) served.push(privateApp.portalId);
  return served;
};

/** Stores the events of served portals once per (portal, event id), in one transaction. */
const storeDelivery = async (
  db: Db, events: readonly HubSpotWebhookEvent[], privateApp: { portalId: number } | null | undefined,
): Promise<StoredDelivery> => {
  const portals = [...new Set(events.map((event) => event.portalId))];
  const { served, ignored } = splitByServedPortal(events, await servedPortals(db, portals, privateApp));
  const rows = uniqueRows(served.map(webhookEventRow));
  const servedPortalIds = [...new Set(rows.map((row) => row.portal_id))];
  const stored = rows.length === 0 ? 0 : await db.transaction().execute(async (trx) => {
    // An install row implies its portal row; the private app's portal may not have one yet.
    for (const portalId of servedPortalIds) await ensurePortal(trx, portalId);
    let inserted = 0;
    for (let at = 0; at < rows.length; at += INSERT_CHUNK) {
      const result = await trx.insertInto('hubspot_webhook_events').values(rows.slice(at, at + INSERT_CHUNK))
        .onConflict((oc) => oc.columns(['portal_id', 'event_id']).doNothing())
        .returning('event_id').execute();
      inserted += result.length;
    }
    return inserted;
  });
  return {
    received: events.length, stored, duplicates: served.length - stored, ignored: ignored.length,
    ignoredPortals: [...new Set(ignored.map((event) => event.portalId))].sort((a, b) => a - b),
  };
};

/**
 * Receives HubSpot's webhook deliveries. A delivery is admitted only with a valid v3 signature (keyed with
 * the app's client secret, over publicUrl + the path as received + the raw body + the timestamp). Each
 * event's portal comes from the signed body; events of portals we do not serve are counted and dropped.
 * The rest are stored once per (portal, event id), so a redelivery changes nothing and the order of
 * arrival does not matter. The answer (204) goes out once they are stored; a round is then requested.
 */
export const hubspotWebhookRoutes = (deps: HubSpotWebhookRouteDeps): Router => {
  const now = deps.hubspotWebhooks?.now ?? Date.now;
  const { logger } = deps;
  return Router().post(
    HUBSPOT_WEBHOOK_PATH,
    express.json({ limit: HUBSPOT_WEBHOOK_BODY_LIMIT, verify: keepRawBody }),
    async (req, res) => {
      const refuse = (reason: Refusal): never => {
        logger.warn({ reason, path: req.path }, 'refused a HubSpot webhook delivery');
        throw new AppError('unauthenticated', refusalMessage(reason), { reason });
      };
      const clientSecret = deps.config.hubspot?.clientSecret ?? null;
      if (clientSecret === null) return refuse('no_client_secret');
      const publicUrl = deps.config.publicUrl;
      if (publicUrl === undefined) return refuse('no_public_url');
      const raw = (req as RawBodyRequest).rawBody;
      if (raw === undefined) return refuse('unsigned_body');
      const check = verifyHubSpotSignatureV3({
        method: req.method,
        url: publicUrl + req.originalUrl,
        rawBody: raw,
        signature: req.header(SIGNATURE_HEADER),
        timestamp: req.header(TIMESTAMP_HEADER),
        clientSecret,
        now: now(),
      });
      if (!check.ok) return refuse(check.reason);

      const batch = parseWebhookBatch(req.body);
      if (!batch.ok) {
        const shown = batch.problems.slice(0, MAX_PROBLEMS_IN_MESSAGE).map((p) => `${p.field}: ${p.message}`).join('; ');
        const more = batch.problems.length > MAX_PROBLEMS_IN_MESSAGE ? ` (and ${batch.problems.length - MAX_PROBLEMS_IN_MESSAGE} more)` : '';
        logger.warn({ problems: batch.problems.slice(0, MAX_PROBLEMS_IN_MESSAGE) }, 'refused a malformed HubSpot webhook delivery');
        throw new AppError('invalid_request', `Webhook events are invalid: ${shown}${more}`, {
          field: batch.problems[0]?.field ?? 'body', problems: batch.problems.slice(0, MAX_PROBLEMS_IN_MESSAGE),
        });
      }
      if (batch.events.length === 0) {
        res.status(204).end();
        return;
      }
      const delivery = await storeDelivery(deps.db, batch.events, deps.config.hubspot?.privateApp);
      if (delivery.ignored > 0) {
        logger.info({ ignored: delivery.ignored, portals: delivery.ignoredPortals }, 'ignored HubSpot webhook events of portals we do not serve');
      }
      logger.debug({ ...delivery }, 'HubSpot webhook delivery stored');
      res.status(204).end();
      if (delivery.stored > 0 && deps.hubspotWebhooks?.requestRound) {
        try {
          deps.hubspotWebhooks.requestRound();
        } catch (error) {
          logger.error({ error: error instanceof Error ? error.message : String(error) }, 'could not request a HubSpot round after webhook events');
        }
      }
    },
  );
};
