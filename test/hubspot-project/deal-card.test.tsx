import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { Alert, Button, ErrorState, LoadingSpinner, StatusTag, Table, TableCell, TableHeader, TableRow, Tag, Text } from '@hubspot/ui-extensions';
import { parseMinor } from '../../src/domain/money.ts';
import { resetApiBaseUrl } from '../../extensions/index.ts';
import {
  cardUrl, captureAnswer, dateText, heldAnswer, liveService, moneyText, percentText, renderCard, STATUS_TAG, TIER_VARIANT, type Rendered,
} from './card-harness.tsx';
import { eventually } from './fixtures.tsx';
import {
  balances, DEAL, domainView, newestFirst, SECRET, startDemoPortal, storedInvoices, type DemoPortal, type StoredInvoice,
} from './demo-portal.tsx';

// The deal card against the live service over the demo portal (see demo-portal.tsx). Expected rows, totals and the
// credit check are computed from the store's rows: collected counts payments only, outstanding what is still open.

const LOCALES = ['en-US', 'de-DE'] as const;

let portal: DemoPortal;

const db = () => portal.service.store.db;

beforeAll(async () => {
  portal = await startDemoPortal();
});

afterAll(async () => {
  await portal?.service.close();
});

afterEach(() => {
  jest.restoreAllMocks();
  resetApiBaseUrl();
});

const renderLive = (dealId: string, locale = 'en-US') => {
  const { line, fetch } = liveService(portal.service);
  return { ...renderCard('deal', dealId, fetch, { locale }), line };
};

const invoiceRows = (card: Rendered) => card.findAll(TableRow).filter((row) => String(row.props.testId).startsWith('invoice-'));
// A testId names one component type: look for the credit check as an Alert or as a Text by matcher.
const creditAlert = (card: Rendered) => card.maybeFind(Alert, { testId: 'credit-check' });
const creditLine = (card: Rendered) => creditAlert(card) ?? card.maybeFind(Text, { testId: 'credit-check' });

/** The deal's invoices, newest first (as the company card lists them), and per currency what was invoiced (void left out), collected, outstanding and overdue. */
const dealFigures = async (dealId: string) => {
  const invoices = newestFirst(await storedInvoices(db(), { dealId }));
  const totals = new Map<string, { invoiced: number; collected: number; outstanding: number; overdue: number }>();
  for (const i of invoices) {
    const t = totals.get(i.currency) ?? { invoiced: 0, collected: 0, outstanding: 0, overdue: 0 };
    if (i.status !== 'void') t.invoiced += i.totalMinor;
    t.collected += i.paymentsMinor;
    t.outstanding += i.openMinor;
    if (i.status === 'overdue') t.overdue += i.openMinor;
    totals.set(i.currency, t);
  }
  return { invoices, totals };
};

/** The credit-check line: what the customer owes + the part of the deal not invoiced yet, against its limit. */
const creditText = async (dealId: string, locale: string) => {
  const { minor: limit, currency } = portal.creditLimit;
  const owed = balances(await storedInvoices(db(), { customerRowId: portal.history.rowId })).get(currency)?.outstanding ?? 0;
  const { totals } = await dealFigures(dealId);
  const amount = portal.dealAmounts[dealId];
  const uninvoiced = Math.max(0, (amount === null || amount === undefined ? 0 : parseMinor(amount, currency)!) - (totals.get(currency)?.invoiced ?? 0));
  const total = owed + uninvoiced;
  const money = (minor: number) => moneyText(minor, currency, locale);
  return {
    exceeds: total > limit,
    text: `Outstanding ${money(owed)} + this deal ${money(uninvoiced)} = ${money(total)} of a ${money(limit)} credit limit (${percentText(total / limit, locale)})`,
  };
};

const expectInvoiceRow = (card: Rendered, invoice: StoredInvoice, locale: string) => {
  const money = (minor: number) => moneyText(minor, invoice.currency, locale);
  const cells = card.findByTestId(TableRow, `invoice-${invoice.externalId}`).findAll(TableCell).map((c) => c.text);
  expect(cells.slice(0, 5)).toEqual([
    invoice.number ?? invoice.externalId, dateText(invoice.dueDate, locale), money(invoice.totalMinor), money(invoice.paymentsMinor), money(invoice.openMinor),
  ]);
  const tag = card.findByTestId(StatusTag, `status-${invoice.externalId}`);
  expect([tag.text, tag.props.variant]).toEqual(STATUS_TAG[invoice.status]);
};

const expectCompanyRisk = async (card: Rendered) => {
  const domain = await domainView(db(), portal.history.rowId);
  expect(domain.size).toBeGreaterThan(0);
  for (const [currency, { risk }] of domain) {
    const tag = card.findByTestId(Tag, `risk-${currency}`);
    expect(tag.text).toBe(`Risk ${risk.tier} · ${risk.score}/100`);
    expect(tag.props.variant).toBe(TIER_VARIANT[risk.tier]);
    risk.reasons.forEach((reason, i) => expect(card.findByTestId(Text, `risk-reason-${currency}-${i}`).text).toBe(reason));
  }
};

describe('DealCard', () => {
  test.each(LOCALES)('a deal with invoices: rows, totals per currency, company risk, and the over-limit warning (%s)', async (locale) => {
    const card = renderLive(DEAL.overLimit, locale);
    await card.waitFor(() => expect(invoiceRows(card).length).toBeGreaterThan(0));
    const { invoices, totals } = await dealFigures(DEAL.overLimit);
    expect(invoiceRows(card).map((r) => r.props.testId)).toEqual(invoices.map((i) => `invoice-${i.externalId}`));
    expect(card.find(Table).findAll(TableHeader).map((h) => h.text)).toEqual(['Invoice', 'Due', 'Amount', 'Collected', 'Outstanding', 'Status']);
    for (const invoice of invoices) expectInvoiceRow(card, invoice, locale);
    // A credit note is not collected: it shows as the gap between amount and collected + outstanding.
    expect(invoices.some((i) => i.paymentsMinor + i.openMinor < i.totalMinor)).toBe(true);
    expect(invoices.some((i) => i.openMinor > 0 && i.paymentsMinor > 0)).toBe(true);

    for (const [currency, t] of totals) {
      const money = (minor: number) => moneyText(minor, currency, locale);
      expect(card.findByTestId(Text, `totals-${currency}`).text).toBe(
        `${currency}: invoiced ${money(t.invoiced)}, collected ${money(t.collected)}, outstanding ${money(t.outstanding)}, overdue ${money(t.overdue)}`);
    }
    await expectCompanyRisk(card);

    const expected = await creditText(DEAL.overLimit, locale);
    expect(expected.exceeds).toBe(true);
    const alert = card.findByTestId(Alert, 'credit-check');
    expect(alert.props.title).toBe('Over the credit limit');
    expect(alert.props.variant).toBe('warning');
    expect(alert.text).toBe(expected.text);
    expect(card.line.sent).toEqual([{ method: 'GET', url: cardUrl('deal', DEAL.overLimit), body: undefined, status: 200 }]);
  });

  test('a deal within the credit limit shows the check as a plain line, no warning', async () => {
    const card = renderLive(DEAL.withinLimit);
    await card.waitFor(() => expect(creditLine(card)).not.toBeNull());
    const expected = await creditText(DEAL.withinLimit, 'en-US');
    expect(expected.exceeds).toBe(false);
    expect(creditAlert(card)).toBeNull();
    expect(card.findByTestId(Text, 'credit-check').text).toBe(expected.text);
    const { invoices } = await dealFigures(DEAL.withinLimit);
    expect(invoiceRows(card)).toHaveLength(invoices.length);
    for (const invoice of invoices) expectInvoiceRow(card, invoice, 'en-US');
  });

  test('a deal with no invoices says so, and still shows its company\'s risk and credit check', async () => {
    const card = renderLive(DEAL.noInvoices, 'de-DE');
    await card.waitFor(() => expect(card.findByTestId(Text, 'no-invoices').text).toBe('No invoices are linked to this deal.'));
    expect(invoiceRows(card)).toHaveLength(0);
    expect(card.maybeFind(Text, (t) => String(t.props.testId).startsWith('totals-'))).toBeNull();
    await expectCompanyRisk(card);
    const expected = await creditText(DEAL.noInvoices, 'de-DE');
    expect(card.findByTestId(Text, 'credit-check').text).toBe(expected.text);
  });

  test('a deal whose company is not linked, and a deal with no company, say so and show no risk or credit check', async () => {
    const unmatched = renderLive(DEAL.unmatchedCompany);
    await unmatched.waitFor(() => expect(unmatched.findByTestId(Text, 'company-risk').text)
      .toBe("The deal's company is not linked to an accounting customer."));
    expect(unmatched.maybeFind(Tag, (t) => String(t.props.testId).startsWith('risk-'))).toBeNull();
    expect(creditLine(unmatched)).toBeNull();
    expect(unmatched.findByTestId(Text, 'no-invoices')).toBeDefined();

    jest.restoreAllMocks();
    const none = renderLive(DEAL.noCompany);
    await none.waitFor(() => expect(none.findByTestId(Text, 'company-risk').text).toBe('No company is associated with this deal.'));
    expect(creditLine(none)).toBeNull();
  });

  test('shows a spinner while the GET is under way, then the answer', async () => {
    const answer = await captureAnswer(portal.service, cardUrl('deal', DEAL.overLimit));
    expect(answer.status).toBe(200);
    const held = heldAnswer(answer);
    const card = renderCard('deal', DEAL.overLimit, held.fetch);
    expect(card.find(LoadingSpinner).props.label).toBe('Loading invoices');
    await eventually(() => expect(held.sent).toEqual([cardUrl('deal', DEAL.overLimit)]));
    expect(card.find(LoadingSpinner)).toBeDefined();
    held.release();
    const { invoices } = await dealFigures(DEAL.overLimit);
    await card.waitFor(() => expect(invoiceRows(card)).toHaveLength(invoices.length));
    expect(card.maybeFind(LoadingSpinner)).toBeNull();
  });

  test('a refused request (401) shows the error; Try again fetches once more and renders', async () => {
    const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const { line, fetch } = liveService(portal.service);
    line.secret = 'not-the-client-secret';
    const card = renderCard('deal', DEAL.overLimit, fetch);
    await card.waitFor(() => expect(card.find(ErrorState).props.title).toBe('Invoices are not available'));
    expect(card.find(ErrorState).find(Text).text).toBe('ARBridge could not answer this request.');
    expect(invoiceRows(card)).toHaveLength(0);
    expect(String(logged.mock.calls[0]?.[0])).toContain(`http 401: ${cardUrl('deal', DEAL.overLimit)}`);
    line.secret = SECRET;
    card.findByTestId(Button, 'retry').trigger('onClick');
    const { invoices } = await dealFigures(DEAL.overLimit);
    await card.waitFor(() => expect(invoiceRows(card)).toHaveLength(invoices.length));
    expect(line.sent.map((r) => r.status)).toEqual([401, 200]);
  });
});
