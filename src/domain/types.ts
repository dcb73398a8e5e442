/** ISO calendar date, `YYYY-MM-DD`. Dates carry no time and no zone. */
export type IsoDate = string;

/** What settles part of an invoice. All three reduce the open balance. */
export const SETTLEMENT_KINDS = ['payment', 'credit_note', 'write_off'] as const;
export type SettlementKind = (typeof SETTLEMENT_KINDS)[number];

/** One dated amount applied to one invoice (a payment allocation, a credit note, a write-off). */
export type Settlement = {
  id: string; // external id of the payment / credit note
  date: IsoDate;
  amountMinor: number; // integer minor units, in the invoice's currency, > 0
  kind: SettlementKind;
};

/**
 * An invoice as a dated fact, with the settlements applied to it. `totalMinor` is integer minor units of
 * `currency`. Dimensions (salesRep, product, …) are what reports group by; null when unknown.
 */
export type InvoiceFact = {
  id: string;
  number: string | null;
  customerId: string;
  currency: string;
  totalMinor: number;
  issueDate: IsoDate;
  dueDate: IsoDate;
  voidedDate: IsoDate | null;
  disputed: boolean;
  salesRep: string | null;
  product: string | null;
  dealId: string | null;
  terms: string | null;
  settlements: readonly Settlement[];
};

export type CustomerFact = {
  id: string;
  name: string | null;
  domain: string | null;
  industry: string | null;
  country: string | null;
};

export const GROUP_DIMENSIONS = ['customer', 'rep', 'product', 'industry', 'country'] as const;
export type GroupDimension = (typeof GROUP_DIMENSIONS)[number];
