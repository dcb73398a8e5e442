import { startFakeQuickBooks, type FakeQuickBooks } from '../accounting-oauth/quickbooks';
import { bearer, json, type FakeReply, type FakeRequest } from '../accounting-oauth/http';
import { Company, ENTITIES, FakeDataError, type ChangeEvent, type Entity, type EntityInput, type QboObject, type Row } from './company';
import { generateCompany, type GeneratedCompany, type GenerateOptions } from './generate';
import { compareValues, matches, parseQuery, propertyOf, QueryError, type Condition } from './query';
import { webhookDelivery, type WebhookDelivery, type WebhookFormat } from './webhooks';

/**
 * A fake QuickBooks Online Accounting API on 127.0.0.1, stateful, on Intuit's paths and payloads:
 * - `GET|POST /v3/company/{realmId}/query?query=…` (the query subset in query.ts): `{"QueryResponse":{"Invoice":[…],
 *   "startPosition","maxResults"},"time"}`; customers are active ones unless the query names `Active`;
 * - `GET /v3/company/{realmId}/cdc?entities=…&changedSince=…`: `{"CDCResponse":[{"QueryResponse":[{"Invoice":[…]},…]}],
 *   "time"}`, deleted objects as `{"Id","status":"Deleted"}`, at most `cdcLimit` objects per entity, 30 days back;
 * - `GET /v3/company/{realmId}/{entity}/{id}` and `/preferences`; `/companyinfo/{realmId}` is the OAuth fake's.
 * Bearer tokens are those the Intuit OAuth fake (test/fakes/accounting-oauth/quickbooks.ts) issued for the company:
 * the data routes mount on that fake's server, so one URL plays every Intuit host. Errors are Intuit Faults
 * (`{"Fault":{"Error":[{"Message","Detail","code"}],"type"},"time"}`); 500 requests a minute and 10 at a time per
 * company, then 429. Writes (create, update, void, delete) emit change events, delivered as signed webhooks.
 */

export type FakeCompanyOptions = {
  realmId: string;
  companyName?: string;
  homeCurrency?: string;
  /** The company's zone for MetaData times (minutes from UTC; Pacific by default). */
  utcOffsetMinutes?: number;
};

export type FakeQuickBooksApiOptions = {
  /** Mount on this Intuit OAuth fake; one is started (and closed with this fake) when absent. */
  oauth?: FakeQuickBooks;
  /** The companies (the OAuth fake's must list the same realms for CompanyInfo). */
  companies?: FakeCompanyOptions[];
  clientId?: string;
  clientSecret?: string;
  /** The app's webhook verifier token. */
  verifierToken?: string;
  /** Most objects of one entity in a CDC answer (Intuit: 1000). */
  cdcLimit?: number;
  /** Per company; null turns the limit off. */
  requestsPerMinute?: number | null;
  maxConcurrent?: number | null;
};

export type DataRoute = 'query' | 'cdc' | 'read' | 'preferences';

/**
 * An injected answer: a 429 (with Retry-After seconds when given), another status, the real answer held back (for a
 * time, or until a promise settles: a slow request still counts against the 10 at a time), or a dropped connection.
 */
export type Fault =
  | { status: 429; retryAfter?: number | string }
  | { status: number; body?: object; headers?: Record<string, string> }
  | { delayMs: number }
  | { until: Promise<unknown> }
  | 'drop';

export type LoggedRequest = {
  route: DataRoute;
  realmId: string;
  status: number | 'dropped';
  /** The query text (query), or `entities` and `changedSince` (cdc). */
  query?: string;
  entities?: string;
  changedSince?: string;
  at: number;
};

export type SeedData = Partial<GeneratedCompany> & { refundReceipts?: EntityInput['RefundReceipt'][] };

export type FakeQuickBooksApi = {
  url: string;
  oauth: FakeQuickBooks;
  /** QUICKBOOKS_* endpoint variables (every one of them this server). */
  env(): Record<string, string>;
  verifierToken: string;
  company(realmId: string): Company;
  /** An access token for the company, as a completed connect flow issues it. */
  token(realmId: string): string;
  /** Adds objects without change events (customers first, then invoices, credit memos, payments); `at` backdates them. */
  seed(realmId: string, data: SeedData, options?: { at?: Date }): void;
  /** Seeds a generated company (generate.ts) and returns what was generated. */
  generate(realmId: string, options: GenerateOptions): GeneratedCompany;
  create<E extends Entity>(realmId: string, entity: E, input: EntityInput[E]): QboObject;
  update<E extends Entity>(realmId: string, entity: E, id: string, patch: Partial<EntityInput[E]>): QboObject;
  voidInvoice(realmId: string, id: string): QboObject;
  delete(realmId: string, entity: Entity, id: string): void;
  /** The fake's clock (epoch ms) and a way to move it forward (CDC's 30-day window, MetaData times). */
  now(): number;
  advance(ms: number): void;
  failNext(route: DataRoute, fault: Fault): void;
  /** Every data request, injected faults included, in order. */
  requests: LoggedRequest[];
  /** Change events not yet taken, oldest first, across companies. */
  pendingEvents(): ChangeEvent[];
  takeEvents(): ChangeEvent[];
  /** One delivery of the events, signed with the verifier token (or another one). */
  webhookDelivery(events: readonly ChangeEvent[], format: WebhookFormat, verifierToken?: string): WebhookDelivery;
  /** POSTs the pending events to `url` as one signed delivery and takes them; answers the receiver's status. */
  deliverWebhooks(url: string, format: WebhookFormat): Promise<{ status: number; delivery: WebhookDelivery } | null>;
  close(): Promise<void>;
};

const DEFAULT_COMPANY: FakeCompanyOptions = { realmId: '9130357766900456', companyName: 'Craig\'s Design and Landscaping Services', homeCurrency: 'USD' };
const CDC_DAYS = 30;

const fault = (status: number, type: string, errors: { Message: string; Detail?: string; code: string }[], time: string, headers: Record<string, string> = {}): FakeReply =>
  json(status, { Fault: { Error: errors, type }, time }, headers);

const jsonText = (body: string): FakeReply => ({ status: 200, body, headers: { 'Content-Type': 'application/json' } });

const LAST_UPDATED = 'metadata.lastupdatedtime';

/** A condition on a row: Active, Id and LastUpdatedTime from the row itself, anything else from the object. */
const rowMatches = (company: Company, row: Row, condition: Condition): boolean => {
  const field = condition.field.toLowerCase();
  if (field === 'active') return matches({ Active: row.active }, condition);
  if (field === 'id') return matches({ Id: row.id }, condition);
  // LastUpdatedTime is shown to the second; it compares as shown.
  if (field === LAST_UPDATED) return matches({ MetaData: { LastUpdatedTime: new Date(Math.floor(row.updatedMs / 1000) * 1000).toISOString() } }, condition);
  return matches(company.parse(row), condition);
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const startFakeQuickBooksApi = async (options: FakeQuickBooksApiOptions = {}): Promise<FakeQuickBooksApi> => {
  const companyOptions = options.companies ?? [DEFAULT_COMPANY];
  const ownOAuth = options.oauth === undefined;
  const oauth = options.oauth ?? await startFakeQuickBooks({
    clientId: options.clientId, clientSecret: options.clientSecret,
    companies: companyOptions.map((c) => ({ realmId: c.realmId, companyName: c.companyName ?? `Company ${c.realmId}` })),
  });
  const verifierToken = options.verifierToken ?? 'qbo-webhook-verifier-token';
  const cdcLimit = options.cdcLimit ?? 1000;
  const perMinute = options.requestsPerMinute === undefined ? 500 : options.requestsPerMinute;
  const maxConcurrent = options.maxConcurrent === undefined ? 10 : options.maxConcurrent;

  let offsetMs = 0;
  let last = 0;
  const clock = (): number => {
    last = Math.max(Date.now() + offsetMs, last + 1);
    return last;
  };
  const peek = (): number => Math.max(Date.now() + offsetMs, last);

  const companies = new Map(companyOptions.map((c) => [c.realmId, new Company(c.realmId, (c.homeCurrency ?? 'USD').toUpperCase(), c.utcOffsetMinutes ?? -480, clock)]));
  const companyOf = (realmId: string): Company => {
    const company = companies.get(realmId);
    if (!company) throw new FakeDataError(`The fake has no company ${realmId}`);
    return company;
  };

  const faults = new Map<DataRoute, Fault[]>();
  const requests: LoggedRequest[] = [];
  const started = new Map<string, number[]>();
  const running = new Map<string, number>();

  const entityNamed = (name: string): Entity | null => ENTITIES.find((e) => e.toLowerCase() === name.toLowerCase()) ?? null;

  /** Auth, injected faults, limits, then the route's own answer; every request is logged. */
  const serve = (route: DataRoute, answer: (company: Company, req: FakeRequest, time: () => string) => FakeReply) =>
    async (req: FakeRequest): Promise<FakeReply> => {
      const realmId = req.params[0] as string;
      const entry: LoggedRequest = { route, realmId, status: 0, at: Date.now() };
      if (route === 'query') entry.query = req.query.get('query') ?? req.body;
      if (route === 'cdc') {
        entry.entities = req.query.get('entities') ?? '';
        entry.changedSince = req.query.get('changedSince') ?? '';
      }
      requests.push(entry);
      const company = companies.get(realmId);
      const time = (): string => (company ? company.time(clock(), true) : new Date(clock()).toISOString());
      const settle = (reply: FakeReply): FakeReply => {
        entry.status = reply === 'drop' ? 'dropped' : reply.status;
        return reply;
      };
      let hold: (() => Promise<unknown>) | null = null;
      const injected = faults.get(route)?.shift();
      if (injected === 'drop') return settle('drop');
      if (injected && 'delayMs' in injected) hold = () => sleep(injected.delayMs);
      else if (injected && 'until' in injected) hold = () => injected.until.catch(() => undefined);
      else if (injected) {
        if (injected.status === 429 && !('body' in injected && injected.body)) {
          const retryAfter = 'retryAfter' in injected && injected.retryAfter !== undefined ? { 'Retry-After': String(injected.retryAfter) } : undefined;
          return settle(fault(429, 'SERVICE', [{ Message: 'message=ThrottleExceeded; errorCode=003001; statusCode=429', Detail: 'The request limit was reached.', code: '3001' }], time(), retryAfter));
        }
        const body = 'body' in injected && injected.body ? injected.body
          : { Fault: { Error: [{ Message: 'An application error has occurred while processing your request', Detail: 'System Failure Error: fault injected by the fake', code: '10000' }], type: 'SystemFault' }, time: time() };
        return settle({ status: injected.status, body, headers: 'headers' in injected ? injected.headers : undefined });
      }
      if (!company || oauth.realmOf(bearer(req.headers.authorization) ?? '') !== realmId) {
        return settle(fault(401, 'AUTHENTICATION', [{ Message: 'message=AuthenticationFailed; errorCode=003200; statusCode=401', code: '3200' }], time()));
      }
      if (!(req.headers.accept ?? '').includes('application/json')) {
        return settle({ status: 406, body: 'This fake answers JSON only: send Accept: application/json' });
      }
      const now = Date.now();
      const recent = (started.get(realmId) ?? []).filter((t) => t > now - 60_000);
      const inFlight = running.get(realmId) ?? 0;
      if ((perMinute !== null && recent.length >= perMinute) || (maxConcurrent !== null && inFlight >= maxConcurrent)) {
        started.set(realmId, recent);
        return settle(fault(429, 'SERVICE', [{ Message: 'message=ThrottleExceeded; errorCode=003001; statusCode=429', Detail: 'The request limit was reached.', code: '3001' }], time()));
      }
      recent.push(now);
      started.set(realmId, recent);
      running.set(realmId, inFlight + 1);
      try {
        if (hold) await hold();
        return settle(answer(company, req, time));
      } finally {
        running.set(realmId, (running.get(realmId) ?? 1) - 1);
      }
    };

  // https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/data-queries
  const query = serve('query', (company, req, time) => {
    const text = req.query.get('query') ?? (req.method === 'POST' ? req.body : '');
    let parsed;
    try {
      parsed = parseQuery(text);
    } catch (error) {
      if (!(error instanceof QueryError)) throw error;
      return fault(400, 'ValidationFault', [{ Message: 'Error parsing query', Detail: `QueryParserError: ${error.message}`, code: '4000' }], time());
    }
    const entity = entityNamed(parsed.entity);
    if (!entity) return fault(400, 'ValidationFault', [{ Message: 'Error parsing query', Detail: `QueryParserError: Invalid entity ${parsed.entity}`, code: '4000' }], time());
    const where = [...parsed.where];
    // Name lists (customers) answer active objects unless the query asks about Active.
    if (entity === 'Customer' && !where.some((c) => c.field.toLowerCase() === 'active')) where.push({ field: 'Active', op: '=', value: true });
    let rows: readonly Row[] = company.table(entity);
    if (where.length > 0) rows = rows.filter((row) => where.every((condition) => rowMatches(company, row, condition)));
    const order = parsed.orderBy;
    const field = order?.field.toLowerCase();
    if (order && field !== 'id') {
      const key = (row: Row): unknown => (field === 'metadata.lastupdatedtime' ? row.updatedMs : propertyOf(company.parse(row), order.field));
      const keyed = rows.map((row) => ({ row, key: key(row) }));
      keyed.sort((a, b) => (order.descending ? -1 : 1) * compareValues(a.key, b.key) || compareValues(a.row.id, b.row.id));
      rows = keyed.map((k) => k.row);
    } else if (order?.descending) {
      rows = [...rows].reverse();
    }
    if (parsed.count) return json(200, { QueryResponse: { totalCount: rows.length }, time: time() });
    const page = rows.slice(parsed.startPosition - 1, parsed.startPosition - 1 + parsed.maxResults);
    const answer = page.length === 0 ? '{}'
      : `{${JSON.stringify(entity)}:[${page.map((row) => row.text).join(',')}],"startPosition":${parsed.startPosition},"maxResults":${page.length}}`;
    return jsonText(`{"QueryResponse":${answer},"time":${JSON.stringify(time())}}`);
  });
  oauth.route('GET', /^\/v3\/company\/(\d+)\/query$/, 'qbo-query', query);
  oauth.route('POST', /^\/v3\/company\/(\d+)\/query$/, 'qbo-query', query);

  // https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/change-data-capture
  oauth.route('GET', /^\/v3\/company\/(\d+)\/cdc$/, 'qbo-cdc', serve('cdc', (company, req, time) => {
    const names = (req.query.get('entities') ?? '').split(',').map((n) => n.trim()).filter(Boolean);
    const entities = names.map(entityNamed);
    if (names.length === 0 || entities.some((e) => e === null)) {
      return fault(400, 'ValidationFault', [{ Message: 'Invalid entities', Detail: `entities must name CDC entities: ${req.query.get('entities') ?? ''}`, code: '2030' }], time());
    }
    const changedSince = req.query.get('changedSince') ?? '';
    const sinceMs = Date.parse(changedSince);
    if (!/^\d{4}-\d{2}-\d{2}/.test(changedSince) || Number.isNaN(sinceMs)) {
      return fault(400, 'ValidationFault', [{ Message: 'Invalid changedSince', Detail: `changedSince is not a date-time: ${changedSince}`, code: '2030' }], time());
    }
    if (sinceMs < peek() - CDC_DAYS * 86_400_000) {
      return fault(400, 'ValidationFault', [{ Message: 'Invalid changedSince', Detail: `changedSince cannot be more than ${CDC_DAYS} days in the past`, code: '2030' }], time());
    }
    const parts = (entities as Entity[]).map((entity) => {
      const changed = company.table(entity).filter((row) => row.updatedMs >= sinceMs).map((row) => ({ at: row.updatedMs, text: row.text }));
      const deleted = company.deletedSince(entity, sinceMs).map((t) => ({
        at: t.deletedMs, text: JSON.stringify({ domain: 'QBO', status: 'Deleted', Id: t.id, MetaData: { LastUpdatedTime: t.lastUpdated } }),
      }));
      const list = [...changed, ...deleted].sort((a, b) => a.at - b.at).slice(0, cdcLimit).map((c) => c.text);
      return list.length === 0 ? '{}'
        : `{${JSON.stringify(entity)}:[${list.join(',')}],"startPosition":1,"maxResults":${list.length},"totalCount":${list.length}}`;
    });
    return jsonText(`{"CDCResponse":[{"QueryResponse":[${parts.join(',')}]}],"time":${JSON.stringify(time())}}`);
  }));

  // https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/preferences
  oauth.route('GET', /^\/v3\/company\/(\d+)\/preferences$/, 'qbo-preferences', serve('preferences', (company, _req, time) => json(200, {
    Preferences: {
      CurrencyPrefs: { MultiCurrencyEnabled: company.multiCurrency(), HomeCurrency: { value: company.homeCurrency } },
      SalesFormsPrefs: { AllowDeposit: true, AllowDiscount: true, DefaultTerms: { value: '3' } },
      domain: 'QBO', sparse: false, Id: '1', SyncToken: '0',
    },
    time: time(),
  })));

  oauth.route('GET', /^\/v3\/company\/(\d+)\/(customer|invoice|payment|creditmemo|refundreceipt)\/(\d+)$/i, 'qbo-read', serve('read', (company, req, time) => {
    const entity = entityNamed(req.params[1] as string) as Entity;
    const object = company.get(entity, req.params[2] as string);
    if (!object) return fault(400, 'ValidationFault', [{ Message: 'Object Not Found', Detail: `Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees.`, code: '610' }], time());
    return json(200, { [entity]: object, time: time() });
  }));

  const pending = (): ChangeEvent[] => [...companies.values()].flatMap((c) => c.events).sort((a, b) => a.at - b.at);

  const api: FakeQuickBooksApi = {
    get url() { return oauth.url; },
    oauth,
    env: () => oauth.env(),
    verifierToken,
    company: companyOf,
    token: (realmId) => {
      companyOf(realmId);
      return oauth.grant(realmId).accessToken;
    },
    seed(realmId, data, seedOptions = {}) {
      const at = seedOptions.at ? Math.min(seedOptions.at.getTime(), clock()) : clock();
      companyOf(realmId).load({
        Customer: data.customers, Invoice: data.invoices, CreditMemo: data.creditMemos, RefundReceipt: data.refundReceipts, Payment: data.payments,
      }, at);
    },
    generate(realmId, generateOptions) {
      const generated = generateCompany(generateOptions);
      api.seed(realmId, generated);
      return generated;
    },
    create: (realmId, entity, input) => companyOf(realmId).create(entity, input),
    update: (realmId, entity, id, patch) => companyOf(realmId).update(entity, id, patch),
    voidInvoice: (realmId, id) => companyOf(realmId).voidInvoice(id),
    delete: (realmId, entity, id) => companyOf(realmId).delete(entity, id),
    now: peek,
    advance: (ms) => {
      offsetMs += ms;
    },
    failNext: (route, injected) => {
      faults.set(route, [...(faults.get(route) ?? []), injected]);
    },
    requests,
    pendingEvents: pending,
    takeEvents: () => {
      const events = pending();
      for (const company of companies.values()) company.events.length = 0;
      return events;
    },
    webhookDelivery: (events, format, token = verifierToken) => webhookDelivery(events, format, token),
    async deliverWebhooks(url, format) {
      const events = api.takeEvents();
      if (events.length === 0) return null;
      const delivery = webhookDelivery(events, format, verifierToken);
      const response = await fetch(url, { method: 'POST', headers: delivery.headers, body: delivery.body });
      await response.arrayBuffer();
      return { status: response.status, delivery };
    },
    close: async () => {
      if (ownOAuth) await oauth.close();
    },
  };
  return api;
};

export { Company, FakeDataError, generateCompany };
export type { ChangeEvent, Entity, EntityInput, GeneratedCompany, GenerateOptions, QboObject, WebhookDelivery, WebhookFormat };
