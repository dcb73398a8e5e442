import { CompanySummarySchema, type CompanySummary } from '../../extensions/card-api';
import { customerHistory } from '../domain/customer-summary';
import { formatMinor } from '../domain/money';
import { buildReports, type Report } from '../domain/report';
import type { GroupDimension, IsoDate } from '../domain/types';
import { AppError } from '../errors';
import { loadFacts, type Executor } from '../store/facts';
import { loadPolicy } from '../store/policies';

// Reads facts from the store and hands them to the pure domain: the only glue between the two.

export const portfolioReports = async (
  db: Executor, portalId: number,
  options: { asOf: IsoDate; by: GroupDimension; dsoMonths?: number; aging?: number[]; agingBasis?: 'due' | 'issue' },
): Promise<Report[]> => {
  const [facts, stored] = await Promise.all([loadFacts(db, portalId, { upTo: options.asOf }), loadPolicy(db, portalId)]);
  const policy = {
    ...stored,
    ...(options.dsoMonths !== undefined ? { dsoMonths: options.dsoMonths } : {}),
    aging: {
      boundaries: options.aging ?? stored.aging.boundaries,
      basis: options.agingBasis ?? stored.aging.basis,
    },
  };
  return buildReports({ invoices: facts.invoices, customers: facts.customers, asOf: options.asOf, policy, by: options.by });
};

export const companySummary = async (db: Executor, portalId: number, customerId: string, asOf: IsoDate): Promise<CompanySummary> => {
  const [facts, policy] = await Promise.all([loadFacts(db, portalId, { upTo: asOf, customerId }), loadPolicy(db, portalId)]);
  const customer = facts.customers[0];
  if (!customer) throw new AppError('not_found', `No customer ${customerId} in this portal`);
  const reports = buildReports({ invoices: facts.invoices, customers: facts.customers, asOf, policy, by: 'customer' });
  const history = customerHistory(facts.invoices, asOf);
  const summary: CompanySummary = {
    as_of: asOf,
    customer: { id: customer.id, name: customer.name, domain: customer.domain, industry: customer.industry, country: customer.country },
    currencies: reports.map((report) => {
      const group = report.groups.find((g) => g.key === customer.id);
      if (!group) throw new Error(`Report for ${report.currency} lacks customer ${customer.id}`);
      return { currency: report.currency, metrics: group.metrics, risk: group.risk };
    }),
    invoices: history.invoices.map((line) => ({
      id: line.id, number: line.number, currency: line.currency,
      amount: formatMinor(line.totalMinor, line.currency), paid: formatMinor(line.settledMinor, line.currency),
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
