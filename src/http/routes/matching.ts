import { Router } from 'express';
import { z } from 'zod';
import { listUnmatchedCustomers, listUnmatchedInvoices } from '../../hubspot/matching';
import { setManualCompanyLink, setManualDealLink } from '../../services/matching';
import type { Db } from '../../store/database';
import { portalOf } from '../middleware/portal';
import { parseOrThrow } from '../parse';

// The review list and manual links: GET /api/v1/hubspot/unmatched, POST /api/v1/hubspot/links and
// /api/v1/hubspot/deal-links. The portal comes from the request scope (res.locals), never from the body.

// eslint-disable-next-line no-control-regex -- ids never hold control characters (the schema refuses them)
const ExternalId = z.string().min(1).max(200).regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters');
const HubSpotId = z.string().regex(/^[1-9]\d{0,19}$/, 'must be a HubSpot record id (a whole number)');

const UnmatchedQuery = z.object({
  kind: z.enum(['customers', 'invoices']).default('customers'),
  limit: z.coerce.number().int().min(1).max(1_000).default(100),
  after: z.string().regex(/^\d{1,15}$/, 'must be the `next` cursor of a previous page').optional(),
}).strict();

const CompanyLinkBody = z.object({
  customerId: ExternalId,
  source: ExternalId.optional(),
  companyId: HubSpotId.nullable(),
}).strict();

const DealLinkBody = z.object({
  invoiceId: ExternalId,
  source: ExternalId.optional(),
  dealId: HubSpotId.nullable(),
}).strict();

export const matchingRoutes = (deps: { db: Db }): Router =>
  Router()
    .get('/api/v1/hubspot/unmatched', async (req, res) => {
      const { kind, limit, after } = parseOrThrow(UnmatchedQuery, req.query, 'Query parameters');
      const query = { limit, after: after ?? null };
      res.json(kind === 'customers'
        ? await listUnmatchedCustomers(deps.db, portalOf(res), query)
        : await listUnmatchedInvoices(deps.db, portalOf(res), query));
    })
    .post('/api/v1/hubspot/links', async (req, res) => {
      const body = parseOrThrow(CompanyLinkBody, req.body ?? {}, 'Body fields');
      const result = await setManualCompanyLink(deps.db, portalOf(res), { id: body.customerId, source: body.source }, body.companyId, 'api');
      res.json(result);
    })
    .post('/api/v1/hubspot/deal-links', async (req, res) => {
      const body = parseOrThrow(DealLinkBody, req.body ?? {}, 'Body fields');
      const result = await setManualDealLink(deps.db, portalOf(res), { id: body.invoiceId, source: body.source }, body.dealId, 'api');
      res.json(result);
    });
