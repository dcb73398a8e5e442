import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createQuickBooksConnector, type QuickBooksConnectorOptions } from '../../src/connectors/quickbooks';
import { SourceError, type AccountingConnector, type ChangePage, type SourceInvoice, type SourcePayment } from '../../src/connectors/types';
import { startFakeQuickBooksApi, type FakeQuickBooksApi } from '../fakes/quickbooks';

// The connector against the fake QuickBooks Online over real HTTP on loopback.

const REALM = '9130357766900456';
const DAY = 86_400_000;

let fake: FakeQuickBooksApi;
let waits: number[];

const connect = (options: Partial<QuickBooksConnectorOptions> = {}): AccountingConnector => {
  const token = fake.token(REALM);
  return createQuickBooksConnector({
    apiUrl: fake.url, tenantId: REALM, credentials: async () => token,
    sleep: async (ms) => { waits.push(ms); },
    ...options,
  });
};

/** Pulls until the connector is done; the pages in order. */
const pullAll = async (connector: AccountingConnector, cursor: string | null, limit = 100): Promise<ChangePage[]> => {
  const pages: ChangePage[] = [];
  let next = cursor;
  for (let i = 0; i < limit; i += 1) {
    const page = await connector.pull(next);
    pages.push(page);
    next = page.cursor;
    if (page.done) return pages;
  }
  throw new Error('the connector never said it was done');
};

const merged = (pages: readonly ChangePage[]) => ({
  customers: new Map(pages.flatMap((p) => p.customers).map((c) => [c.id, c])),
  invoices: new Map(pages.flatMap((p) => p.invoices).map((i) => [i.id, i])),
  payments: new Map(pages.flatMap((p) => p.payments).map((p) => [p.id, p])),
});

const cursorMode = (page: ChangePage): string => (JSON.parse(page.cursor) as { mode: string }).mode;

const seed = (): void => {
  fake.seed(REALM, {
    customers: [
      { Id: '1', DisplayName: 'Amy\'s Bird Sanctuary', PrimaryEmailAddr: { Address: 'Birds@Amy.example.com' }, BillAddr: { Country: 'USA' } },
      { Id: '2', DisplayName: 'Bill\'s Windsurf Shop', CurrencyRef: 'EUR' },
      { Id: '3', DisplayName: 'Tokyo KK', CurrencyRef: 'JPY' },
      { Id: '4', DisplayName: 'Closed Co', Active: false },
    ],
    invoices: [
      { Id: '10', DocNumber: '1001', CustomerRef: '1', TxnDate: '2026-10-01', DueDate: '2026-10-31', Line: [{ Amount: 500, Description: 'Design', SalesItemLineDetail: { ItemRef: { value: '7', name: 'Design' }, Qty: 5, UnitPrice: 100 } }] },
      { Id: '11', DocNumber: '1002', CustomerRef: '1', TxnDate: '2026-10-05', DueDate: '2026-11-04', Line: [{ Amount: 120.5, SalesItemLineDetail: { ItemRef: { value: '8', name: 'Pump' }, Qty: 1 } }] },
      { Id: '12', DocNumber: '1003', CustomerRef: '1', TxnDate: '2026-10-06', Line: [{ Amount: 100 }] },
      { Id: '13', DocNumber: '1004', CustomerRef: '2', TxnDate: '2026-10-07', Line: [{ Amount: 80 }] },
      { Id: '14', DocNumber: '1005', CustomerRef: '3', TxnDate: '2026-10-08', DueDate: '2026-11-07', Line: [
        { Amount: 100000, SalesItemLineDetail: { ItemRef: { value: '9', name: 'Hardware' }, Qty: 2, UnitPrice: 50000 } },
        { Amount: 20000, Description: 'Setup', SalesItemLineDetail: { ItemRef: { value: '4', name: 'Consulting' }, Qty: 1 } },
      ] },
      { Id: '15', DocNumber: '1006', CustomerRef: '1', TxnDate: '2026-10-09', Line: [{ Amount: 75 }] },
      { Id: '16', DocNumber: '1007', CustomerRef: '2', TxnDate: '2026-10-10', Line: [{ Amount: 40 }] },
      { Id: '17', DocNumber: '1008', CustomerRef: '2', TxnDate: '2026-10-11', Line: [{ Amount: 60 }] },
    ],
    creditMemos: [{ Id: '20', DocNumber: 'CM-1', CustomerRef: '1', TxnDate: '2026-10-12', Line: [{ Amount: 100 }] }],
    payments: [
      { Id: '30', CustomerRef: '1', TxnDate: '2026-10-20', Line: [{ Amount: 500, LinkedTxn: [{ TxnId: '10', TxnType: 'Invoice' }] }] },
      { Id: '31', CustomerRef: '1', TxnDate: '2026-10-21', Line: [{ Amount: 50, LinkedTxn: [{ TxnId: '11', TxnType: 'Invoice' }] }] },
      { Id: '32', CustomerRef: '1', TxnDate: '2026-10-22', TotalAmt: 0, Line: [
        { Amount: 100, LinkedTxn: [{ TxnId: '12', TxnType: 'Invoice' }] }, { Amount: 100, LinkedTxn: [{ TxnId: '20', TxnType: 'CreditMemo' }] },
      ] },
      { Id: '33', CustomerRef: '3', TxnDate: '2026-10-23', Line: [{ Amount: 20000, LinkedTxn: [{ TxnId: '14', TxnType: 'Invoice' }] }] },
      { Id: '35', CustomerRef: '2', TxnDate: '2026-10-24', Line: [
        { Amount: 40, LinkedTxn: [{ TxnId: '16', TxnType: 'Invoice' }] }, { Amount: 60, LinkedTxn: [{ TxnId: '17', TxnType: 'Invoice' }] },
      ] },
    ],
  });
  fake.voidInvoice(REALM, '13');
  fake.takeEvents();
};

beforeEach(async () => {
  waits = [];
  fake = await startFakeQuickBooksApi({ companies: [{ realmId: REALM, homeCurrency: 'USD' }] });
});

afterEach(async () => {
  await fake.close();
});

describe('full pull', () => {
  beforeEach(seed);

  it('reads customers, then invoices, then payments, page by page, and ends ready for Change Data Capture', async () => {
    const pages = await pullAll(connect({ pageSize: 3 }), null);
    const kinds = pages.map((p) => (p.customers.length ? 'C' : p.invoices.length ? 'I' : p.payments.length ? 'P' : '-'));
    // 4 customers, 8 invoices, 5 payments; pages of 3 rows, the first of each later page read before. A short
    // answer ends a phase (the last one here holds only the row read before).
    expect(kinds.join('')).toBe('CCIIIIPP-');
    expect(pages.slice(0, -1).every((p) => !p.done)).toBe(true);
    expect(cursorMode(pages.at(-1) as ChangePage)).toBe('cdc');
    expect(fake.requests.map((r) => r.query)).toEqual([
      'SELECT * FROM Customer WHERE Active IN (true, false) ORDERBY Id STARTPOSITION 1 MAXRESULTS 3',
      // Each later page starts on the last row already read.
      'SELECT * FROM Customer WHERE Active IN (true, false) ORDERBY Id STARTPOSITION 3 MAXRESULTS 3',
      'SELECT * FROM Invoice ORDERBY Id STARTPOSITION 1 MAXRESULTS 3',
      'SELECT * FROM Invoice ORDERBY Id STARTPOSITION 3 MAXRESULTS 3',
      'SELECT * FROM Invoice ORDERBY Id STARTPOSITION 5 MAXRESULTS 3',
      'SELECT * FROM Invoice ORDERBY Id STARTPOSITION 7 MAXRESULTS 3',
      'SELECT * FROM Payment ORDERBY Id STARTPOSITION 1 MAXRESULTS 3',
      'SELECT * FROM Payment ORDERBY Id STARTPOSITION 3 MAXRESULTS 3',
      'SELECT * FROM Payment ORDERBY Id STARTPOSITION 5 MAXRESULTS 3',
    ]);
    expect(pages.flatMap((p) => p.invoices).map((i) => i.id)).toEqual(['10', '11', '12', '13', '14', '15', '16', '17']);
  });

  it('maps customers: inactive ones are archived, e-mail domain, currency', async () => {
    const { customers } = merged(await pullAll(connect(), null));
    expect([...customers.keys()]).toEqual(['1', '2', '3', '4']);
    expect(customers.get('1')).toMatchObject({ name: 'Amy\'s Bird Sanctuary', email: 'Birds@Amy.example.com', domain: 'amy.example.com', country: 'USA', currency: 'USD', archived: false });
    expect(customers.get('2')).toMatchObject({ currency: 'EUR', archived: false });
    expect(customers.get('4')).toMatchObject({ name: 'Closed Co', archived: true });
    expect(customers.get('1')?.updatedAt).toMatch(/Z$/);
  });

  it('maps invoices: paid, partly paid, paid by credit, voided, JPY without decimals, lines', async () => {
    const { invoices } = merged(await pullAll(connect(), null));
    const view = (i: SourceInvoice | undefined) => i && [i.status, i.sourceStatus, i.currency, i.totalMinor, i.voidedDate];
    expect(view(invoices.get('10'))).toEqual(['paid', 'Paid', 'USD', 50_000, null]);
    expect(view(invoices.get('11'))).toEqual(['open', 'PartiallyPaid', 'USD', 12_050, null]);
    expect(view(invoices.get('12'))).toEqual(['paid', 'Paid', 'USD', 10_000, null]);
    expect(invoices.get('13')).toMatchObject({ status: 'void', sourceStatus: 'Voided', currency: 'EUR', totalMinor: 0, voidedDate: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) });
    expect(invoices.get('14')).toMatchObject({
      number: '1005', customerId: '3', currency: 'JPY', totalMinor: 120_000, issueDate: '2026-10-08', dueDate: '2026-11-07', status: 'open',
      lines: [
        { productId: '9', description: 'Hardware', quantity: 2, amountMinor: 100_000 },
        { productId: '4', description: 'Setup', quantity: 1, amountMinor: 20_000 },
      ],
    });
    // No DueDate: due on the issue date.
    expect(invoices.get('12')).toMatchObject({ issueDate: '2026-10-06', dueDate: '2026-10-06' });
  });

  it('maps payments with their allocations, and credit applied through a payment as a credit note', async () => {
    const { payments } = merged(await pullAll(connect(), null));
    const view = (p: SourcePayment | undefined) => p && [p.kind, p.date, p.currency, p.amountMinor, p.allocations, p.removed];
    expect(view(payments.get('30'))).toEqual(['payment', '2026-10-20', 'USD', 50_000, [{ invoiceId: '10', amountMinor: 50_000 }], false]);
    expect(view(payments.get('31'))).toEqual(['payment', '2026-10-21', 'USD', 5_000, [{ invoiceId: '11', amountMinor: 5_000 }], false]);
    // A credit memo applied by a zero payment: no money, a credit of 100.
    expect(view(payments.get('32'))).toEqual(['payment', '2026-10-22', 'USD', 0, [], true]);
    expect(view(payments.get('32:credit'))).toEqual(['credit_note', '2026-10-22', 'USD', 10_000, [{ invoiceId: '12', amountMinor: 10_000 }], false]);
    expect(view(payments.get('33'))).toEqual(['payment', '2026-10-23', 'JPY', 20_000, [{ invoiceId: '14', amountMinor: 20_000 }], false]);
    // One payment of two invoices.
    expect(view(payments.get('35'))).toEqual(['payment', '2026-10-24', 'EUR', 10_000, [{ invoiceId: '16', amountMinor: 4_000 }, { invoiceId: '17', amountMinor: 6_000 }], false]);
  });

  it('reads the home currency from Preferences (once) for objects without a CurrencyRef', async () => {
    await fake.close();
    fake = await startFakeQuickBooksApi({ companies: [{ realmId: REALM, homeCurrency: 'CAD' }] });
    fake.seed(REALM, {
      customers: [{ Id: '1', DisplayName: 'Maple', CurrencyRef: null }],
      invoices: [{ Id: '2', CustomerRef: '1', TxnDate: '2026-10-01', CurrencyRef: null, Line: [{ Amount: 10 }] }],
      payments: [{ Id: '3', CustomerRef: '1', TxnDate: '2026-10-02', CurrencyRef: null, Line: [{ Amount: 10, LinkedTxn: [{ TxnId: '2', TxnType: 'Invoice' }] }] }],
    });
    const { customers, invoices, payments } = merged(await pullAll(connect(), null));
    expect(customers.get('1')?.currency).toBeNull();
    expect(invoices.get('2')).toMatchObject({ currency: 'CAD', totalMinor: 1_000, status: 'paid' });
    expect(payments.get('3')).toMatchObject({ currency: 'CAD', amountMinor: 1_000 });
    expect(fake.requests.filter((r) => r.route === 'preferences')).toHaveLength(1);
  });

  it('misses no invoice when some are deleted between two pages (the rows shift up)', async () => {
    const connector = connect({ pageSize: 3 });
    let page = await connector.pull(null);
    page = await connector.pull(page.cursor);
    page = await connector.pull(page.cursor);
    expect(page.invoices.map((i) => i.id)).toEqual(['10', '11', '12']);
    // Two rows fewer before the next page: starting one row early is not enough, the pull steps back a page.
    fake.delete(REALM, 'Invoice', '10');
    fake.delete(REALM, 'Invoice', '11');
    const rest = await pullAll(connector, page.cursor);
    const seen = new Set([...page.invoices, ...rest.flatMap((p) => p.invoices)].map((i) => i.id));
    expect([...seen].sort()).toEqual(['10', '11', '12', '13', '14', '15', '16', '17']);
    // The deletion itself comes with the next Change Data Capture.
    const next = await connector.pull((rest.at(-1) as ChangePage).cursor);
    expect(next.invoices.filter((i) => i.status === 'deleted').map((i) => i.id)).toEqual(['10', '11']);
  });
});

describe('incremental pulls (Change Data Capture)', () => {
  beforeEach(seed);

  it('reads what changed since the last pull: payments, voids, deletions, deactivated customers', async () => {
    const connector = connect();
    const full = await pullAll(connector, null);
    const cursor = (full.at(-1) as ChangePage).cursor;

    fake.create(REALM, 'Payment', { Id: '36', CustomerRef: '1', TxnDate: '2026-11-02', Line: [{ Amount: 70.5, LinkedTxn: [{ TxnId: '11', TxnType: 'Invoice' }] }] });
    fake.delete(REALM, 'Invoice', '15');
    fake.voidInvoice(REALM, '16');
    fake.delete(REALM, 'Payment', '33');
    fake.update(REALM, 'Customer', '2', { Active: false });

    const page = await connector.pull(cursor);
    expect(page.done).toBe(true);
    expect(cursorMode(page)).toBe('cdc');
    expect(fake.requests.at(-1)).toMatchObject({ route: 'cdc', entities: 'Customer,Invoice,Payment', changedSince: (JSON.parse(cursor) as { since: string }).since });
    const { customers, invoices, payments } = merged([page]);
    expect([...customers.keys()]).toEqual(['2']);
    expect(customers.get('2')?.archived).toBe(true);
    expect(new Map([...invoices].map(([id, i]) => [id, i.status]))).toEqual(new Map([['11', 'paid'], ['14', 'open'], ['15', 'deleted'], ['16', 'void']]));
    expect(invoices.get('14')).toMatchObject({ sourceStatus: 'Open' });
    expect(payments.get('36')).toMatchObject({ kind: 'payment', amountMinor: 7_050, allocations: [{ invoiceId: '11', amountMinor: 7_050 }], removed: false });
    expect(payments.get('33')).toMatchObject({ removed: true });
    expect(payments.get('33:credit')).toMatchObject({ removed: true });
    // Voiding invoice 16 took it out of payment 35, whose 40 became unapplied.
    expect(payments.get('35')).toMatchObject({ amountMinor: 10_000, allocations: [{ invoiceId: '17', amountMinor: 6_000 }], removed: false });
    expect(payments.get('35:credit')).toMatchObject({ removed: true });

    const quiet = await connector.pull(page.cursor);
    expect([quiet.customers, quiet.invoices, quiet.payments]).toEqual([[], [], []]);
    expect(quiet.done).toBe(true);
  });

  it('starts a full pull when the cursor is older than 30 days', async () => {
    const connector = connect({ now: () => new Date(fake.now()) });
    const cursor = (await pullAll(connector, null)).at(-1)?.cursor as string;
    fake.advance(31 * DAY);
    const before = fake.requests.length;
    const page = await connector.pull(cursor);
    expect(cursorMode(page)).toBe('full');
    expect(page.customers.map((c) => c.id)).toEqual(['1', '2', '3', '4']);
    expect(fake.requests.slice(before).map((r) => r.route)).toEqual(['query']);
  });

  it('starts a full pull when QuickBooks finds the cursor older than 30 days (its clock ahead of ours)', async () => {
    const connector = connect();
    const cursor = (await pullAll(connector, null)).at(-1)?.cursor as string;
    fake.advance(31 * DAY);
    const before = fake.requests.length;
    const page = await connector.pull(cursor);
    expect(cursorMode(page)).toBe('full');
    expect(fake.requests.slice(before).map((r) => [r.route, r.status])).toEqual([['cdc', 400], ['query', 200]]);
  });

  it('when an answer reaches CDC\'s cap, applies its deletions and reads the window again with query paging', async () => {
    await fake.close();
    fake = await startFakeQuickBooksApi({ cdcLimit: 3, companies: [{ realmId: REALM }] });
    seed();
    const connector = connect({ cdcLimit: 3, pageSize: 2 });
    const cursor = (await pullAll(connector, null)).at(-1)?.cursor as string;
    const since = (JSON.parse(cursor) as { since: string }).since;
    fake.delete(REALM, 'Invoice', '15');
    for (const id of ['10', '11', '14', '17']) fake.update(REALM, 'Invoice', id, { PrivateNote: `changed ${id}` });

    const first = await connector.pull(cursor);
    expect(first.done).toBe(false);
    expect(cursorMode(first)).toBe('window');
    // Only the capped answer's deletions: its changes are read again below.
    expect(first.invoices.map((i) => [i.id, i.status])).toEqual([['15', 'deleted']]);
    expect(first.customers).toEqual([]);
    const rest = await pullAll(connector, first.cursor);
    expect(cursorMode(rest.at(-1) as ChangePage)).toBe('cdc');
    const changed = new Set(rest.flatMap((p) => p.invoices).map((i) => i.id));
    for (const id of ['10', '11', '14', '17']) expect(changed.has(id)).toBe(true);
    const windowQueries = fake.requests.filter((r) => r.route === 'query' && r.query?.includes('MetaData.LastUpdatedTime >='));
    expect(windowQueries[0]?.query).toBe(`SELECT * FROM Customer WHERE Active IN (true, false) AND MetaData.LastUpdatedTime >= '${since.replace(/\.\d+/, '')}' ORDERBY MetaData.LastUpdatedTime STARTPOSITION 1 MAXRESULTS 2`);
    expect(new Set(windowQueries.map((r) => r.query?.split(' ')[3]))).toEqual(new Set(['Customer', 'Invoice', 'Payment']));
    // CDC resumes from the capped answer's time: nothing new since.
    const after = await connector.pull((rest.at(-1) as ChangePage).cursor);
    expect(fake.requests.at(-1)?.route).toBe('cdc');
    expect(after.invoices).toEqual([]);
  });
});

describe('failures', () => {
  beforeEach(seed);

  it('honours Retry-After on a 429 and asks again', async () => {
    fake.failNext('query', { status: 429, retryAfter: 2 });
    const page = await connect().pull(null);
    expect(page.customers).toHaveLength(4);
    expect(waits).toEqual([2_000]);
    const [throttled, answered] = fake.requests;
    expect([throttled?.status, answered?.status]).toEqual([429, 200]);
    expect(answered?.query).toBe(throttled?.query);
  });

  it('backs off when a 429 or a 5xx has no Retry-After, and on a dropped connection', async () => {
    fake.failNext('query', { status: 429 });
    fake.failNext('query', { status: 503 });
    await connect().pull(null);
    fake.failNext('query', 'drop');
    await connect().pull(null);
    expect(waits).toHaveLength(3);
    for (const wait of waits) expect(wait).toBeGreaterThan(0);
    expect(fake.requests.map((r) => r.status)).toEqual([429, 503, 200, 'dropped', 200]);
  });

  it('gives up with a retryable SourceError carrying the wait, when retries run out or the wait is long', async () => {
    for (let i = 0; i < 3; i += 1) fake.failNext('query', { status: 429, retryAfter: 5 });
    const exhausted = await connect().pull(null).catch((e: unknown) => e);
    expect(exhausted).toBeInstanceOf(SourceError);
    expect(exhausted).toMatchObject({ source: 'quickbooks', retryable: true, retryAfterMs: 5_000 });
    expect(fake.requests).toHaveLength(3);

    fake.failNext('query', { status: 429, retryAfter: 120 });
    const long = await connect().pull(null).catch((e: unknown) => e);
    expect(long).toMatchObject({ retryable: true, retryAfterMs: 120_000 });
    expect(fake.requests).toHaveLength(4);
  });

  it('sends at most 10 requests of a company at a time, across connectors', async () => {
    let open = (): void => undefined;
    const gate = new Promise<void>((resolve) => { open = resolve; });
    for (let i = 0; i < 12; i += 1) fake.failNext('query', { until: gate });
    let inFlight = 0;
    let most = 0;
    const counted: typeof fetch = async (input, init) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      try {
        return await fetch(input, init);
      } finally {
        inFlight -= 1;
      }
    };
    const pulls = Array.from({ length: 12 }, () => connect({ fetch: counted }).pull(null));
    // Ten are held at the fake until the gate opens.
    while (fake.requests.length < 10) await new Promise((resolve) => setImmediate(resolve));
    open();
    await Promise.all(pulls);
    expect(most).toBe(10);
    // The fake answers 429 to an eleventh request while ten are held: none came.
    expect(fake.requests.map((r) => r.status)).toEqual(Array(12).fill(200));
  });

  it('asks for the token again when QuickBooks refuses one, and says to reconnect when it keeps refusing', async () => {
    const valid = fake.token(REALM);
    const tokens = ['eyJexpired', valid];
    let asked = 0;
    const refreshed = connect({ credentials: async () => tokens[Math.min(asked++, 1)] as string });
    expect((await refreshed.pull(null)).customers).toHaveLength(4);
    expect(asked).toBe(2);

    const revoked = connect({ credentials: async () => 'eyJrevoked' });
    const error = await revoked.pull(null).catch((e: unknown) => e);
    expect(error).toMatchObject({ retryable: false, message: expect.stringContaining('reconnect QuickBooks') });
  });

  it('refuses a cursor it did not write, and a fault of the request with its message', async () => {
    await expect(connect().pull('{"v":9}')).rejects.toMatchObject({ retryable: false, message: expect.stringContaining('cursor') });
    fake.failNext('query', { status: 400, body: { Fault: { Error: [{ Message: 'Error parsing query', Detail: 'QueryParserError: x', code: '4000' }], type: 'ValidationFault' }, time: 't' } });
    await expect(connect().pull(null)).rejects.toMatchObject({ retryable: false, message: 'QuickBooks answered 400: Error parsing query — QueryParserError: x' });
  });

  it('refuses options without a company id or API URL, naming them', () => {
    expect(() => createQuickBooksConnector({ apiUrl: fake.url, credentials: async () => 't' })).toThrow('realmId (the company id) is required');
    expect(() => createQuickBooksConnector({ apiUrl: 'nope', realmId: REALM, credentials: async () => 't' })).toThrow('apiUrl must be a URL');
    expect(() => connect({ pageSize: 1001 })).toThrow(/pageSize/);
  });
});
