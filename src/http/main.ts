import type { Server } from 'node:http';
import { today } from '../clock';
import { loadConfig, type Config } from '../config';
import type { AccountingSourceName } from '../connectors/types';
import { createHubSpotAuth, type HubSpotAuth } from '../hubspot/auth';
import { connectPortal } from '../hubspot/connection';
import { describeInstall, installProperties } from '../hubspot/properties';
import { roundTrigger } from '../hubspot/webhook-events';
import { startWriteBackWorker, type WriteBackWorker } from '../hubspot/worker';
import { createLogger } from '../logger';
import { resolveSecretKey } from '../secrets/keys';
import { seedDemoIfEmpty } from '../services/demo';
import { openStore, storeOptionsFrom, type Store } from '../store/store';
import { openJobQueue, type JobQueue } from '../sync/jobs';
import { webhookVerifiers } from '../sync/registry';
import { healthDetails } from '../sync/status';
import { enqueueSync, startSyncWorker } from '../sync/worker';
import { createApp } from './app';


export type Running = {
  server: Server; store: Store; url: string; auth: HubSpotAuth;
  /** The scheduled write-back (null when HUBSPOT_PUSH_INTERVAL_MINUTES is 0 or no portal can be reached). */
  writeBack: WriteBackWorker | null;
  /** The job queue of sync and write-back work (pg-boss on PostgreSQL, in-process on the embedded store). */
  queue: JobQueue;
  stop: () => Promise<void>;
};

/** Opens (and migrates) the store, loads the demo portfolio into an empty one, and serves HTTP. */
export const startService = async (config: Config): Promise<Running> => {
  const logger = createLogger(config.logLevel);
  // Before anything opens: production refuses to start without ARBRIDGE_SECRET_KEY.
  const key = resolveSecretKey(config, logger);
  const store = await openStore(storeOptionsFrom(config));
  const auth = createHubSpotAuth({ db: store.db, config, key, logger });
  if (config.demo === 'auto') {
    const seeded = await seedDemoIfEmpty(store.db, config.defaultPortalId, today());
    if (seeded) logger.info({ portalId: config.defaultPortalId, ...seeded }, 'loaded the demo portfolio into the empty store');
  }
  // A new install gets the ARBridge property group and properties right away.
  const onInstalled = async (portalId: number): Promise<string> => {
    const connection = connectPortal(auth, config, portalId);
    return describeInstall(await installProperties(await connection.client(), connection.caller));
  };
  let queue: JobQueue;
  try {
    queue = await openJobQueue(store, config, logger);
  } catch (error) {
    await store.close();
    throw error;
  }
  // Stored webhook events queue a write-back round (if the write-back runs at all), at most one per window.
  let writeBack: WriteBackWorker | null = null;
  const webhookRound = roundTrigger(async () => { await queue.send('hubspot-writeback', {}, { singletonKey: 'hubspot-writeback' }); }, { logger });
  const hubspotWebhooks = { requestRound: () => { if (writeBack) webhookRound.request(); } };
  const sourceWebhooks = {
    verifiers: webhookVerifiers(config.sync.webhookSecrets),
    requestSync: (portalId: number, source: AccountingSourceName) => enqueueSync(queue, { portalId, source, trigger: 'webhook' }),
  };
  const health = { token: config.sync.healthToken, details: () => healthDetails(store.db, store.kind, queue) };
  const app = createApp({
    db: store.db, config, logger, today, oauth: { config, auth, key, logger, onInstalled }, hubspotWebhooks,
    connect: { db: store.db, config, key, logger }, sourceWebhooks, health,
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.port, config.host, () => resolve(s));
    s.once('error', reject);
  });
  // The write-back schedule runs when HubSpot can be reached: a private app, or OAuth installs. Its rounds are
  // `hubspot-writeback` jobs, so instances sharing a PostgreSQL queue run each scheduled round once.
  const hubspotConfigured = config.hubspot.privateApp !== null || config.hubspot.clientId !== null;
  const worker = hubspotConfigured && config.hubspot.pushIntervalMinutes > 0
    ? startWriteBackWorker({ db: store.db, auth, config, logger, today, intervalMs: 0 })
    : null;
  writeBack = worker;
  if (worker) {
    await queue.work('hubspot-writeback', () => worker.runOnce());
    await queue.schedule('hubspot-writeback', config.hubspot.pushIntervalMinutes);
  }
  // A sync that stored something queues a write-back round at once (merged with one already waiting).
  await startSyncWorker({
    db: store.db, key, config, logger, queue, intervalMinutes: config.sync.intervalMinutes,
    ...(worker ? { onChanged: () => queue.send('hubspot-writeback', {}, { singletonKey: 'hubspot-writeback' }) } : {}),
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  const stop = async (): Promise<void> => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    webhookRound.stop();
    await queue.stop();
    await writeBack?.stop();
    await store.close();
  };
  return { server, store, url, auth, writeBack, queue, stop };
};

if (require.main === module) {
  const config = loadConfig();
  startService(config)
    .then((running) => {
      const where = config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `embedded store in ${config.dataDir}`;
      process.stdout.write(
        `ARBridge is running on ${where}.\n` +
          `Open ${running.url}/api/v1/portfolio for the demo portfolio,\n` +
          `or ${running.url}/ for the list of endpoints.\n`,
      );
      const shutdown = (): void => {
        running.stop().then(() => process.exit(0), () => process.exit(1));
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
    })
    .catch((error: unknown) => {
      process.stderr.write(`arbridge: could not start: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    });
}
