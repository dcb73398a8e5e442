import { startFakeQuickBooks, type FakeQuickBooks, type FakeQuickBooksOptions } from './quickbooks';
import { startFakeStripe, type FakeStripe } from './stripe';
import { startFakeXero, type FakeXero, type FakeXeroOptions } from './xero';

export { startFakeQuickBooks, startFakeStripe, startFakeXero };
export type { FakeQuickBooks, FakeStripe, FakeXero };

/** Fake Xero, QuickBooks and Stripe on loopback, and the service configuration that points at them. */
export type AccountingFakes = {
  xero: FakeXero;
  quickbooks: FakeQuickBooks;
  stripe: FakeStripe;
  /** XERO_*, QUICKBOOKS_* and STRIPE_* variables for the service (client ids and secrets included). */
  env(): Record<string, string>;
  reset(): void;
  close(): Promise<void>;
};

export const startAccountingFakes = async (options: { xero?: FakeXeroOptions; quickbooks?: FakeQuickBooksOptions } = {}): Promise<AccountingFakes> => {
  const xeroClient = { clientId: options.xero?.clientId ?? 'xero-client', clientSecret: options.xero?.clientSecret ?? 'xero-secret' };
  const qboClient = { clientId: options.quickbooks?.clientId ?? 'qbo-client', clientSecret: options.quickbooks?.clientSecret ?? 'qbo-secret' };
  const [xero, quickbooks, stripe] = await Promise.all([
    startFakeXero({ ...options.xero, ...xeroClient }),
    startFakeQuickBooks({ ...options.quickbooks, ...qboClient }),
    startFakeStripe(),
  ]);
  return {
    xero,
    quickbooks,
    stripe,
    env: () => ({
      XERO_CLIENT_ID: xeroClient.clientId,
      XERO_CLIENT_SECRET: xeroClient.clientSecret,
      XERO_IDENTITY_URL: xero.url,
      XERO_API_URL: xero.url,
      QUICKBOOKS_CLIENT_ID: qboClient.clientId,
      QUICKBOOKS_CLIENT_SECRET: qboClient.clientSecret,
      QUICKBOOKS_ENVIRONMENT: 'sandbox',
      ...quickbooks.env(),
      STRIPE_API_URL: stripe.url,
    }),
    reset: () => {
      xero.reset();
      quickbooks.reset();
      stripe.reset();
    },
    close: async () => {
      await Promise.all([xero.close(), quickbooks.close(), stripe.close()]);
    },
  };
};
