import { currencyExponent } from '../../../src/domain/money';
import type { CustomerInput, PaymentInput, SalesInput } from './company';

// A seeded QuickBooks company of any size: customers, invoices with one to three sales lines, and what settled
// them — payments in full or in part (some covering two invoices), credit memos applied through zero-amount
// payments — plus voided invoices. The same seed gives the same company.

export type GenerateOptions = {
  seed?: number;
  customers?: number;
  invoices: number;
  /** Currencies of the customers, in turn (an invoice is in its customer's currency). */
  currencies?: readonly string[];
  /** First TxnDate and the number of days invoices spread over. */
  from?: string;
  days?: number;
  /** Shares of invoices paid in full, paid in part, settled by a credit memo, voided (the rest stay open). */
  paid?: number;
  partlyPaid?: number;
  credited?: number;
  voided?: number;
};

export type GeneratedCompany = {
  customers: CustomerInput[];
  invoices: SalesInput[];
  creditMemos: SalesInput[];
  payments: PaymentInput[];
};

/** mulberry32: small, fast, good enough for test data. */
export const random = (seed: number): (() => number) => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
};

const ITEMS = [
  { value: '1', name: 'Design' }, { value: '2', name: 'Installation' }, { value: '3', name: 'Maintenance' },
  { value: '4', name: 'Consulting' }, { value: '5', name: 'Hardware' },
];

const addDays = (date: string, days: number): string => new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

export const generateCompany = (options: GenerateOptions): GeneratedCompany => {
  const rand = random(options.seed ?? 1);
  const customerCount = options.customers ?? Math.max(1, Math.ceil(options.invoices / 20));
  const currencies = options.currencies ?? ['USD'];
  const from = options.from ?? '2025-01-01';
  const days = options.days ?? 365;
  const shares = { paid: options.paid ?? 0.55, partlyPaid: options.partlyPaid ?? 0.15, credited: options.credited ?? 0.05, voided: options.voided ?? 0.02 };
  let nextId = 1;
  const id = (): string => String(nextId++);

  const customers: CustomerInput[] = [];
  for (let i = 0; i < customerCount; i += 1) {
    const n = i + 1;
    customers.push({
      Id: id(),
      DisplayName: `Customer ${n}`,
      CompanyName: `Customer ${n} Ltd`,
      PrimaryEmailAddr: { Address: `billing@customer${n}.example.com` },
      CurrencyRef: currencies[i % currencies.length] as string,
      Active: true,
    });
  }

  const invoices: SalesInput[] = [];
  const creditMemos: SalesInput[] = [];
  const payments: PaymentInput[] = [];
  let previous: { customer: number; payment: PaymentInput | null } = { customer: -1, payment: null };
  for (let i = 0; i < options.invoices; i += 1) {
    const customerIndex = previous.customer >= 0 && rand() < 0.3 ? previous.customer : Math.floor(rand() * customerCount);
    const customer = customers[customerIndex] as CustomerInput;
    const currency = customer.CurrencyRef as string;
    const scale = 10 ** currencyExponent(currency);
    const txnDate = addDays(from, Math.floor(rand() * days));
    const lineCount = rand() < 0.7 ? 1 : rand() < 0.7 ? 2 : 3;
    const lines = [];
    let totalMinor = 0;
    for (let l = 0; l < lineCount; l += 1) {
      const item = ITEMS[Math.floor(rand() * ITEMS.length)] as { value: string; name: string };
      const qty = 1 + Math.floor(rand() * 5);
      const unitMinor = (10 + Math.floor(rand() * 1990)) * (scale >= 100 ? 100 : 1);
      totalMinor += qty * unitMinor;
      lines.push({
        Amount: (qty * unitMinor) / scale, Description: item.name, DetailType: 'SalesItemLineDetail',
        SalesItemLineDetail: { ItemRef: item, Qty: qty, UnitPrice: unitMinor / scale, TaxCodeRef: { value: 'NON' } },
      });
    }
    const invoice: SalesInput = {
      Id: id(), DocNumber: String(1001 + i), CustomerRef: customer.Id as string, CurrencyRef: currency,
      TxnDate: txnDate, DueDate: addDays(txnDate, 30), Line: lines, SalesTermRef: { value: '3', name: 'Net 30' },
    };
    const roll = rand();
    let payment: PaymentInput | null = null;
    const payDate = addDays(txnDate, Math.floor(rand() * 60));
    if (roll < shares.voided) {
      invoice.Line = lines.map((line) => ({ ...line, Amount: 0, SalesItemLineDetail: { ...line.SalesItemLineDetail, Qty: 0, UnitPrice: 0 } }));
      invoice.TotalAmt = 0;
      invoice.PrivateNote = 'Voided';
      invoices.push(invoice);
    } else if (roll < shares.voided + shares.credited) {
      invoices.push(invoice);
      const memo: SalesInput = {
        Id: id(), DocNumber: `CM-${1001 + i}`, CustomerRef: customer.Id as string, CurrencyRef: currency, TxnDate: payDate,
        Line: [{ Amount: totalMinor / scale, Description: 'Credit', DetailType: 'SalesItemLineDetail', SalesItemLineDetail: { ItemRef: ITEMS[0], Qty: 1, UnitPrice: totalMinor / scale } }],
      };
      creditMemos.push(memo);
      payments.push({
        Id: id(), CustomerRef: customer.Id as string, CurrencyRef: currency, TxnDate: payDate, TotalAmt: 0,
        Line: [
          { Amount: totalMinor / scale, LinkedTxn: [{ TxnId: invoice.Id as string, TxnType: 'Invoice' }] },
          { Amount: totalMinor / scale, LinkedTxn: [{ TxnId: memo.Id as string, TxnType: 'CreditMemo' }] },
        ],
      });
    } else if (roll < shares.voided + shares.credited + shares.paid) {
      invoices.push(invoice);
      const line = { Amount: totalMinor / scale, LinkedTxn: [{ TxnId: invoice.Id as string, TxnType: 'Invoice' }] };
      // Some customers pay two invoices at once.
      if (previous.customer === customerIndex && previous.payment && rand() < 0.5) {
        previous.payment.Line?.push(line);
        previous.payment.TotalAmt = (previous.payment.TotalAmt ?? 0) + totalMinor / scale;
        if (payDate > previous.payment.TxnDate) previous.payment.TxnDate = payDate;
      } else {
        payment = { Id: id(), CustomerRef: customer.Id as string, CurrencyRef: currency, TxnDate: payDate, TotalAmt: totalMinor / scale, Line: [line] };
        payments.push(payment);
      }
    } else if (roll < shares.voided + shares.credited + shares.paid + shares.partlyPaid) {
      invoices.push(invoice);
      const partMinor = Math.max(1, Math.floor(totalMinor * (0.2 + rand() * 0.6)));
      payments.push({
        Id: id(), CustomerRef: customer.Id as string, CurrencyRef: currency, TxnDate: payDate, TotalAmt: partMinor / scale,
        Line: [{ Amount: partMinor / scale, LinkedTxn: [{ TxnId: invoice.Id as string, TxnType: 'Invoice' }] }],
      });
    } else {
      invoices.push(invoice);
    }
    previous = { customer: customerIndex, payment };
  }
  // Totals summed above may carry binary fractions: round them to the currency.
  for (const payment of payments) {
    const scale = 10 ** currencyExponent(payment.CurrencyRef as string);
    payment.TotalAmt = Math.round((payment.TotalAmt ?? 0) * scale) / scale;
  }
  return { customers, invoices, creditMemos, payments };
};
