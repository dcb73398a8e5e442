import { sql } from 'kysely';
import { CreditLimitSchema, type CreditLimit } from '../../extensions/card-api';
import { dealCreditCheck, effectiveCreditLimit, type CreditCheck } from '../domain/credit';
import { formatMinor, parseMinor } from '../domain/money';
import type { IsoDate } from '../domain/types';
import { AppError } from '../errors';
import { touchPortal, type Executor } from '../store/facts';
import { linkedCustomer } from './linked-customer';

// Credit limits: the accounting source's (written by syncs into customers.credit_limit_*) and one set by hand
// on the company card (customers.manual_credit_limit_*, 0008), which wins while it is set.

type LimitRow = {
  id: number; credit_limit_minor: number | null; credit_limit_currency: string | null;
  manual_credit_limit_minor: number | null; manual_credit_limit_currency: string | null;
  credit_limit_set_by: string | null; credit_limit_set_at: Date | string | null;
};

const limitOfRow = (row: LimitRow) => effectiveCreditLimit({
  manualMinor: row.manual_credit_limit_minor, manualCurrency: row.manual_credit_limit_currency,
  sourceMinor: row.credit_limit_minor, sourceCurrency: row.credit_limit_currency,
});

const viewOf = (row: LimitRow): CreditLimit => {
  const limit = limitOfRow(row);
  const sourceCurrency = row.credit_limit_minor === null ? null : row.credit_limit_currency;
  return CreditLimitSchema.parse({
    customer_id: String(row.id),
    limit: limit === null ? null : formatMinor(limit.limitMinor, limit.currency),
    currency: limit?.currency ?? null,
    origin: limit?.origin ?? null,
    source_limit: row.credit_limit_minor === null || sourceCurrency === null ? null : formatMinor(row.credit_limit_minor, sourceCurrency),
    source_currency: sourceCurrency,
    set_by: row.manual_credit_limit_minor === null ? null : row.credit_limit_set_by,
    set_at: row.manual_credit_limit_minor === null || row.credit_limit_set_at === null ? null : new Date(row.credit_limit_set_at).toISOString(),
  });
};

const LIMIT_COLUMNS = [
  'id', 'credit_limit_minor', 'credit_limit_currency', 'manual_credit_limit_minor', 'manual_credit_limit_currency',
  'credit_limit_set_by', 'credit_limit_set_at',
] as const;

/** The credit limit in force for a customer (by store id), or null when none is known. */
export const creditLimitOfCustomer = async (db: Executor, portalId: number, customerId: number) => {
  const row = await db.selectFrom('customers').select(LIMIT_COLUMNS)
    .where('portal_id', '=', portalId).where('id', '=', customerId).executeTakeFirst();
  return row === undefined ? null : limitOfRow(row);
};

/** The credit limit of the customer linked to a HubSpot company, as the company card shows it; null when unlinked. */
export const companyCreditLimit = async (db: Executor, portalId: number, companyId: string): Promise<CreditLimit | null> => {
  const customer = await linkedCustomer(db, portalId, companyId);
  if (customer === null) return null;
  const row = await db.selectFrom('customers').select(LIMIT_COLUMNS)
    .where('portal_id', '=', portalId).where('id', '=', customer.internalId).executeTakeFirstOrThrow();
  return viewOf(row);
};

/**
 * Sets (or, with `amount` null, clears) the credit limit by hand on the customer linked to a HubSpot company.
 * A company with no linked customer has no limit to set: a 400 naming objectId.
 */
export const setCreditLimit = async (
  db: Executor, portalId: number,
  input: { companyId: string; amount: string | null; currency: string | null; setBy: string | null; now?: Date },
): Promise<CreditLimit> => {
  const customer = await linkedCustomer(db, portalId, input.companyId);
  if (customer === null) {
    throw new AppError('invalid_request', `Company ${input.companyId} is not linked to an accounting customer; link it first`, {
      fields: { objectId: ['the company is not linked to an accounting customer'] },
    });
  }
  let minor: number | null = null;
  if (input.amount !== null) {
    const currency = input.currency;
    if (currency === null) throw new AppError('invalid_request', 'currency is required with an amount', { fields: { currency: ['required with an amount'] } });
    minor = parseMinor(input.amount, currency);
    if (minor === null || minor < 0) {
      throw new AppError('invalid_request', `amount ${input.amount} is not an amount in ${currency}`, {
        fields: { amount: [`must be a positive amount with at most the decimals ${currency} has`] },
      });
    }
  }
  const row = await db.updateTable('customers')
    .set({
      manual_credit_limit_minor: minor,
      manual_credit_limit_currency: minor === null ? null : input.currency,
      credit_limit_set_by: input.setBy,
      credit_limit_set_at: input.now ?? new Date(),
    })
    .where('portal_id', '=', portalId).where('id', '=', customer.internalId)
    .returning(LIMIT_COLUMNS)
    .executeTakeFirstOrThrow();
  await touchPortal(db, portalId);
  return viewOf(row);
};

export type DealCredit = CreditCheck | 'no_limit' | null;

/**
 * The credit check of each deal as of D, for the write-back: the deal's company (HubSpot's primary company,
 * from the mirror) → its linked customer (as the cards choose it) → the limit in force; outstanding is that
 * customer's open amount in the limit's currency; the deal adds its amount not yet invoiced. Deals with no
 * mirrored company, or a company linked to no customer, are left out; `no_limit` when the customer has none;
 * null when the deal's amount is in another currency than the limit.
 */
export const dealCreditChecks = async (db: Executor, portalId: number, dealIds: readonly string[], asOf: IsoDate): Promise<Map<string, DealCredit>> => {
  const result = new Map<string, DealCredit>();
  if (dealIds.length === 0) return result;
  const deals = await sql<{ deal_id: string; amount: string | null; currency: string | null } & LimitRow>`
    SELECT d.deal_id, d.amount, d.currency, c.id, c.credit_limit_minor, c.credit_limit_currency, c.manual_credit_limit_minor,
      c.manual_credit_limit_currency, c.credit_limit_set_by, c.credit_limit_set_at
    FROM hubspot_deals d
    JOIN LATERAL (
      SELECT l.customer_id FROM company_links l
      WHERE l.portal_id = d.portal_id AND l.company_id = d.company_id AND l.method <> 'manual_unlink'
      ORDER BY (l.method = 'manual') DESC, l.customer_id LIMIT 1) link ON true
    JOIN customers c ON c.id = link.customer_id AND c.portal_id = d.portal_id
    WHERE d.portal_id = ${portalId} AND d.deal_id = ANY(${[...dealIds]}::text[])`.execute(db);
  const limited = deals.rows.map((row) => ({ row, limit: limitOfRow(row) }));
  const customers = [...new Set(limited.filter((d) => d.limit !== null).map((d) => d.row.id))];
  const open = new Map<string, number>();
  if (customers.length > 0) {
    const rows = await sql<{ customer_id: number; currency: string; open: number }>`
      SELECT i.customer_id, i.currency, sum(greatest(0, i.total_minor - coalesce(s.settled, 0))) AS open
      FROM invoices i
      LEFT JOIN LATERAL (
        SELECT sum(a.amount_minor) AS settled FROM payment_allocations a WHERE a.invoice_id = i.id AND a.payment_date <= ${asOf}) s ON true
      WHERE i.portal_id = ${portalId} AND i.customer_id = ANY(${customers}::bigint[]) AND i.issue_date <= ${asOf}
        AND (i.voided_date IS NULL OR i.voided_date > ${asOf})
      GROUP BY i.customer_id, i.currency`.execute(db);
    for (const row of rows.rows) open.set(`${row.customer_id}|${row.currency}`, Number(row.open));
  }
  const invoiced = new Map<string, number>();
  const withLimit = limited.filter((d) => d.limit !== null).map((d) => d.row.deal_id);
  if (withLimit.length > 0) {
    const rows = await sql<{ deal_id: string; currency: string; invoiced: number }>`
      SELECT l.deal_id, i.currency, sum(i.total_minor) AS invoiced
      FROM deal_links l JOIN invoices i ON i.id = l.invoice_id AND i.portal_id = l.portal_id
      WHERE l.portal_id = ${portalId} AND l.deal_id = ANY(${withLimit}::text[]) AND l.method <> 'manual_unlink'
        AND i.issue_date <= ${asOf} AND (i.voided_date IS NULL OR i.voided_date > ${asOf})
      GROUP BY l.deal_id, i.currency`.execute(db);
    for (const row of rows.rows) invoiced.set(`${row.deal_id}|${row.currency}`, Number(row.invoiced));
  }
  for (const { row, limit } of limited) {
    if (limit === null) {
      result.set(row.deal_id, 'no_limit');
      continue;
    }
    const dealCurrency = row.currency ?? limit.currency;
    const amountMinor = row.amount === null || row.amount.trim() === '' ? null : parseMinor(row.amount, dealCurrency);
    if (amountMinor === null && row.amount !== null && row.amount.trim() !== '') {
      result.set(row.deal_id, null);
      continue;
    }
    result.set(row.deal_id, dealCreditCheck({
      limit, outstandingMinor: open.get(`${row.id}|${limit.currency}`) ?? 0,
      dealAmountMinor: amountMinor, dealCurrency: row.currency, invoicedOnDealMinor: invoiced.get(`${row.deal_id}|${limit.currency}`) ?? 0,
    }));
  }
  return result;
};
