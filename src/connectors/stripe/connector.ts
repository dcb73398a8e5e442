import Stripe from 'stripe';
import { z } from 'zod';
import type { AccountingConnector, ChangePage, SourceCustomer, SourceInvoice, SourcePayment } from '../types';
import { SourceError } from '../types';
import { call, createStripeClient, isMissing, type RateLimitPolicy } from './client';
import { isStale, parseCursor, serializeCursor, type StripeCursor } from './cursor';
import {
  isoTime, mapCreditNote, mapCustomer, mapDeletedInvoice, mapInvoice, mapPayment, paymentKeyOf, type PaymentGroup,
  type PaymentKind,
} from './mapping';

/**
 * The Stripe connector: full pull in phases (customers, invoices with their lines, invoice payments grouped into
 * payments, credit notes), then Events. Events are hints: each changed object is fetched again and mapped as it is
 * now. See cursor.ts for the cursor and the 30-day event retention, mapping.ts for the mapping.
 */

/** What incremental pulls read (Stripe accepts at most 20 `types`). */
export const STRIPE_EVENT_TYPES = [
  'customer.created', 'customer.updated', 'customer.deleted',
  'invoice.created', 'invoice.finalized', 'invoice.updated', 'invoice.paid', 'invoice.payment_succeeded',
  'invoice.voided', 'invoice.marked_uncollectible', 'invoice.deleted',
  'invoice_payment.paid',
  'charge.refunded', 'charge.refund.updated', 'refund.created', 'refund.updated', 'refund.failed',
  'credit_note.created', 'credit_note.updated', 'credit_note.voided',
] as const;

export type StripeConnectorOptions = {
  /** A secret or restricted key, or a Connect access token; asked for at every pull. */
  credentials: () => Promise<string>;
  /** STRIPE_API_URL; default https://api.stripe.com. */
  apiUrl?: string;
  /** The account to read (acct_…): the key's own, or a connected account of the key's platform (`Stripe-Account`). */
  tenantId?: string | null;
  /** Default: the SDK's pinned version. */
  apiVersion?: string;
  /** The SDK's retries of network errors, 409 and 5xx; default 2. */
  maxNetworkRetries?: number;
  timeoutMs?: number;
  /** Objects per page of a full pull, and events per incremental page; default 500 (Stripe answers 100 a request). */
  pageSize?: number;
  /** 429s waited out per request (default 2) when their Retry-After is at most maxWaitMs (default 10 000). */
  rateLimit?: Partial<RateLimitPolicy>;
  /** Requests in flight when fetching objects one by one; default 4. */
  concurrency?: number;
  now?: () => Date;
};

const OptionsSchema = z.object({
  apiUrl: z.string().url('apiUrl must be a URL').default('https://api.stripe.com'),
  tenantId: z.string().regex(/^acct_[A-Za-z0-9]+$/, 'tenantId must be a Stripe account id (acct_…)').nullable().default(null),
  apiVersion: z.string().min(1).optional(),
  maxNetworkRetries: z.number().int().min(0).max(10).default(2),
  timeoutMs: z.number().int().positive().default(30_000),
  pageSize: z.number().int().min(1).max(10_000).default(500),
  rateLimit: z.object({ retries: z.number().int().min(0).default(2), maxWaitMs: z.number().int().min(0).default(10_000) }).default({ retries: 2, maxWaitMs: 10_000 }),
  concurrency: z.number().int().min(1).max(32).default(4),
});

const LIMIT = 100;
/** Reading events from a time rather than an event id starts this much earlier (clocks differ; repeats are harmless). */
const EVENT_OVERLAP_SECONDS = 300;
const PAYMENT_EXPAND = ['data.payment.payment_intent.latest_charge', 'data.payment.charge'];

const mapLimit = async <T, R>(items: readonly T[], limit: number, run: (item: T) => Promise<R>): Promise<R[]> => {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next;
      next += 1;
      out[i] = await run(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
};

type Page = { customers: SourceCustomer[]; invoices: SourceInvoice[]; payments: Map<string, SourcePayment> };

const emptyPage = (): Page => ({ customers: [], invoices: [], payments: new Map() });

/** What a payment's PaymentIntent or charge says of it. */
type PaymentFacts = { received: number | null; refunded: number; chargeId: string | null };

type Seed = { type: PaymentKind; invoicePayments: Stripe.InvoicePayment[]; at: number | null };

const listParams = (startingAfter: string | null, limit: number): { limit: number; starting_after?: string } =>
  (startingAfter ? { limit, starting_after: startingAfter } : { limit });

export const createStripeConnector = (options: StripeConnectorOptions): AccountingConnector => {
  const parsed = OptionsSchema.safeParse({
    apiUrl: options.apiUrl, tenantId: options.tenantId ?? null, apiVersion: options.apiVersion,
    maxNetworkRetries: options.maxNetworkRetries, timeoutMs: options.timeoutMs, pageSize: options.pageSize,
    rateLimit: options.rateLimit, concurrency: options.concurrency,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`Stripe connector options: ${issue?.path.join('.') || 'options'}: ${issue?.message ?? 'invalid'}`);
  }
  const settings = parsed.data;
  const policy: RateLimitPolicy = { retries: settings.rateLimit.retries, maxWaitMs: settings.rateLimit.maxWaitMs };
  const nowSeconds = (): number => Math.floor((options.now?.() ?? new Date()).getTime() / 1000);
  const clients = new Map<string, Stripe>();
  const client = (apiKey: string, account: string | null): Stripe => createStripeClient({
    apiUrl: settings.apiUrl, apiKey, account, apiVersion: settings.apiVersion,
    maxNetworkRetries: settings.maxNetworkRetries, timeoutMs: settings.timeoutMs,
  });
  /**
   * The client for the key. The tenant is the account to read: a key's own account (what the connect page stores
   * for a pasted key) is read without `Stripe-Account`, which Stripe refuses outside Connect; another account is
   * a connected account of the key's platform, read with it. A key that may not read its own account is taken to
   * act for the tenant.
   */
  const clientFor = async (apiKey: string): Promise<Stripe> => {
    const known = clients.get(apiKey);
    if (known) return known;
    const tenant = settings.tenantId;
    let account: string | null = null;
    if (tenant !== null) {
      try {
        const own = await call('the account of the key', () => client(apiKey, null).accounts.retrieveCurrent(), policy);
        account = own.id === tenant ? null : tenant;
      } catch (error) {
        if (!(error instanceof SourceError && error.cause instanceof Stripe.errors.StripePermissionError)) throw error;
        account = tenant;
      }
    }
    const made = client(apiKey, account);
    clients.clear();
    clients.set(apiKey, made);
    return made;
  };

  /** One pull: the client and what it has fetched so far. */
  const session = (stripe: Stripe) => {
    const facts = new Map<string, PaymentFacts>();

    /** Up to `max` objects after `startingAfter`, in requests of at most 100. */
    const listUpTo = async <T extends { id: string }>(
      what: string, list: (params: { limit: number; starting_after?: string }) => Promise<Stripe.ApiList<T>>,
      startingAfter: string | null, max: number,
    ): Promise<{ items: T[]; hasMore: boolean; last: string | null }> => {
      const items: T[] = [];
      let after = startingAfter;
      let hasMore = true;
      while (hasMore && items.length < max) {
        const res = await call(what, () => list(listParams(after, Math.min(LIMIT, max - items.length))), policy);
        items.push(...res.data);
        hasMore = res.has_more && res.data.length > 0;
        after = res.data[res.data.length - 1]?.id ?? after;
      }
      return { items, hasMore, last: after };
    };

    const listAll = async <T extends { id: string }>(
      what: string, list: (params: { limit: number; starting_after?: string }) => Promise<Stripe.ApiList<T>>, first: Stripe.ApiList<T> | null = null,
    ): Promise<T[]> => {
      const items: T[] = first ? [...first.data] : [];
      let hasMore = first ? first.has_more : true;
      let after: string | null = first ? (first.data[first.data.length - 1]?.id ?? null) : null;
      while (hasMore) {
        const res = await call(what, () => list(listParams(after, LIMIT)), policy);
        items.push(...res.data);
        hasMore = res.has_more && res.data.length > 0;
        after = res.data[res.data.length - 1]?.id ?? after;
      }
      return items;
    };

    /** Null when Stripe has no such object (deleted, or never was). */
    const retrieve = async <T>(what: string, get: () => Promise<T>): Promise<T | null> => {
      try {
        return await call(what, get, policy);
      } catch (error) {
        if (error instanceof SourceError && isMissing(error.cause)) return null;
        throw error;
      }
    };

    const linesOf = async (invoice: Stripe.Invoice): Promise<Stripe.InvoiceLineItem[]> =>
      (invoice.lines.has_more
        ? listAll(`the lines of invoice ${invoice.id}`, (p) => stripe.invoices.listLineItems(invoice.id, p), invoice.lines)
        : invoice.lines.data);

    const addInvoices = async (page: Page, invoices: readonly Stripe.Invoice[], updatedAt: (id: string) => string | null): Promise<void> => {
      const lines = await mapLimit(invoices, settings.concurrency, linesOf);
      invoices.forEach((invoice, i) => {
        const mapped = mapInvoice(invoice, lines[i] as Stripe.InvoiceLineItem[], updatedAt(invoice.id));
        if (!mapped) return;
        page.invoices.push(mapped.invoice);
        for (const s of mapped.settlements) page.payments.set(s.id, s);
      });
    };

    const factsFromExpanded = (ip: Stripe.InvoicePayment): PaymentFacts | null => {
      const { payment_intent: pi, charge } = ip.payment;
      if (pi && typeof pi === 'object') {
        const latest = pi.latest_charge;
        if (latest !== null && typeof latest !== 'object') return null;
        return { received: pi.amount_received, refunded: latest?.amount_refunded ?? 0, chargeId: latest?.id ?? null };
      }
      if (charge && typeof charge === 'object') return { received: charge.amount_captured, refunded: charge.amount_refunded, chargeId: charge.id };
      return null;
    };

    const factsOf = async (key: string, type: PaymentKind, known: readonly Stripe.InvoicePayment[]): Promise<PaymentFacts> => {
      const cached = facts.get(key);
      if (cached) return cached;
      let found: PaymentFacts | null = null;
      for (const ip of known) found ??= factsFromExpanded(ip);
      if (!found && type === 'payment_intent') {
        const pi = await call(`PaymentIntent ${key}`, () => stripe.paymentIntents.retrieve(key, { expand: ['latest_charge'] }), policy);
        const latest = pi.latest_charge && typeof pi.latest_charge === 'object' ? pi.latest_charge : null;
        found = { received: pi.amount_received, refunded: latest?.amount_refunded ?? 0, chargeId: latest?.id ?? null };
      } else if (!found && type === 'charge') {
        const charge = await call(`charge ${key}`, () => stripe.charges.retrieve(key), policy);
        found = { received: charge.amount_captured, refunded: charge.amount_refunded, chargeId: charge.id };
      }
      found ??= { received: null, refunded: 0, chargeId: null };
      facts.set(key, found);
      return found;
    };

    /** Refunds of the charge that credit notes of these invoices gave back, by invoice. */
    const refundsByInvoice = async (chargeId: string, invoiceIds: readonly string[]): Promise<Map<string, number>> => {
      const refunds = await listAll(`the refunds of charge ${chargeId}`, (p) => stripe.refunds.list({ ...p, charge: chargeId }));
      const ids = new Set(refunds.map((r) => r.id));
      const out = new Map<string, number>();
      for (const invoiceId of invoiceIds) {
        const notes = await listAll(`the credit notes of invoice ${invoiceId}`, (p) => stripe.creditNotes.list({ ...p, invoice: invoiceId }));
        const tied = notes.filter((n) => n.status !== 'void')
          .flatMap((n) => n.refunds)
          .filter((r) => ids.has(typeof r.refund === 'string' ? r.refund : r.refund.id))
          .reduce((sum, r) => sum + r.amount_refunded, 0);
        if (tied > 0) out.set(invoiceId, tied);
      }
      return out;
    };

    /**
     * Each payment whole: the invoice payments at hand are complete when they add up to what the PaymentIntent
     * received; otherwise all of the payment's invoice payments are listed (a PaymentIntent paying several
     * invoices may straddle pages). Bare charges cannot be listed by charge; what is at hand is taken.
     */
    const buildPayments = async (page: Page, seeds: ReadonlyMap<string, Seed>): Promise<void> => {
      const built = await mapLimit([...seeds], settings.concurrency, async ([key, seed]) => {
        const known = await factsOf(key, seed.type, seed.invoicePayments);
        let members = seed.invoicePayments.filter((ip) => ip.status === 'paid');
        const sum = members.reduce((s, ip) => s + (ip.amount_paid ?? 0), 0);
        if (seed.type !== 'charge' && (known.received === null || sum !== known.received)) {
          const filter = seed.type === 'payment_intent'
            ? { type: 'payment_intent' as const, payment_intent: key }
            : { type: 'payment_record' as const, payment_record: key };
          members = await listAll(`the invoice payments of ${key}`, (p) => stripe.invoicePayments.list({ ...p, payment: filter, status: 'paid' }));
        }
        const invoiceIds = [...new Set(members.map((ip) => (typeof ip.invoice === 'string' ? ip.invoice : ip.invoice.id)))];
        const refundedFor = known.refunded > 0 && known.chargeId && invoiceIds.length > 1
          ? await refundsByInvoice(known.chargeId, invoiceIds)
          : new Map<string, number>();
        const group: PaymentGroup = { key, type: seed.type, received: known.received, refunded: known.refunded, refundedFor, invoicePayments: members };
        return mapPayment(group, seed.at === null ? null : isoTime(seed.at));
      });
      for (const payment of built) if (payment) page.payments.set(payment.id, payment);
    };

    const seedsOf = (invoicePayments: readonly Stripe.InvoicePayment[], at: number | null = null, into = new Map<string, Seed>()): Map<string, Seed> => {
      for (const ip of invoicePayments) {
        const ref = paymentKeyOf(ip);
        if (!ref) continue;
        const seed = into.get(ref.key) ?? { type: ref.type, invoicePayments: [], at };
        seed.invoicePayments.push(ip);
        into.set(ref.key, seed);
      }
      return into;
    };

    const newestEvent = async (): Promise<Stripe.Event | null> => {
      const res = await call('events', () => stripe.events.list({ limit: 1, types: [...STRIPE_EVENT_TYPES] }), policy);
      return res.data[0] ?? null;
    };

    return { listUpTo, listAll, retrieve, addInvoices, buildPayments, seedsOf, newestEvent };
  };

  type Session = ReturnType<typeof session>;

  const startFull = async (s: Session, now: number): Promise<StripeCursor> => {
    const watermark = await s.newestEvent();
    return {
      v: 1, phase: 'customers', starting_after: null, last_event_id: watermark?.id ?? null,
      last_event_created: watermark?.created ?? null, caught_up_at: now,
    };
  };

  const finish = (page: Page, cursor: StripeCursor, done: boolean): ChangePage => ({
    customers: page.customers, invoices: page.invoices, payments: [...page.payments.values()],
    cursor: serializeCursor(cursor), done,
  });

  const fullPhase = async (stripe: Stripe, s: Session, cursor: StripeCursor): Promise<ChangePage> => {
    const page = emptyPage();
    const max = settings.pageSize;
    const after = cursor.starting_after;
    let read: { hasMore: boolean; last: string | null };
    switch (cursor.phase) {
      case 'customers': {
        const res = await s.listUpTo('customers', (p) => stripe.customers.list(p), after, max);
        page.customers.push(...res.items.map((c) => mapCustomer(c)));
        read = res;
        break;
      }
      case 'invoices': {
        const res = await s.listUpTo('invoices', (p) => stripe.invoices.list(p), after, max);
        await s.addInvoices(page, res.items, () => null);
        read = res;
        break;
      }
      case 'invoice_payments': {
        const res = await s.listUpTo('invoice payments', (p) => stripe.invoicePayments.list({ ...p, status: 'paid', expand: PAYMENT_EXPAND }), after, max);
        await s.buildPayments(page, s.seedsOf(res.items));
        read = res;
        break;
      }
      case 'credit_notes': {
        const res = await s.listUpTo('credit notes', (p) => stripe.creditNotes.list(p), after, max);
        for (const note of res.items) page.payments.set(note.id, mapCreditNote(note));
        read = res;
        break;
      }
      default:
        throw new Error(`not a list phase: ${cursor.phase}`);
    }
    const order = ['customers', 'invoices', 'invoice_payments', 'credit_notes', 'events'] as const;
    const next: StripeCursor = read.hasMore
      ? { ...cursor, starting_after: read.last }
      : { ...cursor, phase: order[order.indexOf(cursor.phase) + 1] ?? 'events', starting_after: null };
    return finish(page, next, false);
  };

  /** The events after the cursor, oldest first; whether they reach the newest; whether Stripe had the cursor's event. */
  const readEvents = async (stripe: Stripe, cursor: StripeCursor): Promise<{ events: Stripe.Event[]; caughtUp: boolean; known: boolean }> => {
    const types = [...STRIPE_EVENT_TYPES];
    const events: Stripe.Event[] = [];
    if (cursor.last_event_id) {
      let before = cursor.last_event_id;
      try {
        for (;;) {
          const res = await call('events', () => stripe.events.list({ limit: Math.min(LIMIT, settings.pageSize - events.length), types, ending_before: before }), policy);
          // ending_before answers the events just after `before`, newest first.
          events.push(...[...res.data].reverse());
          if (!res.has_more || res.data.length === 0) return { events, caughtUp: true, known: true };
          before = (res.data[0] as Stripe.Event).id;
          if (events.length >= settings.pageSize) return { events, caughtUp: false, known: true };
        }
      } catch (error) {
        // Stripe no longer has the cursor's event: read from its time instead.
        if (!(error instanceof SourceError && isMissing(error.cause)) || events.length > 0) throw error;
      }
    }
    const since = (cursor.last_event_created ?? cursor.caught_up_at) - EVENT_OVERLAP_SECONDS;
    // Newest first: walk to the oldest page and read that; later pulls go on with ending_before.
    let res = await call('events', () => stripe.events.list({ limit: LIMIT, types, created: { gte: since } }), policy);
    let pages = 1;
    while (res.has_more && res.data.length > 0) {
      const last = (res.data[res.data.length - 1] as Stripe.Event).id;
      res = await call('events', () => stripe.events.list({ limit: LIMIT, types, created: { gte: since }, starting_after: last }), policy);
      pages += 1;
    }
    return { events: [...res.data].reverse(), caughtUp: pages === 1, known: cursor.last_event_id === null };
  };

  const eventsPhase = async (stripe: Stripe, s: Session, cursor: StripeCursor, now: number): Promise<ChangePage> => {
    const { events, caughtUp, known } = await readEvents(stripe, cursor);
    const page = emptyPage();
    const newest = events[events.length - 1];
    if (!newest) {
      // An event Stripe no longer has is not asked for again: reading goes on from its time.
      return finish(page, { ...cursor, last_event_id: known ? cursor.last_event_id : null, caught_up_at: caughtUp ? now : cursor.caught_up_at }, caughtUp);
    }

    const customers = new Map<string, { at: number; last: Stripe.Customer }>();
    const invoices = new Map<string, { at: number; last: Stripe.Invoice }>();
    /** Payments named by their events, with the invoice payments the events showed. */
    const keys = new Map<string, { type: PaymentKind; at: number; seen: Stripe.InvoicePayment[] }>();
    const paidInvoices = new Map<string, number>();
    const invoicesWithPayments = new Set<string>();
    const notes = new Map<string, number>();
    const keyed = (key: string, type: PaymentKind, at: number, ip: Stripe.InvoicePayment | null = null): void => {
      const entry = keys.get(key) ?? { type, at, seen: [] };
      entry.at = at;
      if (ip) entry.seen.push(ip);
      keys.set(key, entry);
    };
    for (const event of events) {
      const object = event.data.object as { object?: string; id?: string };
      const at = event.created;
      switch (object.object) {
        case 'customer':
          customers.set(object.id as string, { at, last: object as Stripe.Customer });
          break;
        case 'invoice':
          invoices.set(object.id as string, { at, last: object as Stripe.Invoice });
          if (event.type === 'invoice.paid' || event.type === 'invoice.payment_succeeded') paidInvoices.set(object.id as string, at);
          break;
        case 'invoice_payment': {
          const ip = object as Stripe.InvoicePayment;
          const ref = paymentKeyOf(ip);
          if (ref) keyed(ref.key, ref.type, at, ip);
          invoicesWithPayments.add(typeof ip.invoice === 'string' ? ip.invoice : ip.invoice.id);
          break;
        }
        case 'charge': {
          const charge = object as Stripe.Charge;
          const pi = typeof charge.payment_intent === 'string' ? charge.payment_intent : charge.payment_intent?.id;
          keyed(pi ?? charge.id, pi ? 'payment_intent' : 'charge', at);
          break;
        }
        case 'refund': {
          const refund = object as Stripe.Refund;
          const pi = typeof refund.payment_intent === 'string' ? refund.payment_intent : refund.payment_intent?.id;
          const charge = typeof refund.charge === 'string' ? refund.charge : refund.charge?.id;
          if (pi) keyed(pi, 'payment_intent', at);
          else if (charge) keyed(charge, 'charge', at);
          break;
        }
        case 'credit_note':
          notes.set(object.id as string, at);
          break;
        default:
          break;
      }
    }

    const gotCustomers = await mapLimit([...customers], settings.concurrency, async ([id, { at, last }]) => {
      const current = await s.retrieve(`customer ${id}`, () => stripe.customers.retrieve(id));
      return mapCustomer(current ?? { id, object: 'customer', deleted: true }, isoTime(at), last);
    });
    page.customers.push(...gotCustomers);

    const gotInvoices = await mapLimit([...invoices], settings.concurrency, async ([id]) => s.retrieve(`invoice ${id}`, () => stripe.invoices.retrieve(id)));
    const live = gotInvoices.filter((i): i is Stripe.Response<Stripe.Invoice> => i !== null);
    await s.addInvoices(page, live, (id) => isoTime(invoices.get(id)?.at ?? newest.created));
    for (const [id, { at, last }] of invoices) {
      if (live.some((i) => i.id === id)) continue;
      const deleted = mapDeletedInvoice(last, isoTime(at));
      if (deleted) page.invoices.push(deleted);
    }

    // Payments are fetched whole by their PaymentIntent or payment record; a bare charge's invoice payments cannot
    // be listed by charge, so those its invoice_payment events showed stand for it. An invoice paid without an
    // invoice_payment event in sight has its payments listed.
    const seeds = new Map<string, Seed>();
    for (const [key, { type, at, seen }] of keys) {
      if (type === 'charge' && seen.length === 0) continue;
      seeds.set(key, { type, invoicePayments: type === 'charge' ? seen : [], at });
    }
    const unexplained = [...paidInvoices].filter(([id]) => !invoicesWithPayments.has(id));
    const byInvoice = await mapLimit(unexplained, settings.concurrency, async ([invoiceId, at]) => ({
      at,
      items: await s.listAll(`the payments of invoice ${invoiceId}`, (p) => stripe.invoicePayments.list({ ...p, invoice: invoiceId, status: 'paid', expand: PAYMENT_EXPAND })),
    }));
    for (const { at, items } of byInvoice) s.seedsOf(items, at, seeds);
    await s.buildPayments(page, seeds);

    const gotNotes = await mapLimit([...notes], settings.concurrency, async ([id, at]) => {
      const note = await s.retrieve(`credit note ${id}`, () => stripe.creditNotes.retrieve(id));
      return note ? mapCreditNote(note, isoTime(at)) : null;
    });
    for (const note of gotNotes) if (note) page.payments.set(note.id, note);

    const next: StripeCursor = {
      ...cursor, phase: 'events', starting_after: null, last_event_id: newest.id, last_event_created: newest.created,
      caught_up_at: caughtUp ? now : cursor.caught_up_at,
    };
    return finish(page, next, caughtUp);
  };

  return {
    source: 'stripe',
    async pull(cursorText) {
      const now = nowSeconds();
      let cursor = parseCursor(cursorText);
      const stripe = await clientFor(await options.credentials());
      const s = session(stripe);
      // Events older than Stripe keeps them may be gone: start again from a full pull.
      if (cursor === null || isStale(cursor, now)) cursor = await startFull(s, now);
      if (cursor.phase === 'events') return eventsPhase(stripe, s, cursor, now);
      return fullPhase(stripe, s, cursor);
    },
  };
};
