import crypto from 'node:crypto';
import { currencyExponent, parseMinor } from '../../../src/domain/money';

/**
 * One Xero organisation's receivables and payables as the fake keeps them: contacts, invoices (ACCREC sales
 * invoices and ACCPAY bills), payments, credit notes, overpayments and prepayments. Amounts are integer minor units
 * here and decimals on the wire. The rules follow Xero's: an invoice's AmountPaid/AmountCredited/AmountDue derive
 * from its payments and allocations; an AUTHORISED invoice becomes PAID when nothing is due (and AUTHORISED again
 * when a payment is deleted); only DRAFT/SUBMITTED invoices can be deleted and only unsettled AUTHORISED ones
 * voided; credit notes, overpayments and prepayments are voided only once their allocations are removed. Every
 * change stamps UpdatedDateUTC on what it changes (a payment or allocation also stamps its invoice) and queues
 * webhook events (Xero has none for payments: their invoice's UPDATE is the event).
 */

export type InvoiceStatus = 'DRAFT' | 'SUBMITTED' | 'AUTHORISED' | 'PAID' | 'VOIDED' | 'DELETED';
export type ContactStatus = 'ACTIVE' | 'ARCHIVED' | 'GDPRREQUEST';
export type LineAmountTypes = 'Exclusive' | 'Inclusive' | 'NoTax';
export type CreditStatus = 'DRAFT' | 'SUBMITTED' | 'AUTHORISED' | 'PAID' | 'VOIDED' | 'DELETED';
export type CreditKind = 'creditNote' | 'overpayment' | 'prepayment';

/** A moment: epoch milliseconds or ISO text. */
export type When = number | string;

export type ContactSeed = {
  id?: string;
  name: string;
  email?: string | null;
  status?: ContactStatus;
  defaultCurrency?: string | null;
  country?: string | null;
  website?: string | null;
  isSupplier?: boolean;
  updatedAt?: When;
};

export type LineSeed = {
  description?: string | null;
  quantity?: number;
  /** Decimal, in the invoice's currency. */
  unitAmount: number;
  itemCode?: string | null;
  item?: { id: string; code: string; name: string } | null;
  /** Tax rate as a fraction (0.15); none by default. */
  taxRate?: number;
  accountCode?: string;
};

export type InvoiceSeed = {
  id?: string;
  number?: string;
  type?: 'ACCREC' | 'ACCPAY';
  contactId: string;
  /** YYYY-MM-DD, the organisation's local date. */
  date: string;
  dueDate?: string | null;
  currency?: string;
  /** AUTHORISED by default; AUTHORISED and PAID follow the amount due. */
  status?: InvoiceStatus;
  lineAmountTypes?: LineAmountTypes;
  lines: LineSeed[];
  reference?: string | null;
  updatedAt?: When;
};

export type PaymentSeed = {
  id?: string;
  invoiceId: string;
  date: string;
  /** Decimal, in the invoice's currency. */
  amount: number;
  status?: 'AUTHORISED' | 'DELETED';
  reference?: string | null;
  batchPaymentId?: string | null;
  updatedAt?: When;
};

export type AllocationSeed = { id?: string; invoiceId: string; amount: number; date: string };

export type CreditNoteSeed = {
  id?: string;
  number?: string;
  type?: 'ACCRECCREDIT' | 'ACCPAYCREDIT';
  contactId: string;
  date: string;
  currency?: string;
  status?: CreditStatus;
  lineAmountTypes?: LineAmountTypes;
  lines: LineSeed[];
  allocations?: AllocationSeed[];
  reference?: string | null;
  updatedAt?: When;
};

export type PrepaymentSeed = {
  id?: string;
  /** RECEIVE-… (from a customer, the default) or SPEND-… (to a supplier). */
  direction?: 'RECEIVE' | 'SPEND';
  contactId: string;
  date: string;
  currency?: string;
  total: number;
  status?: 'AUTHORISED' | 'VOIDED';
  allocations?: AllocationSeed[];
  reference?: string | null;
  updatedAt?: When;
};

export type XeroSeed = {
  contacts?: ContactSeed[];
  invoices?: InvoiceSeed[];
  payments?: PaymentSeed[];
  creditNotes?: CreditNoteSeed[];
  overpayments?: PrepaymentSeed[];
  prepayments?: PrepaymentSeed[];
};

export type ContactRecord = {
  id: string; seq: number; name: string; email: string | null; status: ContactStatus; defaultCurrency: string | null;
  country: string | null; website: string | null; isSupplier: boolean; isCustomer: boolean; updatedAt: number;
};
export type LineRecord = {
  id: string; description: string | null; quantity: number; unitMinor: number; itemCode: string | null;
  item: { id: string; code: string; name: string } | null; accountCode: string; taxType: string; lineMinor: number; taxMinor: number;
};
export type InvoiceRecord = {
  id: string; seq: number; number: string; type: 'ACCREC' | 'ACCPAY'; contactId: string; date: string; dueDate: string | null;
  currency: string; status: InvoiceStatus; lineAmountTypes: LineAmountTypes; lines: LineRecord[]; subTotalMinor: number;
  taxMinor: number; totalMinor: number; reference: string | null; updatedAt: number;
};
export type PaymentRecord = {
  id: string; seq: number; invoiceId: string; date: string; amountMinor: number; status: 'AUTHORISED' | 'DELETED';
  reference: string | null; batchPaymentId: string | null; updatedAt: number;
};
export type AllocationRecord = { id: string; invoiceId: string; amountMinor: number; date: string; deleted: boolean };
export type CreditRecord = {
  id: string; seq: number; kind: CreditKind; type: string; number: string | null; contactId: string; date: string; currency: string;
  status: CreditStatus; lineAmountTypes: LineAmountTypes; lines: LineRecord[]; subTotalMinor: number; taxMinor: number;
  totalMinor: number; allocations: AllocationRecord[]; reference: string | null; updatedAt: number;
};

export type WebhookEventCategory = 'CONTACT' | 'INVOICE' | 'CREDITNOTE';
export type QueuedEvent = {
  category: WebhookEventCategory; type: 'CREATE' | 'UPDATE'; resourceId: string; at: number; data?: { Type: string; Status: string };
};

export class XeroFakeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XeroFakeError';
  }
}

/** Decimal → minor units of the currency (half away from zero beyond its exponent). */
export const minorOf = (amount: number, currency: string): number =>
  parseMinor(String(amount), currency) ?? Math.sign(amount) * Math.round(Math.abs(amount) * 10 ** currencyExponent(currency));

/** Minor units → Xero's decimal. */
export const decimalOf = (minor: number, currency: string): number => minor / 10 ** currencyExponent(currency);

const instant = (when: When): number => {
  const at = typeof when === 'number' ? when : Date.parse(when);
  if (!Number.isFinite(at)) throw new XeroFakeError(`${String(when)} is not a moment`);
  return at;
};

const isDate = (value: string): boolean => /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`));

const checkDate = (value: string, what: string): string => {
  if (!isDate(value)) throw new XeroFakeError(`${what}: ${value} is not a YYYY-MM-DD date`);
  return value;
};

/** A collection kept in creation order, with its UpdatedDateUTC order built when asked and kept while it holds. */
export class Collection<T extends { id: string; seq: number; updatedAt: number }> {
  readonly all: T[] = [];
  readonly byId = new Map<string, T>();
  /** Grows with every change (filtered lists built from the collection hold while it stays). */
  version = 0;
  private sorted: T[] | null = null;

  /** Notes a change that moves nothing in UpdatedDateUTC order (a flag such as IsCustomer). */
  changed(): void {
    this.version += 1;
  }

  add(record: T): void {
    if (this.byId.has(record.id)) throw new XeroFakeError(`${record.id} exists already`);
    this.all.push(record);
    this.byId.set(record.id, record);
    this.touched(record, true);
  }

  /** Called after `record.updatedAt` changed (or with `added`). */
  touched(record: T, added = false): void {
    this.version += 1;
    if (this.sorted === null) return;
    const last = this.sorted[this.sorted.length - 1];
    const later = last === undefined || record.updatedAt > last.updatedAt || (record.updatedAt === last.updatedAt && record.seq > last.seq);
    if (!later) {
      this.sorted = null;
      return;
    }
    if (!added) {
      const at = this.sorted.indexOf(record);
      if (at >= 0) this.sorted.splice(at, 1);
    }
    this.sorted.push(record);
  }

  /** Records by UpdatedDateUTC, then creation. */
  byUpdated(): T[] {
    if (this.sorted === null) this.sorted = [...this.all].sort((a, b) => a.updatedAt - b.updatedAt || a.seq - b.seq);
    return this.sorted;
  }

  /** The position of the first record updated at or after `since` in `list` (by default `byUpdated()`). */
  firstSince(since: number, list: readonly T[] = this.byUpdated()): number {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((list[mid] as T).updatedAt < since) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

export class XeroOrg {
  readonly contacts = new Collection<ContactRecord>();
  readonly invoices = new Collection<InvoiceRecord>();
  readonly payments = new Collection<PaymentRecord>();
  readonly creditNotes = new Collection<CreditRecord>();
  readonly overpayments = new Collection<CreditRecord>();
  readonly prepayments = new Collection<CreditRecord>();
  /** Live and deleted payments per invoice. */
  readonly paymentsOf = new Map<string, PaymentRecord[]>();
  /** Allocations to each invoice, with the credit they come from. */
  readonly allocationsOf = new Map<string, { credit: CreditRecord; allocation: AllocationRecord }[]>();
  readonly events: QueuedEvent[] = [];
  private seq = 0;
  private invoiceNumbers = 0;
  private creditNumbers = 0;
  private lastStamp = 0;
  /** While seeding, no webhook events are queued (seeded data predates the webhook subscription). */
  private seeding = false;

  constructor(readonly tenantId: string, readonly baseCurrency: string, private readonly clock: () => number) {}

  /** The next UpdatedDateUTC: the clock, strictly after the previous stamp. */
  stamp(): number {
    this.lastStamp = Math.max(this.clock(), this.lastStamp + 1);
    return this.lastStamp;
  }

  private when(given: When | undefined): number {
    if (given === undefined) return this.stamp();
    const at = instant(given);
    this.lastStamp = Math.max(this.lastStamp, at);
    return at;
  }

  private event(category: WebhookEventCategory, type: 'CREATE' | 'UPDATE', resourceId: string, at: number, data?: QueuedEvent['data']): void {
    if (this.seeding) return;
    this.events.push({ category, type, resourceId, at, ...(data ? { data } : {}) });
  }

  private contact(id: string): ContactRecord {
    const found = this.contacts.byId.get(id);
    if (!found) throw new XeroFakeError(`Contact ${id} does not exist`);
    return found;
  }

  invoice(id: string): InvoiceRecord {
    const found = this.invoices.byId.get(id);
    if (!found) throw new XeroFakeError(`Invoice ${id} does not exist`);
    return found;
  }

  private lines(seeds: readonly LineSeed[], currency: string, types: LineAmountTypes): { lines: LineRecord[]; sub: number; tax: number; total: number } {
    let sum = 0;
    let tax = 0;
    const lines = seeds.map((seed) => {
      const unitMinor = minorOf(seed.unitAmount, currency);
      const quantity = seed.quantity ?? 1;
      const lineMinor = Math.round(quantity * unitMinor);
      const rate = types === 'NoTax' ? 0 : seed.taxRate ?? 0;
      const taxMinor = types === 'Exclusive' ? Math.round(lineMinor * rate) : types === 'Inclusive' ? Math.round((lineMinor * rate) / (1 + rate)) : 0;
      sum += lineMinor;
      tax += taxMinor;
      return {
        id: crypto.randomUUID(), description: seed.description ?? null, quantity, unitMinor, itemCode: seed.itemCode ?? seed.item?.code ?? null,
        item: seed.item ?? null, accountCode: seed.accountCode ?? '200', taxType: rate > 0 ? 'OUTPUT2' : 'NONE', lineMinor, taxMinor,
      };
    });
    return types === 'Exclusive' ? { lines, sub: sum, tax, total: sum + tax } : { lines, sub: sum - tax, tax, total: sum };
  }

  // ---- derived amounts

  amountPaid(invoice: InvoiceRecord): number {
    return (this.paymentsOf.get(invoice.id) ?? []).reduce((sum, p) => (p.status === 'AUTHORISED' ? sum + p.amountMinor : sum), 0);
  }

  amountCredited(invoice: InvoiceRecord): number {
    return (this.allocationsOf.get(invoice.id) ?? []).reduce((sum, { credit, allocation }) => (liveAllocation(credit, allocation) ? sum + allocation.amountMinor : sum), 0);
  }

  amountDue(invoice: InvoiceRecord): number {
    return invoice.totalMinor - this.amountPaid(invoice) - this.amountCredited(invoice);
  }

  /** The day the last settlement brought the amount due to zero, for a PAID invoice. */
  fullyPaidOn(invoice: InvoiceRecord): string | null {
    if (invoice.status !== 'PAID') return null;
    const dates = [
      ...(this.paymentsOf.get(invoice.id) ?? []).filter((p) => p.status === 'AUTHORISED').map((p) => p.date),
      ...(this.allocationsOf.get(invoice.id) ?? []).filter(({ credit, allocation }) => liveAllocation(credit, allocation)).map(({ allocation }) => allocation.date),
    ];
    return dates.length === 0 ? null : dates.reduce((a, b) => (a > b ? a : b));
  }

  remainingCredit(credit: CreditRecord): number {
    return credit.totalMinor - credit.allocations.reduce((sum, a) => (a.deleted ? sum : sum + a.amountMinor), 0);
  }

  /** AUTHORISED ⇄ PAID as the amount due reaches zero or not; stamps the invoice. */
  private settled(invoice: InvoiceRecord, at: number): void {
    if (invoice.status === 'AUTHORISED' || invoice.status === 'PAID') invoice.status = this.amountDue(invoice) <= 0 ? 'PAID' : 'AUTHORISED';
    if (at > invoice.updatedAt) {
      invoice.updatedAt = at;
      this.invoices.touched(invoice);
    }
    this.event('INVOICE', 'UPDATE', invoice.id, at);
  }

  private creditSettled(credit: CreditRecord): void {
    if (credit.status === 'AUTHORISED' || credit.status === 'PAID') credit.status = this.remainingCredit(credit) <= 0 ? 'PAID' : 'AUTHORISED';
  }

  // ---- contacts

  addContact(seed: ContactSeed): ContactRecord {
    const at = this.when(seed.updatedAt);
    const record: ContactRecord = {
      id: seed.id ?? crypto.randomUUID(), seq: ++this.seq, name: seed.name, email: seed.email ?? null, status: seed.status ?? 'ACTIVE',
      defaultCurrency: seed.defaultCurrency ?? null, country: seed.country ?? null, website: seed.website ?? null,
      isSupplier: seed.isSupplier ?? false, isCustomer: false, updatedAt: at,
    };
    this.contacts.add(record);
    this.event('CONTACT', 'CREATE', record.id, at);
    return record;
  }

  updateContact(id: string, patch: Partial<Omit<ContactSeed, 'id' | 'updatedAt'>>): ContactRecord {
    const record = this.contact(id);
    if (patch.name !== undefined) record.name = patch.name;
    if (patch.email !== undefined) record.email = patch.email;
    if (patch.status !== undefined) record.status = patch.status;
    if (patch.defaultCurrency !== undefined) record.defaultCurrency = patch.defaultCurrency;
    if (patch.country !== undefined) record.country = patch.country;
    if (patch.website !== undefined) record.website = patch.website;
    if (patch.isSupplier !== undefined) record.isSupplier = patch.isSupplier;
    record.updatedAt = this.stamp();
    this.contacts.touched(record);
    this.event('CONTACT', 'UPDATE', id, record.updatedAt);
    return record;
  }

  // ---- invoices

  addInvoice(seed: InvoiceSeed): InvoiceRecord {
    const contact = this.contact(seed.contactId);
    const currency = (seed.currency ?? this.baseCurrency).toUpperCase();
    const types = seed.lineAmountTypes ?? 'Exclusive';
    const { lines, sub, tax, total } = this.lines(seed.lines, currency, types);
    const type = seed.type ?? 'ACCREC';
    const status = seed.status ?? 'AUTHORISED';
    if (status === 'VOIDED' && total < 0) throw new XeroFakeError('An invoice total cannot be negative');
    const at = this.when(seed.updatedAt);
    const record: InvoiceRecord = {
      id: seed.id ?? crypto.randomUUID(), seq: ++this.seq,
      number: seed.number ?? (type === 'ACCREC' ? `INV-${String(++this.invoiceNumbers).padStart(4, '0')}` : ''),
      type, contactId: contact.id, date: checkDate(seed.date, 'Invoice date'), dueDate: seed.dueDate == null ? null : checkDate(seed.dueDate, 'Invoice due date'),
      currency, status: status === 'PAID' ? 'AUTHORISED' : status, lineAmountTypes: types, lines, subTotalMinor: sub, taxMinor: tax, totalMinor: total,
      reference: seed.reference ?? null, updatedAt: at,
    };
    this.invoices.add(record);
    // Xero sets IsCustomer / IsSupplier with a contact's first transaction, without touching its UpdatedDateUTC.
    if (type === 'ACCREC') contact.isCustomer = true;
    else contact.isSupplier = true;
    this.contacts.changed();
    if (record.status === 'AUTHORISED' && record.totalMinor === 0) record.status = 'PAID';
    this.event('INVOICE', 'CREATE', record.id, at);
    return record;
  }

  /** Changes an invoice's status the ways Xero allows. */
  setInvoiceStatus(id: string, status: InvoiceStatus): InvoiceRecord {
    const invoice = this.invoice(id);
    const from = invoice.status;
    const allowed: Record<InvoiceStatus, InvoiceStatus[]> = {
      DRAFT: ['SUBMITTED', 'AUTHORISED', 'DELETED'],
      SUBMITTED: ['DRAFT', 'AUTHORISED', 'DELETED'],
      AUTHORISED: ['VOIDED'],
      PAID: [],
      VOIDED: [],
      DELETED: [],
    };
    if (!allowed[from].includes(status)) throw new XeroFakeError(`Invoice ${id}: a ${from} invoice cannot become ${status}`);
    if (status === 'VOIDED' && this.amountPaid(invoice) + this.amountCredited(invoice) > 0) {
      throw new XeroFakeError(`Invoice ${id}: remove its payments and allocations before voiding it`);
    }
    invoice.status = status === 'AUTHORISED' && this.amountDue(invoice) <= 0 ? 'PAID' : status;
    invoice.updatedAt = this.stamp();
    this.invoices.touched(invoice);
    this.event('INVOICE', 'UPDATE', id, invoice.updatedAt);
    return invoice;
  }

  /** Edits an unsettled invoice's reference, due date or lines. */
  updateInvoice(id: string, patch: { reference?: string | null; dueDate?: string | null; lines?: LineSeed[]; lineAmountTypes?: LineAmountTypes }): InvoiceRecord {
    const invoice = this.invoice(id);
    if (invoice.status === 'VOIDED' || invoice.status === 'DELETED' || invoice.status === 'PAID') {
      throw new XeroFakeError(`Invoice ${id}: a ${invoice.status} invoice cannot be edited`);
    }
    if (patch.reference !== undefined) invoice.reference = patch.reference;
    if (patch.dueDate !== undefined) invoice.dueDate = patch.dueDate === null ? null : checkDate(patch.dueDate, 'Invoice due date');
    if (patch.lines !== undefined || patch.lineAmountTypes !== undefined) {
      const types = patch.lineAmountTypes ?? invoice.lineAmountTypes;
      const seeds = patch.lines ?? invoice.lines.map((l) => ({
        description: l.description, quantity: l.quantity, unitAmount: decimalOf(l.unitMinor, invoice.currency), itemCode: l.itemCode, item: l.item,
      }));
      const { lines, sub, tax, total } = this.lines(seeds, invoice.currency, types);
      if (total < this.amountPaid(invoice) + this.amountCredited(invoice)) throw new XeroFakeError(`Invoice ${id}: the new total is less than what is settled`);
      Object.assign(invoice, { lines, lineAmountTypes: types, subTotalMinor: sub, taxMinor: tax, totalMinor: total });
    }
    this.settled(invoice, this.stamp());
    return invoice;
  }

  // ---- payments

  addPayment(seed: PaymentSeed): PaymentRecord {
    const invoice = this.invoice(seed.invoiceId);
    const amountMinor = minorOf(seed.amount, invoice.currency);
    const status = seed.status ?? 'AUTHORISED';
    if (status === 'AUTHORISED') {
      if (invoice.status !== 'AUTHORISED') throw new XeroFakeError(`Invoice ${invoice.id} is ${invoice.status}: payments go on AUTHORISED invoices`);
      if (amountMinor <= 0 || amountMinor > this.amountDue(invoice)) throw new XeroFakeError(`Payment of ${seed.amount} is more than invoice ${invoice.id} has due`);
    }
    const at = this.when(seed.updatedAt);
    const record: PaymentRecord = {
      id: seed.id ?? crypto.randomUUID(), seq: ++this.seq, invoiceId: invoice.id, date: checkDate(seed.date, 'Payment date'), amountMinor, status,
      reference: seed.reference ?? null, batchPaymentId: seed.batchPaymentId ?? null, updatedAt: at,
    };
    this.payments.add(record);
    const list = this.paymentsOf.get(invoice.id) ?? [];
    list.push(record);
    this.paymentsOf.set(invoice.id, list);
    this.settled(invoice, at);
    return record;
  }

  /** Deletes (reverses) a payment: it stays listed with Status DELETED. */
  deletePayment(id: string): PaymentRecord {
    const payment = this.payments.byId.get(id);
    if (!payment) throw new XeroFakeError(`Payment ${id} does not exist`);
    if (payment.status === 'DELETED') throw new XeroFakeError(`Payment ${id} is deleted already`);
    payment.status = 'DELETED';
    payment.updatedAt = this.stamp();
    this.payments.touched(payment);
    this.settled(this.invoice(payment.invoiceId), payment.updatedAt);
    return payment;
  }

  // ---- credit notes, overpayments, prepayments

  private collectionOf(kind: CreditKind): Collection<CreditRecord> {
    return kind === 'creditNote' ? this.creditNotes : kind === 'overpayment' ? this.overpayments : this.prepayments;
  }

  credit(kind: CreditKind, id: string): CreditRecord {
    const found = this.collectionOf(kind).byId.get(id);
    if (!found) throw new XeroFakeError(`${kind} ${id} does not exist`);
    return found;
  }

  private allocate(credit: CreditRecord, seed: AllocationSeed, at: number): void {
    if (credit.status !== 'AUTHORISED') throw new XeroFakeError(`${credit.kind} ${credit.id} is ${credit.status}: only AUTHORISED credit can be allocated`);
    const invoice = this.invoice(seed.invoiceId);
    const receivable = credit.type === 'ACCRECCREDIT' || credit.type.startsWith('RECEIVE');
    if ((invoice.type === 'ACCREC') !== receivable) throw new XeroFakeError(`${credit.kind} ${credit.id} cannot be allocated to a ${invoice.type} invoice`);
    if (invoice.currency !== credit.currency) throw new XeroFakeError(`${credit.kind} ${credit.id} is in ${credit.currency}, invoice ${invoice.id} in ${invoice.currency}`);
    if (invoice.status !== 'AUTHORISED') throw new XeroFakeError(`Invoice ${invoice.id} is ${invoice.status}: credit goes on AUTHORISED invoices`);
    const amountMinor = minorOf(seed.amount, credit.currency);
    if (amountMinor <= 0 || amountMinor > this.amountDue(invoice) || amountMinor > this.remainingCredit(credit)) {
      throw new XeroFakeError(`Allocation of ${seed.amount} exceeds what invoice ${invoice.id} has due or what ${credit.id} has left`);
    }
    const allocation: AllocationRecord = { id: seed.id ?? crypto.randomUUID(), invoiceId: invoice.id, amountMinor, date: checkDate(seed.date, 'Allocation date'), deleted: false };
    credit.allocations.push(allocation);
    const list = this.allocationsOf.get(invoice.id) ?? [];
    list.push({ credit, allocation });
    this.allocationsOf.set(invoice.id, list);
    this.creditSettled(credit);
    this.settled(invoice, at);
  }

  private touchCredit(credit: CreditRecord, at: number, type: 'CREATE' | 'UPDATE'): void {
    if (at > credit.updatedAt) {
      credit.updatedAt = at;
      this.collectionOf(credit.kind).touched(credit);
    }
    if (credit.kind === 'creditNote') this.event('CREDITNOTE', type, credit.id, at, { Type: credit.type, Status: credit.status });
  }

  addCreditNote(seed: CreditNoteSeed): CreditRecord {
    const contact = this.contact(seed.contactId);
    const currency = (seed.currency ?? this.baseCurrency).toUpperCase();
    const types = seed.lineAmountTypes ?? 'Exclusive';
    const { lines, sub, tax, total } = this.lines(seed.lines, currency, types);
    const type = seed.type ?? 'ACCRECCREDIT';
    const at = this.when(seed.updatedAt);
    const record: CreditRecord = {
      id: seed.id ?? crypto.randomUUID(), seq: ++this.seq, kind: 'creditNote', type,
      number: seed.number ?? (type === 'ACCRECCREDIT' ? `CN-${String(++this.creditNumbers).padStart(4, '0')}` : null),
      contactId: contact.id, date: checkDate(seed.date, 'Credit note date'), currency, status: seed.status === 'PAID' ? 'AUTHORISED' : seed.status ?? 'AUTHORISED',
      lineAmountTypes: types, lines, subTotalMinor: sub, taxMinor: tax, totalMinor: total, allocations: [], reference: seed.reference ?? null, updatedAt: at,
    };
    this.creditNotes.add(record);
    if (type === 'ACCRECCREDIT') contact.isCustomer = true;
    this.contacts.changed();
    for (const allocation of seed.allocations ?? []) this.allocate(record, allocation, at);
    this.touchCredit(record, at, 'CREATE');
    return record;
  }

  private addPrepaid(kind: 'overpayment' | 'prepayment', seed: PrepaymentSeed): CreditRecord {
    const contact = this.contact(seed.contactId);
    const currency = (seed.currency ?? this.baseCurrency).toUpperCase();
    const totalMinor = minorOf(seed.total, currency);
    const at = this.when(seed.updatedAt);
    const direction = seed.direction ?? 'RECEIVE';
    const record: CreditRecord = {
      id: seed.id ?? crypto.randomUUID(), seq: ++this.seq, kind, type: `${direction}-${kind.toUpperCase()}`, number: null, contactId: contact.id,
      date: checkDate(seed.date, `${kind} date`), currency, status: seed.status ?? 'AUTHORISED', lineAmountTypes: 'NoTax',
      lines: [{
        id: crypto.randomUUID(), description: kind === 'overpayment' ? 'Overpayment' : 'Prepayment', quantity: 1, unitMinor: totalMinor, itemCode: null,
        item: null, accountCode: '610', taxType: 'NONE', lineMinor: totalMinor, taxMinor: 0,
      }],
      subTotalMinor: totalMinor, taxMinor: 0, totalMinor, allocations: [], reference: seed.reference ?? null, updatedAt: at,
    };
    this.collectionOf(kind).add(record);
    for (const allocation of seed.allocations ?? []) this.allocate(record, allocation, at);
    this.touchCredit(record, at, 'CREATE');
    return record;
  }

  addOverpayment(seed: PrepaymentSeed): CreditRecord {
    return this.addPrepaid('overpayment', seed);
  }

  addPrepayment(seed: PrepaymentSeed): CreditRecord {
    return this.addPrepaid('prepayment', seed);
  }

  /** Allocates more of a credit note, overpayment or prepayment to an invoice. */
  allocateCredit(kind: CreditKind, id: string, seed: AllocationSeed): AllocationRecord {
    const credit = this.credit(kind, id);
    const at = this.stamp();
    this.allocate(credit, seed, at);
    this.touchCredit(credit, at, 'UPDATE');
    return credit.allocations[credit.allocations.length - 1] as AllocationRecord;
  }

  /** Removes an allocation: it stays listed with IsDeleted, the invoice is due again. */
  removeAllocation(kind: CreditKind, id: string, allocationId: string): void {
    const credit = this.credit(kind, id);
    const allocation = credit.allocations.find((a) => a.id === allocationId && !a.deleted);
    if (!allocation) throw new XeroFakeError(`${kind} ${id} has no allocation ${allocationId}`);
    allocation.deleted = true;
    const at = this.stamp();
    this.creditSettled(credit);
    this.touchCredit(credit, at, 'UPDATE');
    this.settled(this.invoice(allocation.invoiceId), at);
  }

  /** Changes a credit's status the ways Xero allows (voiding needs its allocations removed first). */
  setCreditStatus(kind: CreditKind, id: string, status: CreditStatus): CreditRecord {
    const credit = this.credit(kind, id);
    const from = credit.status;
    const allowed: Record<CreditStatus, CreditStatus[]> = {
      DRAFT: ['SUBMITTED', 'AUTHORISED', 'DELETED'],
      SUBMITTED: ['DRAFT', 'AUTHORISED', 'DELETED'],
      AUTHORISED: ['VOIDED'],
      PAID: ['VOIDED'],
      VOIDED: [],
      DELETED: [],
    };
    if (!allowed[from].includes(status)) throw new XeroFakeError(`${kind} ${id}: a ${from} credit cannot become ${status}`);
    if (status === 'VOIDED' && credit.allocations.some((a) => !a.deleted)) throw new XeroFakeError(`${kind} ${id}: remove its allocations before voiding it`);
    credit.status = status;
    this.creditSettled(credit);
    this.touchCredit(credit, this.stamp(), 'UPDATE');
    return credit;
  }

  /** Runs changes without queueing webhook events (data that predates the webhook subscription). */
  quietly<T>(run: () => T): T {
    const was = this.seeding;
    this.seeding = true;
    try {
      return run();
    } finally {
      this.seeding = was;
    }
  }

  seed(data: XeroSeed): void {
    this.quietly(() => {
      for (const c of data.contacts ?? []) this.addContact(c);
      for (const i of data.invoices ?? []) this.addInvoice(i);
      for (const p of data.payments ?? []) this.addPayment(p);
      for (const n of data.creditNotes ?? []) this.addCreditNote(n);
      for (const o of data.overpayments ?? []) this.addOverpayment(o);
      for (const p of data.prepayments ?? []) this.addPrepayment(p);
    });
  }
}

/** An allocation that settles its invoice: not removed, from a credit that is approved and not voided. */
export const liveAllocation = (credit: CreditRecord, allocation: AllocationRecord): boolean =>
  !allocation.deleted && (credit.status === 'AUTHORISED' || credit.status === 'PAID');
