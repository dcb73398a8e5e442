import { createHash } from 'node:crypto';
import type { Client } from '@hubspot/api-client';
import { AssociationSpecAssociationCategoryEnum } from '@hubspot/api-client/lib/codegen/crm/objects/tasks/models/AssociationSpec';
import type { Selectable } from 'kysely';
import type { IsoDate } from '../domain/types';
import type { Logger } from '../logger';
import type { Db } from '../store/database';
import { touchPortal, type Executor } from '../store/facts';
import type { HubSpotTaskPurpose, HubSpotTasksTable } from '../store/schema';
import type { HubSpotCaller } from './caller';
import { statusOf } from './caller';

// HubSpot tasks written exactly once. A task is first an intent row with a unique key, committed in the
// transaction of what asked for it (a help request, a ladder step, a big deal). Sending it is "mark the
// attempt → create → record the id". The create carries a marker token in its body; when an attempt may
// have reached HubSpot without its answer reaching us (a 500 after the write, a timeout, a crash), the next
// attempt first lists the tasks associated with the task's company (or deal) — association reads are not
// search-indexed, so a task created a moment ago is there — and reads their bodies for the marker. HubSpot's
// create API has no idempotency key, so this lookup is what keeps a retry from making a second task.

/** Association type ids (HubSpot-defined): task → company, task → deal. */
export const TASK_TO_COMPANY = 192;
export const TASK_TO_DEAL = 216;

export type NewTask = {
  /** Unique per portal: a second intent with the same key is not stored (the first one stands). */
  key: string;
  purpose: HubSpotTaskPurpose;
  ownerId: string | null;
  subject: string;
  /** Plain text; lines become paragraphs. */
  body: string;
  dueOn: IsoDate;
  companyId: string | null;
  dealId: string | null;
};

export type TaskRow = Selectable<HubSpotTasksTable>;

/** The marker of a task key: one alphanumeric token, so HubSpot's tokenizer keeps it whole. */
export const taskMarker = (portalId: number, key: string): string =>
  `arbtask${createHash('sha256').update(`${portalId}:${key}`, 'utf8').digest('hex').slice(0, 24)}`;

const escapeHtml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The HTML body HubSpot gets: the text's lines as paragraphs, then the reference line with the marker. */
export const taskBodyHtml = (body: string, marker: string): string =>
  `${body.split('\n').map((line) => `<p>${escapeHtml(line)}</p>`).join('')}<p>ARBridge ref ${marker}</p>`;

/**
 * Stores a task intent in the caller's transaction; with its key already used, nothing changes. Returns
 * the row stored under the key.
 */
export const queueTask = async (db: Executor, portalId: number, task: NewTask): Promise<TaskRow> => {
  if (task.companyId === null && task.dealId === null) throw new Error(`Task ${task.key} needs a company or a deal to be associated with`);
  const inserted = await db.insertInto('hubspot_tasks').values({
    portal_id: portalId, task_key: task.key, purpose: task.purpose, owner_id: task.ownerId, subject: task.subject.slice(0, 250),
    body: task.body, due_on: task.dueOn, company_id: task.companyId, deal_id: task.dealId,
  }).onConflict((oc) => oc.columns(['portal_id', 'task_key']).doNothing()).returningAll().executeTakeFirst();
  if (inserted) return inserted;
  return db.selectFrom('hubspot_tasks').selectAll().where('portal_id', '=', portalId).where('task_key', '=', task.key).executeTakeFirstOrThrow();
};

export type TaskSender = { client: (renew?: boolean) => Promise<Client>; caller: HubSpotCaller };

/** The task associated with the row's company (else deal) whose body carries the marker, or null. */
const findByMarker = async (client: Client, row: TaskRow, marker: string): Promise<string | null> => {
  const [fromType, fromId] = row.company_id !== null ? ['companies', row.company_id] : ['deals', row.deal_id as string];
  let after: string | undefined;
  do {
    const page = await client.crm.associations.v4.basicApi.getPage(fromType, fromId, 'tasks', after, 500);
    const ids = page.results.map((r) => String(r.toObjectId));
    if (ids.length > 0) {
      const read = await client.crm.objects.tasks.batchApi.read({ inputs: ids.map((id) => ({ id })), properties: ['hs_task_body'], propertiesWithHistory: [] });
      const hit = read.results.find((task) => (task.properties.hs_task_body ?? '').includes(marker));
      if (hit) return hit.id;
    }
    after = page.paging?.next?.after;
  } while (after !== undefined);
  return null;
};

/** Permanent refusals (the request itself is wrong): the intent is marked failed instead of retried forever. */
const isPermanent = (error: unknown): boolean => {
  const status = statusOf(error);
  return status !== null && status >= 400 && status < 500 && status !== 401 && status !== 409 && status !== 429;
};

const firstLine = (error: unknown): string => (error instanceof Error ? error.message : String(error)).split('\n')[0]?.slice(0, 500) ?? '';

/**
 * Sends one intent: the id when the task exists in HubSpot (created now or found by its marker). Each
 * attempt is counted in the store before the create is sent, so after a lost answer any later attempt —
 * a retry of the caller, or the next round in another process — looks for the task first.
 */
export const sendTask = async (db: Db, portalId: number, sender: TaskSender, row: TaskRow): Promise<string> => {
  if (row.status === 'created' && row.hubspot_task_id !== null) return row.hubspot_task_id;
  const marker = taskMarker(portalId, row.task_key);
  const associations = [
    ...(row.company_id !== null ? [{ to: { id: row.company_id }, types: [{ associationCategory: AssociationSpecAssociationCategoryEnum.HubspotDefined, associationTypeId: TASK_TO_COMPANY }] }] : []),
    ...(row.deal_id !== null ? [{ to: { id: row.deal_id }, types: [{ associationCategory: AssociationSpecAssociationCategoryEnum.HubspotDefined, associationTypeId: TASK_TO_DEAL }] }] : []),
  ];
  const properties: Record<string, string> = {
    hs_task_subject: row.subject,
    hs_task_body: taskBodyHtml(row.body, marker),
    hs_task_status: 'NOT_STARTED',
    hs_task_priority: row.purpose === 'help_request' ? 'MEDIUM' : 'HIGH',
    hs_task_type: 'TODO',
    hs_timestamp: `${row.due_on}T00:00:00.000Z`,
    ...(row.owner_id !== null ? { hubspot_owner_id: row.owner_id } : {}),
  };
  const taskId = await sender.caller.call(async () => {
    const client = await sender.client();
    const current = await db.selectFrom('hubspot_tasks').select(['attempts', 'hubspot_task_id'])
      .where('id', '=', row.id).executeTakeFirstOrThrow();
    if (current.hubspot_task_id !== null) return current.hubspot_task_id;
    if (current.attempts > 0) {
      const found = await findByMarker(client, row, marker);
      if (found !== null) return found;
    }
    await db.updateTable('hubspot_tasks').set((eb) => ({ attempts: eb('attempts', '+', 1) })).where('id', '=', row.id).execute();
    const created = await client.crm.objects.tasks.basicApi.create({ properties, associations });
    return created.id;
  });
  // Cards show the task's state: the change ends with touchPortal.
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('hubspot_tasks')
      .set({ status: 'created', hubspot_task_id: taskId, sent_at: new Date(), last_error: null })
      .where('id', '=', row.id).execute();
    await touchPortal(trx, portalId);
  });
  return taskId;
};

export type SendReport = { created: number; failed: number; remaining: number };

/**
 * Sends the portal's pending task intents, oldest first. A permanent refusal (a 4xx such as an unknown owner
 * or record) marks the intent failed with HubSpot's message; other failures leave it pending for the next
 * round.
 */
export const sendPendingTasks = async (
  db: Db, portalId: number, sender: TaskSender, { logger, limit = 200 }: { logger?: Logger; limit?: number } = {},
): Promise<SendReport> => {
  const rows = await db.selectFrom('hubspot_tasks').selectAll()
    .where('portal_id', '=', portalId).where('status', '=', 'pending').orderBy('id').limit(limit).execute();
  const report: SendReport = { created: 0, failed: 0, remaining: 0 };
  for (const row of rows) {
    try {
      await sendTask(db, portalId, sender, row);
      report.created += 1;
    } catch (error) {
      const permanent = isPermanent(error);
      await db.transaction().execute(async (trx) => {
        await trx.updateTable('hubspot_tasks')
          .set({ last_error: firstLine(error), ...(permanent ? { status: 'failed' as const } : {}) })
          .where('id', '=', row.id).execute();
        if (permanent) await touchPortal(trx, portalId);
      });
      if (permanent) report.failed += 1;
      else report.remaining += 1;
      logger?.warn({ portalId, task: row.task_key, error: firstLine(error), permanent }, 'HubSpot task not created');
    }
  }
  return report;
};

/**
 * Marks a created task completed in HubSpot (hs_task_status COMPLETED): a PATCH, idempotent, so a repeat after a lost
 * answer does no harm. `decidedAt` is when what asked for it happened (e.g. the help request's answer); it is kept as
 * the row's `sent_at`, so a row whose `sent_at` differs from it still has the completion to send.
 */
export const completeTask = async (db: Db, portalId: number, sender: TaskSender, row: Pick<TaskRow, 'id' | 'hubspot_task_id'>, decidedAt: Date): Promise<void> => {
  if (row.hubspot_task_id === null) throw new Error(`Task ${row.id} is not created in HubSpot yet`);
  const taskId = row.hubspot_task_id;
  await sender.caller.call(async () => {
    const client = await sender.client();
    await client.crm.objects.tasks.basicApi.update(taskId, { properties: { hs_task_status: 'COMPLETED' } });
  });
  await db.updateTable('hubspot_tasks').set({ sent_at: decidedAt, last_error: null }).where('id', '=', row.id).execute();
};

export type CompleteReport = { completed: number; remaining: number };

/**
 * Completes in HubSpot the tasks whose reason is over: `due` lists created tasks with when that was decided. A task
 * HubSpot no longer has (a 404) counts as completed; other failures stay for the next round.
 */
export const completeTasks = async (
  db: Db, portalId: number, sender: TaskSender, due: readonly { row: Pick<TaskRow, 'id' | 'task_key' | 'hubspot_task_id'>; decidedAt: Date }[],
  { logger }: { logger?: Logger } = {},
): Promise<CompleteReport> => {
  const report: CompleteReport = { completed: 0, remaining: 0 };
  for (const { row, decidedAt } of due) {
    try {
      await completeTask(db, portalId, sender, row, decidedAt);
      report.completed += 1;
    } catch (error) {
      if (statusOf(error) === 404) {
        await db.updateTable('hubspot_tasks').set({ sent_at: decidedAt, last_error: firstLine(error) }).where('id', '=', row.id).execute();
        report.completed += 1;
        continue;
      }
      await db.updateTable('hubspot_tasks').set({ last_error: firstLine(error) }).where('id', '=', row.id).execute();
      report.remaining += 1;
      logger?.warn({ portalId, task: row.task_key, error: firstLine(error) }, 'HubSpot task not completed');
    }
  }
  return report;
};
