import type { Config } from '../config';
import { createHubSpotAuth } from '../hubspot/auth';
import { createLogger, type Logger } from '../logger';
import { resolveSecretKey } from '../secrets/keys';
import type { Db } from '../store/database';
import { InputError, UsageError, type Io } from './io';

/**
 * `arbridge hubspot uninstall --portal N`: deletes the portal's OAuth install (its sealed tokens) and revokes
 * its refresh token at HubSpot, best effort. The portal must be named explicitly (no default portal for a
 * removal). A private-app portal is configuration, not an install: it is disconnected by unsetting
 * HUBSPOT_ACCESS_TOKEN and HUBSPOT_PORTAL_ID.
 */
export const hubspotUninstallCommand = async (
  deps: { db: Db; config: Config; io: Io; logger?: Logger },
  portalId: number | undefined,
): Promise<void> => {
  if (portalId === undefined) throw new UsageError('hubspot uninstall needs --portal <id> (the portal whose install to remove)');
  const { config, io } = deps;
  const logger = deps.logger ?? createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, io.stderr);
  const auth = createHubSpotAuth({ db: deps.db, config, key: resolveSecretKey(config), logger });
  const result = await auth.uninstall(portalId);
  const privateApp = config.hubspot.privateApp?.portalId === portalId;
  if (!result.removed) {
    throw new InputError(privateApp
      ? `portal ${portalId} uses the private-app token (HUBSPOT_ACCESS_TOKEN); unset HUBSPOT_ACCESS_TOKEN and HUBSPOT_PORTAL_ID to disconnect it`
      : `portal ${portalId} has no HubSpot install; nothing removed`);
  }
  io.stdout.write(`removed the HubSpot install of portal ${portalId}; ${result.revoked
    ? 'HubSpot revoked its refresh token'
    : 'its refresh token could not be revoked at HubSpot (it stops working when the app is uninstalled in HubSpot)'}\n`);
  if (privateApp) io.stdout.write(`portal ${portalId} still uses the private-app token (HUBSPOT_ACCESS_TOKEN)\n`);
};
