import crypto from 'node:crypto';
import express, { Router, type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { CONNECT_LINK_PATH, type ConnectLinkResponse } from '../../../extensions/connect-api';
import { firstLine, PROVIDER_NAMES, ProviderError } from '../../accounting/errors';
import { createQuickBooksAuth, quickbooksConfigured, type QuickBooksCredentials } from '../../accounting/quickbooks-auth';
import { createStripeAuth, StripeKeySchema } from '../../accounting/stripe-auth';
import { createXeroAuth, xeroConfigured, type XeroCredentials } from '../../accounting/xero-auth';
import type { Config } from '../../config';
import type { Logger } from '../../logger';
import {
  ACCOUNTING_SOURCES, disconnectConnection, listConnections, saveConnection, type ConnectionView,
} from '../../services/connections';
import type { Db } from '../../store/database';
import type { AccountingSource } from '../../store/schema';
import { hubspotSignature, hubspotUserOf } from '../middleware/hubspot-signature';
import { portalOf } from '../middleware/portal';
import { parseOrThrow } from '../parse';
import { cookieValues, escapeHtml, newNonce, page, queryText } from './oauth';

/**
 * The accounting connect page, served by the service itself, and the OAuth flows it starts.
 *
 * 1. The app's settings page in HubSpot asks `POST /api/v1/connect/link` (signed by HubSpot) for a link naming
 *    its portal: `<public URL>/connect?token=…`, HMAC-signed, good for 10 minutes.
 * 2. `GET /connect?token=…` turns a good link into a session: an HttpOnly, SameSite=Lax cookie scoped to
 *    /connect (Secure when the public URL is https), signed, good for an hour, then redirects to /connect.
 * 3. `/connect` lists QuickBooks, Xero and Stripe with their status; every action is a POST form carrying a
 *    CSRF token derived from the session (a page of another session or site cannot make one).
 * 4. Xero and QuickBooks: `/connect/<source>/start` sends the browser to the provider's consent page with a
 *    signed state naming the portal, the source and a nonce also set in an HttpOnly cookie scoped to
 *    /oauth/<source> (as the HubSpot install does): the callback `/oauth/<source>/callback` goes on only when
 *    the state checks out, is under 10 minutes old and the cookie holds its nonce, so a callback carried to
 *    another browser is refused before any code is exchanged. Stripe: a pasted API key, checked with Stripe.
 * Nothing is kept on the server between requests; tokens and keys are sealed at rest and never logged.
 */

/** How long a connect link is good for, from issue to first use. */
export const LINK_TTL_MS = 10 * 60_000;
/** How long a connect session lasts. */
export const SESSION_TTL_MS = 60 * 60_000;
/** How long a provider's consent may take, from start to callback. */
export const CONNECT_STATE_TTL_MS = 10 * 60_000;
/** Tolerated clock difference between instances. */
const SKEW_MS = 60_000;

export const SESSION_COOKIE = 'arbridge_connect_session';
export const CONNECT_NONCE_COOKIE = 'arbridge_connect_nonce';

export type OAuthSource = Extract<AccountingSource, 'xero' | 'quickbooks'>;
const OAUTH_SOURCES = ['xero', 'quickbooks'] as const satisfies readonly OAuthSource[];

export const connectCallbackPath = (source: OAuthSource): string => `/oauth/${source}/callback`;

// ---- signed tokens: `<payload, base64url JSON>.<HMAC-SHA256, base64url>`, one derived key per purpose ----

export type TokenPurpose = 'link' | 'session' | 'state' | 'csrf';

const purposeKey = (secret: Buffer, purpose: TokenPurpose): Buffer =>
  Buffer.from(crypto.hkdfSync('sha256', secret, Buffer.alloc(0), `arbridge:connect-${purpose}:v1`, 32));

const mac = (secret: Buffer, purpose: TokenPurpose, text: string): string =>
  crypto.createHmac('sha256', purposeKey(secret, purpose)).update(text).digest('base64url');

/** Equal strings, in time that does not depend on where they differ. */
const sameText = (a: string, b: string): boolean =>
  crypto.timingSafeEqual(crypto.createHash('sha256').update(a).digest(), crypto.createHash('sha256').update(b).digest());

export const signToken = (secret: Buffer, purpose: TokenPurpose, payload: Record<string, unknown>): string => {
  const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
  return `${body}.${mac(secret, purpose, body)}`;
};

/** The payload of a token this service signed for `purpose`, or null. */
export const readToken = <T>(secret: Buffer, purpose: TokenPurpose, token: string, schema: z.ZodType<T>): T | null => {
  const match = /^([A-Za-z0-9_-]{1,2048})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return null;
  const [, body, signature] = match as unknown as [string, string, string];
  if (!sameText(mac(secret, purpose, body), signature)) return null;
  try {
    const parsed = schema.safeParse(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
};

const PortalId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const User = z.string().max(320).nullable();
const IssuedAt = z.number().int().nonnegative();
const Nonce = z.string().regex(/^[A-Za-z0-9_-]{22}$/);

/** A connect link: the portal and the HubSpot user who asked for it. */
export const LinkPayload = z.strictObject({ p: PortalId, u: User, iat: IssuedAt, n: Nonce });
export const SessionPayload = z.strictObject({ p: PortalId, u: User, iat: IssuedAt, sid: Nonce });
export const StatePayload = z.strictObject({ s: z.enum(OAUTH_SOURCES), p: PortalId, u: User, iat: IssuedAt, n: Nonce });

export type Session = z.infer<typeof SessionPayload>;

const fresh = (issuedAt: number, ttlMs: number, nowMs: number): boolean => {
  const age = nowMs - issuedAt;
  return age >= -SKEW_MS && age <= ttlMs;
};

/** The CSRF token of a session's forms. */
export const csrfToken = (secret: Buffer, session: Pick<Session, 'sid'>): string => mac(secret, 'csrf', session.sid);

// ---- pages ----

const STYLE = [
  'body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;color:#213343}',
  'section{border:1px solid #cbd6e2;border-radius:6px;padding:1rem;margin:1rem 0}',
  'h2{margin:0 0 .5rem;font-size:1.2rem}',
  '.status{margin:.25rem 0 .75rem}',
  '.connected{color:#00764a}.error{color:#b3261e}',
  'form{display:inline-block;margin:.25rem .5rem .25rem 0}',
  'button{font:inherit;padding:.35rem .9rem;cursor:pointer}',
  'input[type=password]{font:inherit;width:22rem;max-width:100%;padding:.3rem}',
  '.note{color:#516f90;font-size:.9rem}',
].join('');
const STYLE_HASH = crypto.createHash('sha256').update(STYLE).digest('base64');

/**
 * The connect page. Its CSP allows its one inline style and nothing else to load; it sets no form-action,
 * since the Connect forms end in a redirect to the provider's consent page, which form-action would block.
 */
const sendConnectPage = (res: Response, status: number, title: string, body: string): void => {
  res.status(status)
    .set({
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      'Referrer-Policy': 'no-referrer',
      'Content-Security-Policy': `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; base-uri 'none'; frame-ancestors 'none'`,
      'X-Content-Type-Options': 'nosniff',
    })
    .send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>
${body}
</body></html>
`);
};

/** `2026-05-04 09:00 UTC` */
const when = (isoText: string): string => `${isoText.slice(0, 16).replace('T', ' ')} UTC`;

// ---- routes ----

export type ConnectRouteDeps = {
  db: Db;
  config: Pick<Config, 'env' | 'publicUrl' | 'hubspot' | 'accounting'>;
  /** The service's secret key: seals credentials; the link, session, state and CSRF keys derive from it. */
  key: Buffer;
  logger: Logger;
  /** Epoch milliseconds; injectable so tests can age links, sessions and states. */
  now?: () => number;
};

const LinkRequest = z.strictObject({ idempotencyKey: z.string().max(200).optional() });
const SourceParam = z.enum(ACCOUNTING_SOURCES);
const OAuthSourceParam = z.enum(OAUTH_SOURCES);

/** Who made a change: the signed user's email, else their HubSpot user id. */
const userOf = (res: Response): string | null => {
  const user = hubspotUserOf(res);
  return user.email ?? (user.id !== null ? `hubspot-user:${user.id}` : null);
};

const providerStatus = (error: ProviderError): number => (error.kind === 'refused' ? 400 : 502);

export const connectRoutes = (deps: ConnectRouteDeps): Router => {
  const now = deps.now ?? Date.now;
  const { config, key, logger } = deps;
  const publicUrl = new URL(config.publicUrl);
  const base = publicUrl.pathname.replace(/\/+$/, '');
  const secure = publicUrl.protocol === 'https:';
  const connectPath = `${base}/connect`;
  const backLink = `<a href="${escapeHtml(connectPath)}">Back to accounting connections</a>`;
  const redirectUri = (source: OAuthSource): string => `${config.publicUrl}${connectCallbackPath(source)}`;
  const xero = createXeroAuth({ ...config.accounting.xero, redirectUri: redirectUri('xero') });
  const quickbooks = createQuickBooksAuth({ ...config.accounting.quickbooks, redirectUri: redirectUri('quickbooks') });
  const stripe = createStripeAuth(config.accounting.stripe);
  const configured: Record<AccountingSource, boolean> = {
    xero: xeroConfigured(config.accounting.xero),
    quickbooks: quickbooksConfigured(config.accounting.quickbooks),
    stripe: true,
  };
  const setupHint: Record<OAuthSource, string> = {
    xero: 'set XERO_CLIENT_ID and XERO_CLIENT_SECRET',
    quickbooks: 'set QUICKBOOKS_CLIENT_ID and QUICKBOOKS_CLIENT_SECRET',
  };

  const cookie = (name: string, value: string, path: string, maxAgeSeconds: number): string => {
    const expires = maxAgeSeconds === 0 ? '; Expires=Thu, 01 Jan 1970 00:00:00 GMT' : '';
    return `${name}=${value}; Path=${path}; Max-Age=${maxAgeSeconds}${expires}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
  };
  const noncePath = (source: OAuthSource): string => `${base}/oauth/${source}`;

  /** The browser's newest live session, or null. */
  const sessionOf = (req: Request): Session | null => {
    let best: Session | null = null;
    for (const value of cookieValues(req.headers.cookie, SESSION_COOKIE)) {
      const session = readToken(key, 'session', value, SessionPayload);
      if (session && fresh(session.iat, SESSION_TTL_MS, now()) && (!best || session.iat > best.iat)) best = session;
    }
    return best;
  };

  const noSession = (res: Response): void => {
    sendConnectPage(res, 401, 'Open this page from HubSpot', `<h1>Open this page from HubSpot</h1>
<p>This page connects ARBridge to your accounting system. It opens from the app's settings in HubSpot:
open ARBridge's settings page, choose <strong>Connect accounting</strong>, then <strong>Open the connection page</strong>.</p>
<p class="note">A link from the settings page is good for 10 minutes, and the page it opens for an hour, in the browser that opened it.</p>`);
  };

  /** Admits a form post of a live session with its CSRF token; answers the page itself otherwise. */
  const formSession = (req: Request, res: Response): Session | null => {
    const session = sessionOf(req);
    if (!session) {
      noSession(res);
      return null;
    }
    const sent = typeof req.body === 'object' && req.body !== null ? (req.body as Record<string, unknown>).csrf : undefined;
    if (typeof sent !== 'string' || !sameText(sent, csrfToken(key, session))) {
      logger.info({ portalId: session.p, path: req.path }, 'connect form without a valid CSRF token');
      page(res, 403, 'This form has expired', [
        'This form does not belong to your current session (it is from an older page, or from somewhere else).',
        `Nothing was changed. ${backLink}.`,
      ]);
      return null;
    }
    return session;
  };

  const sourceSection = (view: ConnectionView, csrf: string): string => {
    const name = PROVIDER_NAMES[view.source];
    const hidden = `<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">`;
    const form = (action: string, label: string): string =>
      `<form method="post" action="${escapeHtml(`${connectPath}/${view.source}/${action}`)}">${hidden}<button type="submit">${escapeHtml(label)}</button></form>`;
    let status: string;
    if (view.status === 'connected') {
      status = `<p class="status connected">Connected to <strong>${escapeHtml(view.tenantName ?? view.tenantId ?? name)}</strong>`
        + `${view.connectedAt ? ` since ${escapeHtml(when(view.connectedAt))}` : ''}${view.connectedBy ? ` by ${escapeHtml(view.connectedBy)}` : ''}.</p>`;
    } else if (view.status === 'error') {
      status = `<p class="status error">Error${view.lastErrorAt ? ` since ${escapeHtml(when(view.lastErrorAt))}` : ''}: `
        + `${escapeHtml(view.lastError ?? 'the connection stopped working')}. Reconnect to repair it.</p>`;
    } else {
      status = `<p class="status">Not connected.</p>`;
    }
    const actions: string[] = [];
    const linked = view.status === 'connected' || view.status === 'error';
    if (view.source === 'stripe') {
      actions.push(`<form method="post" action="${escapeHtml(`${connectPath}/stripe`)}">${hidden}`
        + `<label>API key (restricted key with read access, or secret key)<br>`
        + `<input type="password" name="api_key" autocomplete="off" spellcheck="false" placeholder="rk_live_…" required></label><br>`
        + `<button type="submit">${linked ? 'Reconnect Stripe' : 'Connect Stripe'}</button></form>`);
    } else if (configured[view.source]) {
      actions.push(form('start', `${linked ? 'Reconnect' : 'Connect'} ${name}`));
    } else {
      actions.push(`<p class="note">Not available on this service: ${escapeHtml(setupHint[view.source])}.</p>`);
    }
    if (linked) actions.push(form('disconnect', `Disconnect ${name}`));
    return `<section id="source-${view.source}" data-status="${view.status}">
<h2>${escapeHtml(name)}</h2>
${status}
${actions.join('\n')}
</section>`;
  };

  const startConsent: RequestHandler = async (req, res) => {
    const source = OAuthSourceParam.safeParse(req.params.source);
    if (!source.success) {
      page(res, 404, 'Not found', [`There is no such accounting system. ${backLink}.`]);
      return;
    }
    const session = req.method === 'POST' ? formSession(req, res) : sessionOf(req);
    if (!session) {
      if (req.method !== 'POST') noSession(res);
      return;
    }
    const name = PROVIDER_NAMES[source.data];
    if (!configured[source.data]) {
      page(res, 503, `${name} is not available`, [`This service has no ${name} app configured: ${escapeHtml(setupHint[source.data])}.`, `${backLink}.`]);
      return;
    }
    const nonce = newNonce();
    const state = signToken(key, 'state', { s: source.data, p: session.p, u: session.u, iat: now(), n: nonce });
    let url: string;
    try {
      url = source.data === 'xero' ? await xero.consentUrl(state) : quickbooks.consentUrl(state);
    } catch (error) {
      const problem = error instanceof ProviderError ? error : new ProviderError(name, 'unreachable', firstLine(error));
      logger.warn({ portalId: session.p, source: source.data, reason: problem.message }, 'could not start an accounting consent');
      page(res, 502, `${name} was not connected`, [escapeHtml(problem.message), `Please try again in a moment. ${backLink}.`]);
      return;
    }
    res.set('Cache-Control', 'no-store')
      .append('Set-Cookie', cookie(CONNECT_NONCE_COOKIE, nonce, noncePath(source.data), CONNECT_STATE_TTL_MS / 1000))
      .redirect(303, url);
  };

  const stateProblem = {
    invalid: 'This connection link is not valid (its state does not check out).',
    expired: 'This connection attempt has expired (it must be finished within 10 minutes).',
    no_cookie: 'This browser did not start this connection, or already finished it: the cookie set when it started is missing.',
    other_browser: 'This connection was started in another browser, or a newer one was started in this one.',
  } as const;

  const callback = (source: OAuthSource): RequestHandler => async (req, res) => {
    const name = PROVIDER_NAMES[source];
    const failed = `${name} was not connected`;
    const again = `You can start again from ${backLink}.`;
    // Whatever the outcome, the nonce is spent.
    res.append('Set-Cookie', cookie(CONNECT_NONCE_COOKIE, '', noncePath(source), 0));
    if (req.query.error !== undefined) {
      const error = queryText(req.query.error);
      const reason = queryText(req.query.error_description) ?? error ?? 'no reason given';
      logger.info({ source, error, reason }, 'the provider returned an error instead of a connection');
      const said = error === 'access_denied' ? `Access was not granted (${name} said: ${escapeHtml(reason)}).` : `${name} said: ${escapeHtml(reason)}`;
      page(res, 400, failed, [said, 'Nothing was stored.', again]);
      return;
    }
    const code = queryText(req.query.code);
    const stateText = queryText(req.query.state);
    if (!code || !stateText) {
      page(res, 400, failed, [`This page expects the <code>code</code> and <code>state</code> ${name} adds to it.`, again]);
      return;
    }
    const state = readToken(key, 'state', stateText, StatePayload);
    const nonces = cookieValues(req.headers.cookie, CONNECT_NONCE_COOKIE);
    let check: keyof typeof stateProblem | 'ok';
    if (!state || state.s !== source) check = 'invalid';
    else if (!fresh(state.iat, CONNECT_STATE_TTL_MS, now())) check = 'expired';
    else if (nonces.length === 0) check = 'no_cookie';
    else {
      let matched = false;
      for (const value of nonces) matched = sameText(value, state.n) || matched;
      check = matched ? 'ok' : 'other_browser';
    }
    if (check !== 'ok' || !state) {
      logger.info({ source, check }, 'accounting callback with a bad state');
      page(res, 400, failed, [stateProblem[check === 'ok' ? 'invalid' : check], 'Nothing was stored.', again]);
      return;
    }
    const connectedAt = new Date(now());
    try {
      if (source === 'xero') {
        const grant = await xero.exchange(req.originalUrl, stateText);
        await saveConnection(deps.db, key, state.p, 'xero', {
          tenantId: grant.tenant.tenantId,
          tenantName: grant.tenant.tenantName,
          credentials: grant.credentials,
          scopes: grant.credentials.scope,
          expiresAt: grant.credentials.expires_at !== null ? new Date(grant.credentials.expires_at * 1000) : null,
          connectedBy: state.u,
          now: connectedAt,
        });
        logger.info({ portalId: state.p, source, tenantId: grant.tenant.tenantId, others: grant.others.length }, 'accounting system connected');
        const others = grant.others.length === 0 ? [] : [
          `Your Xero login also reaches ${grant.others.map((t) => `<strong>${escapeHtml(t.tenantName)}</strong>`).join(', ')}; `
          + `ARBridge reads <strong>${escapeHtml(grant.tenant.tenantName)}</strong> only, the organisation most recently authorized. `
          + 'To read another one, reconnect and choose it on Xero\'s consent page.',
        ];
        page(res, 200, `Xero is connected to ${grant.tenant.tenantName}`, [
          `Xero is connected to <strong>${escapeHtml(grant.tenant.tenantName)}</strong> for HubSpot portal ${state.p}.`,
          ...others,
          `${backLink}.`,
        ]);
      } else {
        const grant = await quickbooks.exchange(req.originalUrl);
        const company = grant.companyName ?? `QuickBooks company ${grant.realmId}`;
        await saveConnection(deps.db, key, state.p, 'quickbooks', {
          tenantId: grant.realmId,
          tenantName: company,
          credentials: grant.credentials,
          scopes: config.accounting.quickbooks.scopes.join(' '),
          expiresAt: new Date(grant.credentials.expires_at * 1000),
          connectedBy: state.u,
          now: connectedAt,
        });
        logger.info({ portalId: state.p, source, tenantId: grant.realmId }, 'accounting system connected');
        page(res, 200, `QuickBooks is connected to ${company}`, [
          `QuickBooks is connected to <strong>${escapeHtml(company)}</strong> for HubSpot portal ${state.p}.`,
          `${backLink}.`,
        ]);
      }
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      logger.warn({ portalId: state.p, source, kind: error.kind, reason: error.message }, 'an accounting connection failed');
      page(res, providerStatus(error), failed, [
        escapeHtml(error.message) + '.',
        'Nothing was stored.',
        error.kind === 'refused' ? again : `Please try again in a moment from ${backLink}.`,
      ]);
    }
  };

  const htmlErrors: ErrorRequestHandler = (error: unknown, req, res, next) => {
    if (req.path.startsWith('/api/') || res.headersSent) {
      next(error);
      return;
    }
    logger.error({ err: error, method: req.method, path: req.path }, 'connect page failed');
    page(res, 500, 'Something went wrong', ['The page could not be completed; nothing was changed by this error.', `${backLink}.`]);
  };

  const forms = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 20 });

  return Router()
    .post(CONNECT_LINK_PATH, (_req, res, next) => {
      res.set('Cache-Control', 'no-store');
      next();
    }, hubspotSignature(deps), (req, res) => {
      parseOrThrow(LinkRequest, req.body ?? {}, 'Request body');
      const issuedAt = now();
      const token = signToken(key, 'link', { p: portalOf(res), u: userOf(res), iat: issuedAt, n: newNonce() });
      const answer: ConnectLinkResponse = {
        url: `${config.publicUrl}/connect?token=${token}`,
        expires_at: new Date(issuedAt + LINK_TTL_MS).toISOString(),
      };
      res.json(answer);
    })
    .get('/connect', async (req, res) => {
      if (req.query.token !== undefined) {
        const text = queryText(req.query.token);
        const link = text === null ? null : readToken(key, 'link', text, LinkPayload);
        if (!link || !fresh(link.iat, LINK_TTL_MS, now())) {
          logger.info({ reason: link ? 'expired' : 'invalid' }, 'connect link refused');
          sendConnectPage(res, 401, 'This link has expired', `<h1>This link has expired</h1>
<p>${link ? 'Links to this page are good for 10 minutes.' : 'This link is not valid.'}
Open the page again from the app's settings in HubSpot: choose <strong>Connect accounting</strong> on ARBridge's
settings page, then <strong>Open the connection page</strong>.</p>`);
          return;
        }
        const session = signToken(key, 'session', { p: link.p, u: link.u, iat: now(), sid: newNonce() });
        res.set('Cache-Control', 'no-store')
          .set('Referrer-Policy', 'no-referrer')
          .append('Set-Cookie', cookie(SESSION_COOKIE, session, connectPath, SESSION_TTL_MS / 1000))
          .redirect(303, connectPath);
        return;
      }
      const session = sessionOf(req);
      if (!session) {
        noSession(res);
        return;
      }
      const csrf = csrfToken(key, session);
      const views = await listConnections(deps.db, session.p);
      sendConnectPage(res, 200, 'Accounting connections', `<h1>Accounting connections</h1>
<p>ARBridge reads invoices and payments from your accounting system into HubSpot portal <strong>${session.p}</strong>.
Connect one or more systems below.</p>
${views.map((view) => sourceSection(view, csrf)).join('\n')}
<p class="note">${session.u ? `Signed in from HubSpot as ${escapeHtml(session.u)}. ` : ''}This page stays open until ${escapeHtml(when(new Date(session.iat + SESSION_TTL_MS).toISOString()))}; then open it again from HubSpot.</p>`);
    })
    .get('/connect/:source/start', startConsent)
    .post('/connect/:source/start', forms, startConsent)
    .get(connectCallbackPath('xero'), callback('xero'))
    .get(connectCallbackPath('quickbooks'), callback('quickbooks'))
    .post('/connect/stripe', forms, async (req, res) => {
      const session = formSession(req, res);
      if (!session) return;
      const failed = 'Stripe was not connected';
      const apiKey = StripeKeySchema.safeParse((req.body as Record<string, unknown>).api_key);
      if (!apiKey.success) {
        page(res, 400, failed, [`The API key ${escapeHtml(apiKey.error.issues[0]?.message ?? 'is not valid')}.`, 'Nothing was stored.', `${backLink}.`]);
        return;
      }
      try {
        const account = await stripe.verify(apiKey.data);
        await saveConnection(deps.db, key, session.p, 'stripe', {
          tenantId: account.accountId,
          tenantName: account.name,
          credentials: { api_key: apiKey.data },
          scopes: null,
          expiresAt: null,
          connectedBy: session.u,
          now: new Date(now()),
        });
        logger.info({ portalId: session.p, source: 'stripe', tenantId: account.accountId, livemode: account.livemode }, 'accounting system connected');
        page(res, 200, `Stripe is connected to ${account.name}`, [
          `Stripe is connected to <strong>${escapeHtml(account.name)}</strong>${account.accountId ? ` (${escapeHtml(account.accountId)})` : ''} for HubSpot portal ${session.p}`
          + `${account.livemode ? '' : ', in test mode'}.`,
          `${backLink}.`,
        ]);
      } catch (error) {
        if (!(error instanceof ProviderError)) throw error;
        logger.warn({ portalId: session.p, source: 'stripe', kind: error.kind, reason: error.message }, 'an accounting connection failed');
        page(res, providerStatus(error), failed, [`${escapeHtml(error.message)}.`, 'Nothing was stored.', `${backLink}.`]);
      }
    })
    .post('/connect/:source/disconnect', forms, async (req, res) => {
      const source = SourceParam.safeParse(req.params.source);
      if (!source.success) {
        page(res, 404, 'Not found', [`There is no such accounting system. ${backLink}.`]);
        return;
      }
      const session = formSession(req, res);
      if (!session) return;
      const name = PROVIDER_NAMES[source.data];
      const removed = await disconnectConnection(deps.db, key, session.p, source.data, new Date(now()));
      if (!removed) {
        page(res, 200, `${name} is not connected`, [`There was no ${name} connection to remove.`, `${backLink}.`]);
        return;
      }
      let revocation: string;
      try {
        if (source.data === 'stripe' || removed.credentials === null) {
          revocation = source.data === 'stripe'
            ? 'ARBridge no longer holds the API key; delete or roll it in the Stripe Dashboard if nothing else uses it.'
            : `ARBridge no longer holds ${name} credentials.`;
        } else {
          if (source.data === 'xero') await xero.revoke(removed.credentials as XeroCredentials);
          else await quickbooks.revoke(removed.credentials as QuickBooksCredentials);
          revocation = `The access ${name} gave ARBridge is revoked.`;
        }
      } catch (error) {
        const reason = error instanceof ProviderError ? error.message : firstLine(error);
        logger.warn({ portalId: session.p, source: source.data, reason }, 'revoking accounting credentials failed');
        revocation = `${name} could not revoke the access it gave (${reason}); ARBridge deleted its credentials all the same. `
          + `You can also remove ARBridge in ${name}'s own settings.`;
      }
      logger.info({ portalId: session.p, source: source.data }, 'accounting system disconnected');
      page(res, 200, `${name} is disconnected`, [
        `${name}${removed.tenantName ? ` (${escapeHtml(removed.tenantName)})` : ''} is disconnected from HubSpot portal ${session.p}.`,
        escapeHtml(revocation),
        `${backLink}.`,
      ]);
    })
    .use(htmlErrors);
};
