import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { WorkspaceSchema, type Workspace } from '../../extensions/workspace-api';
import { loadConfig } from '../../src/config';
import { addDays } from '../../src/domain/calendar';
import { createApp } from '../../src/http/app';
import { setCompanyLink } from '../../src/hubspot/links';
import { createLogger } from '../../src/logger';
import { ensurePortal, idsByExternalId, upsertCustomers, upsertInvoices, upsertPayments } from '../../src/store/facts';
import type { Store } from '../../src/store/store';
import { cardQuery, signedRequest } from '../helpers/sign';
import { describeEachStore, openTestStore } from '../helpers/stores';

const SECRET = 'workspace-test-client-secret';
const PUBLIC_URL = 'https://arbridge.example.com';
const PORTAL = 4_400;
const OTHER = 4_401;
const TODAY = '2026-04-30';
const day = (offset: number) => addDays(TODAY, offset);

// Customers (company, owner, currency) and what makes each one stalled or not as of TODAY.
const CUSTOMERS = [
  { id: 'A', company: '9001', owner: '101', currency: 'USD' }, // 45 days past due, nothing since: stalled
  { id: 'B', company: '9002', owner: '101', currency: 'USD' }, // 45 days past due, a call logged 5 days ago
  { id: 'C', company: '9003', owner: '101', currency: 'USD' }, // 45 days past due, a part payment 3 days ago
  { id: 'D', company: '9004', owner: '101', currency: 'USD' }, // only 10 days past due: below the ask-the-rep level
  { id: 'E', company: '9005', owner: '202', currency: 'EUR' }, // 60 days past due, nothing since: stalled
] as const;

describeEachStore('AR workspace', (backend) => {
  let store: Store;
  let app: ReturnType<typeof createApp>;
  let ids: Map<string, number>;

  const config = loadConfig({ HUBSPOT_ACCESS_TOKEN: 'pat-test', HUBSPOT_PORTAL_ID: String(PORTAL), HUBSPOT_CLIENT_SECRET: SECRET, ARBRIDGE_PUBLIC_URL: PUBLIC_URL });
  const get = (params: Record<string, string> = {}, portalId = PORTAL) =>
    signedRequest(app, {
      method: 'GET', path: `/api/v1/workspace?${cardQuery({ asOf: TODAY, ...params }, { portalId, userEmail: 'ada.ar@example.com' })}`,
      secret: SECRET, publicUrl: PUBLIC_URL,
    });
  const workspace = async (params: Record<string, string> = {}): Promise<Workspace> => {
    const res = await get(params);
    expect(res.status).toBe(200);
    return WorkspaceSchema.parse(res.body);
  };

  beforeAll(async () => {
    store = await openTestStore(backend);
    const db = store.db;
    await ensurePortal(db, PORTAL);
    await ensurePortal(db, OTHER);
    await upsertCustomers(db, PORTAL, 'csv', CUSTOMERS.map((c) => ({ id: c.id, name: `Customer ${c.id}`, domain: null, industry: null, country: null })));
    ids = await idsByExternalId(db, 'customers', PORTAL, 'csv', CUSTOMERS.map((c) => c.id));
    const due = { A: -45, B: -45, C: -45, D: -10, E: -60 } as const;
    await upsertInvoices(db, PORTAL, 'csv', CUSTOMERS.map((c) => ({
      id: `INV-${c.id}`, number: `INV-${c.id}`, customerId: c.id, currency: c.currency, totalMinor: 100_000,
      issueDate: day(due[c.id] - 30), dueDate: day(due[c.id]), voidedDate: null, disputed: false, salesRep: null, product: null, dealId: null, terms: null,
    })));
    await upsertPayments(db, PORTAL, 'csv', [
      { id: 'PAY-C', kind: 'payment', date: day(-3), currency: 'USD', amountMinor: 10_000, allocations: [{ invoiceId: 'INV-C', amountMinor: 10_000 }] },
      { id: 'PAY-A-old', kind: 'payment', date: day(-40), currency: 'USD', amountMinor: 5_000, allocations: [{ invoiceId: 'INV-A', amountMinor: 5_000 }] },
    ]);
    for (const c of CUSTOMERS) {
      await setCompanyLink(db, PORTAL, { customerId: String(ids.get(c.id)), companyId: c.company, method: 'explicit_id' });
      await db.insertInto('hubspot_companies').values({ portal_id: PORTAL, company_id: c.company, name: `Company ${c.id}`, owner_id: c.owner }).execute();
    }
    const customer = (id: string) => ids.get(id) as number;
    await db.insertInto('communication_log').values([
      { portal_id: PORTAL, customer_id: customer('B'), kind: 'call', occurred_on: day(-5), summary: 'Called AP' },
      { portal_id: PORTAL, customer_id: customer('A'), kind: 'note', occurred_on: day(-20), summary: 'Sent a reminder' },
      // A: one promise falling due in 3 days, one broken (due 10 days ago, nothing paid).
      { portal_id: PORTAL, customer_id: customer('A'), kind: 'promise', occurred_on: day(-20), summary: 'Will pay half', promise_date: day(3), amount_minor: 50_000, currency: 'USD', status: 'open' },
      { portal_id: PORTAL, customer_id: customer('A'), kind: 'promise', occurred_on: day(-25), summary: 'Will pay by the 20th', promise_date: day(-10), amount_minor: 20_000, currency: 'USD', status: 'open' },
      // C: promised 10000 by 5 days ago, paid 3 days ago within the grace days: kept, listed nowhere.
      { portal_id: PORTAL, customer_id: customer('C'), kind: 'promise', occurred_on: day(-8), summary: 'Part payment', promise_date: day(-5), amount_minor: 10_000, currency: 'USD', status: 'open' },
      // E: a EUR promise due in 6 days (the last day of the window) and one due in 8 (outside it).
      { portal_id: PORTAL, customer_id: customer('E'), kind: 'promise', occurred_on: day(-16), summary: 'Next week', promise_date: day(6), amount_minor: 30_000, currency: 'EUR', status: 'open' },
      { portal_id: PORTAL, customer_id: customer('E'), kind: 'promise', occurred_on: day(-16), summary: 'Later', promise_date: day(8), amount_minor: 30_000, currency: 'EUR', status: 'open' },
    ]).execute();
    await db.insertInto('help_requests').values([
      { portal_id: PORTAL, customer_id: customer('A'), object_type: 'company', object_id: '9001', company_id: '9001', deal_id: null, owner_id: '101',
        needed: 'Call their CFO', needed_by: day(2), status: 'open', requested_on: day(-6), sla_due_on: day(-1) },
      { portal_id: PORTAL, customer_id: customer('E'), object_type: 'deal', object_id: '7005', company_id: '9005', deal_id: '7005', owner_id: '202',
        needed: 'Confirm the PO', needed_by: day(5), status: 'accepted', requested_on: day(-2), sla_due_on: day(1) },
      { portal_id: PORTAL, customer_id: customer('B'), object_type: 'company', object_id: '9002', company_id: '9002', deal_id: null, owner_id: '101',
        needed: 'Done already', needed_by: day(-3), status: 'done', requested_on: day(-9), sla_due_on: day(-6) },
    ]).execute();
    await db.insertInto('hubspot_deals').values([
      { portal_id: PORTAL, deal_id: '7005', name: 'Big renewal', amount: '250000', currency: 'EUR', stage: 'closedwon', owner_id: '202', company_id: '9005' },
      { portal_id: PORTAL, deal_id: '7006', name: 'Old big deal', amount: '300000', currency: 'USD', stage: 'closedwon', owner_id: '101', company_id: '9001' },
    ]).execute();
    await db.insertInto('big_deal_alerts').values([
      { portal_id: PORTAL, deal_id: '7005', amount_minor: 25_000_000, currency: 'EUR', stage: 'closedwon', company_id: '9005', created_at: `${day(-2)}T09:00:00Z` },
      { portal_id: PORTAL, deal_id: '7006', amount_minor: 30_000_000, currency: 'USD', stage: 'closedwon', company_id: '9001', created_at: `${day(-9)}T09:00:00Z` },
    ]).execute();
    app = createApp({ db, logger: createLogger('silent'), today: () => TODAY, config });
  });
  afterAll(async () => store.close());

  it('lists the stalled accounts, open help requests, promises due and broken, and big deals just closed, each linked to HubSpot', async () => {
    const ws = await workspace();
    expect(ws.ask_rep_days).toBe(30);
    expect(ws.stalled.map((s) => [s.customer_name, s.currency, s.overdue, s.days_past_due, s.last_payment_on, s.last_logged_on, s.owner_id])).toEqual([
      ['Customer E', 'EUR', '1000.00', 60, null, day(-16), '202'],
      ['Customer A', 'USD', '950.00', 45, day(-40), day(-20), '101'],
    ]);
    expect(ws.stalled[1]?.url).toBe(`https://app.hubspot.com/contacts/${PORTAL}/record/0-2/9001`);
    expect(ws.help_requests.map((h) => [h.customer_name, h.status, h.sla, h.url])).toEqual([
      ['Customer A', 'open', 'overdue', `https://app.hubspot.com/contacts/${PORTAL}/record/0-2/9001`],
      ['Customer E', 'accepted', 'within', `https://app.hubspot.com/contacts/${PORTAL}/record/0-3/7005`],
    ]);
    expect(ws.promises_due.map((p) => [p.customer_name, p.promise_date, p.amount, p.currency, p.status])).toEqual([
      ['Customer A', day(3), '500.00', 'USD', 'pending'],
      ['Customer E', day(6), '300.00', 'EUR', 'pending'],
    ]);
    expect(ws.broken_promises.map((p) => [p.customer_name, p.promise_date, p.amount, p.paid, p.status, p.url])).toEqual([
      ['Customer A', day(-10), '200.00', '0.00', 'broken', `https://app.hubspot.com/contacts/${PORTAL}/record/0-2/9001`],
    ]);
    expect(ws.big_deals.map((d) => [d.deal_id, d.name, d.amount, d.currency, d.closed_on, d.url])).toEqual([
      ['7005', 'Big renewal', '250000.00', 'EUR', day(-2), `https://app.hubspot.com/contacts/${PORTAL}/record/0-3/7005`],
    ]);
  });

  it('narrows every list to one owner\'s book, or to one currency', async () => {
    const rep = await workspace({ owner: '202' });
    expect(rep.filters).toEqual({ owner: '202', currency: null, quiet_days: 14 });
    expect(rep.stalled.map((s) => s.customer_name)).toEqual(['Customer E']);
    expect(rep.help_requests.map((h) => h.customer_name)).toEqual(['Customer E']);
    expect(rep.promises_due.map((p) => p.customer_name)).toEqual(['Customer E']);
    expect(rep.broken_promises).toEqual([]);
    expect(rep.big_deals.map((d) => d.deal_id)).toEqual(['7005']);
    const usd = await workspace({ currency: 'USD' });
    expect(usd.stalled.map((s) => s.customer_name)).toEqual(['Customer A']);
    expect(usd.promises_due.map((p) => p.currency)).toEqual(['USD']);
    expect(usd.big_deals).toEqual([]);
    // A shorter quiet period makes B (called 5 days ago) stalled too; C paid 3 days ago and stays off the list.
    expect((await workspace({ quietDays: '4' })).stalled.map((s) => s.customer_name)).toEqual(['Customer E', 'Customer A', 'Customer B']);
  });

  it('moves with the as-of date: before the ask-the-rep level nothing is stalled', async () => {
    const early = await workspace({ asOf: day(-35) });
    expect(early.stalled).toEqual([]);
    expect(early.broken_promises).toEqual([]);
  });

  it('answers only signed requests, for the signed portal, and refuses what it cannot filter by', async () => {
    // Another portal's signed request: this service is installed for PORTAL only (a private app), so none of its rows.
    expect((await get({}, OTHER)).body).toMatchObject({ error: 'unauthenticated', reason: 'portal_not_installed' });
    const team = await get({ team: '55' });
    expect(team.status).toBe(400);
    expect(JSON.stringify(team.body)).toContain('team');
    const currency = await get({ currency: 'usd' });
    expect(currency.status).toBe(400);
    expect(JSON.stringify(currency.body)).toContain('currency');
    const unsigned = await signedRequest(app, {
      method: 'GET', path: `/api/v1/workspace?${cardQuery({}, { portalId: PORTAL })}`, secret: 'not-the-secret', publicUrl: PUBLIC_URL,
    });
    expect(unsigned.status).toBe(401);
  });
});
