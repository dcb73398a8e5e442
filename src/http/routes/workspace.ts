import { Router } from 'express';
import { WorkspaceQuerySchema } from '../../../extensions/workspace-api';
import { workspace } from '../../services/workspace';
import { hubspotSignature, type SignedRequestOptions } from '../middleware/hubspot-signature';
import { portalOf } from '../middleware/portal';
import { parseOrThrow } from '../parse';

// The signed AR workspace API behind the app's home page: answers only requests HubSpot signed, for the portal
// the signature names. Contract in extensions/workspace-api.ts.

export type WorkspaceRouteDeps = SignedRequestOptions & { today: () => string };

export const workspaceRoutes = (deps: WorkspaceRouteDeps): Router =>
  Router()
    .use('/api/v1/workspace', (_req, res, next) => {
      res.set('Cache-Control', 'no-store');
      next();
    }, hubspotSignature(deps))
    .get('/api/v1/workspace', async (req, res) => {
      const { asOf = deps.today(), owner, team, currency, quietDays } = parseOrThrow(WorkspaceQuerySchema, req.query, 'Query parameters');
      res.json(await workspace(deps.db, portalOf(res), asOf, { owner, team, currency, quietDays }));
    });
