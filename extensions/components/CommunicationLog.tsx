import {
  Alert, Button, DateInput, Flex, Input, Select, Table, TableBody, TableCell, TableHead, TableHeader, TableRow, Tag, Text, TextArea,
} from '@hubspot/ui-extensions';
import { useState } from 'react';
import { LOG_FILTERS, LOGGABLE_KINDS, LogEntrySchema, type LogEntry, type LogFilter, type TermsAck } from '../card-api.ts';
import { dateInputToIso, formatDate, formatMoney, isoToDateInput } from '../format.ts';
import { useIdempotentPost } from '../hooks/useIdempotentPost.ts';

export const LOG_KIND_LABELS: Record<LogEntry['kind'], string> = {
  note: 'Note', call: 'Call', email: 'Email', promise: 'Promise to pay', dispute: 'Dispute',
  help_request: 'Help request', escalation: 'Escalation', terms_ack: 'Terms acknowledged',
};

export const LOG_FILTER_LABELS: Record<LogFilter, string> = {
  all: 'All', conversations: 'Notes, calls & emails', promises: 'Promises to pay', disputes: 'Disputes', requests: 'Help requests & escalations',
};

const detailOf = (entry: LogEntry, locale: string | undefined): string => {
  const parts = [entry.summary];
  if (entry.amount !== null && entry.currency !== null) parts.push(formatMoney(entry.amount, entry.currency, locale));
  if (entry.promise_date !== null) parts.push(`by ${formatDate(entry.promise_date, locale)}`);
  if (entry.invoice_id) parts.push(`invoice ${entry.invoice_id}`);
  if (entry.promise_status) parts.push(`(${entry.promise_status})`);
  else if (entry.status !== null) parts.push(`(${entry.status})`);
  if (entry.resolved_on && entry.resolution) parts.push(`resolved ${formatDate(entry.resolved_on, locale)}: ${entry.resolution}`);
  return parts.join(' · ');
};

/**
 * The latest entries of the customer's communication log, newest first, and how many there are in all. The
 * filter applies to the entries the card holds (the latest 20).
 */
export const LogEntries = ({ entries: all, total, locale }: { entries: LogEntry[]; total: number; locale: string | undefined }) => {
  const [filter, setFilter] = useState<LogFilter>('all');
  if (all.length === 0) return <Text testId="log-empty">Nothing logged with this customer yet.</Text>;
  const kinds: readonly string[] = LOG_FILTERS[filter];
  const entries = all.filter((e) => kinds.includes(e.kind));
  return (
    <Flex direction="column" gap="xs">
      <Select name="log-filter" label="Show" value={filter} onChange={(v) => setFilter(v as LogFilter)}
        options={(Object.keys(LOG_FILTERS) as LogFilter[]).map((f) => ({ label: LOG_FILTER_LABELS[f], value: f }))} />
      {entries.length === 0 && <Text testId="log-filter-empty">{`None among the latest ${all.length} entries.`}</Text>}
      {entries.length > 0 && <Table bordered testId="log">
        <TableHead>
          <TableRow>
            <TableHeader>Date</TableHeader>
            <TableHeader>Kind</TableHeader>
            <TableHeader>What happened</TableHeader>
            <TableHeader>By</TableHeader>
          </TableRow>
        </TableHead>
        <TableBody>
          {entries.map((e) => (
            <TableRow key={e.id} testId={`log-${e.id}`}>
              <TableCell>{formatDate(e.occurred_on, locale)}</TableCell>
              <TableCell><Tag variant="default">{LOG_KIND_LABELS[e.kind]}</Tag></TableCell>
              <TableCell>{detailOf(e, locale)}</TableCell>
              <TableCell>{e.author ?? '—'}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>}
      {total > all.length && <Text testId="log-more" variant="microcopy">{`The latest ${all.length} of ${total} entries.`}</Text>}
    </Flex>
  );
};

/** An open dispute with a way to resolve it (today, with a note on how). */
const OpenDispute = ({ entry, companyId, today, locale, onResolved }: {
  entry: LogEntry; companyId: string; today: string; locale: string | undefined; onResolved: (entry: LogEntry) => void;
}) => {
  const [resolution, setResolution] = useState('');
  const post = useIdempotentPost(`/api/v1/cards/company/log/${encodeURIComponent(entry.id)}/resolve`, LogEntrySchema, onResolved);
  const fields = post.state.status === 'failed' ? post.state.error.fields : {};
  return (
    <Flex direction="column" gap="xs" testId={`dispute-${entry.id}`}>
      <Text format={{ fontWeight: 'demibold' }}>{`${formatDate(entry.occurred_on, locale)}: ${detailOf(entry, locale)}`}</Text>
      <TextArea name={`resolution-${entry.id}`} label="How it was resolved" value={resolution} onChange={setResolution}
        {...(fields.resolution?.length ? { error: true, validationMessage: fields.resolution.join('; ') } : {})} />
      <Button testId={`resolve-${entry.id}`} disabled={resolution.trim() === '' || post.state.status === 'sending'}
        onClick={() => void post.start({ objectId: companyId, resolvedOn: today, resolution: resolution.trim() })}>Resolve dispute</Button>
      {post.state.status === 'failed' && (
        <Alert title="Not resolved" variant="danger">
          <Text>{post.state.error.message}</Text>
          {Object.keys(fields).length === 0 && <Button testId={`retry-resolve-${entry.id}`} onClick={() => void post.retry()}>Try again</Button>}
        </Alert>
      )}
    </Flex>
  );
};

/** The open disputes among the entries the card holds, each with a way to resolve it. */
export const OpenDisputes = ({ entries, companyId, today, locale, onResolved }: {
  entries: LogEntry[]; companyId: string; today: string; locale: string | undefined; onResolved: () => void;
}) => {
  const open = entries.filter((e) => e.kind === 'dispute' && e.status === 'open');
  if (open.length === 0) return null;
  return (
    <Flex direction="column" gap="sm" testId="open-disputes">
      {open.map((e) => <OpenDispute key={e.id} entry={e} companyId={companyId} today={today} locale={locale} onResolved={onResolved} />)}
    </Flex>
  );
};

/** What the form offers to name: the customer's currencies and open invoices. */
export type LogFormChoices = { currencies: string[]; invoices: { id: string; label: string; currency: string }[] };

/**
 * Logs a note, call, email, promise to pay (amount, currency and date, optionally an invoice) or dispute
 * (amount and invoice optional) with the customer. One click is one entry: "Try again" resends with the same key.
 */
export const LogForm = ({ companyId, today, onLogged, choices = { currencies: [], invoices: [] } }: {
  companyId: string; today: string; onLogged: (entry: LogEntry) => void; choices?: LogFormChoices;
}) => {
  const [kind, setKind] = useState<(typeof LOGGABLE_KINDS)[number]>('note');
  const [date, setDate] = useState(today);
  const [summary, setSummary] = useState('');
  const [promiseDate, setPromiseDate] = useState(today);
  const [amount, setAmount] = useState('');
  const [currency, setCurrency] = useState(choices.currencies[0] ?? '');
  const [invoice, setInvoice] = useState('');
  const post = useIdempotentPost('/api/v1/cards/company/log', LogEntrySchema, (entry: LogEntry) => {
    setSummary('');
    setAmount('');
    setInvoice('');
    onLogged(entry);
  });
  const money = kind === 'promise' || kind === 'dispute';
  const chosenInvoice = choices.invoices.find((i) => i.id === invoice);
  const bodyOf = (): Record<string, unknown> => {
    const text = summary.trim();
    const base = { objectId: companyId, kind, occurredOn: date };
    if (kind === 'promise') {
      return {
        ...base, ...(text ? { summary: text } : {}), promiseDate, amount: amount.trim(), currency: chosenInvoice?.currency ?? currency,
        ...(invoice ? { invoiceId: invoice } : {}),
      };
    }
    if (kind === 'dispute') {
      return {
        ...base, summary: text, ...(amount.trim() ? { amount: amount.trim(), currency: chosenInvoice?.currency ?? currency } : {}),
        ...(invoice ? { invoiceId: invoice } : {}),
      };
    }
    return { ...base, summary: text };
  };
  const ready = kind === 'promise' ? amount.trim() !== '' && (currency !== '' || chosenInvoice !== undefined) : summary.trim() !== '';
  const fields = post.state.status === 'failed' ? post.state.error.fields : {};
  const problem = (field: string) => (fields[field]?.length ? { error: true, validationMessage: fields[field]?.join('; ') } : {});
  return (
    <Flex direction="column" gap="sm" testId="log-form">
      <Flex direction="row" gap="sm">
        <Select name="log-kind" label="Kind" value={kind} onChange={(v) => setKind(v as (typeof LOGGABLE_KINDS)[number])}
          options={LOGGABLE_KINDS.map((k) => ({ label: LOG_KIND_LABELS[k], value: k }))} />
        <DateInput name="log-date" label="Date" format="YYYY-MM-DD" value={isoToDateInput(date)} max={isoToDateInput(today)}
          onChange={(v) => { if (v) setDate(dateInputToIso(v)); }} {...problem('occurredOn')} />
      </Flex>
      {money && (
        <Flex direction="row" gap="sm">
          {kind === 'promise' && (
            <DateInput name="log-promise-date" label="Promised to pay by" format="YYYY-MM-DD" value={isoToDateInput(promiseDate)}
              onChange={(v) => { if (v) setPromiseDate(dateInputToIso(v)); }} {...problem('promiseDate')} />
          )}
          <Input name="log-amount" label="Amount" required={kind === 'promise'} value={amount} onChange={setAmount} {...problem('amount')} />
          <Select name="log-currency" label="Currency" value={chosenInvoice?.currency ?? currency} readOnly={chosenInvoice !== undefined}
            onChange={(v) => setCurrency(String(v))} options={choices.currencies.map((c) => ({ label: c, value: c }))} {...problem('currency')} />
          <Select name="log-invoice" label="Invoice (optional)" value={invoice} onChange={(v) => setInvoice(String(v ?? ''))}
            options={[{ label: 'Any', value: '' }, ...choices.invoices.map((i) => ({ label: i.label, value: i.id }))]} {...problem('invoiceId')} />
        </Flex>
      )}
      <TextArea name="log-summary" label={kind === 'promise' ? 'Notes (optional)' : 'What happened'} required={kind !== 'promise'}
        value={summary} onChange={setSummary} {...problem('summary')} />
      <Button testId="add-log" disabled={!ready || post.state.status === 'sending'}
        onClick={() => void post.start(bodyOf())}>Add to log</Button>
      {post.state.status === 'failed' && (
        <Alert title="Not logged" variant="danger">
          <Text>{post.state.error.message}</Text>
          {Object.keys(fields).length === 0 && <Button testId="retry-log" onClick={() => void post.retry()}>Try again</Button>}
        </Alert>
      )}
    </Flex>
  );
};

/**
 * Next to an overdue figure: the payment terms on record for the company's deals (the latest acknowledgment),
 * so whoever chases the money can quote what the customer agreed to; or that none is on record.
 */
export const OverdueTerms = ({ currency, terms, locale }: { currency: string; terms: TermsAck[]; locale: string | undefined }) => {
  const latest = terms[0];
  return (
    <Text testId={`overdue-terms-${currency}`} variant="microcopy">
      {latest === undefined
        ? 'Overdue, and no payment-terms acknowledgment is on record for this company.'
        : `Overdue against the terms on record: "${latest.terms}", acknowledged by ${latest.contact.name} on ${formatDate(latest.acknowledged_on, locale)} (deal ${latest.deal_id}).`}
    </Text>
  );
};
