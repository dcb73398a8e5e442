import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { SnapshotOrderError, importSnapshotCsv, type SnapshotImportOptions } from '../../src/import/presets/snapshot-import';
import { ImportRejected } from '../../src/services/import';
import { portfolioReports } from '../../src/services/reports';
import { ensurePortal, upsertCustomers, upsertInvoices } from '../../src/store/facts';
import type { Store } from '../../src/store/store';
import { FIXTURES } from '../helpers/cli';
import { describeEachStore, openTestStore } from '../helpers/stores';

const fixture = (name: string): string => fs.readFileSync(path.join(FIXTURES, name), 'utf8');
const XERO = (date: string): SnapshotImportOptions => ({ preset: 'xero-invoices', snapshotDate: date });
const AGING = (date: string): SnapshotImportOptions => ({ preset: 'ar-aging', snapshotDate: date, currency: 'USD' });

/** A minimal aging export: [num, customer, issued, due, amount, open]. */
const aging = (...rows: [string, string, string, string, string, string][]): string =>
  ['Date,Transaction Type,Num,Customer,Due Date,Amount,Open Balance',
    ...rows.map(([num, customer, issued, due, amount, open]) => `${issued},Invoice,${num},${customer},${due},${amount},${open}`)].join('\n');

describeEachStore('snapshot imports', (backend) => {
  let store: Store;
  let nextPortal = 100;
  const portal = async (): Promise<number> => {
    nextPortal += 1;
    await ensurePortal(store.db, nextPortal);
    return nextPortal;
  };
  beforeAll(async () => { store = await openTestStore(backend); });
  afterAll(async () => store.close());

  /** Every settlement of the portal: invoice, payment id, date, kind, amount; sorted. */
  const settlements = async (portalId: number): Promise<string[]> => {
    const rows = await sql<{ line: string }>`
      SELECT concat_ws(' ', p.source, i.external_id, p.external_id, a.payment_date, a.kind, a.amount_minor) AS line
      FROM payment_allocations a JOIN payments p ON p.id = a.payment_id JOIN invoices i ON i.id = a.invoice_id
      WHERE a.portal_id = ${portalId} ORDER BY line`.execute(store.db);
    return rows.rows.map((r) => r.line);
  };
  const invoiceRows = async (portalId: number) => store.db.selectFrom('invoices')
    .select(['source', 'external_id', 'total_minor', 'issue_date', 'voided_date', 'product', 'reference', 'source_status'])
    .where('portal_id', '=', portalId).orderBy('external_id').execute();
  const cursor = async (portalId: number, source: string) => (await store.db.selectFrom('sync_cursors').select('cursor')
    .where('portal_id', '=', portalId).where('source', '=', source).executeTakeFirst())?.cursor ?? null;

  it('xero-invoices: a first snapshot records what was paid and credited, dated at the snapshot', async () => {
    const p = await portal();
    const result = await importSnapshotCsv(store.db, p, fixture('xero-invoices-2024-05-31.csv'), XERO('2024-05-31'));
    expect(result).toMatchObject({
      source: 'xero-export', rows: 8, imported: 5, removedInvoices: 0, settledByAbsence: 0,
      customers: { inserted: 5, updated: 0, unchanged: 0 }, invoices: { inserted: 5, updated: 0, unchanged: 0 },
      payments: { inserted: 3, updated: 0, unchanged: 0, removed: 0 },
      skipped: [{ reason: 'draft', count: 1 }, { reason: 'bill (ACCPAY)', count: 1 }],
    });
    expect(await settlements(p)).toEqual([
      'xero-export INV-0002 snap:INV-0002:2024-05-31 2024-05-31 payment 20000',
      'xero-export INV-0003 snap:INV-0003:2024-05-31 2024-05-31 payment 23000',
      'xero-export INV-0005 snap:INV-0005:2024-05-31:credit 2024-05-31 credit_note 40000',
    ]);
    const invoices = await invoiceRows(p);
    expect(invoices.map((i) => [i.external_id, i.total_minor, i.voided_date, i.product, i.reference])).toEqual([
      ['INV-0001', 115000, null, 'CONSULT', 'PO 7781'],
      ['INV-0002', 57500, null, 'HIRE', null],
      ['INV-0003', 23000, null, null, null],
      ['INV-0005', 50000, null, null, null],
      ['INV-0006', 30000, '2024-05-31', null, null],
    ]);
    expect(JSON.parse(invoices[0]?.source_status ?? '')).toEqual({ status: 'Awaiting Payment', seen: '2024-05-31', before: null });
    expect(JSON.parse(await cursor(p, 'xero-export') ?? '')).toEqual({ date: '2024-05-31', previous: null });
  });

  it('xero-invoices: a later snapshot adds only what changed; the same file again adds nothing; an older one is refused', async () => {
    const p = await portal();
    await importSnapshotCsv(store.db, p, fixture('xero-invoices-2024-05-31.csv'), XERO('2024-05-31'));
    const again = await importSnapshotCsv(store.db, p, fixture('xero-invoices-2024-05-31.csv'), XERO('2024-05-31'));
    expect(again).toMatchObject({ invoices: { inserted: 0, updated: 0, unchanged: 5 }, payments: { inserted: 0, updated: 0, unchanged: 3, removed: 0 } });

    const later = await importSnapshotCsv(store.db, p, fixture('xero-invoices-2024-06-30.csv'), XERO('2024-06-30'));
    expect(later).toMatchObject({ imported: 6, invoices: { inserted: 1 }, payments: { inserted: 2, updated: 0, removed: 0 }, removedInvoices: 0 });
    expect(await settlements(p)).toEqual([
      'xero-export INV-0001 snap:INV-0001:2024-06-30 2024-06-30 payment 115000',
      'xero-export INV-0002 snap:INV-0002:2024-05-31 2024-05-31 payment 20000',
      'xero-export INV-0002 snap:INV-0002:2024-06-30 2024-06-30 payment 37500',
      'xero-export INV-0003 snap:INV-0003:2024-05-31 2024-05-31 payment 23000',
      'xero-export INV-0005 snap:INV-0005:2024-05-31:credit 2024-05-31 credit_note 40000',
    ]);
    // The void keeps the date of the first snapshot that showed it.
    expect((await invoiceRows(p)).find((i) => i.external_id === 'INV-0006')?.voided_date).toBe('2024-05-31');

    const same = await importSnapshotCsv(store.db, p, fixture('xero-invoices-2024-06-30.csv'), XERO('2024-06-30'));
    // Only settlements dated at the snapshot are written again, and they are unchanged.
    expect(same.payments).toEqual({ inserted: 0, updated: 0, unchanged: 2, removed: 0 });
    await expect(importSnapshotCsv(store.db, p, fixture('xero-invoices-2024-05-31.csv'), XERO('2024-05-31')))
      .rejects.toThrow(new SnapshotOrderError('snapshot 2024-05-31 is older than the latest snapshot of xero-export (2024-06-30): import snapshots in date order'));
    expect(await settlements(p)).toHaveLength(5);
  });

  it('xero-invoices: a deleted invoice is removed with its settlements; a payment reversed takes the latest settlement back', async () => {
    const p = await portal();
    const header = fixture('xero-invoices-2024-05-31.csv').split('\r\n')[0] ?? '';
    const cols = header.split(',');
    const row = (cells: Record<string, string>): string => cols.map((c) => cells[c] ?? '').join(',');
    const base = { ContactName: 'Acme', InvoiceDate: '1 May 2024', DueDate: '31 May 2024', Total: '100.00', Currency: 'USD', Type: 'ACCREC' };
    await importSnapshotCsv(store.db, p, [header,
      row({ ...base, InvoiceNumber: 'A', InvoiceAmountPaid: '60.00', InvoiceAmountDue: '40.00', Status: 'AUTHORISED' }),
      row({ ...base, InvoiceNumber: 'B', InvoiceAmountPaid: '10.00', InvoiceAmountDue: '90.00', Status: 'AUTHORISED' }),
    ].join('\n'), XERO('2024-05-31'));
    const result = await importSnapshotCsv(store.db, p, [header,
      row({ ...base, InvoiceNumber: 'A', InvoiceAmountPaid: '25.00', InvoiceAmountDue: '75.00', Status: 'AUTHORISED' }),
      row({ ...base, InvoiceNumber: 'B', InvoiceAmountPaid: '10.00', InvoiceAmountDue: '90.00', Status: 'DELETED' }),
    ].join('\n'), XERO('2024-06-30'));
    expect(result).toMatchObject({ removedInvoices: 1, payments: { inserted: 0, updated: 1, removed: 0 } });
    expect(await settlements(p)).toEqual(['xero-export A snap:A:2024-05-31 2024-05-31 payment 2500']);
    expect((await invoiceRows(p)).map((i) => i.external_id)).toEqual(['A']);
  });

  it('ar-aging: an invoice no longer listed was settled in between, at the later snapshot; a grown balance takes a settlement back', async () => {
    const p = await portal();
    const first = await importSnapshotCsv(store.db, p, fixture('ar-aging-2024-05-31.csv'), AGING('2024-05-31'));
    expect(first).toMatchObject({ source: 'ar-aging', imported: 5, payments: { inserted: 0 }, skipped: [{ reason: 'Credit Memo', count: 1 }, { reason: 'Payment', count: 1 }] });
    const second = await importSnapshotCsv(store.db, p, fixture('ar-aging-2024-06-30.csv'), AGING('2024-06-30'));
    expect(second).toMatchObject({ imported: 6, settledByAbsence: 1, invoices: { inserted: 2 }, payments: { inserted: 2, updated: 0, unchanged: 0, removed: 0 } });
    expect(await settlements(p)).toEqual([
      'ar-aging 1004 snap:1004:2024-06-30 2024-06-30 payment 32000', // no longer listed: settled in full
      'ar-aging 1006 snap:1006:2024-06-30 2024-06-30 payment 50000', // 1,100.00 − 600.00 open
    ]);
    const again = await importSnapshotCsv(store.db, p, fixture('ar-aging-2024-06-30.csv'), AGING('2024-06-30'));
    expect(again).toMatchObject({ settledByAbsence: 1, invoices: { inserted: 0, updated: 0, unchanged: 6 }, payments: { inserted: 0, updated: 0, unchanged: 2, removed: 0 } });
    expect(await settlements(p)).toHaveLength(2);

    // July: 1006's payment bounced (open 1,100.00 again) and 1002 was paid; 1004 was gone already.
    const july = aging(
      ['1003', 'Cool Cars', '04/02/2024', '05/02/2024', '"2,400.50"', '"2,400.50"'], ['1005', 'Diego Rodriguez', '05/06/2024', '06/05/2024', '45.00', '45.00'],
      ['1006', 'Cool Cars', '05/20/2024', '06/19/2024', '"1,100.00"', '"1,100.00"'], ['1007', "Bill's Windsurf Shop", '06/03/2024', '07/03/2024', '275.25', '275.25'],
      ['1008', 'Geeta Kalapatapu', '06/24/2024', '07/24/2024', '629.10', '629.10'],
    );
    const third = await importSnapshotCsv(store.db, p, july, AGING('2024-07-31'));
    expect(third).toMatchObject({ settledByAbsence: 1, payments: { inserted: 1, removed: 1 } });
    expect(await settlements(p)).toEqual([
      'ar-aging 1002 snap:1002:2024-07-31 2024-07-31 payment 8500',
      'ar-aging 1004 snap:1004:2024-06-30 2024-06-30 payment 32000',
    ]);
    expect(JSON.parse(await cursor(p, 'ar-aging') ?? '')).toEqual({ date: '2024-07-31', previous: '2024-06-30' });
  });

  it('ar-aging: importing the latest snapshot again with a corrected file replaces it', async () => {
    const p = await portal();
    await importSnapshotCsv(store.db, p, aging(['A', 'Acme', '05/01/2024', '05/31/2024', '100.00', '100.00'], ['B', 'Acme', '05/02/2024', '06/01/2024', '50.00', '50.00']), AGING('2024-05-31'));
    await importSnapshotCsv(store.db, p, aging(
      ['A', 'Acme', '05/01/2024', '05/31/2024', '100.00', '70.00'], ['B', 'Acme', '05/02/2024', '06/01/2024', '50.00', '50.00'], ['C', 'Acme', '06/10/2024', '07/10/2024', '20.00', '20.00'],
    ), AGING('2024-06-30'));
    expect(await settlements(p)).toEqual(['ar-aging A snap:A:2024-06-30 2024-06-30 payment 3000']);
    // The corrected June file lists A only: B (listed in May) was settled by June; C never was an invoice.
    const corrected = await importSnapshotCsv(store.db, p, aging(['A', 'Acme', '05/01/2024', '05/31/2024', '100.00', '60.00']), AGING('2024-06-30'));
    expect(corrected).toMatchObject({ settledByAbsence: 1, removedInvoices: 1, payments: { inserted: 1, updated: 1 } });
    expect(await settlements(p)).toEqual([
      'ar-aging A snap:A:2024-06-30 2024-06-30 payment 4000',
      'ar-aging B snap:B:2024-06-30 2024-06-30 payment 5000',
    ]);
    expect((await invoiceRows(p)).map((i) => i.external_id)).toEqual(['A', 'B']);
    const same = await importSnapshotCsv(store.db, p, aging(['A', 'Acme', '05/01/2024', '05/31/2024', '100.00', '60.00']), AGING('2024-06-30'));
    expect(same).toMatchObject({ settledByAbsence: 1, removedInvoices: 0, payments: { inserted: 0, updated: 0, unchanged: 2, removed: 0 } });
  });

  it('writes nothing from a file with a bad row, and names the row and the column', async () => {
    const p = await portal();
    await importSnapshotCsv(store.db, p, fixture('ar-aging-2024-05-31.csv'), AGING('2024-05-31'));
    const before = { settlements: await settlements(p), invoices: await invoiceRows(p), cursor: await cursor(p, 'ar-aging') };
    const bad = fixture('ar-aging-2024-06-30.csv').replace(',05/20/2024,Invoice,1006,Cool Cars,06/19/2024,11,"1,100.00",600.00', ',05/20/2024,Invoice,1006,Cool Cars,06/19/2024,11,"1,100.00",6OO.00');
    const error = await importSnapshotCsv(store.db, p, bad, AGING('2024-06-30')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImportRejected);
    expect((error as ImportRejected).errors.map((e) => e.message)).toEqual(['row 12, Open Balance: "6OO.00" is not an amount']);
    expect({ settlements: await settlements(p), invoices: await invoiceRows(p), cursor: await cursor(p, 'ar-aging') }).toEqual(before);
  });

  it('refuses a currency change of an invoice with settlements, naming the row and the column', async () => {
    const p = await portal();
    await importSnapshotCsv(store.db, p, aging(['A', 'Acme', '05/01/2024', '05/31/2024', '100.00', '40.00']), AGING('2024-05-31'));
    const error = await importSnapshotCsv(store.db, p, aging(['A', 'Acme', '05/01/2024', '05/31/2024', '100.00', '40.00']), { ...AGING('2024-06-30'), currency: 'EUR' }).catch((e: unknown) => e);
    expect((error as ImportRejected).errors.map((e) => e.message)).toEqual(['row 2, Currency: "EUR" is not the currency of invoice A (USD), which has payments']);
  });

  it('keeps its sources apart from CSV imports with the same ids', async () => {
    const p = await portal();
    await upsertCustomers(store.db, p, 'csv', [{ id: 'Acme', name: 'Acme', domain: null, industry: null, country: null }]);
    await upsertInvoices(store.db, p, 'csv', [{ id: 'A', number: 'A', customerId: 'Acme', currency: 'USD', totalMinor: 999, issueDate: '2024-01-01', dueDate: '2024-01-31', voidedDate: null, disputed: false, salesRep: null, product: null, dealId: null, terms: null }]);
    await importSnapshotCsv(store.db, p, aging(['A', 'Acme', '05/01/2024', '05/31/2024', '100.00', '40.00']), AGING('2024-05-31'));
    expect((await invoiceRows(p)).map((i) => `${i.source} ${i.external_id} ${i.total_minor}`).sort()).toEqual(['ar-aging A 10000', 'csv A 999']);
  });

  it('metrics read the snapshot dates: a payment first seen at a snapshot is paid on that day', async () => {
    const p = await portal();
    await importSnapshotCsv(store.db, p, fixture('ar-aging-2024-05-31.csv'), AGING('2024-05-31'));
    await importSnapshotCsv(store.db, p, fixture('ar-aging-2024-06-30.csv'), AGING('2024-06-30'));
    const [june] = await portfolioReports(store.db, p, { asOf: '2024-06-30', by: 'customer' });
    expect(june?.portfolio.outstanding).toBe('4034.85');
    // 1004 (due 2024-05-25) left the aging export between May 31 and June 30: paid on June 30, 36 days late.
    const amy = june?.groups.find((g) => g.key === "Amy's Bird Sanctuary");
    expect(amy?.metrics).toMatchObject({ outstanding: '0.00', on_time_rate: 0, weighted_days_late: 36 });
    const [may] = await portfolioReports(store.db, p, { asOf: '2024-06-15', by: 'customer' });
    expect(may?.groups.find((g) => g.key === "Amy's Bird Sanctuary")?.metrics.outstanding).toBe('320.00');
  });
});
