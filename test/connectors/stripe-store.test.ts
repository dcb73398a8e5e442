import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { loadConfig } from '../../src/config';
import type { AccountingConnector } from '../../src/connectors/types';
import type { Store } from '../../src/store/store';
import { syncSource } from '../../src/sync/engine';
import { connectorFor } from '../../src/sync/registry';
import { amountRemaining, generateStripeData, startFakeStripe, type AccountData, type FakeStripe, type InvoiceRecord } from '../fakes/stripe';
import { buildScenario, type StripeScenario } from '../fakes/stripe/scenario';
import { describeEachStore, openTestStore } from '../helpers/stores';
import { connect, countRows, sorted, storeState, TEST_KEY } from '../sync/store-state';

const KEY = 'sk_test_51ARBridgeStripeStoreTest1';
const START = Date.UTC(2026, 6, 1) / 1000;
const PORTAL = 660_001;

/** What an invoice still owes in Stripe; an uncollectible invoice's remainder is written off. */
const owed = (invoice: InvoiceRecord): number => (invoice.status === 'uncollectible' ? 0 : amountRemaining(invoice));

/**
 * What the store must hold per customer, from Stripe's own records: invoices that are facts (not drafts), their
 * totals, and what settled them: the total less what Stripe says is still owed, less money refunded on their
 * payments that no credit note gave back.
 */
const expectedState = (account: AccountData): Map<string, { invoices: number; totalMinor: number; appliedMinor: number }> => {
  const linked = new Set(account.creditNotes.items.filter((n) => n.status === 'issued').flatMap((n) => n.refunds.map((r) => r.refund)));
  const plainRefunds = (chargeId: string): number => (account.refundsByCharge.get(chargeId) ?? [])
    .filter((r) => !linked.has(r.id)).reduce((sum, r) => sum + r.amount, 0);
  const state = new Map<string, { invoices: number; totalMinor: number; appliedMinor: number }>();
  /** The charges that paid each customer's invoices (a payment of several invoices is one charge, refunded once). */
  const charges = new Map<string, Set<string>>();
  for (const invoice of account.invoices.items) {
    if (invoice.status === 'draft' || invoice.status === 'deleted') continue;
    const applied = invoice.status === 'void' ? 0 : invoice.total - owed(invoice);
    const entry = state.get(invoice.customer) ?? { invoices: 0, totalMinor: 0, appliedMinor: 0 };
    state.set(invoice.customer, { invoices: entry.invoices + 1, totalMinor: entry.totalMinor + invoice.total, appliedMinor: entry.appliedMinor + applied });
    const paidBy = charges.get(invoice.customer) ?? new Set<string>();
    for (const ip of account.paymentsByInvoice.get(invoice.id) ?? []) {
      const charge = ip.payment.type === 'payment_intent' ? account.paymentIntents.get(ip.payment.id)?.latest_charge : ip.payment.id;
      if (charge) paidBy.add(charge);
    }
    charges.set(invoice.customer, paidBy);
  }
  for (const [customer, paidBy] of charges) {
    const entry = state.get(customer);
    if (entry) entry.appliedMinor -= [...paidBy].reduce((sum, charge) => sum + plainRefunds(charge), 0);
  }
  return state;
};

describeEachStore('Stripe pulled into the store by the sync engine', (backend) => {
  let store: Store;
  let fake: FakeStripe;
  let s: StripeScenario;
  let connector: AccountingConnector;

  beforeAll(async () => {
    store = await openTestStore(backend);
    fake = await startFakeStripe({ now: START });
    fake.addKey(KEY);
    fake.seed(generateStripeData({ invoices: 600, seed: 5, end: START - 3_600 }));
    s = buildScenario(fake.account(), fake.clock, START);
    // Connected as the connect page connects a pasted key (sealed key, the key's account as tenant), and read
    // through the registry as the service reads it.
    await connect(store.db, PORTAL, 'stripe', { api_key: KEY }, fake.defaultAccount);
    connector = await connectorFor('stripe', { db: store.db, key: TEST_KEY, portalId: PORTAL, config: loadConfig({ STRIPE_API_URL: fake.url }) });
  });
  afterAll(async () => {
    await store.close();
    await fake.close();
  });

  it('stores a full pull as Stripe has it: invoices, totals and settlements per customer; no draft, no refunded payment', async () => {
    const result = await syncSource(store.db, PORTAL, connector, { trigger: 'test' });
    expect(result.done).toBe(true);
    expect(result.skippedAllocations).toBe(0);
    const account = fake.account();
    expect(sorted(await storeState(store.db, PORTAL, 'stripe'))).toEqual(sorted(expectedState(account)));
    expect(await countRows(store.db, 'customers', PORTAL)).toBe(account.customers.size);
    const stored = await store.db.selectFrom('invoices').select(['external_id', 'voided_date', 'source_status'])
      .where('portal_id', '=', PORTAL).where('external_id', 'in', [s.invoices.draft, s.invoices.voided, s.invoices.yen]).execute();
    expect(stored.map((i) => i.external_id).sort()).toEqual([s.invoices.voided, s.invoices.yen].sort());
    const payments = await store.db.selectFrom('payments').select(['external_id', 'kind', 'currency', 'amount_minor'])
      .where('portal_id', '=', PORTAL).where('external_id', 'in', [s.payments.full, s.payments.yen, `${s.invoices.uncollectible}:write_off`]).execute();
    expect(payments.map((p) => [p.external_id, p.kind, p.currency, Number(p.amount_minor)]).sort()).toEqual([
      [s.payments.yen, 'payment', 'JPY', 5_000], [`${s.invoices.uncollectible}:write_off`, 'write_off', 'EUR', 30_000],
    ].sort());
    const lines = await store.db.selectFrom('invoice_lines as l').innerJoin('invoices as i', 'i.id', 'l.invoice_id')
      .select(['l.line_no']).where('i.portal_id', '=', PORTAL).where('i.external_id', '=', s.invoices.manyLines).execute();
    expect(lines.length).toBe(12);
  });

  it('stores what changed since, from Events, and a second pull with nothing new writes nothing', async () => {
    const account = fake.account();
    fake.clock.set(s.day(25));
    account.deleteInvoice(s.invoices.draft);
    account.voidCreditNote(s.creditNotes.credited);
    account.refund(s.payments.multi, 10_000);
    account.pay({ invoices: [s.invoices.yen] });
    const newco = account.createCustomer({ name: 'Newco', currency: 'usd' });
    account.createInvoice({ customer: newco.id, lines: [{ amount: 9_900 }] });
    const generated = account.invoices.items.find((i) => i.status === 'open' && i.id.startsWith('in_1G'));
    if (!generated) throw new Error('fixture: an open generated invoice');
    account.markUncollectible(generated.id);
    const result = await syncSource(store.db, PORTAL, connector, { trigger: 'test' });
    expect(result).toMatchObject({ done: true, skippedAllocations: 0, customers: 1, invoicesRemoved: 0 });
    expect(sorted(await storeState(store.db, PORTAL, 'stripe'))).toEqual(sorted(expectedState(account)));
    const idle = await syncSource(store.db, PORTAL, connector, { trigger: 'test' });
    expect(idle).toMatchObject({ pages: 1, customers: 0, invoices: 0, payments: 0 });
  });
});
