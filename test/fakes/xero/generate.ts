import { currencyExponent } from '../../../src/domain/money';
import type { LineAmountTypes, XeroOrg } from './state';

/**
 * Seeded, repeatable data for a fake organisation, fast enough for 100,000 invoices: customers (a few archived,
 * some suppliers with bills), sales invoices in several currencies (drafts, voided, unpaid, partly and fully paid,
 * tax exclusive and inclusive), payments (a few deleted), and credit notes allocated to invoices. UpdatedDateUTC
 * values start at `start` and grow a minute per object, so later changes (stamped by the clock) come after them.
 */

export type GenerateOptions = {
  invoices: number;
  customers?: number;
  /** PRNG seed. */
  seed?: number;
  currencies?: string[];
  /** First issue date and first UpdatedDateUTC (ISO date). */
  start?: string;
  /** Issue dates spread over this many days. */
  days?: number;
};

export type Generated = { customers: string[]; invoices: number; payments: number; creditNotes: number; bills: number };

/** mulberry32: small, fast, repeatable. */
const prng = (seed: number): (() => number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

const uuidFrom = (random: () => number): string => {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = ((Number.parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16);
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
};

const addDays = (date: string, days: number): string => new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

const NAMES = ['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Vandelay', 'Stark', 'Wayne', 'Tyrell', 'Cyberdyne', 'Soylent', 'Wonka'];
const SUFFIXES = ['Ltd', 'Limited', 'Group', 'Holdings', 'Partners', 'Co'];
const COUNTRIES = ['New Zealand', 'Australia', 'United Kingdom', 'United States', 'Japan'];
const ITEMS = [
  { id: '19b79d12-0ae1-496e-9649-cbd04b15c7c5', code: 'CONSULT', name: 'Consulting' },
  { id: '2a1b8e2f-7c4d-4a8e-9f3b-1c2d3e4f5a6b', code: 'SUPPORT', name: 'Support plan' },
  { id: '3c4d5e6f-8a9b-4c0d-8e1f-2a3b4c5d6e7f', code: 'LICENCE', name: 'Licence' },
];

/** Fills `org` (without webhook events); returns what it made. */
export const generateInto = (org: XeroOrg, options: GenerateOptions): Generated => {
  const random = prng(options.seed ?? 1);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const currencies = options.currencies ?? ['NZD', 'AUD', 'USD', 'JPY'];
  const start = options.start ?? '2024-01-01';
  const days = options.days ?? 365;
  const customerCount = options.customers ?? Math.max(1, Math.ceil(options.invoices / 50));
  let stamp = Date.parse(`${start}T00:00:00Z`);
  const next = (): number => (stamp += 60_000);
  const made: Generated = { customers: [], invoices: 0, payments: 0, creditNotes: 0, bills: 0 };

  org.quietly(() => {
    const suppliers: string[] = [];
    const currencyOf = new Map<string, string>();
    for (let n = 0; n < customerCount; n += 1) {
      const name = `${pick(NAMES)} ${pick(SUFFIXES)} ${n + 1}`;
      const id = uuidFrom(random);
      const currency = currencies[n % currencies.length] as string;
      org.addContact({
        id, name, email: `accounts@${name.split(' ')[0]?.toLowerCase()}${n + 1}.example`, country: pick(COUNTRIES),
        defaultCurrency: currency, status: random() < 0.02 ? 'ARCHIVED' : 'ACTIVE', updatedAt: next(),
      });
      currencyOf.set(id, currency);
      made.customers.push(id);
      if (n % 25 === 0) {
        const supplier = uuidFrom(random);
        org.addContact({ id: supplier, name: `Supplier ${n + 1}`, isSupplier: true, updatedAt: next() });
        suppliers.push(supplier);
      }
    }

    for (let n = 0; n < options.invoices; n += 1) {
      const bill = suppliers.length > 0 && random() < 0.01;
      const contactId = bill ? pick(suppliers) : made.customers[n % made.customers.length] as string;
      const currency = currencyOf.get(contactId) ?? 'NZD';
      const exponent = currencyExponent(currency);
      const date = addDays(start, Math.floor((n * days) / options.invoices));
      const roll = random();
      const status = roll < 0.03 ? 'DRAFT' : roll < 0.05 ? 'VOIDED' : 'AUTHORISED';
      const types: LineAmountTypes = random() < 0.8 ? 'Exclusive' : random() < 0.5 ? 'Inclusive' : 'NoTax';
      const lineCount = 1 + Math.floor(random() * 3);
      const lines = Array.from({ length: lineCount }, () => {
        const item = random() < 0.7 ? pick(ITEMS) : null;
        const unit = Math.round((10 + random() * 1990) * 10 ** exponent) / 10 ** exponent;
        return { description: item?.name ?? 'Services', quantity: 1 + Math.floor(random() * 10), unitAmount: exponent === 0 ? Math.round(unit * 100) : unit, item, taxRate: 0.15 };
      });
      const invoice = org.addInvoice({
        id: uuidFrom(random), type: bill ? 'ACCPAY' : 'ACCREC', contactId, date, dueDate: addDays(date, 30), currency,
        status, lineAmountTypes: types, lines, reference: random() < 0.3 ? `PO-${1000 + n}` : null, updatedAt: next(),
      });
      if (bill) made.bills += 1;
      else made.invoices += 1;
      if (invoice.status !== 'AUTHORISED' || invoice.totalMinor === 0) continue;
      const settle = random();
      const paidOn = addDays(date, 1 + Math.floor(random() * 60));
      const decimal = (minor: number): number => minor / 10 ** exponent;
      if (!bill && settle < 0.05) {
        const credit = Math.max(1, Math.floor(invoice.totalMinor / 4));
        org.addCreditNote({
          id: uuidFrom(random), contactId, date: paidOn, currency, lineAmountTypes: 'NoTax', lines: [{ description: 'Credit', unitAmount: decimal(credit) }],
          allocations: [{ invoiceId: invoice.id, amount: decimal(credit), date: paidOn }], updatedAt: next(),
        });
        made.creditNotes += 1;
      }
      if (settle < 0.6) {
        org.addPayment({ id: uuidFrom(random), invoiceId: invoice.id, date: paidOn, amount: decimal(org.amountDue(invoice)), updatedAt: next() });
        made.payments += 1;
      } else if (settle < 0.75) {
        const part = Math.max(1, Math.floor(org.amountDue(invoice) / 3));
        const payment = org.addPayment({ id: uuidFrom(random), invoiceId: invoice.id, date: paidOn, amount: decimal(part), updatedAt: next() });
        made.payments += 1;
        if (random() < 0.1) org.deletePayment(payment.id);
      }
    }
  });
  return made;
};
