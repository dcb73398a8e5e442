import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { hubspot, Button, DateInput, Input, Select, Table, TableCell, TableRow, Tag, Text, TextArea } from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { CompanyCard, resetApiBaseUrl, setApiBaseUrl } from '../../extensions/index.ts';
import { setCompanyLink } from '../../src/hubspot/links.ts';
import { loadDemo } from '../../src/services/demo.ts';
import { recordTermsAck } from '../../src/services/terms.ts';
import type { Store } from '../../src/store/store.ts';
import { PUBLIC_URL, proxyFetch, startService, type Service } from './e2e-service.tsx';

// The company card's communication log (promises to pay, disputes, filters) and the terms shown next to an overdue
// figure, rendered by HubSpot's test renderer against the real service over loopback with signed requests.

const SECRET = 'comm-log-client-secret';
const PORTAL = 4_242_007;
const TODAY = '2026-06-30';
const COMPANY = '7100007';
const DEAL = '8100007';
const USER = { id: 9_007, email: 'ada.ar@example.com' };

let service: Service;

/** Customers of the portal with an invoice open and past due today, by store id. */
const overdueCustomers = async (store: Store): Promise<{ customerId: number; currency: string }[]> => {
  const rows = await store.db.selectFrom('invoices as i')
    .leftJoin('payment_allocations as a', (join) => join.onRef('a.invoice_id', '=', 'i.id').on('a.payment_date', '<=', TODAY))
    .select(['i.customer_id', 'i.currency', 'i.id', 'i.total_minor', (eb) => eb.fn.coalesce(eb.fn.sum<string>('a.amount_minor'), eb.val('0')).as('settled')])
    .where('i.portal_id', '=', PORTAL).where('i.due_date', '<', TODAY).where('i.issue_date', '<=', TODAY).where('i.voided_date', 'is', null)
    .groupBy(['i.customer_id', 'i.currency', 'i.id', 'i.total_minor'])
    .orderBy('i.customer_id').orderBy('i.currency')
    .execute();
  return rows.filter((r) => Number(r.settled) < Number(r.total_minor)).map((r) => ({ customerId: Number(r.customer_id), currency: r.currency }));
};

let overdueCurrency: string;

const seed = async (store: Store): Promise<void> => {
  await loadDemo(store.db, PORTAL, { customers: 4, invoices: 40, seed: 7, endDate: TODAY });
  const overdue = await overdueCustomers(store);
  const first = overdue[0];
  if (first === undefined) throw new Error('The demo portal has no overdue invoice');
  overdueCurrency = first.currency;
  await setCompanyLink(store.db, PORTAL, { customerId: String(first.customerId), companyId: COMPANY, method: 'manual', linkedBy: USER.email });
  await store.db.insertInto('hubspot_deals').values({ portal_id: PORTAL, deal_id: DEAL, name: 'Renewal', company_id: COMPANY }).execute();
};

const render = () => {
  setApiBaseUrl(PUBLIC_URL);
  const renderer = createRenderer('crm.record.tab');
  const { context } = renderer.mocks;
  context.crm.objectId = Number(COMPANY);
  context.portal.id = PORTAL;
  context.user.id = USER.id;
  context.user.email = USER.email;
  context.user.locale = 'en-US';
  const proxy = proxyFetch(service, SECRET, () => ({ portalId: context.portal.id, userId: context.user.id, userEmail: context.user.email }));
  renderer.render(<CompanyCard />);
  return { ...renderer, ...proxy };
};

const postsOf = (spy: jest.SpiedFunction<typeof hubspot.fetch>) => spy.mock.calls
  .filter(([, options]) => options?.method === 'POST')
  .map(([url, options]) => ({ path: new URL(String(url)).pathname, body: options?.body as Record<string, unknown> }));

beforeAll(async () => {
  service = await startService({ clientSecret: SECRET, portalId: PORTAL, today: TODAY, seed });
});
afterAll(async () => service?.close());
afterEach(() => {
  jest.restoreAllMocks();
  resetApiBaseUrl();
});

describe('communication log and terms on the company card (real service)', () => {
  test('an overdue figure shows the terms on record, or says there are none', async () => {
    const currency = overdueCurrency;
    const first = render();
    await first.waitFor(() => expect(first.findByTestId(Text, `overdue-terms-${currency}`).text)
      .toBe('Overdue, and no payment-terms acknowledgment is on record for this company.'));

    await recordTermsAck(service.store.db, PORTAL, {
      dealId: DEAL, terms: 'Net 30', contactName: 'Paula Payer', acknowledgedOn: '2026-05-02', recordedBy: USER.email,
    }, TODAY);
    const card = render();
    await card.waitFor(() => expect(card.findByTestId(Text, `overdue-terms-${currency}`).text)
      .toBe(`Overdue against the terms on record: "Net 30", acknowledged by Paula Payer on May 2, 2026 (deal ${DEAL}).`));
  });

  test('logs a promise to pay and a dispute, filters the log by kind and resolves the dispute', async () => {
    const rendered = render();
    const { findAll, findByTestId, maybeFindByTestId, spy } = rendered;
    /** waitFor, failing with the check's own error (what was shown instead) rather than a bare timeout. */
    const waitFor = async (check: () => void) => {
      try {
        await rendered.waitFor(check);
      } catch {
        check();
      }
    };
    await waitFor(() => expect(findByTestId(Button, 'add-log')).toBeDefined());
    const rows = () => findByTestId(Table, 'log').findAll(TableRow).slice(1)
      .map((row) => row.findAll(TableCell).map((c) => c.maybeFind(Tag)?.text ?? c.text));
    const select = (name: string) => findAll(Select).find((s) => s.props.name === name)!;
    const kinds = select('log-kind').props.options.map((o) => o.label);
    expect(kinds).toEqual(['Note', 'Call', 'Email', 'Promise to pay', 'Dispute']);

    select('log-kind').trigger('onChange', 'promise' as never);
    const currency = String(select('log-currency').props.value);
    expect(currency).toMatch(/^[A-Z]{3}$/);
    findAll(DateInput).find((d) => d.props.name === 'log-promise-date')!.trigger('onChange', { year: 2026, month: 6, date: 10 } as never);
    findAll(Input).find((i) => i.props.name === 'log-amount')!.trigger('onChange', '250.00' as never);
    findByTestId(Button, 'add-log').trigger('onClick');
    await waitFor(() => expect(rows()[0]?.[1]).toBe('Promise to pay'));
    expect(rows()[0]?.[2]).toMatch(new RegExp(`^Promised to pay 250\\.00 ${currency} by 2026-07-10 · .*250\\.00 · by Jul 10, 2026 · \\(pending\\)$`));

    select('log-kind').trigger('onChange', 'dispute' as never);
    const invoiceOption = select('log-invoice').props.options[1]!;
    select('log-invoice').trigger('onChange', invoiceOption.value as never);
    findAll(TextArea).find((t) => t.props.name === 'log-summary')!.trigger('onChange', 'Customer disputes the freight charge' as never);
    findByTestId(Button, 'add-log').trigger('onClick');
    await waitFor(() => expect(rows()[0]?.[1]).toBe('Dispute'));
    expect(rows()[0]?.[2]).toBe(`Customer disputes the freight charge · invoice ${String(invoiceOption.value)} · (open)`);

    const [promisePost, disputePost] = postsOf(spy);
    expect(promisePost?.body).toEqual({
      objectId: COMPANY, kind: 'promise', occurredOn: TODAY, promiseDate: '2026-07-10', amount: '250.00', currency, idempotencyKey: expect.any(String),
    });
    expect(disputePost?.body).toEqual({
      objectId: COMPANY, kind: 'dispute', occurredOn: TODAY, summary: 'Customer disputes the freight charge', invoiceId: invoiceOption.value,
      idempotencyKey: expect.any(String),
    });

    // Filters apply to the entries the card holds (with the terms acknowledgment logged in the test before: three).
    select('log-filter').trigger('onChange', 'promises' as never);
    await waitFor(() => expect(rows().map((r) => r[1])).toEqual(['Promise to pay']));
    select('log-filter').trigger('onChange', 'requests' as never);
    await waitFor(() => expect(findByTestId(Text, 'log-filter-empty').text).toBe('None among the latest 3 entries.'));
    select('log-filter').trigger('onChange', 'all' as never);

    const dispute = await service.store.db.selectFrom('communication_log').select('id')
      .where('portal_id', '=', PORTAL).where('kind', '=', 'dispute').executeTakeFirstOrThrow();
    findAll(TextArea).find((t) => t.props.name === `resolution-${dispute.id}`)!.trigger('onChange', 'Freight credited' as never);
    findByTestId(Button, `resolve-${dispute.id}`).trigger('onClick');
    await waitFor(() => expect(rows()[0]?.[2])
      .toBe(`Customer disputes the freight charge · invoice ${String(invoiceOption.value)} · (resolved) · resolved Jun 30, 2026: Freight credited`));
    expect(maybeFindByTestId(Button, `resolve-${dispute.id}`)).toBeNull();
    expect(postsOf(spy)[2]).toEqual({
      path: `/api/v1/cards/company/log/${dispute.id}/resolve`,
      body: { objectId: COMPANY, resolvedOn: TODAY, resolution: 'Freight credited', idempotencyKey: expect.any(String) },
    });
  });
});
