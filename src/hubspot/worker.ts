import type { Config } from '../config';
import type { IsoDate } from '../domain/types';
import type { Logger } from '../logger';
import type { Db } from '../store/database';
import type { HubSpotAuth } from './auth';
import { connectPortal } from './connection';
import { pushToHubSpot } from './push';

export type WriteBackWorker = {
  /** Runs one round now (every installed portal in turn); resolves when it is done. */
  runOnce: () => Promise<void>;
  /** Stops scheduling and waits for a round in progress to finish. */
  stop: () => Promise<void>;
};

/**
 * The in-process write-back schedule: every `intervalMs`, for each installed portal, recompute the roll-ups
 * as of today, queue what changed and drain the outbox. One round at a time; a portal that fails is logged
 * and retried next round (its rows stay in the outbox).
 */
export const startWriteBackWorker = (deps: {
  db: Db; auth: HubSpotAuth; config: Pick<Config, 'hubspot'>; logger: Logger; today: () => IsoDate; intervalMs: number;
}): WriteBackWorker => {
  const { db, auth, config, logger } = deps;
  let current: Promise<void> | null = null;
  let stopped = false;

  const round = async (): Promise<void> => {
    for (const portalId of await auth.installedPortals()) {
      if (stopped) return;
      try {
        const report = await pushToHubSpot(db, connectPortal(auth, config, portalId), portalId, deps.today(), { logger });
        logger.info({
          portalId, companies: report.plan.companies.changed, deals: report.plan.deals.changed,
          written: report.drain?.written, calls: report.drain?.calls, rateLimited: report.drain?.rateLimited, remaining: report.drain?.remaining,
        }, 'HubSpot write-back round');
      } catch (error) {
        logger.error({ portalId, error: error instanceof Error ? error.message : String(error) }, 'HubSpot write-back failed for a portal');
      }
    }
  };

  const runOnce = (): Promise<void> => {
    current ??= round().finally(() => {
      current = null;
    });
    return current;
  };

  const timer = deps.intervalMs > 0 ? setInterval(() => void runOnce(), deps.intervalMs) : null;
  timer?.unref();

  return {
    runOnce,
    stop: async () => {
      stopped = true;
      if (timer) clearInterval(timer);
      await current;
    },
  };
};
