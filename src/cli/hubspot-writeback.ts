import type { Config } from '../config';
import type { IsoDate } from '../domain/types';
import type { PortalConnection } from '../hubspot/connection';
import { installProperties, type InstallReport } from '../hubspot/properties';
import { pushToHubSpot, type PushReport } from '../hubspot/push';
import type { Logger } from '../logger';
import type { Db } from '../store/database';
import { ensurePortal } from '../store/facts';
import type { Io } from './io';

type Deps = { db: Db; config: Config; io: Io; logger?: Logger };

/** `arbridge hubspot install-properties`: the `arbridge` group and properties on companies and deals. */
export const installPropertiesCommand = async (deps: Deps, connection: PortalConnection, format: 'table' | 'json'): Promise<InstallReport> => {
  const client = await connection.client();
  const report = await installProperties(client, connection.caller);
  if (format === 'json') {
    deps.io.stdout.write(`${JSON.stringify({ portal_id: connection.portalId, ...report })}\n`);
    return report;
  }
  for (const objectType of ['companies', 'deals'] as const) {
    const r = report[objectType];
    deps.io.stdout.write(
      `${objectType}: group ${r.groupCreated ? 'created' : 'present'}; ${r.created.length} created` +
        `${r.created.length ? ` (${r.created.join(', ')})` : ''}, ${r.updated.length} updated` +
        `${r.updated.length ? ` (${r.updated.join(', ')})` : ''}, ${r.unchanged} unchanged\n`,
    );
  }
  return report;
};

/** The JSON shape of `arbridge hubspot push --format json` (documented in the README). */
export const pushJson = (portalId: number, report: PushReport): Record<string, unknown> => ({
  portal_id: portalId,
  as_of: report.plan.asOf,
  dry_run: report.plan.dryRun,
  planned: {
    companies: report.plan.companies,
    deals: report.plan.deals,
  },
  minimum_calls: report.minimumCalls,
  sample: report.plan.sample.map((s) => ({ object_type: s.objectType, object_id: s.objectId, properties: s.properties })),
  sent: report.drain && {
    written: report.drain.written,
    calls: report.drain.calls,
    rate_limited: report.drain.rateLimited,
    refused: report.drain.refused,
    remaining: report.drain.remaining,
    stopped_by: report.drain.stoppedBy,
  },
});

/**
 * `arbridge hubspot push [--dry-run] [--as-of D]`: plans the property changes and, unless a dry run, sends
 * them. Exit status 1 when the drain stopped on HubSpot errors or records were refused.
 */
export const pushCommand = async (
  deps: Deps, connection: PortalConnection | null, portalId: number,
  options: { asOf: IsoDate; dryRun: boolean; format: 'table' | 'json' },
): Promise<PushReport> => {
  await ensurePortal(deps.db, portalId);
  const report = await pushToHubSpot(deps.db, connection, portalId, options.asOf, { dryRun: options.dryRun, ...(deps.logger ? { logger: deps.logger } : {}) });
  const out = deps.io.stdout;
  if (options.format === 'json') {
    out.write(`${JSON.stringify(pushJson(portalId, report))}\n`);
    return report;
  }
  const { plan } = report;
  const line = (label: string, c: typeof plan.companies): string =>
    `${label}: ${c.records} linked, ${c.changed} to update (${c.properties} properties${c.cleared ? `, ${c.cleared} cleared` : ''})`;
  out.write(`${plan.dryRun ? 'dry run: ' : ''}changes as of ${plan.asOf} for portal ${portalId}\n`);
  out.write(`  ${line('companies', plan.companies)}\n  ${line('deals', plan.deals)}\n`);
  out.write(`  batch calls needed: ${report.minimumCalls} (100 records per call)\n`);
  if (plan.dryRun) {
    for (const s of plan.sample) {
      const props = Object.entries(s.properties).map(([k, v]) => `${k}=${v === '' ? '(clear)' : v}`).join(', ');
      out.write(`  ${s.objectType} ${s.objectId}: ${props}\n`);
    }
    if (plan.companies.changed + plan.deals.changed > plan.sample.length) out.write(`  … and ${plan.companies.changed + plan.deals.changed - plan.sample.length} more\n`);
    return report;
  }
  const d = report.drain;
  if (d) {
    out.write(`sent: ${d.written} records in ${d.calls} calls; ${d.rateLimited} rate-limited (429), ${d.refused} refused, ${d.remaining} waiting in the outbox\n`);
    if (d.stoppedBy) deps.io.stderr.write(`write-back stopped: ${d.stoppedBy}; the rest stays queued for the next push\n`);
  }
  return report;
};
