import { sql } from 'kysely';
import { recordUrl, WorkspaceSchema, type Workspace } from '../../extensions/workspace-api';
import { addDays, daysBetween } from '../domain/calendar';
import { formatMinor } from '../domain/money';
import { promiseStatus, type PaymentFact } from '../domain/promises';
import type { IsoDate } from '../domain/types';
import { AppError } from '../errors';
import type { Executor } from '../store/facts';
import { loadPolicy } from '../store/policies';

// The AR workspace: the AR manager's worklist across the portal, or one owner's book. Records belong to an owner
// through HubSpot: a customer by the owner of the company it is linked to, a deal by its own owner.

export type WorkspaceFilters = { owner?: string; team?: string; currency?: string; quietDays: number };

/** Rows per list: the page shows a worklist, not an export. */
const LIMIT = 200;
/** How far back broken promises and closed big deals are listed. */
const BROKEN_WINDOW_DAYS = 30;
const BIG_DEAL_WINDOW_DAYS = 7;
/** Promises falling due from D through D + 6. */
const DUE_WINDOW_DAYS = 6;

type StalledRow = {
  customer_id: number; customer_name: string | null; company_id: string; company_name: string | null; owner_id: string | null;
  currency: string; overdue: number; oldest_due: string; last_payment_on: string | null; last_logged_on: string | null;
};

/**
 * Accounts past the ask-the-rep level with no progress: an invoice open at D at least `askRepDays` past due,
 * no payment and no log entry in the `quietDays` up to D. One row per customer and currency; the customer is
 * the one its company is linked to (manual unlinks excluded).
 */
const stalledAccounts = async (
  db: Executor, portalId: number, asOf: IsoDate, askRepDays: number, filters: WorkspaceFilters,
): Promise<Workspace['stalled']> => {
  const since = addDays(asOf, -filters.quietDays + 1);
  const lastDue = addDays(asOf, -askRepDays);
  const rows = await sql<StalledRow>`
    WITH open_invoices AS (
      SELECT i.customer_id, i.currency, i.due_date, i.total_minor - coalesce(s.settled, 0) AS open
      FROM invoices i
      LEFT JOIN LATERAL (
        SELECT sum(a.amount_minor) AS settled FROM payment_allocations a WHERE a.invoice_id = i.id AND a.payment_date <= ${asOf}) s ON true
      WHERE i.portal_id = ${portalId} AND i.issue_date <= ${asOf} AND (i.voided_date IS NULL OR i.voided_date > ${asOf})
        ${filters.currency === undefined ? sql`` : sql`AND i.currency = ${filters.currency}`}
    ), stalled AS (
      SELECT customer_id, currency, sum(open) FILTER (WHERE due_date < ${asOf}) AS overdue, min(due_date) AS oldest_due
      FROM open_invoices WHERE open > 0
      GROUP BY customer_id, currency
      HAVING min(due_date) <= ${lastDue}
    )
    SELECT s.customer_id, c.name AS customer_name, l.company_id, hc.name AS company_name, hc.owner_id, s.currency,
      s.overdue, s.oldest_due::text AS oldest_due, pay.last_payment_on, log.last_logged_on
    FROM stalled s
    JOIN customers c ON c.id = s.customer_id
    JOIN company_links l ON l.portal_id = ${portalId} AND l.customer_id = s.customer_id AND l.company_id IS NOT NULL AND l.method <> 'manual_unlink'
    LEFT JOIN hubspot_companies hc ON hc.portal_id = ${portalId} AND hc.company_id = l.company_id
    LEFT JOIN LATERAL (
      SELECT max(a.payment_date)::text AS last_payment_on FROM payment_allocations a
      WHERE a.portal_id = ${portalId} AND a.customer_id = s.customer_id AND a.kind = 'payment' AND a.payment_date <= ${asOf}) pay ON true
    LEFT JOIN LATERAL (
      SELECT max(g.occurred_on)::text AS last_logged_on FROM communication_log g
      WHERE g.portal_id = ${portalId} AND g.customer_id = s.customer_id AND g.occurred_on <= ${asOf}) log ON true
    WHERE (pay.last_payment_on IS NULL OR pay.last_payment_on < ${since})
      AND (log.last_logged_on IS NULL OR log.last_logged_on < ${since})
      ${filters.owner === undefined ? sql`` : sql`AND hc.owner_id = ${filters.owner}`}
    ORDER BY s.oldest_due, s.customer_id, s.currency
    LIMIT ${LIMIT}`.execute(db);
  return rows.rows.map((r) => ({
    customer_id: String(r.customer_id), customer_name: r.customer_name, company_id: r.company_id, company_name: r.company_name,
    owner_id: r.owner_id, currency: r.currency, overdue: formatMinor(Number(r.overdue ?? 0), r.currency),
    days_past_due: daysBetween(r.oldest_due, asOf),
    last_payment_on: r.last_payment_on, last_logged_on: r.last_logged_on, url: recordUrl(portalId, 'company', r.company_id),
  }));
};

/** Help requests still open or accepted, with their SLA state as of D (oldest SLA first). */
const openHelpRequests = async (db: Executor, portalId: number, asOf: IsoDate, filters: WorkspaceFilters): Promise<Workspace['help_requests']> => {
  const rows = await db.selectFrom('help_requests as h')
    .innerJoin('customers as c', 'c.id', 'h.customer_id')
    .select(['h.id', 'c.name', 'h.company_id', 'h.deal_id', 'h.object_type', 'h.object_id', 'h.owner_id', 'h.needed', 'h.needed_by',
      'h.status', 'h.sla_due_on', 'h.escalated_on'])
    .where('h.portal_id', '=', portalId)
    .where('h.status', 'in', ['open', 'accepted'])
    .where('h.requested_on', '<=', asOf)
    .$if(filters.owner !== undefined, (qb) => qb.where('h.owner_id', '=', filters.owner as string))
    .orderBy('h.sla_due_on').orderBy('h.id')
    .limit(LIMIT)
    .execute();
  return rows.map((r) => ({
    id: String(r.id), customer_name: r.name, company_id: r.company_id, deal_id: r.deal_id, owner_id: r.owner_id, needed: r.needed,
    needed_by: r.needed_by, status: r.status as 'open' | 'accepted', sla_due_on: r.sla_due_on,
    // As the help-request service decides it: an accepted request is answered; an open one is escalated, late or within.
    sla: r.status !== 'open' ? 'within' : r.escalated_on !== null ? 'escalated' : asOf > r.sla_due_on ? 'overdue' : 'within',
    url: recordUrl(portalId, r.object_type === 'deal' ? 'deal' : 'company', r.object_id),
  }));
};

type PromiseRow = {
  id: number; customer_id: number; customer_name: string | null; company_id: string; owner_id: string | null; occurred_on: string;
  promise_date: string; amount_minor: number; currency: string; invoice_id: number | null;
};

/**
 * Promises to pay logged by D whose promise date falls in [D − 30 − grace, D + 6], decided from the customer's
 * payments as of D: pending ones due by D + 6 are "due", broken ones decided in the last 30 days are "broken".
 */
const promises = async (
  db: Executor, portalId: number, asOf: IsoDate, graceDays: number, filters: WorkspaceFilters,
): Promise<Pick<Workspace, 'promises_due' | 'broken_promises'>> => {
  const rows = await sql<PromiseRow>`
    SELECT g.id, g.customer_id, c.name AS customer_name, l.company_id, hc.owner_id, g.occurred_on::text AS occurred_on,
      g.promise_date::text AS promise_date, g.amount_minor, g.currency, g.invoice_id
    FROM communication_log g
    JOIN customers c ON c.id = g.customer_id
    JOIN company_links l ON l.portal_id = ${portalId} AND l.customer_id = g.customer_id AND l.company_id IS NOT NULL AND l.method <> 'manual_unlink'
    LEFT JOIN hubspot_companies hc ON hc.portal_id = ${portalId} AND hc.company_id = l.company_id
    WHERE g.portal_id = ${portalId} AND g.kind = 'promise' AND g.occurred_on <= ${asOf}
      AND g.promise_date BETWEEN ${addDays(asOf, -BROKEN_WINDOW_DAYS - graceDays - 1)} AND ${addDays(asOf, DUE_WINDOW_DAYS)}
      ${filters.currency === undefined ? sql`` : sql`AND g.currency = ${filters.currency}`}
      ${filters.owner === undefined ? sql`` : sql`AND hc.owner_id = ${filters.owner}`}
    ORDER BY g.promise_date, g.id`.execute(db);
  const customers = [...new Set(rows.rows.map((r) => r.customer_id))];
  const payments = new Map<number, PaymentFact[]>();
  if (customers.length > 0) {
    const paid = await sql<{ customer_id: number; invoice_id: number; payment_date: string; amount_minor: number; currency: string }>`
      SELECT a.customer_id, a.invoice_id, a.payment_date::text AS payment_date, a.amount_minor, i.currency
      FROM payment_allocations a JOIN invoices i ON i.id = a.invoice_id
      WHERE a.portal_id = ${portalId} AND a.customer_id = ANY(${customers}::bigint[]) AND a.kind = 'payment' AND a.payment_date <= ${asOf}`.execute(db);
    for (const p of paid.rows) {
      const list = payments.get(p.customer_id) ?? [];
      list.push({ date: p.payment_date, amountMinor: Number(p.amount_minor), currency: p.currency, invoiceId: String(p.invoice_id) });
      payments.set(p.customer_id, list);
    }
  }
  const due: Workspace['promises_due'] = [];
  const broken: Workspace['broken_promises'] = [];
  for (const r of rows.rows) {
    const outcome = promiseStatus({
      id: String(r.id), loggedOn: r.occurred_on, promiseDate: r.promise_date, amountMinor: Number(r.amount_minor), currency: r.currency,
      invoiceId: r.invoice_id === null ? null : String(r.invoice_id),
    }, payments.get(r.customer_id) ?? [], asOf, graceDays);
    const row = {
      id: String(r.id), customer_name: r.customer_name, company_id: r.company_id, owner_id: r.owner_id, promise_date: r.promise_date,
      amount: formatMinor(Number(r.amount_minor), r.currency), currency: r.currency, status: outcome.status,
      paid: formatMinor(outcome.paidMinor, r.currency), url: recordUrl(portalId, 'company', r.company_id),
    };
    if (outcome.status === 'pending' && r.promise_date >= asOf) due.push(row);
    else if (outcome.status === 'broken' && outcome.decidedOn !== null && outcome.decidedOn > addDays(asOf, -BROKEN_WINDOW_DAYS)) broken.push(row);
  }
  return { promises_due: due.slice(0, LIMIT), broken_promises: broken.slice(0, LIMIT) };
};

/** Big deals (alerted when they closed won at or above the threshold) in the 7 days up to D, newest first. */
const bigDeals = async (db: Executor, portalId: number, asOf: IsoDate, filters: WorkspaceFilters): Promise<Workspace['big_deals']> => {
  const rows = await sql<{
    deal_id: string; name: string | null; amount_minor: number; currency: string; company_id: string | null; owner_id: string | null; closed_on: string;
  }>`
    SELECT b.deal_id, d.name, b.amount_minor, b.currency, coalesce(b.company_id, d.company_id) AS company_id, d.owner_id,
      (b.created_at AT TIME ZONE 'UTC')::date::text AS closed_on
    FROM big_deal_alerts b
    LEFT JOIN hubspot_deals d ON d.portal_id = b.portal_id AND d.deal_id = b.deal_id
    WHERE b.portal_id = ${portalId}
      AND (b.created_at AT TIME ZONE 'UTC')::date BETWEEN ${addDays(asOf, -BIG_DEAL_WINDOW_DAYS + 1)} AND ${asOf}
      ${filters.currency === undefined ? sql`` : sql`AND b.currency = ${filters.currency}`}
      ${filters.owner === undefined ? sql`` : sql`AND d.owner_id = ${filters.owner}`}
    ORDER BY b.created_at DESC, b.deal_id
    LIMIT ${LIMIT}`.execute(db);
  return rows.rows.map((r) => ({
    deal_id: r.deal_id, name: r.name, amount: formatMinor(Number(r.amount_minor), r.currency), currency: r.currency,
    company_id: r.company_id, owner_id: r.owner_id, closed_on: r.closed_on, url: recordUrl(portalId, 'deal', r.deal_id),
  }));
};

/**
 * `GET /api/v1/workspace`: the worklist as of D. `owner` narrows every list to one HubSpot owner's records.
 * Teams are not mirrored from HubSpot, so a `team` filter is refused (400 naming the field) rather than ignored.
 */
export const workspace = async (db: Executor, portalId: number, asOf: IsoDate, filters: WorkspaceFilters): Promise<Workspace> => {
  if (filters.team !== undefined) {
    throw new AppError('invalid_request', 'Filtering by team is not available: ARBridge does not mirror HubSpot teams yet; filter by owner', {
      fields: { team: ['not available yet; filter by owner'] },
    });
  }
  const policy = await loadPolicy(db, portalId);
  const askRep = policy.escalation.levels.find((level) => level.action === 'ask_rep') ?? null;
  return WorkspaceSchema.parse({
    portal_id: portalId,
    as_of: asOf,
    filters: { owner: filters.owner ?? null, currency: filters.currency ?? null, quiet_days: filters.quietDays },
    ask_rep_days: askRep?.days ?? null,
    stalled: askRep === null ? [] : await stalledAccounts(db, portalId, asOf, askRep.days, filters),
    help_requests: await openHelpRequests(db, portalId, asOf, filters),
    ...(await promises(db, portalId, asOf, policy.risk.promises.graceDays, filters)),
    big_deals: await bigDeals(db, portalId, asOf, filters),
  });
};
