import { Router } from 'express';
import { ResetPolicyRequestSchema, SavePolicyRequestSchema } from '../../../extensions/settings-api';
import { resetPolicy, savePolicyDocument, settingsOverview } from '../../services/settings';
import { hubspotSignature, type SignedRequestOptions } from '../middleware/hubspot-signature';
import { idempotentAction } from '../middleware/idempotency';
import { portalOf } from '../middleware/portal';

// The signed settings API: every route under /api/v1/settings answers only requests HubSpot signed, for the
// portal the signature names, like the card API. Contracts in extensions/settings-api.ts.

export type SettingsRouteDeps = SignedRequestOptions;

export const settingsRoutes = (deps: SettingsRouteDeps): Router =>
  Router()
    .use('/api/v1/settings', (_req, res, next) => {
      res.set('Cache-Control', 'no-store');
      next();
    }, hubspotSignature(deps))
    .get('/api/v1/settings', async (_req, res) => {
      res.json(await settingsOverview(deps.db, portalOf(res), { privateAppPortalId: deps.config.hubspot?.privateApp?.portalId ?? null }));
    })
    .put('/api/v1/settings/policy', idempotentAction(deps.db, SavePolicyRequestSchema, async (trx, input, res) => ({
      status: 200, body: { policy: await savePolicyDocument(trx, portalOf(res), input.policy) },
    })))
    .post('/api/v1/settings/policy/reset', idempotentAction(deps.db, ResetPolicyRequestSchema, async (trx, _input, res) => ({
      status: 200, body: { policy: await resetPolicy(trx, portalOf(res)) },
    })));
