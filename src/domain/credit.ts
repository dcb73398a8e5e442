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
