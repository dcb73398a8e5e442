import type { AccountData, InvoiceRecord } from './state';

/**
 * A small Stripe account built through the fake's mutations (so every step has its events), one invoice per way
 * an invoice can end: paid with another by one PaymentIntent, refunded in part and in full, credited before
 * payment, credited after payment with a refund, uncollectible after a partial payment, void, draft, yen,
 * paid out of band, settled in part by the customer's credit balance, charged automatically (no due date), and one
 * with more lines than an invoice embeds.
 */

export const DAY = 86_400;

export type StripeScenario = {
  start: number;
  customers: { acme: string; bolt: string; kaito: string };
  invoices: {
    multiA: string; multiB: string; refundedPart: string; refundedFull: string; credited: string; uncollectible: string;
    voided: string; draft: string; yen: string; offStripe: string; postCredit: string; manyLines: string; automatic: string;
    balanced: string;
  };
  payments: { multi: string; part: string; full: string; credited: string; uncollectible: string; yen: string; post: string; manyLines: string };
  creditNotes: { credited: string; post: string };
  day(n: number): number;
};

/** Builds the scenario from `start` (unix seconds, the fake's clock is set to it). */
export const buildScenario = (account: AccountData, clock: { set(unix: number): void; now(): number }, start: number): StripeScenario => {
  const day = (n: number): number => start + n * DAY;
  clock.set(day(0));
  const acme = account.createCustomer({ name: 'Acme Inc', email: 'billing@Acme.example', currency: 'usd', country: 'US' }).id;
  const bolt = account.createCustomer({ name: 'Bolt GmbH', email: 'ap@bolt.example', currency: 'eur', country: 'DE' }).id;
  const kaito = account.createCustomer({ name: 'Kaito KK', email: 'keiri@kaito.example', currency: 'jpy', country: 'JP' }).id;
  const invoice = (customer: string, lines: Parameters<AccountData['createInvoice']>[0]['lines'], extra: Partial<Parameters<AccountData['createInvoice']>[0]> = {}): InvoiceRecord =>
    account.createInvoice({ customer, lines, ...extra });
  const multiA = invoice(acme, [{ amount: 100_000, quantity: 10, description: 'Consulting (10 h)', product: 'prod_Consulting01' }]).id;
  const multiB = invoice(acme, [{ amount: 50_000, description: 'Support', product: 'prod_Support0001' }]).id;
  const refundedPart = invoice(acme, [{ amount: 20_000, tax: 2_000, description: 'Licence', product: 'prod_Licence0001' }]).id;
  const refundedFull = invoice(bolt, [{ amount: 8_000, description: 'Workshop' }]).id;
  const credited = invoice(acme, [{ amount: 30_000, description: 'Implementation' }]).id;
  const uncollectible = invoice(bolt, [{ amount: 40_000, description: 'Hardware' }]).id;
  const voided = invoice(acme, [{ amount: 5_000, description: 'Duplicate' }]).id;
  const draft = invoice(acme, [{ amount: 7_000, description: 'Not sent' }], { draft: true }).id;
  const yen = invoice(kaito, [{ amount: 12_000, quantity: 3, description: 'Onsen pass', product: 'prod_Onsen000001' }]).id;
  const offStripe = invoice(bolt, [{ amount: 12_000, description: 'Paid by wire' }]).id;
  const postCredit = invoice(acme, [{ amount: 10_000, description: 'Training' }]).id;
  const manyLines = invoice(acme, Array.from({ length: 12 }, (_, i) => ({ amount: 1_000, description: `Item ${i + 1}`, product: `prod_Item${String(i + 1).padStart(7, '0')}` }))).id;
  const automatic = invoice(acme, [{ amount: 2_500, description: 'Subscription' }], { collection_method: 'charge_automatically' }).id;
  account.updateCustomer(bolt, { balance: -3_000 });
  const balanced = invoice(bolt, [{ amount: 10_000, description: 'Retainer' }]).id;

  clock.set(day(3));
  const creditedNote = account.createCreditNote({ invoice: credited, amount: 10_000, reason: 'order_change' }).id;

  clock.set(day(5));
  const multi = account.pay({ invoices: [multiA, multiB] }).paymentId;
  const part = account.pay({ invoices: [refundedPart] }).paymentId;
  const full = account.pay({ invoices: [refundedFull] }).paymentId;
  const creditedPayment = account.pay({ invoices: [credited] }).paymentId;
  const uncollectiblePayment = account.pay({ invoices: [{ id: uncollectible, amount: 10_000 }] }).paymentId;
  const yenPayment = account.pay({ invoices: [{ id: yen, amount: 5_000 }] }).paymentId;
  account.payOutOfBand(offStripe);
  const post = account.pay({ invoices: [postCredit] }).paymentId;
  const manyLinesPayment = account.pay({ invoices: [manyLines] }).paymentId;

  clock.set(day(8));
  account.refund(part, 5_000);
  account.refund(full);
  account.voidInvoice(voided);
  const postNote = account.createCreditNote({ invoice: postCredit, amount: 3_000, settle: 'refund', reason: 'product_unsatisfactory' }).id;

  clock.set(day(20));
  account.markUncollectible(uncollectible);
  clock.set(day(21));

  return {
    start,
    customers: { acme, bolt, kaito },
    invoices: { multiA, multiB, refundedPart, refundedFull, credited, uncollectible, voided, draft, yen, offStripe, postCredit, manyLines, automatic, balanced },
    payments: { multi, part, full, credited: creditedPayment, uncollectible: uncollectiblePayment, yen: yenPayment, post, manyLines: manyLinesPayment },
    creditNotes: { credited: creditedNote, post: postNote },
    day,
  };
};
