import { afterEach, describe, expect, jest, test } from '@jest/globals';
import {
  BarChart, Button, EmptyState, ErrorState, LoadingSpinner, SearchInput, StatisticsItem, StatusTag, Table, TableBody, TableCell, TableHeader,
  TableRow, Tag, Text,
} from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { CompanyCard, resetApiBaseUrl, setApiBaseUrl } from '../../extensions/index.ts';
import {
  BASE, customerChoices, EUR_AGING, eventually, fakeFetch, linkResult, matchedCompany, matchedCompanyWithoutInvoices, ok, on, unmatchedCompany,
} from './fixtures.tsx';

const COMPANY_URL = `${BASE}/api/v1/cards/company?objectId=987`;

const renderCard = (locale = 'en-US') => {
  const renderer = createRenderer('crm.record.tab');
  renderer.mocks.context.crm.objectId = 987;
  renderer.mocks.context.user.locale = locale;
  renderer.render(<CompanyCard />);
  return renderer;
};

afterEach(() => {
  jest.restoreAllMocks();
  resetApiBaseUrl();
});

describe('CompanyCard', () => {
  test('shows a spinner while its one GET is under way', async () => {
    const { sent } = fakeFetch(on('GET', COMPANY_URL, 'pending'));
    const { find } = renderCard();
    expect(find(LoadingSpinner).props.label).toBe('Loading receivables');
    await eventually(() => expect(sent).toEqual([{ url: COMPANY_URL, method: 'GET', body: undefined }]));
    expect(find(LoadingSpinner)).toBeDefined();
  });

  test('a matched company shows the link method, figures per currency in the user locale, and risk', async () => {
    const { sent } = fakeFetch(on('GET', COMPANY_URL, ok(matchedCompany())));
    const { findByTestId, waitFor } = renderCard('de-DE');
    await waitFor(() => expect(findByTestId(StatisticsItem, 'outstanding-EUR').props.number).toBe('12.345,60\u00a0€'));
    expect(findByTestId(Text, 'match').text).toBe('Linked to Acme GmbH (xero), by email or website domain: acme.example.');
    expect(findByTestId(StatisticsItem, 'overdue-EUR').props.number).toBe('2.000,00\u00a0€');
    expect(findByTestId(StatisticsItem, 'on-time-EUR').props.number).toBe('75\u00a0%');
    expect(findByTestId(StatisticsItem, 'days-late-EUR').props.number).toBe('12,3 d');
    expect(findByTestId(StatisticsItem, 'outstanding-USD').props.number).toBe('99,99\u00a0$');
    expect(findByTestId(StatisticsItem, 'days-late-USD').props.number).toBe('-2,0 d');
    const eurRisk = findByTestId(Tag, 'risk-EUR');
    expect(eurRisk.text).toBe('Risk C · 57/100');
    expect(eurRisk.props.variant).toBe('warning');
    expect(findByTestId(Text, 'risk-reason-EUR-1').text).toBe('1 disputed invoice is open');
    expect(findByTestId(Tag, 'risk-USD').props.variant).toBe('success');
    expect(sent).toHaveLength(1);
  });

  test('an error answer shows safe copy, logs the detail, and Try again fetches once more', async () => {
    const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const { sent } = fakeFetch(on('GET', COMPANY_URL, { status: 500, body: { error: 'internal', message: 'db down at 10.0.0.3' } }, ok(matchedCompany())));
    const { find, findByTestId, waitFor } = renderCard();
    await waitFor(() => expect(find(ErrorState).props.title).toBe('Receivables are not available'));
    expect(find(ErrorState).find(Text).text).toBe('ARBridge could not answer this request.');
    expect(logged).toHaveBeenCalledWith(`ARBridge card API: http 500: ${COMPANY_URL}: db down at 10.0.0.3`);
    findByTestId(Button, 'retry').trigger('onClick');
    await waitFor(() => expect(findByTestId(StatisticsItem, 'outstanding-EUR').props.number).toBe('€12,345.60'));
    expect(sent.map((r) => r.url)).toEqual([COMPANY_URL, COMPANY_URL]);
  });

  test('an answer that breaks the contract is an error, not a half-drawn card', async () => {
    const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const broken = { ...matchedCompany(), as_of: '30/06/2026' };
    fakeFetch(on('GET', COMPANY_URL, ok(broken)));
    const { find, waitFor, maybeFind } = renderCard();
    await waitFor(() => expect(find(ErrorState).find(Text).text).toBe('ARBridge sent an answer this card does not understand.'));
    expect(maybeFind(StatisticsItem)).toBeNull();
    expect(String(logged.mock.calls[0]?.[0])).toContain('as_of');
  });

  test('a network failure is an error with retry', async () => {
    jest.spyOn(console, 'error').mockImplementation(() => undefined);
    fakeFetch(on('GET', COMPANY_URL, 'network-error'));
    const { find, waitFor } = renderCard();
    await waitFor(() => expect(find(ErrorState).find(Text).text).toBe('ARBridge could not be reached.'));
  });

  test('an unmatched company searches unlinked customers and links one with a fresh idempotency key', async () => {
    const linkUrl = `${BASE}/api/v1/cards/company/link`;
    const { sent } = fakeFetch(
      on('GET', COMPANY_URL, ok(unmatchedCompany()), ok(matchedCompany())),
      on('GET', `${BASE}/api/v1/cards/customers?query=acme%20gmbh`, ok(customerChoices())),
      on('POST', linkUrl, ok(linkResult('matched'))),
    );
    const { find, findAll, findByTestId, waitFor } = renderCard();
    await waitFor(() => expect(find(SearchInput).props.label).toBe('Customer name, domain or id'));
    find(SearchInput).trigger('onChange', ' acme gmbh ' as never);
    findByTestId(Button, 'search').trigger('onClick');
    await waitFor(() => expect(findAll(TableRow)).toHaveLength(3));
    expect(findAll(TableRow)[1]!.findAll(TableCell).map((c) => c.text)).toEqual(['Acme GmbH', 'acme.example', 'xero C-17', null]);
    expect(findAll(TableRow)[2]!.findAll(TableCell).map((c) => c.text)).toEqual(['ACME-2', '—', 'csv ACME-2', null]);
    findByTestId(Button, 'link-501').trigger('onClick');
    await waitFor(() => expect(findByTestId(Text, 'match').text).toContain('Acme GmbH'));

    const post = sent.find((r) => r.method === 'POST');
    expect(post?.url).toBe(linkUrl);
    expect(post?.body).toEqual({ objectId: '987', customerId: '501', idempotencyKey: expect.stringMatching(/^[A-Za-z0-9_.:-]{8,200}$/) });
    expect(sent.filter((r) => r.url === COMPANY_URL)).toHaveLength(2);
  });

  test('retrying a failed link resends the same key; a new click makes a new one', async () => {
    jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const linkUrl = `${BASE}/api/v1/cards/company/link`;
    const { sent } = fakeFetch(
      on('GET', COMPANY_URL, ok(unmatchedCompany()), ok(unmatchedCompany())),
      on('GET', `${BASE}/api/v1/cards/customers?query=`, ok(customerChoices())),
      on('POST', linkUrl, { status: 503, body: { error: 'unavailable', message: 'try later' } }, { status: 503, body: {} }, ok(linkResult('unmatched'))),
    );
    const { find, findAll, findByTestId, waitFor } = renderCard();
    await waitFor(() => expect(find(SearchInput)).toBeDefined());
    findByTestId(Button, 'search').trigger('onClick');
    await waitFor(() => expect(findAll(TableRow)).toHaveLength(3));
    findByTestId(Button, 'link-502').trigger('onClick');
    await waitFor(() => expect(findByTestId(Button, 'retry-link')).toBeDefined());
    findByTestId(Button, 'retry-link').trigger('onClick');
    await waitFor(() => expect(sent.filter((r) => r.method === 'POST')).toHaveLength(2));
    await waitFor(() => expect(findByTestId(Button, 'link-502').props.disabled).toBe(false));
    findByTestId(Button, 'link-502').trigger('onClick');
    await waitFor(() => expect(sent.filter((r) => r.method === 'POST')).toHaveLength(3));

    const keys = sent.filter((r) => r.method === 'POST').map((r) => r.body?.idempotencyKey);
    expect(keys[0]).toBe(keys[1]);
    expect(keys[2]).not.toBe(keys[0]);
    expect(sent.filter((r) => r.method === 'POST').every((r) => r.body?.customerId === '502')).toBe(true);
    await waitFor(() => expect(sent.filter((r) => r.url === COMPANY_URL)).toHaveLength(2));
  });

  test('unlink POSTs the object id with a key, then reloads', async () => {
    const unlinkUrl = `${BASE}/api/v1/cards/company/unlink`;
    const { sent } = fakeFetch(
      on('GET', COMPANY_URL, ok(matchedCompany()), ok(unmatchedCompany())),
      on('POST', unlinkUrl, ok(linkResult('unmatched'))),
    );
    const { find, findByTestId, waitFor } = renderCard();
    await waitFor(() => expect(findByTestId(Button, 'unlink')).toBeDefined());
    findByTestId(Button, 'unlink').trigger('onClick');
    await waitFor(() => expect(find(SearchInput)).toBeDefined());
    const post = sent.find((r) => r.method === 'POST');
    expect(post).toEqual({ url: unlinkUrl, method: 'POST', body: { objectId: '987', idempotencyKey: expect.any(String) } });
  });

  test('setApiBaseUrl points the card at another service', async () => {
    setApiBaseUrl('https://e2e.example.test/arbridge/');
    const { sent } = fakeFetch(on('GET', 'https://e2e.example.test/arbridge/api/v1/cards/company?objectId=987', ok(unmatchedCompany())));
    const { find, waitFor } = renderCard();
    await waitFor(() => expect(find(SearchInput)).toBeDefined());
    expect(sent).toHaveLength(1);
  });

  describe('payment history and aging', () => {
    // Table and TableHeader props are unions (paged or not, sortable or not); these views fix the variant the card renders.
    type Pager = { props: { paginated: boolean; pageCount: number; page?: number }; trigger: (event: 'onPageChange', page: number) => void };
    type SortHeader = { props: { sortDirection: string }; trigger: (event: 'onSortChange', direction: 'ascending' | 'descending') => void };
    const pager = (root: ReturnType<typeof renderCard>) => root.findByTestId(Table, 'payment-history') as unknown as Pager;
    const header = (root: ReturnType<typeof renderCard>, column: string) => root.findByTestId(TableHeader, `sort-${column}`) as unknown as SortHeader;

    const shownRows = (root: ReturnType<typeof renderCard>) =>
      root.find(Table, { testId: 'payment-history' }).find(TableBody).findAll(TableRow).map((r) => r.props.testId);

    const loaded = async () => {
      fakeFetch(on('GET', COMPANY_URL, ok(matchedCompany())));
      const renderer = renderCard();
      await renderer.waitFor(() => expect(renderer.findByTestId(Table, 'payment-history')).toBeDefined());
      return renderer;
    };

    test('each currency has an aging bar chart with one bar per bucket the service named, at its open amount', async () => {
      const { findByTestId } = await loaded();
      const eur = findByTestId(BarChart, 'aging-EUR');
      expect(eur.props.data).toEqual(EUR_AGING.map((b) => ({ bucket: b.bucket, amount: Number(b.amount), invoices: b.count })));
      expect(eur.props.data).toEqual([
        { bucket: 'current', amount: 9345.6, invoices: 1 }, { bucket: '1-30', amount: 2000, invoices: 2 },
        { bucket: '31-60', amount: 0, invoices: 0 }, { bucket: '61-90', amount: 0, invoices: 0 }, { bucket: '90+', amount: 0, invoices: 0 },
      ]);
      expect(eur.props.axes).toEqual({
        x: { field: 'bucket', fieldType: 'category', label: 'Age' },
        y: { field: 'amount', fieldType: 'linear', label: 'Open (EUR)' },
      });
      expect(findByTestId(BarChart, 'aging-USD').props.data).toEqual([{ bucket: 'current', amount: 99.99, invoices: 1 }]);
    });

    test('the first page shows 10 invoices in the service order and the pager counts the pages', async () => {
      const renderer = await loaded();
      expect(pager(renderer).props).toMatchObject({ paginated: true, pageCount: 2, page: 1 });
      expect(shownRows(renderer)).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7', 'e8', 'e9', 'e10'].map((id) => `payment-${id}`));
      expect(renderer.find(Table, { testId: 'payment-history' }).findAll(TableHeader).map((h) => h.text))
        .toEqual(['Invoice', 'Issued', 'Due', 'Amount', 'Paid', 'Paid on', 'Days late', 'Status']);
      expect(renderer.findByTestId(TableRow, 'payment-e1').findAll(TableCell).slice(0, 7).map((c) => c.text))
        .toEqual(['INV-1001', 'Jan 1, 2026', 'Feb 1, 2026', '€300.00', '€300.00', 'Feb 3, 2026', '5']);
      expect(renderer.findByTestId(TableRow, 'payment-e1').findAll(TableCell)[7]!.find(StatusTag).text).toBe('Paid');
    });

    test('onPageChange shows the next rows', async () => {
      const renderer = await loaded();
      pager(renderer).trigger('onPageChange', 2);
      await renderer.waitFor(() => expect(shownRows(renderer)).toEqual(['payment-e11', 'payment-u1']));
      expect(pager(renderer).props.page).toBe(2);
      expect(renderer.findByTestId(TableRow, 'payment-u1').findAll(TableCell).slice(0, 7).map((c) => c.text))
        .toEqual(['u1', 'Jan 12, 2026', 'Jul 12, 2026', '$99.99', '$0.00', '—', '—']);
      expect(renderer.findByTestId(StatusTag, 'status-u1').text).toBe('Open');
      expect(renderer.findByTestId(StatusTag, 'status-u1').props.variant).toBe('info');
    });

    test('clicking a sortable header orders the rows and returns to the first page', async () => {
      const renderer = await loaded();
      pager(renderer).trigger('onPageChange', 2);
      await renderer.waitFor(() => expect(pager(renderer).props.page).toBe(2));
      header(renderer, 'amount').trigger('onSortChange', 'descending');
      await renderer.waitFor(() => expect(shownRows(renderer)[0]).toBe('payment-e11'));
      expect(pager(renderer).props.page).toBe(1);
      expect(header(renderer, 'amount').props.sortDirection).toBe('descending');
      expect(header(renderer, 'issued').props.sortDirection).toBe('none');
      expect(shownRows(renderer)).toEqual(['e11', 'e8', 'e10', 'e2', 'e3', 'e6', 'e5', 'e9', 'e1', 'u1'].map((id) => `payment-${id}`));

      header(renderer, 'days_late').trigger('onSortChange', 'ascending');
      await renderer.waitFor(() => expect(shownRows(renderer)[0]).toBe('payment-e2'));
      expect(shownRows(renderer)).toEqual(['e2', 'e4', 'e8', 'e1', 'e9', 'e6', 'e10', 'e3', 'e7', 'e5'].map((id) => `payment-${id}`));
      pager(renderer).trigger('onPageChange', 2);
      await renderer.waitFor(() => expect(shownRows(renderer)).toEqual(['payment-e11', 'payment-u1']));
    });

    test('a partly paid invoice shows what was paid of its amount; credit notes and write-offs are visible', async () => {
      const { findByTestId, maybeFindByTestId } = await loaded();
      expect(findByTestId(Text, 'paid-e3').text).toBe('€400.00 of €1,000.00');
      expect(findByTestId(Text, 'partly-paid-e3').text).toBe('Partly paid, €600.00 open');
      expect(findByTestId(StatusTag, 'status-e3').props.variant).toBe('danger');
      expect(findByTestId(Text, 'disputed-e3').text).toBe('Disputed');
      expect(maybeFindByTestId(Text, 'partly-paid-e10')).toBeNull();
      expect(findByTestId(StatusTag, 'status-e5').text).toBe('Credited');
      expect(findByTestId(StatusTag, 'status-e5').props.variant).toBe('default');
      expect(findByTestId(Text, 'credit-note-s5').text).toBe('Credit note €500.00 on Jan 20, 2026');
      expect(maybeFindByTestId(Text, 'credit-note-s3')).toBeNull();
      expect(findByTestId(StatusTag, 'status-e7').props.variant).toBe('warning');
      expect(findByTestId(StatusTag, 'status-e7').text).toBe('Written off');
    });

    test('a matched company without invoices shows the empty state with the next step', async () => {
      fakeFetch(on('GET', COMPANY_URL, ok(matchedCompanyWithoutInvoices())));
      const { find, findByTestId, maybeFind, waitFor } = renderCard();
      await waitFor(() => expect(find(EmptyState).props.title).toBe('No invoices synced for this company yet'));
      expect(findByTestId(Text, 'no-invoices-next-step').text).toBe(
        'Import a CSV export or connect an accounting system in the ARBridge settings; this customer\'s invoices appear here after the next sync (as of 2026-06-30).');
      expect(findByTestId(Text, 'match').text).toContain('Acme GmbH');
      expect(maybeFind(StatisticsItem)).toBeNull();
      expect(maybeFind(Table)).toBeNull();
      expect(maybeFind(BarChart)).toBeNull();
    });
  });
});
