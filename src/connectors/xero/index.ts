import { z } from 'zod';
import { SourceError, type AccountingConnector, type ChangePage, type SourceCustomer, type SourcePayment } from '../types';
import { createXeroLists, type ListRequest, type XeroLists } from './client';
import {
  isReceivable, isReceivableCreditNote, isReceivableOverpayment, isReceivablePayment, isReceivablePrepayment, mapContact,
  mapCreditNote, mapInvoice, mapOverpayment, mapPayment, mapPrepayment, XeroMappingError, xeroInstant,
} from './mapping';

export { verifyXeroWebhook, xeroSignature } from './webhook';

// Xero as an accounting source. A pull reads one page of one phase per call: contacts (customers), sales invoices,
// payments, credit notes, overpayments, prepayments, in that order, so that whatever a page names is in the store
// when the page is applied. Every list is ordered by UpdatedDateUTC and read with If-Modified-Since.
//
// The cursor keeps, per phase, the latest UpdatedDateUTC applied (its frontier) and, while a pull runs, where the
// phase is: If-Modified-Since and a page number. After a full page the next request asks again from the page's
// latest UpdatedDateUTC less an overlap (page 1), so objects that change while a phase is read move behind the
// position rather than shifting unread ones out of reach; when that would not pass the page's first object (the
// page lies within the overlap), the next page number is read instead. Objects seen twice are applied twice, which
// changes nothing. The next pull of a phase starts from its frontier less the overlap.
//
// Settlements name invoices: a payment of an invoice created after the invoice phase was read would lose its
// allocation (the store skips allocations to invoices it does not have). The frontier of the settlement phases
// therefore never passes the invoices' frontier, so such payments are read again by the next pull, after their
// invoice. (Xero changes an invoice's UpdatedDateUTC when it is paid or credited, so the two stay close.)
//
// A contact becomes a customer (IsCustomer) with its first sales invoice, possibly without a change of its own
// UpdatedDateUTC: an incremental pull would not list it. Invoices that changed after the contacts were listed in
// this pull (every invoice of an incremental pull) bring their contacts along, read by id.
//
// Rate limits (per organisation 60 calls a minute, 5 at a time, 5000 a day): a pull makes one call at a time,
// and a 429 becomes a retryable SourceError carrying Retry-After, for the engine to wait before pulling again.

export const XERO_PHASES = ['contacts', 'invoices', 'payments', 'creditNotes', 'overpayments', 'prepayments'] as const;
export type XeroPhase = (typeof XERO_PHASES)[number];

const SETTLEMENT_PHASES: readonly XeroPhase[] = ['payments', 'creditNotes', 'overpayments', 'prepayments'];

const Epoch = z.number().int().nullable();

const XeroCursor = z.object({
  v: z.literal(1),
  /** Per phase, the latest UpdatedDateUTC applied (epoch ms), or null before its first full read. */
  frontier: z.object(Object.fromEntries(XERO_PHASES.map((p) => [p, Epoch])) as Record<XeroPhase, typeof Epoch>),
  /** The pull under way, or null between pulls. */
  run: z.object({
    phase: z.enum(XERO_PHASES),
    since: Epoch,
    page: z.number().int().min(1),
    /** When the pull started (epoch ms, this process's clock). */
    startedAt: z.number().int(),
    /** Whether its contacts were listed in full (no frontier yet). */
    full: z.boolean(),
  }).nullable(),
});
export type XeroCursorState = z.infer<typeof XeroCursor>;

export type XeroConnectorOptions = {
  /** Xero's API host (config.accounting.xero.apiUrl, XERO_API_URL); the Accounting API is under /api.xro/2.0. */
  apiUrl: string;
  /** The organisation (xero-tenant-id) the connection chose; null is refused (a connection without one). */
  tenantId: string | null;
  /** A valid access token (the engine refreshes and persists rotated tokens before handing one out). */
  credentials: () => Promise<string>;
  /** Objects per page (Xero's default 100). */
  pageSize?: number;
  /** How far before a frontier a pull starts again, for clock skew and late commits (default 5 s). */
  overlapMs?: number;
  /** Longest wait for one answer (default 30 s). */
  timeoutMs?: number;
  /** The clock (tests). */
  now?: () => number;
};

const Options = z.object({
  apiUrl: z.string().url(),
  tenantId: z.string({ error: 'must be the Xero organisation (tenant id) of the connection' }).min(1, 'must not be empty'),
  credentials: z.custom<() => Promise<string>>((value) => typeof value === 'function', 'must be a function returning an access token'),
  pageSize: z.number().int().min(1).max(1000).default(100),
  overlapMs: z.number().int().min(0).max(86_400_000).default(5_000),
  timeoutMs: z.number().int().min(1).default(30_000),
  now: z.custom<() => number>((value) => typeof value === 'function', 'must be a function').optional(),
});

const EMPTY_FRONTIER = Object.fromEntries(XERO_PHASES.map((p) => [p, null])) as Record<XeroPhase, number | null>;

const parseCursor = (cursor: string | null): XeroCursorState => {
  if (cursor === null) return { v: 1, frontier: { ...EMPTY_FRONTIER }, run: null };
  let json: unknown;
  try {
    json = JSON.parse(cursor);
  } catch {
    throw new SourceError('xero', 'The stored cursor is not a Xero cursor (not JSON)', false);
  }
  const parsed = XeroCursor.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SourceError('xero', `The stored cursor is not a Xero cursor: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'}`, false);
  }
  return parsed.data;
};

type Listed = { updated: (number | null)[]; customers: SourceCustomer[]; invoices: ChangePage['invoices']; payments: SourcePayment[] };

const updatedOf = (value: unknown): number | null => xeroInstant(value)?.getTime() ?? null;

const maxOf = (values: readonly (number | null)[]): number | null =>
  values.reduce<number | null>((max, v) => (v !== null && (max === null || v > max) ? v : max), null);
const minOf = (values: readonly (number | null)[]): number | null =>
  values.reduce<number | null>((min, v) => (v !== null && (min === null || v < min) ? v : min), null);

/** The connector of one Xero organisation. */
export const createXeroConnector = (options: XeroConnectorOptions): AccountingConnector => {
  const parsed = Options.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`createXeroConnector: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid options'}`);
  }
  const settings = parsed.data;
  const now = settings.now ?? Date.now;
  const overlap = settings.overlapMs;
  const lists: XeroLists = createXeroLists({
    basePath: `${settings.apiUrl.replace(/\/+$/, '')}/api.xro/2.0`,
    tenantId: settings.tenantId,
    credentials: settings.credentials,
    timeoutMs: settings.timeoutMs,
  });

  const mapped = <T>(run: () => T): T => {
    try {
      return run();
    } catch (error) {
      if (error instanceof XeroMappingError) throw new SourceError('xero', `Xero sent an object that cannot be read: ${error.message}`, false, null, { cause: error });
      throw error;
    }
  };

  const list = async (phase: XeroPhase, request: ListRequest, run: NonNullable<XeroCursorState['run']>): Promise<Listed> => {
    const none = { customers: [], invoices: [], payments: [] };
    switch (phase) {
      case 'contacts': {
        const contacts = await lists.contacts(request);
        return { ...none, updated: contacts.map((c) => updatedOf(c.updatedDateUTC)), customers: mapped(() => contacts.map(mapContact)) };
      }
      case 'invoices': {
        const all = await lists.invoices(request);
        const invoices = mapped(() => all.filter(isReceivable).map(mapInvoice)).filter((i) => i.status !== 'draft');
        // Contacts the contacts phase may not have listed (see above).
        const threshold = run.full ? run.startedAt - overlap : Number.NEGATIVE_INFINITY;
        const wanted = [...new Set(invoices
          .filter((i) => i.status !== 'deleted' && (i.updatedAt === null || Date.parse(i.updatedAt) >= threshold))
          .map((i) => i.customerId))];
        const found = await lists.contactsById(wanted);
        const customers = mapped(() => found.map(mapContact));
        return { ...none, updated: all.map((i) => updatedOf(i.updatedDateUTC)), customers, invoices };
      }
      case 'payments': {
        const all = await lists.payments(request);
        return { ...none, updated: all.map((p) => updatedOf(p.updatedDateUTC)), payments: mapped(() => all.filter(isReceivablePayment).map(mapPayment)) };
      }
      case 'creditNotes': {
        const all = await lists.creditNotes(request);
        return { ...none, updated: all.map((c) => updatedOf(c.updatedDateUTC)), payments: mapped(() => all.filter(isReceivableCreditNote).map(mapCreditNote)) };
      }
      case 'overpayments': {
        const all = await lists.overpayments(request);
        return { ...none, updated: all.map((o) => updatedOf(o.updatedDateUTC)), payments: mapped(() => all.filter(isReceivableOverpayment).map(mapOverpayment)) };
      }
      case 'prepayments': {
        const all = await lists.prepayments(request);
        return { ...none, updated: all.map((p) => updatedOf(p.updatedDateUTC)), payments: mapped(() => all.filter(isReceivablePrepayment).map(mapPrepayment)) };
      }
    }
  };

  return {
    source: 'xero',
    async pull(cursor) {
      const state = parseCursor(cursor);
      const frontier = { ...state.frontier };
      const sinceOf = (phase: XeroPhase): number | null => {
        const at = frontier[phase];
        return at === null ? null : Math.max(0, at - overlap);
      };
      const run = state.run ?? {
        phase: 'contacts' as const, since: sinceOf('contacts'), page: 1, startedAt: now(), full: frontier.contacts === null,
      };
      const request: ListRequest = { since: run.since === null ? null : new Date(run.since), page: run.page, pageSize: settings.pageSize };
      const listed = await list(run.phase, request, run);

      const latest = maxOf(listed.updated);
      if (latest !== null) {
        const capped = SETTLEMENT_PHASES.includes(run.phase) ? Math.min(latest, frontier.invoices ?? Number.NEGATIVE_INFINITY) : latest;
        if (Number.isFinite(capped) && (frontier[run.phase] === null || capped > (frontier[run.phase] as number))) frontier[run.phase] = capped;
      }

      let next: XeroCursorState['run'];
      if (listed.updated.length >= settings.pageSize) {
        // Asking again from a later If-Modified-Since pays only when it passes the start of this page: otherwise it
        // would read this page (and those before it) again.
        const rebase = latest === null ? null : latest - overlap;
        const earliest = minOf(listed.updated);
        next = rebase !== null && earliest !== null && rebase > earliest && (run.since === null || rebase > run.since)
          ? { ...run, since: rebase, page: 1 }
          : { ...run, page: run.page + 1 };
      } else {
        const following = XERO_PHASES[XERO_PHASES.indexOf(run.phase) + 1];
        next = following === undefined ? null : { ...run, phase: following, since: sinceOf(following), page: 1 };
      }
      const nextState: XeroCursorState = { v: 1, frontier, run: next };
      return {
        customers: listed.customers,
        invoices: listed.invoices,
        payments: listed.payments,
        cursor: JSON.stringify(nextState),
        done: next === null,
      };
    },
  };
};
