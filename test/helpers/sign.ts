import { Signature } from '@hubspot/api-client';
import type { Express } from 'express';
import request from 'supertest';

/**
 * The v3 signature HubSpot's own SDK computes (`Signature.getSignature`), so tests sign requests
 * independently of the verifier they test.
 */
export const sdkSignV3 = (input: { method: string; url: string; body: string; timestamp: number; secret: string }): string =>
  Signature.getSignature(input.method, 'v3', {
    signature: '', clientSecret: input.secret, requestBody: input.body, url: input.url, timestamp: input.timestamp,
  });

export type SignedCall = {
  method: 'GET' | 'POST';
  /** Path and query, as sent (e.g. `/api/v1/cards/company?objectId=1&portalId=101`). */
  path: string;
  /** Raw JSON body sent (POST). */
  body?: string;
  secret: string;
  /** The public origin the service is configured with; HubSpot signs publicUrl + path. */
  publicUrl: string;
  /** Milliseconds since the epoch (default: now). */
  timestamp?: number;
  /** Sign these instead of what is sent (tampering). */
  signedPath?: string;
  signedBody?: string;
  headers?: Record<string, string>;
};

/** Sends a request to the app with HubSpot's v3 signature headers, as HubSpot's proxy would. */
export const signedRequest = (app: Express, call: SignedCall): request.Test => {
  const timestamp = call.timestamp ?? Date.now();
  const body = call.body ?? '';
  const signature = sdkSignV3({
    method: call.method, url: call.publicUrl + (call.signedPath ?? call.path), body: call.signedBody ?? body, timestamp, secret: call.secret,
  });
  const agent = request(app);
  let req = call.method === 'GET' ? agent.get(call.path) : agent.post(call.path);
  req = req.set('X-HubSpot-Signature-v3', signature).set('X-HubSpot-Request-Timestamp', String(timestamp));
  for (const [name, value] of Object.entries(call.headers ?? {})) req = req.set(name, value);
  if (call.method === 'POST') req = req.set('Content-Type', 'application/json').send(body);
  return req;
};

/** A card query string with the parameters HubSpot's proxy adds. */
export const cardQuery = (params: Record<string, string | number>, proxy: { portalId: number; userId?: number; userEmail?: string; appId?: number }): string => {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) search.append(k, String(v));
  search.append('appId', String(proxy.appId ?? 12345));
  search.append('portalId', String(proxy.portalId));
  search.append('userId', String(proxy.userId ?? 777));
  search.append('userEmail', proxy.userEmail ?? 'rep@example.com');
  return search.toString();
};
