import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { DEFAULT_POLICY } from '../../src/domain/policy';
import { buildReports, toReportMetrics } from '../../src/domain/report';
import { loadDemo } from '../../src/services/demo';
import { importInvoicesCsv, importPaymentsCsv } from '../../src/services/import';
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
    // One customer invoiced in two currencies, with a void, a dispute, a credit note and a write-off.
    await importInvoicesCsv(store.db, 1, [
      'invoice_id,customer_id,issue_date,due_date,currency,amount,voided_date,disputed',
      'MX-1,MIXED,2025-01-10,2025-02-09,USD,1200.50,,no',
      'MX-2,MIXED,2025-02-01,2025-03-03,JPY,150000,,yes',
      'MX-3,MIXED,2025-03-01,2025-03-31,USD,99.99,2025-03-05,no',
      'MX-4,MIXED,2025-06-01,2025-07-01,JPY,20000,,no',
    ].join('\n'));
    await importPaymentsCsv(store.db, 1, [
      'payment_id,invoice_id,date,amount,kind',
      'MP-1,MX-1,2025-03-20,1000.00,payment',
      'MP-2,MX-1,2025-04-02,200.50,credit_note',
      'MP-3,MX-2,2025-05-05,50000,payment',
      'MP-4,MX-4,2025-12-01,20000,write_off',
    ].join('\n'));
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
    if (asOf >= '2025-06-01') expect(rollups.filter((r) => r.customerId === 'MIXED').map((r) => r.currency)).toEqual(['JPY', 'USD']);
  });
});
