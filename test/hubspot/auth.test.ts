import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { InputError, UsageError, type Io } from '../../src/cli/io';
import { hubspotUninstallCommand } from '../../src/cli/hubspot-auth';
import { loadConfig, type Config } from '../../src/config';
import { hubspotClient } from '../../src/hubspot/client';
import {
  HubSpotAuthError, REFRESH_MARGIN_MS, accessContext, createHubSpotAuth, refreshContext, type HubSpotAuth,
} from '../../src/hubspot/auth';
import { createLogger } from '../../src/logger';
import { openSecret } from '../../src/secrets/crypto';
import type { Store } from '../../src/store/store';
import { startFakeHubSpot, type FakeHubSpot, type LoggedRequest } from '../fakes/hubspot';
import { describeEachStore, openTestStore } from '../helpers/stores';

const KEY = Buffer.alloc(32, 3);
const PORTAL = 4242;
const OTHER_PORTAL = 5151;
const PUBLIC_URL = 'https://arbridge.example.com';
const TTL_SECONDS = 1800;
const T0 = Date.parse('2026-05-04T09:00:00Z');

const oauthEnv = (fake: FakeHubSpot, extra: Record<string, string> = {}): Record<string, string> => ({
  HUBSPOT_CLIENT_ID: 'client-1',
  HUBSPOT_CLIENT_SECRET: 'secret-1',
  HUBSPOT_API_BASE_URL: fake.url,
  ARBRIDGE_PUBLIC_URL: PUBLIC_URL,
  LOG_LEVEL: 'silent',
  ...extra,
});

const tokenCalls = (fake: FakeHubSpot, grant: string): LoggedRequest[] =>
  fake.requests.filter((r) => r.method === 'POST' && r.path === '/oauth/v1/token'
    && (r.body as Record<string, string> | undefined)?.grant_type === grant);

const sink = (chunks: string[]): Writable =>
  new Writable({ write(chunk: Buffer | string, _enc, done) { chunks.push(chunk.toString()); done(); } });

describeEachStore('HubSpot tokens', (backend) => {
  let store: Store;
  let fake: FakeHubSpot;
  let config: Config;
  let clock: number;
  let auth: HubSpotAuth;
  const logger = createLogger('silent');
  const now = (): number => clock;

  beforeAll(async () => {
    fake = await startFakeHubSpot({
      clientId: 'client-1', clientSecret: 'secret-1', redirectUri: `${PUBLIC_URL}/oauth/hubspot/callback`,
      accessTokenTtlSeconds: TTL_SECONDS, rateLimit: null,
    });
    fake.addPortal(PORTAL, { hubDomain: 'acme.hubspot.com' });
    fake.addPortal(OTHER_PORTAL, { hubDomain: 'globex.hubspot.com' });
    config = loadConfig(oauthEnv(fake));
    store = await openTestStore(backend);
  });
  afterAll(async () => {
    await store.close();
    await fake.close();
  });
  beforeEach(async () => {
    await store.db.deleteFrom('hubspot_installs').execute();
    await store.db.deleteFrom('portals').execute();
    clock = T0;
    auth = createHubSpotAuth({ db: store.db, config, key: KEY, logger, now });
    fake.setFaults(null);
    fake.clearRequests();
  });

  const install = (portalId = PORTAL): ReturnType<HubSpotAuth['completeInstall']> =>
    auth.completeInstall(fake.issueAuthorizationCode(portalId, ['oauth', 'crm.objects.companies.read', 'crm.objects.companies.write']));

  const storedTokens = async (portalId = PORTAL): Promise<{ access: string; refresh: string; expiresAt: number }> => {
    const row = await store.db.selectFrom('hubspot_installs').selectAll().where('portal_id', '=', portalId).executeTakeFirstOrThrow();
    return {
      access: openSecret(KEY, row.access_token_enc, accessContext(portalId)),
      refresh: openSecret(KEY, row.refresh_token_enc, refreshContext(portalId)),
      expiresAt: new Date(row.expires_at).getTime(),
    };
  };

  /** The portal HubSpot says an access token belongs to (the token is live there). */
  const portalOfToken = async (token: string): Promise<number> =>
    (await hubspotClient('', fake.url).oauth.accessTokensApi.get(token)).hubId;

  it('stores an install with its tokens sealed, and reports it without secrets', async () => {
    const installed = await install();
    expect(installed).toEqual({ portalId: PORTAL, hubDomain: 'acme.hubspot.com', scopes: ['oauth', 'crm.objects.companies.read', 'crm.objects.companies.write'] });
    // The access token HubSpot issued is the one our code looked up right after the exchange.
    const lookup = fake.requests.find((r) => r.method === 'GET' && r.path.startsWith('/oauth/v1/access-tokens/'));
    const issued = decodeURIComponent((lookup as LoggedRequest).path.split('/').pop() as string);
    const exchange = tokenCalls(fake, 'authorization_code');
    expect(exchange).toHaveLength(1);
    expect(exchange[0]?.body).toMatchObject({ client_id: 'client-1', redirect_uri: `${PUBLIC_URL}/oauth/hubspot/callback` });

    const row = await store.db.selectFrom('hubspot_installs').selectAll().where('portal_id', '=', PORTAL).executeTakeFirstOrThrow();
    const tokens = await storedTokens();
    expect(tokens.access).toBe(issued);
    expect(tokens.refresh).toMatch(/^refresh-/);
    expect(tokens.expiresAt).toBe(T0 + TTL_SECONDS * 1000);
    for (const value of Object.values(row)) {
      expect(String(value)).not.toContain(tokens.access);
      expect(String(value)).not.toContain(tokens.refresh);
    }
    expect(row.access_token_enc).toMatch(/^v1\./);
    expect(row.scopes).toBe('oauth crm.objects.companies.read crm.objects.companies.write');
    const portal = await store.db.selectFrom('portals').selectAll().where('portal_id', '=', PORTAL).executeTakeFirst();
    expect(portal?.portal_id).toBe(PORTAL);

    const status = await auth.status(PORTAL);
    expect(status).toEqual({
      mode: 'oauth', hubDomain: 'acme.hubspot.com', scopes: ['oauth', 'crm.objects.companies.read', 'crm.objects.companies.write'],
      expiresAt: new Date(T0 + TTL_SECONDS * 1000).toISOString(), installedAt: expect.any(String), needsReinstall: false,
    });
    expect(JSON.stringify(status)).not.toContain(tokens.access);
    expect(await auth.status(OTHER_PORTAL)).toEqual({ mode: 'none' });
    expect(await auth.installedPortals()).toEqual([PORTAL]);

    // A fresh token is served from the store: no call to HubSpot.
    fake.clearRequests();
    expect(await auth.tokenFor(PORTAL)).toBe(tokens.access);
    expect(fake.requests).toEqual([]);
  });

  it('refreshes a token that expires within 5 minutes, persisting the new one before returning it', async () => {
    await install();
    const before = await storedTokens();
    fake.clearRequests();
    // Just outside the margin: still served as is.
    clock = before.expiresAt - REFRESH_MARGIN_MS - 1_000;
    expect(await auth.tokenFor(PORTAL)).toBe(before.access);
    expect(tokenCalls(fake, 'refresh_token')).toHaveLength(0);

    clock = before.expiresAt - REFRESH_MARGIN_MS + 1_000;
    const token = await auth.tokenFor(PORTAL);
    expect(token).not.toBe(before.access);
    const refreshes = tokenCalls(fake, 'refresh_token');
    expect(refreshes).toHaveLength(1);
    expect(refreshes[0]?.body).toMatchObject({ client_id: 'client-1', client_secret: 'secret-1', refresh_token: before.refresh });
    const after = await storedTokens();
    expect(after.access).toBe(token);
    expect(after.refresh).toBe(before.refresh);
    expect(after.expiresAt).toBe(clock + TTL_SECONDS * 1000);
    expect(await portalOfToken(token)).toBe(PORTAL);
    // The refreshed token is now served without another refresh.
    expect(await auth.tokenFor(PORTAL)).toBe(token);
    expect(tokenCalls(fake, 'refresh_token')).toHaveLength(1);
  });

  it('refreshes once for many concurrent callers, and every caller gets the new token', async () => {
    await install();
    const before = await storedTokens();
    fake.clearRequests();
    clock = before.expiresAt + 60_000; // already expired by our clock
    const tokens = await Promise.all(Array.from({ length: 8 }, () => auth.tokenFor(PORTAL)));
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).not.toBe(before.access);
    expect(tokenCalls(fake, 'refresh_token')).toHaveLength(1);
    expect((await storedTokens()).access).toBe(tokens[0]);
  });

  it('refreshes on demand when HubSpot no longer takes a token that looked valid', async () => {
    await install();
    const before = await storedTokens();
    fake.expireAccessTokens();
    const stale = await hubspotClient(before.access, fake.url).crm.companies.basicApi.getPage(1).then(() => 200, (e: { code: number }) => e.code);
    expect(stale).toBe(401);
    const token = await auth.forceRefresh(PORTAL);
    expect(token).not.toBe(before.access);
    expect((await storedTokens()).access).toBe(token);
    const page = await hubspotClient(token, fake.url).crm.companies.basicApi.getPage(1);
    expect(page.results).toEqual([]);
  });

  it('says the portal must install again when HubSpot refuses its refresh token, and stops asking', async () => {
    await install();
    const before = await storedTokens();
    await hubspotClient('', fake.url).oauth.refreshTokensApi.archive(before.refresh); // revoked in HubSpot
    fake.clearRequests();
    clock = before.expiresAt;
    const failure = await auth.tokenFor(PORTAL).then(() => null, (e: unknown) => e);
    expect(failure).toBeInstanceOf(HubSpotAuthError);
    expect(failure).toMatchObject({ reason: 'reinstall_required', code: 'unauthenticated', portalId: PORTAL });
    expect((failure as Error).message).toBe(`HubSpot portal ${PORTAL} needs ARBridge re-installed: HubSpot refused its refresh token (the app was uninstalled or access was revoked); install it again at ${PUBLIC_URL}/oauth/hubspot/install`);
    expect((failure as Error).message).not.toContain(before.refresh);
    expect(tokenCalls(fake, 'refresh_token')).toHaveLength(1);
    expect(await auth.status(PORTAL)).toMatchObject({ mode: 'oauth', needsReinstall: true });

    // Later callers get the same answer without another refused call.
    await expect(auth.tokenFor(PORTAL)).rejects.toMatchObject({ reason: 'reinstall_required' });
    expect(tokenCalls(fake, 'refresh_token')).toHaveLength(1);

    // Installing again lifts it.
    await install();
    expect(await auth.status(PORTAL)).toMatchObject({ needsReinstall: false });
    expect(await portalOfToken(await auth.tokenFor(PORTAL))).toBe(PORTAL);
  });

  it('keeps transient refresh failures apart from refused tokens', async () => {
    await install();
    const before = await storedTokens();
    clock = before.expiresAt;
    fake.setFaults({ rate: 1, kinds: ['500'] });
    const failure = await auth.tokenFor(PORTAL).then(() => null, (e: unknown) => e);
    expect(failure).not.toBeInstanceOf(HubSpotAuthError);
    expect(failure).toMatchObject({ code: 500 });
    fake.setFaults(null);
    expect(await auth.status(PORTAL)).toMatchObject({ needsReinstall: false });
    const token = await auth.tokenFor(PORTAL);
    expect(token).not.toBe(before.access);
    expect(await portalOfToken(token)).toBe(PORTAL);
  });

  it('reports a refresh refused for the app\'s credentials without blaming the portal', async () => {
    await install();
    const wrong = loadConfig(oauthEnv(fake, { HUBSPOT_CLIENT_SECRET: 'not-the-secret' }));
    const other = createHubSpotAuth({ db: store.db, config: wrong, key: KEY, logger, now: () => T0 + TTL_SECONDS * 1000 });
    const failure = await other.tokenFor(PORTAL).then(() => null, (e: unknown) => e);
    expect(failure).toMatchObject({ reason: 'refresh_refused', code: 'internal' });
    expect((failure as Error).message).toBe(`HubSpot refused to refresh the token of portal ${PORTAL}: BAD_CLIENT_SECRET: missing or invalid client secret`);
    expect(await other.status(PORTAL)).toMatchObject({ needsReinstall: false });
  });

  it('keeps the portals apart', async () => {
    await install(PORTAL);
    await install(OTHER_PORTAL);
    const a = await auth.tokenFor(PORTAL);
    const b = await auth.tokenFor(OTHER_PORTAL);
    expect(a).not.toBe(b);
    expect(await portalOfToken(a)).toBe(PORTAL);
    expect(await portalOfToken(b)).toBe(OTHER_PORTAL);
    expect(await auth.installedPortals()).toEqual([PORTAL, OTHER_PORTAL]);
    // A sealed token copied to another portal's row does not open there.
    const row = await store.db.selectFrom('hubspot_installs').select('access_token_enc').where('portal_id', '=', PORTAL).executeTakeFirstOrThrow();
    await store.db.updateTable('hubspot_installs').set({ access_token_enc: row.access_token_enc }).where('portal_id', '=', OTHER_PORTAL).execute();
    await expect(auth.tokenFor(OTHER_PORTAL)).rejects.toThrow(/integrity check/);
  });

  it('names the install URL for a portal that never installed', async () => {
    const failure = await auth.tokenFor(OTHER_PORTAL).then(() => null, (e: unknown) => e);
    expect(failure).toMatchObject({ reason: 'not_installed', code: 'unauthenticated', details: { installUrl: `${PUBLIC_URL}/oauth/hubspot/install` } });
    expect((failure as Error).message).toBe(`HubSpot portal ${OTHER_PORTAL} has not installed ARBridge; install it at ${PUBLIC_URL}/oauth/hubspot/install`);
  });

  it('serves the private app\'s static token for its portal only', async () => {
    const privateConfig = loadConfig({ HUBSPOT_ACCESS_TOKEN: 'pat-na1-private', HUBSPOT_PORTAL_ID: String(PORTAL), HUBSPOT_API_BASE_URL: fake.url, ARBRIDGE_PUBLIC_URL: PUBLIC_URL });
    const privateAuth = createHubSpotAuth({ db: store.db, config: privateConfig, key: KEY, logger, now });
    expect(await privateAuth.tokenFor(PORTAL)).toBe('pat-na1-private');
    expect(await privateAuth.forceRefresh(PORTAL)).toBe('pat-na1-private');
    expect(await privateAuth.status(PORTAL)).toEqual({ mode: 'private' });
    expect(await privateAuth.status(OTHER_PORTAL)).toEqual({ mode: 'none' });
    expect(await privateAuth.installedPortals()).toEqual([PORTAL]);
    await expect(privateAuth.tokenFor(OTHER_PORTAL)).rejects.toMatchObject({ reason: 'not_installed' });
    await expect(privateAuth.completeInstall('any-code')).rejects.toThrow('HubSpot OAuth is not configured: set HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET');
    expect(fake.requests).toEqual([]);

    // With OAuth configured too, the private portal keeps its token and other portals install.
    const both = loadConfig({ ...oauthEnv(fake), HUBSPOT_ACCESS_TOKEN: 'pat-na1-private', HUBSPOT_PORTAL_ID: String(PORTAL) });
    const bothAuth = createHubSpotAuth({ db: store.db, config: both, key: KEY, logger, now });
    await bothAuth.completeInstall(fake.issueAuthorizationCode(OTHER_PORTAL));
    expect(await bothAuth.tokenFor(PORTAL)).toBe('pat-na1-private');
    expect(await portalOfToken(await bothAuth.tokenFor(OTHER_PORTAL))).toBe(OTHER_PORTAL);
    expect(await bothAuth.installedPortals()).toEqual([PORTAL, OTHER_PORTAL]);
  });

  it('uninstalls: the row goes and HubSpot revokes the refresh token', async () => {
    await install();
    const before = await storedTokens();
    fake.clearRequests();
    expect(await auth.uninstall(PORTAL)).toEqual({ removed: true, revoked: true });
    const count = await sql<{ n: number }>`SELECT count(*)::int AS n FROM hubspot_installs`.execute(store.db);
    expect(count.rows[0]?.n).toBe(0);
    expect(fake.requests.map((r) => [r.method, r.path, r.status])).toEqual([['DELETE', `/oauth/v1/refresh-tokens/${before.refresh}`, 204]]);
    await expect(hubspotClient('', fake.url).oauth.tokensApi.create('refresh_token', undefined, undefined, 'client-1', 'secret-1', before.refresh))
      .rejects.toMatchObject({ code: 400 });
    await expect(auth.tokenFor(PORTAL)).rejects.toMatchObject({ reason: 'not_installed' });
    expect(await auth.status(PORTAL)).toEqual({ mode: 'none' });
    expect(await auth.installedPortals()).toEqual([]);
    expect(await auth.uninstall(PORTAL)).toEqual({ removed: false, revoked: false });
  });

  it('uninstalls even when HubSpot cannot be reached to revoke', async () => {
    await install();
    fake.setFaults({ rate: 1, kinds: ['500'] });
    expect(await auth.uninstall(PORTAL)).toEqual({ removed: true, revoked: false });
    expect(await auth.status(PORTAL)).toEqual({ mode: 'none' });
  });

  it('arbridge hubspot uninstall --portal N removes the install and says so', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io: Io = { stdout: sink(out), stderr: sink(err), env: {}, cwd: process.cwd() };
    const cliConfig = { ...config, secretKey: KEY };
    await expect(hubspotUninstallCommand({ db: store.db, config: cliConfig, io, logger }, undefined)).rejects.toThrow(UsageError);
    await expect(hubspotUninstallCommand({ db: store.db, config: cliConfig, io, logger }, PORTAL))
      .rejects.toThrow(new InputError(`portal ${PORTAL} has no HubSpot install; nothing removed`));
    await install();
    await hubspotUninstallCommand({ db: store.db, config: cliConfig, io, logger }, PORTAL);
    expect(out.join('')).toBe(`removed the HubSpot install of portal ${PORTAL}; HubSpot revoked its refresh token\n`);
    expect(await auth.status(PORTAL)).toEqual({ mode: 'none' });
    const privateConfig = { ...loadConfig({ HUBSPOT_ACCESS_TOKEN: 'pat-na1-private', HUBSPOT_PORTAL_ID: String(OTHER_PORTAL) }), secretKey: KEY };
    await expect(hubspotUninstallCommand({ db: store.db, config: privateConfig, io, logger }, OTHER_PORTAL))
      .rejects.toThrow(/uses the private-app token \(HUBSPOT_ACCESS_TOKEN\)/);
  });
});
