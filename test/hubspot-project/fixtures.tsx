import { jest } from '@jest/globals';
import { hubspot } from '@hubspot/ui-extensions';

// A fake `hubspot.fetch` for tests that serve their own answers (parts of the service a test does not start), which
// routes requests and records what was sent, and a poll for effects that change nothing on screen. The card tests
// get their answers from the live service instead (see card-harness.tsx).

export type Sent = { url: string; method: string; body: Record<string, unknown> | undefined };
export type Answer = { status: number; body: unknown } | 'network-error' | 'pending';
type Route = (req: Sent) => Answer | undefined;

export const jsonResponse = (status: number, body: unknown): Response =>
  ({ ok: status >= 200 && status < 300, status, json: async () => body }) as unknown as Response;

/**
 * Replaces `hubspot.fetch` with a router: each request goes to the first route that answers it, unanswered requests
 * fail the test. `sent` lists every request in order.
 */
export const fakeFetch = (...routes: Route[]) => {
  const sent: Sent[] = [];
  const spy = jest.spyOn(hubspot, 'fetch').mockImplementation(async (url, options) => {
    const req: Sent = { url: String(url), method: options?.method ?? 'GET', body: options?.body as Record<string, unknown> | undefined };
    sent.push(req);
    for (const route of routes) {
      const answer = route(req);
      if (answer === undefined) continue;
      if (answer === 'network-error') throw new TypeError('fetch failed');
      if (answer === 'pending') return new Promise<Response>(() => undefined);
      return jsonResponse(answer.status, answer.body);
    }
    throw new Error(`no route for ${req.method} ${req.url}`);
  });
  return { sent, spy };
};

/** A route answering `method url` with the given answers in turn (the last one repeats). */
export const on = (method: string, url: string, ...answers: Answer[]): Route => {
  let i = 0;
  return (req) => {
    if (req.method !== method || req.url !== url) return undefined;
    const answer = answers[Math.min(i, answers.length - 1)];
    i += 1;
    return answer;
  };
};

export const ok = (body: unknown): Answer => ({ status: 200, body });

/** Polls `check` until it passes (for effects that change nothing on screen), failing after `timeoutMs`. */
export const eventually = async (check: () => void, timeoutMs = 1000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
};
