import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import request from 'supertest';
import {
  CompanyCardSchema, CustomerChoicesSchema, DealCardSchema, LinkResultSchema,
} from '../../extensions/card-api';
import { loadConfig, type Config } from '../../src/config';
import { createApp } from '../../src/http/app';
import { idempotencyLockKey } from '../../src/http/middleware/idempotency';
import { setCompanyLink, setDealLink } from '../../src/hubspot/links';
import { createLogger } from '../../src/logger';
import { sealSecret } from '../../src/secrets/crypto';
import { ensurePortal, idsByExternalId, upsertCustomers, upsertInvoices, upsertPayments, type InvoiceRecord } from '../../src/store/facts';
import type { Store } from '../../src/store/store';
import { cardQuery, signedRequest, type SignedCall } from '../helpers/sign';
import { describeEachStore, openTestStore } from '../helpers/stores';

const SECRET = 'card-test-client-secret';
const PUBLIC_URL = 'https://arbridge.example.com';
const PORTAL_A = 101; // OAuth install row
const PORTAL_B = 202; // the private app's portal
const PORTAL_C = 303; // has data, but the app is not installed there
const TODAY = '2024-06-30';
const EMAIL = 'ana.rep@example.com';

type AppConfig = Pick<Config, 'env' | 'defaultPortalId'> & Partial<Pick<Config, 'publicUrl' | 'hubspot'>>;

/** The HubSpot configuration the service would load: a private app for portal B, with or without a client secret. */
const hubspotConfig = (clientSecret: string | null): Config['hubspot'] => loadConfig({
  HUBSPOT_ACCESS_TOKEN: 'pat-test', HUBSPOT_PORTAL_ID: String(PORTAL_B),
  ...(clientSecret ? { HUBSPOT_CLIENT_ID: 'client-id', HUBSPOT_CLIENT_SECRET: clientSecret } : {}),
}).hubspot;

const invoice = (fields: Partial<InvoiceRecord> & Pick<InvoiceRecord, 'id' | 'customerId' | 'currency' | 'totalMinor' | 'issueDate' | 'dueDate'>): InvoiceRecord => ({
  number: null, voidedDate: null, disputed: false, salesRep: null, product: null, dealId: null, terms: null, ...fields,
});

const seed = async (store: Store): Promise<void> => {
  const db = store.db;
  for (const portal of [PORTAL_A, PORTAL_B, PORTAL_C]) await ensurePortal(db, portal);
  await upsertCustomers(db, PORTAL_A, 'csv', [
    { id: 'C1', name: 'Acme Corp', domain: 'acme.com', industry: 'Retail', country: 'US' },
    { id: 'C2', name: 'Globex', domain: 'globex.com', industry: null, country: null },
    { id: 'C3', name: 'Initech', domain: 'initech.io', industry: null, country: null },
    { id: 'C4', name: 'Umbrella 100%_Co', domain: null, industry: null, country: null },
  ]);
  await upsertCustomers(db, PORTAL_B, 'csv', [{ id: 'B1', name: 'Bravo Ltd', domain: 'bravo.com', industry: null, country: null }]);
  await upsertCustomers(db, PORTAL_C, 'csv', [{ id: 'X1', name: 'Xeno Secret', domain: null, industry: null, country: null }]);
  await upsertInvoices(db, PORTAL_A, 'csv', [
    invoice({ id: 'INV-1', number: 'A-1', customerId: 'C1', currency: 'USD', totalMinor: 100_000, issueDate: '2024-04-01', dueDate: '2024-05-01' }),
    invoice({ id: 'INV-2', number: 'A-2', customerId: 'C1', currency: 'USD', totalMinor: 50_000, issueDate: '2024-05-15', dueDate: '2024-06-14' }),
    invoice({ id: 'INV-3', customerId: 'C1', currency: 'EUR', totalMinor: 20_000, issueDate: '2024-06-01', dueDate: '2024-07-01' }),
    invoice({ id: 'INV-4', customerId: 'C2', currency: 'USD', totalMinor: 30_000, issueDate: '2024-06-10', dueDate: '2024-07-10' }),
    invoice({ id: 'INV-5', customerId: 'C1', currency: 'USD', totalMinor: 10_000, issueDate: '2024-05-01', dueDate: '2024-05-31', voidedDate: '2024-06-05' }),
    invoice({ id: 'INV-6', customerId: 'C1', currency: 'USD', totalMinor: 7_000, issueDate: '2024-07-05', dueDate: '2024-08-04' }),
  ]);
  await upsertPayments(db, PORTAL_A, 'csv', [
    { id: 'P-1', kind: 'payment', date: '2024-05-11', currency: 'USD', amountMinor: 100_000, allocations: [{ invoiceId: 'INV-1', amountMinor: 100_000 }] },
    { id: 'P-2', kind: 'payment', date: '2024-06-20', currency: 'USD', amountMinor: 20_000, allocations: [{ invoiceId: 'INV-2', amountMinor: 20_000 }] },
    { id: 'CN-1', kind: 'credit_note', date: '2024-06-25', currency: 'USD', amountMinor: 5_000, allocations: [{ invoiceId: 'INV-2', amountMinor: 5_000 }] },
    { id: 'P-3', kind: 'payment', date: '2024-07-15', currency: 'USD', amountMinor: 25_000, allocations: [{ invoiceId: 'INV-2', amountMinor: 25_000 }] },
  ]);
  await upsertInvoices(db, PORTAL_B, 'csv', [
    invoice({ id: 'BINV-1', customerId: 'B1', currency: 'GBP', totalMinor: 9_900, issueDate: '2024-06-01', dueDate: '2024-06-15' }),
  ]);
  await upsertInvoices(db, PORTAL_C, 'csv', [
    invoice({ id: 'XINV-1', customerId: 'X1', currency: 'USD', totalMinor: 12_300, issueDate: '2024-06-01', dueDate: '2024-06-15' }),
  ]);
  const a = await idsByExternalId(db, 'customers', PORTAL_A, 'csv', ['C1', 'C2', 'C3', 'C4']);
  const b = await idsByExternalId(db, 'customers', PORTAL_B, 'csv', ['B1']);
  const c = await idsByExternalId(db, 'customers', PORTAL_C, 'csv', ['X1']);
  await setCompanyLink(db, PORTAL_A, { customerId: String(a.get('C1')), companyId: '9001', method: 'domain', detail: 'acme.com' });
  await setCompanyLink(db, PORTAL_A, { customerId: String(a.get('C2')), companyId: '9002', method: 'name', detail: 'globex' });
  await setCompanyLink(db, PORTAL_A, { customerId: String(a.get('C4')), companyId: null, method: 'manual_unlink', linkedBy: 'x@example.com' });
  await setCompanyLink(db, PORTAL_B, { customerId: String(b.get('B1')), companyId: '8001', method: 'explicit_id' });
  await setCompanyLink(db, PORTAL_C, { customerId: String(c.get('X1')), companyId: '9001', method: 'domain' });
  const inv = await idsByExternalId(db, 'invoices', PORTAL_A, 'csv', ['INV-1', 'INV-2', 'INV-3', 'INV-4', 'INV-5', 'INV-6']);
  await setDealLink(db, PORTAL_A, { invoiceId: String(inv.get('INV-1')), dealId: '7001', method: 'invoice_deal_id' });
  await setDealLink(db, PORTAL_A, { invoiceId: String(inv.get('INV-2')), dealId: '7001', method: 'association' });
  await setDealLink(db, PORTAL_A, { invoiceId: String(inv.get('INV-3')), dealId: '7001', method: 'manual' });
  await setDealLink(db, PORTAL_A, { invoiceId: String(inv.get('INV-5')), dealId: '7001', method: 'reference' });
  await setDealLink(db, PORTAL_A, { invoiceId: String(inv.get('INV-6')), dealId: '7001', method: 'invoice_deal_id' });
  await setDealLink(db, PORTAL_A, { invoiceId: String(inv.get('INV-4')), dealId: null, method: 'manual_unlink' });
  await db.insertInto('hubspot_deals').values({ portal_id: PORTAL_A, deal_id: '7001', name: 'Big deal', company_id: '9001' }).execute();
  const key = crypto.randomBytes(32);
  await db.insertInto('hubspot_installs').values({
    portal_id: PORTAL_A, hub_domain: 'a.hubspot.test', scopes: 'oauth',
    access_token_enc: sealSecret(key, 'access-token-a', `hubspot:${PORTAL_A}:access`),
    refresh_token_enc: sealSecret(key, 'refresh-token-a', `hubspot:${PORTAL_A}:refresh`),
    expires_at: new Date(Date.now() + 3_600_000),
  }).execute();
};

/** Every customer and invoice name seeded: none of them may appear in a refusal. */
const CUSTOMER_DATA = /Acme|Globex|Initech|Umbrella|Bravo|Xeno|INV-|acme\.com|C1|B1|X1/;

describeEachStore('signed card API', (backend) => {
  let store: Store;
  let app: ReturnType<typeof createApp>;
  let customerIds: Map<string, number>;
  let bravoId: number;
  const logger = createLogger('silent');
  const makeApp = (config: Partial<AppConfig> = {}): ReturnType<typeof createApp> => createApp({
    db: store.db, logger, today: () => TODAY,
    config: { env: 'development', defaultPortalId: PORTAL_A, publicUrl: PUBLIC_URL, hubspot: hubspotConfig(SECRET), ...config },
  });
  const call = (target: ReturnType<typeof createApp>, c: Omit<SignedCall, 'secret' | 'publicUrl'> & Partial<Pick<SignedCall, 'secret'>>) =>
    signedRequest(target, { secret: SECRET, publicUrl: PUBLIC_URL, ...c });
  const get = (path: string, params: Record<string, string | number>, portalId: number, extra: Partial<SignedCall> = {}) =>
    call(app, { method: 'GET', path: `${path}?${cardQuery(params, { portalId, userEmail: EMAIL })}`, ...extra });
  const post = (path: string, body: unknown, portalId: number, extra: Partial<SignedCall> = {}) =>
    call(app, { method: 'POST', path: `${path}?${cardQuery({}, { portalId, userEmail: EMAIL })}`, body: JSON.stringify(body), ...extra });
  const linksOf = async (portalId: number) => (await store.db.selectFrom('company_links')
    .select(['customer_id', 'company_id', 'method', 'linked_by']).where('portal_id', '=', portalId).orderBy('customer_id').execute());

  beforeAll(async () => {
    store = await openTestStore(backend);
    await seed(store);
    customerIds = await idsByExternalId(store.db, 'customers', PORTAL_A, 'csv', ['C1', 'C2', 'C3', 'C4']);
    bravoId = (await idsByExternalId(store.db, 'customers', PORTAL_B, 'csv', ['B1'])).get('B1') as number;
    app = makeApp();
  });
  afterAll(async () => store.close());

  describe('reads', () => {
    it('answers the company card of the signed portal: match and summary as of today', async () => {
      const res = await get('/api/v1/cards/company', { objectId: '9001' }, PORTAL_A);
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      const card = CompanyCardSchema.parse(res.body);
      expect(card.portal_id).toBe(PORTAL_A);
      expect(card.as_of).toBe(TODAY);
      expect(card.match).toEqual({
        status: 'matched', customer_id: String(customerIds.get('C1')), customer_name: 'Acme Corp', source: 'csv', method: 'domain', detail: 'acme.com',
      });
      expect(card.summary?.customer.id).toBe('C1');
      // USD: INV-2 500.00 − 200.00 paid − 50.00 credited; EUR: INV-3 200.00 not yet due; INV-6 is issued after today.
      expect(card.summary?.currencies.map((c) => [c.currency, c.metrics.outstanding, c.metrics.overdue])).toEqual([
        ['EUR', '200.00', '0.00'], ['USD', '250.00', '250.00'],
      ]);
      expect(card.summary?.invoices.map((i) => i.id)).not.toContain('INV-6');
    });

    it('answers as of the asOf given', async () => {
      const card = CompanyCardSchema.parse((await get('/api/v1/cards/company', { objectId: '9001', asOf: '2024-07-31' }, PORTAL_A)).body);
      expect(card.as_of).toBe('2024-07-31');
      expect(card.summary?.invoices.find((i) => i.id === 'INV-2')?.status).toBe('paid');
    });

    it('answers unmatched (and no summary) for a company without a link', async () => {
      const res = await get('/api/v1/cards/company', { objectId: '5555' }, PORTAL_A);
      expect(res.status).toBe(200);
      expect(CompanyCardSchema.parse(res.body)).toEqual({ portal_id: PORTAL_A, company_id: '5555', as_of: TODAY, match: { status: 'unmatched' }, summary: null, terms: [], log: null, help_requests: [] });
    });

    it('answers the deal card: linked invoices as of today, totals per currency, the company with its risk', async () => {
      const res = await get('/api/v1/cards/deal', { objectId: '7001' }, PORTAL_A);
      expect(res.status).toBe(200);
      const card = DealCardSchema.parse(res.body);
      expect(card.portal_id).toBe(PORTAL_A);
      const rows = card.invoices.map((i) => [i.id, i.currency, i.amount, i.collected, i.outstanding, i.overdue, i.status, i.link_method]);
      expect(rows).toEqual([
        ['INV-3', 'EUR', '200.00', '0.00', '200.00', '0.00', 'open', 'manual'],
        ['INV-2', 'USD', '500.00', '200.00', '250.00', '250.00', 'overdue', 'association'],
        ['INV-5', 'USD', '100.00', '0.00', '0.00', '0.00', 'void', 'reference'],
        ['INV-1', 'USD', '1000.00', '1000.00', '0.00', '0.00', 'paid', 'invoice_deal_id'],
      ]);
      // INV-4 was unlinked by hand; INV-6 is issued after today; the void INV-5 is not invoiced.
      expect(card.totals).toEqual([
        { currency: 'EUR', invoiced: '200.00', collected: '0.00', outstanding: '200.00', overdue: '0.00' },
        { currency: 'USD', invoiced: '1500.00', collected: '1200.00', outstanding: '250.00', overdue: '250.00' },
      ]);
      expect(card.company?.company_id).toBe('9001');
      expect(card.company?.match).toMatchObject({ status: 'matched', customer_id: String(customerIds.get('C1')) });
      expect(card.company?.risk.map((r) => r.currency)).toEqual(['EUR', 'USD']);
      const later = DealCardSchema.parse((await get('/api/v1/cards/deal', { objectId: '7001', asOf: '2024-07-31' }, PORTAL_A)).body);
      expect(later.invoices.find((i) => i.id === 'INV-2')).toMatchObject({ status: 'paid', collected: '450.00', outstanding: '0.00' });
      expect(later.invoices.map((i) => i.id)).toContain('INV-6');
    });

    it('answers an empty deal card for a deal with no linked invoices', async () => {
      const card = DealCardSchema.parse((await get('/api/v1/cards/deal', { objectId: '7999' }, PORTAL_A)).body);
      expect(card).toEqual({ portal_id: PORTAL_A, deal_id: '7999', as_of: TODAY, invoices: [], totals: [], company: null, terms_ack: null, help_requests: [] });
    });

    it('lists the portal\'s customers linked to no company, filtered by the query', async () => {
      const all = CustomerChoicesSchema.parse((await get('/api/v1/cards/customers', {}, PORTAL_A)).body);
      expect(all.customers.map((c) => c.external_id)).toEqual(['C3', 'C4']);
      expect(all.customers[0]).toEqual({ id: String(customerIds.get('C3')), source: 'csv', external_id: 'C3', name: 'Initech', domain: 'initech.io' });
      const byDomain = CustomerChoicesSchema.parse((await get('/api/v1/cards/customers', { query: 'INITECH.I' }, PORTAL_A)).body);
      expect(byDomain.customers.map((c) => c.external_id)).toEqual(['C3']);
      // % and _ are matched literally.
      const literal = CustomerChoicesSchema.parse((await get('/api/v1/cards/customers', { query: '100%_' }, PORTAL_A)).body);
      expect(literal.customers.map((c) => c.external_id)).toEqual(['C4']);
      const wildcard = CustomerChoicesSchema.parse((await get('/api/v1/cards/customers', { query: '%' }, PORTAL_A)).body);
      expect(wildcard.customers.map((c) => c.external_id)).toEqual(['C4']);
      const limited = CustomerChoicesSchema.parse((await get('/api/v1/cards/customers', { limit: 1 }, PORTAL_A)).body);
      expect(limited.customers).toHaveLength(1);
      const other = CustomerChoicesSchema.parse((await get('/api/v1/cards/customers', {}, PORTAL_B)).body);
      expect(other.customers).toEqual([]);
    });

    it('validates the query, naming the parameter', async () => {
      for (const [params, field] of [[{ objectId: 'abc' }, /objectId/], [{}, /objectId/], [{ objectId: '1', asOf: '2024-02-30' }, /asOf/]] as const) {
        const res = await get('/api/v1/cards/company', params, PORTAL_A);
        expect(res.status).toBe(400);
        expect(res.body.message).toMatch(field);
      }
      const limit = await get('/api/v1/cards/customers', { limit: 0 }, PORTAL_A);
      expect(limit.status).toBe(400);
      expect(limit.body.message).toMatch(/limit/);
    });
  });

  describe('tenancy', () => {
    it('serves the private app\'s portal its own data only: portal A\'s company id gives nothing', async () => {
      const own = CompanyCardSchema.parse((await get('/api/v1/cards/company', { objectId: '8001' }, PORTAL_B)).body);
      expect(own.match).toMatchObject({ status: 'matched', customer_id: String(bravoId), customer_name: 'Bravo Ltd' });
      const res = await get('/api/v1/cards/company', { objectId: '9001' }, PORTAL_B);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ portal_id: PORTAL_B, company_id: '9001', as_of: TODAY, match: { status: 'unmatched' }, summary: null, terms: [], log: null, help_requests: [] });
      expect(JSON.stringify(res.body)).not.toMatch(CUSTOMER_DATA);
      const deal = await get('/api/v1/cards/deal', { objectId: '7001' }, PORTAL_B);
      expect(deal.body).toEqual({ portal_id: PORTAL_B, deal_id: '7001', as_of: TODAY, invoices: [], totals: [], company: null, terms_ack: null, help_requests: [] });
    });

    it('refuses a validly signed request for a portal the app is not installed in', async () => {
      const res = await get('/api/v1/cards/company', { objectId: '9001' }, PORTAL_C);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error: 'unauthenticated', reason: 'portal_not_installed' });
      expect(JSON.stringify(res.body)).not.toMatch(CUSTOMER_DATA);
    });

    it('refuses a missing, repeated or malformed portalId', async () => {
      for (const [query, reason] of [
        ['objectId=9001&userEmail=a%40b.c', 'portal_missing'],
        [`objectId=9001&portalId=${PORTAL_B}&portalId=${PORTAL_A}`, 'portal_repeated'],
        [`objectId=9001&portalId=${PORTAL_A}&portalId=${PORTAL_A}`, 'portal_repeated'],
        ['objectId=9001&portalId=0101', 'portal_malformed'],
        [`objectId=9001&portalId=${PORTAL_A}&userEmail=a%40b.c&userEmail=c%40d.e`, 'user_repeated'],
      ] as const) {
        const res = await call(app, { method: 'GET', path: `/api/v1/cards/company?${query}` });
        expect(res.status).toBe(401);
        expect(res.body.reason).toBe(reason);
        expect(JSON.stringify(res.body)).not.toMatch(CUSTOMER_DATA);
      }
    });

    it('ignores the development portal header on card routes', async () => {
      const res = await get('/api/v1/cards/company', { objectId: '9001' }, PORTAL_B, { headers: { 'x-arbridge-portal-id': String(PORTAL_A) } });
      expect(res.status).toBe(200);
      expect(res.body.portal_id).toBe(PORTAL_B);
      expect(res.body.match).toEqual({ status: 'unmatched' });
      const unsigned = await request(app).get('/api/v1/cards/company?objectId=9001').set('x-arbridge-portal-id', String(PORTAL_A));
      expect(unsigned.status).toBe(401);
      expect(JSON.stringify(unsigned.body)).not.toMatch(CUSTOMER_DATA);
    });
  });

  describe('refusals never carry data', () => {
    const path = (portalId = PORTAL_A): string => `/api/v1/cards/company?${cardQuery({ objectId: '9001' }, { portalId, userEmail: EMAIL })}`;
    const refusedWithoutData = async (res: { status: number; body: unknown }, reason: string): Promise<void> => {
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error: 'unauthenticated', reason });
      expect(Object.keys(res.body as object).sort()).toEqual(['error', 'message', 'reason']);
      expect(JSON.stringify(res.body)).not.toMatch(CUSTOMER_DATA);
    };

    it('refuses a forged signature (another secret)', async () => {
      await refusedWithoutData(await call(app, { method: 'GET', path: path(), secret: 'forged-secret' }), 'signature_mismatch');
    });

    it('refuses a stale or far-future timestamp', async () => {
      await refusedWithoutData(await call(app, { method: 'GET', path: path(), timestamp: Date.now() - 6 * 60_000 }), 'stale_timestamp');
      await refusedWithoutData(await call(app, { method: 'GET', path: path(), timestamp: Date.now() + 6 * 60_000 }), 'future_timestamp');
    });

    it('refuses a tampered query: another portal, another object', async () => {
      await refusedWithoutData(await call(app, { method: 'GET', path: path(PORTAL_A), signedPath: path(PORTAL_B) }), 'signature_mismatch');
      const other = `/api/v1/cards/company?${cardQuery({ objectId: '9002' }, { portalId: PORTAL_A, userEmail: EMAIL })}`;
      await refusedWithoutData(await call(app, { method: 'GET', path: other, signedPath: path() }), 'signature_mismatch');
    });

    it('refuses a tampered body', async () => {
      const sent = JSON.stringify({ objectId: '9001', customerId: String(customerIds.get('C3')), idempotencyKey: 'tamper-0001' });
      const signed = JSON.stringify({ objectId: '9001', customerId: String(customerIds.get('C4')), idempotencyKey: 'tamper-0001' });
      const res = await post('/api/v1/cards/company/link', JSON.parse(sent), PORTAL_A, { body: sent, signedBody: signed });
      await refusedWithoutData(res, 'signature_mismatch');
      expect((await linksOf(PORTAL_A)).some((l) => l.company_id === '9001' && l.customer_id === customerIds.get('C3'))).toBe(false);
    });

    it('refuses missing headers and a body that is not JSON', async () => {
      const bare = await request(app).get(path());
      await refusedWithoutData(bare, 'missing_signature');
      const noTimestamp = await request(app).get(path()).set('X-HubSpot-Signature-v3', 'x'.repeat(43) + '=');
      await refusedWithoutData(noTimestamp, 'missing_timestamp');
      const text = await request(app).post(path()).set('Content-Type', 'text/plain')
        .set('X-HubSpot-Signature-v3', 'x'.repeat(43) + '=').set('X-HubSpot-Request-Timestamp', String(Date.now())).send('hello');
      await refusedWithoutData(text, 'unsigned_body');
    });

    it('refuses every card request without HUBSPOT_CLIENT_SECRET, signed or not (no unsigned bypass)', async () => {
      const noSecret = makeApp({ hubspot: hubspotConfig(null) });
      const res = await call(noSecret, { method: 'GET', path: path() });
      await refusedWithoutData(res, 'no_client_secret');
      expect(res.body.message).toMatch(/HUBSPOT_CLIENT_SECRET/);
      const bare = await request(createApp({
        db: store.db, logger, today: () => TODAY, config: { env: 'development', defaultPortalId: PORTAL_A },
      })).get('/api/v1/cards/company?objectId=9001').set('x-arbridge-portal-id', String(PORTAL_A));
      await refusedWithoutData(bare, 'no_client_secret');
    });

    it('in production: refuses the development header on card routes and elsewhere; signed requests pass', async () => {
      const production = makeApp({ env: 'production' });
      const withHeader = await call(production, { method: 'GET', path: path(), headers: { 'x-arbridge-portal-id': String(PORTAL_A) } });
      await refusedWithoutData(withHeader, 'dev_header_in_production');
      const signed = await call(production, { method: 'GET', path: path() });
      expect(signed.status).toBe(200);
      expect(CompanyCardSchema.parse(signed.body).match.status).toBe('matched');
      const report = await request(production).get('/api/v1/portfolio').set('x-arbridge-portal-id', String(PORTAL_A));
      expect(report.status).toBe(401);
      expect(JSON.stringify(report.body)).not.toMatch(CUSTOMER_DATA);
    });

    it('refuses unknown card routes before answering anything', async () => {
      const bare = await request(app).get('/api/v1/cards/nothing?portalId=101');
      await refusedWithoutData(bare, 'missing_signature');
      const signed = await call(app, { method: 'GET', path: `/api/v1/cards/nothing?portalId=${PORTAL_A}` });
      expect(signed.status).toBe(404);
    });
  });

  describe('link and unlink', () => {
    it('links idempotently: the same key twice is one link and the same answer', async () => {
      const c3 = String(customerIds.get('C3'));
      const body = { objectId: '9100', customerId: c3, idempotencyKey: 'link-9100-c3-0001' };
      const first = await post('/api/v1/cards/company/link', body, PORTAL_A);
      expect(first.status).toBe(200);
      expect(LinkResultSchema.parse(first.body)).toEqual({
        company_id: '9100', match: { status: 'matched', customer_id: c3, customer_name: 'Initech', source: 'csv', method: 'manual', detail: null },
      });
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      const stored = (await linksOf(PORTAL_A)).filter((l) => l.customer_id === Number(c3));
      expect(stored).toEqual([{ customer_id: Number(c3), company_id: '9100', method: 'manual', linked_by: EMAIL }]);
      // Moved elsewhere meanwhile: a replay answers the first answer and does not act again.
      await setCompanyLink(store.db, PORTAL_A, { customerId: c3, companyId: '9101', method: 'manual', linkedBy: 'someone@example.com' });
      const again = await post('/api/v1/cards/company/link', { idempotencyKey: body.idempotencyKey, customerId: c3, objectId: '9100' }, PORTAL_A);
      expect(again.status).toBe(200);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body).toEqual(first.body);
      expect((await linksOf(PORTAL_A)).filter((l) => l.customer_id === Number(c3)).map((l) => l.company_id)).toEqual(['9101']);
      const keys = await store.db.selectFrom('idempotency_keys').select(['portal_id', 'key', 'method', 'path', 'status_code'])
        .where('key', '=', body.idempotencyKey).execute();
      expect(keys).toEqual([{ portal_id: PORTAL_A, key: body.idempotencyKey, method: 'POST', path: '/api/v1/cards/company/link', status_code: 200 }]);
    });

    it('refuses a key reused with another body or on another action, naming idempotencyKey', async () => {
      const body = { objectId: '9200', customerId: String(customerIds.get('C4')), idempotencyKey: 'link-9200-0001' };
      expect((await post('/api/v1/cards/company/link', body, PORTAL_A)).status).toBe(200);
      const other = await post('/api/v1/cards/company/link', { ...body, objectId: '9201' }, PORTAL_A);
      expect(other.status).toBe(400);
      expect(other.body.error).toBe('invalid_request');
      expect(other.body.message).toMatch(/idempotencyKey/);
      expect(other.body.fields).toHaveProperty('idempotencyKey');
      const unlink = await post('/api/v1/cards/company/unlink', { objectId: '9200', idempotencyKey: body.idempotencyKey }, PORTAL_A);
      expect(unlink.status).toBe(400);
      expect(unlink.body.message).toMatch(/idempotencyKey/);
      expect((await linksOf(PORTAL_A)).find((l) => l.customer_id === customerIds.get('C4'))?.company_id).toBe('9200');
    });

    it('keeps keys per portal: the same key in another portal is another action', async () => {
      const key = 'shared-key-0001';
      const a = await post('/api/v1/cards/company/unlink', { objectId: '9999', idempotencyKey: key }, PORTAL_A);
      const b = await post('/api/v1/cards/company/link', { objectId: '8300', customerId: String(bravoId), idempotencyKey: key }, PORTAL_B);
      expect(a.status).toBe(200);
      expect(b.status).toBe(200);
      expect(b.headers['idempotent-replayed']).toBeUndefined();
      expect(b.body.match).toMatchObject({ status: 'matched', customer_id: String(bravoId) });
    });

    it('links then unlinks, and the company card and the picker follow', async () => {
      const c2 = String(customerIds.get('C2'));
      expect(CompanyCardSchema.parse((await get('/api/v1/cards/company', { objectId: '9002' }, PORTAL_A)).body).match)
        .toMatchObject({ status: 'matched', customer_id: c2, method: 'name' });
      const unlinked = await post('/api/v1/cards/company/unlink', { objectId: '9002', idempotencyKey: 'unlink-9002-0001' }, PORTAL_A);
      expect(unlinked.status).toBe(200);
      expect(LinkResultSchema.parse(unlinked.body)).toEqual({ company_id: '9002', match: { status: 'unmatched' } });
      const card = CompanyCardSchema.parse((await get('/api/v1/cards/company', { objectId: '9002' }, PORTAL_A)).body);
      expect(card.match).toEqual({ status: 'unmatched' });
      expect(card.summary).toBeNull();
      expect((await linksOf(PORTAL_A)).find((l) => l.customer_id === Number(c2)))
        .toEqual({ customer_id: Number(c2), company_id: null, method: 'manual_unlink', linked_by: EMAIL });
      const choices = CustomerChoicesSchema.parse((await get('/api/v1/cards/customers', { query: 'glob' }, PORTAL_A)).body);
      expect(choices.customers.map((c) => c.external_id)).toEqual(['C2']);
      const relinked = await post('/api/v1/cards/company/link', { objectId: '9002', customerId: c2, idempotencyKey: 'link-9002-0002' }, PORTAL_A);
      expect(relinked.body.match).toMatchObject({ status: 'matched', customer_id: c2, method: 'manual' });
      const after = CompanyCardSchema.parse((await get('/api/v1/cards/company', { objectId: '9002' }, PORTAL_A)).body);
      expect(after.match).toMatchObject({ status: 'matched', customer_id: c2, method: 'manual' });
      expect(after.summary?.customer.id).toBe('C2');
    });

    it('a manual link wins the card over an automatic link of another customer to the same company', async () => {
      const c1 = String(customerIds.get('C1'));
      const c4 = String(customerIds.get('C4'));
      expect(Number(c4)).toBeGreaterThan(Number(c1));
      const res = await post('/api/v1/cards/company/link', { objectId: '9001', customerId: c4, idempotencyKey: 'link-9001-c4-0001' }, PORTAL_A);
      expect(res.body.match).toMatchObject({ status: 'matched', customer_id: c4, method: 'manual' });
      // Put back what the other tests expect.
      await setCompanyLink(store.db, PORTAL_A, { customerId: c4, companyId: null, method: 'manual_unlink' });
      expect(CompanyCardSchema.parse((await get('/api/v1/cards/company', { objectId: '9001' }, PORTAL_A)).body).match)
        .toMatchObject({ customer_id: c1 });
    });

    it('answers 404 for a customer of another portal and changes nothing (the key stays unused)', async () => {
      const before = { a: await linksOf(PORTAL_A), b: await linksOf(PORTAL_B) };
      const body = { objectId: '9001', customerId: String(bravoId), idempotencyKey: 'cross-portal-0001' };
      const res = await post('/api/v1/cards/company/link', body, PORTAL_A);
      expect(res.status).toBe(404);
      expect(res.body.error).toBe('not_found');
      expect(JSON.stringify(res.body)).not.toMatch(CUSTOMER_DATA);
      expect({ a: await linksOf(PORTAL_A), b: await linksOf(PORTAL_B) }).toEqual(before);
      const keys = await store.db.selectFrom('idempotency_keys').select('key').where('key', '=', body.idempotencyKey).execute();
      expect(keys).toEqual([]);
      const missing = await post('/api/v1/cards/company/link', { ...body, customerId: '99999999999999999999', idempotencyKey: 'cross-portal-0002' }, PORTAL_A);
      expect(missing.status).toBe(404);
    });

    it('validates the body, naming the field', async () => {
      const res = await post('/api/v1/cards/company/link', { objectId: '9001', customerId: '1', idempotencyKey: 'short' }, PORTAL_A);
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/idempotencyKey/);
      const extra = await post('/api/v1/cards/company/unlink', { objectId: '9001', idempotencyKey: 'extra-field-01', portalId: PORTAL_B }, PORTAL_A);
      expect(extra.status).toBe(400);
    });

    (backend.name === 'postgres' ? it : it.skip)('answers 409 with Retry-After while a request with the same key is in flight', async () => {
      const key = 'in-flight-key-0001';
      const body = { objectId: '9300', customerId: String(customerIds.get('C3')), idempotencyKey: key };
      // Another connection holds the key's lock, as a request still working under that key does.
      await store.db.transaction().execute(async (trx) => {
        await sql`SELECT pg_advisory_xact_lock(${idempotencyLockKey(PORTAL_A, key)}::bigint)`.execute(trx);
        const res = await post('/api/v1/cards/company/link', body, PORTAL_A);
        expect(res.status).toBe(409);
        expect(res.headers['retry-after']).toBe('1');
        expect(res.body.message).toMatch(/idempotencyKey/);
      });
      const done = await post('/api/v1/cards/company/link', body, PORTAL_A);
      expect(done.status).toBe(200);
      expect(done.body.match).toMatchObject({ customer_id: String(customerIds.get('C3')), method: 'manual' });
    });
  });
});

describeEachStore('company card of a customer whose external id another source shares', (backend) => {
  let store: Store;
  let app: ReturnType<typeof createApp>;
  let csvRowId: number;
  let hubspotRowId: number;
  const logger = createLogger('silent');
  const get = (path: string, params: Record<string, string | number>) =>
    signedRequest(app, { secret: SECRET, publicUrl: PUBLIC_URL, method: 'GET', path: `${path}?${cardQuery(params, { portalId: PORTAL_B, userEmail: EMAIL })}` });

  beforeAll(async () => {
    store = await openTestStore(backend);
    const db = store.db;
    await ensurePortal(db, PORTAL_B);
    // The HubSpot-sourced customer is stored first, so it has the lower store id.
    await upsertCustomers(db, PORTAL_B, 'hubspot', [{ id: '1001', name: 'Other Co (HubSpot)', domain: 'other.example', industry: null, country: null }]);
    await upsertCustomers(db, PORTAL_B, 'csv', [{ id: '1001', name: 'Ledger Co', domain: 'ledger.example', industry: null, country: null }]);
    await upsertInvoices(db, PORTAL_B, 'hubspot', [
      invoice({ id: 'HS-1', customerId: '1001', currency: 'USD', totalMinor: 500_000, issueDate: '2024-05-01', dueDate: '2024-05-31' }),
      invoice({ id: 'HS-2', customerId: '1001', currency: 'EUR', totalMinor: 30_000, issueDate: '2024-05-01', dueDate: '2024-05-31' }),
    ]);
    await upsertPayments(db, PORTAL_B, 'hubspot', [
      { id: 'HSP-1', kind: 'payment', date: '2024-06-01', currency: 'USD', amountMinor: 100_000, allocations: [{ invoiceId: 'HS-1', amountMinor: 100_000 }] },
    ]);
    await upsertInvoices(db, PORTAL_B, 'csv', [
      invoice({ id: 'CSV-1', customerId: '1001', currency: 'USD', totalMinor: 100_000, issueDate: '2024-05-01', dueDate: '2024-05-31' }),
    ]);
    await upsertPayments(db, PORTAL_B, 'csv', [
      { id: 'CP-1', kind: 'payment', date: '2024-06-10', currency: 'USD', amountMinor: 40_000, allocations: [{ invoiceId: 'CSV-1', amountMinor: 40_000 }] },
    ]);
    hubspotRowId = (await idsByExternalId(db, 'customers', PORTAL_B, 'hubspot', ['1001'])).get('1001') as number;
    csvRowId = (await idsByExternalId(db, 'customers', PORTAL_B, 'csv', ['1001'])).get('1001') as number;
    expect(hubspotRowId).toBeLessThan(csvRowId);
    // The csv customer is linked by hand to company X (9500); the HubSpot one is its own company 1001.
    await setCompanyLink(db, PORTAL_B, { customerId: String(csvRowId), companyId: '9500', method: 'manual', linkedBy: EMAIL });
    await setCompanyLink(db, PORTAL_B, { customerId: String(hubspotRowId), companyId: '1001', method: 'hubspot' });
    await db.insertInto('hubspot_deals').values({ portal_id: PORTAL_B, deal_id: '7500', name: 'Ledger deal', company_id: '9500' }).execute();
    app = createApp({
      db, logger, today: () => TODAY,
      config: { env: 'development', defaultPortalId: PORTAL_A, publicUrl: PUBLIC_URL, hubspot: hubspotConfig(SECRET) },
    });
  });
  afterAll(async () => store.close());

  it("shows only the linked customer's invoices, payments and outstanding on company X's card", async () => {
    const res = await get('/api/v1/cards/company', { objectId: '9500' });
    expect(res.status).toBe(200);
    const card = CompanyCardSchema.parse(res.body);
    expect(card.match).toMatchObject({ status: 'matched', customer_id: String(csvRowId), customer_name: 'Ledger Co', source: 'csv', method: 'manual' });
    expect(card.summary?.customer).toMatchObject({ id: '1001', name: 'Ledger Co', domain: 'ledger.example' });
    expect(card.summary?.invoices.map((i) => [i.id, i.amount, i.paid, i.open])).toEqual([['CSV-1', '1000.00', '400.00', '600.00']]);
    expect(card.summary?.payments.map((p) => p.id)).toEqual(['CP-1']);
    expect(card.summary?.currencies.map((c) => [c.currency, c.metrics.outstanding, c.metrics.overdue])).toEqual([['USD', '600.00', '600.00']]);
  });

  it("shows the HubSpot-sourced customer's own facts on its own company's card", async () => {
    const card = CompanyCardSchema.parse((await get('/api/v1/cards/company', { objectId: '1001' })).body);
    expect(card.match).toMatchObject({ status: 'matched', customer_id: String(hubspotRowId), source: 'hubspot' });
    expect(card.summary?.invoices.map((i) => i.id)).toEqual(['HS-1', 'HS-2']);
    expect(card.summary?.currencies.map((c) => [c.currency, c.metrics.outstanding])).toEqual([['EUR', '300.00'], ['USD', '4000.00']]);
  });

  it("gives a deal of company X the risk of the linked customer's currencies only", async () => {
    const card = DealCardSchema.parse((await get('/api/v1/cards/deal', { objectId: '7500' })).body);
    expect(card.company?.match).toMatchObject({ status: 'matched', customer_id: String(csvRowId) });
    expect(card.company?.risk.map((r) => r.currency)).toEqual(['USD']);
  });

  it('answers the external-id summary route with the customer stored first, not the sources merged', async () => {
    const res = await request(app).get('/api/v1/companies/1001/summary').set('x-arbridge-portal-id', String(PORTAL_B));
    expect(res.status).toBe(200);
    expect(res.body.customer).toMatchObject({ id: '1001', name: 'Other Co (HubSpot)' });
    expect(res.body.invoices.map((i: { id: string }) => i.id)).toEqual(['HS-1', 'HS-2']);
    const missing = await request(app).get('/api/v1/companies/2002/summary').set('x-arbridge-portal-id', String(PORTAL_B));
    expect(missing.status).toBe(404);
    expect(missing.body.message).toMatch(/2002/);
  });
});
