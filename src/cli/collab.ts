import { Option, type Command } from 'commander';
import type { HelpRequest } from '../../extensions/card-api';
import { isIsoDate } from '../domain/calendar';
import { ESCALATION_ACTIONS, type EscalationAction } from '../domain/policy';
import { AppError } from '../errors';
import { addEscalationException } from '../services/escalation';
import { createHelpRequest, listHelpRequests, setHelpRequestStatus } from '../services/help-requests';
import type { HelpRequestStatus } from '../store/schema';
import type { Store } from '../store/store';
import { InputError, UsageError, type Io } from './io';

// `arbridge help-requests …` and `arbridge escalation except`: the collaboration records from the command line.

export type CollabCliDeps = {
  io: Io;
  /** Runs `work` on the opened store and the portal of the command (--portal, else the default). */
  withStore: <T>(work: (store: Store, portalId: number) => Promise<T>) => Promise<T>;
  /** Today's date where the command runs. */
  today: () => string;
  /** Who the records name as author (ARBRIDGE_USER, else the OS user), or null. */
  who: string | null;
};

const STATUSES = ['open', 'accepted', 'done', 'declined'] as const;
const MOVES = ['accepted', 'done', 'declined'] as const;

const date = (flag: string) => (value: string): string => {
  if (!isIsoDate(value)) throw new UsageError(`${flag} must be a calendar date YYYY-MM-DD (got "${value}")`);
  return value;
};

const recordId = (flag: string) => (value: string): string => {
  if (!/^\d{1,20}$/.test(value)) throw new UsageError(`${flag} must be a HubSpot record id (digits; got "${value}")`);
  return value;
};

/** A service refusal as the CLI says it: the message, then each field the service named. */
const refused = (error: unknown): never => {
  if (error instanceof AppError && (error.code === 'invalid_request' || error.code === 'not_found')) {
    const fields = Object.entries((error.details.fields ?? {}) as Record<string, string[]>).map(([field, problems]) => `${field}: ${problems.join('; ')}`);
    throw new InputError(fields.length > 0 ? `${error.message} (${fields.join(', ')})` : error.message);
  }
  throw error;
};

const cell = (text: string, width: number): string => (text.length <= width ? text.padEnd(width) : `${text.slice(0, width - 1)}…`);

/** The table of `arbridge help-requests list`. */
export const formatHelpRequestsTable = (requests: readonly HelpRequest[]): string => {
  if (requests.length === 0) return 'no help requests\n';
  const header = `${cell('ID', 6)} ${cell('RECORD', 20)} ${cell('STATUS', 9)} ${cell('SLA', 10)} ${cell('NEEDED BY', 10)} ${cell('OWNER', 10)} ${cell('TASK', 8)} NEEDED`;
  const lines = requests.map((r) => [
    cell(r.id, 6), cell(`${r.object_type} ${r.object_id}`, 20), cell(r.status, 9), cell(r.sla, 10), cell(r.needed_by, 10),
    cell(r.owner_id ?? '-', 10), cell(r.task?.status ?? '-', 8), r.needed.replace(/\s+/g, ' ').slice(0, 60),
  ].join(' '));
  return `${[header, ...lines].join('\n')}\n`;
};

/** The customer of --customer: the ARBridge customer id (digits), else the accounting system's customer id. */
const customerOf = async (store: Store, portalId: number, ref: string): Promise<number> => {
  if (/^\d{1,15}$/.test(ref)) {
    const row = await store.db.selectFrom('customers').select('id').where('portal_id', '=', portalId).where('id', '=', Number(ref)).executeTakeFirst();
    if (row) return Number(row.id);
  }
  const rows = await store.db.selectFrom('customers').select(['id', 'source']).where('portal_id', '=', portalId).where('external_id', '=', ref).execute();
  if (rows.length === 1) return Number(rows[0]!.id);
  if (rows.length > 1) throw new InputError(`customer ${ref} is known in ${rows.map((r) => r.source).join(' and ')}; pass the ARBridge customer id instead`);
  throw new InputError(`--customer: no customer ${ref} in portal ${portalId}`);
};

export const registerCollabCommands = (program: Command, deps: CollabCliDeps): void => {
  const { io } = deps;
  const help = program.command('help-requests').description('help requests from AR to the owners of companies and deals');

  help.command('list').description('the portal\'s help requests, newest first, with their SLA state and HubSpot task')
    .addOption(new Option('--status <status>', 'only requests with this status').choices(STATUSES))
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action((flags: { status?: HelpRequestStatus; format: 'table' | 'json' }) => deps.withStore(async (store, portalId) => {
      const requests = await listHelpRequests(store.db, portalId, deps.today(), flags.status ? { status: flags.status } : {});
      io.stdout.write(flags.format === 'json' ? `${JSON.stringify(requests)}\n` : formatHelpRequestsTable(requests));
    }));

  help.command('create').description('ask the owner of a company or deal for help (a HubSpot task follows with the next round)')
    .option('--company <id>', 'the HubSpot company', recordId('--company'))
    .option('--deal <id>', 'the HubSpot deal', recordId('--deal'))
    .requiredOption('--needed <text>', 'what is needed')
    .requiredOption('--by <date>', 'needed by, YYYY-MM-DD', date('--by'))
    .action((flags: { company?: string; deal?: string; needed: string; by: string }) => {
      if ((flags.company === undefined) === (flags.deal === undefined)) throw new UsageError('help-requests create takes one of --company or --deal');
      const needed = flags.needed.trim();
      if (needed === '' || needed.length > 2000) throw new UsageError('--needed must say what is needed (1 to 2000 characters)');
      return deps.withStore(async (store, portalId) => {
        const request = await store.db.transaction().execute((trx) => createHelpRequest(trx, portalId, {
          objectType: flags.company !== undefined ? 'company' : 'deal', objectId: (flags.company ?? flags.deal) as string,
          needed, neededBy: flags.by, requestedBy: deps.who,
        }, deps.today())).catch(refused);
        io.stdout.write(`help request ${request.id}: asked owner ${request.owner_id ?? '-'} by ${request.needed_by} (SLA ${request.sla_due_on}); the HubSpot task is sent with the next round\n`);
      });
    });

  help.command('status <id> <status>').description('move a request on: accepted, done or declined')
    .action((id: string, status: string) => {
      if (!/^\d{1,20}$/.test(id)) throw new UsageError(`the help request id must be a number (got "${id}")`);
      if (!(MOVES as readonly string[]).includes(status)) throw new UsageError(`status must be accepted, done or declined (got "${status}")`);
      return deps.withStore(async (store, portalId) => {
        const request = await store.db.transaction().execute((trx) => setHelpRequestStatus(trx, portalId, {
          id, status: status as (typeof MOVES)[number], by: deps.who,
        }, deps.today())).catch(refused);
        io.stdout.write(`help request ${request.id}: ${request.status}\n`);
      });
    });

  const escalation = program.command('escalation').description('the escalation ladder');
  escalation.command('except').description('hold a customer\'s ladder steps until a date, for a reason (management by exception)')
    .requiredOption('--customer <id>', 'the ARBridge customer id, or the accounting system\'s customer id')
    .requiredOption('--reason <text>', 'why the steps are held')
    .requiredOption('--until <date>', 'last day of the exception, YYYY-MM-DD', date('--until'))
    .option('--actions <list>', `only these steps, comma-separated: ${ESCALATION_ACTIONS.join(', ')} (default all)`)
    .action((flags: { customer: string; reason: string; until: string; actions?: string }) => {
      const actions = flags.actions === undefined ? null : flags.actions.split(',').map((a) => a.trim()).filter((a) => a !== '');
      const unknown = (actions ?? []).filter((a) => !(ESCALATION_ACTIONS as readonly string[]).includes(a));
      if (unknown.length > 0 || actions?.length === 0) {
        throw new UsageError(`--actions takes ${ESCALATION_ACTIONS.join(', ')} (got "${flags.actions ?? ''}")`);
      }
      if (flags.reason.trim() === '' || flags.reason.length > 500) throw new UsageError('--reason must say why (1 to 500 characters)');
      return deps.withStore(async (store, portalId) => {
        const customerId = await customerOf(store, portalId, flags.customer);
        const added = await store.db.transaction().execute((trx) => addEscalationException(trx, portalId, {
          customerId, reason: flags.reason, until: flags.until, actions: actions as EscalationAction[] | null, by: deps.who,
        }, deps.today())).catch(refused);
        io.stdout.write(`escalation exception ${added.id}: customer ${customerId} held until ${flags.until} (${actions === null ? 'all steps' : actions.join(', ')})\n`);
      });
    });
};
