import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { Alert, BarChart, Button, LineChart, ErrorState, SearchInput, StatisticsItem, StatusTag, Table, TableCell, TableRow, Tag, Text } from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { CompanyCard, DealCard, resetApiBaseUrl, setApiBaseUrl } from '../../extensions/index.ts';
import { formatMinor } from '../../src/domain/money.ts';
import { setCompanyLink, setDealLink } from '../../src/hubspot/links.ts';
import { loadDemo } from '../../src/services/demo.ts';
import { touchPortal } from '../../src/store/facts.ts';
import { companySummary } from '../../src/services/reports.ts';
import type { Store } from '../../src/store/store.ts';
import { PUBLIC_URL, proxyFetch, startService, type Service } from './e2e-service.tsx';

// End to end: the cards, rendered by HubSpot's test renderer, call the real service over loopback through a
// `hubspot.fetch` that adds HubSpot's parameters and a real v3 signature; the service answers from PGlite with the
// demo portfolio. Expected figures come from the service's own summary of the same store.

const SECRET = 'e2e-client-secret';
const PORTAL = 4_242_001;
const TODAY = '2026-06-30';
const LINKED_COMPANY = '7000001';
const UNMATCHED_COMPANY = '7000002';
const DEAL = '8000001';
const USER = { id: 9_001, email: 'ana.rep@example.com' };

type Customer = { id: number; external_id: string; name: string | null };

let service: Service;
let linked: Customer;
let spare: Customer;
let dealInvoices: Array<{ id: number; external_id: string; number: string | null; currency: string; total_minor: number; due_date: string }>;

/** What a person reads for an amount: the card formats in the user's locale (en-US here). */
const money = (amount: string, currency: string): string =>
  new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(Number(amount));

const seed = async (store: Store): Promise<void> => {
  await loadDemo(store.db, PORTAL, { customers: 12, invoices: 240, seed: 42, endDate: TODAY });
  const customers = await store.db.selectFrom('customers').select(['id', 'external_id', 'name'])
    .where('portal_id', '=', PORTAL).orderBy('id').execute();
  // The company card's customer: the first with an overdue balance, so every figure on the card is non-trivial.
  let chosen: Customer | undefined;
  for (const customer of customers) {
    const summary = await companySummary(store.db, PORTAL, { rowId: customer.id }, TODAY);
    if (summary.currencies.some((c) => Number(c.metrics.overdue) > 0)) {
      chosen = customer;
      break;
    }
  }
  if (chosen === undefined) throw new Error('The demo portfolio has no customer with an overdue balance');
  linked = chosen;
  const other = customers.find((c) => c.id !== chosen.id && c.name !== null);
  if (other === undefined) throw new Error('The demo portfolio has no second named customer');
  spare = other;
  await setCompanyLink(store.db, PORTAL, { customerId: String(linked.id), companyId: LINKED_COMPANY, method: 'manual', linkedBy: USER.email });
  dealInvoices = await store.db.selectFrom('invoices')
    .select(['id', 'external_id', 'number', 'currency', 'total_minor', 'due_date'])
    .where('portal_id', '=', PORTAL).where('customer_id', '=', linked.id).where('issue_date', '<=', TODAY)
    .orderBy('issue_date').orderBy('id').limit(2).execute();
  if (dealInvoices.length < 2) throw new Error('The linked demo customer has fewer than 2 invoices');
  for (const invoice of dealInvoices) {
    await setDealLink(store.db, PORTAL, { invoiceId: String(invoice.id), dealId: DEAL, method: 'manual' });
  }
  await store.db.insertInto('hubspot_deals').values({ portal_id: PORTAL, deal_id: DEAL, name: 'Renewal', company_id: LINKED_COMPANY }).execute();
};

/**
 * Renders a card on a record of the portal for the user, its `hubspot.fetch` going through HubSpot's proxy (signed
 * with `clientSecret`), which reads the portal and user from the renderer's context as HubSpot does.
 */
const render = (card: 'company' | 'deal', objectId: string, clientSecret = SECRET) => {
  setApiBaseUrl(PUBLIC_URL);
  const renderer = createRenderer('crm.record.tab');
  const { context } = renderer.mocks;
  context.crm.objectId = Number(objectId);
  context.portal.id = PORTAL;
  context.user.id = USER.id;
  context.user.email = USER.email;
  context.user.locale = 'en-US';
  const { requests } = proxyFetch(service, clientSecret, () => ({ portalId: context.portal.id, userId: context.user.id, userEmail: context.user.email }));
  renderer.render(card === 'company' ? <CompanyCard /> : <DealCard />);
  return { ...renderer, requests };
};

beforeAll(async () => {
  service = await startService({ clientSecret: SECRET, portalId: PORTAL, today: TODAY, seed });
});

afterAll(async () => {
  await service?.close();
});

afterEach(() => {
  jest.restoreAllMocks();
  resetApiBaseUrl();
});

describe('cards against the real service (PGlite, demo data, signed loopback requests)', () => {
  test('the company card shows the linked customer\'s figures, risk and link method as the service computes them', async () => {
    const { findByTestId, waitFor, requests } = render('company', LINKED_COMPANY);
    const summary = await companySummary(service.store.db, PORTAL, { rowId: linked.id }, TODAY);
    const first = summary.currencies[0]!;
    await waitFor(() => expect(findByTestId(StatisticsItem, `outstanding-${first.currency}`).props.number)
      .toBe(money(first.metrics.outstanding, first.currency)));

    expect(findByTestId(Text, 'match').text).toBe(`Linked to ${linked.name ?? linked.id} (demo), linked by hand.`);
    expect(findByTestId(Text, 'as-of').text).toMatch(/^Figures as of \w{3} \d{1,2}, \d{4}$/);
    for (const { currency, metrics, risk } of summary.currencies) {
      expect(findByTestId(StatisticsItem, `outstanding-${currency}`).props.number).toBe(money(metrics.outstanding, currency));
      expect(findByTestId(StatisticsItem, `overdue-${currency}`).props.number).toBe(money(metrics.overdue, currency));
      expect(findByTestId(Tag, `risk-${currency}`).text).toBe(`Risk ${risk.tier} · ${risk.score}/100`);
      risk.reasons.forEach((reason, i) => expect(findByTestId(Text, `risk-reason-${currency}-${i}`).text).toBe(reason));
    }
    expect(summary.currencies.some((c) => Number(c.metrics.overdue) > 0)).toBe(true);
    // The aging chart and the payment history come from the same answer.
    for (const { currency, metrics } of summary.currencies) {
      expect(findByTestId(BarChart, `aging-${currency}`).props.data).toEqual(metrics.aging.map((b) => ({ bucket: b.bucket, amount: Number(b.amount), invoices: b.count })));
    }
    // The trend: one point per month with invoices paid, as the service counted them.
    for (const { currency, trend } of summary.currencies) {
      const points = (trend ?? []).filter((m) => m.avg_days_late !== null).map((m) => ({ month: m.month, days_late: m.avg_days_late, paid: m.paid }));
      expect(points.length).toBeGreaterThan(0);
      expect(findByTestId(LineChart, `trend-${currency}`).props.data).toEqual(points);
    }
    const history = findByTestId(Table, 'payment-history');
    expect(history.props).toMatchObject({ paginated: true, pageCount: Math.ceil(summary.invoices.length / 10) });
    expect(history.findAll(TableRow).length).toBe(1 + Math.min(10, summary.invoices.length));
    expect(requests).toEqual([{
      method: 'GET', status: 200,
      publicUrl: `${PUBLIC_URL}/api/v1/cards/company?objectId=${LINKED_COMPANY}&appId=5550001&portalId=${PORTAL}&userId=${USER.id}&userEmail=ana.rep%40example.com`,
    }]);
  });

  test('the deal card warns when outstanding plus the rest of the deal exceeds the credit limit', async () => {
    const summary = await companySummary(service.store.db, PORTAL, { rowId: linked.id }, TODAY);
    const { currency, metrics } = summary.currencies[0]!;
    const outstandingMinor = Math.round(Number(metrics.outstanding) * 100);
    await service.store.db.updateTable('customers').set({ credit_limit_minor: outstandingMinor + 50_000, credit_limit_currency: currency })
      .where('id', '=', linked.id).execute();
    // A deal far larger than what is invoiced on it: the rest of it puts the customer over the limit.
    await service.store.db.updateTable('hubspot_deals').set({ amount: '1000000.00', currency }).where('deal_id', '=', DEAL).execute();
    await touchPortal(service.store.db, PORTAL);
    const { findByTestId, waitFor } = render('deal', DEAL);
    await waitFor(() => expect(findByTestId(Alert, 'credit-check')).toBeDefined());
    const alert = findByTestId(Alert, 'credit-check');
    expect(alert.props.title).toBe('Over the credit limit');
    expect(alert.text).toContain(`Outstanding ${money(metrics.outstanding, currency)} + this deal `);
    expect(alert.text).toContain(`of a ${money(formatMinor(outstandingMinor + 50_000, currency), currency)} credit limit`);

    // Within the limit: a plain line, no warning.
    await service.store.db.updateTable('hubspot_deals').set({ amount: '0' }).where('deal_id', '=', DEAL).execute();
    await touchPortal(service.store.db, PORTAL);
    const again = render('deal', DEAL);
    await again.waitFor(() => expect(again.findByTestId(Text, 'credit-check').text).toContain('+ this deal'));
    expect(again.findAll(Alert)).toHaveLength(0);
  });

  test('the deal card shows the deal\'s invoice rows', async () => {
    const { findAll, findByTestId, waitFor, requests } = render('deal', DEAL);
    const [firstInvoice] = dealInvoices;
    await waitFor(() => expect(findByTestId(TableRow, `invoice-${firstInvoice!.external_id}`)).toBeDefined());

    // The header row, then one row per linked invoice, oldest first.
    expect(findAll(TableRow)).toHaveLength(1 + dealInvoices.length);
    for (const invoice of dealInvoices) {
      const cells = findByTestId(TableRow, `invoice-${invoice.external_id}`).findAll(TableCell).map((c) => c.text);
      expect(cells[0]).toBe(invoice.number ?? invoice.external_id);
      expect(cells[2]).toBe(money(formatMinor(invoice.total_minor, invoice.currency), invoice.currency));
      expect(findByTestId(StatusTag, `status-${invoice.external_id}`).text).toMatch(/^(Paid|Open|Overdue|Void|Written off|Credited)$/);
    }
    const summary = await companySummary(service.store.db, PORTAL, { rowId: linked.id }, TODAY);
    for (const { currency, risk } of summary.currencies) {
      expect(findByTestId(Tag, `risk-${currency}`).text).toBe(`Risk ${risk.tier} · ${risk.score}/100`);
    }
    expect(requests.map((r) => [r.method, r.status])).toEqual([['GET', 200]]);
  });

  test('an unmatched company offers the link picker; linking it (signed POST with an idempotency key) shows it matched', async () => {
    const { find, findByTestId, waitFor, requests } = render('company', UNMATCHED_COMPANY);
    await waitFor(() => expect(find(SearchInput).props.label).toBe('Customer name, domain or id'));
    find(SearchInput).trigger('onChange', spare.name as never);
    findByTestId(Button, 'search').trigger('onClick');
    await waitFor(() => expect(findByTestId(Button, `link-${spare.id}`)).toBeDefined());
    findByTestId(Button, `link-${spare.id}`).trigger('onClick');
    await waitFor(() => expect(findByTestId(Text, 'match').text).toBe(`Linked to ${spare.name} (demo), linked by hand.`));

    expect(requests.map((r) => [r.method, new URL(r.publicUrl).pathname, r.status])).toEqual([
      ['GET', '/api/v1/cards/company', 200],
      ['GET', '/api/v1/cards/customers', 200],
      ['POST', '/api/v1/cards/company/link', 200],
      ['GET', '/api/v1/cards/company', 200],
    ]);
    const link = await service.store.db.selectFrom('company_links').select(['company_id', 'method', 'linked_by'])
      .where('portal_id', '=', PORTAL).where('customer_id', '=', spare.id).executeTakeFirstOrThrow();
    expect(link).toEqual({ company_id: UNMATCHED_COMPANY, method: 'manual', linked_by: USER.email });
    const keys = await service.store.db.selectFrom('idempotency_keys').selectAll().where('portal_id', '=', PORTAL).execute();
    expect(keys).toHaveLength(1);
  });

  test('a request signed with the wrong client secret is refused (401) and the card shows its error state', async () => {
    const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const { find, findByTestId, maybeFind, waitFor, requests } = render('company', LINKED_COMPANY, 'not-the-client-secret');
    await waitFor(() => expect(find(ErrorState).props.title).toBe('Receivables are not available'));
    expect(find(ErrorState).find(Text).text).toBe('ARBridge could not answer this request.');
    expect(findByTestId(Button, 'retry')).toBeDefined();
    expect(maybeFind(StatisticsItem)).toBeNull();
    expect(requests.map((r) => r.status)).toEqual([401]);
    expect(String(logged.mock.calls[0]?.[0])).toContain('http 401');
    expect(String(logged.mock.calls[0]?.[0])).toContain('X-HubSpot-Signature-v3 does not match the request');
  });
});
