import { Router } from 'express';
import { z } from 'zod';
import { isIsoDate } from '../../domain/calendar';
import { GROUP_DIMENSIONS } from '../../domain/types';
import type { Db } from '../../store/database';
import { companySummary, portfolioReports } from '../../services/reports';
import { portalOf } from '../middleware/portal';
import { parseOrThrow } from '../parse';

const AsOf = z.string().refine(isIsoDate, 'must be a calendar date YYYY-MM-DD');
// eslint-disable-next-line no-control-regex -- ids never hold control characters (the schema refuses them)
const SummaryParams = z.object({ customerId: z.string().min(1).max(200).regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters') });
const SummaryQuery = z.object({ asOf: AsOf.optional() }).strict();
const PortfolioQuery = z.object({
  asOf: AsOf.optional(),
  by: z.enum(GROUP_DIMENSIONS).default('customer'),
  dsoMonths: z.coerce.number().int().min(1).max(36).optional(),
}).strict();

export const reportRoutes = (deps: { db: Db; today: () => string }): Router =>
  Router()
    .get('/api/v1/companies/:customerId/summary', async (req, res) => {
      const { customerId } = parseOrThrow(SummaryParams, req.params);
      const { asOf = deps.today() } = parseOrThrow(SummaryQuery, req.query, 'Query parameters');
      res.json(await companySummary(deps.db, portalOf(res), customerId, asOf));
    })
    .get('/api/v1/portfolio', async (req, res) => {
      const { asOf = deps.today(), by, dsoMonths } = parseOrThrow(PortfolioQuery, req.query, 'Query parameters');
      const reports = await portfolioReports(deps.db, portalOf(res), { asOf, by, ...(dsoMonths ? { dsoMonths } : {}) });
      res.json({ as_of: asOf, by, reports });
    });
