import express, { Router, type Request, type Response } from 'express';
import type { AccountingSourceName, WebhookVerifier } from '../../connectors/types';
import { AppError } from '../../errors';
import type { Logger } from '../../logger';
import type { Db } from '../../store/database';
import { PROVIDER_LABELS } from '../../sync/engine';
import { storeHints } from '../../sync/webhooks';

// POST /webhooks/stripe, /webhooks/xero, /webhooks/quickbooks: the accounting sources' webhook deliveries.
// Each is checked by the source's verifier on the raw bytes as received (the signatures are over them), so these
// routes parse their own body and are mounted before the app-wide JSON parser.

export const SOURCE_WEBHOOK_SOURCES: readonly AccountingSourceName[] = ['stripe', 'xero', 'quickbooks'];

export const SOURCE_WEBHOOK_BODY_LIMIT = '1mb';

/** The variable each source's webhook secret is configured with. */
export const WEBHOOK_SECRET_VARIABLES: Readonly<Record<AccountingSourceName, string>> = {
  stripe: 'STRIPE_WEBHOOK_SECRET', xero: 'XERO_WEBHOOK_KEY', quickbooks: 'QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN',
};

export type SourceWebhookDeps = {
  /** One verifier per source whose webhook secret is configured; a source without one answers 404. */
  verifiers: Partial<Record<AccountingSourceName, WebhookVerifier>>;
  /** Queues a sync of the connection (the `sync` job). */
  requestSync: (portalId: number, source: AccountingSourceName) => Promise<unknown>;
};

export type SourceWebhookRouteDeps = { db: Db; logger: Logger; sourceWebhooks?: SourceWebhookDeps };

/**
 * A delivery with a valid signature is answered 200 with an empty body once its events are stored and the syncs
 * they call for are queued (Xero's intent-to-receive, a delivery without events, gets the same answer); a bad
 * signature is answered 401 (Xero requires exactly this), and nothing is stored. Events of tenants no portal
 * has connected are answered 200 and dropped (logged), so the sender does not retry them.
 */
export const sourceWebhookRoutes = (deps: SourceWebhookRouteDeps): Router => {
  const router = Router();
  const { db, logger } = deps;
  const receive = (source: AccountingSourceName) => async (req: Request, res: Response): Promise<void> => {
    const verify = deps.sourceWebhooks?.verifiers[source];
    if (!verify) {
      throw new AppError('not_found', `${PROVIDER_LABELS[source]} webhooks are not configured on this service: set ${WEBHOOK_SECRET_VARIABLES[source]}`);
    }
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const verified = verify(raw, req.headers);
    if (!verified.ok) {
      logger.warn({ source, reason: verified.reason }, 'refused an accounting webhook delivery');
      throw new AppError('unauthenticated', `The ${PROVIDER_LABELS[source]} webhook signature does not verify: ${verified.reason}`, { reason: verified.reason });
    }
    if (verified.hints.length > 0) {
      const delivery = await storeHints(db, source, verified.hints);
      if (delivery.ignored > 0) {
        logger.info({ source, ignored: delivery.ignored, tenants: delivery.ignoredTenants }, 'ignored accounting webhook events of tenants no portal has connected');
      }
      for (const { portalId } of delivery.syncs) await deps.sourceWebhooks?.requestSync(portalId, source);
      logger.debug({ source, received: delivery.received, stored: delivery.stored, duplicates: delivery.duplicates, syncs: delivery.syncs.length }, 'accounting webhook delivery stored');
    }
    res.status(200).end();
  };
  for (const source of SOURCE_WEBHOOK_SOURCES) {
    router.post(`/webhooks/${source}`, express.raw({ type: '*/*', limit: SOURCE_WEBHOOK_BODY_LIMIT }), receive(source));
  }
  return router;
};
