import { sql } from 'kysely';
import type { Executor } from '../store/facts';
import type { CompanyLinkMethod } from '../store/schema';

export type LinkedCustomer = {
  internalId: number;
  externalId: string;
  name: string | null;
  source: string;
  method: CompanyLinkMethod;
  detail: string | null;
};

/**
 * The accounting customer a HubSpot company is linked to. A manual unlink never counts (it has no
 * company). When several customers are linked, a manual link wins over automatic ones (so the card shows
 * the customer a person chose), then the lowest customer id; the others are not shown.
 */
export const linkedCustomer = async (db: Executor, portalId: number, companyId: string): Promise<LinkedCustomer | null> => {
  const row = await db.selectFrom('company_links as l')
    .innerJoin('customers as c', (join) => join.onRef('c.id', '=', 'l.customer_id').on('c.portal_id', '=', portalId))
    .select(['c.id', 'c.external_id', 'c.name', 'c.source', 'l.method', 'l.detail'])
    .where('l.portal_id', '=', portalId)
    .where('l.company_id', '=', companyId)
    .where('l.method', '<>', 'manual_unlink')
    .orderBy(sql`(l.method = 'manual')`, 'desc')
    .orderBy('l.customer_id')
    .executeTakeFirst();
  return row
    ? { internalId: row.id, externalId: row.external_id, name: row.name, source: row.source, method: row.method, detail: row.detail }
    : null;
};
