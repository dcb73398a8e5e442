import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { hubspotClient } from '../../src/hubspot/client';
import { classifyHubSpotError, hubspotErrorStatus, withHubSpotRetry, type RetryEvent } from '../../src/hubspot/http-retry';

// A scripted HTTP server on loopback: each request to /crm/v3/objects/companies/:id takes the next answer of
// the script; the real SDK calls it, so the errors retried are the SDK's own.
type Answer = { status: number; body?: unknown; headers?: Record<string, string> } | 'reset';

describe('withHubSpotRetry', () => {
  let server: http.Server;
  let basePath: string;
  let script: Answer[] = [];
  let hits = 0;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      hits += 1;
      const answer = script.shift() ?? { status: 200, body: { id: '1', properties: { name: 'Acme' }, createdAt: '2024-01-01T00:00:00Z', updatedAt: '2024-01-01T00:00:00Z' } };
      if (answer === 'reset') {
        req.socket.destroy();
        return;
      }
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(JSON.stringify(answer.body ?? { status: 'error', message: `status ${answer.status}` }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    basePath = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    script = [];
    hits = 0;
  });

  const getCompany = () => hubspotClient('token', basePath).crm.companies.basicApi.getById('1', ['name']);
  const recorder = () => {
    const sleeps: number[] = [];
    const events: RetryEvent[] = [];
    return { sleeps, events, sleep: async (ms: number) => { sleeps.push(ms); }, onRetry: (e: RetryEvent) => { events.push(e); } };
  };

  it('waits as long as Retry-After says after a 429, then succeeds', async () => {
    script = [{ status: 429, headers: { 'Retry-After': '3' }, body: { status: 'error', message: 'You have reached your ten secondly limit.', policyName: 'TEN_SECONDLY_ROLLING' } }];
    const r = recorder();
    const company = await withHubSpotRetry(getCompany, { sleep: r.sleep, onRetry: r.onRetry, random: () => 0 });
    expect(company.properties.name).toBe('Acme');
    expect(hits).toBe(2);
    expect(r.sleeps).toEqual([3000]);
    expect(r.events.map((e) => [e.attempt, e.reason, e.status, e.delayMs])).toEqual([[1, '429', 429, 3000]]);
  });

  it('backs off exponentially with jitter on 5xx, and retries a dropped connection', async () => {
    script = [{ status: 500 }, { status: 502 }, 'reset'];
    const r = recorder();
    const company = await withHubSpotRetry(getCompany, { sleep: r.sleep, onRetry: r.onRetry, baseDelayMs: 100, random: () => 0.5 });
    expect(company.id).toBe('1');
    expect(hits).toBe(4);
    // step n waits base × 2^(n−1) jittered to 50–100 %: with random 0.5, 75 % of it.
    expect(r.sleeps).toEqual([75, 150, 300]);
    expect(r.events.map((e) => [e.reason, e.status])).toEqual([['5xx', 500], ['5xx', 502], ['network', null]]);
  });

  it('gives up after maxAttempts with the last error', async () => {
    script = [1, 2, 3, 4].map((n) => ({ status: 503, body: { status: 'error', message: `attempt ${n}` } }));
    const r = recorder();
    const failure = await withHubSpotRetry(getCompany, { maxAttempts: 3, sleep: r.sleep }).catch((e: unknown) => e);
    expect(hubspotErrorStatus(failure)).toBe(503);
    expect((failure as { body: { message: string } }).body.message).toBe('attempt 3');
    expect(hits).toBe(3);
    expect(r.sleeps).toHaveLength(2);
  });

  it('does not retry a 400, nor a 429 of the daily limit', async () => {
    script = [{ status: 400, body: { status: 'error', message: 'Property values were not valid', category: 'VALIDATION_ERROR' } }];
    const r = recorder();
    const bad = await withHubSpotRetry(getCompany, { sleep: r.sleep }).catch((e: unknown) => e);
    expect(hubspotErrorStatus(bad)).toBe(400);
    expect(hits).toBe(1);

    script = [{ status: 429, headers: { 'Retry-After': '1' }, body: { status: 'error', message: 'You have reached your daily limit.', policyName: 'DAILY' } }];
    const daily = await withHubSpotRetry(getCompany, { sleep: r.sleep }).catch((e: unknown) => e);
    expect(hubspotErrorStatus(daily)).toBe(429);
    expect(hits).toBe(2);
    expect(r.sleeps).toEqual([]);
  });

  it('retries a refused connection and then throws it', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const r = recorder();
    const failure = await withHubSpotRetry(() => hubspotClient('token', `http://127.0.0.1:${port}`).crm.companies.basicApi.getById('1'),
      { maxAttempts: 2, sleep: r.sleep, onRetry: r.onRetry }).catch((e: unknown) => e);
    expect(classifyHubSpotError(failure)).toEqual({ retry: true, reason: 'network', retryAfterMs: null });
    expect(r.events.map((e) => e.reason)).toEqual(['network']);
    expect(r.sleeps).toHaveLength(1);
  });

  it('refuses a maxAttempts below 1', async () => {
    await expect(withHubSpotRetry(getCompany, { maxAttempts: 0 })).rejects.toThrow(/maxAttempts/);
    expect(hits).toBe(0);
  });
});
