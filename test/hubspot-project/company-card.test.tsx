import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals';
import {
  BarChart, Button, EmptyState, ErrorState, LineChart, LoadingSpinner, SearchInput, StatisticsItem, StatusTag, Table, TableBody, TableCell,
  TableHeader, TableRow, Tag, Text,
} from '@hubspot/ui-extensions';
import { sql } from 'kysely';
import { resetApiBaseUrl, setApiBaseUrl } from '../../extensions/index.ts';
import { formatMinor } from '../../src/domain/money.ts';
import {
  cardUrl, captureAnswer, countText, dateText, daysText, heldAnswer, liveService, moneyText, percentText, renderCard, serviceUrl, STATUS_TAG,
  TIER_VARIANT, type Rendered,
} from './card-harness.tsx';
import {
  agingBuckets, balances, COMPANY, domainView, isPartlyPaid, newestFirst, PORTAL, SECRET, startDemoPortal, storedInvoices, USER,
  type Customer, type DemoPortal, type StoredInvoice,
} from './demo-portal.tsx';
import { eventually } from './fixtures.tsx';

// The company card against the live service over the demo portal (see demo-portal.tsx): every figure, tag, row and
// chart point expected here is computed from the store's rows, not taken from the card API's answer.

const LOCALES = ['en-US', 'de-DE'] as const;
const AS_OF_TEXT = { 'en-US': 'Jun 30, 2026', 'de-DE': '30.06.2026' } as const;
/** How an amount is laid out: symbol first with `.` decimals (en-US), or `,` decimals and the symbol after (de-DE). */
const MONEY_SHAPE = { 'en-US': /^[^\d\s]+[\d,]+(\.\d+)?$/, 'de-DE': /^[\d.]+(,\d+)?\u00a0[^\d\s]+$/ } as const;
const PAGE = 10;

let portal: DemoPortal;
/** The history customer's invoices, in the order the card lists them. */
let history: StoredInvoice[];

const db = () => portal.service.store.db;

beforeAll(async () => {
  portal = await startDemoPortal();
  history = newestFirst(await storedInvoices(db(), { customerRowId: portal.history.rowId }));
});

afterAll(async () => {
  await portal?.service.close();
});

afterEach(() => {
  jest.restoreAllMocks();
  resetApiBaseUrl();
});

const renderLive = (companyId: string, locale = 'en-US') => {
  const { line, fetch } = liveService(portal.service);
  return { ...renderCard('company', companyId, fetch, { locale }), line };
};

const customersUrl = (query: string) => serviceUrl(`/api/v1/cards/customers?query=${encodeURIComponent(query)}`);

// Table and TableHeader props are unions (paged or not, sortable or not); these views fix the variant the card renders.
type Pager = { props: { paginated: boolean; pageCount: number; page?: number }; trigger: (event: 'onPageChange', page: number) => void };
type SortHeader = { props: { sortDirection: string }; trigger: (event: 'onSortChange', direction: 'ascending' | 'descending') => void };
const pager = (card: Rendered) => card.findByTestId(Table, 'payment-history') as unknown as Pager;
const header = (card: Rendered, column: string) => card.findByTestId(TableHeader, `sort-${column}`) as unknown as SortHeader;
const shownRows = (card: Rendered) =>
  card.find(Table, { testId: 'payment-history' }).find(TableBody).findAll(TableRow).map((r) => r.props.testId);
const rowIds = (invoices: readonly StoredInvoice[]) => invoices.map((i) => `payment-${i.externalId}`);

/** Checks one payment-history row against the invoice as a person in `locale` reads it. */
const expectHistoryRow = (card: Rendered, invoice: StoredInvoice, locale: string) => {
  const money = (minor: number) => moneyText(minor, invoice.currency, locale);
  const id = invoice.externalId;
  const cells = card.findByTestId(TableRow, `payment-${id}`).findAll(TableCell);
  expect([0, 1, 2, 3, 5, 6].map((i) => cells[i]!.text)).toEqual([
    invoice.number ?? id, dateText(invoice.issueDate, locale), dateText(invoice.dueDate, locale), money(invoice.totalMinor),
    invoice.paidDate === null ? '—' : dateText(invoice.paidDate, locale), countText(invoice.daysLate, locale),
  ]);
  // The Paid column is money received: payments only; credit notes show under the status, write-offs as the status.
  if (isPartlyPaid(invoice)) {
    expect(card.findByTestId(Text, `paid-${id}`).text).toBe(`${money(invoice.paymentsMinor)} of ${money(invoice.totalMinor)}`);
    expect(card.findByTestId(Text, `partly-paid-${id}`).text).toBe(`Partly paid, ${money(invoice.openMinor)} open`);
  } else {
    expect(cells[4]!.text).toBe(money(invoice.paymentsMinor));
    expect(card.maybeFindByTestId(Text, `partly-paid-${id}`)).toBeNull();
  }
  const tag = card.findByTestId(StatusTag, `status-${id}`);
  expect([tag.text, tag.props.variant]).toEqual(STATUS_TAG[invoice.status]);
  expect(card.maybeFindByTestId(Text, `disputed-${id}`)?.text ?? null).toBe(invoice.disputed ? 'Disputed' : null);
  for (const note of invoice.settlements) {
    const shown = card.maybeFindByTestId(Text, `credit-note-${note.id}`);
    if (note.kind !== 'credit_note') expect(shown).toBeNull();
    else expect(shown?.text).toBe(`Credit note ${money(note.amountMinor)} on ${dateText(note.date, locale)}`);
  }
};

/** Unlinked customers whose name, domain or id contains `text` (any case), by name: what the link picker may offer. */
const unlinkedCustomersMatching = async (text: string): Promise<Customer[]> => {
  const pattern = `%${text.toLowerCase()}%`;
  const rows = await sql<{ id: number; external_id: string; source: string; name: string | null; domain: string | null }>`
    SELECT c.id, c.external_id, c.source, c.name, c.domain FROM customers c
    WHERE c.portal_id = ${PORTAL}
      AND NOT EXISTS (SELECT 1 FROM company_links l WHERE l.customer_id = c.id AND l.method <> 'manual_unlink')
      AND (lower(c.name) LIKE ${pattern} OR lower(c.domain) LIKE ${pattern} OR lower(c.external_id) LIKE ${pattern})`.execute(db());
  return rows.rows
    .map((r) => ({ rowId: Number(r.id), externalId: r.external_id, source: r.source, name: r.name, domain: r.domain }))
    .sort((a, b) => (a.name ?? '\uffff').toLowerCase().localeCompare((b.name ?? '\uffff').toLowerCase()) || a.rowId - b.rowId);
};

/** The card shows, in en-US, the outstanding balance of each currency of `invoices`. */
const expectOutstanding = (card: Rendered, invoices: readonly StoredInvoice[]) => {
  const owed = balances(invoices);
  expect(owed.size).toBeGreaterThan(0);
  for (const [currency, { outstanding }] of owed) {
    expect(card.findByTestId(StatisticsItem, `outstanding-${currency}`).props.number).toBe(moneyText(outstanding, currency, 'en-US'));
  }
};

const pickerRows = (card: Rendered) =>
  card.findAll(TableRow).filter((row) => row.maybeFind(Button, (b) => String(b.props.testId).startsWith('link-')) !== null);

describe('CompanyCard on a company matched to a customer with a payment history', () => {
  test.each(LOCALES)('shows the link, the as-of date, figures, risk, aging and trend per currency (%s)', async (locale) => {
    const card = renderLive(COMPANY.history, locale);
    await card.waitFor(() => expect(card.findByTestId(Text, 'as-of').text).toBe(`Figures as of ${AS_OF_TEXT[locale]}`));
    const { history: customer } = portal;
    expect(card.findByTestId(Text, 'match').text).toBe(`Linked to ${customer.name} (demo), by email or website domain: ${customer.domain}.`);

    const domain = await domainView(db(), customer.rowId);
    const owed = balances(history);
    expect([...owed.keys()]).toEqual([...domain.keys()]);
    for (const [currency, { outstanding, overdue }] of owed) {
      expect(overdue).toBeGreaterThan(0);
      const outstandingText = card.findByTestId(StatisticsItem, `outstanding-${currency}`).props.number;
      expect(outstandingText).toBe(moneyText(outstanding, currency, locale));
      expect(outstandingText).toMatch(MONEY_SHAPE[locale]);
      expect(card.findByTestId(StatisticsItem, `overdue-${currency}`).props.number).toBe(moneyText(overdue, currency, locale));

      const { metrics, risk, trend } = domain.get(currency)!;
      expect(card.findByTestId(StatisticsItem, `on-time-${currency}`).props.number).toBe(percentText(metrics.on_time_rate, locale));
      expect(card.findByTestId(StatisticsItem, `days-late-${currency}`).props.number).toBe(daysText(metrics.weighted_days_late, locale));

      const tag = card.findByTestId(Tag, `risk-${currency}`);
      expect(tag.text).toBe(`Risk ${risk.tier} · ${risk.score}/100`);
      expect(tag.props.variant).toBe(TIER_VARIANT[risk.tier]);
      expect(risk.reasons.length).toBeGreaterThan(0);
      risk.reasons.forEach((reason, i) => expect(card.findByTestId(Text, `risk-reason-${currency}-${i}`).text).toBe(reason));
      expect(card.maybeFindByTestId(Text, `risk-reason-${currency}-${risk.reasons.length}`)).toBeNull();

      const aging = card.findByTestId(BarChart, `aging-${currency}`);
      expect(aging.props.data).toEqual(agingBuckets(history, currency)
        .map((b) => ({ bucket: b.bucket, amount: Number(formatMinor(b.minor, currency)), invoices: b.count })));
      expect(aging.props.axes).toEqual({
        x: { field: 'bucket', fieldType: 'category', label: 'Age' },
        y: { field: 'amount', fieldType: 'linear', label: `Open (${currency})` },
      });

      const points = trend.filter((m) => m.avgDaysLate !== null).map((m) => ({ month: m.month, days_late: m.avgDaysLate, paid: m.paid }));
      expect(points.length).toBeGreaterThan(0);
      expect(card.findByTestId(LineChart, `trend-${currency}`).props.data).toEqual(points);
    }
    expect(card.line.sent).toEqual([{ method: 'GET', url: cardUrl('company', COMPANY.history), body: undefined, status: 200 }]);
  });

  test.each(LOCALES)('pages through the payment history, 10 invoices a page, newest first, every cell as a person reads it (%s)', async (locale) => {
    const card = renderLive(COMPANY.history, locale);
    await card.waitFor(() => expect(card.findByTestId(Table, 'payment-history')).toBeDefined());
    const pageCount = Math.ceil(history.length / PAGE);
    expect(pageCount).toBeGreaterThan(1);
    expect(pager(card).props).toMatchObject({ paginated: true, pageCount, page: 1 });
    expect(card.find(Table, { testId: 'payment-history' }).findAll(TableHeader).map((h) => h.text))
      .toEqual(['Invoice', 'Issued', 'Due', 'Amount', 'Paid', 'Paid on', 'Days late', 'Status']);

    for (let page = 1; page <= pageCount; page += 1) {
      if (page > 1) pager(card).trigger('onPageChange', page);
      const expected = history.slice((page - 1) * PAGE, page * PAGE);
      await card.waitFor(() => expect(shownRows(card)).toEqual(rowIds(expected)));
      expect(pager(card).props.page).toBe(page);
      for (const invoice of expected) expectHistoryRow(card, invoice, locale);
    }
    // Every case a person must be able to see is somewhere in the history.
    expect(history.some(isPartlyPaid)).toBe(true);
    expect(history.some((i) => i.disputed)).toBe(true);
    expect(history.some((i) => i.settlements.some((s) => s.kind === 'credit_note'))).toBe(true);
    expect(['paid', 'open', 'overdue', 'written_off', 'void'].filter((s) => !history.some((i) => i.status === s))).toEqual([]);
  });

  test('sorting by a column orders all invoices, returns to the first page, and pages through the new order', async () => {
    const card = renderLive(COMPANY.history);
    await card.waitFor(() => expect(card.findByTestId(Table, 'payment-history')).toBeDefined());
    pager(card).trigger('onPageChange', 2);
    await card.waitFor(() => expect(pager(card).props.page).toBe(2));

    // Stable sorts of the listed order; invoices with no days late stay last either way.
    const byAmountDesc = [...history].sort((a, b) => b.totalMinor - a.totalMinor);
    header(card, 'amount').trigger('onSortChange', 'descending');
    await card.waitFor(() => expect(shownRows(card)).toEqual(rowIds(byAmountDesc.slice(0, PAGE))));
    expect(pager(card).props.page).toBe(1);
    expect(header(card, 'amount').props.sortDirection).toBe('descending');
    expect(header(card, 'issued').props.sortDirection).toBe('none');
    pager(card).trigger('onPageChange', 2);
    await card.waitFor(() => expect(shownRows(card)).toEqual(rowIds(byAmountDesc.slice(PAGE, 2 * PAGE))));

    const late = history.filter((i) => i.daysLate !== null).sort((a, b) => a.daysLate! - b.daysLate!);
    const byDaysLate = [...late, ...history.filter((i) => i.daysLate === null)];
    header(card, 'days_late').trigger('onSortChange', 'ascending');
    await card.waitFor(() => expect(shownRows(card)).toEqual(rowIds(byDaysLate.slice(0, PAGE))));
    expect(header(card, 'amount').props.sortDirection).toBe('none');

    const byIssued = [...history].sort((a, b) => a.issueDate.localeCompare(b.issueDate));
    header(card, 'issued').trigger('onSortChange', 'ascending');
    await card.waitFor(() => expect(shownRows(card)).toEqual(rowIds(byIssued.slice(0, PAGE))));
    const byDue = [...history].sort((a, b) => b.dueDate.localeCompare(a.dueDate));
    header(card, 'due').trigger('onSortChange', 'descending');
    await card.waitFor(() => expect(shownRows(card)).toEqual(rowIds(byDue.slice(0, PAGE))));
  });
});

describe('CompanyCard on other companies', () => {
  test('a company linked to a customer with no invoices shows the empty state with the next step', async () => {
    const card = renderLive(COMPANY.empty, 'de-DE');
    await card.waitFor(() => expect(card.find(EmptyState).props.title).toBe('No invoices synced for this company yet'));
    expect(card.findByTestId(Text, 'no-invoices-next-step').text).toBe(
      `Import a CSV export or connect an accounting system in the ARBridge settings; this customer's invoices appear here after the next sync (as of ${AS_OF_TEXT['de-DE']}).`);
    expect(card.findByTestId(Text, 'match').text).toBe(`Linked to ${portal.noInvoices.name} (csv), linked by hand.`);
    expect(card.maybeFind(StatisticsItem)).toBeNull();
    expect(card.maybeFindByTestId(Table, 'payment-history')).toBeNull();
    expect(card.maybeFind(BarChart)).toBeNull();
    expect(card.maybeFind(LineChart)).toBeNull();
    expect(card.maybeFindByTestId(Text, 'as-of')).toBeNull();
    expect(card.findByTestId(Button, 'unlink')).toBeDefined();
  });

  test('an unmatched company searches the unlinked customers and links one: one POST with the object, customer and a key', async () => {
    const [spare] = portal.spares;
    const word = portal.pickerQuery;
    const card = renderLive(COMPANY.toLink);
    await card.waitFor(() => expect(card.find(SearchInput).props.label).toBe('Customer name, domain or id'));
    expect(card.maybeFindByTestId(Text, 'match')).toBeNull();
    card.find(SearchInput).trigger('onChange', `  ${word.toUpperCase()} ` as never);
    card.findByTestId(Button, 'search').trigger('onClick');

    const choices = await unlinkedCustomersMatching(word);
    expect(choices.map((c) => c.rowId)).toContain(spare.rowId);
    expect(choices.some((c) => c.name === null && c.domain === null)).toBe(true);
    await card.waitFor(() => expect(pickerRows(card)).toHaveLength(choices.length));
    expect(pickerRows(card).map((row) => row.findAll(TableCell).slice(0, 3).map((c) => c.text)))
      .toEqual(choices.map((c) => [c.name ?? c.externalId, c.domain ?? '—', `${c.source} ${c.externalId}`]));

    card.findByTestId(Button, `link-${spare.rowId}`).trigger('onClick');
    await card.waitFor(() => expect(card.findByTestId(Text, 'match').text).toBe(`Linked to ${spare.name} (demo), linked by hand.`));
    expectOutstanding(card, await storedInvoices(db(), { customerRowId: spare.rowId }));

    expect(card.line.sent.map(({ method, url, status }) => [method, url, status])).toEqual([
      ['GET', cardUrl('company', COMPANY.toLink), 200],
      ['GET', customersUrl(word.toUpperCase()), 200],
      ['POST', serviceUrl('/api/v1/cards/company/link'), 200],
      ['GET', cardUrl('company', COMPANY.toLink), 200],
    ]);
    expect(card.line.sent[2]!.body).toEqual({
      objectId: COMPANY.toLink, customerId: String(spare.rowId), idempotencyKey: expect.stringMatching(/^[A-Za-z0-9_.:-]{8,200}$/),
    });
    const link = await db().selectFrom('company_links').select(['company_id', 'method', 'linked_by'])
      .where('portal_id', '=', PORTAL).where('customer_id', '=', spare.rowId).executeTakeFirstOrThrow();
    expect(link).toEqual({ company_id: COMPANY.toLink, method: 'manual', linked_by: USER.email });
  });

  test('a link the service refused is retried with the same key; a new click makes a new key', async () => {
    jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const spare = portal.spares[1];
    const card = renderLive(COMPANY.toLinkAfterFailures);
    await card.waitFor(() => expect(card.find(SearchInput)).toBeDefined());
    card.find(SearchInput).trigger('onChange', spare.externalId as never);
    card.findByTestId(Button, 'search').trigger('onClick');
    await card.waitFor(() => expect(card.findByTestId(Button, `link-${spare.rowId}`)).toBeDefined());

    card.line.secret = 'not-the-client-secret';
    const posts = () => card.line.sent.filter((r) => r.method === 'POST');
    card.findByTestId(Button, `link-${spare.rowId}`).trigger('onClick');
    await card.waitFor(() => expect(card.findByTestId(Button, 'retry-link')).toBeDefined());
    expect(card.find(Text, (t) => t.text === 'ARBridge could not answer this request.')).toBeDefined();
    card.findByTestId(Button, 'retry-link').trigger('onClick');
    await card.waitFor(() => expect(posts().map((p) => p.status)).toEqual([401, 401]));
    await card.waitFor(() => expect(card.findByTestId(Button, `link-${spare.rowId}`).props.disabled).toBe(false));
    card.findByTestId(Button, `link-${spare.rowId}`).trigger('onClick');
    await card.waitFor(() => expect(posts().map((p) => p.status)).toEqual([401, 401, 401]));
    await card.waitFor(() => expect(card.findByTestId(Button, 'retry-link').props.disabled).not.toBe(true));

    card.line.secret = SECRET;
    card.findByTestId(Button, 'retry-link').trigger('onClick');
    await card.waitFor(() => expect(card.findByTestId(Text, 'match').text).toBe(`Linked to ${spare.name} (demo), linked by hand.`));

    const keys = posts().map((p) => (p.body as { idempotencyKey: string }).idempotencyKey);
    expect(posts().map((p) => p.status)).toEqual([401, 401, 401, 200]);
    expect(keys[1]).toBe(keys[0]);
    expect(keys[2]).not.toBe(keys[0]);
    expect(keys[3]).toBe(keys[2]);
    expect(posts().every((p) => (p.body as { customerId: string }).customerId === String(spare.rowId))).toBe(true);
  });

  test('unlink POSTs the object id with a key; the card then offers the picker, where the customer is available again', async () => {
    const { toUnlink } = portal;
    const card = renderLive(COMPANY.toUnlink);
    await card.waitFor(() => expect(card.findByTestId(Text, 'match').text).toBe(`Linked to ${toUnlink.name} (demo), linked by hand.`));
    card.findByTestId(Button, 'unlink').trigger('onClick');
    await card.waitFor(() => expect(card.find(SearchInput)).toBeDefined());
    const post = card.line.sent.find((r) => r.method === 'POST');
    expect(post).toEqual({
      method: 'POST', url: serviceUrl('/api/v1/cards/company/unlink'), status: 200,
      body: { objectId: COMPANY.toUnlink, idempotencyKey: expect.stringMatching(/^[A-Za-z0-9_.:-]{8,200}$/) },
    });
    const link = await db().selectFrom('company_links').select(['company_id', 'method', 'detail'])
      .where('portal_id', '=', PORTAL).where('customer_id', '=', toUnlink.rowId).executeTakeFirstOrThrow();
    expect(link).toEqual({ company_id: null, method: 'manual_unlink', detail: `company ${COMPANY.toUnlink}` });

    card.find(SearchInput).trigger('onChange', toUnlink.externalId as never);
    card.findByTestId(Button, 'search').trigger('onClick');
    await card.waitFor(() => expect(card.findByTestId(Button, `link-${toUnlink.rowId}`)).toBeDefined());
  });
});

describe('CompanyCard when the answer is late or fails', () => {
  test('shows a spinner while the GET is under way, then the answer', async () => {
    const answer = await captureAnswer(portal.service, cardUrl('company', COMPANY.history));
    expect(answer.status).toBe(200);
    const held = heldAnswer(answer);
    const card = renderCard('company', COMPANY.history, held.fetch);
    expect(card.find(LoadingSpinner).props.label).toBe('Loading receivables');
    await eventually(() => expect(held.sent).toEqual([cardUrl('company', COMPANY.history)]));
    expect(card.find(LoadingSpinner)).toBeDefined();
    expect(card.maybeFind(StatisticsItem)).toBeNull();
    held.release();
    await card.waitFor(() => expect(card.maybeFind(LoadingSpinner)).toBeNull());
    expectOutstanding(card, history);
    expect(held.sent).toHaveLength(1);
  });

  test('a refused request (401) shows safe copy and logs the detail; Try again fetches once more and renders', async () => {
    const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const { line, fetch } = liveService(portal.service);
    line.secret = 'not-the-client-secret';
    const card = renderCard('company', COMPANY.history, fetch);
    await card.waitFor(() => expect(card.find(ErrorState).props.title).toBe('Receivables are not available'));
    expect(card.find(ErrorState).find(Text).text).toBe('ARBridge could not answer this request.');
    expect(card.maybeFind(StatisticsItem)).toBeNull();
    expect(String(logged.mock.calls[0]?.[0])).toContain(`http 401: ${cardUrl('company', COMPANY.history)}`);
    expect(String(logged.mock.calls[0]?.[0])).toContain('X-HubSpot-Signature-v3 does not match the request');

    line.secret = SECRET;
    card.findByTestId(Button, 'retry').trigger('onClick');
    await card.waitFor(() => expect(card.maybeFind(ErrorState)).toBeNull());
    await card.waitFor(() => expect(card.maybeFind(StatisticsItem)).not.toBeNull());
    expectOutstanding(card, history);
    expect(line.sent.map((r) => r.status)).toEqual([401, 200]);
  });

  test('a URL HubSpot does not permit fails before reaching the service: "could not be reached", and Try again recovers', async () => {
    jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const { line, fetch } = liveService(portal.service);
    const card = renderCard('company', COMPANY.history, fetch, { baseUrl: 'https://arbridge.not-permitted.example' });
    await card.waitFor(() => expect(card.find(ErrorState).find(Text).text).toBe('ARBridge could not be reached.'));
    setApiBaseUrl(serviceUrl(''));
    card.findByTestId(Button, 'retry').trigger('onClick');
    await card.waitFor(() => expect(card.maybeFind(StatisticsItem)).not.toBeNull());
    expectOutstanding(card, history);
    expect(line.sent.map((r) => [r.url, r.status])).toEqual([
      ['https://arbridge.not-permitted.example/api/v1/cards/company?objectId=7100001', null],
      [cardUrl('company', COMPANY.history), 200],
    ]);
  });

  test('an answer that breaks the contract is an error, not a half-drawn card', async () => {
    const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const answer = await captureAnswer(portal.service, cardUrl('company', COMPANY.history));
    const held = heldAnswer({ ...answer, body: { ...(answer.body as object), as_of: '30/06/2026' } });
    held.release();
    const card = renderCard('company', COMPANY.history, held.fetch);
    await card.waitFor(() => expect(card.find(ErrorState).find(Text).text).toBe('ARBridge sent an answer this card does not understand.'));
    expect(card.maybeFind(StatisticsItem)).toBeNull();
    expect(String(logged.mock.calls[0]?.[0])).toContain('as_of');
  });
});
