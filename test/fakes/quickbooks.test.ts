import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { startFakeQuickBooksApi, type FakeQuickBooksApi } from './quickbooks';
import { generateCompany } from './quickbooks/generate';
import { parseQuery, QueryError } from './quickbooks/query';

const REALM = '9130357766900456';
const OTHER = '4620816365214240';
const DAY = 86_400_000;

let fake: FakeQuickBooksApi;
let token: string;

type Answer = { status: number; body: Record<string, unknown>; headers: Headers };

const get = async (path: string, params: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<Answer> => {
  const url = new URL(`${fake.url}/v3/company/${REALM}/${path}`);
  for (const [k, v] of Object.entries({ ...params, minorversion: '75' })) url.searchParams.set(k, v);
  const response = await fetch(url, { headers: { Accept: 'application/json', Authorization: `Bearer ${token}`, ...headers } });
  const text = await response.text();
  return { status: response.status, body: (text.startsWith('{') ? JSON.parse(text) : { text }) as Record<string, unknown>, headers: response.headers };
};

const query = (statement: string): Promise<Answer> => get('query', { query: statement });
const rowsOf = (answer: Answer, entity: string): Array<Record<string, unknown>> =>
  ((answer.body.QueryResponse as Record<string, unknown>)[entity] as Array<Record<string, unknown>> | undefined) ?? [];

const seedSmall = (): void => {
  fake.seed(REALM, {
    customers: [
      { Id: '1', DisplayName: 'Amy\'s Bird Sanctuary', PrimaryEmailAddr: { Address: 'birds@intuit.example.com' } },
      { Id: '2', DisplayName: 'Bill\'s Windsurf Shop', CurrencyRef: 'EUR' },
      { Id: '3', DisplayName: 'Closed Co', Active: false },
    ],
    invoices: [
      { Id: '10', DocNumber: '1001', CustomerRef: '1', TxnDate: '2026-10-01', DueDate: '2026-10-31', Line: [{ Amount: 500, SalesItemLineDetail: { ItemRef: { value: '7', name: 'Design' }, Qty: 5, UnitPrice: 100 } }] },
      { Id: '11', DocNumber: '1002', CustomerRef: '1', TxnDate: '2026-10-05', Line: [{ Amount: 120.5 }] },
      { Id: '12', DocNumber: '1003', CustomerRef: '2', TxnDate: '2026-10-07', Line: [{ Amount: 80 }] },
    ],
    creditMemos: [{ Id: '20', DocNumber: 'CM-1', CustomerRef: '1', TxnDate: '2026-10-08', Line: [{ Amount: 20.5 }] }],
    payments: [
      { Id: '30', CustomerRef: '1', TxnDate: '2026-10-10', Line: [{ Amount: 200, LinkedTxn: [{ TxnId: '10', TxnType: 'Invoice' }] }] },
      { Id: '31', CustomerRef: '1', TxnDate: '2026-10-11', TotalAmt: 100, Line: [
        { Amount: 120.5, LinkedTxn: [{ TxnId: '11', TxnType: 'Invoice' }] },
        { Amount: 20.5, LinkedTxn: [{ TxnId: '20', TxnType: 'CreditMemo' }] },
      ] },
    ],
  });
};

beforeEach(async () => {
  fake = await startFakeQuickBooksApi({
    companies: [{ realmId: REALM, companyName: 'Craig\'s Design', homeCurrency: 'USD' }, { realmId: OTHER, homeCurrency: 'GBP', utcOffsetMinutes: 0 }],
  });
  token = fake.token(REALM);
});

afterEach(async () => {
  await fake.close();
});

describe('query', () => {
  beforeEach(seedSmall);

  it('answers Intuit\'s envelope with the entities as QuickBooks stores them, balances derived from payments', async () => {
    const answer = await query('SELECT * FROM Invoice');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toContain('application/json');
    expect(answer.body.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}-08:00$/);
    const response = answer.body.QueryResponse as Record<string, unknown>;
    expect(response).toMatchObject({ startPosition: 1, maxResults: 3 });
    const [first, second, third] = rowsOf(answer, 'Invoice');
    expect(first).toMatchObject({
      Id: '10', SyncToken: '0', domain: 'QBO', sparse: false, DocNumber: '1001', TxnDate: '2026-10-01', DueDate: '2026-10-31',
      CustomerRef: { value: '1', name: 'Amy\'s Bird Sanctuary' }, CurrencyRef: { value: 'USD', name: 'United States Dollar' },
      TotalAmt: 500, Balance: 300, LinkedTxn: [{ TxnId: '30', TxnType: 'Payment' }],
      Line: [
        { Id: '1', LineNum: 1, Amount: 500, DetailType: 'SalesItemLineDetail', SalesItemLineDetail: { ItemRef: { value: '7', name: 'Design' }, Qty: 5, UnitPrice: 100 } },
        { Amount: 500, DetailType: 'SubTotalLineDetail', SubTotalLineDetail: {} },
      ],
    });
    expect((first?.MetaData as { LastUpdatedTime: string }).LastUpdatedTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}-08:00$/);
    // Paid with 100 of money and 20.50 of credit.
    expect(second).toMatchObject({ TotalAmt: 120.5, Balance: 0 });
    expect(third).toMatchObject({ CurrencyRef: { value: 'EUR', name: 'Euro' }, Balance: 80 });
    const payments = rowsOf(await query('SELECT * FROM Payment'), 'Payment');
    expect(payments.map((p) => [p.Id, p.TotalAmt, p.UnappliedAmt])).toEqual([['30', 200, 0], ['31', 100, 0]]);
    expect(rowsOf(await query('SELECT * FROM CreditMemo'), 'CreditMemo')[0]).toMatchObject({ TotalAmt: 20.5, Balance: 0, RemainingCredit: 0 });
  });

  it('pages with STARTPOSITION and MAXRESULTS, and answers an empty QueryResponse past the end', async () => {
    const page = await query('select * from Invoice orderby Id startposition 2 maxresults 1');
    expect(rowsOf(page, 'Invoice').map((i) => i.Id)).toEqual(['11']);
    expect(page.body.QueryResponse).toMatchObject({ startPosition: 2, maxResults: 1 });
    expect((await query('SELECT * FROM Invoice STARTPOSITION 4 MAXRESULTS 10')).body.QueryResponse).toEqual({});
    expect((await query('SELECT COUNT(*) FROM Invoice')).body.QueryResponse).toEqual({ totalCount: 3 });
  });

  it('filters with WHERE … AND …, IN, LIKE, orders by any property, and leaves inactive customers out unless asked', async () => {
    expect(rowsOf(await query('SELECT * FROM Customer'), 'Customer').map((c) => c.Id)).toEqual(['1', '2']);
    expect(rowsOf(await query('SELECT * FROM Customer WHERE Active IN (true, false)'), 'Customer').map((c) => c.Id)).toEqual(['1', '2', '3']);
    expect(rowsOf(await query('SELECT * FROM Customer WHERE Active = false'), 'Customer').map((c) => c.Id)).toEqual(['3']);
    expect(rowsOf(await query("SELECT * FROM Customer WHERE DisplayName LIKE 'Bill%'"), 'Customer').map((c) => c.Id)).toEqual(['2']);
    expect(rowsOf(await query("SELECT * FROM Invoice WHERE CustomerRef = '1' AND TxnDate > '2026-10-02'"), 'Invoice').map((i) => i.Id)).toEqual(['11']);
    expect(rowsOf(await query("SELECT * FROM Invoice WHERE Id IN ('12', '10') ORDERBY TxnDate DESC"), 'Invoice').map((i) => i.Id)).toEqual(['12', '10']);
  });

  it('filters on MetaData.LastUpdatedTime as shown, to the second', async () => {
    fake.advance(5_000);
    fake.update(REALM, 'Invoice', '12', { DocNumber: '1003-A' });
    const changed = rowsOf(await query('SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime > \'2026-01-01T00:00:00Z\' ORDERBY MetaData.LastUpdatedTime DESC'), 'Invoice');
    expect(changed[0]).toMatchObject({ Id: '12', DocNumber: '1003-A', SyncToken: '1' });
    const stamp = (changed[0]?.MetaData as { LastUpdatedTime: string }).LastUpdatedTime;
    expect(rowsOf(await query(`SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime >= '${stamp}'`), 'Invoice').map((i) => i.Id)).toEqual(['12']);
    expect(rowsOf(await query(`SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime > '${stamp}'`), 'Invoice')).toEqual([]);
  });

  it('answers a query it cannot parse, and MAXRESULTS over 1000, with a ValidationFault', async () => {
    for (const statement of ['SELECT Id FROM Invoice', 'SELECT * FROM Invoice WHERE Id = 1 OR Id = 2', 'SELECT * FROM Nothing', 'SELECT * FROM Invoice MAXRESULTS 1001']) {
      const answer = await query(statement);
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ Fault: { type: 'ValidationFault', Error: [{ Message: 'Error parsing query', code: '4000', Detail: expect.stringMatching(/^QueryParserError: /) }] } });
    }
  });

  it('reads one object by id, the preferences and (from the OAuth fake) the company info', async () => {
    expect((await get('invoice/10')).body).toMatchObject({ Invoice: { Id: '10', Balance: 300 } });
    expect((await get('invoice/99')).body).toMatchObject({ Fault: { Error: [{ code: '610' }] } });
    expect((await get('preferences')).body).toMatchObject({ Preferences: { CurrencyPrefs: { MultiCurrencyEnabled: true, HomeCurrency: { value: 'USD' } } } });
    expect((await get(`companyinfo/${REALM}`)).body).toMatchObject({ CompanyInfo: { CompanyName: 'Craig\'s Design' } });
  });
});

describe('authorization', () => {
  it('answers 401 AUTHENTICATION without a token, with another company\'s token, or with an unknown one', async () => {
    for (const bearerToken of ['', fake.token(OTHER), 'eyJnot-issued']) {
      token = bearerToken;
      const answer = await query('SELECT * FROM Invoice');
      expect(answer.status).toBe(401);
      expect(answer.body).toMatchObject({ Fault: { type: 'AUTHENTICATION', Error: [{ code: '3200' }] } });
    }
  });

  it('accepts the access token of a completed connect flow (consent screen, code exchange)', async () => {
    const authorize = new URL(`${fake.url}/connect/oauth2`);
    for (const [k, v] of Object.entries({ client_id: 'qbo-client', redirect_uri: 'https://app.example/cb', response_type: 'code', scope: 'com.intuit.quickbooks.accounting', state: 's' })) authorize.searchParams.set(k, v);
    const callback = new URL(fake.oauth.consent(authorize.toString(), { allow: true, realmId: REALM }));
    const exchange = await fetch(fake.env().QUICKBOOKS_TOKEN_URL as string, {
      method: 'POST',
      headers: { Authorization: `Basic ${Buffer.from('qbo-client:qbo-secret').toString('base64')}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: callback.searchParams.get('code') as string, redirect_uri: 'https://app.example/cb' }),
    });
    token = ((await exchange.json()) as { access_token: string }).access_token;
    expect((await query('SELECT * FROM Invoice')).status).toBe(200);
  });

  it('answers JSON only when asked for it', async () => {
    expect((await get('query', { query: 'SELECT * FROM Invoice' }, { Accept: 'application/xml' })).status).toBe(406);
  });
});

describe('change data capture', () => {
  beforeEach(seedSmall);

  it('answers what changed since, deleted objects included, in the CDCResponse envelope', async () => {
    fake.advance(1_000);
    const since = new Date(fake.now()).toISOString();
    fake.advance(1_000);
    fake.update(REALM, 'Customer', '2', { Active: false });
    fake.delete(REALM, 'Payment', '30');
    const answer = await get('cdc', { entities: 'Customer,Invoice,Payment', changedSince: since });
    expect(answer.status).toBe(200);
    const [response] = answer.body.CDCResponse as Array<{ QueryResponse: Array<Record<string, unknown>> }>;
    const [customers, invoices, payments] = response?.QueryResponse ?? [];
    expect((customers?.Customer as Array<Record<string, unknown>>).map((c) => [c.Id, c.Active])).toEqual([['2', false]]);
    // Deleting the payment reopened the invoice it paid.
    expect((invoices?.Invoice as Array<Record<string, unknown>>).map((i) => [i.Id, i.Balance, i.LinkedTxn])).toEqual([['10', 500, []]]);
    expect(payments?.Payment).toEqual([{ domain: 'QBO', status: 'Deleted', Id: '30', MetaData: { LastUpdatedTime: expect.any(String) } }]);
    expect(customers).toMatchObject({ startPosition: 1, maxResults: 1, totalCount: 1 });
  });

  it('looks back 30 days at most and refuses an unknown entity', async () => {
    const old = new Date(fake.now() - 31 * DAY).toISOString();
    const answer = await get('cdc', { entities: 'Invoice', changedSince: old });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ Fault: { type: 'ValidationFault', Error: [{ Detail: expect.stringContaining('30 days') }] } });
    expect((await get('cdc', { entities: 'Invoice,Nope', changedSince: new Date().toISOString() })).status).toBe(400);
  });

  it('answers at most cdcLimit objects of an entity', async () => {
    await fake.close();
    fake = await startFakeQuickBooksApi({ cdcLimit: 2, companies: [{ realmId: REALM }] });
    token = fake.token(REALM);
    seedSmall();
    const answer = await get('cdc', { entities: 'Invoice', changedSince: new Date(fake.now() - DAY).toISOString() });
    const [response] = answer.body.CDCResponse as Array<{ QueryResponse: Array<{ Invoice: unknown[] }> }>;
    expect(response?.QueryResponse[0]?.Invoice).toHaveLength(2);
  });
});

describe('writes as QuickBooks does them', () => {
  beforeEach(seedSmall);

  it('voiding zeroes the amounts, prepends "Voided" and unlinks the payment, whose money becomes unapplied', () => {
    const voided = fake.voidInvoice(REALM, '10');
    expect(voided).toMatchObject({ TotalAmt: 0, Balance: 0, PrivateNote: 'Voided', LinkedTxn: [], SyncToken: '1' });
    expect((voided.Line as Array<{ Amount: number }>).every((l) => l.Amount === 0)).toBe(true);
    expect(fake.company(REALM).get('Payment', '30')).toMatchObject({ TotalAmt: 200, UnappliedAmt: 200, Line: [] });
  });

  it('deleting a credit memo takes its credit out of the payment, and the invoice is owed again', () => {
    fake.delete(REALM, 'CreditMemo', '20');
    expect(fake.company(REALM).get('Payment', '31')).toMatchObject({ TotalAmt: 100, UnappliedAmt: 0, Line: [{ Amount: 100, LinkedTxn: [{ TxnId: '11', TxnType: 'Invoice' }] }] });
    expect(fake.company(REALM).get('Invoice', '11')).toMatchObject({ Balance: 20.5 });
  });

  it('refuses a payment that applies more than an invoice\'s balance, and changes nothing', () => {
    expect(() => fake.create(REALM, 'Payment', { CustomerRef: '1', TxnDate: '2026-10-12', Line: [{ Amount: 301, LinkedTxn: [{ TxnId: '10', TxnType: 'Invoice' }] }] }))
      .toThrow('Invoice 10: payments would apply 50100 of 50000 (minor units)');
    expect(fake.company(REALM).all('Payment')).toHaveLength(2);
    expect(fake.company(REALM).get('Invoice', '10')).toMatchObject({ Balance: 300 });
  });

  it('every write is a change event; seeding is not', () => {
    expect(fake.pendingEvents()).toEqual([]);
    fake.create(REALM, 'Payment', { CustomerRef: '1', TxnDate: '2026-10-12', Line: [{ Amount: 300, LinkedTxn: [{ TxnId: '10', TxnType: 'Invoice' }] }] });
    fake.voidInvoice(REALM, '12');
    expect(fake.takeEvents().map((e) => [e.entity, e.operation])).toEqual([['Payment', 'Create'], ['Invoice', 'Void']]);
    expect(fake.pendingEvents()).toEqual([]);
  });
});

describe('faults and limits', () => {
  beforeEach(seedSmall);

  it('injects a 429 (with or without Retry-After), a 500 and a dropped connection, and logs each request', async () => {
    fake.failNext('query', { status: 429, retryAfter: 3 });
    fake.failNext('query', { status: 429 });
    fake.failNext('query', { status: 503 });
    fake.failNext('query', 'drop');
    const throttled = await query('SELECT * FROM Invoice');
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('3');
    expect(throttled.body).toMatchObject({ Fault: { type: 'SERVICE', Error: [{ code: '3001' }] } });
    expect((await query('SELECT * FROM Invoice')).headers.get('retry-after')).toBeNull();
    expect((await query('SELECT * FROM Invoice')).status).toBe(503);
    await expect(query('SELECT * FROM Invoice')).rejects.toThrow();
    expect((await query('SELECT * FROM Invoice')).status).toBe(200);
    expect(fake.requests.map((r) => [r.route, r.status, r.query])).toEqual([
      ['query', 429, 'SELECT * FROM Invoice'], ['query', 429, 'SELECT * FROM Invoice'], ['query', 503, 'SELECT * FROM Invoice'],
      ['query', 'dropped', 'SELECT * FROM Invoice'], ['query', 200, 'SELECT * FROM Invoice'],
    ]);
  });

  it('throttles a company past its requests per minute, and past 10 requests at a time', async () => {
    await fake.close();
    fake = await startFakeQuickBooksApi({ requestsPerMinute: 3, companies: [{ realmId: REALM }] });
    token = fake.token(REALM);
    seedSmall();
    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await query('SELECT * FROM Invoice')).status);
    expect(statuses).toEqual([200, 200, 200, 429]);

    await fake.close();
    fake = await startFakeQuickBooksApi({ companies: [{ realmId: REALM }] });
    token = fake.token(REALM);
    let open = (): void => undefined;
    const gate = new Promise<void>((resolve) => { open = resolve; });
    for (let i = 0; i < 11; i += 1) fake.failNext('query', { until: gate });
    const concurrent = Array.from({ length: 11 }, () => query('SELECT * FROM Invoice'));
    // Ten are held at the fake; the eleventh is answered at once.
    while (!fake.requests.some((r) => r.status === 429)) await new Promise((resolve) => setImmediate(resolve));
    expect(fake.requests.filter((r) => r.status === 0)).toHaveLength(10);
    open();
    expect((await Promise.all(concurrent)).map((a) => a.status).sort()).toEqual([...Array(10).fill(200), 429]);
  });
});

describe('webhooks', () => {
  const receive = async (): Promise<{ url: string; received: Array<{ body: Buffer; headers: IncomingHttpHeaders }>; close: () => Promise<void> }> => {
    const received: Array<{ body: Buffer; headers: IncomingHttpHeaders }> = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ body: Buffer.concat(chunks), headers: req.headers });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/quickbooks`,
      received,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  };

  const signature = (body: Buffer | string): string => createHmac('sha256', fake.verifierToken).update(body).digest('base64');

  beforeEach(seedSmall);

  it('delivers CloudEvents signed with intuit-signature over the raw body, mixing companies', async () => {
    fake.seed(OTHER, { customers: [{ Id: '1', DisplayName: 'UK Ltd' }] });
    fake.update(REALM, 'Invoice', '12', { DocNumber: 'X' });
    fake.update(OTHER, 'Customer', '1', { DisplayName: 'UK Limited' });
    fake.delete(REALM, 'Payment', '31');
    const receiver = await receive();
    try {
      const sent = await fake.deliverWebhooks(receiver.url, 'cloudevents');
      expect(sent?.status).toBe(200);
      const [delivery] = receiver.received;
      expect(delivery?.headers['intuit-signature']).toBe(signature(delivery?.body as Buffer));
      const events = JSON.parse((delivery?.body as Buffer).toString('utf8')) as Array<Record<string, unknown>>;
      expect(events.map((e) => [e.type, e.intuitaccountid, e.intuitentityid])).toEqual([
        ['qbo.invoice.updated.v1', REALM, '12'], ['qbo.customer.updated.v1', OTHER, '1'], ['qbo.payment.deleted.v1', REALM, '31'],
      ]);
      expect(events[0]).toMatchObject({ specversion: '1.0', id: expect.stringMatching(/^[0-9a-f-]{36}$/), datacontenttype: 'application/json', data: {} });
      expect(await fake.deliverWebhooks(receiver.url, 'cloudevents')).toBeNull();
    } finally {
      await receiver.close();
    }
  });

  it('delivers the legacy eventNotifications grouped by company, signed the same way', async () => {
    fake.voidInvoice(REALM, '12');
    const receiver = await receive();
    try {
      await fake.deliverWebhooks(receiver.url, 'legacy');
      const [delivery] = receiver.received;
      expect(delivery?.headers['intuit-signature']).toBe(signature(delivery?.body as Buffer));
      expect(JSON.parse((delivery?.body as Buffer).toString('utf8'))).toEqual({
        eventNotifications: [{ realmId: REALM, dataChangeEvent: { entities: [{ name: 'Invoice', id: '12', operation: 'Void', lastUpdated: expect.stringMatching(/-08:00$/) }] } }],
      });
    } finally {
      await receiver.close();
    }
  });

  it('signs a delivery again with the same event ids (a duplicate delivery)', () => {
    fake.update(REALM, 'Invoice', '12', { DocNumber: 'Y' });
    const events = fake.takeEvents();
    const first = fake.webhookDelivery(events, 'cloudevents');
    expect(fake.webhookDelivery(events, 'cloudevents')).toEqual(first);
    expect(fake.webhookDelivery(events, 'cloudevents', 'another-token').headers['intuit-signature']).not.toBe(first.headers['intuit-signature']);
  });
});

describe('query parser', () => {
  it('reads the subset the connectors send', () => {
    expect(parseQuery("SELECT * FROM Customer WHERE Active IN (true, false) AND MetaData.LastUpdatedTime >= '2026-11-01T00:00:00-08:00' ORDERBY MetaData.LastUpdatedTime STARTPOSITION 1001 MAXRESULTS 1000")).toEqual({
      count: false, entity: 'Customer',
      where: [{ field: 'Active', op: 'IN', values: [true, false] }, { field: 'MetaData.LastUpdatedTime', op: '>=', value: '2026-11-01T00:00:00-08:00' }],
      orderBy: { field: 'MetaData.LastUpdatedTime', descending: false }, startPosition: 1001, maxResults: 1000,
    });
    expect(parseQuery("select * from Customer where DisplayName = 'Amy''s'").where).toEqual([{ field: 'DisplayName', op: '=', value: 'Amy\'s' }]);
    expect(() => parseQuery('SELECT * FROM Invoice STARTPOSITION 0')).toThrow(QueryError);
  });
});

describe('generateCompany', () => {
  it('is the same for the same seed, and its documents balance', () => {
    const options = { seed: 42, invoices: 2_000, currencies: ['USD', 'EUR', 'JPY'] };
    expect(generateCompany(options)).toEqual(generateCompany(options));
    expect(generateCompany({ ...options, seed: 43 })).not.toEqual(generateCompany(options));
    fake.generate(REALM, options);
    const company = fake.company(REALM);
    const invoices = company.all('Invoice');
    expect(invoices).toHaveLength(2_000);
    const statuses = new Set(invoices.map((i) => (i.TotalAmt === 0 ? 'void' : i.Balance === 0 ? 'paid' : i.Balance === i.TotalAmt ? 'open' : 'partial')));
    expect([...statuses].sort()).toEqual(['open', 'paid', 'partial', 'void']);
    expect(new Set(invoices.map((i) => (i.CurrencyRef as { value: string }).value))).toEqual(new Set(['USD', 'EUR', 'JPY']));
    // Every invoice's Balance is its total less what payments apply to it.
    const applied = new Map<string, number>();
    for (const p of company.all('Payment')) {
      for (const line of p.Line as Array<{ Amount: number; LinkedTxn: Array<{ TxnId: string; TxnType: string }> }>) {
        const link = line.LinkedTxn[0];
        if (link?.TxnType === 'Invoice') applied.set(link.TxnId, (applied.get(link.TxnId) ?? 0) + Math.round(line.Amount * 100));
      }
    }
    for (const i of invoices) {
      expect(Math.round((i.TotalAmt as number) * 100) - (applied.get(i.Id) ?? 0)).toBe(Math.round((i.Balance as number) * 100));
    }
    expect(company.all('Payment').some((p) => p.TotalAmt === 0 && (p.Line as unknown[]).length === 2)).toBe(true);
  });
});
