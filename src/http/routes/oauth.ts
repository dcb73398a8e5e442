import crypto from 'node:crypto';
import { Router, type Response } from 'express';
import {
  HubSpotAuthError, OAUTH_CALLBACK_PATH, OAUTH_INSTALL_PATH, oauthConfigured, oauthRedirectUri,
  type AuthConfig, type HubSpotAuth,
} from '../../hubspot/auth';
import type { Logger } from '../../logger';

/**
 * The OAuth install flow. `install` sends the browser to HubSpot's consent page; HubSpot sends it back to
 * `callback` with a one-time code, which is exchanged for the portal's tokens (stored sealed by HubSpotAuth).
 * The `state` parameter is a stateless, HMAC-signed, time-limited nonce: nothing is kept between the two
 * requests, so any instance of the service can answer the callback.
 */

/** How long an install link stays good: from the redirect to HubSpot until the callback. */
export const STATE_TTL_MS = 10 * 60_000;
/** Tolerated clock difference between instances (a state issued slightly "in the future"). */
const STATE_SKEW_MS = 60_000;

const stateKey = (secretKey: Buffer): Buffer =>
  Buffer.from(crypto.hkdfSync('sha256', secretKey, Buffer.alloc(0), 'arbridge:oauth-state:v1', 32));

const mac = (key: Buffer, payload: string): string => crypto.createHmac('sha256', key).update(payload).digest('base64url');

/** `<issued at, epoch ms>.<16 random bytes>.<HMAC-SHA256 of both>` (base64url). */
export const signState = (secretKey: Buffer, nowMs: number): string => {
  const payload = `${nowMs}.${crypto.randomBytes(16).toString('base64url')}`;
  return `${payload}.${mac(stateKey(secretKey), payload)}`;
};

export type StateCheck = 'ok' | 'invalid' | 'expired';

export const verifyState = (secretKey: Buffer, state: string, nowMs: number): StateCheck => {
  const match = /^(\d{1,15})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/.exec(state);
  if (!match) return 'invalid';
  const [, issued, nonce, signature] = match as unknown as [string, string, string, string];
  const expected = Buffer.from(mac(stateKey(secretKey), `${issued}.${nonce}`), 'utf8');
  if (!crypto.timingSafeEqual(expected, Buffer.from(signature, 'utf8'))) return 'invalid';
  const age = nowMs - Number(issued);
  return age >= -STATE_SKEW_MS && age <= STATE_TTL_MS ? 'ok' : 'expired';
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

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/** A small self-contained page; the callback URL holds a code, so no referrer leaves it and nothing is cached. */
const page = (res: Response, status: number, title: string, lines: readonly string[]): void => {
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

const queryText = (value: unknown): string | null => (typeof value === 'string' && value.length <= 4096 ? value : null);

const statusOf = (error: unknown): number | null => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : null;
};

const refusalMessage = (error: unknown): string => {
  const body = (error as { body?: { message?: unknown; status?: unknown } } | null)?.body;
  const parts = [body?.status, body?.message].filter((p): p is string => typeof p === 'string' && p !== '');
  return parts.length ? parts.join(': ') : 'no reason given';
};

export const oauthRoutes = (deps: OAuthRouteDeps): Router => {
  const now = deps.now ?? Date.now;
  const { config } = deps;
  const installLink = `<a href="${escapeHtml(OAUTH_INSTALL_PATH)}">start the install again</a>`;

  return Router()
    .get(OAUTH_INSTALL_PATH, (_req, res) => {
      const { clientId } = config.hubspot;
      if (!oauthConfigured(config) || clientId === null) {
        notConfigured(res);
        return;
      }
      // https://developers.hubspot.com/docs/apps/developer-platform/build-apps/authentication/oauth/oauth-quickstart-guide
      // Spaces in `scope` are sent as %20 (not '+'), as HubSpot's own install URLs write them.
      const query = [
        ['client_id', clientId],
        ['redirect_uri', oauthRedirectUri(config)],
        ['scope', config.hubspot.scopes.join(' ')],
        ['state', signState(deps.key, now())],
      ].map(([name, value]) => `${name}=${encodeURIComponent(value as string)}`).join('&');
      const url = config.hubspot.authorizeUrl;
      res.set('Cache-Control', 'no-store').redirect(302, `${url}${url.includes('?') ? '&' : '?'}${query}`);
    })
    .get(OAUTH_CALLBACK_PATH, async (req, res) => {
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
      const check = verifyState(deps.key, state, now());
      if (check !== 'ok') {
        deps.logger.info({ check }, 'OAuth callback with a bad state');
        page(res, 400, 'ARBridge was not installed', [
          check === 'expired' ? 'This install link has expired (links are good for 10 minutes).' : 'This install link is not valid (its state does not check out).',
          `You can ${installLink}.`,
        ]);
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
