import { daysBetween } from './calendar';
import { emptyInvoiceState, readInvoiceState } from './invoice-state';
import type { InvoiceFact, IsoDate, SettlementKind } from './types';

/** paid: by payments; written_off / credited: closed without being paid (a write-off, or credit notes only). */
export type InvoiceStatus = 'paid' | 'open' | 'overdue' | 'void' | 'written_off' | 'credited';

/** One line of a customer's payment history as of D. */
export type InvoiceHistoryLine = {
  id: string;
  number: string | null;
  currency: string;
  totalMinor: number;
  /** Everything that settled it by D: payments, credit notes and write-offs. */
  settledMinor: number;
  /** The parts of settledMinor by kind. Only paidMinor is money received. */
  paidMinor: number;
  creditedMinor: number;
  writtenOffMinor: number;
  openMinor: number;
  issueDate: IsoDate;
  dueDate: IsoDate;
  paidDate: IsoDate | null;
  /** Paid date − due date for paid invoices; D − due date for open past-due ones; null otherwise. */
  daysLate: number | null;
  status: InvoiceStatus;
  disputed: boolean;
  salesRep: string | null;
  product: string | null;
  dealId: string | null;
};

export type SettlementLine = { id: string; invoiceId: string; date: IsoDate; amountMinor: number; currency: string; kind: SettlementKind };

/** Ids in numeric-aware order ("INV-9" before "INV-10"); one collator, as localeCompare with options builds one per call. */
const compareIds = new Intl.Collator('en', { numeric: true }).compare;

/**
 * Invoice and settlement history of one customer as of D, newest first. A void dated after D is not a void
 * yet; settlements dated after D are not there yet.
 */
export const customerHistory = (
  invoices: readonly InvoiceFact[], asOf: IsoDate,
): { invoices: InvoiceHistoryLine[]; settlements: SettlementLine[] } => {
  const state = emptyInvoiceState();
  const lines: InvoiceHistoryLine[] = [];
  const settlements: SettlementLine[] = [];
  for (const invoice of invoices) {
    if (invoice.issueDate > asOf) continue;
    readInvoiceState(invoice, asOf, null, state);
    const voided = invoice.voidedDate !== null && invoice.voidedDate <= asOf;
    const openMinor = voided ? 0 : Math.max(0, invoice.totalMinor - state.settled);
    const pastDue = daysBetween(invoice.dueDate, asOf);
    const closedStatus: InvoiceStatus = state.writtenOff ? 'written_off' : state.paidDate === null && invoice.totalMinor > 0 ? 'credited' : 'paid';
    const status: InvoiceStatus = voided ? 'void' : openMinor === 0 ? closedStatus : pastDue > 0 ? 'overdue' : 'open';
    const daysLate = status === 'paid' && state.paidDate !== null
      ? daysBetween(invoice.dueDate, state.paidDate)
      : status === 'overdue' ? pastDue : null;
    const byKind = { payment: 0, credit_note: 0, write_off: 0 };
    for (const s of invoice.settlements) if (s.date <= asOf) byKind[s.kind] += s.amountMinor;
    lines.push({
      id: invoice.id, number: invoice.number, currency: invoice.currency, totalMinor: invoice.totalMinor,
      settledMinor: state.settled, paidMinor: byKind.payment, creditedMinor: byKind.credit_note, writtenOffMinor: byKind.write_off, openMinor, issueDate: invoice.issueDate, dueDate: invoice.dueDate,
      paidDate: status === 'paid' ? state.paidDate : null, daysLate, status, disputed: invoice.disputed,
      salesRep: invoice.salesRep, product: invoice.product, dealId: invoice.dealId,
    });
    for (const s of invoice.settlements) {
      if (s.date <= asOf) settlements.push({ id: s.id, invoiceId: invoice.id, date: s.date, amountMinor: s.amountMinor, currency: invoice.currency, kind: s.kind });
    }
  }
  const newestFirst = <T extends { id: string }>(dateOf: (x: T) => string) => (a: T, b: T) =>
    dateOf(b).localeCompare(dateOf(a)) || compareIds(a.id, b.id);
  lines.sort(newestFirst((l) => l.issueDate));
  settlements.sort(newestFirst((s) => s.date));
  return { invoices: lines, settlements };
};
