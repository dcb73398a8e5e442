import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { loadConfig, type Config } from '../../src/config';
import { createApp } from '../../src/http/app';
import { startService } from '../../src/http/main';
import { cookieValues, newNonce, NONCE_COOKIE, STATE_TTL_MS, signState, verifyState } from '../../src/http/routes/oauth';
import { accessContext, createHubSpotAuth, OAUTH_CALLBACK_PATH, OAUTH_INSTALL_PATH, refreshContext } from '../../src/hubspot/auth';
import { connectPortal } from '../../src/hubspot/connection';
import { describeInstall, installProperties, PROPERTY_GROUP } from '../../src/hubspot/properties';
import { createLogger } from '../../src/logger';
import { openSecret } from '../../src/secrets/crypto';
import { DEV_KEY_FILE } from '../../src/secrets/keys';
import type { Store } from '../../src/store/store';
import { startFakeHubSpot, type FakeHubSpot } from '../fakes/hubspot';
import { tempDir } from '../helpers/cli';
import { describeEachStore, openTestStore } from '../helpers/stores';

const KEY = Buffer.alloc(32, 5);
const PORTAL = 620_001;
const PUBLIC_URL = 'https://arbridge.example.com';
const REDIRECT_URI = `${PUBLIC_URL}/oauth/hubspot/callback`;
const AUTHORIZE_URL = 'https://app.hubspot.com/oauth/authorize';
const SCOPES = 'oauth crm.objects.companies.read crm.objects.companies.write';
const COOKIE_ATTRIBUTES = 'Path=/oauth/hubspot; Max-Age=600; HttpOnly; SameSite=Lax; Secure';
const CLEARED_COOKIE = `${NONCE_COOKIE}=; Path=/oauth/hubspot; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax; Secure`;

type App = Parameters<typeof request>[0];

/** The response's Set-Cookie headers for the install nonce. */
const nonceCookies = (res: { headers: Record<string, unknown> }): string[] =>
  ((res.headers['set-cookie'] as string[] | undefined) ?? []).filter((c) => c.startsWith(`${NONCE_COOKIE}=`));

/** An install as a browser starts it: the state it carries to HubSpot and the cookie it keeps (`name=value`). */
type Started = { state: string; cookie: string; nonce: string };

const startInstall = async (target: App): Promise<Started> => {
  const res = await request(target).get('/oauth/hubspot/install');
  expect(res.status).toBe(302);
  const [setCookie] = nonceCookies(res);
  const cookie = (setCookie as string).split(';')[0] as string;
  return {
    state: new URL(res.headers.location as string).searchParams.get('state') as string,
    cookie,
    nonce: cookie.slice(NONCE_COOKIE.length + 1),
  };
};

/** HubSpot's redirect back to the callback, with the browser's cookie when it has one. */
const callback = (target: App, query: Record<string, string>, cookie?: string) => {
  const req = request(target).get('/oauth/hubspot/callback').query(query);
  return cookie === undefined ? req : req.set('Cookie', cookie);
};

const oauthEnv = (fake: FakeHubSpot): Record<string, string> => ({
  HUBSPOT_CLIENT_ID: 'client-1',
  HUBSPOT_CLIENT_SECRET: 'secret-1',
  HUBSPOT_API_BASE_URL: fake.url,
  HUBSPOT_AUTHORIZE_URL: AUTHORIZE_URL,
  HUBSPOT_SCOPES: SCOPES,
  ARBRIDGE_PUBLIC_URL: PUBLIC_URL,
  LOG_LEVEL: 'silent',
});

describeEachStore('OAuth install routes', (backend) => {
  let store: Store;
  let fake: FakeHubSpot;
  let config: Config;
  let clock: number;
  let app: ReturnType<typeof createApp>;
  const logger = createLogger('silent');
  const now = (): number => clock;

  const appFor = (cfg: Config): ReturnType<typeof createApp> => {
    const auth = createHubSpotAuth({ db: store.db, config: cfg, key: KEY, logger, now });
    return createApp({ db: store.db, config: cfg, logger, today: () => '2026-05-04', oauth: { config: cfg, auth, key: KEY, logger, now } });
  };

  beforeAll(async () => {
    fake = await startFakeHubSpot({ clientId: 'client-1', clientSecret: 'secret-1', redirectUri: REDIRECT_URI, rateLimit: null });
    fake.addPortal(PORTAL, { hubDomain: 'acme.hubspot.com' });
    config = loadConfig(oauthEnv(fake));
    store = await openTestStore(backend);
    app = appFor(config);
  });
  afterAll(async () => {
    await store.close();
    await fake.close();
  });
  beforeEach(async () => {
    await store.db.deleteFrom('hubspot_installs').execute();
    clock = Date.parse('2026-05-04T09:00:00Z');
    fake.setFaults(null);
    fake.clearRequests();
  });

  const installs = async (): Promise<number> => (await store.db.selectFrom('hubspot_installs').select('portal_id').execute()).length;
  const tokenExchanges = (): number => fake.requests.filter((r) => r.path === '/oauth/v1/token').length;


  it('sends the browser to HubSpot with the client id, redirect URI, scopes and a signed state bound to a cookie', async () => {
    const res = await request(app).get('/oauth/hubspot/install');
    expect(res.status).toBe(302);
    expect(res.headers['cache-control']).toBe('no-store');
    const location = res.headers.location as string;
    const url = new URL(location);
    expect(`${url.origin}${url.pathname}`).toBe(AUTHORIZE_URL);
    expect([...url.searchParams.keys()]).toEqual(['client_id', 'redirect_uri', 'scope', 'state']);
    expect(url.searchParams.get('client_id')).toBe('client-1');
    expect(url.searchParams.get('redirect_uri')).toBe(REDIRECT_URI);
    expect(url.searchParams.get('scope')).toBe(SCOPES);
    expect(location).toContain(`scope=${SCOPES.replaceAll(' ', '%20')}&`);
    const state = url.searchParams.get('state') as string;
    // The browser keeps the state's nonce in an HttpOnly cookie sent only to the OAuth paths, for as long as the state lasts.
    const nonce = state.split('.')[1] as string;
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(nonceCookies(res)).toEqual([`${NONCE_COOKIE}=${nonce}; ${COOKIE_ATTRIBUTES}`]);
    expect(OAUTH_INSTALL_PATH.startsWith('/oauth/hubspot/') && OAUTH_CALLBACK_PATH.startsWith('/oauth/hubspot/')).toBe(true);
    expect(verifyState(KEY, state, clock, [nonce])).toBe('ok');
    expect(verifyState(Buffer.alloc(32, 6), state, clock, [nonce])).toBe('invalid');
    expect(verifyState(KEY, state, clock, [])).toBe('no_cookie');
    expect(verifyState(KEY, state, clock, [newNonce()])).toBe('other_browser');
    expect(verifyState(KEY, state, clock, ['stale', nonce])).toBe('ok');
    // Each redirect carries its own nonce.
    const next = await startInstall(app);
    expect(next.state).not.toBe(state);
    expect(next.nonce).not.toBe(nonce);
    expect(next.state.split('.')[1]).toBe(next.nonce);
  });

  it('asks for the default scopes when HUBSPOT_SCOPES is not set', async () => {
    const { HUBSPOT_SCOPES: _omit, ...env } = oauthEnv(fake);
    const defaults = loadConfig(env);
    const res = await request(appFor(defaults)).get('/oauth/hubspot/install');
    expect(new URL(res.headers.location as string).searchParams.get('scope')).toBe(defaults.hubspot.scopes.join(' '));
    expect(defaults.hubspot.scopes).toContain('crm.objects.companies.write');
  });

  it('completes an install: exchanges the code, stores the tokens sealed, and says which portal', async () => {
    const { state, cookie } = await startInstall(app);
    const code = fake.issueAuthorizationCode(PORTAL);
    const res = await callback(app, { code, state }, cookie);
    expect(res.status).toBe(200);
    expect(nonceCookies(res)).toEqual([CLEARED_COOKIE]);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toContain(`<title>ARBridge is installed in portal ${PORTAL}</title>`);
    expect(res.text).toContain(`ARBridge is installed in portal ${PORTAL} (acme.hubspot.com).`);

    const row = await store.db.selectFrom('hubspot_installs').selectAll().where('portal_id', '=', PORTAL).executeTakeFirstOrThrow();
    const access = openSecret(KEY, row.access_token_enc, accessContext(PORTAL));
    const refresh = openSecret(KEY, row.refresh_token_enc, refreshContext(PORTAL));
    // The tokens are the ones the fake issued for this code: the access token our code looked up, and a refresh
    // token HubSpot accepts for this portal.
    const lookup = fake.requests.find((r) => r.path.startsWith('/oauth/v1/access-tokens/'));
    expect(lookup?.path).toBe(`/oauth/v1/access-tokens/${access}`);
    expect(lookup?.portalId).toBe(PORTAL);
    const info = await fetch(`${fake.url}/oauth/v1/refresh-tokens/${refresh}`).then((r) => r.json() as Promise<{ hub_id: number }>);
    expect(info.hub_id).toBe(PORTAL);
    for (const value of Object.values(row)) {
      expect(String(value)).not.toContain(access);
      expect(String(value)).not.toContain(refresh);
    }
    expect(res.text).not.toContain(access);
    expect(res.text).not.toContain(refresh);
    expect(res.text).not.toContain(code);
    expect(row.hub_domain).toBe('acme.hubspot.com');
    expect(row.scopes.split(' ')).toContain('oauth');

    // The state is single-use in the browser: its cookie is gone, so the same callback again is refused before
    // the code reaches HubSpot.
    const replay = await callback(app, { code, state });
    expect(replay.status).toBe(400);
    expect(replay.text).toContain('the install cookie set by the install link is missing');
    expect(tokenExchanges()).toBe(1);
    // The code is single-use at HubSpot too: even with the old cookie sent again, HubSpot refuses it and the install stays.
    const again = await callback(app, { code, state }, cookie);
    expect(again.status).toBe(400);
    expect(again.text).toContain('HubSpot refused the authorization code: BAD_AUTH_CODE: missing or unknown auth code.');
    expect(nonceCookies(again)).toEqual([CLEARED_COOKIE]);
    expect(tokenExchanges()).toBe(2);
    expect(await installs()).toBe(1);
  });

  it.each([
    ['a tampered signature', (s: string) => `${s.slice(0, -1)}${s.endsWith('A') ? 'B' : 'A'}`],
    ['a tampered time', (s: string) => s.replace(/^\d+/, (t) => String(Number(t) + 1))],
    ['garbage', () => 'not-a-state'],
    ['an empty state', () => ''],
  ])('refuses a callback with %s, storing nothing and never exchanging the code', async (_label, mangle) => {
    const started = await startInstall(app);
    const state = mangle(started.state);
    const res = await callback(app, { code: fake.issueAuthorizationCode(PORTAL), state }, started.cookie);
    expect(res.status).toBe(400);
    expect(nonceCookies(res)).toEqual([CLEARED_COOKIE]);
    expect(res.text).toContain('ARBridge was not installed');
    expect(res.text).toMatch(/state does not check out|expects the <code>code<\/code> and <code>state<\/code>/);
    expect(await installs()).toBe(0);
    expect(tokenExchanges()).toBe(0);
  });

  it('creates the ARBridge properties in the new portal, and says so; a failure there keeps the install', async () => {
    const auth = createHubSpotAuth({ db: store.db, config, key: KEY, logger, now });
    const onInstalled = async (portalId: number): Promise<string> => {
      const connection = connectPortal(auth, config, portalId);
      return describeInstall(await installProperties(await connection.client(), connection.caller));
    };
    const withSetup = createApp({ db: store.db, config, logger, today: () => '2026-05-04', oauth: { config, auth, key: KEY, logger, now, onInstalled } });
    const started = await startInstall(withSetup);
    const res = await callback(withSetup, { code: fake.issueAuthorizationCode(PORTAL), state: started.state }, started.cookie);
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/Created \d+ and updated 0 ARBridge properties/);
    expect(fake.properties(PORTAL, 'companies').filter((p) => p.groupName === PROPERTY_GROUP.name).length).toBeGreaterThan(5);
    expect(fake.properties(PORTAL, 'deals').some((p) => p.name === 'arbridge_collected')).toBe(true);

    const failing = createApp({ db: store.db, config, logger, today: () => '2026-05-04', oauth: { config, auth, key: KEY, logger, now, onInstalled: async () => { throw new Error('HubSpot is down'); } } });
    const started2 = await startInstall(failing);
    const res2 = await callback(failing, { code: fake.issueAuthorizationCode(PORTAL), state: started2.state }, started2.cookie);
    expect(res2.status).toBe(200);
    expect(res2.text).toContain(`run arbridge hubspot install-properties --portal ${PORTAL}`);
    expect(await installs()).toBe(1);
  });

  it('refuses a state older than 10 minutes, and takes one just inside', async () => {
    const { state, cookie } = await startInstall(app);
    clock += STATE_TTL_MS + 1_000;
    const late = await callback(app, { code: fake.issueAuthorizationCode(PORTAL), state }, cookie);
    expect(late.status).toBe(400);
    expect(late.text).toContain('This install link has expired (links are good for 10 minutes).');
    expect(late.text).toContain('<a href="/oauth/hubspot/install">start the install again</a>');
    expect(await installs()).toBe(0);
    expect(tokenExchanges()).toBe(0);

    clock -= 2_000;
    const inTime = await callback(app, { code: fake.issueAuthorizationCode(PORTAL), state }, cookie);
    expect(inTime.status).toBe(200);
    expect(await installs()).toBe(1);
  });

  it('shows HubSpot\'s error when the user did not grant access, storing nothing', async () => {
    const { state, cookie } = await startInstall(app);
    const res = await callback(app, { error: 'access_denied', error_description: 'The user <b>declined</b> the install', state }, cookie);
    expect(res.status).toBe(400);
    expect(nonceCookies(res)).toEqual([CLEARED_COOKIE]);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.text).toContain('HubSpot said: The user &lt;b&gt;declined&lt;/b&gt; the install');
    expect(await installs()).toBe(0);
    expect(tokenExchanges()).toBe(0);
  });

  it('answers 502 when HubSpot fails during the exchange, storing nothing', async () => {
    const { state, cookie } = await startInstall(app);
    fake.setFaults({ rate: 1, kinds: ['500'] });
    const res = await callback(app, { code: fake.issueAuthorizationCode(PORTAL), state }, cookie);
    expect(res.status).toBe(502);
    expect(nonceCookies(res)).toEqual([CLEARED_COOKIE]);
    expect(res.text).toContain('HubSpot could not be reached to finish the install.');
    expect(await installs()).toBe(0);
  });

  it('answers 503 when OAuth is not configured', async () => {
    const bare = loadConfig({ HUBSPOT_API_BASE_URL: fake.url, ARBRIDGE_PUBLIC_URL: PUBLIC_URL });
    const plain = appFor(bare);
    const nonce = newNonce();
    for (const url of ['/oauth/hubspot/install', `/oauth/hubspot/callback?code=x&state=${signState(KEY, clock, nonce)}`]) {
      const res = await request(plain).get(url).set('Cookie', `${NONCE_COOKIE}=${nonce}`);
      expect(res.status).toBe(503);
      expect(nonceCookies(res)).toEqual(url.includes('callback') ? [CLEARED_COOKIE] : []);
      expect(res.body).toEqual({
        error: 'not_configured',
        message: 'HubSpot OAuth is not configured on this service: set HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET',
      });
    }
    expect(tokenExchanges()).toBe(0);
  });

  it('refuses a valid state from a browser without the install cookie, never exchanging the code', async () => {
    const { state } = await startInstall(app);
    const res = await callback(app, { code: fake.issueAuthorizationCode(PORTAL), state });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.text).toContain('This browser did not start this install, or already used it: the install cookie set by the install link is missing');
    expect(res.text).toContain('You can <a href="/oauth/hubspot/install">start the install again</a> in this browser.');
    expect(nonceCookies(res)).toEqual([CLEARED_COOKIE]);
    expect(await installs()).toBe(0);
    expect(tokenExchanges()).toBe(0);
  });

  it('refuses a state whose install cookie belongs to another install, never exchanging the code', async () => {
    // One browser's callback link (state A) opened in a browser that started its own install (cookie B).
    const mine = await startInstall(app);
    const theirs = await startInstall(app);
    expect(theirs.nonce).not.toBe(mine.nonce);
    const res = await callback(app, { code: fake.issueAuthorizationCode(PORTAL), state: theirs.state }, mine.cookie);
    expect(res.status).toBe(400);
    expect(res.text).toContain('This install was started in another browser, or a newer install was started in this one');
    expect(nonceCookies(res)).toEqual([CLEARED_COOKIE]);
    // A cookie holding the state's signature or its whole text is not its nonce either.
    for (const forged of [theirs.state.split('.')[2] as string, theirs.state, `${theirs.nonce}x`]) {
      const again = await callback(app, { code: fake.issueAuthorizationCode(PORTAL), state: theirs.state }, `${NONCE_COOKIE}=${forged}`);
      expect(again.status).toBe(400);
    }
    expect(await installs()).toBe(0);
    expect(tokenExchanges()).toBe(0);
  });

  it('reads the install cookie among others, quoted, or sent twice', async () => {
    const started = await startInstall(app);
    const header = `theme=dark;${NONCE_COOKIE}=stale-from-elsewhere; flag; ${NONCE_COOKIE}="${started.nonce}" ;other=a=b`;
    expect(cookieValues(header, NONCE_COOKIE)).toEqual(['stale-from-elsewhere', started.nonce]);
    expect(cookieValues(header, 'other')).toEqual(['a=b']);
    expect(cookieValues(undefined, NONCE_COOKIE)).toEqual([]);
    expect(cookieValues(`x${NONCE_COOKIE}=${started.nonce}; ${NONCE_COOKIE}=`, NONCE_COOKIE)).toEqual([]);
    const res = await callback(app, { code: fake.issueAuthorizationCode(PORTAL), state: started.state }, header);
    expect(res.status).toBe(200);
    expect(await installs()).toBe(1);
  });

  it('marks the install cookie Secure for an https public URL only, and scopes it under the public URL\'s path', async () => {
    for (const [publicUrl, attributes] of [
      ['http://127.0.0.1:3000', 'Path=/oauth/hubspot; Max-Age=600; HttpOnly; SameSite=Lax'],
      ['https://arbridge.example.com/', COOKIE_ATTRIBUTES],
      ['https://example.com/arbridge', 'Path=/arbridge/oauth/hubspot; Max-Age=600; HttpOnly; SameSite=Lax; Secure'],
    ] as const) {
      const target = appFor(loadConfig({ ...oauthEnv(fake), ARBRIDGE_PUBLIC_URL: publicUrl }));
      const res = await request(target).get('/oauth/hubspot/install');
      const nonce = new URL(res.headers.location as string).searchParams.get('state')?.split('.')[1] as string;
      expect(nonceCookies(res)).toEqual([`${NONCE_COOKIE}=${nonce}; ${attributes}`]);
      const done = await callback(target, { error: 'access_denied' }, `${NONCE_COOKIE}=${nonce}`);
      expect(done.status).toBe(400);
      expect(nonceCookies(done)).toEqual([
        `${NONCE_COOKIE}=; ${attributes.replace('Max-Age=600', 'Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT')}`,
      ]);
    }
    expect(tokenExchanges()).toBe(0);
  });

  it('offers no public uninstall route', async () => {
    const { state, cookie } = await startInstall(app);
    expect((await callback(app, { code: fake.issueAuthorizationCode(PORTAL), state }, cookie)).status).toBe(200);
    for (const method of ['post', 'delete', 'get'] as const) {
      const res = await request(app)[method]('/oauth/hubspot/uninstall').send({ portalId: PORTAL });
      expect(res.status).toBe(404);
    }
    expect(await installs()).toBe(1);
  });
});

describe('the service with HubSpot OAuth', () => {
  const dir = tempDir();
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('serves the install route, sealing tokens with a development key file when no key is set', async () => {
    const dataDir = path.join(dir, 'data');
    const config = loadConfig({
      ARBRIDGE_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'silent', ARBRIDGE_DEMO: 'off',
      HUBSPOT_CLIENT_ID: 'client-1', HUBSPOT_CLIENT_SECRET: 'secret-1', ARBRIDGE_PUBLIC_URL: PUBLIC_URL,
    });
    const running = await startService(config);
    try {
      const res = await fetch(`${running.url}/oauth/hubspot/install`, { redirect: 'manual' });
      expect(res.status).toBe(302);
      expect(new URL(res.headers.get('location') as string).searchParams.get('redirect_uri')).toBe(REDIRECT_URI);
      expect(res.headers.getSetCookie()).toEqual([expect.stringMatching(new RegExp(`^${NONCE_COOKIE}=[A-Za-z0-9_-]{22}; ${COOKIE_ATTRIBUTES}$`))]);
      expect(fs.statSync(path.join(dataDir, DEV_KEY_FILE)).mode & 0o777).toBe(0o600);
      expect(await running.auth.status(PORTAL)).toEqual({ mode: 'none' });
    } finally {
      await running.stop();
    }
  });

  it('refuses to start in production without ARBRIDGE_SECRET_KEY', async () => {
    const production = {
      NODE_ENV: 'production', ARBRIDGE_DATA_DIR: path.join(dir, 'prod'), PORT: '0', LOG_LEVEL: 'silent',
      HUBSPOT_CLIENT_ID: 'client-1', HUBSPOT_CLIENT_SECRET: 'secret-1', ARBRIDGE_PUBLIC_URL: PUBLIC_URL,
    };
    expect(() => loadConfig(production)).toThrow('Invalid configuration: ARBRIDGE_SECRET_KEY is required in production (it encrypts stored tokens)');
    // A configuration built without loadConfig is refused by the service itself, before it opens anything.
    const withKey = loadConfig({ ...production, ARBRIDGE_SECRET_KEY: KEY.toString('base64') });
    await expect(startService({ ...withKey, secretKey: null })).rejects.toThrow('ARBRIDGE_SECRET_KEY is required in production');
    expect(fs.existsSync(path.join(dir, 'prod'))).toBe(false);
  });
});
