import Stripe from 'stripe';
import { z } from 'zod';
import type { AccountingConfig } from '../config';
import { firstLine, ProviderError } from './errors';

/**
 * Connecting a Stripe account with a pasted API key: a restricted key (rk_…) with read access to invoices,
 * customers, charges and credit notes, or a secret key (sk_…). The key is checked with the stripe SDK against
 * the configured API (STRIPE_API_URL): it must read invoices; the account's name comes from GET /v1/account
 * when the key may read it (restricted keys often may not; the connection then goes by "Stripe account").
 */

/** Stripe's secret and restricted keys; test and live mode. */
export const StripeKeySchema = z.string().trim()
  .regex(/^(sk|rk)_(test|live)_[A-Za-z0-9]{8,247}$/, 'must be a Stripe secret key (sk_live_…, sk_test_…) or restricted key (rk_live_…, rk_test_…)');

/** What is sealed at rest for a Stripe connection. */
export type StripeCredentials = { api_key: string };

export type StripeAccount = {
  /** acct_…; null when the key may not read the account. */
  accountId: string | null;
  name: string;
  livemode: boolean;
};

const PROVIDER = 'Stripe';

/** The stripe client's host, port and protocol options from an origin URL. */
export const stripeClientOptions = (apiUrl: string): { host: string; port: number; protocol: 'http' | 'https' } => {
  const url = new URL(apiUrl);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return { host: url.hostname, port: url.port ? Number(url.port) : protocol === 'http' ? 80 : 443, protocol };
};

const accountName = (account: Stripe.Account): string =>
  account.settings?.dashboard?.display_name || account.business_profile?.name || account.email || account.id;

export type StripeAuth = {
  /** Checks the key with Stripe; throws a ProviderError saying why it cannot be used. */
  verify(apiKey: string): Promise<StripeAccount>;
};

export const createStripeAuth = (settings: AccountingConfig['stripe']): StripeAuth => ({
  async verify(apiKey) {
    const stripe = new Stripe(apiKey, {
      ...stripeClientOptions(settings.apiUrl),
      maxNetworkRetries: 0,
      telemetry: false,
      timeout: 10_000,
    });
    const failure = (error: unknown, reading: string): ProviderError => {
      if (error instanceof Stripe.errors.StripeAuthenticationError) {
        return new ProviderError(PROVIDER, 'refused', `Stripe does not accept this key: ${firstLine(error)}`);
      }
      if (error instanceof Stripe.errors.StripePermissionError) {
        return new ProviderError(PROVIDER, 'refused', `This key may not read ${reading}; give the restricted key read access to invoices, customers, charges and credit notes`);
      }
      if (error instanceof Stripe.errors.StripeConnectionError) {
        return new ProviderError(PROVIDER, 'unreachable', `Stripe could not be reached to check the key: ${firstLine(error)}`);
      }
      if (error instanceof Stripe.errors.StripeAPIError || error instanceof Stripe.errors.StripeRateLimitError) {
        return new ProviderError(PROVIDER, 'unreachable', `Stripe could not check the key (HTTP ${error.statusCode ?? 'error'}): ${firstLine(error)}`);
      }
      if (error instanceof Stripe.errors.StripeError && (error.statusCode ?? 500) < 500) {
        return new ProviderError(PROVIDER, 'refused', `Stripe refused the key: ${firstLine(error)}`);
      }
      return new ProviderError(PROVIDER, 'unreachable', `Stripe could not check the key: ${firstLine(error)}`);
    };
    let account: Stripe.Account | null = null;
    try {
      account = await stripe.accounts.retrieveCurrent();
    } catch (error) {
      if (!(error instanceof Stripe.errors.StripePermissionError)) throw failure(error, 'the account');
    }
    try {
      // ARBridge reads invoices first of all: a key that cannot is of no use.
      await stripe.invoices.list({ limit: 1 });
    } catch (error) {
      throw failure(error, 'invoices');
    }
    return {
      accountId: account?.id ?? null,
      name: account ? accountName(account) : 'Stripe account',
      livemode: /^(sk|rk)_live_/.test(apiKey),
    };
  },
});
