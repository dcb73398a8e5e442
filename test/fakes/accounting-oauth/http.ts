import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The bits of an HTTP server the accounting fakes share: routing, a request log, failure injection, pages. */

export type FakeRequest = {
  method: string;
  path: string;
  params: string[];
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
};

/** An answer, or 'drop': the connection is closed without one (a network failure). */
export type FakeReply = { status: number; headers?: Record<string, string>; body?: string | object } | 'drop';

export type LoggedCall = { method: string; path: string; status: number | 'dropped' };

type Route = { method: string; pattern: RegExp; name: string; run: (req: FakeRequest) => FakeReply | Promise<FakeReply> };

export class FakeHttpServer {
  url = '';
  readonly calls: LoggedCall[] = [];
  private readonly routes: Route[] = [];
  private readonly failures = new Map<string, FakeReply[]>();
  private readonly server: Server;

  constructor() {
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
  }

  /** `pattern` matches the whole path; its groups become `params`. */
  route(method: string, pattern: RegExp, name: string, run: (req: FakeRequest) => FakeReply | Promise<FakeReply>): void {
    this.routes.push({ method, pattern, name, run });
  }

  /** The next call of the named route gets this answer instead (queued; one per call). */
  failNext(name: string, reply: FakeReply): void {
    const queue = this.failures.get(name) ?? [];
    queue.push(reply);
    this.failures.set(name, queue);
  }

  clearFailures(): void {
    this.failures.clear();
  }

  /** How many calls the path received. */
  count(path: string | RegExp): number {
    return this.calls.filter((c) => (typeof path === 'string' ? c.path === path : path.test(c.path))).length;
  }

  async listen(): Promise<void> {
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    let reply: FakeReply = { status: 404, body: { error: 'not_found', message: `No route for ${method} ${url.pathname}` } };
    for (const route of this.routes) {
      const match = route.method === method ? route.pattern.exec(url.pathname) : null;
      if (!match) continue;
      const injected = this.failures.get(route.name)?.shift();
      try {
        reply = injected ?? await route.run({
          method, path: url.pathname, params: match.slice(1), query: url.searchParams, headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
      } catch (error) {
        // A fault in the fake itself answers 500 naming it, so a test fails at once instead of waiting for an answer.
        reply = { status: 500, body: { error: 'fake_failure', message: error instanceof Error ? error.message : String(error) } };
      }
      break;
    }
    if (reply === 'drop') {
      this.calls.push({ method, path: url.pathname, status: 'dropped' });
      req.socket.destroy();
      return;
    }
    this.calls.push({ method, path: url.pathname, status: reply.status });
    const isText = typeof reply.body === 'string' || reply.body === undefined;
    res.writeHead(reply.status, {
      ...(isText ? {} : { 'Content-Type': 'application/json' }),
      ...reply.headers,
    });
    res.end(isText ? (reply.body as string | undefined) ?? '' : JSON.stringify(reply.body));
  }
}

export const json = (status: number, body: object, headers: Record<string, string> = {}): FakeReply => ({ status, body, headers });

export const html = (status: number, body: string): FakeReply => ({ status, body, headers: { 'Content-Type': 'text/html; charset=utf-8' } });

export const redirect = (location: string): FakeReply => ({ status: 302, headers: { Location: location } });

/** `Authorization: Basic` client credentials, or null. */
export const basicAuth = (header: string | undefined): { id: string; secret: string } | null => {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
  if (!match) return null;
  const text = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? null : { id: decodeURIComponent(text.slice(0, colon)), secret: decodeURIComponent(text.slice(colon + 1)) };
};

export const bearer = (header: string | undefined): string | null => /^Bearer (\S+)$/i.exec(header ?? '')?.[1] ?? null;

export const form = (body: string): Record<string, string> => Object.fromEntries(new URLSearchParams(body));

const escape = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/**
 * A provider's consent screen: the choices (organisations, companies) as radio buttons, and Allow / Cancel
 * buttons posting the decision, with the authorization request carried in hidden fields.
 */
export const consentPage = (input: {
  provider: string;
  action: string;
  hidden: Record<string, string>;
  choiceName: string;
  choices: Array<{ value: string; label: string }>;
}): string => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(input.provider)}: allow access</title></head>
<body><h1>${escape(input.provider)}</h1>
<p>ARBridge wants to read your accounting data.</p>
<form method="post" action="${escape(input.action)}">
${Object.entries(input.hidden).map(([name, value]) => `<input type="hidden" name="${escape(name)}" value="${escape(value)}">`).join('\n')}
${input.choices.map((c, i) => `<label><input type="radio" name="${escape(input.choiceName)}" value="${escape(c.value)}"${i === 0 ? ' checked' : ''}> ${escape(c.label)}</label><br>`).join('\n')}
<button type="submit" name="decision" value="allow">Allow access</button>
<button type="submit" name="decision" value="deny">Cancel</button>
</form></body></html>
`;

/** Appends query parameters to a redirect URI. */
export const withQuery = (uri: string, params: Record<string, string>): string => {
  const url = new URL(uri);
  for (const [name, value] of Object.entries(params)) url.searchParams.append(name, value);
  return url.toString();
};
