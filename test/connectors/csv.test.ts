import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createCsvConnector, csvPage } from '../../src/connectors/csv';
import { parseInvoicesCsv, parsePaymentsCsv } from '../../src/import/csv-parse';
import { importInvoicesCsv, importPaymentsCsv } from '../../src/services/import';
import { invoiceCurrencies, loadFacts } from '../../src/store/facts';
import type { Store } from '../../src/store/store';
import { syncSource } from '../../src/sync/engine';
import { checkPage } from '../../src/sync/page';
import { describeEachStore, openTestStore } from '../helpers/stores';

const INVOICES = [
  'invoice_id,invoice_number,customer_id,customer_name,customer_domain,industry,country,issue_date,due_date,currency,amount,voided_date,disputed,sales_rep,product,deal_id,terms,reference,paid_date',
  'INV-1,1001,C1,Acme Corp,acme.example,Software,US,2024-01-05,2024-02-04,USD,1200.50,,no,Ana,Widgets,D-7,Net 30,PO-9,2024-02-01',
  'INV-2,1002,C1,,,,,2024-01-20,2024-02-19,USD,300,,yes,Ana,,,,,',
  'INV-3,1003,C2,Kaisha KK,kaisha.example,,JP,2024-02-01,2024-03-02,JPY,150000,2024-02-10,no,Ben,Gadgets,,Net 30,,',
  'INV-4,1004,C2,,,,,2024-02-01,2024-03-02,USD,500,,,Ben,Gadgets,,Net 30,,',
].join('\n');

const PAYMENTS = [
  'payment_id,invoice_id,date,amount,kind',
  'P-1,INV-2,2024-02-10,100,payment',
  'P-2,INV-2,2024-02-20,50,credit_note',
  'P-3,INV-3,2024-03-01,1000,payment',
  'P-4,INV-2,2024-02-25,25,payment',
  'P-4,INV-4,2024-02-25,500,payment',
].join('\n');

describe('CSV files as a source', () => {
  it('reads an invoices file into one canonical page the engine accepts whole', () => {
    const page = csvPage({ kind: 'invoices', parsed: parseInvoicesCsv(INVOICES) });
    expect(checkPage(page)).toEqual(page);
    expect(page).toMatchObject({ done: true, keep: [] });
    expect(page.customers.map((c) => [c.id, c.name, c.domain, c.industry, c.country])).toEqual([
      ['C1', 'Acme Corp', 'acme.example', 'Software', 'US'], ['C2', 'Kaisha KK', 'kaisha.example', null, 'JP'],
    ]);
    expect(page.invoices.map((i) => [i.id, i.status, i.totalMinor, i.voidedDate, i.disputed, i.salesRep, i.dealId, i.reference, i.lines])).toEqual([
      ['INV-1', 'paid', 120_050, null, false, 'Ana', 'D-7', 'PO-9', [{ productId: null, description: 'Widgets', quantity: null, amountMinor: 120_050 }]],
      ['INV-2', 'open', 30_000, null, true, 'Ana', null, null, []],
      ['INV-3', 'void', 150_000, '2024-02-10', false, 'Ben', null, null, [{ productId: null, description: 'Gadgets', quantity: null, amountMinor: 150_000 }]],
      ['INV-4', 'open', 50_000, null, false, 'Ben', null, null, [{ productId: null, description: 'Gadgets', quantity: null, amountMinor: 50_000 }]],
    ]);
    // paid_date is a full payment; with the column, an empty cell removes the payment it had made.
    expect(page.payments.map((p) => [p.id, p.removed, p.amountMinor, p.allocations])).toEqual([
      ['INV-1:paid', false, 120_050, [{ invoiceId: 'INV-1', amountMinor: 120_050 }]],
      ['INV-2:paid', true, 30_000, []],
      ['INV-3:paid', true, 150_000, []],
      ['INV-4:paid', true, 50_000, []],
    ]);
  });

  it('says which attributes a file without their columns does not carry, and makes no removals without paid_date', () => {
    const page = csvPage({ kind: 'invoices', parsed: parseInvoicesCsv('invoice_id,customer_id,issue_date,due_date,amount,currency\nX-1,C9,2024-01-01,2024-01-31,5,USD') });
    expect(page.keep).toEqual(['number', 'voidedDate', 'disputed', 'salesRep', 'product', 'dealId', 'terms', 'reference']);
    expect(page.payments).toEqual([]);
    expect(checkPage(page)).toEqual(page);
  });

  it('reads a payments file as payments grouped by id, in the currency of the invoices they settle', async () => {
    const currencies = new Map([['INV-2', 'USD'], ['INV-3', 'JPY'], ['INV-4', 'USD']]);
    const parsed = parsePaymentsCsv(PAYMENTS, { invoiceCurrency: (id) => currencies.get(id), requireKnownInvoice: true });
    const page = await createCsvConnector({ kind: 'payments', parsed, invoiceCurrency: (id) => currencies.get(id) }).pull(null);
    expect(checkPage(page)).toEqual(page);
    expect(page.payments.map((p) => [p.id, p.kind, p.currency, p.amountMinor, p.allocations.map((a) => [a.invoiceId, a.amountMinor])])).toEqual([
      ['P-1', 'payment', 'USD', 10_000, [['INV-2', 10_000]]],
      ['P-2', 'credit_note', 'USD', 5_000, [['INV-2', 5_000]]],
      ['P-3', 'payment', 'JPY', 1_000, [['INV-3', 1_000]]],
      ['P-4', 'payment', 'USD', 52_500, [['INV-2', 2_500], ['INV-4', 50_000]]],
    ]);
    expect(() => csvPage({ kind: 'payments', parsed, invoiceCurrency: () => undefined })).toThrow(/row 2: payment passed validation without a known invoice currency/);
  });
});

describeEachStore('a CSV file imported, and synced through the engine', (backend) => {
  let store: Store;
  const IMPORTED = 8_101;
  const SYNCED = 8_102;

  beforeAll(async () => {
    store = await openTestStore(backend);
  });
  afterAll(async () => store.close());

  const syncInvoices = (text: string) => syncSource(store.db, SYNCED, createCsvConnector({ kind: 'invoices', parsed: parseInvoicesCsv(text) }), { trigger: 'cli' });
  const syncPayments = async (text: string) => {
    const currencies = await invoiceCurrencies(store.db, SYNCED, 'csv', ['INV-1', 'INV-2', 'INV-3', 'INV-4']);
    const invoiceCurrency = (id: string) => currencies.get(id);
    const parsed = parsePaymentsCsv(text, { invoiceCurrency, requireKnownInvoice: true });
    return syncSource(store.db, SYNCED, createCsvConnector({ kind: 'payments', parsed, invoiceCurrency }));
  };
  const facts = (portalId: number) => loadFacts(store.db, portalId, { upTo: '2999-12-31' });

  it('lands the same facts both ways: one mapping, two appliers', async () => {
    await importInvoicesCsv(store.db, IMPORTED, INVOICES);
    const synced = await syncInvoices(INVOICES);
    expect(synced).toMatchObject({ pages: 1, customers: 2, customersInserted: 2, invoices: 4, invoicesInserted: 4, payments: 1, done: true });
    expect(await facts(SYNCED)).toEqual(await facts(IMPORTED));

    await importPaymentsCsv(store.db, IMPORTED, PAYMENTS);
    await syncPayments(PAYMENTS);
    const after = await facts(IMPORTED);
    expect(after.invoices.find((i) => i.id === 'INV-2')?.settlements.map((s) => s.id).sort()).toEqual(['P-1', 'P-2', 'P-4']);
    expect(await facts(SYNCED)).toEqual(after);

    // A later file without the sales_rep and paid_date columns, with a new amount: both keep the reps and the payment.
    const later = [
      'invoice_id,customer_id,issue_date,due_date,currency,amount',
      'INV-1,C1,2024-01-05,2024-02-04,USD,1300',
      'INV-2,C1,2024-01-20,2024-02-19,USD,300',
    ].join('\n');
    expect((await importInvoicesCsv(store.db, IMPORTED, later)).invoices).toEqual({ inserted: 0, updated: 1, unchanged: 1 });
    expect(await syncInvoices(later)).toMatchObject({ invoicesInserted: 0, invoicesUpdated: 1 });
    const relaid = await facts(IMPORTED);
    expect(relaid.invoices.find((i) => i.id === 'INV-1')).toMatchObject({ totalMinor: 130_000, salesRep: 'Ana', product: 'Widgets' });
    expect(await facts(SYNCED)).toEqual(relaid);
    // The engine keeps the lines of invoices a file without the product column names.
    const lines = await store.db.selectFrom('invoice_lines as l').innerJoin('invoices as i', 'i.id', 'l.invoice_id')
      .select(['i.external_id', 'l.description']).where('l.portal_id', '=', SYNCED).orderBy('i.external_id').execute();
    expect(lines).toEqual([['INV-1', 'Widgets'], ['INV-3', 'Gadgets'], ['INV-4', 'Gadgets']].map(([id, d]) => ({ external_id: id, description: d })));

    const runs = await store.db.selectFrom('sync_runs').select(['source', 'pages', 'error']).where('portal_id', '=', SYNCED).execute();
    expect(runs).toEqual([1, 2, 3].map(() => ({ source: 'csv', pages: 1, error: null })));
  });
});
