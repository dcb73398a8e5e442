import type { Config } from '../config';
import type { IsoDate } from '../domain/types';
import type { Logger } from '../logger';
import type { Db } from '../store/database';
import type { HubSpotAuth } from './auth';
import { connectPortal, type PortalConnection } from './connection';
import { HUBSPOT_SOURCE, INVOICES_STREAM, syncHubSpotInvoices } from './invoice-source';
import { runMatching } from './matching';
import { mirrorHubSpot } from './mirror';
import { installProperties } from './properties';
import { pushToHubSpot } from './push';
import { mirrorLogNotes } from './notes';
import { runCollaborationRound } from '../services/collaboration';

export type WriteBackWorker = {
  /** Runs one round now (every installed portal in turn), or one more after the running one; resolves when it is done. */
  runOnce: () => Promise<void>;
  /** Stops scheduling and waits for a round in progress to finish. */
  stop: () => Promise<void>;
};

/**
 * The in-process HubSpot schedule: every `intervalMs`, for each reachable portal in turn: make sure the
 * ARBridge properties exist (once per process), read HubSpot's invoices when the portal uses them (it has run
 * `hubspot sync-invoices` once), update the company/deal mirror and the matching, then recompute the roll-ups
 * as of today, queue what changed and drain the outbox. One round at a time; a step that fails is logged, the
 * round goes on with the next step or portal, and the next round tries again (queued writes stay queued).
 */
export const startWriteBackWorker = (deps: {
  db: Db; auth: HubSpotAuth; config: Pick<Config, 'hubspot'>; logger: Logger; today: () => IsoDate; intervalMs: number;
}): WriteBackWorker => {
  const { db, auth, config, logger } = deps;
  let current: Promise<void> | null = null;
  let stopped = false;

  const propertiesReady = new Set<number>();

  /** Runs one step of a portal's round; a failure is logged and does not stop the round. */
  const step = async (portalId: number, name: string, run: () => Promise<unknown>): Promise<boolean> => {
    try {
      await run();
      return true;
    } catch (error) {
      logger.error({ portalId, step: name, error: error instanceof Error ? error.message.split('\n')[0] : String(error) }, 'HubSpot round step failed');
      return false;
    }
  };

  const prepare = async (portalId: number, connection: PortalConnection): Promise<void> => {
    if (!propertiesReady.has(portalId)) {
      const ok = await step(portalId, 'install-properties', async () => installProperties(await connection.client(), connection.caller));
      if (ok) propertiesReady.add(portalId);
    }
    const usesHubSpotInvoices = await db.selectFrom('sync_cursors').select('portal_id')
      .where('portal_id', '=', portalId).where('source', '=', HUBSPOT_SOURCE).where('stream', '=', INVOICES_STREAM)
      .executeTakeFirst();
    if (usesHubSpotInvoices) {
      await step(portalId, 'sync-invoices', () => syncHubSpotInvoices({
        db, portalId, tokenFor: auth.tokenFor, basePath: config.hubspot.apiBaseUrl, call: connection.caller.call, trigger: 'schedule',
      }));
    }
    const mirrored = await step(portalId, 'mirror', () => mirrorHubSpot(db, portalId, {
      basePath: config.hubspot.apiBaseUrl, tokenFor: auth.tokenFor, call: connection.caller.call,
    }));
    if (mirrored) await step(portalId, 'match', () => runMatching(db, portalId));
    // Ladder, help-request SLAs, big deals and HubSpot tasks (services/collaboration.ts).
    await step(portalId, 'collaboration', async () => {
      const report = await runCollaborationRound(db, connection, portalId, deps.today(), logger);
      logger.info({ portalId, ...report }, 'collaboration round');
    });
    // The communication log onto the HubSpot timeline, one note per entry (hubspot/notes.ts).
    await step(portalId, 'hubspot-notes', async () => {
      const report = await mirrorLogNotes({ db, portalId, client: connection.client, caller: connection.caller, logger });
      if (report.created + report.found + report.failed > 0) logger.info({ portalId, ...report }, 'HubSpot notes round');
    });
  };

  const round = async (): Promise<void> => {
    for (const portalId of await auth.installedPortals()) {
      if (stopped) return;
      const connection = connectPortal(auth, config, portalId);
      await prepare(portalId, connection);
      if (stopped) return;
      if (!propertiesReady.has(portalId)) {
        // Every write would be refused without the properties; the next round tries the install again.
        logger.warn({ portalId }, 'HubSpot write-back skipped: the ARBridge properties are not installed in this portal');
        continue;
      }
      try {
        const report = await pushToHubSpot(db, connection, portalId, deps.today(), { logger });
        logger.info({
          portalId, companies: report.plan.companies.changed, deals: report.plan.deals.changed,
          written: report.drain?.written, calls: report.drain?.calls, rateLimited: report.drain?.rateLimited, remaining: report.drain?.remaining,
        }, 'HubSpot write-back round');
      } catch (error) {
        logger.error({ portalId, error: error instanceof Error ? error.message : String(error) }, 'HubSpot write-back failed for a portal');
      }
    }
  };

  let queued: Promise<void> | null = null;
  // A call during a round queues one more round after it (for changes the running round may have missed);
  // any number of calls meanwhile share that one.
  const runOnce = (): Promise<void> => {
    if (current) {
      queued ??= current.then(() => {
        queued = null;
        return runOnce();
      });
      return queued;
    }
    current = round().finally(() => {
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
