import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createStripeConnector, type StripeConnectorOptions } from '../../src/connectors/stripe';
import { syntheticId } from '../../src/connectors/stripe/mapping';
import { SourceError, type AccountingConnector, type ChangePage, type SourceCustomer, type SourceInvoice, type SourcePayment } from '../../src/connectors/types';
import {
  amountRemaining, generateStripeData, rateLimited, serverError, startFakeStripe, type FakeStripe, type StripeCall,
} from '../fakes/stripe';
import { buildScenario, DAY, type StripeScenario } from '../fakes/stripe/scenario';

const KEY = 'sk_test_51ARBridgeConnectorTests01';
const START = Date.UTC(2026, 4, 1) / 1000;
const date = (unix: number): string => new Date(unix * 1000).toISOString().slice(0, 10);

type Pulled = {
  pages: ChangePage[];
  cursor: string;
  customers: Map<string, SourceCustomer>;
  invoices: Map<string, SourceInvoice>;
  payments: Map<string, SourcePayment>;
};

/** Pulls until the connector is done; the last version of each object wins, as in the store. */
const pullAll = async (connector: AccountingConnector, from: string | null): Promise<Pulled> => {
  const pages: ChangePage[] = [];
  let cursor = from;
  for (let i = 0; i < 10_000; i += 1) {
    const page = await connector.pull(cursor);
    pages.push(page);
    cursor = page.cursor;
    if (page.done) break;
  }
  const last = <T extends { id: string }>(pick: (p: ChangePage) => T[]): Map<string, T> => new Map(pages.flatMap(pick).map((o) => [o.id, o]));
  return { pages, cursor: cursor as string, customers: last((p) => p.customers), invoices: last((p) => p.invoices), payments: last((p) => p.payments) };
};

const phaseOf = (cursor: string): string => (JSON.parse(cursor) as { phase: string }).phase;

/** What Stripe still counts as owed on the invoice; an uncollectible invoice's remainder is written off. */
const owed = (record: Parameters<typeof amountRemaining>[0]): number => (record.status === 'uncollectible' ? 0 : amountRemaining(record));

const allocated = (payments: Iterable<SourcePayment>, invoiceId: string): number => [...payments]
  .filter((p) => !p.removed)
  .flatMap((p) => p.allocations)
  .filter((a) => a.invoiceId === invoiceId)
  .reduce((sum, a) => sum + a.amountMinor, 0);

describe('Stripe connector against the fake Stripe', () => {
  let fake: FakeStripe;
  let s: StripeScenario;
  const connector = (options: Partial<StripeConnectorOptions> = {}): AccountingConnector => createStripeConnector({
    apiUrl: fake.url, credentials: async () => KEY, now: () => new Date(fake.clock.now() * 1000), ...options,
  });
  let full: Pulled;

  beforeAll(async () => {
    fake = await startFakeStripe({ now: START });
    fake.addKey(KEY);
    s = buildScenario(fake.account(), fake.clock, START);
    full = await pullAll(connector({ pageSize: 5 }), null);
  });
  afterAll(async () => fake.close());

  it('pulls customers, then invoices, then payments and credit notes, with the SDK paging through every list', () => {
    const kinds = full.pages.map((p) => (p.customers.length ? 'c' : '') + (p.invoices.length ? 'i' : '') + (p.payments.length ? 'p' : ''));
    // Phases in order: every customer page before the first invoice page, every invoice before the payment pages.
    const firstInvoice = kinds.findIndex((k) => k.includes('i'));
    const lastCustomer = kinds.map((k) => k.includes('c')).lastIndexOf(true);
    const firstPaymentOnly = kinds.indexOf('p');
    const lastInvoice = kinds.map((k) => k.includes('i')).lastIndexOf(true);
    expect(lastCustomer).toBeLessThan(firstInvoice);
    expect(lastInvoice).toBeLessThan(firstPaymentOnly);
    expect(full.pages.at(-1)?.done).toBe(true);
    expect(phaseOf(full.cursor)).toBe('events');
    // pageSize 5: customers and invoices came in several requests, each after the last object read.
    const invoiceLists = fake.calls.filter((c) => c.path === '/v1/invoices');
    // 14 invoices, 5 a request: 5, 5 and the last 4.
    expect(invoiceLists.length).toBe(3);
    expect(invoiceLists.slice(1).every((c) => /starting_after=in_/.test(c.query))).toBe(true);
    expect(full.customers.size).toBe(3);
    expect(full.invoices.size).toBe(14);
  });

  it('maps customers: upper-case currency, email domain, country', () => {
    expect(full.customers.get(s.customers.acme)).toEqual({
      id: s.customers.acme, name: 'Acme Inc', email: 'billing@Acme.example', domain: 'acme.example', country: 'US', currency: 'USD',
      archived: false, creditLimitMinor: null, creditLimitCurrency: null, updatedAt: null,
    });
    expect(full.customers.get(s.customers.kaito)).toMatchObject({ currency: 'JPY', country: 'JP' });
  });

  it('maps invoices: amounts, dates, statuses, lines with products and tax, due date defaulting to the issue date', () => {
    const inv = (id: string): SourceInvoice => {
      const found = full.invoices.get(id);
      if (!found) throw new Error(`invoice ${id} not pulled`);
      return found;
    };
    expect(inv(s.invoices.multiA)).toMatchObject({
      customerId: s.customers.acme, currency: 'USD', totalMinor: 100_000, issueDate: date(s.day(0)), dueDate: date(s.day(30)),
      status: 'paid', sourceStatus: 'paid', voidedDate: null,
      lines: [{ productId: 'prod_Consulting01', description: 'Consulting (10 h)', quantity: 10, amountMinor: 100_000 }],
    });
    expect(inv(s.invoices.multiA).number).toMatch(/-\d{4}$/);
    expect(inv(s.invoices.refundedPart)).toMatchObject({ totalMinor: 22_000, lines: [{ amountMinor: 22_000, productId: 'prod_Licence0001' }] });
    expect(inv(s.invoices.voided)).toMatchObject({ status: 'void', voidedDate: date(s.day(8)) });
    expect(inv(s.invoices.draft)).toMatchObject({ status: 'draft', number: null, issueDate: date(s.day(0)) });
    expect(inv(s.invoices.uncollectible)).toMatchObject({ status: 'uncollectible', totalMinor: 40_000 });
    expect(inv(s.invoices.yen)).toMatchObject({ currency: 'JPY', totalMinor: 12_000, status: 'open', lines: [{ quantity: 3, amountMinor: 12_000 }] });
    expect(inv(s.invoices.automatic).dueDate).toBe(inv(s.invoices.automatic).issueDate);
    // Twelve lines: the invoice embeds ten, the rest come from /v1/invoices/:id/lines.
    expect(inv(s.invoices.manyLines).lines.map((l) => l.description)).toEqual(Array.from({ length: 12 }, (_, i) => `Item ${i + 1}`));
    expect(fake.calls.some((c) => c.path === `/v1/invoices/${s.invoices.manyLines}/lines` && /starting_after=il_/.test(c.query))).toBe(true);
  });

  it('makes one payment of a PaymentIntent that paid two invoices, with an allocation to each', () => {
    expect(full.payments.get(s.payments.multi)).toEqual({
      id: s.payments.multi, kind: 'payment', date: date(s.day(5)), currency: 'USD', amountMinor: 150_000,
      allocations: [{ invoiceId: s.invoices.multiA, amountMinor: 100_000 }, { invoiceId: s.invoices.multiB, amountMinor: 50_000 }],
      removed: false, updatedAt: null,
    });
  });

  it('takes refunds off the payment, and removes a payment refunded in full', () => {
    expect(full.payments.get(s.payments.part)).toMatchObject({ amountMinor: 17_000, allocations: [{ invoiceId: s.invoices.refundedPart, amountMinor: 17_000 }], removed: false });
    expect(full.payments.get(s.payments.full)).toMatchObject({ removed: true, allocations: [] });
  });

  it('allocates credit notes: the pre-payment amount, and a post-payment amount refunded through Stripe', () => {
    expect(full.payments.get(s.creditNotes.credited)).toEqual({
      id: s.creditNotes.credited, kind: 'credit_note', date: date(s.day(3)), currency: 'USD', amountMinor: 10_000,
      allocations: [{ invoiceId: s.invoices.credited, amountMinor: 10_000 }], removed: false, updatedAt: null,
    });
    expect(full.payments.get(s.payments.credited)).toMatchObject({ amountMinor: 20_000, allocations: [{ invoiceId: s.invoices.credited, amountMinor: 20_000 }] });
    // Refunded 30.00 of the 100.00 paid by a post-payment credit note: the payment keeps 70.00, the note allocates 30.00.
    expect(full.payments.get(s.payments.post)).toMatchObject({ amountMinor: 7_000, allocations: [{ invoiceId: s.invoices.postCredit, amountMinor: 7_000 }] });
    expect(full.payments.get(s.creditNotes.post)).toMatchObject({ kind: 'credit_note', allocations: [{ invoiceId: s.invoices.postCredit, amountMinor: 3_000 }] });
  });

  it('writes off what an uncollectible invoice still owes, on the day it was marked', () => {
    expect(full.payments.get(syntheticId(s.invoices.uncollectible, 'writeOff'))).toEqual({
      id: syntheticId(s.invoices.uncollectible, 'writeOff'), kind: 'write_off', date: date(s.day(20)), currency: 'EUR', amountMinor: 30_000,
      allocations: [{ invoiceId: s.invoices.uncollectible, amountMinor: 30_000 }], removed: false, updatedAt: null,
    });
    expect(full.payments.get(s.payments.uncollectible)).toMatchObject({ amountMinor: 10_000 });
  });

  it('records money paid off Stripe, a customer balance applied, and yen in whole yen', () => {
    expect(full.payments.get(syntheticId(s.invoices.offStripe, 'offStripe'))).toMatchObject({
      kind: 'payment', date: date(s.day(5)), currency: 'EUR', amountMinor: 12_000, allocations: [{ invoiceId: s.invoices.offStripe, amountMinor: 12_000 }],
    });
    expect(full.payments.get(syntheticId(s.invoices.balanced, 'customerBalance'))).toMatchObject({
      kind: 'credit_note', date: date(s.day(0)), amountMinor: 3_000, allocations: [{ invoiceId: s.invoices.balanced, amountMinor: 3_000 }],
    });
    expect(full.payments.get(s.payments.yen)).toMatchObject({ currency: 'JPY', amountMinor: 5_000, allocations: [{ invoiceId: s.invoices.yen, amountMinor: 5_000 }] });
  });

  it('settles each invoice as Stripe does: its allocations and what it still owes add up to the total (refunds aside)', () => {
    const account = fake.account();
    const refunded = new Set([s.invoices.refundedPart, s.invoices.refundedFull]);
    for (const record of account.invoices.items) {
      if (record.status === 'draft' || record.status === 'void' || refunded.has(record.id)) continue;
      expect([record.id, allocated(full.payments.values(), record.id) + owed(record)]).toEqual([record.id, record.total]);
    }
    expect(allocated(full.payments.values(), s.invoices.voided)).toBe(0);
    expect(allocated(full.payments.values(), s.invoices.draft)).toBe(0);
  });

  describe('incremental pulls from Events', () => {
    let changed: Pulled;
    let newco: string;
    let newInvoice: string;
    let yenRest: string;
    let gone: string;

    beforeAll(async () => {
      fake.reset();
      const account = fake.account();
      fake.clock.set(s.day(25));
      account.updateCustomer(s.customers.bolt, { name: 'Bolt AG' });
      newco = account.createCustomer({ name: 'Newco', email: 'ar@newco.example', currency: 'usd' }).id;
      newInvoice = account.createInvoice({ customer: newco, lines: [{ amount: 9_900, description: 'Setup' }] }).id;
      yenRest = account.pay({ invoices: [s.invoices.yen] }).paymentId;
      account.refund(s.payments.multi, 10_000);
      account.deleteInvoice(s.invoices.draft);
      account.voidCreditNote(s.creditNotes.credited);
      gone = account.createCustomer({ name: 'Short-lived Ltd', email: 'x@short.example', currency: 'gbp' }).id;
      account.deleteCustomer(gone);
      changed = await pullAll(connector({ pageSize: 4 }), full.cursor);
    });

    it('sees exactly what changed, fetched again as it is now', () => {
      expect([...changed.customers.keys()].sort()).toEqual([s.customers.bolt, newco, gone].sort());
      // Deleted: archived, known by what its last event showed.
      expect(changed.customers.get(gone)).toMatchObject({ archived: true, name: 'Short-lived Ltd', domain: 'short.example', currency: 'GBP' });
      expect([...changed.invoices.keys()].sort()).toEqual([newInvoice, s.invoices.yen, s.invoices.draft, s.invoices.credited].sort());
      expect([...changed.payments.keys()].sort()).toEqual([yenRest, s.payments.multi, s.creditNotes.credited].sort());
      expect(changed.customers.get(s.customers.bolt)).toMatchObject({ name: 'Bolt AG', currency: 'EUR' });
      expect(changed.customers.get(s.customers.bolt)?.updatedAt).toBe(new Date(s.day(25) * 1000).toISOString());
      expect(changed.invoices.get(newInvoice)).toMatchObject({ customerId: newco, totalMinor: 9_900, status: 'open', issueDate: date(s.day(25)) });
      expect(changed.invoices.get(s.invoices.yen)).toMatchObject({ status: 'paid' });
      expect(changed.invoices.get(s.invoices.draft)).toMatchObject({ status: 'deleted', sourceStatus: 'deleted' });
      expect(changed.invoices.get(s.invoices.credited)).toMatchObject({ status: 'open' });
      expect(changed.payments.get(yenRest)).toMatchObject({ currency: 'JPY', amountMinor: 7_000, allocations: [{ invoiceId: s.invoices.yen, amountMinor: 7_000 }] });
      // 100.00 refunded of the two-invoice payment: taken from the later allocation.
      expect(changed.payments.get(s.payments.multi)).toMatchObject({
        amountMinor: 140_000, allocations: [{ invoiceId: s.invoices.multiA, amountMinor: 100_000 }, { invoiceId: s.invoices.multiB, amountMinor: 40_000 }],
      });
      expect(changed.payments.get(s.creditNotes.credited)).toMatchObject({ removed: true, allocations: [] });
    });

    it('reads the events after the last one seen, in pages, and ends done with nothing more', async () => {
      const eventCalls = fake.calls.filter((c) => c.path === '/v1/events');
      expect(eventCalls.every((c) => /ending_before=evt_/.test(c.query) && c.status === 200)).toBe(true);
      expect(changed.pages.length).toBeGreaterThan(1);
      expect(changed.pages.at(-1)?.done).toBe(true);
      expect(phaseOf(changed.cursor)).toBe('events');
      const again = await connector().pull(changed.cursor);
      expect(again).toMatchObject({ customers: [], invoices: [], payments: [], done: true });
    });

    it('reads from the last event time when Stripe no longer has the last event, while the cursor is younger than 30 days', async () => {
      // Quiet for 15 days: the cursor notes that it was up to date then.
      fake.clock.set(s.day(40));
      const quiet = await connector().pull(changed.cursor);
      expect(quiet.done).toBe(true);
      // Day 60: the last event (day 25) is past Stripe's 30 days, the cursor's check (day 40) is not.
      fake.clock.set(s.day(60));
      fake.account().updateCustomer(s.customers.kaito, { name: 'Kaito Holdings KK' });
      fake.reset();
      const page = await connector().pull(quiet.cursor);
      expect(page.customers.map((c) => [c.id, c.name])).toEqual([[s.customers.kaito, 'Kaito Holdings KK']]);
      const events = fake.calls.filter((c) => c.path === '/v1/events');
      expect(events.map((c) => c.status)).toEqual([404, 200]);
      expect(events[1]?.query).toMatch(/created\[gte\]=/);
      expect(page.done).toBe(true);
      changed = { ...changed, cursor: page.cursor };
    });

    it('starts a full pull again when the cursor is older than the 30 days Stripe keeps events', async () => {
      fake.clock.set(s.day(60) + 31 * DAY);
      fake.reset();
      const page = await connector().pull(changed.cursor);
      // Stripe lists no deleted customer.
      expect(page.customers.map((c) => c.id).sort()).toEqual([s.customers.acme, s.customers.bolt, s.customers.kaito, newco].sort());
      expect(page.done).toBe(false);
      expect(phaseOf(page.cursor)).toBe('invoices');
      expect(fake.calls.map((c) => c.path)).toEqual(['/v1/events', '/v1/customers']);
      expect(fake.calls[0]?.query).toMatch(/limit=1/);
    });
  });

  describe('rate limits and failures', () => {
    const statuses = (calls: readonly StripeCall[], path: string): (number | 'dropped')[] => calls.filter((c) => c.path === path).map((c) => c.status);

    it('waits out a 429 for its Retry-After, then reads on', async () => {
      fake.reset();
      fake.failNext('customers', rateLimited(1));
      const page = await connector().pull(null);
      expect(page.customers.length).toBeGreaterThan(0);
      const calls = fake.calls.filter((c) => c.path === '/v1/customers');
      expect(calls.map((c) => [c.status, c.fault])).toEqual([[429, true], [200, false]]);
      expect((calls[1] as StripeCall).at - (calls[0] as StripeCall).at).toBeGreaterThanOrEqual(1_000);
    });

    it('hands a long Retry-After to the caller as a retryable SourceError', async () => {
      fake.reset();
      fake.failNext('/v1/customers', rateLimited(120));
      const failure = await connector().pull(null).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(SourceError);
      expect(failure).toMatchObject({ source: 'stripe', retryable: true, retryAfterMs: 120_000 });
      expect(statuses(fake.calls, '/v1/customers')).toEqual([429]);
    });

    it('gives up after the configured 429 retries', async () => {
      fake.reset();
      fake.failNext('customers', rateLimited(1), 2);
      const failure = await connector({ rateLimit: { retries: 1 } }).pull(null).catch((e: unknown) => e);
      expect(failure).toMatchObject({ retryable: true, retryAfterMs: 1_000 });
      expect(statuses(fake.calls, '/v1/customers')).toEqual([429, 429]);
    });

    it('lets the SDK retry 500s, and reports them as retryable when they persist', async () => {
      fake.reset();
      fake.failNext('customers', serverError(), 2);
      const page = await connector({ maxNetworkRetries: 2 }).pull(null);
      expect(page.customers.length).toBeGreaterThan(0);
      expect(statuses(fake.calls, '/v1/customers')).toEqual([500, 500, 200]);
      fake.reset();
      fake.failNext('customers', serverError(), 1);
      const failure = await connector({ maxNetworkRetries: 0 }).pull(null).catch((e: unknown) => e);
      expect(failure).toMatchObject({ retryable: true });
      expect((failure as Error).message).toMatch(/HTTP 500/);
    });

    it('reports a Stripe that answers too slowly as a retryable failure', async () => {
      fake.reset();
      fake.slowNext('customers', 600);
      const failure = await connector({ timeoutMs: 100, maxNetworkRetries: 0 }).pull(null).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(SourceError);
      expect(failure).toMatchObject({ retryable: true });
      expect((failure as Error).message).toMatch(/could not be reached/);
      expect(fake.calls.filter((c) => c.path === '/v1/customers').map((c) => [c.status, c.fault])).toEqual([[200, true]]);
    });

    it('refuses an unknown key and a cursor that is not its own, without retrying', async () => {
      const refused = await connector({ credentials: async () => 'sk_test_51NotAKeyTheFakeKnows00' }).pull(null).catch((e: unknown) => e);
      expect(refused).toMatchObject({ retryable: false });
      expect((refused as Error).message).toMatch(/refused the API key/);
      const bad = await connector().pull('{"v":1,"phase":"later"}').catch((e: unknown) => e);
      expect(bad).toMatchObject({ retryable: false });
      expect((bad as Error).message).toMatch(/cursor is not valid: phase/);
    });
  });

  it('reads a connected account with Stripe-Account when a tenant is given', async () => {
    const platformKey = 'sk_test_51ARBridgePlatformKey0001';
    const connected = 'acct_1ConnectedShop01';
    fake.addKey(platformKey, { account: { id: 'acct_1PlatformAcct001' }, connected: [connected] });
    const other = fake.account(connected);
    const shopper = other.createCustomer({ name: 'Shop customer', currency: 'gbp' });
    other.createInvoice({ customer: shopper.id, lines: [{ amount: 4_200 }] });
    fake.reset();
    const pulled = await pullAll(connector({ credentials: async () => platformKey, tenantId: connected }), null);
    expect([...pulled.customers.keys()]).toEqual([shopper.id]);
    expect([...pulled.invoices.values()].map((i) => [i.currency, i.totalMinor])).toEqual([['GBP', 4_200]]);
    // The key's own account is looked up once (it is not the tenant); every read then acts for the tenant.
    const [probe, ...reads] = fake.calls;
    expect(probe).toMatchObject({ path: '/v1/account', stripeAccountHeader: null, account: 'acct_1PlatformAcct001' });
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.every((c) => c.stripeAccountHeader === connected && c.account === connected)).toBe(true);
    const denied = await connector({ credentials: async () => KEY, tenantId: connected }).pull(null).catch((e: unknown) => e);
    expect(denied).toMatchObject({ retryable: false });
    expect((denied as Error).message).toMatch(/Only Stripe Connect platforms/);
  });

  it('reads the key\'s own account, named as the tenant by the connect page, without Stripe-Account', async () => {
    fake.reset();
    const page = await connector({ tenantId: fake.defaultAccount }).pull(null);
    expect(page.customers.map((c) => c.id)).toContain(s.customers.acme);
    expect(fake.calls.map((c) => c.path).slice(0, 2)).toEqual(['/v1/account', '/v1/events']);
    expect(fake.calls.every((c) => c.stripeAccountHeader === null)).toBe(true);
  });
});

describe('Stripe connector over generated data', () => {
  let fake: FakeStripe;
  beforeAll(async () => {
    fake = await startFakeStripe({ now: START });
    fake.addKey(KEY);
    fake.seed(generateStripeData({ invoices: 1_500, seed: 11, end: START - 60 }));
  });
  afterAll(async () => fake.close());

  it('pulls every object once per phase, and every invoice settles as in Stripe, across page boundaries', async () => {
    const pulled = await pullAll(createStripeConnector({ apiUrl: fake.url, credentials: async () => KEY, pageSize: 150, now: () => new Date(fake.clock.now() * 1000) }), null);
    const account = fake.account();
    expect(pulled.customers.size).toBe(account.customers.size);
    expect(pulled.invoices.size).toBe(account.invoices.size);
    const ids = pulled.pages.flatMap((p) => p.invoices.map((i) => i.id));
    expect(new Set(ids).size).toBe(ids.length);
    const refundedInvoices = new Set(account.invoicePayments.items
      .filter((ip) => (account.charges.get(account.paymentIntents.get(ip.payment.id)?.latest_charge ?? '')?.amount_refunded ?? 0) > 0)
      .map((ip) => ip.invoice));
    expect(refundedInvoices.size).toBeGreaterThan(0);
    let checked = 0;
    for (const record of account.invoices.items) {
      if (record.status === 'draft' || record.status === 'void' || refundedInvoices.has(record.id)) continue;
      expect([record.id, allocated(pulled.payments.values(), record.id) + owed(record)]).toEqual([record.id, record.total]);
      checked += 1;
    }
    expect(checked).toBeGreaterThan(1_000);
    // Multi-invoice PaymentIntents are whole even where their invoice payments straddled a page: those were listed
    // by PaymentIntent.
    expect(fake.calls.filter((c) => /payment\[type\]=payment_intent&payment\[payment_intent\]=pi_/.test(c.query)).length).toBeGreaterThan(0);
    const multi = [...pulled.payments.values()].filter((p) => p.allocations.length > 1);
    expect(multi.length).toBeGreaterThan(5);
    for (const p of multi) {
      const pi = account.paymentIntents.get(p.id);
      expect(p.allocations.reduce((sum, a) => sum + a.amountMinor, 0)).toBe(pi?.amount_received);
    }
  });
});
