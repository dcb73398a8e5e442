import fs from 'node:fs';
import path from 'node:path';
import { portfolioToCsv } from '../demo/demo-csv';
import { generatePortfolio } from '../demo/generate';
import type { CustomerFact, InvoiceFact } from '../domain/types';
import type { Db } from '../store/database';
import { countFacts, ensurePortal, settlementsAsPayments, upsertCustomers, upsertInvoices, upsertPayments, touchPortal } from '../store/facts';

/** Demo rows live under their own source, so they never collide with a user's imports and can be removed. */
export const DEMO_SOURCE = 'demo';

export type DemoOptions = { customers: number; invoices: number; seed: number; endDate: string };
export const DEFAULT_DEMO = { customers: 200, invoices: 5_000, seed: 42 } as const;

const BATCH_INVOICES = 20_000;

/**
 * Writes the generated portfolio into the store in batches inside one transaction, streaming customer by
 * customer so that a million invoices never sit in memory at once.
 */
export const loadDemo = async (
  db: Db, portalId: number, options: DemoOptions, onBatch?: (invoicesSoFar: number) => void,
): Promise<{ customers: number; invoices: number; payments: number }> =>
  db.transaction().execute(async (trx) => {
    await ensurePortal(trx, portalId, 'Demo portal');
    let customers: CustomerFact[] = [];
    let invoices: InvoiceFact[] = [];
    const totals = { customers: 0, invoices: 0, payments: 0 };
    const flush = async (): Promise<void> => {
      if (customers.length === 0) return;
      const payments = settlementsAsPayments(invoices);
      await upsertCustomers(trx, portalId, DEMO_SOURCE, customers);
      await upsertInvoices(trx, portalId, DEMO_SOURCE, invoices);
      await upsertPayments(trx, portalId, DEMO_SOURCE, payments);
      totals.customers += customers.length;
      totals.invoices += invoices.length;
      totals.payments += payments.length;
      customers = [];
      invoices = [];
      onBatch?.(totals.invoices);
    };
    for (const item of generatePortfolio(options)) {
      customers.push(item.customer);
      for (const invoice of item.invoices) invoices.push(invoice);
      if (invoices.length >= BATCH_INVOICES) await flush();
    }
    await flush();
    await touchPortal(trx, portalId);
    return totals;
  });

/**
 * Loads the default demo portfolio on a first run: when the portal does not exist yet. A portal that was
 * used (an import) or whose demo was removed is never seeded again.
 */
export const seedDemoIfEmpty = async (db: Db, portalId: number, endDate: string) => {
  const portal = await db.selectFrom('portals').select('portal_id').where('portal_id', '=', portalId).executeTakeFirst();
  if (portal) return null;
  const existing = await countFacts(db, portalId);
  if (existing.customers > 0) return null;
  return loadDemo(db, portalId, { ...DEFAULT_DEMO, endDate });
};

/** Deletes the portal's demo customers, invoices and payments (and so their allocations); keeps the rest. */
export const removeDemo = async (db: Db, portalId: number): Promise<{ customers: number; invoices: number; payments: number }> =>
  db.transaction().execute(async (trx) => {
    const payments = await trx.deleteFrom('payments').where('portal_id', '=', portalId).where('source', '=', DEMO_SOURCE).executeTakeFirst();
    const invoices = await trx.deleteFrom('invoices').where('portal_id', '=', portalId).where('source', '=', DEMO_SOURCE).executeTakeFirst();
    const customers = await trx.deleteFrom('customers').where('portal_id', '=', portalId).where('source', '=', DEMO_SOURCE).executeTakeFirst();
    await touchPortal(trx, portalId);
    return {
      customers: Number(customers.numDeletedRows), invoices: Number(invoices.numDeletedRows), payments: Number(payments.numDeletedRows),
    };
  });

/** Writes the demo portfolio as `invoices.csv` and `payments.csv` in the importer's formats. */
export const writeDemoCsv = (dir: string, options: DemoOptions) => {
  fs.mkdirSync(dir, { recursive: true });
  const items = [...generatePortfolio(options)];
  const { invoicesCsv, paymentsCsv } = portfolioToCsv(items);
  const invoicesFile = path.join(dir, 'invoices.csv');
  const paymentsFile = path.join(dir, 'payments.csv');
  fs.writeFileSync(invoicesFile, invoicesCsv);
  fs.writeFileSync(paymentsFile, paymentsCsv);
  const invoices = items.reduce((n, item) => n + item.invoices.length, 0);
  const payments = items.reduce((n, item) => n + item.invoices.reduce((m, i) => m + i.settlements.length, 0), 0);
  return { invoicesFile, paymentsFile, invoices, payments };
};
