import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from '@jest/globals';
import { DEFAULT_POLICY } from '../../src/domain/policy';
import { companyRollup } from '../../src/domain/rollups';
import type { InvoiceFact } from '../../src/domain/types';
import { createCaller } from '../../src/hubspot/caller';
import { hubspotClient } from '../../src/hubspot/client';
import type { PortalConnection } from '../../src/hubspot/connection';
import { setCompanyLink, setDealLink } from '../../src/hubspot/links';
import { COMPANY_PROPERTIES, DEAL_PROPERTIES, installProperties } from '../../src/hubspot/properties';
import { pushToHubSpot } from '../../src/hubspot/push';
import { drainOutbox, planWriteBack } from '../../src/hubspot/writeback';
import { ensurePortal, loadFacts, upsertCustomers, upsertInvoices, upsertPayments } from '../../src/store/facts';
import type { Store } from '../../src/store/store';
import { startFakeHubSpot, type FakeHubSpot } from '../fakes/hubspot';
import { describeEachStore, openTestStore } from '../helpers/stores';

const PORTAL = 4_100;
const TOKEN = 'writeback-test-token';
const AS_OF = '2026-06-30';

/** A caller on a virtual clock: pacing and Retry-After waits take no wall time in tests. */
const virtualCaller = (callsPerWindow = 110) => {
  let t = 0;
  return createCaller({ callsPerWindow, now: () => t, sleep: async (ms) => { t += ms; }, baseDelayMs: 10 });
};

const connection = (fake: FakeHubSpot, caller = virtualCaller()): PortalConnection =>
  ({ portalId: PORTAL, client: async () => hubspotClient(TOKEN, fake.url), caller });

const batchWrites = (fake: FakeHubSpot) => fake.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/batch/update'));

/** Seeds `count` customers with invoices and payments, a HubSpot company each, and a deal per customer for the first invoice. */
const seed = async (store: Store, fake: FakeHubSpot, count: number) => {
  await ensurePortal(store.db, PORTAL);
  const customers = Array.from({ length: count }, (_, i) => ({ id: `C${i}`, name: `Customer ${i}`, domain: null, industry: null, country: null }));
  await upsertCustomers(store.db, PORTAL, 'csv', customers);
  const invoices: Omit<InvoiceFact, 'settlements'>[] = customers.flatMap((c, i) => [0, 1, 2].map((k) => ({
    id: `INV-${i}-${k}`, number: `INV-${i}-${k}`, customerId: c.id, currency: i % 7 === 0 ? 'EUR' : 'USD',
    totalMinor: 10_000 * (k + 1) + i, issueDate: `2026-0${k + 2}-01`, dueDate: `2026-0${k + 3}-01`, voidedDate: null, disputed: false,
    salesRep: null, product: null, dealId: null, terms: null,
  })));
  await upsertInvoices(store.db, PORTAL, 'csv', invoices);
  await upsertPayments(store.db, PORTAL, 'csv', customers.map((_, i) => ({
    id: `PAY-${i}`, kind: 'payment' as const, date: '2026-03-20', currency: i % 7 === 0 ? 'EUR' : 'USD', amountMinor: 10_000 + i,
    allocations: [{ invoiceId: `INV-${i}-0`, amountMinor: 10_000 + i }],
  })));
  const ids = await store.db.selectFrom('customers').select(['id', 'external_id']).where('portal_id', '=', PORTAL).execute();
  const invoiceIds = await store.db.selectFrom('invoices').select(['id', 'external_id']).where('portal_id', '=', PORTAL).execute();
  const companyOf = new Map<string, string>();
  for (const row of ids) {
    const companyId = fake.createObject(PORTAL, 'companies', { name: `Customer ${row.external_id}` });
    companyOf.set(row.external_id, companyId);
    await setCompanyLink(store.db, PORTAL, { customerId: String(row.id), companyId, method: 'explicit_id' });
  }
  const dealOf = new Map<string, string>();
  for (const row of invoiceIds.filter((r) => r.external_id.endsWith('-0'))) {
    const dealId = fake.createObject(PORTAL, 'deals', { dealname: row.external_id });
    dealOf.set(row.external_id, dealId);
    await setDealLink(store.db, PORTAL, { invoiceId: String(row.id), dealId, method: 'invoice_deal_id' });
  }
  return { companyOf, dealOf, customerIds: new Map(ids.map((r) => [r.external_id, String(r.id)])) };
};

/** What each linked company should hold, computed independently from the facts (by the customer's external id). */
const expectedCompanyValues = async (store: Store, customerIds: Map<string, string>) => {
  const result = new Map<string, Record<string, string>>();
  for (const externalId of customerIds.keys()) {
    const facts = await loadFacts(store.db, PORTAL, { upTo: AS_OF, customerId: externalId });
    const values = companyRollup(facts.invoices, AS_OF, DEFAULT_POLICY);
    if (values) result.set(externalId, values);
  }
  expect(result.size).toBe(customerIds.size);
  return result;
};

/** What each seeded deal should hold: its one invoice (INV-i-0: 10000+i total, paid in full on 03-20). */
const expectedDealValues = (i: number): Record<string, string> => {
  const amount = ((10_000 + i) / 100).toFixed(2);
  return {
    arbridge_currency: i % 7 === 0 ? 'EUR' : 'USD', arbridge_invoiced: amount, arbridge_collected: amount,
    arbridge_outstanding: '0.00', arbridge_overdue: '0.00', arbridge_invoice_count: '1',
  };
};

const expectFakeHolds = (fake: FakeHubSpot, type: 'companies' | 'deals', objectId: string, values: Record<string, string>, label: string): void => {
  const held = fake.getObject(PORTAL, type, objectId)?.properties ?? {};
  for (const [name, value] of Object.entries(values)) expect([label, name, held[name] ?? '']).toEqual([label, name, value]);
};

describeEachStore('HubSpot write-back', (backend) => {
  let store: Store;
  let fake: FakeHubSpot;

  beforeAll(async () => {
    store = await openTestStore(backend);
  });
  afterAll(async () => {
    await store.close();
  });
  beforeEach(async () => {
    fake = await startFakeHubSpot({ rateLimit: null });
    fake.addPortal(PORTAL, { privateToken: TOKEN });
    for (const table of ['hubspot_outbox', 'hubspot_written', 'company_links', 'deal_links', 'payment_allocations', 'payments', 'invoices', 'customers'] as const) {
      await store.db.deleteFrom(table).execute();
    }
    await installProperties(hubspotClient(TOKEN, fake.url), virtualCaller());
  });
  afterEach(async () => {
    await fake.close();
  });

  it('installs the property group idempotently and updates a changed definition', async () => {
    const names = fake.properties(PORTAL, 'companies').map((p) => p.name);
    for (const p of COMPANY_PROPERTIES) expect(names).toContain(p.name);
    for (const p of DEAL_PROPERTIES) expect(fake.properties(PORTAL, 'deals').map((d) => d.name)).toContain(p.name);
    const tier = fake.properties(PORTAL, 'companies').find((p) => p.name === 'arbridge_risk_tier');
    expect(tier).toMatchObject({ type: 'enumeration', fieldType: 'select', groupName: 'arbridge' });

    fake.clearRequests();
    const again = await installProperties(hubspotClient(TOKEN, fake.url), virtualCaller());
    expect(again.companies).toMatchObject({ groupCreated: false, created: [], updated: [] });
    expect(fake.requests.every((r) => r.method === 'GET')).toBe(true);

    // Someone renames a property in HubSpot: the next install puts the definition back.
    await hubspotClient(TOKEN, fake.url).crm.properties.coreApi.update('companies', 'arbridge_outstanding', { label: 'Renamed' });
    const repaired = await installProperties(hubspotClient(TOKEN, fake.url), virtualCaller());
    expect(repaired.companies.updated).toEqual(['arbridge_outstanding']);
    expect(fake.properties(PORTAL, 'companies').find((p) => p.name === 'arbridge_outstanding')?.label).toBe('AR outstanding');
  });

  it('writes the roll-ups in batches of 100, then nothing when nothing changed, then only what changed', async () => {
    const { companyOf, dealOf, customerIds } = await seed(store, fake, 230);
    fake.clearRequests();
    const first = await pushToHubSpot(store.db, connection(fake), PORTAL, AS_OF);
    expect(first.plan.companies).toMatchObject({ records: 230, changed: 230 });
    expect(first.plan.deals).toMatchObject({ records: 230, changed: 230 });
    expect(first.minimumCalls).toBe(6);
    expect(batchWrites(fake)).toHaveLength(6);
    expect(first.drain).toMatchObject({ written: 460, refused: 0, remaining: 0, stoppedBy: null });
    for (const request of batchWrites(fake)) expect((request.body as { inputs: unknown[] }).inputs.length).toBeLessThanOrEqual(100);

    // HubSpot now holds exactly the independently computed values.
    const expected = await expectedCompanyValues(store, customerIds);
    for (const [externalId, values] of expected) expectFakeHolds(fake, 'companies', companyOf.get(externalId) as string, values, externalId);
    for (let i = 0; i < 230; i++) expectFakeHolds(fake, 'deals', dealOf.get(`INV-${i}-0`) as string, expectedDealValues(i), `INV-${i}-0`);
    expect(fake.getObject(PORTAL, 'deals', dealOf.get('INV-5-0') as string)?.properties).toMatchObject({ arbridge_invoiced: '100.05', arbridge_collected: '100.05' });

    fake.clearRequests();
    const second = await pushToHubSpot(store.db, connection(fake), PORTAL, AS_OF);
    expect(second.plan.companies.changed + second.plan.deals.changed).toBe(0);
    expect(fake.requests).toHaveLength(0);

    // One payment on one invoice: one company and its deal change, and only the properties that moved are sent.
    await upsertPayments(store.db, PORTAL, 'csv', [{ id: 'PAY-late', kind: 'payment', date: '2026-06-29', currency: 'USD', amountMinor: 20_005, allocations: [{ invoiceId: 'INV-5-1', amountMinor: 20_005 }] }]);
    fake.clearRequests();
    const third = await pushToHubSpot(store.db, connection(fake), PORTAL, AS_OF);
    expect(third.plan.companies.changed).toBe(1);
    expect(third.plan.deals.changed).toBe(0); // INV-5-1 belongs to no deal
    expect(batchWrites(fake)).toHaveLength(1);
    const sent = (batchWrites(fake)[0]?.body as { inputs: { id: string; properties: Record<string, string> }[] }).inputs;
    expect(sent.map((i) => i.id)).toEqual([companyOf.get('C5')]);
    expect(sent[0]?.properties).toHaveProperty('arbridge_outstanding');
    expect(sent[0]?.properties).not.toHaveProperty('arbridge_currency');
  });

  it('plans without writing on a dry run, and clears the values of an unlinked company', async () => {
    const { companyOf, customerIds } = await seed(store, fake, 3);
    const dry = await pushToHubSpot(store.db, connection(fake), PORTAL, AS_OF, { dryRun: true });
    expect(dry.plan.companies.changed).toBe(3);
    expect(dry.drain).toBeNull();
    expect(dry.plan.sample.length).toBeGreaterThan(0);
    expect(await store.db.selectFrom('hubspot_outbox').selectAll().execute()).toHaveLength(0);
    expect(batchWrites(fake)).toHaveLength(0);

    await pushToHubSpot(store.db, connection(fake), PORTAL, AS_OF);
    const company = companyOf.get('C1') as string;
    expect(fake.getObject(PORTAL, 'companies', company)?.properties.arbridge_outstanding).not.toBe('');
    await setCompanyLink(store.db, PORTAL, { customerId: customerIds.get('C1') as string, companyId: null, method: 'manual_unlink', linkedBy: 'ar@example.com' });
    const after = await pushToHubSpot(store.db, connection(fake), PORTAL, AS_OF);
    expect(after.plan.companies).toMatchObject({ changed: 1, cleared: 1 });
    const held = fake.getObject(PORTAL, 'companies', company)?.properties ?? {};
    expect(held.arbridge_outstanding ?? '').toBe('');
    expect(held.arbridge_risk_tier ?? '').toBe('');
  });

  it('parks a record HubSpot refuses and writes the rest of its batch', async () => {
    await seed(store, fake, 5);
    const invoice = await store.db.selectFrom('invoices').select('id').where('external_id', '=', 'INV-2-1').executeTakeFirstOrThrow();
    await setDealLink(store.db, PORTAL, { invoiceId: String(invoice.id), dealId: '999999999', method: 'manual' });
    const report = await pushToHubSpot(store.db, connection(fake), PORTAL, AS_OF);
    expect(report.drain?.refused).toBe(1);
    expect(report.drain?.written).toBe(10);
    const parked = await store.db.selectFrom('hubspot_outbox').selectAll().execute();
    expect(parked).toHaveLength(1);
    expect(parked[0]).toMatchObject({ object_type: 'deals', object_id: '999999999', attempts: 1 });
    expect(parked[0]?.last_error).toMatch(/\w/);
  });

  it('converges to the wanted state under 20% faults, with no lost and no duplicated write', async () => {
    const { companyOf, dealOf, customerIds } = await seed(store, fake, 150);
    const policy = DEFAULT_POLICY;
    await planWriteBack(store.db, PORTAL, AS_OF, policy);
    fake.clearRequests();
    fake.setFaults({ rate: 0.2, kinds: ['429', '500', 'slow'], seed: 7, retryAfterSeconds: 1, slowMs: 20, when: 'after' });
    let clock = Date.now();
    const caller = virtualCaller();
    for (let round = 0; round < 50; round++) {
      const report = await drainOutbox({ db: store.db, portalId: PORTAL, client: async () => hubspotClient(TOKEN, fake.url), caller, now: () => new Date(clock) });
      if (report.remaining === 0) break;
      clock += 10 * 60_000; // the next drain, after the released rows are due again
    }
    fake.setFaults(null);
    expect(await store.db.selectFrom('hubspot_outbox').selectAll().execute()).toHaveLength(0);
    const faulted = fake.requests.filter((r) => r.status === 429 || r.status >= 500);
    expect(faulted.length).toBeGreaterThan(0);

    const expected = await expectedCompanyValues(store, customerIds);
    for (const [externalId, values] of expected) expectFakeHolds(fake, 'companies', companyOf.get(externalId) as string, values, externalId);
    for (let i = 0; i < 150; i++) expectFakeHolds(fake, 'deals', dealOf.get(`INV-${i}-0`) as string, expectedDealValues(i), `INV-${i}-0`);
    // Each record was confirmed exactly once: no confirmed write was sent again.
    const confirmed = new Map<string, number>();
    for (const request of batchWrites(fake).filter((r) => r.status >= 200 && r.status < 300)) {
      for (const input of (request.body as { inputs: { id: string }[] }).inputs) confirmed.set(input.id, (confirmed.get(input.id) ?? 0) + 1);
    }
    expect(confirmed.size).toBe(300);
    expect([...confirmed.values()].every((n) => n === 1)).toBe(true);
    // No record was created: the fake holds the seeded companies and deals only.
    expect(fake.objects(PORTAL, 'companies')).toHaveLength(150);
    expect(fake.objects(PORTAL, 'deals')).toHaveLength(150);
    // What the store says was written is what HubSpot holds.
    const written = await store.db.selectFrom('hubspot_written').selectAll().execute();
    expect(written.length).toBeGreaterThan(300 * 5);
    for (const row of written) expect(fake.getObject(PORTAL, row.object_type, row.object_id)?.properties[row.property] ?? '').toBe(row.value);
    // And a new plan finds nothing to do.
    const again = await planWriteBack(store.db, PORTAL, AS_OF, policy, { dryRun: true });
    expect(again.companies.changed + again.deals.changed).toBe(0);
  });
  it('drops a queued change for a record that was unlinked before it was sent', async () => {
    const { companyOf, customerIds } = await seed(store, fake, 2);
    await planWriteBack(store.db, PORTAL, AS_OF, DEFAULT_POLICY);
    const company = companyOf.get('C1') as string;
    expect((await store.db.selectFrom('hubspot_outbox').select('object_id').execute()).map((r) => r.object_id)).toContain(company);
    await setCompanyLink(store.db, PORTAL, { customerId: customerIds.get('C1') as string, companyId: null, method: 'manual_unlink' });
    const again = await planWriteBack(store.db, PORTAL, AS_OF, DEFAULT_POLICY);
    expect(again.companies.changed).toBe(1); // C0 still waits; C1's company was never written, so nothing to clear
    expect((await store.db.selectFrom('hubspot_outbox').select('object_id').execute()).map((r) => r.object_id)).not.toContain(company);
    await drainOutbox({ db: store.db, portalId: PORTAL, client: async () => hubspotClient(TOKEN, fake.url), caller: virtualCaller() });
    expect(fake.getObject(PORTAL, 'companies', company)?.properties.arbridge_outstanding ?? '').toBe('');
  });

  it('stops at once, without splitting, when the portal lacks the properties', async () => {
    const bare = await startFakeHubSpot({ rateLimit: null });
    try {
      bare.addPortal(PORTAL, { privateToken: TOKEN });
      await seed(store, bare, 120);
      bare.clearRequests();
      const report = await pushToHubSpot(store.db, { portalId: PORTAL, client: async () => hubspotClient(TOKEN, bare.url), caller: virtualCaller() }, PORTAL, AS_OF);
      expect(batchWrites(bare)).toHaveLength(1);
      expect(report.drain?.stoppedBy).toMatch(/^400/);
      expect(report.drain?.refused).toBe(0);
      const rows = await store.db.selectFrom('hubspot_outbox').select(['attempts', 'last_error', 'lease_token']).execute();
      expect(rows).toHaveLength(240);
      expect(rows.every((r) => r.attempts === 0 && r.lease_token === null)).toBe(true);
      expect(rows.filter((r) => r.last_error !== null).length).toBe(100);
    } finally {
      await bare.close();
    }
  });

  it('keeps a leased row from other workers, and a newer plan for it waits for the next claim', async () => {
    await seed(store, fake, 1);
    await planWriteBack(store.db, PORTAL, AS_OF, DEFAULT_POLICY);
    const t0 = new Date(Date.now() + 1_000);
    // Worker 1 claims the rows and is slow: hold the lease by claiming through a drain that never answers.
    let release: () => void = () => undefined;
    const stuck = new Promise<void>((resolve) => { release = resolve; });
    const slowClient = async () => {
      const client = hubspotClient(TOKEN, fake.url);
      const original = client.crm.companies.batchApi.update.bind(client.crm.companies.batchApi);
      client.crm.companies.batchApi.update = async (input) => {
        await stuck;
        return original(input);
      };
      return client;
    };
    const first = drainOutbox({ db: store.db, portalId: PORTAL, client: slowClient, caller: virtualCaller(), now: () => t0 });
    // Wait until worker 1 holds the company row.
    for (let i = 0; i < 100; i++) {
      const held = await store.db.selectFrom('hubspot_outbox').select('lease_token').where('object_type', '=', 'companies').executeTakeFirst();
      if (held?.lease_token) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // A newer plan changes the company's values while worker 1 holds it; worker 2 must not take it.
    await upsertPayments(store.db, PORTAL, 'csv', [{ id: 'PAY-more', kind: 'payment', date: '2026-06-01', currency: 'EUR', amountMinor: 5_000, allocations: [{ invoiceId: 'INV-0-1', amountMinor: 5_000 }] }]);
    await planWriteBack(store.db, PORTAL, AS_OF, DEFAULT_POLICY, { now: () => t0 });
    const second = await drainOutbox({ db: store.db, portalId: PORTAL, client: async () => hubspotClient(TOKEN, fake.url), caller: virtualCaller(), now: () => t0 });
    expect(second.written).toBe(1); // the deal only
    const row = await store.db.selectFrom('hubspot_outbox').selectAll().where('object_type', '=', 'companies').executeTakeFirstOrThrow();
    expect(row).toMatchObject({ version: 2 });
    expect(row.lease_token).not.toBeNull();
    // Worker 1 gets its answer: version 1 is recorded as written but the row stays (version 2 is newer); it
    // loses the lease, so worker 1's next claim sends version 2, once.
    release();
    const one = await first;
    expect(one.written).toBe(2);
    const sent = batchWrites(fake).filter((r) => r.path.startsWith('/crm/v3/objects/companies'));
    expect(sent).toHaveLength(2);
    expect(await store.db.selectFrom('hubspot_outbox').selectAll().execute()).toHaveLength(0);
    const expected = await expectedCompanyValues(store, new Map([['C0', '']]));
    const company = (await store.db.selectFrom('company_links').select('company_id').executeTakeFirstOrThrow()).company_id as string;
    expectFakeHolds(fake, 'companies', company, expected.get('C0') as Record<string, string>, 'C0');
  });
});
