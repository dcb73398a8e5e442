import crypto from 'node:crypto';

// HubSpot's v3 request signature (X-HubSpot-Signature-v3 and X-HubSpot-Request-Timestamp): the base64
// HMAC-SHA256, keyed with the app's client secret, of method + full URL + raw body + timestamp (UTF-8, no
// separators). Card requests through hubspot.fetch and webhook deliveries both carry it.

export const SIGNATURE_HEADER = 'x-hubspot-signature-v3';
export const TIMESTAMP_HEADER = 'x-hubspot-request-timestamp';

/** How far a request timestamp may lie from our clock, either way (HubSpot's limit is 5 minutes old). */
export const MAX_SIGNATURE_SKEW_MS = 300_000;

export type SignatureFailure =
  | 'missing_signature'
  | 'missing_timestamp'
  | 'malformed_timestamp'
  | 'stale_timestamp'
  | 'future_timestamp'
  | 'malformed_signature'
  | 'signature_mismatch';

export type SignatureCheck = { ok: true } | { ok: false; reason: SignatureFailure };

/** What each failure means, in words fit for an error response (never the signature or the secret). */
export const SIGNATURE_FAILURE_MESSAGES: Readonly<Record<SignatureFailure, string>> = {
  missing_signature: 'Header X-HubSpot-Signature-v3 is missing',
  missing_timestamp: 'Header X-HubSpot-Request-Timestamp is missing',
  malformed_timestamp: 'Header X-HubSpot-Request-Timestamp is not a time in milliseconds',
  stale_timestamp: 'Header X-HubSpot-Request-Timestamp is more than 5 minutes old',
  future_timestamp: 'Header X-HubSpot-Request-Timestamp is more than 5 minutes ahead',
  malformed_signature: 'Header X-HubSpot-Signature-v3 is not a base64 HMAC-SHA256',
  signature_mismatch: 'Header X-HubSpot-Signature-v3 does not match the request',
};

// HubSpot's request-validation guide has the URI's escapes of these characters decoded before signing.
const DECODED: Readonly<Record<string, string>> = {
  '%3A': ':', '%2F': '/', '%3F': '?', '%40': '@', '%21': '!', '%24': '$',
  '%27': "'", '%28': '(', '%29': ')', '%2A': '*', '%2C': ',', '%3B': ';',
};
const DECODED_ESCAPES = /%3A|%2F|%3F|%40|%21|%24|%27|%28|%29|%2A|%2C|%3B/gi;

/** The URI with the escapes HubSpot's guide lists (`%3A %2F %3F %40 %21 %24 %27 %28 %29 %2A %2C %3B`) decoded. */
export const decodeSignedUri = (url: string): string =>
  url.replace(DECODED_ESCAPES, (escape) => DECODED[escape.toUpperCase()] ?? escape);

export type SignInput = { method: string; url: string; rawBody: string; timestamp: string; clientSecret: string };

/** The v3 signature of a request, for the URL exactly as given (tests and tools sign with it). */
export const signHubSpotV3 = ({ method, url, rawBody, timestamp, clientSecret }: SignInput): string =>
  crypto.createHmac('sha256', clientSecret).update(`${method}${url}${rawBody}${timestamp}`, 'utf8').digest('base64');

// A SHA-256 HMAC is 32 bytes: 44 base64 characters, the last one padding.
const BASE64_SHA256 = /^[A-Za-z0-9+/]{43}=$/;
const TIMESTAMP = /^\d{1,16}$/;

const sameText = (expected: string, given: Buffer): boolean => {
  const wanted = Buffer.from(expected, 'utf8');
  return wanted.length === given.length && crypto.timingSafeEqual(wanted, given);
};

export type VerifyInput = {
  method: string;
  /** The full URL HubSpot called: scheme, host, path and query string, as received. */
  url: string;
  /** The raw request body ('' when there is none). */
  rawBody: string;
  signature: string | undefined;
  timestamp: string | undefined;
  clientSecret: string;
  /** Our clock, in milliseconds since the epoch. */
  now: number;
};

/**
 * Verifies a v3 signature: the timestamp lies within 5 minutes of `now` (either way), and the signature
 * equals the HMAC of the request, compared in constant time. Two forms of the URL are tried: HubSpot's
 * request-validation guide decodes a list of escapes in the URI before signing, while the signature helper
 * of @hubspot/api-client (`Signature.isValid`) signs the URL exactly as received. A request signed either
 * way verifies. The escapes decoded are never `%26` (&), `%3D` (=), `%23` (#) or `%25` (%), so the decoded
 * form cannot split or join query parameters; a forger still needs the client secret for either form.
 */
export const verifyHubSpotSignatureV3 = (input: VerifyInput): SignatureCheck => {
  const { signature, timestamp } = input;
  if (signature === undefined || signature === '') return { ok: false, reason: 'missing_signature' };
  if (timestamp === undefined || timestamp === '') return { ok: false, reason: 'missing_timestamp' };
  if (!TIMESTAMP.test(timestamp)) return { ok: false, reason: 'malformed_timestamp' };
  const age = input.now - Number(timestamp);
  if (age > MAX_SIGNATURE_SKEW_MS) return { ok: false, reason: 'stale_timestamp' };
  if (-age > MAX_SIGNATURE_SKEW_MS) return { ok: false, reason: 'future_timestamp' };
  if (!BASE64_SHA256.test(signature)) return { ok: false, reason: 'malformed_signature' };
  const given = Buffer.from(signature, 'utf8');
  const sign = (url: string): string =>
    signHubSpotV3({ method: input.method, url, rawBody: input.rawBody, timestamp, clientSecret: input.clientSecret });
  const decoded = decodeSignedUri(input.url);
  // Both comparisons always run, so the time taken does not tell which form matched.
  const asReceived = sameText(sign(input.url), given);
  const asDecoded = sameText(sign(decoded), given);
  return asReceived || asDecoded ? { ok: true } : { ok: false, reason: 'signature_mismatch' };
};
