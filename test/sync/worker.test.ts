import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { loadConfig } from '../../src/config';
import { SourceError } from '../../src/connectors/types';
import { createLogger } from '../../src/logger';
import type { Store } from '../../src/store/store';
import { createInProcessQueue } from '../../src/sync/jobs';
import { dueConnections, runSyncJob, startSyncWorker, type SyncWorkerDeps } from '../../src/sync/worker';
import { describeEachStore, openTestStore } from '../helpers/stores';
import { seededSource } from './scripted-source';
import { connect, connectionRow, TEST_KEY } from './store-state';

describeEachStore('sync jobs', (backend) => {
  let store: Store;
  const config = loadConfig({});
  const logger = createLogger('silent');
  const deps = (factories: SyncWorkerDeps['factories']): SyncWorkerDeps => ({
    db: store.db, key: TEST_KEY, config, logger, queue: createInProcessQueue(), intervalMinutes: 15, factories,
  });

  beforeAll(async () => {
    store = await openTestStore(backend);
  });
  afterAll(async () => store.close());

  it('finds the usable connections without a run in the interval', async () => {
    await connect(store.db, 901, 'xero');
    await connect(store.db, 902, 'stripe');
    await connect(store.db, 903, 'quickbooks');
    await store.db.updateTable('accounting_connections').set({ status: 'disconnected', credentials_enc: null }).where('portal_id', '=', 903).execute();
    await store.db.insertInto('sync_runs').values({ portal_id: 902, source: 'stripe', trigger: 'schedule' }).execute();
    const due = (await dueConnections(store.db, 15)).filter((c) => c.portalId >= 901 && c.portalId <= 903);
    expect(due).toEqual([{ portalId: 901, source: 'xero' }]);
    // A run 20 minutes ago is outside a 15-minute interval.
    await sql`UPDATE sync_runs SET started_at = now() - interval '20 minutes' WHERE portal_id = 902`.execute(store.db);
    expect((await dueConnections(store.db, 15)).filter((c) => c.portalId >= 901 && c.portalId <= 903)).toEqual([
      { portalId: 901, source: 'xero' }, { portalId: 902, source: 'stripe' },
    ]);
  });

  it('queues a sync of every due connection on the schedule\'s check, and runs them', async () => {
    await connect(store.db, 911, 'xero');
    const source = seededSource(31, 40, 100);
    const d = deps({ xero: () => source.connector(), stripe: () => seededSource(32, 20, 100, 'stripe').connector() });
    await startSyncWorker(d);
    await (d.queue as ReturnType<typeof createInProcessQueue>).idle();
    const run = await store.db.selectFrom('sync_runs').select(['trigger', 'error', 'finished_at']).where('portal_id', '=', 911).execute();
    expect(run).toEqual([{ trigger: 'schedule', error: null, finished_at: expect.any(Date) }]);
    await d.queue.stop();
  });

  it('keeps a refusal on the connection without failing the job, and lets the queue retry what may pass', async () => {
    await connect(store.db, 921, 'xero');
    const source = seededSource(33, 20, 100);
    source.faults.push(new SourceError('xero', 'Xero answered 403: the organisation is not subscribed', false));
    const d = deps({ xero: () => source.connector() });
    await runSyncJob(d, { portalId: 921, source: 'xero' });
    expect(await connectionRow(store.db, 921, 'xero')).toMatchObject({ status: 'error', last_error: 'Xero: Xero answered 403: the organisation is not subscribed' });

    const waits: number[] = [];
    const retrying = runSyncJob({ ...d, sleep: async (ms) => { waits.push(ms); }, factories: { xero: () => ({ source: 'xero', pull: async () => { throw new SourceError('xero', 'HTTP 503', true, 0); } }) } }, { portalId: 921, source: 'xero' });
    await expect(retrying).rejects.toThrow('HTTP 503');
    expect(waits).toHaveLength(4); // the run's own retries, before the job's

    // A connection that is gone is skipped quietly.
    await expect(runSyncJob(d, { portalId: 929, source: 'quickbooks' })).resolves.toBeUndefined();
  });

  it('asks for a HubSpot write-back after a sync that stored something, and only then', async () => {
    await connect(store.db, 931, 'xero');
    const source = seededSource(34, 30, 100);
    const asked: [number, string][] = [];
    const d: SyncWorkerDeps = { ...deps({ xero: () => source.connector() }), onChanged: async (portalId, name) => { asked.push([portalId, name]); } };
    await runSyncJob(d, { portalId: 931, source: 'xero' });
    expect(asked).toEqual([[931, 'xero']]);
    // Nothing new at the source: no write-back.
    await runSyncJob(d, { portalId: 931, source: 'xero' });
    expect(asked).toHaveLength(1);
    // A failing sync asks for none either; a failing request does not fail the sync that stored a change.
    source.faults.push(new SourceError('xero', 'Xero answered 403', false));
    await runSyncJob(d, { portalId: 931, source: 'xero' });
    expect(asked).toHaveLength(1);
    const open = [...source.invoices.values()].map((v) => v.value).find((i) => i.status === 'open');
    if (!open) throw new Error('fixture: an open invoice');
    source.putPayment({
      id: 'P-new', kind: 'payment', date: '2026-09-01', currency: open.currency, amountMinor: 100,
      allocations: [{ invoiceId: open.id, amountMinor: 100 }], removed: false, updatedAt: null,
    });
    const failing: SyncWorkerDeps = { ...d, onChanged: async () => { throw new Error('the queue is stopped'); } };
    await expect(runSyncJob(failing, { portalId: 931, source: 'xero' })).resolves.toBeUndefined();
    expect(await store.db.selectFrom('payments').select('external_id').where('portal_id', '=', 931).where('external_id', '=', 'P-new').execute())
      .toEqual([{ external_id: 'P-new' }]);
  });
});
