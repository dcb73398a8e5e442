import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { CompanyCardSchema, DealCardSchema, HelpRequestSchema } from '../../extensions/card-api';
import { loadConfig } from '../../src/config';
import { parsePolicy } from '../../src/domain/policy';
import { createApp } from '../../src/http/app';
import { createCaller } from '../../src/hubspot/caller';
import { hubspotClient } from '../../src/hubspot/client';
import { setCompanyLink } from '../../src/hubspot/links';
import { sendPendingTasks, taskMarker } from '../../src/hubspot/tasks';
import { createLogger } from '../../src/logger';
import { addLogEntry } from '../../src/services/comm-log';
import { escalateOverdueHelpRequests, listHelpRequests } from '../../src/services/help-requests';
import { recordTermsAck } from '../../src/services/terms';
import { ensurePortal, idsByExternalId, upsertCustomers, upsertInvoices } from '../../src/store/facts';
import { savePolicy } from '../../src/store/policies';
import type { Store } from '../../src/store/store';
import { startFakeHubSpot, type FakeHubSpot } from '../fakes/hubspot';
import { cardQuery, signedRequest } from '../helpers/sign';
import { describeEachStore, openTestStore } from '../helpers/stores';

const SECRET = 'help-test-client-secret';
const PUBLIC_URL = 'https://arbridge.example.com';
const PORTAL = 7_620;
const TOKEN = 'help-private-token';
const TODAY = '2026-04-30';
const AR = 'anna.ar@example.com';

describeEachStore('help requests', (backend) => {
  let store: Store;
  let fake: FakeHubSpot;
  let app: ReturnType<typeof createApp>;
  let customerId: number;
  let today = TODAY;

  const config = loadConfig({ HUBSPOT_ACCESS_TOKEN: TOKEN, HUBSPOT_PORTAL_ID: String(PORTAL), HUBSPOT_CLIENT_SECRET: SECRET, ARBRIDGE_PUBLIC_URL: PUBLIC_URL });
  const signed = (method: 'GET' | 'POST', path: string, params: Record<string, string>, body?: unknown) =>
    signedRequest(app, {
      method, path: `${path}?${cardQuery(params, { portalId: PORTAL, userEmail: AR })}`, secret: SECRET, publicUrl: PUBLIC_URL,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const sender = () => {
    let t = 0;
    return { client: async () => hubspotClient(TOKEN, fake.url), caller: createCaller({ callsPerWindow: 1_000, now: () => t, sleep: async (ms) => { t += ms; }, baseDelayMs: 10 }) };
  };
  const ask = (fields: Record<string, unknown> = {}) => ({
    objectType: 'company', objectId: '9100', needed: 'Call their CFO about the March invoices', neededBy: '2026-05-06', idempotencyKey: 'help-key-0001', ...fields,
  });

  beforeAll(async () => {
    store = await openTestStore(backend);
    fake = await startFakeHubSpot({ rateLimit: null, searchRateLimit: null });
    fake.addPortal(PORTAL, { privateToken: TOKEN });
    for (const id of ['501', '502', '900']) fake.addOwner(PORTAL, { id, email: `owner${id}@example.com` });
    fake.createObject(PORTAL, 'companies', { name: 'Acme' }, { id: '9100' });
    fake.createObject(PORTAL, 'companies', { name: 'Orphan' }, { id: '9200' });
    fake.createObject(PORTAL, 'deals', { dealname: 'Renewal' }, { id: '6001' });
    const db = store.db;
    await ensurePortal(db, PORTAL);
    await upsertCustomers(db, PORTAL, 'csv', [
      { id: 'AC', name: 'Acme', domain: 'acme.example', industry: null, country: null },
      { id: 'NO', name: 'Nobody', domain: null, industry: null, country: null },
    ]);
    await upsertInvoices(db, PORTAL, 'csv', [
      { id: 'I-1', number: 'INV-1001', customerId: 'AC', currency: 'USD', totalMinor: 120_000, issueDate: '2026-02-01', dueDate: '2026-03-03', voidedDate: null, disputed: false, salesRep: null, product: null, dealId: null, terms: null },
      { id: 'I-2', number: 'INV-1002', customerId: 'AC', currency: 'USD', totalMinor: 50_000, issueDate: '2026-04-01', dueDate: '2026-05-01', voidedDate: null, disputed: false, salesRep: null, product: null, dealId: null, terms: null },
    ]);
    const ids = await idsByExternalId(db, 'customers', PORTAL, 'csv', ['AC', 'NO']);
    customerId = ids.get('AC') as number;
    await setCompanyLink(db, PORTAL, { customerId: String(customerId), companyId: '9100', method: 'domain', detail: 'acme.example' });
    await setCompanyLink(db, PORTAL, { customerId: String(ids.get('NO')), companyId: '9300', method: 'name', detail: 'nobody' });
    await db.insertInto('hubspot_companies').values([
      { portal_id: PORTAL, company_id: '9100', name: 'Acme', owner_id: '501' },
      { portal_id: PORTAL, company_id: '9300', name: 'Nobody', owner_id: null },
    ]).execute();
    await db.insertInto('hubspot_deals').values({ portal_id: PORTAL, deal_id: '6001', name: 'Renewal', company_id: '9100', owner_id: '502' }).execute();
    await recordTermsAck(db, PORTAL, { dealId: '6001', terms: 'Net 30', contactName: 'Paula Payer', acknowledgedOn: '2026-01-20', recordedBy: 'rita@example.com' }, TODAY);
    await addLogEntry(db, PORTAL, { customerId, kind: 'call', occurredOn: '2026-04-20', summary: 'Left a voicemail with accounts payable', author: AR });
    app = createApp({ db, logger: createLogger('silent'), today: () => today, config });
  });
  afterAll(async () => {
    await fake.close();
    await store.close();
  });

  it('asks the company owner for help once: a request, one task intent with the account\'s facts, one log entry', async () => {
    const res = await signed('POST', '/api/v1/cards/help-requests', {}, ask());
    expect(res.status).toBe(201);
    const created = HelpRequestSchema.parse(res.body);
    expect(created).toMatchObject({
      object_type: 'company', object_id: '9100', company_id: '9100', deal_id: null, customer_name: 'Acme', status: 'open', owner_id: '501',
      requested_by: AR, requested_on: TODAY, sla_due_on: '2026-05-02', sla: 'within', task: { status: 'pending', hubspot_task_id: null },
    });
    const replay = await signed('POST', '/api/v1/cards/help-requests', {}, ask());
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(res.body);
    expect(await store.db.selectFrom('help_requests').select('id').where('portal_id', '=', PORTAL).execute()).toHaveLength(1);
    const tasks = await store.db.selectFrom('hubspot_tasks').selectAll().where('portal_id', '=', PORTAL).execute();
    expect(tasks).toHaveLength(1);
    const body = tasks[0]?.body ?? '';
    expect(body).toContain('What is needed: Call their CFO about the March invoices');
    expect(body).toContain('Needed by: 2026-05-06');
    expect(body).toContain('- INV-1001: due 2026-03-03, open 1200.00 USD, 58 days late');
    expect(body).toContain('- INV-1002: due 2026-05-01, open 500.00 USD, not yet due');
    expect(body).toContain('"Net 30" by Paula Payer on 2026-01-20 (deal 6001)');
    expect(body).toContain('2026-04-20 call: Left a voicemail with accounts payable');
    const card = CompanyCardSchema.parse((await signed('GET', '/api/v1/cards/company', { objectId: '9100' })).body);
    expect(card.help_requests.map((h) => h.id)).toEqual([created.id]);
    expect(card.log?.entries[0]).toMatchObject({ kind: 'help_request', status: 'open', author: AR });

    // The round sends it: one task for the owner, on the company; again with a lost answer, still one.
    fake.setFaults({ rate: 1, kinds: ['500'], when: 'after' });
    let t = 0;
    const flaky = { client: async () => hubspotClient(TOKEN, fake.url), caller: createCaller({ callsPerWindow: 1_000, now: () => t, sleep: async (ms) => { t += ms; }, maxAttempts: 1 }) };
    expect((await sendPendingTasks(store.db, PORTAL, flaky)).remaining).toBe(1);
    fake.setFaults(null);
    expect(await sendPendingTasks(store.db, PORTAL, sender())).toEqual({ created: 1, failed: 0, remaining: 0 });
    const inHubSpot = fake.objects(PORTAL, 'tasks').filter((o) => (o.properties.hs_task_body ?? '').includes(taskMarker(PORTAL, `help_request:${created.id}`)));
    expect(inHubSpot).toHaveLength(1);
    expect(inHubSpot[0]?.properties.hubspot_owner_id).toBe('501');
    expect(fake.associations(PORTAL, 'tasks', inHubSpot[0]?.id as string, 'companies').map((a) => a.toId)).toEqual(['9100']);
    const after = CompanyCardSchema.parse((await signed('GET', '/api/v1/cards/company', { objectId: '9100' })).body);
    expect(after.help_requests[0]?.task).toEqual({ status: 'created', hubspot_task_id: inHubSpot[0]?.id });
  });

  it('asks a deal\'s owner, associating the task with the deal and its company; the deal card lists it', async () => {
    const res = await signed('POST', '/api/v1/cards/help-requests', {}, ask({ objectType: 'deal', objectId: '6001', idempotencyKey: 'help-key-deal-1' }));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ object_type: 'deal', deal_id: '6001', company_id: '9100', owner_id: '502' });
    const card = DealCardSchema.parse((await signed('GET', '/api/v1/cards/deal', { objectId: '6001' })).body);
    expect(card.help_requests.map((h) => h.id)).toEqual([res.body.id]);
    await sendPendingTasks(store.db, PORTAL, sender());
    const row = await store.db.selectFrom('hubspot_tasks').selectAll().where('task_key', '=', `help_request:${res.body.id}`).executeTakeFirstOrThrow();
    expect(fake.associations(PORTAL, 'tasks', row.hubspot_task_id as string, 'deals').map((a) => a.toId)).toEqual(['6001']);
    expect(fake.associations(PORTAL, 'tasks', row.hubspot_task_id as string, 'companies').map((a) => a.toId)).toEqual(['9100']);
    expect(fake.getObject(PORTAL, 'tasks', row.hubspot_task_id as string)?.properties.hubspot_owner_id).toBe('502');
  });

  it('refuses what it cannot ask, naming the field', async () => {
    const unlinked = await signed('POST', '/api/v1/cards/help-requests', {}, ask({ objectId: '9200', idempotencyKey: 'help-key-bad-1' }));
    expect(unlinked.status).toBe(400);
    expect(Object.keys(unlinked.body.fields)).toEqual(['objectId']);
    const ownerless = await signed('POST', '/api/v1/cards/help-requests', {}, ask({ objectId: '9300', idempotencyKey: 'help-key-bad-2' }));
    expect(ownerless.status).toBe(400);
    expect(ownerless.body.message).toContain('no owner');
    const past = await signed('POST', '/api/v1/cards/help-requests', {}, ask({ neededBy: '2026-04-01', idempotencyKey: 'help-key-bad-3' }));
    expect(Object.keys(past.body.fields)).toEqual(['neededBy']);
    const empty = await signed('POST', '/api/v1/cards/help-requests', {}, ask({ needed: ' ', idempotencyKey: 'help-key-bad-4' }));
    expect(Object.keys(empty.body.fields)).toEqual(['needed']);
  });

  it('moves a request open → accepted → done from the card, logs each status once, refuses going back', async () => {
    const request = (await listHelpRequests(store.db, PORTAL, TODAY, { status: 'open' })).find((h) => h.object_type === 'company');
    const id = request?.id as string;
    const accept = await signed('POST', `/api/v1/cards/help-requests/${id}/status`, {}, { status: 'accepted', idempotencyKey: 'status-key-01' });
    expect(accept.status).toBe(200);
    expect(accept.body).toMatchObject({ status: 'accepted', sla: 'answered' });
    const done = await signed('POST', `/api/v1/cards/help-requests/${id}/status`, {}, { status: 'done', idempotencyKey: 'status-key-02' });
    expect(done.body.status).toBe('done');
    const back = await signed('POST', `/api/v1/cards/help-requests/${id}/status`, {}, { status: 'accepted', idempotencyKey: 'status-key-03' });
    expect(back.status).toBe(400);
    expect(Object.keys(back.body.fields)).toEqual(['status']);
    const missing = await signed('POST', '/api/v1/cards/help-requests/999999/status', {}, { status: 'done', idempotencyKey: 'status-key-04' });
    expect(missing.status).toBe(404);
    const entries = await store.db.selectFrom('communication_log').select(['status', 'entry_key']).where('entry_key', 'like', `help_request:${id}%`).orderBy('id').execute();
    expect(entries.map((e) => e.status)).toEqual(['open', 'accepted', 'done']);
  });

  it('escalates a request left open past its SLA once, to the owner\'s manager from the policy', async () => {
    await savePolicy(store.db, PORTAL, parsePolicy({ escalation: { managers: [{ ownerId: '502', managerOwnerId: '900' }] } }));
    const open = await listHelpRequests(store.db, PORTAL, TODAY, { status: 'open' });
    expect(open.map((h) => h.owner_id)).toEqual(['502']);
    expect(await escalateOverdueHelpRequests(store.db, PORTAL, '2026-05-02')).toBe(0); // the SLA day itself is within
    expect(await escalateOverdueHelpRequests(store.db, PORTAL, '2026-05-03')).toBe(1);
    expect(await escalateOverdueHelpRequests(store.db, PORTAL, '2026-05-04')).toBe(0);
    const id = open[0]?.id as string;
    const task = await store.db.selectFrom('hubspot_tasks').selectAll().where('task_key', '=', `help_request_sla:${id}`).executeTakeFirstOrThrow();
    expect(task).toMatchObject({ owner_id: '900', purpose: 'help_request_sla', deal_id: '6001', company_id: '9100' });
    today = '2026-05-03';
    const card = DealCardSchema.parse((await signed('GET', '/api/v1/cards/deal', { objectId: '6001' })).body);
    expect(card.help_requests[0]).toMatchObject({ sla: 'escalated', escalated_to: '900' });
    expect(await sendPendingTasks(store.db, PORTAL, sender())).toEqual({ created: 1, failed: 0, remaining: 0 });
    today = TODAY;
  });

  it('marks a request escalated with nobody to go to when the policy names no manager, and says so in the log', async () => {
    await savePolicy(store.db, PORTAL, parsePolicy({}));
    const res = await signed('POST', '/api/v1/cards/help-requests', {}, ask({ idempotencyKey: 'help-key-nomgr' }));
    expect(await escalateOverdueHelpRequests(store.db, PORTAL, '2026-06-01')).toBe(1);
    const row = await store.db.selectFrom('help_requests').selectAll().where('id', '=', Number(res.body.id)).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ escalated_on: '2026-06-01', escalated_to: null });
    expect(await store.db.selectFrom('hubspot_tasks').select('id').where('task_key', '=', `help_request_sla:${res.body.id}`).execute()).toEqual([]);
    const entry = await store.db.selectFrom('communication_log').select('summary').where('entry_key', '=', `help_request_sla:${res.body.id}`).executeTakeFirstOrThrow();
    expect(entry.summary).toContain('no manager or escalation user is configured');
  });
});
