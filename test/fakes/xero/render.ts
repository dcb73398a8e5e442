import {
  decimalOf, liveAllocation, type AllocationRecord, type ContactRecord, type CreditRecord, type InvoiceRecord, type LineRecord,
  type PaymentRecord, type XeroOrg,
} from './state';

// The fake's records as Xero's Accounting API writes them: PascalCase, decimals, dates as `/Date(ms+0000)/` (a date
// is the UTC midnight of the organisation's local date, with its `…String` sibling), UpdatedDateUTC to the
// millisecond. Shapes follow XeroAPI/Xero-OpenAPI's xero_accounting.yaml and its examples.

type Json = Record<string, unknown>;

export const msDate = (ms: number): string => `/Date(${ms}+0000)/`;
const dayMs = (date: string): number => Date.parse(`${date}T00:00:00Z`);
const dateFields = (name: string, date: string | null): Json =>
  date === null ? {} : { [`${name}String`]: `${date}T00:00:00`, [name]: msDate(dayMs(date)) };

const contactRef = (org: XeroOrg, id: string): Json => {
  const contact = org.contacts.byId.get(id);
  return { ContactID: id, Name: contact?.name ?? '', Addresses: [], Phones: [], ContactGroups: [], ContactPersons: [], HasValidationErrors: false };
};

export const renderContact = (c: ContactRecord): Json => ({
  ContactID: c.id,
  ContactStatus: c.status,
  Name: c.name,
  ...(c.email !== null ? { EmailAddress: c.email } : {}),
  ...(c.website !== null ? { Website: c.website } : {}),
  BankAccountDetails: '',
  Addresses: c.country !== null
    ? [{ AddressType: 'POBOX', Country: '' }, { AddressType: 'STREET', City: '', Region: '', PostalCode: '', Country: c.country }]
    : [{ AddressType: 'POBOX' }, { AddressType: 'STREET' }],
  Phones: [{ PhoneType: 'DEFAULT', PhoneNumber: '', PhoneAreaCode: '', PhoneCountryCode: '' }],
  UpdatedDateUTC: msDate(c.updatedAt),
  ContactGroups: [],
  IsSupplier: c.isSupplier,
  IsCustomer: c.isCustomer,
  ...(c.defaultCurrency !== null ? { DefaultCurrency: c.defaultCurrency } : {}),
  ContactPersons: [],
  HasAttachments: false,
  HasValidationErrors: false,
});

const renderLine = (l: LineRecord, currency: string): Json => ({
  LineItemID: l.id,
  ...(l.description !== null ? { Description: l.description } : {}),
  Quantity: l.quantity,
  UnitAmount: decimalOf(l.unitMinor, currency),
  ...(l.itemCode !== null ? { ItemCode: l.itemCode } : {}),
  ...(l.item !== null ? { Item: { ItemID: l.item.id, Code: l.item.code, Name: l.item.name } } : {}),
  AccountCode: l.accountCode,
  TaxType: l.taxType,
  TaxAmount: decimalOf(l.taxMinor, currency),
  LineAmount: decimalOf(l.lineMinor, currency),
  Tracking: [],
});

/** An invoice in a list or alone; `lines` false as Xero answers a list read without paging. */
export const renderInvoice = (org: XeroOrg, i: InvoiceRecord, lines: boolean): Json => {
  const c = i.currency;
  const payments = (org.paymentsOf.get(i.id) ?? []).filter((p) => p.status === 'AUTHORISED');
  const allocations = (org.allocationsOf.get(i.id) ?? []).filter(({ credit, allocation }) => liveAllocation(credit, allocation));
  const applied = (kind: CreditRecord['kind']): { credit: CreditRecord; amount: number }[] => {
    const byCredit = new Map<CreditRecord, number>();
    for (const { credit, allocation } of allocations) if (credit.kind === kind) byCredit.set(credit, (byCredit.get(credit) ?? 0) + allocation.amountMinor);
    return [...byCredit].map(([credit, amount]) => ({ credit, amount }));
  };
  const fullyPaidOn = org.fullyPaidOn(i);
  return {
    Type: i.type,
    InvoiceID: i.id,
    InvoiceNumber: i.number,
    Reference: i.reference ?? '',
    Payments: payments.map((p) => ({
      PaymentID: p.id, ...dateFields('Date', p.date), Amount: decimalOf(p.amountMinor, c), Reference: p.reference ?? '', CurrencyRate: 1,
      HasAccount: false, HasValidationErrors: false,
    })),
    CreditNotes: applied('creditNote').map(({ credit, amount }) => ({
      CreditNoteID: credit.id, CreditNoteNumber: credit.number ?? '', AppliedAmount: decimalOf(amount, c), ...dateFields('Date', credit.date),
      Total: decimalOf(credit.totalMinor, c), HasErrors: false,
    })),
    Prepayments: applied('prepayment').map(({ credit, amount }) => ({
      PrepaymentID: credit.id, AppliedAmount: decimalOf(amount, c), ...dateFields('Date', credit.date), Total: decimalOf(credit.totalMinor, c),
    })),
    Overpayments: applied('overpayment').map(({ credit, amount }) => ({
      OverpaymentID: credit.id, AppliedAmount: decimalOf(amount, c), ...dateFields('Date', credit.date), Total: decimalOf(credit.totalMinor, c),
    })),
    AmountDue: decimalOf(i.status === 'VOIDED' || i.status === 'DELETED' ? 0 : org.amountDue(i), c),
    AmountPaid: decimalOf(org.amountPaid(i), c),
    AmountCredited: decimalOf(org.amountCredited(i), c),
    CurrencyRate: 1,
    IsDiscounted: false,
    HasAttachments: false,
    HasErrors: false,
    Contact: contactRef(org, i.contactId),
    ...dateFields('Date', i.date),
    ...dateFields('DueDate', i.dueDate),
    Status: i.status,
    LineAmountTypes: i.lineAmountTypes,
    ...(lines ? { LineItems: i.lines.map((l) => renderLine(l, c)) } : {}),
    SubTotal: decimalOf(i.subTotalMinor, c),
    TotalTax: decimalOf(i.taxMinor, c),
    Total: decimalOf(i.totalMinor, c),
    UpdatedDateUTC: msDate(i.updatedAt),
    CurrencyCode: c,
    ...(fullyPaidOn !== null ? { FullyPaidOnDate: msDate(dayMs(fullyPaidOn)) } : {}),
  };
};

export const renderPayment = (org: XeroOrg, p: PaymentRecord): Json => {
  const invoice = org.invoice(p.invoiceId);
  const c = invoice.currency;
  return {
    PaymentID: p.id,
    ...(p.batchPaymentId !== null ? { BatchPaymentID: p.batchPaymentId } : {}),
    Date: msDate(dayMs(p.date)),
    BankAmount: decimalOf(p.amountMinor, c),
    Amount: decimalOf(p.amountMinor, c),
    Reference: p.reference ?? '',
    CurrencyRate: 1,
    PaymentType: invoice.type === 'ACCREC' ? 'ACCRECPAYMENT' : 'ACCPAYPAYMENT',
    Status: p.status,
    UpdatedDateUTC: msDate(p.updatedAt),
    HasAccount: true,
    IsReconciled: false,
    Account: { AccountID: '5690f1e8-1d02-4893-90c2-ee1a69eff942', Code: '090' },
    Invoice: {
      Type: invoice.type,
      InvoiceID: invoice.id,
      InvoiceNumber: invoice.number,
      Payments: [], CreditNotes: [], Prepayments: [], Overpayments: [],
      IsDiscounted: false, HasErrors: false,
      Contact: { ContactID: invoice.contactId, Name: org.contacts.byId.get(invoice.contactId)?.name ?? '', Addresses: [], Phones: [], ContactGroups: [], ContactPersons: [], HasValidationErrors: false },
      CurrencyCode: c,
    },
    HasValidationErrors: false,
  };
};

const renderAllocation = (org: XeroOrg, a: AllocationRecord, currency: string): Json => {
  const invoice = org.invoices.byId.get(a.invoiceId);
  return {
    AllocationID: a.id,
    Amount: decimalOf(a.amountMinor, currency),
    Date: msDate(dayMs(a.date)),
    Invoice: {
      InvoiceID: a.invoiceId, InvoiceNumber: invoice?.number ?? '', Payments: [], CreditNotes: [], Prepayments: [], Overpayments: [],
      HasErrors: false, IsDiscounted: false, LineItems: [],
    },
    ...(a.deleted ? { IsDeleted: true } : {}),
  };
};

/** A credit note, overpayment or prepayment. */
export const renderCredit = (org: XeroOrg, n: CreditRecord, lines: boolean): Json => {
  const c = n.currency;
  const common = {
    Contact: contactRef(org, n.contactId),
    ...dateFields('Date', n.date),
    Status: n.status,
    LineAmountTypes: n.lineAmountTypes,
    ...(lines ? { LineItems: n.lines.map((l) => renderLine(l, c)) } : {}),
    SubTotal: decimalOf(n.subTotalMinor, c),
    TotalTax: decimalOf(n.taxMinor, c),
    Total: decimalOf(n.totalMinor, c),
    UpdatedDateUTC: msDate(n.updatedAt),
    CurrencyCode: c,
    CurrencyRate: 1,
    RemainingCredit: decimalOf(n.status === 'VOIDED' || n.status === 'DELETED' ? 0 : org.remainingCredit(n), c),
    Allocations: n.allocations.map((a) => renderAllocation(org, a, c)),
    Payments: [],
    HasAttachments: false,
    ...(n.reference !== null ? { Reference: n.reference } : {}),
  };
  if (n.kind === 'creditNote') {
    return { CreditNoteID: n.id, CreditNoteNumber: n.number ?? '', Type: n.type, ...common, SentToContact: false, HasErrors: false };
  }
  return n.kind === 'overpayment' ? { OverpaymentID: n.id, Type: n.type, ...common } : { PrepaymentID: n.id, Type: n.type, ...common };
};
