import type { IsoDate } from '../domain/types';
import type { PortalConnection } from '../hubspot/connection';
import { sendPendingTasks, type CompleteReport, type SendReport } from '../hubspot/tasks';
import type { Logger } from '../logger';
import type { Db } from '../store/database';
import { processBigDealEvents, type BigDealReport } from './big-deals';
import { runEscalationLadder, type LadderRun } from './escalation';
import { completeAnsweredHelpRequestTasks, escalateOverdueHelpRequests } from './help-requests';

export type CollaborationReport = { ladder: LadderRun; slaEscalated: number; bigDeals: BigDealReport; tasks: SendReport; completed: CompleteReport };

/**
 * The collaboration part of a portal's HubSpot round (after every sync round and at least daily with the
 * scheduled round): the escalation ladder as of today, help requests past their SLA, big deals from stored
 * webhook events, then every pending HubSpot task is sent, and the tasks of help requests answered done or declined are
 * marked completed.
 */
export const runCollaborationRound = async (
  db: Db, connection: Pick<PortalConnection, 'client' | 'caller'>, portalId: number, today: IsoDate, logger?: Logger,
): Promise<CollaborationReport> => {
  const ladder = await runEscalationLadder(db, portalId, today);
  const slaEscalated = await escalateOverdueHelpRequests(db, portalId, today);
  const bigDeals = await processBigDealEvents(db, portalId, connection, today, logger ? { logger } : {});
  const tasks = await sendPendingTasks(db, portalId, connection, logger ? { logger } : {});
  const completed = await completeAnsweredHelpRequestTasks(db, portalId, connection, logger ? { logger } : {});
  return { ladder, slaEscalated, bigDeals, tasks, completed };
};
