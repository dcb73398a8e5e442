import crypto from 'node:crypto';
import { Router } from 'express';
import type { Config } from '../../config';
import { AppError } from '../../errors';

// GET /healthz: {"status":"ok"} while the service answers. GET /healthz?details=1 adds how each portal's
// accounting syncs stand and the job queue's depth: open outside production; in production only with
// `Authorization: Bearer <ARBRIDGE_HEALTH_TOKEN>` (and not at all without that variable).

export type HealthDeps = {
  details: () => Promise<Record<string, unknown>>;
  /** The bearer token that opens details in production; null: details are closed there. */
  token: string | null;
};

export type HealthRouteDeps = { config: Pick<Config, 'env'>; health?: HealthDeps };

const sameText = (a: string, b: string): boolean => {
  const x = crypto.createHash('sha256').update(a).digest();
  const y = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(x, y);
};

export const healthRoutes = (deps: HealthRouteDeps): Router => Router().get('/healthz', async (req, res) => {
  const wanted = req.query.details !== undefined && req.query.details !== '0' && req.query.details !== 'false';
  if (!wanted) {
    res.json({ status: 'ok' });
    return;
  }
  const health = deps.health;
  if (!health) throw new AppError('not_found', 'This service keeps no health details');
  if (deps.config.env === 'production') {
    if (health.token === null) throw new AppError('not_found', 'Health details are off in production: set ARBRIDGE_HEALTH_TOKEN to open them to its bearer');
    const given = /^Bearer (.+)$/i.exec(req.header('authorization') ?? '')?.[1];
    if (given === undefined || !sameText(given, health.token)) {
      throw new AppError('unauthenticated', 'Health details need Authorization: Bearer <ARBRIDGE_HEALTH_TOKEN>');
    }
  }
  res.set('Cache-Control', 'no-store');
  res.json({ status: 'ok', ...await health.details() });
});
