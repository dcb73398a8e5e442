import { afterEach, describe, expect, it } from '@jest/globals';
import { createXeroConnector, type XeroConnectorOptions } from '../../src/connectors/xero';
import { SourceError, type AccountingConnector } from '../../src/connectors/types';
import { startFakeXeroApi, type FakeXeroApi } from '../fakes/xero';
import { answerProblems } from '../fakes/xero/contract';
import { C, I, ITEM_ID, N, P, pullAll, SEEDED_AT, seedScenario, T0 } from '../fakes/xero/scenario';

// The Xero connector with xero-node's AccountingApi against the Accounting API fake: what a full pull maps, what
// an incremental pull reads after changes, paging while objects change, and Xero's failures.

let fake: FakeXeroApi;
let now = T0;
let problems: string[] = [];

/** A fake whose clock stands at SEEDED_AT while the scenario is seeded, then at T0. */
const start = async (): Promise<FakeXeroApi> => {
  now = SEEDED_AT;
  problems = [];
  fake = await startFakeXeroApi({
    clock: () => now,
    onResponse: (entry, body) => {
      if (typeof entry.status === 'number') problems.push(...answerProblems(entry.path, entry.status, body).map((p) => `${entry.path}: ${p}`));
    },
  });
  return fake;
};

/** The fake's clock moves a minute before each change. */
const later = <T>(change: () => T): T => {
  now += 60_000;
  return change();
};

const connector = (options: Partial<XeroConnectorOptions> = {}): AccountingConnector => createXeroConnector({
  apiUrl: fake.url, tenantId: fake.tenantId, credentials: async () => fake.accessToken, now: () => now, ...options,
});

const seeded = (): void => {
  seedScenario(fake);
  now = T0;
};

/** The SourceError a call ends with (fails the test when it succeeds). */
const sourceError = async (call: Promise<unknown>): Promise<SourceError> => {
  try {
    await call;
  } catch (error) {
    if (error instanceof SourceError) return error;
    throw error;
  }
  throw new Error('the call succeeded; a SourceError was expected');
};

afterEach(async () => {
  await fake?.close();
});

describe('Xero connector: full pull', () => {
  it('maps customers, receivable invoices and their settlements, in phases, from answers that all follow Xero\'s OpenAPI', async () => {
    await start();
    seeded();
    const pulled = await pullAll(connector());

    expect([...pulled.customers.keys()].sort()).toEqual([C.acme, C.tokyo, C.old].sort());
    expect(pulled.customers.get(C.acme)).toEqual({
      id: C.acme, name: 'Acme Ltd', email: 'AP@Acme.example', domain: 'acme.example', country: 'New Zealand', currency: 'NZD', archived: false,
      creditLimitMinor: null, creditLimitCurrency: null, updatedAt: '2026-09-01T10:00:00.000Z',
    });
    expect(pulled.customers.get(C.tokyo)).toMatchObject({ email: null, domain: 'tokyo.example', country: 'Japan', currency: 'JPY', archived: false });
    expect(pulled.customers.get(C.old)).toMatchObject({ name: 'Old Co', archived: true, currency: 'USD', country: null });

    // Drafts, submitted invoices and the supplier's bill are not read.
    expect([...pulled.invoices.keys()].sort()).toEqual([I.paid, I.part, I.credited, I.voided, I.deleted, I.yen, I.usd, I.open].sort());
    expect(pulled.invoices.get(I.paid)).toEqual({
      id: I.paid, number: 'INV-0001', customerId: C.acme, currency: 'NZD', totalMinor: 46_000, issueDate: '2026-10-01', dueDate: '2026-10-31',
      status: 'paid', sourceStatus: 'PAID', voidedDate: null, disputed: false, terms: null, reference: null,
      // Tax-exclusive line: the line amount plus its tax.
      lines: [{ productId: 'CONSULT', description: 'Consulting', quantity: 4, amountMinor: 46_000 }],
      updatedAt: '2026-10-16T10:00:00.000Z',
    });
    expect(pulled.invoices.get(I.part)).toMatchObject({
      status: 'open', sourceStatus: 'AUTHORISED', totalMinor: 16_500, issueDate: '2026-10-02', dueDate: '2026-10-02', reference: 'PO-7',
      // Tax-inclusive lines as they are; the item's id when the line names an item, else its code.
      lines: [
        { productId: ITEM_ID, description: 'Licence', quantity: 1, amountMinor: 11_500 },
        { productId: 'SUPPORT', description: 'Support', quantity: 2, amountMinor: 5_000 },
      ],
    });
    expect(pulled.invoices.get(I.voided)).toMatchObject({ status: 'void', sourceStatus: 'VOIDED', voidedDate: '2026-10-26', totalMinor: 4_000 });
    expect(pulled.invoices.get(I.deleted)).toMatchObject({ status: 'deleted', sourceStatus: 'DELETED' });
    expect(pulled.invoices.get(I.yen)).toMatchObject({ currency: 'JPY', totalMinor: 12_000, customerId: C.tokyo });
    expect(pulled.invoices.get(I.usd)).toMatchObject({ currency: 'USD', totalMinor: 10_999, customerId: C.old, lines: [{ productId: null, description: 'Widget', quantity: 1, amountMinor: 10_999 }] });

    expect([...pulled.payments.keys()].sort()).toEqual([P.paid, P.part, P.removed, P.credited, P.yen, N.credit, N.voided, N.over, N.pre].sort());
    expect(pulled.payments.get(P.paid)).toEqual({
      id: P.paid, kind: 'payment', date: '2026-10-05', currency: 'NZD', amountMinor: 46_000, allocations: [{ invoiceId: I.paid, amountMinor: 46_000 }],
      removed: false, updatedAt: '2026-10-16T10:00:00.000Z',
    });
    expect(pulled.payments.get(P.part)).toMatchObject({ amountMinor: 10_000, allocations: [{ invoiceId: I.part, amountMinor: 10_000 }], removed: false });
    expect(pulled.payments.get(P.removed)).toMatchObject({ removed: true, allocations: [] });
    expect(pulled.payments.get(P.yen)).toMatchObject({ currency: 'JPY', amountMinor: 5_000, allocations: [{ invoiceId: I.yen, amountMinor: 5_000 }] });
    expect(pulled.payments.get(N.credit)).toEqual({
      id: N.credit, kind: 'credit_note', date: '2026-10-08', currency: 'NZD', amountMinor: 10_000, allocations: [{ invoiceId: I.credited, amountMinor: 10_000 }],
      removed: false, updatedAt: '2026-10-20T10:00:00.000Z',
    });
    // A voided credit note and a prepayment allocated to nothing settle nothing.
    expect(pulled.payments.get(N.voided)).toMatchObject({ kind: 'credit_note', removed: true, allocations: [] });
    expect(pulled.payments.get(N.pre)).toMatchObject({ removed: true });
    // An overpayment is the customer's money: a payment, dated when it was allocated.
    expect(pulled.payments.get(N.over)).toMatchObject({ kind: 'payment', currency: 'USD', amountMinor: 999, date: '2026-10-14', allocations: [{ invoiceId: I.usd, amountMinor: 999 }] });

    // Customers before invoices before settlements; one phase per page; done only at the end.
    const phaseOf = (page: (typeof pulled.pages)[number]): number => (page.payments.length > 0 ? 3 : page.invoices.length > 0 ? 2 : page.customers.length > 0 ? 1 : 0);
    const phases = pulled.pages.map(phaseOf).filter((p) => p > 0);
    expect(phases).toEqual([...phases].sort());
    expect(pulled.pages.map((p) => p.done)).toEqual([...pulled.pages.slice(1).map(() => false), true]);
    expect(fake.requests.map((r) => r.route)).toEqual(['Contacts', 'Invoices', 'Payments', 'CreditNotes', 'Overpayments', 'Prepayments']);
    expect(fake.requests.every((r) => r.query.order === 'UpdatedDateUTC ASC' && r.query.page === '1' && r.query.pageSize === '100' && r.ifModifiedSince === null)).toBe(true);
    expect(fake.requests.find((r) => r.route === 'Invoices')?.query).toMatchObject({ Statuses: 'AUTHORISED,PAID,VOIDED,DELETED', where: 'Type=="ACCREC"', summaryOnly: 'false' });
    expect(problems).toEqual([]);
  });

  it('reads every object once or more while objects change between pages, and ends', async () => {
    await start();
    now = T0;
    fake.seed({ contacts: [{ id: C.acme, name: 'Acme', updatedAt: '2026-09-01T00:00:00Z' }] });
    const ids = Array.from({ length: 30 }, (_, n) => fake.org.quietly(() => fake.org.addInvoice({
      contactId: C.acme, date: '2026-10-01', lineAmountTypes: 'NoTax', lines: [{ unitAmount: n + 1 }], updatedAt: Date.parse('2026-10-01T00:00:00Z') + n * 60_000,
    })).id);
    const xero = connector({ pageSize: 3 });
    const seen = new Set<string>();
    let cursor: string | null = null;
    let pulls = 0;
    let r = 7;
    for (;;) {
      const page = await xero.pull(cursor);
      for (const invoice of page.invoices) seen.add(invoice.id);
      cursor = page.cursor;
      pulls += 1;
      if (page.done) break;
      expect(pulls).toBeLessThan(200);
      // Another user edits an invoice, read or not yet read: it moves to the end of UpdatedDateUTC order.
      r = (r * 17 + 5) % 30;
      later(() => fake.org.updateInvoice(ids[r] as string, { reference: `edit ${pulls}` }));
    }
    expect([...seen].sort()).toEqual([...ids].sort());
  });
});

describe('Xero connector: incremental pull', () => {
  it('reads with If-Modified-Since what changed after the last pull, and little else', async () => {
    await start();
    seeded();
    const xero = connector();
    const full = await pullAll(xero);
    const requestsBefore = fake.requests.length;

    later(() => fake.org.updateContact(C.acme, { name: 'Acme Limited' }));
    const paidOff = later(() => fake.org.addPayment({ invoiceId: I.part, date: '2026-11-01', amount: 65 }));
    later(() => fake.org.deletePayment(P.credited));
    const fresh = later(() => fake.org.addInvoice({ contactId: C.tokyo, date: '2026-11-01', currency: 'JPY', lineAmountTypes: 'NoTax', lines: [{ unitAmount: 3000 }] }));
    later(() => fake.org.setInvoiceStatus(I.open, 'VOIDED'));
    later(() => fake.org.allocateCredit('prepayment', N.pre, { invoiceId: I.credited, amount: 30, date: '2026-11-01' }));

    const next = await pullAll(xero, full.cursor);
    const incremental = fake.requests.slice(requestsBefore);
    // Each phase asks from the latest UpdatedDateUTC the last pull applied, less the 5 s overlap.
    expect(incremental.find((r) => r.route === 'Contacts' && !r.query.IDs)?.ifModifiedSince).toBe(new Date(Date.parse('2026-09-03T10:00:00Z') - 5_000).toISOString());
    expect(incremental.filter((r) => !r.query.IDs).every((r) => r.ifModifiedSince !== null)).toBe(true);

    expect(next.customers.get(C.acme)?.name).toBe('Acme Limited');
    expect([...next.invoices.keys()].sort()).toEqual([I.part, I.credited, fresh.id, I.open].sort());
    expect(next.invoices.get(I.part)).toMatchObject({ status: 'paid' });
    expect(next.invoices.get(I.open)).toMatchObject({ status: 'void', voidedDate: '2026-11-01' });
    expect(next.invoices.get(fresh.id)).toMatchObject({ customerId: C.tokyo, currency: 'JPY', totalMinor: 3_000 });
    // The latest change of each kind the first pull applied lies within the overlap of its frontier: the payment
    // reversed and the credit note voided before it, and the overpayment, are read again, which changes nothing.
    expect([...next.payments.keys()].sort()).toEqual([paidOff.id, P.credited, P.removed, N.voided, N.over, N.pre].sort());
    expect(next.payments.get(P.credited)).toMatchObject({ removed: true });
    expect(next.payments.get(N.pre)).toMatchObject({ kind: 'payment', removed: false, date: '2026-11-01', allocations: [{ invoiceId: I.credited, amountMinor: 3_000 }] });

    // Nothing changed since: a pull reads again only the latest change of each kind (within the overlap).
    const quiet = await pullAll(xero, next.cursor);
    expect([...quiet.invoices.keys()]).toEqual([I.credited]);
    expect(quiet.payments.has(paidOff.id)).toBe(false);
    expect(problems).toEqual([]);
  });

  it('brings along the contact of an invoice whose contact became a customer without changing', async () => {
    await start();
    seeded();
    const xero = connector();
    const full = await pullAll(xero);
    expect(full.customers.has(C.supplier)).toBe(false);
    // The supplier's first sales invoice makes it a customer; its own UpdatedDateUTC stays.
    const sale = later(() => fake.org.addInvoice({ contactId: C.supplier, date: '2026-11-01', lines: [{ unitAmount: 10 }] }));
    const next = await pullAll(xero, full.cursor);
    const page = next.pages.find((p) => p.invoices.some((i) => i.id === sale.id));
    expect(page?.customers.map((c) => c.id)).toContain(C.supplier);
    expect(fake.requests.some((r) => r.route === 'Contacts' && r.query.IDs?.split(',').includes(C.supplier))).toBe(true);
  });

  it('reads again, after their invoice, payments of invoices created after the invoices were read', async () => {
    await start();
    seeded();
    const xero = connector();
    const full = await pullAll(xero);
    // A new pull: contacts, then invoices (this organisation fits one page of each).
    const contacts = await xero.pull(full.cursor);
    const invoices = await xero.pull(contacts.cursor);
    expect(JSON.parse(invoices.cursor)).toMatchObject({ run: { phase: 'payments' } });
    // Meanwhile an invoice is raised and paid.
    const late = later(() => fake.org.addInvoice({ contactId: C.acme, date: '2026-11-01', lineAmountTypes: 'NoTax', lines: [{ unitAmount: 25 }] }));
    const payment = later(() => fake.org.addPayment({ invoiceId: late.id, date: '2026-11-01', amount: 25 }));
    const rest = await pullAll(xero, invoices.cursor);
    expect(rest.payments.has(payment.id)).toBe(true);
    expect(rest.invoices.has(late.id)).toBe(false);
    // The store had no invoice for that allocation: the next pull brings the invoice, then the payment again.
    const after = await pullAll(xero, rest.cursor);
    expect(after.invoices.get(late.id)).toMatchObject({ status: 'paid' });
    expect(after.payments.get(payment.id)).toMatchObject({ allocations: [{ invoiceId: late.id, amountMinor: 2_500 }] });
    const invoicePage = after.pages.findIndex((p) => p.invoices.some((i) => i.id === late.id));
    const paymentPage = after.pages.findIndex((p) => p.payments.some((x) => x.id === payment.id));
    expect(invoicePage).toBeLessThan(paymentPage);
  });
});

describe('Xero connector: failures', () => {
  it('turns a 429 into a retryable SourceError with Retry-After, and makes no call of its own until pulled again', async () => {
    await start();
    seeded();
    const xero = connector();
    const contacts = await xero.pull(null);
    fake.failNext('Invoices', { rateLimit: 'minute', retryAfterSeconds: 7 });
    const error = await sourceError(xero.pull(contacts.cursor));
    expect(error).toMatchObject({ source: 'xero', retryable: true, retryAfterMs: 7_000 });
    expect(error.message).toMatch(/minute rate limit/);
    expect(fake.requests.map((r) => `${r.route} ${r.status}`)).toEqual(['Contacts 200', 'Invoices 429']);
    // Pulled again from the same cursor, it asks for the same page.
    const invoices = await xero.pull(contacts.cursor);
    expect(invoices.invoices.length).toBeGreaterThan(0);
    const [limited, served] = fake.requests.slice(1);
    expect(served).toMatchObject({ route: 'Invoices', status: 200, query: limited?.query, ifModifiedSince: limited?.ifModifiedSince });

    fake.failNext('Payments', { rateLimit: 'day', retryAfterSeconds: 3_600 });
    expect(await sourceError(xero.pull(invoices.cursor))).toMatchObject({ retryable: true, retryAfterMs: 3_600_000 });
    fake.failNext('Payments', { rateLimit: 'concurrent' });
    expect(await sourceError(xero.pull(invoices.cursor))).toMatchObject({ retryable: true, retryAfterMs: null });
  });

  it('retries what may succeed later (5xx, a dropped connection) and not what will not (401, 403, a bad cursor)', async () => {
    await start();
    seeded();
    fake.failNext('Contacts', { status: 503 });
    expect(await sourceError(connector().pull(null))).toMatchObject({ retryable: true, retryAfterMs: null });
    fake.failNext('Contacts', 'drop');
    expect(await sourceError(connector().pull(null))).toMatchObject({ retryable: true });
    const unauthorized = await sourceError(connector({ credentials: async () => 'expired-token' }).pull(null));
    expect(unauthorized).toMatchObject({ retryable: false });
    expect(unauthorized.message).toMatch(/401/);
    const forbidden = await sourceError(connector({ tenantId: '9d0f5a8e-0000-4000-8000-000000000000' }).pull(null));
    expect(forbidden).toMatchObject({ retryable: false });
    expect(forbidden.message).toMatch(/403/);
    fake.failNext('Contacts', { status: 400, body: { ErrorNumber: 10, Type: 'ValidationException', Message: 'A validation exception occurred' } });
    const refused = await sourceError(connector().pull(null));
    expect(refused).toMatchObject({ retryable: false });
    expect(refused.message).toMatch(/A validation exception occurred/);
    expect(await sourceError(connector().pull('{"v":2}'))).toMatchObject({ retryable: false });
    expect(await sourceError(connector().pull('not json'))).toMatchObject({ retryable: false });
  });

  it('refuses options it cannot work with, naming the field', () => {
    const base = { apiUrl: 'http://127.0.0.1:1', tenantId: 't', credentials: async () => 'x' };
    expect(() => createXeroConnector({ ...base, apiUrl: 'not a url' })).toThrow(/apiUrl/);
    expect(() => createXeroConnector({ ...base, tenantId: null })).toThrow(/tenantId/);
    expect(() => createXeroConnector({ ...base, pageSize: 5_000 })).toThrow(/pageSize/);
  });
});
