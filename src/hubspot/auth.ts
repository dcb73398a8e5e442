import type { Config } from '../config';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import { openSecret, sealSecret } from '../secrets/crypto';
import type { Db } from '../store/database';
import { ensurePortal } from '../store/facts';
import { hubspotClient, type TokenSource } from './client';
import { hubspotErrorStatus } from './http-retry';

/**
 * HubSpot access per portal. Two modes, both from configuration:
 * - OAuth: each installing portal's access and refresh tokens, sealed with the secret key (AES-256-GCM, the
 *   context names portal and field) in `hubspot_installs`; the access token is refreshed when it expires
 *   within REFRESH_MARGIN_MS, once per portal however many callers ask at the same time.
 * - Private app: one portal (HUBSPOT_PORTAL_ID) uses the static HUBSPOT_ACCESS_TOKEN; it wins over an
 *   OAuth install of the same portal.
 */

/** An access token expiring within this margin is refreshed before use. */
export const REFRESH_MARGIN_MS = 5 * 60_000;

export const OAUTH_CALLBACK_PATH = '/oauth/hubspot/callback';
export const OAUTH_INSTALL_PATH = '/oauth/hubspot/install';

export type AuthConfig = Pick<Config, 'hubspot' | 'publicUrl'>;

/** The redirect URI registered with the app: HubSpot sends the browser back here with a code. */
export const oauthRedirectUri = (config: Pick<Config, 'publicUrl'>): string => `${config.publicUrl}${OAUTH_CALLBACK_PATH}`;

/** OAuth installs need the app's client id and secret. */
export const oauthConfigured = (config: Pick<Config, 'hubspot'>): boolean =>
  config.hubspot.clientId !== null && config.hubspot.clientSecret !== null;

export type HubSpotAuthReason =
  | 'not_installed' // no install and no private-app token for the portal
  | 'reinstall_required' // HubSpot refused the stored refresh token (app uninstalled in HubSpot, token revoked)
  | 'not_configured' // HUBSPOT_CLIENT_ID / HUBSPOT_CLIENT_SECRET are not set
  | 'refresh_refused'; // HubSpot refused the refresh for another reason (bad client id or secret)

/** Why a portal has no usable token. `details` (portal, reason, install URL) reach HTTP clients; no secret does. */
export class HubSpotAuthError extends AppError {
  constructor(readonly reason: HubSpotAuthReason, readonly portalId: number | null, message: string, installUrl?: string, options?: ErrorOptions) {
    super(
      reason === 'not_configured' || reason === 'refresh_refused' ? 'internal' : 'unauthenticated',
      message,
      { reason, ...(portalId !== null ? { portalId } : {}), ...(installUrl ? { installUrl } : {}) },
      options,
    );
    this.name = 'HubSpotAuthError';
  }
}

export type InstallTokens = {
  portalId: number;
  hubDomain: string | null;
  scopes: readonly string[];
  accessToken: string;
  refreshToken: string;
  expiresAt: Date;
};

export const accessContext = (portalId: number): string => `hubspot:${portalId}:access`;
export const refreshContext = (portalId: number): string => `hubspot:${portalId}:refresh`;

/** Stores (or replaces) a portal's install, tokens sealed; creates the portal row when it is new. */
export const saveInstall = async (db: Db, key: Buffer, install: InstallTokens): Promise<void> => {
  const row = {
    hub_domain: install.hubDomain,
    scopes: install.scopes.join(' '),
    access_token_enc: sealSecret(key, install.accessToken, accessContext(install.portalId)),
    refresh_token_enc: sealSecret(key, install.refreshToken, refreshContext(install.portalId)),
    expires_at: install.expiresAt,
  };
  await db.transaction().execute(async (trx) => {
    await ensurePortal(trx, install.portalId, install.hubDomain);
    await trx.insertInto('hubspot_installs').values({ portal_id: install.portalId, ...row })
      .onConflict((oc) => oc.column('portal_id').doUpdateSet({ ...row, updated_at: new Date() }))
      .execute();
  });
};

export type AuthStatus =
  | { mode: 'private' }
  | { mode: 'oauth'; hubDomain: string | null; scopes: string[]; expiresAt: string; installedAt: string; needsReinstall: boolean }
  | { mode: 'none' };

export type InstallResult = { portalId: number; hubDomain: string | null; scopes: string[] };

export type UninstallResult = {
  /** An OAuth install was there and its row is gone. */
  removed: boolean;
  /** HubSpot confirmed the refresh token's revocation (best effort: false when it could not be reached). */
  revoked: boolean;
};

export type HubSpotAuth = {
  /** The portal's access token: the private app's static token, or the stored OAuth token (refreshed first when near expiry). */
  tokenFor: TokenSource;
  /** Refreshes the portal's OAuth token now (after HubSpot answered 401 to a token we thought valid). */
  forceRefresh: (portalId: number) => Promise<string>;
  /** Exchanges an authorization code from the callback, reads which portal it is for, and stores the install. */
  completeInstall: (code: string) => Promise<InstallResult>;
  /** Portals with an OAuth install, and the private-app portal. */
  installedPortals: () => Promise<number[]>;
  /** Deletes the portal's install and revokes its refresh token at HubSpot (best effort). */
  uninstall: (portalId: number) => Promise<UninstallResult>;
  /** How the portal is connected, without secrets. */
  status: (portalId: number) => Promise<AuthStatus>;
};

export type HubSpotAuthDeps = {
  db: Db;
  config: AuthConfig;
  key: Buffer;
  logger: Logger;
  /** Epoch milliseconds; injectable so tests can move time. */
  now?: () => number;
};

type InstallRow = { access_token_enc: string; refresh_token_enc: string; expires_at: Date };

const bodyOf = (error: unknown): { status?: unknown; message?: unknown; error?: unknown } => {
  const body = (error as { body?: unknown } | null)?.body;
  return typeof body === 'object' && body !== null ? body : {};
};

/** The HTTP status of an SDK error, or null for a failure without a response. */
const statusOf = hubspotErrorStatus;

/** HubSpot's reason for a refused OAuth call: `{status: 'BAD_CLIENT_SECRET', message: '…'}` (the SDK passes the body on). */
const hubspotMessage = (error: unknown): string => {
  const body = bodyOf(error);
  const parts = [body.status, body.message].filter((p): p is string => typeof p === 'string' && p !== '');
  return parts.length ? parts.join(': ') : (error instanceof Error ? error.message.split('\n')[0] ?? 'no reason given' : String(error));
};

/**
 * HubSpot answers 400 `{status: 'BAD_REFRESH_TOKEN', message: 'missing or unknown refresh token'}` when the
 * refresh token no longer works (the app was uninstalled, or the token revoked). The message is checked too, in
 * case a proxy or a later SDK reshapes the body.
 */
const isBadRefreshToken = (error: unknown): boolean => {
  if (statusOf(error) !== 400) return false;
  const body = bodyOf(error);
  return body.status === 'BAD_REFRESH_TOKEN' || (typeof body.message === 'string' && /refresh[ _-]?token/i.test(body.message));
};

/** A 4xx other than 429: HubSpot will refuse the same request again. */
const isRefusal = (error: unknown): boolean => {
  const status = statusOf(error);
  return status !== null && status >= 400 && status < 500 && status !== 429;
};

export const createHubSpotAuth = (deps: HubSpotAuthDeps): HubSpotAuth => {
  const { db, config, key, logger } = deps;
  const now = deps.now ?? Date.now;
  const installUrl = `${config.publicUrl}${OAUTH_INSTALL_PATH}`;
  const privateApp = config.hubspot.privateApp;
  // The OAuth endpoints authenticate with the client id and secret, or the token in the path: no bearer.
  const oauthClient = hubspotClient('', config.hubspot.apiBaseUrl);
  const refreshing = new Map<number, Promise<string>>();
  // The sealed refresh token HubSpot refused, per portal: no further refresh is tried with it. A new install
  // replaces the sealed text (even of the same token: a fresh nonce), which lifts the mark.
  const refused = new Map<number, string>();

  const credentials = (): { clientId: string; clientSecret: string } => {
    const { clientId, clientSecret } = config.hubspot;
    if (clientId === null || clientSecret === null) {
      throw new HubSpotAuthError('not_configured', null, 'HubSpot OAuth is not configured: set HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET');
    }
    return { clientId, clientSecret };
  };

  const notInstalled = (portalId: number): HubSpotAuthError =>
    new HubSpotAuthError('not_installed', portalId, `HubSpot portal ${portalId} has not installed ARBridge; install it at ${installUrl}`, installUrl);

  const reinstallRequired = (portalId: number, cause?: unknown): HubSpotAuthError =>
    new HubSpotAuthError(
      'reinstall_required', portalId,
      `HubSpot portal ${portalId} needs ARBridge re-installed: HubSpot refused its refresh token (the app was uninstalled or access was revoked); install it again at ${installUrl}`,
      installUrl, cause === undefined ? undefined : { cause },
    );

  const readInstall = (portalId: number): Promise<InstallRow | undefined> =>
    db.selectFrom('hubspot_installs').select(['access_token_enc', 'refresh_token_enc', 'expires_at'])
      .where('portal_id', '=', portalId).executeTakeFirst();

  const fresh = (row: InstallRow): boolean => new Date(row.expires_at).getTime() - now() > REFRESH_MARGIN_MS;

  const refresh = async (portalId: number, force: boolean): Promise<string> => {
    const row = await readInstall(portalId);
    if (!row) throw notInstalled(portalId);
    if (!force && fresh(row)) return openSecret(key, row.access_token_enc, accessContext(portalId));
    if (refused.get(portalId) === row.refresh_token_enc) throw reinstallRequired(portalId);
    const { clientId, clientSecret } = credentials();
    const refreshToken = openSecret(key, row.refresh_token_enc, refreshContext(portalId));
    let tokens;
    try {
      // https://developers.hubspot.com/docs/api-reference/auth-oauth-v1/tokens/post-oauth-v1-token
      tokens = await oauthClient.oauth.tokensApi.create('refresh_token', undefined, undefined, clientId, clientSecret, refreshToken);
    } catch (error) {
      if (isBadRefreshToken(error)) {
        refused.set(portalId, row.refresh_token_enc);
        logger.warn({ portalId, reason: hubspotMessage(error) }, 'HubSpot refused the refresh token; the portal must install ARBridge again');
        throw reinstallRequired(portalId, error);
      }
      if (isRefusal(error)) {
        throw new HubSpotAuthError('refresh_refused', portalId,
          `HubSpot refused to refresh the token of portal ${portalId}: ${hubspotMessage(error)}`, undefined, { cause: error });
      }
      throw error; // 429, 5xx, network: the caller retries
    }
    const expiresAt = new Date(now() + tokens.expiresIn * 1000);
    // Only the row that was read is replaced: an install that landed meanwhile keeps its newer tokens.
    const updated = await db.updateTable('hubspot_installs')
      .set({
        access_token_enc: sealSecret(key, tokens.accessToken, accessContext(portalId)),
        refresh_token_enc: sealSecret(key, tokens.refreshToken || refreshToken, refreshContext(portalId)),
        expires_at: expiresAt,
        updated_at: new Date(),
      })
      .where('portal_id', '=', portalId).where('refresh_token_enc', '=', row.refresh_token_enc)
      .executeTakeFirst();
    if (updated.numUpdatedRows === 0n) {
      const current = await readInstall(portalId);
      if (!current) throw notInstalled(portalId);
      return openSecret(key, current.access_token_enc, accessContext(portalId));
    }
    logger.debug({ portalId, expiresAt: expiresAt.toISOString() }, 'refreshed the HubSpot access token');
    return tokens.accessToken;
  };

  /** One refresh per portal at a time; callers arriving meanwhile wait for it and get its token. */
  const singleFlight = (portalId: number, force: boolean): Promise<string> => {
    const running = refreshing.get(portalId);
    if (running) return running;
    const started = refresh(portalId, force).finally(() => refreshing.delete(portalId));
    refreshing.set(portalId, started);
    return started;
  };

  const tokenFor: TokenSource = async (portalId) => {
    if (privateApp && privateApp.portalId === portalId) return privateApp.accessToken;
    const running = refreshing.get(portalId);
    if (running) return running;
    const row = await readInstall(portalId);
    if (!row) throw notInstalled(portalId);
    if (fresh(row)) return openSecret(key, row.access_token_enc, accessContext(portalId));
    return singleFlight(portalId, false);
  };

  const forceRefresh = async (portalId: number): Promise<string> => {
    if (privateApp && privateApp.portalId === portalId) return privateApp.accessToken;
    return singleFlight(portalId, true);
  };

  const completeInstall = async (code: string): Promise<InstallResult> => {
    const { clientId, clientSecret } = credentials();
    // https://developers.hubspot.com/docs/api-reference/auth-oauth-v1/tokens/post-oauth-v1-token
    const tokens = await oauthClient.oauth.tokensApi.create('authorization_code', code, oauthRedirectUri(config), clientId, clientSecret);
    // https://developers.hubspot.com/docs/api-reference/auth-oauth-v1/access-tokens/get-oauth-v1-access-tokens-token
    const info = await oauthClient.oauth.accessTokensApi.get(tokens.accessToken);
    const install: InstallTokens = {
      portalId: info.hubId,
      hubDomain: info.hubDomain ?? null,
      scopes: info.scopes ?? [],
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      expiresAt: new Date(now() + tokens.expiresIn * 1000),
    };
    await saveInstall(db, key, install);
    refused.delete(install.portalId);
    logger.info({ portalId: install.portalId, hubDomain: install.hubDomain, scopes: install.scopes }, 'HubSpot portal installed ARBridge');
    return { portalId: install.portalId, hubDomain: install.hubDomain, scopes: [...install.scopes] };
  };

  const installedPortals = async (): Promise<number[]> => {
    const rows = await db.selectFrom('hubspot_installs').select('portal_id').execute();
    const ids = new Set(rows.map((r) => Number(r.portal_id)));
    if (privateApp) ids.add(privateApp.portalId);
    return [...ids].sort((a, b) => a - b);
  };

  const uninstall = async (portalId: number): Promise<UninstallResult> => {
    const row = await db.deleteFrom('hubspot_installs').where('portal_id', '=', portalId)
      .returning(['refresh_token_enc']).executeTakeFirst();
    refused.delete(portalId);
    if (!row) return { removed: false, revoked: false };
    let revoked = false;
    try {
      const refreshToken = openSecret(key, row.refresh_token_enc, refreshContext(portalId));
      // https://developers.hubspot.com/docs/api-reference/auth-oauth-v1/refresh-tokens/delete-oauth-v1-refresh-tokens-token
      await oauthClient.oauth.refreshTokensApi.archive(refreshToken);
      revoked = true;
    } catch (error) {
      logger.warn({ portalId, reason: error instanceof Error ? hubspotMessage(error) : String(error) },
        'could not revoke the refresh token at HubSpot; the install is removed here all the same');
    }
    logger.info({ portalId, revoked }, 'HubSpot install removed');
    return { removed: true, revoked };
  };

  const status = async (portalId: number): Promise<AuthStatus> => {
    if (privateApp && privateApp.portalId === portalId) return { mode: 'private' };
    const row = await db.selectFrom('hubspot_installs')
      .select(['hub_domain', 'scopes', 'expires_at', 'installed_at', 'refresh_token_enc'])
      .where('portal_id', '=', portalId).executeTakeFirst();
    if (!row) return { mode: 'none' };
    return {
      mode: 'oauth',
      hubDomain: row.hub_domain,
      scopes: row.scopes.split(' ').filter(Boolean),
      expiresAt: new Date(row.expires_at).toISOString(),
      installedAt: new Date(row.installed_at).toISOString(),
      needsReinstall: refused.get(portalId) === row.refresh_token_enc,
    };
  };

  return { tokenFor, forceRefresh, completeInstall, installedPortals, uninstall, status };
};
