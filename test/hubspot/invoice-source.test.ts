import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { runSyncInvoices } from '../../src/cli/hubspot-sync';
import { loadConfig } from '../../src/config';
import { createCaller } from '../../src/hubspot/caller';
import { hubspotClient } from '../../src/hubspot/client';
import {
  hubspotCalendarDate, hubspotTimestamp, parseCursor, parseInvoice, paymentChanges, syncHubSpotInvoices,
  type SyncHubSpotInvoicesOptions, type SyncHubSpotInvoicesResult,
} from '../../src/hubspot/invoice-source';
import type { RetryEvent } from '../../src/hubspot/http-retry';
import { countFacts, loadFacts } from '../../src/store/facts';
import type { Db } from '../../src/store/database';
import type { Store } from '../../src/store/store';
import { SyncConflictError } from '../../src/sync/engine';
import { startFakeHubSpot, type FakeHubSpot } from '../fakes/hubspot';
import { describeEachStore, openTestStore } from '../helpers/stores';

const noSleep = async (): Promise<void> => undefined;

const sink = (chunks: string[]): Writable =>
  new Writable({ write(chunk: Buffer | string, _enc, done) { chunks.push(chunk.toString()); done(); } });

describe('HubSpot invoice values', () => {
  it('reads ms timestamps, ISO datetimes and ISO dates as UTC calendar dates', () => {
    expect(hubspotCalendarDate(String(Date.UTC(2024, 1, 29)))).toBe('2024-02-29');
    expect(hubspotCalendarDate('2024-02-29T23:30:00.000Z')).toBe('2024-02-29');
    expect(hubspotCalendarDate('2024-02-29T23:30:00-05:00')).toBe('2024-03-01');
    expect(hubspotCalendarDate('2024-02-29')).toBe('2024-02-29');
    expect(hubspotCalendarDate('2023-02-29')).toBeNull();
    expect(hubspotCalendarDate('29/02/2024')).toBeNull();
    expect(hubspotCalendarDate('')).toBeNull();
    expect(hubspotTimestamp('2024-01-01T00:00:01.500Z')).toBe(Date.UTC(2024, 0, 1, 0, 0, 1, 500));
  });

  const object = (properties: Record<string, string | null>) => ({
    id: '77',
    properties: { hs_lastmodifieddate: '2024-05-02T10:00:00.000Z', hs_invoice_date: '2024-04-01', hs_due_date: '2024-05-01', hs_currency: 'usd', ...properties },
  });

  it('derives the amount paid from hs_amount_paid, else billed − balance, and skips drafts', () => {
    expect(parseInvoice(object({ hs_invoice_status: 'draft', hs_amount_billed: '10' }))).toEqual({ kind: 'draft' });
    const partial = parseInvoice(object({ hs_invoice_status: 'open', hs_amount_billed: '1200.5', hs_balance_due: '200.25' }));
    expect(partial).toEqual({ kind: 'invoice', invoice: expect.objectContaining({
      currency: 'USD', totalMinor: 120_050, paidMinor: 100_025, issueDate: '2024-04-01', dueDate: '2024-05-01', modifiedDate: '2024-05-02' }) });
    const explicit = parseInvoice(object({ hs_invoice_status: 'open', hs_amount_billed: '100', hs_balance_due: '100', hs_amount_paid: '40' }));
    expect(explicit.kind === 'invoice' && explicit.invoice.paidMinor).toBe(4_000);
    const voided = parseInvoice(object({ hs_invoice_status: 'voided', hs_amount_billed: '100', hs_balance_due: '0' }));
    expect(voided.kind === 'invoice' && voided.invoice.paidMinor).toBeNull();
    const yen = parseInvoice(object({ hs_invoice_status: 'paid', hs_amount_billed: '15000', hs_currency: 'JPY' }));
    expect(yen.kind === 'invoice' && [yen.invoice.totalMinor, yen.invoice.paidMinor]).toEqual([15_000, 15_000]);
  });

  it('names the invoice and the property of a value it cannot read', () => {
    expect(parseInvoice(object({ hs_amount_billed: '12.345' }))).toEqual({ kind: 'invalid', problem: expect.stringMatching(/^invoice 77: hs_amount_billed "12.345"/) });
    expect(parseInvoice(object({ hs_amount_billed: '1', hs_currency: null }))).toEqual({ kind: 'invalid', problem: expect.stringMatching(/^invoice 77: hs_currency/) });
    expect(parseInvoice(object({ hs_amount_billed: '1', hs_due_date: '2024-03-01' }))).toEqual({ kind: 'invalid', problem: expect.stringMatching(/hs_due_date 2024-03-01 is before/) });
    expect(parseInvoice(object({ hs_amount_billed: '1', hs_invoice_date: 'soon' }))).toEqual({ kind: 'invalid', problem: expect.stringMatching(/hs_invoice_date "soon"/) });
  });

  it('adds the increase of the amount paid, and removes what lies above a lower amount', () => {
    const invoice = { id: '9', currency: 'USD', date: '2024-05-02' };
    expect(paymentChanges({ ...invoice, paidMinor: 0 }, [])).toEqual({ add: null, remove: [] });
    expect(paymentChanges({ ...invoice, paidMinor: 400 }, [])).toEqual({ remove: [], add: expect.objectContaining({ id: 'hs-paid:9:400', amountMinor: 400 }) });
    expect(paymentChanges({ ...invoice, paidMinor: 1000 }, [400])).toEqual({ remove: [], add: expect.objectContaining({ id: 'hs-paid:9:1000', amountMinor: 600 }) });
    expect(paymentChanges({ ...invoice, paidMinor: 1000 }, [400, 1000])).toEqual({ add: null, remove: [] });
    expect(paymentChanges({ ...invoice, paidMinor: 500 }, [400, 1000])).toEqual({ remove: ['hs-paid:9:1000'], add: expect.objectContaining({ id: 'hs-paid:9:500', amountMinor: 100 }) });
    expect(paymentChanges({ ...invoice, paidMinor: 0 }, [400, 1000])).toEqual({ remove: ['hs-paid:9:400', 'hs-paid:9:1000'], add: null });
  });

  it('refuses a cursor it cannot read', () => {
    expect(() => parseCursor('2024-01-01')).toThrow(/sync_cursors hubspot\/invoices: unreadable cursor.*--full/);
    expect(parseCursor('{"mode":"search","since":5,"seen":{"1":6}}')).toEqual({ mode: 'search', since: 5, seen: { 1: 6 } });
  });
});

/** Companies, deals and invoices of several currencies and states, associated as HubSpot's accounting sync leaves them. */
const seedPortfolio = (fake: FakeHubSpot, portal: number) => {
  const companies = {
    acme: fake.createObject(portal, 'companies', { name: 'Acme Corp', domain: 'ACME.example', industry: 'COMPUTER_SOFTWARE', country: 'United States' }),
    kaisha: fake.createObject(portal, 'companies', { name: 'Kaisha KK', domain: 'kaisha.example', country: 'Japan' }),
  };
  const deals = {
    renewal: fake.createObject(portal, 'deals', { dealname: 'Acme renewal' }),
    expansion: fake.createObject(portal, 'deals', { dealname: 'Acme expansion' }),
  };
  const invoice = (name: string, props: Record<string, string>, company: string | null, ...dealIds: string[]): string => {
    const id = fake.createObject(portal, 'invoices', { hs_number: name, hs_invoice_date: '2024-03-01', hs_due_date: '2024-03-31', ...props });
    if (company) fake.associate(portal, 'invoices', id, 'companies', company);
    for (const deal of dealIds) fake.associate(portal, 'invoices', id, 'deals', deal);
    return id;
  };
  const invoices = {
    open: invoice('INV-1', { hs_invoice_status: 'open', hs_currency: 'USD', hs_amount_billed: '1200.50', hs_balance_due: '1200.50' },
      companies.acme, deals.expansion, deals.renewal),
    paid: invoice('INV-2', { hs_invoice_status: 'paid', hs_currency: 'usd', hs_amount_billed: '800', hs_balance_due: '0', hs_invoice_date: '2024-02-01', hs_due_date: '2024-03-02' },
      companies.acme),
    yen: invoice('INV-3', { hs_invoice_status: 'open', hs_currency: 'JPY', hs_amount_billed: '150000', hs_balance_due: '50000' }, companies.kaisha),
    voided: invoice('INV-4', { hs_invoice_status: 'voided', hs_currency: 'USD', hs_amount_billed: '300', hs_balance_due: '0' }, companies.acme),
    draft: invoice('INV-5', { hs_invoice_status: 'draft', hs_currency: 'USD', hs_amount_billed: '999', hs_balance_due: '999' }, companies.acme),
    orphan: invoice('INV-6', { hs_invoice_status: 'open', hs_currency: 'USD', hs_amount_billed: '50', hs_balance_due: '50' }, null),
    euro: invoice('INV-7', { hs_invoice_status: 'open', hs_currency: 'EUR', hs_amount_billed: '1000', hs_balance_due: '800', hs_amount_paid: '250' },
      companies.kaisha, deals.renewal),
  };
  return { companies, deals, invoices };
};
type Portfolio = ReturnType<typeof seedPortfolio>;

/** The store's view of a portal, with HubSpot ids replaced by names so portals with the same data compare equal. */
const snapshot = async (db: Db, fake: FakeHubSpot, portal: number) => {
  const facts = await loadFacts(db, portal, { upTo: '2999-12-31' });
  const names = new Map(facts.customers.map((c) => [c.id, c] as const));
  const rows = await db.selectFrom('invoices').select(['external_id', 'hubspot_deal_id', 'source_status']).where('portal_id', '=', portal).execute();
  const extra = new Map(rows.map((r) => [r.external_id, r] as const));
  return facts.invoices.map((i) => {
    const row = extra.get(i.id);
    const deal = row?.hubspot_deal_id ? fake.getObject(portal, 'deals', row.hubspot_deal_id)?.properties.dealname : null;
    const customer = names.get(i.customerId);
    return {
      number: i.number, customer: customer?.name, domain: customer?.domain, industry: customer?.industry, country: customer?.country,
      currency: i.currency, totalMinor: i.totalMinor, issueDate: i.issueDate, dueDate: i.dueDate, voidedDate: i.voidedDate,
      deal, status: row?.source_status,
      settlements: i.settlements.map((s) => ({ id: s.id.replace(`:${i.id}:`, ':#:'), date: s.date, amountMinor: s.amountMinor, kind: s.kind })),
    };
  }).sort((a, b) => String(a.number).localeCompare(String(b.number)));
};

const modifiedDate = (fake: FakeHubSpot, portal: number, id: string): string =>
  (fake.getObject(portal, 'invoices', id)?.properties.hs_lastmodifieddate ?? '').slice(0, 10);

const paidSum = async (db: Db, portal: number, invoiceId: string): Promise<number> => {
  const facts = await loadFacts(db, portal, { upTo: '2999-12-31' });
  return (facts.invoices.find((i) => i.id === invoiceId)?.settlements ?? []).reduce((sum, s) => sum + s.amountMinor, 0);
};

const cursorOf = async (db: Db, portal: number) =>
  (await db.selectFrom('sync_cursors').select('cursor').where('portal_id', '=', portal).where('source', '=', 'hubspot').where('stream', '=', 'invoices').executeTakeFirst())?.cursor ?? null;

const NO_WRITES = { invoicesInserted: 0, invoicesUpdated: 0, paymentsAdded: 0, paymentsRemoved: 0, customersInserted: 0, customersUpdated: 0 };

let nextPortal = 7_100;

describeEachStore('HubSpot invoices as a source', (backend) => {
  let store: Store;
  let fake: FakeHubSpot;
  let portal: number;
  let token: string;

  beforeAll(async () => {
    store = await openTestStore(backend);
  });
  afterAll(async () => store.close());
  beforeEach(async () => {
    fake = await startFakeHubSpot({ rateLimit: null, searchRateLimit: null });
    portal = nextPortal++;
    token = `invoice-source-${backend.name}-${portal}`;
    fake.addPortal(portal, { privateToken: token });
  });
  afterEach(async () => fake.close());

  const sync = (over: Partial<SyncHubSpotInvoicesOptions> = {}) =>
    syncHubSpotInvoices({ db: store.db, portalId: portal, token, basePath: fake.url, sleep: noSleep, ...over });
  const sdk = () => hubspotClient(token, fake.url);
  const update = (id: string, properties: Record<string, string>) => sdk().crm.commerce.invoices.basicApi.update(id, { properties });

  it('lands a portfolio with its customers, totals, dates, currencies, voids and deals, skipping drafts and orphans', async () => {
    const { invoices } = seedPortfolio(fake, portal);
    const result = await sync();
    expect(result).toMatchObject({
      mode: 'list', read: 7, invoicesInserted: 5, invoicesUpdated: 0, invoicesUnchanged: 0, customersInserted: 2,
      paymentsAdded: 3, paymentsRemoved: 0, skippedDraft: 1, skippedNoCompany: 1, skippedInvalid: 0, problems: [],
    });
    const today = modifiedDate(fake, portal, invoices.paid);
    const acme = { customer: 'Acme Corp', domain: 'acme.example', industry: 'COMPUTER_SOFTWARE', country: 'United States' };
    const kaisha = { customer: 'Kaisha KK', domain: 'kaisha.example', industry: null, country: 'Japan' };
    const dates = { issueDate: '2024-03-01', dueDate: '2024-03-31' };
    expect(await snapshot(store.db, fake, portal)).toEqual([
      { number: 'INV-1', ...acme, currency: 'USD', totalMinor: 120_050, ...dates, voidedDate: null, deal: 'Acme renewal', status: 'open', settlements: [] },
      { number: 'INV-2', ...acme, currency: 'USD', totalMinor: 80_000, issueDate: '2024-02-01', dueDate: '2024-03-02', voidedDate: null, deal: null, status: 'paid',
        settlements: [{ id: 'hs-paid:#:80000', date: today, amountMinor: 80_000, kind: 'payment' }] },
      { number: 'INV-3', ...kaisha, currency: 'JPY', totalMinor: 150_000, ...dates, voidedDate: null, deal: null, status: 'open',
        settlements: [{ id: 'hs-paid:#:100000', date: today, amountMinor: 100_000, kind: 'payment' }] },
      { number: 'INV-4', ...acme, currency: 'USD', totalMinor: 30_000, ...dates, voidedDate: modifiedDate(fake, portal, invoices.voided), deal: null, status: 'voided', settlements: [] },
      { number: 'INV-7', ...kaisha, currency: 'EUR', totalMinor: 100_000, ...dates, voidedDate: null, deal: 'Acme renewal', status: 'open',
        settlements: [{ id: 'hs-paid:#:25000', date: today, amountMinor: 25_000, kind: 'payment' }] },
    ]);
    const stored = await store.db.selectFrom('invoices').select('external_id').where('portal_id', '=', portal).execute();
    expect(stored.map((r) => r.external_id)).not.toContain(invoices.draft);
    expect(stored.map((r) => r.external_id)).not.toContain(invoices.orphan);
    // The portfolio took one page of each kind of call.
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /crm/v3/objects/invoices', 'POST /crm/v4/associations/invoices/companies/batch/read',
      'POST /crm/v4/associations/invoices/deals/batch/read', 'POST /crm/v3/objects/companies/batch/read',
    ]);
    expect(parseCursor(await cursorOf(store.db, portal) ?? '')).toMatchObject({ mode: 'search' });
  });

  it('turns a partial then a full payment into payment facts summing to the amount paid, and follows a refund down', async () => {
    const company = fake.createObject(portal, 'companies', { name: 'Payer Ltd' });
    const id = fake.createObject(portal, 'invoices', {
      hs_number: 'P-1', hs_invoice_status: 'open', hs_currency: 'USD', hs_amount_billed: '1000', hs_balance_due: '1000', hs_invoice_date: '2024-01-05', hs_due_date: '2024-02-04',
    });
    fake.associate(portal, 'invoices', id, 'companies', company);
    expect(await sync()).toMatchObject({ invoicesInserted: 1, paymentsAdded: 0 });
    expect(await paidSum(store.db, portal, id)).toBe(0);

    await update(id, { hs_balance_due: '600' });
    expect(await sync()).toMatchObject({ mode: 'search', invoicesUnchanged: 1, paymentsAdded: 1, paymentsRemoved: 0 });
    expect(await paidSum(store.db, portal, id)).toBe(40_000);

    await update(id, { hs_balance_due: '0', hs_invoice_status: 'paid' });
    expect(await sync()).toMatchObject({ paymentsAdded: 1, paymentsRemoved: 0 });
    const facts = await loadFacts(store.db, portal, { upTo: '2999-12-31' });
    expect(facts.invoices[0]?.settlements.map((s) => [s.id, s.amountMinor]).sort((a, b) => Number(a[1]) - Number(b[1])))
      .toEqual([[`hs-paid:${id}:40000`, 40_000], [`hs-paid:${id}:100000`, 60_000]]);
    expect(await paidSum(store.db, portal, id)).toBe(100_000);

    // A refund of 700: the facts above 300 go, and one for the 300 still paid comes.
    await update(id, { hs_balance_due: '700', hs_invoice_status: 'open' });
    expect(await sync()).toMatchObject({ paymentsAdded: 1, paymentsRemoved: 2 });
    expect(await paidSum(store.db, portal, id)).toBe(30_000);
    expect(await sync()).toMatchObject(NO_WRITES);
  });

  it('writes nothing when nothing changed, with a single incremental search', async () => {
    seedPortfolio(fake, portal);
    await sync();
    const before = await snapshot(store.db, fake, portal);
    const counts = await countFacts(store.db, portal);
    fake.clearRequests();
    const again = await sync();
    expect(again).toMatchObject({ mode: 'search', ...NO_WRITES, invoicesUnchanged: 0, read: 7, alreadyRead: 7 });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /crm/v3/objects/invoices/search']);
    const filter = (fake.requests[0]?.body as { filterGroups: Array<{ filters: Array<Record<string, string>> }> }).filterGroups[0]?.filters[0];
    expect(filter).toMatchObject({ propertyName: 'hs_lastmodifieddate', operator: 'GTE' });
    expect(await countFacts(store.db, portal)).toEqual(counts);
    expect(await snapshot(store.db, fake, portal)).toEqual(before);
  });

  it('picks up invoices modified or created after the cursor, page by page', async () => {
    const { companies, invoices } = seedPortfolio(fake, portal);
    await sync();
    await update(invoices.open, { hs_due_date: '2024-04-15', hs_balance_due: '200.50' });
    await update(invoices.yen, { hs_invoice_status: 'voided' });
    await update(invoices.draft, { hs_invoice_status: 'open' });
    fake.associate(portal, 'invoices', invoices.orphan, 'companies', companies.kaisha);
    await update(invoices.orphan, { hs_number: 'INV-6a' });
    const fresh = fake.createObject(portal, 'invoices', { hs_number: 'INV-8', hs_invoice_status: 'open', hs_currency: 'USD', hs_amount_billed: '10', hs_balance_due: '10', hs_invoice_date: '2024-05-01' });
    fake.associate(portal, 'invoices', fresh, 'companies', companies.acme);
    fake.clearRequests();

    const result = await sync({ pageSize: 2 });
    expect(result).toMatchObject({ mode: 'search', invoicesInserted: 3, invoicesUpdated: 2, paymentsAdded: 1, skippedDraft: 0, skippedNoCompany: 0 });
    const searches = fake.requests.filter((r) => r.path === '/crm/v3/objects/invoices/search');
    expect(searches.length).toBeGreaterThan(2);
    // Every page searches again from the last modification time read, never by a growing offset.
    const froms = searches.map((r) => Number((r.body as { filterGroups: Array<{ filters: Array<{ value: string }> }> }).filterGroups[0]?.filters[0]?.value));
    expect([...froms].sort((a, b) => a - b)).toEqual(froms);
    expect(searches.every((r) => (r.body as { after?: string }).after === '0')).toBe(true);

    const view = await snapshot(store.db, fake, portal);
    expect(view.find((i) => i.number === 'INV-1')).toMatchObject({ dueDate: '2024-04-15', settlements: [expect.objectContaining({ amountMinor: 100_000 })] });
    expect(view.find((i) => i.number === 'INV-3')).toMatchObject({ voidedDate: modifiedDate(fake, portal, invoices.yen), status: 'voided' });
    expect(view.find((i) => i.number === 'INV-5')).toMatchObject({ customer: 'Acme Corp', status: 'open' });
    expect(view.find((i) => i.number === 'INV-6a')).toMatchObject({ customer: 'Kaisha KK' });
    expect(view.find((i) => i.number === 'INV-8')).toMatchObject({ issueDate: '2024-05-01', dueDate: '2024-05-01', totalMinor: 1_000 });
    expect(await sync()).toMatchObject(NO_WRITES);
  });

  it('converges to the same store state through 429s with Retry-After and 500s', async () => {
    const reference = nextPortal++;
    fake.addPortal(reference, { privateToken: `${token}-reference` });
    seedPortfolio(fake, reference);
    await syncHubSpotInvoices({ db: store.db, portalId: reference, token: `${token}-reference`, basePath: fake.url, sleep: noSleep, pageSize: 3 });

    seedPortfolio(fake, portal);
    fake.clearRequests();
    fake.setFaults({ rate: 0.4, kinds: ['429', '500'], seed: 3, retryAfterSeconds: 2 });
    const retries: RetryEvent[] = [];
    const sleeps: number[] = [];
    const result = await sync({ pageSize: 3, maxAttempts: 30, onRetry: (e) => retries.push(e), sleep: async (ms) => { sleeps.push(ms); } });
    fake.setFaults(null);
    expect(fake.requests.some((r) => r.status === 429)).toBe(true);
    expect(fake.requests.some((r) => r.status === 500)).toBe(true);
    expect(retries.filter((e) => e.status === 429).every((e) => e.delayMs === 2_000)).toBe(true);
    expect(sleeps.length).toBe(retries.length);
    expect(result).toMatchObject({ invoicesInserted: 5, paymentsAdded: 3, skippedDraft: 1, skippedNoCompany: 1 });
    expect(await snapshot(store.db, fake, portal)).toEqual(await snapshot(store.db, fake, reference));
  });

  it('leaves the cursor at the last committed page when HubSpot fails for good, and a re-run completes the same state', async () => {
    const reference = nextPortal++;
    fake.addPortal(reference, { privateToken: `${token}-reference` });
    seedPortfolio(fake, reference);
    await syncHubSpotInvoices({ db: store.db, portalId: reference, token: `${token}-reference`, basePath: fake.url, sleep: noSleep, pageSize: 2 });

    const { invoices } = seedPortfolio(fake, portal);
    // The token source is asked before every call: once two pages are committed, HubSpot answers 500 for good.
    const committed = new Set<string>();
    const tokenFor = async (): Promise<string> => {
      const cursor = await cursorOf(store.db, portal);
      if (cursor !== null) committed.add(cursor);
      if (committed.size >= 2) fake.setFaults({ rate: 1, kinds: ['500'] });
      return token;
    };
    fake.clearRequests();
    const failure = await sync({ token: undefined, tokenFor, pageSize: 2, maxAttempts: 3 }).catch((e: unknown) => e);
    expect((failure as { code?: number }).code).toBe(500);
    expect(fake.requests.slice(-3).map((r) => r.status)).toEqual([500, 500, 500]);
    const stuck = parseCursor(await cursorOf(store.db, portal) ?? '');
    expect(stuck).toMatchObject({ mode: 'list', after: expect.any(String) });
    // Pages 1 and 2 (the first four invoices by id) are in the store, nothing of later pages.
    const ordered = Object.values(invoices).sort((a, b) => Number(a) - Number(b));
    const storedIds = (await store.db.selectFrom('invoices').select('external_id').where('portal_id', '=', portal).execute()).map((r) => r.external_id).sort();
    expect(storedIds).toEqual(ordered.slice(0, 4).filter((id) => id !== invoices.draft && id !== invoices.orphan).sort());
    expect(stuck.mode === 'list' && stuck.after).toBe(ordered[4]);

    fake.setFaults(null);
    fake.clearRequests();
    const resumed = await sync({ pageSize: 2 });
    expect(resumed.mode).toBe('list');
    expect(fake.requests[0]).toMatchObject({ method: 'GET', path: '/crm/v3/objects/invoices', query: expect.objectContaining({ after: ordered[4] }) });
    expect(resumed.read).toBe(3);
    expect(await snapshot(store.db, fake, portal)).toEqual(await snapshot(store.db, fake, reference));
    expect(await sync()).toMatchObject(NO_WRITES);
  });

  it('resumes an incremental run from its last committed page', async () => {
    const modify = async (tokenOf: string, invoices: Portfolio['invoices']) => {
      const client = hubspotClient(tokenOf, fake.url);
      await client.crm.commerce.invoices.basicApi.update(invoices.open, { properties: { hs_balance_due: '0', hs_invoice_status: 'paid' } });
      await client.crm.commerce.invoices.basicApi.update(invoices.yen, { properties: { hs_invoice_status: 'voided' } });
      await client.crm.commerce.invoices.basicApi.update(invoices.paid, { properties: { hs_balance_due: '300', hs_invoice_status: 'open' } });
      await client.crm.commerce.invoices.basicApi.update(invoices.euro, { properties: { hs_amount_paid: '1000', hs_invoice_status: 'paid' } });
      await client.crm.commerce.invoices.basicApi.update(invoices.draft, { properties: { hs_invoice_status: 'open' } });
    };
    const reference = nextPortal++;
    const referenceToken = `${token}-reference`;
    fake.addPortal(reference, { privateToken: referenceToken });
    const referenceRun = (over: Partial<SyncHubSpotInvoicesOptions> = {}) =>
      syncHubSpotInvoices({ db: store.db, portalId: reference, token: referenceToken, basePath: fake.url, sleep: noSleep, pageSize: 2, ...over });
    const referenceInvoices = seedPortfolio(fake, reference).invoices;
    await referenceRun();
    await modify(referenceToken, referenceInvoices);
    await referenceRun();

    const { invoices } = seedPortfolio(fake, portal);
    await sync();
    await modify(token, invoices);
    const cursors = new Set<string>();
    const tokenFor = async (): Promise<string> => {
      const cursor = await cursorOf(store.db, portal);
      if (cursor !== null) cursors.add(cursor);
      if (cursors.size >= 3) fake.setFaults({ rate: 1, kinds: ['500'] });
      return token;
    };
    await expect(sync({ token: undefined, tokenFor, pageSize: 2, maxAttempts: 2 })).rejects.toMatchObject({ code: 500 });
    const stuck = parseCursor(await cursorOf(store.db, portal) ?? '');
    expect(stuck.mode).toBe('search');
    expect(await snapshot(store.db, fake, portal)).not.toEqual(await snapshot(store.db, fake, reference));

    fake.setFaults(null);
    fake.clearRequests();
    await sync({ pageSize: 2 });
    const first = fake.requests[0]?.body as { filterGroups: Array<{ filters: Array<{ value: string }> }> };
    expect(stuck.mode === 'search' && Number(first.filterGroups[0]?.filters[0]?.value)).toBe(stuck.mode === 'search' && stuck.since);
    expect(await snapshot(store.db, fake, portal)).toEqual(await snapshot(store.db, fake, reference));
  });

  it('runs as `arbridge hubspot sync-invoices` with the configuration\'s private app token', async () => {
    const { companies } = seedPortfolio(fake, portal);
    const bad = fake.createObject(portal, 'invoices', { hs_number: 'BAD', hs_invoice_status: 'open', hs_currency: 'dollars', hs_amount_billed: '5', hs_invoice_date: '2024-03-01' });
    fake.associate(portal, 'invoices', bad, 'companies', companies.acme);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbridge-sync-'));
    const env = { HUBSPOT_ACCESS_TOKEN: token, HUBSPOT_PORTAL_ID: String(portal), HUBSPOT_API_BASE_URL: fake.url, ARBRIDGE_DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
    const run = async (portalId: number, full = false) => {
      const out: string[] = [];
      const err: string[] = [];
      const io = { stdout: sink(out), stderr: sink(err), env, cwd: dataDir };
      const result = await runSyncInvoices({ io, config: loadConfig(env), db: store.db, portalId, full, sleep: noSleep });
      return { result, out: out.join(''), err: err.join('') };
    };
    try {
      const first = await run(portal);
      expect(first.out).toBe(
        'listed 8 invoices; invoices: 5 new, 0 updated, 0 unchanged; payments: 3 added, 0 removed; ' +
        `skipped: 1 draft, 1 without a company, 1 invalid; 4 HubSpot requests; the next run reads changes from ${first.result.cursor}\n`,
      );
      expect(first.err).toBe(`  skipped invoice ${bad}: hs_currency "dollars" is not a 3-letter ISO 4217 code\n`);
      const again = await run(portal);
      expect(again.out).toMatch(/^searched 8 invoices \(8 already read\); invoices: 0 new, 0 updated, 0 unchanged; payments: 0 added, 0 removed; .*; 1 HubSpot request;/);
      expect((await run(portal, true)).out).toMatch(/^listed 8 invoices; invoices: 0 new, 0 updated, 5 unchanged;/);
      // Another portal has neither the private app's token nor an install.
      await expect(run(portal + 50_000)).rejects.toThrow(/has not installed ARBridge/);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('re-lists everything with full, changing nothing that is current', async () => {
    seedPortfolio(fake, portal);
    await sync();
    const before = await snapshot(store.db, fake, portal);
    fake.clearRequests();
    const again = await sync({ full: true });
    expect(again).toMatchObject({ mode: 'list', read: 7, alreadyRead: 0, invoicesUnchanged: 5, ...NO_WRITES });
    expect(fake.requests[0]).toMatchObject({ method: 'GET', path: '/crm/v3/objects/invoices' });
    expect(await snapshot(store.db, fake, portal)).toEqual(before);
  });

  it('refuses to interleave with another run of the same portal', async () => {
    seedPortfolio(fake, portal);
    await sync();
    await update(Object.values(fake.objects(portal, 'invoices'))[0]?.id ?? '', { hs_number: 'changed' });
    // The other run moves the cursor between this run's read and its write.
    let moved = false;
    const tokenFor = async (): Promise<string> => {
      const calls = fake.requests.filter((r) => r.path.includes('/associations/')).length;
      if (!moved && calls > 0) {
        moved = true;
        await store.db.updateTable('sync_cursors').set({ cursor: '{"mode":"search","since":0,"seen":{}}' }).where('portal_id', '=', portal).execute();
      }
      return token;
    };
    fake.clearRequests();
    const failure = await sync({ token: undefined, tokenFor }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(SyncConflictError);
    expect((failure as Error).message).toMatch(/Another sync of hubspot for portal \d+ is running/);
    // Nothing of the run was written.
    const numbers = (await store.db.selectFrom('invoices').select('number').where('portal_id', '=', portal).execute()).map((r) => r.number);
    expect(numbers).not.toContain('changed');
  });

  it("sends every call through the portal's caller when given one: paced, counted, with the same result as without", async () => {
    const reference = nextPortal++;
    const referenceToken = `${token}-reference`;
    fake.addPortal(reference, { privateToken: referenceToken });
    const referenceInvoices = seedPortfolio(fake, reference).invoices;
    const unpaced = await syncHubSpotInvoices({ db: store.db, portalId: reference, token: referenceToken, basePath: fake.url, sleep: noSleep, pageSize: 2 });

    const { invoices } = seedPortfolio(fake, portal);
    // The caller runs on a virtual clock, allowing 3 calls per second of it.
    let t = 1_000_000;
    const caller = createCaller({
      callsPerWindow: 3, headroom: 1, windowMs: 1_000, now: () => t, sleep: async (ms) => { t += ms; },
    });
    const starts: number[] = [];
    const call = <T>(fn: () => Promise<T>): Promise<T> => caller.call(() => {
      starts.push(t);
      return fn();
    });
    let asked = 0;
    const tokenFor = async (): Promise<string> => {
      asked += 1;
      return token;
    };
    const crmRequests = () => fake.requests.filter((r) => r.path.startsWith('/crm')).length;

    fake.clearRequests();
    const paced = await sync({ pageSize: 2, call, token: undefined, tokenFor });
    expect(crmRequests()).toBeGreaterThan(3);
    expect(caller.stats.calls).toBe(crmRequests());
    expect(paced.requests).toBe(crmRequests());
    // The token is asked for once to start and again before every call.
    expect(asked).toBe(1 + caller.stats.calls);
    for (const start of starts) expect(starts.filter((s) => s >= start && s < start + 1_000).length).toBeLessThanOrEqual(3);
    expect(t - 1_000_000).toBeGreaterThanOrEqual(Math.floor((caller.stats.calls - 1) / 3) * 1_000);
    // The cursor is HubSpot's clock at the start of each run, a second apart at most; the rest is equal.
    expect({ ...paced, cursor: null }).toEqual({ ...unpaced, cursor: null });
    expect(await snapshot(store.db, fake, portal)).toEqual(await snapshot(store.db, fake, reference));

    // An incremental run (searches) goes through the caller too.
    await update(invoices.open, { hs_balance_due: '200.50' });
    await hubspotClient(referenceToken, fake.url).crm.commerce.invoices.basicApi.update(referenceInvoices.open, { properties: { hs_balance_due: '200.50' } });
    const unpacedAgain = await syncHubSpotInvoices({ db: store.db, portalId: reference, token: referenceToken, basePath: fake.url, sleep: noSleep, pageSize: 2 });
    fake.clearRequests();
    const before = caller.stats.calls;
    const pacedAgain = await sync({ pageSize: 2, call });
    expect(pacedAgain).toMatchObject({ mode: 'search', invoicesUpdated: 0, paymentsAdded: 1 });
    expect(fake.requests.some((r) => r.path === '/crm/v3/objects/invoices/search')).toBe(true);
    expect(caller.stats.calls - before).toBe(crmRequests());
    expect(pacedAgain.requests).toBe(crmRequests());
    // How many records a search returns again depends on which of them share a modification time; what
    // the run found and wrote does not.
    const outcome = ({ read: _read, alreadyRead: _again, requests: _requests, cursor: _cursor, ...rest }: SyncHubSpotInvoicesResult) => rest;
    expect(outcome(pacedAgain)).toEqual(outcome(unpacedAgain));
    expect(await snapshot(store.db, fake, portal)).toEqual(await snapshot(store.db, fake, reference));
  });
});
