import { createRng } from '../../../src/demo/generate';
import {
  base62, type ChargeRecord, type CreditNoteRecord, type CustomerRecord, type InvoicePaymentRecord, type InvoiceRecord,
  type LineRecord, type PaymentIntentRecord, type RefundRecord, type SeedData,
} from './state';

/**
 * Seeded, consistent Stripe data for the fake, built straight as records (no events) so 100,000 invoices take a
 * second or two: customers in a few currencies (JPY among them), invoices with one to three lines, and the ways
 * Stripe invoices end: open, partly paid, paid by a PaymentIntent (some paying two or three invoices at once),
 * paid out of band, credited before payment, refunded in part or in full, uncollectible, void, still draft.
 */

export type GenerateOptions = {
  invoices: number;
  /** Default invoices / 20 (at least 1). */
  customers?: number;
  seed?: number;
  /** Unix seconds of the newest object; default now. */
  end?: number;
  /** Days the invoices spread over, ending at `end`; default 365. */
  spanDays?: number;
  /** Id tag, so two generated sets can share one account. */
  tag?: string;
};

const CURRENCIES: ReadonlyArray<{ code: string; scale: number; weight: number }> = [
  { code: 'usd', scale: 100, weight: 6 }, { code: 'eur', scale: 100, weight: 2 }, { code: 'gbp', scale: 100, weight: 1 },
  { code: 'jpy', scale: 1, weight: 1 },
];

export const generateStripeData = (options: GenerateOptions): SeedData => {
  const rng = createRng(options.seed ?? 1);
  const end = options.end ?? Math.floor(Date.now() / 1000);
  const span = (options.spanDays ?? 365) * 86_400;
  const start = end - span;
  const tag = options.tag ?? 'G';
  const nInvoices = options.invoices;
  const nCustomers = Math.max(1, options.customers ?? Math.ceil(nInvoices / 20));
  const id = (prefix: string, n: number): string => `${prefix}_1${tag}${base62(n, 10)}`;
  const totalWeight = CURRENCIES.reduce((s, c) => s + c.weight, 0);
  const pickCurrency = (): (typeof CURRENCIES)[number] => {
    let r = rng.next() * totalWeight;
    for (const c of CURRENCIES) {
      r -= c.weight;
      if (r < 0) return c;
    }
    return CURRENCIES[0] as (typeof CURRENCIES)[number];
  };

  const customers: CustomerRecord[] = [];
  const scaleOf = new Map<string, number>();
  for (let c = 0; c < nCustomers; c += 1) {
    const currency = pickCurrency();
    scaleOf.set(currency.code, currency.scale);
    customers.push({
      id: id('cus', c), created: start - 86_400 + Math.floor((c * 86_000) / nCustomers), name: `Customer ${c + 1}`,
      email: `billing@customer${c + 1}.example`, currency: currency.code, country: rng.pick(['US', 'DE', 'GB', 'JP', 'FR']),
      balance: 0, deleted: false,
    });
  }

  const invoices: InvoiceRecord[] = [];
  const invoicePayments: InvoicePaymentRecord[] = [];
  const paymentIntents: PaymentIntentRecord[] = [];
  const charges: ChargeRecord[] = [];
  const refunds: RefundRecord[] = [];
  const creditNotes: CreditNoteRecord[] = [];
  const n = { ip: 0, pi: 0, cn: 0, re: 0, line: 0 };
  const later = (t: number, maxDays: number): number => Math.min(end, t + 3_600 + Math.floor(rng.next() * maxDays * 86_400));

  const payWithIntent = (group: InvoiceRecord[], at: number, amounts: number[]): { pi: PaymentIntentRecord; charge: ChargeRecord } => {
    const first = group[0] as InvoiceRecord;
    const total = amounts.reduce((s, a) => s + a, 0);
    const piId = id('pi', n.pi);
    const chId = id('ch', n.pi);
    n.pi += 1;
    const pi: PaymentIntentRecord = { id: piId, created: at, customer: first.customer, currency: first.currency, amount: total, amount_received: total, status: 'succeeded', latest_charge: chId };
    const charge: ChargeRecord = {
      id: chId, created: at, customer: first.customer, currency: first.currency, amount: total, amount_captured: total,
      amount_refunded: 0, payment_intent: piId, disputed: false, status: 'succeeded',
    };
    paymentIntents.push(pi);
    charges.push(charge);
    group.forEach((invoice, k) => {
      const paid = amounts[k] as number;
      invoicePayments.push({
        id: id('inpay', n.ip), created: at, invoice: invoice.id, currency: invoice.currency, amount_requested: paid,
        amount_paid: paid, status: 'paid', is_default: group.length === 1, paid_at: at, canceled_at: null,
        payment: { type: 'payment_intent', id: piId },
      });
      n.ip += 1;
      invoice.amount_paid += paid;
    });
    return { pi, charge };
  };

  const markPaid = (invoice: InvoiceRecord, at: number): void => {
    invoice.status = 'paid';
    invoice.paid_at = at;
  };

  let i = 0;
  while (i < nInvoices) {
    const customer = customers[Math.floor(rng.next() * nCustomers)] as CustomerRecord;
    const currency = customer.currency ?? 'usd';
    const scale = scaleOf.get(currency) ?? 100;
    // Consecutive invoices of one customer, now and then paid together by one PaymentIntent.
    const groupSize = rng.chance(0.04) ? rng.int(2, 3) : 1;
    const group: InvoiceRecord[] = [];
    for (let g = 0; g < groupSize && i < nInvoices; g += 1, i += 1) {
      const created = start + Math.floor((i * span) / nInvoices);
      const lines: LineRecord[] = [];
      const lineCount = rng.int(1, 3);
      for (let l = 0; l < lineCount; l += 1) {
        const quantity = rng.int(1, 10);
        const unit = rng.int(5, 500) * scale;
        const amount = quantity * unit;
        lines.push({
          id: id('il', n.line), amount, quantity, description: `Service ${rng.int(1, 20)}`,
          product: `prod_1${tag}${base62(rng.int(1, 20), 6)}`, price: null, tax: rng.chance(0.3) ? Math.round(amount / 10) : 0,
        });
        n.line += 1;
      }
      const total = lines.reduce((s, l) => s + l.amount + l.tax, 0);
      const draft = rng.chance(0.03);
      const automatic = rng.chance(0.2);
      invoices.push({
        id: id('in', i), created, customer: customer.id, currency, number: draft ? null : `${tag}${base62(i, 6)}-0001`,
        status: draft ? 'draft' : 'open', collection_method: automatic ? 'charge_automatically' : 'send_invoice',
        due_date: draft || automatic ? null : created + rng.pick([14, 30, 45, 60]) * 86_400, effective_at: draft ? null : created,
        finalized_at: draft ? null : created, paid_at: null, voided_at: null, marked_uncollectible_at: null, total,
        amount_paid: 0, amount_paid_off_stripe: 0, pre_payment_credit_notes_amount: 0, post_payment_credit_notes_amount: 0,
        starting_balance: 0, ending_balance: draft ? null : 0, lines,
      });
      const invoice = invoices[invoices.length - 1] as InvoiceRecord;
      if (!draft) group.push(invoice);
    }
    if (group.length === 0) continue;
    const first = group[0] as InvoiceRecord;
    const at = later(first.created, 60);
    if (group.length > 1) {
      payWithIntent(group, at, group.map((g) => g.total));
      for (const g of group) markPaid(g, at);
      continue;
    }
    const invoice = first;
    const roll = rng.next();
    if (roll < 0.03) {
      invoice.status = 'void';
      invoice.voided_at = later(invoice.created, 20);
    } else if (roll < 0.07) {
      if (rng.chance(0.5)) payWithIntent([invoice], at, [Math.floor(invoice.total / 3)]);
      invoice.status = 'uncollectible';
      invoice.marked_uncollectible_at = Math.max(at, later(invoice.created, 90));
    } else if (roll < 0.35) {
      if (rng.chance(0.3)) payWithIntent([invoice], at, [Math.floor(invoice.total / 2)]);
    } else if (roll < 0.38) {
      invoice.amount_paid = invoice.total;
      invoice.amount_paid_off_stripe = invoice.total;
      markPaid(invoice, at);
    } else if (roll < 0.42) {
      // Credited in part before it was paid.
      const credit = Math.max(1, Math.floor(invoice.total / 4));
      creditNotes.push({
        id: id('cn', n.cn), created: later(invoice.created, 5), number: `${invoice.number}-CN-01`, invoice: invoice.id,
        customer: invoice.customer, currency, total: credit, type: 'pre_payment', pre_payment_amount: credit,
        post_payment_amount: 0, out_of_band_amount: null, credit_amount: 0, refunds: [], status: 'issued',
        reason: 'order_change', memo: null, effective_at: null, voided_at: null,
      });
      n.cn += 1;
      invoice.pre_payment_credit_notes_amount = credit;
      payWithIntent([invoice], Math.max(at, (creditNotes[creditNotes.length - 1] as CreditNoteRecord).created), [invoice.total - credit]);
      markPaid(invoice, at);
    } else {
      const { charge } = payWithIntent([invoice], at, [invoice.total]);
      markPaid(invoice, at);
      if (rng.chance(0.04)) {
        const amount = rng.chance(0.25) ? charge.amount : Math.max(1, Math.floor(charge.amount / 5));
        const when = later(at, 30);
        refunds.push({ id: id('re', n.re), created: when, charge: charge.id, payment_intent: charge.payment_intent, currency, amount, status: 'succeeded', reason: 'requested_by_customer' });
        n.re += 1;
        charge.amount_refunded = amount;
      }
    }
  }

  const byCreated = <T extends { created: number }>(items: T[]): T[] => items.sort((a, b) => a.created - b.created);
  return {
    customers, invoices, invoicePayments: byCreated(invoicePayments), paymentIntents: byCreated(paymentIntents),
    charges: byCreated(charges), refunds: byCreated(refunds), creditNotes: byCreated(creditNotes),
  };
};
