import { ProviderError } from '../accounting/errors';
import type { QuickBooksCredentials } from '../accounting/quickbooks-auth';
import type { StripeCredentials } from '../accounting/stripe-auth';
import type { XeroCredentials } from '../accounting/xero-auth';
import { SourceError, type AccountingSourceName } from '../connectors/types';
import { openSecret, sealSecret } from '../secrets/crypto';
import { credentialsContext } from '../services/connections';
import type { Db } from '../store/database';
import type { Executor } from '../store/facts';
import { PROVIDER_LABELS, recordConnectionError } from './engine';

/**
 * The credentials a sync reads a source with. Stripe: the stored API key. Xero and QuickBooks: an access token
 * that is refreshed when it expires within five minutes. Both rotate the refresh token on every refresh, so the
 * new token set is sealed and committed BEFORE the access token is handed out: a process that dies right after
 * still has the refresh token that works. The refresh runs with the connection's row locked (FOR UPDATE), so two
 * processes on one PostgreSQL never refresh the same token set; the second finds the first one's new tokens.
 * Within a process, callers for one connection share one refresh.
 */

export type OAuthSource = 'xero' | 'quickbooks';

export type CredentialsOf<S extends AccountingSourceName> =
  S extends 'xero' ? XeroCredentials : S extends 'quickbooks' ? QuickBooksCredentials : StripeCredentials;

/** What refreshes a token set: XeroAuth / QuickBooksAuth (src/accounting/). */
export type TokenRefresher<S extends OAuthSource> = { refresh(credentials: CredentialsOf<S>): Promise<CredentialsOf<S>> };

/** Refresh when the access token expires within this. */
export const REFRESH_MARGIN_MS = 5 * 60_000;

export type StoredConnection = {
  status: 'connected' | 'error' | 'disconnected';
  tenantId: string | null;
  tenantName: string | null;
  credentials: Record<string, unknown> | null;
};

/** Reconnecting is what fixes a refused token or key. */
export const reconnectMessage = (source: AccountingSourceName): string =>
  `reconnect ${PROVIDER_LABELS[source]} in ARBridge settings`;

const openRow = (
  key: Buffer, portalId: number, source: AccountingSourceName,
  row: { status: StoredConnection['status']; tenant_id: string | null; tenant_name: string | null; credentials_enc: string | null },
): StoredConnection => ({
  status: row.status,
  tenantId: row.tenant_id,
  tenantName: row.tenant_name,
  credentials: row.credentials_enc === null
    ? null
    : JSON.parse(openSecret(key, row.credentials_enc, credentialsContext(portalId, source))) as Record<string, unknown>,
});

/**
 * The connection with its opened credentials, whatever its status (a connection in `error` is still synced:
 * the error may have passed); null when there is no row. Throws when the credentials do not open (another key).
 */
export const storedConnection = async (
  db: Executor, key: Buffer, portalId: number, source: AccountingSourceName, { lock = false }: { lock?: boolean } = {},
): Promise<StoredConnection | null> => {
  let query = db.selectFrom('accounting_connections').select(['status', 'tenant_id', 'tenant_name', 'credentials_enc'])
    .where('portal_id', '=', portalId).where('source', '=', source);
  if (lock) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  if (!row) return null;
  try {
    return openRow(key, portalId, source, row);
  } catch {
    throw new SourceError(source, `the stored credentials cannot be opened with this service's ARBRIDGE_SECRET_KEY; ${reconnectMessage(source)}`, false);
  }
};

/** The credentials of a usable connection, or a non-retryable SourceError saying what to do. */
const usableCredentials = <S extends AccountingSourceName>(source: S, connection: StoredConnection | null): CredentialsOf<S> => {
  if (!connection || connection.status === 'disconnected' || connection.credentials === null) {
    throw new SourceError(source, `${PROVIDER_LABELS[source]} is not connected; connect it in ARBridge settings`, false);
  }
  return connection.credentials as CredentialsOf<S>;
};

/** The Stripe API key of the portal's connection. */
export const stripeKeyFor = async (db: Db, key: Buffer, portalId: number): Promise<string> => {
  const credentials = usableCredentials('stripe', await storedConnection(db, key, portalId, 'stripe'));
  if (typeof credentials.api_key !== 'string' || credentials.api_key === '') {
    throw new SourceError('stripe', `the stored Stripe key is missing; ${reconnectMessage('stripe')}`, false);
  }
  return credentials.api_key;
};

const fresh = (credentials: { expires_at: number | null }, now: number): boolean =>
  credentials.expires_at === null || credentials.expires_at * 1000 - now > REFRESH_MARGIN_MS;

const refreshing = new WeakMap<Db, Map<string, Promise<string>>>();

/**
 * A valid access token for the portal's Xero or QuickBooks connection, refreshed (and the new token set
 * committed) first when it expires within five minutes. A refused refresh (revoked consent, expired or reused
 * refresh token) marks the connection `error` with "reconnect … in ARBridge settings" and throws a
 * non-retryable SourceError; an unreachable token endpoint throws a retryable one.
 */
export const accessTokenFor = async <S extends OAuthSource>(
  db: Db, key: Buffer, portalId: number, source: S, auth: TokenRefresher<S>, { now = Date.now }: { now?: () => number } = {},
): Promise<string> => {
  const current = usableCredentials(source, await storedConnection(db, key, portalId, source));
  if (fresh(current, now())) return current.access_token;

  let flights = refreshing.get(db);
  if (!flights) {
    flights = new Map();
    refreshing.set(db, flights);
  }
  const flightKey = `${portalId}:${source}`;
  const running = flights.get(flightKey);
  if (running) return running;

  const flight = (async (): Promise<string> => {
    let refused: string | null = null;
    try {
      return await db.transaction().execute(async (trx) => {
        const locked = usableCredentials(source, await storedConnection(trx, key, portalId, source, { lock: true }));
        // Another process may have refreshed while this one waited for the lock.
        if (fresh(locked, now())) return locked.access_token;
        let next: CredentialsOf<S>;
        try {
          next = await auth.refresh(locked);
        } catch (error) {
          if (error instanceof ProviderError && error.kind === 'refused') {
            refused = `${error.message}; ${reconnectMessage(source)}`;
            throw new SourceError(source, refused, false, null, { cause: error });
          }
          throw new SourceError(source, error instanceof Error ? error.message : String(error), true, null, { cause: error });
        }
        const at = new Date(now());
        await trx.updateTable('accounting_connections').set({
          credentials_enc: sealSecret(key, JSON.stringify(next), credentialsContext(portalId, source)),
          expires_at: next.expires_at === null ? null : new Date(next.expires_at * 1000),
          updated_at: at,
        }).where('portal_id', '=', portalId).where('source', '=', source).execute();
        return next.access_token;
      });
    } catch (error) {
      if (refused !== null) await recordConnectionError(db, portalId, source, `${PROVIDER_LABELS[source]}: ${refused}`);
      throw error;
    }
  })();
  flights.set(flightKey, flight);
  try {
    return await flight;
  } finally {
    flights.delete(flightKey);
  }
};
