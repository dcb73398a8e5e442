import type { IncomingHttpHeaders } from 'node:http';
import type { IsoDate, SettlementKind } from '../domain/types';

// One interface for every system that owns invoices. A connector reads pages of changes in the canonical model
// (customers, invoices with lines, payments / credit notes / write-offs with their allocations) after a durable
// cursor; the sync engine (src/sync/) applies each page and its cursor in one transaction, so a crash between
// pages loses nothing and repeats nothing. Connectors do no database I/O.

export type AccountingSourceName = 'stripe' | 'xero' | 'quickbooks';

/**
 * Every source of facts that reads through this interface: the accounting connections, HubSpot's invoice
 * object (read with the portal's HubSpot token, no accounting connection) and CSV files.
 */
export type SourceName = AccountingSourceName | 'hubspot' | 'csv';

export const ACCOUNTING_SOURCE_NAMES: readonly AccountingSourceName[] = ['stripe', 'xero', 'quickbooks'];

export const isAccountingSource = (source: string): source is AccountingSourceName =>
  (ACCOUNTING_SOURCE_NAMES as readonly string[]).includes(source);

/** A customer as the source has it. `updatedAt`: ISO timestamp of the source's last change, when it says. */
export type SourceCustomer = {
  id: string;
  name: string | null;
  email: string | null;
  /** The email's or website's domain, lower case, when the source has one (matching uses it). */
  domain: string | null;
  country: string | null;
  /** Default billing currency (upper-case ISO 4217), when the source has one. */
  currency: string | null;
  /** Deleted or archived in the source: kept (its invoices are facts), flagged. */
  archived: boolean;
  /** A credit limit kept in the source, in minor units of `creditLimitCurrency`; null when it has none. */
  creditLimitMinor: number | null;
  creditLimitCurrency: string | null;
  updatedAt: string | null;
  /** The industry, when the source keeps one (HubSpot companies, CSV files); absent: the stored one stays. */
  industry?: string | null;
};

export type SourceInvoiceLine = {
  /** The product or item id in the source, when the line names one. */
  productId: string | null;
  /** The product's name or the line's description. */
  description: string | null;
  quantity: number | null;
  /** Line amount in minor units of the invoice's currency, tax included when the source's total includes it. */
  amountMinor: number;
};

/**
 * The normalized status: `draft` and `deleted` invoices are not facts (a sync removes them from the store with
 * their allocations); `void` keeps the invoice with its void date; `uncollectible` is open with a write-off to come
 * as a SourcePayment of kind write_off; `paid`/`open` are as the source says (the store derives its own from
 * the settlements).
 */
export type SourceInvoiceStatus = 'draft' | 'open' | 'paid' | 'void' | 'uncollectible' | 'deleted';

export type SourceInvoice = {
  id: string;
  number: string | null;
  customerId: string;
  /** Upper-case ISO 4217. */
  currency: string;
  /** Tax included, minor units. */
  totalMinor: number;
  issueDate: IsoDate;
  /** The issue date when the source has no due date (due on receipt). */
  dueDate: IsoDate;
  status: SourceInvoiceStatus;
  /** The source's own status text, kept as it is. */
  sourceStatus: string;
  voidedDate: IsoDate | null;
  disputed: boolean;
  terms: string | null;
  /** A PO or quote reference (matching may tie it to a HubSpot deal). */
  reference: string | null;
  lines: SourceInvoiceLine[];
  updatedAt: string | null;
  /** The sales rep, when the source names one (CSV files); absent on every invoice of a page: stored ones stay. */
  salesRep?: string | null;
  /** A HubSpot deal id the source records on the invoice (a CSV's deal_id); absent on every invoice of a page: stored ones stay. */
  dealId?: string | null;
  /** The deal HubSpot associates the invoice with (HubSpot's invoice object); absent: the stored one stays. */
  hubspotDealId?: string | null;
};

/** Invoice attributes a page may not carry (see ChangePage.keep). */
export const INVOICE_ATTRIBUTES = ['number', 'voidedDate', 'disputed', 'salesRep', 'product', 'dealId', 'terms', 'reference'] as const;
export type InvoiceAttribute = (typeof INVOICE_ATTRIBUTES)[number];

/**
 * A payment, credit note or write-off with its allocations to invoices (by the source's invoice ids), in the
 * currency of those invoices. `removed`: deleted, voided, failed or fully refunded in the source; the store drops it.
 * A partial refund is the payment with smaller allocations.
 */
export type SourcePayment = {
  id: string;
  kind: SettlementKind;
  date: IsoDate;
  currency: string;
  amountMinor: number;
  allocations: { invoiceId: string; amountMinor: number }[];
  removed: boolean;
  updatedAt: string | null;
};

/**
 * One page of changes. Within a pull, a connector sends customers before the invoices that name them and
 * invoices before the payments allocated to them (e.g. by pulling in phases recorded in the cursor), so every
 * reference resolves when the page is applied; an allocation to an invoice the store does not have (e.g. a
 * non-receivable document) is skipped and counted.
 */
export type ChangePage = {
  customers: SourceCustomer[];
  invoices: SourceInvoice[];
  payments: SourcePayment[];
  /** Opaque, JSON-serializable text: where the next pull starts. Stored with the page, in its transaction. */
  cursor: string;
  /** True when the source has nothing more after `cursor` for now. */
  done: boolean;
  /**
   * Invoice attributes the source does not have (HubSpot invoices have no terms; a CSV file may lack a
   * column): a stored invoice keeps its value of them, a new one gets null (false for `disputed`).
   */
  keep?: InvoiceAttribute[];
};

export type SourceConnector<S extends SourceName = SourceName> = {
  readonly source: S;
  /** The sync_cursors stream the cursor is kept under (default `main`). */
  readonly stream?: string;
  /**
   * The page of changes after `cursor`; `null` starts a full pull from the beginning. The connector respects the
   * source's rate limits and Retry-After, and retries what is safe to retry; it throws SourceError otherwise.
   */
  pull(cursor: string | null): Promise<ChangePage>;
};

export type AccountingConnector = SourceConnector<AccountingSourceName>;

/** What a verified webhook delivery says changed. Payloads are hints: the engine pulls from the cursor. */
export type WebhookHint = {
  /** Unique per delivery event (deduplicated). */
  eventId: string;
  /** The tenant (Stripe account, Xero tenant, QuickBooks realm) the event belongs to. */
  tenantId: string | null;
  objectType: 'customer' | 'invoice' | 'payment' | 'credit_note' | 'other';
  objectId: string | null;
  occurredAt: string | null;
};

export type WebhookVerification =
  | { ok: true; hints: WebhookHint[] }
  /** `handshake`: Xero's intent-to-receive (answer 200 with an empty body when the signature is valid, else 401). */
  | { ok: false; reason: string };

export type WebhookVerifier = (rawBody: Buffer, headers: IncomingHttpHeaders) => WebhookVerification;

/** A failure talking to the source; `retryable` when a later attempt may succeed (5xx, 429, network). */
export class SourceError extends Error {
  constructor(
    readonly source: AccountingSourceName,
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs: number | null = null,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'SourceError';
  }
}
