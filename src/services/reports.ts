import { CompanySummarySchema, type CompanySummary } from '../../extensions/card-api';
import { customerHistory } from '../domain/customer-summary';
import { formatMinor } from '../domain/money';
import { buildReports, type Report } from '../domain/report';
import type { GroupDimension, IsoDate } from '../domain/types';
import { AppError } from '../errors';
import { loadCustomerFacts, loadFacts, type Executor } from '../store/facts';
import { loadPolicy } from '../store/policies';
import { daysLateByMonth } from '../domain/trend';
import { riskLogs } from './comm-log';

// Reads facts from the store and hands them to the pure domain: the only glue between the two.

export const portfolioReports = async (
  db: Executor, portalId: number,
  options: { asOf: IsoDate; by: GroupDimension; dsoMonths?: number; aging?: number[]; agingBasis?: 'due' | 'issue' },
): Promise<Report[]> => {
  const [facts, stored, logs] = await Promise.all([
    loadFacts(db, portalId, { upTo: options.asOf }), loadPolicy(db, portalId), riskLogs(db, portalId, options.asOf),
  ]);
  const policy = {
    ...stored,
    ...(options.dsoMonths !== undefined ? { dsoMonths: options.dsoMonths } : {}),
    aging: {
      boundaries: options.aging ?? stored.aging.boundaries,
      basis: options.agingBasis ?? stored.aging.basis,
    },
  };
  const reports = buildReports({ invoices: facts.invoices, customers: facts.customers, asOf: options.asOf, policy, by: options.by, logs });
  if (options.by !== 'customer') return reports;
  const terms = await termsByCustomer(db, portalId, options.asOf);
  return reports.map((report) => ({ ...report, groups: report.groups.map((g) => ({ ...g, terms: terms.get(g.key) ?? null })) }));
};

/**
 * The payment terms on record per customer external id as of D: the latest acknowledgment (by recorded time)
 * acknowledged by D for the HubSpot company the customer is linked to. Customers of several sources sharing
 * an external id (grouped together by the report) take the latest of theirs.
 */
export const termsByCustomer = async (db: Executor, portalId: number, asOf: IsoDate): Promise<Map<string, string>> => {
  const rows = await db.selectFrom('customers as c')
    .innerJoin('company_links as l', (join) => join.onRef('l.customer_id', '=', 'c.id').on('l.portal_id', '=', portalId))
    .innerJoin('payment_terms_acks as a', (join) => join.onRef('a.company_id', '=', 'l.company_id').on('a.portal_id', '=', portalId))
    .select(['c.external_id', 'a.terms'])
    .distinctOn('c.external_id')
    .where('c.portal_id', '=', portalId).where('l.method', '<>', 'manual_unlink').where('a.acknowledged_on', '<=', asOf)
    .orderBy('c.external_id').orderBy('a.recorded_at', 'desc').orderBy('a.id', 'desc')
    .execute();
  return new Map(rows.map((r) => [r.external_id, r.terms] as const));
};

/** A customer by external id, or by its id in the store (`rowId`: one customer of one source). */
export type SummaryCustomer = string | { rowId: number };

/**
 * The store id of the customer an external id names. External ids are unique per source only: when customers
 * of several sources (csv, demo, hubspot) share this one, the summary is of the one stored first (lowest store
 * id), never of their facts merged; callers that know which customer they mean pass `{ rowId }`.
 */
const rowIdOfExternalId = async (db: Executor, portalId: number, externalId: string): Promise<number> => {
  const row = await db.selectFrom('customers').select('id')
    .where('portal_id', '=', portalId).where('external_id', '=', externalId)
    .orderBy('id').limit(1).executeTakeFirst();
  if (row === undefined) throw new AppError('not_found', `No customer ${externalId} in this portal`);
  return row.id;
};

/** One customer's summary as of a date: metrics and risk per currency, its invoices and their settlements. */
export const companySummary = async (db: Executor, portalId: number, which: SummaryCustomer, asOf: IsoDate): Promise<CompanySummary> => {
  const customerRowId = typeof which === 'string' ? await rowIdOfExternalId(db, portalId, which) : which.rowId;
  const [facts, policy, logs] = await Promise.all([
    loadCustomerFacts(db, portalId, customerRowId, asOf), loadPolicy(db, portalId), riskLogs(db, portalId, asOf, customerRowId),
  ]);
  const customer = facts.customers[0];
  if (!customer) throw new AppError('not_found', `No customer ${typeof which === 'string' ? which : `with id ${which.rowId}`} in this portal`);
  const reports = buildReports({ invoices: facts.invoices, customers: facts.customers, asOf, policy, by: 'customer', logs });
  const history = customerHistory(facts.invoices, asOf);
  const summary: CompanySummary = {
    as_of: asOf,
    customer: { id: customer.id, name: customer.name, domain: customer.domain, industry: customer.industry, country: customer.country },
    currencies: reports.map((report) => {
      const group = report.groups.find((g) => g.key === customer.id);
      if (!group) throw new Error(`Report for ${report.currency} lacks customer ${customer.id}`);
      const trend = daysLateByMonth(facts.invoices.filter((invoice) => invoice.currency === report.currency), asOf)
        .map((m) => ({ month: m.month, paid: m.paid, avg_days_late: m.avgDaysLate }));
      return { currency: report.currency, metrics: group.metrics, risk: group.risk, trend };
    }),
    invoices: history.invoices.map((line) => ({
      id: line.id, number: line.number, currency: line.currency,
      amount: formatMinor(line.totalMinor, line.currency), paid: formatMinor(line.paidMinor, line.currency),
      credited: formatMinor(line.creditedMinor, line.currency), written_off: formatMinor(line.writtenOffMinor, line.currency),
      open: formatMinor(line.openMinor, line.currency), issue_date: line.issueDate, due_date: line.dueDate,
      paid_date: line.paidDate, days_late: line.daysLate, status: line.status, disputed: line.disputed,
      sales_rep: line.salesRep, product: line.product, deal_id: line.dealId,
    })),
    payments: history.settlements.map((s) => ({
      id: s.id, invoice_id: s.invoiceId, date: s.date, amount: formatMinor(s.amountMinor, s.currency), currency: s.currency, kind: s.kind,
    })),
  };
  // The response is checked against the contract the cards parse, so a drift fails here, not in a card.
  return CompanySummarySchema.parse(summary);
};
