import express, { type Express } from 'express';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { Db } from '../store/database';
import { errorHandler, notFound } from './middleware/errors';
import { portalScope } from './middleware/portal';
import { reportRoutes } from './routes/reports';

export type AppDeps = {
  db: Db;
  config: Pick<Config, 'env' | 'defaultPortalId'>;
  logger: Logger;
  /** Today's date; the only clock the routes read (asOf defaults to it). */
  today: () => string;
};

export const createApp = (deps: AppDeps): Express => {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(express.json({ limit: '256kb' }));
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/', (_req, res) => {
    res.json({
      service: 'arbridge',
      endpoints: ['GET /healthz', 'GET /api/v1/portfolio?asOf=&by=', 'GET /api/v1/companies/:customerId/summary?asOf='],
    });
  });
  app.use('/api/v1', portalScope(deps.config));
  app.use(reportRoutes(deps));
  app.use(notFound);
  app.use(errorHandler(deps.logger));
  return app;
};
