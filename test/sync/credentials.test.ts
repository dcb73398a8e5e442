import { afterAll, beforeAll, beforeEach, expect, it } from '@jest/globals';
import { createQuickBooksAuth, type QuickBooksCredentials } from '../../src/accounting/quickbooks-auth';
import { createXeroAuth, type XeroCredentials } from '../../src/accounting/xero-auth';
import { loadConfig, type Config } from '../../src/config';
import { SourceError } from '../../src/connectors/types';
import { openStore, type Store } from '../../src/store/store';
import { accessTokenFor, storedConnection, stripeKeyFor } from '../../src/sync/credentials';
import { startAccountingFakes, type AccountingFakes } from '../fakes/accounting-oauth';
import { describeEachStore, openTestStore } from '../helpers/stores';
import { connect, connectionRow, TEST_KEY } from './store-state';

// Access tokens of Xero and QuickBooks connections, refreshed through the SDKs against the OAuth fakes, which
// rotate the refresh token on every refresh and refuse a refresh token once it has been used.

const REDIRECT = 'https://arbridge.example.com/oauth';

describeEachStore('sync credentials', (backend) => {
  let store: Store;
  let fakes: AccountingFakes;
  let config: Config;
  let xero: ReturnType<typeof createXeroAuth>;
  let quickbooks: ReturnType<typeof createQuickBooksAuth>;
  let portal = 700;

  beforeAll(async () => {
    store = await openTestStore(backend);
    fakes = await startAccountingFakes();
    config = loadConfig(fakes.env());
    xero = createXeroAuth({ ...config.accounting.xero, redirectUri: `${REDIRECT}/xero/callback` });
    quickbooks = createQuickBooksAuth({ ...config.accounting.quickbooks, redirectUri: `${REDIRECT}/quickbooks/callback` });
  });
  afterAll(async () => {
    await fakes.close();
    await store.close();
  });
  beforeEach(() => { portal += 1; });

  /** A Xero connection as the connect flow stores it, with its access token expiring in `expiresInS` seconds. */
  const connectXero = async (portalId: number, expiresInS: number): Promise<XeroCredentials> => {
    const state = `state-${portalId}`;
    const callback = new URL(fakes.xero.consent(await xero.consentUrl(state), { allow: true }));
    const grant = await xero.exchange(`${callback.pathname}${callback.search}`, state);
    const credentials = { ...grant.credentials, expires_at: Math.floor(Date.now() / 1000) + expiresInS };
    await connect(store.db, portalId, 'xero', credentials, grant.tenant.tenantId);
    return credentials;
  };

  const connectQuickBooks = async (portalId: number, expiresInS: number): Promise<QuickBooksCredentials> => {
    const callback = new URL(fakes.quickbooks.consent(quickbooks.consentUrl(`state-${portalId}`), { allow: true }));
    const grant = await quickbooks.exchange(`${callback.pathname}${callback.search}`);
    const credentials = { ...grant.credentials, expires_at: Math.floor(Date.now() / 1000) + expiresInS };
    await connect(store.db, portalId, 'quickbooks', credentials, grant.realmId);
    return credentials;
  };

  const sealed = async (portalId: number, source: 'xero' | 'quickbooks') =>
    (await storedConnection(store.db, TEST_KEY, portalId, source))?.credentials as Record<string, unknown>;

  it('hands out a Xero token that is still good without a refresh', async () => {
    const credentials = await connectXero(portal, 1_800);
    const tokenCalls = fakes.xero.count('/connect/token');
    expect(await accessTokenFor(store.db, TEST_KEY, portal, 'xero', xero)).toBe(credentials.access_token);
    expect(fakes.xero.count('/connect/token')).toBe(tokenCalls);
  });

  it('refreshes a Xero token that expires within 5 minutes, storing the rotated refresh token before handing the new access token out', async () => {
    const old = await connectXero(portal, 120);
    const tokenCalls = fakes.xero.count('/connect/token');
    // Callers of one connection at once share one refresh.
    const tokens = await Promise.all(Array.from({ length: 5 }, () => accessTokenFor(store.db, TEST_KEY, portal, 'xero', xero)));
    expect(new Set(tokens).size).toBe(1);
    const [token] = tokens;
    expect(token).not.toBe(old.access_token);
    expect(fakes.xero.issuedAccessTokens()).toContain(token);
    expect(fakes.xero.count('/connect/token')).toBe(tokenCalls + 1);
    const stored = await sealed(portal, 'xero');
    expect(stored.access_token).toBe(token);
    expect(stored.refresh_token).not.toBe(old.refresh_token);
    expect(stored.connection_id).toBe(old.connection_id);
    expect(stored.expires_at as number).toBeGreaterThan(Date.now() / 1000 + 1_700);
    const row = await store.db.selectFrom('accounting_connections').select('expires_at').where('portal_id', '=', portal).executeTakeFirstOrThrow();
    expect(new Date(row.expires_at as Date).getTime()).toBe((stored.expires_at as number) * 1000);
    // The old refresh token is spent: only the stored one refreshes now.
    await expect(xero.refresh(old)).rejects.toThrow(/invalid_grant/);
    const next = await xero.refresh(stored as XeroCredentials);
    expect(next.refresh_token).not.toBe(stored.refresh_token);
  });

  it('marks the connection in error, saying to reconnect, when Xero refuses the refresh token; an unreachable Xero is retryable', async () => {
    const credentials = await connectXero(portal, 60);
    fakes.xero.failNext('token', 'drop');
    const unreachable = await accessTokenFor(store.db, TEST_KEY, portal, 'xero', xero).catch((e: unknown) => e);
    expect(unreachable).toBeInstanceOf(SourceError);
    expect((unreachable as SourceError).retryable).toBe(true);
    expect((await connectionRow(store.db, portal, 'xero')).status).toBe('connected');

    await xero.revoke(credentials);
    const refused = await accessTokenFor(store.db, TEST_KEY, portal, 'xero', xero).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SourceError);
    expect((refused as SourceError).retryable).toBe(false);
    expect((refused as Error).message).toMatch(/^Xero refused to refresh the access token: invalid_grant.*; reconnect Xero in ARBridge settings$/);
    const row = await connectionRow(store.db, portal, 'xero');
    expect(row.status).toBe('error');
    expect(row.last_error).toMatch(/reconnect Xero in ARBridge settings$/);
    // The stored token set is left as it was.
    expect((await sealed(portal, 'xero')).refresh_token).toBe(credentials.refresh_token);
  });

  it('refreshes a QuickBooks token with rotation, and says to reconnect when Intuit refuses', async () => {
    const old = await connectQuickBooks(portal, 200);
    const token = await accessTokenFor(store.db, TEST_KEY, portal, 'quickbooks', quickbooks);
    expect(token).not.toBe(old.access_token);
    const stored = await sealed(portal, 'quickbooks');
    expect(stored).toMatchObject({ access_token: token, realm_id: old.realm_id });
    expect(stored.refresh_token).not.toBe(old.refresh_token);
    expect(await accessTokenFor(store.db, TEST_KEY, portal, 'quickbooks', quickbooks)).toBe(token);

    await quickbooks.revoke(stored as QuickBooksCredentials);
    // The stored access token is fresh: make it due, so the revoked refresh token is tried.
    await connect(store.db, portal, 'quickbooks', { ...stored, expires_at: Math.floor(Date.now() / 1000) }, old.realm_id);
    await expect(accessTokenFor(store.db, TEST_KEY, portal, 'quickbooks', quickbooks)).rejects.toThrow(/reconnect QuickBooks in ARBridge settings$/);
    expect((await connectionRow(store.db, portal, 'quickbooks')).status).toBe('error');
  });

  it('reads the Stripe key, and refuses a connection that is not there', async () => {
    await connect(store.db, portal, 'stripe', { api_key: 'rk_test_51Hkey0123456789' });
    expect(await stripeKeyFor(store.db, TEST_KEY, portal)).toBe('rk_test_51Hkey0123456789');
    await expect(stripeKeyFor(store.db, TEST_KEY, portal + 1_000)).rejects.toThrow('Stripe is not connected; connect it in ARBridge settings');
    await expect(accessTokenFor(store.db, TEST_KEY, portal + 1_000, 'xero', xero)).rejects.toThrow('Xero is not connected');
  });

  if (backend.name === 'postgres') {
    it('refreshes once when two processes on one PostgreSQL need a token at the same moment', async () => {
      await connectXero(portal, 30);
      const options = backend.options();
      // A second store on the same schema: another pool, as another service instance has.
      const schema = (await store.db.selectNoFrom((eb) => eb.fn<string>('current_schema', []).as('s')).executeTakeFirstOrThrow()).s;
      const other = await openStore({ ...options, kind: 'postgres', url: (options as { url: string }).url, schema }, { migrateOnOpen: false });
      try {
        const tokenCalls = fakes.xero.count('/connect/token');
        const [a, b] = await Promise.all([
          accessTokenFor(store.db, TEST_KEY, portal, 'xero', xero),
          accessTokenFor(other.db, TEST_KEY, portal, 'xero', xero),
        ]);
        expect(a).toBe(b);
        expect(fakes.xero.count('/connect/token')).toBe(tokenCalls + 1);
      } finally {
        await other.close();
      }
    });
  }
});
