import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CompanyCardSchema, CreditLimitSchema, DealCardSchema } from '../../extensions/card-api';
import { loadConfig } from '../../src/config';
import type { SourceCustomer } from '../../src/connectors/types';
import { creditCheck, dealCreditCheck, effectiveCreditLimit } from '../../src/domain/credit';
import { DEFAULT_POLICY } from '../../src/domain/policy';
import { dealCreditValues } from '../../src/domain/rollups';
import { createApp } from '../../src/http/app';
import { createCaller } from '../../src/hubspot/caller';
import { hubspotClient } from '../../src/hubspot/client';
import { setCompanyLink, setDealLink } from '../../src/hubspot/links';
import { installProperties } from '../../src/hubspot/properties';
import { drainOutbox, planWriteBack } from '../../src/hubspot/writeback';
import { createLogger } from '../../src/logger';
import { dealCreditChecks } from '../../src/services/credit';
import { ensurePortal, idsByExternalId, touchPortal, upsertInvoices, upsertPayments } from '../../src/store/facts';
import type { Store } from '../../src/store/store';
import { applyPage } from '../../src/sync/apply';
import { startFakeHubSpot, type FakeHubSpot } from '../fakes/hubspot';
import { cardQuery, signedRequest } from '../helpers/sign';
import { describeEachStore, openTestStore } from '../helpers/stores';

const SECRET = 'credit-test-client-secret';
const PUBLIC_URL = 'https://arbridge.example.com';
const PORTAL = 4_300;
const TOKEN = 'credit-test-token';
const TODAY = '2026-03-31';
const MANAGER = 'ada.ar@example.com';

describe('credit limits (domain)', () => {
  it('prefers a limit set by hand over the source\'s, and knows none without either', () => {
    expect(effectiveCreditLimit({ manualMinor: 500, manualCurrency: 'EUR', sourceMinor: 900, sourceCurrency: 'USD' }))
      .toEqual({ limitMinor: 500, currency: 'EUR', origin: 'manual' });
    expect(effectiveCreditLimit({ manualMinor: null, manualCurrency: null, sourceMinor: 900, sourceCurrency: 'USD' }))
      .toEqual({ limitMinor: 900, currency: 'USD', origin: 'source' });
    expect(effectiveCreditLimit({ manualMinor: null, manualCurrency: null, sourceMinor: null, sourceCurrency: null })).toBeNull();
  });

  it('checks a deal in the limit\'s currency (or none said) and refuses one in another currency', () => {
    const limit = { limitMinor: 10_000, currency: 'USD', origin: 'manual' as const };
    expect(dealCreditCheck({ limit, outstandingMinor: 6_000, dealAmountMinor: 5_000, dealCurrency: 'USD', invoicedOnDealMinor: 1_000 }))
      .toEqual(creditCheck({ limitMinor: 10_000, outstandingMinor: 6_000, dealMinor: 5_000, invoicedOnDealMinor: 1_000 }));
    expect(dealCreditCheck({ limit, outstandingMinor: 6_000, dealAmountMinor: 5_000, dealCurrency: null, invoicedOnDealMinor: 0 })?.exceeds).toBe(true);
    expect(dealCreditCheck({ limit, outstandingMinor: 6_000, dealAmountMinor: 5_000, dealCurrency: 'EUR', invoicedOnDealMinor: 0 })).toBeNull();
    expect(dealCreditCheck({ limit, outstandingMinor: 6_000, dealAmountMinor: null, dealCurrency: 'EUR', invoicedOnDealMinor: 0 })?.exceeds).toBe(false);
  });

  it('turns a check into the deal properties', () => {
    const over = creditCheck({ limitMinor: 10_000, outstandingMinor: 9_000, dealMinor: 3_333, invoicedOnDealMinor: 0 });
    expect(dealCreditValues(over)).toEqual({ arbridge_credit_check: 'over_limit', arbridge_credit_utilisation: '123.3' });
    const within = creditCheck({ limitMinor: 10_000, outstandingMinor: 1_000, dealMinor: 0, invoicedOnDealMinor: 0 });
    expect(dealCreditValues(within)).toEqual({ arbridge_credit_check: 'ok', arbridge_credit_utilisation: '10' });
    expect(dealCreditValues(creditCheck({ limitMinor: 0, outstandingMinor: 0, dealMinor: 0, invoicedOnDealMinor: 0 })))
      .toEqual({ arbridge_credit_check: 'ok', arbridge_credit_utilisation: '' });
    expect(dealCreditValues('no_limit')).toEqual({ arbridge_credit_check: 'no_limit', arbridge_credit_utilisation: '' });
    expect(dealCreditValues(null)).toEqual({});
  });
});

const sourceCustomer = (id: string, creditLimitMinor: number | null): SourceCustomer => ({
  id, name: `Customer ${id}`, email: null, domain: null, country: null, currency: 'USD', archived: false,
  creditLimitMinor, creditLimitCurrency: creditLimitMinor === null ? null : 'USD', updatedAt: null,
});

describeEachStore('credit limits: sync, card and write-back', (backend) => {
  let store: Store;
  let app: ReturnType<typeof createApp>;
  let fake: FakeHubSpot;
  let customerId: number;
  let companyId: string;
  let dealId: string;
  let otherDealId: string;

  const config = loadConfig({ HUBSPOT_ACCESS_TOKEN: 'pat-test', HUBSPOT_PORTAL_ID: String(PORTAL), HUBSPOT_CLIENT_SECRET: SECRET, ARBRIDGE_PUBLIC_URL: PUBLIC_URL });
  const signed = (method: 'GET' | 'POST', path: string, params: Record<string, string>, body?: unknown) =>
    signedRequest(app, {
      method, path: `${path}?${cardQuery(params, { portalId: PORTAL, userEmail: MANAGER })}`, secret: SECRET, publicUrl: PUBLIC_URL,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const setLimit = (body: Record<string, unknown>) => signed('POST', '/api/v1/cards/company/credit-limit', {}, { objectId: companyId, ...body });
  const companyCard = async () => CompanyCardSchema.parse((await signed('GET', '/api/v1/cards/company', { objectId: companyId })).body);
  const dealCard = async (id: string) => DealCardSchema.parse((await signed('GET', '/api/v1/cards/deal', { objectId: id })).body);
  const sync = (creditLimitMinor: number | null) =>
    store.db.transaction().execute(async (trx) => {
      await applyPage(trx, PORTAL, 'quickbooks', { customers: [sourceCustomer('Q1', creditLimitMinor)], invoices: [], payments: [], cursor: 'c', done: true });
      await touchPortal(trx, PORTAL); // as the sync engine does after each page
    });
  let t = 0;
  const caller = createCaller({ callsPerWindow: 110, now: () => t, sleep: async (ms) => { t += ms; }, baseDelayMs: 10 });
  const pushAll = async () => {
    const report = await planWriteBack(store.db, PORTAL, TODAY, DEFAULT_POLICY);
    await drainOutbox({ db: store.db, portalId: PORTAL, client: async () => hubspotClient(TOKEN, fake.url), caller });
    return report;
  };
  const dealProps = (id: string) => {
    const props = fake.getObject(PORTAL, 'deals', id)?.properties ?? {};
    return { check: props.arbridge_credit_check ?? null, utilisation: props.arbridge_credit_utilisation ?? null };
  };

  beforeAll(async () => {
    store = await openTestStore(backend);
    fake = await startFakeHubSpot({ rateLimit: null });
    fake.addPortal(PORTAL, { privateToken: TOKEN });
    await installProperties(hubspotClient(TOKEN, fake.url), caller);
    const db = store.db;
    await ensurePortal(db, PORTAL);
    await sync(null);
    customerId = (await idsByExternalId(db, 'customers', PORTAL, 'quickbooks', ['Q1'])).get('Q1') as number;
    // 800.00 open (1000 invoiced, 200 paid), the first invoice on the deal.
    await upsertInvoices(db, PORTAL, 'quickbooks', [
      { id: 'I1', number: 'I1', customerId: 'Q1', currency: 'USD', totalMinor: 60_000, issueDate: '2026-01-10', dueDate: '2026-02-10', voidedDate: null, disputed: false, salesRep: null, product: null, dealId: null, terms: null },
      { id: 'I2', number: 'I2', customerId: 'Q1', currency: 'USD', totalMinor: 40_000, issueDate: '2026-02-10', dueDate: '2026-03-10', voidedDate: null, disputed: false, salesRep: null, product: null, dealId: null, terms: null },
    ]);
    await upsertPayments(db, PORTAL, 'quickbooks', [{ id: 'P1', kind: 'payment', date: '2026-02-20', currency: 'USD', amountMinor: 20_000, allocations: [{ invoiceId: 'I1', amountMinor: 20_000 }] }]);
    companyId = fake.createObject(PORTAL, 'companies', { name: 'Customer Q1' });
    await setCompanyLink(db, PORTAL, { customerId: String(customerId), companyId, method: 'explicit_id' });
    dealId = fake.createObject(PORTAL, 'deals', { dealname: 'Expansion', amount: '1500' });
    otherDealId = fake.createObject(PORTAL, 'deals', { dealname: 'Small add-on', amount: '100' });
    const i1 = (await idsByExternalId(db, 'invoices', PORTAL, 'quickbooks', ['I1'])).get('I1') as number;
    await setDealLink(db, PORTAL, { invoiceId: String(i1), dealId, method: 'invoice_deal_id' });
    await db.insertInto('hubspot_deals').values([
      { portal_id: PORTAL, deal_id: dealId, name: 'Expansion', amount: '1500', currency: 'USD', company_id: companyId },
      { portal_id: PORTAL, deal_id: otherDealId, name: 'Small add-on', amount: '100', currency: null, company_id: companyId },
    ]).execute();
    app = createApp({ db, logger: createLogger('silent'), today: () => TODAY, config });
  });
  afterAll(async () => {
    await fake.close();
    await store.close();
  });

  it('writes "no limit" while the customer has none, then the source\'s limit from a sync', async () => {
    expect((await companyCard()).credit_limit).toMatchObject({ limit: null, currency: null, origin: null });
    expect((await dealCard(dealId)).company?.credit).toBeNull();
    await pushAll();
    expect(dealProps(dealId)).toEqual({ check: 'no_limit', utilisation: null });
    expect(dealProps(otherDealId)).toEqual({ check: 'no_limit', utilisation: null });

    await sync(200_000); // 2000.00 from the accounting source
    expect((await companyCard()).credit_limit).toMatchObject({ limit: '2000.00', currency: 'USD', origin: 'source', source_limit: '2000.00', set_by: null });
    // Outstanding 800 + the deal's 1500 less the 600 invoiced on it = 1700 of 2000.
    expect((await dealCard(dealId)).company?.credit).toMatchObject({ limit: '2000.00', outstanding: '800.00', uninvoiced_deal: '900.00', total: '1700.00', exceeds: false });
    const checks = await dealCreditChecks(store.db, PORTAL, [dealId, otherDealId, '999'], TODAY);
    expect([...checks.keys()].sort()).toEqual([dealId, otherDealId].sort());
    await pushAll();
    expect(dealProps(dealId)).toEqual({ check: 'ok', utilisation: '85' });
    expect(dealProps(otherDealId)).toEqual({ check: 'ok', utilisation: '45' });
  });

  it('sets a limit by hand that wins over the source\'s and survives a sync; the write-back pushes only what changed', async () => {
    const res = await setLimit({ amount: '1200', currency: 'USD', idempotencyKey: 'credit-key-0001' });
    expect(res.status).toBe(200);
    const set = CreditLimitSchema.parse(res.body);
    expect(set).toMatchObject({ customer_id: String(customerId), limit: '1200.00', currency: 'USD', origin: 'manual', source_limit: '2000.00', set_by: MANAGER });
    const replay = await setLimit({ amount: '1200', currency: 'USD', idempotencyKey: 'credit-key-0001' });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(res.body);

    await sync(250_000); // the source changes its limit: the manual one stays in force
    const card = await companyCard();
    expect(card.credit_limit).toMatchObject({ limit: '1200.00', origin: 'manual', source_limit: '2500.00', set_by: MANAGER });
    expect((await dealCard(dealId)).company?.credit).toMatchObject({ limit: '1200.00', total: '1700.00', exceeds: true });

    fake.clearRequests();
    const report = await pushAll();
    expect(report.deals.changed).toBe(2);
    expect(dealProps(dealId)).toEqual({ check: 'over_limit', utilisation: '141.7' });
    expect(dealProps(otherDealId)).toEqual({ check: 'ok', utilisation: '75' });
    const again = await pushAll();
    expect(again.deals.changed).toBe(0);
  });

  it('clears the manual limit: the source\'s applies again at once', async () => {
    const res = await setLimit({ amount: null, idempotencyKey: 'credit-key-0002' });
    expect(res.status).toBe(200);
    expect(CreditLimitSchema.parse(res.body)).toMatchObject({ limit: '2500.00', origin: 'source', set_by: null, set_at: null });
    await pushAll();
    expect(dealProps(dealId)).toEqual({ check: 'ok', utilisation: '68' });
  });

  it('refuses a limit without a currency, with too many decimals, or on an unlinked company, naming the field', async () => {
    const noCurrency = await setLimit({ amount: '100', idempotencyKey: 'credit-key-0003' });
    expect(noCurrency.status).toBe(400);
    expect(JSON.stringify(noCurrency.body)).toContain('currency');
    const yen = await setLimit({ amount: '100.5', currency: 'JPY', idempotencyKey: 'credit-key-0004' });
    expect(yen.status).toBe(400);
    expect(JSON.stringify(yen.body)).toContain('amount');
    const negative = await setLimit({ amount: '-5', currency: 'USD', idempotencyKey: 'credit-key-0005' });
    expect(negative.status).toBe(400);
    const unlinked = await signed('POST', '/api/v1/cards/company/credit-limit', {}, { objectId: '424242', amount: '5', currency: 'USD', idempotencyKey: 'credit-key-0006' });
    expect(unlinked.status).toBe(400);
    expect(JSON.stringify(unlinked.body)).toContain('objectId');
  });
});
