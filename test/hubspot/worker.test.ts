import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { loadConfig } from '../../src/config';
import { createHubSpotAuth } from '../../src/hubspot/auth';
import { startWriteBackWorker } from '../../src/hubspot/worker';
import { createLogger } from '../../src/logger';
import { ensurePortal, upsertCustomers, upsertInvoices } from '../../src/store/facts';
import type { Store } from '../../src/store/store';
import { startFakeHubSpot, type FakeHubSpot } from '../fakes/hubspot';
import { describeEachStore, openTestStore } from '../helpers/stores';

const PORTAL = 7_300;
const TOKEN = 'worker-private-token';

describeEachStore('the scheduled HubSpot round', (backend) => {
  let store: Store;
  let fake: FakeHubSpot;

  beforeAll(async () => {
    store = await openTestStore(backend);
    fake = await startFakeHubSpot({ rateLimit: null, searchRateLimit: null });
    fake.addPortal(PORTAL, { privateToken: TOKEN });
  });
  afterAll(async () => {
    await fake.close();
    await store.close();
  });

  it('installs the properties, mirrors and matches, then writes only what changed', async () => {
    const config = loadConfig({ HUBSPOT_ACCESS_TOKEN: TOKEN, HUBSPOT_PORTAL_ID: String(PORTAL), HUBSPOT_API_BASE_URL: fake.url, LOG_LEVEL: 'silent' });
    const logger = createLogger(process.env.TEST_LOG ?? 'silent');
    await ensurePortal(store.db, PORTAL);
    await upsertCustomers(store.db, PORTAL, 'csv', [
      { id: 'A', name: 'Acme Ltd', domain: 'acme.example', industry: null, country: null },
      { id: 'B', name: 'Borealis GmbH', domain: null, industry: null, country: null },
      { id: 'C', name: 'Nobody Known', domain: null, industry: null, country: null },
    ]);
    await upsertInvoices(store.db, PORTAL, 'csv', ['A', 'B', 'C'].map((c, i) => ({
      id: `INV-${c}`, number: `INV-${c}`, customerId: c, currency: 'USD', totalMinor: 100_000 * (i + 1), issueDate: '2026-01-05',
      dueDate: '2026-02-04', voidedDate: null, disputed: false, salesRep: null, product: null, dealId: null, terms: null,
    })));
    const acme = fake.createObject(PORTAL, 'companies', { name: 'ACME', domain: 'https://www.acme.example/' });
    const borealis = fake.createObject(PORTAL, 'companies', { name: 'Borealis' });

    const auth = createHubSpotAuth({ db: store.db, config, key: Buffer.alloc(32, 1), logger });
    const worker = startWriteBackWorker({ db: store.db, auth, config, logger, today: () => '2026-03-01', intervalMs: 0 });
    await worker.runOnce();

    expect(fake.properties(PORTAL, 'companies').some((p) => p.name === 'arbridge_outstanding')).toBe(true);
    const links = await store.db.selectFrom('company_links').select(['company_id', 'method']).orderBy('company_id').execute();
    expect(links).toEqual([{ company_id: acme, method: 'domain' }, { company_id: borealis, method: 'name' }]);
    expect(fake.getObject(PORTAL, 'companies', acme)?.properties).toMatchObject({ arbridge_outstanding: '1000.00', arbridge_overdue: '1000.00', arbridge_currency: 'USD' });
    expect(fake.getObject(PORTAL, 'companies', borealis)?.properties.arbridge_outstanding).toBe('2000.00');

    fake.clearRequests();
    await worker.runOnce();
    expect(fake.requests.filter((r) => r.path.endsWith('/batch/update'))).toHaveLength(0);
    expect(fake.requests.filter((r) => r.path.includes('/properties/')).every((r) => r.method === 'GET')).toBe(true);

    // Calls during a round queue exactly one more round.
    fake.clearRequests();
    await Promise.all([worker.runOnce(), worker.runOnce(), worker.runOnce()]);
    expect(fake.requests.filter((r) => r.method === 'POST' && r.path === '/crm/v3/objects/companies/search')).toHaveLength(2);
    await worker.stop();
  });
});
