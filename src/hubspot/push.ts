import type { IsoDate } from '../domain/types';
import type { Logger } from '../logger';
import type { Executor } from '../store/facts';
import { loadPolicy } from '../store/policies';
import type { PortalConnection } from './connection';
import { BATCH_LIMIT, drainOutbox, planWriteBack, type DrainReport, type PlanReport } from './writeback';

export type PushReport = {
  plan: PlanReport;
  /** null for a dry run. */
  drain: DrainReport | null;
  /** The fewest batch calls that could carry the planned changes: ceil(changed ÷ 100) per object type. */
  minimumCalls: number;
};

export const minimumCalls = (plan: PlanReport): number =>
  Math.ceil(plan.companies.changed / BATCH_LIMIT) + Math.ceil(plan.deals.changed / BATCH_LIMIT);

/**
 * Recomputes the roll-ups of a portal as of `asOf`, queues what differs from what HubSpot holds, and sends
 * it (unless `dryRun`, which only counts and samples the changes and leaves the outbox alone).
 */
export const pushToHubSpot = async (
  db: Executor, connection: PortalConnection | null, portalId: number, asOf: IsoDate,
  { dryRun = false, logger }: { dryRun?: boolean; logger?: Logger } = {},
): Promise<PushReport> => {
  const policy = await loadPolicy(db, portalId);
  const plan = await planWriteBack(db, portalId, asOf, policy, { dryRun });
  if (dryRun || connection === null) return { plan, drain: null, minimumCalls: minimumCalls(plan) };
  const drain = await drainOutbox({ db, portalId, client: connection.client, caller: connection.caller, ...(logger ? { logger } : {}) });
  return { plan, drain, minimumCalls: minimumCalls(plan) };
};
