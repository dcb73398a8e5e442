import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { DEFAULT_POLICY } from '../../src/domain/policy';
import { buildReports, toReportMetrics } from '../../src/domain/report';
import { loadDemo } from '../../src/services/demo';
import { recomputeCustomers, type CustomerRollup } from '../../src/services/recompute';
import { ensurePortal, loadFacts, upsertCustomers } from '../../src/store/facts';
import type { Store } from '../../src/store/store';
import { describeEachStore, openTestStore } from '../helpers/stores';

describeEachStore('recomputing every customer', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await openTestStore(backend);
    await loadDemo(store.db, 1, { customers: 60, invoices: 1_500, seed: 11, endDate: '2025-12-31' });
    // A customer without invoices, and another portal's data, must not show up.
    await ensurePortal(store.db, 1);
    await upsertCustomers(store.db, 1, 'csv', [{ id: 'EMPTY', name: 'No invoices', domain: null, industry: null, country: null }]);
    await loadDemo(store.db, 2, { customers: 5, invoices: 50, seed: 3, endDate: '2025-12-31' });
  });
  afterAll(async () => store.close());

  it.each(['2025-12-31', '2025-03-15', '2024-06-30'])('matches the per-customer report as of %s, in small batches too', async (asOf) => {
    const facts = await loadFacts(store.db, 1, { upTo: asOf });
    const reports = buildReports({ invoices: facts.invoices, customers: facts.customers, asOf, policy: DEFAULT_POLICY, by: 'customer' });
    const expected = reports.flatMap((r) => r.groups.map((g) => ({ key: `${g.key}/${r.currency}`, metrics: g.metrics, risk: g.risk })))
      .sort((a, b) => a.key.localeCompare(b.key));
    expect(expected.length).toBeGreaterThan(40);
    const rollups: CustomerRollup[] = [];
    let batches = 0;
    const result = await recomputeCustomers(store.db, 1, asOf, DEFAULT_POLICY, (batch) => { batches += 1; rollups.push(...batch); }, { customersPerBatch: 7 });
    expect(batches).toBeGreaterThanOrEqual(9);
    const actual = rollups.map((r) => ({ key: `${r.customerId}/${r.currency}`, metrics: toReportMetrics(r.metrics, r.currency), risk: r.risk }))
      .sort((a, b) => a.key.localeCompare(b.key));
    expect(actual).toEqual(expected);
    expect(result.rollups).toBe(expected.length);
    expect(rollups.some((r) => r.customerId === 'EMPTY')).toBe(false);
  });
});
