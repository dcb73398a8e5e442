import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createHubSpotConnector, parseCursor, type RecordedInvoice } from '../../src/connectors/hubspot';
import type { ChangePage } from '../../src/connectors/types';
import { hubspotClient } from '../../src/hubspot/client';
import { syncHubSpotInvoices, type SyncHubSpotInvoicesOptions } from '../../src/hubspot/invoice-source';
import { ensurePortal, loadFacts } from '../../src/store/facts';
import type { Store } from '../../src/store/store';
import { checkPage } from '../../src/sync/page';
import { startFakeHubSpot, type FakeHubSpot } from '../fakes/hubspot';
import { describeEachStore, openTestStore } from '../helpers/stores';

const noSleep = async (): Promise<void> => undefined;

/** Two companies, two deals and five invoices of HubSpot's accounting sync (one a draft). */
const seed = (fake: FakeHubSpot, portal: number) => {
  const acme = fake.createObject(portal, 'companies', { name: 'Acme Corp', domain: 'ACME.example', industry: 'COMPUTER_SOFTWARE', country: 'United States' });
  const kaisha = fake.createObject(portal, 'companies', { name: 'Kaisha KK', domain: 'kaisha.example', country: 'Japan' });
  const renewal = fake.createObject(portal, 'deals', { dealname: 'Acme renewal' });
  const invoice = (name: string, props: Record<string, string>, company: string, ...deals: string[]): string => {
    const id = fake.createObject(portal, 'invoices', { hs_number: name, hs_invoice_date: '2024-03-01', hs_due_date: '2024-03-31', ...props });
    fake.associate(portal, 'invoices', id, 'companies', company);
    for (const deal of deals) fake.associate(portal, 'invoices', id, 'deals', deal);
    return id;
  };
  return {
    acme, kaisha, renewal,
    open: invoice('INV-1', { hs_invoice_status: 'open', hs_currency: 'USD', hs_amount_billed: '1000', hs_balance_due: '600' }, acme, renewal),
    paid: invoice('INV-2', { hs_invoice_status: 'paid', hs_currency: 'USD', hs_amount_billed: '800', hs_balance_due: '0' }, acme),
    yen: invoice('INV-3', { hs_invoice_status: 'open', hs_currency: 'JPY', hs_amount_billed: '150000', hs_balance_due: '150000' }, kaisha),
    voided: invoice('INV-4', { hs_invoice_status: 'voided', hs_currency: 'USD', hs_amount_billed: '300', hs_balance_due: '0' }, acme),
    draft: invoice('INV-5', { hs_invoice_status: 'draft', hs_currency: 'USD', hs_amount_billed: '5', hs_balance_due: '5' }, acme),
  };
};

let nextPortal = 7_400;

describe('HubSpot connector', () => {
  let fake: FakeHubSpot;
  let portal: number;
  const token = 'hubspot-connector-test';

  beforeEach(async () => {
    fake = await startFakeHubSpot({ rateLimit: null, searchRateLimit: null });
    portal = nextPortal++;
    fake.addPortal(portal, { privateToken: token });
  });
  afterEach(async () => fake.close());

  const connector = (recorded: ReadonlyMap<string, RecordedInvoice> = new Map()) => createHubSpotConnector({
    credentials: async () => token, basePath: fake.url, sleep: noSleep, recorded: async (ids) => new Map([...recorded].filter(([id]) => ids.includes(id))),
  });

  it('pulls canonical pages the engine accepts whole: companies as customers, invoices, payments derived from the amount paid', async () => {
    const s = seed(fake, portal);
    const source = connector();
    const page = await source.pull(null);
    // The engine's check keeps every field: nothing the connector says is dropped on the way to the store.
    expect(checkPage(page)).toEqual(page);
    expect(source).toMatchObject({ source: 'hubspot', stream: 'invoices' });
    expect(page.done).toBe(true);
    expect(page.keep).toEqual(['disputed', 'salesRep', 'product', 'dealId', 'terms', 'reference']);
    expect(page.customers.map((c) => [c.id, c.name, c.domain, c.industry])).toEqual([
      [s.acme, 'Acme Corp', 'acme.example', 'COMPUTER_SOFTWARE'], [s.kaisha, 'Kaisha KK', 'kaisha.example', null],
    ]);
    const today = (fake.getObject(portal, 'invoices', s.voided)?.properties.hs_lastmodifieddate ?? '').slice(0, 10);
    expect(page.invoices.map((i) => [i.number, i.customerId, i.currency, i.totalMinor, i.status, i.sourceStatus, i.voidedDate, i.hubspotDealId])).toEqual([
      ['INV-1', s.acme, 'USD', 100_000, 'open', 'open', null, s.renewal],
      ['INV-2', s.acme, 'USD', 80_000, 'paid', 'paid', null, null],
      ['INV-3', s.kaisha, 'JPY', 150_000, 'open', 'open', null, null],
      ['INV-4', s.acme, 'USD', 30_000, 'void', 'voided', today, null],
    ]);
    expect(page.payments.map((p) => [p.id, p.amountMinor, p.allocations, p.removed])).toEqual([
      [`hs-paid:${s.open}:40000`, 40_000, [{ invoiceId: s.open, amountMinor: 40_000 }], false],
      [`hs-paid:${s.paid}:80000`, 80_000, [{ invoiceId: s.paid, amountMinor: 80_000 }], false],
    ]);
    expect(source.stats).toMatchObject({ read: 5, skippedDraft: 1, mode: 'list', requests: 4 });

    // From its cursor, the connector searches; what it has read comes back as already read, in an empty page.
    fake.clearRequests();
    const next = await connector().pull(page.cursor);
    expect(next).toMatchObject({ customers: [], invoices: [], payments: [], done: true });
    expect(fake.requests.map((r) => r.path)).toEqual(['/crm/v3/objects/invoices/search']);
    const [before, after] = [parseCursor(page.cursor), parseCursor(next.cursor)];
    expect(after.mode === 'search' && before.mode === 'search' && after.since >= before.since).toBe(true);
  });

  it('removes the derived payments the store holds above the amount paid, and all of them when the currency changed', async () => {
    const s = seed(fake, portal);
    const recorded = new Map<string, RecordedInvoice>([
      // INV-1 was seen paid 500, then 1000: HubSpot now says 400.
      [s.open, { currency: 'USD', paidCumulatives: [50_000, 100_000] }],
      // INV-3 was stored in EUR with a payment: its payments are amounts of that currency.
      [s.yen, { currency: 'EUR', paidCumulatives: [1_000] }],
    ]);
    const page: ChangePage = await connector(recorded).pull(null);
    const of = (invoiceId: string) => page.payments.filter((p) => p.id.startsWith(`hs-paid:${invoiceId}:`)).map((p) => [p.id.split(':')[2], p.removed, p.amountMinor]);
    expect(of(s.open)).toEqual([['50000', true, 50_000], ['100000', true, 100_000], ['40000', false, 40_000]]);
    expect(of(s.yen)).toEqual([['1000', true, 1_000]]);
    expect(checkPage(page)).toEqual(page);
  });
});

describeEachStore('HubSpot invoices synced by the engine', (backend) => {
  let store: Store;
  let fake: FakeHubSpot;
  let portal: number;
  const token = 'hubspot-engine-test';

  beforeAll(async () => {
    store = await openTestStore(backend);
  });
  afterAll(async () => store.close());
  beforeEach(async () => {
    fake = await startFakeHubSpot({ rateLimit: null, searchRateLimit: null });
    portal = nextPortal++;
    fake.addPortal(portal, { privateToken: token });
  });
  afterEach(async () => fake.close());

  const sync = (over: Partial<SyncHubSpotInvoicesOptions> = {}) =>
    syncHubSpotInvoices({ db: store.db, portalId: portal, token, basePath: fake.url, sleep: noSleep, ...over });
  const update = (id: string, properties: Record<string, string>) => hubspotClient(token, fake.url).crm.commerce.invoices.basicApi.update(id, { properties });
  const invoiceRow = (id: string) => store.db.selectFrom('invoices').select(['number', 'currency', 'voided_date', 'hubspot_deal_id', 'source_status'])
    .where('portal_id', '=', portal).where('source', '=', 'hubspot').where('external_id', '=', id).executeTakeFirstOrThrow();
  const settlements = async (id: string) => (await loadFacts(store.db, portal, { upTo: '2999-12-31' })).invoices.find((i) => i.id === id)?.settlements
    .map((x) => [x.id, x.amountMinor]);

  it('records each run in sync_runs, and keeps its cursor under hubspot/invoices', async () => {
    seed(fake, portal);
    await sync({ trigger: 'cli' });
    const runs = await store.db.selectFrom('sync_runs').select(['source', 'trigger', 'pages', 'customers', 'invoices', 'payments', 'finished_at', 'error'])
      .where('portal_id', '=', portal).execute();
    expect(runs).toEqual([{ source: 'hubspot', trigger: 'cli', pages: 1, customers: 2, invoices: 4, payments: 2, finished_at: expect.any(Date), error: null }]);
    const cursors = await store.db.selectFrom('sync_cursors').select(['source', 'stream']).where('portal_id', '=', portal).execute();
    expect(cursors).toEqual([{ source: 'hubspot', stream: 'invoices' }]);
    // HubSpot has no accounting connection to mark.
    expect(await store.db.selectFrom('accounting_connections').select('source').where('portal_id', '=', portal).execute()).toEqual([]);
  });

  it('goes on from cursors stored before the engine read HubSpot: mid-listing, and searching', async () => {
    const s = seed(fake, portal);
    const ordered = [s.open, s.paid, s.yen, s.voided, s.draft].sort((a, b) => Number(a) - Number(b));
    const listing = JSON.stringify({ mode: 'list', startedAt: Date.now(), after: ordered[2], seen: {} });
    await ensurePortal(store.db, portal);
    await store.db.insertInto('sync_cursors').values({ portal_id: portal, source: 'hubspot', stream: 'invoices', cursor: listing }).execute();
    fake.clearRequests();
    const resumed = await sync({ pageSize: 2 });
    expect(fake.requests[0]).toMatchObject({ path: '/crm/v3/objects/invoices', query: expect.objectContaining({ after: ordered[2] }) });
    expect(resumed).toMatchObject({ mode: 'list', read: 3 });

    const since = Date.parse('2024-01-01T00:00:00Z');
    await store.db.updateTable('sync_cursors').set({ cursor: JSON.stringify({ mode: 'search', since, seen: {} }) }).where('portal_id', '=', portal).execute();
    fake.clearRequests();
    const searched = await sync();
    const filter = (fake.requests[0]?.body as { filterGroups: Array<{ filters: Array<{ value: string }> }> }).filterGroups[0]?.filters[0];
    expect(filter?.value).toBe(String(since));
    expect(searched).toMatchObject({ mode: 'search', read: 5, invoicesInserted: 2 });
  });

  it('keeps the first void date of a voided invoice edited later, and clears it when the invoice is no longer void', async () => {
    const s = seed(fake, portal);
    await sync();
    // As if the void had been seen on an earlier day.
    await store.db.updateTable('invoices').set({ voided_date: '2024-03-05' }).where('portal_id', '=', portal).where('external_id', '=', s.voided).execute();
    await update(s.voided, { hs_number: 'INV-4b' });
    expect(await sync()).toMatchObject({ invoicesUpdated: 1 });
    expect(await invoiceRow(s.voided)).toMatchObject({ number: 'INV-4b', voided_date: '2024-03-05', source_status: 'voided' });
    await update(s.voided, { hs_invoice_status: 'open', hs_balance_due: '300' });
    await sync();
    expect(await invoiceRow(s.voided)).toMatchObject({ voided_date: null, source_status: 'open' });
  });

  it('moves an invoice to another currency with its derived payments', async () => {
    const s = seed(fake, portal);
    await sync();
    expect(await settlements(s.open)).toEqual([[`hs-paid:${s.open}:40000`, 40_000]]);
    await update(s.open, { hs_currency: 'EUR', hs_balance_due: '900' });
    expect(await sync()).toMatchObject({ invoicesUpdated: 1, paymentsRemoved: 1, paymentsAdded: 1 });
    expect(await invoiceRow(s.open)).toMatchObject({ currency: 'EUR' });
    expect(await settlements(s.open)).toEqual([[`hs-paid:${s.open}:10000`, 10_000]]);
  });

  it('counts an invoice whose HubSpot deal alone changed as updated', async () => {
    const s = seed(fake, portal);
    await sync();
    const expansion = fake.createObject(portal, 'deals', { dealname: 'Acme expansion' });
    fake.associate(portal, 'invoices', s.paid, 'deals', expansion);
    expect(await sync({ full: true })).toMatchObject({ invoicesUpdated: 1, invoicesUnchanged: 3, invoicesInserted: 0 });
    expect(await invoiceRow(s.paid)).toMatchObject({ hubspot_deal_id: expansion });
    expect(await sync({ full: true })).toMatchObject({ invoicesUpdated: 0, invoicesUnchanged: 4 });
  });
});
