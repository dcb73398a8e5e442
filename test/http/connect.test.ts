import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { ConnectLinkResponseSchema } from '../../extensions/connect-api';
import { loadConfig, type Config } from '../../src/config';
import { createApp } from '../../src/http/app';
import {
  CONNECT_NONCE_COOKIE, CONNECT_STATE_TTL_MS, LINK_TTL_MS, SESSION_COOKIE, SESSION_TTL_MS, signToken,
} from '../../src/http/routes/connect';
import { createLogger } from '../../src/logger';
import { openSecret } from '../../src/secrets/crypto';
import { credentialsContext } from '../../src/services/connections';
import { portalDataVersion } from '../../src/store/facts';
import type { AccountingSource } from '../../src/store/schema';
import type { Store } from '../../src/store/store';
import { startAccountingFakes, type AccountingFakes } from '../fakes/accounting-oauth';
import { json } from '../fakes/accounting-oauth/http';
import { cardQuery, signedRequest } from '../helpers/sign';
import { describeEachStore, openTestStore } from '../helpers/stores';

const KEY = Buffer.alloc(32, 7);
const PORTAL = 640_001;
const OTHER_PORTAL = 640_002;
const PUBLIC_URL = 'https://arbridge.example.com';
const SECRET = 'hubspot-secret';
const USER = 'controller@acme.example';
const ORGS = [
  { tenantId: 'c2cc9b6e-9458-4c7d-93cc-f02b81b0594f', tenantName: 'Demo Company (NZ)' },
  { tenantId: '7f1d3a55-1d7b-4e36-a3a5-9e0a42b8f1c1', tenantName: 'Acme <Holdings> Ltd' },
];
const REALM = '9130357766900456';
const SK = 'sk_test_51HqLyjWDarjtT1zdp7dcXnc4g5t';
const RK_NO_ACCOUNT = 'rk_test_51HqLyjWDarjtT1zdRestricted01';
const RK_NO_INVOICES = 'rk_test_51HqLyjWDarjtT1zdRestricted02';
/** The portal's HubSpot access: a private app for PORTAL (so signed requests for it are admitted). */
const HUBSPOT_ENV = {
  HUBSPOT_CLIENT_ID: 'hubspot-client', HUBSPOT_CLIENT_SECRET: SECRET,
  HUBSPOT_ACCESS_TOKEN: 'pat-private', HUBSPOT_PORTAL_ID: String(PORTAL),
  ARBRIDGE_PUBLIC_URL: PUBLIC_URL, LOG_LEVEL: 'silent',
};

type App = ReturnType<typeof createApp>;
type Res = request.Response;

const setCookies = (res: Res): string[] => (res.headers['set-cookie'] as unknown as string[] | undefined) ?? [];
/** The `name=value` of the response's cookie (its first Set-Cookie of that name). */
const cookieOf = (res: Res, name: string): string | undefined =>
  setCookies(res).find((c) => c.startsWith(`${name}=`))?.split(';')[0];
const csrfOf = (html: string): string => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
const pathOf = (url: string): string => {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
};

describeEachStore('accounting connect page and OAuth callbacks', (backend) => {
  let store: Store;
  let fakes: AccountingFakes;
  let config: Config;
  let app: App;
  let clock: number;
  const logger = createLogger('silent');
  const now = (): number => clock;

  const appFor = (cfg: Config): App =>
    createApp({ db: store.db, config: cfg, logger, today: () => '2026-05-04', connect: { db: store.db, config: cfg, key: KEY, logger, now } });

  beforeAll(async () => {
    fakes = await startAccountingFakes({ xero: { organisations: ORGS } });
    fakes.stripe.addKey(SK, { account: { id: 'acct_1Nv0FGQ9RKHgCVdK', displayName: 'Acme Inc', email: 'billing@acme.example' } });
    fakes.stripe.addKey(RK_NO_ACCOUNT, { account: { id: 'acct_1Nv0FGQ9RKHgCVdK' }, canReadAccount: false });
    fakes.stripe.addKey(RK_NO_INVOICES, { account: { id: 'acct_1Nv0FGQ9RKHgCVdK', displayName: 'Acme Inc' }, canReadInvoices: false });
    config = loadConfig({ ...HUBSPOT_ENV, ...fakes.env() });
    store = await openTestStore(backend);
    app = appFor(config);
  });
  afterAll(async () => {
    await store.close();
    await fakes.close();
  });
  beforeEach(async () => {
    await store.db.deleteFrom('accounting_connections').execute();
    fakes.reset();
    clock = Date.parse('2026-05-04T09:00:00Z');
  });

  // ---- a browser's steps, as supertest calls ----

  const askLink = (portalId = PORTAL, target: App = app): request.Test => signedRequest(target, {
    method: 'POST', path: `/api/v1/connect/link?${cardQuery({}, { portalId, userEmail: USER })}`, body: '{}',
    secret: SECRET, publicUrl: PUBLIC_URL, timestamp: clock,
  });

  /** Asks for a link and opens it: the browser's session cookie. */
  const signIn = async (target: App = app): Promise<string> => {
    const link = await askLink(PORTAL, target);
    expect(link.status).toBe(200);
    const opened = await request(target).get(pathOf((link.body as { url: string }).url));
    expect(opened.status).toBe(303);
    return cookieOf(opened, SESSION_COOKIE) as string;
  };

  const connectPage = (session: string | undefined, target: App = app): request.Test => {
    const req = request(target).get('/connect');
    return session === undefined ? req : req.set('Cookie', session);
  };

  const post = async (path: string, session: string, fields: Record<string, string> = {}, target: App = app): Promise<Res> => {
    const csrf = csrfOf((await connectPage(session, target)).text);
    return request(target).post(path).set('Cookie', session).type('form').send({ csrf, ...fields });
  };

  /** Starts a provider's consent from the page: where the browser goes, and its nonce cookie. */
  const start = async (source: 'xero' | 'quickbooks', session: string): Promise<{ location: string; nonce: string }> => {
    const res = await post(`/connect/${source}/start`, session);
    expect(res.status).toBe(303);
    return { location: res.headers.location as string, nonce: cookieOf(res, CONNECT_NONCE_COOKIE) as string };
  };

  const back = (callbackUrl: string, nonce?: string): request.Test => {
    const req = request(app).get(pathOf(callbackUrl));
    return nonce === undefined ? req : req.set('Cookie', nonce);
  };

  const row = (source: AccountingSource, portalId = PORTAL) =>
    store.db.selectFrom('accounting_connections').selectAll().where('portal_id', '=', portalId).where('source', '=', source).executeTakeFirst();
  const rows = async (): Promise<number> => (await store.db.selectFrom('accounting_connections').select('source').execute()).length;

  const connectXero = async (session: string, tenantIds?: string[]): Promise<Res> => {
    const { location, nonce } = await start('xero', session);
    return back(fakes.xero.consent(location, { allow: true, tenantIds }), nonce);
  };

  // ---- the link ----

  it('issues a signed 10-minute link for the signed portal, in the settings page\'s contract', async () => {
    const res = await askLink();
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = ConnectLinkResponseSchema.parse(res.body);
    expect(body.url).toMatch(/^https:\/\/arbridge\.example\.com\/connect\?token=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(body.expires_at).toBe(new Date(clock + LINK_TTL_MS).toISOString());
    // Each link is its own.
    expect((await askLink()).body.url).not.toBe(body.url);
  });

  it('gives no link to an unsigned request, a bad signature, or a portal the app is not installed in', async () => {
    const unsigned = await request(app).post(`/api/v1/connect/link?portalId=${PORTAL}`).send({});
    expect(unsigned.status).toBe(401);
    expect(unsigned.body.error).toBe('unauthenticated');
    const tampered = await signedRequest(app, {
      method: 'POST', path: `/api/v1/connect/link?${cardQuery({}, { portalId: PORTAL })}`, body: '{}', secret: 'wrong-secret', publicUrl: PUBLIC_URL, timestamp: clock,
    });
    expect(tampered.status).toBe(401);
    const other = await askLink(OTHER_PORTAL);
    expect(other.status).toBe(401);
    expect(other.body.message).toBe('The app is not installed in this portal');
    const badBody = await signedRequest(app, {
      method: 'POST', path: `/api/v1/connect/link?${cardQuery({}, { portalId: PORTAL })}`, body: '{"portal":1}', secret: SECRET, publicUrl: PUBLIC_URL, timestamp: clock,
    });
    expect(badBody.status).toBe(400);
    expect(badBody.body.message).toContain('Request body are invalid');
  });

  // ---- the session ----

  it('turns a link into an HttpOnly, SameSite=Lax, Secure session scoped to /connect, and redirects to the page', async () => {
    const link = await askLink();
    const res = await request(app).get(pathOf(link.body.url));
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/connect');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    const [cookie] = setCookies(res);
    expect(cookie).toMatch(new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{43}; Path=/connect; Max-Age=${SESSION_TTL_MS / 1000}; HttpOnly; SameSite=Lax; Secure$`));

    const page = await connectPage(cookie?.split(';')[0]);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; base-uri 'none'; frame-ancestors 'none'$/);
    expect(page.text).toContain(`HubSpot portal <strong>${PORTAL}</strong>`);
    expect(page.text).toContain(`Signed in from HubSpot as ${USER}`);
    for (const source of ['quickbooks', 'xero', 'stripe']) {
      expect(page.text).toContain(`<section id="source-${source}" data-status="not_connected">`);
    }
    expect(page.text.match(/Not connected\./g)).toHaveLength(3);
    expect(page.text).toContain('>Connect QuickBooks</button>');
    expect(page.text).toContain('>Connect Xero</button>');
    expect(page.text).toContain('>Connect Stripe</button>');
    expect(page.text).not.toContain('Disconnect');
    expect(csrfOf(page.text)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('refuses an expired, tampered or foreign link, and a missing or expired session, with a page pointing to HubSpot', async () => {
    const link = (await askLink()).body.url as string;
    clock += LINK_TTL_MS + 1;
    const late = await request(app).get(pathOf(link));
    expect(late.status).toBe(401);
    expect(setCookies(late)).toEqual([]);
    expect(late.text).toContain('Links to this page are good for 10 minutes.');
    clock -= 2;
    const token = new URL(link).searchParams.get('token') as string;
    const tampered = await request(app).get('/connect').query({ token: `${token.slice(0, 5)}x${token.slice(6)}` });
    expect(tampered.status).toBe(401);
    expect(tampered.text).toContain('This link is not valid.');
    // Signed with another key (another service), or for another purpose (a session is not a link).
    const foreign = signToken(Buffer.alloc(32, 9), 'link', { p: PORTAL, u: null, iat: clock, n: 'A'.repeat(22) });
    expect((await request(app).get('/connect').query({ token: foreign })).status).toBe(401);
    const sessionAsLink = signToken(KEY, 'session', { p: PORTAL, u: null, iat: clock, sid: 'A'.repeat(22) });
    expect((await request(app).get('/connect').query({ token: sessionAsLink })).status).toBe(401);
    expect((await request(app).get(pathOf(link))).status).toBe(303);

    const none = await connectPage(undefined);
    expect(none.status).toBe(401);
    expect(none.text).toContain('Open this page from HubSpot');
    expect(none.text).toContain('It opens from the app\'s settings in HubSpot');
    const session = await signIn();
    expect((await connectPage(session)).status).toBe(200);
    clock += SESSION_TTL_MS + 1;
    expect((await connectPage(session)).status).toBe(401);
    // A link is a session for its portal only.
    const forged = `${SESSION_COOKIE}=${signToken(KEY, 'link', { p: OTHER_PORTAL, u: null, iat: clock, n: 'A'.repeat(22) })}`;
    expect((await connectPage(forged)).status).toBe(401);
  });

  it('refuses form posts without the session\'s CSRF token, changing nothing', async () => {
    const session = await signIn();
    const noToken = await request(app).post('/connect/stripe').set('Cookie', session).type('form').send({ api_key: SK });
    expect(noToken.status).toBe(403);
    expect(noToken.text).toContain('This form does not belong to your current session');
    const otherSession = await signIn();
    const otherCsrf = csrfOf((await connectPage(otherSession)).text);
    expect(otherCsrf).not.toBe(csrfOf((await connectPage(session)).text));
    const crossed = await request(app).post('/connect/stripe').set('Cookie', session).type('form').send({ csrf: otherCsrf, api_key: SK });
    expect(crossed.status).toBe(403);
    const start = await request(app).post('/connect/xero/start').set('Cookie', session).type('form').send({ csrf: otherCsrf });
    expect(start.status).toBe(403);
    expect(setCookies(start)).toEqual([]);
    const disconnect = await request(app).post('/connect/xero/disconnect').set('Cookie', session).type('form').send({ csrf: 'x' });
    expect(disconnect.status).toBe(403);
    const noSession = await request(app).post('/connect/stripe').type('form').send({ csrf: otherCsrf, api_key: SK });
    expect(noSession.status).toBe(401);
    expect(fakes.stripe.count(/^\/v1\//)).toBe(0);
    expect(await rows()).toBe(0);
  });

  it('also starts a consent by GET /connect/<source>/start for a live session, and never without one', async () => {
    const session = await signIn();
    const res = await request(app).get('/connect/xero/start').set('Cookie', session);
    expect(res.status).toBe(303);
    expect(res.headers.location).toMatch(new RegExp(`^${fakes.xero.url}/identity/connect/authorize\\?`));
    expect(cookieOf(res, CONNECT_NONCE_COOKIE)).toBeDefined();
    const anonymous = await request(app).get('/connect/quickbooks/start');
    expect(anonymous.status).toBe(401);
    expect(setCookies(anonymous)).toEqual([]);
    expect((await request(app).get('/connect/stripe/start').set('Cookie', session)).status).toBe(404);
  });

  // ---- Xero ----

  it('connects Xero: consent URL from xero-node, state bound to the browser, tokens sealed, organisation shown', async () => {
    const session = await signIn();
    const versionBefore = await portalDataVersion(store.db, PORTAL);
    const startRes = await post('/connect/xero/start', session);
    expect(startRes.status).toBe(303);
    const location = new URL(startRes.headers.location as string);
    expect(`${location.origin}${location.pathname}`).toBe(`${fakes.xero.url}/identity/connect/authorize`);
    expect(location.searchParams.get('client_id')).toBe('xero-client');
    expect(location.searchParams.get('redirect_uri')).toBe(`${PUBLIC_URL}/oauth/xero/callback`);
    expect(location.searchParams.get('response_type')).toBe('code');
    expect(location.searchParams.get('scope')).toBe(config.accounting.xero.scopes.join(' '));
    expect(location.searchParams.get('scope')).toContain('offline_access');
    const nonceCookie = setCookies(startRes).find((c) => c.startsWith(`${CONNECT_NONCE_COOKIE}=`)) as string;
    expect(nonceCookie).toMatch(new RegExp(`^${CONNECT_NONCE_COOKIE}=[A-Za-z0-9_-]{22}; Path=/oauth/xero; Max-Age=${CONNECT_STATE_TTL_MS / 1000}; HttpOnly; SameSite=Lax; Secure$`));

    const res = await back(fakes.xero.consent(location.toString(), { allow: true }), nonceCookie.split(';')[0]);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.text).toContain('<title>Xero is connected to Demo Company (NZ)</title>');
    expect(res.text).toContain(`Xero is connected to <strong>Demo Company (NZ)</strong> for HubSpot portal ${PORTAL}.`);
    expect(res.text).toContain('<a href="/connect">Back to accounting connections</a>');
    expect(setCookies(res)).toContain(`${CONNECT_NONCE_COOKIE}=; Path=/oauth/xero; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax; Secure`);
    // Discovery, keys (ID token verified), code exchange, organisations.
    expect(fakes.xero.count('/connect/token')).toBe(1);
    expect(fakes.xero.count('/.well-known/openid-configuration/jwks')).toBe(1);
    expect(fakes.xero.count('/connections')).toBe(1);

    const stored = await row('xero');
    expect(stored).toMatchObject({
      status: 'connected', tenant_id: ORGS[0]?.tenantId, tenant_name: 'Demo Company (NZ)', connected_by: USER, last_error: null,
      scopes: config.accounting.xero.scopes.join(' '),
    });
    expect(new Date(stored?.connected_at as Date).toISOString()).toBe('2026-05-04T09:00:00.000Z');
    const [accessToken] = fakes.xero.issuedAccessTokens();
    const sealed = stored?.credentials_enc as string;
    expect(sealed).toMatch(/^v1\./);
    for (const value of Object.values(stored ?? {})) expect(String(value)).not.toContain(accessToken);
    const credentials = JSON.parse(openSecret(KEY, sealed, credentialsContext(PORTAL, 'xero'))) as Record<string, unknown>;
    expect(credentials.access_token).toBe(accessToken);
    expect(typeof credentials.refresh_token).toBe('string');
    for (const value of Object.values(stored ?? {})) expect(String(value)).not.toContain(credentials.refresh_token as string);
    expect(res.text).not.toContain(accessToken);
    // Sealed for this portal and source: it does not open as another's.
    expect(() => openSecret(KEY, sealed, credentialsContext(OTHER_PORTAL, 'xero'))).toThrow();
    expect(() => openSecret(KEY, sealed, credentialsContext(PORTAL, 'quickbooks'))).toThrow();
    expect(await portalDataVersion(store.db, PORTAL)).toBeGreaterThan(versionBefore);

    const page = await connectPage(session);
    expect(page.text).toContain('<section id="source-xero" data-status="connected">');
    expect(page.text).toContain(`Connected to <strong>Demo Company (NZ)</strong> since 2026-05-04 09:00 UTC by ${USER}.`);
    expect(page.text).toContain('>Reconnect Xero</button>');
    expect(page.text).toContain('>Disconnect Xero</button>');
  });

  it('connects the most recently authorized organisation when the login reaches several, and names the others', async () => {
    const session = await signIn();
    const res = await connectXero(session, [ORGS[0]?.tenantId as string, ORGS[1]?.tenantId as string]);
    expect(res.status).toBe(200);
    expect(res.text).toContain('<title>Xero is connected to Acme &lt;Holdings&gt; Ltd</title>');
    expect(res.text).toContain('Your Xero login also reaches <strong>Demo Company (NZ)</strong>; ARBridge reads <strong>Acme &lt;Holdings&gt; Ltd</strong> only');
    expect((await row('xero'))?.tenant_id).toBe(ORGS[1]?.tenantId);
  });

  it('stores nothing when the user cancels on Xero\'s consent page', async () => {
    const session = await signIn();
    const { location, nonce } = await start('xero', session);
    const res = await back(fakes.xero.consent(location, { allow: false }), nonce);
    expect(res.status).toBe(400);
    expect(res.text).toContain('<title>Xero was not connected</title>');
    expect(res.text).toContain('Access was not granted (Xero said: access_denied).');
    expect(res.text).toContain('Nothing was stored.');
    expect(setCookies(res)[0]).toMatch(new RegExp(`^${CONNECT_NONCE_COOKIE}=; Path=/oauth/xero; Max-Age=0`));
    expect(fakes.xero.count('/connect/token')).toBe(0);
    expect(await rows()).toBe(0);
  });

  it('refuses a callback whose state is tampered, expired, from another browser or without its cookie, before any exchange', async () => {
    const session = await signIn();
    const { location, nonce } = await start('xero', session);
    const callbackUrl = new URL(fakes.xero.consent(location, { allow: true }));
    const state = callbackUrl.searchParams.get('state') as string;
    const withState = (value: string): string => {
      const url = new URL(callbackUrl);
      url.searchParams.set('state', value);
      return url.toString();
    };
    const tampered = await back(withState(`${state.slice(0, 3)}A${state.slice(4)}`), nonce);
    expect(tampered.status).toBe(400);
    expect(tampered.text).toContain('its state does not check out');
    const noCookie = await back(callbackUrl.toString());
    expect(noCookie.status).toBe(400);
    expect(noCookie.text).toContain('This browser did not start this connection');
    const otherBrowser = await back(callbackUrl.toString(), `${CONNECT_NONCE_COOKIE}=${'B'.repeat(22)}`);
    expect(otherBrowser.status).toBe(400);
    expect(otherBrowser.text).toContain('started in another browser');
    // A QuickBooks state does not complete a Xero connection.
    const qbo = await start('quickbooks', session);
    const qboState = new URL(qbo.location).searchParams.get('state') as string;
    const crossed = await back(withState(qboState), qbo.nonce);
    expect(crossed.status).toBe(400);
    expect(crossed.text).toContain('its state does not check out');
    clock += CONNECT_STATE_TTL_MS + 1;
    const late = await back(callbackUrl.toString(), nonce);
    expect(late.status).toBe(400);
    expect(late.text).toContain('This connection attempt has expired');
    const missing = await back(`${PUBLIC_URL}/oauth/xero/callback?state=${state}`, nonce);
    expect(missing.status).toBe(400);
    expect(missing.text).toContain('expects the <code>code</code> and <code>state</code>');
    expect(fakes.xero.count('/connect/token')).toBe(0);
    expect(await rows()).toBe(0);
    // The same callback in time, in the browser that started it, goes through.
    clock -= 2;
    expect((await back(callbackUrl.toString(), nonce)).status).toBe(200);
  });

  it('answers 400 when Xero refuses the code and 502 when it cannot be reached, storing nothing', async () => {
    const session = await signIn();
    fakes.xero.failNext('token', json(400, { error: 'invalid_grant' }));
    const refused = await connectXero(session);
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('Xero refused to exchange the authorization code: invalid_grant.');
    expect(refused.text).toContain('Nothing was stored.');

    fakes.xero.failNext('token', 'drop');
    const dropped = await connectXero(session);
    expect(dropped.status).toBe(502);
    expect(dropped.text).toContain('Xero could not be reached to exchange the authorization code');
    expect(dropped.text).toContain('Please try again in a moment');

    fakes.xero.failNext('token', json(503, { error: 'temporarily_unavailable' }));
    expect((await connectXero(session)).status).toBe(502);

    fakes.xero.failNext('connections', json(500, { Title: 'An error occurred' }));
    const noOrgs = await connectXero(session);
    expect(noOrgs.status).toBe(502);
    expect(noOrgs.text).toContain('Xero answered 500 to the list of organisations');
    expect(await rows()).toBe(0);
  });

  it('answers 502 with a page when Xero\'s sign-in cannot be discovered, setting no cookie', async () => {
    const broken = appFor(loadConfig({ ...HUBSPOT_ENV, ...fakes.env(), XERO_IDENTITY_URL: `${fakes.xero.url}/nowhere` }));
    const session = await signIn(broken);
    const res = await post('/connect/xero/start', session, {}, broken);
    expect(res.status).toBe(502);
    expect(res.text).toContain('Xero&#39;s sign-in service could not be reached');
    expect(setCookies(res)).toEqual([]);
  });

  it('says a provider is not available when its app is not configured', async () => {
    const bare = appFor(loadConfig(HUBSPOT_ENV));
    const session = await signIn(bare);
    const page = await connectPage(session, bare);
    expect(page.text).toContain('Not available on this service: set XERO_CLIENT_ID and XERO_CLIENT_SECRET.');
    expect(page.text).toContain('Not available on this service: set QUICKBOOKS_CLIENT_ID and QUICKBOOKS_CLIENT_SECRET.');
    expect(page.text).toContain('>Connect Stripe</button>');
    const res = await post('/connect/xero/start', session, {}, bare);
    expect(res.status).toBe(503);
    expect(res.text).toContain('This service has no Xero app configured');
  });

  // ---- QuickBooks ----

  it('connects QuickBooks: intuit-oauth consent, realm from the callback, company name from CompanyInfo, sealed', async () => {
    const session = await signIn();
    const { location, nonce } = await start('quickbooks', session);
    const url = new URL(location);
    expect(`${url.origin}${url.pathname}`).toBe(`${fakes.quickbooks.url}/connect/oauth2`);
    expect(url.searchParams.get('client_id')).toBe('qbo-client');
    expect(url.searchParams.get('scope')).toBe('com.intuit.quickbooks.accounting');
    expect(url.searchParams.get('redirect_uri')).toBe(`${PUBLIC_URL}/oauth/quickbooks/callback`);
    expect(nonce).toMatch(new RegExp(`^${CONNECT_NONCE_COOKIE}=[A-Za-z0-9_-]{22}$`));

    const res = await back(fakes.quickbooks.consent(location, { allow: true }), nonce);
    expect(res.status).toBe(200);
    expect(res.text).toContain('<title>QuickBooks is connected to Craig&#39;s Design and Landscaping Services</title>');
    const stored = await row('quickbooks');
    expect(stored).toMatchObject({ status: 'connected', tenant_id: REALM, tenant_name: 'Craig\'s Design and Landscaping Services', connected_by: USER });
    const credentials = JSON.parse(openSecret(KEY, stored?.credentials_enc as string, credentialsContext(PORTAL, 'quickbooks'))) as Record<string, unknown>;
    expect(credentials.realm_id).toBe(REALM);
    for (const token of fakes.quickbooks.issuedTokens()) {
      expect([credentials.access_token, credentials.refresh_token]).toContain(token);
      for (const value of Object.values(stored ?? {})) expect(String(value)).not.toContain(token);
    }
    expect(fakes.quickbooks.count(`/v3/company/${REALM}/companyinfo/${REALM}`)).toBe(1);
    expect((await connectPage(session)).text).toContain('Connected to <strong>Craig&#39;s Design and Landscaping Services</strong>');
  });

  it('keeps a QuickBooks connection whose company name cannot be read, naming it by its id', async () => {
    const session = await signIn();
    fakes.quickbooks.failNext('companyinfo', json(500, { Fault: { Error: [{ Message: 'oops' }], type: 'SystemFault' } }));
    const { location, nonce } = await start('quickbooks', session);
    const res = await back(fakes.quickbooks.consent(location, { allow: true }), nonce);
    expect(res.status).toBe(200);
    expect(res.text).toContain(`QuickBooks is connected to <strong>QuickBooks company ${REALM}</strong>`);
    expect((await row('quickbooks'))?.tenant_name).toBe(`QuickBooks company ${REALM}`);
  });

  it('stores nothing when QuickBooks is cancelled or refuses the code', async () => {
    const session = await signIn();
    const denied = await start('quickbooks', session);
    const cancelled = await back(fakes.quickbooks.consent(denied.location, { allow: false }), denied.nonce);
    expect(cancelled.status).toBe(400);
    expect(cancelled.text).toContain('Access was not granted (QuickBooks said: access_denied).');

    const refusedStart = await start('quickbooks', session);
    fakes.quickbooks.failNext('token', json(400, { error: 'invalid_grant', error_description: 'Token invalid' }));
    const refused = await back(fakes.quickbooks.consent(refusedStart.location, { allow: true }), refusedStart.nonce);
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('QuickBooks refused the authorization code: invalid_grant: Token invalid.');

    const noRealm = await start('quickbooks', session);
    const withoutRealm = new URL(fakes.quickbooks.consent(noRealm.location, { allow: true }));
    withoutRealm.searchParams.delete('realmId');
    const missing = await back(withoutRealm.toString(), noRealm.nonce);
    expect(missing.status).toBe(502);
    expect(missing.text).toContain('QuickBooks sent no company id (realmId)');
    expect(fakes.quickbooks.count('/oauth2/v1/tokens/bearer')).toBe(1);
    expect(await rows()).toBe(0);
  });

  // ---- Stripe ----

  it('connects Stripe with a key the stripe SDK verifies against the configured API, sealed at rest', async () => {
    const session = await signIn();
    const res = await post('/connect/stripe', session, { api_key: ` ${SK} ` });
    expect(res.status).toBe(200);
    expect(res.text).toContain('<title>Stripe is connected to Acme Inc</title>');
    expect(res.text).toContain(`Stripe is connected to <strong>Acme Inc</strong> (acct_1Nv0FGQ9RKHgCVdK) for HubSpot portal ${PORTAL}, in test mode.`);
    expect(res.text).not.toContain(SK);
    expect(fakes.stripe.keysSeen()).toEqual([SK, SK]);
    const stored = await row('stripe');
    expect(stored).toMatchObject({ status: 'connected', tenant_id: 'acct_1Nv0FGQ9RKHgCVdK', tenant_name: 'Acme Inc', connected_by: USER, expires_at: null });
    for (const value of Object.values(stored ?? {})) expect(String(value)).not.toContain(SK.slice(8));
    expect(JSON.parse(openSecret(KEY, stored?.credentials_enc as string, credentialsContext(PORTAL, 'stripe')))).toEqual({ api_key: SK });
    const page = await connectPage(session);
    expect(page.text).toContain('<section id="source-stripe" data-status="connected">');
    expect(page.text).toContain('>Reconnect Stripe</button>');
  });

  it('connects a restricted key that may not read the account, by the name "Stripe account"', async () => {
    const session = await signIn();
    const res = await post('/connect/stripe', session, { api_key: RK_NO_ACCOUNT });
    expect(res.status).toBe(200);
    expect(res.text).toContain('Stripe is connected to <strong>Stripe account</strong> for HubSpot portal');
    expect(await row('stripe')).toMatchObject({ tenant_id: null, tenant_name: 'Stripe account' });
  });

  it.each([
    ['a text that is no key', 'pk_test_123', 400, 'must be a Stripe secret key', 0],
    ['an unknown key', 'sk_test_51Unknown000000000000', 400, 'Stripe does not accept this key: Invalid API Key provided: sk_test_', 1],
    ['a key that may not read invoices', RK_NO_INVOICES, 400, 'This key may not read invoices', 2],
  ])('refuses %s, storing nothing', async (_label, apiKey, status, message, calls) => {
    const session = await signIn();
    const res = await post('/connect/stripe', session, { api_key: apiKey });
    expect(res.status).toBe(status);
    expect(res.text).toContain('<title>Stripe was not connected</title>');
    expect(res.text).toContain(message);
    expect(res.text).toContain('Nothing was stored.');
    if (apiKey.length > 12) expect(res.text).not.toContain(apiKey.slice(12));
    expect(fakes.stripe.count(/^\/v1\//)).toBe(calls);
    expect(await rows()).toBe(0);
  });

  it('answers 502 when Stripe cannot be reached or fails, storing nothing', async () => {
    const session = await signIn();
    // stripe-node tries a closed connection once more even with retries off: both attempts are dropped.
    fakes.stripe.failNext('account', 'drop');
    fakes.stripe.failNext('account', 'drop');
    const res = await post('/connect/stripe', session, { api_key: SK });
    expect(res.status).toBe(502);
    expect(res.text).toContain('Stripe could not be reached to check the key');
    expect(fakes.stripe.count('/v1/account')).toBe(2);
    fakes.stripe.failNext('invoices', json(500, { error: { type: 'api_error', message: 'Sorry, something went wrong.' } }));
    const failed = await post('/connect/stripe', session, { api_key: SK });
    expect(failed.status).toBe(502);
    expect(failed.text).toContain('Stripe could not check the key (HTTP 500): Sorry, something went wrong.');
    expect(await rows()).toBe(0);
  });

  // ---- disconnect ----

  it('disconnects Xero: deletes the credentials, revokes the token at Xero, and the page says not connected', async () => {
    const session = await signIn();
    expect((await connectXero(session)).status).toBe(200);
    const credentials = JSON.parse(openSecret(KEY, (await row('xero'))?.credentials_enc as string, credentialsContext(PORTAL, 'xero'))) as { refresh_token: string };
    const versionBefore = await portalDataVersion(store.db, PORTAL);
    const res = await post('/connect/xero/disconnect', session);
    expect(res.status).toBe(200);
    expect(res.text).toContain('<title>Xero is disconnected</title>');
    expect(res.text).toContain(`Xero (Demo Company (NZ)) is disconnected from HubSpot portal ${PORTAL}.`);
    expect(res.text).toContain('The access Xero gave ARBridge is revoked.');
    expect(fakes.xero.revokedRefreshTokens()).toEqual([credentials.refresh_token]);
    expect(await row('xero')).toMatchObject({ status: 'disconnected', credentials_enc: null, expires_at: null, tenant_name: 'Demo Company (NZ)' });
    expect(await portalDataVersion(store.db, PORTAL)).toBeGreaterThan(versionBefore);
    const page = await connectPage(session);
    expect(page.text).toContain('<section id="source-xero" data-status="disconnected">');
    expect(page.text).toContain('>Connect Xero</button>');
    // Again: nothing left to disconnect.
    const again = await post('/connect/xero/disconnect', session);
    expect(again.text).toContain('There was no Xero connection to remove.');
    expect(fakes.xero.revokedRefreshTokens()).toHaveLength(1);
  });

  it('disconnects even when the provider cannot revoke, and says so', async () => {
    const session = await signIn();
    expect((await connectXero(session)).status).toBe(200);
    fakes.xero.failNext('revocation', json(500, { error: 'server_error' }));
    const res = await post('/connect/xero/disconnect', session);
    expect(res.status).toBe(200);
    expect(res.text).toContain('Xero could not revoke the access it gave (Xero could not revoke the token (HTTP 500)); ARBridge deleted its credentials all the same.');
    expect(await row('xero')).toMatchObject({ status: 'disconnected', credentials_enc: null });

    const { location, nonce } = await start('quickbooks', session);
    expect((await back(fakes.quickbooks.consent(location, { allow: true }), nonce)).status).toBe(200);
    fakes.quickbooks.failNext('revoke', json(400, { error: 'invalid_token' }));
    const qbo = await post('/connect/quickbooks/disconnect', session);
    expect(qbo.status).toBe(200);
    expect(qbo.text).toContain('QuickBooks could not revoke the access it gave (QuickBooks did not revoke the token: HTTP 400)');
    expect(await row('quickbooks')).toMatchObject({ status: 'disconnected', credentials_enc: null });
  });

  it('disconnects QuickBooks (revoking the refresh token) and Stripe (no revocation, advice instead)', async () => {
    const session = await signIn();
    const { location, nonce } = await start('quickbooks', session);
    expect((await back(fakes.quickbooks.consent(location, { allow: true }), nonce)).status).toBe(200);
    const credentials = JSON.parse(openSecret(KEY, (await row('quickbooks'))?.credentials_enc as string, credentialsContext(PORTAL, 'quickbooks'))) as { refresh_token: string };
    const qbo = await post('/connect/quickbooks/disconnect', session);
    expect(qbo.text).toContain('The access QuickBooks gave ARBridge is revoked.');
    expect(fakes.quickbooks.revokedTokens()).toEqual([credentials.refresh_token]);

    expect((await post('/connect/stripe', session, { api_key: SK })).status).toBe(200);
    const stripe = await post('/connect/stripe/disconnect', session);
    expect(stripe.status).toBe(200);
    expect(stripe.text).toContain('ARBridge no longer holds the API key; delete or roll it in the Stripe Dashboard if nothing else uses it.');
    expect(await row('stripe')).toMatchObject({ status: 'disconnected', credentials_enc: null });
    expect((await post('/connect/sage/disconnect', session)).status).toBe(404);
  });

  it('shows a connection the sync marked as failing, with its error, Reconnect and Disconnect', async () => {
    const session = await signIn();
    expect((await post('/connect/stripe', session, { api_key: SK })).status).toBe(200);
    await store.db.updateTable('accounting_connections')
      .set({ status: 'error', last_error: 'Stripe refused the key <expired>', last_error_at: new Date('2026-05-04T10:30:00Z') })
      .where('portal_id', '=', PORTAL).execute();
    const page = await connectPage(session);
    expect(page.text).toContain('<section id="source-stripe" data-status="error">');
    expect(page.text).toContain('<p class="status error">Error since 2026-05-04 10:30 UTC: Stripe refused the key &lt;expired&gt;. Reconnect to repair it.</p>');
    expect(page.text).toContain('>Reconnect Stripe</button>');
    expect(page.text).toContain('>Disconnect Stripe</button>');
    // Reconnecting clears the error.
    expect((await post('/connect/stripe', session, { api_key: SK })).status).toBe(200);
    expect(await row('stripe')).toMatchObject({ status: 'connected', last_error: null, last_error_at: null });
  });

  it('logs connections and failures without any token, key or code', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(chunk.toString()); done(); } });
    const traceLogger = createLogger('trace', sink);
    const logged = createApp({ db: store.db, config, logger: traceLogger, today: () => '2026-05-04', connect: { db: store.db, config, key: KEY, logger: traceLogger, now } });
    const session = await signIn(logged);
    const { location, nonce } = await start('xero', session);
    const callbackUrl = fakes.xero.consent(location, { allow: true });
    expect((await request(logged).get(pathOf(callbackUrl)).set('Cookie', nonce)).status).toBe(200);
    fakes.xero.failNext('token', json(400, { error: 'invalid_grant' }));
    const again = await start('xero', session);
    const refusedUrl = fakes.xero.consent(again.location, { allow: true });
    expect((await request(logged).get(pathOf(refusedUrl)).set('Cookie', again.nonce)).status).toBe(400);
    expect((await post('/connect/stripe', session, { api_key: SK }, logged)).status).toBe(200);
    expect((await post('/connect/stripe', session, { api_key: 'sk_test_51Unknown000000000000' }, logged)).status).toBe(400);
    expect((await post('/connect/xero/disconnect', session, {}, logged)).status).toBe(200);
    const output = lines.join('');
    expect(output).toContain('accounting system connected');
    expect(output).toContain('an accounting connection failed');
    const credentials = [
      ...fakes.xero.issuedAccessTokens(), ...fakes.xero.revokedRefreshTokens(), SK, 'sk_test_51Unknown000000000000',
      new URL(callbackUrl).searchParams.get('code') as string, new URL(refusedUrl).searchParams.get('code') as string,
    ];
    expect(credentials.length).toBeGreaterThanOrEqual(6);
    for (const secret of credentials) expect(output).not.toContain(secret);
  });

  it('keeps portals apart: a session sees and changes its own portal only', async () => {
    const session = await signIn();
    expect((await post('/connect/stripe', session, { api_key: SK })).status).toBe(200);
    expect(await row('stripe', OTHER_PORTAL)).toBeUndefined();
    await store.db.insertInto('portals').values({ portal_id: OTHER_PORTAL, name: null }).onConflict((oc) => oc.doNothing()).execute();
    const otherSession = `${SESSION_COOKIE}=${signToken(KEY, 'session', { p: OTHER_PORTAL, u: null, iat: clock, sid: 'C'.repeat(22) })}`;
    const otherPage = await connectPage(otherSession);
    expect(otherPage.text).toContain('<section id="source-stripe" data-status="not_connected">');
    expect((await post('/connect/stripe/disconnect', otherSession)).text).toContain('There was no Stripe connection to remove.');
    expect((await row('stripe'))?.status).toBe('connected');
  });
});

describe('accounting configuration', () => {
  it('offers the providers\' own endpoints by default, and derives the QuickBooks API from the environment', () => {
    const { accounting } = loadConfig({});
    expect(accounting.xero).toEqual({
      clientId: null, clientSecret: null, identityUrl: 'https://identity.xero.com', apiUrl: 'https://api.xero.com',
      scopes: ['openid', 'profile', 'email', 'offline_access', 'accounting.invoices.read', 'accounting.payments.read', 'accounting.contacts.read', 'accounting.settings.read'],
    });
    expect(accounting.quickbooks).toMatchObject({
      clientId: null, environment: 'production', scopes: ['com.intuit.quickbooks.accounting'],
      authorizeUrl: 'https://appcenter.intuit.com/connect/oauth2', apiUrl: 'https://quickbooks.api.intuit.com',
    });
    expect(loadConfig({ QUICKBOOKS_ENVIRONMENT: 'sandbox' }).accounting.quickbooks.apiUrl).toBe('https://sandbox-quickbooks.api.intuit.com');
    expect(accounting.stripe.apiUrl).toBe('https://api.stripe.com');
    expect(loadConfig({ XERO_SCOPES: 'offline_access, accounting.invoices.read', STRIPE_API_URL: 'http://127.0.0.1:12111/' }).accounting)
      .toMatchObject({ xero: { scopes: ['offline_access', 'accounting.invoices.read'] }, stripe: { apiUrl: 'http://127.0.0.1:12111' } });
  });

  it('refuses a client id without its secret, and a bad URL or environment, naming the variable', () => {
    expect(() => loadConfig({ XERO_CLIENT_ID: 'x' })).toThrow('XERO_CLIENT_ID and XERO_CLIENT_SECRET go together');
    expect(() => loadConfig({ QUICKBOOKS_CLIENT_SECRET: 'x' })).toThrow('QUICKBOOKS_CLIENT_ID and QUICKBOOKS_CLIENT_SECRET go together');
    expect(() => loadConfig({ XERO_IDENTITY_URL: 'identity.xero.com' })).toThrow(/XERO_IDENTITY_URL/);
    expect(() => loadConfig({ QUICKBOOKS_ENVIRONMENT: 'staging' })).toThrow(/QUICKBOOKS_ENVIRONMENT/);
  });
});
