import type { Db } from '../store/database';
import { syncSource } from '../sync/engine';
import { hubspotConnectorFor } from '../sync/registry';
import type { TokenSource } from './client';
import type { RetryEvent } from './http-retry';

/**
 * HubSpot's invoice object as a source of facts (source `hubspot`): the connector (src/connectors/hubspot/,
 * where the mapping and the incremental reads are described) synced by the sync engine like the accounting
 * connectors: each page stored in one transaction with the cursor that follows it (sync_cursors: source
 * 'hubspot', stream 'invoices'), compared and set, so a crash resumes from the last committed page and two
 * runs of one portal cannot interleave (the second fails with SyncConflictError and writes nothing).
 */

export {
  cumulativeOfPaymentId, HUBSPOT_SOURCE, hubspotCalendarDate, hubspotTimestamp, INVOICE_PROPERTIES, INVOICES_STREAM, modifiedAtOf, PAID_PREFIX,
  paidPaymentId, parseCursor, parseInvoice, paymentChanges,
  type InvoiceCursor, type InvoiceObject, type ParsedInvoice, type ParseOutcome,
} from '../connectors/hubspot';

export type SyncHubSpotInvoicesOptions = {
  db: Db;
  portalId: number;
  /** A static token (private app), or */
  token?: string;
  /** the portal's current token, asked before every call (OAuth tokens are refreshed by it). */
  tokenFor?: TokenSource;
  /** HubSpot's API origin (https://api.hubapi.com, or a fake's URL in tests). */
  basePath: string;
  /** List every invoice again instead of searching from the cursor. */
  full?: boolean;
  /** What started the run, recorded in sync_runs (default `manual`). */
  trigger?: string;
  /** Invoices per request (default 100; the list API takes at most 100, search 200). */
  pageSize?: number;
  /** How to wait: between searches, and between attempts when `call` is not given. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Runs each HubSpot call: the portal's paced caller (`connection.caller.call`, see caller.ts), which keeps
   * all of the portal's jobs under its burst limit and retries. Default: withHubSpotRetry (429 with
   * Retry-After, 5xx and network failures) with `maxAttempts`, `sleep` and `onRetry`, unpaced.
   */
  call?: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Attempts per HubSpot call when `call` is not given (429, 5xx and network failures are retried; default 6). */
  maxAttempts?: number;
  /** Told of each retry when `call` is not given. */
  onRetry?: (event: RetryEvent) => void;
  /** Epoch ms; the fallback when a response has no Date header, and the search pacing clock. */
  now?: () => number;
  /** How far behind writes HubSpot's search index may be (default 2 minutes). */
  indexLagMs?: number;
  /** Results one search query can page through (HubSpot: 10,000). */
  searchResultCap?: number;
};

export type SyncHubSpotInvoicesResult = {
  /** Invoices HubSpot returned in this run. */
  read: number;
  /** Returned again unchanged since an earlier run read them (no further calls, no writes). */
  alreadyRead: number;
  invoicesInserted: number;
  invoicesUpdated: number;
  invoicesUnchanged: number;
  customersInserted: number;
  customersUpdated: number;
  paymentsAdded: number;
  paymentsRemoved: number;
  skippedDraft: number;
  skippedNoCompany: number;
  skippedInvalid: number;
  /** One line per invalid invoice, naming it and the property (at most 100). */
  problems: string[];
  /** HubSpot requests made, retries included. */
  requests: number;
  mode: 'list' | 'search';
  /** The modification time (ISO) the next run searches from. */
  cursor: string | null;
};

/** Reads HubSpot invoices into the store through the sync engine; see src/connectors/hubspot/connector.ts. */
export const syncHubSpotInvoices = async (options: SyncHubSpotInvoicesOptions): Promise<SyncHubSpotInvoicesResult> => {
  const { db, portalId, token, tokenFor } = options;
  if (token === undefined && tokenFor === undefined) throw new Error('syncHubSpotInvoices needs token or tokenFor');
  const connector = hubspotConnectorFor(db, portalId, {
    credentials: token !== undefined ? async () => token : () => (tokenFor as TokenSource)(portalId),
    basePath: options.basePath,
    ...(options.pageSize !== undefined ? { pageSize: options.pageSize } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
    ...(options.call ? { call: options.call } : {}),
    ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
    ...(options.onRetry ? { onRetry: options.onRetry } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.indexLagMs !== undefined ? { indexLagMs: options.indexLagMs } : {}),
    ...(options.searchResultCap !== undefined ? { searchResultCap: options.searchResultCap } : {}),
  });
  const run = await syncSource(db, portalId, connector, { full: options.full ?? false, trigger: options.trigger ?? 'manual' });
  const { stats } = connector;
  return {
    read: stats.read, alreadyRead: stats.alreadyRead,
    invoicesInserted: run.invoicesInserted, invoicesUpdated: run.invoicesUpdated,
    invoicesUnchanged: run.invoices - run.invoicesInserted - run.invoicesUpdated,
    customersInserted: run.customersInserted, customersUpdated: run.customersUpdated,
    paymentsAdded: run.payments, paymentsRemoved: run.paymentsRemoved,
    skippedDraft: stats.skippedDraft, skippedNoCompany: stats.skippedNoCompany, skippedInvalid: stats.skippedInvalid,
    problems: stats.problems, requests: stats.requests, mode: stats.mode ?? 'search',
    cursor: stats.since === null ? null : new Date(stats.since).toISOString(),
  };
};
