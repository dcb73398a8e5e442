import type { Client } from '@hubspot/api-client';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { resolveSecretKey } from '../secrets/keys';
import type { Db } from '../store/database';
import { createHubSpotAuth, type HubSpotAuth } from './auth';
import { createCaller, type HubSpotCaller } from './caller';
import { hubspotClient } from './client';

/** What a job needs to call HubSpot for one portal: a client with a fresh token and the portal's paced caller. */
export type PortalConnection = {
  portalId: number;
  /** A client holding the portal's current token; `renew` forces a token refresh first (after a 401). */
  client: (renew?: boolean) => Promise<Client>;
  caller: HubSpotCaller;
};

/** Callers are per portal and live as long as the process: the burst limit is per installing account. */
const callers = new Map<string, HubSpotCaller>();

export const callerFor = (config: Pick<Config, 'hubspot'>, portalId: number): HubSpotCaller => {
  const key = `${config.hubspot.apiBaseUrl} ${portalId}`;
  let caller = callers.get(key);
  if (!caller) callers.set(key, (caller = createCaller({ callsPerWindow: config.hubspot.callsPer10s })));
  return caller;
};

export const connectPortal = (auth: HubSpotAuth, config: Pick<Config, 'hubspot'>, portalId: number): PortalConnection => ({
  portalId,
  client: async (renew = false) => {
    const token = renew && config.hubspot.privateApp?.portalId !== portalId ? await auth.forceRefresh(portalId) : await auth.tokenFor(portalId);
    return hubspotClient(token, config.hubspot.apiBaseUrl);
  },
  caller: callerFor(config, portalId),
});

/** The auth object of a process, built from its configuration (the sealed-token key resolved once). */
export const authFor = (db: Db, config: Config, logger: Logger): HubSpotAuth =>
  createHubSpotAuth({ db, config, key: resolveSecretKey(config), logger });
