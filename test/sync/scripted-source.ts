import {
  SourceError, type AccountingConnector, type AccountingSourceName, type ChangePage, type SourceCustomer, type SourceInvoice, type SourcePayment,
} from '../../src/connectors/types';
import { createRng } from '../../src/demo/generate';

/**
 * A test double of an accounting system at the connector boundary: objects kept in memory with a version
 * number that grows with every change, read by `pull` in phases (customers → invoices → payments) with keyset
 * paging on (version, id), as the real connectors read theirs. A pass covers the changes up to the version
 * current when it began; what changes meanwhile is read by the next pass. Faults can be queued per pull.
 */

type Kind = 'customers' | 'invoices' | 'payments';
const PHASES: readonly Kind[] = ['customers', 'invoices', 'payments'];

type Versioned<T> = { value: T; version: number };

type Cursor = { since: number; upTo: number; phase: Kind; after: [number, string] | null };

export type PullFault = SourceError | Error | ((cursor: string | null) => void);

export class ScriptedSource {
  private version = 0;
  readonly customers = new Map<string, Versioned<SourceCustomer>>();
  readonly invoices = new Map<string, Versioned<SourceInvoice>>();
  readonly payments = new Map<string, Versioned<SourcePayment>>();
  /** Faults thrown by the next pulls, in order. */
  readonly faults: PullFault[] = [];
  /** Every cursor pulled, in order. */
  readonly pulls: (string | null)[] = [];

  constructor(readonly source: AccountingSourceName = 'xero', readonly pageSize = 50) {}

  putCustomer(value: SourceCustomer): void {
    this.customers.set(value.id, { value, version: ++this.version });
  }

  putInvoice(value: SourceInvoice): void {
    this.invoices.set(value.id, { value, version: ++this.version });
  }

  putPayment(value: SourcePayment): void {
    this.payments.set(value.id, { value, version: ++this.version });
  }

  private list<T extends { id: string }>(kind: Kind): { value: T; version: number }[] {
    return [...(this[kind] as unknown as Map<string, Versioned<T>>).values()]
      .sort((a, b) => a.version - b.version || (a.value.id < b.value.id ? -1 : 1));
  }

  pull(cursorText: string | null): ChangePage {
    this.pulls.push(cursorText);
    const fault = this.faults.shift();
    if (fault instanceof Error) throw fault;
    if (fault) fault(cursorText);
    let cursor: Cursor = cursorText === null
      ? { since: 0, upTo: this.version, phase: 'customers', after: null }
      : JSON.parse(cursorText) as Cursor;
    // A cursor at the end of a pass starts the next one from where it ended.
    if (cursor.phase === 'customers' && cursor.after === null) cursor = { ...cursor, upTo: this.version };
    const page: ChangePage = { customers: [], invoices: [], payments: [], cursor: '', done: false };
    for (;;) {
      const after = cursor.after;
      const items = this.list<{ id: string }>(cursor.phase)
        .filter((item) => item.version > cursor.since && item.version <= cursor.upTo)
        .filter((item) => after === null || item.version > after[0] || (item.version === after[0] && item.value.id > after[1]));
      const taken = items.slice(0, this.pageSize);
      (page[cursor.phase] as { id: string }[]).push(...taken.map((item) => structuredClone(item.value)));
      const last = taken[taken.length - 1];
      if (items.length > this.pageSize && last) {
        page.cursor = JSON.stringify({ ...cursor, after: [last.version, last.value.id] });
        return page;
      }
      const next = PHASES[PHASES.indexOf(cursor.phase) + 1];
      if (next === undefined) {
        page.cursor = JSON.stringify({ since: cursor.upTo, upTo: cursor.upTo, phase: 'customers', after: null } satisfies Cursor);
        page.done = true;
        return page;
      }
      cursor = { ...cursor, phase: next, after: null };
      if (taken.length > 0) {
        page.cursor = JSON.stringify(cursor);
        return page;
      }
    }
  }

  connector(): AccountingConnector {
    return { source: this.source, pull: async (cursor) => this.pull(cursor) };
  }

  /** What the store should hold per customer: invoices kept, their totals, and what was applied to them. */
  expected(): Map<string, { invoices: number; totalMinor: number; appliedMinor: number }> {
    const out = new Map<string, { invoices: number; totalMinor: number; appliedMinor: number }>();
    const stored = new Map<string, SourceInvoice>();
    for (const { value } of this.invoices.values()) {
      if (value.status === 'draft' || value.status === 'deleted') continue;
      stored.set(value.id, value);
      const entry = out.get(value.customerId) ?? { invoices: 0, totalMinor: 0, appliedMinor: 0 };
      entry.invoices += 1;
      entry.totalMinor += value.totalMinor;
      out.set(value.customerId, entry);
    }
    for (const { value } of this.payments.values()) {
      if (value.removed) continue;
      for (const a of value.allocations) {
        const invoice = stored.get(a.invoiceId);
        if (!invoice) continue;
        const entry = out.get(invoice.customerId);
        if (entry) entry.appliedMinor += a.amountMinor;
      }
    }
    return out;
  }

  /** Payments the store should hold. */
  expectedPayments(): number {
    return [...this.payments.values()].filter((p) => !p.value.removed).length;
  }
}

export const customer = (id: string, fields: Partial<SourceCustomer> = {}): SourceCustomer => ({
  id, name: `Customer ${id}`, email: `${id.toLowerCase()}@example.com`, domain: `${id.toLowerCase()}.example.com`, country: 'NZ',
  currency: 'NZD', archived: false, creditLimitMinor: null, creditLimitCurrency: null, updatedAt: '2026-10-01T10:00:00.000Z', ...fields,
});

export const invoice = (id: string, customerId: string, totalMinor: number, fields: Partial<SourceInvoice> = {}): SourceInvoice => ({
  id, number: `INV-${id}`, customerId, currency: 'NZD', totalMinor, issueDate: '2026-09-01', dueDate: '2026-10-01',
  status: 'open', sourceStatus: 'AUTHORISED', voidedDate: null, disputed: false, terms: 'Net 30', reference: null,
  lines: [{ productId: 'ITEM-1', description: 'Consulting', quantity: 1, amountMinor: totalMinor }],
  updatedAt: '2026-09-01T10:00:00.000Z', ...fields,
});

export const payment = (id: string, allocations: { invoiceId: string; amountMinor: number }[], fields: Partial<SourcePayment> = {}): SourcePayment => ({
  id, kind: 'payment', date: '2026-09-20', currency: 'NZD', amountMinor: allocations.reduce((s, a) => s + a.amountMinor, 0),
  allocations, removed: false, updatedAt: '2026-09-20T10:00:00.000Z', ...fields,
});

/**
 * A seeded portfolio: `invoices` invoices over invoices/20 customers, with drafts, voids, deletions, partial
 * payments, payments over two invoices, credit notes, write-offs, removed payments and allocations to invoices
 * the source has but does not send (a bill). The same seed gives the same source in every process.
 */
export const seededSource = (seed: number, invoices: number, pageSize = 500, source: AccountingSourceName = 'xero'): ScriptedSource => {
  const rng = createRng(seed);
  const s = new ScriptedSource(source, pageSize);
  const customers = Math.max(1, Math.floor(invoices / 20));
  for (let c = 0; c < customers; c += 1) s.putCustomer(customer(`C${c}`, { archived: rng.chance(0.05) }));
  const open: { id: string; totalMinor: number }[] = [];
  for (let i = 0; i < invoices; i += 1) {
    const id = `I${i}`;
    const totalMinor = rng.int(1, 5_000) * 100;
    const roll = rng.next();
    const status: SourceInvoice['status'] = roll < 0.04 ? 'draft' : roll < 0.06 ? 'deleted' : roll < 0.1 ? 'void' : 'open';
    const day = String(rng.int(1, 28)).padStart(2, '0');
    s.putInvoice(invoice(id, `C${rng.int(0, customers - 1)}`, totalMinor, {
      status, sourceStatus: status.toUpperCase(), issueDate: `2026-0${rng.int(1, 8)}-${day}`, dueDate: `2026-09-${day}`,
      voidedDate: status === 'void' ? '2026-09-15' : null,
      lines: [
        { productId: 'P1', description: 'Licence', quantity: 2, amountMinor: Math.floor(totalMinor / 2) },
        { productId: null, description: 'Support', quantity: null, amountMinor: totalMinor - Math.floor(totalMinor / 2) },
      ],
    }));
    if (status === 'open') open.push({ id, totalMinor });
  }
  let p = 0;
  for (let i = 0; i < open.length; i += 1) {
    const inv = open[i] as { id: string; totalMinor: number };
    const roll = rng.next();
    if (roll < 0.5) {
      const part = rng.chance(0.7) ? inv.totalMinor : Math.max(1, Math.floor(inv.totalMinor / 3));
      const other = open[i + 1];
      const allocations = [{ invoiceId: inv.id, amountMinor: part }];
      if (other && rng.chance(0.1)) allocations.push({ invoiceId: other.id, amountMinor: 100 });
      if (rng.chance(0.02)) allocations.push({ invoiceId: `BILL-${i}`, amountMinor: 500 });
      s.putPayment(payment(`P${p++}`, allocations, { removed: rng.chance(0.03), date: '2026-09-25' }));
    } else if (roll < 0.55) {
      s.putPayment(payment(`P${p++}`, [{ invoiceId: inv.id, amountMinor: Math.max(1, Math.floor(inv.totalMinor / 4)) }], { kind: 'credit_note' }));
    } else if (roll < 0.57) {
      s.putPayment(payment(`P${p++}`, [{ invoiceId: inv.id, amountMinor: inv.totalMinor }], { kind: 'write_off' }));
    }
  }
  return s;
};

/** A retryable fault such as a connector throws for a 429 with Retry-After. */
export const rateLimited = (source: AccountingSourceName, retryAfterMs: number): SourceError =>
  new SourceError(source, 'Rate limited (HTTP 429)', true, retryAfterMs);
