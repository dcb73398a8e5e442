import type { Client } from '@hubspot/api-client';
import { sql } from 'kysely';
import { formatMinor } from '../domain/money';
import type { Logger } from '../logger';
import type { Executor } from '../store/facts';
import type { CommunicationKind } from '../store/schema';
import type { HubSpotCaller } from './caller';
import { classifyHubSpotError, hubspotErrorStatus } from './http-retry';

// The communication log mirrored to the HubSpot timeline: every entry of a customer linked to a company
// becomes one note associated to the company (and to the deal the entry names). Exactly once: the intent is
// committed before the create call, and an entry with an intent but no note id is first looked up by its
// marker among the company's notes (associations are read-your-writes, unlike search) before another create.

/** HubSpot-defined association types (v4): note → company 190, note → deal 214. */
const NOTE_TO_COMPANY = 190;
const NOTE_TO_DEAL = 214;
const KIND_LABELS: Record<CommunicationKind, string> = {
  note: 'Note', call: 'Call', email: 'Email', promise: 'Promise to pay', dispute: 'Dispute',
  help_request: 'Help request', escalation: 'Escalation', terms_ack: 'Terms acknowledged',
};

/** The marker a note carries in its body: which portal's which log entry it mirrors. */
export const noteMarker = (portalId: number, entryId: number): string => `arbridge-log-${portalId}-${entryId}`;

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

type Pending = {
  id: number; kind: CommunicationKind; occurred_on: string; summary: string; author: string | null; promise_date: string | null;
  amount_minor: number | null; currency: string | null; status: string | null; deal_id: string | null; company_id: string;
  intent: boolean;
};

/** The note's body: the kind, what happened, the money and dates, who logged it, and the marker. */
export const noteBody = (portalId: number, entry: Pending): string => {
  const parts = [`<strong>${KIND_LABELS[entry.kind]}</strong>: ${escapeHtml(entry.summary)}`];
  if (entry.amount_minor !== null && entry.currency !== null) parts.push(`${formatMinor(Number(entry.amount_minor), entry.currency)} ${entry.currency}`);
  if (entry.promise_date !== null) parts.push(`by ${entry.promise_date}`);
  if (entry.status !== null) parts.push(`(${escapeHtml(entry.status)})`);
  const by = entry.author === null ? '' : ` by ${escapeHtml(entry.author)}`;
  return `<p>${parts.join(' · ')}</p><p>Logged in ARBridge${by}. [${noteMarker(portalId, entry.id)}]</p>`;
};

/** A create whose outcome is unknown (5xx or network: HubSpot may have made the note). Never retried blindly. */
class OutcomeUnknown extends Error {}

export type NotesReport = { created: number; found: number; failed: number; remaining: number };

/**
 * Mirrors up to `limit` unmirrored log entries of the portal (oldest first) whose customer is linked to a
 * company. Per entry: with an intent from an earlier attempt, the company's notes are searched for the
 * marker first (found: its id is recorded, nothing is created); else the intent is committed, the note is
 * created (429s are waited out by the caller; a 5xx or network failure is an unknown outcome, looked up again
 * before one more create) and its id recorded. A failed entry stays for the next round.
 */
export const mirrorLogNotes = async (options: {
  db: Executor; portalId: number; client: (renew?: boolean) => Promise<Client>; caller: HubSpotCaller; logger?: Logger; limit?: number;
}): Promise<NotesReport> => {
  const { db, portalId, caller } = options;
  const rows = await sql<Pending>`
    SELECT l.id, l.kind, l.occurred_on::text AS occurred_on, l.summary, l.author, l.promise_date::text AS promise_date,
      l.amount_minor, l.currency, l.status, l.deal_id, k.company_id, (l.hubspot_note_intent_at IS NOT NULL) AS intent
    FROM communication_log l
      JOIN company_links k ON k.portal_id = l.portal_id AND k.customer_id = l.customer_id
    WHERE l.portal_id = ${portalId} AND l.hubspot_note_id IS NULL
      AND k.method <> 'manual_unlink' AND k.company_id IS NOT NULL
    ORDER BY l.id
    LIMIT ${options.limit ?? 100}`.execute(db);
  const report: NotesReport = { created: 0, found: 0, failed: 0, remaining: 0 };
  let client = await options.client();

  const record = async (entryId: number, noteId: string): Promise<void> => {
    await db.updateTable('communication_log').set({ hubspot_note_id: noteId })
      .where('portal_id', '=', portalId).where('id', '=', entryId).where('hubspot_note_id', 'is', null).execute();
  };

  /** The id of the company's note carrying the entry's marker, if HubSpot has one. */
  const lookUp = async (entry: Pending): Promise<string | null> => {
    const marker = noteMarker(portalId, entry.id);
    let after: string | undefined;
    do {
      const page = await caller.call(() => client.crm.associations.v4.basicApi.getPage('companies', entry.company_id, 'notes', after, 500));
      const ids = page.results.map((r) => String(r.toObjectId));
      for (let i = 0; i < ids.length; i += 100) {
        const batch = await caller.call(() => client.crm.objects.notes.batchApi.read({
          inputs: ids.slice(i, i + 100).map((id) => ({ id })), properties: ['hs_note_body'], propertiesWithHistory: [],
        }));
        const hit = batch.results.find((note) => (note.properties.hs_note_body ?? '').includes(`[${marker}]`));
        if (hit) return hit.id;
      }
      after = page.paging?.next?.after;
    } while (after !== undefined);
    return null;
  };

  const create = (entry: Pending): Promise<string> => caller.call(async () => {
    const associations = [{ to: { id: entry.company_id }, types: [{ associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId: NOTE_TO_COMPANY }] }];
    if (entry.deal_id !== null) {
      associations.push({ to: { id: entry.deal_id }, types: [{ associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId: NOTE_TO_DEAL }] });
    }
    try {
      const note = await client.crm.objects.notes.basicApi.create({
        properties: { hs_note_body: noteBody(portalId, entry), hs_timestamp: `${entry.occurred_on}T12:00:00.000Z` },
        associations,
      });
      return note.id;
    } catch (error) {
      const decision = classifyHubSpotError(error);
      if (decision.retry && decision.reason !== '429') throw new OutcomeUnknown(error instanceof Error ? error.message : String(error));
      throw error;
    }
  });

  for (const entry of rows.rows) {
    let intent = entry.intent;
    let renewed = false;
    let done = false;
    for (let attempt = 0; attempt < 3 && !done; attempt++) {
      try {
        if (intent) {
          const found = await lookUp(entry);
          if (found !== null) {
            await record(entry.id, found);
            report.found++;
            done = true;
            break;
          }
        } else {
          await db.updateTable('communication_log').set({ hubspot_note_intent_at: new Date() })
            .where('portal_id', '=', portalId).where('id', '=', entry.id).execute();
          intent = true;
        }
        await record(entry.id, await create(entry));
        report.created++;
        done = true;
      } catch (error) {
        if (error instanceof OutcomeUnknown) continue;
        if (hubspotErrorStatus(error) === 401 && !renewed) {
          renewed = true;
          client = await options.client(true);
          continue;
        }
        options.logger?.warn({ portalId, entryId: entry.id, error: error instanceof Error ? error.message.split('\n')[0] : String(error) },
          'HubSpot note not written');
        break;
      }
    }
    if (!done) report.failed++;
  }
  report.remaining = report.failed;
  return report;
};
