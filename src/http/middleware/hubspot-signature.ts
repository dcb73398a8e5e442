import type { IncomingMessage } from 'node:http';
import type { RequestHandler, Response } from 'express';
import type { HubSpotConfig } from '../../config';
import { AppError } from '../../errors';
import {
  SIGNATURE_FAILURE_MESSAGES, SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyHubSpotSignatureV3, type SignatureFailure,
} from '../../hubspot/signature';
import type { Logger } from '../../logger';
import type { Db } from '../../store/database';
import { DEV_PORTAL_HEADER } from './portal';

/** The body exactly as it arrived, kept by express.json's `verify` hook (see keepRawBody). */
export type RawBodyRequest = IncomingMessage & { rawBody?: string };

/** express.json `verify` hook: keeps the raw body, which signatures cover, next to the parsed one. */
export const keepRawBody = (req: IncomingMessage, _res: unknown, buf: Buffer): void => {
  (req as RawBodyRequest).rawBody = buf.toString('utf8');
};

/** The HubSpot user a signed request was made by, as the proxy's signed query parameters name them. */
export type HubSpotUser = { id: string | null; email: string | null };

export type SignedRequestOptions = {
  db: Db;
  config: {
    env: 'development' | 'test' | 'production';
    /** The origin HubSpot calls; the signed URL is this plus the request's path and query. */
    publicUrl?: string;
    hubspot?: Pick<HubSpotConfig, 'clientSecret' | 'privateApp'>;
  };
  logger: Logger;
  /** Milliseconds since the epoch (the signature timestamp is checked against it). */
  now?: () => number;
};

type Refusal =
  | SignatureFailure
  | 'no_client_secret'
  | 'no_public_url'
  | 'unsigned_body'
  | 'dev_header_in_production'
  | 'portal_missing'
  | 'portal_repeated'
  | 'portal_malformed'
  | 'user_repeated'
  | 'portal_not_installed';

const REFUSALS: Readonly<Record<Exclude<Refusal, SignatureFailure>, string>> = {
  no_client_secret: 'Card requests are verified with the app\'s client secret: set HUBSPOT_CLIENT_SECRET (there is no unsigned access)',
  no_public_url: 'Card requests are verified against the public URL: set ARBRIDGE_PUBLIC_URL',
  unsigned_body: 'The request body must be JSON (Content-Type: application/json) so that its signature can be checked',
  dev_header_in_production: `Header ${DEV_PORTAL_HEADER} is refused in production`,
  portal_missing: 'Query parameter portalId (added by HubSpot) is missing',
  portal_repeated: 'Query parameter portalId appears more than once',
  portal_malformed: 'Query parameter portalId is not a portal id',
  user_repeated: 'Query parameter userId or userEmail appears more than once',
  portal_not_installed: 'The app is not installed in this portal',
};

const PORTAL_ID = /^[1-9]\d{0,15}$/;

const hasBody = (req: IncomingMessage): boolean =>
  req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;

const single = (params: URLSearchParams, name: string): { value: string | null; repeated: boolean } => {
  const all = params.getAll(name);
  return { value: all[0] ?? null, repeated: all.length > 1 };
};

/**
 * Admits a request only when HubSpot signed it (v3) for an app installed in the portal the signed query
 * names. Sets `res.locals.portalId` from the signed `portalId` query parameter, never from anything else
 * (the development portal header is ignored here, and refused outright in production), and
 * `res.locals.hubspotUser` from the signed `userId` and `userEmail`. Every refusal is a 401 whose message
 * says why; the reason is logged without the signature or the secret.
 */
export const hubspotSignature = (options: SignedRequestOptions): RequestHandler => {
  const now = options.now ?? Date.now;
  const isServed = async (portalId: number): Promise<boolean> => {
    if (options.config.hubspot?.privateApp?.portalId === portalId) return true;
    const install = await options.db.selectFrom('hubspot_installs').select('portal_id')
      .where('portal_id', '=', portalId).executeTakeFirst();
    return install !== undefined;
  };
  return async (req, res, next) => {
    const refuse = (reason: Refusal, portalId: number | null = null): void => {
      options.logger.warn({ reason, method: req.method, path: req.path, portalId }, 'refused a card request');
      const message = reason in REFUSALS
        ? REFUSALS[reason as keyof typeof REFUSALS]
        : SIGNATURE_FAILURE_MESSAGES[reason as SignatureFailure];
      next(new AppError('unauthenticated', message, { reason }));
    };
    // Whatever an earlier middleware decided, a card request's portal comes from its signature only.
    delete res.locals.portalId;
    delete res.locals.hubspotUser;
    const { env, publicUrl, hubspot } = options.config;
    if (env === 'production' && req.header(DEV_PORTAL_HEADER) !== undefined) return refuse('dev_header_in_production');
    const clientSecret = hubspot?.clientSecret ?? null;
    if (clientSecret === null) return refuse('no_client_secret');
    if (publicUrl === undefined) return refuse('no_public_url');
    const raw = (req as RawBodyRequest).rawBody;
    if (raw === undefined && hasBody(req)) return refuse('unsigned_body');
    const check = verifyHubSpotSignatureV3({
      method: req.method,
      url: publicUrl + req.originalUrl,
      rawBody: raw ?? '',
      signature: req.header(SIGNATURE_HEADER),
      timestamp: req.header(TIMESTAMP_HEADER),
      clientSecret,
      now: now(),
    });
    if (!check.ok) return refuse(check.reason);
    const queryAt = req.originalUrl.indexOf('?');
    const params = new URLSearchParams(queryAt < 0 ? '' : req.originalUrl.slice(queryAt + 1));
    const portal = single(params, 'portalId');
    if (portal.value === null) return refuse('portal_missing');
    if (portal.repeated) return refuse('portal_repeated');
    if (!PORTAL_ID.test(portal.value)) return refuse('portal_malformed');
    const userId = single(params, 'userId');
    const userEmail = single(params, 'userEmail');
    if (userId.repeated || userEmail.repeated) return refuse('user_repeated');
    const portalId = Number(portal.value);
    if (!(await isServed(portalId))) return refuse('portal_not_installed', portalId);
    res.locals.portalId = portalId;
    res.locals.hubspotUser = { id: userId.value || null, email: userEmail.value || null } satisfies HubSpotUser;
    next();
  };
};

/** The HubSpot user of a request admitted by hubspotSignature. */
export const hubspotUserOf = (res: Response): HubSpotUser => {
  const user = res.locals.hubspotUser as HubSpotUser | undefined;
  if (user === undefined) throw new AppError('unauthenticated', 'No signed HubSpot user for this request');
  return user;
};
