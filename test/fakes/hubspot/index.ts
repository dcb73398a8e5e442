/**
 * A fake HubSpot for tests: a stateful HTTP server on 127.0.0.1 that answers the CRM, properties, associations v4,
 * owners and OAuth paths our code calls, in the shapes `@hubspot/api-client` 14.0.1 deserializes. State is kept per
 * portal; a bearer token (a private-app token from addPortal, or an OAuth access token from POST /oauth/v1/token)
 * names the portal. It enforces HubSpot's ten-secondly limit per portal (search has its own 5/s), logs every request
 * and injects faults (429, 500 before or after the write, slow answers) from a seeded PRNG.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { associationRoutes } from './associations';
import { HubSpotHttpError, errorBody, type Reply } from './errors';
import { DEFAULT_SCOPES, OAuthState } from './oauth';
import { objectRoutes } from './objects';
import { ownerRoutes } from './owners';
import { propertyRoutes } from './properties';
import { Router, type BaseCtx } from './router';
import { OBJECT_TYPES, defaultAssociationType, resolveObjectType, type ObjectTypeInfo, type PropertyDef } from './schema';
import { Portal, compareIds, type StoredObject } from './state';
import { createRng } from '../../../src/demo/generate';

export type FaultKind = '429' | '500' | 'slow';

export type FaultOptions = {
  rate: number;
  kinds?: FaultKind[];
  seed?: number;
  retryAfterSeconds?: number;
  slowMs?: number;
  /** A 500 'after' applies the write, then fails (a lost response). */
  when?: 'before' | 'after';
};

export type RateLimit = { max: number; windowMs: number };

export type FakeHubSpotOptions = {
  clientId?: string;
  clientSecret?: string;
  redirectUri?: string;
  /** Per portal; default 110 per 10 000 ms (HubSpot's limit for OAuth apps); null turns it off. */
  rateLimit?: RateLimit | null;
  /** Search calls per portal, counted apart from rateLimit; default 5 per 1 000 ms; null turns it off. */
  searchRateLimit?: RateLimit | null;
  faults?: FaultOptions;
  /** Default 1800. */
  accessTokenTtlSeconds?: number;
  /** The app id GET /oauth/v1/access-tokens reports; default 1234567. */
  appId?: number;
  /** Port on 127.0.0.1; default 0 (any free port). */
  port?: number;
};

export type LoggedRequest = {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  status: number;
  portalId: number | null;
  /** Arrival time, epoch ms. */
  at: number;
  /** Set when fault injection chose this request. */
  fault?: FaultKind;
};

export type FakeObject = { id: string; properties: Record<string, string | null>; createdAt: string; updatedAt: string; archived: boolean };

export type FakeObjectType = 'companies' | 'deals' | 'invoices' | 'tasks' | 'notes' | 'contacts';

export type FakeProperty = {
  name: string; label: string; type: string; fieldType: string; groupName: string; hasUniqueValue: boolean;
  options: Array<{ label: string; value: string }>; hubspotDefined: boolean;
};

export type FakeOwner = { id: string; email: string; firstName?: string; lastName?: string; userId?: number };

export type FakeHubSpot = {
  /** http://127.0.0.1:<port>; pass as basePath. */
  url: string;
  requests: LoggedRequest[];
  clearRequests(): void;
  setFaults(f: FaultOptions | null): void;
  addPortal(portalId: number, opts?: { privateToken?: string; hubDomain?: string }): void;
  /** A code for POST /oauth/v1/token (the portal is created when new: the app gets installed on it). */
  issueAuthorizationCode(portalId: number, scopes?: string[]): string;
  expireAccessTokens(): void;
  createObject(portalId: number, type: FakeObjectType, properties: Record<string, string>, opts?: { id?: string }): string;
  getObject(portalId: number, type: string, id: string): FakeObject | undefined;
  objects(portalId: number, type: string): FakeObject[];
  associate(portalId: number, fromType: string, fromId: string, toType: string, toId: string, associationTypeId?: number): void;
  addOwner(portalId: number, owner: FakeOwner): void;
  properties(portalId: number, type: string): FakeProperty[];
  /** Live associations of a record to one type, by ascending id, with their association type ids. */
  associations(portalId: number, fromType: string, fromId: string, toType: string): Array<{ toId: string; typeIds: number[] }>;
  setRateLimit(limit: RateLimit | null): void;
  close(): Promise<void>;
};

const RATE_HEADERS = {
  interval: 'X-HubSpot-RateLimit-Interval-Milliseconds',
  max: 'X-HubSpot-RateLimit-Max',
  remaining: 'X-HubSpot-RateLimit-Remaining',
};

/** A seeded generator (mulberry32), so every run sees the same sequence. */
const prng = (seed: number): (() => number) => createRng(seed).next;

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

const parseBody = (contentType: string | undefined, raw: string): unknown => {
  if (raw === '') return undefined;
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') return Object.fromEntries(new URLSearchParams(raw));
  try {
    return JSON.parse(raw) as unknown;
  } catch (e) {
    if (type !== 'application/json') return raw;
    throw new HubSpotHttpError({ status: 400, body: errorBody('VALIDATION_ERROR', `Invalid input JSON: ${(e as Error).message}`) });
  }
};

const rateLimited = (message: string, policyName: string, headers: Record<string, string>): HubSpotHttpError =>
  new HubSpotHttpError({ status: 429, headers, body: { ...errorBody('RATE_LIMIT', message), errorType: 'RATE_LIMIT', policyName } });

class FakeHubSpotServer implements FakeHubSpot {
  url = '';
  readonly requests: LoggedRequest[] = [];
  private readonly server: Server;
  private readonly router = new Router();
  private readonly portals = new Map<number, Portal>();
  private readonly privateTokens = new Map<string, number>();
  private readonly oauth: OAuthState;
  private rateLimit: RateLimit | null;
  private readonly searchRateLimit: RateLimit | null;
  private faults: FaultOptions | null = null;
  private random: () => number = Math.random;
  private readonly timers = new Set<NodeJS.Timeout>();
  private lastMs = 0;
  private nextId = 1_000_001n;
  private readonly clock = { now: (): string => {
    this.lastMs = Math.max(Date.now(), this.lastMs + 1);
    return new Date(this.lastMs).toISOString();
  } };
  private readonly ids = {
    next: (): string => String(this.nextId++),
    reserve: (id: string): void => {
      if (/^\d+$/.test(id) && BigInt(id) >= this.nextId) this.nextId = BigInt(id) + 1n;
    },
  };

  constructor(options: FakeHubSpotOptions) {
    this.oauth = new OAuthState({
      clientId: options.clientId ?? 'fake-client-id',
      clientSecret: options.clientSecret ?? 'fake-client-secret',
      redirectUri: options.redirectUri,
      accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 1800,
      appId: options.appId ?? 1_234_567,
    });
    this.rateLimit = options.rateLimit === undefined ? { max: 110, windowMs: 10_000 } : options.rateLimit;
    this.searchRateLimit = options.searchRateLimit === undefined ? { max: 5, windowMs: 1_000 } : options.searchRateLimit;
    this.setFaults(options.faults ?? null);
    this.oauth.routes(this.router);
    objectRoutes(this.router);
    propertyRoutes(this.router);
    associationRoutes(this.router);
    ownerRoutes(this.router);
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
  }

  async listen(port = 0): Promise<void> {
    // Clients keep sockets alive between calls; a longer server-side timeout than theirs avoids a reset race.
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  // ---- request handling ----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const query: Record<string, string> = {};
    for (const key of new Set(url.searchParams.keys())) query[key] = url.searchParams.getAll(key).join(',');
    const entry: LoggedRequest = { method, path: url.pathname, query, body: undefined, status: 0, portalId: null, at };
    let extraHeaders: Record<string, string> = {};
    let reply: Reply;
    try {
      const raw = await readBody(req);
      entry.body = raw === '' ? undefined : raw; // logged as text when it does not parse
      entry.body = parseBody(req.headers['content-type'], raw);
      reply = await this.dispatch(req, method, url, entry, (h) => {
        extraHeaders = h;
      });
    } catch (e) {
      if (e instanceof HubSpotHttpError) reply = e.reply;
      else reply = { status: 500, body: errorBody('INTERNAL_ERROR', `fake HubSpot failed: ${(e as Error).stack ?? String(e)}`) };
    }
    entry.status = reply.status;
    this.requests.push(entry);
    const headers: Record<string, string> = { ...extraHeaders, ...reply.headers };
    if (reply.status === 204 || reply.body === undefined) {
      res.writeHead(reply.status, headers);
      res.end();
      return;
    }
    res.writeHead(reply.status, { ...headers, 'Content-Type': 'application/json;charset=utf-8' });
    res.end(JSON.stringify(reply.body));
  }

  private async dispatch(req: IncomingMessage, method: string, url: URL, entry: LoggedRequest,
    setHeaders: (h: Record<string, string>) => void): Promise<Reply> {
    const m = this.router.match(method, url.pathname);
    if (!m.route) {
      return { status: m.pathKnown ? 405 : 404, body: errorBody(m.pathKnown ? 'METHOD_NOT_ALLOWED' : 'OBJECT_NOT_FOUND', `No ${method} ${url.pathname} here`) };
    }
    const route = m.route;
    let portal: Portal | null = null;
    if (route.handler.kind === 'crm') {
      portal = this.authenticate(req.headers.authorization);
      entry.portalId = portal.id;
      const headers = this.countCall(portal, route.search);
      setHeaders(headers);
    }
    const fault = this.rollFault();
    if (fault) entry.fault = fault;
    const faults = this.faults;
    if (fault === '429') {
      const seconds = faults?.retryAfterSeconds ?? 1;
      throw rateLimited('You have reached your ten_secondly_rolling limit.', 'TEN_SECONDLY_ROLLING', { 'Retry-After': String(seconds) });
    }
    const failAfter = fault === '500' && faults?.when === 'after';
    if (fault === '500' && !failAfter) return { status: 500, body: errorBody('INTERNAL_ERROR', 'internal error (injected fault)') };
    if (fault === 'slow') await this.sleep(faults?.slowMs ?? 200);
    const ctx: BaseCtx = {
      method, params: m.params, query: url.searchParams, body: entry.body, baseUrl: this.url, path: url.pathname,
      setLogPortal: (id) => {
        entry.portalId = id;
      },
    };
    let reply: Reply;
    try {
      reply = route.handler.kind === 'crm' ? route.handler.run({ ...ctx, portal: portal as Portal }) : route.handler.run(ctx);
    } catch (e) {
      if (!(e instanceof HubSpotHttpError)) throw e;
      reply = e.reply;
    }
    if (failAfter) return { status: 500, body: errorBody('INTERNAL_ERROR', 'internal error (injected fault, after the write)') };
    return reply;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  private authenticate(header: string | undefined): Portal {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!m) {
      throw new HubSpotHttpError({ status: 401, body: errorBody('INVALID_AUTHENTICATION',
        'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview') });
    }
    const token = m[1] as string;
    const privatePortal = this.privateTokens.get(token);
    const resolved = privatePortal !== undefined ? { portalId: privatePortal } : this.oauth.resolve(token);
    if (resolved && 'expiredMs' in resolved) {
      // HubSpot names an expired OAuth token apart from an unknown one.
      throw new HubSpotHttpError({ status: 401, body: errorBody('EXPIRED_AUTHENTICATION',
        `The OAuth token used to make this call expired ${Math.max(1, Math.round(resolved.expiredMs / 1000))} second(s) ago.`) });
    }
    const portal = resolved ? this.portals.get(resolved.portalId) : undefined;
    if (!portal) {
      throw new HubSpotHttpError({ status: 401, body: errorBody('INVALID_AUTHENTICATION',
        'Authentication credentials not found or invalid: the token is unknown or has been revoked.') });
    }
    return portal;
  }

  /** Counts a call against the portal's limit (search apart); throws the 429. Returns the rate-limit headers. */
  private countCall(portal: Portal, search: boolean): Record<string, string> {
    const now = Date.now();
    const limit = search ? this.searchRateLimit : this.rateLimit;
    if (!limit) return {};
    const window = search ? portal.searches : portal.calls;
    while (window.length > 0 && (window[0] as number) <= now - limit.windowMs) window.shift();
    const retryAfter = (): string => String(Math.max(1, Math.ceil(((window[0] as number) + limit.windowMs - now) / 1000)));
    if (search) {
      // HubSpot's search answers carry no X-HubSpot-RateLimit headers.
      if (window.length >= limit.max) throw rateLimited('You have reached your secondly limit.', 'SECONDLY', { 'Retry-After': retryAfter() });
      window.push(now);
      return {};
    }
    const headers = { [RATE_HEADERS.interval]: String(limit.windowMs), [RATE_HEADERS.max]: String(limit.max) };
    if (window.length >= limit.max) {
      throw rateLimited('You have reached your ten_secondly_rolling limit.', 'TEN_SECONDLY_ROLLING',
        { ...headers, [RATE_HEADERS.remaining]: '0', 'Retry-After': retryAfter() });
    }
    window.push(now);
    return { ...headers, [RATE_HEADERS.remaining]: String(limit.max - window.length) };
  }

  private rollFault(): FaultKind | null {
    const f = this.faults;
    if (!f || f.rate <= 0) return null;
    if (this.random() >= f.rate) return null;
    const kinds = f.kinds && f.kinds.length > 0 ? f.kinds : (['429', '500', 'slow'] as FaultKind[]);
    return kinds[Math.floor(this.random() * kinds.length)] ?? null;
  }

  // ---- control API ----

  clearRequests(): void {
    this.requests.length = 0;
  }

  setFaults(f: FaultOptions | null): void {
    if (f && (!(f.rate >= 0) || f.rate > 1)) throw new Error(`fault rate must be between 0 and 1, got ${f.rate}`);
    this.faults = f ? { ...f } : null;
    this.random = prng(f?.seed ?? 42);
  }

  setRateLimit(limit: RateLimit | null): void {
    this.rateLimit = limit;
  }

  addPortal(portalId: number, opts: { privateToken?: string; hubDomain?: string } = {}): void {
    let portal = this.portals.get(portalId);
    if (!portal) {
      portal = new Portal(portalId, opts.hubDomain ?? `portal-${portalId}.hubspot.test`, this.clock, this.ids);
      this.portals.set(portalId, portal);
    } else if (opts.hubDomain) {
      portal.hubDomain = opts.hubDomain;
    }
    if (opts.privateToken !== undefined) {
      const other = this.privateTokens.get(opts.privateToken);
      if (other !== undefined && other !== portalId) throw new Error(`token already belongs to portal ${other}`);
      this.privateTokens.set(opts.privateToken, portalId);
    }
  }

  issueAuthorizationCode(portalId: number, scopes: string[] = DEFAULT_SCOPES): string {
    this.addPortal(portalId);
    const portal = this.portal(portalId);
    return this.oauth.issueCode({ portalId, scopes: [...scopes], userId: 9_000_000 + portalId, user: `admin@${portal.hubDomain}`, hubDomain: portal.hubDomain });
  }

  expireAccessTokens(): void {
    this.oauth.expireAll();
  }

  private portal(portalId: number): Portal {
    const portal = this.portals.get(portalId);
    if (!portal) throw new Error(`portal ${portalId} is not registered with the fake HubSpot; call addPortal first`);
    return portal;
  }

  private type(raw: string): ObjectTypeInfo {
    const type = resolveObjectType(raw);
    if (!type) throw new Error(`unknown object type ${JSON.stringify(raw)}; the fake knows ${Object.keys(OBJECT_TYPES).join(', ')}`);
    return type;
  }

  createObject(portalId: number, typeName: FakeObjectType, properties: Record<string, string>, opts: { id?: string } = {}): string {
    const portal = this.portal(portalId);
    const type = this.type(typeName);
    const { values, errors } = portal.normalize(type, properties, false);
    if (errors.length > 0) throw new Error(`createObject(${type.name}): ${errors.map((e) => `${e.name}: ${e.message}`).join('; ')}`);
    if (opts.id !== undefined && portal.objectsOf(type.name).has(opts.id)) throw new Error(`${type.name} ${opts.id} already exists`);
    portal.checkUnique(type, values, null);
    return portal.createObject(type, values, { id: opts.id, sourceType: 'CRM_UI' }).id;
  }

  private snapshot(obj: StoredObject): FakeObject {
    return { id: obj.id, properties: Object.fromEntries(obj.values), createdAt: obj.createdAt, updatedAt: obj.updatedAt, archived: obj.archived };
  }

  getObject(portalId: number, typeName: string, id: string): FakeObject | undefined {
    const obj = this.portal(portalId).objectsOf(this.type(typeName).name).get(id);
    return obj ? this.snapshot(obj) : undefined;
  }

  objects(portalId: number, typeName: string): FakeObject[] {
    return [...this.portal(portalId).objectsOf(this.type(typeName).name).values()].sort((a, b) => compareIds(a.id, b.id)).map((o) => this.snapshot(o));
  }

  associate(portalId: number, fromType: string, fromId: string, toType: string, toId: string, associationTypeId?: number): void {
    const portal = this.portal(portalId);
    const from = this.type(fromType);
    const to = this.type(toType);
    if (!portal.find(from.name, fromId)) throw new Error(`associate: no live ${from.singular} ${fromId} in portal ${portalId}`);
    if (!portal.find(to.name, toId)) throw new Error(`associate: no live ${to.singular} ${toId} in portal ${portalId}`);
    const typeId = associationTypeId ?? defaultAssociationType(from.name, to.name)?.typeId;
    if (typeId === undefined) throw new Error(`associate: HubSpot defines no default association from ${from.singular} to ${to.singular}`);
    try {
      portal.associate(from.name, fromId, to.name, toId, typeId);
    } catch (e) {
      if (e instanceof HubSpotHttpError) throw new Error(`associate: ${(e.reply.body as { message: string }).message}`);
      throw e;
    }
  }

  associations(portalId: number, fromType: string, fromId: string, toType: string): Array<{ toId: string; typeIds: number[] }> {
    return this.portal(portalId).associations(this.type(fromType).name, fromId, this.type(toType).name);
  }

  addOwner(portalId: number, owner: FakeOwner): void {
    const portal = this.portal(portalId);
    if (portal.owners.some((o) => o.id === owner.id)) throw new Error(`owner ${owner.id} already exists in portal ${portalId}`);
    const at = this.clock.now();
    portal.owners.push({ ...owner, createdAt: at, updatedAt: at, archived: false });
  }

  properties(portalId: number, typeName: string): FakeProperty[] {
    const defs = [...this.portal(portalId).propertiesOf(this.type(typeName).name).values()].filter((p) => !p.archived);
    return defs.map((p: PropertyDef) => ({
      name: p.name, label: p.label, type: p.type, fieldType: p.fieldType, groupName: p.groupName, hasUniqueValue: p.hasUniqueValue,
      options: p.options.map((o) => ({ label: o.label, value: o.value })), hubspotDefined: p.hubspotDefined,
    }));
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

export const startFakeHubSpot = async (options: FakeHubSpotOptions = {}): Promise<FakeHubSpot> => {
  const fake = new FakeHubSpotServer(options);
  await fake.listen(options.port ?? 0);
  return fake;
};
