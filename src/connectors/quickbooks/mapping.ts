import { z } from 'zod';
import { isCurrencyCode, parseMinor } from '../../domain/money';
import type { IsoDate } from '../../domain/types';
import type { SourceCustomer, SourceInvoice, SourceInvoiceLine, SourcePayment } from '../types';

// QuickBooks Online entities as the Accounting API sends them (JSON, PascalCase, decimal amounts, company-local
// `YYYY-MM-DD` dates), and their mapping into the canonical records. Pure: no I/O, no clock.
// Entity reference: https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/invoice

const Ref = z.object({ value: z.string().min(1), name: z.string().optional() });
const Date10 = z.iso.date();
const MetaData = z.object({ CreateTime: z.string().optional(), LastUpdatedTime: z.string().optional() });

export const RawCustomer = z.object({
  Id: z.string().min(1),
  DisplayName: z.string().optional(),
  CompanyName: z.string().optional(),
  PrimaryEmailAddr: z.object({ Address: z.string().optional() }).optional(),
  WebAddr: z.object({ URI: z.string().optional() }).optional(),
  BillAddr: z.object({ Country: z.string().optional() }).optional(),
  CurrencyRef: Ref.optional(),
  Active: z.boolean().optional(),
  MetaData: MetaData.optional(),
});
export type RawCustomer = z.infer<typeof RawCustomer>;

type RawLine = {
  Amount?: number | undefined;
  Description?: string | undefined;
  DetailType?: string | undefined;
  SalesItemLineDetail?: { ItemRef?: { value: string; name?: string | undefined } | undefined; Qty?: number | undefined } | undefined;
  GroupLineDetail?: { Line?: RawLine[] | undefined } | undefined;
};
const RawLine: z.ZodType<RawLine> = z.lazy(() => z.object({
  Amount: z.number().optional(),
  Description: z.string().optional(),
  DetailType: z.string().optional(),
  SalesItemLineDetail: z.object({ ItemRef: Ref.optional(), Qty: z.number().optional() }).optional(),
  GroupLineDetail: z.object({ Line: z.array(RawLine).optional() }).optional(),
}));

export const RawInvoice = z.object({
  Id: z.string().min(1),
  SyncToken: z.string().optional(),
  DocNumber: z.string().optional(),
  TxnDate: Date10,
  DueDate: Date10.optional(),
  CustomerRef: Ref,
  CurrencyRef: Ref.optional(),
  TotalAmt: z.number(),
  Balance: z.number(),
  PrivateNote: z.string().optional(),
  SalesTermRef: Ref.optional(),
  CustomField: z.array(z.object({ Name: z.string().optional(), StringValue: z.string().optional() })).optional(),
  Line: z.array(RawLine).optional(),
  MetaData: MetaData.optional(),
});
export type RawInvoice = z.infer<typeof RawInvoice>;

const LinkedTxn = z.object({ TxnId: z.string().min(1), TxnType: z.string() });

export const RawPayment = z.object({
  Id: z.string().min(1),
  SyncToken: z.string().optional(),
  TxnDate: Date10,
  CustomerRef: Ref.optional(),
  CurrencyRef: Ref.optional(),
  TotalAmt: z.number(),
  UnappliedAmt: z.number().optional(),
  Line: z.array(z.object({ Amount: z.number(), LinkedTxn: z.array(LinkedTxn).optional() })).optional(),
  MetaData: MetaData.optional(),
});
export type RawPayment = z.infer<typeof RawPayment>;

/** What Change Data Capture returns for an entity deleted in the window: its id, the status, little else. */
export const RawDeleted = z.object({ Id: z.string().min(1), status: z.literal('Deleted'), MetaData: MetaData.optional() });
export type RawDeleted = z.infer<typeof RawDeleted>;

/** The company's home currency: https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/preferences */
export const RawPreferences = z.object({
  Preferences: z.object({
    CurrencyPrefs: z.object({ HomeCurrency: Ref.optional(), MultiCurrencyEnabled: z.boolean().optional() }).optional(),
  }),
});

/** A record the mapping cannot turn into a fact (an amount the currency cannot hold, an odd currency code). */
export class QuickBooksMappingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QuickBooksMappingError';
  }
}

/** Decimal amount → integer minor units of the currency, exactly (refuses fractions the currency cannot hold). */
export const toMinor = (value: number, currency: string, what: string): number => {
  const text = Number.isInteger(value) ? String(value) : value.toFixed(10);
  const minor = parseMinor(text, currency);
  if (minor === null) throw new QuickBooksMappingError(`${what}: ${value} is not an amount of ${currency}`);
  return minor;
};

const currencyOf = (ref: { value: string } | undefined, homeCurrency: string | null, what: string): string => {
  const code = (ref?.value ?? homeCurrency ?? '').toUpperCase();
  if (!ref && homeCurrency === null) throw new QuickBooksMappingError(`${what}: no CurrencyRef and the company's home currency is unknown`);
  if (!isCurrencyCode(code)) throw new QuickBooksMappingError(`${what}: CurrencyRef "${code}" is not an ISO 4217 code`);
  return code;
};

/** An ISO timestamp in UTC, or null when the source gave none (or one that does not parse). */
const timestamp = (text: string | undefined): string | null => {
  if (!text) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
};

/** The company-local calendar date of a QuickBooks timestamp ("2026-11-10T14:05:44-08:00" → "2026-11-10"). */
export const localDate = (text: string | undefined): IsoDate | null => {
  const match = /^(\d{4}-\d{2}-\d{2})T/.exec(text ?? '');
  return match ? (match[1] as string) : null;
};

const emailDomain = (email: string | null): string | null => {
  const at = email?.lastIndexOf('@') ?? -1;
  return email && at > 0 ? email.slice(at + 1).trim().toLowerCase() || null : null;
};

const webDomain = (uri: string | undefined): string | null => {
  if (!uri) return null;
  try {
    return new URL(/^[a-z]+:\/\//i.test(uri) ? uri : `https://${uri}`).hostname.replace(/^www\./, '').toLowerCase() || null;
  } catch {
    return null;
  }
};

export const mapCustomer = (raw: RawCustomer): SourceCustomer => {
  const email = raw.PrimaryEmailAddr?.Address?.trim() || null;
  return {
    id: raw.Id,
    name: raw.DisplayName ?? raw.CompanyName ?? null,
    email,
    domain: emailDomain(email) ?? webDomain(raw.WebAddr?.URI),
    country: raw.BillAddr?.Country?.trim() || null,
    currency: raw.CurrencyRef ? raw.CurrencyRef.value.toUpperCase() : null,
    // QuickBooks does not delete customers: it makes them inactive.
    archived: raw.Active === false,
    creditLimitMinor: null,
    creditLimitCurrency: null,
    updatedAt: timestamp(raw.MetaData?.LastUpdatedTime),
  };
};

/** A customer Change Data Capture reports deleted (a merge): kept as archived, nothing else known. */
export const mapDeletedCustomer = (raw: RawDeleted): SourceCustomer => ({
  id: raw.Id, name: null, email: null, domain: null, country: null, currency: null, archived: true,
  creditLimitMinor: null, creditLimitCurrency: null, updatedAt: timestamp(raw.MetaData?.LastUpdatedTime),
});

/**
 * QuickBooks has no invoice status; it is derived (accounting-apis.md §3.3): void when TotalAmt is 0 and the
 * PrivateNote starts with "Voided" (voiding zeroes the amounts and prepends it); paid when 0 = Balance < TotalAmt;
 * partly paid when 0 < Balance < TotalAmt; open otherwise. Deleted comes from Change Data Capture only.
 */
export const invoiceStatus = (raw: Pick<RawInvoice, 'TotalAmt' | 'Balance' | 'PrivateNote'>): { status: SourceInvoice['status']; sourceStatus: string } => {
  if (raw.TotalAmt === 0 && /^voided/i.test(raw.PrivateNote?.trim() ?? '')) return { status: 'void', sourceStatus: 'Voided' };
  if (raw.Balance === 0 && raw.TotalAmt > 0) return { status: 'paid', sourceStatus: 'Paid' };
  if (raw.Balance > 0 && raw.Balance < raw.TotalAmt) return { status: 'open', sourceStatus: 'PartiallyPaid' };
  return { status: 'open', sourceStatus: 'Open' };
};

// Sales lines (also those inside a bundle's group line). Subtotal, discount and description-only lines are not
// sold items. Line amounts are before tax: QuickBooks keeps tax on the document (TxnTaxDetail), not per line.
const salesLines = (lines: readonly RawLine[], currency: string, what: string): SourceInvoiceLine[] =>
  lines.flatMap((line): SourceInvoiceLine[] => {
    if (line.DetailType === 'GroupLineDetail') return salesLines(line.GroupLineDetail?.Line ?? [], currency, what);
    if (line.DetailType !== 'SalesItemLineDetail') return [];
    const item = line.SalesItemLineDetail?.ItemRef;
    return [{
      productId: item?.value ?? null,
      description: line.Description ?? item?.name ?? null,
      quantity: line.SalesItemLineDetail?.Qty ?? null,
      amountMinor: toMinor(line.Amount ?? 0, currency, `${what} line amount`),
    }];
  });

// A PO number is kept in a custom field named like "P.O. Number" or "PO #".
const poReference = (fields: RawInvoice['CustomField']): string | null =>
  fields?.find((f) => /^p\.?\s*o\.?\s*(number|no\.?|#)?$/i.test(f.Name?.trim() ?? '') && f.StringValue?.trim())?.StringValue?.trim() ?? null;

export const mapInvoice = (raw: RawInvoice, homeCurrency: string | null): SourceInvoice => {
  const what = `QuickBooks invoice ${raw.Id}`;
  const currency = currencyOf(raw.CurrencyRef, homeCurrency, what);
  const { status, sourceStatus } = invoiceStatus(raw);
  return {
    id: raw.Id,
    number: raw.DocNumber ?? null,
    customerId: raw.CustomerRef.value,
    currency,
    totalMinor: toMinor(raw.TotalAmt, currency, `${what} TotalAmt`),
    issueDate: raw.TxnDate,
    dueDate: raw.DueDate ?? raw.TxnDate,
    status,
    sourceStatus,
    // Stateless: the date of the last change of a voided invoice (the void itself, unless it was edited since).
    voidedDate: status === 'void' ? localDate(raw.MetaData?.LastUpdatedTime) ?? raw.TxnDate : null,
    disputed: false,
    terms: raw.SalesTermRef?.name ?? null,
    reference: poReference(raw.CustomField),
    lines: salesLines(raw.Line ?? [], currency, what),
    updatedAt: timestamp(raw.MetaData?.LastUpdatedTime),
  };
};

/** Stands for the customer of a deleted invoice, which Change Data Capture does not name. */
export const UNKNOWN_CUSTOMER = '(deleted)';

/**
 * An invoice Change Data Capture reports deleted. Only the id is known: the other fields are placeholders
 * (currency XXX, "no currency" in ISO 4217) that nothing should read; status `deleted` removes the invoice.
 */
export const mapDeletedInvoice = (raw: RawDeleted): SourceInvoice => {
  const date = localDate(raw.MetaData?.LastUpdatedTime) ?? '1970-01-01';
  return {
    id: raw.Id, number: null, customerId: UNKNOWN_CUSTOMER, currency: 'XXX', totalMinor: 0, issueDate: date, dueDate: date,
    status: 'deleted', sourceStatus: 'Deleted', voidedDate: null, disputed: false, terms: null, reference: null, lines: [],
    updatedAt: timestamp(raw.MetaData?.LastUpdatedTime),
  };
};

/** The id of the record holding the credit memos a payment applies (see mapPayment). */
export const creditApplicationId = (paymentId: string): string => `${paymentId}:credit`;

const addTo = (allocations: Map<string, number>, invoiceId: string, amountMinor: number): void => {
  if (amountMinor > 0) allocations.set(invoiceId, (allocations.get(invoiceId) ?? 0) + amountMinor);
};

const asAllocations = (allocations: Map<string, number>): SourcePayment['allocations'] =>
  [...allocations].map(([invoiceId, amountMinor]) => ({ invoiceId, amountMinor }));

/**
 * A Payment becomes up to two records. A payment line linking an Invoice is the amount applied to it; lines linking
 * a CreditMemo are credit spent in the same transaction (TotalAmt = invoice lines − credit lines + unapplied).
 * QuickBooks does not say which invoice the credit went to: it is applied to the invoice lines in their order,
 * and the rest of each line is money.
 * - `Id` (kind payment): TotalAmt, with the money part of each invoice line. A payment of 0 (credit only) is no
 *   money and is reported removed.
 * - `Id:credit` (kind credit_note): the credit applied, per invoice, dated the payment's TxnDate. Reported
 *   removed when the payment applies no credit and may have applied some before (it was edited: SyncToken ≠ "0").
 * Lines linking anything else (a JournalEntry, a deposit) are not invoice settlements.
 */
export const mapPayment = (raw: RawPayment, homeCurrency: string | null): SourcePayment[] => {
  const what = `QuickBooks payment ${raw.Id}`;
  const currency = currencyOf(raw.CurrencyRef, homeCurrency, what);
  const updatedAt = timestamp(raw.MetaData?.LastUpdatedTime);
  const applied: { invoiceId: string; amountMinor: number }[] = [];
  let credit = 0;
  for (const line of raw.Line ?? []) {
    const linked = line.LinkedTxn?.find((t) => t.TxnType === 'Invoice' || t.TxnType === 'CreditMemo');
    if (!linked) continue;
    const amountMinor = toMinor(line.Amount, currency, `${what} line amount`);
    if (linked.TxnType === 'Invoice') applied.push({ invoiceId: linked.TxnId, amountMinor });
    else credit += amountMinor;
  }
  const money = new Map<string, number>();
  const credited = new Map<string, number>();
  let creditLeft = credit;
  for (const line of applied) {
    const fromCredit = Math.min(creditLeft, Math.max(0, line.amountMinor));
    creditLeft -= fromCredit;
    addTo(credited, line.invoiceId, fromCredit);
    addTo(money, line.invoiceId, line.amountMinor - fromCredit);
  }
  const totalMinor = toMinor(raw.TotalAmt, currency, `${what} TotalAmt`);
  const creditMinor = credit - creditLeft;
  const records: SourcePayment[] = [{
    id: raw.Id, kind: 'payment', date: raw.TxnDate, currency, amountMinor: totalMinor,
    allocations: totalMinor > 0 ? asAllocations(money) : [], removed: totalMinor <= 0, updatedAt,
  }];
  if (creditMinor > 0 || raw.SyncToken !== '0') {
    records.push({
      id: creditApplicationId(raw.Id), kind: 'credit_note', date: raw.TxnDate, currency, amountMinor: creditMinor,
      allocations: asAllocations(credited), removed: creditMinor <= 0, updatedAt,
    });
  }
  return records;
};

/** A payment Change Data Capture reports deleted: both of its records go. */
export const mapDeletedPayment = (raw: RawDeleted): SourcePayment[] => {
  const updatedAt = timestamp(raw.MetaData?.LastUpdatedTime);
  const date = localDate(raw.MetaData?.LastUpdatedTime) ?? '1970-01-01';
  const gone = (id: string, kind: SourcePayment['kind']): SourcePayment => ({
    id, kind, date, currency: 'XXX', amountMinor: 0, allocations: [], removed: true, updatedAt,
  });
  return [gone(raw.Id, 'payment'), gone(creditApplicationId(raw.Id), 'credit_note')];
};

export const homeCurrencyOf = (preferences: z.infer<typeof RawPreferences>): string | null =>
  preferences.Preferences.CurrencyPrefs?.HomeCurrency?.value.toUpperCase() ?? null;
