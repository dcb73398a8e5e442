import type { AccountingConnector, ChangePage, SourceCustomer, SourceInvoice, SourcePayment } from '../../../src/connectors/types';
import type { FakeXeroApi } from './index';

/**
 * One Xero organisation with every case a pull maps: paid, partly paid and credited invoices, a voided, a deleted,
 * a draft and a submitted one, a supplier's bill and its payment, a deleted payment, JPY (no minor unit) and USD
 * invoices, tax-exclusive and tax-inclusive lines, a credit note allocated then voided, an overpayment allocated to
 * an invoice, an unallocated prepayment and a supplier credit note. Seeded with UpdatedDateUTC values in October;
 * its changes are stamped by the fake's clock, which should stand at SEEDED_AT then.
 */

/** Where the fake's clock stands while the scenario is seeded (its changes are stamped then), and afterwards. */
export const SEEDED_AT = Date.parse('2026-10-31T00:00:00Z');
export const T0 = Date.parse('2026-11-01T00:00:00Z');
export const ITEM_ID = '19b79d12-0ae1-496e-9649-cbd04b15c7c5';

const id = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

export const C = { acme: id(1), tokyo: id(2), old: id(3), supplier: id(4) } as const;
export const I = {
  paid: id(101), part: id(102), credited: id(103), voided: id(104), deleted: id(105), draft: id(106), submitted: id(107),
  bill: id(108), yen: id(109), usd: id(110), open: id(111),
} as const;
export const P = { paid: id(201), part: id(202), removed: id(203), credited: id(204), bill: id(205), yen: id(206) } as const;
export const N = { credit: id(301), voided: id(302), supplier: id(303), over: id(304), pre: id(305) } as const;

const at = (day: number): string => `2026-10-${String(day).padStart(2, '0')}T10:00:00Z`;

export const seedScenario = (fake: FakeXeroApi): void => {
  fake.seed({
    contacts: [
      { id: C.acme, name: 'Acme Ltd', email: 'AP@Acme.example', country: 'New Zealand', defaultCurrency: 'NZD', updatedAt: '2026-09-01T10:00:00Z' },
      { id: C.tokyo, name: 'Tokyo KK', website: 'https://www.tokyo.example/about', country: 'Japan', defaultCurrency: 'JPY', updatedAt: '2026-09-02T10:00:00Z' },
      { id: C.old, name: 'Old Co', status: 'ARCHIVED', defaultCurrency: 'USD', updatedAt: '2026-09-03T10:00:00Z' },
      { id: C.supplier, name: 'Paper Supplies', isSupplier: true, updatedAt: '2026-09-04T10:00:00Z' },
    ],
    invoices: [
      { id: I.paid, contactId: C.acme, date: '2026-10-01', dueDate: '2026-10-31', lineAmountTypes: 'Exclusive', updatedAt: at(1),
        lines: [{ description: 'Consulting', quantity: 4, unitAmount: 100, itemCode: 'CONSULT', taxRate: 0.15 }] },
      { id: I.part, contactId: C.acme, date: '2026-10-02', lineAmountTypes: 'Inclusive', reference: 'PO-7', updatedAt: at(2),
        lines: [
          { description: 'Licence', quantity: 1, unitAmount: 115, item: { id: ITEM_ID, code: 'LICENCE', name: 'Licence' }, taxRate: 0.15 },
          { description: 'Support', quantity: 2, unitAmount: 25, itemCode: 'SUPPORT' },
        ] },
      { id: I.credited, contactId: C.acme, date: '2026-10-03', dueDate: '2026-11-02', lineAmountTypes: 'NoTax', updatedAt: at(3), lines: [{ unitAmount: 300 }] },
      { id: I.voided, contactId: C.acme, date: '2026-10-04', dueDate: '2026-11-03', status: 'VOIDED', updatedAt: '2026-10-26T08:00:00Z', lines: [{ unitAmount: 40 }] },
      { id: I.deleted, contactId: C.acme, date: '2026-10-04', status: 'DELETED', updatedAt: at(4), lines: [{ unitAmount: 41 }] },
      { id: I.draft, contactId: C.acme, date: '2026-10-05', status: 'DRAFT', updatedAt: at(5), lines: [{ unitAmount: 42 }] },
      { id: I.submitted, contactId: C.acme, date: '2026-10-05', status: 'SUBMITTED', updatedAt: at(5), lines: [{ unitAmount: 43 }] },
      { id: I.bill, type: 'ACCPAY', contactId: C.supplier, date: '2026-10-06', updatedAt: at(6), lines: [{ unitAmount: 50 }] },
      { id: I.yen, contactId: C.tokyo, date: '2026-10-10', dueDate: '2026-11-09', currency: 'JPY', lineAmountTypes: 'NoTax', updatedAt: at(10), lines: [{ unitAmount: 12000 }] },
      { id: I.usd, contactId: C.old, date: '2026-10-11', dueDate: '2026-11-10', currency: 'USD', lineAmountTypes: 'Exclusive', updatedAt: at(11),
        lines: [{ description: 'Widget', unitAmount: 99.99, taxRate: 0.1 }] },
      { id: I.open, contactId: C.acme, date: '2026-10-15', dueDate: '2026-11-14', lineAmountTypes: 'NoTax', updatedAt: at(15), lines: [{ unitAmount: 80 }] },
    ],
    payments: [
      { id: P.paid, invoiceId: I.paid, date: '2026-10-05', amount: 460, updatedAt: at(16) },
      { id: P.part, invoiceId: I.part, date: '2026-10-06', amount: 100, batchPaymentId: id(900), updatedAt: at(17) },
      { id: P.removed, invoiceId: I.part, date: '2026-10-07', amount: 20, batchPaymentId: id(900), updatedAt: at(17) },
      { id: P.credited, invoiceId: I.credited, date: '2026-10-09', amount: 50, updatedAt: at(18) },
      { id: P.bill, invoiceId: I.bill, date: '2026-10-09', amount: 50, updatedAt: at(18) },
      { id: P.yen, invoiceId: I.yen, date: '2026-10-12', amount: 5000, updatedAt: at(19) },
    ],
    creditNotes: [
      { id: N.credit, contactId: C.acme, date: '2026-10-08', lineAmountTypes: 'NoTax', lines: [{ unitAmount: 100 }],
        allocations: [{ invoiceId: I.credited, amount: 100, date: '2026-10-08' }], updatedAt: at(20) },
      { id: N.voided, contactId: C.acme, date: '2026-10-08', lineAmountTypes: 'NoTax', lines: [{ unitAmount: 20 }],
        allocations: [{ id: id(399), invoiceId: I.credited, amount: 20, date: '2026-10-08' }], updatedAt: at(20) },
      { id: N.supplier, type: 'ACCPAYCREDIT', contactId: C.supplier, date: '2026-10-08', lineAmountTypes: 'NoTax', lines: [{ unitAmount: 10 }], updatedAt: at(20) },
    ],
    overpayments: [{ id: N.over, contactId: C.old, date: '2026-10-13', currency: 'USD', total: 9.99, allocations: [{ invoiceId: I.usd, amount: 9.99, date: '2026-10-14' }], updatedAt: at(21) }],
    prepayments: [{ id: N.pre, contactId: C.acme, date: '2026-10-14', total: 30, updatedAt: at(22) }],
  });
  // Changes before the first sync: a reversed payment, an allocation removed and its credit note voided.
  fake.org.quietly(() => {
    fake.org.deletePayment(P.removed);
    fake.org.removeAllocation('creditNote', N.voided, id(399));
    fake.org.setCreditStatus('creditNote', N.voided, 'VOIDED');
  });
};

export type Pulled = {
  pages: ChangePage[];
  cursor: string;
  customers: Map<string, SourceCustomer>;
  invoices: Map<string, SourceInvoice>;
  payments: Map<string, SourcePayment>;
};

/** Pulls until the connector is done (at most `limit` pages); the last version of each object wins. */
export const pullAll = async (connector: AccountingConnector, cursor: string | null = null, limit = 1_000): Promise<Pulled> => {
  const pages: ChangePage[] = [];
  let next = cursor;
  for (;;) {
    const page = await connector.pull(next);
    pages.push(page);
    next = page.cursor;
    if (page.done) break;
    if (pages.length >= limit) throw new Error(`no end after ${limit} pages`);
  }
  const byId = <T extends { id: string }>(items: T[]): Map<string, T> => new Map(items.map((item) => [item.id, item]));
  return {
    pages,
    cursor: next as string,
    customers: byId(pages.flatMap((p) => p.customers)),
    invoices: byId(pages.flatMap((p) => p.invoices)),
    payments: byId(pages.flatMap((p) => p.payments)),
  };
};
