/// <reference types="node" />
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals';
import {
  Alert, BarChart, Flex, hubspot, LineChart, ScoreCircle, StatisticsItem, StatusTag, StepIndicator, Table, TableRow, Tag, Text,
} from '@hubspot/ui-extensions';
import { createRenderer, isRenderedTextNode, type RenderedNode } from '@hubspot/ui-extensions/testing';
import { CompanyCard, DealCard, resetApiBaseUrl, setApiBaseUrl } from '../../extensions/index.ts';
import { chartNumber, MAPPED_COMPONENTS, treeToHtml, UnmappedComponentError } from '../../scripts/cards-preview/html.ts';
import { setCompanyLink, setDealLink } from '../../src/hubspot/links.ts';
import { loadDemo } from '../../src/services/demo.ts';
import { companySummary } from '../../src/services/reports.ts';
import type { Store } from '../../src/store/store.ts';
import { PUBLIC_URL, proxyFetch, startService, type Service } from './e2e-service.tsx';

// The preview's tree → HTML mapping (scripts/cards-preview/html.ts): what a person reads on a card rendered against
// the real service (PGlite, demo data, signed loopback requests) is in the HTML, and a component the mapping cannot
// draw stops it with the component's name.

const SECRET = 'preview-client-secret';
const PORTAL = 4_242_002;
const TODAY = '2026-06-30';
const COMPANY = '7000001';
const DEAL = '8000001';
const USER = { id: 9_001, email: 'ana.rep@example.com' };

let service: Service;
let customer: { id: number; name: string | null };

const seed = async (store: Store): Promise<void> => {
  await loadDemo(store.db, PORTAL, { customers: 12, invoices: 240, seed: 42, endDate: TODAY });
  const customers = await store.db.selectFrom('customers').select(['id', 'name']).where('portal_id', '=', PORTAL).orderBy('id').execute();
  for (const c of customers) {
    const summary = await companySummary(store.db, PORTAL, { rowId: c.id }, TODAY);
    if (summary.currencies.some((x) => Number(x.metrics.overdue) > 0) && summary.invoices.length > 10) {
      customer = c;
      break;
    }
  }
  await setCompanyLink(store.db, PORTAL, { customerId: String(customer.id), companyId: COMPANY, method: 'manual', linkedBy: USER.email });
  const invoices = await store.db.selectFrom('invoices').select(['id', 'currency']).where('portal_id', '=', PORTAL)
    .where('customer_id', '=', customer.id).where('issue_date', '<=', TODAY).orderBy('issue_date', 'desc').limit(3).execute();
  for (const invoice of invoices) await setDealLink(store.db, PORTAL, { invoiceId: String(invoice.id), dealId: DEAL, method: 'manual' });
  // A credit limit of 1.00 and a large deal: the deal card warns.
  const currency = invoices[0]!.currency;
  await store.db.updateTable('customers').set({ credit_limit_minor: 100, credit_limit_currency: currency }).where('id', '=', customer.id).execute();
  await store.db.insertInto('hubspot_deals').values({ portal_id: PORTAL, deal_id: DEAL, name: 'Renewal', company_id: COMPANY, amount: '250000.00', currency }).execute();
};

beforeAll(async () => {
  service = await startService({ clientSecret: SECRET, portalId: PORTAL, today: TODAY, seed });
});

afterAll(async () => {
  await service?.close();
});

afterEach(() => {
  jest.restoreAllMocks();
  resetApiBaseUrl();
});

/** What a person reads in HTML: tags dropped, entities decoded, whitespace collapsed. */
const visibleText = (html: string): string => html
  .replace(/<[^>]+>/g, ' ')
  .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, '\'').replace(/&amp;/g, '&')
  .replace(/\s+/g, ' ').trim();

/** The text nodes of a rendered tree, in order, trimmed, empty ones left out. */
const textsOf = (node: RenderedNode): string[] => {
  if (isRenderedTextNode(node)) return node.text.trim() === '' ? [] : [node.text.replace(/\s+/g, ' ').trim()];
  return 'childNodes' in node ? node.childNodes.flatMap(textsOf) : [];
};

/** Asserts every text of the rendered tree shows in `html`, in the tree's order. */
const expectAllTextsInOrder = (node: RenderedNode, html: string): void => {
  const shown = visibleText(html);
  let from = 0;
  for (const text of textsOf(node)) {
    const at = shown.indexOf(text, from);
    expect({ text, found: at >= 0 }).toEqual({ text, found: true });
    from = at + text.length;
  }
};

/** The HTML of each `<tag …>…</tag>` in `html` (not nested in one another). */
const elements = (html: string, tag: string): string[] => html.match(new RegExp(`<${tag}[ >][\\s\\S]*?</${tag}>`, 'g')) ?? [];

/** A card on a record of the demo portal, its requests going through HubSpot's proxy to the service. */
const renderCard = (card: 'company' | 'deal', objectId: string) => {
  setApiBaseUrl(PUBLIC_URL);
  const renderer = createRenderer('crm.record.tab');
  const { context } = renderer.mocks;
  context.crm.objectId = Number(objectId);
  context.portal.id = PORTAL;
  context.user.id = USER.id;
  context.user.email = USER.email;
  context.user.locale = 'en-US';
  proxyFetch(service, SECRET, () => ({ portalId: PORTAL, userId: USER.id, userEmail: USER.email }));
  renderer.render(card === 'company' ? <CompanyCard /> : <DealCard />);
  return renderer;
};

const money = (amount: string, currency: string): string => new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(Number(amount));

describe('the preview HTML of a rendered card', () => {
  test('shows the company card\'s figures, risk, chart values and the first page of payment history as the service computed them', async () => {
    const summary = await companySummary(service.store.db, PORTAL, { rowId: customer.id }, TODAY);
    const first = summary.currencies[0]!;
    const renderer = renderCard('company', COMPANY);
    await renderer.waitFor(() => expect(renderer.findByTestId(StatisticsItem, `outstanding-${first.currency}`)).toBeDefined());
    const root = renderer.getRootNode();
    const html = treeToHtml(root);
    const text = visibleText(html);

    expectAllTextsInOrder(root, html);
    expect(text).toContain(`Linked to ${customer.name} (demo), linked by hand.`);
    for (const { currency, metrics, risk } of summary.currencies) {
      expect(text).toContain(`Outstanding ${money(metrics.outstanding, currency)}`);
      expect(text).toContain(`Overdue ${money(metrics.overdue, currency)}`);
      const variant = String(renderer.findByTestId(Tag, `risk-${currency}`).props.variant);
      expect(html).toContain(`<span class="hs-tag hs-tag-${variant}">Risk ${risk.tier} · ${risk.score}/100</span>`);
      for (const reason of risk.reasons) expect(text).toContain(reason);

      // The aging chart: its title, one bar per bucket, each bucket's name and open amount.
      const aging = elements(html, 'figure').find((f) => f.includes(`Aging (${currency})`));
      expect(aging).toBeDefined();
      expect(aging!.match(/<rect /g)).toHaveLength(metrics.aging.length);
      for (const { bucket, amount } of metrics.aging) {
        expect(visibleText(aging!)).toContain(bucket);
        expect(visibleText(aging!)).toContain(chartNumber(Number(amount)));
      }
    }

    // The payment history: the header and page 1's rows, each reading as the rendered row does; a pager.
    const historyNode = renderer.findByTestId(Table, 'payment-history');
    const history = elements(html, 'table').find((t) => t.includes('Days late'))!;
    const rows = elements(history, 'tr');
    expect(rows).toHaveLength(1 + Math.min(10, summary.invoices.length));
    expect(visibleText(rows[0]!)).toBe('Invoice Issued ↕ Due ↕ Amount ↕ Paid Paid on Days late ↕ Status');
    historyNode.findAll(TableRow).slice(1).forEach((row, i) => expect(visibleText(rows[i + 1]!)).toBe(textsOf(row).join(' ')));
    expect(rows.slice(1).map((r) => visibleText(r).split(' ')[0])).toEqual(summary.invoices.slice(0, 10).map((inv) => inv.number ?? inv.id));
    const pages = Math.ceil(summary.invoices.length / 10);
    expect(visibleText(html.slice(html.indexOf('<nav class="hs-pager"')))).toMatch(new RegExp(`^« ‹ 1 2 .*${Math.min(pages, 5)} › »`));
  });

  test('shows the deal card\'s invoice rows with their status and the credit warning as an alert', async () => {
    const renderer = renderCard('deal', DEAL);
    await renderer.waitFor(() => expect(renderer.findByTestId(Alert, 'credit-check')).toBeDefined());
    const root = renderer.getRootNode();
    const html = treeToHtml(root);

    expectAllTextsInOrder(root, html);
    const rows = elements(elements(html, 'table')[0]!, 'tr');
    const rendered = renderer.findAll(TableRow);
    expect(rows).toHaveLength(4);
    expect(visibleText(rows[0]!)).toBe('Invoice Due Amount Collected Outstanding Status');
    rendered.slice(1).forEach((row, i) => expect(visibleText(rows[i + 1]!)).toBe(textsOf(row).join(' ')));
    for (const tag of renderer.findAll(StatusTag)) expect(html).toContain(`<span class="dot dot-${String(tag.props.variant)}"></span>${tag.text}`);
    const alert = renderer.findByTestId(Alert, 'credit-check');
    expect(html).toContain(`<div class="hs-alert hs-alert-warning" role="alert"><div class="hs-alert-title">Over the credit limit</div><div class="hs-alert-body">${alert.text}</div></div>`);
  });

  test('a card still waiting for its answer is a spinner labelled for assistive technology', async () => {
    const pending = jest.spyOn(hubspot, 'fetch').mockImplementation(() => new Promise<Response>(() => undefined));
    const renderer = createRenderer('crm.record.tab');
    renderer.render(<CompanyCard />);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(pending).toHaveBeenCalledTimes(1);
    expect(treeToHtml(renderer.getRootNode())).toMatch(/^<div class="hs-loading centered" role="status" aria-label="Loading receivables"><svg /);
  });

  test('draws a line chart\'s points from its data, negative values below the zero line', () => {
    const renderer = createRenderer('crm.record.tab');
    const data = [{ month: '2026-04', days: 12 }, { month: '2026-05', days: -3 }, { month: '2026-06', days: 4.5 }];
    renderer.render(<LineChart data={data} axes={{ x: { field: 'month', fieldType: 'category' }, y: { field: 'days', fieldType: 'linear', label: 'Days' } }}
      options={{ title: 'Trend', showDataLabels: true }} />);
    const html = treeToHtml(renderer.getRootNode());
    const circles = [...html.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)].map((m) => ({ x: Number(m[1]), y: Number(m[2]) }));
    expect(circles).toHaveLength(3);
    const zero = Number(/<line [^>]*y1="([\d.]+)"[^>]*class="zero"/.exec(html)?.[1]);
    expect(circles[0]!.y).toBeLessThan(zero);
    expect(circles[1]!.y).toBeGreaterThan(zero);
    expect(circles[0]!.x).toBeLessThan(circles[1]!.x);
    expect(visibleText(html)).toMatch(/^Trend .*2026-04 2026-05 2026-06 Days$/);
    expect(visibleText(html)).toContain('12 -3 4.5');
  });

  test('text is escaped, never read as markup', () => {
    const renderer = createRenderer('crm.record.tab');
    renderer.render(<Text>{'Fish & <b>Chips</b> "Ltd"'}</Text>);
    expect(treeToHtml(renderer.getRootNode())).toBe('<p class="hs-text">Fish &amp; &lt;b&gt;Chips&lt;/b&gt; &quot;Ltd&quot;</p>');
  });

  test('a component without a mapping fails, naming each such component and where it is', () => {
    const renderer = createRenderer('crm.record.tab');
    renderer.render(
      <Flex direction="column">
        <Text>Score</Text>
        <ScoreCircle score={40} />
        <Flex><StepIndicator stepNames={['One', 'Two']} currentStep={0} /></Flex>
        <BarChart data={[]} axes={{ x: { field: 'a', fieldType: 'category' }, y: { field: 'b', fieldType: 'linear' } }} />
      </Flex>,
    );
    const draw = () => treeToHtml(renderer.getRootNode());
    expect(draw).toThrow(UnmappedComponentError);
    expect(draw).toThrow('No HTML mapping for HubSpot components ScoreCircle, StepIndicator (at Flex > ScoreCircle; Flex > Flex > StepIndicator)');
  });

  test('every HubSpot component the cards in extensions/ import has a mapping', () => {
    const dir = fileURLToPath(new URL('../../extensions', import.meta.url));
    const files = fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.tsx?$/.test(f) && !f.includes('node_modules'));
    const imported = new Set<string>();
    for (const file of files) {
      const source = fs.readFileSync(path.join(dir, file), 'utf8');
      for (const [, names] of source.matchAll(/import\s*\{([^}]*)\}\s*from\s*'@hubspot\/ui-extensions'/g)) {
        for (const name of names!.split(',').map((n) => n.trim().replace(/^type\s+/, '')).filter((n) => /^[A-Z]/.test(n))) imported.add(name);
      }
    }
    expect(imported.size).toBeGreaterThan(10);
    expect([...imported].filter((name) => !MAPPED_COMPONENTS.includes(name))).toEqual([]);
  });
});
