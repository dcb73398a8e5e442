import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import type { CustomerFact } from '../../src/domain/types';
import { listMigrations } from '../../src/store/database';
import { ensurePortal, loadFacts, upsertCustomers, upsertInvoices, upsertPayments, type InvoiceRecord, type PaymentRecord } from '../../src/store/facts';
import type { Store } from '../../src/store/store';
import { describeEachStore, openTestStore } from '../helpers/stores';

const customer = (id: string, name: string): CustomerFact => ({ id, name, domain: null, industry: 'Retail', country: 'US' });
const invoice = (id: string, customerId: string, over: Partial<InvoiceRecord> = {}): InvoiceRecord => ({
  id, number: id, customerId, currency: 'USD', totalMinor: 10_000, issueDate: '2024-01-10', dueDate: '2024-02-09',
  voidedDate: null, disputed: false, salesRep: 'Ana', product: 'Widgets', dealId: null, terms: 'Net 30', ...over,
});
const payment = (id: string, invoiceId: string, date: string, amountMinor: number): PaymentRecord => ({
  id, kind: 'payment', date, currency: 'USD', amountMinor, allocations: [{ invoiceId, amountMinor }],
});

describeEachStore('store facts', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await openTestStore(backend);
    await ensurePortal(store.db, 1);
    await ensurePortal(store.db, 2);
  });
  afterAll(async () => store.close());

  it('hands dates over as ISO text', async () => {
    const result = await sql<{ day: string }>`SELECT ${'2024-02-29'}::date AS day`.execute(store.db);
    expect(result.rows).toEqual([{ day: '2024-02-29' }]);
    const style = await sql<{ DateStyle: string }>`SHOW DateStyle`.execute(store.db);
    expect(Object.values(style.rows[0] ?? {})[0]).toMatch(/^ISO/);
  });

  it('records every migration once and applies nothing on a second run', async () => {
    const versions = (await store.db.selectFrom('schema_migrations').select('version').orderBy('version').execute()).map((r) => r.version);
    expect(versions).toEqual(listMigrations().map((m) => m.version));
    expect(await store.migrate()).toEqual([]);
  });

  it('inserts, then updates only what changed, then writes nothing for the same data', async () => {
    expect(await upsertCustomers(store.db, 1, 'csv', [customer('C1', 'Acme'), customer('C2', 'Globex')]))
      .toEqual({ inserted: 2, updated: 0, unchanged: 0 });
    expect(await upsertCustomers(store.db, 1, 'csv', [customer('C1', 'Acme Corp'), customer('C2', 'Globex')]))
      .toEqual({ inserted: 0, updated: 1, unchanged: 1 });
    const invoices = [invoice('I1', 'C1'), invoice('I2', 'C1', { totalMinor: 5_000 }), invoice('I3', 'C2')];
    expect(await upsertInvoices(store.db, 1, 'csv', invoices)).toEqual({ inserted: 3, updated: 0, unchanged: 0 });
    expect(await upsertInvoices(store.db, 1, 'csv', invoices)).toEqual({ inserted: 0, updated: 0, unchanged: 3 });
    expect(await upsertInvoices(store.db, 1, 'csv', [invoice('I1', 'C1', { disputed: true })]))
      .toEqual({ inserted: 0, updated: 1, unchanged: 0 });
    const payments = [payment('P1', 'I1', '2024-02-01', 4_000), payment('P2', 'I1', '2024-03-01', 6_000)];
    expect(await upsertPayments(store.db, 1, 'csv', payments)).toEqual({ inserted: 2, updated: 0, unchanged: 0 });
    expect(await upsertPayments(store.db, 1, 'csv', payments)).toEqual({ inserted: 0, updated: 0, unchanged: 2 });
    // Moving a payment to another invoice replaces its allocation.
    expect(await upsertPayments(store.db, 1, 'csv', [payment('P2', 'I2', '2024-03-01', 6_000)]))
      .toEqual({ inserted: 0, updated: 1, unchanged: 0 });
    const allocations = await store.db.selectFrom('payment_allocations as a').innerJoin('invoices as i', 'i.id', 'a.invoice_id')
      .innerJoin('payments as p', 'p.id', 'a.payment_id').select(['p.external_id as payment', 'i.external_id as invoice'])
      .where('p.external_id', '=', 'P2').execute();
    expect(allocations).toEqual([{ payment: 'P2', invoice: 'I2' }]);
  });

  it('loads facts as of a date: later invoices and settlements are invisible', async () => {
    await upsertInvoices(store.db, 1, 'csv', [invoice('I4', 'C2', { issueDate: '2024-05-01', dueDate: '2024-05-31' })]);
    const early = await loadFacts(store.db, 1, { upTo: '2024-02-15' });
    expect(early.invoices.map((i) => i.id).sort()).toEqual(['I1', 'I2', 'I3']);
    const i1 = early.invoices.find((i) => i.id === 'I1');
    expect(i1?.settlements).toEqual([{ id: 'P1', date: '2024-02-01', amountMinor: 4_000, kind: 'payment' }]);
    expect(i1?.disputed).toBe(true);
    expect(i1?.totalMinor).toBe(10_000);
    expect(typeof i1?.totalMinor).toBe('number');
    expect(i1?.dueDate).toBe('2024-02-09');
    const late = await loadFacts(store.db, 1, { upTo: '2024-12-31' });
    expect(late.invoices).toHaveLength(4);
    expect(late.invoices.find((i) => i.id === 'I2')?.settlements.map((s) => s.id)).toEqual(['P2']);
    const one = await loadFacts(store.db, 1, { upTo: '2024-12-31', customerId: 'C2' });
    expect(one.customers.map((c) => c.id)).toEqual(['C2']);
    expect(one.invoices.map((i) => i.id)).toEqual(['I3', 'I4']);
  });

  it('keeps settlements with their invoice when it moves customer, and with their payment when it is redated', async () => {
    await upsertInvoices(store.db, 1, 'csv', [invoice('I2', 'C2', { totalMinor: 5_000 })]);
    const moved = await loadFacts(store.db, 1, { upTo: '2024-12-31', customerId: 'C2' });
    expect(moved.invoices.find((i) => i.id === 'I2')?.settlements.map((x) => [x.id, x.date])).toEqual([['P2', '2024-03-01']]);
    expect((await loadFacts(store.db, 1, { upTo: '2024-12-31', customerId: 'C1' })).invoices.map((i) => i.id)).toEqual(['I1']);
    expect(await upsertPayments(store.db, 1, 'csv', [{ ...payment('P2', 'I2', '2024-03-05', 6_000), kind: 'credit_note' }]))
      .toEqual({ inserted: 0, updated: 1, unchanged: 0 });
    const redated = await loadFacts(store.db, 1, { upTo: '2024-03-04', customerId: 'C2' });
    expect(redated.invoices.find((i) => i.id === 'I2')?.settlements).toEqual([]);
    const later = await loadFacts(store.db, 1, { upTo: '2024-03-05', customerId: 'C2' });
    expect(later.invoices.find((i) => i.id === 'I2')?.settlements).toEqual([{ id: 'P2', date: '2024-03-05', amountMinor: 6_000, kind: 'credit_note' }]);
    // Back as it was, for the tests below.
    await upsertInvoices(store.db, 1, 'csv', [invoice('I2', 'C1', { totalMinor: 5_000 })]);
    await upsertPayments(store.db, 1, 'csv', [payment('P2', 'I2', '2024-03-01', 6_000)]);
  });

  it('keeps portals apart: the same external ids in another portal are other rows', async () => {
    await upsertCustomers(store.db, 2, 'csv', [customer('C1', 'Other portal')]);
    await upsertInvoices(store.db, 2, 'csv', [invoice('I1', 'C1', { totalMinor: 1 })]);
    const portal2 = await loadFacts(store.db, 2, { upTo: '2024-12-31' });
    expect(portal2.customers).toEqual([customer('C1', 'Other portal')]);
    expect(portal2.invoices.map((i) => [i.id, i.totalMinor])).toEqual([['I1', 1]]);
    const portal1 = await loadFacts(store.db, 1, { upTo: '2024-12-31' });
    expect(portal1.invoices.find((i) => i.id === 'I1')?.totalMinor).toBe(10_000);
  });

  it('loads one customer by its store id, apart from customers of other sources with the same external id', async () => {
    await ensurePortal(store.db, 3);
    await upsertCustomers(store.db, 3, 'hubspot', [customer('1001', 'From HubSpot')]);
    await upsertCustomers(store.db, 3, 'csv', [customer('1001', 'From the ledger')]);
    await upsertInvoices(store.db, 3, 'hubspot', [invoice('H1', '1001', { totalMinor: 70_000 })]);
    await upsertInvoices(store.db, 3, 'csv', [invoice('L1', '1001'), invoice('L2', '1001', { totalMinor: 2_500 })]);
    await upsertPayments(store.db, 3, 'hubspot', [payment('HP1', 'H1', '2024-02-01', 70_000)]);
    await upsertPayments(store.db, 3, 'csv', [payment('LP1', 'L1', '2024-02-02', 3_000)]);
    const rowIds = await store.db.selectFrom('customers').select(['id', 'source'])
      .where('portal_id', '=', 3).where('external_id', '=', '1001').execute();
    const rowOf = (source: string): number => rowIds.find((r) => r.source === source)?.id as number;
    const ledger = await loadFacts(store.db, 3, { upTo: '2024-12-31', customerRowId: rowOf('csv') });
    expect(ledger.customers).toEqual([customer('1001', 'From the ledger')]);
    expect(ledger.invoices.map((i) => [i.id, i.totalMinor, i.settlements.map((x) => x.id)])).toEqual([['L1', 10_000, ['LP1']], ['L2', 2_500, []]]);
    const hubspot = await loadFacts(store.db, 3, { upTo: '2024-12-31', customerRowId: rowOf('hubspot') });
    expect(hubspot.customers.map((c) => c.name)).toEqual(['From HubSpot']);
    expect(hubspot.invoices.map((i) => [i.id, i.settlements.map((x) => x.id)])).toEqual([['H1', ['HP1']]]);
    // By external id, every source's customer comes (that filter does not tell them apart).
    const both = await loadFacts(store.db, 3, { upTo: '2024-12-31', customerId: '1001' });
    expect(both.customers.map((c) => c.name)).toEqual(['From HubSpot', 'From the ledger']);
    expect(both.invoices.map((i) => i.id).sort()).toEqual(['H1', 'L1', 'L2']);
    // Both filters together: the row must also carry the external id; a row of another portal gives nothing.
    expect((await loadFacts(store.db, 3, { upTo: '2024-12-31', customerId: '1001', customerRowId: rowOf('csv') })).invoices).toHaveLength(2);
    expect((await loadFacts(store.db, 3, { upTo: '2024-12-31', customerId: 'C1', customerRowId: rowOf('csv') })).customers).toEqual([]);
    expect(await loadFacts(store.db, 1, { upTo: '2024-12-31', customerRowId: rowOf('csv') })).toEqual({ customers: [], invoices: [] });
  });

  it('enforces the schema: unique keys per portal and source, positive amounts, currency codes', async () => {
    await expect(sql`INSERT INTO payments (portal_id, source, external_id, kind, payment_date, currency, amount_minor)
      VALUES (1, 'csv', 'bad', 'payment', '2024-01-01', 'USD', 0)`.execute(store.db)).rejects.toThrow();
    await expect(sql`INSERT INTO customers (portal_id, source, external_id) VALUES (1, 'csv', 'C1')`.execute(store.db)).rejects.toThrow();
    await expect(upsertInvoices(store.db, 1, 'csv', [invoice('I9', 'C1', { currency: 'usd' })])).rejects.toThrow();
    await expect(upsertCustomers(store.db, 1, 'csv', [customer('C\tTAB', 'Tab')])).rejects.toThrow(/check constraint/);
    // I1 has a payment in USD: it cannot become a EUR invoice; I3 (no payments) can.
    await expect(upsertInvoices(store.db, 1, 'csv', [invoice('I1', 'C1', { currency: 'EUR', disputed: true })]))
      .rejects.toThrow('Invoice I1 has settlements in USD; it cannot change currency to EUR');
    expect(await upsertInvoices(store.db, 1, 'csv', [invoice('I3', 'C2', { currency: 'EUR' })])).toEqual({ inserted: 0, updated: 1, unchanged: 0 });
  });
});

describe('store transactions', () => {
  it('rolls back everything written inside a failed transaction (PGlite)', async () => {
    const { BACKENDS } = await import('../helpers/stores');
    const store = await openTestStore(BACKENDS[0]!);
    try {
      await ensurePortal(store.db, 7);
      await expect(store.db.transaction().execute(async (trx) => {
        await upsertCustomers(trx, 7, 'csv', [customer('C1', 'Acme')]);
        await upsertInvoices(trx, 7, 'csv', [invoice('I1', 'MISSING')]);
      })).rejects.toThrow(/customer MISSING/);
      expect((await loadFacts(store.db, 7, { upTo: '2030-01-01' })).customers).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
