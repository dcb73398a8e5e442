import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, jest, test } from '@jest/globals';
import {
  Alert, Button, ErrorState, hubspot, Input, Link, LoadingSpinner, NumberInput, Select, TableCell, TableRow, Tag, Text,
} from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { resetApiBaseUrl, setApiBaseUrl, SettingsPage } from '../../extensions/index.ts';
import { DEFAULT_POLICY, parsePolicy } from '../../src/domain/policy.ts';
import { setCompanyLink } from '../../src/hubspot/links.ts';
import { loadDemo } from '../../src/services/demo.ts';
import { loadPolicy, savePolicy } from '../../src/store/policies.ts';
import type { Store } from '../../src/store/store.ts';
import { PUBLIC_URL, startService, type ProxiedRequest, type Service } from './e2e-service.tsx';
import { eventually, fakeFetch, jsonResponse } from './fixtures.tsx';
import { hubspotProxy } from './service-harness.tsx';

// The settings page, rendered by HubSpot's test renderer, against the real service: PGlite with the demo portfolio and
// two accounting connections, `hubspot.fetch` going through HubSpot's proxy with real v3 signatures. Only the connect
// link, which another part of the service answers, is served by the test.

const SECRET = 'settings-e2e-client-secret';
const PORTAL = 4_242_002;
const TODAY = '2026-06-30';
const USER = { id: 9_002, email: 'admin@example.com' };
const CONNECT_URL = `${PUBLIC_URL}/api/v1/connect/link`;

let service: Service;
let customerCount: number;
let invoiceCount: number;

const seed = async (store: Store): Promise<void> => {
  const totals = await loadDemo(store.db, PORTAL, { customers: 60, invoices: 300, seed: 7, endDate: TODAY });
  customerCount = totals.customers;
  invoiceCount = totals.invoices;
  const first = await store.db.selectFrom('customers').select('id').where('portal_id', '=', PORTAL).orderBy('id').executeTakeFirstOrThrow();
  await setCompanyLink(store.db, PORTAL, { customerId: String(first.id), companyId: '7000001', method: 'manual', linkedBy: USER.email });
  await store.db.insertInto('accounting_connections').values([
    { portal_id: PORTAL, source: 'xero', status: 'connected', tenant_name: 'Demo Xero Org', connected_at: '2026-06-01T09:00:00Z', last_sync_at: '2026-06-29T22:00:00Z' },
    { portal_id: PORTAL, source: 'stripe', status: 'error', tenant_name: 'acct_demo', last_error: 'the API key was revoked' },
  ]).execute();
};

type ConnectAnswer = { status: number; body: unknown };

/**
 * Renders the settings page for the portal's admin. Every `hubspot.fetch` goes through HubSpot's proxy to the real
 * service, except the connect link, answered with `connect` when given.
 */
const render = (connect?: ConnectAnswer) => {
  setApiBaseUrl(PUBLIC_URL);
  const renderer = createRenderer('settings');
  const { context } = renderer.mocks;
  context.portal.id = PORTAL;
  context.user.id = USER.id;
  context.user.email = USER.email;
  context.user.locale = 'en-US';
  const requests: ProxiedRequest[] = [];
  const proxy = hubspotProxy(service.origin, SECRET, () => ({ portalId: context.portal.id, userId: context.user.id, userEmail: context.user.email }), requests);
  const connectBodies: unknown[] = [];
  jest.spyOn(hubspot, 'fetch').mockImplementation(async (url, options) => {
    if (String(url) === CONNECT_URL && connect !== undefined) {
      connectBodies.push(options?.body);
      return jsonResponse(connect.status, connect.body);
    }
    return proxy(url, options);
  });
  renderer.render(<SettingsPage />);
  return { ...renderer, requests, connectBodies };
};

const paths = (requests: ProxiedRequest[]) => requests.map((r) => [r.method, new URL(r.publicUrl).pathname, r.status]);

beforeAll(async () => {
  service = await startService({ clientSecret: SECRET, portalId: PORTAL, today: TODAY, seed });
});

afterAll(async () => {
  await service?.close();
});

beforeEach(async () => {
  await savePolicy(service.store.db, PORTAL, DEFAULT_POLICY);
});

afterEach(() => {
  jest.restoreAllMocks();
  resetApiBaseUrl();
});

describe('the settings page against the real service (PGlite, demo data, signed loopback requests)', () => {
  test('shows the install, each source with its status, account, counts and last error', async () => {
    const { findByTestId, waitFor, requests } = render();
    expect(findByTestId(Text, 'portal').text).toBe(String(PORTAL));
    expect(findByTestId(Link, 'service').props.href).toEqual({ url: PUBLIC_URL, external: true });
    await waitFor(() => expect(findByTestId(TableRow, 'connection-xero')).toBeDefined());

    expect(findByTestId(Text, 'install-kind').text).toBe('Private app');
    const cells = (source: string) => findByTestId(TableRow, `connection-${source}`).findAll(TableCell)
      .map((c) => c.maybeFind(Tag)?.text ?? c.text);
    expect(cells('quickbooks')).toEqual(['QuickBooks Online', 'Not connected', '—', '0', '0', '—', '—']);
    expect(cells('xero')).toEqual(['Xero', 'Connected', 'Demo Xero Org', '0', '0', 'Jun 29, 2026', '—']);
    expect(cells('stripe')).toEqual(['Stripe', 'Error', 'acct_demo', '0', '0', '—', 'the API key was revoked']);
    expect(cells('csv')).toEqual(['CSV import', 'No data', '—', '0', '0', '—', '—']);
    expect(cells('hubspot')).toEqual(['HubSpot invoices', 'No data', '—', '0', '0', '—', '—']);
    const demo = cells('demo');
    expect(demo.slice(0, 5)).toEqual(['demo', 'Has data', '—', String(customerCount), String(invoiceCount)]);
    expect(demo[5]).toMatch(/^\w{3} \d{1,2}, \d{4}$/);
    expect(findByTestId(Tag, 'status-xero').props.variant).toBe('success');
    expect(findByTestId(Tag, 'status-stripe').props.variant).toBe('error');
    expect(paths(requests)).toEqual([['GET', '/api/v1/settings', 200]]);
  });

  test('lists the unmatched customers (the first 50) with their count and how reps link them', async () => {
    const { findAll, findByTestId, waitFor } = render();
    await waitFor(() => expect(findByTestId(Text, 'unmatched-count')).toBeDefined());
    const unmatched = customerCount - 1;
    expect(unmatched).toBeGreaterThan(50);
    expect(findByTestId(Text, 'unmatched-count').text)
      .toBe(`${unmatched} accounting customers are not linked to a HubSpot company (the first 50 are listed).`);
    const rows = findAll(TableRow).filter((r) => String(r.props.testId ?? '').startsWith('unmatched-'));
    expect(rows).toHaveLength(50);
    const names = await service.store.db.selectFrom('customers').select(['external_id', 'name'])
      .where('portal_id', '=', PORTAL).orderBy('id').offset(1).limit(50).execute();
    expect(rows.map((r) => r.findAll(TableCell)[0]?.text)).toEqual(names.map((n) => n.name ?? n.external_id));
    expect(rows[0]?.findAll(TableCell)[1]?.text).toBe(`demo ${names[0]?.external_id}`);
    expect(findByTestId(Text, 'unmatched-note').text).toContain('from the company card');
  });

  test('an edited policy is saved with one signed PUT, and the next load shows it', async () => {
    const { findByTestId, waitFor, requests } = render();
    await waitFor(() => expect(findByTestId(Input, 'aging-boundaries').props.value).toBe('30, 60, 90'));
    findByTestId(Input, 'aging-boundaries').trigger('onChange', '15, 45' as never);
    findByTestId(NumberInput, 'dso-months').trigger('onChange', 6 as never);
    findByTestId(NumberInput, 'tier-A').trigger('onChange', 85 as never);
    findByTestId(Input, 'big-deal-amount-0').trigger('onChange', '75000' as never);
    findByTestId(Button, 'big-deal-add').trigger('onClick');
    findByTestId(Input, 'big-deal-currency-1').trigger('onChange', 'eur' as never);
    findByTestId(Input, 'big-deal-amount-1').trigger('onChange', '60000.50' as never);
    findByTestId(Button, 'level-remove-3').trigger('onClick');
    findByTestId(Select, 'level-action-2').trigger('onChange', 'credit_hold' as never);
    findByTestId(NumberInput, 'commission-rate').trigger('onChange', 12.5 as never);
    findByTestId(Button, 'late-add').trigger('onClick');
    findByTestId(NumberInput, 'late-after-0').trigger('onChange', 45 as never);
    findByTestId(NumberInput, 'late-reduce-0').trigger('onChange', 50 as never);
    findByTestId(NumberInput, 'clawback').trigger('onChange', Number.NaN as never);
    findByTestId(Button, 'policy-save').trigger('onClick');
    await waitFor(() => expect(findByTestId(Alert, 'policy-saved').props.title).toBe('The policy is saved. Cards use it from now on.'));

    const expected = parsePolicy({
      aging: { boundaries: [15, 45] },
      dsoMonths: 6,
      risk: { tiers: { A: 85 } },
      bigDeal: { thresholds: [{ currency: 'USD', amountMinor: 7_500_000 }, { currency: 'EUR', amountMinor: 6_000_050 }] },
      escalation: { levels: [{ days: 7, action: 'reminder' }, { days: 30, action: 'ask_rep' }, { days: 60, action: 'credit_hold' }] },
      commission: { ratePercent: 12.5, lateRules: [{ afterDays: 45, reducePercent: 50 }], clawbackAfterDays: null },
    });
    expect(await loadPolicy(service.store.db, PORTAL)).toEqual(expected);
    expect(findByTestId(Input, 'big-deal-amount-0').props.value).toBe('75000.00');
    expect(paths(requests)).toEqual([['GET', '/api/v1/settings', 200], ['PUT', '/api/v1/settings/policy', 200]]);

    const again = render();
    await again.waitFor(() => expect(again.findByTestId(Input, 'aging-boundaries').props.value).toBe('15, 45'));
    expect(again.findByTestId(NumberInput, 'dso-months').props.value).toBe(6);
    expect(again.findByTestId(Input, 'big-deal-currency-1').props.value).toBe('EUR');
    expect(again.findByTestId(Input, 'big-deal-amount-1').props.value).toBe('60000.50');
    expect(again.findByTestId(Select, 'level-action-2').props.value).toBe('credit_hold');
    expect(again.maybeFindByTestId(NumberInput, 'level-days-3')).toBeNull();
    expect(again.findByTestId(NumberInput, 'clawback').props.value).toBeUndefined();
  });

  test('an invalid edit is refused by the service and its errors are shown on the fields they name', async () => {
    const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const before = await loadPolicy(service.store.db, PORTAL);
    const { findByTestId, waitFor, requests } = render();
    await waitFor(() => expect(findByTestId(NumberInput, 'level-days-1')).toBeDefined());
    findByTestId(NumberInput, 'level-days-1').trigger('onChange', 3 as never);
    findByTestId(Input, 'aging-boundaries').trigger('onChange', '60, 30' as never);
    findByTestId(Input, 'big-deal-amount-0').trigger('onChange', '12.345' as never);
    findByTestId(Button, 'policy-save').trigger('onClick');
    await waitFor(() => expect(findByTestId(Alert, 'policy-errors')).toBeDefined());

    expect(findByTestId(Text, 'policy-error-escalation.levels.1.days').text)
      .toBe('Escalation ladder, level 2: days past due (escalation.levels.1.days): must be more days than the level before');
    expect(findByTestId(Text, 'policy-error-aging.boundaries').text).toBe('Aging boundaries (aging.boundaries): aging boundaries must be strictly ascending');
    expect(findByTestId(Text, 'policy-error-bigDeal.thresholds.0.amount').text).toContain('at most 2 decimals');
    expect(findByTestId(NumberInput, 'level-days-1').props).toMatchObject({ error: true, validationMessage: 'must be more days than the level before' });
    expect(findByTestId(Input, 'aging-boundaries').props).toMatchObject({ error: true });
    expect(findByTestId(Input, 'big-deal-amount-0').props.error).toBe(true);
    expect(findByTestId(NumberInput, 'level-days-0').props.error).toBeUndefined();
    expect(paths(requests)).toEqual([['GET', '/api/v1/settings', 200], ['PUT', '/api/v1/settings/policy', 400]]);
    expect(String(logged.mock.calls[0]?.[0])).toContain('escalation.levels.1.days: must be more days than the level before');
    expect(await loadPolicy(service.store.db, PORTAL)).toEqual(before);

    // Fixed, it saves, and the errors are gone.
    findByTestId(NumberInput, 'level-days-1').trigger('onChange', 30 as never);
    findByTestId(Input, 'aging-boundaries').trigger('onChange', '30, 60' as never);
    findByTestId(Input, 'big-deal-amount-0').trigger('onChange', '12.34' as never);
    findByTestId(Button, 'policy-save').trigger('onClick');
    await waitFor(() => expect(findByTestId(Alert, 'policy-saved')).toBeDefined());
    expect(findByTestId(Input, 'aging-boundaries').props.error).toBeUndefined();
    expect((await loadPolicy(service.store.db, PORTAL)).aging.boundaries).toEqual([30, 60]);
  });

  test('a blank number is refused on the page, before anything is sent', async () => {
    const { findByTestId, waitFor, requests } = render();
    await waitFor(() => expect(findByTestId(NumberInput, 'dso-months')).toBeDefined());
    findByTestId(NumberInput, 'dso-months').trigger('onChange', Number.NaN as never);
    findByTestId(Button, 'policy-save').trigger('onClick');
    await waitFor(() => expect(findByTestId(Text, 'policy-error-dsoMonths').text).toBe('DSO window (months) (dsoMonths): is required'));
    expect(findByTestId(NumberInput, 'dso-months').props.validationMessage).toBe('is required');
    await eventually(() => expect(paths(requests)).toEqual([['GET', '/api/v1/settings', 200]]));
  });

  test('Reset to defaults saves the defaults and shows them', async () => {
    await savePolicy(service.store.db, PORTAL, parsePolicy({ aging: { boundaries: [10, 20] }, dsoMonths: 12, commission: { clawbackAfterDays: null } }));
    const { findByTestId, waitFor, requests } = render();
    await waitFor(() => expect(findByTestId(Input, 'aging-boundaries').props.value).toBe('10, 20'));
    findByTestId(Button, 'policy-reset').trigger('onClick');
    await waitFor(() => expect(findByTestId(Alert, 'policy-saved').props.title).toBe('The default policy is restored.'));
    expect(findByTestId(Input, 'aging-boundaries').props.value).toBe('30, 60, 90');
    expect(findByTestId(NumberInput, 'dso-months').props.value).toBe(3);
    expect(findByTestId(Input, 'big-deal-amount-0').props.value).toBe('50000.00');
    expect(findByTestId(NumberInput, 'clawback').props.value).toBe(120);
    expect(await loadPolicy(service.store.db, PORTAL)).toEqual(DEFAULT_POLICY);
    expect(paths(requests)).toEqual([['GET', '/api/v1/settings', 200], ['POST', '/api/v1/settings/policy/reset', 200]]);
  });

  test('Connect accounting asks for a connection link and links to it', async () => {
    const { findByTestId, waitFor, connectBodies } = render({ status: 200, body: { url: 'https://connect.example.com/c/abc123', expires_at: '2026-06-30T12:15:00Z' } });
    await waitFor(() => expect(findByTestId(Button, 'connect')).toBeDefined());
    findByTestId(Button, 'connect').trigger('onClick');
    await waitFor(() => expect(findByTestId(Link, 'connect-link').props.href).toEqual({ url: 'https://connect.example.com/c/abc123', external: true }));
    expect(findByTestId(Text, 'connect-expires').text).toBe('The link works until 12:15 PM UTC; ask for a new one after that.');
    expect(connectBodies).toEqual([{ idempotencyKey: expect.any(String) }]);
  });

  test('a failed connection link shows an alert', async () => {
    jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const { findByTestId, maybeFindByTestId, waitFor } = render({ status: 500, body: { error: 'internal', message: 'down' } });
    await waitFor(() => expect(findByTestId(Button, 'connect')).toBeDefined());
    findByTestId(Button, 'connect').trigger('onClick');
    await waitFor(() => expect(findByTestId(Alert, 'connect-failed').find(Text).text).toBe('ARBridge could not answer this request.'));
    expect(maybeFindByTestId(Link, 'connect-link')).toBeNull();
  });
});

describe('the settings page on its own', () => {
  test('shows the install from the context and the service it calls while the settings load', async () => {
    setApiBaseUrl('https://ar.acme.example');
    const { sent } = fakeFetch((req) => (req.url === 'https://ar.acme.example/api/v1/settings' ? 'pending' : undefined));
    const renderer = createRenderer('settings');
    renderer.mocks.context.portal.id = 4242;
    renderer.render(<SettingsPage />);
    expect(renderer.findByTestId(Text, 'portal').text).toBe('4242');
    const link = renderer.findByTestId(Link, 'service');
    expect(link.props.href).toEqual({ url: 'https://ar.acme.example', external: true });
    expect(link.text).toBe('https://ar.acme.example');
    expect(renderer.find(LoadingSpinner).props.label).toBe('Loading settings');
    await eventually(() => expect(sent).toEqual([{ url: 'https://ar.acme.example/api/v1/settings', method: 'GET', body: undefined }]));
  });

  test('a refused request shows the error state with Try again', async () => {
    jest.spyOn(console, 'error').mockImplementation(() => undefined);
    setApiBaseUrl('https://ar.acme.example');
    fakeFetch(() => ({ status: 401, body: { error: 'unauthenticated', message: 'no' } }));
    const renderer = createRenderer('settings');
    renderer.render(<SettingsPage />);
    await renderer.waitFor(() => expect(renderer.find(ErrorState).props.title).toBe('Settings are not available'));
    expect(renderer.findByTestId(Button, 'retry')).toBeDefined();
  });
});
