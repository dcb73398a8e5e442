import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { CompanyCardSchema, LogEntrySchema } from '../../extensions/card-api';
import { loadConfig } from '../../src/config';
import { createApp } from '../../src/http/app';
import { setCompanyLink } from '../../src/hubspot/links';
import { createLogger } from '../../src/logger';
import { formatReportsCsv } from '../../src/domain/report-format';
import { portfolioReports } from '../../src/services/reports';
import { recordTermsAck } from '../../src/services/terms';
import { ensurePortal, idsByExternalId, upsertCustomers, upsertInvoices, upsertPayments, type InvoiceRecord } from '../../src/store/facts';
import type { Store } from '../../src/store/store';
import { cardQuery, signedRequest } from '../helpers/sign';
import { describeEachStore, openTestStore } from '../helpers/stores';

const SECRET = 'comm-log-test-client-secret';
const PUBLIC_URL = 'https://arbridge.example.com';
const PORTAL = 4_707;
const TODAY = '2025-03-31';
const AR = 'ada.ar@example.com';

const inv = (id: string, customerId: string, currency: string, totalMinor: number, issueDate: string, dueDate: string): InvoiceRecord => ({
  id, number: id, customerId, currency, totalMinor, issueDate, dueDate, voidedDate: null, disputed: false,
  salesRep: null, product: null, dealId: null, terms: null,
});

describeEachStore('communication log: promises to pay and disputes from the company card', (backend) => {
  let store: Store;
  let app: ReturnType<typeof createApp>;

  const config = loadConfig({ HUBSPOT_ACCESS_TOKEN: 'pat-test', HUBSPOT_PORTAL_ID: String(PORTAL), HUBSPOT_CLIENT_SECRET: SECRET, ARBRIDGE_PUBLIC_URL: PUBLIC_URL });
  const signed = (method: 'GET' | 'POST', path: string, params: Record<string, string>, body?: unknown) =>
    signedRequest(app, {
      method, path: `${path}?${cardQuery(params, { portalId: PORTAL, userEmail: AR })}`, secret: SECRET, publicUrl: PUBLIC_URL,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const card = async (asOf?: string, companyId = '9100') =>
    CompanyCardSchema.parse((await signed('GET', '/api/v1/cards/company', { objectId: companyId, ...(asOf ? { asOf } : {}) })).body);
  const log = (body: Record<string, unknown>) => signed('POST', '/api/v1/cards/company/log', {}, { objectId: '9100', ...body });
  const resolve = (id: string, body: Record<string, unknown>) =>
    signed('POST', `/api/v1/cards/company/log/${id}/resolve`, {}, { objectId: '9100', ...body });
  const usdRisk = async (asOf?: string) => (await card(asOf)).summary?.currencies.find((c) => c.currency === 'USD')?.risk;

  beforeAll(async () => {
    store = await openTestStore(backend);
    const db = store.db;
    await ensurePortal(db, PORTAL);
    await upsertCustomers(db, PORTAL, 'csv', [
      { id: 'AC', name: 'Acme', domain: 'acme.example', industry: null, country: null },
      { id: 'BX', name: 'Boxco', domain: 'boxco.example', industry: null, country: null },
    ]);
    const ids = await idsByExternalId(db, 'customers', PORTAL, 'csv', ['AC', 'BX']);
    await setCompanyLink(db, PORTAL, { customerId: String(ids.get('AC')), companyId: '9100', method: 'domain', detail: 'acme.example' });
    await upsertInvoices(db, PORTAL, 'csv', [
      inv('INV-0', 'AC', 'USD', 10_000, '2024-12-01', '2024-12-31'),
      inv('INV-1', 'AC', 'USD', 100_000, '2025-01-01', '2025-01-31'),
      inv('INV-2', 'AC', 'USD', 50_000, '2025-02-01', '2025-03-03'),
      inv('INV-3', 'AC', 'EUR', 20_000, '2025-03-01', '2025-04-15'),
      inv('BX-1', 'BX', 'USD', 10_000, '2025-01-01', '2025-01-31'),
    ]);
    await upsertPayments(db, PORTAL, 'csv', [
      { id: 'P0', kind: 'payment', date: '2024-12-31', currency: 'USD', amountMinor: 10_000, allocations: [{ invoiceId: 'INV-0', amountMinor: 10_000 }] },
      { id: 'P1', kind: 'payment', date: '2025-03-12', currency: 'USD', amountMinor: 30_000, allocations: [{ invoiceId: 'INV-1', amountMinor: 30_000 }] },
    ]);
    app = createApp({ db, logger: createLogger('silent'), today: () => TODAY, config });
  });
  afterAll(async () => store.close());

  it('logs promises to pay and shows each kept, broken or pending as of the card\'s date', async () => {
    // Kept: USD 300.00 on INV-1 by 03-10; the payment of 03-12 is within the 3 grace days.
    const kept = await log({ kind: 'promise', occurredOn: '2025-03-01', promiseDate: '2025-03-10', amount: '300.00', currency: 'USD', invoiceId: 'INV-1', idempotencyKey: 'promise-0001' });
    expect(kept.status).toBe(201);
    expect(LogEntrySchema.parse(kept.body)).toMatchObject({
      kind: 'promise', author: AR, promise_date: '2025-03-10', amount: '300.00', currency: 'USD', invoice_id: 'INV-1',
      summary: 'Promised to pay 300.00 USD by 2025-03-10 for invoice INV-1',
    });
    // A retry with the same key replays: one entry.
    const replay = await log({ kind: 'promise', occurredOn: '2025-03-01', promiseDate: '2025-03-10', amount: '300.00', currency: 'USD', invoiceId: 'INV-1', idempotencyKey: 'promise-0001' });
    expect(replay.body).toEqual(kept.body);
    // Broken: USD 500.00 by 03-20 on any invoice; only 300.00 arrived (03-12) by 03-23.
    await log({ kind: 'promise', occurredOn: '2025-03-05', promiseDate: '2025-03-20', amount: '500', currency: 'USD', summary: 'CFO said 500 by the 20th', idempotencyKey: 'promise-0002' });
    // Pending: by 03-30, deadline 04-02.
    await log({ kind: 'promise', occurredOn: '2025-03-25', promiseDate: '2025-03-30', amount: '200.00', currency: 'EUR', idempotencyKey: 'promise-0003' });

    const statuses = async (asOf?: string) => (await card(asOf)).log?.entries.filter((e) => e.kind === 'promise')
      .map((e) => [e.promise_date, e.promise_status, e.promise_paid]);
    expect(await statuses()).toEqual([
      ['2025-03-30', 'pending', '0.00'],
      ['2025-03-20', 'broken', '300.00'],
      ['2025-03-10', 'kept', '300.00'],
    ]);
    // As of 03-11 the payment of 03-12 has not happened: both are pending; as of 03-23 the second still is.
    expect(await statuses('2025-03-11')).toEqual([['2025-03-20', 'pending', '0.00'], ['2025-03-10', 'pending', '0.00']]);
    expect((await statuses('2025-03-23'))?.[0]).toEqual(['2025-03-20', 'pending', '300.00']);
    expect((await statuses('2025-03-24'))?.[0]).toEqual(['2025-03-20', 'broken', '300.00']);

    // The broken promise costs the USD risk score, from the day it is broken.
    expect((await usdRisk('2025-03-23'))?.reasons).not.toContain('1 promise to pay broken in the last 6 months');
    expect((await usdRisk())?.reasons).toContain('1 promise to pay broken in the last 6 months');
    expect((await card()).summary?.currencies.find((c) => c.currency === 'EUR')?.risk.reasons.join(' ')).not.toContain('promise');
  });

  it('refuses bad promises naming the field', async () => {
    const base = { kind: 'promise', occurredOn: '2025-03-20', promiseDate: '2025-04-10', amount: '10.00', currency: 'USD' };
    const cases: [Record<string, unknown>, string][] = [
      [{ amount: undefined }, 'amount'],
      [{ amount: '0.00' }, 'amount'],
      [{ amount: '-5' }, 'amount'],
      [{ amount: '1.234' }, 'amount'],
      [{ currency: 'usd' }, 'currency'],
      [{ promiseDate: '2025-03-19' }, 'promiseDate'],
      [{ invoiceId: 'BX-1' }, 'invoiceId'],
      [{ invoiceId: 'INV-3' }, 'currency'],
      [{ occurredOn: '2025-04-05' }, 'occurredOn'],
    ];
    const before = await store.db.selectFrom('communication_log').select('id').where('portal_id', '=', PORTAL).execute();
    for (const [i, [fields, field]] of cases.entries()) {
      const res = await log({ ...base, ...fields, idempotencyKey: `bad-promise-${i}` });
      expect([res.status, Object.keys(res.body.fields ?? {}).join(',')]).toEqual([400, field]);
    }
    expect(await store.db.selectFrom('communication_log').select('id').where('portal_id', '=', PORTAL).execute()).toHaveLength(before.length);
  });

  it('opens a dispute, counts it in the risk once per invoice, and resolves it with a date and a note', async () => {
    const opened = await log({ kind: 'dispute', occurredOn: '2025-03-15', summary: 'Disputes the March delivery', amount: '500.00', invoiceId: 'INV-2', idempotencyKey: 'dispute-0001' });
    expect(opened.status).toBe(201);
    const dispute = LogEntrySchema.parse(opened.body);
    expect(dispute).toMatchObject({ kind: 'dispute', status: 'open', amount: '500.00', currency: 'USD', invoice_id: 'INV-2', resolved_on: null });
    await log({ kind: 'dispute', occurredOn: '2025-03-16', summary: 'Same invoice, second call', invoiceId: 'INV-2', idempotencyKey: 'dispute-0002' });
    expect((await usdRisk())?.reasons).toContain('1 dispute is open');
    expect((await usdRisk('2025-03-14'))?.reasons.join(' ')).not.toContain('dispute');

    const bad = await resolve(dispute.id, { resolvedOn: '2025-03-14', resolution: 'Credit note agreed', idempotencyKey: 'resolve-bad-1' });
    expect([bad.status, bad.body.fields]).toEqual([400, { resolvedOn: ['must not be before the dispute was opened (2025-03-15)'] }]);
    const missing = await resolve('999999', { resolvedOn: '2025-03-30', resolution: 'x', idempotencyKey: 'resolve-bad-2' });
    expect(missing.status).toBe(404);
    const noNote = await resolve(dispute.id, { resolvedOn: '2025-03-30', resolution: ' ', idempotencyKey: 'resolve-bad-3' });
    expect([noNote.status, Object.keys(noNote.body.fields)]).toEqual([400, ['resolution']]);

    const done = await resolve(dispute.id, { resolvedOn: '2025-03-30', resolution: 'Credit note agreed', idempotencyKey: 'resolve-0001' });
    expect(done.status).toBe(200);
    expect(LogEntrySchema.parse(done.body)).toMatchObject({ id: dispute.id, status: 'resolved', resolved_on: '2025-03-30', resolution: 'Credit note agreed' });
    expect((await resolve(dispute.id, { resolvedOn: '2025-03-30', resolution: 'Credit note agreed', idempotencyKey: 'resolve-0001' })).body).toEqual(done.body);
    const again = await resolve(dispute.id, { resolvedOn: '2025-03-31', resolution: 'again', idempotencyKey: 'resolve-0002' });
    expect([again.status, Object.keys(again.body.fields)]).toEqual([400, ['id']]);

    // As of the day before the resolution the dispute shows open; the other (same invoice) is still open.
    const shown = async (asOf?: string) => (await card(asOf)).log?.entries.filter((e) => e.kind === 'dispute').map((e) => [e.occurred_on, e.status, e.resolved_on ?? null]);
    expect(await shown('2025-03-29')).toEqual([['2025-03-16', 'open', null], ['2025-03-15', 'open', null]]);
    expect(await shown()).toEqual([['2025-03-16', 'open', null], ['2025-03-15', 'resolved', '2025-03-30']]);
    expect((await usdRisk())?.reasons).toContain('1 dispute is open');
  });

  it('feeds broken promises and open disputes into the portfolio report by customer', async () => {
    const [, usd] = await portfolioReports(store.db, PORTAL, { asOf: TODAY, by: 'customer' });
    expect(usd?.currency).toBe('USD');
    const acme = usd?.groups.find((g) => g.key === 'AC');
    expect(acme?.risk.reasons).toEqual(expect.arrayContaining(['1 promise to pay broken in the last 6 months']));
    expect(usd?.groups.find((g) => g.key === 'BX')?.risk.reasons.join(' ')).not.toMatch(/promise|dispute/);
  });

  it('quotes the terms on record in the customer rows of the reports (JSON and a last CSV column)', async () => {
    await store.db.insertInto('hubspot_deals').values({ portal_id: PORTAL, deal_id: '6001', name: 'Renewal', company_id: '9100' }).execute();
    await recordTermsAck(store.db, PORTAL, { dealId: '6001', terms: 'Net 30', contactName: 'Paula Payer', acknowledgedOn: '2025-02-01', recordedBy: AR }, TODAY);
    await recordTermsAck(store.db, PORTAL, { dealId: '6001', terms: 'Net 45, EOM', contactName: 'Paula Payer', acknowledgedOn: '2025-03-02', recordedBy: AR }, TODAY);
    const reports = await portfolioReports(store.db, PORTAL, { asOf: TODAY, by: 'customer' });
    const usd = reports.find((r) => r.currency === 'USD');
    expect(usd?.groups.map((g) => [g.key, g.terms])).toEqual([['AC', 'Net 45, EOM'], ['BX', null]]);
    // As of a day the later acknowledgment was not made yet, the earlier one is on record.
    const earlier = await portfolioReports(store.db, PORTAL, { asOf: '2025-03-01', by: 'customer' });
    expect(earlier.find((r) => r.currency === 'USD')?.groups.map((g) => g.terms)).toEqual(['Net 30', null]);
    const lines = formatReportsCsv(reports).split('\r\n');
    expect(lines[0]?.endsWith(',risk_score,risk_tier,risk_reasons,terms')).toBe(true);
    expect(lines.find((l) => l.startsWith('USD,portfolio,'))?.endsWith(',')).toBe(true);
    expect(lines.find((l) => l.startsWith('USD,group,AC,'))?.endsWith(',"Net 45, EOM"')).toBe(true);
    expect(lines.find((l) => l.startsWith('USD,group,BX,'))?.endsWith(',')).toBe(true);
    // Grouped by anything else there are no customer rows and no terms column.
    const byRep = formatReportsCsv(await portfolioReports(store.db, PORTAL, { asOf: TODAY, by: 'rep' }));
    expect(byRep.split('\r\n')[0]?.endsWith(',risk_reasons')).toBe(true);
  });

  it('sends the latest 20 entries; the total counts them all', async () => {
    for (let i = 0; i < 20; i += 1) {
      expect((await log({ kind: 'note', occurredOn: '2025-03-31', summary: `Note ${i}`, idempotencyKey: `note-${String(i).padStart(4, '0')}` })).status).toBe(201);
    }
    const excerpt = (await card()).log;
    expect(excerpt?.entries).toHaveLength(20);
    expect(excerpt?.total).toBe(27);
    expect(excerpt?.entries[0]?.summary).toBe('Note 19');
  });
});
