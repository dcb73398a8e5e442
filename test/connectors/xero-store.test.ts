import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { createXeroConnector } from '../../src/connectors/xero';
import type { AccountingConnector } from '../../src/connectors/types';
import type { Store } from '../../src/store/store';
import { syncSource } from '../../src/sync/engine';
import { generateInto, liveAllocation, startFakeXeroApi, type FakeXeroApi, type XeroOrg } from '../fakes/xero';
import { C, I, N, P, SEEDED_AT, seedScenario, T0 } from '../fakes/xero/scenario';
import { describeEachStore, openTestStore } from '../helpers/stores';
import { connect, countRows, sorted, storeState } from '../sync/store-state';

// Xero pulled into the store by the sync engine (syncSource), on both store backends: a full pull, then
// incremental pulls after changes, must leave per customer the invoices, totals and settlements Xero has, with
// no duplicate payment; a 429's Retry-After is waited out by the engine.

const PORTAL = 770_001;

/** What the store must hold per customer, from Xero's own numbers: AmountPaid + AmountCredited of each invoice. */
const expectedState = (org: XeroOrg): Map<string, { invoices: number; totalMinor: number; appliedMinor: number }> => {
  const state = new Map<string, { invoices: number; totalMinor: number; appliedMinor: number }>();
  for (const invoice of org.invoices.all) {
    if (invoice.type !== 'ACCREC' || !['AUTHORISED', 'PAID', 'VOIDED'].includes(invoice.status)) continue;
    const entry = state.get(invoice.contactId) ?? { invoices: 0, totalMinor: 0, appliedMinor: 0 };
    state.set(invoice.contactId, {
      invoices: entry.invoices + 1,
      totalMinor: entry.totalMinor + invoice.totalMinor,
      appliedMinor: entry.appliedMinor + org.amountPaid(invoice) + org.amountCredited(invoice),
    });
  }
  return state;
};

/** Settlement documents the store must hold: live sales payments, live credit notes, allocated over/prepayments. */
const expectedPayments = (org: XeroOrg): number => {
  const payments = org.payments.all.filter((p) => p.status === 'AUTHORISED' && org.invoice(p.invoiceId).type === 'ACCREC').length;
  const notes = org.creditNotes.all.filter((n) => n.type === 'ACCRECCREDIT' && (n.status === 'AUTHORISED' || n.status === 'PAID') && n.totalMinor > 0).length;
  const prepaid = [...org.overpayments.all, ...org.prepayments.all]
    .filter((o) => o.type.startsWith('RECEIVE') && o.allocations.some((a) => liveAllocation(o, a))).length;
  return payments + notes + prepaid;
};

describeEachStore('Xero pulled into the store by the sync engine', (backend) => {
  let store: Store;
  let fake: FakeXeroApi;
  let connector: AccountingConnector;
  let now = SEEDED_AT;
  const later = <T>(change: () => T): T => {
    now += 60_000;
    return change();
  };

  beforeAll(async () => {
    store = await openTestStore(backend);
    fake = await startFakeXeroApi({ clock: () => now });
    seedScenario(fake);
    generateInto(fake.org, { invoices: 1_500, seed: 5, start: '2026-01-01', days: 270 });
    now = T0;
    connector = createXeroConnector({ apiUrl: fake.url, tenantId: fake.tenantId, credentials: async () => fake.accessToken, now: () => now });
    await connect(store.db, PORTAL, 'xero', { access_token: 'at', refresh_token: 'rt', token_type: 'Bearer', expires_at: null, scope: null, connection_id: 'c' }, fake.tenantId);
  });
  afterAll(async () => {
    await store.close();
    await fake.close();
  });

  it('stores a full pull as Xero has it: invoices, totals and settlements per customer; no draft, no bill', async () => {
    const result = await syncSource(store.db, PORTAL, connector, { trigger: 'test' });
    expect(result.done).toBe(true);
    expect(result.skippedAllocations).toBe(0);
    expect(result.placeholderCustomers).toBe(0);
    expect(sorted(await storeState(store.db, PORTAL, 'xero'))).toEqual(sorted(expectedState(fake.org)));
    expect(await countRows(store.db, 'payments', PORTAL)).toBe(expectedPayments(fake.org));
    const stored = await store.db.selectFrom('invoices').select(['external_id', 'voided_date', 'source_status', 'total_minor', 'currency'])
      .where('portal_id', '=', PORTAL).where('external_id', 'in', [I.voided, I.deleted, I.draft, I.submitted, I.bill, I.yen]).execute();
    expect(sorted(new Map(stored.map((s) => [s.external_id, { voided: s.voided_date, status: s.source_status, total: Number(s.total_minor), currency: s.currency }])))).toEqual(sorted(new Map([
      [I.voided, { voided: '2026-10-26', status: 'VOIDED', total: 4_000, currency: 'NZD' }],
      [I.yen, { voided: null, status: 'AUTHORISED', total: 12_000, currency: 'JPY' }],
    ])));
    const kinds = await store.db.selectFrom('payments').select(['external_id', 'kind']).where('portal_id', '=', PORTAL)
      .where('external_id', 'in', [P.paid, P.removed, N.credit, N.voided, N.over, N.pre]).execute();
    expect(sorted(new Map(kinds.map((k) => [k.external_id, k.kind])))).toEqual(sorted(new Map([[P.paid, 'payment'], [N.credit, 'credit_note'], [N.over, 'payment']])));
    const archived = await store.db.selectFrom('customers').select(['archived', 'email']).where('portal_id', '=', PORTAL).where('external_id', '=', C.old).executeTakeFirstOrThrow();
    expect(archived.archived).toBe(true);
    expect(await countRows(store.db, 'invoice_lines', PORTAL)).toBeGreaterThan(0);
  });

  it('stores what changed on the next pulls, with no duplicate payment', async () => {
    later(() => fake.org.updateContact(C.acme, { name: 'Acme Limited' }));
    later(() => fake.org.addPayment({ invoiceId: I.part, date: '2026-11-01', amount: 65 }));
    later(() => fake.org.deletePayment(P.credited));
    later(() => fake.org.addInvoice({ contactId: C.supplier, date: '2026-11-01', lines: [{ unitAmount: 10 }] }));
    later(() => fake.org.setInvoiceStatus(I.open, 'VOIDED'));
    later(() => fake.org.allocateCredit('prepayment', N.pre, { invoiceId: I.credited, amount: 30, date: '2026-11-01' }));
    const note = fake.org.creditNotes.byId.get(N.credit);
    const allocation = note?.allocations[0];
    if (allocation) later(() => fake.org.removeAllocation('creditNote', N.credit, allocation.id));

    const result = await syncSource(store.db, PORTAL, connector, { trigger: 'test' });
    expect(result.done).toBe(true);
    expect(result.skippedAllocations).toBe(0);
    expect(sorted(await storeState(store.db, PORTAL, 'xero'))).toEqual(sorted(expectedState(fake.org)));
    expect(await countRows(store.db, 'payments', PORTAL)).toBe(expectedPayments(fake.org));
    const names = await store.db.selectFrom('customers').select(['external_id', 'name']).where('portal_id', '=', PORTAL)
      .where('external_id', 'in', [C.acme, C.supplier]).execute();
    expect(sorted(new Map(names.map((n) => [n.external_id, n.name])))).toEqual(sorted(new Map([[C.acme, 'Acme Limited'], [C.supplier, 'Paper Supplies']])));

    // Nothing changed: the store stays as it is.
    const before = await countRows(store.db, 'payment_allocations', PORTAL);
    await syncSource(store.db, PORTAL, connector, { trigger: 'test' });
    expect(await countRows(store.db, 'payment_allocations', PORTAL)).toBe(before);
    expect(sorted(await storeState(store.db, PORTAL, 'xero'))).toEqual(sorted(expectedState(fake.org)));
  });

  it('waits out a 429\'s Retry-After before asking again for the same page', async () => {
    later(() => fake.org.addPayment({ invoiceId: I.yen, date: '2026-11-03', amount: 1000 }));
    const from = fake.requests.length;
    fake.failNext('Invoices', { rateLimit: 'minute', retryAfterSeconds: 7 });
    const waits: number[] = [];
    const result = await syncSource(store.db, PORTAL, connector, { trigger: 'test', sleep: async (ms) => { waits.push(ms); } });
    expect(result.done).toBe(true);
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThanOrEqual(7_000);
    const invoiceCalls = fake.requests.slice(from).filter((r) => r.route === 'Invoices');
    expect(invoiceCalls.map((r) => r.status)).toEqual([429, 200]);
    expect(invoiceCalls[1]?.ifModifiedSince).toBe(invoiceCalls[0]?.ifModifiedSince);
    expect(sorted(await storeState(store.db, PORTAL, 'xero'))).toEqual(sorted(expectedState(fake.org)));
    expect(await countRows(store.db, 'payments', PORTAL)).toBe(expectedPayments(fake.org));
  });
});
