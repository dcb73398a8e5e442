import { z } from 'zod';
import { SourceError, type AccountingConnector, type ChangePage } from '../types';
import { createQuickBooksClient, QuickBooksFault, type QuickBooksClient, type QuickBooksClientOptions } from './client';
import {
  homeCurrencyOf, mapCustomer, mapDeletedCustomer, mapDeletedInvoice, mapDeletedPayment, mapInvoice, mapPayment,
  QuickBooksMappingError, RawCustomer, RawDeleted, RawInvoice, RawPayment, RawPreferences,
} from './mapping';

// Pulls QuickBooks Online into the canonical model.
//
// Full pull: query paging (STARTPOSITION / MAXRESULTS, ordered by Id) in phases Customer → Invoice → Payment, so
// every page's references resolve when it is applied. The server `time` of the first answer is kept: when the
// last phase ends, Change Data Capture continues from it, so whatever changed during the pull is read again.
// Between two pages rows may shift (an invoice deleted meanwhile moves every later one up a position): each page
// starts one row early, on the last row already read; when that row is no longer there, the pull steps back one
// page and reads it again (applying a row twice changes nothing), which covers fewer deletions than a page holds.
//
// Incremental: Change Data Capture (`/cdc?entities=Customer,Invoice,Payment&changedSince=…`) from the kept
// server time; its answer's `time` is the next cursor. CDC looks back 30 days at most: an older cursor starts a
// full pull. CDC returns at most 1000 objects per entity, and more are not paged: when an answer reaches the cap
// (per entity, or in total, whichever Intuit means), its deletions are applied and the window is read again with
// query paging, `WHERE MetaData.LastUpdatedTime >= '<since>'`, before CDC resumes from the capped answer's time.
// Queries do not return deleted objects, so deletions beyond the cap in such a window are only repaired by a
// later full pull.
//
// CreditMemo and RefundReceipt are not read: a credit memo settles an invoice only through a Payment whose lines
// link both (mapping.ts), and a refund receipt pays money back without touching any invoice's balance.

export const ENTITIES = ['Customer', 'Invoice', 'Payment'] as const;
type Entity = (typeof ENTITIES)[number];

/** QuickBooks' largest MAXRESULTS. */
export const MAX_PAGE_SIZE = 1000;
/** Change Data Capture's look-back, less an hour for the difference between our clock and Intuit's. */
export const CDC_LOOKBACK_MS = 30 * 86_400_000 - 3_600_000;
/** Most objects of one entity in one Change Data Capture answer. */
export const CDC_LIMIT = 1000;

const Timestamp = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/, 'an ISO timestamp');
const Phase = z.enum(ENTITIES);
const Paging = { phase: Phase, position: z.number().int().min(1), lastId: z.string().min(1).nullable() };
const Cursor = z.discriminatedUnion('mode', [
  /** A full pull; `since` is the server time of its first answer (null before it). */
  z.object({ v: z.literal(1), mode: z.literal('full'), ...Paging, since: Timestamp.nullable() }),
  /** Query paging of what changed since `since`, after a capped CDC answer; CDC resumes from `until`. */
  z.object({ v: z.literal(1), mode: z.literal('window'), ...Paging, since: Timestamp, until: Timestamp }),
  z.object({ v: z.literal(1), mode: z.literal('cdc'), since: Timestamp }),
]);
type Cursor = z.infer<typeof Cursor>;
type PagingCursor = Extract<Cursor, { mode: 'full' | 'window' }>;

const START: PagingCursor = { v: 1, mode: 'full', phase: 'Customer', position: 1, lastId: null, since: null };

export type QuickBooksConnectorOptions = QuickBooksClientOptions & {
  /** MAXRESULTS of each query page (≤ 1000). */
  pageSize?: number;
  /** The company's home currency, for objects without a CurrencyRef; read from Preferences when not given. */
  homeCurrency?: string;
  /** The clock that ages a cursor against CDC's 30-day look-back. */
  now?: () => Date;
  /** Objects per entity at which a CDC answer counts as capped (Intuit: 1000). */
  cdcLimit?: number;
};

const Options = z.object({
  pageSize: z.number().int().min(2).max(MAX_PAGE_SIZE).default(MAX_PAGE_SIZE),
  homeCurrency: z.string().regex(/^[A-Za-z]{3}$/, 'homeCurrency must be an ISO 4217 code').optional(),
  cdcLimit: z.number().int().min(1).default(CDC_LIMIT),
});

const parseCursor = (text: string): Cursor => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const cursor = Cursor.safeParse(value);
  if (!cursor.success) throw new SourceError('quickbooks', `The QuickBooks sync cursor is not one this connector wrote: ${text.slice(0, 200)}`, false);
  return cursor.data;
};

const idOf = (row: unknown): string | null => {
  const id = (row as { Id?: unknown } | null)?.Id;
  return typeof id === 'string' ? id : null;
};

// The connector's window queries compare to the second: QuickBooks' LastUpdatedTime has no fraction.
const toSecond = (time: string): string => time.replace(/\.\d+(?=Z|[+-]\d{2}:\d{2}$)/, '');

const isDeleted = (row: unknown): boolean => (row as { status?: unknown } | null)?.status === 'Deleted';

const emptyPage = (cursor: Cursor, done: boolean): ChangePage => ({ customers: [], invoices: [], payments: [], cursor: JSON.stringify(cursor), done });

export const createQuickBooksConnector = (options: QuickBooksConnectorOptions): AccountingConnector => {
  const parsed = Options.safeParse(options);
  if (!parsed.success) throw new Error(`QuickBooks connector options: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const { pageSize, cdcLimit } = parsed.data;
  const client: QuickBooksClient = createQuickBooksClient(options);
  const now = options.now ?? (() => new Date());
  let homeCurrency: string | null = parsed.data.homeCurrency?.toUpperCase() ?? null;

  const parseRow = <T>(schema: z.ZodType<T>, row: unknown, entity: Entity): T => {
    const result = schema.safeParse(row);
    if (result.success) return result.data;
    const issue = result.error.issues[0];
    throw new SourceError('quickbooks', `QuickBooks ${entity} ${idOf(row) ?? '(no Id)'} cannot be read: ${issue ? `${issue.path.join('.') || 'object'}: ${issue.message}` : 'invalid'}`, false);
  };

  // The home currency is read once, and only when an object has no CurrencyRef.
  const ensureHomeCurrency = async (rows: readonly unknown[]): Promise<void> => {
    if (homeCurrency !== null || rows.every((row) => isDeleted(row) || (row as { CurrencyRef?: unknown } | null)?.CurrencyRef !== undefined)) return;
    const preferences = RawPreferences.safeParse(await client.preferences());
    homeCurrency = preferences.success ? homeCurrencyOf(preferences.data) : null;
  };

  /** Adds the rows of one entity to the page (deleted ones, as CDC reports them, too). */
  const addRows = async (page: ChangePage, entity: Entity, rows: readonly unknown[]): Promise<void> => {
    if (entity !== 'Customer') await ensureHomeCurrency(rows);
    try {
      for (const row of rows) {
        const deleted = isDeleted(row) ? parseRow(RawDeleted, row, entity) : null;
        if (entity === 'Customer') page.customers.push(deleted ? mapDeletedCustomer(deleted) : mapCustomer(parseRow(RawCustomer, row, entity)));
        else if (entity === 'Invoice') page.invoices.push(deleted ? mapDeletedInvoice(deleted) : mapInvoice(parseRow(RawInvoice, row, entity), homeCurrency));
        else page.payments.push(...(deleted ? mapDeletedPayment(deleted) : mapPayment(parseRow(RawPayment, row, entity), homeCurrency)));
      }
    } catch (error) {
      if (error instanceof QuickBooksMappingError) throw new SourceError('quickbooks', error.message, false, null, { cause: error });
      throw error;
    }
  };

  /** One page of query paging; see the overlap rule at the top. */
  const readPage = async (cursor: PagingCursor): Promise<{ rows: unknown[]; time: string | null; position: number; lastId: string | null; finished: boolean }> => {
    const { phase, position, lastId } = cursor;
    const conditions = [
      ...(phase === 'Customer' ? ['Active IN (true, false)'] : []), // inactive customers are left out otherwise
      ...(cursor.mode === 'window' ? [`MetaData.LastUpdatedTime >= '${toSecond(cursor.since)}'`] : []),
    ];
    const statement = (start: number): string =>
      `SELECT * FROM ${phase}${conditions.length ? ` WHERE ${conditions.join(' AND ')}` : ''} ORDERBY ${cursor.mode === 'window' ? 'MetaData.LastUpdatedTime' : 'Id'} STARTPOSITION ${start} MAXRESULTS ${pageSize}`;
    const overlap = lastId !== null && position > 1;
    let answer = await client.query(phase, statement(overlap ? position - 1 : position));
    let start = overlap ? position - 1 : position;
    let rows = answer.rows;
    if (overlap) {
      if (idOf(rows[0]) === lastId) {
        rows = rows.slice(1);
        start = position;
      } else {
        start = Math.max(1, position - pageSize);
        answer = await client.query(phase, statement(start));
        rows = answer.rows;
      }
    }
    return {
      rows,
      time: answer.time,
      position: start + rows.length,
      lastId: idOf(rows.at(-1)) ?? lastId,
      finished: answer.rows.length < pageSize,
    };
  };

  const pagingPull = async (cursor: PagingCursor): Promise<ChangePage> => {
    const read = await readPage(cursor);
    const since = cursor.since ?? read.time ?? now().toISOString();
    const next: Cursor = (() => {
      if (!read.finished) return { ...cursor, since, position: read.position, lastId: read.lastId };
      const phase = ENTITIES[ENTITIES.indexOf(cursor.phase) + 1];
      if (phase) return { ...cursor, since, phase, position: 1, lastId: null };
      return { v: 1, mode: 'cdc', since: cursor.mode === 'window' ? cursor.until : since };
    })();
    const page = emptyPage(next, next.mode === 'cdc');
    await addRows(page, cursor.phase, read.rows);
    return page;
  };

  const changeDataCapture = async (cursor: Extract<Cursor, { mode: 'cdc' }>): Promise<ChangePage> => {
    if (now().getTime() - Date.parse(cursor.since) > CDC_LOOKBACK_MS) return pagingPull(START);
    let answer;
    try {
      answer = await client.cdc(ENTITIES, cursor.since);
    } catch (error) {
      // Intuit's clock may find the cursor past the look-back where ours did not.
      const tooOld = error instanceof QuickBooksFault && error.status === 400
        && error.faults.some((f) => /changedSince|30 days/i.test(`${f.message} ${f.detail ?? ''}`));
      if (tooOld) return pagingPull(START);
      throw error;
    }
    const time = answer.time ?? now().toISOString();
    const counts = ENTITIES.map((entity) => answer.entities.get(entity)?.length ?? 0);
    const capped = counts.some((n) => n >= cdcLimit) || counts.reduce((a, b) => a + b, 0) >= cdcLimit;
    const next: Cursor = capped
      ? { v: 1, mode: 'window', phase: 'Customer', position: 1, lastId: null, since: cursor.since, until: time }
      : { v: 1, mode: 'cdc', since: time };
    const page = emptyPage(next, !capped);
    for (const entity of ENTITIES) {
      const rows = answer.entities.get(entity) ?? [];
      await addRows(page, entity, capped ? rows.filter(isDeleted) : rows);
    }
    return page;
  };

  return {
    source: 'quickbooks',
    async pull(cursorText) {
      const cursor = cursorText === null ? START : parseCursor(cursorText);
      return cursor.mode === 'cdc' ? changeDataCapture(cursor) : pagingPull(cursor);
    },
  };
};
