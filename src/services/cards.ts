import { sql } from 'kysely';
import {
  CompanyCardSchema, CustomerChoicesSchema, DealCardSchema, LinkResultSchema,
  type CompanyCard, type CustomerChoices, type DealCard, type LinkResult,
} from '../../extensions/card-api';
import { customerHistory } from '../domain/customer-summary';
import { formatMinor, parseMinor } from '../domain/money';
import type { InvoiceFact, IsoDate, Settlement } from '../domain/types';
import { AppError } from '../errors';
import { companyLinksOfCompany, setCompanyLink } from '../hubspot/links';
import type { DealLinkMethod } from '../store/schema';
import { touchPortal, type Executor } from '../store/facts';
import { creditCheck } from '../domain/credit';
import { companyCreditLimit, creditLimitOfCustomer } from './credit';
import { companySummary } from './reports';
import { linkedCustomer, type LinkedCustomer } from './linked-customer';
import { logExcerpt } from './comm-log';
import { termsAckOfDeal, termsAcksOfCompany } from './terms';
import { helpRequestsOf } from './help-requests';

// The data behind the HubSpot cards, for one (signed) portal. Every answer is parsed with the card API
// contract before it leaves, so a drift fails here rather than in a card.

type CompanyMatch = CompanyCard['match'];

const matchOf = (customer: LinkedCustomer | null): CompanyMatch => {
  if (customer === null) return { status: 'unmatched' };
  if (customer.method === 'manual_unlink') throw new Error('A manual unlink is not a match');
  return {
    status: 'matched', customer_id: String(customer.internalId), customer_name: customer.name, source: customer.source,
    method: customer.method, detail: customer.detail,
  };
};

/** `GET /api/v1/cards/company`: the company's match and, when matched, its customer's summary as of D. */
export const companyCard = async (db: Executor, portalId: number, companyId: string, asOf: IsoDate): Promise<CompanyCard> => {
  const customer = await linkedCustomer(db, portalId, companyId);
  // By store id: customers of other sources may share the linked customer's external id.
  const summary = customer === null ? null : await companySummary(db, portalId, { rowId: customer.internalId }, asOf);
  const terms = await termsAcksOfCompany(db, portalId, companyId, asOf);
  const log = customer === null ? null : await logExcerpt(db, portalId, customer.internalId, asOf);
  const creditLimit = customer === null ? null : await companyCreditLimit(db, portalId, companyId);
  return CompanyCardSchema.parse({
    portal_id: portalId, company_id: companyId, as_of: asOf, match: matchOf(customer), summary, terms, log,
    ...(creditLimit === null ? {} : { credit_limit: creditLimit }),
    help_requests: await helpRequestsOf(db, portalId, { companyId }, asOf),
  });
};

type DealInvoiceRow = {
  id: number; external_id: string; customer: string; number: string | null; currency: string; total_minor: number;
  issue_date: string; due_date: string; voided_date: string | null; disputed: boolean; sales_rep: string | null;
  product: string | null; deal_id: string | null; terms: string | null; link_method: DealLinkMethod;
};

/** The invoices linked to a deal (manual unlinks excluded) issued by D, with their settlements dated by D. */
const dealInvoices = async (
  db: Executor, portalId: number, dealId: string, asOf: IsoDate,
): Promise<{ invoices: InvoiceFact[]; links: Map<string, { externalId: string; method: DealLinkMethod }> }> => {
  const rows: DealInvoiceRow[] = await db.selectFrom('deal_links as l')
    .innerJoin('invoices as i', (join) => join.onRef('i.id', '=', 'l.invoice_id').on('i.portal_id', '=', portalId))
    .innerJoin('customers as c', 'c.id', 'i.customer_id')
    .select([
      'i.id', 'i.external_id', 'c.external_id as customer', 'i.number', 'i.currency', 'i.total_minor', 'i.issue_date',
      'i.due_date', 'i.voided_date', 'i.disputed', 'i.sales_rep', 'i.product', 'i.deal_id', 'i.terms', 'l.method as link_method',
    ])
    .where('l.portal_id', '=', portalId)
    .where('l.deal_id', '=', dealId)
    .where('l.method', '<>', 'manual_unlink')
    .where('i.issue_date', '<=', asOf)
    .orderBy('i.issue_date').orderBy('i.id')
    .execute();
  const settlements = rows.length === 0 ? [] : await db.selectFrom('payment_allocations as a')
    .innerJoin('payments as p', 'p.id', 'a.payment_id')
    .select(['a.invoice_id', 'p.external_id', 'a.payment_date', 'a.amount_minor', 'a.kind'])
    .where('a.portal_id', '=', portalId)
    .where('a.invoice_id', 'in', rows.map((r) => r.id))
    .where('a.payment_date', '<=', asOf)
    .orderBy('a.invoice_id').orderBy('a.payment_date').orderBy('p.external_id')
    .execute();
  const byInvoice = new Map<number, Settlement[]>();
  for (const s of settlements) {
    const list = byInvoice.get(s.invoice_id) ?? [];
    list.push({ id: s.external_id, date: s.payment_date, amountMinor: s.amount_minor, kind: s.kind });
    byInvoice.set(s.invoice_id, list);
  }
  // Invoice external ids are unique per source; a deal's invoices from two sources could share one, so
  // facts are keyed by internal id here and shown with their external id.
  const links = new Map<string, { externalId: string; method: DealLinkMethod }>();
  const invoices = rows.map((r): InvoiceFact => {
    links.set(String(r.id), { externalId: r.external_id, method: r.link_method });
    return {
      id: String(r.id), number: r.number, customerId: r.customer, currency: r.currency, totalMinor: r.total_minor,
      issueDate: r.issue_date, dueDate: r.due_date, voidedDate: r.voided_date, disputed: r.disputed, salesRep: r.sales_rep,
      product: r.product, dealId: r.deal_id, terms: r.terms, settlements: byInvoice.get(r.id) ?? [],
    };
  });
  return { invoices, links };
};

/**
 * `GET /api/v1/cards/deal`: the deal's invoices as of D (amount, collected = payments only, outstanding,
 * overdue = outstanding of invoices past due), totals per currency (invoiced leaves out invoices voided by
 * D), and the deal's company (from the HubSpot deal's primary company) with its match and risk.
 */
export const dealCard = async (db: Executor, portalId: number, dealId: string, asOf: IsoDate): Promise<DealCard> => {
  const { invoices, links } = await dealInvoices(db, portalId, dealId, asOf);
  const history = customerHistory(invoices, asOf);
  const collected = new Map<string, number>();
  for (const s of history.settlements) {
    if (s.kind === 'payment') collected.set(s.invoiceId, (collected.get(s.invoiceId) ?? 0) + s.amountMinor);
  }
  const totals = new Map<string, { invoiced: number; collected: number; outstanding: number; overdue: number }>();
  const lines = history.invoices.map((line) => {
    const paid = collected.get(line.id) ?? 0;
    const overdue = line.status === 'overdue' ? line.openMinor : 0;
    const sum = totals.get(line.currency) ?? { invoiced: 0, collected: 0, outstanding: 0, overdue: 0 };
    if (line.status !== 'void') sum.invoiced += line.totalMinor;
    sum.collected += paid;
    sum.outstanding += line.openMinor;
    sum.overdue += overdue;
    totals.set(line.currency, sum);
    const link = links.get(line.id);
    if (link === undefined || link.method === 'manual_unlink') throw new Error(`Invoice ${line.id} has no deal link`);
    return {
      id: link.externalId, number: line.number, currency: line.currency,
      amount: formatMinor(line.totalMinor, line.currency), collected: formatMinor(paid, line.currency),
      outstanding: formatMinor(line.openMinor, line.currency), overdue: formatMinor(overdue, line.currency),
      due_date: line.dueDate, status: line.status, link_method: link.method,
    };
  });
  const deal = await db.selectFrom('hubspot_deals').select(['company_id', 'amount', 'currency'])
    .where('portal_id', '=', portalId).where('deal_id', '=', dealId).executeTakeFirst();
  let company: DealCard['company'] = null;
  if (deal?.company_id) {
    const customer = await linkedCustomer(db, portalId, deal.company_id);
    const summary = customer === null ? null : await companySummary(db, portalId, { rowId: customer.internalId }, asOf);
    let credit: NonNullable<DealCard['company']>['credit'] = null;
    if (customer !== null && summary !== null) {
      const limit = await creditLimitOfCustomer(db, portalId, Number(customer.internalId));
      const currency = limit?.currency ?? null;
      const dealMinor = currency && deal.amount !== null && (deal.currency === null || deal.currency === currency)
        ? parseMinor(deal.amount, currency) : null;
      if (limit != null && currency !== null && (deal.amount === null || dealMinor !== null)) {
        const outstanding = summary.currencies.find((c) => c.currency === currency)?.metrics.outstanding;
        const check = creditCheck({
          limitMinor: limit.limitMinor,
          outstandingMinor: outstanding === undefined ? 0 : parseMinor(outstanding, currency) ?? 0,
          dealMinor: dealMinor ?? 0,
          invoicedOnDealMinor: totals.get(currency)?.invoiced ?? 0,
        });
        credit = {
          currency, limit: formatMinor(check.limitMinor, currency), outstanding: formatMinor(check.outstandingMinor, currency),
          uninvoiced_deal: formatMinor(check.uninvoicedDealMinor, currency), total: formatMinor(check.totalMinor, currency),
          utilisation: check.utilisation, exceeds: check.exceeds,
        };
      }
    }
    company = {
      company_id: deal.company_id,
      match: matchOf(customer),
      risk: summary === null ? [] : summary.currencies.map((c) => ({ currency: c.currency, risk: c.risk })),
      credit,
    };
  }
  return DealCardSchema.parse({
    portal_id: portalId, deal_id: dealId, as_of: asOf, invoices: lines,
    totals: [...totals.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([currency, t]) => ({
      currency, invoiced: formatMinor(t.invoiced, currency), collected: formatMinor(t.collected, currency),
      outstanding: formatMinor(t.outstanding, currency), overdue: formatMinor(t.overdue, currency),
    })),
    company,
    terms_ack: await termsAckOfDeal(db, portalId, dealId, asOf),
    help_requests: await helpRequestsOf(db, portalId, { dealId }, asOf),
  });
};

const likePattern = (text: string): string => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * `GET /api/v1/cards/customers`: customers of the portal linked to no company (no link, or a manual
 * unlink) whose name, domain or external id contains `query` (case-insensitive), by name.
 */
export const customerChoices = async (db: Executor, portalId: number, query: string, limit: number): Promise<CustomerChoices> => {
  const pattern = likePattern(query);
  const rows = await db.selectFrom('customers as c')
    .leftJoin('company_links as l', (join) => join.onRef('l.customer_id', '=', 'c.id').on('l.portal_id', '=', portalId))
    .select(['c.id', 'c.source', 'c.external_id', 'c.name', 'c.domain'])
    .where('c.portal_id', '=', portalId)
    .where((eb) => eb.or([eb('l.customer_id', 'is', null), eb('l.method', '=', 'manual_unlink')]))
    .$if(query !== '', (qb) => qb.where((eb) => eb.or([
      eb('c.name', 'ilike', pattern), eb('c.domain', 'ilike', pattern), eb('c.external_id', 'ilike', pattern),
    ])))
    .orderBy(sql`lower(c.name)`, (ob) => ob.asc().nullsLast())
    .orderBy('c.id')
    .limit(limit)
    .execute();
  return CustomerChoicesSchema.parse({
    customers: rows.map((r) => ({ id: String(r.id), source: r.source, external_id: r.external_id, name: r.name, domain: r.domain })),
  });
};

/** A customer id of this portal (internal id as text), or a 404 naming it. */
const requireCustomer = async (db: Executor, portalId: number, customerId: string): Promise<void> => {
  const id = Number(customerId);
  const found = Number.isSafeInteger(id)
    ? await db.selectFrom('customers').select('id').where('portal_id', '=', portalId).where('id', '=', id).executeTakeFirst()
    : undefined;
  if (found === undefined) throw new AppError('not_found', `No customer ${customerId} in this portal`);
};

/** Links a customer of the portal to a HubSpot company by hand (method 'manual'); later matching keeps it. */
export const linkCompany = async (
  db: Executor, portalId: number, link: { companyId: string; customerId: string; linkedBy: string | null },
): Promise<LinkResult> => {
  await requireCustomer(db, portalId, link.customerId);
  await setCompanyLink(db, portalId, { customerId: link.customerId, companyId: link.companyId, method: 'manual', linkedBy: link.linkedBy });
  await touchPortal(db, portalId);
  return LinkResultSchema.parse({ company_id: link.companyId, match: matchOf(await linkedCustomer(db, portalId, link.companyId)) });
};

/**
 * Unlinks every customer linked to the company: each gets a manual unlink (company null, the company named
 * in `detail`), which later matching respects. Unlinking a company with no link changes nothing.
 */
export const unlinkCompany = async (
  db: Executor, portalId: number, unlink: { companyId: string; linkedBy: string | null },
): Promise<LinkResult> => {
  for (const link of await companyLinksOfCompany(db, portalId, unlink.companyId)) {
    await setCompanyLink(db, portalId, {
      customerId: link.customerId, companyId: null, method: 'manual_unlink', detail: `company ${unlink.companyId}`, linkedBy: unlink.linkedBy,
    });
  }
  await touchPortal(db, portalId);
  return LinkResultSchema.parse({ company_id: unlink.companyId, match: matchOf(await linkedCustomer(db, portalId, unlink.companyId)) });
};
