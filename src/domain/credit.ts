/**
 * The credit check of a deal: what the customer would owe if the deal were invoiced in full, against its
 * credit limit, in the limit's currency. The part of the deal already invoiced is in the outstanding amount
 * (or was paid), so only the rest of the deal is added.
 */
export type CreditCheck = {
  limitMinor: number;
  outstandingMinor: number;
  /** The deal's amount not invoiced yet (never below zero). */
  uninvoicedDealMinor: number;
  totalMinor: number;
  /** total ÷ limit; null for a zero limit. */
  utilisation: number | null;
  exceeds: boolean;
};

export const creditCheck = (input: { limitMinor: number; outstandingMinor: number; dealMinor: number; invoicedOnDealMinor: number }): CreditCheck => {
  const uninvoicedDealMinor = Math.max(0, input.dealMinor - input.invoicedOnDealMinor);
  const totalMinor = input.outstandingMinor + uninvoicedDealMinor;
  return {
    limitMinor: input.limitMinor,
    outstandingMinor: input.outstandingMinor,
    uninvoicedDealMinor,
    totalMinor,
    utilisation: input.limitMinor > 0 ? totalMinor / input.limitMinor : null,
    exceeds: totalMinor > input.limitMinor,
  };
};

/** A customer's credit limit and where it comes from: set by hand on the card (wins) or from the accounting source. */
export type CreditLimit = { limitMinor: number; currency: string; origin: 'manual' | 'source' };

export const effectiveCreditLimit = (row: {
  manualMinor: number | null; manualCurrency: string | null; sourceMinor: number | null; sourceCurrency: string | null;
}): CreditLimit | null => {
  if (row.manualMinor !== null && row.manualCurrency !== null) return { limitMinor: row.manualMinor, currency: row.manualCurrency, origin: 'manual' };
  if (row.sourceMinor !== null && row.sourceCurrency !== null) return { limitMinor: row.sourceMinor, currency: row.sourceCurrency, origin: 'source' };
  return null;
};

/**
 * The credit check of a deal given in `dealCurrency` (null: not said, taken as the limit's), or null when it
 * cannot be made: the deal's amount is in another currency than the limit. A deal without an amount adds nothing.
 */
export const dealCreditCheck = (input: {
  limit: CreditLimit; outstandingMinor: number; dealAmountMinor: number | null; dealCurrency: string | null; invoicedOnDealMinor: number;
}): CreditCheck | null => {
  if (input.dealAmountMinor !== null && input.dealCurrency !== null && input.dealCurrency !== input.limit.currency) return null;
  return creditCheck({
    limitMinor: input.limit.limitMinor, outstandingMinor: input.outstandingMinor,
    dealMinor: input.dealAmountMinor ?? 0, invoicedOnDealMinor: input.invoicedOnDealMinor,
  });
};
