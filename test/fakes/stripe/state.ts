/**
 * The fake Stripe's data: compact records per account (rendered into Stripe's full shapes only when answered, so
 * 100,000 invoices stay small), kept in creation order, and the mutations Stripe performs, each appending the
 * Events Stripe would emit. Amounts are integers in Stripe's minor units; times are unix seconds of the fake's clock.
 */

export type CustomerRecord = {
  id: string;
  created: number;
  name: string | null;
  email: string | null;
  /** Lower case, as Stripe has it. */
  currency: string | null;
  country: string | null;
  /** Negative: credit the customer has. */
  balance: number;
  deleted: boolean;
};

export type LineRecord = {
  id: string;
  /** Before tax. */
  amount: number;
  quantity: number;
  description: string | null;
  product: string | null;
  price: string | null;
  /** Exclusive tax on the line. */
  tax: number;
};

export type InvoiceStatus = 'draft' | 'open' | 'paid' | 'uncollectible' | 'void' | 'deleted';

export type InvoiceRecord = {
  id: string;
  created: number;
  customer: string;
  currency: string;
  number: string | null;
  status: InvoiceStatus;
  collection_method: 'send_invoice' | 'charge_automatically';
  due_date: number | null;
  effective_at: number | null;
  finalized_at: number | null;
  paid_at: number | null;
  voided_at: number | null;
  marked_uncollectible_at: number | null;
  /** Tax included: the sum of the lines' amounts and taxes. */
  total: number;
  /** Everything paid, on and off Stripe. */
  amount_paid: number;
  amount_paid_off_stripe: number;
  pre_payment_credit_notes_amount: number;
  post_payment_credit_notes_amount: number;
  /** The customer's balance before and after finalization; a credit applied lowers amount_due. */
  starting_balance: number;
  ending_balance: number | null;
  lines: LineRecord[];
};

export type PaymentRef = { type: 'payment_intent' | 'charge' | 'payment_record'; id: string };

export type InvoicePaymentRecord = {
  id: string;
  created: number;
  invoice: string;
  currency: string;
  amount_requested: number;
  amount_paid: number | null;
  status: 'open' | 'paid' | 'canceled';
  is_default: boolean;
  paid_at: number | null;
  canceled_at: number | null;
  payment: PaymentRef;
};

export type PaymentIntentRecord = {
  id: string;
  created: number;
  customer: string | null;
  currency: string;
  amount: number;
  amount_received: number;
  status: 'succeeded' | 'requires_payment_method' | 'processing' | 'canceled';
  latest_charge: string | null;
};

export type ChargeRecord = {
  id: string;
  created: number;
  customer: string | null;
  currency: string;
  amount: number;
  amount_captured: number;
  amount_refunded: number;
  payment_intent: string | null;
  disputed: boolean;
  status: 'succeeded' | 'pending' | 'failed';
};

export type RefundRecord = {
  id: string;
  created: number;
  charge: string;
  payment_intent: string | null;
  currency: string;
  amount: number;
  status: 'succeeded' | 'pending' | 'failed' | 'canceled';
  reason: string | null;
};

export type CreditNoteRecord = {
  id: string;
  created: number;
  number: string;
  invoice: string;
  customer: string;
  currency: string;
  total: number;
  type: 'pre_payment' | 'post_payment' | 'mixed';
  pre_payment_amount: number;
  post_payment_amount: number;
  out_of_band_amount: number | null;
  /** Part of the post-payment amount credited to the customer's balance. */
  credit_amount: number;
  refunds: { refund: string; amount_refunded: number }[];
  status: 'issued' | 'void';
  reason: 'duplicate' | 'fraudulent' | 'order_change' | 'product_unsatisfactory' | null;
  memo: string | null;
  effective_at: number | null;
  voided_at: number | null;
};

export type Kind = 'customer' | 'invoice' | 'invoice_payment' | 'payment_intent' | 'charge' | 'refund' | 'credit_note';

export type RecordOf = {
  customer: CustomerRecord;
  invoice: InvoiceRecord;
  invoice_payment: InvoicePaymentRecord;
  payment_intent: PaymentIntentRecord;
  charge: ChargeRecord;
  refund: RefundRecord;
  credit_note: CreditNoteRecord;
};

export type AnyRecord = RecordOf[Kind];

export type EventRecord = {
  id: string;
  created: number;
  type: string;
  kind: Kind;
  /** The object as it was when the event happened. */
  object: AnyRecord;
  previous: Record<string, unknown> | null;
  /** Set for a connected account's events. */
  account: string | null;
};

export const PREFIX: Readonly<Record<Kind | 'event', string>> = {
  customer: 'cus', invoice: 'in', invoice_payment: 'inpay', payment_intent: 'pi', charge: 'ch', refund: 're',
  credit_note: 'cn', event: 'evt',
};

export const kindOfId = (id: string): Kind | 'event' | null => {
  const prefix = id.slice(0, id.indexOf('_'));
  const found = (Object.keys(PREFIX) as (Kind | 'event')[]).find((k) => PREFIX[k] === prefix);
  return found ?? null;
};

/** Objects of one type in creation order (oldest first); lists walk it from the newest. */
export class Collection<T extends { id: string; created: number }> {
  readonly items: T[] = [];
  private readonly byId = new Map<string, T>();
  private positions: Map<string, number> | null = new Map();

  get size(): number {
    return this.items.length;
  }

  get(id: string): T | undefined {
    return this.byId.get(id);
  }

  add(item: T): void {
    if (this.byId.has(item.id)) throw new Error(`${item.id} exists already`);
    this.byId.set(item.id, item);
    const last = this.items[this.items.length - 1];
    if (!last || item.created >= last.created) {
      this.items.push(item);
      this.positions?.set(item.id, this.items.length - 1);
      return;
    }
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.items[mid] as T).created <= item.created) lo = mid + 1;
      else hi = mid;
    }
    this.items.splice(lo, 0, item);
    this.positions = null;
  }

  /** Index in `items`, or -1. */
  position(id: string): number {
    if (!this.positions) {
      this.positions = new Map(this.items.map((item, i) => [item.id, i]));
    }
    return this.positions.get(id) ?? -1;
  }

  clear(): void {
    this.items.length = 0;
    this.byId.clear();
    this.positions = new Map();
  }
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

const base62 = (n: number, width: number): string => {
  let out = '';
  let rest = n;
  do {
    out = BASE62[rest % 62] + out;
    rest = Math.floor(rest / 62);
  } while (rest > 0);
  return out.padStart(width, '0');
};

export const RETENTION_SECONDS = 30 * 86_400;

/** Lines as mutations take them. */
export type LineInput = {
  amount: number;
  quantity?: number;
  description?: string | null;
  product?: string | null;
  price?: string | null;
  tax?: number;
};

export type InvoiceInput = {
  customer: string;
  currency?: string;
  lines: LineInput[];
  collection_method?: 'send_invoice' | 'charge_automatically';
  /** Days after finalization; ignored for charge_automatically (no due date). Default 30. */
  daysUntilDue?: number;
  /** Leave as a draft (default: finalize). */
  draft?: boolean;
  /** Apply the customer's credit balance at finalization (Stripe does). Default true. */
  applyBalance?: boolean;
};

export type PayInput = {
  /** The invoices one PaymentIntent pays, and how much of each (default: all that remains). */
  invoices: Array<string | { id: string; amount?: number }>;
  /** 'charge': a charge without a PaymentIntent (older integrations); 'payment_record': paid outside Stripe, recorded. */
  via?: 'payment_intent' | 'charge' | 'payment_record';
};

export type CreditNoteInput = {
  invoice: string;
  amount: number;
  /** For a paid invoice: how the post-payment credit is given back (default refund). */
  settle?: 'refund' | 'out_of_band' | 'customer_balance';
  reason?: CreditNoteRecord['reason'];
  memo?: string | null;
};

export type SeedData = {
  customers?: CustomerRecord[];
  invoices?: InvoiceRecord[];
  invoicePayments?: InvoicePaymentRecord[];
  paymentIntents?: PaymentIntentRecord[];
  charges?: ChargeRecord[];
  refunds?: RefundRecord[];
  creditNotes?: CreditNoteRecord[];
};

const clone = <T>(value: T): T => structuredClone(value);

const lineTotal = (lines: readonly LineRecord[]): number => lines.reduce((sum, l) => sum + l.amount + l.tax, 0);

export const appliedBalance = (invoice: InvoiceRecord): number =>
  invoice.ending_balance === null ? 0 : Math.max(0, invoice.ending_balance - invoice.starting_balance);

export const amountDue = (invoice: InvoiceRecord): number =>
  Math.max(0, invoice.total - appliedBalance(invoice) - invoice.pre_payment_credit_notes_amount);

export const amountRemaining = (invoice: InvoiceRecord): number =>
  invoice.status === 'paid' || invoice.status === 'void' || invoice.status === 'draft' ? 0 : Math.max(0, amountDue(invoice) - invoice.amount_paid);

/** One Stripe account of the fake: its objects, its events, and what Stripe does when things happen. */
export class AccountData {
  readonly customers = new Collection<CustomerRecord>();
  readonly invoices = new Collection<InvoiceRecord>();
  readonly invoicePayments = new Collection<InvoicePaymentRecord>();
  readonly paymentIntents = new Collection<PaymentIntentRecord>();
  readonly charges = new Collection<ChargeRecord>();
  readonly refunds = new Collection<RefundRecord>();
  readonly creditNotes = new Collection<CreditNoteRecord>();
  readonly events = new Collection<EventRecord>();
  /** invoice id → its invoice payments; payment id (pi_, ch_, prec_) → its invoice payments. */
  readonly paymentsByInvoice = new Map<string, InvoicePaymentRecord[]>();
  readonly paymentsByPayment = new Map<string, InvoicePaymentRecord[]>();
  /** charge id → its refunds. */
  readonly refundsByCharge = new Map<string, RefundRecord[]>();
  /** Connected accounts' events carry `account`. */
  connected = false;
  name: string | null = null;
  private invoiceNumbers = 0;

  constructor(
    readonly id: string,
    private readonly clock: { now(): number; tick(): number },
    private readonly nextId: (prefix: string) => string,
  ) {}

  collection<K extends Kind>(kind: K): Collection<RecordOf[K]> {
    const map: { [P in Kind]: Collection<RecordOf[P]> } = {
      customer: this.customers, invoice: this.invoices, invoice_payment: this.invoicePayments,
      payment_intent: this.paymentIntents, charge: this.charges, refund: this.refunds, credit_note: this.creditNotes,
    };
    return map[kind];
  }

  find(id: string): { kind: Kind; record: AnyRecord } | null {
    const kind = kindOfId(id);
    if (kind === null || kind === 'event') return null;
    const record = this.collection(kind).get(id);
    return record ? { kind, record } : null;
  }

  /** Events still kept (Stripe keeps 30 days). */
  eventVisible(event: EventRecord): boolean {
    return event.created > this.clock.now() - RETENTION_SECONDS;
  }

  // --- seeding ---------------------------------------------------------------------------------------------------

  /** Adds records as they are (no events: they predate the event log). */
  seed(data: SeedData): void {
    const inOrder = <T extends { created: number }>(items: readonly T[] | undefined): T[] => [...(items ?? [])].sort((a, b) => a.created - b.created);
    for (const c of inOrder(data.customers)) this.customers.add(c);
    for (const i of inOrder(data.invoices)) {
      this.invoices.add(i);
      if (i.number) this.invoiceNumbers += 1;
    }
    for (const p of inOrder(data.paymentIntents)) this.paymentIntents.add(p);
    for (const c of inOrder(data.charges)) this.charges.add(c);
    for (const r of inOrder(data.refunds)) this.addRefund(r);
    for (const n of inOrder(data.creditNotes)) this.creditNotes.add(n);
    for (const p of inOrder(data.invoicePayments)) this.addInvoicePayment(p);
  }

  clear(): void {
    for (const kind of Object.keys(PREFIX) as (Kind | 'event')[]) {
      if (kind === 'event') this.events.clear();
      else this.collection(kind).clear();
    }
    this.paymentsByInvoice.clear();
    this.paymentsByPayment.clear();
    this.refundsByCharge.clear();
    this.invoiceNumbers = 0;
  }

  private addRefund(r: RefundRecord): void {
    this.refunds.add(r);
    const list = this.refundsByCharge.get(r.charge) ?? [];
    list.push(r);
    this.refundsByCharge.set(r.charge, list);
  }

  private addInvoicePayment(p: InvoicePaymentRecord): void {
    this.invoicePayments.add(p);
    const byInvoice = this.paymentsByInvoice.get(p.invoice) ?? [];
    byInvoice.push(p);
    this.paymentsByInvoice.set(p.invoice, byInvoice);
    const byPayment = this.paymentsByPayment.get(p.payment.id) ?? [];
    byPayment.push(p);
    this.paymentsByPayment.set(p.payment.id, byPayment);
  }

  // --- events ----------------------------------------------------------------------------------------------------

  private emit<K extends Kind>(type: string, kind: K, record: RecordOf[K], previous: Record<string, unknown> | null = null): EventRecord {
    const event: EventRecord = {
      id: this.nextId('evt'), created: this.clock.now(), type, kind, object: clone(record), previous,
      account: this.connected ? this.id : null,
    };
    this.events.add(event);
    return event;
  }

  private must<K extends Kind>(kind: K, id: string): RecordOf[K] {
    const record = this.collection(kind).get(id);
    if (!record || (kind === 'invoice' && (record as InvoiceRecord).status === 'deleted')) throw new Error(`No such ${kind}: ${id}`);
    return record;
  }

  // --- mutations (each stamps the fake's clock, then moves it on by a second) ------------------------------------

  createCustomer(input: { name?: string | null; email?: string | null; currency?: string | null; country?: string | null; balance?: number; id?: string }): CustomerRecord {
    const customer: CustomerRecord = {
      id: input.id ?? this.nextId('cus'), created: this.clock.now(), name: input.name ?? null, email: input.email ?? null,
      currency: input.currency?.toLowerCase() ?? null, country: input.country ?? null, balance: input.balance ?? 0, deleted: false,
    };
    this.customers.add(customer);
    this.emit('customer.created', 'customer', customer);
    this.clock.tick();
    return customer;
  }

  updateCustomer(id: string, patch: Partial<Pick<CustomerRecord, 'name' | 'email' | 'currency' | 'country' | 'balance'>>): CustomerRecord {
    const customer = this.must('customer', id);
    const previous = Object.fromEntries(Object.keys(patch).map((k) => [k, customer[k as keyof CustomerRecord]]));
    Object.assign(customer, patch);
    this.emit('customer.updated', 'customer', customer, previous);
    this.clock.tick();
    return customer;
  }

  deleteCustomer(id: string): void {
    const customer = this.must('customer', id);
    customer.deleted = true;
    this.emit('customer.deleted', 'customer', customer);
    this.clock.tick();
  }

  createInvoice(input: InvoiceInput): InvoiceRecord {
    const customer = this.must('customer', input.customer);
    const now = this.clock.now();
    const lines: LineRecord[] = input.lines.map((l) => ({
      id: this.nextId('il'), amount: l.amount, quantity: l.quantity ?? 1, description: l.description ?? null,
      product: l.product ?? null, price: l.price ?? null, tax: l.tax ?? 0,
    }));
    const invoice: InvoiceRecord = {
      id: this.nextId('in'), created: now, customer: customer.id, currency: (input.currency ?? customer.currency ?? 'usd').toLowerCase(),
      number: null, status: 'draft', collection_method: input.collection_method ?? 'send_invoice', due_date: null,
      effective_at: null, finalized_at: null, paid_at: null, voided_at: null, marked_uncollectible_at: null,
      total: lineTotal(lines), amount_paid: 0, amount_paid_off_stripe: 0, pre_payment_credit_notes_amount: 0,
      post_payment_credit_notes_amount: 0, starting_balance: customer.balance, ending_balance: null, lines,
    };
    this.invoices.add(invoice);
    this.emit('invoice.created', 'invoice', invoice);
    this.clock.tick();
    if (!input.draft) this.finalizeInvoice(invoice.id, { daysUntilDue: input.daysUntilDue, applyBalance: input.applyBalance });
    return invoice;
  }

  finalizeInvoice(id: string, options: { daysUntilDue?: number; applyBalance?: boolean } = {}): InvoiceRecord {
    const invoice = this.must('invoice', id);
    if (invoice.status !== 'draft') throw new Error(`Invoice ${id} is ${invoice.status}, not a draft`);
    const customer = this.must('customer', invoice.customer);
    const now = this.clock.now();
    this.invoiceNumbers += 1;
    invoice.number = `${invoice.customer.slice(-6).toUpperCase()}-${String(this.invoiceNumbers).padStart(4, '0')}`;
    invoice.status = 'open';
    invoice.finalized_at = now;
    invoice.effective_at = now;
    invoice.due_date = invoice.collection_method === 'send_invoice' ? now + (options.daysUntilDue ?? 30) * 86_400 : null;
    invoice.starting_balance = customer.balance;
    let applied = 0;
    if (options.applyBalance !== false && customer.balance < 0) applied = Math.min(-customer.balance, invoice.total);
    customer.balance += applied;
    invoice.ending_balance = customer.balance;
    if (amountDue(invoice) === 0) {
      invoice.status = 'paid';
      invoice.paid_at = now;
    }
    this.emit('invoice.finalized', 'invoice', invoice, { status: 'draft' });
    if (invoice.status === 'paid') this.emit('invoice.paid', 'invoice', invoice, { status: 'open' });
    this.clock.tick();
    return invoice;
  }

  deleteInvoice(id: string): void {
    const invoice = this.must('invoice', id);
    if (invoice.status !== 'draft') throw new Error(`Only drafts can be deleted; ${id} is ${invoice.status}`);
    invoice.status = 'deleted';
    this.emit('invoice.deleted', 'invoice', invoice);
    this.clock.tick();
  }

  private settleIfDone(invoice: InvoiceRecord, events: string[]): void {
    if ((invoice.status === 'open' || invoice.status === 'uncollectible') && invoice.amount_paid >= amountDue(invoice)) {
      invoice.status = 'paid';
      invoice.paid_at = this.clock.now();
      events.push('invoice.paid');
    }
  }

  /** One payment (a PaymentIntent and its charge, a bare charge, or a payment record) paying one or more invoices. */
  pay(input: PayInput): { paymentId: string; chargeId: string | null; invoicePayments: InvoicePaymentRecord[] } {
    const now = this.clock.now();
    const via = input.via ?? 'payment_intent';
    const parts = input.invoices.map((entry) => {
      const { id, amount } = typeof entry === 'string' ? { id: entry, amount: undefined } : entry;
      const invoice = this.must('invoice', id);
      if (invoice.status !== 'open' && invoice.status !== 'uncollectible') throw new Error(`Invoice ${id} is ${invoice.status}; it cannot be paid`);
      const remaining = amountRemaining(invoice);
      const paid = amount ?? remaining;
      if (paid <= 0 || paid > remaining) throw new Error(`Invoice ${id}: cannot pay ${paid} of ${remaining}`);
      return { invoice, paid };
    });
    const first = parts[0];
    if (!first) throw new Error('pay: no invoices');
    const currency = first.invoice.currency;
    if (parts.some((p) => p.invoice.currency !== currency)) throw new Error('pay: invoices of one payment share a currency');
    const total = parts.reduce((sum, p) => sum + p.paid, 0);
    const customer = first.invoice.customer;
    let paymentId: string;
    let chargeId: string | null = null;
    if (via === 'payment_record') {
      paymentId = this.nextId('prec');
    } else {
      chargeId = this.nextId('ch');
      const pi = via === 'payment_intent' ? this.nextId('pi') : null;
      if (pi) {
        this.paymentIntents.add({ id: pi, created: now, customer, currency, amount: total, amount_received: total, status: 'succeeded', latest_charge: chargeId });
      }
      this.charges.add({
        id: chargeId, created: now, customer, currency, amount: total, amount_captured: total, amount_refunded: 0,
        payment_intent: pi, disputed: false, status: 'succeeded',
      });
      paymentId = pi ?? chargeId;
    }
    const invoicePayments: InvoicePaymentRecord[] = [];
    for (const { invoice, paid } of parts) {
      const record: InvoicePaymentRecord = {
        id: this.nextId('inpay'), created: now, invoice: invoice.id, currency, amount_requested: paid, amount_paid: paid,
        status: 'paid', is_default: parts.length === 1 && via === 'payment_intent', paid_at: now, canceled_at: null,
        payment: { type: via, id: paymentId },
      };
      this.addInvoicePayment(record);
      invoicePayments.push(record);
      const previous = { amount_paid: invoice.amount_paid, amount_remaining: amountRemaining(invoice), status: invoice.status };
      invoice.amount_paid += paid;
      const extra: string[] = [];
      this.settleIfDone(invoice, extra);
      this.emit('invoice_payment.paid', 'invoice_payment', record);
      this.emit('invoice.updated', 'invoice', invoice, previous);
      for (const type of extra) this.emit(type, 'invoice', invoice);
      if (invoice.status === 'paid') this.emit('invoice.payment_succeeded', 'invoice', invoice);
    }
    if (chargeId) this.emit('charge.succeeded', 'charge', this.must('charge', chargeId));
    this.clock.tick();
    return { paymentId, chargeId, invoicePayments };
  }

  /** Marks the invoice paid outside Stripe (`paid_out_of_band`): no payment object, `amount_paid_off_stripe`. */
  payOutOfBand(id: string): InvoiceRecord {
    const invoice = this.must('invoice', id);
    if (invoice.status !== 'open' && invoice.status !== 'uncollectible') throw new Error(`Invoice ${id} is ${invoice.status}`);
    const previous = { amount_paid: invoice.amount_paid, status: invoice.status };
    const remaining = amountRemaining(invoice);
    invoice.amount_paid += remaining;
    invoice.amount_paid_off_stripe += remaining;
    invoice.status = 'paid';
    invoice.paid_at = this.clock.now();
    this.emit('invoice.updated', 'invoice', invoice, previous);
    this.emit('invoice.paid', 'invoice', invoice);
    this.clock.tick();
    return invoice;
  }

  /** Refunds (part of) a charge or PaymentIntent; Stripe leaves the invoices it paid as they are. */
  refund(target: string, amount?: number, options: { reason?: string | null; tick?: boolean } = {}): RefundRecord {
    const pi = target.startsWith('pi_') ? this.must('payment_intent', target) : null;
    const chargeId = pi ? pi.latest_charge : target;
    if (!chargeId) throw new Error(`${target} has no charge`);
    const charge = this.must('charge', chargeId);
    const refundable = charge.amount_captured - charge.amount_refunded;
    const value = amount ?? refundable;
    if (value <= 0 || value > refundable) throw new Error(`Charge ${charge.id}: cannot refund ${value} of ${refundable}`);
    const refund: RefundRecord = {
      id: this.nextId('re'), created: this.clock.now(), charge: charge.id, payment_intent: charge.payment_intent,
      currency: charge.currency, amount: value, status: 'succeeded', reason: options.reason ?? null,
    };
    this.addRefund(refund);
    const previous = { amount_refunded: charge.amount_refunded, refunded: charge.amount_refunded >= charge.amount_captured };
    charge.amount_refunded += value;
    this.emit('refund.created', 'refund', refund);
    this.emit('charge.refunded', 'charge', charge, previous);
    if (options.tick !== false) this.clock.tick();
    return refund;
  }

  /**
   * A credit note on a finalized invoice. While the invoice has an amount remaining, the credit lowers it
   * (pre-payment); what exceeds it is post-payment, given back by refunding the invoice's payment, out of band, or
   * to the customer's balance.
   */
  createCreditNote(input: CreditNoteInput): CreditNoteRecord {
    const invoice = this.must('invoice', input.invoice);
    if (invoice.status !== 'open' && invoice.status !== 'paid' && invoice.status !== 'uncollectible') {
      throw new Error(`Invoice ${invoice.id} is ${invoice.status}; no credit note`);
    }
    const now = this.clock.now();
    const remaining = amountRemaining(invoice);
    const pre = Math.min(remaining, input.amount);
    const post = input.amount - pre;
    const refunds: CreditNoteRecord['refunds'] = [];
    let outOfBand: number | null = null;
    let credit = 0;
    if (post > 0) {
      const settle = input.settle ?? 'refund';
      if (settle === 'out_of_band') outOfBand = post;
      else if (settle === 'customer_balance') credit = post;
      else {
        const payment = (this.paymentsByInvoice.get(invoice.id) ?? []).find((p) => p.status === 'paid' && p.payment.type !== 'payment_record');
        if (!payment) throw new Error(`Invoice ${invoice.id} has no Stripe payment to refund`);
        const refund = this.refund(payment.payment.id, post, { reason: 'requested_by_customer', tick: false });
        refunds.push({ refund: refund.id, amount_refunded: post });
      }
    }
    const count = this.creditNotes.items.filter((n) => n.invoice === invoice.id).length + 1;
    const note: CreditNoteRecord = {
      id: this.nextId('cn'), created: now, number: `${invoice.number ?? invoice.id}-CN-${String(count).padStart(2, '0')}`,
      invoice: invoice.id, customer: invoice.customer, currency: invoice.currency, total: input.amount,
      type: pre > 0 && post > 0 ? 'mixed' : pre > 0 ? 'pre_payment' : 'post_payment', pre_payment_amount: pre,
      post_payment_amount: post, out_of_band_amount: outOfBand, credit_amount: credit, refunds, status: 'issued',
      reason: input.reason ?? null, memo: input.memo ?? null, effective_at: now, voided_at: null,
    };
    this.creditNotes.add(note);
    const previous = { amount_remaining: remaining, status: invoice.status };
    invoice.pre_payment_credit_notes_amount += pre;
    invoice.post_payment_credit_notes_amount += post;
    if (credit > 0) this.must('customer', invoice.customer).balance -= credit;
    const extra: string[] = [];
    this.settleIfDone(invoice, extra);
    this.emit('credit_note.created', 'credit_note', note);
    this.emit('invoice.updated', 'invoice', invoice, previous);
    for (const type of extra) this.emit(type, 'invoice', invoice);
    this.clock.tick();
    return note;
  }

  /** Voids a credit note: its credit no longer lowers the invoice (refunds made stay made). */
  voidCreditNote(id: string): CreditNoteRecord {
    const note = this.must('credit_note', id);
    if (note.status === 'void') throw new Error(`Credit note ${id} is void already`);
    const invoice = this.must('invoice', note.invoice);
    note.status = 'void';
    note.voided_at = this.clock.now();
    const previous = { status: invoice.status };
    invoice.pre_payment_credit_notes_amount -= note.pre_payment_amount;
    invoice.post_payment_credit_notes_amount -= note.post_payment_amount;
    if (invoice.status === 'paid' && invoice.amount_paid < amountDue(invoice)) {
      invoice.status = 'open';
      invoice.paid_at = null;
    }
    this.emit('credit_note.voided', 'credit_note', note, { status: 'issued' });
    this.emit('invoice.updated', 'invoice', invoice, previous);
    this.clock.tick();
    return note;
  }

  voidInvoice(id: string): InvoiceRecord {
    const invoice = this.must('invoice', id);
    if (invoice.status !== 'open' && invoice.status !== 'uncollectible') throw new Error(`Invoice ${id} is ${invoice.status}; it cannot be voided`);
    const previous = { status: invoice.status };
    invoice.status = 'void';
    invoice.voided_at = this.clock.now();
    const applied = appliedBalance(invoice);
    if (applied > 0) this.must('customer', invoice.customer).balance -= applied;
    this.emit('invoice.voided', 'invoice', invoice, previous);
    this.emit('invoice.updated', 'invoice', invoice, previous);
    this.clock.tick();
    return invoice;
  }

  markUncollectible(id: string): InvoiceRecord {
    const invoice = this.must('invoice', id);
    if (invoice.status !== 'open') throw new Error(`Invoice ${id} is ${invoice.status}; only open invoices become uncollectible`);
    invoice.status = 'uncollectible';
    invoice.marked_uncollectible_at = this.clock.now();
    this.emit('invoice.marked_uncollectible', 'invoice', invoice, { status: 'open' });
    this.emit('invoice.updated', 'invoice', invoice, { status: 'open' });
    this.clock.tick();
    return invoice;
  }

  /** A dispute opened on a charge (Stripe sets `disputed`). */
  dispute(chargeId: string): ChargeRecord {
    const charge = this.must('charge', chargeId);
    charge.disputed = true;
    this.emit('charge.updated', 'charge', charge, { disputed: false });
    this.clock.tick();
    return charge;
  }
}

export { base62 };
