import crypto from 'node:crypto';
import {
  basicAuth, bearer, consentPage, FakeHttpServer, form, html, json, redirect, withQuery, type FakeReply, type FakeRequest, type LoggedCall,
} from './http';

/**
 * A fake Intuit (QuickBooks Online) on 127.0.0.1, following Intuit's paths and payloads:
 * - the consent screen `/connect/oauth2` (appcenter.intuit.com): choose a company, Connect or Cancel; the
 *   browser comes back with `code`, `state` and `realmId`;
 * - `POST /oauth2/v1/tokens/bearer` (oauth.platform.intuit.com) and `POST /v2/oauth2/tokens/revoke`
 *   (developer.api.intuit.com);
 * - `GET /v3/company/{realmId}/companyinfo/{realmId}` (quickbooks.api.intuit.com).
 * One server plays every host: QUICKBOOKS_AUTHORIZE_URL = url + '/connect/oauth2', and so on (see env()).
 */

export type FakeCompany = { realmId: string; companyName: string };

export type FakeQuickBooksOptions = { clientId?: string; clientSecret?: string; companies?: FakeCompany[] };

type Grant = { redirectUri: string; realmId: string };

export type FakeQuickBooks = {
  url: string;
  calls: LoggedCall[];
  count(path: string | RegExp): number;
  failNext(route: 'token' | 'revoke' | 'companyinfo', reply: FakeReply): void;
  /** The service's QUICKBOOKS_* endpoint variables for this fake. */
  env(): Record<string, string>;
  /** What the consent screen does for a person who connects (a company, by default the first) or cancels. */
  consent(authorizeUrl: string, decision: { allow: boolean; realmId?: string }): string;
  revokedTokens(): string[];
  issuedTokens(): string[];
  /** Serves another path of this host: the data API fake (test/fakes/quickbooks) mounts its routes here. */
  route(method: string, pattern: RegExp, name: string, run: (req: FakeRequest) => FakeReply | Promise<FakeReply>): void;
  /** The company an access token opens, or null (unknown or revoked). */
  realmOf(accessToken: string): string | null;
  /** A token pair for a company, as a completed connect flow issues it (for tests that skip the consent screen). */
  grant(realmId: string): { accessToken: string; refreshToken: string };
  reset(): void;
  close(): Promise<void>;
};

const token = (): string => crypto.randomBytes(32).toString('base64url');

export const startFakeQuickBooks = async (options: FakeQuickBooksOptions = {}): Promise<FakeQuickBooks> => {
  const clientId = options.clientId ?? 'qbo-client';
  const clientSecret = options.clientSecret ?? 'qbo-secret';
  const companies = options.companies ?? [{ realmId: '9130357766900456', companyName: 'Craig\'s Design and Landscaping Services' }];
  const server = new FakeHttpServer();
  await server.listen();

  const codes = new Map<string, Grant>();
  const access = new Map<string, Grant>();
  const refresh = new Map<string, Grant>();
  let revoked: string[] = [];

  const checkAuthorize = (params: URLSearchParams): string | null => {
    if (params.get('client_id') !== clientId) return 'invalid_client';
    if (!params.get('redirect_uri')) return 'invalid_redirect_uri';
    if (params.get('response_type') !== 'code') return 'unsupported_response_type';
    if (!(params.get('scope') ?? '').split(' ').includes('com.intuit.quickbooks.accounting')) return 'invalid_scope';
    if (!params.get('state')) return 'invalid_request: state is required';
    return null;
  };

  const decide = (params: URLSearchParams, allow: boolean, realmId: string): string => {
    const problem = checkAuthorize(params);
    if (problem) throw new Error(problem);
    const redirectUri = params.get('redirect_uri') as string;
    const state = params.get('state') as string;
    if (!allow) return withQuery(redirectUri, { error: 'access_denied', state });
    const code = `AB${token()}`;
    codes.set(code, { redirectUri, realmId });
    return withQuery(redirectUri, { code, state, realmId });
  };

  server.route('GET', /^\/connect\/oauth2$/, 'authorize', (req) => {
    const problem = checkAuthorize(req.query);
    if (problem) return html(400, `<!doctype html><title>Intuit: error</title><h1>Something went wrong</h1><p>${problem}</p>`);
    return html(200, consentPage({
      provider: 'QuickBooks Online',
      action: '/connect/oauth2',
      hidden: Object.fromEntries(req.query),
      choiceName: 'realm',
      choices: companies.map((c) => ({ value: c.realmId, label: c.companyName })),
    }));
  });
  server.route('POST', /^\/connect\/oauth2$/, 'consent', (req) => {
    const fields = form(req.body);
    const params = new URLSearchParams(Object.entries(fields).filter(([name]) => !['decision', 'realm'].includes(name)));
    try {
      return redirect(decide(params, fields.decision === 'allow', fields.realm ?? (companies[0] as FakeCompany).realmId));
    } catch (error) {
      return html(400, `<!doctype html><title>Intuit: error</title><p>${(error as Error).message}</p>`);
    }
  });

  server.route('POST', /^\/oauth2\/v1\/tokens\/bearer$/, 'token', (req) => {
    const client = basicAuth(req.headers.authorization);
    if (!client || client.id !== clientId || client.secret !== clientSecret) return json(401, { error: 'invalid_client' });
    const fields = form(req.body);
    if (fields.grant_type === 'refresh_token') {
      // Each refresh answers a new refresh token; the one used is refused from then on (Intuit after 24 hours).
      const grant = refresh.get(fields.refresh_token ?? '');
      if (!grant) return json(400, { error: 'invalid_grant' });
      refresh.delete(fields.refresh_token ?? '');
      const accessToken = `eyJ${token()}`;
      const refreshToken = `RT1-${token()}`;
      access.set(accessToken, grant);
      refresh.set(refreshToken, grant);
      return json(200, {
        token_type: 'bearer', access_token: accessToken, refresh_token: refreshToken, expires_in: 3600, x_refresh_token_expires_in: 8_726_400,
      }, { intuit_tid: crypto.randomUUID() });
    }
    if (fields.grant_type !== 'authorization_code') return json(400, { error: 'unsupported_grant_type' });
    const grant = codes.get(fields.code ?? '');
    codes.delete(fields.code ?? '');
    if (!grant || grant.redirectUri !== fields.redirect_uri) return json(400, { error: 'invalid_grant' });
    const accessToken = `eyJ${token()}`;
    const refreshToken = `RT1-${token()}`;
    access.set(accessToken, grant);
    refresh.set(refreshToken, grant);
    return json(200, {
      token_type: 'bearer', access_token: accessToken, refresh_token: refreshToken,
      expires_in: 3600, x_refresh_token_expires_in: 8_726_400,
    }, { intuit_tid: crypto.randomUUID() });
  });

  server.route('POST', /^\/v2\/oauth2\/tokens\/revoke$/, 'revoke', (req) => {
    const client = basicAuth(req.headers.authorization);
    if (!client || client.id !== clientId || client.secret !== clientSecret) return json(401, { error: 'invalid_client' });
    let body: { token?: unknown };
    try {
      body = JSON.parse(req.body) as { token?: unknown };
    } catch {
      return json(400, { error: 'invalid_request' });
    }
    const value = typeof body.token === 'string' ? body.token : '';
    const grant = refresh.get(value) ?? access.get(value);
    if (!grant) return json(400, { error: 'invalid_token' });
    revoked.push(value);
    refresh.delete(value);
    for (const [t, g] of access) if (g.realmId === grant.realmId) access.delete(t);
    return { status: 200, body: '' };
  });

  server.route('GET', /^\/v3\/company\/(\d+)\/companyinfo\/(\d+)$/, 'companyinfo', (req) => {
    const grant = access.get(bearer(req.headers.authorization) ?? '');
    const [realmId, infoId] = req.params as [string, string];
    const time = new Date().toISOString();
    if (!grant || grant.realmId !== realmId) {
      return json(401, { Fault: { Error: [{ Message: 'message=AuthenticationFailed; errorCode=003200; statusCode=401', code: '3200' }], type: 'AUTHENTICATION' }, time });
    }
    const company = companies.find((c) => c.realmId === infoId);
    if (!company) return json(400, { Fault: { Error: [{ Message: 'Object Not Found', Detail: `CompanyInfo ${infoId}`, code: '610' }], type: 'ValidationFault' }, time });
    return json(200, {
      CompanyInfo: {
        CompanyName: company.companyName, LegalName: company.companyName, Id: '1', SyncToken: '4', domain: 'QBO', sparse: false,
        Country: 'US', CompanyStartDate: '2015-06-05', FiscalYearStartMonth: 'January',
        MetaData: { CreateTime: '2015-06-05T13:55:54-07:00', LastUpdatedTime: '2026-11-02T09:12:03-08:00' },
      },
      time,
    });
  });

  return {
    get url() { return server.url; },
    calls: server.calls,
    count: (path) => server.count(path),
    failNext: (route, reply) => server.failNext(route, reply),
    env: () => ({
      QUICKBOOKS_AUTHORIZE_URL: `${server.url}/connect/oauth2`,
      QUICKBOOKS_TOKEN_URL: `${server.url}/oauth2/v1/tokens/bearer`,
      QUICKBOOKS_REVOKE_URL: `${server.url}/v2/oauth2/tokens/revoke`,
      QUICKBOOKS_API_URL: server.url,
    }),
    consent: (authorizeUrl, decision) =>
      decide(new URL(authorizeUrl).searchParams, decision.allow, decision.realmId ?? (companies[0] as FakeCompany).realmId),
    revokedTokens: () => [...revoked],
    issuedTokens: () => [...access.keys(), ...refresh.keys()],
    route: (method, pattern, name, run) => server.route(method, pattern, name, run),
    realmOf: (accessToken) => access.get(accessToken)?.realmId ?? null,
    grant: (realmId) => {
      const accessToken = `eyJ${token()}`;
      const refreshToken = `RT1-${token()}`;
      access.set(accessToken, { redirectUri: '', realmId });
      refresh.set(refreshToken, { redirectUri: '', realmId });
      return { accessToken, refreshToken };
    },
    reset: () => {
      server.calls.length = 0;
      server.clearFailures();
      codes.clear();
      access.clear();
      refresh.clear();
      revoked = [];
    },
    close: () => server.close(),
  };
};
