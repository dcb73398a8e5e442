import type { Config } from '../config';
import type { TokenSource } from '../hubspot/client';
import { authFor, callerFor } from '../hubspot/connection';
import { classifyHubSpotError, hubspotErrorStatus } from '../hubspot/http-retry';
import { syncHubSpotInvoices, type SyncHubSpotInvoicesResult } from '../hubspot/invoice-source';
import { createLogger } from '../logger';
import type { Db } from '../store/database';
import type { Io } from './io';

export type SyncInvoicesCommand = {
  io: Io;
  config: Config;
  db: Db;
  portalId: number;
  /** List every invoice again instead of searching from the cursor. */
  full?: boolean;
  /** The portal's token; by default the private app's token or the stored OAuth install. */
  tokenFor?: TokenSource;
  /** How to wait between searches; retries wait in the portal's caller. */
  sleep?: (ms: number) => Promise<void>;
};

/**
 * The token source of the CLI: the private app's static token for its portal, else the portal's OAuth install
 * (tokens opened with the process's secret key, refreshed when near expiry).
 */
export const cliTokenSource = (config: Config, db: Db, io: Io): TokenSource => {
  const privateApp = config.hubspot.privateApp;
  let oauth: TokenSource | null = null;
  return async (portalId) => {
    if (privateApp && privateApp.portalId === portalId) return privateApp.accessToken;
    oauth ??= authFor(db, config, createLogger(config.logLevel, io.stderr)).tokenFor;
    return oauth(portalId);
  };
};

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

export const describeInvoiceSync = (r: SyncHubSpotInvoicesResult): string =>
  `${r.mode === 'list' ? 'listed' : 'searched'} ${plural(r.read, 'invoice')}` +
  `${r.alreadyRead > 0 ? ` (${r.alreadyRead} already read)` : ''}; ` +
  `invoices: ${r.invoicesInserted} new, ${r.invoicesUpdated} updated, ${r.invoicesUnchanged} unchanged; ` +
  `payments: ${r.paymentsAdded} added, ${r.paymentsRemoved} removed; ` +
  `skipped: ${plural(r.skippedDraft, 'draft')}, ${r.skippedNoCompany} without a company, ${r.skippedInvalid} invalid; ` +
  `${plural(r.requests, 'HubSpot request')}` +
  `${r.cursor !== null ? `; the next run reads changes from ${r.cursor}` : ''}`;

/** `arbridge hubspot sync-invoices [--full]`: reads HubSpot's invoices into the store (source hubspot). */
export const runSyncInvoices = async (command: SyncInvoicesCommand): Promise<SyncHubSpotInvoicesResult> => {
  const { io, config, db, portalId } = command;
  const tokenFor = command.tokenFor ?? cliTokenSource(config, db, io);
  // Calls go through the portal's paced caller (configured calls per 10 s, 429s waited out, 5xx retried);
  // each failed attempt of a kind it retries is reported before the caller tries again.
  const caller = callerFor(config, portalId);
  const call = <T>(fn: () => Promise<T>): Promise<T> => caller.call(async () => {
    try {
      return await fn();
    } catch (error) {
      if (classifyHubSpotError(error).retry) {
        const status = hubspotErrorStatus(error);
        io.stderr.write(`${status === null ? 'HubSpot unreachable' : `HubSpot answered ${status}`}; retrying\n`);
      }
      throw error;
    }
  });
  const result = await syncHubSpotInvoices({
    db, portalId, tokenFor, basePath: config.hubspot.apiBaseUrl, full: command.full ?? false, call,
    ...(command.sleep ? { sleep: command.sleep } : {}),
  });
  io.stdout.write(`${describeInvoiceSync(result)}\n`);
  for (const problem of result.problems) io.stderr.write(`  skipped ${problem}\n`);
  if (result.skippedInvalid > result.problems.length) io.stderr.write(`  … and ${result.skippedInvalid - result.problems.length} more\n`);
  return result;
};
