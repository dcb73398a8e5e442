import {
  Flex, StatusTag, Table, TableBody, TableCell, TableHead, TableHeader, TableRow, Text,
} from '@hubspot/ui-extensions';
import { useMemo, useState } from 'react';
import type { CompanySummary } from '../card-api.ts';
import { formatCount, formatDate, formatMoney, isZeroAmount } from '../format.ts';

type Invoice = CompanySummary['invoices'][number];
type Settlement = CompanySummary['payments'][number];
type Status = Invoice['status'];

/** Rows per page of the payment history. */
export const PAGE_SIZE = 10;

/** How each invoice status reads and which tag colour it gets. */
export const INVOICE_STATUS: Record<Status, { label: string; variant: 'danger' | 'warning' | 'info' | 'success' | 'default' }> = {
  paid: { label: 'Paid', variant: 'success' },
  open: { label: 'Open', variant: 'info' },
  overdue: { label: 'Overdue', variant: 'danger' },
  void: { label: 'Void', variant: 'default' },
  written_off: { label: 'Written off', variant: 'warning' },
  credited: { label: 'Credited', variant: 'default' },
};

export const SORTABLE_COLUMNS = ['issued', 'due', 'amount', 'days_late'] as const;
export type SortColumn = (typeof SORTABLE_COLUMNS)[number];
export type Sort = { column: SortColumn; direction: 'ascending' | 'descending' } | null;

const compareDecimal = (a: string, b: string): number => Number(a) - Number(b);

const compareBy = (column: SortColumn, a: Invoice, b: Invoice): number => {
  switch (column) {
    case 'issued': return a.issue_date.localeCompare(b.issue_date);
    case 'due': return a.due_date.localeCompare(b.due_date);
    // Amounts of different currencies are not compared: invoices are grouped by currency, then by amount.
    case 'amount': return a.currency.localeCompare(b.currency) || compareDecimal(a.amount, b.amount);
    case 'days_late': return (a.days_late ?? 0) - (b.days_late ?? 0);
  }
};

/**
 * The invoices in display order: as the service listed them, or ordered by one column. Invoices without days late
 * stay last when ordering by days late, in either direction.
 */
export const sortInvoices = (invoices: readonly Invoice[], sort: Sort): Invoice[] => {
  if (sort === null) return [...invoices];
  const sign = sort.direction === 'ascending' ? 1 : -1;
  return invoices
    .map((invoice, index) => ({ invoice, index }))
    .sort((x, y) => {
      if (sort.column === 'days_late' && (x.invoice.days_late === null) !== (y.invoice.days_late === null)) {
        return x.invoice.days_late === null ? 1 : -1;
      }
      return sign * compareBy(sort.column, x.invoice, y.invoice) || x.index - y.index;
    })
    .map(({ invoice }) => invoice);
};

/** A partly paid invoice: something paid and something still open. */
export const isPartlyPaid = (invoice: Invoice): boolean =>
  (invoice.status === 'open' || invoice.status === 'overdue') && !isZeroAmount(invoice.paid) && !isZeroAmount(invoice.open);

const COLUMNS: Array<{ key: string; label: string; sortable?: SortColumn }> = [
  { key: 'invoice', label: 'Invoice' },
  { key: 'issued', label: 'Issued', sortable: 'issued' },
  { key: 'due', label: 'Due', sortable: 'due' },
  { key: 'amount', label: 'Amount', sortable: 'amount' },
  { key: 'paid', label: 'Paid' },
  { key: 'paid_on', label: 'Paid on' },
  { key: 'days_late', label: 'Days late', sortable: 'days_late' },
  { key: 'status', label: 'Status' },
];

const PaidCell = ({ invoice, locale }: { invoice: Invoice; locale: string | undefined }) => {
  const paid = formatMoney(invoice.paid, invoice.currency, locale);
  if (!isPartlyPaid(invoice)) return <TableCell>{paid}</TableCell>;
  return (
    <TableCell>
      <Flex direction="column" gap="xs">
        <Text testId={`paid-${invoice.id}`}>{`${paid} of ${formatMoney(invoice.amount, invoice.currency, locale)}`}</Text>
        <Text testId={`partly-paid-${invoice.id}`} variant="microcopy">
          {`Partly paid, ${formatMoney(invoice.open, invoice.currency, locale)} open`}
        </Text>
      </Flex>
    </TableCell>
  );
};

const StatusCell = ({ invoice, creditNotes, locale }: { invoice: Invoice; creditNotes: Settlement[]; locale: string | undefined }) => (
  <TableCell>
    <Flex direction="column" gap="xs">
      <StatusTag testId={`status-${invoice.id}`} variant={INVOICE_STATUS[invoice.status].variant}>
        {INVOICE_STATUS[invoice.status].label}
      </StatusTag>
      {invoice.disputed && <Text testId={`disputed-${invoice.id}`} variant="microcopy">Disputed</Text>}
      {creditNotes.map((note) => (
        <Text key={note.id} testId={`credit-note-${note.id}`} variant="microcopy">
          {`Credit note ${formatMoney(note.amount, note.currency, locale)} on ${formatDate(note.date, locale)}`}
        </Text>
      ))}
    </Flex>
  </TableCell>
);

/**
 * The customer's invoices with what was paid and when, 10 a page, ordered by clicking the Issued, Due, Amount or
 * Days late header. Partly paid invoices show paid and total; credit notes show under the invoice's status.
 */
export const PaymentHistory = ({ invoices, payments, locale }: {
  invoices: readonly Invoice[]; payments: readonly Settlement[]; locale: string | undefined;
}) => {
  const [sort, setSort] = useState<Sort>(null);
  const [page, setPage] = useState(1);
  const rows = useMemo(() => sortInvoices(invoices, sort), [invoices, sort]);
  const creditNotes = useMemo(() => {
    const byInvoice = new Map<string, Settlement[]>();
    for (const s of payments) {
      if (s.kind !== 'credit_note') continue;
      byInvoice.set(s.invoice_id, [...(byInvoice.get(s.invoice_id) ?? []), s]);
    }
    return byInvoice;
  }, [payments]);
  const pageCount = Math.max(1, Math.ceil(rows.length / PAGE_SIZE));
  const current = Math.min(page, pageCount);
  const shown = rows.slice((current - 1) * PAGE_SIZE, current * PAGE_SIZE);

  return (
    <Table testId="payment-history" bordered paginated pageCount={pageCount} page={current} showFirstLastButtons
      onPageChange={(n) => setPage(Math.min(Math.max(1, n), pageCount))}>
      <TableHead>
        <TableRow>
          {COLUMNS.map(({ key, label, sortable }) => sortable
            ? (
              <TableHeader key={key} testId={`sort-${sortable}`}
                sortDirection={sort?.column === sortable ? sort.direction : 'none'}
                onSortChange={(direction) => { setSort(direction === 'none' ? null : { column: sortable, direction }); setPage(1); }}>
                {label}
              </TableHeader>
            )
            : <TableHeader key={key} sortDirection="never">{label}</TableHeader>)}
        </TableRow>
      </TableHead>
      <TableBody>
        {shown.map((inv) => (
          <TableRow key={inv.id} testId={`payment-${inv.id}`}>
            <TableCell>{inv.number ?? inv.id}</TableCell>
            <TableCell>{formatDate(inv.issue_date, locale)}</TableCell>
            <TableCell>{formatDate(inv.due_date, locale)}</TableCell>
            <TableCell>{formatMoney(inv.amount, inv.currency, locale)}</TableCell>
            <PaidCell invoice={inv} locale={locale} />
            <TableCell>{inv.paid_date === null ? '—' : formatDate(inv.paid_date, locale)}</TableCell>
            <TableCell>{formatCount(inv.days_late, locale)}</TableCell>
            <StatusCell invoice={inv} creditNotes={creditNotes.get(inv.id) ?? []} locale={locale} />
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
};
