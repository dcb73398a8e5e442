import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { createQuickBooksConnector } from '../../src/connectors/quickbooks';
import { currencyExponent } from '../../src/domain/money';
import type { Store } from '../../src/store/store';
import { syncSource } from '../../src/sync/engine';
import { startFakeQuickBooksApi, type FakeQuickBooksApi, type QboObject } from '../fakes/quickbooks';
import { describeEachStore, openTestStore } from '../helpers/stores';

// QuickBooks pages applied to a real store by the sync engine: after a full and then an incremental sync the
// store holds what the company holds, customer by customer and invoice by invoice.

const REALM = '9130357766900456';
const PORTAL = 7001;

const minor = (amount: unknown, currency: string): number => Math.round(Number(amount) * 10 ** currencyExponent(currency));
const currencyOf = (object: QboObject): string => (object.CurrencyRef as { value: string }).value;

/** Per customer: invoice count and total; per invoice: what has been settled (total less balance). */
const sourceState = (fake: FakeQuickBooksApi) => {
  const company = fake.company(REALM);
  const customers = new Map<string, { invoices: number; totalMinor: number }>();
  for (const customer of company.all('Customer')) customers.set(customer.Id, { invoices: 0, totalMinor: 0 });
  const settled = new Map<string, number>();
  for (const invoice of company.all('Invoice')) {
    const currency = currencyOf(invoice);
    const customer = customers.get((invoice.CustomerRef as { value: string }).value) as { invoices: number; totalMinor: number };
    customer.invoices += 1;
    customer.totalMinor += minor(invoice.TotalAmt, currency);
    settled.set(invoice.Id, minor(invoice.TotalAmt, currency) - minor(invoice.Balance, currency));
  }
  return { customers, settled };
};

const storeState = async (store: Store) => {
  const customers = await sql<{ id: string; invoices: string | number; total: string | number }>`
    SELECT c.external_id AS id, count(i.id) AS invoices, coalesce(sum(i.total_minor), 0) AS total
    FROM customers c LEFT JOIN invoices i ON i.customer_id = c.id
    WHERE c.portal_id = ${PORTAL} AND c.source = 'quickbooks' GROUP BY c.external_id`.execute(store.db);
  const settled = await sql<{ id: string; settled: string | number }>`
    SELECT i.external_id AS id, coalesce(sum(a.amount_minor), 0) AS settled
    FROM invoices i LEFT JOIN payment_allocations a ON a.invoice_id = i.id
    WHERE i.portal_id = ${PORTAL} AND i.source = 'quickbooks' GROUP BY i.external_id`.execute(store.db);
  return {
    customers: new Map(customers.rows.map((r) => [r.id, { invoices: Number(r.invoices), totalMinor: Number(r.total) }])),
    settled: new Map(settled.rows.map((r) => [r.id, Number(r.settled)])),
  };
};

const paymentRows = async (store: Store): Promise<Array<{ external_id: string; kind: string }>> =>
  (await sql<{ external_id: string; kind: string }>`
    SELECT external_id, kind FROM payments WHERE portal_id = ${PORTAL} AND source = 'quickbooks' ORDER BY external_id`.execute(store.db)).rows;

describeEachStore('QuickBooks synced into the store', (backend) => {
  let store: Store;
  let fake: FakeQuickBooksApi;

  beforeAll(async () => {
    store = await openTestStore(backend);
  });

  afterAll(async () => {
    await store.close();
  });

  beforeEach(async () => {
    fake = await startFakeQuickBooksApi({ companies: [{ realmId: REALM }] });
    await sql`DELETE FROM portals WHERE portal_id = ${PORTAL}`.execute(store.db);
  });

  afterEach(async () => {
    await fake.close();
  });

  it('holds what the company holds after a full sync and after an incremental one', async () => {
    fake.generate(REALM, { seed: 11, invoices: 400, customers: 25, currencies: ['USD', 'EUR', 'JPY'] });
    const token = fake.token(REALM);
    const connector = createQuickBooksConnector({ apiUrl: fake.url, tenantId: REALM, credentials: async () => token, pageSize: 50 });

    const full = await syncSource(store.db, PORTAL, connector, { trigger: 'test' });
    expect(full.done).toBe(true);
    expect(full.pages).toBeGreaterThan(10);
    expect(await storeState(store)).toEqual(sourceState(fake));
    const company = fake.company(REALM);
    const creditOnly = company.all('Payment').filter((p) => p.TotalAmt === 0);
    expect(creditOnly.length).toBeGreaterThan(0);
    const expectedPayments = company.all('Payment').filter((p) => (p.TotalAmt as number) > 0).length + creditOnly.length;
    const rows = await paymentRows(store);
    expect(rows).toHaveLength(expectedPayments);
    expect(rows.filter((r) => r.kind === 'credit_note').map((r) => r.external_id).sort()).toEqual(creditOnly.map((p) => `${p.Id}:credit`).sort());

    // Changes in the company: a payment, a void, a deletion, a credit memo applied, a payment deleted.
    const open = company.all('Invoice').filter((i) => (i.Balance as number) > 0 && i.Balance === i.TotalAmt);
    const [a, b, c, d] = open as [QboObject, QboObject, QboObject, QboObject];
    fake.create(REALM, 'Payment', { CustomerRef: (a.CustomerRef as { value: string }).value, TxnDate: '2026-11-20', Line: [{ Amount: a.Balance as number, LinkedTxn: [{ TxnId: a.Id, TxnType: 'Invoice' }] }] });
    fake.voidInvoice(REALM, b.Id);
    fake.delete(REALM, 'Invoice', c.Id);
    const memo = fake.create(REALM, 'CreditMemo', { CustomerRef: (d.CustomerRef as { value: string }).value, TxnDate: '2026-11-21', Line: [{ Amount: 1 }], CurrencyRef: currencyOf(d) });
    fake.create(REALM, 'Payment', { CustomerRef: (d.CustomerRef as { value: string }).value, TxnDate: '2026-11-21', TotalAmt: 0, Line: [
      { Amount: 1, LinkedTxn: [{ TxnId: d.Id, TxnType: 'Invoice' }] }, { Amount: 1, LinkedTxn: [{ TxnId: memo.Id, TxnType: 'CreditMemo' }] },
    ] });
    const paid = company.all('Payment').find((p) => (p.TotalAmt as number) > 0 && (p.Line as unknown[]).length === 1) as QboObject;
    fake.delete(REALM, 'Payment', paid.Id);

    const incremental = await syncSource(store.db, PORTAL, connector, { trigger: 'test' });
    expect(incremental.pages).toBe(1);
    expect(incremental).toMatchObject({ invoicesRemoved: 1, done: true });
    const after = await storeState(store);
    expect(after).toEqual(sourceState(fake));
    expect(after.settled.has(c.Id)).toBe(false);
    expect((await paymentRows(store)).map((r) => r.external_id)).not.toContain(paid.Id);

    // Nothing changed since: a sync reads nothing and writes nothing.
    const quiet = await syncSource(store.db, PORTAL, connector, { trigger: 'test' });
    expect(quiet).toMatchObject({ pages: 1, customers: 0, invoices: 0, payments: 0 });
  });
});
