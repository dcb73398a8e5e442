import { AccountingApi, type Contact, type CreditNote, type Invoice, type Overpayment, type Payment, type Prepayment } from 'xero-node';
import { SourceError } from '../types';

// The calls of Xero's Accounting API that a pull makes, through xero-node's AccountingApi, and Xero's failures as
// SourceErrors. xero-node rejects with a JSON string `{"response":{"statusCode","body","headers"},"body"}`.

/** One list request: every list is ordered by UpdatedDateUTC, filtered by `where`, and read page by page. */
export type ListRequest = {
  /** Only objects created or changed since then (the If-Modified-Since header), or every object. */
  since: Date | null;
  page: number;
  pageSize: number;
};

export type XeroLists = {
  contacts(request: ListRequest): Promise<Contact[]>;
  /** Contacts by id (archived ones included), for invoices whose contact a pull may not have. */
  contactsById(ids: readonly string[]): Promise<Contact[]>;
  invoices(request: ListRequest): Promise<Invoice[]>;
  payments(request: ListRequest): Promise<Payment[]>;
  creditNotes(request: ListRequest): Promise<CreditNote[]>;
  overpayments(request: ListRequest): Promise<Overpayment[]>;
  prepayments(request: ListRequest): Promise<Prepayment[]>;
};

export type XeroClientOptions = {
  /** The Accounting API's base path (XERO_API_URL + '/api.xro/2.0'). */
  basePath: string;
  tenantId: string;
  /** A valid access token for each call. */
  credentials: () => Promise<string>;
  timeoutMs: number;
};

const ORDER = 'UpdatedDateUTC ASC';
// Invoices still to be paid or already settled or cancelled; DRAFT and SUBMITTED ones are not facts.
const INVOICE_STATUSES = ['AUTHORISED', 'PAID', 'VOIDED', 'DELETED'];

type Failure = { statusCode: number; headers: Record<string, unknown>; body: unknown };

/** What xero-node rejected with, read back; null when it is not one of its errors. */
const failureOf = (error: unknown): Failure | null => {
  let value: unknown = error;
  if (typeof error === 'string') {
    try {
      value = JSON.parse(error);
    } catch {
      return null;
    }
  }
  const response = (value as { response?: { statusCode?: unknown; status?: unknown; headers?: unknown; body?: unknown; data?: unknown } } | null)?.response;
  if (!response || typeof response !== 'object') return null;
  const statusCode = typeof response.statusCode === 'number' ? response.statusCode : typeof response.status === 'number' ? response.status : 0;
  const headers = response.headers && typeof response.headers === 'object' ? response.headers as Record<string, unknown> : {};
  return { statusCode, headers, body: response.body ?? response.data };
};

const header = (headers: Record<string, unknown>, name: string): string | null => {
  const found = Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
  const value = Array.isArray(found) ? found[0] : found;
  return value === undefined || value === null ? null : String(value);
};

/** Retry-After in milliseconds: delta seconds or an HTTP date; null when absent or unreadable. */
export const retryAfterMs = (value: string | null, now: number = Date.now()): number | null => {
  if (value === null || value.trim() === '') return null;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.ceil(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
};

/** Xero's own words for a failure: an error's Message, a problem's Detail or Title, or the text. */
const detailOf = (body: unknown): string | null => {
  if (typeof body === 'string') return body.trim().slice(0, 200) || null;
  if (!body || typeof body !== 'object') return null;
  const b = body as { Message?: unknown; Detail?: unknown; Title?: unknown; Elements?: unknown };
  const elements = Array.isArray(b.Elements) ? b.Elements as { ValidationErrors?: { Message?: unknown }[] }[] : [];
  const validation = elements.flatMap((e) => e.ValidationErrors ?? []).map((v) => String(v.Message ?? '')).filter(Boolean);
  const parts = [b.Message, b.Detail ?? b.Title, ...validation].filter((p) => typeof p === 'string' && p.trim() !== '');
  return parts.length > 0 ? parts.join('; ').slice(0, 300) : null;
};

/** A failed call as a SourceError: 429, 5xx and network failures may succeed later; other answers will not. */
export const sourceErrorOf = (error: unknown, action: string): SourceError => {
  if (error instanceof SourceError) return error;
  const failure = failureOf(error);
  if (failure === null) {
    const message = error instanceof Error ? error.message : String(error);
    return new SourceError('xero', `Xero could not ${action}: ${message}`, true, null, { cause: error });
  }
  const { statusCode, headers, body } = failure;
  const detail = detailOf(body);
  const said = detail ? `: ${detail}` : '';
  if (statusCode === 0) return new SourceError('xero', `Xero could not be reached to ${action}${said}`, true, null, { cause: error });
  if (statusCode === 429) {
    // X-Rate-Limit-Problem names the limit: minute, day, concurrent (per organisation) or appminute (all of ours).
    const problem = header(headers, 'x-rate-limit-problem') ?? 'unknown';
    const wait = retryAfterMs(header(headers, 'retry-after'));
    return new SourceError('xero', `Xero's ${problem} rate limit was reached while trying to ${action}`, true, wait, { cause: error });
  }
  if (statusCode >= 500) return new SourceError('xero', `Xero failed (HTTP ${statusCode}) to ${action}${said}`, true, null, { cause: error });
  if (statusCode === 401) return new SourceError('xero', `Xero refused the access token (HTTP 401) to ${action}${said}`, false, null, { cause: error });
  if (statusCode === 403) {
    return new SourceError('xero', `Xero refused access to the organisation (HTTP 403) to ${action}; it may have been disconnected${said}`, false, null, { cause: error });
  }
  return new SourceError('xero', `Xero refused (HTTP ${statusCode}) to ${action}${said}`, false, null, { cause: error });
};

const withTimeout = async <T>(call: Promise<T>, timeoutMs: number, action: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SourceError('xero', `Xero did not answer within ${timeoutMs} ms to ${action}`, true)), timeoutMs);
  });
  try {
    return await Promise.race([call, timeout]);
  } finally {
    clearTimeout(timer);
  }
};

/** The list calls of one organisation through xero-node, each with the access token of the moment. */
export const createXeroLists = (options: XeroClientOptions): XeroLists => {
  const api = new AccountingApi(options.basePath);
  const { tenantId } = options;

  const call = async <T>(action: string, run: () => Promise<{ body: T }>): Promise<T> => {
    try {
      // xero-node applies the token when it sends the request; calls of one pull run one after another.
      api.accessToken = await options.credentials();
      return (await withTimeout(run(), options.timeoutMs, action)).body;
    } catch (error) {
      throw sourceErrorOf(error, action);
    }
  };
  const since = (request: ListRequest): Date | undefined => request.since ?? undefined;

  return {
    contacts: async (r) => (await call('list contacts', () =>
      api.getContacts(tenantId, since(r), 'IsCustomer==true', ORDER, undefined, r.page, true, false, undefined, r.pageSize))).contacts ?? [],
    contactsById: async (ids) => (ids.length === 0 ? [] : (await call('read contacts', () =>
      api.getContacts(tenantId, undefined, undefined, undefined, [...ids], undefined, true))).contacts ?? []),
    invoices: async (r) => (await call('list invoices', () =>
      api.getInvoices(tenantId, since(r), 'Type=="ACCREC"', ORDER, undefined, undefined, undefined, INVOICE_STATUSES, r.page,
        undefined, undefined, undefined, false, r.pageSize))).invoices ?? [],
    payments: async (r) => (await call('list payments', () =>
      api.getPayments(tenantId, since(r), 'PaymentType=="ACCRECPAYMENT"', ORDER, r.page, r.pageSize))).payments ?? [],
    creditNotes: async (r) => (await call('list credit notes', () =>
      api.getCreditNotes(tenantId, since(r), 'Type=="ACCRECCREDIT"', ORDER, r.page, undefined, r.pageSize))).creditNotes ?? [],
    overpayments: async (r) => (await call('list overpayments', () =>
      api.getOverpayments(tenantId, since(r), 'Type=="RECEIVE-OVERPAYMENT"', ORDER, r.page, undefined, r.pageSize))).overpayments ?? [],
    prepayments: async (r) => (await call('list prepayments', () =>
      api.getPrepayments(tenantId, since(r), 'Type=="RECEIVE-PREPAYMENT"', ORDER, r.page, undefined, r.pageSize))).prepayments ?? [],
  };
};
