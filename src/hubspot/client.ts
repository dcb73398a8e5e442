import { Client } from '@hubspot/api-client';

/**
 * One way to build a HubSpot client in this process. The SDK keeps its retry and limiter decorators in a
 * process-wide singleton that every `new Client()` overwrites, so every client here is built the same way:
 * one attempt per call, no SDK limiter. Pacing and retries (429 with Retry-After, 5xx with backoff) belong to
 * the callers that know the account's limits (see hubspot/writeback.ts).
 */
export const hubspotClient = (accessToken: string, basePath: string): Client =>
  new Client({ accessToken, basePath, numberOfApiCallRetries: 1 });

/** A portal's current access token (refreshed when near expiry); throws when the portal is not installed. */
export type TokenSource = (portalId: number) => Promise<string>;
