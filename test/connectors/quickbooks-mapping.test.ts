import { describe, expect, it } from '@jest/globals';
import {
  creditApplicationId, invoiceStatus, localDate, mapCustomer, mapDeletedInvoice, mapDeletedPayment, mapInvoice, mapPayment,
  QuickBooksMappingError, RawInvoice, RawPayment, toMinor,
} from '../../src/connectors/quickbooks/mapping';

// The QuickBooks Online payloads below follow accounting-apis.md §3.3 (Intuit's entity reference).

const invoice = (over: Record<string, unknown> = {}): RawInvoice => RawInvoice.parse({
  Id: '130', SyncToken: '3', DocNumber: '1037', TxnDate: '2026-11-02', DueDate: '2026-12-02',
  CustomerRef: { value: '58', name: 'Acme Corp' }, CurrencyRef: { value: 'USD', name: 'United States Dollar' },
  Line: [
    { Id: '1', LineNum: 1, Amount: 500.0, Description: 'Consulting', DetailType: 'SalesItemLineDetail',
      SalesItemLineDetail: { ItemRef: { value: '7', name: 'Consulting' }, Qty: 5, UnitPrice: 100, TaxCodeRef: { value: 'NON' } } },
    { Amount: 500.0, DetailType: 'SubTotalLineDetail', SubTotalLineDetail: {} },
  ],
  TotalAmt: 500.0, Balance: 200.0, LinkedTxn: [{ TxnId: '131', TxnType: 'Payment' }], EmailStatus: 'EmailSent',
  MetaData: { CreateTime: '2026-11-02T09:12:03-08:00', LastUpdatedTime: '2026-11-10T14:05:44-08:00' },
  ...over,
});

const payment = (over: Record<string, unknown> = {}): RawPayment => RawPayment.parse({
  Id: '131', SyncToken: '0', TxnDate: '2026-11-10', CustomerRef: { value: '58', name: 'Acme Corp' },
  CurrencyRef: { value: 'USD' }, TotalAmt: 300.0, UnappliedAmt: 0,
  Line: [{ Amount: 300.0, LinkedTxn: [{ TxnId: '130', TxnType: 'Invoice' }] }],
  MetaData: { CreateTime: '2026-11-10T14:05:40-08:00', LastUpdatedTime: '2026-11-10T14:05:40-08:00' },
  ...over,
});

describe('invoiceStatus (derived: QuickBooks has no status field)', () => {
  it.each([
    [{ TotalAmt: 500, Balance: 500 }, 'open', 'Open'],
    [{ TotalAmt: 500, Balance: 200 }, 'open', 'PartiallyPaid'],
    [{ TotalAmt: 500, Balance: 0 }, 'paid', 'Paid'],
    [{ TotalAmt: 0, Balance: 0, PrivateNote: 'Voided' }, 'void', 'Voided'],
    [{ TotalAmt: 0, Balance: 0, PrivateNote: 'Voided - sent twice' }, 'void', 'Voided'],
    // A zero invoice that was never voided is not void (and not paid: nothing was owed).
    [{ TotalAmt: 0, Balance: 0 }, 'open', 'Open'],
    [{ TotalAmt: 0, Balance: 0, PrivateNote: 'Not voided' }, 'open', 'Open'],
  ] as const)('%j is %s (%s)', (fields, status, sourceStatus) => {
    expect(invoiceStatus(fields)).toEqual({ status, sourceStatus });
  });
});

describe('toMinor', () => {
  it.each([
    [500, 'USD', 50_000], [123.45, 'USD', 12_345], [0.1, 'USD', 10], [1200, 'JPY', 1200], [1.234, 'KWD', 1234], [0, 'EUR', 0],
  ])('%d %s is %d minor units', (value, currency, minor) => {
    expect(toMinor(value, currency, 'amount')).toBe(minor);
  });

  it('refuses fractions the currency cannot hold, naming the field', () => {
    expect(() => toMinor(12.5, 'JPY', 'QuickBooks invoice 9 TotalAmt')).toThrow(new QuickBooksMappingError('QuickBooks invoice 9 TotalAmt: 12.5 is not an amount of JPY'));
    expect(() => toMinor(1.005, 'USD', 'x')).toThrow(QuickBooksMappingError);
  });
});

describe('mapInvoice', () => {
  it('maps the fields, the derived status, the amount due and the sales lines (not the subtotal)', () => {
    expect(mapInvoice(invoice(), null)).toEqual({
      id: '130', number: '1037', customerId: '58', currency: 'USD', totalMinor: 50_000, issueDate: '2026-11-02',
      dueDate: '2026-12-02', status: 'open', sourceStatus: 'PartiallyPaid', voidedDate: null, disputed: false, terms: null,
      reference: null, lines: [{ productId: '7', description: 'Consulting', quantity: 5, amountMinor: 50_000 }],
      updatedAt: '2026-11-10T22:05:44.000Z',
    });
  });

  it('uses the home currency when the invoice has no CurrencyRef, and refuses when that is unknown', () => {
    const noCurrency = invoice({ CurrencyRef: undefined });
    expect(mapInvoice(noCurrency, 'CAD').currency).toBe('CAD');
    expect(() => mapInvoice(noCurrency, null)).toThrow('QuickBooks invoice 130: no CurrencyRef and the company\'s home currency is unknown');
  });

  it('dates a void invoice by its last change in the company\'s own calendar, and keeps its zero total', () => {
    const voided = mapInvoice(invoice({
      TotalAmt: 0, Balance: 0, PrivateNote: 'Voided',
      MetaData: { CreateTime: '2026-11-02T09:12:03-08:00', LastUpdatedTime: '2026-11-30T23:30:00-08:00' },
    }), null);
    expect(voided).toMatchObject({ status: 'void', voidedDate: '2026-11-30', totalMinor: 0 });
    expect(localDate('2026-11-30T23:30:00-08:00')).toBe('2026-11-30');
  });

  it('falls back to the issue date when there is no due date, reads JPY without decimals, terms and a PO field', () => {
    const jpy = mapInvoice(invoice({
      DueDate: undefined, CurrencyRef: { value: 'JPY' }, TotalAmt: 120000, Balance: 0, SalesTermRef: { value: '3', name: 'Net 30' },
      CustomField: [{ DefinitionId: '1', Name: 'P.O. Number', Type: 'StringType', StringValue: 'PO-77' }],
      Line: [{ Amount: 120000, DetailType: 'GroupLineDetail', GroupLineDetail: { Line: [
        { Amount: 120000, DetailType: 'SalesItemLineDetail', SalesItemLineDetail: { ItemRef: { value: '3', name: 'Kit' }, Qty: 2 } },
      ] } }],
    }), null);
    expect(jpy).toMatchObject({
      currency: 'JPY', totalMinor: 120_000, dueDate: '2026-11-02', status: 'paid', terms: 'Net 30', reference: 'PO-77',
      lines: [{ productId: '3', description: 'Kit', quantity: 2, amountMinor: 120_000 }],
    });
  });

  it('a deleted invoice carries its id and status only', () => {
    expect(mapDeletedInvoice({ Id: '9', status: 'Deleted', MetaData: { LastUpdatedTime: '2026-11-12T10:00:00-08:00' } }))
      .toMatchObject({ id: '9', status: 'deleted', sourceStatus: 'Deleted', lines: [] });
  });
});

describe('mapCustomer', () => {
  it('maps name, email and its domain, currency; an inactive customer is archived', () => {
    expect(mapCustomer({
      Id: '58', DisplayName: 'Acme Corp', PrimaryEmailAddr: { Address: 'AP@Acme.example.com' }, CurrencyRef: { value: 'eur' },
      Active: false, BillAddr: { Country: 'Germany' }, MetaData: { LastUpdatedTime: '2026-11-10T14:05:44-08:00' },
    })).toEqual({
      id: '58', name: 'Acme Corp', email: 'AP@Acme.example.com', domain: 'acme.example.com', country: 'Germany', currency: 'EUR',
      archived: true, creditLimitMinor: null, creditLimitCurrency: null, updatedAt: '2026-11-10T22:05:44.000Z',
    });
    expect(mapCustomer({ Id: '1', DisplayName: 'B', WebAddr: { URI: 'www.b.example.org' } })).toMatchObject({ domain: 'b.example.org', archived: false, currency: null });
  });
});

describe('mapPayment', () => {
  it('a payment of one invoice is one allocation; an unedited payment without credit has no credit record', () => {
    expect(mapPayment(payment(), null)).toEqual([{
      id: '131', kind: 'payment', date: '2026-11-10', currency: 'USD', amountMinor: 30_000,
      allocations: [{ invoiceId: '130', amountMinor: 30_000 }], removed: false, updatedAt: '2026-11-10T22:05:40.000Z',
    }]);
  });

  it('keeps unapplied money in the amount but not in the allocations, and merges lines of one invoice', () => {
    const [money] = mapPayment(payment({
      TotalAmt: 400, UnappliedAmt: 100,
      Line: [
        { Amount: 200, LinkedTxn: [{ TxnId: '130', TxnType: 'Invoice' }] },
        { Amount: 100, LinkedTxn: [{ TxnId: '130', TxnType: 'Invoice' }] },
        { Amount: 50, LinkedTxn: [{ TxnId: '77', TxnType: 'JournalEntry' }] },
      ],
    }), null);
    expect(money).toMatchObject({ amountMinor: 40_000, allocations: [{ invoiceId: '130', amountMinor: 30_000 }] });
  });

  it('splits credit spent in a payment from the money, applying the credit to the invoice lines in order', () => {
    // 150 + 100 applied to two invoices; 180 of it is credit from two memos; 70 is money.
    const records = mapPayment(payment({
      SyncToken: '0', TotalAmt: 70,
      Line: [
        { Amount: 150, LinkedTxn: [{ TxnId: '130', TxnType: 'Invoice' }] },
        { Amount: 100, LinkedTxn: [{ TxnId: '140', TxnType: 'Invoice' }] },
        { Amount: 120, LinkedTxn: [{ TxnId: '150', TxnType: 'CreditMemo' }] },
        { Amount: 60, LinkedTxn: [{ TxnId: '151', TxnType: 'CreditMemo' }] },
      ],
    }), null);
    expect(records).toEqual([
      expect.objectContaining({ id: '131', kind: 'payment', amountMinor: 7_000, allocations: [{ invoiceId: '140', amountMinor: 7_000 }], removed: false }),
      expect.objectContaining({
        id: creditApplicationId('131'), kind: 'credit_note', amountMinor: 18_000, date: '2026-11-10', removed: false,
        allocations: [{ invoiceId: '130', amountMinor: 15_000 }, { invoiceId: '140', amountMinor: 3_000 }],
      }),
    ]);
  });

  it('a credit-only payment (TotalAmt 0) is no money: its payment record is removed, its credit stays', () => {
    const records = mapPayment(payment({
      TotalAmt: 0,
      Line: [
        { Amount: 80, LinkedTxn: [{ TxnId: '130', TxnType: 'Invoice' }] },
        { Amount: 80, LinkedTxn: [{ TxnId: '150', TxnType: 'CreditMemo' }] },
      ],
    }), null);
    expect(records.map((r) => [r.id, r.kind, r.removed, r.amountMinor, r.allocations])).toEqual([
      ['131', 'payment', true, 0, []],
      ['131:credit', 'credit_note', false, 8_000, [{ invoiceId: '130', amountMinor: 8_000 }]],
    ]);
  });

  it('an edited payment without credit removes any credit record it may have had', () => {
    expect(mapPayment(payment({ SyncToken: '2' }), null).map((r) => [r.id, r.removed])).toEqual([['131', false], ['131:credit', true]]);
  });

  it('a deleted payment removes both of its records', () => {
    expect(mapDeletedPayment({ Id: '131', status: 'Deleted' }).map((r) => [r.id, r.removed])).toEqual([['131', true], ['131:credit', true]]);
  });
});
