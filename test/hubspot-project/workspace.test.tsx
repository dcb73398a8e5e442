import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { Button, EmptyState, Input, Link, Select, Table, TableCell, TableRow, Tag, Text } from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { resetApiBaseUrl, setApiBaseUrl } from '../../extensions/index.ts';
import { AppPages } from '../../extensions/pages/AppPages.tsx';
import { addDays } from '../../src/domain/calendar.ts';
import { setCompanyLink } from '../../src/hubspot/links.ts';
import { ensurePortal, idsByExternalId, upsertCustomers, upsertInvoices } from '../../src/store/facts.ts';
import type { Store } from '../../src/store/store.ts';
import { PUBLIC_URL, proxyFetch, startService, type Service } from './e2e-service.tsx';

// The AR workspace (the app's home page), rendered by HubSpot's test renderer through the app's page router,
// against the real service over loopback with signed requests.

const SECRET = 'workspace-page-client-secret';
const PORTAL = 4_242_009;
const TODAY = '2026-06-30';
const USER = { id: 9_009, email: 'ada.ar@example.com' };
const day = (offset: number) => addDays(TODAY, offset);

let service: Service;

const seed = async (store: Store): Promise<void> => {
  const db = store.db;
  await ensurePortal(db, PORTAL);
  const customers = [
    { id: 'N', company: '9101', owner: '301', currency: 'USD', due: -50 },
    { id: 'S', company: '9102', owner: '302', currency: 'EUR', due: -70 },
  ];
  await upsertCustomers(db, PORTAL, 'csv', customers.map((c) => ({ id: c.id, name: `Customer ${c.id}`, domain: null, industry: null, country: null })));
  await upsertInvoices(db, PORTAL, 'csv', customers.map((c) => ({
    id: `INV-${c.id}`, number: `INV-${c.id}`, customerId: c.id, currency: c.currency, totalMinor: 123_456, issueDate: day(c.due - 30), dueDate: day(c.due),
    voidedDate: null, disputed: false, salesRep: null, product: null, dealId: null, terms: null,
  })));
  const ids = await idsByExternalId(db, 'customers', PORTAL, 'csv', customers.map((c) => c.id));
  for (const c of customers) {
    await setCompanyLink(db, PORTAL, { customerId: String(ids.get(c.id)), companyId: c.company, method: 'explicit_id' });
    await db.insertInto('hubspot_companies').values({ portal_id: PORTAL, company_id: c.company, name: `Company ${c.id}`, owner_id: c.owner }).execute();
  }
  await db.insertInto('communication_log').values({
    portal_id: PORTAL, customer_id: ids.get('N') as number, kind: 'promise', occurred_on: day(-20), summary: 'Pays Friday',
    promise_date: day(2), amount_minor: 50_000, currency: 'USD', status: 'open',
  }).execute();
  await db.insertInto('help_requests').values({
    portal_id: PORTAL, customer_id: ids.get('S') as number, object_type: 'company', object_id: '9102', company_id: '9102', deal_id: null,
    owner_id: '302', needed: 'Ask their CFO', needed_by: day(3), status: 'open', requested_on: day(-5), sla_due_on: day(-1),
  }).execute();
};

const render = () => {
  setApiBaseUrl(PUBLIC_URL);
  const renderer = createRenderer('pages');
  const { context } = renderer.mocks;
  context.portal.id = PORTAL;
  context.user.id = USER.id;
  context.user.email = USER.email;
  context.user.locale = 'en-US';
  const proxy = proxyFetch(service, SECRET, () => ({ portalId: context.portal.id, userId: context.user.id, userEmail: context.user.email }));
  renderer.render(<AppPages />);
  return { ...renderer, ...proxy };
};

type Rendered = ReturnType<typeof render>;
/** The cells of a worklist table (header row left out): a tag's, a link's or the cell's text. */
const rowsOf = (rendered: Rendered, testId: string) =>
  rendered.findByTestId(Table, testId).findAll(TableRow).slice(1).map((row) => row.findAll(TableCell).map((c) => c.maybeFind(Tag)?.text ?? c.maybeFind(Link)?.text ?? c.text));

beforeAll(async () => {
  service = await startService({ clientSecret: SECRET, portalId: PORTAL, today: TODAY, seed });
});
afterAll(async () => service?.close());
afterEach(() => {
  jest.restoreAllMocks();
  resetApiBaseUrl();
});

describe('AR workspace page (real service)', () => {
  test('shows the worklist with every row linked to its HubSpot record', async () => {
    const page = render();
    const { findByTestId, findAll, waitFor } = page;
    await waitFor(() => expect(findByTestId(Table, 'stalled')).toBeDefined());
    expect(rowsOf(page, 'stalled')).toEqual([
      ['Company S', '€1,234.56', '70', 'Never', 'Never', '302'],
      ['Company N', '$1,234.56', '50', 'Never', 'Jun 10, 2026', '301'],
    ]);
    expect(rowsOf(page, 'help-requests')).toEqual([
      ['Customer S', 'Ask their CFO', 'Jul 3, 2026', 'Open', 'SLA missed (Jun 29, 2026)', '302'],
    ]);
    expect(rowsOf(page, 'promises-due')).toEqual([['Customer N', 'Jul 2, 2026', '$500.00', '$0.00', '301']]);
    expect(findByTestId(Text, 'broken-promises-empty').text).toBe('No promise was broken in the last 30 days.');
    expect(findByTestId(Text, 'big-deals-empty').text).toBe('No big deal closed in the last 7 days.');
    const links = findAll(Link).map((l) => (l.props.href as { url: string }).url);
    expect(links).toContain(`https://app.hubspot.com/contacts/${PORTAL}/record/0-2/9101`);
    expect(links).toContain(`https://app.hubspot.com/contacts/${PORTAL}/record/0-2/9102`);
  });

  test('a rep narrows it to their book by owner; a currency with nothing shows the all-clear', async () => {
    const page = render();
    const { findAll, findByTestId, find, waitFor, spy } = page;
    await waitFor(() => expect(findByTestId(Table, 'stalled')).toBeDefined());
    findAll(Input).find((i) => i.props.name === 'owner')!.trigger('onChange', '301' as never);
    findByTestId(Button, 'apply-filters').trigger('onClick');
    await waitFor(() => expect(rowsOf(page, 'stalled').map((r) => r[0])).toEqual(['Company N']));
    expect(findByTestId(Text, 'help-requests-empty').text).toBe('No help request is open.');
    expect(String(spy.mock.calls.at(-1)?.[0])).toContain('/api/v1/workspace?owner=301');

    findAll(Select).find((s) => s.props.name === 'currency')!.trigger('onChange', 'GBP' as never);
    findByTestId(Button, 'apply-filters').trigger('onClick');
    await waitFor(() => expect(find(EmptyState).props.title).toBe('Nothing needs attention'));
  });
});
