import { computeMetrics, type Metrics } from '../domain/metrics';
import type { Policy } from '../domain/policy';
import { scoreRisk, type RiskScore } from '../domain/risk';
import type { InvoiceFact, IsoDate } from '../domain/types';
import { streamCustomerFacts, type Executor } from '../store/facts';

/** One customer's figures in one currency as of a date: what roll-ups to HubSpot are made of. */
export type CustomerRollup = { customerId: string; currency: string; metrics: Metrics; risk: RiskScore };

/** The invoices split by currency, sorted by currency code; most customers have one, and skip the split. */
const byCurrency = (invoices: readonly InvoiceFact[]): [string, readonly InvoiceFact[]][] => {
  const first = invoices[0]?.currency;
  if (first === undefined) return [];
  if (invoices.every((invoice) => invoice.currency === first)) return [[first, invoices]];
  const groups = new Map<string, InvoiceFact[]>();
  for (const invoice of invoices) {
    const list = groups.get(invoice.currency);
    if (list) list.push(invoice);
    else groups.set(invoice.currency, [invoice]);
  }
  return [...groups].sort(([a], [b]) => (a < b ? -1 : 1));
};

/**
 * Recomputes every customer's metrics and risk as of `asOf`, streaming customer batches from the store so a
 * portfolio of any size fits in bounded memory. `onBatch` receives each batch's roll-ups (one per customer
 * and currency) before the next batch is read.
 */
export const recomputeCustomers = async (
  db: Executor, portalId: number, asOf: IsoDate, policy: Policy,
  onBatch: (rollups: CustomerRollup[]) => void | Promise<void>,
  { customersPerBatch = 5_000 } = {},
): Promise<{ customers: number; rollups: number }> => {
  let customers = 0;
  let rollups = 0;
  for await (const batch of streamCustomerFacts(db, portalId, asOf, customersPerBatch)) {
    const out: CustomerRollup[] = [];
    for (const { customerId, invoices } of batch) {
      for (const [currency, list] of byCurrency(invoices)) {
        out.push({ customerId, currency, metrics: computeMetrics(list, asOf, policy), risk: scoreRisk(list, asOf, policy) });
      }
    }
    customers += batch.length;
    rollups += out.length;
    await onBatch(out);
  }
  return { customers, rollups };
};
