import { sql } from 'kysely';
import type { CompanyLinkMethod, DealLinkMethod } from '../store/schema';
import type { Executor } from '../store/facts';

/**
 * The links between accounting records and HubSpot records, and how each was made. A manual link or a manual
 * unlink is a person's decision: automatic matching never overrides it (see hubspot/matching.ts).
 */
export type CompanyLink = {
  customerId: string;
  companyId: string | null;
  method: CompanyLinkMethod;
  detail: string | null;
  linkedBy: string | null;
};

export type DealLink = { invoiceId: string; dealId: string | null; method: DealLinkMethod; detail: string | null; linkedBy: string | null };

export const MANUAL_COMPANY_METHODS: readonly CompanyLinkMethod[] = ['manual', 'manual_unlink'];
export const MANUAL_DEAL_METHODS: readonly DealLinkMethod[] = ['manual', 'manual_unlink'];

/** Sets (or replaces) a customer's company link. */
export const setCompanyLink = async (
  db: Executor, portalId: number,
  link: { customerId: string; companyId: string | null; method: CompanyLinkMethod; detail?: string | null; linkedBy?: string | null },
): Promise<void> => {
  await db
    .insertInto('company_links')
    .values({
      portal_id: portalId, customer_id: Number(link.customerId), company_id: link.companyId, method: link.method,
      detail: link.detail ?? null, linked_by: link.linkedBy ?? null,
    })
    .onConflict((oc) => oc.columns(['portal_id', 'customer_id']).doUpdateSet({
      company_id: (eb) => eb.ref('excluded.company_id'),
      method: (eb) => eb.ref('excluded.method'),
      detail: (eb) => eb.ref('excluded.detail'),
      linked_by: (eb) => eb.ref('excluded.linked_by'),
      updated_at: sql<Date>`now()`,
    }))
    .execute();
};

/** Removes an automatic link (a manual decision is removed only through setCompanyLink). */
export const deleteCompanyLink = async (db: Executor, portalId: number, customerId: string): Promise<void> => {
  await db.deleteFrom('company_links').where('portal_id', '=', portalId).where('customer_id', '=', Number(customerId)).execute();
};

const toCompanyLink = (row: { customer_id: number; company_id: string | null; method: CompanyLinkMethod; detail: string | null; linked_by: string | null }): CompanyLink => ({
  customerId: String(row.customer_id), companyId: row.company_id, method: row.method, detail: row.detail, linkedBy: row.linked_by,
});

export const companyLinkOfCustomer = async (db: Executor, portalId: number, customerId: string): Promise<CompanyLink | null> => {
  const row = await db.selectFrom('company_links')
    .select(['customer_id', 'company_id', 'method', 'detail', 'linked_by'])
    .where('portal_id', '=', portalId).where('customer_id', '=', Number(customerId))
    .executeTakeFirst();
  return row ? toCompanyLink(row) : null;
};

/** The customers linked to a HubSpot company (usually one; several accounting customers may share a company). */
export const companyLinksOfCompany = async (db: Executor, portalId: number, companyId: string): Promise<CompanyLink[]> => {
  const rows = await db.selectFrom('company_links')
    .select(['customer_id', 'company_id', 'method', 'detail', 'linked_by'])
    .where('portal_id', '=', portalId).where('company_id', '=', companyId)
    .orderBy('customer_id')
    .execute();
  return rows.map(toCompanyLink);
};

export const setDealLink = async (
  db: Executor, portalId: number,
  link: { invoiceId: string; dealId: string | null; method: DealLinkMethod; detail?: string | null; linkedBy?: string | null },
): Promise<void> => {
  await db
    .insertInto('deal_links')
    .values({
      portal_id: portalId, invoice_id: Number(link.invoiceId), deal_id: link.dealId, method: link.method,
      detail: link.detail ?? null, linked_by: link.linkedBy ?? null,
    })
    .onConflict((oc) => oc.columns(['portal_id', 'invoice_id']).doUpdateSet({
      deal_id: (eb) => eb.ref('excluded.deal_id'),
      method: (eb) => eb.ref('excluded.method'),
      detail: (eb) => eb.ref('excluded.detail'),
      linked_by: (eb) => eb.ref('excluded.linked_by'),
      updated_at: sql<Date>`now()`,
    }))
    .execute();
};

export const deleteDealLink = async (db: Executor, portalId: number, invoiceId: string): Promise<void> => {
  await db.deleteFrom('deal_links').where('portal_id', '=', portalId).where('invoice_id', '=', Number(invoiceId)).execute();
};

export const dealLinksOfDeal = async (db: Executor, portalId: number, dealId: string): Promise<DealLink[]> => {
  const rows = await db.selectFrom('deal_links')
    .select(['invoice_id', 'deal_id', 'method', 'detail', 'linked_by'])
    .where('portal_id', '=', portalId).where('deal_id', '=', dealId)
    .orderBy('invoice_id')
    .execute();
  return rows.map((row) => ({ invoiceId: String(row.invoice_id), dealId: row.deal_id, method: row.method, detail: row.detail, linkedBy: row.linked_by }));
};
