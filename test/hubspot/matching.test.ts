import express from 'express';
import request from 'supertest';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Client } from '@hubspot/api-client';
import { hubspotClient } from '../../src/hubspot/client';
import { listUnmatched, runMatching } from '../../src/hubspot/matching';
import { mirrorHubSpot, readCursor, upsertMirroredCompanies, type MirrorOptions } from '../../src/hubspot/mirror';
import { errorHandler, notFound } from '../../src/http/middleware/errors';
import { portalScope } from '../../src/http/middleware/portal';
import { matchingRoutes } from '../../src/http/routes/matching';
import { createLogger } from '../../src/logger';
import {
  importCompanyMappings, MappingRejected, resetCompanyLink, setManualCompanyLink, setManualDealLink,
} from '../../src/services/matching';
import { ensurePortal, upsertCustomers, upsertInvoices, type InvoiceRecord } from '../../src/store/facts';
import type { Store } from '../../src/store/store';
import { startFakeHubSpot, type FakeHubSpot, type LoggedRequest } from '../fakes/hubspot';
import { describeEachStore, openTestStore } from '../helpers/stores';

const PORTAL = 4242;
const TOKEN = 'pat-matching-test';

const customerFact = (id: string, name: string | null, domain: string | null = null) => ({ id, name, domain, industry: null, country: null });

const invoice = (id: string, customerId: string, over: Partial<InvoiceRecord> = {}): InvoiceRecord => ({
  id, number: `N-${id}`, customerId, currency: 'USD', totalMinor: 10_000, issueDate: '2024-05-01', dueDate: '2024-05-31',
  voidedDate: null, disputed: false, salesRep: null, product: null, dealId: null, terms: null, reference: null, ...over,
});

type LinkRow = { external_id: string; target: string | null; method: string; detail: string | null };

const companyLinks = async (store: Store): Promise<Record<string, Omit<LinkRow, 'external_id'>>> => {
  const rows = await sql<LinkRow>`
    SELECT c.external_id, l.company_id AS target, l.method, l.detail
    FROM company_links l JOIN customers c ON c.id = l.customer_id WHERE l.portal_id = ${PORTAL}`.execute(store.db);
  return Object.fromEntries(rows.rows.map(({ external_id, ...rest }) => [external_id, rest]));
};

const dealLinks = async (store: Store): Promise<Record<string, Omit<LinkRow, 'external_id'>>> => {
  const rows = await sql<LinkRow>`
    SELECT i.external_id, l.deal_id AS target, l.method, l.detail
    FROM deal_links l JOIN invoices i ON i.id = l.invoice_id WHERE l.portal_id = ${PORTAL}`.execute(store.db);
  return Object.fromEntries(rows.rows.map(({ external_id, ...rest }) => [external_id, rest]));
};

const searches = (requests: readonly LoggedRequest[], type: string): Array<{ status: number; body: Record<string, unknown> }> =>
  requests.filter((r) => r.method === 'POST' && r.path === `/crm/v3/objects/${type}/search`)
    .map((r) => ({ status: r.status, body: r.body as Record<string, unknown> }));

const gteOf = (body: Record<string, unknown>): number => {
  const groups = body.filterGroups as Array<{ filters: Array<{ propertyName: string; operator: string; value: string }> }>;
  const filter = groups[0]?.filters.find((f) => f.propertyName === 'hs_lastmodifieddate' && f.operator === 'GTE');
  return Number(filter?.value);
};

describeEachStore('HubSpot mirror and matching', (backend) => {
  let store: Store;
  let fake: FakeHubSpot;
  let client: Client;
  let options: MirrorOptions;

  beforeAll(async () => {
    store = await openTestStore(backend);
    fake = await startFakeHubSpot({ rateLimit: null, searchRateLimit: null });
    fake.addPortal(PORTAL, { privateToken: TOKEN });
    client = hubspotClient(TOKEN, fake.url);
    // The fake's clock moves at least 1 ms per write, so after a burst of writes it runs ahead of the wall clock;
    // the mirror's clock is set ahead too, so that its cursor is exactly the last change seen (overlap 0).
    options = {
      basePath: fake.url, token: TOKEN, overlapMs: 0, searchIntervalMs: 0, now: () => Date.now() + 60_000, retry: { sleep: async () => undefined },
    };
    await client.crm.properties.coreApi.create('companies', {
      name: 'arbridge_customer_id', label: 'Accounting customer id', type: 'string', fieldType: 'text', groupName: 'companyinformation',
    } as never);
    await client.crm.properties.coreApi.create('deals', {
      name: 'arbridge_reference', label: 'Quote / PO reference', type: 'string', fieldType: 'text', groupName: 'dealinformation',
    } as never);
    const co = (id: string, properties: Record<string, string>): string => fake.createObject(PORTAL, 'companies', properties, { id });
    co('7001', { name: 'Acme Corporation', domain: 'acme.com', arbridge_customer_id: 'csv:CUST-1' });
    co('7002', { name: 'Bare Ref Co', arbridge_customer_id: 'CUST-2' });
    co('7003', { name: 'Mapped Target Ltd', domain: 'mapped-target.com' });
    co('7004', { name: 'Globex', domain: 'globex.com' });
    co('7005', { name: 'Initech, Inc.', domain: 'initech.io' });
    co('7006', { name: 'Gmail', domain: 'gmail.com' });
    co('7007', { name: 'Umbrella East', domain: 'umbrella.com' });
    co('7008', { name: 'Umbrella West', domain: 'umbrella.com' });
    co('7009', { name: 'Hooli', domain: 'hooli.com' });
    co('7010', { name: 'Stark Industries' });
    const deal = (id: string, properties: Record<string, string>): string => fake.createObject(PORTAL, 'deals', properties, { id });
    deal('8001', { dealname: 'Acme renewal', amount: '1200.5', deal_currency_code: 'USD', dealstage: 'closedwon', arbridge_reference: 'PO-1001' });
    deal('8002', { dealname: 'Globex expansion', arbridge_reference: 'PO-2002' });
    deal('8003', { dealname: 'Q77 east', arbridge_reference: 'Q-77' });
    deal('8004', { dealname: 'Q77 west', arbridge_reference: 'q-77' });
    deal('8005', { dealname: 'Plain deal' });
    fake.associate(PORTAL, 'deals', '8001', 'companies', '7004'); // unlabeled
    fake.associate(PORTAL, 'deals', '8001', 'companies', '7001', 5); // primary
    fake.associate(PORTAL, 'deals', '8002', 'companies', '7004');

    const db = store.db;
    await ensurePortal(db, PORTAL);
    await upsertCustomers(db, PORTAL, 'csv', [
      customerFact('CUST-1', 'Totally Different', 'globex.com'), // explicit id wins over the domain
      customerFact('CUST-2', 'Whatever'),
      customerFact('CUST-3', 'Mapped Customer', 'hooli.com'), // the mapping wins over the domain
      customerFact('CUST-4', 'Globex Trading', 'https://www.Globex.com/contact'),
      customerFact('CUST-5', 'Initech LLC', 'jane@gmail.com'), // free mail: matched by name
      customerFact('CUST-6', 'Umbrella Holdings', 'billing@umbrella.com'), // two companies share the domain
      customerFact('CUST-7', 'Nobody Ltd'),
    ]);
    await upsertCustomers(db, PORTAL, 'hubspot', [customerFact('7010', 'Stark Industries')]);
    await upsertInvoices(db, PORTAL, 'csv', [
      invoice('I1', 'CUST-1', { dealId: '8005' }),
      invoice('I2', 'CUST-4', { dealId: '999999', reference: ' po-1001' }),
      invoice('I3', 'CUST-4'),
      invoice('I4', 'CUST-6', { reference: 'Q-77' }),
      invoice('I5', 'CUST-7'),
    ]);
    await upsertInvoices(db, PORTAL, 'hubspot', [invoice('I6', '7010')]);
    // HubSpot's invoice↔deal association, as the HubSpot invoice source stores it.
    await sql`UPDATE invoices SET hubspot_deal_id = '8002' WHERE portal_id = ${PORTAL} AND external_id = 'I3'`.execute(db);
    await importCompanyMappings(db, PORTAL, 'source,external_id,company_id\ncsv,CUST-3,7003\n');
  });

  afterAll(async () => {
    await fake?.close();
    await store?.close();
  });

  it('lists every company and deal on the first run, with the deal\'s primary company, and stores the cursors', async () => {
    const report = await mirrorHubSpot(store.db, PORTAL, options);
    expect(report.companies).toMatchObject({ mode: 'full', fetched: 10, inserted: 10, updated: 0, removed: 0 });
    expect(report.deals).toMatchObject({ mode: 'full', fetched: 5, inserted: 5 });
    const deals = await store.db.selectFrom('hubspot_deals').selectAll().where('portal_id', '=', PORTAL).orderBy('deal_id').execute();
    expect(deals.map((d) => [d.deal_id, d.company_id, d.reference])).toEqual([
      ['8001', '7001', 'PO-1001'], ['8002', '7004', 'PO-2002'], ['8003', null, 'Q-77'], ['8004', null, 'q-77'], ['8005', null, null],
    ]);
    expect(deals[0]).toMatchObject({ name: 'Acme renewal', amount: '1200.5', currency: 'USD', stage: 'closedwon' });
    const acme = await store.db.selectFrom('hubspot_companies').selectAll().where('portal_id', '=', PORTAL).where('company_id', '=', '7001').executeTakeFirstOrThrow();
    expect(acme).toMatchObject({ name: 'Acme Corporation', domain: 'acme.com', customer_ref: 'csv:CUST-1' });
    expect(await readCursor(store.db, PORTAL, 'companies')).toBe(report.companies.cursor);
    expect(report.companies.cursor).toBe(fake.getObject(PORTAL, 'companies', '7010')?.properties.hs_lastmodifieddate);
    const dealLists = fake.requests.filter((r) => r.method === 'GET' && r.path === '/crm/v3/objects/deals');
    expect(dealLists.length).toBeGreaterThan(0);
    expect(dealLists.every((r) => r.query.associations === 'companies')).toBe(true);
    expect(searches(fake.requests, 'companies')).toEqual([]);
  });

  it('matches customers to companies and invoices to deals by each method, in order of precedence', async () => {
    const report = await runMatching(store.db, PORTAL);
    expect(report.companies).toEqual({
      linked: 6, byMethod: { domain: 1, explicit_id: 2, hubspot: 1, mapping: 1, name: 1 }, unmatched: 2, ambiguous: 1,
      changes: { added: 6, changed: 0, removed: 0 },
    });
    expect(await companyLinks(store)).toEqual({
      'CUST-1': { target: '7001', method: 'explicit_id', detail: 'csv:CUST-1' },
      'CUST-2': { target: '7002', method: 'explicit_id', detail: 'CUST-2' },
      'CUST-3': { target: '7003', method: 'mapping', detail: 'csv,CUST-3' },
      'CUST-4': { target: '7004', method: 'domain', detail: 'globex.com' },
      'CUST-5': { target: '7005', method: 'name', detail: 'initech' },
      7010: { target: '7010', method: 'hubspot', detail: 'customer from HubSpot' },
    });
    expect(report.deals).toEqual({
      linked: 3, byMethod: { association: 1, invoice_deal_id: 1, reference: 1 }, unmatched: 3, ambiguous: 1,
      changes: { added: 3, changed: 0, removed: 0 },
    });
    expect(await dealLinks(store)).toEqual({
      I1: { target: '8005', method: 'invoice_deal_id', detail: '8005' },
      I2: { target: '8001', method: 'reference', detail: 'PO-1001' },
      I3: { target: '8002', method: 'association', detail: '8002' },
    });
  });

  it('lists what did not match, with the reason and the candidates, page by page', async () => {
    const customers = await listUnmatched(store.db, PORTAL, { kind: 'customers' });
    expect(customers.next).toBeNull();
    expect(customers.items).toEqual([
      {
        customerId: 'CUST-6', source: 'csv', name: 'Umbrella Holdings', domain: 'billing@umbrella.com', reason: 'ambiguous',
        ambiguities: [{ level: 'domain', value: 'umbrella.com', candidateCount: 2, candidates: [
          { companyId: '7007', name: 'Umbrella East', domain: 'umbrella.com' },
          { companyId: '7008', name: 'Umbrella West', domain: 'umbrella.com' },
        ] }],
      },
      { customerId: 'CUST-7', source: 'csv', name: 'Nobody Ltd', domain: null, reason: 'none', ambiguities: [] },
    ]);
    const first = await listUnmatched(store.db, PORTAL, { kind: 'customers', limit: 1 });
    expect(first.items.map((i) => i.customerId)).toEqual(['CUST-6']);
    expect(first.next).not.toBeNull();
    const second = await listUnmatched(store.db, PORTAL, { kind: 'customers', limit: 1, after: first.next });
    expect(second.items.map((i) => i.customerId)).toEqual(['CUST-7']);
    expect(second.next).toBeNull();

    const invoices = await listUnmatched(store.db, PORTAL, { kind: 'invoices' });
    expect(invoices.items.map((i) => [i.invoiceId, i.reason])).toEqual([['I4', 'ambiguous'], ['I5', 'none'], ['I6', 'none']]);
    expect(invoices.items[0]).toMatchObject({
      source: 'csv', customerId: 'CUST-6', customerName: 'Umbrella Holdings', companyId: null, currency: 'USD', amount: '100.00', reference: 'Q-77',
      ambiguities: [{ level: 'reference', value: 'Q-77', candidateCount: 2, candidates: [
        { dealId: '8003', name: 'Q77 east', reference: 'Q-77', companyId: null },
        { dealId: '8004', name: 'Q77 west', reference: 'q-77', companyId: null },
      ] }],
    });
    expect(invoices.items[2]).toMatchObject({ source: 'hubspot', customerId: '7010', companyId: '7010' });
  });

  it('changes nothing when run again', async () => {
    const before = await sql<{ n: string; at: string }>`
      SELECT count(*)::text AS n, max(updated_at)::text AS at FROM company_links WHERE portal_id = ${PORTAL}`.execute(store.db);
    const report = await runMatching(store.db, PORTAL);
    expect(report.companies.changes).toEqual({ added: 0, changed: 0, removed: 0 });
    expect(report.deals.changes).toEqual({ added: 0, changed: 0, removed: 0 });
    expect(report.companies.linked).toBe(6);
    const after = await sql<{ n: string; at: string }>`
      SELECT count(*)::text AS n, max(updated_at)::text AS at FROM company_links WHERE portal_id = ${PORTAL}`.execute(store.db);
    expect(after.rows).toEqual(before.rows);
  });

  it('keeps manual links and manual unlinks through later runs', async () => {
    expect(await setManualCompanyLink(store.db, PORTAL, { id: 'CUST-7' }, '7009', 'tester')).toMatchObject({
      customerId: 'CUST-7', source: 'csv', companyId: '7009', method: 'manual', companyKnown: true, previous: null,
    });
    expect(await setManualCompanyLink(store.db, PORTAL, { id: 'CUST-2', source: 'csv' }, null)).toMatchObject({
      method: 'manual_unlink', previous: { companyId: '7002', method: 'explicit_id' },
    });
    await setManualDealLink(store.db, PORTAL, { id: 'I5' }, '8005');
    await setManualDealLink(store.db, PORTAL, { id: 'I1' }, null);
    const report = await runMatching(store.db, PORTAL);
    expect(report.companies).toMatchObject({
      linked: 6, byMethod: { domain: 1, explicit_id: 1, hubspot: 1, manual: 1, manual_unlink: 1, mapping: 1, name: 1 }, unmatched: 1,
      changes: { added: 0, changed: 0, removed: 0 },
    });
    const links = await companyLinks(store);
    expect(links['CUST-7']).toEqual({ target: '7009', method: 'manual', detail: 'Hooli' });
    expect(links['CUST-2']).toEqual({ target: null, method: 'manual_unlink', detail: null });
    const deals = await dealLinks(store);
    expect(deals.I5).toEqual({ target: '8005', method: 'manual', detail: 'Plain deal' });
    expect(deals.I1).toEqual({ target: null, method: 'manual_unlink', detail: null });
    expect((await listUnmatched(store.db, PORTAL, { kind: 'customers' })).items.map((i) => i.customerId)).toEqual(['CUST-6']);
    expect((await listUnmatched(store.db, PORTAL, { kind: 'invoices' })).items.map((i) => i.invoiceId)).toEqual(['I4', 'I6']);
    // Handing CUST-2 back to matching links it again by its explicit id.
    await resetCompanyLink(store.db, PORTAL, { id: 'CUST-2' });
    expect((await runMatching(store.db, PORTAL)).companies.changes).toEqual({ added: 1, changed: 0, removed: 0 });
    expect((await companyLinks(store))['CUST-2']).toEqual({ target: '7002', method: 'explicit_id', detail: 'CUST-2' });
  });

  it('picks up changed companies and deals from the cursor and recomputes the automatic links', async () => {
    const cursor = await readCursor(store.db, PORTAL, 'companies');
    await client.crm.companies.basicApi.update('7004', { properties: { domain: 'globex-corp.com' } });
    await client.crm.deals.basicApi.update('8003', { properties: { arbridge_reference: 'Q-78' } });
    fake.associate(PORTAL, 'deals', '8003', 'companies', '7008');
    fake.associate(PORTAL, 'deals', '8003', 'companies', '7007', 5);
    fake.clearRequests();
    const report = await mirrorHubSpot(store.db, PORTAL, options);
    expect(report.companies).toMatchObject({ mode: 'incremental', updated: 1, queries: 1 });
    expect(report.deals).toMatchObject({ mode: 'incremental', updated: 1 });
    const companySearches = searches(fake.requests, 'companies');
    expect(companySearches).toHaveLength(1);
    expect(gteOf(companySearches[0]!.body)).toBe(Date.parse(cursor!));
    expect(fake.requests.some((r) => r.method === 'GET' && r.path === '/crm/v3/objects/companies')).toBe(false);
    expect(await readCursor(store.db, PORTAL, 'companies')).toBe(fake.getObject(PORTAL, 'companies', '7004')?.properties.hs_lastmodifieddate);
    // A searched deal has no associations in the answer: its primary company comes from the v4 batch read.
    const deal = await store.db.selectFrom('hubspot_deals').selectAll().where('portal_id', '=', PORTAL).where('deal_id', '=', '8003').executeTakeFirstOrThrow();
    expect(deal).toMatchObject({ reference: 'Q-78', company_id: '7007' });

    const matched = await runMatching(store.db, PORTAL);
    expect(matched.companies.changes).toEqual({ added: 0, changed: 0, removed: 1 });
    expect((await companyLinks(store))['CUST-4']).toBeUndefined();
    expect(matched.deals.changes).toEqual({ added: 1, changed: 0, removed: 0 });
    expect((await dealLinks(store)).I4).toEqual({ target: '8004', method: 'reference', detail: 'Q-77' });
    const unmatched = await listUnmatched(store.db, PORTAL, { kind: 'customers' });
    expect(unmatched.items.map((i) => [i.customerId, i.reason])).toEqual([['CUST-4', 'none'], ['CUST-6', 'ambiguous']]);
  });

  it('splits a search that reaches the result cap at the last timestamp seen', async () => {
    const created = Array.from({ length: 7 }, (_, i) => fake.createObject(PORTAL, 'companies', { name: `Bulk ${i}`, domain: `bulk${i}.example` }));
    fake.clearRequests();
    const report = await mirrorHubSpot(store.db, PORTAL, { ...options, searchCap: 4, searchPageSize: 2 });
    expect(report.companies.mode).toBe('incremental');
    expect(report.companies.queries).toBeGreaterThan(1);
    const calls = searches(fake.requests, 'companies');
    expect(calls.every((c) => c.status === 200 && Number(c.body.after ?? 0) + Number(c.body.limit) <= 4)).toBe(true);
    const starts = [...new Set(calls.map((c) => gteOf(c.body)))];
    expect(starts.length).toBe(report.companies.queries);
    expect([...starts].sort((a, b) => a - b)).toEqual(starts);
    const mirrored = await store.db.selectFrom('hubspot_companies').select('company_id').where('portal_id', '=', PORTAL)
      .where('company_id', 'in', created).execute();
    expect(mirrored).toHaveLength(7);
    expect(await readCursor(store.db, PORTAL, 'companies')).toBe(fake.getObject(PORTAL, 'companies', created[6]!)?.properties.hs_lastmodifieddate);
  });

  it('walks the records of one timestamp by id when a capped query cannot get past it', async () => {
    for (const id of ['7001', '7002', '7003']) await client.crm.companies.basicApi.update(id, { properties: { description: 'touched' } });
    fake.clearRequests();
    // A cap of one result: every query stops at its first record, whose timestamp is the one it started from.
    const report = await mirrorHubSpot(store.db, PORTAL, { ...options, searchCap: 1, searchPageSize: 1 });
    const calls = searches(fake.requests, 'companies');
    const byTimestamp = calls.filter((c) => JSON.stringify(c.body.filterGroups).includes('"operator":"EQ"'));
    expect(byTimestamp.length).toBeGreaterThan(0);
    expect(byTimestamp.every((c) => (c.body.sorts as string[])[0] === 'hs_object_id')).toBe(true);
    expect(calls.every((c) => c.status === 200)).toBe(true);
    expect(report.companies.fetched).toBeGreaterThanOrEqual(3);
    expect(await readCursor(store.db, PORTAL, 'companies')).toBe(fake.getObject(PORTAL, 'companies', '7003')?.properties.hs_lastmodifieddate);
  });

  it('keeps the cursor behind the start of the run by the overlap, and reads those records again harmlessly', async () => {
    const portal = PORTAL + 1;
    fake.addPortal(portal, { privateToken: `${TOKEN}-2` });
    fake.createObject(portal, 'companies', { name: 'Late Indexed Inc', domain: 'late.example' });
    const start = Date.now() + 60_000;
    const overlap = { ...options, token: `${TOKEN}-2`, overlapMs: 120_000, now: () => start };
    const first = await mirrorHubSpot(store.db, portal, overlap);
    expect(first.companies.cursor).toBe(new Date(start - 120_000).toISOString());
    const again = await mirrorHubSpot(store.db, portal, overlap);
    expect(again.companies).toMatchObject({ mode: 'incremental', fetched: 1, inserted: 0, updated: 0, unchanged: 1 });
    expect(again.companies.cursor).toBe(first.companies.cursor);
  });

  it('retries 429s and 5xx answers and ends with HubSpot\'s state', async () => {
    await client.crm.companies.basicApi.update('7009', { properties: { name: 'Hooli XYZ' } });
    fake.setFaults({ rate: 0.5, kinds: ['429', '500'], seed: 3, retryAfterSeconds: 0 });
    fake.clearRequests();
    try {
      await mirrorHubSpot(store.db, PORTAL, { ...options, full: true, listPageSize: 3, retry: { sleep: async () => undefined, maxAttempts: 12 } });
    } finally {
      fake.setFaults(null);
    }
    const statuses = new Set(fake.requests.map((r) => r.status));
    expect(statuses.has(429)).toBe(true);
    expect(statuses.has(500)).toBe(true);
    const mirrored = await store.db.selectFrom('hubspot_companies').select(['company_id', 'name', 'domain']).where('portal_id', '=', PORTAL).execute();
    const wanted = fake.objects(PORTAL, 'companies').filter((o) => !o.archived)
      .map((o) => ({ company_id: o.id, name: o.properties.name ?? null, domain: o.properties.domain ?? null }));
    expect([...mirrored].sort((a, b) => a.company_id.localeCompare(b.company_id))).toEqual(wanted.sort((a, b) => a.company_id.localeCompare(b.company_id)));
  });

  it('drops records HubSpot no longer has on a full listing, and matching follows', async () => {
    await client.crm.companies.basicApi.archive('7008');
    const report = await mirrorHubSpot(store.db, PORTAL, { ...options, full: true });
    expect(report.companies).toMatchObject({ mode: 'full', removed: 1 });
    const matched = await runMatching(store.db, PORTAL);
    expect(matched.companies.changes.added).toBe(1);
    expect((await companyLinks(store))['CUST-6']).toEqual({ target: '7007', method: 'domain', detail: 'umbrella.com' });
  });

  it('refuses a mapping file with bad rows, naming row and column, and writes nothing', async () => {
    const before = await store.db.selectFrom('company_mappings').selectAll().where('portal_id', '=', PORTAL).execute();
    const text = [
      'company_id,source,external_id,notes',
      '7001,csv,CUST-7,fine',
      'abc,csv,CUST-5,',
      '7002,,CUST-4,',
      '7003,csv,CUST-7,again',
      '7004,csv,NO-SUCH,',
    ].join('\n');
    const error = await importCompanyMappings(store.db, PORTAL, text).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MappingRejected);
    expect((error as MappingRejected).errors.map((e) => e.message)).toEqual([
      'row 3, company_id: "abc" is not a HubSpot company id (a whole number)',
      'row 4, source: "" is empty but required',
      'row 5, external_id: "CUST-7" duplicates row 2 (same source and external_id)',
    ]);
    const unknown = await importCompanyMappings(store.db, PORTAL, 'source,external_id,company_id\ncsv,CUST-7,7001\ncsv,NO-SUCH,7004\n')
      .catch((e: unknown) => e);
    expect((unknown as MappingRejected).errors.map((e) => e.message)).toEqual(['row 3, external_id: "NO-SUCH" is not a customer of source csv in this portal']);
    const header = await importCompanyMappings(store.db, PORTAL, 'source,customer,company_id\ncsv,CUST-7,7001\n').catch((e: unknown) => e);
    expect((header as MappingRejected).errors.map((e) => e.message))
      .toEqual(['row 1: required column "external_id" is missing; the file has: source, customer, company_id']);
    expect(await store.db.selectFrom('company_mappings').selectAll().where('portal_id', '=', PORTAL).execute()).toEqual(before);
  });

  it('lists at most 20 candidates of an ambiguity, with their count', async () => {
    const portal = PORTAL + 2;
    await ensurePortal(store.db, portal);
    await upsertMirroredCompanies(store.db, portal, Array.from({ length: 25 }, (_, i) => ({
      company_id: String(100 + i), name: 'Clone Co', domain: null, customer_ref: null, owner_id: null, hs_updated_at: null,
    })));
    await upsertCustomers(store.db, portal, 'csv', [customerFact('CLONE', 'Clone Company')]);
    expect((await runMatching(store.db, portal)).companies).toMatchObject({ linked: 0, unmatched: 1, ambiguous: 1 });
    const [item] = (await listUnmatched(store.db, portal, { kind: 'customers' })).items;
    expect(item?.ambiguities).toHaveLength(1);
    expect(item?.ambiguities[0]).toMatchObject({ level: 'name', value: 'clone', candidateCount: 25 });
    expect(item?.ambiguities[0]?.candidates.map((c) => c.companyId)).toEqual(Array.from({ length: 20 }, (_, i) => String(100 + i)));
  });

  it('serves the review list and manual links over HTTP, scoped to the request\'s portal', async () => {
    const app = express();
    app.use(express.json());
    app.use('/api/v1', portalScope({ env: 'test', defaultPortalId: PORTAL }));
    app.use(matchingRoutes({ db: store.db }));
    app.use(notFound);
    app.use(errorHandler(createLogger('silent')));

    const list = await request(app).get('/api/v1/hubspot/unmatched?kind=invoices&limit=1');
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ kind: 'invoices', items: [{ invoiceId: 'I6', reason: 'none' }], next: null });
    const bad = await request(app).get('/api/v1/hubspot/unmatched?kind=deals');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('invalid_request');
    expect(bad.body.message).toContain('kind');

    const linked = await request(app).post('/api/v1/hubspot/links').send({ customerId: 'CUST-4', companyId: '7004' });
    expect(linked.status).toBe(200);
    expect(linked.body).toMatchObject({ customerId: 'CUST-4', companyId: '7004', method: 'manual', companyKnown: true });
    const unlinked = await request(app).post('/api/v1/hubspot/deal-links').send({ invoiceId: 'I6', source: 'hubspot', dealId: null });
    expect(unlinked.body).toMatchObject({ invoiceId: 'I6', dealId: null, method: 'manual_unlink' });
    const deals = await dealLinks(store);
    expect(deals.I6).toEqual({ target: null, method: 'manual_unlink', detail: null });

    const notAnId = await request(app).post('/api/v1/hubspot/links').send({ customerId: 'CUST-4', companyId: 'abc' });
    expect(notAnId.status).toBe(400);
    expect(notAnId.body.message).toContain('companyId');
    const missing = await request(app).post('/api/v1/hubspot/links').send({ customerId: 'CUST-4' });
    expect(missing.status).toBe(400);
    const otherPortal = await request(app).post('/api/v1/hubspot/links').set('X-ARBridge-Portal-Id', '999').send({ customerId: 'CUST-4', companyId: '7004' });
    expect(otherPortal.status).toBe(404);
    expect((await companyLinks(store))['CUST-4']).toEqual({ target: '7004', method: 'manual', detail: 'Globex' });
  });
});
