import type { RequestHandler, Response } from 'express';
import { AppError } from '../../errors';

/** The development-only header naming the portal. Signed HubSpot requests replace it in production. */
export const DEV_PORTAL_HEADER = 'x-arbridge-portal-id';

export type PortalOptions = { env: 'development' | 'test' | 'production'; defaultPortalId: number };

/** Card, settings and workspace routes (under the /api/v1 mount): scoped by HubSpot's signature (hubspot-signature.ts), never here. */
const CARD_PATH = /^\/(cards|settings|workspace)(\/|$)/i;

/**
 * Sets `res.locals.portalId`, the only source of the tenant for a request. Outside production the
 * development header may name a portal (else the default portal); in production no unsigned request
 * reaches tenant data. Card requests are left to the signature check: the header never applies to them.
 */
export const portalScope = (options: PortalOptions): RequestHandler => (req, res, next) => {
  if (CARD_PATH.test(req.path)) {
    next();
    return;
  }
  if (options.env === 'production') {
    next(new AppError('unauthenticated', 'This request is not signed by HubSpot'));
    return;
  }
  const header = req.header(DEV_PORTAL_HEADER);
  if (header === undefined) {
    res.locals.portalId = options.defaultPortalId;
    next();
    return;
  }
  if (!/^[1-9]\d{0,15}$/.test(header)) {
    next(new AppError('invalid_request', `Header ${DEV_PORTAL_HEADER} must be a positive portal id`));
    return;
  }
  res.locals.portalId = Number(header);
  next();
};

export const portalOf = (res: Response): number => {
  const portalId: unknown = res.locals.portalId;
  if (typeof portalId !== 'number') throw new AppError('unauthenticated', 'No portal for this request');
  return portalId;
};
