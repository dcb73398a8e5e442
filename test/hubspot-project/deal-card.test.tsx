import { afterEach, describe, expect, jest, test } from '@jest/globals';
import { Button, ErrorState, Link, LoadingSpinner, StatusTag, TableCell, TableRow, Tag, Text } from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { DealCard, resetApiBaseUrl, setApiBaseUrl, SettingsPage } from '../../extensions/index.ts';
import { BASE, dealCard, eventually, fakeFetch, ok, on } from './fixtures.tsx';

const DEAL_URL = `${BASE}/api/v1/cards/deal?objectId=555`;

const renderCard = (locale: string) => {
  const renderer = createRenderer('crm.record.tab');
  renderer.mocks.context.crm.objectId = 555;
  renderer.mocks.context.user.locale = locale;
  renderer.render(<DealCard />);
  return renderer;
};

afterEach(() => {
  jest.restoreAllMocks();
  resetApiBaseUrl();
});

describe('DealCard', () => {
  test('lists the invoices with amounts in the user locale and a status tag each', async () => {
    const { sent } = fakeFetch(on('GET', DEAL_URL, ok(dealCard())));
    const { find, findAll, findByTestId, waitFor } = renderCard('en-US');
    expect(find(LoadingSpinner).props.label).toBe('Loading invoices');
    await waitFor(() => expect(findAll(TableRow)).toHaveLength(3));
    const cells = (id: string) => findByTestId(TableRow, `invoice-${id}`).findAll(TableCell).map((c) => c.text);
    expect(cells('i1').slice(0, 5)).toEqual(['INV-1001', 'May 31, 2026', '€1,000.00', '€400.00', '€600.00']);
    expect(cells('i2').slice(0, 5)).toEqual(['i2', 'Jul 31, 2026', '$250.50', '$250.50', '$0.00']);
    expect(findByTestId(StatusTag, 'status-i1').props.variant).toBe('danger');
    expect(findByTestId(StatusTag, 'status-i1').text).toBe('Overdue');
    expect(findByTestId(StatusTag, 'status-i2').props.variant).toBe('success');
    expect(findByTestId(Text, 'totals-EUR').text).toBe('EUR: invoiced €1,000.00, collected €400.00, outstanding €600.00, overdue €600.00');
    expect(findByTestId(Text, 'totals-USD').text).toBe('USD: invoiced $250.50, collected $250.50, outstanding $0.00, overdue $0.00');
    expect(findByTestId(Tag, 'risk-EUR').text).toBe('Risk D · 35/100');
    expect(findByTestId(Tag, 'risk-EUR').props.variant).toBe('error');
    expect(findByTestId(Text, 'risk-reason-EUR-0').text).toBe('Half of the open balance is more than 60 days past due');
    expect(sent).toEqual([{ url: DEAL_URL, method: 'GET', body: undefined }]);
  });

  test('formats dates and money for a German user', async () => {
    fakeFetch(on('GET', DEAL_URL, ok(dealCard())));
    const { findByTestId, findAll, waitFor } = renderCard('de-DE');
    await waitFor(() => expect(findAll(TableRow)).toHaveLength(3));
    expect(findByTestId(TableRow, 'invoice-i1').findAll(TableCell).map((c) => c.text).slice(1, 3)).toEqual(['31.05.2026', '1.000,00\u00a0€']);
  });

  test('says when the company is not linked, or there is none', async () => {
    fakeFetch(on('GET', DEAL_URL, ok(dealCard('unmatched'))));
    const first = renderCard('en-US');
    await first.waitFor(() => expect(first.findByTestId(Text, 'company-risk').text).toBe("The deal's company is not linked to an accounting customer."));
    jest.restoreAllMocks();
    fakeFetch(on('GET', DEAL_URL, ok(dealCard('none'))));
    const second = renderCard('en-US');
    await second.waitFor(() => expect(second.findByTestId(Text, 'company-risk').text).toBe('No company is associated with this deal.'));
  });

  test('an error offers a retry that fetches again', async () => {
    jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const { sent } = fakeFetch(on('GET', DEAL_URL, { status: 401, body: { error: 'unauthorized', message: 'bad signature' } }, ok(dealCard())));
    const { find, findAll, findByTestId, waitFor } = renderCard('en-US');
    await waitFor(() => expect(find(ErrorState).props.title).toBe('Invoices are not available'));
    findByTestId(Button, 'retry').trigger('onClick');
    await waitFor(() => expect(findAll(TableRow)).toHaveLength(3));
    expect(sent).toHaveLength(2);
  });
});

describe('SettingsPage', () => {
  test('shows the install from the context and links to the service the cards call', async () => {
    setApiBaseUrl('https://ar.acme.example');
    const { sent } = fakeFetch();
    const renderer = createRenderer('settings');
    renderer.mocks.context.portal.id = 4242;
    renderer.render(<SettingsPage />);
    expect(renderer.findByTestId(Text, 'portal').text).toBe('4242');
    const link = renderer.findByTestId(Link, 'service');
    expect(link.props.href).toEqual({ url: 'https://ar.acme.example', external: true });
    expect(link.text).toBe('https://ar.acme.example');
    await eventually(() => expect(sent).toEqual([]));
  });
});
