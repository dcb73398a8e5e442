import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { hubspot, Alert, Button, Input, Select, Text } from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { CompanyCard, DealCard, resetApiBaseUrl, setApiBaseUrl } from '../../extensions/index.ts';
import { setCompanyLink } from '../../src/hubspot/links.ts';
import { loadDemo } from '../../src/services/demo.ts';
import type { Store } from '../../src/store/store.ts';
import { PUBLIC_URL, proxyFetch, startService, type Service } from './e2e-service.tsx';

// The credit limit on the company card (shown, set by hand, removed) and the deal card's credit-check line that
// follows it, rendered by HubSpot's test renderer against the real service over loopback with signed requests.

const SECRET = 'credit-limit-client-secret';
const PORTAL = 4_242_008;
const TODAY = '2026-06-30';
const COMPANY = '7100008';
const DEAL = '8100008';
const USER = { id: 9_008, email: 'ada.ar@example.com' };

let service: Service;
let currency = 'USD';

const seed = async (store: Store): Promise<void> => {
  await loadDemo(store.db, PORTAL, { customers: 4, invoices: 40, seed: 7, endDate: TODAY });
  const customer = await store.db.selectFrom('customers').select('id').where('portal_id', '=', PORTAL).orderBy('id').executeTakeFirstOrThrow();
  const invoice = await store.db.selectFrom('invoices').select('currency').where('customer_id', '=', customer.id).executeTakeFirstOrThrow();
  currency = invoice.currency;
  await setCompanyLink(store.db, PORTAL, { customerId: String(customer.id), companyId: COMPANY, method: 'manual', linkedBy: USER.email });
  await store.db.insertInto('hubspot_deals').values({ portal_id: PORTAL, deal_id: DEAL, name: 'Renewal', company_id: COMPANY, amount: '1000', currency: null }).execute();
};

const render = (card: 'company' | 'deal', objectId: string) => {
  setApiBaseUrl(PUBLIC_URL);
  const renderer = createRenderer('crm.record.tab');
  const { context } = renderer.mocks;
  context.crm.objectId = Number(objectId);
  context.portal.id = PORTAL;
  context.user.id = USER.id;
  context.user.email = USER.email;
  context.user.locale = 'en-US';
  const proxy = proxyFetch(service, SECRET, () => ({ portalId: context.portal.id, userId: context.user.id, userEmail: context.user.email }));
  renderer.render(card === 'company' ? <CompanyCard /> : <DealCard />);
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

describe('credit limit on the company card and the deal card\'s credit check (real service)', () => {
  test('no limit: the company card says so and the deal card has no credit line', async () => {
    const company = render('company', COMPANY);
    await company.waitFor(() => expect(company.findByTestId(Text, 'credit-limit-text').text).toBe('No credit limit is known for this customer.'));
    expect(company.findByTestId(Button, 'edit-credit-limit').text).toBe('Set a limit');
    expect(company.maybeFindByTestId(Button, 'clear-credit-limit')).toBeNull();
    const deal = render('deal', DEAL);
    await deal.waitFor(() => expect(deal.findByTestId(Text, 'no-terms-ack')).toBeDefined());
    expect(deal.maybeFindByTestId(Text, 'credit-check')).toBeNull();
    expect(deal.maybeFindByTestId(Alert, 'credit-check')).toBeNull();
  });

  test('sets a limit by hand (a refused amount is marked first), then the deal card checks against it', async () => {
    jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const { findAll, findByTestId, waitFor, spy } = render('company', COMPANY);
    await waitFor(() => expect(findByTestId(Button, 'edit-credit-limit')).toBeDefined());
    findByTestId(Button, 'edit-credit-limit').trigger('onClick');
    const currencySelect = findAll(Select).find((s) => s.props.name === 'credit-limit-currency')!;
    expect(currencySelect.props.value).toBe(currency);
    findAll(Input).find((i) => i.props.name === 'credit-limit-amount')!.trigger('onChange', '1.5.0' as never);
    findByTestId(Button, 'save-credit-limit').trigger('onClick');
    await waitFor(() => expect(findAll(Input).find((i) => i.props.name === 'credit-limit-amount')!.props.error).toBe(true));
    expect(findAll(Alert).map((a) => a.props.title)).toContain('The credit limit was not saved');

    findAll(Input).find((i) => i.props.name === 'credit-limit-amount')!.trigger('onChange', '1' as never);
    findByTestId(Button, 'save-credit-limit').trigger('onClick');
    await waitFor(() => expect(findByTestId(Text, 'credit-limit-text').text).toMatch(/^Credit limit .*1\.00, set by ada\.ar@example\.com on [A-Z][a-z]{2} \d{1,2}, \d{4}\.$/));
    expect(findByTestId(Button, 'clear-credit-limit').text).toBe('Remove the limit');
    const posts = postsOf(spy);
    expect(posts.map((p) => [p.path, p.body.amount, p.body.currency])).toEqual([
      ['/api/v1/cards/company/credit-limit', '1.5.0', currency],
      ['/api/v1/cards/company/credit-limit', '1', currency],
    ]);
    const row = await service.store.db.selectFrom('customers').select(['manual_credit_limit_minor', 'manual_credit_limit_currency', 'credit_limit_set_by'])
      .where('portal_id', '=', PORTAL).where('manual_credit_limit_minor', 'is not', null).execute();
    expect(row).toEqual([{ manual_credit_limit_minor: 100, manual_credit_limit_currency: currency, credit_limit_set_by: USER.email }]);

    // A 1.00 limit: the deal's 1000 alone exceeds it.
    const deal = render('deal', DEAL);
    await deal.waitFor(() => expect(deal.findByTestId(Alert, 'credit-check').props.title).toBe('Over the credit limit'));
    expect(deal.findByTestId(Alert, 'credit-check').text).toContain('1.00 credit limit');
  });

  test('removes the hand-set limit', async () => {
    const { findByTestId, waitFor } = render('company', COMPANY);
    await waitFor(() => expect(findByTestId(Button, 'clear-credit-limit')).toBeDefined());
    findByTestId(Button, 'clear-credit-limit').trigger('onClick');
    await waitFor(() => expect(findByTestId(Text, 'credit-limit-text').text).toBe('No credit limit is known for this customer.'));
  });
});
