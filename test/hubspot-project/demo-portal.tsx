import { sql } from 'kysely';
import { currencyExponent, formatMinor } from '../../src/domain/money.ts';
import { buildReports } from '../../src/domain/report.ts';
import { daysLateByMonth } from '../../src/domain/trend.ts';
import { runMatching } from '../../src/hubspot/matching.ts';
import { upsertMirroredCompanies, upsertMirroredDeals } from '../../src/hubspot/mirror.ts';
import { linkCompany } from '../../src/services/cards.ts';
import { loadDemo } from '../../src/services/demo.ts';
import { setManualDealLink } from '../../src/services/matching.ts';
import { loadFacts, touchPortal, upsertCustomers, type Executor } from '../../src/store/facts.ts';
import { loadPolicy } from '../../src/store/policies.ts';
import { startService, type Service } from './service-harness.tsx';

// The demo portal the card tests render against: the real service over in-memory PGlite, filled with the demo
// portfolio and set up through the service's own code paths (HubSpot mirror + matching, linking by hand, deal
// links), with the records each card state needs picked by querying the store. The expected figures are read
// back from the store's rows here, independently of the card API.

export const PORTAL = 4_242_003;
export const SECRET = 'cards-client-secret';
export const TODAY = '2026-06-30';
export const USER = { id: 9_002, email: 'lea.rep@example.com' };

/** HubSpot company ids. */
export const COMPANY = {
  /** Matched by domain to a demo customer with a rich history (paid, overdue, partly paid, credit note, disputed). */
  history: '7100001',
  /** Linked by hand to a customer with no invoices. */
  empty: '7100002',
  /** Linked by hand to a demo customer; the unlink test unlinks it. */
  toUnlink: '7100003',
  /** Not linked: the link test links it. */
  toLink: '7100004',
  /** Not linked: the failed-link test. */
  toLinkAfterFailures: '7100005',
  /** Not linked: a deal's company. */
  dealsUnmatched: '7100006',
} as const;

/** HubSpot deal ids. */
export const DEAL = {
  /** Invoices of the history customer; its amount puts the customer over the credit limit. */
  overLimit: '8100001',
  /** One invoice of the history customer; within the credit limit. */
  withinLimit: '8100002',
  /** The history company's deal with no invoice linked. */
  noInvoices: '8100003',
  /** A deal whose company is not linked to a customer. */
  unmatchedCompany: '8100004',
  /** A deal with no company. */
  noCompany: '8100005',
} as const;

export type Customer = { rowId: number; externalId: string; source: string; name: string | null; domain: string | null };

export type Settled = { id: string; date: string; kind: 'payment' | 'credit_note' | 'write_off'; amountMinor: number };

/** One invoice as of TODAY, read from the store's rows and settled here (not by the service's code). */
export type StoredInvoice = {
  rowId: number; externalId: string; customerRowId: number; number: string | null; currency: string; totalMinor: number;
  issueDate: string; dueDate: string; disputed: boolean; settlements: Settled[];
  settledMinor: number; paymentsMinor: number; openMinor: number;
  status: 'paid' | 'open' | 'overdue' | 'void' | 'written_off' | 'credited';
  paidDate: string | null; daysLate: number | null;
};

export type DemoPortal = {
  service: Service;
  history: Customer;
  noInvoices: Customer;
  toUnlink: Customer;
  /** Unlinked demo customers for the link picker. */
  spares: [Customer, Customer];
  /** A word of the first spare's name; an unlinked CSV customer with no name or domain has it in its id. */
  pickerQuery: string;
  /** The history customer's credit limit (its invoice currency). */
  creditLimit: { minor: number; currency: string };
  /** Deal amounts as stored in the HubSpot mirror (decimal text), by deal id. */
  dealAmounts: Record<string, string | null>;
};

const DAY_MS = 86_400_000;
const daysBetween = (from: string, to: string): number => (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS;

/**
 * Invoices issued by TODAY with their settlements dated by TODAY, straight from the tables: open = total − all
 * settlements (0 once voided); paid when closed with a payment among the settlements and no write-off, on the
 * day the settlements reached the total; overdue when open past its due date.
 */
export const storedInvoices = async (
  db: Executor, which: { customerRowId: number } | { dealId: string } | 'all',
): Promise<StoredInvoice[]> => {
  const filter = which === 'all' ? sql``
    : 'customerRowId' in which ? sql`AND i.customer_id = ${which.customerRowId}`
      : sql`AND i.id IN (SELECT l.invoice_id FROM deal_links l WHERE l.portal_id = ${PORTAL} AND l.deal_id = ${which.dealId} AND l.method <> 'manual_unlink')`;
  const invoices = await sql<{
    id: number; external_id: string; customer_id: number; number: string | null; currency: string; total_minor: number;
    issue_date: string; due_date: string; voided_date: string | null; disputed: boolean;
  }>`SELECT i.id, i.external_id, i.customer_id, i.number, i.currency, i.total_minor, i.issue_date::text AS issue_date,
       i.due_date::text AS due_date, i.voided_date::text AS voided_date, i.disputed
     FROM invoices i WHERE i.portal_id = ${PORTAL} AND i.issue_date <= ${TODAY} ${filter}`.execute(db);
  const allocations = await sql<{ invoice_id: number; external_id: string; date: string; kind: Settled['kind']; amount_minor: number }>`
    SELECT a.invoice_id, p.external_id, a.payment_date::text AS date, a.kind, a.amount_minor
    FROM payment_allocations a JOIN payments p ON p.id = a.payment_id JOIN invoices i ON i.id = a.invoice_id
    WHERE a.portal_id = ${PORTAL} AND a.payment_date <= ${TODAY} AND i.issue_date <= ${TODAY} ${filter}
    ORDER BY a.payment_date, p.external_id`.execute(db);
  const byInvoice = new Map<number, Settled[]>();
  for (const a of allocations.rows) {
    byInvoice.set(Number(a.invoice_id), [...(byInvoice.get(Number(a.invoice_id)) ?? []),
      { id: a.external_id, date: a.date, kind: a.kind, amountMinor: Number(a.amount_minor) }]);
  }
  return invoices.rows.map((r): StoredInvoice => {
    const total = Number(r.total_minor);
    const settlements = byInvoice.get(Number(r.id)) ?? [];
    const settled = settlements.reduce((sum, s) => sum + s.amountMinor, 0);
    const voided = r.voided_date !== null && r.voided_date <= TODAY;
    const open = voided ? 0 : Math.max(0, total - settled);
    const writtenOff = settlements.some((s) => s.kind === 'write_off');
    const paidSome = settlements.some((s) => s.kind === 'payment');
    let status: StoredInvoice['status'];
    if (voided) status = 'void';
    else if (open > 0) status = r.due_date < TODAY ? 'overdue' : 'open';
    else if (writtenOff) status = 'written_off';
    else if (total > 0 && !paidSome) status = 'credited';
    else status = 'paid';
    let paidDate: string | null = null;
    if (status === 'paid' && total > 0) {
      let sum = 0;
      for (const s of settlements) {
        sum += s.amountMinor;
        if (sum >= total) {
          paidDate = s.date;
          break;
        }
      }
    }
    return {
      rowId: Number(r.id), externalId: r.external_id, customerRowId: Number(r.customer_id), number: r.number, currency: r.currency,
      totalMinor: total, issueDate: r.issue_date, dueDate: r.due_date, disputed: r.disputed, settlements,
      settledMinor: settled, paymentsMinor: settlements.filter((s) => s.kind === 'payment').reduce((sum, s) => sum + s.amountMinor, 0),
      openMinor: open, status, paidDate,
      daysLate: paidDate !== null ? daysBetween(r.due_date, paidDate) : status === 'overdue' ? daysBetween(r.due_date, TODAY) : null,
    };
  });
};

/** The order the cards list invoices in: newest issue date first, then by id (digits compared as numbers). */
export const newestFirst = (invoices: readonly StoredInvoice[]): StoredInvoice[] =>
  [...invoices].sort((a, b) => b.issueDate.localeCompare(a.issueDate) || a.externalId.localeCompare(b.externalId, 'en', { numeric: true }));

/** Open, with part of it paid by a payment. */
export const isPartlyPaid = (i: StoredInvoice): boolean => i.openMinor > 0 && i.paymentsMinor > 0;

/** Outstanding and overdue per currency, summed from the invoices. */
export const balances = (invoices: readonly StoredInvoice[]): Map<string, { outstanding: number; overdue: number }> => {
  const out = new Map<string, { outstanding: number; overdue: number }>();
  for (const i of invoices) {
    const b = out.get(i.currency) ?? { outstanding: 0, overdue: 0 };
    b.outstanding += i.openMinor;
    if (i.status === 'overdue') b.overdue += i.openMinor;
    out.set(i.currency, b);
  }
  return out;
};

/** Open amount and count per aging bucket of the default policy (days past due: current, 1-30, 31-60, 61-90, 91+). */
export const agingBuckets = (invoices: readonly StoredInvoice[], currency: string) => {
  const buckets = [
    { bucket: 'current', max: 0 }, { bucket: '1-30', max: 30 }, { bucket: '31-60', max: 60 }, { bucket: '61-90', max: 90 },
    { bucket: '91+', max: Infinity },
  ].map((b) => ({ ...b, minor: 0, count: 0 }));
  for (const i of invoices) {
    if (i.currency !== currency || i.openMinor === 0) continue;
    const bucket = buckets.find((b) => daysBetween(i.dueDate, TODAY) <= b.max)!;
    bucket.minor += i.openMinor;
    bucket.count += 1;
  }
  return buckets;
};

/** Metrics, risk and the days-late trend of one customer per currency, as the domain computes them from the store's facts. */
export const domainView = async (db: Executor, customerRowId: number) => {
  const [facts, policy] = await Promise.all([loadFacts(db, PORTAL, { upTo: TODAY, customerRowId }), loadPolicy(db, PORTAL)]);
  const reports = buildReports({ invoices: facts.invoices, customers: facts.customers, asOf: TODAY, policy, by: 'customer' });
  return new Map(reports.map((report) => {
    const group = report.groups[0];
    if (group === undefined) throw new Error(`No ${report.currency} group for customer ${customerRowId}`);
    const trend = daysLateByMonth(facts.invoices.filter((i) => i.currency === report.currency), TODAY);
    return [report.currency, { metrics: group.metrics, risk: group.risk, trend }] as const;
  }));
};

const customerRow = async (db: Executor, rowId: number): Promise<Customer> => {
  const row = await db.selectFrom('customers').select(['id', 'external_id', 'source', 'name', 'domain'])
    .where('portal_id', '=', PORTAL).where('id', '=', rowId).executeTakeFirstOrThrow();
  return { rowId: Number(row.id), externalId: row.external_id, source: row.source, name: row.name, domain: row.domain };
};

const mirroredCompany = (companyId: string, customer: Customer) => ({
  company_id: companyId, name: customer.name, domain: customer.domain, customer_ref: null, owner_id: null, hs_updated_at: null,
});

const mirroredDeal = (dealId: string, name: string, companyId: string | null, amount: string | null, currency: string | null) => ({
  deal_id: dealId, name, amount, currency, stage: 'contractsent', owner_id: null, company_id: companyId, reference: null, hs_updated_at: null,
});

/**
 * Starts the service with the demo portal. The history customer is the demo customer with more than one page of
 * invoices (over 10) that has paid, overdue and partly paid invoices, a credit note and a disputed invoice; the
 * fewest invoices wins, so the history stays short.
 */
export const startDemoPortal = async (): Promise<DemoPortal> => {
  let picks: Omit<DemoPortal, 'service'> | undefined;
  const service = await startService({
    clientSecret: SECRET, portalId: PORTAL, today: TODAY,
    seed: async ({ db }) => {
      await loadDemo(db, PORTAL, { customers: 40, invoices: 1_200, seed: 5, endDate: TODAY });
      const all = await storedInvoices(db, 'all');
      const byCustomer = new Map<number, StoredInvoice[]>();
      for (const i of all) byCustomer.set(i.customerRowId, [...(byCustomer.get(i.customerRowId) ?? []), i]);
      const rich = [...byCustomer.entries()].filter(([, list]) => list.length > 10
        && ['paid', 'overdue', 'written_off'].every((status) => list.some((i) => i.status === status)) && list.some(isPartlyPaid)
        && list.some((i) => i.settlements.some((s) => s.kind === 'credit_note')) && list.some((i) => i.disputed)
        && new Set(list.map((i) => i.currency)).size === 1)
        .sort(([a, x], [b, y]) => x.length - y.length || a - b);
      const [historyRowId, historyInvoices] = rich[0] ?? [];
      if (historyRowId === undefined || historyInvoices === undefined) throw new Error('No demo customer has the history the card tests need');
      const history = await customerRow(db, historyRowId);
      const others = [...byCustomer.keys()].filter((id) => id !== historyRowId).sort((a, b) => a - b);
      const [toUnlinkId, spareA, spareB] = others;
      if (toUnlinkId === undefined || spareA === undefined || spareB === undefined) throw new Error('The demo portal has too few customers');

      // HubSpot's side: the history company (found by its domain) and the deals, as the mirror stores them.
      const currency = historyInvoices[0]!.currency;
      const exponent = currencyExponent(currency);
      await upsertMirroredCompanies(db, PORTAL, [mirroredCompany(COMPANY.history, history)]);
      await runMatching(db, PORTAL);

      // A customer with no invoices yet, and a demo customer, linked by hand.
      await upsertCustomers(db, PORTAL, 'csv', [{ id: 'NEW-CUSTOMER-1', name: 'Freshfield Analytics GmbH', domain: 'freshfield-analytics.example', industry: 'Software', country: 'DE' }]);
      const fresh = await db.selectFrom('customers').select('id').where('portal_id', '=', PORTAL).where('source', '=', 'csv')
        .where('external_id', '=', 'NEW-CUSTOMER-1').executeTakeFirstOrThrow();
      await linkCompany(db, PORTAL, { companyId: COMPANY.empty, customerId: String(fresh.id), linkedBy: USER.email });
      await linkCompany(db, PORTAL, { companyId: COMPANY.toUnlink, customerId: String(toUnlinkId), linkedBy: USER.email });

      // Deal invoices: a partly paid one, one closed partly by a credit note, a paid one; and another paid one.
      const inOrder = newestFirst(historyInvoices);
      const partly = inOrder.find(isPartlyPaid)!;
      const credited = inOrder.find((i) => i !== partly && i.settlements.some((s) => s.kind === 'credit_note'));
      const paid = inOrder.filter((i) => i.status === 'paid' && i !== credited && i.settlements.every((s) => s.kind === 'payment'));
      if (credited === undefined || paid.length < 2) throw new Error('The history customer lacks the invoices the deals need');
      const overDealInvoices = [partly, credited, paid[0]!];
      const withinDealInvoice = paid[1]!;
      const invoiced = (list: readonly StoredInvoice[]) => list.filter((i) => i.status !== 'void').reduce((sum, i) => sum + i.totalMinor, 0);

      // The credit limit: what the customer owes plus 5,000 (no service sets limits yet: they come from the accounting system).
      const outstanding = balances(historyInvoices).get(currency)?.outstanding ?? 0;
      const margin = 5_000 * 10 ** exponent;
      const creditLimit = { minor: outstanding + margin, currency };
      await db.updateTable('customers').set({ credit_limit_minor: creditLimit.minor, credit_limit_currency: currency })
        .where('id', '=', historyRowId).execute();
      await touchPortal(db, PORTAL);

      const dealAmounts: Record<string, string | null> = {
        [DEAL.overLimit]: formatMinor(invoiced(overDealInvoices) + 2 * margin, currency),
        [DEAL.withinLimit]: formatMinor(invoiced([withinDealInvoice]) + margin / 5, currency),
        [DEAL.noInvoices]: null,
        [DEAL.unmatchedCompany]: formatMinor(12_000 * 10 ** exponent, currency),
        [DEAL.noCompany]: null,
      };
      await upsertMirroredDeals(db, PORTAL, [
        mirroredDeal(DEAL.overLimit, 'Platform expansion', COMPANY.history, dealAmounts[DEAL.overLimit]!, currency),
        mirroredDeal(DEAL.withinLimit, 'Support renewal', COMPANY.history, dealAmounts[DEAL.withinLimit]!, currency),
        mirroredDeal(DEAL.noInvoices, 'Training', COMPANY.history, null, null),
        mirroredDeal(DEAL.unmatchedCompany, 'Pilot', COMPANY.dealsUnmatched, dealAmounts[DEAL.unmatchedCompany]!, currency),
        mirroredDeal(DEAL.noCompany, 'Inbound lead', null, null, null),
      ]);
      for (const invoice of overDealInvoices) {
        await setManualDealLink(db, PORTAL, { id: invoice.externalId, source: history.source }, DEAL.overLimit, USER.email);
      }
      await setManualDealLink(db, PORTAL, { id: withinDealInvoice.externalId, source: history.source }, DEAL.withinLimit, USER.email);

      const spares: [Customer, Customer] = [await customerRow(db, spareA), await customerRow(db, spareB)];
      const pickerQuery = spares[0].name?.split(' ')[0];
      if (!pickerQuery) throw new Error('The first spare customer has no name');
      await upsertCustomers(db, PORTAL, 'csv', [{ id: `${pickerQuery.toUpperCase()}-7`, name: null, domain: null, industry: null, country: null }]);
      await touchPortal(db, PORTAL);

      picks = {
        history,
        noInvoices: await customerRow(db, Number(fresh.id)),
        toUnlink: await customerRow(db, toUnlinkId),
        spares,
        pickerQuery,
        creditLimit,
        dealAmounts,
      };
    },
  });
  if (picks === undefined) throw new Error('The demo portal was not seeded');
  return { service, ...picks };
};
