import {
  Alert, Button, DateInput, Flex, Select, Table, TableBody, TableCell, TableHead, TableHeader, TableRow, Tag, Text, TextArea,
} from '@hubspot/ui-extensions';
import { useState } from 'react';
import { LOGGABLE_KINDS, LogEntrySchema, type LogEntry } from '../card-api.ts';
import { dateInputToIso, formatDate, formatMoney, isoToDateInput } from '../format.ts';
import { useIdempotentPost } from '../hooks/useIdempotentPost.ts';

export const LOG_KIND_LABELS: Record<LogEntry['kind'], string> = {
  note: 'Note', call: 'Call', email: 'Email', promise: 'Promise to pay', dispute: 'Dispute',
  help_request: 'Help request', escalation: 'Escalation', terms_ack: 'Terms acknowledged',
};

const detailOf = (entry: LogEntry, locale: string | undefined): string => {
  const parts = [entry.summary];
  if (entry.amount !== null && entry.currency !== null) parts.push(formatMoney(entry.amount, entry.currency, locale));
  if (entry.promise_date !== null) parts.push(`by ${formatDate(entry.promise_date, locale)}`);
  if (entry.status !== null) parts.push(`(${entry.status})`);
  return parts.join(' · ');
};

/** The latest entries of the customer's communication log, newest first, and how many there are in all. */
export const LogEntries = ({ entries, total, locale }: { entries: LogEntry[]; total: number; locale: string | undefined }) => {
  if (entries.length === 0) return <Text testId="log-empty">Nothing logged with this customer yet.</Text>;
  return (
    <Flex direction="column" gap="xs">
      <Table bordered testId="log">
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
      </Table>
      {total > entries.length && <Text testId="log-more" variant="microcopy">{`The latest ${entries.length} of ${total} entries.`}</Text>}
    </Flex>
  );
};

/** Logs a note, call or email with the customer. One click is one entry: "Try again" resends with the same key. */
export const LogForm = ({ companyId, today, onLogged }: { companyId: string; today: string; onLogged: (entry: LogEntry) => void }) => {
  const [kind, setKind] = useState<(typeof LOGGABLE_KINDS)[number]>('note');
  const [date, setDate] = useState(today);
  const [summary, setSummary] = useState('');
  const post = useIdempotentPost('/api/v1/cards/company/log', LogEntrySchema, (entry: LogEntry) => {
    setSummary('');
    onLogged(entry);
  });
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
      <TextArea name="log-summary" label="What happened" required value={summary} onChange={setSummary} {...problem('summary')} />
      <Button testId="add-log" disabled={summary.trim() === '' || post.state.status === 'sending'}
        onClick={() => void post.start({ objectId: companyId, kind, occurredOn: date, summary: summary.trim() })}>Add to log</Button>
      {post.state.status === 'failed' && (
        <Alert title="Not logged" variant="danger">
          <Text>{post.state.error.message}</Text>
          {Object.keys(fields).length === 0 && <Button testId="retry-log" onClick={() => void post.retry()}>Try again</Button>}
        </Alert>
      )}
    </Flex>
  );
};
