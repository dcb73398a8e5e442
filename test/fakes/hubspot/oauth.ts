import { randomBytes, randomUUID } from 'node:crypto';
import { HubSpotHttpError, errorBody } from './errors';
import type { Router } from './router';

export type OAuthSettings = {
  clientId: string;
  clientSecret: string;
  /** When set, the code exchange must name exactly this redirect_uri. */
  redirectUri: string | undefined;
  accessTokenTtlSeconds: number;
  appId: number;
};

type Grant = { portalId: number; scopes: string[]; userId: number; user: string; hubDomain: string };
type AccessToken = Grant & { token: string; expiresAt: number; refreshToken: string; revoked: boolean };
type RefreshToken = Grant & { token: string; revoked: boolean };

export const DEFAULT_SCOPES = [
  'oauth', 'crm.objects.companies.read', 'crm.objects.companies.write', 'crm.objects.deals.read', 'crm.objects.deals.write',
  'crm.objects.contacts.read', 'crm.objects.owners.read', 'crm.schemas.companies.write', 'crm.schemas.deals.write',
];

/** HubSpot's token-endpoint errors: `{status: 'BAD_AUTH_CODE' | 'BAD_CLIENT_ID' | ..., message, correlationId}`. */
const oauthError = (status: string, message: string): HubSpotHttpError =>
  new HubSpotHttpError({ status: 400, body: { status, message, correlationId: randomUUID() } });

const newToken = (prefix: string): string => `${prefix}-${randomBytes(24).toString('base64url')}`;

/** Authorization codes, access and refresh tokens of the fake's one app. */
export class OAuthState {
  private readonly codes = new Map<string, Grant & { redirectUri: string | undefined }>();
  private readonly access = new Map<string, AccessToken>();
  private readonly refresh = new Map<string, RefreshToken>();

  constructor(readonly settings: OAuthSettings) {}

  issueCode(grant: Grant): string {
    const code = newToken('code');
    this.codes.set(code, { ...grant, redirectUri: this.settings.redirectUri });
    return code;
  }

  expireAll(): void {
    const past = Date.now() - 1_000;
    for (const t of this.access.values()) t.expiresAt = Math.min(t.expiresAt, past);
  }

  /** The portal of a live access token; 'expired' with how long ago; undefined when unknown or revoked. */
  resolve(token: string): { portalId: number } | { expiredMs: number } | undefined {
    const t = this.access.get(token);
    if (!t || t.revoked) return undefined;
    const left = t.expiresAt - Date.now();
    return left > 0 ? { portalId: t.portalId } : { expiredMs: -left };
  }

  private issueAccess(refresh: RefreshToken): Record<string, unknown> {
    const token = newToken('oauth');
    const ttl = this.settings.accessTokenTtlSeconds;
    const { portalId, scopes, userId, user, hubDomain } = refresh;
    this.access.set(token, { portalId, scopes, userId, user, hubDomain, token, expiresAt: Date.now() + ttl * 1000, refreshToken: refresh.token, revoked: false });
    return { access_token: token, refresh_token: refresh.token, expires_in: ttl, token_type: 'bearer' };
  }

  routes(r: Router): void {
    r.oauth('POST', '/oauth/v1/token', (ctx) => {
      const form = (ctx.body && typeof ctx.body === 'object' ? ctx.body : {}) as Record<string, unknown>;
      const field = (name: string): string | undefined => (typeof form[name] === 'string' && form[name] !== '' ? (form[name] as string) : undefined);
      const grantType = field('grant_type');
      if (grantType !== 'authorization_code' && grantType !== 'refresh_token') {
        throw oauthError('BAD_GRANT_TYPE', 'grant_type must be authorization_code or refresh_token');
      }
      if (field('client_id') !== this.settings.clientId) throw oauthError('BAD_CLIENT_ID', 'missing or invalid client id');
      if (field('client_secret') !== this.settings.clientSecret) throw oauthError('BAD_CLIENT_SECRET', 'missing or invalid client secret');
      if (grantType === 'authorization_code') {
        const code = field('code');
        const grant = code === undefined ? undefined : this.codes.get(code);
        if (!grant || code === undefined) throw oauthError('BAD_AUTH_CODE', 'missing or unknown auth code');
        const redirectUri = field('redirect_uri');
        if (redirectUri === undefined || (grant.redirectUri !== undefined && redirectUri !== grant.redirectUri)) {
          throw oauthError('BAD_REDIRECT_URI', 'redirect_uri does not match the one the authorization used');
        }
        this.codes.delete(code); // codes are single-use
        ctx.setLogPortal(grant.portalId);
        const { portalId, scopes, userId, user, hubDomain } = grant;
        const refresh: RefreshToken = { portalId, scopes, userId, user, hubDomain, token: newToken('refresh'), revoked: false };
        this.refresh.set(refresh.token, refresh);
        return { status: 200, body: this.issueAccess(refresh) };
      }
      const refresh = this.refresh.get(field('refresh_token') ?? '');
      if (!refresh || refresh.revoked) throw oauthError('BAD_REFRESH_TOKEN', 'missing or unknown refresh token');
      ctx.setLogPortal(refresh.portalId);
      return { status: 200, body: this.issueAccess(refresh) };
    });

    r.oauth('GET', '/oauth/v1/access-tokens/:token', (ctx) => {
      const t = this.access.get(ctx.params.token as string);
      if (!t || t.revoked || t.expiresAt <= Date.now()) {
        throw new HubSpotHttpError({ status: 404, body: errorBody('OBJECT_NOT_FOUND', 'access token not found, expired or revoked') });
      }
      ctx.setLogPortal(t.portalId);
      return {
        status: 200,
        body: {
          token: t.token, user: t.user, hub_domain: t.hubDomain, scopes: t.scopes, hub_id: t.portalId, app_id: this.settings.appId,
          expires_in: Math.max(0, Math.floor((t.expiresAt - Date.now()) / 1000)), user_id: t.userId, token_type: 'access',
        },
      };
    });

    r.oauth('GET', '/oauth/v1/refresh-tokens/:token', (ctx) => {
      const t = this.refresh.get(ctx.params.token as string);
      if (!t || t.revoked) throw new HubSpotHttpError({ status: 404, body: errorBody('OBJECT_NOT_FOUND', 'refresh token not found') });
      ctx.setLogPortal(t.portalId);
      return {
        status: 200,
        body: {
          token: t.token, user: t.user, hub_domain: t.hubDomain, scopes: t.scopes, hub_id: t.portalId, client_id: this.settings.clientId,
          user_id: t.userId, token_type: 'refresh',
        },
      };
    });

    // Revoking a refresh token also ends every access token issued from it (an uninstall).
    r.oauth('DELETE', '/oauth/v1/refresh-tokens/:token', (ctx) => {
      const t = this.refresh.get(ctx.params.token as string);
      if (!t) throw new HubSpotHttpError({ status: 404, body: errorBody('OBJECT_NOT_FOUND', 'refresh token not found') });
      ctx.setLogPortal(t.portalId);
      t.revoked = true;
      for (const a of this.access.values()) if (a.refreshToken === t.token) a.revoked = true;
      return { status: 204 };
    });
  }
}
