import { createQuickBooksAuth } from '../accounting/quickbooks-auth';
import { createXeroAuth } from '../accounting/xero-auth';
import type { Config } from '../config';
import {
  createHubSpotConnector, cumulativeOfPaymentId, HUBSPOT_SOURCE, PAID_PREFIX, type HubSpotConnector, type HubSpotConnectorOptions, type RecordedInvoice,
} from '../connectors/hubspot';
import { createQuickBooksConnector, verifyQuickBooksWebhook } from '../connectors/quickbooks';
import { createStripeConnector, verifyStripeWebhook } from '../connectors/stripe';
import { createXeroConnector, verifyXeroWebhook } from '../connectors/xero';
import type { AccountingConnector, AccountingSourceName, WebhookVerifier } from '../connectors/types';
import type { Logger } from '../logger';
import type { Db } from '../store/database';
import { accessTokenFor, reconnectMessage, storedConnection, stripeKeyFor } from './credentials';
import { PROVIDER_LABELS } from './engine';

/**
 * Which connector reads a portal's connection to a source. Each source's folder (src/connectors/<source>/)
 * exports a factory `create<Source>Connector(options)` and `verify<Source>Webhook(secret)`; the registry gives a
 * connector what it needs: the connection's tenant, the configured API origin, and a `credentials()` function
 * that answers a valid access token or key (refreshing and persisting rotated tokens, see credentials.ts).
 */

export type ConnectorOptions = {
  portalId: number;
  /** The Stripe account, Xero tenant or QuickBooks realm of the connection. */
  tenantId: string | null;
  /** A valid access token (Xero, QuickBooks) or API key (Stripe); call it before each request or page. */
  credentials: () => Promise<string>;
  /** The source's API origin (STRIPE_API_URL, XERO_API_URL, QUICKBOOKS_API_URL). */
  apiUrl: string;
  config: Config['accounting'];
  logger?: Logger;
};

export type ConnectorFactory = (options: ConnectorOptions) => AccountingConnector;

export type ConnectorContext = {
  db: Db;
  /** The key that opens stored credentials. */
  key: Buffer;
  portalId: number;
  config: Pick<Config, 'accounting' | 'publicUrl'>;
  logger?: Logger;
  /** Factories to use instead of the connectors' own (a test's scripted source). */
  factories?: Partial<Record<AccountingSourceName, ConnectorFactory>>;
};

export class ConnectorUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectorUnavailableError';
  }
}

/**
 * The connectors of the sources, from the registry's options. A Stripe connection is a key of the account itself,
 * so its requests act for no other account (no Stripe-Account header); the account id stored with the connection
 * names it for webhook routing. Xero reads one organisation, QuickBooks one company (realm).
 */
const BUILT_IN: Readonly<Record<AccountingSourceName, ConnectorFactory>> = {
  stripe: (o) => createStripeConnector({ credentials: o.credentials, apiUrl: o.apiUrl, tenantId: null }),
  xero: (o) => {
    if (!o.tenantId) throw new ConnectorUnavailableError(`The Xero connection of portal ${o.portalId} names no organisation; ${reconnectMessage('xero')}`);
    return createXeroConnector({ apiUrl: o.apiUrl, tenantId: o.tenantId, credentials: o.credentials });
  },
  quickbooks: (o) => {
    if (!o.tenantId) throw new ConnectorUnavailableError(`The QuickBooks connection of portal ${o.portalId} names no company; ${reconnectMessage('quickbooks')}`);
    return createQuickBooksConnector({ apiUrl: o.apiUrl, realmId: o.tenantId, credentials: o.credentials });
  },
};

/** The API origin each source is read at. */
const apiUrlOf = (config: Config['accounting'], source: AccountingSourceName): string => config[source].apiUrl;

/** The credentials function of a connection: the Stripe key, or a Xero / QuickBooks access token kept fresh. */
export const credentialsFor = (ctx: ConnectorContext, source: AccountingSourceName): (() => Promise<string>) => {
  const { db, key, portalId, config } = ctx;
  if (source === 'stripe') return () => stripeKeyFor(db, key, portalId);
  if (source === 'xero') {
    const auth = createXeroAuth({ ...config.accounting.xero, redirectUri: `${config.publicUrl}/oauth/xero/callback` });
    return () => accessTokenFor(db, key, portalId, 'xero', auth);
  }
  const auth = createQuickBooksAuth({ ...config.accounting.quickbooks, redirectUri: `${config.publicUrl}/oauth/quickbooks/callback` });
  return () => accessTokenFor(db, key, portalId, 'quickbooks', auth);
};

/**
 * The connector for the portal's connection to `source`. Throws ConnectorUnavailableError when the source's
 * connector is missing, and when the portal has no usable connection (never connected, or disconnected).
 */
export const connectorFor = async (source: AccountingSourceName, ctx: ConnectorContext): Promise<AccountingConnector> => {
  const connection = await storedConnection(ctx.db, ctx.key, ctx.portalId, source);
  if (!connection || connection.status === 'disconnected' || connection.credentials === null) {
    throw new ConnectorUnavailableError(
      `${PROVIDER_LABELS[source]} is not connected for portal ${ctx.portalId}; ${source === 'stripe' ? 'run `arbridge connect stripe --key rk_…` or ' : ''}${reconnectMessage(source).replace(/^reconnect/, 'connect it')}`,
    );
  }
  const factory = ctx.factories?.[source] ?? BUILT_IN[source];
  return factory({
    portalId: ctx.portalId,
    tenantId: connection.tenantId,
    credentials: credentialsFor(ctx, source),
    apiUrl: apiUrlOf(ctx.config.accounting, source),
    config: ctx.config.accounting,
    ...(ctx.logger ? { logger: ctx.logger } : {}),
  });
};

/** What the store holds of HubSpot invoices: their currency and the cumulative amounts of their `hs-paid:` payments. */
export const recordedHubSpotInvoices = (db: Db, portalId: number) => async (invoiceIds: readonly string[]): Promise<Map<string, RecordedInvoice>> => {
  const found = new Map<string, { currency: string; paidCumulatives: number[] }>();
  if (invoiceIds.length === 0) return found;
  const rows = await db.selectFrom('invoices as i')
    .leftJoin('payment_allocations as a', 'a.invoice_id', 'i.id')
    .leftJoin('payments as p', (join) => join.onRef('p.id', '=', 'a.payment_id')
      .on('p.source', '=', HUBSPOT_SOURCE).on('p.external_id', 'like', `${PAID_PREFIX}%`))
    .select(['i.external_id as invoice', 'i.currency', 'p.external_id as payment'])
    .where('i.portal_id', '=', portalId).where('i.source', '=', HUBSPOT_SOURCE).where('i.external_id', 'in', [...invoiceIds])
    .execute();
  for (const row of rows) {
    const entry = found.get(row.invoice) ?? { currency: row.currency, paidCumulatives: [] };
    found.set(row.invoice, entry);
    const cumulative = row.payment === null ? null : cumulativeOfPaymentId(row.invoice, row.payment);
    if (cumulative !== null) entry.paidCumulatives.push(cumulative);
  }
  return found;
};

/**
 * The connector of a portal's HubSpot invoice object (source `hubspot`): no accounting connection, read with the
 * portal's HubSpot token (`credentials`), with the store's view of the derived payments it compares against.
 */
export const hubspotConnectorFor = (
  db: Db, portalId: number, options: Omit<HubSpotConnectorOptions, 'recorded'>,
): HubSpotConnector => createHubSpotConnector({ ...options, recorded: recordedHubSpotInvoices(db, portalId) });

const VERIFIERS: Readonly<Record<AccountingSourceName, (secret: string) => WebhookVerifier>> = {
  stripe: (secret) => verifyStripeWebhook(secret), xero: verifyXeroWebhook, quickbooks: verifyQuickBooksWebhook,
};

/** The webhook verifier of each source whose secret is configured; the others' endpoints answer 404. */
export const webhookVerifiers = (
  secrets: Readonly<Record<AccountingSourceName, string | null>>,
): Partial<Record<AccountingSourceName, WebhookVerifier>> => {
  const verifiers: Partial<Record<AccountingSourceName, WebhookVerifier>> = {};
  for (const source of Object.keys(VERIFIERS) as AccountingSourceName[]) {
    const secret = secrets[source];
    if (secret !== null) verifiers[source] = VERIFIERS[source](secret);
  }
  return verifiers;
};
