import type Stripe from 'stripe';
import { currencyExponent } from '../../domain/money';
import type { IsoDate } from '../../domain/types';
import type { SourceCustomer, SourceInvoice, SourceInvoiceLine, SourceInvoiceStatus, SourcePayment } from '../types';

// Stripe objects (API 2026-10-28.endive) into the canonical model. Pure: no I/O, no clock.
//
// How an invoice is settled, in the canonical model:
// - payments: each PaymentIntent (or bare charge, or payment record) with its paid InvoicePayments as allocations;
//   money refunded on its charge is taken off its allocations (a payment refunded in full is removed);
// - credit notes: the pre-payment amount, plus the post-payment amount refunded through Stripe (that refund
//   lowered the payment above, and the credit note keeps the invoice settled); credit given to the customer's
//   balance or refunded out of band leaves the invoice settled by its payment and is not allocated;
// - `amount_paid_off_stripe` (paid out of band, no payment object): a payment of the invoice dated `paid_at`;
// - customer credit balance applied at finalization (ending − starting balance): a credit of the invoice;
// - `uncollectible`: a write-off of the amount remaining, dated `marked_uncollectible_at`.
// Together with `amount_remaining` these add up to the invoice's total (before refunds), as in Stripe.

/** Stripe's zero-decimal currencies (its amounts are whole units); ISK is two-decimal in Stripe's API. */
const STRIPE_ZERO_DECIMAL = new Set(['BIF', 'CLP', 'DJF', 'GNF', 'JPY', 'KMF', 'KRW', 'MGA', 'PYG', 'RWF', 'UGX', 'VND', 'VUV', 'XAF', 'XOF', 'XPF']);
const STRIPE_THREE_DECIMAL = new Set(['BHD', 'JOD', 'KWD', 'OMR', 'TND']);

export const stripeExponent = (currency: string): number =>
  STRIPE_ZERO_DECIMAL.has(currency) ? 0 : STRIPE_THREE_DECIMAL.has(currency) ? 3 : 2;

/** Upper-case ISO 4217. */
export const currencyOf = (stripeCurrency: string): string => stripeCurrency.toUpperCase();

/**
 * A Stripe amount as minor units of the ISO 4217 currency. They agree except where Stripe's decimals differ from
 * ISO's: ISK (two decimals in Stripe, none in ISO: 500 is 5 krónur) and MGA (none in Stripe, two in ISO).
 */
export const toMinor = (amount: number, currency: string): number => {
  const shift = currencyExponent(currency) - stripeExponent(currency);
  if (shift === 0) return amount;
  return shift > 0 ? amount * 10 ** shift : Math.round(amount / 10 ** -shift);
};

export const isoDate = (unixSeconds: number): IsoDate => new Date(unixSeconds * 1000).toISOString().slice(0, 10);

export const isoTime = (unixSeconds: number): string => new Date(unixSeconds * 1000).toISOString();

const idOf = (value: string | { id: string } | null | undefined): string | null =>
  value === null || value === undefined ? null : typeof value === 'string' ? value : value.id;

const domainOf = (email: string | null | undefined): string | null => {
  const at = email?.lastIndexOf('@') ?? -1;
  if (!email || at < 0) return null;
  const domain = email.slice(at + 1).trim().toLowerCase();
  return domain || null;
};

/**
 * A customer; a deleted one (retrieving it answers `{id, deleted: true}`) is archived, with what `last` (the object
 * an event carried before the deletion) says of it.
 */
export const mapCustomer = (
  customer: Stripe.Customer | Stripe.DeletedCustomer, updatedAt: string | null = null, last: Stripe.Customer | null = null,
): SourceCustomer => {
  const deleted = 'deleted' in customer && customer.deleted === true;
  const known: Stripe.Customer | null = deleted ? last : (customer as Stripe.Customer);
  const email = known?.email ?? null;
  const currency = known?.currency ? currencyOf(known.currency) : null;
  return {
    id: customer.id,
    name: known?.name ?? null,
    email,
    domain: domainOf(email),
    country: known?.address?.country ?? null,
    currency,
    archived: deleted,
    creditLimitMinor: null,
    creditLimitCurrency: null,
    updatedAt,
  };
};

const STATUS: Readonly<Record<string, SourceInvoiceStatus>> = {
  draft: 'draft', open: 'open', paid: 'paid', void: 'void', uncollectible: 'uncollectible',
};

export const issueDateOf = (invoice: Stripe.Invoice): IsoDate =>
  isoDate(invoice.effective_at ?? invoice.status_transitions.finalized_at ?? invoice.created);

/** The line's amount with its exclusive taxes (Stripe's invoice total includes them). */
export const mapLine = (line: Stripe.InvoiceLineItem, currency: string): SourceInvoiceLine => {
  const exclusiveTax = (line.taxes ?? []).filter((t) => t.tax_behavior === 'exclusive').reduce((sum, t) => sum + t.amount, 0);
  return {
    productId: idOf(line.pricing?.price_details?.product),
    description: line.description,
    quantity: line.quantity,
    amountMinor: toMinor(line.amount + exclusiveTax, currency),
  };
};

export const SYNTHETIC = { offStripe: 'off_stripe', customerBalance: 'customer_balance', writeOff: 'write_off' } as const;

/** Ids of the settlements an invoice itself implies (they cannot collide with Stripe's ids, which have no ':'). */
export const syntheticId = (invoiceId: string, what: keyof typeof SYNTHETIC): string => `${invoiceId}:${SYNTHETIC[what]}`;

const removedSettlement = (id: string, kind: SourcePayment['kind'], date: IsoDate, currency: string, updatedAt: string | null): SourcePayment =>
  ({ id, kind, date, currency, amountMinor: 0, allocations: [], removed: true, updatedAt });

/** The credit from the customer's balance that finalization applied to the invoice. */
export const appliedBalance = (invoice: Stripe.Invoice): number =>
  invoice.ending_balance === null ? 0 : Math.max(0, invoice.ending_balance - invoice.starting_balance);

/**
 * The invoice and the settlements it implies by itself (paid off Stripe, customer balance, write-off). Null for an
 * invoice with no customer (Stripe allows it for some v2 accounts; it cannot be placed).
 */
export const mapInvoice = (
  invoice: Stripe.Invoice, lines: readonly Stripe.InvoiceLineItem[], updatedAt: string | null = null,
  options: { deleted?: boolean } = {},
): { invoice: SourceInvoice; settlements: SourcePayment[] } | null => {
  const customerId = idOf(invoice.customer);
  if (customerId === null) return null;
  const currency = currencyOf(invoice.currency);
  const issueDate = issueDateOf(invoice);
  const raw = invoice.status ?? 'draft';
  const status: SourceInvoiceStatus = options.deleted ? 'deleted' : (STATUS[raw] ?? 'open');
  const transitions = invoice.status_transitions;
  const mapped: SourceInvoice = {
    id: invoice.id,
    number: invoice.number,
    customerId,
    currency,
    totalMinor: toMinor(invoice.total, currency),
    issueDate,
    dueDate: invoice.due_date === null ? issueDate : isoDate(invoice.due_date),
    status,
    sourceStatus: options.deleted ? 'deleted' : raw,
    voidedDate: status === 'void' && transitions.voided_at !== null ? isoDate(transitions.voided_at) : null,
    disputed: false,
    terms: null,
    reference: null,
    lines: lines.map((line) => mapLine(line, currency)),
    updatedAt,
  };
  const settlements: SourcePayment[] = [];
  if (status === 'draft' || status === 'deleted') return { invoice: mapped, settlements };
  const live = status !== 'void';
  const settlement = (what: keyof typeof SYNTHETIC, kind: SourcePayment['kind'], amount: number, date: IsoDate, possible: boolean): void => {
    const id = syntheticId(invoice.id, what);
    if (live && amount > 0) {
      const minor = toMinor(amount, currency);
      settlements.push({ id, kind, date, currency, amountMinor: minor, allocations: [{ invoiceId: invoice.id, amountMinor: minor }], removed: false, updatedAt });
    } else if (possible) {
      settlements.push(removedSettlement(id, kind, date, currency, updatedAt));
    }
  };
  const offStripe = invoice.amount_paid_off_stripe ?? 0;
  const paidDate = transitions.paid_at !== null ? isoDate(transitions.paid_at) : issueDate;
  settlement('offStripe', 'payment', offStripe, paidDate, offStripe > 0);
  const balance = appliedBalance(invoice);
  settlement('customerBalance', 'credit_note', balance, issueDate, balance > 0);
  const uncollectibleAt = transitions.marked_uncollectible_at;
  settlement('writeOff', 'write_off', status === 'uncollectible' ? invoice.amount_remaining : 0,
    uncollectibleAt !== null ? isoDate(uncollectibleAt) : issueDate, uncollectibleAt !== null);
  return { invoice: mapped, settlements };
};

/** A deleted draft, from the last state an event showed of it. */
export const mapDeletedInvoice = (last: Stripe.Invoice, updatedAt: string | null): SourceInvoice | null =>
  mapInvoice(last, [], updatedAt, { deleted: true })?.invoice ?? null;

export type PaymentKind = 'payment_intent' | 'charge' | 'payment_record';

/** One money movement (a PaymentIntent, a bare charge, a payment record) and the invoice payments it made. */
export type PaymentGroup = {
  /** The PaymentIntent, charge or payment record id: the canonical payment's id. */
  key: string;
  type: PaymentKind;
  /** What it received (PaymentIntent `amount_received`, charge `amount_captured`); null when unknown. */
  received: number | null;
  /** Refunded on its charge. */
  refunded: number;
  /** Refunds tied (through credit notes) to particular invoices of the payment, by invoice id. */
  refundedFor: ReadonlyMap<string, number>;
  invoicePayments: readonly Stripe.InvoicePayment[];
};

/** The payment an invoice payment belongs to: PaymentIntent, else charge, else payment record. */
export const paymentKeyOf = (ip: Stripe.InvoicePayment): { key: string; type: PaymentKind } | null => {
  const p = ip.payment;
  const pi = idOf(p.payment_intent);
  if (pi) return { key: pi, type: 'payment_intent' };
  const charge = idOf(p.charge);
  if (charge) return { key: charge, type: 'charge' };
  const record = idOf(p.payment_record);
  if (record) return { key: record, type: 'payment_record' };
  return null;
};

const invoiceIdOf = (ip: Stripe.InvoicePayment): string => idOf(ip.invoice) as string;

/**
 * Takes `refunded` off the allocations: first what is tied to particular invoices (refunds of their credit notes),
 * then from the latest allocation back. Allocations that reach zero are dropped.
 */
export const applyRefund = (
  allocations: readonly { invoiceId: string; amountMinor: number }[], refunded: number, refundedFor: ReadonlyMap<string, number> = new Map(),
): { invoiceId: string; amountMinor: number }[] => {
  const out = allocations.map((a) => ({ ...a }));
  let left = refunded;
  for (const a of out) {
    const tied = Math.min(refundedFor.get(a.invoiceId) ?? 0, a.amountMinor, left);
    a.amountMinor -= tied;
    left -= tied;
  }
  for (let i = out.length - 1; i >= 0 && left > 0; i -= 1) {
    const a = out[i] as { invoiceId: string; amountMinor: number };
    const take = Math.min(a.amountMinor, left);
    a.amountMinor -= take;
    left -= take;
  }
  return out.filter((a) => a.amountMinor > 0);
};

/** A payment with its allocations (paid invoice payments), less what was refunded. */
export const mapPayment = (group: PaymentGroup, updatedAt: string | null = null): SourcePayment | null => {
  const paid = group.invoicePayments
    .filter((ip) => ip.status === 'paid' && (ip.amount_paid ?? 0) > 0)
    .sort((a, b) => (a.status_transitions.paid_at ?? a.created) - (b.status_transitions.paid_at ?? b.created) || a.id.localeCompare(b.id));
  const first = paid[0];
  if (!first) return null;
  const currency = currencyOf(first.currency);
  const byInvoice = new Map<string, number>();
  for (const ip of paid) byInvoice.set(invoiceIdOf(ip), (byInvoice.get(invoiceIdOf(ip)) ?? 0) + (ip.amount_paid ?? 0));
  const gross = [...byInvoice].map(([invoiceId, amount]) => ({ invoiceId, amountMinor: amount }));
  const allocated = gross.reduce((sum, a) => sum + a.amountMinor, 0);
  const received = group.received ?? allocated;
  const refunded = Math.min(group.refunded, received);
  const net = applyRefund(gross, Math.max(0, refunded - (received - allocated)), group.refundedFor);
  const date = isoDate(first.status_transitions.paid_at ?? first.created);
  return {
    id: group.key,
    kind: 'payment',
    date,
    currency,
    amountMinor: toMinor(received - refunded, currency),
    allocations: net.map((a) => ({ invoiceId: a.invoiceId, amountMinor: toMinor(a.amountMinor, currency) })),
    removed: net.length === 0,
    updatedAt,
  };
};

/** Refunded through Stripe on this credit note (its post-payment part). */
export const creditNoteRefunded = (note: Stripe.CreditNote): number =>
  Math.min(note.post_payment_amount, note.refunds.reduce((sum, r) => sum + r.amount_refunded, 0));

/** A credit note: allocated its pre-payment amount and what of its post-payment amount was refunded; void → removed. */
export const mapCreditNote = (note: Stripe.CreditNote, updatedAt: string | null = null): SourcePayment => {
  const currency = currencyOf(note.currency);
  const allocated = note.pre_payment_amount + creditNoteRefunded(note);
  const invoiceId = idOf(note.invoice) as string;
  const removed = note.status === 'void';
  return {
    id: note.id,
    kind: 'credit_note',
    date: isoDate(note.effective_at ?? note.created),
    currency,
    amountMinor: toMinor(note.total, currency),
    allocations: removed || allocated <= 0 ? [] : [{ invoiceId, amountMinor: toMinor(allocated, currency) }],
    removed,
    updatedAt,
  };
};
