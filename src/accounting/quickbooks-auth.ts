import OAuthClient from 'intuit-oauth';
import { z } from 'zod';
import type { AccountingConfig } from '../config';
import { firstLine, ProviderError } from './errors';

/**
 * Connecting a QuickBooks Online company with Intuit's intuit-oauth OAuthClient (authorization code). The
 * company (realm) comes with the callback (`realmId`); its name is read from the CompanyInfo endpoint.
 *
 * intuit-oauth keeps its endpoints as class-wide statics, set with `setAuthorizeURLs`: every client here sets
 * them from the configuration first, so one process talks to one set of Intuit endpoints (the configured one).
 */

export type QuickBooksSettings = AccountingConfig['quickbooks'] & { redirectUri: string };

/** What is sealed at rest for a QuickBooks connection. */
export type QuickBooksCredentials = {
  access_token: string;
  refresh_token: string;
  token_type: string;
  /** Epoch seconds. */
  expires_at: number;
  /** Epoch seconds; null when Intuit did not say. */
  refresh_token_expires_at: number | null;
  realm_id: string;
};

export type QuickBooksGrant = {
  credentials: QuickBooksCredentials;
  realmId: string;
  /** The company's name; null when CompanyInfo could not be read (the connection stands regardless). */
  companyName: string | null;
};

const PROVIDER = 'QuickBooks';
const REALM_ID = /^\d{1,32}$/;
/** Intuit's current minor version of the accounting API. */
const MINOR_VERSION = 75;

export const quickbooksConfigured = (config: AccountingConfig['quickbooks']): boolean =>
  config.clientId !== null && config.clientSecret !== null;

// https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/companyinfo
const CompanyInfoAnswer = z.object({
  CompanyInfo: z.object({ CompanyName: z.string().optional(), LegalName: z.string().optional() }),
});

const TokenAnswer = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1),
  token_type: z.string().default('bearer'),
  expires_in: z.coerce.number().positive(),
  x_refresh_token_expires_in: z.coerce.number().positive().optional(),
});

/** The HTTP status behind an intuit-oauth error (its wrapped errors keep the response on `authResponse`). */
const statusOf = (error: unknown): number | null => {
  const status = (error as { authResponse?: { response?: { status?: unknown } } } | null)?.authResponse?.response?.status;
  return typeof status === 'number' ? status : null;
};

const reasonOf = (error: unknown): string => {
  const e = error as { error?: unknown; error_description?: unknown } | null;
  const parts = [e?.error, e?.error_description].filter((p): p is string => typeof p === 'string' && p !== '');
  return parts.length ? [...new Set(parts)].join(': ') : firstLine(error);
};

export type QuickBooksAuth = {
  consentUrl(state: string): string;
  /** Exchanges the code of the callback URL (path and query as received) and reads the company's name. */
  exchange(callbackUrl: string): Promise<QuickBooksGrant>;
  /** Revokes the refresh token (and with it the access token) at Intuit. */
  revoke(credentials: QuickBooksCredentials): Promise<void>;
  /** A new token set for the refresh token (Intuit rotates it: the answer carries the next refresh token). */
  refresh(credentials: QuickBooksCredentials): Promise<QuickBooksCredentials>;
};

export const createQuickBooksAuth = (settings: QuickBooksSettings): QuickBooksAuth => {
  const client = (): OAuthClient => {
    const oauth = new OAuthClient({
      environment: settings.environment,
      clientId: settings.clientId ?? '',
      clientSecret: settings.clientSecret ?? '',
      redirectUri: settings.redirectUri,
      logging: false,
    });
    return oauth.setAuthorizeURLs({
      authorizeEndpoint: settings.authorizeUrl,
      tokenEndpoint: settings.tokenUrl,
      revokeEndpoint: settings.revokeUrl,
      userInfoEndpoint: settings.environment === 'sandbox' ? OAuthClient.userinfo_endpoint_sandbox : OAuthClient.userinfo_endpoint_production,
    });
  };

  const companyName = async (oauth: OAuthClient, realmId: string): Promise<string | null> => {
    try {
      const answer = await oauth.makeApiCall({
        url: `${settings.apiUrl}/v3/company/${realmId}/companyinfo/${realmId}?minorversion=${MINOR_VERSION}`,
        timeout: 10_000,
      });
      const info = CompanyInfoAnswer.safeParse(answer.json);
      return info.success ? (info.data.CompanyInfo.CompanyName || info.data.CompanyInfo.LegalName || null) : null;
    } catch {
      return null;
    }
  };

  return {
    consentUrl(state) {
      return client().authorizeUri({ scope: [...settings.scopes], state });
    },
    async exchange(callbackUrl) {
      const realmId = new URL(callbackUrl, 'http://callback.invalid').searchParams.get('realmId') ?? '';
      if (!REALM_ID.test(realmId)) {
        throw new ProviderError(PROVIDER, 'invalid_answer', 'QuickBooks sent no company id (realmId) with the authorization');
      }
      const oauth = client();
      let answer: unknown;
      try {
        answer = (await oauth.createToken(callbackUrl)).json;
      } catch (error) {
        const status = statusOf(error);
        if (status !== null && status >= 400 && status < 500 && status !== 429) {
          throw new ProviderError(PROVIDER, 'refused', `QuickBooks refused the authorization code: ${reasonOf(error)}`);
        }
        throw new ProviderError(PROVIDER, 'unreachable', status === null
          ? `QuickBooks could not be reached to exchange the authorization code: ${reasonOf(error)}`
          : `QuickBooks could not exchange the authorization code (HTTP ${status})`);
      }
      const token = TokenAnswer.safeParse(answer);
      if (!token.success) throw new ProviderError(PROVIDER, 'invalid_answer', 'QuickBooks answered the code exchange without usable tokens');
      const nowSeconds = Math.floor(Date.now() / 1000);
      return {
        credentials: {
          access_token: token.data.access_token,
          refresh_token: token.data.refresh_token,
          token_type: token.data.token_type,
          expires_at: nowSeconds + Math.floor(token.data.expires_in),
          refresh_token_expires_at: token.data.x_refresh_token_expires_in ? nowSeconds + Math.floor(token.data.x_refresh_token_expires_in) : null,
          realm_id: realmId,
        },
        realmId,
        companyName: await companyName(oauth, realmId),
      };
    },
    async revoke(credentials) {
      try {
        await client().revoke({ refresh_token: credentials.refresh_token });
      } catch (error) {
        const status = statusOf(error);
        throw new ProviderError(PROVIDER, status !== null && status < 500 ? 'refused' : 'unreachable',
          `QuickBooks did not revoke the token: ${status !== null ? `HTTP ${status}` : reasonOf(error)}`);
      }
    },
    async refresh(credentials) {
      let answer: unknown;
      try {
        answer = (await client().refreshUsingToken(credentials.refresh_token)).json;
      } catch (error) {
        const status = statusOf(error);
        if (status !== null && status >= 400 && status < 500 && status !== 429) {
          throw new ProviderError(PROVIDER, 'refused', `QuickBooks refused to refresh the access token: ${reasonOf(error)}`);
        }
        throw new ProviderError(PROVIDER, 'unreachable', status === null
          ? `QuickBooks could not be reached to refresh the access token: ${reasonOf(error)}`
          : `QuickBooks could not refresh the access token (HTTP ${status})`);
      }
      const token = TokenAnswer.safeParse(answer);
      if (!token.success) throw new ProviderError(PROVIDER, 'invalid_answer', 'QuickBooks answered the refresh without usable tokens');
      const nowSeconds = Math.floor(Date.now() / 1000);
      return {
        access_token: token.data.access_token,
        refresh_token: token.data.refresh_token,
        token_type: token.data.token_type,
        expires_at: nowSeconds + Math.floor(token.data.expires_in),
        refresh_token_expires_at: token.data.x_refresh_token_expires_in
          ? nowSeconds + Math.floor(token.data.x_refresh_token_expires_in) : credentials.refresh_token_expires_at,
        realm_id: credentials.realm_id,
      };
    },
  };
};
