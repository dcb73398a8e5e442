import { addDays, isIsoDate } from './calendar';
import type { InvoiceFact, IsoDate } from './types';

// Promises to pay: kept or broken is decided from payments, as of a date, never stored.

/** A customer's promise to pay `amountMinor` in `currency` by `promiseDate`, logged on `loggedOn`. */
export type PromiseFact = {
  id: string;
  loggedOn: IsoDate;
  promiseDate: IsoDate;
  amountMinor: number;
  currency: string;
  /** The invoice the promise names (same ids as the payments'), or null for any invoice of the currency. */
  invoiceId: string | null;
};

/** A payment received from the customer: its date, amount and currency, and the invoice it was applied to. */
export type PaymentFact = { date: IsoDate; amountMinor: number; currency: string; invoiceId: string };

export type PromiseStatus = 'pending' | 'kept' | 'broken';

export type PromiseOutcome = {
  status: PromiseStatus;
  /** What counted towards the promise so far (payments in its currency, to its invoice if named, in its window by D). */
  paidMinor: number;
  /** The last day a payment counts: promise date + grace days. */
  deadline: IsoDate;
  /** Kept: the day the payments reached the amount. Broken: the day after the deadline. Else null. */
  decidedOn: IsoDate | null;
};

/**
 * The status of a promise as of D. Payments count when they are of the customer (the caller passes only
 * theirs), in the promise's currency, to its invoice when it names one, and dated in [logged date,
 * promise date + graceDays] and on or before D. Kept when they add up to the amount (on the day they do);
 * broken when D is after promise date + graceDays without that; pending otherwise (also before the promise
 * is logged: a promise logged after D does not exist as of D, the caller leaves it out).
 */
export const promiseStatus = (
  promise: PromiseFact, payments: readonly PaymentFact[], asOf: IsoDate, graceDays: number,
): PromiseOutcome => {
  if (!isIsoDate(asOf)) throw new Error(`asOf is not a calendar date: ${asOf}`);
  const deadline = addDays(promise.promiseDate, graceDays);
  const until = deadline < asOf ? deadline : asOf;
  const counted = payments
    .filter((p) => p.currency === promise.currency && (promise.invoiceId === null || p.invoiceId === promise.invoiceId)
      && p.date >= promise.loggedOn && p.date <= until)
    .sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  let paidMinor = 0;
  let keptOn: IsoDate | null = null;
  for (const p of counted) {
    paidMinor += p.amountMinor;
    if (keptOn === null && paidMinor >= promise.amountMinor) keptOn = p.date;
  }
  if (keptOn !== null) return { status: 'kept', paidMinor, deadline, decidedOn: keptOn };
  if (asOf > deadline) return { status: 'broken', paidMinor, deadline, decidedOn: addDays(deadline, 1) };
  return { status: 'pending', paidMinor, deadline, decidedOn: null };
};

/** The payments (settlements of kind payment) of a set of invoices, dated by D, with their invoice's currency. */
export const paymentsOf = (invoices: readonly InvoiceFact[], asOf: IsoDate): PaymentFact[] =>
  invoices.flatMap((inv) => inv.settlements
    .filter((s) => s.kind === 'payment' && s.date <= asOf)
    .map((s) => ({ date: s.date, amountMinor: s.amountMinor, currency: inv.currency, invoiceId: inv.id })));
