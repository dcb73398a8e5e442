import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { CustomerFact } from '../../src/domain/types';
import { loadDemo } from '../../src/services/demo';
import {
  ensurePortal, idsByExternalId, loadCustomerFacts, loadFacts, upsertCustomers, upsertInvoices, upsertPayments,
  type InvoiceRecord, type PaymentRecord,
} from '../../src/store/facts';
import type { Store } from '../../src/store/store';
import { describeEachStore, openTestStore } from '../helpers/stores';

const PORTAL = 31;
const OTHER_PORTAL = 32;

const customer = (id: string, over: Partial<CustomerFact> = {}): CustomerFact => ({ id, name: id, domain: null, industry: null, country: null, ...over });
const invoice = (id: string, customerId: string, over: Partial<InvoiceRecord> = {}): InvoiceRecord => ({
  id, number: null, customerId, currency: 'USD', totalMinor: 10_000, issueDate: '2025-01-10', dueDate: '2025-02-09',
  voidedDate: null, disputed: false, salesRep: null, product: null, dealId: null, terms: null, ...over,
});
const settlement = (id: string, kind: PaymentRecord['kind'], date: string, currency: string, allocations: [string, number][]): PaymentRecord => ({
  id, kind, date, currency, amountMinor: allocations.reduce((sum, [, amount]) => sum + amount, 0),
  allocations: allocations.map(([invoiceId, amountMinor]) => ({ invoiceId, amountMinor })),
});

describeEachStore('one customer\'s facts', (backend) => {
  let store: Store;
  let ids: Map<string, number>;

  beforeAll(async () => {
    store = await openTestStore(backend);
    const db = store.db;
    for (const portal of [PORTAL, OTHER_PORTAL]) await ensurePortal(db, portal);
    await upsertCustomers(db, PORTAL, 'csv', [
      customer('C-1', { name: 'Zoë "Q" Ltd, \\ 東京', domain: 'zoe.example', industry: 'Retail', country: 'JP' }),
      customer('C-2'), customer('C-3'),
    ]);
    await upsertCustomers(db, OTHER_PORTAL, 'csv', [customer('C-1')]);
    await upsertInvoices(db, PORTAL, 'csv', [
      // Text that JSON must escape, both currencies, a void, a dispute, an invoice issued after the as-of dates below.
      invoice('I-3', 'C-1', { number: 'N° "3"\t\\', issueDate: '2025-01-05', salesRep: 'Ana\nMaría', product: 'Widgets, large', dealId: '9001', terms: 'Net 30' }),
      invoice('I-1', 'C-1', { currency: 'EUR', totalMinor: 12_345, issueDate: '2025-01-05', disputed: true }),
      invoice('I-2', 'C-1', { issueDate: '2025-02-01', dueDate: '2025-03-03', voidedDate: '2025-02-10' }),
      invoice('I-4', 'C-1', { issueDate: '2025-06-01', dueDate: '2025-07-01' }),
      invoice('I-9', 'C-2', { issueDate: '2025-01-01' }),
    ]);
    await upsertInvoices(db, OTHER_PORTAL, 'csv', [invoice('I-1', 'C-1')]);
    await upsertPayments(db, PORTAL, 'csv', [
      settlement('P-b', 'payment', '2025-02-01', 'USD', [['I-3', 4_000]]),
      settlement('P-a', 'payment', '2025-02-01', 'USD', [['I-3', 1_000]]),
      settlement('P-c', 'credit_note', '2025-01-20', 'EUR', [['I-1', 345]]),
      settlement('P-d', 'write_off', '2025-03-15', 'EUR', [['I-1', 12_000]]),
      settlement('P-e', 'payment', '2025-06-20', 'USD', [['I-4', 10_000], ['I-3', 5_000]]),
      settlement('P-z', 'payment', '2025-01-15', 'USD', [['I-9', 10_000]]),
    ]);
    await upsertPayments(db, OTHER_PORTAL, 'csv', [settlement('P-a', 'payment', '2025-02-01', 'USD', [['I-1', 1_000]])]);
    // A customer of another source with the same external id, and a larger generated one.
    await loadDemo(db, PORTAL, { customers: 3, invoices: 120, seed: 11, endDate: '2025-06-30' });
    ids = await idsByExternalId(db, 'customers', PORTAL, 'csv', ['C-1', 'C-2', 'C-3']);
  });
  afterAll(async () => store.close());

  it('are what loadFacts gives for that customer, in the same order, whatever the as-of date', async () => {
    const demo = await store.db.selectFrom('customers').select('id').where('portal_id', '=', PORTAL).where('source', '=', 'demo').execute();
    const rowIds = [...ids.values(), ...demo.map((c) => c.id)];
    for (const rowId of rowIds) {
      for (const upTo of ['2024-12-31', '2025-01-05', '2025-02-01', '2025-03-31', '2025-12-31']) {
        const expected = await loadFacts(store.db, PORTAL, { upTo, customerRowId: rowId });
        expect({ rowId, upTo, facts: await loadCustomerFacts(store.db, PORTAL, rowId, upTo) }).toEqual({ rowId, upTo, facts: expected });
      }
    }
  });

  it('reads text, dates, money and flags back as stored', async () => {
    const facts = await loadCustomerFacts(store.db, PORTAL, ids.get('C-1')!, '2025-03-31');
    expect(facts.customers).toEqual([customer('C-1', { name: 'Zoë "Q" Ltd, \\ 東京', domain: 'zoe.example', industry: 'Retail', country: 'JP' })]);
    expect(facts.invoices.map((i) => i.id)).toEqual(['I-3', 'I-1', 'I-2']); // by issue date, then store id (I-3 was stored first)
    const [usd, eur] = facts.invoices;
    expect(usd).toEqual({
      ...invoice('I-3', 'C-1', { number: 'N° "3"\t\\', issueDate: '2025-01-05', salesRep: 'Ana\nMaría', product: 'Widgets, large', dealId: '9001', terms: 'Net 30' }),
      settlements: [{ id: 'P-a', date: '2025-02-01', amountMinor: 1_000, kind: 'payment' }, { id: 'P-b', date: '2025-02-01', amountMinor: 4_000, kind: 'payment' }],
    });
    expect(eur).toMatchObject({ currency: 'EUR', totalMinor: 12_345, disputed: true, settlements: [
      { id: 'P-c', date: '2025-01-20', amountMinor: 345, kind: 'credit_note' }, { id: 'P-d', date: '2025-03-15', amountMinor: 12_000, kind: 'write_off' },
    ] });
    expect(facts.invoices[2]).toMatchObject({ voidedDate: '2025-02-10', settlements: [] });
  });

  it('is empty for a customer without invoices, and for one of another portal', async () => {
    expect(await loadCustomerFacts(store.db, PORTAL, ids.get('C-3')!, '2025-12-31')).toEqual({ customers: [customer('C-3')], invoices: [] });
    const foreign = (await idsByExternalId(store.db, 'customers', OTHER_PORTAL, 'csv', ['C-1'])).get('C-1')!;
    expect(await loadCustomerFacts(store.db, PORTAL, foreign, '2025-12-31')).toEqual({ customers: [], invoices: [] });
  });
});
