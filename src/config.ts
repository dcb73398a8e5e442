import path from 'node:path';
import { z } from 'zod';

const Env = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  ARBRIDGE_DATA_DIR: z.string().min(1).default('.arbridge-data'),
  DATABASE_URL: z.string().url().optional(),
  DATABASE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'lower-case letters, digits and _').optional(),
  ARBRIDGE_PORTAL_ID: z.coerce.number().int().positive().default(1),
  ARBRIDGE_DEMO: z.enum(['auto', 'off']).default('auto'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ARBRIDGE_PUBLIC_URL: z.string().url().optional(),
  ARBRIDGE_SECRET_KEY: z.string().optional(),
  HUBSPOT_CLIENT_ID: z.string().min(1).optional(),
  HUBSPOT_CLIENT_SECRET: z.string().min(1).optional(),
  HUBSPOT_SCOPES: z.string().min(1).optional(),
  HUBSPOT_API_BASE_URL: z.string().url().default('https://api.hubapi.com'),
  HUBSPOT_AUTHORIZE_URL: z.string().url().default('https://app.hubspot.com/oauth/authorize'),
  HUBSPOT_ACCESS_TOKEN: z.string().min(1).optional(),
  HUBSPOT_PORTAL_ID: z.coerce.number().int().positive().optional(),
  HUBSPOT_CALLS_PER_10S: z.coerce.number().int().min(1).max(10_000).optional(),
  HUBSPOT_PUSH_INTERVAL_MINUTES: z.coerce.number().int().min(0).max(24 * 60).default(15),
  XERO_CLIENT_ID: z.string().min(1).optional(),
  XERO_CLIENT_SECRET: z.string().min(1).optional(),
  XERO_SCOPES: z.string().min(1).optional(),
  XERO_IDENTITY_URL: z.string().url().default('https://identity.xero.com'),
  XERO_API_URL: z.string().url().default('https://api.xero.com'),
  QUICKBOOKS_CLIENT_ID: z.string().min(1).optional(),
  QUICKBOOKS_CLIENT_SECRET: z.string().min(1).optional(),
  QUICKBOOKS_SCOPES: z.string().min(1).optional(),
  QUICKBOOKS_ENVIRONMENT: z.enum(['sandbox', 'production']).default('production'),
  QUICKBOOKS_AUTHORIZE_URL: z.string().url().default('https://appcenter.intuit.com/connect/oauth2'),
  QUICKBOOKS_TOKEN_URL: z.string().url().default('https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer'),
  QUICKBOOKS_REVOKE_URL: z.string().url().default('https://developer.api.intuit.com/v2/oauth2/tokens/revoke'),
  QUICKBOOKS_API_URL: z.string().url().optional(),
  STRIPE_API_URL: z.string().url().default('https://api.stripe.com'),
  STRIPE_WEBHOOK_SECRET: z.string().min(1).optional(),
  XERO_WEBHOOK_KEY: z.string().min(1).optional(),
  QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN: z.string().min(1).optional(),
  ARBRIDGE_SYNC_INTERVAL_MINUTES: z.coerce.number().int().min(0).max(24 * 60).default(15),
  ARBRIDGE_HEALTH_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
});

/** The scopes the app asks for at install (the same list as app-config/app/app-hsmeta.json's requiredScopes). */
export const HUBSPOT_DEFAULT_SCOPES = [
  'oauth',
  'crm.objects.companies.read',
  'crm.objects.companies.write',
  'crm.objects.deals.read',
  'crm.objects.deals.write',
  'crm.schemas.companies.read',
  'crm.schemas.companies.write',
  'crm.schemas.deals.read',
  'crm.schemas.deals.write',
  'crm.objects.invoices.read',
  'crm.schemas.invoices.read',
  'crm.objects.owners.read',
  'crm.objects.contacts.read',
  'crm.objects.contacts.write',
] as const;

/** What ARBridge asks Xero for: sign-in, a refresh token, and read access to sales invoices, payments, contacts and settings. */
export const XERO_DEFAULT_SCOPES = [
  'openid', 'profile', 'email', 'offline_access',
  'accounting.invoices.read', 'accounting.payments.read', 'accounting.contacts.read', 'accounting.settings.read',
] as const;

/** QuickBooks Online has one accounting scope (read and write). */
export const QUICKBOOKS_DEFAULT_SCOPES = ['com.intuit.quickbooks.accounting'] as const;

/** A 32-byte key given as 64 hex digits or base64 (44 characters with padding). */
export const parseSecretKey = (text: string): Buffer => {
  const trimmed = text.trim();
  const hex = /^[0-9a-fA-F]{64}$/.test(trimmed);
  const key = hex ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32 || (!hex && key.toString('base64') !== trimmed)) {
    throw new Error('ARBRIDGE_SECRET_KEY must be 32 random bytes as 64 hex digits or base64 (openssl rand -base64 32)');
  }
  return key;
};

/**
 * How the service talks to HubSpot. OAuth (several portals, tokens stored encrypted per portal) when a client
 * id and secret are set; a private app's static token for one portal when HUBSPOT_ACCESS_TOKEN is set; both
 * may be set (the private portal then uses its token). `clientSecret` also keys the v3 signatures of card
 * requests and webhooks.
 */
export type HubSpotConfig = Readonly<{
  clientId: string | null;
  clientSecret: string | null;
  scopes: readonly string[];
  apiBaseUrl: string;
  authorizeUrl: string;
  privateApp: Readonly<{ accessToken: string; portalId: number }> | null;
  /** The account's burst limit in calls per 10 s; the write-back paces itself below it. */
  callsPer10s: number;
  /** Minutes between scheduled write-back rounds in the service; 0 turns the schedule off. */
  pushIntervalMinutes: number;
}>;

/**
 * The accounting systems a portal can connect from the connect page (/connect). Xero and QuickBooks are OAuth
 * apps, offered when their client id and secret are set; Stripe takes a pasted API key and is always offered.
 * The URLs are the providers' own by default; tests point them at fakes.
 */
export type AccountingConfig = Readonly<{
  xero: Readonly<{
    clientId: string | null;
    clientSecret: string | null;
    scopes: readonly string[];
    /** The OpenID issuer; its discovery document names the authorize, token and revocation endpoints. */
    identityUrl: string;
    /** Origin of the connections endpoint and the accounting API. */
    apiUrl: string;
  }>;
  quickbooks: Readonly<{
    clientId: string | null;
    clientSecret: string | null;
    scopes: readonly string[];
    environment: 'sandbox' | 'production';
    authorizeUrl: string;
    tokenUrl: string;
    revokeUrl: string;
    /** Origin of the accounting API (CompanyInfo). */
    apiUrl: string;
  }>;
  stripe: Readonly<{ apiUrl: string }>;
}>;

/** Syncing the accounting systems: the schedule, the webhook secrets, and who may read /healthz details. */
export type SyncConfig = Readonly<{
  /** Minutes between scheduled incremental pulls of each connection; 0 turns the schedule off. */
  intervalMinutes: number;
  /** The secret each source signs its webhooks with; a source without one has no webhook endpoint. */
  webhookSecrets: Readonly<{ stripe: string | null; xero: string | null; quickbooks: string | null }>;
  /** The bearer token that opens `GET /healthz?details=1` in production. */
  healthToken: string | null;
}>;

export type Config = Readonly<{
  env: 'development' | 'test' | 'production';
  port: number;
  host: string;
  /** Where the embedded store lives when DATABASE_URL is not set. */
  dataDir: string;
  databaseUrl: string | null;
  databaseSchema: string | null;
  /** The portal the CLI works on, and the development default for HTTP requests without a portal header. */
  defaultPortalId: number;
  /** 'auto' loads the demo portfolio when the store is empty on start. */
  demo: 'auto' | 'off';
  logLevel: string;
  /** The origin HubSpot reaches the service at (signed URLs, OAuth redirect, permitted fetch URL). */
  publicUrl: string;
  /** The key that encrypts tokens at rest; null only outside production. */
  secretKey: Buffer | null;
  hubspot: HubSpotConfig;
  accounting: AccountingConfig;
  sync: SyncConfig;
}>;

/** Reads the environment once, validated; a bad value stops the process with the variable named. */
export const loadConfig = (env: NodeJS.ProcessEnv = process.env): Config => {
  const parsed = Env.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  if ((e.HUBSPOT_ACCESS_TOKEN === undefined) !== (e.HUBSPOT_PORTAL_ID === undefined)) {
    throw new Error('Invalid configuration: HUBSPOT_ACCESS_TOKEN and HUBSPOT_PORTAL_ID go together (the private app\'s token and its portal)');
  }
  if ((e.HUBSPOT_CLIENT_ID === undefined) !== (e.HUBSPOT_CLIENT_SECRET === undefined) && e.HUBSPOT_CLIENT_ID !== undefined) {
    throw new Error('Invalid configuration: HUBSPOT_CLIENT_ID needs HUBSPOT_CLIENT_SECRET');
  }
  for (const [id, secret, name] of [
    [e.XERO_CLIENT_ID, e.XERO_CLIENT_SECRET, 'XERO'],
    [e.QUICKBOOKS_CLIENT_ID, e.QUICKBOOKS_CLIENT_SECRET, 'QUICKBOOKS'],
  ] as const) {
    if ((id === undefined) !== (secret === undefined)) {
      throw new Error(`Invalid configuration: ${name}_CLIENT_ID and ${name}_CLIENT_SECRET go together (the app's credentials)`);
    }
  }
  if (e.NODE_ENV === 'production') {
    if (e.ARBRIDGE_SECRET_KEY === undefined) {
      throw new Error('Invalid configuration: ARBRIDGE_SECRET_KEY is required in production (it encrypts stored tokens)');
    }
    if (e.HUBSPOT_CLIENT_SECRET === undefined) {
      throw new Error('Invalid configuration: HUBSPOT_CLIENT_SECRET is required in production (it verifies HubSpot\'s signed requests)');
    }
    if (e.ARBRIDGE_PUBLIC_URL === undefined) {
      throw new Error('Invalid configuration: ARBRIDGE_PUBLIC_URL is required in production (the https origin HubSpot calls)');
    }
  }
  let secretKey: Buffer | null = null;
  if (e.ARBRIDGE_SECRET_KEY !== undefined) {
    try {
      secretKey = parseSecretKey(e.ARBRIDGE_SECRET_KEY);
    } catch (error) {
      throw new Error(`Invalid configuration: ${(error as Error).message}`);
    }
  }
  const privateApp = e.HUBSPOT_ACCESS_TOKEN !== undefined && e.HUBSPOT_PORTAL_ID !== undefined
    ? Object.freeze({ accessToken: e.HUBSPOT_ACCESS_TOKEN, portalId: e.HUBSPOT_PORTAL_ID })
    : null;
  const publicUrl = (e.ARBRIDGE_PUBLIC_URL ?? `http://${e.HOST === '0.0.0.0' ? '127.0.0.1' : e.HOST}:${e.PORT}`).replace(/\/+$/, '');
  return Object.freeze({
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    dataDir: path.resolve(e.ARBRIDGE_DATA_DIR),
    databaseUrl: e.DATABASE_URL ?? null,
    databaseSchema: e.DATABASE_SCHEMA ?? null,
    defaultPortalId: e.ARBRIDGE_PORTAL_ID,
    demo: e.ARBRIDGE_DEMO,
    logLevel: e.LOG_LEVEL,
    publicUrl,
    secretKey,
    hubspot: Object.freeze({
      clientId: e.HUBSPOT_CLIENT_ID ?? null,
      clientSecret: e.HUBSPOT_CLIENT_SECRET ?? null,
      scopes: Object.freeze(e.HUBSPOT_SCOPES ? e.HUBSPOT_SCOPES.split(/[\s,]+/).filter(Boolean) : [...HUBSPOT_DEFAULT_SCOPES]),
      apiBaseUrl: e.HUBSPOT_API_BASE_URL.replace(/\/+$/, ''),
      authorizeUrl: e.HUBSPOT_AUTHORIZE_URL,
      privateApp,
      callsPer10s: e.HUBSPOT_CALLS_PER_10S ?? (privateApp && !e.HUBSPOT_CLIENT_ID ? 100 : 110),
      pushIntervalMinutes: e.HUBSPOT_PUSH_INTERVAL_MINUTES,
    }),
    accounting: Object.freeze({
      xero: Object.freeze({
        clientId: e.XERO_CLIENT_ID ?? null,
        clientSecret: e.XERO_CLIENT_SECRET ?? null,
        scopes: Object.freeze(e.XERO_SCOPES ? e.XERO_SCOPES.split(/[\s,]+/).filter(Boolean) : [...XERO_DEFAULT_SCOPES]),
        identityUrl: e.XERO_IDENTITY_URL.replace(/\/+$/, ''),
        apiUrl: e.XERO_API_URL.replace(/\/+$/, ''),
      }),
      quickbooks: Object.freeze({
        clientId: e.QUICKBOOKS_CLIENT_ID ?? null,
        clientSecret: e.QUICKBOOKS_CLIENT_SECRET ?? null,
        scopes: Object.freeze(e.QUICKBOOKS_SCOPES ? e.QUICKBOOKS_SCOPES.split(/[\s,]+/).filter(Boolean) : [...QUICKBOOKS_DEFAULT_SCOPES]),
        environment: e.QUICKBOOKS_ENVIRONMENT,
        authorizeUrl: e.QUICKBOOKS_AUTHORIZE_URL,
        tokenUrl: e.QUICKBOOKS_TOKEN_URL,
        revokeUrl: e.QUICKBOOKS_REVOKE_URL,
        apiUrl: (e.QUICKBOOKS_API_URL
          ?? (e.QUICKBOOKS_ENVIRONMENT === 'sandbox' ? 'https://sandbox-quickbooks.api.intuit.com' : 'https://quickbooks.api.intuit.com')).replace(/\/+$/, ''),
      }),
      stripe: Object.freeze({ apiUrl: e.STRIPE_API_URL.replace(/\/+$/, '') }),
    }),
    sync: Object.freeze({
      intervalMinutes: e.ARBRIDGE_SYNC_INTERVAL_MINUTES,
      webhookSecrets: Object.freeze({
        stripe: e.STRIPE_WEBHOOK_SECRET ?? null, xero: e.XERO_WEBHOOK_KEY ?? null, quickbooks: e.QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN ?? null,
      }),
      healthToken: e.ARBRIDGE_HEALTH_TOKEN ?? null,
    }),
  });
};
