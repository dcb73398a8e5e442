import crypto from 'node:crypto';
import { bearer, json, type FakeReply, type FakeRequest } from '../accounting-oauth/http';
import { startFakeXero, type FakeOrganisation, type FakeXero } from '../accounting-oauth/xero';
import { msDate, renderContact, renderCredit, renderInvoice, renderPayment } from './render';
import {
  XeroOrg, type Collection, type ContactRecord, type CreditRecord, type InvoiceRecord, type PaymentRecord, type QueuedEvent, type XeroSeed,
} from './state';

export * from './state';
export { generateInto, type GenerateOptions, type Generated } from './generate';

/**
 * A fake of Xero's Accounting API (the parts a sync reads) on the identity fake's host
 * (test/fakes/accounting-oauth/xero.ts), so one XERO_API_URL serves /connections and /api.xro/2.0:
 *
 * - GET /api.xro/2.0/Contacts, /Invoices, /Invoices/{InvoiceID}, /Payments, /CreditNotes, /Overpayments,
 *   /Prepayments: PascalCase JSON with `/Date(…)/` dates, `page` (1-based) + `pageSize` (default 100, at most 1000)
 *   with a `pagination` block, every match (no line items) without `page`; `If-Modified-Since` (ISO or HTTP date)
 *   keeps objects whose UpdatedDateUTC is at or after it; `where` (clauses `Field==value` / `Field!=value` joined by
 *   AND / &&), `order` (UpdatedDateUTC ASC|DESC; creation order by default), `Statuses`, `IDs`, `includeArchived`
 *   (contacts), `summaryOnly`.
 * - Auth as Xero's: `Authorization: Bearer` with a token the identity fake issued (or `fake.accessToken`) → else 401
 *   (problem JSON); `xero-tenant-id` one of the token's organisations → else 403.
 * - Errors in Xero's shapes: 400 `{ErrorNumber, Type, Message}`, 404, 429 with Retry-After and X-Rate-Limit-Problem
 *   (injected, or from limits when `limits` are set), 500; every answer carries X-MinLimit-Remaining,
 *   X-DayLimit-Remaining and X-AppMinLimit-Remaining.
 * - Webhooks: changes queue events (CONTACT, INVOICE, CREDITNOTE; CREATE, UPDATE; none for payments, whose invoice
 *   gets an UPDATE); `deliverWebhook(url)` posts them signed with the webhook key (`x-xero-signature`, base64
 *   HMAC-SHA256 of the body); `intentToReceive(url)` posts Xero's handshake.
 */

export type XeroRoute = 'Contacts' | 'Invoices' | 'Invoice' | 'Payments' | 'CreditNotes' | 'Overpayments' | 'Prepayments';

export type XeroFault =
  | { status: number; body?: string | object; headers?: Record<string, string> }
  | { rateLimit: 'minute' | 'day' | 'concurrent' | 'appminute'; retryAfterSeconds?: number }
  | { delayMs: number }
  | 'drop';

export type XeroRequestLog = {
  route: XeroRoute;
  method: string;
  path: string;
  query: Record<string, string>;
  ifModifiedSince: string | null;
  tenantId: string | null;
  status: number | 'dropped';
  at: number;
};

export type FakeXeroApiOptions = {
  /** The identity fake to share a host with; one is started (and closed with this fake) when none is given. */
  identity?: FakeXero;
  /** The organisations served (the identity fake's default one otherwise); with `identity`, the same as its own. */
  organisations?: FakeOrganisation[];
  /** The app's webhook key (random by default). */
  webhookKey?: string;
  /** Each organisation's base currency (NZD by default). */
  baseCurrency?: string;
  /** Per-organisation limits to enforce with 429s (none by default). */
  limits?: { perMinute?: number; perDay?: number; concurrent?: number };
  /** The clock of UpdatedDateUTC stamps (Date.now by default; stamps still increase strictly). */
  clock?: () => number;
  /** Sees every answer of the API (to check it against Xero's OpenAPI document). */
  onResponse?: (entry: XeroRequestLog, body: unknown) => void;
};

export type WebhookDelivery = { status: number; body: string; payload: string; signature: string };

export type FakeXeroApi = {
  url: string;
  identity: FakeXero;
  /** The first organisation's id. */
  tenantId: string;
  /** A token valid for every organisation of the fake. */
  accessToken: string;
  webhookKey: string;
  /** The first organisation's data; `orgOf` for another one. */
  org: XeroOrg;
  orgOf(tenantId: string): XeroOrg;
  seed(data: XeroSeed, tenantId?: string): void;
  /** Answers of the Accounting API routes, in order. */
  requests: XeroRequestLog[];
  /** The next call of a route (any route with '*') gets this fault; faults queue. */
  failNext(route: XeroRoute | '*', fault: XeroFault): void;
  /** Webhook events queued by changes and not yet delivered; `take` empties the queue. */
  pendingEvents(): XeroWebhookEvent[];
  takeEvents(): XeroWebhookEvent[];
  /** The delivery body of events and its signature (`signWith` another key to forge one). */
  webhookPayload(events: XeroWebhookEvent[], options?: { signWith?: string; sequence?: number }): { body: string; signature: string };
  /** Posts the queued events (or those given) to `url` as Xero does. */
  deliverWebhook(url: string, events?: XeroWebhookEvent[], options?: { signWith?: string }): Promise<WebhookDelivery>;
  /** Xero's intent-to-receive: an empty delivery, correctly signed or not. */
  intentToReceive(url: string, options?: { signed: boolean }): Promise<WebhookDelivery>;
  reset(): void;
  close(): Promise<void>;
};

export type XeroWebhookEvent = {
  resourceUrl: string;
  resourceId: string;
  tenantId: string;
  tenantType: 'ORGANISATION';
  eventCategory: string;
  eventType: string;
  eventDateUtc: string;
  data?: { Type: string; Status: string };
};

const ROUTES: { pattern: RegExp; route: XeroRoute }[] = [
  { pattern: /^\/api\.xro\/2\.0\/Contacts$/, route: 'Contacts' },
  { pattern: /^\/api\.xro\/2\.0\/Invoices$/, route: 'Invoices' },
  { pattern: /^\/api\.xro\/2\.0\/Invoices\/([^/]+)$/, route: 'Invoice' },
  { pattern: /^\/api\.xro\/2\.0\/Payments$/, route: 'Payments' },
  { pattern: /^\/api\.xro\/2\.0\/CreditNotes$/, route: 'CreditNotes' },
  { pattern: /^\/api\.xro\/2\.0\/Overpayments$/, route: 'Overpayments' },
  { pattern: /^\/api\.xro\/2\.0\/Prepayments$/, route: 'Prepayments' },
];

const XERO_LIMITS = { perMinute: 60, perDay: 5000, appPerMinute: 10_000 };

const problem = (status: number, title: string, detail: string, headers: Record<string, string> = {}): FakeReply =>
  json(status, { Type: null, Title: title, Status: status, Detail: detail, Instance: crypto.randomUUID(), Extensions: {} }, headers);

const validation = (message: string, type = 'ValidationException', number = 10): FakeReply =>
  json(400, { ErrorNumber: number, Type: type, Message: message });

class BadRequest extends Error {}

type Getter<T> = (record: T) => string | boolean | number | null;

/** `where` as Xero's: clauses joined by AND / &&, each `Field==value` or `Field!=value`. */
const parseWhere = <T>(where: string | null, fields: Record<string, Getter<T>>): ((record: T) => boolean) => {
  if (where === null || where.trim() === '') return () => true;
  const clauses = where.split(/\s+AND\s+|\s*&&\s*/i).map((clause) => {
    const match = /^\s*([A-Za-z.]+)\s*(==|!=)\s*(?:"([^"]*)"|(true|false)|(-?\d+(?:\.\d+)?))\s*$/i.exec(clause);
    if (!match) throw new BadRequest(`The where clause ${clause} could not be parsed`);
    const [, field = '', op, text, bool, number] = match;
    const get = fields[field];
    if (!get) throw new BadRequest(`No property or field '${field}' exists`);
    const value = text !== undefined ? text : bool !== undefined ? bool.toLowerCase() === 'true' : Number(number);
    return (record: T): boolean => (get(record) === value) === (op === '==');
  });
  return (record) => clauses.every((test) => test(record));
};

const list = (value: string | null): string[] | null =>
  value === null || value.trim() === '' ? null : value.split(',').map((s) => s.trim().replace(/^"|"$/g, '')).filter(Boolean);

const eventDate = (ms: number): string => new Date(ms).toISOString().replace('Z', '');

const ENTROPY = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

export const startFakeXeroApi = async (options: FakeXeroApiOptions = {}): Promise<FakeXeroApi> => {
  const owned = options.identity === undefined;
  const identity = options.identity ?? await startFakeXero(options.organisations ? { organisations: options.organisations } : {});
  const tenantIds = (options.organisations ?? [{ tenantId: 'c2cc9b6e-9458-4c7d-93cc-f02b81b0594f', tenantName: 'Demo Company (NZ)' }]).map((o) => o.tenantId);
  const tenantId = tenantIds[0] as string;
  const webhookKey = options.webhookKey ?? crypto.randomBytes(64).toString('base64');
  const clock = options.clock ?? Date.now;
  const orgs = new Map<string, XeroOrg>();
  const orgOf = (id: string): XeroOrg => {
    let org = orgs.get(id);
    if (!org) {
      org = new XeroOrg(id, options.baseCurrency ?? 'NZD', clock);
      orgs.set(id, org);
    }
    return org;
  };
  let accessToken = identity.grant(tenantIds).accessToken;
  const requests: XeroRequestLog[] = [];
  const faults = new Map<XeroRoute | '*', XeroFault[]>();
  const filtered = new Map<string, { version: number; list: unknown[]; owner: unknown }>();
  const usage = new Map<string, { minuteStart: number; minute: number; dayStart: number; day: number; inFlight: number }>();
  let appMinute = { start: 0, count: 0 };
  let sequence = 0;

  const usageOf = (id: string): { minuteStart: number; minute: number; dayStart: number; day: number; inFlight: number } => {
    let u = usage.get(id);
    if (!u) {
      u = { minuteStart: 0, minute: 0, dayStart: 0, day: 0, inFlight: 0 };
      usage.set(id, u);
    }
    return u;
  };

  /** Counts a call against the organisation's windows; a 429 when a configured limit is exceeded. */
  const admit = (id: string): { reply: FakeReply | null; headers: Record<string, string> } => {
    const now = Date.now();
    const u = usageOf(id);
    if (now - u.minuteStart >= 60_000) Object.assign(u, { minuteStart: now, minute: 0 });
    if (now - u.dayStart >= 86_400_000) Object.assign(u, { dayStart: now, day: 0 });
    if (now - appMinute.start >= 60_000) appMinute = { start: now, count: 0 };
    const limits = options.limits ?? {};
    const perMinute = limits.perMinute ?? XERO_LIMITS.perMinute;
    const perDay = limits.perDay ?? XERO_LIMITS.perDay;
    const headers = (): Record<string, string> => ({
      'X-MinLimit-Remaining': String(Math.max(0, perMinute - u.minute)),
      'X-DayLimit-Remaining': String(Math.max(0, perDay - u.day)),
      'X-AppMinLimit-Remaining': String(Math.max(0, XERO_LIMITS.appPerMinute - appMinute.count)),
    });
    const limited = (kind: string, retryAfterMs: number | null): FakeReply => ({
      status: 429,
      headers: { ...headers(), 'X-Rate-Limit-Problem': kind, ...(retryAfterMs !== null ? { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) } : {}) },
      body: 'Rate limit exceeded',
    });
    if (limits.concurrent !== undefined && u.inFlight > limits.concurrent) return { reply: limited('concurrent', null), headers: headers() };
    if (limits.perDay !== undefined && u.day >= limits.perDay) return { reply: limited('day', u.dayStart + 86_400_000 - now), headers: headers() };
    if (limits.perMinute !== undefined && u.minute >= limits.perMinute) return { reply: limited('minute', u.minuteStart + 60_000 - now), headers: headers() };
    u.minute += 1;
    u.day += 1;
    appMinute.count += 1;
    return { reply: null, headers: headers() };
  };

  const takeFault = (route: XeroRoute): XeroFault | undefined => faults.get(route)?.shift() ?? faults.get('*')?.shift();

  const faultReply = (fault: Exclude<XeroFault, { delayMs: number }>, headers: Record<string, string>): FakeReply => {
    if (fault === 'drop') return 'drop';
    if ('rateLimit' in fault) {
      const retry: Record<string, string> = fault.rateLimit === 'concurrent' ? {} : { 'Retry-After': String(fault.retryAfterSeconds ?? 60) };
      return { status: 429, headers: { ...headers, 'X-Rate-Limit-Problem': fault.rateLimit, ...retry }, body: 'Rate limit exceeded' };
    }
    if (fault.body !== undefined) return { status: fault.status, headers: { ...headers, ...fault.headers }, body: fault.body };
    return fault.status >= 500
      ? {
        status: fault.status,
        headers: { ...headers, ...fault.headers },
        body: { ErrorNumber: fault.status, Type: 'InternalServerError', Message: 'An error occurred in Xero. Check the API Status page http://status.developer.xero.com for current service status.' },
      }
      : { status: fault.status, headers: { ...headers, ...fault.headers }, body: '' };
  };

  /** A page of a collection as Xero lists it. */
  const page = <T extends { id: string; seq: number; updatedAt: number }>(
    req: FakeRequest, collection: Collection<T>, keep: (record: T) => boolean, render: (record: T, lines: boolean) => unknown, key: string,
  ): FakeReply => {
    const modified = req.headers['if-modified-since'];
    const sinceText = Array.isArray(modified) ? modified[0] : modified;
    const since = sinceText ? Date.parse(sinceText) : null;
    if (since !== null && Number.isNaN(since)) return validation(`If-Modified-Since ${sinceText} is not a date`);
    const order = (req.query.get('order') ?? '').trim();
    const ordering = order === '' ? 'created' : /^UpdatedDateUTC(\s+ASC)?$/i.test(order) ? 'asc' : /^UpdatedDateUTC\s+DESC$/i.test(order) ? 'desc' : null;
    if (ordering === null) return validation(`The order ${order} is not supported by this fake`);
    // The filtered list of a query holds while the collection does not change: a read is a binary search and a slice.
    const query = ['where', 'Statuses', 'IDs', 'includeArchived'].map((name) => req.query.get(name) ?? '').join('\u0000');
    const cacheKey = `${key}\u0000${ordering === 'created' ? 'created' : 'updated'}\u0000${query}`;
    let cached = filtered.get(cacheKey);
    if (!cached || cached.version !== collection.version || cached.owner !== collection) {
      cached = { version: collection.version, list: (ordering === 'created' ? collection.all : collection.byUpdated()).filter(keep), owner: collection };
      if (filtered.size >= 64) filtered.clear();
      filtered.set(cacheKey, cached);
    }
    const list = cached.list as T[];
    let matches: T[];
    if (ordering === 'created') matches = since === null ? list : list.filter((r) => r.updatedAt >= since);
    else {
      matches = since === null ? list : list.slice(collection.firstSince(since, list));
      if (ordering === 'desc') matches = [...matches].reverse();
    }
    const pageText = req.query.get('page');
    const summary = req.query.get('summaryOnly') === 'true';
    const envelope = { Id: crypto.randomUUID(), Status: 'OK', ProviderName: 'ARBridge tests', DateTimeUTC: msDate(Date.now()) };
    if (pageText === null) return json(200, { ...envelope, [key]: matches.map((r) => render(r, false)) });
    const pageNumber = Number(pageText);
    const sizeText = req.query.get('pageSize');
    const pageSize = sizeText === null ? 100 : Math.min(1000, Number(sizeText));
    if (!Number.isInteger(pageNumber) || pageNumber < 1) return validation(`page ${pageText} is not a page number`);
    if (!Number.isInteger(pageSize) || pageSize < 1) return validation(`pageSize ${sizeText ?? ''} is not a page size`);
    const slice = matches.slice((pageNumber - 1) * pageSize, pageNumber * pageSize);
    return json(200, {
      ...envelope,
      pagination: { page: pageNumber, pageSize, pageCount: Math.ceil(matches.length / pageSize), itemCount: matches.length },
      [key]: slice.map((r) => render(r, !summary)),
    });
  };

  const handle = (route: XeroRoute, req: FakeRequest, org: XeroOrg): FakeReply => {
    const statuses = list(req.query.get('Statuses'));
    const ids = list(req.query.get('IDs'));
    const idSet = ids ? new Set(ids) : null;
    switch (route) {
      case 'Contacts': {
        const includeArchived = req.query.get('includeArchived') === 'true';
        const where = parseWhere<ContactRecord>(req.query.get('where'), {
          IsCustomer: (c) => c.isCustomer, IsSupplier: (c) => c.isSupplier, ContactStatus: (c) => c.status, Name: (c) => c.name,
          EmailAddress: (c) => c.email, ContactID: (c) => c.id,
        });
        return page(req, org.contacts, (c) => (idSet === null || idSet.has(c.id)) && (includeArchived || idSet !== null || c.status !== 'ARCHIVED') && where(c),
          (c) => renderContact(c), 'Contacts');
      }
      case 'Invoices': {
        const where = parseWhere<InvoiceRecord>(req.query.get('where'), {
          Type: (i) => i.type, Status: (i) => i.status, InvoiceNumber: (i) => i.number, 'Contact.ContactID': (i) => i.contactId, InvoiceID: (i) => i.id,
          CurrencyCode: (i) => i.currency, Reference: (i) => i.reference,
        });
        const statusSet = statuses ? new Set(statuses) : null;
        return page(req, org.invoices, (i) => (idSet === null || idSet.has(i.id)) && (statusSet === null || statusSet.has(i.status)) && where(i),
          (i, lines) => renderInvoice(org, i, lines), 'Invoices');
      }
      case 'Invoice': {
        const id = decodeURIComponent(req.params[0] ?? '');
        const invoice = org.invoices.byId.get(id) ?? org.invoices.all.find((i) => i.number === id);
        if (!invoice) return { status: 404, headers: { 'Content-Type': 'text/html; charset=utf-8' }, body: 'The resource you\'re looking for cannot be found' };
        return json(200, { Id: crypto.randomUUID(), Status: 'OK', ProviderName: 'ARBridge tests', DateTimeUTC: msDate(Date.now()), Invoices: [renderInvoice(org, invoice, true)] });
      }
      case 'Payments': {
        const where = parseWhere<PaymentRecord>(req.query.get('where'), {
          PaymentType: (p) => (org.invoice(p.invoiceId).type === 'ACCREC' ? 'ACCRECPAYMENT' : 'ACCPAYPAYMENT'), Status: (p) => p.status,
          'Invoice.InvoiceID': (p) => p.invoiceId, Reference: (p) => p.reference,
        });
        return page(req, org.payments, where, (p) => renderPayment(org, p), 'Payments');
      }
      case 'CreditNotes':
      case 'Overpayments':
      case 'Prepayments': {
        const collection = route === 'CreditNotes' ? org.creditNotes : route === 'Overpayments' ? org.overpayments : org.prepayments;
        const where = parseWhere<CreditRecord>(req.query.get('where'), { Type: (n) => n.type, Status: (n) => n.status, 'Contact.ContactID': (n) => n.contactId });
        return page(req, collection, where, (n, lines) => renderCredit(org, n, lines), route);
      }
    }
  };

  const serve = (route: XeroRoute) => async (req: FakeRequest): Promise<FakeReply> => {
    const tenantHeader = req.headers['xero-tenant-id'];
    const tenant = (Array.isArray(tenantHeader) ? tenantHeader[0] : tenantHeader) ?? null;
    const modified = req.headers['if-modified-since'];
    const entry: XeroRequestLog = {
      route, method: req.method, path: req.path, query: Object.fromEntries(req.query), tenantId: tenant,
      ifModifiedSince: (Array.isArray(modified) ? modified[0] : modified) ?? null, status: 0, at: Date.now(),
    };
    const finish = (reply: FakeReply): FakeReply => {
      entry.status = reply === 'drop' ? 'dropped' : reply.status;
      requests.push(entry);
      if (reply !== 'drop' && options.onResponse) {
        let body: unknown = reply.body;
        if (typeof body === 'string') {
          try {
            body = JSON.parse(body);
          } catch {
            // text bodies (404, 429) stay text
          }
        }
        options.onResponse(entry, body);
      }
      return reply;
    };
    const token = bearer(req.headers.authorization);
    const reachable = token === null ? null : token === accessToken ? tenantIds : identity.tenantsOf(token);
    if (reachable === null) {
      return finish(problem(401, 'Unauthorized', 'AuthenticationUnsuccessful', { 'WWW-Authenticate': 'Bearer error="invalid_token"' }));
    }
    if (tenant === null || !reachable.includes(tenant)) return finish(problem(403, 'Forbidden', 'AuthenticationUnsuccessful'));
    const u = usageOf(tenant);
    u.inFlight += 1;
    try {
      const { reply: limited, headers } = admit(tenant);
      if (limited) return finish(limited);
      let fault = takeFault(route);
      while (fault !== undefined && fault !== 'drop' && 'delayMs' in fault) {
        await new Promise((resolve) => setTimeout(resolve, (fault as { delayMs: number }).delayMs));
        fault = takeFault(route);
      }
      if (fault !== undefined) return finish(faultReply(fault, headers));
      let reply: FakeReply;
      try {
        reply = handle(route, req, orgOf(tenant));
      } catch (error) {
        if (error instanceof BadRequest) reply = validation(error.message, 'QueryParseException', 16);
        else throw error;
      }
      if (reply !== 'drop') reply = { status: reply.status, headers: { ...headers, ...reply.headers }, ...(reply.body !== undefined ? { body: reply.body } : {}) };
      return finish(reply);
    } finally {
      u.inFlight -= 1;
    }
  };

  for (const { pattern, route } of ROUTES) identity.route('GET', pattern, `xero-api:${route}`, serve(route));

  const toEvent = (tenant: string, e: QueuedEvent): XeroWebhookEvent => {
    const path = e.category === 'CONTACT' ? 'Contacts' : e.category === 'INVOICE' ? 'Invoices' : 'CreditNotes';
    return {
      resourceUrl: `https://api.xero.com/api.xro/2.0/${path}/${e.resourceId}`,
      resourceId: e.resourceId,
      tenantId: tenant,
      tenantType: 'ORGANISATION',
      eventCategory: e.category,
      eventType: e.type,
      eventDateUtc: eventDate(e.at),
      ...(e.data ? { data: e.data } : {}),
    };
  };
  const pendingEvents = (): XeroWebhookEvent[] => [...orgs].flatMap(([tenant, org]) => org.events.map((e) => toEvent(tenant, e)));

  const webhookPayload = (events: XeroWebhookEvent[], opts: { signWith?: string; sequence?: number } = {}): { body: string; signature: string } => {
    const first = opts.sequence ?? (events.length === 0 ? 0 : sequence + 1);
    if (opts.sequence === undefined && events.length > 0) sequence += events.length;
    const entropy = Array.from(crypto.randomBytes(20), (b) => ENTROPY[b % ENTROPY.length]).join('');
    const body = JSON.stringify({
      events,
      firstEventSequence: first,
      lastEventSequence: events.length === 0 ? first : first + events.length - 1,
      entropy,
    });
    return { body, signature: crypto.createHmac('sha256', opts.signWith ?? webhookKey).update(body).digest('base64') };
  };

  const post = async (url: string, body: string, signature: string): Promise<WebhookDelivery> => {
    const response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', 'x-xero-signature': signature }, body });
    return { status: response.status, body: await response.text(), payload: body, signature };
  };

  const takeEvents = (): XeroWebhookEvent[] => {
    const events = pendingEvents();
    for (const org of orgs.values()) org.events.length = 0;
    return events;
  };

  orgOf(tenantId);

  return {
    get url() { return identity.url; },
    identity,
    tenantId,
    get accessToken() { return accessToken; },
    webhookKey,
    get org() { return orgOf(tenantId); },
    orgOf,
    seed: (data, tenant = tenantId) => orgOf(tenant).seed(data),
    requests,
    failNext: (route, fault) => {
      const queue = faults.get(route) ?? [];
      queue.push(fault);
      faults.set(route, queue);
    },
    pendingEvents,
    takeEvents,
    webhookPayload,
    deliverWebhook: async (url, events, opts = {}) => {
      const { body, signature } = webhookPayload(events ?? takeEvents(), opts);
      return post(url, body, signature);
    },
    intentToReceive: async (url, opts = { signed: true }) => {
      const { body, signature } = webhookPayload([], { sequence: 0, ...(opts.signed ? {} : { signWith: crypto.randomBytes(32).toString('base64') }) });
      return post(url, body, signature);
    },
    reset: () => {
      orgs.clear();
      filtered.clear();
      orgOf(tenantId);
      requests.length = 0;
      faults.clear();
      usage.clear();
      accessToken = identity.tenantsOf(accessToken) ? accessToken : identity.grant(tenantIds).accessToken;
    },
    close: async () => {
      if (owned) await identity.close();
    },
  };
};
