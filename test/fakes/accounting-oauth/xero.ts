import crypto from 'node:crypto';
import {
  basicAuth, bearer, consentPage, FakeHttpServer, form, html, json, redirect, withQuery, type FakeReply, type FakeRequest, type LoggedCall,
} from './http';

/**
 * A fake Xero identity and connections service on 127.0.0.1, following Xero's paths and payloads:
 * - OpenID discovery (`/.well-known/openid-configuration`) and its keys (`…/jwks`), as identity.xero.com;
 * - the consent screen `/identity/connect/authorize` (login.xero.com): choose an organisation, Allow or Cancel;
 * - `POST /connect/token` (authorization code → access, refresh and RS256-signed ID token),
 *   `POST /connect/revocation` (identity.xero.com);
 * - `GET /connections` (api.xero.com): the organisations a token reaches.
 * One server plays every host: pass its url as XERO_IDENTITY_URL and XERO_API_URL.
 */

export type FakeOrganisation = { tenantId: string; tenantName: string };

export type FakeXeroOptions = {
  clientId?: string;
  clientSecret?: string;
  /** The app's registered redirect URIs (any when empty). */
  redirectUris?: string[];
  organisations?: FakeOrganisation[];
};

type Grant = { clientId: string; redirectUri: string; scope: string; tenantIds: string[]; authEventId: string };
type TokenRecord = Grant & { revoked: boolean };

export type FakeXero = {
  url: string;
  calls: LoggedCall[];
  count(path: string | RegExp): number;
  /** The next call of a route ('discovery', 'token', 'revocation', 'connections') gets this answer or is dropped. */
  failNext(route: 'discovery' | 'token' | 'revocation' | 'connections', reply: FakeReply): void;
  /**
   * What the consent screen does for a person who allows (with the organisations chosen, by default the first)
   * or cancels: the URL it sends the browser back to. Throws when the authorize URL is not one Xero accepts.
   */
  consent(authorizeUrl: string, decision: { allow: boolean; tenantIds?: string[] }): string;
  /** Refresh tokens revoked so far. */
  revokedRefreshTokens(): string[];
  /** Every access token issued (to check that none is stored in the clear). */
  issuedAccessTokens(): string[];
  /** Serves another path of this host: the Accounting API fake (test/fakes/xero) mounts its routes here. */
  route(method: string, pattern: RegExp, name: string, run: (req: FakeRequest) => FakeReply | Promise<FakeReply>): void;
  /** The organisations an access token reaches, or null (unknown or revoked). */
  tenantsOf(accessToken: string): string[] | null;
  /** A token pair for organisations, as a completed connect flow issues it (for tests that skip the consent screen). */
  grant(tenantIds: string[]): { accessToken: string; refreshToken: string };
  reset(): void;
  close(): Promise<void>;
};

const b64url = (value: Buffer | string): string => Buffer.from(value).toString('base64url');

export const startFakeXero = async (options: FakeXeroOptions = {}): Promise<FakeXero> => {
  const clientId = options.clientId ?? 'xero-client';
  const clientSecret = options.clientSecret ?? 'xero-secret';
  const organisations = options.organisations ?? [{ tenantId: 'c2cc9b6e-9458-4c7d-93cc-f02b81b0594f', tenantName: 'Demo Company (NZ)' }];
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = crypto.randomBytes(8).toString('hex');
  const jwk = { ...(publicKey.export({ format: 'jwk' }) as Record<string, unknown>), kid, use: 'sig', alg: 'RS256' };
  const server = new FakeHttpServer();
  await server.listen();
  const issuer = server.url;

  const codes = new Map<string, Grant>();
  const access = new Map<string, TokenRecord>();
  const refresh = new Map<string, TokenRecord>();
  const connections = new Map<string, { id: string; authEventId: string; createdDateUtc: string; updatedDateUtc: string }>();
  let revoked: string[] = [];
  let clock = Date.now();
  const tick = (): string => {
    clock = Math.max(Date.now(), clock + 1000);
    return new Date(clock).toISOString().replace('Z', '0000');
  };

  const signJwt = (payload: Record<string, unknown>): string => {
    const head = b64url(JSON.stringify({ alg: 'RS256', kid, typ: 'JWT' }));
    const body = b64url(JSON.stringify(payload));
    return `${head}.${body}.${b64url(crypto.sign('sha256', Buffer.from(`${head}.${body}`), privateKey))}`;
  };

  /** Checks an authorization request as Xero's login does; an error page (no redirect) when the client is wrong. */
  const checkAuthorize = (params: URLSearchParams): string | null => {
    if (params.get('client_id') !== clientId) return 'unauthorized_client: unknown client_id';
    const redirectUri = params.get('redirect_uri') ?? '';
    if (!redirectUri || (options.redirectUris?.length && !options.redirectUris.includes(redirectUri))) return 'invalid_request: redirect_uri is not registered';
    if (params.get('response_type') !== 'code') return 'unsupported_response_type';
    if (!params.get('scope')) return 'invalid_scope';
    return null;
  };

  const decide = (params: URLSearchParams, allow: boolean, tenantIds: string[]): string => {
    const problem = checkAuthorize(params);
    if (problem) throw new Error(problem);
    const redirectUri = params.get('redirect_uri') as string;
    const state = params.get('state');
    const extra: Record<string, string> = state !== null ? { state } : {};
    if (!allow) return withQuery(redirectUri, { error: 'access_denied', ...extra });
    const code = b64url(crypto.randomBytes(24));
    const authEventId = crypto.randomUUID();
    codes.set(code, { clientId, redirectUri, scope: params.get('scope') as string, tenantIds, authEventId });
    return withQuery(redirectUri, { code, scope: params.get('scope') as string, ...extra, session_state: b64url(crypto.randomBytes(16)) });
  };

  server.route('GET', /^\/\.well-known\/openid-configuration$/, 'discovery', () => json(200, {
    issuer,
    jwks_uri: `${issuer}/.well-known/openid-configuration/jwks`,
    authorization_endpoint: `${issuer}/identity/connect/authorize`,
    token_endpoint: `${issuer}/connect/token`,
    userinfo_endpoint: `${issuer}/connect/userinfo`,
    end_session_endpoint: `${issuer}/identity/connect/endsession`,
    revocation_endpoint: `${issuer}/connect/revocation`,
    introspection_endpoint: `${issuer}/connect/introspect`,
    frontchannel_logout_supported: true,
    scopes_supported: ['openid', 'profile', 'email', 'offline_access', 'accounting.invoices.read', 'accounting.payments.read', 'accounting.contacts.read', 'accounting.settings.read'],
    claims_supported: ['sub', 'name', 'family_name', 'given_name', 'email', 'xero_userid'],
    grant_types_supported: ['authorization_code', 'client_credentials', 'refresh_token', 'implicit'],
    response_types_supported: ['code', 'token', 'id_token', 'id_token token', 'code id_token', 'code token', 'code id_token token'],
    response_modes_supported: ['form_post', 'query', 'fragment'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    code_challenge_methods_supported: ['plain', 'S256'],
  }));
  server.route('GET', /^\/\.well-known\/openid-configuration\/jwks$/, 'jwks', () => json(200, { keys: [jwk] }));

  server.route('GET', /^\/identity\/connect\/authorize$/, 'authorize', (req) => {
    const problem = checkAuthorize(req.query);
    if (problem) return html(400, `<!doctype html><title>Xero: error</title><h1>Sorry, something went wrong</h1><p>${problem}</p>`);
    return html(200, consentPage({
      provider: 'Xero',
      action: '/identity/connect/authorize',
      hidden: Object.fromEntries(req.query),
      choiceName: 'tenant',
      choices: organisations.map((o) => ({ value: o.tenantId, label: o.tenantName })),
    }));
  });
  server.route('POST', /^\/identity\/connect\/authorize$/, 'consent', (req) => {
    const fields = form(req.body);
    const params = new URLSearchParams(Object.entries(fields).filter(([name]) => !['decision', 'tenant'].includes(name)));
    try {
      return redirect(decide(params, fields.decision === 'allow', fields.tenant ? [fields.tenant] : []));
    } catch (error) {
      return html(400, `<!doctype html><title>Xero: error</title><p>${(error as Error).message}</p>`);
    }
  });

  server.route('POST', /^\/connect\/token$/, 'token', (req) => {
    const client = basicAuth(req.headers.authorization);
    if (!client || client.id !== clientId || client.secret !== clientSecret) return json(400, { error: 'invalid_client' });
    const fields = form(req.body);
    if (fields.grant_type === 'refresh_token') {
      // Each refresh answers a new refresh token; the one used is refused from then on (Xero after a 30-minute grace).
      const record = refresh.get(fields.refresh_token ?? '');
      if (!record || record.revoked) return json(400, { error: 'invalid_grant' });
      refresh.delete(fields.refresh_token ?? '');
      const accessToken = b64url(crypto.randomBytes(32));
      const refreshToken = b64url(crypto.randomBytes(32));
      access.set(accessToken, { ...record, revoked: false });
      refresh.set(refreshToken, { ...record, revoked: false });
      return json(200, { access_token: accessToken, expires_in: 1800, token_type: 'Bearer', refresh_token: refreshToken, scope: record.scope });
    }
    if (fields.grant_type !== 'authorization_code') return json(400, { error: 'unsupported_grant_type' });
    const grant = codes.get(fields.code ?? '');
    codes.delete(fields.code ?? '');
    if (!grant || grant.redirectUri !== fields.redirect_uri) return json(400, { error: 'invalid_grant' });
    const accessToken = b64url(crypto.randomBytes(32));
    const refreshToken = b64url(crypto.randomBytes(32));
    access.set(accessToken, { ...grant, revoked: false });
    refresh.set(refreshToken, { ...grant, revoked: false });
    for (const tenantId of grant.tenantIds) {
      const existing = connections.get(tenantId);
      const at = tick();
      connections.set(tenantId, { id: existing?.id ?? crypto.randomUUID(), authEventId: grant.authEventId, createdDateUtc: existing?.createdDateUtc ?? at, updatedDateUtc: at });
    }
    const nowSeconds = Math.floor(Date.now() / 1000);
    const atHash = b64url(crypto.createHash('sha256').update(accessToken).digest().subarray(0, 16));
    const idToken = grant.scope.split(' ').includes('openid') ? signJwt({
      nbf: nowSeconds, exp: nowSeconds + 300, iss: issuer, aud: grant.clientId, iat: nowSeconds, at_hash: atHash,
      sid: b64url(crypto.randomBytes(16)), sub: 'a3a4dbafh3495a808ed7a7b964388f53', auth_time: nowSeconds, idp: 'xero',
      xero_userid: crypto.randomUUID(), global_session_id: b64url(crypto.randomBytes(16)),
      preferred_username: 'accounts@example.com', email: 'accounts@example.com', given_name: 'Ada', family_name: 'Lovelace',
    }) : undefined;
    return json(200, {
      ...(idToken ? { id_token: idToken } : {}),
      access_token: accessToken, expires_in: 1800, token_type: 'Bearer', refresh_token: refreshToken, scope: grant.scope,
    });
  });

  server.route('POST', /^\/connect\/revocation$/, 'revocation', (req) => {
    const client = basicAuth(req.headers.authorization);
    if (!client || client.id !== clientId || client.secret !== clientSecret) return json(400, { error: 'invalid_client' });
    const token = form(req.body).token ?? '';
    const record = refresh.get(token);
    if (record) {
      record.revoked = true;
      revoked.push(token);
      for (const [t, a] of access) if (a.authEventId === record.authEventId) access.set(t, { ...a, revoked: true });
      for (const tenantId of record.tenantIds) connections.delete(tenantId);
    }
    return { status: 200 };
  });

  server.route('GET', /^\/connections$/, 'connections', (req) => {
    const record = access.get(bearer(req.headers.authorization) ?? '');
    if (!record || record.revoked) {
      return json(401, { Type: null, Title: 'Unauthorized', Status: 401, Detail: 'AuthenticationUnsuccessful' }, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
    }
    // Every organisation the user has connected to this app, not only those of this token's consent.
    return json(200, [...connections].flatMap(([tenantId, c]) => {
      const org = organisations.find((o) => o.tenantId === tenantId);
      return org ? [{ id: c.id, authEventId: c.authEventId, tenantId, tenantType: 'ORGANISATION', tenantName: org.tenantName, createdDateUtc: c.createdDateUtc, updatedDateUtc: c.updatedDateUtc }] : [];
    }));
  });

  return {
    get url() { return server.url; },
    calls: server.calls,
    count: (path) => server.count(path),
    failNext: (route, reply) => server.failNext(route, reply),
    consent: (authorizeUrl, decision) =>
      decide(new URL(authorizeUrl).searchParams, decision.allow, decision.tenantIds ?? organisations.slice(0, 1).map((o) => o.tenantId)),
    revokedRefreshTokens: () => [...revoked],
    issuedAccessTokens: () => [...access.keys()],
    route: (method, pattern, name, run) => server.route(method, pattern, name, run),
    tenantsOf: (accessToken) => {
      const record = access.get(accessToken);
      return record && !record.revoked ? [...record.tenantIds] : null;
    },
    grant: (tenantIds) => {
      const grant: Grant = { clientId, redirectUri: '', scope: 'offline_access', tenantIds, authEventId: crypto.randomUUID() };
      const accessToken = b64url(crypto.randomBytes(32));
      const refreshToken = b64url(crypto.randomBytes(32));
      access.set(accessToken, { ...grant, revoked: false });
      refresh.set(refreshToken, { ...grant, revoked: false });
      for (const tenantId of tenantIds) {
        const at = tick();
        connections.set(tenantId, { id: connections.get(tenantId)?.id ?? crypto.randomUUID(), authEventId: grant.authEventId, createdDateUtc: connections.get(tenantId)?.createdDateUtc ?? at, updatedDateUtc: at });
      }
      return { accessToken, refreshToken };
    },
    reset: () => {
      server.calls.length = 0;
      server.clearFailures();
      codes.clear();
      access.clear();
      refresh.clear();
      connections.clear();
      revoked = [];
    },
    close: () => server.close(),
  };
};
