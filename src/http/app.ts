import express, { type Express } from 'express';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { Db } from '../store/database';
import { errorHandler, notFound } from './middleware/errors';
import { keepRawBody } from './middleware/hubspot-signature';
import { portalScope } from './middleware/portal';
import { cardRoutes } from './routes/cards';
import { helpRequestRoutes } from './routes/help-requests';
import { connectRoutes, type ConnectRouteDeps } from './routes/connect';
import { healthRoutes, type HealthDeps } from './routes/health';
import { hubspotWebhookRoutes, type HubSpotWebhookDeps } from './routes/hubspot-webhooks';
import { matchingRoutes } from './routes/matching';
import { oauthRoutes, type OAuthRouteDeps } from './routes/oauth';
import { reportRoutes } from './routes/reports';
import { settingsRoutes } from './routes/settings';
import { workspaceRoutes } from './routes/workspace';
import { sourceWebhookRoutes, type SourceWebhookDeps } from './routes/source-webhooks';

export type AppDeps = {
  db: Db;
  config: Pick<Config, 'env' | 'defaultPortalId'> & Partial<Pick<Config, 'publicUrl' | 'hubspot'>>;
  logger: Logger;
  /** Today's date; the only clock the routes read (asOf defaults to it). */
  today: () => string;
  /** The HubSpot OAuth install routes; mounted when given (the service always gives them). */
  oauth?: OAuthRouteDeps;
  /** What follows stored HubSpot webhook events (a debounced round); the receiver stores them either way. */
  hubspotWebhooks?: HubSpotWebhookDeps;
  /** The accounting connect page and its OAuth callbacks; mounted when given (the service always gives them). */
  connect?: ConnectRouteDeps;
  /** Webhooks of Stripe, Xero and QuickBooks: their verifiers and the sync they request. */
  sourceWebhooks?: SourceWebhookDeps;
  /** What `GET /healthz?details=1` reports (sync status, queue depth). */
  health?: HealthDeps;
};

export const createApp = (deps: AppDeps): Express => {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  // Before the app-wide parser: webhook deliveries parse their own body, with a larger limit.
  app.use(hubspotWebhookRoutes(deps));
  app.use(sourceWebhookRoutes(deps));
  app.use(express.json({ limit: '256kb', verify: keepRawBody }));
  app.use(healthRoutes(deps));
  app.get('/', (_req, res) => {
    res.json({
      service: 'arbridge',
      endpoints: [
        'GET /healthz', 'GET /healthz?details=1', 'GET /api/v1/portfolio?asOf=&by=', 'GET /api/v1/companies/:customerId/summary?asOf=',
        'GET /oauth/hubspot/install', 'GET /oauth/hubspot/callback',
        'GET /api/v1/cards/company?objectId=&asOf= (signed)', 'GET /api/v1/cards/deal?objectId=&asOf= (signed)',
        'GET /api/v1/cards/customers?query= (signed)', 'POST /api/v1/cards/company/link (signed)', 'POST /api/v1/cards/company/unlink (signed)',
        'GET /api/v1/settings (signed)', 'PUT /api/v1/settings/policy (signed)', 'POST /api/v1/settings/policy/reset (signed)',
        'POST /api/v1/cards/deal/terms (signed)', 'POST /api/v1/cards/company/log (signed)',
        'POST /api/v1/cards/company/credit-limit (signed)', 'GET /api/v1/workspace?owner=&currency=&asOf= (signed)',
        'GET /api/v1/hubspot/unmatched?kind=', 'POST /api/v1/hubspot/links', 'POST /api/v1/hubspot/deal-links',
        'POST /webhooks/hubspot (signed)',
        'POST /api/v1/connect/link (signed)', 'GET /connect?token=', 'POST /connect/:source/start', 'GET /oauth/xero/callback',
        'GET /oauth/quickbooks/callback', 'POST /connect/stripe', 'POST /connect/:source/disconnect',
        'POST /webhooks/stripe (signed)', 'POST /webhooks/xero (signed)', 'POST /webhooks/quickbooks (signed)',
      ],
    });
  });
  if (deps.oauth) app.use(oauthRoutes(deps.oauth));
  if (deps.connect) app.use(connectRoutes(deps.connect));
  app.use('/api/v1', portalScope(deps.config));
  app.use(helpRequestRoutes(deps));
  app.use(cardRoutes(deps));
  app.use(settingsRoutes(deps));
  app.use(workspaceRoutes(deps));
  app.use(matchingRoutes(deps));
  app.use(reportRoutes(deps));
  app.use(notFound);
  app.use(errorHandler(deps.logger));
  return app;
};
