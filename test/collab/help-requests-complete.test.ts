import { afterAll, beforeAll, beforeEach, expect, it } from '@jest/globals';
import { createCaller } from '../../src/hubspot/caller';
import { hubspotClient } from '../../src/hubspot/client';
import { setCompanyLink } from '../../src/hubspot/links';
import { runCollaborationRound } from '../../src/services/collaboration';
import { createHelpRequest, setHelpRequestStatus } from '../../src/services/help-requests';
import { ensurePortal, idsByExternalId, upsertCustomers, upsertInvoices } from '../../src/store/facts';
import type { Store } from '../../src/store/store';
import { startFakeHubSpot, type FakeHubSpot } from '../fakes/hubspot';
import { describeEachStore, openTestStore } from '../helpers/stores';

// A help request answered done or declined completes the owner's HubSpot task (hs_task_status COMPLETED) in the next
// round: one PATCH, repeated only when its answer was lost.

const PORTAL = 7_630;
const TOKEN = 'help-complete-token';
const TODAY = '2026-04-30';
const COMPANY = '9400';

describeEachStore('help request tasks completed in HubSpot', (backend) => {
  let store: Store;
  let fake: FakeHubSpot;

  const connection = (maxAttempts = 6) => {
    let t = 0;
    return {
      client: async () => hubspotClient(TOKEN, fake.url),
      caller: createCaller({ callsPerWindow: 1_000, now: () => t, sleep: async (ms) => { t += ms; }, baseDelayMs: 10, maxAttempts }),
    };
  };
  const round = (maxAttempts?: number) => runCollaborationRound(store.db, connection(maxAttempts), PORTAL, TODAY);
  const patches = (taskId: string) => fake.requests.filter((r) => r.method === 'PATCH' && r.path === `/crm/v3/objects/tasks/${taskId}`);
  const ask = (needed: string) => store.db.transaction().execute((trx) => createHelpRequest(trx, PORTAL, {
    objectType: 'company', objectId: COMPANY, needed, neededBy: '2026-05-06', requestedBy: 'anna.ar@example.com',
  }, TODAY));
  const answer = (id: string, status: 'accepted' | 'done' | 'declined') =>
    store.db.transaction().execute((trx) => setHelpRequestStatus(trx, PORTAL, { id, status, by: 'owner501@example.com' }, TODAY));
  const taskOf = async (id: string) => store.db.selectFrom('hubspot_tasks').selectAll()
    .where('portal_id', '=', PORTAL).where('task_key', '=', `help_request:${id}`).executeTakeFirstOrThrow();
  const statusInHubSpot = (taskId: string) => fake.getObject(PORTAL, 'tasks', taskId)?.properties.hs_task_status;

  beforeAll(async () => {
    store = await openTestStore(backend);
    fake = await startFakeHubSpot({ rateLimit: null, searchRateLimit: null });
    fake.addPortal(PORTAL, { privateToken: TOKEN });
    fake.addOwner(PORTAL, { id: '501', email: 'owner501@example.com' });
    fake.createObject(PORTAL, 'companies', { name: 'Acme' }, { id: COMPANY });
    const db = store.db;
    await ensurePortal(db, PORTAL);
    await upsertCustomers(db, PORTAL, 'csv', [{ id: 'AC', name: 'Acme', domain: null, industry: null, country: null }]);
    await upsertInvoices(db, PORTAL, 'csv', [
      { id: 'I-1', number: 'INV-1', customerId: 'AC', currency: 'USD', totalMinor: 50_000, issueDate: '2026-04-01', dueDate: '2026-05-31', voidedDate: null, disputed: false, salesRep: null, product: null, dealId: null, terms: null },
    ]);
    const ids = await idsByExternalId(db, 'customers', PORTAL, 'csv', ['AC']);
    await setCompanyLink(db, PORTAL, { customerId: String(ids.get('AC')), companyId: COMPANY, method: 'manual' });
    await db.insertInto('hubspot_companies').values({ portal_id: PORTAL, company_id: COMPANY, name: 'Acme', owner_id: '501' }).execute();
  });
  afterAll(async () => {
    await fake.close();
    await store.close();
  });
  beforeEach(() => {
    fake.setFaults(null);
    fake.clearRequests();
  });

  it('completes the task once the request is done; accepted leaves it open; later rounds send nothing', async () => {
    const request = await ask('Call their CFO');
    await round();
    const { hubspot_task_id: taskId } = await taskOf(request.id);
    expect(taskId).not.toBeNull();
    expect(statusInHubSpot(taskId as string)).toBe('NOT_STARTED');

    await answer(request.id, 'accepted');
    expect((await round()).completed).toEqual({ completed: 0, remaining: 0 });
    expect(statusInHubSpot(taskId as string)).toBe('NOT_STARTED');

    await answer(request.id, 'done');
    expect((await round()).completed).toEqual({ completed: 1, remaining: 0 });
    expect(statusInHubSpot(taskId as string)).toBe('COMPLETED');
    expect(patches(taskId as string).map((r) => r.body)).toEqual([{ properties: { hs_task_status: 'COMPLETED' } }]);

    expect((await round()).completed).toEqual({ completed: 0, remaining: 0 });
    expect(patches(taskId as string)).toHaveLength(1);
  });

  it('completes a declined request\'s task, also when the request was answered before its task was created', async () => {
    const request = await ask('Confirm the PO');
    await answer(request.id, 'declined');
    const report = await round();
    expect(report.tasks.created).toBeGreaterThanOrEqual(1);
    expect(report.completed).toEqual({ completed: 1, remaining: 0 });
    const { hubspot_task_id: taskId } = await taskOf(request.id);
    expect(statusInHubSpot(taskId as string)).toBe('COMPLETED');
    expect((await round()).completed).toEqual({ completed: 0, remaining: 0 });
    expect(patches(taskId as string)).toHaveLength(1);
  });

  it('sends the PATCH again after a lost answer, and stops once HubSpot confirms it', async () => {
    const request = await ask('Chase the remittance');
    await round();
    const { hubspot_task_id: taskId } = await taskOf(request.id);
    await answer(request.id, 'done');
    fake.setFaults({ rate: 1, kinds: ['500'], when: 'after' });
    expect((await round(1)).completed).toEqual({ completed: 0, remaining: 1 });
    // HubSpot applied it; the answer did not reach us.
    expect(statusInHubSpot(taskId as string)).toBe('COMPLETED');
    expect((await taskOf(request.id)).last_error).not.toBeNull();
    fake.setFaults(null);
    expect((await round()).completed).toEqual({ completed: 1, remaining: 0 });
    expect((await round()).completed).toEqual({ completed: 0, remaining: 0 });
    expect(patches(taskId as string)).toHaveLength(2);
    expect(statusInHubSpot(taskId as string)).toBe('COMPLETED');
    expect((await taskOf(request.id)).last_error).toBeNull();
  });
});
