import { describe, expect, it } from '@jest/globals';
import { createCaller } from '../../src/hubspot/caller';

/** A clock that only moves when the caller sleeps: pacing is checked in virtual time. */
const virtualClock = () => {
  let t = 1_000_000;
  const slept: number[] = [];
  return {
    now: () => t,
    sleep: async (ms: number) => {
      slept.push(ms);
      t += ms;
    },
    slept,
  };
};

const httpError = (code: number, headers: Record<string, string> = {}) => Object.assign(new Error(`HTTP ${code}`), { code, headers, body: {} });

describe('createCaller', () => {
  it('never starts more calls in a window than the budget', async () => {
    const clock = virtualClock();
    const caller = createCaller({ callsPerWindow: 10, headroom: 0.9, windowMs: 1_000, now: clock.now, sleep: clock.sleep });
    const starts: number[] = [];
    await Promise.all(Array.from({ length: 40 }, () => caller.call(async () => starts.push(clock.now()))));
    expect(starts).toHaveLength(40);
    for (const start of starts) {
      expect(starts.filter((s) => s >= start && s < start + 1_000).length).toBeLessThanOrEqual(9);
    }
    // 40 calls at 9 per second need at least 4 further windows.
    expect((starts[39] as number) - (starts[0] as number)).toBeGreaterThanOrEqual(4_000);
    expect(caller.stats.calls).toBe(40);
  });

  it('waits out a 429 for Retry-After and counts it', async () => {
    const clock = virtualClock();
    const caller = createCaller({ callsPerWindow: 100, now: clock.now, sleep: clock.sleep });
    let attempts = 0;
    const result = await caller.call(async () => {
      attempts += 1;
      if (attempts === 1) throw httpError(429, { 'Retry-After': '3' });
      return 'ok';
    });
    expect(result).toBe('ok');
    expect(caller.stats).toMatchObject({ calls: 2, rateLimited: 1 });
    expect(clock.slept.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(3_000);
  });

  it('retries 5xx and network failures with backoff, then gives up with the last error', async () => {
    const clock = virtualClock();
    const caller = createCaller({ callsPerWindow: 100, maxAttempts: 3, baseDelayMs: 100, now: clock.now, sleep: clock.sleep });
    let attempts = 0;
    await expect(caller.call(async () => {
      attempts += 1;
      throw httpError(503);
    })).rejects.toThrow('HTTP 503');
    expect(attempts).toBe(3);
    expect(caller.stats.serverErrors).toBe(3);
    let flaky = 0;
    await expect(caller.call(async () => {
      flaky += 1;
      if (flaky < 3) throw new TypeError('fetch failed');
      return flaky;
    })).resolves.toBe(3);
    expect(caller.stats.networkErrors).toBe(2);
  });

  it('does not retry other client errors, nor a 429 of the daily limit', async () => {
    const caller = createCaller({ callsPerWindow: 100 });
    let attempts = 0;
    await expect(caller.call(async () => {
      attempts += 1;
      throw httpError(400);
    })).rejects.toThrow('HTTP 400');
    expect(attempts).toBe(1);
    const daily = Object.assign(httpError(429), { body: { policyName: 'DAILY' } });
    await expect(caller.call(async () => {
      attempts += 1;
      throw daily;
    })).rejects.toBe(daily);
    expect(attempts).toBe(2);
  });
});
