import { Router, type Response } from 'express';
import { z } from 'zod';
import {
  LinkCompanyRequestSchema, LogEntryRequestSchema, RecordTermsRequestSchema, SetCreditLimitRequestSchema, UnlinkCompanyRequestSchema,
} from '../../../extensions/card-api';
import { setCreditLimit } from '../../services/credit';
import { isIsoDate } from '../../domain/calendar';
import { createCardCache, portalVersions, type CardCache } from '../../services/card-cache';
import { companyCard, customerChoices, dealCard, linkCompany, unlinkCompany } from '../../services/cards';
import { ResolveDisputeRequestSchema } from '../../../extensions/card-api';
import { logCompanyEntry, resolveDispute } from '../../services/comm-log';
import { recordTermsAck } from '../../services/terms';
import { hubspotSignature, hubspotUserOf, type SignedRequestOptions } from '../middleware/hubspot-signature';
import { idempotentAction } from '../middleware/idempotency';
import { portalOf } from '../middleware/portal';
import { parseOrThrow } from '../parse';

// The signed card API: every route under /api/v1/cards answers only requests HubSpot signed, for the portal
// the signature names. Query schemas are not strict: HubSpot's proxy adds its own parameters (appId,
// portalId, userId, userEmail).

const AsOf = z.string().refine(isIsoDate, 'must be a calendar date YYYY-MM-DD');
const RecordId = z.string().regex(/^\d{1,20}$/, 'must be a HubSpot record id');
const CardQuery = z.object({ objectId: RecordId, asOf: AsOf.optional() });
const ChoicesQuery = z.object({
  query: z.string().max(200).default(''),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export type CardRouteDeps = SignedRequestOptions & { today: () => string; cardCache?: CardCache };

/** Who made a change from a card: the signed user's email, else their HubSpot user id. */
const linkedBy = (res: Response): string | null => {
  const user = hubspotUserOf(res);
  return user.email ?? (user.id !== null ? `hubspot-user:${user.id}` : null);
};

export const cardRoutes = (deps: CardRouteDeps): Router => {
  const cache = deps.cardCache ?? createCardCache();
  const versions = portalVersions(deps.db);
  /**
   * One card answer: from the cache while the portal's data version holds, else computed and kept. The answer
   * carries a strong ETag; a request whose If-None-Match names it gets 304 without the body.
   */
  const cached = async (res: Response, key: string, compute: () => Promise<unknown>): Promise<void> => {
    const portalId = portalOf(res);
    const version = await versions.read(portalId);
    const cacheKey = `${portalId}|${key}`;
    const answer = cache.get(cacheKey, version) ?? cache.set(cacheKey, version, JSON.stringify(await compute()));
    res.set('ETag', answer.etag).type('application/json').send(answer.body);
  };
  return Router()
    .use('/api/v1/cards', (_req, res, next) => {
      // Card answers are per portal and user: never cached by anything between HubSpot and us.
      res.set('Cache-Control', 'no-store');
      next();
    }, hubspotSignature(deps))
    .get('/api/v1/cards/company', async (req, res) => {
      const { objectId, asOf = deps.today() } = parseOrThrow(CardQuery, req.query, 'Query parameters');
      await cached(res, `company|${objectId}|${asOf}`, () => companyCard(deps.db, portalOf(res), objectId, asOf));
    })
    .get('/api/v1/cards/deal', async (req, res) => {
      const { objectId, asOf = deps.today() } = parseOrThrow(CardQuery, req.query, 'Query parameters');
      await cached(res, `deal|${objectId}|${asOf}`, () => dealCard(deps.db, portalOf(res), objectId, asOf));
    })
    .get('/api/v1/cards/customers', async (req, res) => {
      const { query, limit } = parseOrThrow(ChoicesQuery, req.query, 'Query parameters');
      res.json(await customerChoices(deps.db, portalOf(res), query, limit));
    })
    .post('/api/v1/cards/company/link', idempotentAction(deps.db, LinkCompanyRequestSchema, async (trx, input, res) => {
      const body = await linkCompany(trx, portalOf(res), { companyId: input.objectId, customerId: input.customerId, linkedBy: linkedBy(res) });
      return { status: 200, body };
    }))
    .post('/api/v1/cards/company/unlink', idempotentAction(deps.db, UnlinkCompanyRequestSchema, async (trx, input, res) => {
      const body = await unlinkCompany(trx, portalOf(res), { companyId: input.objectId, linkedBy: linkedBy(res) });
      return { status: 200, body };
    }))
    .post('/api/v1/cards/company/credit-limit', idempotentAction(deps.db, SetCreditLimitRequestSchema, async (trx, input, res) => {
      const body = await setCreditLimit(trx, portalOf(res), {
        companyId: input.objectId, amount: input.amount, currency: input.currency ?? null, setBy: linkedBy(res),
      });
      return { status: 200, body };
    }))
    .post('/api/v1/cards/deal/terms', idempotentAction(deps.db, RecordTermsRequestSchema, async (trx, input, res) => {
      const body = await recordTermsAck(trx, portalOf(res), {
        dealId: input.objectId, terms: input.terms, termsDays: input.termsDays ?? null, contactId: input.contactId ?? null,
        contactName: input.contactName, contactEmail: input.contactEmail ?? null, acknowledgedOn: input.acknowledgedOn,
        evidenceUrl: input.evidenceUrl ?? null, recordedBy: linkedBy(res),
      }, deps.today());
      return { status: 201, body };
    }))
    .post('/api/v1/cards/company/log', idempotentAction(deps.db, LogEntryRequestSchema, async (trx, input, res) => {
      const { objectId, idempotencyKey: _key, ...entry } = input;
      const body = await logCompanyEntry(trx, portalOf(res), { ...entry, companyId: objectId, author: linkedBy(res) }, deps.today());
      return { status: 201, body };
    }))
    .post('/api/v1/cards/company/log/:id/resolve', idempotentAction(deps.db, ResolveDisputeRequestSchema, async (trx, input, res) => {
      const body = await resolveDispute(trx, portalOf(res), {
        companyId: input.objectId, entryId: String(res.req.params.id), resolvedOn: input.resolvedOn, resolution: input.resolution,
      }, deps.today());
      return { status: 200, body };
    }));
};
