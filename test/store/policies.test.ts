import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { DEFAULT_POLICY, parsePolicy } from '../../src/domain/policy';
import { importInvoicesCsv } from '../../src/services/import';
import { portfolioReports } from '../../src/services/reports';
import { ensurePortal } from '../../src/store/facts';
import { loadPolicy, savePolicy } from '../../src/store/policies';
import type { Store } from '../../src/store/store';
import { describeEachStore, openTestStore } from '../helpers/stores';

describeEachStore('portal policies', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await openTestStore(backend);
    await ensurePortal(store.db, 1);
    await ensurePortal(store.db, 2);
    await importInvoicesCsv(store.db, 1, 'invoice_id,customer_id,issue_date,due_date,amount,currency\nA,C,2024-01-01,2024-01-31,100,USD\nB,C,2024-03-01,2024-03-31,50,USD');
  });
  afterAll(async () => store.close());

  it('defaults to the documented policy, stores one per portal, and reports follow it', async () => {
    expect(await loadPolicy(store.db, 1)).toEqual(DEFAULT_POLICY);
    const custom = parsePolicy({ aging: { boundaries: [45, 90] }, dsoMonths: 6 });
    await savePolicy(store.db, 1, custom);
    expect(await loadPolicy(store.db, 1)).toEqual(custom);
    expect(await loadPolicy(store.db, 2)).toEqual(DEFAULT_POLICY);
    const [report] = await portfolioReports(store.db, 1, { asOf: '2024-04-15', by: 'customer' });
    // A is 75 days past due, B 15: with limits 45 and 90 they fall in 46-90 and 1-45.
    expect(report?.portfolio.aging).toEqual([
      { bucket: 'current', amount: '0.00', count: 0 },
      { bucket: '1-45', amount: '50.00', count: 1 },
      { bucket: '46-90', amount: '100.00', count: 1 },
      { bucket: '91+', amount: '0.00', count: 0 },
    ]);
    // Per-request options override the stored policy.
    const [overridden] = await portfolioReports(store.db, 1, { asOf: '2024-04-15', by: 'customer', aging: [30] });
    expect(overridden?.portfolio.aging.map((b) => b.bucket)).toEqual(['current', '1-30', '31+']);
    await savePolicy(store.db, 1, DEFAULT_POLICY);
    expect(await loadPolicy(store.db, 1)).toEqual(DEFAULT_POLICY);
  });
});
