import type { Contact, CreditNote, Invoice, LineItem, Overpayment, Payment, Prepayment } from 'xero-node';
import { currencyExponent, parseMinor } from '../../domain/money';
import type { IsoDate } from '../../domain/types';
import type { SourceCustomer, SourceInvoice, SourceInvoiceLine, SourceInvoiceStatus, SourcePayment } from '../types';

// Xero's accounting objects, as xero-node deserializes them, in the canonical model. Pure: no I/O, no clock.
//
// Only receivables are read: invoices of Type ACCREC, credit notes of Type ACCRECCREDIT, payments of type
// ACCRECPAYMENT, and overpayments / prepayments received from customers (RECEIVE-OVERPAYMENT, RECEIVE-PREPAYMENT).
// xero-node types enum fields as numeric enums but hands over Xero's strings, and turns `/Date(ms+0000)/` values
// into Date objects even where its types say string: every field is read through the helpers below.

/** A value Xero or xero-node gives as text (enums included), or null. */
const text = (value: unknown): string | null => {
  if (value === null || value === undefined) return null;
  const s = String(value).trim();
  return s === '' ? null : s;
};

const MS_DATE = /^\/Date\((-?\d+)([+-]\d{4})?\)\/$/;

/**
 * An instant from Xero's `/Date(ms+hhmm)/` text, an ISO timestamp, or a Date (what xero-node makes of both);
 * null when the value is none of these. The offset is part of the local reading, not of the instant.
 */
export const xeroInstant = (value: unknown): Date | null => {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value;
  if (typeof value !== 'string') return null;
  const match = MS_DATE.exec(value.trim());
  const parsed = match ? new Date(Number(match[1])) : new Date(value);
  return Number.isNaN(parsed.getTime()) ? null : parsed;
};

/**
 * The calendar date of a Xero date field. Xero sends a date as `/Date(ms+0000)/` with `ms` the UTC midnight of the
 * organisation's local date (its DateString sibling is that date, which xero-node drops), so the UTC date of the
 * instant is the local date. A `+hhmm` offset, when present, is applied first; ISO text is read as written.
 */
export const xeroDate = (value: unknown): IsoDate | null => {
  if (typeof value === 'string') {
    const trimmed = value.trim();
    const match = MS_DATE.exec(trimmed);
    if (match) {
      const offset = match[2] ?? '+0000';
      const minutes = (offset[0] === '-' ? -1 : 1) * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(3, 5)));
      const local = new Date(Number(match[1]) + minutes * 60_000);
      return Number.isNaN(local.getTime()) ? null : local.toISOString().slice(0, 10);
    }
    if (/^\d{4}-\d{2}-\d{2}/.test(trimmed)) return trimmed.slice(0, 10);
    return null;
  }
  const instant = xeroInstant(value);
  return instant === null ? null : instant.toISOString().slice(0, 10);
};

/** The ISO timestamp of an UpdatedDateUTC, or null. */
export const xeroTimestamp = (value: unknown): string | null => xeroInstant(value)?.toISOString() ?? null;

/** Xero's decimal amount in minor units of the currency (rounded half away from zero beyond its exponent). */
export const toMinor = (amount: unknown, currency: string): number => {
  if (amount === null || amount === undefined || amount === '') return 0;
  const value = typeof amount === 'number' ? amount : Number(amount);
  if (!Number.isFinite(value)) throw new XeroMappingError(`amount ${String(amount)} is not a number`);
  const exact = parseMinor(String(amount), currency);
  if (exact !== null) return exact;
  const scaled = Math.abs(value) * 10 ** currencyExponent(currency);
  const rounded = Math.round(scaled) * Math.sign(value);
  return rounded === 0 ? 0 : rounded;
};

/** A Xero object the canonical model cannot take (a missing id, an unknown currency...). */
export class XeroMappingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XeroMappingError';
  }
}

const currencyOf = (value: unknown, what: string): string => {
  const code = text(value)?.toUpperCase() ?? null;
  if (code === null || !/^[A-Z]{3}$/.test(code)) throw new XeroMappingError(`${what} has no currency code`);
  return code;
};

const required = (value: unknown, what: string): string => {
  const s = text(value);
  if (s === null) throw new XeroMappingError(`${what} is missing`);
  return s;
};

const domainOf = (email: string | null, website: string | null): string | null => {
  const fromEmail = email && /@([^@\s]+)$/.exec(email)?.[1];
  if (fromEmail) return fromEmail.toLowerCase();
  if (!website) return null;
  try {
    const host = new URL(/^[a-z]+:\/\//i.test(website) ? website : `https://${website}`).hostname.toLowerCase();
    return host.replace(/^www\./, '') || null;
  } catch {
    return null;
  }
};

/** A contact as a customer. ARCHIVED (and GDPRREQUEST, erased on request) contacts are kept, flagged. */
export const mapContact = (contact: Contact): SourceCustomer => {
  const email = text(contact.emailAddress);
  const status = text(contact.contactStatus);
  const addresses = contact.addresses ?? [];
  const street = addresses.find((a) => text(a.addressType) === 'STREET' && text(a.country));
  const country = text((street ?? addresses.find((a) => text(a.country)))?.country);
  const currency = text(contact.defaultCurrency)?.toUpperCase() ?? null;
  return {
    id: required(contact.contactID, 'Contact.ContactID'),
    name: text(contact.name),
    email,
    domain: domainOf(email, text(contact.website)),
    country,
    currency: currency !== null && /^[A-Z]{3}$/.test(currency) ? currency : null,
    archived: status === 'ARCHIVED' || status === 'GDPRREQUEST',
    // Xero keeps no credit limit that its API exposes.
    creditLimitMinor: null,
    creditLimitCurrency: null,
    updatedAt: xeroTimestamp(contact.updatedDateUTC),
  };
};

/** Xero's invoice status in the canonical one. DRAFT and SUBMITTED (awaiting approval) are not facts yet. */
export const invoiceStatus = (status: string | null): SourceInvoiceStatus => {
  switch (status) {
    case 'AUTHORISED': return 'open';
    case 'PAID': return 'paid';
    case 'VOIDED': return 'void';
    case 'DELETED': return 'deleted';
    case 'DRAFT':
    case 'SUBMITTED': return 'draft';
    default: throw new XeroMappingError(`invoice status ${String(status)} is not one Xero documents`);
  }
};

/**
 * An invoice line: its item (Item.ItemID, else ItemCode), quantity and amount. A line amount excludes tax when the
 * invoice's LineAmountTypes is Exclusive: the line's TaxAmount is added so that lines sum to the tax-inclusive total.
 */
const mapLine = (line: LineItem, currency: string, taxExclusive: boolean): SourceInvoiceLine => {
  const amount = toMinor(line.lineAmount, currency) + (taxExclusive ? toMinor(line.taxAmount, currency) : 0);
  return {
    productId: text(line.item?.itemID) ?? text(line.itemCode),
    description: text(line.description) ?? text(line.item?.name),
    quantity: typeof line.quantity === 'number' && Number.isFinite(line.quantity) ? line.quantity : null,
    amountMinor: amount,
  };
};

/** Whether an invoice is a sales invoice (ACCREC); bills (ACCPAY) are not receivables. */
export const isReceivable = (invoice: Invoice): boolean => text(invoice.type) === 'ACCREC';

/**
 * A sales invoice. A voided invoice's void date is the date of its UpdatedDateUTC (Xero keeps no void date): the
 * store keeps the date it first saw.
 */
export const mapInvoice = (invoice: Invoice): SourceInvoice => {
  const id = required(invoice.invoiceID, 'Invoice.InvoiceID');
  const currency = currencyOf(invoice.currencyCode, `Invoice ${id}`);
  const sourceStatus = required(invoice.status, `Invoice ${id}: Status`);
  const status = invoiceStatus(sourceStatus);
  const issueDate = xeroDate(invoice.date);
  if (issueDate === null) throw new XeroMappingError(`Invoice ${id} has no date`);
  const updatedAt = xeroTimestamp(invoice.updatedDateUTC);
  const taxExclusive = text(invoice.lineAmountTypes) === 'Exclusive';
  return {
    id,
    number: text(invoice.invoiceNumber),
    customerId: required(invoice.contact?.contactID, `Invoice ${id}: Contact.ContactID`),
    currency,
    totalMinor: toMinor(invoice.total, currency),
    issueDate,
    dueDate: xeroDate(invoice.dueDate) ?? issueDate,
    status,
    sourceStatus,
    voidedDate: status === 'void' ? (updatedAt?.slice(0, 10) ?? issueDate) : null,
    // Xero has no disputes, and payment terms belong to contacts, not invoices.
    disputed: false,
    terms: null,
    reference: text(invoice.reference),
    lines: (invoice.lineItems ?? []).map((line) => mapLine(line, currency, taxExclusive)),
    updatedAt,
  };
};

/** Whether a payment is a customer's payment of a sales invoice (not a bill payment or a refund of a credit). */
export const isReceivablePayment = (payment: Payment): boolean =>
  text(payment.paymentType) === 'ACCRECPAYMENT' && (text(payment.invoice?.type) ?? 'ACCREC') === 'ACCREC';

/**
 * A payment: one invoice each (a batch payment arrives as one Payment per invoice). DELETED (reversed) payments
 * are removed. The amount is in the invoice's currency.
 */
export const mapPayment = (payment: Payment): SourcePayment => {
  const id = required(payment.paymentID, 'Payment.PaymentID');
  const invoiceId = required(payment.invoice?.invoiceID, `Payment ${id}: Invoice.InvoiceID`);
  const currency = currencyOf(payment.invoice?.currencyCode, `Payment ${id}: Invoice`);
  const date = xeroDate(payment.date);
  if (date === null) throw new XeroMappingError(`Payment ${id} has no date`);
  const amountMinor = toMinor(payment.amount, currency);
  const removed = text(payment.status) === 'DELETED' || amountMinor <= 0;
  return {
    id,
    kind: 'payment',
    date,
    currency,
    amountMinor,
    allocations: removed ? [] : [{ invoiceId, amountMinor }],
    removed,
    updatedAt: xeroTimestamp(payment.updatedDateUTC),
  };
};

type Allocated = {
  id: string;
  status: string | null;
  date: unknown;
  currencyCode: unknown;
  total: unknown;
  allocations: NonNullable<CreditNote['allocations']>;
  updatedDateUTC: unknown;
};

/**
 * A credit (credit note, overpayment, prepayment) with its live allocations to invoices. It is dated by its latest
 * allocation (when it settled invoices), else by its own date. It is removed when it is voided or deleted, not
 * yet approved (DRAFT, SUBMITTED), or (with `onlyWhenAllocated`) allocated to no invoice.
 */
const mapAllocated = (credit: Allocated, kind: SourcePayment['kind'], what: string, onlyWhenAllocated: boolean): SourcePayment => {
  const currency = currencyOf(credit.currencyCode, what);
  const ownDate = xeroDate(credit.date);
  if (ownDate === null) throw new XeroMappingError(`${what} has no date`);
  const allocations: { invoiceId: string; amountMinor: number }[] = [];
  let date = ownDate;
  let latest: IsoDate | null = null;
  for (const allocation of credit.allocations) {
    if (allocation.isDeleted === true) continue;
    const amountMinor = toMinor(allocation.amount, currency);
    const invoiceId = text(allocation.invoice?.invoiceID);
    if (invoiceId === null || amountMinor <= 0) continue;
    allocations.push({ invoiceId, amountMinor });
    const allocated = xeroDate(allocation.date);
    if (allocated !== null && (latest === null || allocated > latest)) latest = allocated;
  }
  if (latest !== null) date = latest;
  const amountMinor = toMinor(credit.total, currency);
  const live = credit.status === 'AUTHORISED' || credit.status === 'PAID';
  const removed = !live || amountMinor <= 0 || (onlyWhenAllocated && allocations.length === 0);
  return {
    id: credit.id,
    kind,
    date,
    currency,
    amountMinor,
    allocations: removed ? [] : allocations,
    removed,
    updatedAt: xeroTimestamp(credit.updatedDateUTC),
  };
};

export const isReceivableCreditNote = (note: CreditNote): boolean => text(note.type) === 'ACCRECCREDIT';

/** A sales credit note, kind credit_note, with its allocations (cash refunds of the credit settle no invoice). */
export const mapCreditNote = (note: CreditNote): SourcePayment => {
  const id = required(note.creditNoteID, 'CreditNote.CreditNoteID');
  return mapAllocated({
    id, status: text(note.status), date: note.date, currencyCode: note.currencyCode, total: note.total,
    allocations: note.allocations ?? [], updatedDateUTC: note.updatedDateUTC,
  }, 'credit_note', `CreditNote ${id}`, false);
};

export const isReceivableOverpayment = (o: Overpayment): boolean => text(o.type) === 'RECEIVE-OVERPAYMENT';
export const isReceivablePrepayment = (p: Prepayment): boolean => text(p.type) === 'RECEIVE-PREPAYMENT';

/**
 * An overpayment or prepayment received from a customer, as far as it is allocated to invoices. It is money the
 * customer paid, so its allocations are settlements of kind payment (Xero counts them in AmountCredited).
 * One that settles no invoice is not a settlement and is removed.
 */
export const mapOverpayment = (o: Overpayment): SourcePayment => {
  const id = required(o.overpaymentID, 'Overpayment.OverpaymentID');
  return mapAllocated({
    id, status: text(o.status), date: o.date, currencyCode: o.currencyCode, total: o.total,
    allocations: o.allocations ?? [], updatedDateUTC: o.updatedDateUTC,
  }, 'payment', `Overpayment ${id}`, true);
};

export const mapPrepayment = (p: Prepayment): SourcePayment => {
  const id = required(p.prepaymentID, 'Prepayment.PrepaymentID');
  return mapAllocated({
    id, status: text(p.status), date: p.date, currencyCode: p.currencyCode, total: p.total,
    allocations: p.allocations ?? [], updatedDateUTC: p.updatedDateUTC,
  }, 'payment', `Prepayment ${id}`, true);
};
