import crypto from 'node:crypto';
import { Router, type Response } from 'express';
import {
  HubSpotAuthError, OAUTH_CALLBACK_PATH, OAUTH_INSTALL_PATH, oauthConfigured, oauthRedirectUri,
  type AuthConfig, type HubSpotAuth,
} from '../../hubspot/auth';
import type { Logger } from '../../logger';
import { hubspotErrorStatus } from '../../hubspot/http-retry';

/**
 * The OAuth install flow. `install` sends the browser to HubSpot's consent page; HubSpot sends it back to
 * `callback` with a one-time code, which is exchanged for the portal's tokens (stored sealed by HubSpotAuth).
 *
 * The `state` parameter is HMAC-signed and time-limited, and binds the install to the browser that started it:
 * `install` draws a random nonce, signs it into the state and sets it in an HttpOnly cookie scoped to the OAuth
 * paths; `callback` goes on only when the state checks out, is under 10 minutes old, and the cookie holds the
 * same nonce. A callback link carried to another browser (login CSRF: someone else's code completing an install
 * here) is refused before the code is exchanged. Every callback clears the cookie, so a state is good once in
 * that browser. Nothing is kept on the server between the two requests, so any instance can answer the callback.
 */

/** How long an install link stays good: from the redirect to HubSpot until the callback. */
export const STATE_TTL_MS = 10 * 60_000;
/** Tolerated clock difference between instances (a state issued slightly "in the future"). */
const STATE_SKEW_MS = 60_000;

/** The cookie holding the nonce of the browser's latest install. */
export const NONCE_COOKIE = 'arbridge_oauth_nonce';

const NONCE = /^[A-Za-z0-9_-]{22}$/;

/** 16 random bytes, base64url (22 characters). */
export const newNonce = (): string => crypto.randomBytes(16).toString('base64url');

const stateKey = (secretKey: Buffer): Buffer =>
  Buffer.from(crypto.hkdfSync('sha256', secretKey, Buffer.alloc(0), 'arbridge:oauth-state:v1', 32));

const mac = (key: Buffer, payload: string): string => crypto.createHmac('sha256', key).update(payload).digest('base64url');

/** Equal strings, in time that does not depend on where they differ (nor on the secret one's length). */
const sameText = (a: string, b: string): boolean =>
  crypto.timingSafeEqual(crypto.createHash('sha256').update(a).digest(), crypto.createHash('sha256').update(b).digest());

/** `<issued at, epoch ms>.<nonce>.<HMAC-SHA256 of both>` (base64url). */
export const signState = (secretKey: Buffer, nowMs: number, nonce: string): string => {
  if (!NONCE.test(nonce)) throw new Error('OAuth state nonce must be 22 base64url characters (16 bytes)');
  const payload = `${nowMs}.${nonce}`;
  return `${payload}.${mac(stateKey(secretKey), payload)}`;
};

/**
 * - `invalid`: not a state this service signed.
 * - `expired`: signed more than STATE_TTL_MS ago.
 * - `no_cookie`: the browser sent no install cookie (another browser, cookies blocked, or already used).
 * - `other_browser`: the browser's install cookie belongs to another install (another browser's link, or a
 *   newer install started in this browser).
 */
export type StateCheck = 'ok' | 'invalid' | 'expired' | 'no_cookie' | 'other_browser';

/** Checks the state's signature and age, then that one of the browser's install cookies holds its nonce. */
export const verifyState = (secretKey: Buffer, state: string, nowMs: number, browserNonces: readonly string[]): StateCheck => {
  const match = /^(\d{1,15})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/.exec(state);
  if (!match) return 'invalid';
  const [, issued, nonce, signature] = match as unknown as [string, string, string, string];
  if (!sameText(mac(stateKey(secretKey), `${issued}.${nonce}`), signature)) return 'invalid';
  const age = nowMs - Number(issued);
  if (age < -STATE_SKEW_MS || age > STATE_TTL_MS) return 'expired';
  if (browserNonces.length === 0) return 'no_cookie';
  // Every value is compared, so the time taken does not say which one matched.
  let matched = false;
  for (const value of browserNonces) matched = sameText(value, nonce) || matched;
  return matched ? 'ok' : 'other_browser';
};

/**
 * The values of every cookie named `name` in a Cookie header (RFC 6265 `name=value; name=value`), in order.
 * Tolerates missing spaces, stray separators, parts without `=` and double-quoted values; values are not
 * %-decoded (the nonce is base64url). A browser may send the same name twice (cookies of different paths).
 */
export const cookieValues = (header: unknown, name: string): string[] => {
  if (typeof header !== 'string') return [];
  const values: string[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (value !== '') values.push(value);
  }
  return values;
};

/** The common prefix of the install and callback paths: the install cookie is sent to these only. */
const OAUTH_PATH_PREFIX = '/oauth/hubspot';

/**
 * The install cookie's attributes: HttpOnly, SameSite=Lax (sent on HubSpot's top-level redirect back to the
 * callback, not on cross-site subrequests), scoped to the OAuth paths under the public URL, Secure when the
 * public URL is https.
 */
const cookieAttributes = (publicUrl: string, maxAgeSeconds: number): string => {
  const url = new URL(publicUrl);
  const path = `${url.pathname.replace(/\/+$/, '')}${OAUTH_PATH_PREFIX}`;
  const expires = maxAgeSeconds === 0 ? '; Expires=Thu, 01 Jan 1970 00:00:00 GMT' : '';
  return `Path=${path}; Max-Age=${maxAgeSeconds}${expires}; HttpOnly; SameSite=Lax${url.protocol === 'https:' ? '; Secure' : ''}`;
};

export type OAuthRouteDeps = {
  config: AuthConfig;
  auth: HubSpotAuth;
  /** The service's secret key; the state's signing key is derived from it. */
  key: Buffer;
  logger: Logger;
  /** Epoch milliseconds; injectable so tests can age a state. */
  now?: () => number;
  /**
   * Run after an install is stored (the service creates the ARBridge properties in the portal); its answer
   * is a sentence for the install page. A failure does not undo the install: the page says what to run.
   */
  onInstalled?: (portalId: number) => Promise<string>;
};

export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/** A small self-contained page; the callback URL holds a code, so no referrer leaves it and nothing is cached. */
export const page = (res: Response, status: number, title: string, lines: readonly string[]): void => {
  res.status(status)
    .set({
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      'Referrer-Policy': 'no-referrer',
      'Content-Security-Policy': "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      'X-Content-Type-Options': 'nosniff',
    })
    .send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body><h1>${escapeHtml(title)}</h1>
${lines.map((line) => `<p>${line}</p>`).join('\n')}
</body></html>
`);
};

const notConfigured = (res: Response): void => {
  res.status(503).json({
    error: 'not_configured',
    message: 'HubSpot OAuth is not configured on this service: set HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET',
  });
};

export const queryText = (value: unknown): string | null => (typeof value === 'string' && value.length <= 4096 ? value : null);

/** The HTTP status of an SDK error, or null for a failure without a response. */
const statusOf = hubspotErrorStatus;

const refusalMessage = (error: unknown): string => {
  const body = (error as { body?: { message?: unknown; status?: unknown } } | null)?.body;
  const parts = [body?.status, body?.message].filter((p): p is string => typeof p === 'string' && p !== '');
  return parts.length ? parts.join(': ') : 'no reason given';
};

const stateProblem: Record<Exclude<StateCheck, 'ok'>, string> = {
  invalid: 'This install link is not valid (its state does not check out).',
  expired: 'This install link has expired (links are good for 10 minutes).',
  no_cookie: 'This browser did not start this install, or already used it: the install cookie set by the install link is missing (it lasts 10 minutes, is used once, and needs cookies allowed for this site).',
  other_browser: 'This install was started in another browser, or a newer install was started in this one: the install cookie belongs to another install.',
};

export const oauthRoutes = (deps: OAuthRouteDeps): Router => {
  const now = deps.now ?? Date.now;
  const { config } = deps;
  const installLink = `<a href="${escapeHtml(OAUTH_INSTALL_PATH)}">start the install again</a>`;

  return Router()
    // The one entry point of every install. An install started from HubSpot (the app's listing or install
    // button) opens this URL too, so the browser always gets its nonce cookie here before meeting HubSpot's
    // consent page; the app's install URL in HubSpot must point here, never straight at HubSpot's authorize URL.
    .get(OAUTH_INSTALL_PATH, (_req, res) => {
      const { clientId } = config.hubspot;
      if (!oauthConfigured(config) || clientId === null) {
        notConfigured(res);
        return;
      }
      const nonce = newNonce();
      // https://developers.hubspot.com/docs/apps/developer-platform/build-apps/authentication/oauth/oauth-quickstart-guide
      // Spaces in `scope` are sent as %20 (not '+'), as HubSpot's own install URLs write them.
      const query = [
        ['client_id', clientId],
        ['redirect_uri', oauthRedirectUri(config)],
        ['scope', config.hubspot.scopes.join(' ')],
        ['state', signState(deps.key, now(), nonce)],
      ].map(([name, value]) => `${name}=${encodeURIComponent(value as string)}`).join('&');
      const url = config.hubspot.authorizeUrl;
      res.set('Cache-Control', 'no-store')
        .append('Set-Cookie', `${NONCE_COOKIE}=${nonce}; ${cookieAttributes(config.publicUrl, STATE_TTL_MS / 1000)}`)
        .redirect(302, `${url}${url.includes('?') ? '&' : '?'}${query}`);
    })
    .get(OAUTH_CALLBACK_PATH, async (req, res) => {
      // Whatever the outcome, the nonce is spent: the browser drops its cookie, so this state cannot be used again.
      res.append('Set-Cookie', `${NONCE_COOKIE}=; ${cookieAttributes(config.publicUrl, 0)}`);
      if (!oauthConfigured(config)) {
        notConfigured(res);
        return;
      }
      const hubspotError = queryText(req.query.error);
      if (req.query.error !== undefined) {
        const reason = queryText(req.query.error_description) ?? hubspotError ?? 'no reason given';
        deps.logger.info({ error: hubspotError, reason }, 'HubSpot returned an error instead of an install');
        page(res, 400, 'ARBridge was not installed', [`HubSpot said: ${escapeHtml(reason)}`, `You can ${installLink}.`]);
        return;
      }
      const code = queryText(req.query.code);
      const state = queryText(req.query.state);
      if (!code || !state) {
        page(res, 400, 'ARBridge was not installed', ['This page expects the <code>code</code> and <code>state</code> HubSpot adds to it.', `You can ${installLink}.`]);
        return;
      }
      const check = verifyState(deps.key, state, now(), cookieValues(req.headers.cookie, NONCE_COOKIE));
      if (check !== 'ok') {
        deps.logger.info({ check }, 'OAuth callback with a bad state');
        page(res, 400, 'ARBridge was not installed', [stateProblem[check], `You can ${installLink} in this browser.`]);
        return;
      }
      let installed;
      try {
        installed = await deps.auth.completeInstall(code);
      } catch (error) {
        if (error instanceof HubSpotAuthError) throw error;
        const status = statusOf(error);
        if (status !== null && status >= 400 && status < 500 && status !== 429) {
          deps.logger.info({ status, reason: refusalMessage(error) }, 'HubSpot refused the authorization code');
          page(res, 400, 'ARBridge was not installed', [
            `HubSpot refused the authorization code: ${escapeHtml(refusalMessage(error))}.`, `You can ${installLink}.`,
          ]);
          return;
        }
        deps.logger.warn({ status, reason: error instanceof Error ? error.message.split('\n')[0] : String(error) }, 'could not reach HubSpot to finish an install');
        page(res, 502, 'ARBridge was not installed', ['HubSpot could not be reached to finish the install.', `Please ${installLink} in a moment.`]);
        return;
      }
      let setup: string | null = null;
      if (deps.onInstalled) {
        try {
          setup = await deps.onInstalled(installed.portalId);
        } catch (error) {
          deps.logger.warn({ portalId: installed.portalId, reason: error instanceof Error ? error.message.split('\n')[0] : String(error) }, 'setting up a new install failed');
          setup = `The ARBridge properties could not be created yet; run arbridge hubspot install-properties --portal ${installed.portalId} (the scheduled write-back also retries).`;
        }
      }
      page(res, 200, `ARBridge is installed in portal ${installed.portalId}`, [
        `ARBridge is installed in portal ${installed.portalId}${installed.hubDomain ? ` (${escapeHtml(installed.hubDomain)})` : ''}.`,
        ...(setup ? [escapeHtml(setup)] : []),
        'You can close this page and return to HubSpot.',
      ]);
    });
};
