import crypto from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { AccountingApi } from 'xero-node';
import { accountingDocument, answerProblems, webhooksDocument } from './xero/contract';
import { generateInto, startFakeXeroApi, XeroFakeError, type FakeXeroApi, type FakeXeroApiOptions, type XeroSeed } from './xero';

// The Xero Accounting API fake: Xero's paths, auth, paging, If-Modified-Since, filters, errors, rate limits and
// webhooks, every answer checked against Xero's OpenAPI documents (../shared/contracts/xero).

const CUSTOMER = '6d037b91-1bb4-4a5b-9d3e-6c2b1d6f0a01';
const SUPPLIER = '6d037b91-1bb4-4a5b-9d3e-6c2b1d6f0a02';
const ARCHIVED = '6d037b91-1bb4-4a5b-9d3e-6c2b1d6f0a03';
const INV_1 = '0a1b2c3d-0000-4000-8000-000000000001';
const INV_2 = '0a1b2c3d-0000-4000-8000-000000000002';
const BILL = '0a1b2c3d-0000-4000-8000-000000000003';
const DRAFT = '0a1b2c3d-0000-4000-8000-000000000004';
const PAY_1 = '0a1b2c3d-0000-4000-8000-0000000000a1';
const NOTE_1 = '0a1b2c3d-0000-4000-8000-0000000000c1';
const OVER_1 = '0a1b2c3d-0000-4000-8000-0000000000d1';
const PRE_1 = '0a1b2c3d-0000-4000-8000-0000000000e1';

const SEED: XeroSeed = {
  contacts: [
    { id: CUSTOMER, name: 'Acme Ltd', email: 'ap@acme.example', country: 'New Zealand', defaultCurrency: 'NZD', updatedAt: '2026-10-01T09:00:00Z' },
    { id: SUPPLIER, name: 'Paper Supplies', isSupplier: true, updatedAt: '2026-10-01T09:01:00Z' },
    { id: ARCHIVED, name: 'Old Customer', status: 'ARCHIVED', updatedAt: '2026-10-01T09:02:00Z' },
  ],
  invoices: [
    {
      id: INV_1, contactId: CUSTOMER, date: '2026-10-20', dueDate: '2026-11-19', lineAmountTypes: 'Exclusive', updatedAt: '2026-10-20T10:00:00Z',
      lines: [{ description: 'Consulting', quantity: 4, unitAmount: 100, itemCode: 'CONSULT', taxRate: 0.15 }],
    },
    { id: INV_2, contactId: CUSTOMER, date: '2026-10-21', dueDate: '2026-11-20', currency: 'JPY', lineAmountTypes: 'NoTax', updatedAt: '2026-10-21T10:00:00Z', lines: [{ unitAmount: 12000 }] },
    { id: BILL, type: 'ACCPAY', contactId: SUPPLIER, date: '2026-10-22', updatedAt: '2026-10-22T10:00:00Z', lines: [{ unitAmount: 50 }] },
    { id: DRAFT, contactId: ARCHIVED, date: '2026-10-23', status: 'DRAFT', updatedAt: '2026-10-23T10:00:00Z', lines: [{ unitAmount: 70 }] },
  ],
  payments: [{ id: PAY_1, invoiceId: INV_1, date: '2026-10-28', amount: 200, reference: 'EFT 4411', updatedAt: '2026-10-28T10:00:00Z' }],
  creditNotes: [{
    id: NOTE_1, contactId: CUSTOMER, date: '2026-10-29', lineAmountTypes: 'NoTax', lines: [{ unitAmount: 60 }],
    allocations: [{ invoiceId: INV_1, amount: 60, date: '2026-10-29' }], updatedAt: '2026-10-29T10:00:00Z',
  }],
  overpayments: [{ id: OVER_1, contactId: CUSTOMER, date: '2026-10-30', currency: 'JPY', total: 5000, allocations: [{ invoiceId: INV_2, amount: 5000, date: '2026-10-30' }], updatedAt: '2026-10-30T10:00:00Z' }],
  prepayments: [{ id: PRE_1, contactId: CUSTOMER, date: '2026-10-31', total: 30, updatedAt: '2026-10-31T10:00:00Z' }],
};

let fake: FakeXeroApi;
let problems: string[] = [];

const start = async (options: FakeXeroApiOptions = {}): Promise<FakeXeroApi> => {
  problems = [];
  fake = await startFakeXeroApi({
    ...options,
    onResponse: (entry, body) => {
      if (typeof entry.status === 'number') problems.push(...answerProblems(entry.path, entry.status, body).map((p) => `${entry.path}: ${p}`));
    },
  });
  return fake;
};

afterEach(async () => {
  await fake?.close();
});

type Answer = { status: number; headers: Headers; body: Record<string, unknown> & { [key: string]: unknown } };

const get = async (path: string, init: { token?: string | null; tenant?: string | null; since?: string } = {}): Promise<Answer> => {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const token = init.token === undefined ? fake.accessToken : init.token;
  const tenant = init.tenant === undefined ? fake.tenantId : init.tenant;
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  if (tenant !== null) headers['xero-tenant-id'] = tenant;
  if (init.since) headers['If-Modified-Since'] = init.since;
  const response = await fetch(`${fake.url}/api.xro/2.0${path}`, { headers });
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { text };
  }
  return { status: response.status, headers: response.headers, body };
};

const ids = (answer: Answer, key: string, id: string): string[] => (answer.body[key] as Record<string, string>[]).map((o) => o[id] as string);

describe('Xero Accounting API fake: auth', () => {
  it('refuses a missing or unknown token with 401 and a tenant the token does not reach with 403, in Xero\'s problem shape', async () => {
    await start();
    fake.seed(SEED);
    const none = await get('/Invoices', { token: null });
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ Title: 'Unauthorized', Status: 401, Detail: 'AuthenticationUnsuccessful' });
    expect((await get('/Invoices', { token: 'not-a-token' })).status).toBe(401);
    const forbidden = await get('/Invoices', { tenant: '00000000-0000-4000-8000-000000000000' });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toMatchObject({ Title: 'Forbidden', Status: 403 });
    expect((await get('/Invoices', { tenant: null })).status).toBe(403);
  });

  it('accepts a token the identity fake issued, for the organisations it reaches; /connections shares the host', async () => {
    await start();
    const { accessToken } = fake.identity.grant([fake.tenantId]);
    expect((await get('/Contacts', { token: accessToken })).status).toBe(200);
    const connections = await fetch(`${fake.url}/connections`, { headers: { Authorization: `Bearer ${accessToken}` } });
    expect(await connections.json()).toEqual([expect.objectContaining({ tenantId: fake.tenantId, tenantType: 'ORGANISATION' })]);
  });
});

describe('Xero Accounting API fake: lists', () => {
  it('answers every list as Xero does, each answer valid against xero_accounting.yaml', async () => {
    await start();
    fake.seed(SEED);
    for (const path of ['/Contacts?page=1', '/Contacts?includeArchived=true', '/Invoices?page=1', '/Invoices', `/Invoices/${INV_1}`, '/Payments?page=1',
      '/CreditNotes?page=1', '/Overpayments?page=1', '/Prepayments?page=1']) {
      expect((await get(path)).status).toBe(200);
    }
    expect(problems).toEqual([]);
    expect(fake.requests).toHaveLength(9);
  });

  it('writes amounts as decimals, dates as /Date(ms+0000)/ with their local date strings, and derives paid, credited and due', async () => {
    await start();
    fake.seed(SEED);
    const answer = await get(`/Invoices/${INV_1}`);
    const [invoice] = answer.body.Invoices as Record<string, unknown>[];
    expect(invoice).toMatchObject({
      Type: 'ACCREC', InvoiceID: INV_1, InvoiceNumber: 'INV-0001', Status: 'AUTHORISED', LineAmountTypes: 'Exclusive', CurrencyCode: 'NZD',
      Date: `/Date(${Date.parse('2026-10-20T00:00:00Z')}+0000)/`, DateString: '2026-10-20T00:00:00', DueDateString: '2026-11-19T00:00:00',
      SubTotal: 400, TotalTax: 60, Total: 460, AmountPaid: 200, AmountCredited: 60, AmountDue: 200,
      UpdatedDateUTC: `/Date(${Date.parse('2026-10-29T10:00:00Z')}+0000)/`,
      LineItems: [expect.objectContaining({ Description: 'Consulting', Quantity: 4, UnitAmount: 100, ItemCode: 'CONSULT', TaxAmount: 60, LineAmount: 400 })],
      Payments: [expect.objectContaining({ PaymentID: PAY_1, Amount: 200 })],
      CreditNotes: [expect.objectContaining({ CreditNoteID: NOTE_1, AppliedAmount: 60 })],
    });
    const jpy = (await get(`/Invoices/${INV_2}`)).body.Invoices as Record<string, unknown>[];
    expect(jpy[0]).toMatchObject({ CurrencyCode: 'JPY', Total: 12000, AmountCredited: 5000, AmountDue: 7000, Overpayments: [expect.objectContaining({ OverpaymentID: OVER_1, AppliedAmount: 5000 })] });
    expect((await get('/Invoices/0a1b2c3d-0000-4000-8000-00000000ffff')).status).toBe(404);
    expect(problems).toEqual([]);
  });

  it('pages with page and pageSize and a pagination block; without page it lists every match without line items', async () => {
    await start();
    fake.seed({ contacts: [{ id: CUSTOMER, name: 'Acme' }] });
    fake.seed({
      invoices: Array.from({ length: 7 }, (_, n) => ({ contactId: CUSTOMER, date: '2026-10-01', lines: [{ unitAmount: n + 1 }], updatedAt: Date.parse('2026-10-01T00:00:00Z') + n * 1000 })),
    });
    const first = await get('/Invoices?page=1&pageSize=3&order=UpdatedDateUTC%20ASC');
    expect(first.body.pagination).toEqual({ page: 1, pageSize: 3, pageCount: 3, itemCount: 7 });
    expect((first.body.Invoices as Record<string, unknown>[]).map((i) => i.Total)).toEqual([1, 2, 3]);
    const last = await get('/Invoices?page=3&pageSize=3&order=UpdatedDateUTC%20ASC');
    expect((last.body.Invoices as Record<string, unknown>[]).map((i) => i.Total)).toEqual([7]);
    expect((await get('/Invoices?page=4&pageSize=3')).body.Invoices).toEqual([]);
    const all = await get('/Invoices');
    expect(all.body.pagination).toBeUndefined();
    expect(all.body.Invoices).toHaveLength(7);
    expect((all.body.Invoices as Record<string, unknown>[]).every((i) => !('LineItems' in i))).toBe(true);
    expect((first.body.Invoices as Record<string, unknown>[]).every((i) => Array.isArray(i.LineItems))).toBe(true);
    expect((await get('/Invoices?page=0')).status).toBe(400);
    expect(problems).toEqual([]);
  });

  it('keeps what changed at or after If-Modified-Since (ISO or HTTP date), xero-node sending it', async () => {
    await start();
    fake.seed(SEED);
    // INV_1 changed last on 29 Oct (its credit note's allocation), INV_2 on 30 Oct (an overpayment's).
    expect(ids(await get('/Invoices?page=1', { since: '2026-10-23T10:00:00.000Z' }), 'Invoices', 'InvoiceID').sort()).toEqual([INV_1, INV_2, DRAFT].sort());
    expect(ids(await get('/Invoices?page=1', { since: 'Thu, 29 Oct 2026 10:00:00 GMT' }), 'Invoices', 'InvoiceID').sort()).toEqual([INV_1, INV_2].sort());
    expect(ids(await get('/Invoices?page=1', { since: '2026-10-30T10:00:00.001Z' }), 'Invoices', 'InvoiceID')).toEqual([]);
    const api = new AccountingApi(`${fake.url}/api.xro/2.0`);
    api.accessToken = fake.accessToken;
    const { body } = await api.getPayments(fake.tenantId, new Date('2026-10-28T10:00:00Z'));
    expect(body.payments?.map((p) => p.paymentID)).toEqual([PAY_1]);
    expect((await api.getPayments(fake.tenantId, new Date('2026-10-28T10:00:00.001Z'))).body.payments).toEqual([]);
    expect(fake.requests.at(-1)?.ifModifiedSince).toBe('2026-10-28T10:00:00.001Z');
  });

  it('filters with where, Statuses, IDs and includeArchived, and refuses a where it cannot read with a 400 in Xero\'s Error shape', async () => {
    await start();
    fake.seed(SEED);
    expect(ids(await get('/Invoices?page=1&where=Type%3D%3D%22ACCREC%22'), 'Invoices', 'InvoiceID').sort()).toEqual([INV_1, INV_2, DRAFT].sort());
    expect(ids(await get('/Invoices?page=1&Statuses=DRAFT,VOIDED'), 'Invoices', 'InvoiceID')).toEqual([DRAFT]);
    expect(ids(await get(`/Invoices?page=1&IDs=${INV_2},${BILL}`), 'Invoices', 'InvoiceID').sort()).toEqual([INV_2, BILL].sort());
    expect(ids(await get('/Contacts?page=1&where=IsCustomer%3D%3Dtrue'), 'Contacts', 'ContactID')).toEqual([CUSTOMER]);
    expect(ids(await get('/Contacts?page=1&where=IsCustomer%3D%3Dtrue&includeArchived=true'), 'Contacts', 'ContactID').sort()).toEqual([CUSTOMER, ARCHIVED].sort());
    expect(ids(await get('/Contacts?page=1'), 'Contacts', 'ContactID').sort()).toEqual([CUSTOMER, SUPPLIER].sort());
    expect(ids(await get('/Payments?page=1&where=PaymentType%3D%3D%22ACCPAYPAYMENT%22'), 'Payments', 'PaymentID')).toEqual([]);
    expect(ids(await get('/Overpayments?page=1&where=Type%3D%3D%22RECEIVE-OVERPAYMENT%22%20AND%20Status%3D%3D%22PAID%22'), 'Overpayments', 'OverpaymentID')).toEqual([OVER_1]);
    const bad = await get('/Invoices?page=1&where=Total%3E5');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ ErrorNumber: 16, Type: 'QueryParseException' });
    expect((await get('/Invoices?page=1&where=Colour%3D%3D%22red%22')).status).toBe(400);
    expect(problems).toEqual([]);
  });

  it('the contract check finds what does not conform (a check that can fail)', () => {
    const doc = accountingDocument();
    const schema = doc.responseSchema('/Invoices', 'get', '200');
    expect(doc.validate(schema, { Invoices: [{ InvoiceID: INV_1, Total: 10, Date: '/Date(1792454400000+0000)/' }] })).toEqual([]);
    expect(doc.validate(schema, { Invoices: [{ InvoiceID: 'nope', Total: '10', Date: '2026-10-20', Status: 'OPEN', Colour: 'red' }] })).toEqual([
      expect.stringContaining('Invoices[0].InvoiceID'),
      expect.stringContaining('Invoices[0].Total'),
      expect.stringContaining('Invoices[0].Date'),
      expect.stringContaining('Invoices[0].Status'),
      expect.stringContaining('Colour is not a property'),
    ]);
  });
});

describe('Xero Accounting API fake: Xero\'s rules', () => {
  it('pays an invoice off (PAID, FullyPaidOnDate), reopens it when a payment is deleted, and keeps the deleted payment listed', async () => {
    await start();
    fake.seed(SEED);
    const payment = fake.org.addPayment({ invoiceId: INV_1, date: '2026-11-02', amount: 200 });
    let [invoice] = (await get(`/Invoices/${INV_1}`)).body.Invoices as Record<string, unknown>[];
    expect(invoice).toMatchObject({ Status: 'PAID', AmountDue: 0, FullyPaidOnDate: `/Date(${Date.parse('2026-11-02T00:00:00Z')}+0000)/` });
    fake.org.deletePayment(payment.id);
    [invoice] = (await get(`/Invoices/${INV_1}`)).body.Invoices as Record<string, unknown>[];
    expect(invoice).toMatchObject({ Status: 'AUTHORISED', AmountDue: 200 });
    const payments = (await get('/Payments?page=1')).body.Payments as Record<string, unknown>[];
    expect(payments.find((p) => p.PaymentID === payment.id)).toMatchObject({ Status: 'DELETED', PaymentType: 'ACCRECPAYMENT' });
    expect(problems).toEqual([]);
  });

  it('refuses what Xero refuses: overpaying, voiding a settled invoice, deleting an approved one, voiding allocated credit', async () => {
    await start();
    fake.seed(SEED);
    expect(() => fake.org.addPayment({ invoiceId: INV_1, date: '2026-11-02', amount: 500 })).toThrow(XeroFakeError);
    expect(() => fake.org.setInvoiceStatus(INV_1, 'VOIDED')).toThrow(/remove its payments/);
    expect(() => fake.org.setInvoiceStatus(INV_1, 'DELETED')).toThrow(/cannot become DELETED/);
    expect(() => fake.org.setCreditStatus('creditNote', NOTE_1, 'VOIDED')).toThrow(/remove its allocations/);
    expect(() => fake.org.addPayment({ invoiceId: DRAFT, date: '2026-11-02', amount: 1 })).toThrow(/AUTHORISED/);
  });

  it('makes a contact a customer with its first sales invoice without changing its UpdatedDateUTC', async () => {
    await start();
    fake.seed(SEED);
    const before = (await get(`/Contacts?page=1&IDs=${SUPPLIER}`)).body.Contacts as Record<string, unknown>[];
    expect(before[0]).toMatchObject({ IsCustomer: false, IsSupplier: true });
    fake.org.addInvoice({ contactId: SUPPLIER, date: '2026-11-01', lines: [{ unitAmount: 10 }] });
    const after = (await get(`/Contacts?page=1&IDs=${SUPPLIER}`)).body.Contacts as Record<string, unknown>[];
    expect(after[0]).toMatchObject({ IsCustomer: true, UpdatedDateUTC: before[0]?.UpdatedDateUTC });
    expect(ids(await get('/Contacts?page=1&where=IsCustomer%3D%3Dtrue'), 'Contacts', 'ContactID').sort()).toEqual([CUSTOMER, SUPPLIER].sort());
  });
});

describe('Xero Accounting API fake: faults and limits', () => {
  it('answers an injected 429 with Retry-After and X-Rate-Limit-Problem, then serves the next call', async () => {
    await start();
    fake.seed(SEED);
    fake.failNext('Invoices', { rateLimit: 'minute', retryAfterSeconds: 42 });
    const limited = await get('/Invoices?page=1');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('42');
    expect(limited.headers.get('x-rate-limit-problem')).toBe('minute');
    expect((await get('/Invoices?page=1')).status).toBe(200);
    fake.failNext('*', { status: 503 });
    expect((await get('/Contacts?page=1')).status).toBe(503);
    fake.failNext('Payments', 'drop');
    await expect(get('/Payments?page=1')).rejects.toThrow();
    expect(fake.requests.map((r) => r.status)).toEqual([429, 200, 503, 'dropped']);
  });

  it('enforces a per-minute limit per organisation when asked, with the remaining counts on every answer', async () => {
    await start({ limits: { perMinute: 3 } });
    const statuses: number[] = [];
    const remaining: (string | null)[] = [];
    for (let n = 0; n < 4; n += 1) {
      const answer = await get('/Contacts?page=1');
      statuses.push(answer.status);
      remaining.push(answer.headers.get('x-minlimit-remaining'));
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(remaining).toEqual(['2', '1', '0', '0']);
    const last = fake.requests.at(-1);
    expect(last?.status).toBe(429);
    const limited = await get('/Contacts?page=1');
    expect(limited.headers.get('x-rate-limit-problem')).toBe('minute');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
  });
});

describe('Xero Accounting API fake: webhooks', () => {
  let receiver: Server | null = null;
  afterEach(async () => {
    if (receiver) await new Promise((resolve) => receiver?.close(resolve));
    receiver = null;
  });

  /** A receiver that answers 200 to correctly signed deliveries and 401 to the rest, as Xero requires. */
  const receive = async (key: string): Promise<{ url: string; bodies: string[] }> => {
    const bodies: string[] = [];
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const expected = crypto.createHmac('sha256', key).update(body).digest('base64');
        const ok = req.headers['x-xero-signature'] === expected;
        if (ok) bodies.push(body.toString('utf8'));
        res.writeHead(ok ? 200 : 401).end();
      });
    });
    await new Promise<void>((resolve) => receiver?.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/xero`, bodies };
  };

  it('queues CONTACT, INVOICE and CREDITNOTE events for changes (payments as their invoice\'s UPDATE) and delivers them signed', async () => {
    await start();
    fake.seed(SEED);
    expect(fake.pendingEvents()).toEqual([]);
    fake.org.updateContact(CUSTOMER, { name: 'Acme Limited' });
    fake.org.addPayment({ invoiceId: INV_1, date: '2026-11-02', amount: 50 });
    const note = fake.org.addCreditNote({ contactId: CUSTOMER, date: '2026-11-03', lineAmountTypes: 'NoTax', lines: [{ unitAmount: 10 }] });
    const events = fake.pendingEvents();
    expect(events.map((e) => `${e.eventCategory} ${e.eventType} ${e.resourceId}`)).toEqual([
      `CONTACT UPDATE ${CUSTOMER}`, `INVOICE UPDATE ${INV_1}`, `CREDITNOTE CREATE ${note.id}`,
    ]);
    const { url, bodies } = await receive(fake.webhookKey);
    const delivery = await fake.deliverWebhook(url);
    expect(delivery.status).toBe(200);
    expect(fake.pendingEvents()).toEqual([]);
    const payload = JSON.parse(bodies[0] as string) as { events: Record<string, unknown>[]; firstEventSequence: number; lastEventSequence: number };
    expect(payload.events).toHaveLength(3);
    expect(payload.lastEventSequence - payload.firstEventSequence).toBe(2);
    expect(payload.events[2]).toMatchObject({ eventCategory: 'CREDITNOTE', data: { Type: 'ACCRECCREDIT', Status: 'AUTHORISED' }, tenantType: 'ORGANISATION' });
    const doc = webhooksDocument();
    expect(doc.validate('#/components/schemas/WebhookEvent', { ...payload, events: payload.events.slice(0, 2) })).toEqual([]);
    expect(doc.validate('#/components/schemas/CreditNoteWebhookEvent', { ...payload, events: payload.events.slice(2) })).toEqual([]);
    expect(doc.validate('#/components/schemas/WebhookEvent', { ...payload, events: [{ ...payload.events[0], eventType: 'DELETE' }] })).not.toEqual([]);
  });

  it('sends the intent-to-receive handshake signed or mis-signed; a delivery signed with another key is refused', async () => {
    await start();
    fake.seed(SEED);
    const { url, bodies } = await receive(fake.webhookKey);
    expect((await fake.intentToReceive(url, { signed: true })).status).toBe(200);
    expect((await fake.intentToReceive(url, { signed: false })).status).toBe(401);
    expect(JSON.parse(bodies[0] as string)).toMatchObject({ events: [], firstEventSequence: 0, lastEventSequence: 0, entropy: expect.stringMatching(/^[A-Z]{20}$/) });
    fake.org.updateContact(CUSTOMER, { email: 'billing@acme.example' });
    expect((await fake.deliverWebhook(url, undefined, { signWith: 'another key' })).status).toBe(401);
  });
});

describe('Xero Accounting API fake: generated data', () => {
  it('generates 100,000 invoices repeatably and serves them by page', async () => {
    await start();
    const made = generateInto(fake.org, { invoices: 100_000, seed: 11 });
    expect(made.invoices + made.bills).toBe(100_000);
    expect(made.payments).toBeGreaterThan(50_000);
    const first = await get('/Invoices?page=1&pageSize=1000&order=UpdatedDateUTC%20ASC&where=Type%3D%3D%22ACCREC%22');
    expect(first.body.pagination).toMatchObject({ page: 1, pageSize: 1000, itemCount: made.invoices, pageCount: Math.ceil(made.invoices / 1000) });
    const last = await get(`/Invoices?page=${Math.ceil(made.invoices / 1000)}&pageSize=1000&order=UpdatedDateUTC%20ASC&where=Type%3D%3D%22ACCREC%22`);
    expect((last.body.Invoices as unknown[]).length).toBe(made.invoices % 1000 || 1000);
    expect(problems).toEqual([]);

    const again = await startFakeXeroApi();
    try {
      generateInto(again.org, { invoices: 2_000, seed: 11 });
      const other = await startFakeXeroApi();
      generateInto(other.org, { invoices: 2_000, seed: 11 });
      const digest = (f: FakeXeroApi): string => f.org.invoices.all.map((i) => `${i.id}:${i.totalMinor}:${i.status}:${f.org.amountDue(i)}`).join('|');
      expect(digest(other)).toBe(digest(again));
      await other.close();
    } finally {
      await again.close();
    }
  });
});
