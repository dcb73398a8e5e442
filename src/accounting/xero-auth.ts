import { custom, errors as oidcErrors, Issuer, type TokenSet } from 'openid-client';
import { XeroClient } from 'xero-node';
import { z } from 'zod';
import type { AccountingConfig } from '../config';
import { firstLine, ProviderError } from './errors';

/**
 * Connecting a Xero organisation with xero-node's XeroClient (OAuth 2.0 authorization code, OpenID Connect).
 *
 * XeroClient discovers its OpenID issuer at a fixed address (identity.xero.com); the client here discovers the
 * configured XERO_IDENTITY_URL instead (the same address by default) and leaves everything else to the SDK:
 * the consent URL, the callback (state check, code exchange, ID token verification against the issuer's keys)
 * and revocation. The organisations a token reaches come from Xero's connections endpoint at XERO_API_URL.
 */

export type XeroSettings = AccountingConfig['xero'] & { redirectUri: string };

/** What is sealed at rest for a Xero connection. */
export type XeroCredentials = {
  access_token: string;
  refresh_token: string | null;
  token_type: string;
  /** Epoch seconds. */
  expires_at: number | null;
  scope: string | null;
  /** The connection (organisation grant) id, for a later DELETE /connections/{id}. */
  connection_id: string;
};

export type XeroTenant = { connectionId: string; tenantId: string; tenantName: string; updatedDateUtc: string };

export type XeroGrant = {
  credentials: XeroCredentials;
  /** The organisation connected. */
  tenant: XeroTenant;
  /** Other organisations the same consent reaches; not read. */
  others: XeroTenant[];
};

const HTTP_TIMEOUT_MS = 10_000;
const PROVIDER = 'Xero';

export const xeroConfigured = (config: AccountingConfig['xero']): boolean => config.clientId !== null && config.clientSecret !== null;

/** Discovery answers by issuer, shared by every client of the process; a failed discovery is tried again next time. */
const issuers = new Map<string, Promise<Issuer>>();

const discover = (identityUrl: string): Promise<Issuer> => {
  let found = issuers.get(identityUrl);
  if (!found) {
    found = Issuer.discover(identityUrl);
    issuers.set(identityUrl, found);
    found.catch(() => issuers.delete(identityUrl));
  }
  return found;
};

/** XeroClient with its issuer discovered at the configured identity URL. */
class ConfiguredXeroClient extends XeroClient {
  constructor(private readonly settings: XeroSettings, state?: string) {
    super({
      clientId: settings.clientId ?? '',
      clientSecret: settings.clientSecret ?? '',
      redirectUris: [settings.redirectUri],
      scopes: [...settings.scopes],
      state,
      httpTimeout: HTTP_TIMEOUT_MS,
    });
  }

  override async initialize(): Promise<XeroClient> {
    custom.setHttpOptionsDefaults({ timeout: HTTP_TIMEOUT_MS });
    const issuer = await discover(this.settings.identityUrl);
    const client = new issuer.Client({
      client_id: this.settings.clientId ?? '',
      client_secret: this.settings.clientSecret ?? '',
      redirect_uris: [this.settings.redirectUri],
    });
    client[custom.clock_tolerance] = 5;
    this.openIdClient = client;
    return this;
  }
}

// GET /connections: https://developer.xero.com/documentation/guides/oauth2/tenants
const Connections = z.array(z.object({
  id: z.string().min(1),
  tenantId: z.string().min(1),
  tenantType: z.string(),
  tenantName: z.string().nullable().optional(),
  updatedDateUtc: z.string().nullable().optional(),
}));

/** The HTTP status of an openid-client error, or null when nothing answered. */
const statusOf = (error: unknown): number | null => {
  const response = (error as { response?: { statusCode?: unknown } } | null)?.response;
  return typeof response?.statusCode === 'number' ? response.statusCode : null;
};

/** Turns what openid-client threw while trying to `action` into a ProviderError. */
const providerError = (error: unknown, action: string): ProviderError => {
  if (error instanceof ProviderError) return error;
  if (error instanceof oidcErrors.OPError) {
    const status = statusOf(error);
    if (status === null || (status >= 400 && status < 500 && status !== 429)) {
      return new ProviderError(PROVIDER, 'refused', `Xero refused to ${action}: ${firstLine(error)}`);
    }
    return new ProviderError(PROVIDER, 'unreachable', `Xero could not ${action} (HTTP ${status})`);
  }
  if (error instanceof oidcErrors.RPError && !/timed out/.test(error.message)) {
    return new ProviderError(PROVIDER, 'invalid_answer', `Xero's answer could not be verified: ${firstLine(error)}`);
  }
  return new ProviderError(PROVIDER, 'unreachable', `Xero could not be reached to ${action}: ${firstLine(error)}`);
};

export type XeroAuth = {
  /** Xero's consent page for this state. */
  consentUrl(state: string): Promise<string>;
  /** Exchanges the code of the callback URL (path and query as received), then reads the organisations it reaches. */
  exchange(callbackUrl: string, state: string): Promise<XeroGrant>;
  /** Revokes the refresh token at Xero (every organisation of that consent). */
  revoke(credentials: XeroCredentials): Promise<void>;
  /** A new token set for the refresh token (Xero rotates it: the answer carries the next refresh token). */
  refresh(credentials: XeroCredentials): Promise<XeroCredentials>;
};

export const createXeroAuth = (settings: XeroSettings): XeroAuth => {
  const connections = async (accessToken: string): Promise<XeroTenant[]> => {
    let response: Response;
    try {
      response = await fetch(`${settings.apiUrl}/connections`, {
        headers: { Authorization: `Bearer ${accessToken}`, Accept: 'application/json' },
        signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
      });
    } catch (error) {
      throw new ProviderError(PROVIDER, 'unreachable', `Xero could not be reached for the list of organisations: ${firstLine(error)}`);
    }
    if (!response.ok) {
      const refused = response.status >= 400 && response.status < 500 && response.status !== 429;
      throw new ProviderError(PROVIDER, refused ? 'refused' : 'unreachable', `Xero answered ${response.status} to the list of organisations`);
    }
    const parsed = Connections.safeParse(await response.json().catch(() => null));
    if (!parsed.success) throw new ProviderError(PROVIDER, 'invalid_answer', 'Xero sent a list of organisations that is not one');
    return parsed.data
      .filter((c) => c.tenantType === 'ORGANISATION')
      .map((c) => ({ connectionId: c.id, tenantId: c.tenantId, tenantName: c.tenantName || c.tenantId, updatedDateUtc: c.updatedDateUtc ?? '' }))
      // Most recently authorized first (XeroClient.updateTenants orders them so): the organisation just chosen.
      .sort((a, b) => (Date.parse(b.updatedDateUtc) || 0) - (Date.parse(a.updatedDateUtc) || 0));
  };

  const revokeTokens = async (tokens: { access_token: string; refresh_token: string }): Promise<void> => {
    const client = new ConfiguredXeroClient(settings);
    try {
      await client.initialize();
      client.setTokenSet(tokens);
      await client.revokeToken();
    } catch (error) {
      throw providerError(error, 'revoke the token');
    }
  };

  return {
    async consentUrl(state) {
      try {
        return await new ConfiguredXeroClient(settings, state).buildConsentUrl();
      } catch (error) {
        // Discovery is all that can fail here: whatever the answer, Xero's sign-in is not available now.
        throw new ProviderError(PROVIDER, 'unreachable', `Xero's sign-in service could not be reached: ${firstLine(error)}`);
      }
    },
    async exchange(callbackUrl, state) {
      const client = new ConfiguredXeroClient(settings, state);
      let tokenSet: TokenSet;
      try {
        tokenSet = await client.apiCallback(callbackUrl);
      } catch (error) {
        throw providerError(error, 'exchange the authorization code');
      }
      const accessToken = tokenSet.access_token;
      if (!accessToken) throw new ProviderError(PROVIDER, 'invalid_answer', 'Xero sent no access token');
      const tenants = await connections(accessToken);
      const [tenant, ...others] = tenants;
      if (!tenant) {
        // A consent without an organisation grants nothing to read: give the tokens back.
        if (tokenSet.refresh_token) await revokeTokens({ access_token: accessToken, refresh_token: tokenSet.refresh_token }).catch(() => undefined);
        throw new ProviderError(PROVIDER, 'refused', 'Xero gave access to no organisation; choose an organisation on Xero\'s consent page');
      }
      return {
        credentials: {
          access_token: accessToken,
          refresh_token: tokenSet.refresh_token ?? null,
          token_type: tokenSet.token_type ?? 'Bearer',
          expires_at: tokenSet.expires_at ?? null,
          scope: tokenSet.scope ?? null,
          connection_id: tenant.connectionId,
        },
        tenant,
        others,
      };
    },
    async revoke(credentials) {
      if (!credentials.refresh_token) return;
      await revokeTokens({ access_token: credentials.access_token, refresh_token: credentials.refresh_token });
    },
    async refresh(credentials) {
      if (!credentials.refresh_token) throw new ProviderError(PROVIDER, 'refused', 'Xero gave this connection no refresh token');
      const client = new ConfiguredXeroClient(settings);
      let tokenSet: TokenSet;
      try {
        await client.initialize();
        client.setTokenSet({ access_token: credentials.access_token, refresh_token: credentials.refresh_token });
        tokenSet = await client.refreshToken();
      } catch (error) {
        throw providerError(error, 'refresh the access token');
      }
      if (!tokenSet.access_token) throw new ProviderError(PROVIDER, 'invalid_answer', 'Xero sent no access token');
      return {
        access_token: tokenSet.access_token,
        refresh_token: tokenSet.refresh_token ?? credentials.refresh_token,
        token_type: tokenSet.token_type ?? credentials.token_type,
        expires_at: tokenSet.expires_at ?? null,
        scope: tokenSet.scope ?? credentials.scope,
        connection_id: credentials.connection_id,
      };
    },
  };
};
