import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { hubspot, Alert, Button, DateInput, Input, Link, Select, Table, TableCell, TableRow, Tag, Text, TextArea } from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { CompanyCard, DealCard, resetApiBaseUrl, setApiBaseUrl } from '../../extensions/index.ts';
import { setCompanyLink } from '../../src/hubspot/links.ts';
import { loadDemo } from '../../src/services/demo.ts';
import type { Store } from '../../src/store/store.ts';
import { PUBLIC_URL, proxyFetch, startService, type Service } from './e2e-service.tsx';

// The payment-terms acknowledgment (deal card form, both cards' display) and the communication log (company card),
// rendered by HubSpot's test renderer against the real service over loopback with signed requests.

const SECRET = 'terms-log-client-secret';
const PORTAL = 4_242_002;
const TODAY = '2026-06-30';
const COMPANY = '7100001';
const DEAL = '8100001';
const USER = { id: 9_002, email: 'rita.rep@example.com' };
const CONTACT = { id: 501, firstname: 'Paula', lastname: 'Payer', email: 'paula@customer.example' };

let service: Service;

const seed = async (store: Store): Promise<void> => {
  await loadDemo(store.db, PORTAL, { customers: 4, invoices: 40, seed: 7, endDate: TODAY });
  const customer = await store.db.selectFrom('customers').select('id').where('portal_id', '=', PORTAL).orderBy('id').executeTakeFirstOrThrow();
  await setCompanyLink(store.db, PORTAL, { customerId: String(customer.id), companyId: COMPANY, method: 'manual', linkedBy: USER.email });
  await store.db.insertInto('hubspot_deals').values({ portal_id: PORTAL, deal_id: DEAL, name: 'Renewal', company_id: COMPANY }).execute();
};

const render = (card: 'company' | 'deal', objectId: string, locale = 'en-US') => {
  setApiBaseUrl(PUBLIC_URL);
  const renderer = createRenderer('crm.record.tab');
  const { context } = renderer.mocks;
  context.crm.objectId = Number(objectId);
  context.portal.id = PORTAL;
  context.user.id = USER.id;
  context.user.email = USER.email;
  context.user.locale = locale;
  // The deal's associated contacts, as HubSpot's association hook returns them.
  renderer.mocks.useAssociations.willCall(() => ({
    results: [{
      toObjectId: CONTACT.id, associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId: 3, label: 'Primary' }],
      properties: { firstname: CONTACT.firstname, lastname: CONTACT.lastname, email: CONTACT.email },
    }],
    error: null, isLoading: false, isRefetching: false, refetch: async () => undefined,
    pagination: { hasNextPage: false, hasPreviousPage: false, currentPage: 1, pageSize: 50, nextPage: () => undefined, previousPage: () => undefined, reset: () => undefined },
  }));
  const proxy = proxyFetch(service, SECRET, () => ({ portalId: context.portal.id, userId: context.user.id, userEmail: context.user.email }));
  renderer.render(card === 'company' ? <CompanyCard /> : <DealCard />);
  return { ...renderer, ...proxy };
};

/** The JSON bodies the card POSTed through `hubspot.fetch`, per path. */
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

describe('payment-terms acknowledgment and communication log on the cards (real service)', () => {
  test('the deal card captures the terms a deal contact acknowledged and then shows them on record', async () => {
    const { find, findAll, findByTestId, waitFor, spy } = render('deal', DEAL);
    await waitFor(() => expect(findByTestId(Text, 'no-terms-ack').text).toBe('No payment-terms acknowledgment is on record for this deal.'));
    const terms = findAll(Select).find((s) => s.props.name === 'terms')!;
    expect(terms.props.options.map((o) => o.label)).toEqual(['Due on receipt', 'Net 15', 'Net 30', 'Net 45', 'Net 60', 'Net 90', 'Other…']);
    terms.trigger('onChange', 'Net 45' as never);
    const contact = findAll(Select).find((s) => s.props.name === 'contact')!;
    expect(contact.props.options.map((o) => o.label)).toEqual(['Paula Payer (paula@customer.example)', 'Someone else…']);
    // Nothing is sent before a contact is chosen.
    expect(findByTestId(Button, 'save-terms').props.disabled).toBe(true);
    contact.trigger('onChange', String(CONTACT.id) as never);
    find(DateInput).trigger('onChange', { year: 2026, month: 5, date: 12 } as never);
    findAll(Input).find((i) => i.props.name === 'evidence')!.trigger('onChange', 'https://files.example/quote-signed.pdf' as never);
    findByTestId(Button, 'save-terms').trigger('onClick');

    await waitFor(() => expect(findByTestId(Text, 'terms-ack-terms').text).toBe('Net 45'));
    expect(findByTestId(Text, 'terms-ack-contact').text).toBe('Paula Payer (paula@customer.example)');
    expect(findByTestId(Text, 'terms-ack-date').text).toBe('Jun 12, 2026');
    expect(findByTestId(Link, 'terms-ack-evidence').props.href).toEqual({ url: 'https://files.example/quote-signed.pdf', external: true });
    expect(findByTestId(Text, 'terms-ack-recorded-by').text).toBe(USER.email);
    const [post] = postsOf(spy);
    expect(post?.path).toBe('/api/v1/cards/deal/terms');
    expect(post?.body).toEqual({
      objectId: DEAL, terms: 'Net 45', termsDays: 45, contactId: String(CONTACT.id), contactName: 'Paula Payer',
      contactEmail: CONTACT.email, acknowledgedOn: '2026-06-12', evidenceUrl: 'https://files.example/quote-signed.pdf',
      idempotencyKey: expect.stringMatching(/^[A-Za-z0-9-]{8,}$/),
    });
    const stored = await service.store.db.selectFrom('payment_terms_acks').selectAll().where('portal_id', '=', PORTAL).execute();
    expect(stored.map((r) => [r.deal_id, r.company_id, r.terms, r.terms_days, r.contact_id, r.acknowledged_on, r.recorded_by]))
      .toEqual([[DEAL, COMPANY, 'Net 45', 45, String(CONTACT.id), '2026-06-12', USER.email]]);
  });

  test('terms typed as written and someone who is not a deal contact; a refused field is marked on the form', async () => {
    const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const { findAll, findByTestId, waitFor, spy } = render('deal', DEAL, 'de-DE');
    await waitFor(() => expect(findByTestId(Button, 'new-terms-ack')).toBeDefined());
    findByTestId(Button, 'new-terms-ack').trigger('onClick');
    findAll(Select).find((s) => s.props.name === 'terms')!.trigger('onChange', 'other' as never);
    findAll(Input).find((i) => i.props.name === 'terms-other')!.trigger('onChange', '2/10 Net 30' as never);
    findAll(Select).find((s) => s.props.name === 'contact')!.trigger('onChange', 'someone-else' as never);
    findAll(Input).find((i) => i.props.name === 'contact-name')!.trigger('onChange', 'Carl Controller' as never);
    findAll(Input).find((i) => i.props.name === 'contact-email')!.trigger('onChange', 'not an email' as never);
    findByTestId(Button, 'save-terms').trigger('onClick');
    // The service refuses the email: the field is marked, nothing is stored.
    await waitFor(() => expect(findAll(Input).find((i) => i.props.name === 'contact-email')!.props.error).toBe(true));
    expect(findAll(Alert).map((a) => a.props.title)).toEqual(['The acknowledgment was not saved']);
    expect(findAll(Input).find((i) => i.props.name === 'contact-email')!.props.validationMessage).toBe('an email address');
    expect(String(logged.mock.calls[0]?.[0])).toContain('http 400');
    expect(await service.store.db.selectFrom('payment_terms_acks').select('id').where('terms', '=', '2/10 Net 30').execute()).toHaveLength(0);

    findAll(Input).find((i) => i.props.name === 'contact-email')!.trigger('onChange', 'carl@customer.example' as never);
    findByTestId(Button, 'save-terms').trigger('onClick');
    await waitFor(() => expect(findByTestId(Text, 'terms-ack-terms').text).toBe('2/10 Net 30'));
    expect(findByTestId(Text, 'terms-ack-contact').text).toBe('Carl Controller (carl@customer.example)');
    expect(findByTestId(Text, 'terms-ack-date').text).toBe('30.06.2026');
    expect(findByTestId(Text, 'terms-ack-evidence').text).toBe('None recorded');
    const bodies = postsOf(spy).map((p) => p.body);
    expect(bodies.map((b) => [b.terms, b.termsDays, b.contactId, b.contactName, b.contactEmail])).toEqual([
      ['2/10 Net 30', null, null, 'Carl Controller', 'not an email'],
      ['2/10 Net 30', null, null, 'Carl Controller', 'carl@customer.example'],
    ]);
    // A corrected form is a new action with a new key.
    expect(bodies[0]?.idempotencyKey).not.toBe(bodies[1]?.idempotencyKey);
  });

  test('the company card shows the terms on record per deal and the latest log entries, and logs a call', async () => {
    const { findAll, findByTestId, waitFor, spy } = render('company', COMPANY);
    await waitFor(() => expect(findByTestId(Text, `terms-${DEAL}-terms`).text).toBe('2/10 Net 30'));
    const log = () => findByTestId(Table, 'log').findAll(TableRow).slice(1).map((row) => row.findAll(TableCell).map((c) => c.maybeFind(Tag)?.text ?? c.text));
    // Both acknowledgments were logged for the linked customer, newest first.
    expect(log()).toEqual([
      ['Jun 30, 2026', 'Terms acknowledged', `Payment terms "2/10 Net 30" acknowledged by Carl Controller for deal ${DEAL}`, USER.email],
      ['Jun 12, 2026', 'Terms acknowledged', `Payment terms "Net 45" acknowledged by Paula Payer for deal ${DEAL}`, USER.email],
    ]);
    expect(findByTestId(Table, 'log').findAll(Tag).map((t) => t.text)).toEqual(['Terms acknowledged', 'Terms acknowledged']);

    findAll(Select).find((s) => s.props.name === 'log-kind')!.trigger('onChange', 'call' as never);
    findAll(TextArea).find((t) => t.props.name === 'log-summary')!.trigger('onChange', 'AP confirmed the payment run for Friday' as never);
    findByTestId(Button, 'add-log').trigger('onClick');
    await waitFor(() => expect(log()).toHaveLength(3));
    expect(log()[0]).toEqual(['Jun 30, 2026', 'Call', 'AP confirmed the payment run for Friday', USER.email]);
    expect(postsOf(spy)).toEqual([{
      path: '/api/v1/cards/company/log',
      body: { objectId: COMPANY, kind: 'call', occurredOn: TODAY, summary: 'AP confirmed the payment run for Friday', idempotencyKey: expect.any(String) },
    }]);
  });
});
