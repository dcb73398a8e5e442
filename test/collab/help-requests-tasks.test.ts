import { afterAll, beforeAll, beforeEach, expect, it } from '@jest/globals';
import { createCaller } from '../../src/hubspot/caller';
import { hubspotClient } from '../../src/hubspot/client';
import { queueTask, sendPendingTasks, taskMarker, TASK_TO_COMPANY, TASK_TO_DEAL, type TaskSender } from '../../src/hubspot/tasks';
import { ensurePortal } from '../../src/store/facts';
import type { Store } from '../../src/store/store';
import { startFakeHubSpot, type FakeHubSpot } from '../fakes/hubspot';
import { describeEachStore, openTestStore } from '../helpers/stores';

const PORTAL = 7_610;
const TOKEN = 'tasks-private-token';

const virtualCaller = (maxAttempts = 6) => {
  let t = 0;
  return createCaller({ callsPerWindow: 1_000, now: () => t, sleep: async (ms) => { t += ms; }, baseDelayMs: 10, maxAttempts });
};

describeEachStore('HubSpot tasks written exactly once', (backend) => {
  let store: Store;
  let fake: FakeHubSpot;
  let company: string;
  let deal: string;
  const sender = (maxAttempts?: number): TaskSender => ({ client: async () => hubspotClient(TOKEN, fake.url), caller: virtualCaller(maxAttempts) });
  const creates = (): number => fake.requests.filter((r) => r.method === 'POST' && r.path === '/crm/v3/objects/tasks').length;

  beforeAll(async () => {
    store = await openTestStore(backend);
    fake = await startFakeHubSpot({ rateLimit: null, searchRateLimit: null });
    fake.addPortal(PORTAL, { privateToken: TOKEN });
    fake.addOwner(PORTAL, { id: '501', email: 'rep@example.com' });
    company = fake.createObject(PORTAL, 'companies', { name: 'Acme' });
    deal = fake.createObject(PORTAL, 'deals', { dealname: 'Acme renewal' });
    await ensurePortal(store.db, PORTAL);
  });
  afterAll(async () => {
    await fake.close();
    await store.close();
  });
  beforeEach(() => {
    fake.setFaults(null);
    fake.clearRequests();
  });

  it('creates a task for the owner, associated to company and deal, once per key', async () => {
    const task = { key: 'test:one', purpose: 'help_request' as const, ownerId: '501', subject: 'Help with Acme', body: 'Line one\nA <b> tag', dueOn: '2026-05-04', companyId: company, dealId: deal };
    const first = await queueTask(store.db, PORTAL, task);
    const again = await queueTask(store.db, PORTAL, { ...task, subject: 'other' });
    expect(again.id).toBe(first.id);
    expect(await sendPendingTasks(store.db, PORTAL, sender())).toEqual({ created: 1, failed: 0, remaining: 0 });
    expect(await sendPendingTasks(store.db, PORTAL, sender())).toEqual({ created: 0, failed: 0, remaining: 0 });
    expect(creates()).toBe(1);
    const row = await store.db.selectFrom('hubspot_tasks').selectAll().where('id', '=', first.id).executeTakeFirstOrThrow();
    expect(row.status).toBe('created');
    const created = fake.getObject(PORTAL, 'tasks', row.hubspot_task_id as string);
    expect(created?.properties).toMatchObject({ hs_task_subject: 'Help with Acme', hubspot_owner_id: '501', hs_task_status: 'NOT_STARTED' });
    expect(created?.properties.hs_task_body).toContain('<p>A &lt;b&gt; tag</p>');
    expect(created?.properties.hs_task_body).toContain(taskMarker(PORTAL, 'test:one'));
    expect(fake.associations(PORTAL, 'tasks', row.hubspot_task_id as string, 'companies')).toEqual([{ toId: company, typeIds: [TASK_TO_COMPANY] }]);
    expect(fake.associations(PORTAL, 'tasks', row.hubspot_task_id as string, 'deals')).toEqual([{ toId: deal, typeIds: [TASK_TO_DEAL] }]);
  });

  it('finds the task after a lost answer (a 500 after HubSpot created it) instead of creating another', async () => {
    const row = await queueTask(store.db, PORTAL, { key: 'test:lost', purpose: 'big_deal', ownerId: null, subject: 'Big deal', body: 'x', dueOn: '2026-05-04', companyId: null, dealId: deal });
    fake.setFaults({ rate: 1, kinds: ['500'], when: 'after' });
    // One attempt per round: the create went through in HubSpot, the answer did not reach us.
    expect(await sendPendingTasks(store.db, PORTAL, sender(1))).toEqual({ created: 0, failed: 0, remaining: 1 });
    expect(fake.objects(PORTAL, 'tasks').filter((t) => (t.properties.hs_task_body ?? '').includes(taskMarker(PORTAL, 'test:lost')))).toHaveLength(1);
    fake.setFaults(null);
    expect(await sendPendingTasks(store.db, PORTAL, sender())).toEqual({ created: 1, failed: 0, remaining: 0 });
    expect(creates()).toBe(1);
    const stored = await store.db.selectFrom('hubspot_tasks').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow();
    const inHubSpot = fake.objects(PORTAL, 'tasks').filter((t) => (t.properties.hs_task_body ?? '').includes(taskMarker(PORTAL, 'test:lost')));
    expect(inHubSpot.map((t) => t.id)).toEqual([stored.hubspot_task_id]);
    expect(stored.attempts).toBe(1);
  });

  it('never makes two tasks of one key under random faults (429, 500 after the write, slow), whatever the retries', async () => {
    const keys = Array.from({ length: 12 }, (_, i) => `test:chaos:${i}`);
    for (const key of keys) {
      await queueTask(store.db, PORTAL, { key, purpose: 'escalation', ownerId: '501', subject: key, body: key, dueOn: '2026-05-04', companyId: company, dealId: null });
    }
    fake.setFaults({ rate: 0.4, kinds: ['429', '500', 'slow'], when: 'after', seed: 7, retryAfterSeconds: 0, slowMs: 1 });
    for (let round = 0; round < 20; round += 1) {
      const report = await sendPendingTasks(store.db, PORTAL, sender(2));
      if (report.remaining === 0) break;
    }
    fake.setFaults(null);
    await sendPendingTasks(store.db, PORTAL, sender());
    expect(fake.requests.some((r) => r.fault === '500' && r.path === '/crm/v3/objects/tasks')).toBe(true);
    for (const key of keys) {
      const marker = taskMarker(PORTAL, key);
      const tasks = fake.objects(PORTAL, 'tasks').filter((t) => (t.properties.hs_task_body ?? '').includes(marker));
      expect(tasks).toHaveLength(1);
      const row = await store.db.selectFrom('hubspot_tasks').selectAll().where('portal_id', '=', PORTAL).where('task_key', '=', key).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ status: 'created', hubspot_task_id: tasks[0]?.id });
    }
  });

  it('marks an intent failed when HubSpot refuses it for good (an unknown record)', async () => {
    await queueTask(store.db, PORTAL, { key: 'test:refused', purpose: 'escalation', ownerId: null, subject: 's', body: 'b', dueOn: '2026-05-04', companyId: '99999999', dealId: null });
    expect(await sendPendingTasks(store.db, PORTAL, sender())).toEqual({ created: 0, failed: 1, remaining: 0 });
    const row = await store.db.selectFrom('hubspot_tasks').selectAll().where('task_key', '=', 'test:refused').executeTakeFirstOrThrow();
    expect(row.status).toBe('failed');
    expect(row.last_error).not.toBeNull();
  });
});
