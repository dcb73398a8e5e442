import { randomUUID } from 'node:crypto';
import { currencyExponent } from '../../../src/domain/money';
import { compareValues } from './query';

// One QuickBooks Online company (realm) of the fake: its entities as the Accounting API keeps them, with the
// fields QuickBooks derives itself kept in step (an invoice's Balance and LinkedTxn, a credit memo's
// RemainingCredit, a payment's UnappliedAmt), deletions remembered for Change Data Capture, and a change event
// for every write (webhooks). Objects are kept as their JSON text: a company of 100,000 invoices stays small,
// and a page of answers is the texts joined.

export const ENTITIES = ['Customer', 'Invoice', 'Payment', 'CreditMemo', 'RefundReceipt'] as const;
export type Entity = (typeof ENTITIES)[number];

export type Ref = { value: string; name?: string };
export type QboObject = Record<string, unknown> & {
  Id: string;
  SyncToken: string;
  MetaData: { CreateTime: string; LastUpdatedTime: string };
};

type Line = Record<string, unknown> & { Amount?: number; DetailType?: string };
type PaymentLine = { Amount: number; LinkedTxn: { TxnId: string; TxnType: string }[] };

export type CustomerInput = {
  Id?: string; DisplayName: string; PrimaryEmailAddr?: { Address: string }; CurrencyRef?: Ref | string | null; Active?: boolean;
} & Record<string, unknown>;
/** An invoice, credit memo or refund receipt: TotalAmt defaults to the sum of its sales lines (plus TxnTaxDetail.TotalTax). */
export type SalesInput = {
  Id?: string; DocNumber?: string; CustomerRef: Ref | string; TxnDate: string; DueDate?: string;
  /** A code, a reference, or null for none at all (as a single-currency company may send). */
  CurrencyRef?: Ref | string | null; Line?: Line[]; TotalAmt?: number; PrivateNote?: string;
} & Record<string, unknown>;
/** A payment: lines link an Invoice (amount applied to it) or a CreditMemo (credit spent); TotalAmt defaults to the difference. */
export type PaymentInput = {
  Id?: string; CustomerRef: Ref | string; TxnDate: string; CurrencyRef?: Ref | string | null; Line?: PaymentLine[]; TotalAmt?: number;
} & Record<string, unknown>;
export type EntityInput = { Customer: CustomerInput; Invoice: SalesInput; CreditMemo: SalesInput; RefundReceipt: SalesInput; Payment: PaymentInput };

export type Operation = 'Create' | 'Update' | 'Delete' | 'Void' | 'Merge';
export type ChangeEvent = {
  realmId: string; entity: Entity; id: string; operation: Operation;
  /** The entity's LastUpdatedTime (company-local, as QuickBooks writes it). */
  lastUpdated: string;
  /** Epoch ms of the change. */
  at: number;
  /** The CloudEvents id: one per change, the same on every delivery of it. */
  eventId: string;
};

/** A stored object: its JSON text and what queries filter on without parsing it. */
export type Row = {
  id: string; text: string; updatedMs: number; active: boolean; currency: string | null; name: string | null; customer: string | null;
};
type Table = { rows: Map<string, Row>; order: Row[] };
type Tombstone = { entity: Entity; id: string; deletedMs: number; lastUpdated: string };

const CURRENCY_NAMES: Readonly<Record<string, string>> = {
  USD: 'United States Dollar', EUR: 'Euro', GBP: 'British Pound Sterling', CAD: 'Canadian Dollar', JPY: 'Japanese Yen',
  AUD: 'Australian Dollar', NZD: 'New Zealand Dollar', CHF: 'Swiss Franc', KWD: 'Kuwaiti Dinar',
};

const pad = (n: number): string => String(n).padStart(2, '0');

/** A QuickBooks timestamp in the company's zone: `2026-11-10T14:05:44-08:00` (with `.SSS` for response times). */
export const formatTime = (ms: number, offsetMinutes: number, millis = false): string => {
  const local = new Date(ms + offsetMinutes * 60_000).toISOString();
  const abs = Math.abs(offsetMinutes);
  return `${local.slice(0, millis ? 23 : 19)}${offsetMinutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
};

export class FakeDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FakeDataError';
  }
}

const toMinor = (amount: number, currency: string): number => Math.round(amount * 10 ** currencyExponent(currency));
const fromMinor = (minor: number, currency: string): number => minor / 10 ** currencyExponent(currency);
const isCredit = (line: PaymentLine): boolean => line.LinkedTxn[0]?.TxnType === 'CreditMemo';

export class Company {
  private readonly tables = new Map<Entity, Table>(ENTITIES.map((e) => [e, { rows: new Map(), order: [] }]));
  private readonly tombstones: Tombstone[] = [];
  /** Invoice or credit memo id → payment id → minor units that payment's lines apply to it. */
  private readonly applied = new Map<string, Map<string, number>>();
  private nextId = 1;
  readonly events: ChangeEvent[] = [];

  constructor(
    readonly realmId: string,
    readonly homeCurrency: string,
    readonly offsetMinutes: number,
    private readonly clock: () => number,
  ) {}

  // ---- reading ----

  /** The entity's rows in Id order. */
  table(entity: Entity): readonly Row[] {
    return (this.tables.get(entity) as Table).order;
  }

  /** A copy of the stored object. */
  get(entity: Entity, id: string): QboObject | undefined {
    const row = (this.tables.get(entity) as Table).rows.get(id);
    return row ? this.parse(row) : undefined;
  }

  /** Copies of every stored object of the entity, in Id order. */
  all(entity: Entity): QboObject[] {
    return this.table(entity).map((row) => this.parse(row));
  }

  parse(row: Row): QboObject {
    return JSON.parse(row.text) as QboObject;
  }

  deletedSince(entity: Entity, sinceMs: number): Tombstone[] {
    return this.tombstones.filter((t) => t.entity === entity && t.deletedMs >= sinceMs);
  }

  /** Whether any customer or invoice is in another currency than the home one (Preferences' MultiCurrencyEnabled). */
  multiCurrency(): boolean {
    return (['Customer', 'Invoice'] as const).some((entity) => this.table(entity).some((row) => row.currency !== null && row.currency !== this.homeCurrency));
  }

  time(ms: number, millis = false): string {
    return formatTime(ms, this.offsetMinutes, millis);
  }

  // ---- writing ----

  /** Creates an object as QuickBooks would store it and emits its event. */
  create<E extends Entity>(entity: E, input: EntityInput[E]): QboObject {
    const now = this.clock();
    const row = this.insert(entity, input, now);
    if (entity === 'Payment') {
      const object = this.parse(row);
      const applications = this.applicationsOf(object);
      try {
        this.checkApplications(object.Id, applications);
      } catch (error) {
        this.remove(entity, row);
        throw error;
      }
      this.link(object.Id, applications);
      for (const docId of applications.keys()) this.rebalance(docId, now);
    }
    this.emit(entity, row.id, 'Create', now);
    return this.parse(row);
  }

  /**
   * Adds objects as they are now, without events (customers, then invoices, credit memos and refund receipts,
   * then payments); balances are brought in step once at the end.
   */
  load(data: { [E in Entity]?: readonly EntityInput[E][] }, at: number): void {
    for (const input of data.Customer ?? []) this.insert('Customer', input, at);
    const payments = data.Payment ?? [];
    // Payments with ids are linked first, so each document is written once with its balance.
    const early = payments.every((p) => p.Id !== undefined);
    if (early) {
      for (const input of payments) {
        const customer = (this.tables.get('Customer') as Table).rows.get(typeof input.CustomerRef === 'string' ? input.CustomerRef : input.CustomerRef.value);
        const currency = (typeof input.CurrencyRef === 'string' ? input.CurrencyRef : input.CurrencyRef?.value) ?? customer?.currency ?? this.homeCurrency;
        this.link(input.Id as string, this.applicationsOf({ ...input, CurrencyRef: { value: currency.toUpperCase() } } as unknown as QboObject));
      }
    }
    for (const entity of ['Invoice', 'CreditMemo', 'RefundReceipt'] as const) {
      for (const input of data[entity] ?? []) this.insert(entity, input, at);
    }
    const documents = new Set<string>();
    for (const input of payments) {
      const row = this.insert('Payment', input, at);
      if (early) continue;
      const applications = this.applicationsOf(this.parse(row));
      this.link(row.id, applications);
      for (const docId of applications.keys()) documents.add(docId);
    }
    for (const docId of documents) this.rebalance(docId, at, { check: true, bump: false });
  }

  /** A sparse update: the given top-level fields replace the stored ones; derived fields follow. */
  update<E extends Entity>(entity: E, id: string, patch: Partial<EntityInput[E]>): QboObject {
    const row = this.row(entity, id);
    const now = this.clock();
    const before = this.parse(row);
    const merged = { ...before, ...structuredClone(patch) as Record<string, unknown>, Id: id } as QboObject;
    if (entity === 'Payment') {
      const object = this.derivePayment(merged);
      const applications = this.applicationsOf(object);
      this.checkApplications(id, applications);
      this.store(row, object, now, true);
      const previous = this.applicationsOf(before);
      this.unlink(id, previous);
      this.link(id, applications);
      for (const docId of new Set([...previous.keys(), ...applications.keys()])) this.rebalance(docId, now);
    } else {
      this.store(row, this.derive(entity, merged, before), now, true);
    }
    this.emit(entity, id, 'Update', now);
    return this.parse(row);
  }

  /** Voids an invoice the way QuickBooks does: amounts zeroed, "Voided" before the private note, payments unlinked. */
  voidInvoice(id: string): QboObject {
    const row = this.row('Invoice', id);
    const now = this.clock();
    this.detachFromPayments(id, now);
    const object = this.parse(row);
    const lines = ((object.Line as Line[] | undefined) ?? []).map((line) => {
      const detail = line.SalesItemLineDetail as Record<string, unknown> | undefined;
      return { ...line, Amount: 0, ...(detail ? { SalesItemLineDetail: { ...detail, Qty: 0, UnitPrice: 0 } } : {}) };
    });
    const note = typeof object.PrivateNote === 'string' && object.PrivateNote !== '' ? `Voided - ${object.PrivateNote}` : 'Voided';
    this.store(row, { ...object, Line: lines, TotalAmt: 0, Balance: 0, LinkedTxn: [], PrivateNote: note, TxnTaxDetail: { TotalTax: 0 } }, now, true);
    this.emit('Invoice', id, 'Void', now);
    return this.parse(row);
  }

  delete(entity: Entity, id: string): void {
    const row = this.row(entity, id);
    const now = this.clock();
    if (entity === 'Payment') {
      const applications = this.applicationsOf(this.parse(row));
      this.unlink(id, applications);
      for (const docId of applications.keys()) this.rebalance(docId, now);
    }
    if (entity === 'Invoice' || entity === 'CreditMemo') this.detachFromPayments(id, now);
    this.remove(entity, row);
    this.tombstones.push({ entity, id, deletedMs: now, lastUpdated: this.time(now) });
    this.emit(entity, id, 'Delete', now);
  }

  // ---- internals ----

  private row(entity: Entity, id: string): Row {
    const row = (this.tables.get(entity) as Table).rows.get(id);
    if (!row) throw new FakeDataError(`No ${entity} ${id} in company ${this.realmId}`);
    return row;
  }

  private insert<E extends Entity>(entity: E, input: EntityInput[E], now: number): Row {
    const id = this.takeId(input.Id);
    const table = this.tables.get(entity) as Table;
    if (table.rows.has(id)) throw new FakeDataError(`${entity} ${id} exists already`);
    const stamp = this.time(now);
    const base = {
      ...input as Record<string, unknown>,
      Id: id, SyncToken: '0', domain: 'QBO', sparse: false, MetaData: { CreateTime: stamp, LastUpdatedTime: stamp },
    } as QboObject;
    const object = entity === 'Payment' ? this.derivePayment(base) : this.derive(entity, base, null);
    const row: Row = { id, text: '', updatedMs: now, active: true, currency: null, name: null, customer: null };
    this.store(row, object, now, false);
    table.rows.set(id, row);
    this.insertOrdered(table, row);
    return row;
  }

  private remove(entity: Entity, row: Row): void {
    const table = this.tables.get(entity) as Table;
    table.rows.delete(row.id);
    table.order.splice(table.order.indexOf(row), 1);
  }

  /** Writes the object into the row; `bump` counts it as a change (SyncToken, LastUpdatedTime). */
  private store(row: Row, object: QboObject, now: number, bump: boolean): void {
    const stored = bump
      ? { ...object, SyncToken: String(Number(object.SyncToken) + 1), MetaData: { ...object.MetaData, LastUpdatedTime: this.time(now) } }
      : object;
    row.text = JSON.stringify(stored);
    row.active = stored.Active !== false;
    row.currency = (stored.CurrencyRef as Ref | undefined)?.value ?? null;
    row.name = typeof stored.DisplayName === 'string' ? stored.DisplayName : null;
    row.customer = (stored.CustomerRef as Ref | undefined)?.value ?? null;
    if (bump) row.updatedMs = now;
  }

  private takeId(given: string | undefined): string {
    if (given === undefined) return String(this.nextId++);
    if (!/^\d+$/.test(given)) throw new FakeDataError(`Id "${given}" is not a QuickBooks id (digits)`);
    this.nextId = Math.max(this.nextId, Number(given) + 1);
    return given;
  }

  private insertOrdered(table: Table, row: Row): void {
    const order = table.order;
    const last = order.at(-1);
    if (!last || compareValues(last.id, row.id) < 0) {
      order.push(row);
      return;
    }
    let low = 0;
    let high = order.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (compareValues((order[mid] as Row).id, row.id) < 0) low = mid + 1;
      else high = mid;
    }
    order.splice(low, 0, row);
  }

  private emit(entity: Entity, id: string, operation: Operation, at: number): void {
    this.events.push({ realmId: this.realmId, entity, id, operation, lastUpdated: this.time(at), at, eventId: randomUUID() });
  }

  private customerRef(value: Ref | string): Ref {
    const id = typeof value === 'string' ? value : value.value;
    const customer = (this.tables.get('Customer') as Table).rows.get(id);
    if (!customer) throw new FakeDataError(`No Customer ${id} in company ${this.realmId}`);
    return { value: id, name: customer.name ?? '' };
  }

  private currencyRef(value: Ref | string | null | undefined, fallback: string): Ref | null {
    if (value === null) return null;
    const code = (typeof value === 'string' ? value : value?.value ?? fallback).toUpperCase();
    return { value: code, name: CURRENCY_NAMES[code] ?? code };
  }

  private derive(entity: Entity, object: QboObject, before: QboObject | null): QboObject {
    if (entity === 'Customer') {
      const input = object as QboObject & CustomerInput;
      if (!input.DisplayName) throw new FakeDataError('A customer needs a DisplayName');
      const { CurrencyRef: currency, ...rest } = input;
      const ref = this.currencyRef(currency, this.homeCurrency);
      return { ...rest, Active: input.Active ?? true, ...(ref ? { CurrencyRef: ref } : {}) } as QboObject;
    }
    const input = object as QboObject & SalesInput;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(String(input.TxnDate))) throw new FakeDataError(`${entity} ${input.Id}: TxnDate must be YYYY-MM-DD`);
    const customerRef = this.customerRef(input.CustomerRef);
    const customer = this.row('Customer', customerRef.value);
    const { CurrencyRef: currencyInput, ...rest } = input;
    const currencyRef = this.currencyRef(currencyInput, customer.currency ?? this.homeCurrency);
    const currency = currencyRef?.value ?? this.homeCurrency;
    let lineNumber = 0;
    const lines = (input.Line ?? []).filter((l) => l.DetailType !== 'SubTotalLineDetail').map((line) => {
      const detail = line.SalesItemLineDetail as { Qty?: number; UnitPrice?: number } | undefined;
      const amount = line.Amount ?? (detail?.Qty !== undefined && detail.UnitPrice !== undefined ? detail.Qty * detail.UnitPrice : 0);
      lineNumber += 1;
      return { Id: String(lineNumber), LineNum: lineNumber, ...line, Amount: fromMinor(toMinor(amount, currency), currency), DetailType: line.DetailType ?? 'SalesItemLineDetail' };
    });
    let sold = 0;
    let discount = 0;
    for (const line of lines) {
      if (line.DetailType === 'SalesItemLineDetail') sold += toMinor(line.Amount, currency);
      if (line.DetailType === 'DiscountLineDetail') discount += toMinor(line.Amount, currency);
    }
    const tax = toMinor(Number((input.TxnTaxDetail as { TotalTax?: number } | undefined)?.TotalTax ?? 0), currency);
    // A new document without TotalAmt, or one whose lines changed without a new TotalAmt, totals its lines.
    const recompute = before === null ? input.TotalAmt === undefined : input.Line !== before.Line && input.TotalAmt === before.TotalAmt;
    const total = recompute ? sold - discount + tax : toMinor(Number(input.TotalAmt), currency);
    if (total < 0) throw new FakeDataError(`${entity} ${input.Id}: TotalAmt would be negative`);
    const derived: QboObject = {
      ...rest,
      CustomerRef: customerRef,
      ...(currencyRef ? { CurrencyRef: currencyRef } : {}),
      Line: [...lines, { Amount: fromMinor(sold, currency), DetailType: 'SubTotalLineDetail', SubTotalLineDetail: {} }],
      TotalAmt: fromMinor(total, currency),
    } as QboObject;
    if (entity === 'Invoice' || entity === 'CreditMemo') {
      const applied = this.appliedTo(input.Id);
      if (applied > total) throw new FakeDataError(`${entity} ${input.Id}: payments apply ${applied} but the total is ${total} (minor units)`);
      derived.Balance = fromMinor(total - applied, currency);
      if (entity === 'CreditMemo') derived.RemainingCredit = derived.Balance;
      else derived.LinkedTxn = this.linkedTxn(input.Id);
    }
    return derived;
  }

  private derivePayment(object: QboObject): QboObject {
    const input = object as QboObject & PaymentInput;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(String(input.TxnDate))) throw new FakeDataError(`Payment ${input.Id}: TxnDate must be YYYY-MM-DD`);
    const customerRef = this.customerRef(input.CustomerRef);
    const lines = (input.Line ?? []).map((line) => ({ Amount: line.Amount, LinkedTxn: line.LinkedTxn.map((t) => ({ TxnId: t.TxnId, TxnType: t.TxnType })) }));
    const docs = lines.flatMap((line) => line.LinkedTxn).map((t) => {
      if (t.TxnType !== 'Invoice' && t.TxnType !== 'CreditMemo') throw new FakeDataError(`Payment ${input.Id}: cannot link a ${t.TxnType}`);
      const doc = (this.tables.get(t.TxnType) as Table).rows.get(t.TxnId);
      if (!doc) throw new FakeDataError(`Payment ${input.Id}: no ${t.TxnType} ${t.TxnId}`);
      if (doc.customer !== customerRef.value) throw new FakeDataError(`Payment ${input.Id}: ${t.TxnType} ${t.TxnId} is another customer's`);
      return doc;
    });
    const { CurrencyRef: currencyInput, ...rest } = input;
    const currencyRef = this.currencyRef(currencyInput, docs[0]?.currency ?? this.homeCurrency);
    const currency = currencyRef?.value ?? this.homeCurrency;
    for (const doc of docs) {
      if ((doc.currency ?? this.homeCurrency) !== currency) throw new FakeDataError(`Payment ${input.Id}: linked documents must be in ${currency}`);
    }
    let invoices = 0;
    let credits = 0;
    for (const line of lines) {
      const amount = toMinor(line.Amount, currency);
      if (amount <= 0) throw new FakeDataError(`Payment ${input.Id}: line amounts must be positive`);
      if (isCredit(line)) credits += amount;
      else invoices += amount;
    }
    if (credits > invoices) throw new FakeDataError(`Payment ${input.Id}: spends more credit than it applies to invoices`);
    const total = input.TotalAmt === undefined ? invoices - credits : toMinor(input.TotalAmt, currency);
    if (total < invoices - credits) throw new FakeDataError(`Payment ${input.Id}: TotalAmt is less than what it applies`);
    return {
      ...rest,
      CustomerRef: customerRef,
      ...(currencyRef ? { CurrencyRef: currencyRef } : {}),
      Line: lines,
      TotalAmt: fromMinor(total, currency),
      UnappliedAmt: fromMinor(total - (invoices - credits), currency),
    } as QboObject;
  }

  /** Document id → minor units the payment's lines apply to it. */
  private applicationsOf(payment: QboObject): Map<string, number> {
    const currency = (payment.CurrencyRef as Ref | undefined)?.value ?? this.homeCurrency;
    const applications = new Map<string, number>();
    for (const line of (payment.Line as PaymentLine[] | undefined) ?? []) {
      const docId = line.LinkedTxn[0]?.TxnId;
      if (docId !== undefined) applications.set(docId, (applications.get(docId) ?? 0) + toMinor(line.Amount, currency));
    }
    return applications;
  }

  private appliedTo(docId: string, except?: string): number {
    let sum = 0;
    for (const [paymentId, amount] of this.applied.get(docId) ?? []) if (paymentId !== except) sum += amount;
    return sum;
  }

  private linkedTxn(docId: string): { TxnId: string; TxnType: string }[] {
    return [...(this.applied.get(docId)?.keys() ?? [])].map((TxnId) => ({ TxnId, TxnType: 'Payment' }));
  }

  /** Refuses a payment that would apply more to a document than the document's total. */
  private checkApplications(paymentId: string, applications: Map<string, number>): void {
    for (const [docId, amount] of applications) {
      const doc = this.docOf(docId);
      if (!doc) continue;
      const total = toMinor(Number(this.parse(doc.row).TotalAmt), doc.row.currency ?? this.homeCurrency);
      const applied = this.appliedTo(docId, paymentId) + amount;
      if (applied > total) throw new FakeDataError(`${doc.entity} ${docId}: payments would apply ${applied} of ${total} (minor units)`);
    }
  }

  private link(paymentId: string, applications: Map<string, number>): void {
    for (const [docId, amount] of applications) {
      const map = this.applied.get(docId) ?? new Map<string, number>();
      map.set(paymentId, amount);
      this.applied.set(docId, map);
    }
  }

  private unlink(paymentId: string, applications: Map<string, number>): void {
    for (const docId of applications.keys()) this.applied.get(docId)?.delete(paymentId);
  }

  private docOf(id: string): { entity: 'Invoice' | 'CreditMemo'; row: Row } | null {
    for (const entity of ['Invoice', 'CreditMemo'] as const) {
      const row = (this.tables.get(entity) as Table).rows.get(id);
      if (row) return { entity, row };
    }
    return null;
  }

  /** Recomputes a document's Balance (and LinkedTxn); a change counts as an update of the document. */
  private rebalance(docId: string, now: number, { check = false, bump = true } = {}): void {
    const doc = this.docOf(docId);
    if (!doc) return;
    const object = this.parse(doc.row);
    const currency = doc.row.currency ?? this.homeCurrency;
    const total = toMinor(Number(object.TotalAmt), currency);
    const applied = this.appliedTo(docId);
    if (check && applied > total) throw new FakeDataError(`${doc.entity} ${docId}: payments apply ${applied} of ${total} (minor units)`);
    const balance = fromMinor(Math.max(0, total - applied), currency);
    const linked = this.linkedTxn(docId);
    if (object.Balance === balance && (doc.entity === 'CreditMemo' || JSON.stringify(object.LinkedTxn ?? []) === JSON.stringify(linked))) return;
    this.store(doc.row, {
      ...object, Balance: balance,
      ...(doc.entity === 'CreditMemo' ? { RemainingCredit: balance } : { LinkedTxn: linked }),
    }, now, bump);
  }

  /**
   * Takes a voided or deleted document out of the payments that link it, as QuickBooks does: the lines go, credit
   * spent beyond what is still applied to invoices goes back, and money no longer applied becomes unapplied.
   */
  private detachFromPayments(docId: string, now: number): void {
    for (const paymentId of [...(this.applied.get(docId)?.keys() ?? [])]) {
      const row = this.row('Payment', paymentId);
      const payment = this.parse(row);
      const currency = row.currency ?? this.homeCurrency;
      const previous = this.applicationsOf(payment);
      const kept = (payment.Line as PaymentLine[]).filter((l) => !l.LinkedTxn.some((t) => t.TxnId === docId));
      let creditRoom = kept.filter((l) => !isCredit(l)).reduce((s, l) => s + toMinor(l.Amount, currency), 0);
      const lines: PaymentLine[] = [];
      for (const line of kept) {
        if (!isCredit(line)) {
          lines.push({ ...line });
          continue;
        }
        const amount = Math.min(creditRoom, toMinor(line.Amount, currency));
        creditRoom -= amount;
        if (amount > 0) lines.push({ ...line, Amount: fromMinor(amount, currency) });
      }
      const total = toMinor(Number(payment.TotalAmt), currency);
      const net = (list: PaymentLine[]): number => list.reduce((s, l) => s + (isCredit(l) ? -1 : 1) * toMinor(l.Amount, currency), 0);
      // What the payment still applies beyond its money comes off its last invoice lines.
      let excess = Math.max(0, net(lines) - total);
      for (let i = lines.length - 1; i >= 0 && excess > 0; i -= 1) {
        const line = lines[i] as PaymentLine;
        if (isCredit(line)) continue;
        const cut = Math.min(excess, toMinor(line.Amount, currency));
        excess -= cut;
        line.Amount = fromMinor(toMinor(line.Amount, currency) - cut, currency);
      }
      const finalLines = lines.filter((l) => toMinor(l.Amount, currency) > 0);
      this.store(row, { ...payment, Line: finalLines, UnappliedAmt: fromMinor(total - net(finalLines), currency) }, now, true);
      const applications = this.applicationsOf(this.parse(row));
      this.unlink(paymentId, previous);
      this.link(paymentId, applications);
      for (const other of previous.keys()) if (other !== docId) this.rebalance(other, now);
      this.emit('Payment', paymentId, 'Update', now);
    }
    this.applied.delete(docId);
  }
}
