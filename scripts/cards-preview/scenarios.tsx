import fs from 'node:fs';
import { Button, hubspot, LoadingSpinner } from '@hubspot/ui-extensions';
import { createRenderer, type RenderedRootNode } from '@hubspot/ui-extensions/testing';
import type { ReactNode } from 'react';
import { CompanyCard, DealCard, resetApiBaseUrl, SettingsPage, setApiBaseUrl } from '../../extensions/index.ts';
import { formatMinor, parseMinor } from '../../src/domain/money.ts';
import { setCompanyLink, setDealLink } from '../../src/hubspot/links.ts';
import { logCompanyEntry } from '../../src/services/comm-log.ts';
import { createHelpRequest } from '../../src/services/help-requests.ts';
import { loadDemo } from '../../src/services/demo.ts';
import { recordTermsAck } from '../../src/services/terms.ts';
import { companySummary } from '../../src/services/reports.ts';
import { touchPortal, upsertCustomers } from '../../src/store/facts.ts';
import type { Store } from '../../src/store/store.ts';
import { hubspotProxy, PUBLIC_URL, startService, type Service } from '../../test/hubspot-project/service-harness.tsx';
import type { PreviewFrame } from './page.ts';

// Every card and state of the preview, rendered by HubSpot's test renderer against the real ARBridge service: an
// in-memory PGlite store with the demo portfolio, the app on loopback, and `hubspot.fetch` going through HubSpot's
// proxy (HubSpot's parameters added, a real v3 signature). Nothing a card shows is written by hand here: the
// records below only link demo customers to HubSpot companies and deals, as matching or a person would.

const SECRET = 'preview-client-secret';
const PORTAL = 4_242_001;
/** The as-of date of every figure, so the pictures do not change from day to day. */
export const AS_OF = '2026-06-30';
const DEMO = { customers: 12, invoices: 240, seed: 42, endDate: AS_OF } as const;
const USER = { id: 9_001, email: 'ana.rep@example.com', firstName: 'Ana', lastName: 'Rep', locale: 'en-US' };

const COMPANY = { matched: '7000001', unmatched: '7000002', empty: '7000003' } as const;
const DEAL = { invoiced: '8000001', noInvoices: '8000002', unmatchedCompany: '8000003' } as const;
/** A closed port on loopback: the service cannot be reached there. */
const UNREACHABLE = 'http://127.0.0.1:9';

/** One card in one state: its file name (no extension), how the page describes it, and what the renderer drew. */
export type Preview = { file: string; frame: PreviewFrame; root: RenderedRootNode };

type Chosen = { customerId: number; customerName: string; currency: string; reasons: number };

/** Card titles as HubSpot shows them: each card's `config.name` in its -hsmeta.json. */
const cardTitle = (file: string): string => {
  const meta = JSON.parse(fs.readFileSync(new URL(`../../app-config/app/cards/${file}`, import.meta.url), 'utf8')) as { config?: { name?: string } };
  if (!meta.config?.name) throw new Error(`app-config/app/cards/${file} has no config.name`);
  return meta.config.name;
};

/**
 * Loads the demo portfolio and links records to it: the company card's customer (the one with an overdue balance
 * and the most risk reasons), a customer imported without invoices, three deals. Sets the customer's credit limit
 * and the invoiced deal's amount so the deal goes over the limit.
 */
const seed = async (store: Store): Promise<Chosen> => {
  const { db } = store;
  await loadDemo(db, PORTAL, DEMO);
  const customers = await db.selectFrom('customers').select(['id', 'name']).where('portal_id', '=', PORTAL).orderBy('id').execute();
  let chosen: Chosen | undefined;
  for (const customer of customers) {
    const summary = await companySummary(db, PORTAL, { rowId: customer.id }, AS_OF);
    for (const { currency, metrics, risk } of summary.currencies) {
      if (Number(metrics.overdue) <= 0 || (chosen && chosen.reasons >= risk.reasons.length)) continue;
      chosen = { customerId: customer.id, customerName: customer.name ?? String(customer.id), currency, reasons: risk.reasons.length };
    }
  }
  if (chosen === undefined) throw new Error('The demo portfolio has no customer with an overdue balance');
  const { currency } = chosen;
  await setCompanyLink(db, PORTAL, { customerId: String(chosen.customerId), companyId: COMPANY.matched, method: 'manual', linkedBy: USER.email });

  // A customer imported from a CSV export whose invoices are not synced yet, linked by its domain.
  await upsertCustomers(db, PORTAL, 'csv', [{ id: 'C-2001', name: 'Harbor & Pine Supply Co.', domain: 'harborpine.example', industry: null, country: 'US' }]);
  const fresh = await db.selectFrom('customers').select('id').where('portal_id', '=', PORTAL).where('external_id', '=', 'C-2001').executeTakeFirstOrThrow();
  await setCompanyLink(db, PORTAL, { customerId: String(fresh.id), companyId: COMPANY.empty, method: 'domain', detail: 'harborpine.example' });

  // The deal with invoices: the customer's latest paid, overdue and open invoice in the chosen currency (by the
  // statuses the service gives them), so the deal card shows each.
  const summary = await companySummary(db, PORTAL, { rowId: chosen.customerId }, AS_OF);
  const picked = (['paid', 'overdue', 'open'] as const).flatMap((status) => {
    const latest = summary.invoices.filter((i) => i.currency === currency && i.status === status)
      .sort((a, b) => b.issue_date.localeCompare(a.issue_date))[0];
    return latest === undefined ? [] : [latest.id];
  });
  const invoices = await db.selectFrom('invoices').select(['id', 'total_minor'])
    .where('portal_id', '=', PORTAL).where('customer_id', '=', chosen.customerId).where('external_id', 'in', picked).execute();
  if (invoices.length === 0) throw new Error(`${chosen.customerName} has no paid, overdue or open invoice in ${chosen.currency}`);
  for (const invoice of invoices) await setDealLink(db, PORTAL, { invoiceId: String(invoice.id), dealId: DEAL.invoiced, method: 'manual' });

  // Credit limit: the outstanding balance rounded up to the next 5,000, plus 5,000; the rest of the deal (what is not
  // invoiced yet) is 7,500 more than the room left under it.
  const outstanding = summary.currencies.find((c) => c.currency === chosen.currency)!.metrics.outstanding;
  const outstandingMinor = parseMinor(outstanding, chosen.currency);
  if (outstandingMinor === null) throw new Error(`Outstanding ${outstanding} ${chosen.currency} is not an amount`);
  const step = parseMinor('5000', chosen.currency)!;
  const limitMinor = (Math.floor(outstandingMinor / step) + 2) * step;
  const invoicedMinor = invoices.reduce((sum, i) => sum + i.total_minor, 0);
  const dealMinor = invoicedMinor + (limitMinor - outstandingMinor) + step * 1.5;
  await db.updateTable('customers').set({ credit_limit_minor: limitMinor, credit_limit_currency: chosen.currency })
    .where('id', '=', chosen.customerId).execute();
  await db.insertInto('hubspot_deals').values([
    { portal_id: PORTAL, deal_id: DEAL.invoiced, name: 'Renewal 2026', company_id: COMPANY.matched, amount: formatMinor(dealMinor, chosen.currency), currency: chosen.currency, owner_id: '701' },
    { portal_id: PORTAL, deal_id: DEAL.noInvoices, name: 'Expansion', company_id: COMPANY.matched, amount: null, currency: null },
    { portal_id: PORTAL, deal_id: DEAL.unmatchedCompany, name: 'New business', company_id: COMPANY.unmatched, amount: null, currency: null },
  ]).execute();
  // What the rep recorded at sale and what AR logged since, through the service's own code paths.
  await recordTermsAck(db, PORTAL, {
    dealId: DEAL.invoiced, terms: 'Net 30', contactName: 'Dana Whitfield', contactEmail: 'dana.whitfield@customer.example',
    acknowledgedOn: '2026-01-12', evidenceUrl: 'https://files.example/renewal-2026-signed-quote.pdf', recordedBy: USER.email,
  }, AS_OF);
  await logCompanyEntry(db, PORTAL, {
    companyId: COMPANY.matched, kind: 'email', occurredOn: '2026-06-18', summary: 'Sent a statement of the open invoices', author: 'sam.ar@example.com',
  }, AS_OF);
  await logCompanyEntry(db, PORTAL, {
    companyId: COMPANY.matched, kind: 'call', occurredOn: '2026-06-24', summary: 'Called AP: the overdue invoices are in their next payment run', author: 'sam.ar@example.com',
  }, AS_OF);
  // AR asked the deal's owner for help on the overdue invoices (the service queues the owner's HubSpot task).
  await createHelpRequest(db, PORTAL, {
    objectType: 'deal', objectId: DEAL.invoiced, needed: 'Ask their controller when the overdue invoices will be paid', neededBy: '2026-07-03',
    requestedBy: 'sam.ar@example.com',
  }, AS_OF);
  await touchPortal(db, PORTAL);
  return chosen;
};

/** Waits until no request is under way and no spinner shows, and that holds for 150 ms (10 s at most). */
const settle = async (root: () => RenderedRootNode, inFlight: () => number, what: string): Promise<void> => {
  const deadline = Date.now() + 10_000;
  let quietSince: number | null = null;
  for (;;) {
    const quiet = inFlight() === 0 && root().maybeFind(LoadingSpinner) === null;
    if (!quiet) quietSince = null;
    else if (quietSince === null) quietSince = Date.now();
    else if (Date.now() - quietSince >= 150) return;
    if (Date.now() > deadline) throw new Error(`${what}: still loading after 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

type RenderOptions = { location: 'crm.record.tab' | 'settings'; objectId?: string; origin?: string; secret?: string };

/**
 * Renders `node` where HubSpot would, its `hubspot.fetch` going through HubSpot's proxy to `origin` signed with
 * `secret`. Returns the renderer and a `settle` that waits for the card to finish loading.
 */
const renderAt = (service: Service, node: ReactNode, options: RenderOptions) => {
  const renderer = createRenderer(options.location);
  const { context } = renderer.mocks;
  if ('crm' in context && options.objectId !== undefined) context.crm.objectId = Number(options.objectId);
  context.portal.id = PORTAL;
  Object.assign(context.user, { id: USER.id, email: USER.email, firstName: USER.firstName, lastName: USER.lastName, locale: USER.locale });
  let inFlight = 0;
  const proxy = hubspotProxy(options.origin ?? service.origin, options.secret ?? SECRET, () => ({ portalId: context.portal.id, userId: context.user.id, userEmail: context.user.email }));
  hubspot.fetch = async (url, init) => {
    inFlight += 1;
    try {
      return await proxy(url, init);
    } finally {
      inFlight -= 1;
    }
  };
  renderer.render(node);
  return { renderer, settle: (what: string) => settle(renderer.getRootNode, () => inFlight, what) };
};

/** Runs `work` with console.error silenced: a card logs why a request failed, which the error states cause on purpose. */
const quietly = async <T,>(work: () => Promise<T>): Promise<T> => {
  const original = console.error;
  console.error = () => undefined;
  try {
    return await work();
  } finally {
    console.error = original;
  }
};

/** Starts the service over the demo data, renders every card and state, and closes the service. */
export const renderPreviews = async (progress: (line: string) => void = () => undefined): Promise<Preview[]> => {
  const seeded: { chosen?: Chosen } = {};
  const service = await startService({ clientSecret: SECRET, portalId: PORTAL, today: AS_OF, seed: async (store) => { seeded.chosen = await seed(store); } });
  const originalFetch = hubspot.fetch;
  const previews: Preview[] = [];
  try {
    if (seeded.chosen === undefined) throw new Error('The demo data was not seeded');
    const customer = seeded.chosen.customerName;
    setApiBaseUrl(PUBLIC_URL);
    const companyTitle = cardTitle('company-card-hsmeta.json');
    const dealTitle = cardTitle('deal-card-hsmeta.json');
    const company = (state: string, description: string): PreviewFrame =>
      ({ surface: 'company-card', surfaceLabel: 'Company card', title: companyTitle, state, description, kind: 'card' });
    const deal = (state: string, description: string): PreviewFrame =>
      ({ surface: 'deal-card', surfaceLabel: 'Deal card', title: dealTitle, state, description, kind: 'card' });
    const add = (file: string, frame: PreviewFrame, root: RenderedRootNode): void => {
      previews.push({ file, frame, root });
      progress(`rendered ${file}`);
    };

    {
      const { renderer, settle: done } = renderAt(service, <CompanyCard />, { location: 'crm.record.tab', objectId: COMPANY.matched });
      add('company-card-loading', company('loading', 'The first frame, before the card\'s request to the service has answered.'), renderer.getRootNode());
      await done('company card (loading)');
    }
    {
      const { renderer, settle: done } = renderAt(service, <CompanyCard />, { location: 'crm.record.tab', objectId: COMPANY.matched });
      await done('company card (matched)');
      add('company-card-matched', company('matched with history',
        `A company linked to the demo customer ${customer}: receivables, risk and payment history as the service computes them (as of ${AS_OF}).`), renderer.getRootNode());
    }
    {
      const { renderer, settle: done } = renderAt(service, <CompanyCard />, { location: 'crm.record.tab', objectId: COMPANY.empty });
      await done('company card (empty)');
      add('company-card-empty', company('matched, no invoices', 'A company linked to a customer imported without invoices: nothing is synced for it yet.'), renderer.getRootNode());
    }
    {
      const { renderer, settle: done } = renderAt(service, <CompanyCard />, { location: 'crm.record.tab', objectId: COMPANY.unmatched });
      await done('company card (not matched)');
      const search = renderer.maybeFindByTestId(Button, 'search');
      if (search === null) throw new Error('company card (not matched): the link picker has no Search button (testId "search")');
      search.trigger('onClick');
      await done('company card (not matched, search)');
      const offered = renderer.findAll(Button).filter((b) => String(b.props.testId ?? '').startsWith('link-'));
      if (offered.length === 0) throw new Error('company card (not matched): the link picker offered no customer to link');
      add('company-card-not-matched', company('not matched',
        `A company no accounting customer is linked to: the link picker after Search, offering the ${offered.length} unlinked customers.`), renderer.getRootNode());
    }
    await quietly(async () => {
      const { renderer, settle: done } = renderAt(service, <CompanyCard />, { location: 'crm.record.tab', objectId: COMPANY.matched, secret: 'not-the-client-secret' });
      await done('company card (wrong signature)');
      add('company-card-error-signature', company('error: signature refused',
        'The service refused the request (401): it was signed with another client secret. The card offers Try again.'), renderer.getRootNode());
    });
    await quietly(async () => {
      const { renderer, settle: done } = renderAt(service, <CompanyCard />, { location: 'crm.record.tab', objectId: COMPANY.matched, origin: UNREACHABLE });
      await done('company card (unreachable)');
      add('company-card-error-unreachable', company('error: service unreachable',
        'The service could not be reached at all. The card offers Try again.'), renderer.getRootNode());
    });
    {
      const { renderer, settle: done } = renderAt(service, <DealCard />, { location: 'crm.record.tab', objectId: DEAL.invoiced });
      await done('deal card (invoiced)');
      add('deal-card-invoiced', deal('invoices and credit check',
        `A deal of ${customer} with a paid, an overdue and an open invoice linked; the rest of the deal takes the customer over its credit limit.`), renderer.getRootNode());
    }
    {
      const { renderer, settle: done } = renderAt(service, <DealCard />, { location: 'crm.record.tab', objectId: DEAL.noInvoices });
      await done('deal card (no invoices)');
      add('deal-card-no-invoices', deal('no invoices', `Another deal of ${customer}, with no invoice linked to it yet.`), renderer.getRootNode());
    }
    {
      const { renderer, settle: done } = renderAt(service, <DealCard />, { location: 'crm.record.tab', objectId: DEAL.unmatchedCompany });
      await done('deal card (unmatched company)');
      add('deal-card-unmatched-company', deal('company not matched', 'A deal whose company is not linked to an accounting customer.'), renderer.getRootNode());
    }
    {
      const { renderer, settle: done } = renderAt(service, <SettingsPage />, { location: 'settings' });
      await done('settings page');
      add('settings', { surface: 'settings', surfaceLabel: 'Settings page', title: 'ARBridge', state: 'as installed',
        description: 'The app\'s settings page in HubSpot, answered by the same service.', kind: 'settings' }, renderer.getRootNode());
    }
  } finally {
    hubspot.fetch = originalFetch;
    resetApiBaseUrl();
    await service.close();
  }
  return previews;
};
