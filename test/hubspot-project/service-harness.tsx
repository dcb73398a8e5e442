/// <reference types="node" />
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { hubspot } from '@hubspot/ui-extensions';
import { loadConfig } from '../../src/config.ts';
import { createApp } from '../../src/http/app.ts';
import { signHubSpotV3 } from '../../src/hubspot/signature.ts';
import { createLogger } from '../../src/logger.ts';
import { openStore, type Store } from '../../src/store/store.ts';

// The real ARBridge service as the cards meet it: an in-memory PGlite store, the express app listening on loopback,
// and the `hubspot.fetch` HubSpot's proxy performs before a card's request reaches it. Used by the end-to-end card
// tests and by `npm run cards:preview`; nothing here depends on jest.

export const PUBLIC_URL = 'https://arbridge.example.com';
export const APP_ID = 5_550_001;

export type Service = { store: Store; origin: string; close: () => Promise<void> };

/**
 * Opens an in-memory PGlite store with its migrations applied. The migrations folder is named here: this file
 * runs as an ES module, where the store's own lookup (beside its CommonJS module) does not apply.
 */
const openMigratedPGlite = (): Promise<Store> =>
  openStore({ kind: 'pglite', dataDir: null }, { migrationsDir: fileURLToPath(new URL('../../src/store/migrations', import.meta.url)) });

/**
 * Opens a migrated in-memory PGlite store, lets `seed` fill it, and serves the app on 127.0.0.1 (an ephemeral
 * port) with the configuration the service would load: the client secret that verifies card requests, the public
 * URL HubSpot calls, and a private app for `portalId` (so that portal is served).
 */
export const startService = async (
  options: { clientSecret: string; portalId: number; today: string; seed: (store: Store) => Promise<void> },
): Promise<Service> => {
  const store = await openMigratedPGlite();
  try {
    await options.seed(store);
    const config = loadConfig({
      HUBSPOT_CLIENT_SECRET: options.clientSecret,
      ARBRIDGE_PUBLIC_URL: PUBLIC_URL,
      HUBSPOT_ACCESS_TOKEN: 'pat-e2e-not-a-token',
      HUBSPOT_PORTAL_ID: String(options.portalId),
      LOG_LEVEL: 'silent',
    });
    const app = createApp({ db: store.db, config, logger: createLogger(config.logLevel), today: () => options.today });
    const server: Server = await new Promise((resolve, reject) => {
      const s = app.listen(0, '127.0.0.1', (error?: Error) => (error ? reject(error) : resolve(s)));
    });
    const { port } = server.address() as AddressInfo;
    return {
      store,
      origin: `http://127.0.0.1:${port}`,
      close: async () => {
        await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
};

/** Who the card runs for, as the renderer's context says (HubSpot's proxy reads the same). */
export type ProxyContext = () => { portalId: number; userId: number; userEmail: string };

export type ProxiedRequest = {
  method: string;
  /** The URL the service was told HubSpot called (the card's URL plus the proxy's parameters). */
  publicUrl: string;
  status: number;
};

/**
 * HubSpot's proxy as a `hubspot.fetch` implementation: only URLs under the public URL are allowed; the proxy appends
 * appId, portalId, userId and userEmail to the query, serializes the body as JSON, signs method + full URL + body
 * + timestamp with `clientSecret` (v3), and sends the request to `origin` over loopback, returning its Response.
 * Each answered request is appended to `requests`.
 */
export const hubspotProxy = (
  origin: string, clientSecret: string, context: ProxyContext, requests: ProxiedRequest[] = [],
): typeof hubspot.fetch => async (url, options) => {
  const cardUrl = String(url);
  if (!cardUrl.startsWith(`${PUBLIC_URL}/`)) throw new TypeError(`hubspot.fetch: ${cardUrl} is not a permitted URL`);
  const { portalId, userId, userEmail } = context();
  const added = `appId=${APP_ID}&portalId=${portalId}&userId=${userId}&userEmail=${encodeURIComponent(userEmail)}`;
  const publicUrl = `${cardUrl}${cardUrl.includes('?') ? '&' : '?'}${added}`;
  const method = options?.method ?? 'GET';
  const rawBody = options?.body === undefined ? '' : JSON.stringify(options.body);
  const timestamp = String(Date.now());
  const signature = signHubSpotV3({ method, url: publicUrl, rawBody, timestamp, clientSecret });
  const headers: Record<string, string> = {
    'X-HubSpot-Signature-v3': signature,
    'X-HubSpot-Request-Timestamp': timestamp,
    Accept: 'application/json',
  };
  if (rawBody !== '') headers['Content-Type'] = 'application/json';
  const response = await fetch(`${origin}${publicUrl.slice(PUBLIC_URL.length)}`, {
    method, headers, ...(rawBody === '' ? {} : { body: rawBody }),
  });
  requests.push({ method, publicUrl, status: response.status });
  return response;
};
