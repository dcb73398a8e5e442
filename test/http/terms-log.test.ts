import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { CompanyCardSchema, DealCardSchema, LogEntrySchema, TermsAckSchema } from '../../extensions/card-api';
import { loadConfig } from '../../src/config';
import { termsDaysOf } from '../../src/domain/terms';
import { createApp } from '../../src/http/app';
import { setCompanyLink } from '../../src/hubspot/links';
import { createLogger } from '../../src/logger';
import { ensurePortal, idsByExternalId, upsertCustomers } from '../../src/store/facts';
import type { Store } from '../../src/store/store';
import { cardQuery, signedRequest } from '../helpers/sign';
import { describeEachStore, openTestStore } from '../helpers/stores';

const SECRET = 'terms-test-client-secret';
const PUBLIC_URL = 'https://arbridge.example.com';
const PORTAL = 404;
const OTHER = 505;
const TODAY = '2025-03-31';
const REP = 'rita.rep@example.com';

describe('termsDaysOf', () => {
  it.each([
    ['Net 30', 30], ['net30', 30], ['NET  45', 45], ['N60', 60], ['30 days', 30], ['14 days net', 14],
    ['Due on receipt', 0], ['due upon receipt', 0], ['COD', 0], ['Net 0', 0],
  ])('%s → %d', (terms, days) => expect(termsDaysOf(terms)).toBe(days));
  it.each(['2/10 Net 30', 'End of month', 'Net 30 EOM', 'Net 99999', ''])('%s → null (kept as written)', (terms) => {
    expect(termsDaysOf(terms)).toBeNull();
  });
});

describeEachStore('payment-terms acknowledgments and the communication log', (backend) => {
  let store: Store;
  let app: ReturnType<typeof createApp>;
  let customerId: number;

  const config = loadConfig({ HUBSPOT_ACCESS_TOKEN: 'pat-test', HUBSPOT_PORTAL_ID: String(PORTAL), HUBSPOT_CLIENT_SECRET: SECRET, ARBRIDGE_PUBLIC_URL: PUBLIC_URL });
  const signed = (method: 'GET' | 'POST', path: string, params: Record<string, string>, body?: unknown, portalId = PORTAL) =>
    signedRequest(app, {
      method, path: `${path}?${cardQuery(params, { portalId, userEmail: REP })}`, secret: SECRET, publicUrl: PUBLIC_URL,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const companyCard = async (companyId: string, asOf?: string) =>
    CompanyCardSchema.parse((await signed('GET', '/api/v1/cards/company', { objectId: companyId, ...(asOf ? { asOf } : {}) })).body);
  const dealCard = async (dealId: string, asOf?: string) =>
    DealCardSchema.parse((await signed('GET', '/api/v1/cards/deal', { objectId: dealId, ...(asOf ? { asOf } : {}) })).body);

  const ack = (fields: Record<string, unknown> = {}) => ({
    objectId: '6001', terms: 'Net 30', contactName: 'Paula Payer', contactEmail: 'paula@acme.example', contactId: '301',
    acknowledgedOn: '2025-03-10', evidenceUrl: 'https://files.example/terms-signed.pdf', idempotencyKey: 'ack-key-0001', ...fields,
  });

  beforeAll(async () => {
    store = await openTestStore(backend);
    const db = store.db;
    await ensurePortal(db, PORTAL);
    await ensurePortal(db, OTHER);
    await upsertCustomers(db, PORTAL, 'csv', [{ id: 'AC', name: 'Acme', domain: 'acme.example', industry: null, country: null }]);
    customerId = (await idsByExternalId(db, 'customers', PORTAL, 'csv', ['AC'])).get('AC') as number;
    await setCompanyLink(db, PORTAL, { customerId: String(customerId), companyId: '9100', method: 'domain', detail: 'acme.example' });
    await db.insertInto('hubspot_deals').values([
      { portal_id: PORTAL, deal_id: '6001', name: 'Renewal', company_id: '9100' },
      { portal_id: PORTAL, deal_id: '6002', name: 'Upsell', company_id: '9100' },
      { portal_id: PORTAL, deal_id: '6003', name: 'Unmatched co', company_id: '9999' },
    ]).execute();
    app = createApp({ db, logger: createLogger('silent'), today: () => TODAY, config });
  });
  afterAll(async () => store.close());

  it('records a deal\'s terms acknowledgment, shows it on the deal and company cards and logs it once for the customer', async () => {
    const before = await companyCard('9100');
    expect(before.terms).toEqual([]);
    expect(before.log).toEqual({ entries: [], total: 0 });
    expect((await dealCard('6001')).terms_ack).toBeNull();

    const res = await signed('POST', '/api/v1/cards/deal/terms', {}, ack());
    expect(res.status).toBe(201);
    const saved = TermsAckSchema.parse(res.body);
    expect(saved).toMatchObject({
      deal_id: '6001', terms: 'Net 30', terms_days: 30, contact: { id: '301', name: 'Paula Payer', email: 'paula@acme.example' },
      acknowledged_on: '2025-03-10', evidence_url: 'https://files.example/terms-signed.pdf', recorded_by: REP,
    });
    // A retry with the same key (a double click, a lost answer) replays: still one acknowledgment, one log entry.
    const replay = await signed('POST', '/api/v1/cards/deal/terms', {}, ack());
    expect(replay.status).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(res.body);
    expect(await store.db.selectFrom('payment_terms_acks').select('id').where('portal_id', '=', PORTAL).execute()).toHaveLength(1);

    expect((await dealCard('6001')).terms_ack).toEqual(saved);
    const company = await companyCard('9100');
    expect(company.terms).toEqual([saved]);
    expect(company.log?.total).toBe(1);
    expect(company.log?.entries[0]).toMatchObject({
      kind: 'terms_ack', occurred_on: '2025-03-10', author: REP, deal_id: '6001',
      summary: 'Payment terms "Net 30" acknowledged by Paula Payer for deal 6001',
    });
    // Dated facts: as of a day before the acknowledgment, it is not on record yet.
    expect((await dealCard('6001', '2025-03-09')).terms_ack).toBeNull();
    expect((await companyCard('9100', '2025-03-09')).terms).toEqual([]);
  });

  it('keeps every capture; the latest of each deal is on record, newest deal first on the company', async () => {
    const second = TermsAckSchema.parse((await signed('POST', '/api/v1/cards/deal/terms', {}, ack({
      terms: '2/10 Net 30', contactId: null, contactEmail: null, evidenceUrl: null, acknowledgedOn: '2025-03-20', idempotencyKey: 'ack-key-0002',
    }))).body);
    expect(second.terms_days).toBeNull();
    const other = TermsAckSchema.parse((await signed('POST', '/api/v1/cards/deal/terms', {}, ack({
      objectId: '6002', terms: 'Due on receipt', acknowledgedOn: '2025-03-21', idempotencyKey: 'ack-key-0003',
    }))).body);
    expect(other.terms_days).toBe(0);
    expect((await dealCard('6001')).terms_ack).toEqual(second);
    expect((await companyCard('9100')).terms.map((t) => [t.deal_id, t.terms])).toEqual([['6002', 'Due on receipt'], ['6001', '2/10 Net 30']]);
    expect(await store.db.selectFrom('payment_terms_acks').select('id').where('deal_id', '=', '6001').execute()).toHaveLength(2);
  });

  it('records terms for a deal whose company is not linked, without a log entry', async () => {
    const count = async () => Number((await store.db.selectFrom('communication_log').select((eb) => eb.fn.countAll<string>().as('n'))
      .where('portal_id', '=', PORTAL).executeTakeFirstOrThrow()).n);
    const entries = await count();
    const res = await signed('POST', '/api/v1/cards/deal/terms', {}, ack({ objectId: '6003', idempotencyKey: 'ack-key-0004' }));
    expect(res.status).toBe(201);
    expect(await count()).toBe(entries);
    expect((await dealCard('6003')).terms_ack?.terms).toBe('Net 30');
  });

  it('refuses bad acknowledgments naming the field, and stores nothing', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ terms: '   ' }, 'terms'],
      [{ contactName: '' }, 'contactName'],
      [{ contactEmail: 'not-an-email' }, 'contactEmail'],
      [{ evidenceUrl: 'javascript:alert(1)' }, 'evidenceUrl'],
      [{ acknowledgedOn: '2025-02-30' }, 'acknowledgedOn'],
      [{ acknowledgedOn: '2025-04-05' }, 'acknowledgedOn'],
      [{ objectId: 'deal-1' }, 'objectId'],
      [{ unexpected: 1 }, 'unexpected'],
    ];
    const stored = await store.db.selectFrom('payment_terms_acks').select('id').execute();
    for (const [fields, field] of cases) {
      const res = await signed('POST', '/api/v1/cards/deal/terms', {}, ack({ ...fields, idempotencyKey: `bad-${field}-${String(Object.values(fields)[0]).length}` }));
      expect([res.status, Object.keys(res.body.fields ?? {}).join(',') || res.body.message]).toEqual([400, expect.stringContaining(field)]);
    }
    expect(await store.db.selectFrom('payment_terms_acks').select('id').execute()).toHaveLength(stored.length);
  });

  it('logs a note, call or email from the company card, newest first, dated by the as-of date', async () => {
    const post = (body: Record<string, unknown>) => signed('POST', '/api/v1/cards/company/log', {}, { objectId: '9100', ...body });
    const call = await post({ kind: 'call', occurredOn: '2025-03-25', summary: 'Spoke to AP: payment run on Friday', idempotencyKey: 'log-key-0001' });
    expect(call.status).toBe(201);
    expect(LogEntrySchema.parse(call.body)).toMatchObject({ kind: 'call', author: REP, summary: 'Spoke to AP: payment run on Friday' });
    expect((await post({ kind: 'call', occurredOn: '2025-03-25', summary: 'Spoke to AP: payment run on Friday', idempotencyKey: 'log-key-0001' })).body).toEqual(call.body);
    await post({ kind: 'note', occurredOn: '2025-03-28', summary: 'Sent statement', idempotencyKey: 'log-key-0002' });
    const card = await companyCard('9100');
    expect(card.log?.entries.map((e) => [e.occurred_on, e.kind])).toEqual([
      ['2025-03-28', 'note'], ['2025-03-25', 'call'], ['2025-03-21', 'terms_ack'], ['2025-03-20', 'terms_ack'], ['2025-03-10', 'terms_ack'],
    ]);
    expect(card.log?.total).toBe(5);
    expect((await companyCard('9100', '2025-03-26')).log?.entries.map((e) => e.occurred_on))
      .toEqual(['2025-03-25', '2025-03-21', '2025-03-20', '2025-03-10']);
    // The latest twenty are sent (see test/collab/comm-log.test.ts for the cut); the total says how many there are.
    for (let i = 0; i < 3; i += 1) await post({ kind: 'email', occurredOn: '2025-03-29', summary: `Reminder ${i}`, idempotencyKey: `log-key-1${i}00` });
    const full = await companyCard('9100');
    expect(full.log?.entries).toHaveLength(8);
    expect(full.log?.total).toBe(8);
    expect(full.log?.entries[0]?.summary).toBe('Reminder 2');
  });

  it('refuses a log entry for an unlinked company, a future date, a kind logged by other flows, or another portal\'s signature', async () => {
    const post = (body: Record<string, unknown>, portalId = PORTAL) =>
      signed('POST', '/api/v1/cards/company/log', {}, { objectId: '9100', kind: 'note', occurredOn: '2025-03-30', summary: 'x', ...body }, portalId);
    const unlinked = await post({ objectId: '9999', idempotencyKey: 'log-bad-0001' });
    expect([unlinked.status, unlinked.body.fields]).toEqual([400, { objectId: ['not linked to an accounting customer'] }]);
    const future = await post({ occurredOn: '2025-04-02', idempotencyKey: 'log-bad-0002' });
    expect([future.status, future.body.fields]).toEqual([400, { occurredOn: ['must not be in the future'] }]);
    const promise = await post({ kind: 'help_request', idempotencyKey: 'log-bad-0003' });
    expect([promise.status, Object.keys(promise.body.fields)]).toEqual([400, ['kind']]);
    // Portal OTHER is not installed: refused before anything is read or written.
    expect((await post({ idempotencyKey: 'log-bad-0004' }, OTHER)).status).toBe(401);
    // Unsigned: refused.
    const unsigned = await request(app).post(`/api/v1/cards/company/log?portalId=${PORTAL}`).send({ objectId: '9100' });
    expect(unsigned.status).toBe(401);
  });
});
