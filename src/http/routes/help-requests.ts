import { Router, type Response } from 'express';
import { z } from 'zod';
import { HelpRequestCreateSchema, HelpRequestStatusSchema } from '../../../extensions/card-api';
import { AppError } from '../../errors';
import { createHelpRequest, setHelpRequestStatus } from '../../services/help-requests';
import { hubspotSignature, hubspotUserOf, type SignedRequestOptions } from '../middleware/hubspot-signature';
import { idempotentAction } from '../middleware/idempotency';
import { portalOf } from '../middleware/portal';

// Help requests from the cards (signed by HubSpot): ask the owner of a company or deal for help, and move a
// request on. The lists come with the company and deal card answers.

export type HelpRequestRouteDeps = SignedRequestOptions & { today: () => string };

const RequestId = z.string().regex(/^\d{1,20}$/, 'must be a help request id');

const who = (res: Response): string | null => {
  const user = hubspotUserOf(res);
  return user.email ?? (user.id !== null ? `hubspot-user:${user.id}` : null);
};

export const helpRequestRoutes = (deps: HelpRequestRouteDeps): Router =>
  Router()
    .use('/api/v1/cards/help-requests', (_req, res, next) => {
      res.set('Cache-Control', 'no-store');
      next();
    }, hubspotSignature(deps))
    .post('/api/v1/cards/help-requests', idempotentAction(deps.db, HelpRequestCreateSchema, async (trx, input, res) => {
      const body = await createHelpRequest(trx, portalOf(res), {
        objectType: input.objectType, objectId: input.objectId, needed: input.needed, neededBy: input.neededBy, requestedBy: who(res),
      }, deps.today());
      return { status: 201, body };
    }))
    .post('/api/v1/cards/help-requests/:id/status', idempotentAction(deps.db, HelpRequestStatusSchema, async (trx, input, res) => {
      const id = RequestId.safeParse(res.req.params.id);
      if (!id.success) throw new AppError('invalid_request', 'The help request id in the path must be a number', { fields: { id: ['must be a help request id'] } });
      const body = await setHelpRequestStatus(trx, portalOf(res), { id: id.data, status: input.status, by: who(res) }, deps.today());
      return { status: 200, body };
    }));
