import crypto from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { Signature } from '@hubspot/api-client';
import {
  decodeSignedUri, MAX_SIGNATURE_SKEW_MS, signHubSpotV3, verifyHubSpotSignatureV3, type VerifyInput,
} from '../../src/hubspot/signature';
import { sdkSignV3 } from '../helpers/sign';
import { createRng } from '../../src/demo/generate';

const SECRET = 'a1b2c3d4-client-secret-e5f6';

/** A seeded generator (mulberry32), so every run sees the same sequence. */
const rng = (seed: number): (() => number) => createRng(seed).next;

const ORIGINS = ['https://arbridge.example.com', 'https://api.example.org:8443', 'http://127.0.0.1:3000'];
const PATHS = ['/api/v1/cards/company', '/api/v1/cards/deal', '/api/v1/cards/customers', '/api/v1/cards/company/link', '/hubspot/webhooks'];
const VALUES = [
  '42', 'Acme Inc.', 'rep@example.com', 'a/b:c?d', "O'Brien (UK), Ltd; *", 'Zürich ✓ 東京', '💸 overdue', '100%', 'x+y=z&w', '',
];
const BODIES = [
  '', '{}', '{"objectId":"42","customerId":"7","idempotencyKey":"k-00000001"}', '{"note":"Zürich — 東京 — 💸"}',
  '{"text":"line1\\nline2\\ttab","quote":"\\"q\\""}', '[1,2,3]', '{"a":"é"}',
];

type Generated = { method: string; url: string; body: string };

/** Requests as a server receives them: query values percent-encoded (some with the escapes HubSpot's guide decodes). */
const generateRequests = (count: number, seed: number): Generated[] => {
  const next = rng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const out: Generated[] = [];
  for (let i = 0; i < count; i++) {
    const method = pick(['GET', 'POST', 'GET', 'POST', 'PUT', 'DELETE']);
    const params: string[] = [];
    const n = Math.floor(next() * 5);
    for (let p = 0; p < n; p++) {
      const value = pick(VALUES);
      // Either fully encoded (encodeURIComponent escapes ':' '/' '?' '@' ',' ';' '$') or only what must be.
      const encoded = next() < 0.5 ? encodeURIComponent(value) : encodeURI(value).replace(/[&=+#]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
      params.push(`${pick(['objectId', 'query', 'userEmail', 'q', 'name'])}=${encoded}`);
    }
    params.push(`portalId=${Math.floor(next() * 1e9) + 1}`);
    const url = `${pick(ORIGINS)}${pick(PATHS)}?${params.join('&')}`;
    const body = method === 'GET' ? '' : pick(BODIES);
    out.push({ method, url, body });
  }
  return out;
};

const sdkAccepts = (input: { method: string; url: string; body: string; signature: string; timestamp: number; secret?: string }): boolean => {
  try {
    return Signature.isValid({
      signatureVersion: 'v3', signature: input.signature, clientSecret: input.secret ?? SECRET, method: input.method,
      url: input.url, requestBody: input.body, timestamp: input.timestamp,
    });
  } catch {
    return false; // the SDK throws on a missing or stale timestamp
  }
};

describe('HubSpot v3 signatures', () => {
  const requests = generateRequests(300, 20_240_630);

  it('generates requests that exercise encoded characters, unicode bodies and both methods', () => {
    expect(requests.some((r) => /%3A|%2F|%40|%2C/i.test(r.url))).toBe(true);
    expect(requests.some((r) => /%E2%9C%93|%F0%9F%92%B8/i.test(r.url))).toBe(true);
    expect(requests.some((r) => /[\u0080-\uffff]/.test(r.body))).toBe(true);
    expect(new Set(requests.map((r) => r.method))).toEqual(new Set(['GET', 'POST', 'PUT', 'DELETE']));
  });

  it('signs exactly as the SDK does', () => {
    for (const r of requests) {
      const timestamp = Date.now();
      expect(signHubSpotV3({ method: r.method, url: r.url, rawBody: r.body, timestamp: String(timestamp), clientSecret: SECRET }))
        .toBe(sdkSignV3({ method: r.method, url: r.url, body: r.body, timestamp, secret: SECRET }));
    }
  });

  it('agrees with the SDK helper on every valid request: both accept', () => {
    const next = rng(7);
    for (const r of requests) {
      const now = Date.now();
      const timestamp = now - Math.floor(next() * 200_000); // up to 200 s old
      const signature = sdkSignV3({ method: r.method, url: r.url, body: r.body, timestamp, secret: SECRET });
      expect(sdkAccepts({ ...r, signature, timestamp })).toBe(true);
      expect(verifyHubSpotSignatureV3({
        method: r.method, url: r.url, rawBody: r.body, signature, timestamp: String(timestamp), clientSecret: SECRET, now,
      })).toEqual({ ok: true });
    }
  });

  it('also accepts a request signed over the decoded URI, as HubSpot\'s request-validation guide signs it', () => {
    const withEscapes = requests.filter((r) => decodeSignedUri(r.url) !== r.url);
    expect(withEscapes.length).toBeGreaterThan(20);
    for (const r of withEscapes) {
      const now = Date.now();
      const signature = sdkSignV3({ method: r.method, url: decodeSignedUri(r.url), body: r.body, timestamp: now, secret: SECRET });
      // The SDK helper does not decode, so it refuses this form; the guide's form is what HubSpot documents.
      expect(sdkAccepts({ ...r, signature, timestamp: now })).toBe(false);
      expect(verifyHubSpotSignatureV3({
        method: r.method, url: r.url, rawBody: r.body, signature, timestamp: String(now), clientSecret: SECRET, now,
      })).toEqual({ ok: true });
    }
  });

  it('decodes exactly the escapes the guide lists, in either case, and nothing else', () => {
    expect(decodeSignedUri('https://x.test/p?a=%3A%2F%3F%40%21%24%27%28%29%2A%2C%3B&b=%3a%2f'))
      .toBe("https://x.test/p?a=:/?@!$'()*,;&b=:/");
    expect(decodeSignedUri('https://x.test/p?a=%26%3D%23%25%20%2B%C3%A9')).toBe('https://x.test/p?a=%26%3D%23%25%20%2B%C3%A9');
  });

  describe('refusals', () => {
    const now = Date.now();
    const base = (): VerifyInput & { sdk: { method: string; url: string; body: string; timestamp: number } } => {
      const url = 'https://arbridge.example.com/api/v1/cards/company/link?appId=1&portalId=101&userEmail=rep%40example.com';
      const body = '{"objectId":"9001","customerId":"3","idempotencyKey":"key-00000001"}';
      const timestamp = now - 1_000;
      return {
        method: 'POST', url, rawBody: body, timestamp: String(timestamp), clientSecret: SECRET, now,
        signature: sdkSignV3({ method: 'POST', url, body, timestamp, secret: SECRET }),
        sdk: { method: 'POST', url, body, timestamp },
      };
    };
    const verify = (input: VerifyInput): ReturnType<typeof verifyHubSpotSignatureV3> => verifyHubSpotSignatureV3(input);

    it('accepts the untouched request (control)', () => {
      const b = base();
      expect(verify(b)).toEqual({ ok: true });
      expect(sdkAccepts({ ...b.sdk, signature: b.signature as string })).toBe(true);
    });

    it('refuses a forged signature (another secret), as the SDK does', () => {
      const b = base();
      const forged = sdkSignV3({ ...b.sdk, secret: 'not-the-secret' });
      expect(verify({ ...b, signature: forged })).toEqual({ ok: false, reason: 'signature_mismatch' });
      expect(sdkAccepts({ ...b.sdk, signature: forged })).toBe(false);
    });

    it('refuses a stale timestamp (> 5 minutes old), even when the signature covers it', () => {
      const b = base();
      const timestamp = now - MAX_SIGNATURE_SKEW_MS - 1_000;
      const signature = sdkSignV3({ ...b.sdk, timestamp, secret: SECRET });
      expect(verify({ ...b, timestamp: String(timestamp), signature })).toEqual({ ok: false, reason: 'stale_timestamp' });
      expect(sdkAccepts({ ...b.sdk, timestamp, signature })).toBe(false);
    });

    it('accepts a timestamp exactly 5 minutes old and refuses one a millisecond older', () => {
      const b = base();
      for (const [age, ok] of [[MAX_SIGNATURE_SKEW_MS, true], [MAX_SIGNATURE_SKEW_MS + 1, false]] as const) {
        const timestamp = now - age;
        const signature = sdkSignV3({ ...b.sdk, timestamp, secret: SECRET });
        expect(verify({ ...b, timestamp: String(timestamp), signature }).ok).toBe(ok);
      }
    });

    it('refuses a timestamp more than 5 minutes in the future', () => {
      const b = base();
      const timestamp = now + MAX_SIGNATURE_SKEW_MS + 1_000;
      const signature = sdkSignV3({ ...b.sdk, timestamp, secret: SECRET });
      expect(verify({ ...b, timestamp: String(timestamp), signature })).toEqual({ ok: false, reason: 'future_timestamp' });
      const nearFuture = now + 60_000;
      expect(verify({ ...b, timestamp: String(nearFuture), signature: sdkSignV3({ ...b.sdk, timestamp: nearFuture, secret: SECRET }) }))
        .toEqual({ ok: true });
    });

    it('refuses a timestamp header that differs from the signed one', () => {
      const b = base();
      expect(verify({ ...b, timestamp: String(now - 2_000) })).toEqual({ ok: false, reason: 'signature_mismatch' });
    });

    it('refuses a tampered body, as the SDK does', () => {
      const b = base();
      const rawBody = b.rawBody.replace('"customerId":"3"', '"customerId":"4"');
      expect(verify({ ...b, rawBody })).toEqual({ ok: false, reason: 'signature_mismatch' });
      expect(sdkAccepts({ ...b.sdk, body: rawBody, signature: b.signature as string })).toBe(false);
      expect(verify({ ...b, rawBody: `${b.rawBody} ` })).toEqual({ ok: false, reason: 'signature_mismatch' });
      expect(verify({ ...b, rawBody: '' })).toEqual({ ok: false, reason: 'signature_mismatch' });
    });

    it('refuses a tampered query, path, host or method, as the SDK does', () => {
      const b = base();
      const tampered = [
        b.url.replace('portalId=101', 'portalId=102'),
        `${b.url}&portalId=102`,
        b.url.replace('userEmail=rep%40example.com', 'userEmail=boss%40example.com'),
        b.url.replace('/company/link', '/company/unlink'),
        b.url.replace('arbridge.example.com', 'evil.example.com'),
        b.url.replace('https:', 'http:'),
      ];
      for (const url of tampered) {
        expect(verify({ ...b, url })).toEqual({ ok: false, reason: 'signature_mismatch' });
        expect(sdkAccepts({ ...b.sdk, url, signature: b.signature as string })).toBe(false);
      }
      expect(verify({ ...b, method: 'PUT' })).toEqual({ ok: false, reason: 'signature_mismatch' });
    });

    it('refuses missing headers', () => {
      const b = base();
      expect(verify({ ...b, signature: undefined })).toEqual({ ok: false, reason: 'missing_signature' });
      expect(verify({ ...b, signature: '' })).toEqual({ ok: false, reason: 'missing_signature' });
      expect(verify({ ...b, timestamp: undefined })).toEqual({ ok: false, reason: 'missing_timestamp' });
      expect(verify({ ...b, timestamp: '' })).toEqual({ ok: false, reason: 'missing_timestamp' });
    });

    it('refuses malformed timestamps and malformed base64 signatures', () => {
      const b = base();
      for (const timestamp of ['abc', '1.7e12', '-1000', ` ${now}`, '0x1F']) {
        expect(verify({ ...b, timestamp })).toEqual({ ok: false, reason: 'malformed_timestamp' });
      }
      const good = b.signature as string;
      const malformed = [
        'not base64 at all!',
        good.slice(0, -1), // no padding
        `${good}=`,
        good.replace(/^./, '*'),
        Buffer.from(good, 'base64').toString('hex'), // the hex form (v1/v2 style)
        crypto.randomBytes(16).toString('base64'),
        `${good.slice(0, 20)}\u00e9${good.slice(21)}`,
      ];
      for (const signature of malformed) {
        expect(verify({ ...b, signature })).toEqual({ ok: false, reason: 'malformed_signature' });
        expect(sdkAccepts({ ...b.sdk, signature })).toBe(false);
      }
    });

    it('refuses a well-formed signature of other bytes', () => {
      const b = base();
      const other = crypto.randomBytes(32).toString('base64');
      expect(verify({ ...b, signature: other })).toEqual({ ok: false, reason: 'signature_mismatch' });
    });
  });
});
