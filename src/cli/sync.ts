import { Option, type Command } from 'commander';
import { ProviderError } from '../accounting/errors';
import { createStripeAuth, StripeKeySchema } from '../accounting/stripe-auth';
import { quickbooksConfigured } from '../accounting/quickbooks-auth';
import { xeroConfigured } from '../accounting/xero-auth';
import type { Config } from '../config';
import { SourceError, type AccountingSourceName } from '../connectors/types';
import { signToken, LINK_TTL_MS, connectCallbackPath } from '../http/routes/connect';
import { newNonce } from '../http/routes/oauth';
import { resolveSecretKey } from '../secrets/keys';
import { saveConnection } from '../services/connections';
import type { Store } from '../store/store';
import { PROVIDER_LABELS, SyncAbortedError, SyncConflictError, syncSource, type SyncLogger, type SyncProgress, type SyncResult } from '../sync/engine';
import { InvalidPageError } from '../sync/page';
import { connectorFor, ConnectorUnavailableError, type ConnectorFactory } from '../sync/registry';
import { portalSyncStatus, type ConnectionSyncView } from '../sync/status';
import { InputError, UsageError, type Io } from './io';
import { progressLine } from './progress';

// `arbridge sync`, `arbridge connections` and `arbridge connect`: the accounting systems from the command line.

export type SyncCliDeps = {
  io: Io;
  config: Config;
  /** Runs `work` on the opened store and the portal of the command (--portal, else the default). */
  withStore: <T>(work: (store: Store, portalId: number) => Promise<T>) => Promise<T>;
  /** Connector factories to use instead of the built-in ones (tests). */
  factories?: Partial<Record<AccountingSourceName, ConnectorFactory>>;
};

const SOURCES = ['stripe', 'xero', 'quickbooks'] as const satisfies readonly AccountingSourceName[];

const plural = (n: number, one: string, many = `${one}s`): string => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** The run's counts as one line: `12 pages; 30 customers, 560 invoices (3 removed), ...`. */
export const describeSync = (r: SyncProgress): string => {
  const removed = (n: number): string => (n > 0 ? ` (${n.toLocaleString('en-US')} removed)` : '');
  return `${plural(r.pages, 'page')}; ${plural(r.customers, 'customer')}, ${plural(r.invoices, 'invoice')}${removed(r.invoicesRemoved)}, `
    + `${plural(r.payments, 'payment')}${removed(r.paymentsRemoved)}`
    + `${r.skippedAllocations > 0 ? `; ${plural(r.skippedAllocations, 'allocation')} to invoices not synced skipped` : ''}`
    + `${r.placeholderCustomers > 0 ? `; ${plural(r.placeholderCustomers, 'customer')} named by invoices before the source sent them` : ''}`;
};

/** A logger that turns the engine's retries into lines on stderr and keeps the rest quiet. */
const cliLogger = (io: Io, source: AccountingSourceName): SyncLogger => ({
  info: () => undefined,
  debug: () => undefined,
  warn: (fields) => {
    const f = fields as { waitMs?: number; error?: string; attempt?: number };
    const wait = f.waitMs !== undefined ? `; retrying in ${(f.waitMs / 1000).toFixed(1)} s` : '';
    io.stderr.write(`\r${source}: ${f.error ?? 'the source failed'}${wait}\u001b[K\n`);
  },
});

/** The sources of the portal that `arbridge sync` reads without --source: connected, or in error. */
const syncableSources = async (store: Store, portalId: number): Promise<AccountingSourceName[]> => {
  const rows = await store.db.selectFrom('accounting_connections').select('source')
    .where('portal_id', '=', portalId).where('status', 'in', ['connected', 'error']).where('credentials_enc', 'is not', null)
    .execute();
  return SOURCES.filter((s) => rows.some((r) => r.source === s));
};

/** `arbridge sync [--source S] [--full]`: pulls each source's changes into the store, with progress on stderr. */
export const runSyncCommand = async (
  deps: SyncCliDeps, flags: { source?: AccountingSourceName; full?: boolean },
): Promise<SyncResult[]> => {
  const { io, config } = deps;
  const key = resolveSecretKey(config);
  return deps.withStore(async (store, portalId) => {
    const sources = flags.source ? [flags.source] : await syncableSources(store, portalId);
    if (sources.length === 0) {
      throw new InputError(`no accounting system is connected for portal ${portalId}; connect one with \`arbridge connect stripe --key …\`, or Xero or QuickBooks from the settings page (\`arbridge connect xero\`)`);
    }
    const controller = new AbortController();
    const interrupt = (): void => controller.abort();
    process.once('SIGINT', interrupt);
    const results: SyncResult[] = [];
    const failures: string[] = [];
    try {
      for (const source of sources) {
        const line = progressLine(io, `syncing ${source}:`);
        try {
          const connector = await connectorFor(source, {
            db: store.db, key, portalId, config, ...(deps.factories ? { factories: deps.factories } : {}),
          });
          const result = await syncSource(store.db, portalId, connector, {
            full: flags.full ?? false, trigger: 'cli', signal: controller.signal, logger: cliLogger(io, source),
            onPage: (progress) => line.update(describeSync(progress)),
          });
          line.done();
          results.push(result);
          io.stdout.write(`${source}: ${flags.full ? 'full sync, ' : ''}${describeSync(result)}\n`);
        } catch (error) {
          line.done();
          if (error instanceof SyncAbortedError) {
            throw new InputError(`${source}: stopped; what was stored stays, and the next \`arbridge sync\` resumes from there`);
          }
          const known = error instanceof SourceError || error instanceof ConnectorUnavailableError || error instanceof SyncConflictError || error instanceof InvalidPageError;
          if (!known) throw error;
          failures.push(`${source}: ${error.message}`);
          io.stderr.write(`arbridge: ${source}: ${error.message}\n`);
        }
      }
    } finally {
      process.removeListener('SIGINT', interrupt);
    }
    if (failures.length > 0) throw new InputError(`${plural(failures.length, 'source')} did not sync (see above); \`arbridge connections\` shows each one's state`);
    return results;
  });
};

const when = (iso: string | null): string => (iso === null ? '-' : iso.replace('T', ' ').replace(/\.\d{3}Z$/, 'Z'));

const shorten = (text: string | null, width: number): string => {
  if (text === null) return '-';
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
};

/** The JSON of `arbridge connections --format json` (documented in the README). */
export const connectionsJson = (views: readonly ConnectionSyncView[]): Record<string, unknown>[] => views.map((v) => ({
  portal_id: v.portalId,
  source: v.source,
  status: v.status,
  tenant_id: v.tenantId,
  tenant_name: v.tenantName,
  last_sync_at: v.lastSyncAt,
  last_error: v.lastError,
  last_error_at: v.lastErrorAt,
  cursor: v.cursor,
  cursor_updated_at: v.cursorUpdatedAt,
  pending_webhook_events: v.pendingEvents,
  last_run: v.lastRun && {
    trigger: v.lastRun.trigger, full: v.lastRun.full, state: v.lastRun.state, started_at: v.lastRun.startedAt,
    finished_at: v.lastRun.finishedAt, pages: v.lastRun.pages, customers: v.lastRun.customers, invoices: v.lastRun.invoices,
    invoices_removed: v.lastRun.invoicesRemoved, payments: v.lastRun.payments, payments_removed: v.lastRun.paymentsRemoved,
    skipped_allocations: v.lastRun.skippedAllocations, error: v.lastRun.error,
  },
}));

/** `arbridge connections`: each source's status, tenant, last sync, last run, cursor and last error. */
export const formatConnectionsTable = (views: readonly ConnectionSyncView[]): string => {
  const rows = views.map((v) => [
    v.source,
    v.status,
    shorten(v.tenantName ?? v.tenantId, 28),
    when(v.lastSyncAt),
    v.lastRun ? `${v.lastRun.state} ${when(v.lastRun.startedAt)}${v.lastRun.state === 'ok' ? ` (${v.lastRun.pages}p)` : ''}` : '-',
    shorten(v.cursor, 24),
    shorten(v.lastError, 60),
  ]);
  const header = ['source', 'status', 'tenant', 'last sync', 'last run', 'cursor', 'last error'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
};

/** The connect page's link for the portal, signed as the settings page's links are (good for 10 minutes). */
export const connectLink = (config: Pick<Config, 'publicUrl'>, key: Buffer, portalId: number, now = Date.now()): string => {
  const token = signToken(key, 'link', { p: portalId, u: 'arbridge cli', iat: now, n: newNonce() });
  return `${config.publicUrl}/connect?token=${encodeURIComponent(token)}`;
};

export const registerSyncCommands = (program: Command, deps: SyncCliDeps): void => {
  const { io, config } = deps;

  program.command('sync').description('pull the changes of the connected accounting systems into the store')
    .addOption(new Option('--source <source>', 'only this accounting system').choices(SOURCES))
    .option('--full', 'read everything again from the start instead of the changes since the last sync')
    .action(async (flags: { source?: AccountingSourceName; full?: boolean }) => {
      await runSyncCommand(deps, flags);
    });

  program.command('connections').description('status, tenant, last sync, cursor and last error of each accounting system')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action((flags: { format: 'table' | 'json' }) => deps.withStore(async (store, portalId) => {
      const views = await portalSyncStatus(store.db, portalId);
      io.stdout.write(flags.format === 'json' ? `${JSON.stringify(connectionsJson(views))}\n` : formatConnectionsTable(views));
    }));

  program.command('connect <source>').description('connect Stripe with an API key, or print how to connect Xero or QuickBooks')
    .option('--key <key>', 'Stripe: a restricted key (rk_…) with read access to invoices, customers, charges and credit notes, or a secret key (sk_…)')
    .action(async (sourceText: string, flags: { key?: string }) => {
      if (!(SOURCES as readonly string[]).includes(sourceText)) throw new UsageError(`connect takes stripe, xero or quickbooks (got "${sourceText}")`);
      const source = sourceText as AccountingSourceName;
      if (source !== 'stripe') {
        if (flags.key !== undefined) throw new UsageError(`--key is for Stripe; ${PROVIDER_LABELS[source]} connects with OAuth in a browser`);
        const configured = source === 'xero' ? xeroConfigured(config.accounting.xero) : quickbooksConfigured(config.accounting.quickbooks);
        const variables = source === 'xero' ? 'XERO_CLIENT_ID and XERO_CLIENT_SECRET' : 'QUICKBOOKS_CLIENT_ID and QUICKBOOKS_CLIENT_SECRET';
        if (!configured) throw new InputError(`${PROVIDER_LABELS[source]} is not set up on this service: set ${variables} (the app's credentials), then run this again`);
        const key = resolveSecretKey(config);
        await deps.withStore(async (_store, portalId) => {
          io.stdout.write(
            `${PROVIDER_LABELS[source]} connects with OAuth in a browser, where you sign in and choose the ${source === 'xero' ? 'organisation' : 'company'}.\n`
            + `Open the ARBridge settings page in HubSpot and choose Connect, or open this link within ${LINK_TTL_MS / 60_000} minutes (portal ${portalId}):\n`
            + `  ${connectLink(config, key, portalId)}\n`
            + `The service must be running at ${config.publicUrl} (ARBRIDGE_PUBLIC_URL), and the ${PROVIDER_LABELS[source]} app must list `
            + `${config.publicUrl}${connectCallbackPath(source)} as a redirect URI.\n`,
          );
        });
        return;
      }
      if (flags.key === undefined) throw new UsageError('connect stripe needs --key rk_… (a restricted key) or sk_… (a secret key)');
      const apiKey = StripeKeySchema.safeParse(flags.key);
      if (!apiKey.success) throw new UsageError(`--key ${apiKey.error.issues[0]?.message ?? 'is not a Stripe key'}`);
      const key = resolveSecretKey(config);
      let account;
      try {
        account = await createStripeAuth(config.accounting.stripe).verify(apiKey.data);
      } catch (error) {
        if (error instanceof ProviderError) throw new InputError(error.message);
        throw error;
      }
      await deps.withStore(async (store, portalId) => {
        await saveConnection(store.db, key, portalId, 'stripe', {
          tenantId: account.accountId, tenantName: account.name, credentials: { api_key: apiKey.data }, scopes: null,
          expiresAt: null, connectedBy: 'arbridge cli', now: new Date(),
        });
        io.stdout.write(
          `Stripe is connected to ${account.name}${account.accountId ? ` (${account.accountId})` : ''}${account.livemode ? '' : ', in test mode'} for portal ${portalId}.\n`
          + 'Run `arbridge sync --source stripe` to read it now; the service also syncs it on its schedule.\n',
        );
      });
    });
};
