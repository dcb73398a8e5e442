import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { parsePolicy } from '../../src/domain/policy';
import { createCaller } from '../../src/hubspot/caller';
import { hubspotClient } from '../../src/hubspot/client';
import { setCompanyLink } from '../../src/hubspot/links';
import { taskMarker } from '../../src/hubspot/tasks';
import { processBigDealEvents } from '../../src/services/big-deals';
import { runCollaborationRound } from '../../src/services/collaboration';
import { recordTermsAck } from '../../src/services/terms';
import { ensurePortal, idsByExternalId, upsertCustomers, upsertInvoices } from '../../src/store/facts';
import { savePolicy } from '../../src/store/policies';
import type { Store } from '../../src/store/store';
import { startFakeHubSpot, type FakeHubSpot } from '../fakes/hubspot';
import { describeEachStore, openTestStore } from '../helpers/stores';

const PORTAL = 7_640;
const TOKEN = 'big-deal-token';
const TODAY = '2026-04-30';

describeEachStore('big deal closed', (backend) => {
  let store: Store;
  let fake: FakeHubSpot;
  let eventId = 1;
  const sender = () => {
    let t = 0;
    return { client: async () => hubspotClient(TOKEN, fake.url), caller: createCaller({ callsPerWindow: 1_000, now: () => t, sleep: async (ms) => { t += ms; }, baseDelayMs: 10 }) };
  };
  const event = async (dealId: string, value: string | null, type = 'deal.propertyChange') => {
    await store.db.insertInto('hubspot_webhook_events').values({
      portal_id: PORTAL, event_id: String(eventId++), subscription_type: type, object_type_id: '0-3', object_id: dealId,
      property_name: type === 'deal.propertyChange' ? 'dealstage' : null, property_value: value, occurred_at: '2026-04-30T10:00:00Z',
    }).execute();
  };
  const deal = (props: Record<string, string>): string => {
    const id = fake.createObject(PORTAL, 'deals', { dealname: 'Deal', pipeline: 'default', hubspot_owner_id: '502', ...props });
    fake.associate(PORTAL, 'deals', id, 'companies', '9100');
    return id;
  };

  beforeAll(async () => {
    store = await openTestStore(backend);
    fake = await startFakeHubSpot({ rateLimit: null, searchRateLimit: null });
    fake.addPortal(PORTAL, { privateToken: TOKEN });
    for (const id of ['502', '777']) fake.addOwner(PORTAL, { id, email: `o${id}@example.com` });
    fake.createObject(PORTAL, 'companies', { name: 'Acme' }, { id: '9100' });
    const db = store.db;
    await ensurePortal(db, PORTAL);
    await upsertCustomers(db, PORTAL, 'csv', [{ id: 'AC', name: 'Acme', domain: null, industry: null, country: null }]);
    await upsertInvoices(db, PORTAL, 'csv', [{ id: 'I-1', number: 'INV-1', customerId: 'AC', currency: 'USD', totalMinor: 300_000, issueDate: '2026-02-01', dueDate: '2026-03-03', voidedDate: null, disputed: false, salesRep: null, product: null, dealId: null, terms: null }]);
    const customerId = (await idsByExternalId(db, 'customers', PORTAL, 'csv', ['AC'])).get('AC') as number;
    await setCompanyLink(db, PORTAL, { customerId: String(customerId), companyId: '9100', method: 'name', detail: 'acme' });
    await savePolicy(db, PORTAL, parsePolicy({ bigDeal: { thresholds: [{ currency: 'USD', amountMinor: 5_000_000 }, { currency: 'EUR', amountMinor: 2_000_000 }] } }));
  });
  afterAll(async () => {
    await fake.close();
    await store.close();
  });

  it('makes one AR task per big closed-won deal, per currency threshold, however often HubSpot tells us', async () => {
    const big = deal({ dealname: 'Acme platform', amount: '60000', deal_currency_code: 'USD', dealstage: 'closedwon' });
    const justUnder = deal({ amount: '49999.99', deal_currency_code: 'USD', dealstage: 'closedwon' });
    const euro = deal({ amount: '20000', deal_currency_code: 'EUR', dealstage: 'closedwon' });
    const noThreshold = deal({ amount: '9000000', deal_currency_code: 'JPY', dealstage: 'closedwon' });
    const open = deal({ amount: '90000', deal_currency_code: 'USD', dealstage: 'contractsent' });
    await store.db.insertInto('hubspot_deals').values({ portal_id: PORTAL, deal_id: big, name: 'Acme platform', company_id: '9100', owner_id: '502' }).execute();
    await recordTermsAck(store.db, PORTAL, { dealId: big, terms: 'Net 45', contactName: 'Paula Payer', acknowledgedOn: '2026-04-28', recordedBy: null }, TODAY);
    for (const id of [big, justUnder, euro, noThreshold, open]) await event(id, 'closedwon');
    await event(big, null, 'deal.creation');
    const report = await processBigDealEvents(store.db, PORTAL, sender(), TODAY);
    expect(report).toEqual({ deals: 5, alerts: 2, skipped: 3, failed: 0 });
    // Redelivered and later events of the same deal: no second alert.
    await event(big, 'closedwon');
    expect(await processBigDealEvents(store.db, PORTAL, sender(), TODAY)).toEqual({ deals: 1, alerts: 0, skipped: 0, failed: 0 });
    const alerts = await store.db.selectFrom('big_deal_alerts').select(['deal_id', 'amount_minor', 'currency']).where('portal_id', '=', PORTAL).orderBy('deal_id').execute();
    expect(alerts.map((a) => [a.deal_id, Number(a.amount_minor), a.currency]).sort()).toEqual([[big, 6_000_000, 'USD'], [euro, 2_000_000, 'EUR']].sort());
    const task = await store.db.selectFrom('hubspot_tasks').selectAll().where('task_key', '=', `big_deal:${big}`).executeTakeFirstOrThrow();
    expect(task).toMatchObject({ purpose: 'big_deal', owner_id: '502', deal_id: big, company_id: '9100' });
    expect(task.body).toContain('Deal "Acme platform" closed won for 60000 USD.');
    expect(task.body).toMatch(/Risk \(USD\): \d+ \(tier [A-D]\)/);
    expect(task.body).toContain('History (USD): 1 invoices, outstanding 3000.00, overdue 3000.00');
    expect(task.body).toContain('Payment terms: "Net 45" acknowledged by Paula Payer on 2026-04-28');
    expect(task.body).toContain('Credit: no limit on record');
  });

  it('sends the alert in the round exactly once even when HubSpot loses answers, to the AR owner of the policy', async () => {
    await savePolicy(store.db, PORTAL, parsePolicy({ bigDeal: { thresholds: [{ currency: 'USD', amountMinor: 5_000_000 }], arOwnerId: '777' } }));
    const late = deal({ dealname: 'Late big one', amount: '75000', deal_currency_code: 'USD', dealstage: 'closedwon' });
    await event(late, 'closedwon');
    fake.setFaults({ rate: 0.5, kinds: ['500'], when: 'after', seed: 3 });
    for (let i = 0; i < 10; i += 1) {
      const round = await runCollaborationRound(store.db, { client: async () => hubspotClient(TOKEN, fake.url), caller: createCaller({ callsPerWindow: 1_000, sleep: async () => undefined, maxAttempts: 1 }) }, PORTAL, TODAY);
      if (round.tasks.remaining === 0 && round.bigDeals.failed === 0) break;
    }
    fake.setFaults(null);
    await runCollaborationRound(store.db, sender(), PORTAL, TODAY);
    const marker = taskMarker(PORTAL, `big_deal:${late}`);
    const tasks = fake.objects(PORTAL, 'tasks').filter((t) => (t.properties.hs_task_body ?? '').includes(marker));
    expect(tasks).toHaveLength(1);
    expect(tasks[0]?.properties.hubspot_owner_id).toBe('777');
    expect(fake.associations(PORTAL, 'tasks', tasks[0]?.id as string, 'deals').map((a) => a.toId)).toEqual([late]);
    const unprocessed = await store.db.selectFrom('hubspot_webhook_events').select('event_id').where('portal_id', '=', PORTAL).where('processed_at', 'is', null).execute();
    expect(unprocessed).toEqual([]);
  });
});
