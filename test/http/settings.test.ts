import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { CompanyCardSchema } from '../../extensions/card-api';
import { PolicyResultSchema, SettingsSchema, type PolicyDocument } from '../../extensions/settings-api';
import { loadConfig, type Config } from '../../src/config';
import { DEFAULT_POLICY, parsePolicy } from '../../src/domain/policy';
import { createApp } from '../../src/http/app';
import { setCompanyLink } from '../../src/hubspot/links';
import { createLogger } from '../../src/logger';
import { sealSecret } from '../../src/secrets/crypto';
import { policyDocument } from '../../src/services/settings';
import { ensurePortal, idsByExternalId, upsertCustomers, upsertInvoices, type InvoiceRecord } from '../../src/store/facts';
import { loadPolicy, savePolicy } from '../../src/store/policies';
import type { Store } from '../../src/store/store';
import { cardQuery, sdkSignV3 } from '../helpers/sign';
import { describeEachStore, openTestStore } from '../helpers/stores';

const SECRET = 'settings-test-client-secret';
const PUBLIC_URL = 'https://arbridge.example.com';
const PORTAL_A = 101; // OAuth install row
const PORTAL_B = 202; // the private app's portal
const PORTAL_C = 303; // has data, but the app is not installed there
const TODAY = '2024-06-30';

type AppConfig = Pick<Config, 'env' | 'defaultPortalId'> & Partial<Pick<Config, 'publicUrl' | 'hubspot'>>;

const hubspotConfig = (): Config['hubspot'] => loadConfig({
  HUBSPOT_ACCESS_TOKEN: 'pat-test', HUBSPOT_PORTAL_ID: String(PORTAL_B), HUBSPOT_CLIENT_ID: 'client-id', HUBSPOT_CLIENT_SECRET: SECRET,
}).hubspot;

const invoice = (fields: Pick<InvoiceRecord, 'id' | 'customerId' | 'totalMinor' | 'issueDate' | 'dueDate'>): InvoiceRecord => ({
  number: null, voidedDate: null, disputed: false, salesRep: null, product: null, dealId: null, terms: null, currency: 'USD', ...fields,
});

const seed = async (store: Store): Promise<void> => {
  const db = store.db;
  for (const portal of [PORTAL_A, PORTAL_B, PORTAL_C]) await ensurePortal(db, portal);
  await upsertCustomers(db, PORTAL_A, 'csv', [
    { id: 'C1', name: 'Acme Corp', domain: 'acme.com', industry: null, country: null },
    { id: 'C2', name: 'Globex', domain: 'globex.com', industry: null, country: null },
    { id: 'C3', name: 'Initech', domain: 'initech.io', industry: null, country: null },
  ]);
  await upsertCustomers(db, PORTAL_A, 'xero', [{ id: 'XC-1', name: 'Hooli', domain: null, industry: null, country: null }]);
  await upsertCustomers(db, PORTAL_B, 'csv', [{ id: 'B1', name: 'Bravo Ltd', domain: 'bravo.com', industry: null, country: null }]);
  await upsertCustomers(db, PORTAL_C, 'csv', [{ id: 'X1', name: 'Xeno Secret', domain: null, industry: null, country: null }]);
  // Acme's open invoices: 10, 40 and 75 days past due on TODAY.
  await upsertInvoices(db, PORTAL_A, 'csv', [
    invoice({ id: 'INV-1', customerId: 'C1', totalMinor: 10_000, issueDate: '2024-05-01', dueDate: '2024-06-20' }),
    invoice({ id: 'INV-2', customerId: 'C1', totalMinor: 20_000, issueDate: '2024-04-01', dueDate: '2024-05-21' }),
    invoice({ id: 'INV-3', customerId: 'C1', totalMinor: 30_000, issueDate: '2024-03-01', dueDate: '2024-04-16' }),
  ]);
  await upsertInvoices(db, PORTAL_A, 'xero', [invoice({ id: 'XI-1', customerId: 'XC-1', totalMinor: 5_000, issueDate: '2024-06-01', dueDate: '2024-07-01' })]);
  await upsertInvoices(db, PORTAL_B, 'csv', [invoice({ id: 'BINV-1', customerId: 'B1', totalMinor: 9_900, issueDate: '2024-06-01', dueDate: '2024-06-15' })]);
  const a = await idsByExternalId(db, 'customers', PORTAL_A, 'csv', ['C1', 'C2']);
  await setCompanyLink(db, PORTAL_A, { customerId: String(a.get('C1')), companyId: '9001', method: 'domain', detail: 'acme.com' });
  await setCompanyLink(db, PORTAL_A, { customerId: String(a.get('C2')), companyId: null, method: 'manual_unlink', linkedBy: 'x@example.com' });
  // Two HubSpot companies share Initech's domain: C3 is unmatched because it is ambiguous.
  await db.insertInto('hubspot_companies').values([
    { portal_id: PORTAL_A, company_id: '9001', name: 'Acme', domain: 'acme.com' },
    { portal_id: PORTAL_A, company_id: '9003', name: 'Initech East', domain: 'initech.io' },
    { portal_id: PORTAL_A, company_id: '9004', name: 'Initech West', domain: 'initech.io' },
  ]).execute();
  await db.insertInto('accounting_connections').values([
    {
      portal_id: PORTAL_A, source: 'xero', status: 'connected', tenant_name: 'Acme Xero Org',
      connected_at: '2024-06-01T09:00:00.000Z', last_sync_at: '2024-06-29T22:00:00.000Z',
    },
    {
      portal_id: PORTAL_A, source: 'stripe', status: 'error', tenant_name: 'acct_123',
      connected_at: '2024-05-01T09:00:00.000Z', last_error: 'the API key was revoked', last_error_at: '2024-06-28T10:00:00.000Z',
    },
    { portal_id: PORTAL_B, source: 'quickbooks', status: 'connected', tenant_name: 'Bravo Books', connected_at: '2024-06-02T09:00:00.000Z' },
  ]).execute();
  await savePolicy(db, PORTAL_B, parsePolicy({ dsoMonths: 9 }));
  const key = crypto.randomBytes(32);
  await db.insertInto('hubspot_installs').values({
    portal_id: PORTAL_A, hub_domain: 'a.hubspot.test', scopes: 'oauth crm.objects.companies.read',
    access_token_enc: sealSecret(key, 'access-token-a', `hubspot:${PORTAL_A}:access`),
    refresh_token_enc: sealSecret(key, 'refresh-token-a', `hubspot:${PORTAL_A}:refresh`),
    expires_at: new Date(Date.now() + 3_600_000), installed_at: '2024-05-15T08:00:00.000Z',
  }).execute();
};

type Call = {
  method: 'GET' | 'PUT' | 'POST'; path: string; query?: Record<string, string>; portalId: number; body?: unknown; secret?: string; headers?: Record<string, string>;
};

/** Sends a request as HubSpot's proxy would: its query parameters added, signed (v3) with the SDK's own signer. */
const signed = (app: ReturnType<typeof createApp>, call: Call): request.Test => {
  const path = `${call.path}?${cardQuery(call.query ?? {}, { portalId: call.portalId, userEmail: 'admin@example.com' })}`;
  const body = call.body === undefined ? '' : JSON.stringify(call.body);
  const timestamp = Date.now();
  const signature = sdkSignV3({ method: call.method, url: PUBLIC_URL + path, body, timestamp, secret: call.secret ?? SECRET });
  const agent = request(app);
  let req = call.method === 'GET' ? agent.get(path) : call.method === 'PUT' ? agent.put(path) : agent.post(path);
  req = req.set('X-HubSpot-Signature-v3', signature).set('X-HubSpot-Request-Timestamp', String(timestamp));
  for (const [name, value] of Object.entries(call.headers ?? {})) req = req.set(name, value);
  if (body !== '') req = req.set('Content-Type', 'application/json').send(body);
  return req;
};

/** Every name seeded for portals B and C: none may appear in portal A's answers. */
const OTHER_PORTALS = /Bravo|Xeno|B1|X1|BINV/;

describeEachStore('signed settings API', (backend) => {
  let store: Store;
  let app: ReturnType<typeof createApp>;
  const logger = createLogger('silent');
  const makeApp = (config: Partial<AppConfig> = {}) => createApp({
    db: store.db, logger, today: () => TODAY,
    config: { env: 'development', defaultPortalId: PORTAL_A, publicUrl: PUBLIC_URL, hubspot: hubspotConfig(), ...config },
  });
  const getSettings = async (portalId: number) => {
    const res = await signed(app, { method: 'GET', path: '/api/v1/settings', portalId });
    expect(res.status).toBe(200);
    return SettingsSchema.parse(res.body);
  };
  const putPolicy = (policy: unknown, idempotencyKey: string, portalId = PORTAL_A) =>
    signed(app, { method: 'PUT', path: '/api/v1/settings/policy', portalId, body: { policy, idempotencyKey } });
  /** The aging buckets (label:count) of the company card of Acme, whose invoices are 10, 40 and 75 days past due. */
  const agingBuckets = async (): Promise<string[]> => {
    const card = await signed(app, { method: 'GET', path: '/api/v1/cards/company', query: { objectId: '9001' }, portalId: PORTAL_A });
    expect(card.status).toBe(200);
    return CompanyCardSchema.parse(card.body).summary?.currencies[0]?.metrics.aging.map((b) => `${b.bucket}:${b.count}`) ?? [];
  };

  beforeAll(async () => {
    store = await openTestStore(backend);
    await seed(store);
    app = makeApp();
  });
  afterAll(async () => store.close());

  describe('who may ask', () => {
    it('refuses unsigned, wrongly signed and uninstalled-portal requests without any data', async () => {
      const refusals = [
        await request(app).get(`/api/v1/settings?portalId=${PORTAL_A}`),
        await request(app).get('/api/v1/settings').set('x-arbridge-portal-id', String(PORTAL_A)),
        await request(app).put(`/api/v1/settings/policy?portalId=${PORTAL_A}`).send({ policy: {}, idempotencyKey: 'unsigned-0001' }),
        await request(app).post(`/api/v1/settings/policy/reset?portalId=${PORTAL_A}`).send({ idempotencyKey: 'unsigned-0002' }),
        await signed(app, { method: 'GET', path: '/api/v1/settings', portalId: PORTAL_A, secret: 'not-the-secret' }),
        await signed(app, { method: 'GET', path: '/api/v1/settings', portalId: PORTAL_C }),
      ];
      for (const res of refusals) {
        expect(res.status).toBe(401);
        expect(res.body.error).toBe('unauthenticated');
        expect(res.headers['cache-control']).toBe('no-store');
        expect(JSON.stringify(res.body)).not.toMatch(/Acme|Initech|Hooli|Xeno|dsoMonths/);
      }
      expect(refusals.map((r) => r.body.reason)).toEqual([
        'missing_signature', 'missing_signature', 'missing_signature', 'missing_signature', 'signature_mismatch', 'portal_not_installed',
      ]);
      expect(await loadPolicy(store.db, PORTAL_A)).toEqual(DEFAULT_POLICY);
    });

    it('in production: signed requests pass, the development header is refused', async () => {
      const production = makeApp({ env: 'production' });
      const ok = await signed(production, { method: 'GET', path: '/api/v1/settings', portalId: PORTAL_A });
      expect(ok.status).toBe(200);
      expect(SettingsSchema.parse(ok.body).portal_id).toBe(PORTAL_A);
      const withHeader = await signed(production, {
        method: 'GET', path: '/api/v1/settings', portalId: PORTAL_A, headers: { 'x-arbridge-portal-id': String(PORTAL_A) },
      });
      expect(withHeader.status).toBe(401);
      expect(withHeader.body.reason).toBe('dev_header_in_production');
    });
  });

  describe('GET /api/v1/settings', () => {
    it('shows the portal\'s connections per source, the install, unmatched customers and the complete policy', async () => {
      const settings = await getSettings(PORTAL_A);
      expect(settings.portal_id).toBe(PORTAL_A);
      expect(settings.hubspot).toEqual({
        installed: true, kind: 'oauth', hub_domain: 'a.hubspot.test', installed_at: '2024-05-15T08:00:00.000Z',
        scopes: ['oauth', 'crm.objects.companies.read'], companies: 3, deals: 0, last_sync_at: expect.any(String),
      });
      expect(settings.connections.map((c) => [c.source, c.status, c.tenant_name, c.customers, c.invoices, c.last_error])).toEqual([
        ['quickbooks', 'not_connected', null, 0, 0, null],
        ['xero', 'connected', 'Acme Xero Org', 1, 1, null],
        ['stripe', 'error', 'acct_123', 0, 0, 'the API key was revoked'],
        ['csv', 'connected', null, 3, 3, null],
        ['hubspot', 'not_connected', 'a.hubspot.test', 0, 0, null],
      ]);
      const xero = settings.connections[1];
      expect(xero?.connected_at).toBe('2024-06-01T09:00:00.000Z');
      expect(xero?.last_sync_at).toBe('2024-06-29T22:00:00.000Z');
      const csv = settings.connections[3];
      expect(Date.parse(csv?.last_sync_at ?? '')).toBeGreaterThan(Date.now() - 600_000);
      expect(settings.connections[0]?.last_sync_at).toBeNull();

      expect(settings.unmatched.total).toBe(2);
      expect(settings.unmatched.customers).toEqual([
        { customer_id: 'C3', source: 'csv', name: 'Initech', domain: 'initech.io', reason: 'ambiguous', candidates: 2 },
        { customer_id: 'XC-1', source: 'xero', name: 'Hooli', domain: null, reason: 'none', candidates: 0 },
      ]);
      expect(settings.policy).toEqual(policyDocument(DEFAULT_POLICY));
      expect(settings.defaults).toEqual(settings.policy);
      expect(settings.defaults.bigDeal.thresholds).toEqual([{ currency: 'USD', amount: '50000.00' }]);
      expect(JSON.stringify(settings)).not.toMatch(OTHER_PORTALS);
    });

    it('never shows another portal\'s data: the private app\'s portal sees only its own', async () => {
      const settings = await getSettings(PORTAL_B);
      expect(settings.portal_id).toBe(PORTAL_B);
      expect(settings.hubspot).toMatchObject({ installed: true, kind: 'private_app', hub_domain: null, scopes: [], companies: 0 });
      expect(settings.connections.map((c) => [c.source, c.status, c.tenant_name, c.customers])).toEqual([
        ['quickbooks', 'connected', 'Bravo Books', 0],
        ['xero', 'not_connected', null, 0],
        ['stripe', 'not_connected', null, 0],
        ['csv', 'connected', null, 1],
        ['hubspot', 'not_connected', null, 0],
      ]);
      expect(settings.unmatched).toEqual({
        total: 1, customers: [{ customer_id: 'B1', source: 'csv', name: 'Bravo Ltd', domain: 'bravo.com', reason: 'none', candidates: 0 }],
      });
      expect(settings.policy.dsoMonths).toBe(9);
      expect(JSON.stringify(settings)).not.toMatch(/Acme|Initech|Hooli|a\.hubspot\.test|revoked/);
    });

    it('lists the first 50 unmatched customers and counts them all', async () => {
      await upsertCustomers(store.db, PORTAL_C, 'csv', Array.from({ length: 60 }, (_, i) => ({
        id: `M${String(i).padStart(2, '0')}`, name: `Many ${i}`, domain: null, industry: null, country: null,
      })));
      await store.db.insertInto('hubspot_installs').values({
        portal_id: PORTAL_C, hub_domain: 'c.hubspot.test', scopes: 'oauth', access_token_enc: 'x', refresh_token_enc: 'x', expires_at: new Date(),
      }).execute();
      try {
        const settings = await getSettings(PORTAL_C);
        expect(settings.unmatched.total).toBe(61);
        expect(settings.unmatched.customers).toHaveLength(50);
        expect(settings.unmatched.customers[0]?.customer_id).toBe('X1');
        // Other sources found in the store follow the named ones.
        expect(settings.connections.map((c) => c.source)).toEqual(['quickbooks', 'xero', 'stripe', 'csv', 'hubspot']);
      } finally {
        await store.db.deleteFrom('hubspot_installs').where('portal_id', '=', PORTAL_C).execute();
      }
    });

    it('lists a source found only in the data after the named ones', async () => {
      await upsertCustomers(store.db, PORTAL_B, 'demo', [{ id: 'D1', name: 'Demo Co', domain: null, industry: null, country: null }]);
      const settings = await getSettings(PORTAL_B);
      expect(settings.connections.map((c) => [c.source, c.status, c.customers])).toEqual([
        ['quickbooks', 'connected', 0], ['xero', 'not_connected', 0], ['stripe', 'not_connected', 0],
        ['csv', 'connected', 1], ['hubspot', 'not_connected', 0], ['demo', 'connected', 1],
      ]);
    });
  });

  describe('PUT /api/v1/settings/policy', () => {
    it('refuses an invalid policy with 400 naming every wrong field by its path, and saves nothing', async () => {
      const before = await agingBuckets();
      const res = await putPolicy({
        aging: { boundaries: [60, 30] },
        escalation: { levels: [{ days: 30, action: 'reminder' }, { days: 20, action: 'ask_rep' }] },
        bigDeal: { thresholds: [{ currency: 'USD', amount: '12.345' }, { currency: 'JPY', amount: '-5' }] },
        commission: { ratePercent: 120 },
        risk: { tiers: { A: 50, B: 60 } },
      }, 'invalid-policy-0001');
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
      expect(Object.keys(res.body.fields).sort()).toEqual([
        'aging.boundaries', 'bigDeal.thresholds.0.amount', 'bigDeal.thresholds.1.amount', 'commission.ratePercent',
        'escalation.levels.1.days', 'risk.tiers',
      ]);
      expect(res.body.fields['escalation.levels.1.days']).toEqual(['must be more days than the level before']);
      expect(res.body.fields['bigDeal.thresholds.0.amount']).toEqual(['must be a decimal amount with at most 2 decimals, such as 50000.00']);
      expect(res.body.fields['bigDeal.thresholds.1.amount']).toEqual(['must not be negative']);
      expect(res.body.message).toMatch(/^The policy is invalid: .*aging\.boundaries: aging boundaries must be strictly ascending/);
      expect(res.body.message).toContain('escalation.levels.1.days: must be more days than the level before');
      expect(await loadPolicy(store.db, PORTAL_A)).toEqual(DEFAULT_POLICY);
      expect(await agingBuckets()).toEqual(before);
      // A refused request keeps no idempotency key: the same key may carry the corrected request.
      const keys = await store.db.selectFrom('idempotency_keys').select('key').where('key', '=', 'invalid-policy-0001').execute();
      expect(keys).toEqual([]);
    });

    it('names unknown keys and a missing or malformed body', async () => {
      const unknown = await putPolicy({ risk: { tiers: { E: 10 } }, bigDeal: { thresholds: [{ currency: 'USD', amountMinor: 5 }] } }, 'unknown-key-0001');
      expect(unknown.status).toBe(400);
      expect(unknown.body.fields).toEqual({
        'bigDeal.thresholds.0.amountMinor': ['is not a policy field; send amount as a decimal string'],
        'risk.tiers.E': ['is not a policy field'],
      });
      const noPolicy = await signed(app, { method: 'PUT', path: '/api/v1/settings/policy', portalId: PORTAL_A, body: { idempotencyKey: 'no-policy-0001' } });
      expect(noPolicy.status).toBe(400);
      expect(Object.keys(noPolicy.body.fields)).toEqual(['policy']);
      const noKey = await signed(app, { method: 'PUT', path: '/api/v1/settings/policy', portalId: PORTAL_A, body: { policy: {} } });
      expect(noKey.status).toBe(400);
      expect(Object.keys(noKey.body.fields)).toEqual(['idempotencyKey']);
    });

    it('saves a valid policy: answered complete, shown by GET, used by the company card at once, other portals untouched', async () => {
      expect(await agingBuckets()).toEqual(['current:0', '1-30:1', '31-60:1', '61-90:1', '91+:0']);
      const policy = {
        ...policyDocument(DEFAULT_POLICY),
        aging: { boundaries: [15, 45], basis: 'due' },
        risk: { ...policyDocument(DEFAULT_POLICY).risk, tiers: { A: 85, B: 65, C: 45 } },
        bigDeal: { thresholds: [{ currency: 'EUR', amount: '25000' }, { currency: 'JPY', amount: '3000000' }] },
        escalation: { levels: [{ days: 10, action: 'reminder' }, { days: 45, action: 'credit_hold' }], helpRequestSlaDays: 3 },
        commission: { basis: 'collected', ratePercent: 8, lateRules: [{ afterDays: 30, reducePercent: 50 }], clawbackAfterDays: null },
      };
      const res = await putPolicy(policy, 'save-policy-0001');
      expect(res.status).toBe(200);
      const saved = PolicyResultSchema.parse(res.body).policy;
      expect(saved.bigDeal.thresholds).toEqual([{ currency: 'EUR', amount: '25000.00' }, { currency: 'JPY', amount: '3000000' }]);
      expect(saved).toEqual({ ...policy, bigDeal: { thresholds: [{ currency: 'EUR', amount: '25000.00' }, { currency: 'JPY', amount: '3000000' }] } });
      const stored = await loadPolicy(store.db, PORTAL_A);
      expect(stored.bigDeal.thresholds).toEqual([{ currency: 'EUR', amountMinor: 2_500_000 }, { currency: 'JPY', amountMinor: 3_000_000 }]);
      expect((await getSettings(PORTAL_A)).policy).toEqual(saved);
      // The card cache follows the policy: new buckets on the next card request.
      expect(await agingBuckets()).toEqual(['current:0', '1-15:1', '16-45:1', '46+:1']);
      expect((await getSettings(PORTAL_B)).policy.dsoMonths).toBe(9);

      const replay = await putPolicy(policy, 'save-policy-0001');
      expect(replay.status).toBe(200);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.body).toEqual(res.body);
      const reused = await putPolicy({ dsoMonths: 4 }, 'save-policy-0001');
      expect(reused.status).toBe(400);
      expect(Object.keys(reused.body.fields)).toEqual(['idempotencyKey']);
    });

    it('fills what a partial policy leaves out with the defaults', async () => {
      const res = await putPolicy({ dsoMonths: 6 }, 'partial-policy-0001');
      expect(res.status).toBe(200);
      expect(PolicyResultSchema.parse(res.body).policy).toEqual(policyDocument(parsePolicy({ dsoMonths: 6 })));
    });
  });

  describe('POST /api/v1/settings/policy/reset', () => {
    it('saves the defaults, and the card follows', async () => {
      await putPolicy({ aging: { boundaries: [20] } }, 'before-reset-0001');
      expect(await agingBuckets()).toEqual(['current:0', '1-20:1', '21+:2']);
      const res = await signed(app, { method: 'POST', path: '/api/v1/settings/policy/reset', portalId: PORTAL_A, body: { idempotencyKey: 'reset-0001' } });
      expect(res.status).toBe(200);
      expect(PolicyResultSchema.parse(res.body).policy).toEqual(policyDocument(DEFAULT_POLICY));
      expect(await loadPolicy(store.db, PORTAL_A)).toEqual(DEFAULT_POLICY);
      expect((await getSettings(PORTAL_A)).policy).toEqual((await getSettings(PORTAL_A)).defaults);
      expect(await agingBuckets()).toEqual(['current:0', '1-30:1', '31-60:1', '61-90:1', '91+:0']);
      expect((await getSettings(PORTAL_B)).policy.dsoMonths).toBe(9);
    });
  });
});

describe('policy documents', () => {
  it('round-trip every default', () => {
    const document: PolicyDocument = policyDocument(DEFAULT_POLICY);
    expect(document.bigDeal).toEqual({ thresholds: [{ currency: 'USD', amount: '50000.00' }] });
    expect({ ...document, bigDeal: DEFAULT_POLICY.bigDeal }).toEqual(DEFAULT_POLICY);
  });
});
