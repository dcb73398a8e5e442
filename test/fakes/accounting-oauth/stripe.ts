import crypto from 'node:crypto';
import { bearer, FakeHttpServer, json, type FakeReply, type LoggedCall } from './http';

/**
 * A fake Stripe API on 127.0.0.1 answering what a key check reads, in Stripe's shapes: `GET /v1/account`
 * and `GET /v1/invoices`. Keys are registered with their account and permissions; an unknown key gets
 * Stripe's 401, a restricted key without a permission its 403 (both with Stripe's masked key in the message).
 */

export type FakeStripeKey = {
  account: { id: string; displayName?: string; businessName?: string; email?: string };
  /** A restricted key's permissions; a secret key may read everything. */
  canReadAccount?: boolean;
  canReadInvoices?: boolean;
};

export type FakeStripe = {
  url: string;
  calls: LoggedCall[];
  count(path: string | RegExp): number;
  failNext(route: 'account' | 'invoices', reply: FakeReply): void;
  addKey(key: string, spec: FakeStripeKey): void;
  /** The API keys each call authenticated with, in order. */
  keysSeen(): string[];
  reset(): void;
  close(): Promise<void>;
};

const masked = (key: string): string => `${key.slice(0, 8)}${'*'.repeat(Math.max(0, key.length - 12))}${key.slice(-4)}`;

const stripeError = (status: number, message: string, extra: Record<string, unknown> = {}): FakeReply =>
  json(status, { error: { message, type: 'invalid_request_error', ...extra } }, { 'Request-Id': `req_${crypto.randomBytes(7).toString('hex')}` });

export const startFakeStripe = async (): Promise<FakeStripe> => {
  const server = new FakeHttpServer();
  await server.listen();
  const keys = new Map<string, FakeStripeKey>();
  let seen: string[] = [];

  const authorize = (authorization: string | undefined, permission: 'canReadAccount' | 'canReadInvoices', resource: string): FakeReply | FakeStripeKey => {
    const key = bearer(authorization) ?? '';
    seen.push(key);
    const spec = keys.get(key);
    if (!spec) return stripeError(401, `Invalid API Key provided: ${masked(key)}`);
    if (spec[permission] === false) {
      return stripeError(403, `The provided key '${masked(key)}' does not have the required permissions for this endpoint on account '${spec.account.id}'. `
        + `Having the '${resource}' permission would allow this request to continue.`);
    }
    return spec;
  };
  const isReply = (value: FakeReply | FakeStripeKey): value is FakeReply => value === 'drop' || 'status' in value;

  server.route('GET', /^\/v1\/account$/, 'account', (req) => {
    const spec = authorize(req.headers.authorization, 'canReadAccount', 'rak_accounts_kyc_basic_read');
    if (isReply(spec)) return spec;
    const { id, displayName, businessName, email } = spec.account;
    return json(200, {
      id, object: 'account', type: 'standard', country: 'US', default_currency: 'usd', email: email ?? null,
      business_profile: { name: businessName ?? null, url: null, support_email: null },
      settings: { dashboard: { display_name: displayName ?? null, timezone: 'Etc/UTC' } },
      charges_enabled: true, payouts_enabled: true, details_submitted: true, created: 1_700_000_000,
    });
  });

  server.route('GET', /^\/v1\/invoices$/, 'invoices', (req) => {
    const spec = authorize(req.headers.authorization, 'canReadInvoices', 'rak_invoice_read');
    if (isReply(spec)) return spec;
    const limit = Number(req.query.get('limit') ?? 10);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) return stripeError(400, 'Invalid integer: limit', { param: 'limit' });
    return json(200, { object: 'list', data: [], has_more: false, url: '/v1/invoices' });
  });

  return {
    get url() { return server.url; },
    calls: server.calls,
    count: (path) => server.count(path),
    failNext: (route, reply) => server.failNext(route, reply),
    addKey: (key, spec) => { keys.set(key, spec); },
    keysSeen: () => [...seen],
    reset: () => {
      server.calls.length = 0;
      server.clearFailures();
      seen = [];
    },
    close: () => server.close(),
  };
};
