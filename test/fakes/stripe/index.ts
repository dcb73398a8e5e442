/**
 * A fake Stripe API for tests and benchmarks: a stateful HTTP server on 127.0.0.1 answering the v1 paths the
 * stripe SDK reads (customers, invoices and their lines, invoice payments, payment intents, charges, refunds,
 * credit notes, events, account, balance) in Stripe's shapes: list envelopes paged by `limit`/`starting_after`/
 * `ending_before`, `expand[]` up to four levels, Stripe's error bodies, bearer keys (restricted keys may lack a
 * permission), `Stripe-Account` for connected accounts, events kept 30 days by the fake's clock. Mutations
 * (see AccountData) change objects and append the events Stripe would send; `deliverWebhook` posts an event signed
 * the way Stripe signs (`Stripe-Signature: t=…,v1=HMAC-SHA256(secret, "t.payload")`). Faults (429 with Retry-After,
 * 500, dropped connections, slow answers) are injected per route or path, once or N times. Every request is logged.
 */
import crypto from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bearer, type FakeReply, type LoggedCall } from '../accounting-oauth/http';
import { invalid, inRange, int, missing, parseParams, range, str, strings, StripeFakeError, type Params } from './params';
import {
  API_VERSION, list, renderAccount, renderBalance, renderCharge, renderCreditNote, renderCustomer, renderEvent,
  renderInvoice, renderInvoicePayment, renderLine, renderPaymentIntent, renderRecord, renderRefund,
} from './render';
import { AccountData, base62, type Collection, type EventRecord, type InvoicePaymentRecord, type InvoiceRecord, type SeedData } from './state';

export { AccountData, amountDue, amountRemaining, appliedBalance, RETENTION_SECONDS } from './state';
export type * from './state';
export { generateStripeData, type GenerateOptions } from './generate';

export type FakeStripeKey = {
  account: { id: string; displayName?: string; businessName?: string; email?: string };
  /** A restricted key's permissions; a secret key may read everything. */
  canReadAccount?: boolean;
  canReadInvoices?: boolean;
  /** A Connect platform's key: the connected accounts it may act for with `Stripe-Account` (other keys may not send it). */
  connected?: string[];
};

export type StripeCall = LoggedCall & {
  /** Arrival, epoch ms. */
  at: number;
  query: string;
  /** The account the request acted for (Stripe-Account, or the key's own). */
  account: string | null;
  stripeAccountHeader: string | null;
  apiVersion: string | null;
  /** Answered by an injected fault. */
  fault: boolean;
};

export type FakeStripeOptions = {
  /** The account data is seeded into when none is named; default acct_1ARBridgeFake00. */
  account?: string;
  /** Endpoint secret deliverWebhook signs with; default a fixed whsec_…. */
  webhookSecret?: string;
  /** The fake's clock at start, unix seconds; default now. */
  now?: number;
};

type Json = Record<string, unknown>;

export type FakeStripe = {
  url: string;
  calls: StripeCall[];
  count(path: string | RegExp): number;
  /**
   * The next `times` calls of a route (its name: 'account', 'invoices', 'invoice', 'invoice_lines', 'customers',
   * 'events', …) or of a path (a string starting with '/', or a RegExp) get this answer instead.
   */
  failNext(target: string | RegExp, reply: FakeReply, times?: number): void;
  /** The next `times` calls of the route or path are answered as usual, `delayMs` late. */
  slowNext(target: string | RegExp, delayMs: number, times?: number): void;
  addKey(key: string, spec?: FakeStripeKey): void;
  /** The API keys each call authenticated with, in order. */
  keysSeen(): string[];
  readonly defaultAccount: string;
  /** The account's data and mutations (created on first use). */
  account(id?: string): AccountData;
  seed(data: SeedData, account?: string): void;
  clock: { now(): number; set(unix: number): void; advance(seconds: number): void };
  readonly webhookSecret: string;
  /** The event as the API renders it (also for pruned ones, so a test may deliver an old event). */
  event(id: string, account?: string): Json;
  /** Visible events, oldest first. */
  events(account?: string): Json[];
  /** Stripe-Signature for a payload. */
  signature(payload: string, options?: { secret?: string; timestamp?: number }): string;
  /** POSTs the event (an id or an object) to `url`, signed; returns the answer. */
  deliverWebhook(url: string, event: string | Json, options?: { secret?: string; timestamp?: number; account?: string }): Promise<{ status: number; body: string }>;
  /** Forgets calls, faults and keys seen (not data). */
  reset(): void;
  close(): Promise<void>;
};

/** Stripe's 429: `Retry-After` in seconds. */
export const rateLimited = (retryAfterSeconds = 1): FakeReply => ({
  status: 429,
  headers: { 'Retry-After': String(retryAfterSeconds), 'Request-Id': requestId() },
  body: { error: { code: 'rate_limit', doc_url: 'https://stripe.com/docs/error-codes/rate-limit', message: 'Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.', type: 'invalid_request_error' } },
});

export const serverError = (): FakeReply => ({
  status: 500,
  headers: { 'Request-Id': requestId() },
  body: { error: { message: 'Sorry, something went wrong. We\'ve already been notified of the problem.', type: 'api_error' } },
});

const requestId = (): string => `req_${crypto.randomBytes(7).toString('hex')}`;

const masked = (key: string): string => `${key.slice(0, 8)}${'*'.repeat(Math.max(0, key.length - 12))}${key.slice(-4)}`;

const errorReply = (e: StripeFakeError): FakeReply => ({
  status: e.status,
  headers: { 'Request-Id': requestId() },
  body: {
    error: {
      message: e.message, type: e.type, ...(e.code ? { code: e.code, doc_url: `https://stripe.com/docs/error-codes/${e.code.replace(/_/g, '-')}` } : {}),
      ...(e.param ? { param: e.param } : {}),
    },
  },
});

type Ctx = { params: Params; path: string[]; account: AccountData; spec: FakeStripeKey; key: string };
type Handler = (ctx: Ctx) => Json;
type Route = { name: string; pattern: RegExp; allowed: readonly string[]; permission?: 'canReadAccount' | 'canReadInvoices'; run: Handler };

const PAGING = ['limit', 'starting_after', 'ending_before', 'expand'] as const;

export const signPayload = (payload: string, secret: string, timestamp: number): string =>
  `t=${timestamp},v1=${crypto.createHmac('sha256', secret).update(`${timestamp}.${payload}`, 'utf8').digest('hex')}`;

export const startFakeStripe = async (options: FakeStripeOptions = {}): Promise<FakeStripe> => {
  const defaultAccount = options.account ?? 'acct_1ARBridgeFake00';
  const webhookSecret = options.webhookSecret ?? 'whsec_ARBridgeFakeEndpointSecret0001';
  let time = options.now ?? Math.floor(Date.now() / 1000);
  const clock = {
    now: () => time,
    tick: () => { time += 1; return time; },
    set: (unix: number) => { time = unix; },
    advance: (seconds: number) => { time += seconds; },
  };
  let seq = 0;
  const nextId = (prefix: string): string => `${prefix}_1Fk${base62(++seq, 11)}`;
  const accounts = new Map<string, AccountData>();
  const accountOf = (id = defaultAccount): AccountData => {
    let found = accounts.get(id);
    if (!found) {
      found = new AccountData(id, clock, nextId);
      accounts.set(id, found);
    }
    return found;
  };
  const keys = new Map<string, FakeStripeKey>();
  const calls: StripeCall[] = [];
  let seen: string[] = [];
  /** A fault answers `reply` instead, or (reply null) answers as usual after `delayMs`. */
  type Fault = { target: string | RegExp; reply: FakeReply | null; delayMs: number; left: number };
  let faults: Fault[] = [];

  // --- listing ---------------------------------------------------------------------------------------------------

  const limitOf = (params: Params): number => {
    const limit = int(params, 'limit') ?? 10;
    if (limit < 1 || limit > 100) throw invalid('Invalid integer: limit; must be between 1 and 100', 'limit');
    return limit;
  };

  /** A page of the collection, newest first, of items that `match`. */
  const page = <T extends { id: string; created: number }>(
    ctx: Ctx, col: Collection<T>, what: string, match: (item: T) => boolean, url: string, render: (item: T) => Json,
  ): Json => {
    const { params } = ctx;
    const limit = limitOf(params);
    const after = str(params, 'starting_after');
    const before = str(params, 'ending_before');
    if (after && before) throw invalid('You may only specify one of these parameters: starting_after, ending_before.', 'ending_before');
    const found: T[] = [];
    if (before) {
      const at = col.position(before);
      if (at < 0 || !match(col.items[at] as T)) throw missing(what, before, 'ending_before');
      for (let i = at + 1; i < col.items.length && found.length <= limit; i += 1) {
        const item = col.items[i] as T;
        if (match(item)) found.push(item);
      }
      const data = found.slice(0, limit).reverse().map(render);
      return list(url, data, found.length > limit);
    }
    let start = col.items.length - 1;
    if (after) {
      const at = col.position(after);
      if (at < 0 || !match(col.items[at] as T)) throw missing(what, after, 'starting_after');
      start = at - 1;
    }
    for (let i = start; i >= 0 && found.length <= limit; i -= 1) {
      const item = col.items[i] as T;
      if (match(item)) found.push(item);
    }
    return list(url, found.slice(0, limit).map(render), found.length > limit);
  };

  /** Replaces ids along each `expand[]` path with the objects they name. */
  const expand = (ctx: Ctx, object: Json): Json => {
    const paths = strings(ctx.params, 'expand') ?? [];
    for (const path of paths) {
      const parts = path.split('.');
      if (parts.length > 4) throw invalid(`You cannot expand more than 4 levels of a property. Property: ${path}`, 'expand');
      const walk = (node: unknown, rest: string[]): unknown => {
        if (Array.isArray(node)) return node.map((n) => walk(n, rest));
        if (rest.length === 0 || node === null || typeof node !== 'object') return node;
        const [head, ...tail] = rest as [string, ...string[]];
        const holder = node as Json;
        // Absent or null properties stay as they are (a list's objects differ in what they have).
        if (!(head in holder)) return holder;
        let value = holder[head];
        if (typeof value === 'string') {
          const target = ctx.account.find(value);
          if (target) value = renderRecord(ctx.account, target.kind, target.record);
        }
        holder[head] = walk(value, tail);
        return holder;
      };
      walk(object, parts);
    }
    return object;
  };

  const record = <T>(col: Collection<T & { id: string; created: number }>, what: string, id: string): T => {
    const found = col.get(id);
    if (!found) throw missing(what, id);
    return found;
  };

  // --- routes ----------------------------------------------------------------------------------------------------

  const routes: Route[] = [];
  const route = (name: string, pattern: RegExp, allowed: readonly string[], run: Handler, permission?: Route['permission']): void => {
    routes.push({ name, pattern, allowed, run, permission });
  };

  route('account', /^\/v1\/account$/, ['expand'], (ctx) => {
    const own = ctx.spec.account.id === ctx.account.id;
    return renderAccount(ctx.account, own ? ctx.spec.account : { displayName: ctx.account.name });
  }, 'canReadAccount');

  route('balance', /^\/v1\/balance$/, ['expand'], (ctx) => renderBalance(ctx.account));

  route('customers', /^\/v1\/customers$/, [...PAGING, 'created', 'email', 'test_clock'], (ctx) => {
    const created = range(ctx.params, 'created');
    const email = str(ctx.params, 'email');
    return page(ctx, ctx.account.customers, 'customer', (c) => !c.deleted && inRange(c.created, created) && (email === undefined || c.email === email),
      '/v1/customers', renderCustomer);
  });
  route('customer', /^\/v1\/customers\/([^/]+)$/, ['expand'], (ctx) =>
    renderCustomer(record(ctx.account.customers, 'customer', ctx.path[0] as string)));

  route('invoices', /^\/v1\/invoices$/, [...PAGING, 'created', 'customer', 'status', 'collection_method', 'due_date', 'subscription'], (ctx) => {
    const { params } = ctx;
    const created = range(params, 'created');
    const due = range(params, 'due_date');
    const customer = str(params, 'customer');
    const status = str(params, 'status');
    if (status !== undefined && !['draft', 'open', 'paid', 'uncollectible', 'void'].includes(status)) throw invalid(`Invalid status: must be one of draft, open, paid, uncollectible, or void`, 'status');
    const method = str(params, 'collection_method');
    return page(ctx, ctx.account.invoices, 'invoice', (i) => i.status !== 'deleted' && inRange(i.created, created)
      && (due === undefined || inRange(i.due_date, due)) && (customer === undefined || i.customer === customer)
      && (status === undefined || i.status === status) && (method === undefined || i.collection_method === method),
    '/v1/invoices', (i) => renderInvoice(ctx.account, i));
  }, 'canReadInvoices');
  const liveInvoice = (ctx: Ctx): InvoiceRecord => {
    const invoice = record(ctx.account.invoices, 'invoice', ctx.path[0] as string);
    if (invoice.status === 'deleted') throw missing('invoice', invoice.id);
    return invoice;
  };
  route('invoice', /^\/v1\/invoices\/([^/]+)$/, ['expand'], (ctx) => renderInvoice(ctx.account, liveInvoice(ctx)), 'canReadInvoices');
  route('invoice_lines', /^\/v1\/invoices\/([^/]+)\/lines$/, PAGING, (ctx) => {
    const invoice = liveInvoice(ctx);
    const limit = limitOf(ctx.params);
    const after = str(ctx.params, 'starting_after');
    let start = 0;
    if (after) {
      const at = invoice.lines.findIndex((l) => l.id === after);
      if (at < 0) throw missing('line item', after, 'starting_after');
      start = at + 1;
    }
    const slice = invoice.lines.slice(start, start + limit);
    return list(`/v1/invoices/${invoice.id}/lines`, slice.map((l) => renderLine(invoice, l)), start + limit < invoice.lines.length);
  }, 'canReadInvoices');

  route('invoice_payments', /^\/v1\/invoice_payments$/, [...PAGING, 'created', 'invoice', 'payment', 'status'], (ctx) => {
    const { params } = ctx;
    const created = range(params, 'created');
    const invoice = str(params, 'invoice');
    const status = str(params, 'status');
    const payment = params.payment;
    let paymentId: string | undefined;
    let paymentType: string | undefined;
    if (payment !== undefined) {
      if (typeof payment !== 'object' || Array.isArray(payment)) throw invalid('Invalid hash: payment', 'payment');
      paymentType = str(payment, 'type');
      if (paymentType !== 'payment_intent' && paymentType !== 'payment_record') throw invalid('Invalid payment[type]: must be one of payment_intent or payment_record', 'payment[type]');
      paymentId = str(payment, paymentType);
      for (const k of Object.keys(payment)) if (k !== 'type' && k !== paymentType) throw invalid(`Received unknown parameter: payment[${k}]`, `payment[${k}]`);
    }
    const match = (p: InvoicePaymentRecord): boolean => inRange(p.created, created)
      && (invoice === undefined || p.invoice === invoice) && (status === undefined || p.status === status)
      && (paymentType === undefined || p.payment.type === paymentType) && (paymentId === undefined || p.payment.id === paymentId);
    return page(ctx, ctx.account.invoicePayments, 'invoice payment', match, '/v1/invoice_payments', renderInvoicePayment);
  });
  route('invoice_payment', /^\/v1\/invoice_payments\/([^/]+)$/, ['expand'], (ctx) =>
    renderInvoicePayment(record(ctx.account.invoicePayments, 'invoice payment', ctx.path[0] as string)));

  route('payment_intents', /^\/v1\/payment_intents$/, [...PAGING, 'created', 'customer'], (ctx) => {
    const created = range(ctx.params, 'created');
    const customer = str(ctx.params, 'customer');
    return page(ctx, ctx.account.paymentIntents, 'payment_intent', (p) => inRange(p.created, created) && (customer === undefined || p.customer === customer),
      '/v1/payment_intents', renderPaymentIntent);
  });
  route('payment_intent', /^\/v1\/payment_intents\/([^/]+)$/, ['expand', 'client_secret'], (ctx) =>
    renderPaymentIntent(record(ctx.account.paymentIntents, 'payment_intent', ctx.path[0] as string)));

  route('charges', /^\/v1\/charges$/, [...PAGING, 'created', 'customer', 'payment_intent', 'transfer_group'], (ctx) => {
    const created = range(ctx.params, 'created');
    const customer = str(ctx.params, 'customer');
    const pi = str(ctx.params, 'payment_intent');
    return page(ctx, ctx.account.charges, 'charge', (c) => inRange(c.created, created) && (customer === undefined || c.customer === customer)
      && (pi === undefined || c.payment_intent === pi), '/v1/charges', (c) => renderCharge(ctx.account, c));
  });
  route('charge', /^\/v1\/charges\/([^/]+)$/, ['expand'], (ctx) =>
    renderCharge(ctx.account, record(ctx.account.charges, 'charge', ctx.path[0] as string)));

  route('refunds', /^\/v1\/refunds$/, [...PAGING, 'created', 'charge', 'payment_intent'], (ctx) => {
    const created = range(ctx.params, 'created');
    const charge = str(ctx.params, 'charge');
    const pi = str(ctx.params, 'payment_intent');
    return page(ctx, ctx.account.refunds, 'refund', (r) => inRange(r.created, created) && (charge === undefined || r.charge === charge)
      && (pi === undefined || r.payment_intent === pi), '/v1/refunds', renderRefund);
  });
  route('refund', /^\/v1\/refunds\/([^/]+)$/, ['expand'], (ctx) =>
    renderRefund(record(ctx.account.refunds, 'refund', ctx.path[0] as string)));

  route('credit_notes', /^\/v1\/credit_notes$/, [...PAGING, 'created', 'customer', 'customer_account', 'invoice'], (ctx) => {
    const created = range(ctx.params, 'created');
    const customer = str(ctx.params, 'customer');
    const invoice = str(ctx.params, 'invoice');
    return page(ctx, ctx.account.creditNotes, 'credit note', (n) => inRange(n.created, created) && (customer === undefined || n.customer === customer)
      && (invoice === undefined || n.invoice === invoice), '/v1/credit_notes', (n) => renderCreditNote(ctx.account, n));
  });
  route('credit_note', /^\/v1\/credit_notes\/([^/]+)$/, ['expand'], (ctx) =>
    renderCreditNote(ctx.account, record(ctx.account.creditNotes, 'credit note', ctx.path[0] as string)));

  route('events', /^\/v1\/events$/, [...PAGING, 'created', 'type', 'types', 'delivery_success'], (ctx) => {
    const { params } = ctx;
    const created = range(params, 'created');
    const type = str(params, 'type');
    const types = strings(params, 'types');
    if (type !== undefined && types !== undefined) throw invalid('You may pass either `type` or `types`, but not both.', 'types');
    if (types && types.length > 20) throw invalid('You may pass at most 20 `types`.', 'types');
    const typeMatch = type === undefined ? null : new RegExp(`^${type.replace(/[.]/g, '\\.').replace(/\*/g, '.*')}$`);
    const wanted = types ? new Set(types) : null;
    const { account } = ctx;
    return page(ctx, account.events, 'event', (e) => account.eventVisible(e) && inRange(e.created, created)
      && (typeMatch === null || typeMatch.test(e.type)) && (wanted === null || wanted.has(e.type)),
    '/v1/events', (e) => renderEvent(account, e));
  });
  route('event', /^\/v1\/events\/([^/]+)$/, ['expand'], (ctx) => {
    const event = record(ctx.account.events, 'event', ctx.path[0] as string);
    if (!ctx.account.eventVisible(event)) throw missing('event', event.id);
    return renderEvent(ctx.account, event);
  });

  // --- the server ------------------------------------------------------------------------------------------------

  const send = (res: ServerResponse, reply: Exclude<FakeReply, 'drop'>): void => {
    const body = reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    res.writeHead(reply.status, { 'Content-Type': 'application/json', 'Stripe-Version': API_VERSION, ...reply.headers });
    res.end(body);
  };

  type Answer = { reply: FakeReply; account: string | null; fault: boolean; name: string | null; delayMs?: number };
  const answer = (req: IncomingMessage, url: URL, body: string): Answer => {
    const found = faults.find((f) => f.left > 0 && targets(f.target, url.pathname, routeOf(url.pathname)?.route.name ?? null));
    if (found) {
      found.left -= 1;
      faults = faults.filter((f) => f.left > 0);
      if (found.reply !== null) return { reply: found.reply, account: null, fault: true, name: routeOf(url.pathname)?.route.name ?? null };
      return { ...respond(req, url, body), fault: true, delayMs: found.delayMs };
    }
    return respond(req, url, body);
  };

  const targets = (target: string | RegExp, pathname: string, name: string | null): boolean =>
    (typeof target === 'string' ? (target.startsWith('/') ? target === pathname : target === name) : target.test(pathname));

  const routeOf = (pathname: string): { route: Route; path: string[] } | null => {
    for (const r of routes) {
      const m = r.pattern.exec(pathname);
      if (m) return { route: r, path: m.slice(1).map(decodeURIComponent) };
    }
    return null;
  };

  const respond = (req: IncomingMessage, url: URL, body: string): Answer => {
    const method = (req.method ?? 'GET').toUpperCase();
    const matched = routeOf(url.pathname);
    if (!matched) {
      return { reply: errorReply(new StripeFakeError(404, `Unrecognized request URL (${method}: ${url.pathname}).`)), account: null, fault: false, name: null };
    }
    const key = bearer(req.headers.authorization) ?? '';
    seen.push(key);
    const spec = keys.get(key);
    if (!spec) return { reply: errorReply(new StripeFakeError(401, `Invalid API Key provided: ${masked(key)}`)), account: null, fault: false, name: matched.route.name };
    const header = typeof req.headers['stripe-account'] === 'string' ? req.headers['stripe-account'] : null;
    if (header && spec.connected === undefined) {
      return {
        reply: errorReply(new StripeFakeError(400, 'Only Stripe Connect platforms can work with other accounts. If you specified a client_id parameter, make sure it\'s correct. If you need to setup a Stripe Connect platform, you can do so at https://dashboard.stripe.com/account/applications/settings.')),
        account: header, fault: false, name: matched.route.name,
      };
    }
    if (header && header !== spec.account.id && !spec.connected?.includes(header)) {
      return {
        reply: errorReply(new StripeFakeError(403, `The provided key '${masked(key)}' does not have access to account '${header}' (or that account does not exist). Application access may have been revoked.`, 'permission_error', 'account_invalid')),
        account: header, fault: false, name: matched.route.name,
      };
    }
    const account = accountOf(header ?? spec.account.id);
    if (header && header !== spec.account.id) account.connected = true;
    const { route: r } = matched;
    if (r.permission && spec[r.permission] === false) {
      const resource = r.permission === 'canReadAccount' ? 'rak_accounts_kyc_basic_read' : 'rak_invoice_read';
      return {
        reply: errorReply(new StripeFakeError(403, `The provided key '${masked(key)}' does not have the required permissions for this endpoint on account '${account.id}'. `
          + `Having the '${resource}' permission would allow this request to continue.`, 'invalid_request_error')),
        account: account.id, fault: false, name: r.name,
      };
    }
    if (method !== 'GET') {
      return { reply: errorReply(new StripeFakeError(404, `Unrecognized request URL (${method}: ${url.pathname}).`)), account: account.id, fault: false, name: r.name };
    }
    try {
      const params = parseParams(url.searchParams);
      if (body) for (const [k, v] of Object.entries(parseParams(new URLSearchParams(body)))) params[k] = v;
      for (const name of Object.keys(params)) {
        if (!r.allowed.includes(name)) throw invalid(`Received unknown parameter: ${name}`, name);
      }
      const ctx: Ctx = { params, path: matched.path, account, spec, key };
      const result = expand(ctx, r.run(ctx));
      return { reply: { status: 200, headers: { 'Request-Id': requestId() }, body: result }, account: account.id, fault: false, name: r.name };
    } catch (error) {
      if (error instanceof StripeFakeError) return { reply: errorReply(error), account: account.id, fault: false, name: r.name };
      throw error;
    }
  };

  const server = createServer((req, res) => {
    const at = Date.now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      let result: Answer;
      try {
        result = answer(req, url, Buffer.concat(chunks).toString('utf8'));
      } catch (error) {
        result = { reply: errorReply(new StripeFakeError(500, `Fake Stripe failed: ${(error as Error).message}`, 'api_error')), account: null, fault: false, name: null };
      }
      const header = typeof req.headers['stripe-account'] === 'string' ? req.headers['stripe-account'] : null;
      const version = typeof req.headers['stripe-version'] === 'string' ? req.headers['stripe-version'] : null;
      const entry: StripeCall = {
        method: (req.method ?? 'GET').toUpperCase(), path: url.pathname, query: url.search.slice(1), at,
        status: result.reply === 'drop' ? 'dropped' : result.reply.status, account: result.account,
        stripeAccountHeader: header, apiVersion: version, fault: result.fault,
      };
      calls.push(entry);
      const { reply } = result;
      if (reply === 'drop') {
        req.socket.destroy();
        return;
      }
      if (result.delayMs) setTimeout(() => send(res, reply), result.delayMs);
      else send(res, reply);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const eventRecord = (id: string, account?: string): { data: AccountData; event: EventRecord } => {
    const data = accountOf(account);
    const event = data.events.get(id);
    if (!event) throw new Error(`No event ${id} in ${data.id}`);
    return { data, event };
  };

  const signature = (payload: string, opts: { secret?: string; timestamp?: number } = {}): string =>
    signPayload(payload, opts.secret ?? webhookSecret, opts.timestamp ?? Math.floor(Date.now() / 1000));

  return {
    url,
    calls,
    count: (path) => calls.filter((c) => (typeof path === 'string' ? c.path === path : path.test(c.path))).length,
    failNext: (target, reply, times = 1) => { faults.push({ target, reply, delayMs: 0, left: times }); },
    slowNext: (target, delayMs, times = 1) => { faults.push({ target, reply: null, delayMs, left: times }); },
    addKey: (key, spec) => { keys.set(key, spec ?? { account: { id: defaultAccount } }); },
    keysSeen: () => [...seen],
    defaultAccount,
    account: (id) => accountOf(id),
    seed: (data, account) => accountOf(account).seed(data),
    clock: { now: clock.now, set: clock.set, advance: clock.advance },
    webhookSecret,
    event: (id, account) => {
      const { data, event } = eventRecord(id, account);
      return renderEvent(data, event);
    },
    events: (account) => {
      const data = accountOf(account);
      return data.events.items.filter((e) => data.eventVisible(e)).map((e) => renderEvent(data, e));
    },
    signature,
    deliverWebhook: async (target, event, opts = {}) => {
      let body = event;
      if (typeof event === 'string') {
        const found = eventRecord(event, opts.account);
        body = renderEvent(found.data, found.event);
      }
      const payload = JSON.stringify(body, null, 2);
      const res = await fetch(target, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json; charset=utf-8', 'User-Agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
          'Stripe-Signature': signature(payload, opts),
        },
        body: payload,
      });
      return { status: res.status, body: await res.text() };
    },
    reset: () => {
      calls.length = 0;
      faults = [];
      seen = [];
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
