import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { hubspot, Alert, Button, DateInput, Table, TableCell, TableRow, Tag, TextArea } from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { CompanyCard, DealCard, resetApiBaseUrl, setApiBaseUrl } from '../../extensions/index.ts';
import { setCompanyLink } from '../../src/hubspot/links.ts';
import { loadDemo } from '../../src/services/demo.ts';
import type { Store } from '../../src/store/store.ts';
import { PUBLIC_URL, proxyFetch, startService, type Service } from './e2e-service.tsx';

// Help requests on the company and deal cards, rendered by HubSpot's test renderer against the real service over
// loopback with signed requests: ask the owner, see the request with its SLA state, move it on with the buttons.

const SECRET = 'help-requests-client-secret';
const PORTAL = 4_242_003;
const TODAY = '2026-06-30';
const COMPANY = '7200001';
const DEAL = '8200001';
const COMPANY_OWNER = '601';
const DEAL_OWNER = '602';
const USER = { id: 9_003, email: 'sam.ar@example.com' };

let service: Service;

const seed = async (store: Store): Promise<void> => {
  await loadDemo(store.db, PORTAL, { customers: 4, invoices: 40, seed: 11, endDate: TODAY });
  const customer = await store.db.selectFrom('customers').select('id').where('portal_id', '=', PORTAL).orderBy('id').executeTakeFirstOrThrow();
  await setCompanyLink(store.db, PORTAL, { customerId: String(customer.id), companyId: COMPANY, method: 'manual', linkedBy: USER.email });
  await store.db.insertInto('hubspot_companies').values({ portal_id: PORTAL, company_id: COMPANY, name: 'Acme', owner_id: COMPANY_OWNER }).execute();
  await store.db.insertInto('hubspot_deals').values({ portal_id: PORTAL, deal_id: DEAL, name: 'Renewal', company_id: COMPANY, owner_id: DEAL_OWNER }).execute();
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

/** The JSON bodies the card POSTed through `hubspot.fetch`, per path. */
const postsOf = (spy: jest.SpiedFunction<typeof hubspot.fetch>) => spy.mock.calls
  .filter(([, options]) => options?.method === 'POST')
  .map(([url, options]) => ({ path: new URL(String(url)).pathname, body: options?.body as Record<string, unknown> }));

type Rendered = ReturnType<typeof render>;

/** The list's rows as the card shows them: needed, by, status, SLA, requested by, task (tags by their text). */
const rows = ({ findByTestId }: Rendered) => findByTestId(Table, 'help-requests').findAll(TableRow).slice(1)
  .map((row) => row.findAll(TableCell).slice(0, 6).map((c) => c.maybeFind(Tag)?.text ?? c.text));

/** The status buttons a row offers, by label. */
const buttonsOf = ({ findByTestId }: Rendered, index: number) => findByTestId(Table, 'help-requests').findAll(TableRow).slice(1)[index]!
  .findAll(Button).map((b) => b.text);

beforeAll(async () => {
  service = await startService({ clientSecret: SECRET, portalId: PORTAL, today: TODAY, seed });
});
afterAll(async () => service?.close());
afterEach(() => {
  jest.restoreAllMocks();
  resetApiBaseUrl();
});

describe('help requests on the cards (real service)', () => {
  test('the company card asks the owner for help; the request is listed open within its SLA, then accepted and done', async () => {
    const card = render('company', COMPANY);
    const { findAll, findByTestId, waitFor, spy } = card;
    await waitFor(() => expect(findByTestId(Button, 'ask-help')).toBeDefined());
    expect(findByTestId(Button, 'ask-help').props.disabled).toBe(true);
    // Needed by defaults to two days after the as-of date.
    expect(findAll(DateInput).find((d) => d.props.name === 'help-by')!.props.value).toEqual({ year: 2026, month: 6, date: 2 });
    findAll(TextArea).find((t) => t.props.name === 'help-needed')!.trigger('onChange', 'Ask their CFO to release the March invoices' as never);
    findByTestId(Button, 'ask-help').trigger('onClick');

    await waitFor(() => expect(rows(card)).toHaveLength(1));
    expect(rows(card)).toEqual([['Ask their CFO to release the March invoices', 'Jul 2, 2026', 'Open', 'Within SLA', `${USER.email} on Jun 30, 2026`, 'Queued for HubSpot']]);
    expect(buttonsOf(card, 0)).toEqual(['Accept', 'Done', 'Decline']);
    expect(findAll(TextArea).find((t) => t.props.name === 'help-needed')!.props.value).toBe('');
    const stored = await service.store.db.selectFrom('help_requests').selectAll().where('portal_id', '=', PORTAL).execute();
    expect(stored.map((r) => [r.object_type, r.object_id, r.company_id, r.owner_id, r.needed_by, r.status, r.requested_by]))
      .toEqual([['company', COMPANY, COMPANY, COMPANY_OWNER, '2026-07-02', 'open', USER.email]]);
    const id = String(stored[0]!.id);
    const task = await service.store.db.selectFrom('hubspot_tasks').selectAll().where('portal_id', '=', PORTAL).where('task_key', '=', `help_request:${id}`).executeTakeFirstOrThrow();
    expect(task).toMatchObject({ owner_id: COMPANY_OWNER, status: 'pending', company_id: COMPANY, due_on: '2026-07-02' });

    findByTestId(Button, `help-${id}-accepted`).trigger('onClick');
    await waitFor(() => expect(rows(card)[0]?.[2]).toBe('Accepted'));
    expect(rows(card)[0]?.[3]).toBe('Answered');
    expect(buttonsOf(card, 0)).toEqual(['Done', 'Decline']);

    findByTestId(Button, `help-${id}-done`).trigger('onClick');
    await waitFor(() => expect(rows(card)[0]?.[2]).toBe('Done'));
    expect(buttonsOf(card, 0)).toEqual([]);

    expect(postsOf(spy)).toEqual([
      {
        path: '/api/v1/cards/help-requests',
        body: { objectType: 'company', objectId: COMPANY, needed: 'Ask their CFO to release the March invoices', neededBy: '2026-07-02', idempotencyKey: expect.stringMatching(/^[A-Za-z0-9-]{8,}$/) },
      },
      { path: `/api/v1/cards/help-requests/${id}/status`, body: { status: 'accepted', idempotencyKey: expect.stringMatching(/^[A-Za-z0-9-]{8,}$/) } },
      { path: `/api/v1/cards/help-requests/${id}/status`, body: { status: 'done', idempotencyKey: expect.stringMatching(/^[A-Za-z0-9-]{8,}$/) } },
    ]);
    const after = await service.store.db.selectFrom('help_requests').select(['status', 'status_by', 'answered_on']).where('id', '=', Number(id)).executeTakeFirstOrThrow();
    expect(after).toEqual({ status: 'done', status_by: USER.email, answered_on: TODAY });
  });

  test('a date the service refuses is marked on the form and nothing is stored; corrected, it is sent with a new key', async () => {
    const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const card = render('company', COMPANY);
    const { findAll, findByTestId, waitFor, spy } = card;
    await waitFor(() => expect(findByTestId(Button, 'ask-help')).toBeDefined());
    const byInput = () => findAll(DateInput).find((d) => d.props.name === 'help-by')!;
    findAll(TextArea).find((t) => t.props.name === 'help-needed')!.trigger('onChange', 'Confirm the new PO number' as never);
    byInput().trigger('onChange', { year: 2026, month: 5, date: 1 } as never);
    findByTestId(Button, 'ask-help').trigger('onClick');

    await waitFor(() => expect(byInput().props.error).toBe(true));
    expect(byInput().props.validationMessage).toBe('must not be in the past');
    expect(findAll(Alert).map((a) => a.props.title)).toEqual(['The help request was not sent']);
    expect(findAll(TextArea).find((t) => t.props.name === 'help-needed')!.props.error).toBeUndefined();
    expect(String(logged.mock.calls[0]?.[0])).toContain('http 400');
    expect(await service.store.db.selectFrom('help_requests').select('id').where('needed', '=', 'Confirm the new PO number').execute()).toHaveLength(0);

    byInput().trigger('onChange', { year: 2026, month: 6, date: 10 } as never);
    findByTestId(Button, 'ask-help').trigger('onClick');
    await waitFor(() => expect(rows(card)).toHaveLength(2));
    expect(rows(card)[0]?.slice(0, 4)).toEqual(['Confirm the new PO number', 'Jul 10, 2026', 'Open', 'Within SLA']);
    expect(findAll(Alert)).toHaveLength(0);
    const bodies = postsOf(spy).map((p) => p.body);
    expect(bodies.map((b) => b.neededBy)).toEqual(['2026-06-01', '2026-07-10']);
    expect(bodies[0]?.idempotencyKey).not.toBe(bodies[1]?.idempotencyKey);
  });

  test('the deal card asks the deal owner for help and can decline it; the company card lists it too', async () => {
    const card = render('deal', DEAL);
    const { findAll, findByTestId, waitFor, spy } = card;
    await waitFor(() => expect(findByTestId(Button, 'ask-help')).toBeDefined());
    findAll(TextArea).find((t) => t.props.name === 'help-needed')!.trigger('onChange', 'Get the signed change order' as never);
    findByTestId(Button, 'ask-help').trigger('onClick');
    await waitFor(() => expect(rows(card)).toHaveLength(1));
    expect(rows(card)).toEqual([['Get the signed change order', 'Jul 2, 2026', 'Open', 'Within SLA', `${USER.email} on Jun 30, 2026`, 'Queued for HubSpot']]);
    expect(postsOf(spy)).toEqual([{
      path: '/api/v1/cards/help-requests',
      body: { objectType: 'deal', objectId: DEAL, needed: 'Get the signed change order', neededBy: '2026-07-02', idempotencyKey: expect.any(String) },
    }]);
    const stored = await service.store.db.selectFrom('help_requests').selectAll().where('deal_id', '=', DEAL).executeTakeFirstOrThrow();
    expect([stored.object_type, stored.company_id, stored.owner_id]).toEqual(['deal', COMPANY, DEAL_OWNER]);

    findByTestId(Button, `help-${stored.id}-declined`).trigger('onClick');
    await waitFor(() => expect(rows(card)[0]?.[2]).toBe('Declined'));
    expect(buttonsOf(card, 0)).toEqual([]);

    const company = render('company', COMPANY);
    await company.waitFor(() => expect(rows(company)).toHaveLength(3));
    expect(rows(company).map((r) => [r[0], r[2]])).toEqual([
      ['Get the signed change order', 'Declined'],
      ['Confirm the new PO number', 'Open'],
      ['Ask their CFO to release the March invoices', 'Done'],
    ]);
  });
});
