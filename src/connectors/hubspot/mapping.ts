import { isIsoDate, maxDate } from '../../domain/calendar';
import { isCurrencyCode, parseMinor } from '../../domain/money';
import type { IsoDate } from '../../domain/types';
import type { InvoiceAttribute, SourceCustomer, SourceInvoice, SourceInvoiceStatus, SourcePayment } from '../types';

// HubSpot's invoice object in the canonical model (pure). See connector.ts for what is read and when.

export const INVOICE_PROPERTIES = [
  'hs_invoice_status', 'hs_amount_billed', 'hs_balance_due', 'hs_amount_paid', 'hs_due_date', 'hs_invoice_date',
  'hs_number', 'hs_currency', 'hs_lastmodifieddate', 'hs_createdate',
] as const;

export const COMPANY_PROPERTIES = ['name', 'domain', 'industry', 'country'];

/** Invoice attributes HubSpot invoices do not have: a stored invoice keeps its own. */
export const HUBSPOT_KEEPS: InvoiceAttribute[] = ['disputed', 'salesRep', 'product', 'dealId', 'terms', 'reference'];

export const PAID_PREFIX = 'hs-paid:';
export const paidPaymentId = (invoiceId: string, cumulativeMinor: number): string => `${PAID_PREFIX}${invoiceId}:${cumulativeMinor}`;

// ---------------------------------------------------------------------------------------------------------
// Values

const MS_PATTERN = /^\d{9,}$/;
const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/** Epoch milliseconds of a HubSpot date or datetime value: digits (ms), an ISO datetime or an ISO date. */
export const hubspotTimestamp = (value: string | null | undefined): number | null => {
  const text = value?.trim();
  if (!text) return null;
  if (MS_PATTERN.test(text)) return Number(text);
  if (DATE_PATTERN.test(text)) return isIsoDate(text) ? Date.parse(`${text}T00:00:00Z`) : null;
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text)) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
};

/**
 * The calendar date of a HubSpot date or datetime value. HubSpot sends date properties as ISO dates or as
 * midnight UTC (ms or ISO datetime), which all give their own date here. Datetimes are taken as their UTC
 * date: the portal's time zone is not read, so a time late in the evening west of UTC (or early in the
 * morning east of it) lands on the neighbouring date.
 */
export const hubspotCalendarDate = (value: string | null | undefined): IsoDate | null => {
  const text = value?.trim();
  if (text && DATE_PATTERN.test(text)) return isIsoDate(text) ? text : null;
  const ms = hubspotTimestamp(text);
  return ms === null ? null : new Date(ms).toISOString().slice(0, 10);
};

const present = (value: string | null | undefined): value is string => value !== null && value !== undefined && value.trim() !== '';

/** Trimmed text, or null for a missing or blank value. */
export const text = (value: string | null | undefined): string | null => (present(value) ? value.trim() : null);

export type InvoiceObject = {
  id: string;
  properties: Record<string, string | null>;
  createdAt?: Date | string;
  updatedAt?: Date | string;
};

/** An invoice as read, before its associations are known. */
export type ParsedInvoice = {
  id: string;
  number: string | null;
  status: string;
  currency: string;
  totalMinor: number;
  issueDate: IsoDate;
  dueDate: IsoDate;
  /** hs_lastmodifieddate in epoch ms, and its calendar date. */
  modifiedAt: number;
  modifiedDate: IsoDate;
  /** Cumulative amount paid in minor units; null leaves the invoice's payment facts as they are. */
  paidMinor: number | null;
};

export type ParseOutcome =
  | { kind: 'invoice'; invoice: ParsedInvoice }
  | { kind: 'draft' }
  | { kind: 'invalid'; problem: string };

const dateValue = (value: Date | string | undefined): string | null =>
  value === undefined ? null : value instanceof Date ? (Number.isNaN(value.getTime()) ? null : value.toISOString()) : value;

/** The modification time of an invoice object (hs_lastmodifieddate, else the object's updatedAt). */
export const modifiedAtOf = (object: InvoiceObject): number | null =>
  hubspotTimestamp(object.properties.hs_lastmodifieddate) ?? hubspotTimestamp(dateValue(object.updatedAt));

/** Reads one HubSpot invoice; problems name the invoice and the property. */
export const parseInvoice = (object: InvoiceObject): ParseOutcome => {
  const p = object.properties;
  const invalid = (problem: string): ParseOutcome => ({ kind: 'invalid', problem: `invoice ${object.id}: ${problem}` });
  const status = (p.hs_invoice_status ?? '').trim().toLowerCase();
  if (status === 'draft') return { kind: 'draft' };
  const currency = (p.hs_currency ?? '').trim().toUpperCase();
  if (!isCurrencyCode(currency)) return invalid(`hs_currency ${JSON.stringify(p.hs_currency ?? null)} is not a 3-letter ISO 4217 code`);
  const amount = (name: string): number | null | 'bad' => {
    const value = p[name];
    if (!present(value)) return null;
    const minor = parseMinor(value, currency);
    return minor === null ? 'bad' : minor;
  };
  const billed = amount('hs_amount_billed');
  if (billed === 'bad' || billed === null || billed < 0) {
    return invalid(`hs_amount_billed ${JSON.stringify(p.hs_amount_billed ?? null)} is not an amount of ${currency} of 0 or more`);
  }
  const modifiedAt = modifiedAtOf(object);
  if (modifiedAt === null) return invalid(`hs_lastmodifieddate ${JSON.stringify(p.hs_lastmodifieddate ?? null)} is not a date`);
  const modifiedDate = new Date(modifiedAt).toISOString().slice(0, 10);
  // An invoice without an invoice date is dated by its creation.
  const issueText = present(p.hs_invoice_date) ? p.hs_invoice_date : p.hs_createdate ?? dateValue(object.createdAt);
  const issueDate = hubspotCalendarDate(issueText);
  if (issueDate === null) return invalid(`hs_invoice_date ${JSON.stringify(p.hs_invoice_date ?? null)} is not a date`);
  // Without a due date an invoice is due on receipt.
  const dueDate = present(p.hs_due_date) ? hubspotCalendarDate(p.hs_due_date) : issueDate;
  if (dueDate === null) return invalid(`hs_due_date ${JSON.stringify(p.hs_due_date)} is not a date`);
  if (dueDate < issueDate) return invalid(`hs_due_date ${dueDate} is before the invoice date ${issueDate}`);
  let paidMinor: number | null;
  const paid = amount('hs_amount_paid');
  if (paid === 'bad') return invalid(`hs_amount_paid ${JSON.stringify(p.hs_amount_paid)} is not an amount of ${currency}`);
  if (paid !== null) {
    paidMinor = paid;
  } else if (status === 'voided') {
    paidMinor = null;
  } else {
    const balance = amount('hs_balance_due');
    if (balance === 'bad') return invalid(`hs_balance_due ${JSON.stringify(p.hs_balance_due)} is not an amount of ${currency}`);
    paidMinor = balance !== null ? billed - balance : status === 'paid' ? billed : 0;
  }
  if (paidMinor !== null) paidMinor = Math.min(Math.max(paidMinor, 0), billed);
  return {
    kind: 'invoice',
    invoice: {
      id: object.id, number: present(p.hs_number) ? p.hs_number.trim() : null, status: status || 'open', currency,
      totalMinor: billed, issueDate, dueDate, modifiedAt, modifiedDate, paidMinor,
    },
  };
};

// ---------------------------------------------------------------------------------------------------------
// Payments derived from the amount paid

/** The cumulative amount a `hs-paid:` payment id records for the invoice, or null if it is not one of its. */
export const cumulativeOfPaymentId = (invoiceId: string, paymentId: string): number | null => {
  const prefix = `${PAID_PREFIX}${invoiceId}:`;
  if (!paymentId.startsWith(prefix)) return null;
  const rest = paymentId.slice(prefix.length);
  return /^\d+$/.test(rest) ? Number(rest) : null;
};

/**
 * The payment facts that bring an invoice's recorded payments (given by their cumulative amounts) to
 * `paidMinor`: facts above it are removed, and one fact adds what is still missing.
 */
export const paymentChanges = (
  invoice: { id: string; currency: string; paidMinor: number; date: IsoDate }, recordedCumulatives: readonly number[],
): { add: SourcePayment | null; remove: string[] } => {
  const remove = recordedCumulatives.filter((c) => c > invoice.paidMinor).map((c) => paidPaymentId(invoice.id, c));
  const recorded = Math.max(0, ...recordedCumulatives.filter((c) => c <= invoice.paidMinor));
  if (invoice.paidMinor <= recorded) return { add: null, remove };
  const amountMinor = invoice.paidMinor - recorded;
  return {
    remove,
    add: {
      id: paidPaymentId(invoice.id, invoice.paidMinor), kind: 'payment', date: invoice.date, currency: invoice.currency, amountMinor,
      allocations: [{ invoiceId: invoice.id, amountMinor }], removed: false, updatedAt: null,
    },
  };
};

/** What the store holds of a HubSpot invoice: its currency and the cumulative amounts of its `hs-paid:` payments. */
export type RecordedInvoice = { currency: string; paidCumulatives: readonly number[] };

/**
 * The derived payments of one invoice as changes: removed payments for the `hs-paid:` facts above the amount
 * paid (all of them when the invoice changed currency: they are amounts of the old one), and one payment for
 * what is still missing, dated by the invoice's modification date (not before its issue date).
 */
export const derivedPayments = (invoice: ParsedInvoice, recorded: RecordedInvoice | undefined): SourcePayment[] => {
  const date = maxDate(invoice.modifiedDate, invoice.issueDate);
  const removed = (cumulative: number): SourcePayment => ({
    id: paidPaymentId(invoice.id, cumulative), kind: 'payment', date, currency: invoice.currency, amountMinor: cumulative,
    allocations: [], removed: true, updatedAt: null,
  });
  let cumulatives = recorded?.paidCumulatives ?? [];
  const out: SourcePayment[] = [];
  if (recorded !== undefined && recorded.currency !== invoice.currency) {
    out.push(...cumulatives.map(removed));
    cumulatives = [];
  }
  if (invoice.paidMinor === null) return out;
  const change = paymentChanges({ id: invoice.id, currency: invoice.currency, paidMinor: invoice.paidMinor, date }, cumulatives);
  out.push(...change.remove.map((id) => removed(cumulativeOfPaymentId(invoice.id, id) ?? 0)));
  if (change.add) out.push(change.add);
  return out;
};

// ---------------------------------------------------------------------------------------------------------
// Canonical objects

export type Company = { id: string; name: string | null; domain: string | null; industry: string | null; country: string | null };

/** A company as the customer of its invoices (a company HubSpot did not return is known by its id only). */
export const toSourceCustomer = (id: string, company: Company | undefined): SourceCustomer => ({
  id, name: company?.name ?? null, email: null, domain: company?.domain ?? null, country: company?.country ?? null, currency: null,
  archived: false, creditLimitMinor: null, creditLimitCurrency: null, updatedAt: null, industry: company?.industry ?? null,
});

const statusOf = (status: string): SourceInvoiceStatus => (status === 'voided' ? 'void' : status === 'paid' ? 'paid' : 'open');

/** A HubSpot invoice of `companyId`; a voided one is dated by its modification (the store keeps the first such date). */
export const toSourceInvoice = (invoice: ParsedInvoice, companyId: string, dealId: string | null): SourceInvoice => ({
  id: invoice.id, number: invoice.number, customerId: companyId, currency: invoice.currency, totalMinor: invoice.totalMinor,
  issueDate: invoice.issueDate, dueDate: invoice.dueDate, status: statusOf(invoice.status), sourceStatus: invoice.status,
  voidedDate: invoice.status === 'voided' ? maxDate(invoice.modifiedDate, invoice.issueDate) : null,
  disputed: false, terms: null, reference: null, lines: [], updatedAt: new Date(invoice.modifiedAt).toISOString(), hubspotDealId: dealId,
});

/** The deal an invoice is tied to among its associations: the one labelled Primary, else the lowest id. */
export const pickAssociation = (
  to: ReadonlyArray<{ toObjectId: string | number; associationTypes?: ReadonlyArray<{ label?: string | null }> }>,
): string | null => {
  if (to.length === 0) return null;
  const primary = to.filter((t) => (t.associationTypes ?? []).some((a) => a.label === 'Primary'));
  const pool = primary.length > 0 ? primary : to;
  const ids = pool.map((t) => String(t.toObjectId));
  ids.sort((a, b) => (a.length - b.length) || (a < b ? -1 : a > b ? 1 : 0));
  return ids[0] ?? null;
};
