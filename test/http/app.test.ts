import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { CompanySummarySchema } from '../../extensions/card-api';
import { ReportSchema } from '../../src/domain/report';
import { createApp } from '../../src/http/app';
import { createLogger } from '../../src/logger';
import { importInvoicesCsv, importPaymentsCsv } from '../../src/services/import';
import { BACKENDS, openTestStore } from '../helpers/stores';
import type { Store } from '../../src/store/store';

const INVOICES = [
  'invoice_id,customer_id,customer_name,industry,country,issue_date,due_date,currency,amount,sales_rep,product',
  'INV-1,C1,Acme,Retail,US,2024-04-01,2024-05-01,USD,1000.00,Ana,Widgets',
  'INV-2,C1,Acme,Retail,US,2024-05-15,2024-06-14,USD,500.00,Ana,Gadgets',
  'INV-3,C2,Globex,Energy,DE,2024-06-01,2024-07-01,EUR,200.00,Ben,Widgets',
  'INV-4,C3,Initech,Retail,US,2024-01-10,2024-02-09,USD,80.00,Ben,Widgets',
  'INV-5,C3,Initech,Retail,US,2024-04-10,2024-05-10,USD,30.00,Ben,Widgets',
].join('\n');
const PAYMENTS = ['payment_id,invoice_id,date,amount,kind', 'P-1,INV-1,2024-05-11,1000.00,payment', 'P-2,INV-2,2024-07-20,500.00,payment',
  'W-1,INV-4,2024-06-01,80.00,write_off', 'CN-1,INV-5,2024-05-20,30.00,credit_note'].join('\n');

describe('HTTP API', () => {
  let store: Store;
  let app: ReturnType<typeof createApp>;
  const logger = createLogger('silent');
  beforeAll(async () => {
    store = await openTestStore(BACKENDS[0]!);
    await importInvoicesCsv(store.db, 1, INVOICES);
    await importPaymentsCsv(store.db, 1, PAYMENTS);
    await importInvoicesCsv(store.db, 2, 'invoice_id,customer_id,issue_date,due_date,amount,currency\nX-1,C9,2024-01-01,2024-01-31,5,USD');
    app = createApp({ db: store.db, config: { env: 'development', defaultPortalId: 1 }, logger, today: () => '2024-06-30' });
  });
  afterAll(async () => store.close());

  it('answers the liveness probe', async () => {
    const res = await request(app).get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('reports the portfolio per currency as of a date, in the report contract', async () => {
    const res = await request(app).get('/api/v1/portfolio').query({ asOf: '2024-06-30', by: 'customer' });
    expect(res.status).toBe(200);
    expect(res.body.as_of).toBe('2024-06-30');
    const reports = res.body.reports.map((r: unknown) => ReportSchema.parse(r));
    expect(reports.map((r: { currency: string }) => r.currency)).toEqual(['EUR', 'USD']);
    const usd = reports[1];
    // INV-1 paid on 2024-05-11 (10 days late); INV-2 open 16 days past due at 2024-06-30; P-2 is after D.
    expect(usd.portfolio.outstanding).toBe('500.00');
    expect(usd.portfolio.overdue).toBe('500.00');
    expect(usd.groups.map((g: { key: string }) => g.key)).toEqual(['C1', 'C3']);
  });

  it('groups by rep when asked and defaults asOf to today', async () => {
    const res = await request(app).get('/api/v1/portfolio?by=rep');
    expect(res.status).toBe(200);
    expect(res.body.as_of).toBe('2024-06-30');
    expect(res.body.reports.flatMap((r: { groups: { key: string }[] }) => r.groups.map((g) => g.key))).toEqual(['Ben', 'Ana', 'Ben']);
  });

  it('returns one customer summary with its invoice and payment history', async () => {
    const res = await request(app).get('/api/v1/companies/C1/summary?asOf=2024-06-30');
    expect(res.status).toBe(200);
    const summary = CompanySummarySchema.parse(res.body);
    expect(summary.customer).toEqual({ id: 'C1', name: 'Acme', domain: null, industry: 'Retail', country: 'US' });
    expect(summary.invoices.map((i) => [i.id, i.status, i.open, i.days_late, i.paid_date])).toEqual([
      ['INV-2', 'overdue', '500.00', 16, null],
      ['INV-1', 'paid', '0.00', 10, '2024-05-11'],
    ]);
    expect(summary.payments.map((p) => p.id)).toEqual(['P-1']);
    expect(summary.currencies).toHaveLength(1);
    expect(summary.currencies[0]?.metrics.outstanding).toBe('500.00');
    // After the late payment lands, the same customer is fully paid.
    const later = CompanySummarySchema.parse((await request(app).get('/api/v1/companies/C1/summary?asOf=2024-07-31')).body);
    expect(later.invoices.map((i) => i.status)).toEqual(['paid', 'paid']);
  });

  it('shows invoices closed without payment as written off or credited', async () => {
    const summary = CompanySummarySchema.parse((await request(app).get('/api/v1/companies/C3/summary?asOf=2024-06-30')).body);
    expect(summary.invoices.map((i) => [i.id, i.status, i.open, i.paid_date, i.days_late])).toEqual([
      ['INV-5', 'credited', '0.00', null, null],
      ['INV-4', 'written_off', '0.00', null, null],
    ]);
    expect(summary.currencies[0]?.risk.reasons).toContain('1 invoice was written off in the last 12 months');
  });

  it.each([
    ['/api/v1/portfolio?asOf=2024-02-30', /asOf/],
    ['/api/v1/portfolio?asOf=yesterday', /asOf/],
    ['/api/v1/portfolio?by=planet', /by/],
    ['/api/v1/portfolio?dsoMonths=0', /dsoMonths/],
    ['/api/v1/portfolio?color=red', /color|unrecognized/i],
    ['/api/v1/companies/C1/summary?asOf=2024-13-01', /asOf/],
    ['/api/v1/portfolio?asOf=0000-01-01', /asOf/],
    ['/api/v1/companies/C1%00/summary', /customerId/],
    ['/api/v1/companies/%E0%A4%A/summary', /%-escape/],
  ])('rejects %s with a 400 naming the parameter', async (url, field) => {
    const res = await request(app).get(url);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(res.body.message).toMatch(field);
  });

  it('answers 404 in JSON for an unknown customer and an unknown route', async () => {
    const missing = await request(app).get('/api/v1/companies/NOPE/summary');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: 'not_found', message: 'No customer NOPE in this portal' });
    const route = await request(app).get('/api/v1/nothing-here');
    expect(route.status).toBe(404);
    expect(route.body.error).toBe('not_found');
  });

  it('scopes every request to its portal', async () => {
    const other = await request(app).get('/api/v1/companies/C1/summary').set('x-arbridge-portal-id', '2');
    expect(other.status).toBe(404);
    const own = await request(app).get('/api/v1/companies/C9/summary?asOf=2024-06-30').set('x-arbridge-portal-id', '2');
    expect(own.status).toBe(200);
    expect(own.body.customer.id).toBe('C9');
    const portfolio = await request(app).get('/api/v1/portfolio?asOf=2024-06-30').set('x-arbridge-portal-id', '2');
    expect(portfolio.body.reports.flatMap((r: { groups: { key: string }[] }) => r.groups.map((g) => g.key))).toEqual(['C9']);
    const bad = await request(app).get('/api/v1/portfolio').set('x-arbridge-portal-id', 'abc');
    expect(bad.status).toBe(400);
  });

  it('refuses unsigned tenant requests in production, header or not', async () => {
    const production = createApp({ db: store.db, config: { env: 'production', defaultPortalId: 1 }, logger, today: () => '2024-06-30' });
    for (const req of [request(production).get('/api/v1/portfolio'), request(production).get('/api/v1/portfolio').set('x-arbridge-portal-id', '1')]) {
      const res = await req;
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('unauthenticated');
    }
    expect((await request(production).get('/healthz')).status).toBe(200);
  });
});
