import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { CsvOptionError } from '../../src/import/csv-parse';
import { parseArAging } from '../../src/import/presets/ar-aging';
import { parsePresetCsv } from '../../src/import/presets/snapshot-import';
import { planSnapshot, settleTo, type StoredInvoice } from '../../src/import/presets/snapshot';
import { parseXeroInvoices } from '../../src/import/presets/xero-invoices';
import { FIXTURES } from '../helpers/cli';

const fixture = (name: string): string => fs.readFileSync(path.join(FIXTURES, name), 'utf8');
const messages = (result: { errors: { message: string }[] }): string[] => result.errors.map((e) => e.message);

// The columns Xero's invoice export writes, in its order.
const XERO_HEADER = 'ContactName,EmailAddress,POAddressLine1,POAddressLine2,POAddressLine3,POAddressLine4,POCity,PORegion,POPostalCode,POCountry,'
  + 'SAAddressLine1,SAAddressLine2,SAAddressLine3,SAAddressLine4,SACity,SARegion,SAPostalCode,SACountry,InvoiceNumber,Reference,InvoiceDate,'
  + 'DueDate,PlannedDate,Total,TaxTotal,InvoiceAmountPaid,InvoiceAmountDue,InventoryItemCode,Description,Quantity,UnitAmount,Discount,'
  + 'LineAmount,AccountCode,TaxType,TaxAmount,TrackingName1,TrackingOption1,TrackingName2,TrackingOption2,Currency,Type,Sent,Status';
const COLUMNS = XERO_HEADER.split(',');

/** One Xero export row: defaults for a one-line sales invoice, overridden by column. */
const xeroRow = (cells: Record<string, string>): string => {
  const defaults: Record<string, string> = {
    ContactName: 'Acme Ltd', EmailAddress: 'ap@acme.example.com', InvoiceNumber: 'INV-1', InvoiceDate: '3 Jun 2024', DueDate: '3 Jul 2024',
    Total: '100.00', TaxTotal: '0.00', InvoiceAmountPaid: '0.00', InvoiceAmountDue: '100.00', Description: 'Work', Quantity: '1',
    UnitAmount: '100.00', LineAmount: '100.00', AccountCode: '200', TaxType: 'Tax Exempt', Currency: 'AUD', Type: 'Sales invoice',
    Sent: 'Sent', Status: 'Awaiting Payment',
  };
  const row = { ...defaults, ...cells };
  return COLUMNS.map((c) => {
    const v = row[c] ?? '';
    return /[",]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
  }).join(',');
};
const xero = (...rows: Record<string, string>[]): string => [XERO_HEADER, ...rows.map(xeroRow)].join('\n');

describe('xero-invoices preset', () => {
  it('groups line rows by InvoiceNumber into one invoice, total from Total, lines from the rows', () => {
    const file = parseXeroInvoices(fixture('xero-invoices-2024-05-31.csv'), { snapshotDate: '2024-05-31' });
    expect(file.errors).toEqual([]);
    expect(file.fatal).toBe(false);
    expect(file.rows).toBe(8);
    const inv1 = file.invoices.find((i) => i.id === 'INV-0001');
    expect(inv1).toMatchObject({
      row: 2, number: 'INV-0001', customerId: 'Ridgeway University', currency: 'NZD', totalMinor: 115000, issueDate: '2024-04-05',
      dueDate: '2024-05-05', reference: 'PO 7781', voided: false, paidMinor: 0, creditedMinor: 0, product: 'CONSULT', status: 'Awaiting Payment',
    });
    expect(inv1?.lines).toEqual([
      { itemCode: 'CONSULT', description: 'Consulting, April', quantity: 4, amountMinor: 60000 },
      { itemCode: 'TRAIN', description: 'Training day', quantity: 2, amountMinor: 40000 },
    ]);
    expect(file.invoices.map((i) => i.id)).toEqual(['INV-0001', 'INV-0002', 'INV-0003', 'INV-0005', 'INV-0006']);
  });

  it('skips drafts and bills (counted), reads paid and credited amounts, keeps voided invoices as voided', () => {
    const file = parseXeroInvoices(fixture('xero-invoices-2024-05-31.csv'), { snapshotDate: '2024-05-31' });
    expect(file.skipped).toEqual([{ reason: 'draft', count: 1 }, { reason: 'bill (ACCPAY)', count: 1 }]);
    const byId = new Map(file.invoices.map((i) => [i.id, i]));
    expect(byId.get('INV-0002')).toMatchObject({ paidMinor: 20000, creditedMinor: 0 });
    expect(byId.get('INV-0003')).toMatchObject({ paidMinor: 23000, creditedMinor: 0, status: 'Paid' });
    // Total 500.00, nothing paid, 100.00 due: 400.00 was credited.
    expect(byId.get('INV-0005')).toMatchObject({ paidMinor: 0, creditedMinor: 40000 });
    expect(byId.get('INV-0006')).toMatchObject({ voided: true, paidMinor: 0, creditedMinor: 0 });
    expect(file.openOnly).toBe(false);
  });

  it('keys customers by their name; the email gives a domain unless it is a mail provider', () => {
    const file = parseXeroInvoices(fixture('xero-invoices-2024-05-31.csv'), { snapshotDate: '2024-05-31' });
    const byId = new Map(file.customers.map((c) => [c.id, c]));
    expect(byId.get('Ridgeway University')).toEqual({ id: 'Ridgeway University', name: 'Ridgeway University', domain: 'ridgeway.example.ac.nz', industry: null, country: 'New Zealand' });
    expect(byId.get('Petrie McLoud Watson & Associates')?.domain).toBeNull(); // jo@gmail.com
    expect(byId.has('PowerDirect')).toBe(false); // a supplier, from a bill
    const spaced = parseXeroInvoices(xero({ ContactName: '  Acme   Ltd ' }), { snapshotDate: '2024-06-30' });
    expect(spaced.invoices[0]?.customerId).toBe('Acme Ltd');
  });

  it('reads API codes for type and status: ACCREC read, ACCPAY skipped, DELETED listed for removal', () => {
    const file = parseXeroInvoices(xero(
      { InvoiceNumber: 'INV-1', Type: 'ACCREC', Status: 'AUTHORISED' },
      { InvoiceNumber: 'BILL-9', Type: 'ACCPAY', Status: 'AUTHORISED' },
      { InvoiceNumber: 'INV-2', Type: 'ACCREC', Status: 'SUBMITTED' },
      { InvoiceNumber: 'INV-3', Type: 'ACCREC', Status: 'DELETED' },
      { InvoiceNumber: 'CN-1', Type: 'ACCRECCREDIT', Status: 'AUTHORISED' },
    ), { snapshotDate: '2024-06-30' });
    expect(file.errors).toEqual([]);
    expect(file.invoices.map((i) => i.id)).toEqual(['INV-1']);
    expect(file.deleted).toEqual(['INV-3']);
    expect(file.skipped).toEqual([
      { reason: 'bill (ACCPAY)', count: 1 }, { reason: 'awaiting approval (SUBMITTED)', count: 1 }, { reason: 'credit note', count: 1 },
    ]);
  });

  it('reads both of Xero\'s date formats, and a --date-format instead', () => {
    const file = parseXeroInvoices(xero(
      { InvoiceNumber: 'INV-1', InvoiceDate: '3 Jun 2024', DueDate: '03/07/2024' },
      { InvoiceNumber: 'INV-2', InvoiceDate: '2024-06-04', DueDate: '4 July 2024' },
    ), { snapshotDate: '2024-06-30' });
    expect(file.errors).toEqual([]);
    expect(file.invoices.map((i) => [i.issueDate, i.dueDate])).toEqual([['2024-06-03', '2024-07-03'], ['2024-06-04', '2024-07-04']]);
    const us = parseXeroInvoices(xero({ InvoiceDate: '6/3/2024', DueDate: '7/3/2024' }), { snapshotDate: '2024-06-30', dateFormat: 'M/D/YYYY' });
    expect(us.invoices[0]).toMatchObject({ issueDate: '2024-06-03', dueDate: '2024-07-03' });
  });

  it('names the row and the column of every bad cell', () => {
    const file = parseXeroInvoices(xero(
      { InvoiceNumber: 'INV-1', InvoiceDate: '31/02/2024' },
      { InvoiceNumber: 'INV-2', Total: '12.345', InvoiceAmountDue: '12.345' },
      { InvoiceNumber: 'INV-3', Status: 'Pending' },
      { InvoiceNumber: 'INV-4', Type: 'Quote' },
      { InvoiceNumber: 'INV-5', InvoiceAmountPaid: '60.00', InvoiceAmountDue: '50.00' },
      { InvoiceNumber: 'INV-6', InvoiceDate: '1 Jul 2024', DueDate: '31 Jul 2024' },
      { InvoiceNumber: '', ContactName: '' },
      { InvoiceNumber: 'INV-8', DueDate: '1 Jun 2024' },
    ), { snapshotDate: '2024-06-30' });
    expect(file.invoices).toEqual([]);
    expect(messages(file)).toEqual([
      'row 2, InvoiceDate: "31/02/2024" is not a date in D MMM YYYY or DD/MM/YYYY or YYYY-MM-DD',
      'row 3, Total: "12.345" has more decimals than AUD allows (2)',
      'row 3, InvoiceAmountDue: "12.345" has more decimals than AUD allows (2)',
      'row 4, Status: "Pending" is not a Xero invoice status (Draft, Awaiting Approval, Awaiting Payment, Paid, Voided, Deleted, or DRAFT, SUBMITTED, AUTHORISED, PAID, VOIDED, DELETED)',
      'row 5, Type: "Quote" is not a Xero invoice type (Sales invoice or ACCREC are read; Bill/ACCPAY, Sales credit note, overpayments and prepayments are skipped)',
      'row 6, InvoiceAmountDue: "50.00" plus InvoiceAmountPaid "60.00" is more than Total "100.00"',
      'row 7, InvoiceDate: "1 Jul 2024" is after the snapshot date 2024-06-30',
      'row 8, ContactName: "" is empty but required',
      'row 8, InvoiceNumber: "" is empty but required',
      'row 9, DueDate: "1 Jun 2024" is before the issue date 2024-06-03',
    ]);
  });

  it('refuses line rows of one invoice that disagree on the invoice\'s own fields', () => {
    const file = parseXeroInvoices(xero(
      { InvoiceNumber: 'INV-1', Description: 'A', LineAmount: '60.00' },
      { InvoiceNumber: 'INV-1', Description: 'B', LineAmount: '40.00', Total: '120.00' },
    ), { snapshotDate: '2024-06-30' });
    expect(messages(file)).toEqual(['row 3, Total: "120.00" differs from row 2 ("100.00"), the first row of invoice INV-1']);
  });

  it('refuses a file without a required column or without any currency, naming the header row', () => {
    const noStatus = parseXeroInvoices('ContactName,InvoiceNumber,InvoiceDate,DueDate,Total,InvoiceAmountPaid,InvoiceAmountDue,Currency,Type\nA,1,3 Jun 2024,3 Jul 2024,1,0,1,USD,ACCREC\n', { snapshotDate: '2024-06-30' });
    expect(noStatus.fatal).toBe(true);
    expect(messages(noStatus)[0]).toMatch(/^row 1: required column "Status" is missing; the file has: ContactName, InvoiceNumber/);
    const noCurrency = parseXeroInvoices('ContactName,InvoiceNumber,InvoiceDate,DueDate,Total,InvoiceAmountPaid,InvoiceAmountDue,Type,Status\nA,1,3 Jun 2024,3 Jul 2024,1,0,1,ACCREC,PAID\n', { snapshotDate: '2024-06-30' });
    expect(messages(noCurrency)).toEqual(['row 1: the file has no Currency column and no default currency was given (--currency)']);
    const withDefault = parseXeroInvoices('*ContactName,*InvoiceNumber,*InvoiceDate,*DueDate,Total,InvoiceAmountPaid,InvoiceAmountDue,Type,Status\nA,1,3 Jun 2024,3 Jul 2024,1,0.25,0.50,ACCREC,AUTHORISED\n', { snapshotDate: '2024-06-30', currency: 'usd' });
    expect(withDefault.errors).toEqual([]);
    expect(withDefault.invoices[0]).toMatchObject({ currency: 'USD', totalMinor: 100, paidMinor: 25, creditedMinor: 25 });
  });
});

describe('ar-aging preset', () => {
  it('reads invoice rows of a QuickBooks A/R Aging Detail export; title, bucket and total rows are not documents', () => {
    const file = parseArAging(fixture('ar-aging-2024-06-30.csv'), { snapshotDate: '2024-06-30', currency: 'USD' });
    expect(file.errors).toEqual([]);
    expect(file.openOnly).toBe(true);
    expect(file.invoices.map((i) => [i.id, i.customerId, i.totalMinor, i.paidMinor, i.issueDate, i.dueDate])).toEqual([
      ['1007', "Bill's Windsurf Shop", 27525, 0, '2024-06-03', '2024-07-03'],
      ['1008', 'Geeta Kalapatapu', 62910, 0, '2024-06-24', '2024-07-24'],
      ['1005', 'Diego Rodriguez', 4500, 0, '2024-05-06', '2024-06-05'],
      ['1006', 'Cool Cars', 110000, 50000, '2024-05-20', '2024-06-19'],
      ['1003', 'Cool Cars', 240050, 0, '2024-04-02', '2024-05-02'],
      ['1002', "Bill's Windsurf Shop", 8500, 0, '2024-03-18', '2024-04-17'],
    ]);
    expect(file.skipped).toEqual([{ reason: 'Credit Memo', count: 1 }]);
    const earlier = parseArAging(fixture('ar-aging-2024-05-31.csv'), { snapshotDate: '2024-05-31', currency: 'USD' });
    expect(earlier.skipped).toEqual([{ reason: 'Credit Memo', count: 1 }, { reason: 'Payment', count: 1 }]);
  });

  it('accepts common column-name variants without regard to case (QuickBooks Desktop\'s layout)', () => {
    const text = [
      'TYPE,DATE,NUM,P. O. #,NAME,TERMS,DUE DATE,AGING,ORIGINAL AMOUNT,BALANCE,CURRENCY',
      'Invoice,2024-06-01,A-1,,Acme,Net 30,2024-07-01,,250.00,100.00,eur',
      'Statement Charge,2024-06-02,,,Acme,,2024-06-02,,15.00,15.00,EUR',
    ].join('\n');
    const file = parseArAging(text, { snapshotDate: '2024-06-30' });
    expect(file.errors).toEqual([]);
    expect(file.invoices).toEqual([expect.objectContaining({ id: 'A-1', customerId: 'Acme', currency: 'EUR', totalMinor: 25000, paidMinor: 15000 })]);
    expect(file.skipped).toEqual([{ reason: 'Statement Charge', count: 1 }]);
  });

  it('names the row and the column of every bad cell', () => {
    const text = [
      'Date,Transaction Type,Num,Customer,Due Date,Past Due,Amount,Open Balance',
      '06/01/2024,Invoice,1,Acme,07/01/2024,,100.00,120.00',
      '06/31/2024,Invoice,2,Acme,07/01/2024,,100.00,100.00',
      '06/01/2024,Invoice,1,Acme,07/01/2024,,100.00,100.00',
      '06/01/2024,,3,Acme,07/01/2024,,100.00,100.00',
      '06/01/2024,Invoice,4,,07/01/2024,,-5.00,abc',
    ].join('\n');
    const file = parseArAging(text, { snapshotDate: '2024-06-30', currency: 'USD' });
    expect(messages(file)).toEqual([
      'row 2, Open Balance: "120.00" is more than Amount "100.00"',
      'row 3, Date: "06/31/2024" is not a date in M/D/YYYY or YYYY-MM-DD',
      'row 4, Num: "1" duplicates row 2',
      'row 5, Transaction Type: "" is empty but required',
      'row 6, Customer: "" is empty but required',
      'row 6, Amount: "-5.00" is negative',
      'row 6, Open Balance: "abc" is not an amount',
    ]);
  });

  it('refuses a header without the amounts', () => {
    const file = parseArAging('Date,Type,Num,Customer,Due Date,Open Balance\n06/01/2024,Invoice,1,Acme,07/01/2024,1\n', { snapshotDate: '2024-06-30', currency: 'USD' });
    expect(file.fatal).toBe(true);
    expect(messages(file)[0]).toMatch(/^row 1: required column "Amount" \(or "Original Amount", .*\) is missing; the file has: Date, Type/);
  });
});

describe('preset options', () => {
  it('refuses a preset or snapshot date it cannot use', () => {
    expect(() => parsePresetCsv('', { preset: 'xero' as 'ar-aging', snapshotDate: '2024-06-30' })).toThrow(CsvOptionError);
    expect(() => parsePresetCsv('', { preset: 'ar-aging', snapshotDate: '2024-02-30' })).toThrow('snapshot date must be a calendar date YYYY-MM-DD (got "2024-02-30")');
    expect(() => parsePresetCsv('', { preset: 'ar-aging', snapshotDate: '2024-07-01', today: '2024-06-30' })).toThrow('snapshot date 2024-07-01 is after today (2024-06-30)');
    expect(() => parsePresetCsv('', { preset: 'ar-aging', snapshotDate: '2024-06-30', dateFormat: 'Q/D/YYYY' })).toThrow(CsvOptionError);
  });
});

describe('snapshot settlements', () => {
  const invoice = { id: 'I', currency: 'USD' };
  const s = (id: string, date: string, amountMinor: number) => ({ id, date, kind: 'payment' as const, amountMinor });

  it('records only the increase since the earlier snapshots, dated at the snapshot', () => {
    expect(settleTo(invoice, [s('snap:I:2024-05-31', '2024-05-31', 300)], 'payment', 800, '2024-06-30')).toEqual({
      upserts: [{ id: 'snap:I:2024-06-30', invoiceId: 'I', date: '2024-06-30', kind: 'payment', currency: 'USD', amountMinor: 500 }], deletes: [],
    });
    // The same snapshot again: the same write, so nothing changes.
    expect(settleTo(invoice, [s('snap:I:2024-05-31', '2024-05-31', 300), s('snap:I:2024-06-30', '2024-06-30', 500)], 'payment', 800, '2024-06-30').upserts)
      .toEqual([expect.objectContaining({ id: 'snap:I:2024-06-30', amountMinor: 500 })]);
    expect(settleTo(invoice, [s('snap:I:2024-05-31', '2024-05-31', 300)], 'payment', 300, '2024-06-30')).toEqual({ upserts: [], deletes: [] });
  });

  it('takes a balance that went up off the latest settlements', () => {
    const stored = [s('snap:I:2024-04-30', '2024-04-30', 200), s('snap:I:2024-05-31', '2024-05-31', 300), s('snap:I:2024-06-30', '2024-06-30', 100)];
    expect(settleTo(invoice, stored, 'payment', 400, '2024-06-30')).toEqual({
      upserts: [{ id: 'snap:I:2024-05-31', invoiceId: 'I', date: '2024-05-31', kind: 'payment', currency: 'USD', amountMinor: 200 }],
      deletes: ['snap:I:2024-06-30'],
    });
    expect(settleTo(invoice, stored, 'payment', 0, '2024-07-31')).toEqual({ upserts: [], deletes: ['snap:I:2024-06-30', 'snap:I:2024-05-31', 'snap:I:2024-04-30'] });
  });

  it('settles invoices the previous open-documents snapshot listed and this one does not', () => {
    const stored = new Map<string, StoredInvoice>([
      ['A', { id: 'A', currency: 'USD', totalMinor: 1000, voidedDate: null, seen: { status: 'Invoice', seen: '2024-05-31', before: null }, settlements: [s('snap:A:2024-05-31', '2024-05-31', 400)] }],
      ['B', { id: 'B', currency: 'USD', totalMinor: 500, voidedDate: null, seen: { status: 'Invoice', seen: '2024-04-30', before: null }, settlements: [s('snap:B:2024-05-31', '2024-05-31', 500)] }],
    ]);
    const plan = planSnapshot({ date: '2024-06-30', previous: '2024-05-31', openOnly: true, observed: [], stored, deleted: [] });
    expect(plan.settledByAbsence).toEqual(['A']);
    expect(plan.upserts).toEqual([{ id: 'snap:A:2024-06-30', invoiceId: 'A', date: '2024-06-30', kind: 'payment', currency: 'USD', amountMinor: 600 }]);
    expect(planSnapshot({ date: '2024-06-30', previous: '2024-05-31', openOnly: false, observed: [], stored, deleted: [] }).upserts).toEqual([]);
  });
});
