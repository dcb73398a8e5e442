import {
  Alert, Button, DateInput, Flex, Table, TableBody, TableCell, TableHead, TableHeader, TableRow, Tag, Text, TextArea,
} from '@hubspot/ui-extensions';
import { useState } from 'react';
import { HelpRequestSchema, type HelpRequest } from '../card-api.ts';
import { dateInputToIso, formatDate, isoToDateInput } from '../format.ts';
import { useIdempotentPost } from '../hooks/useIdempotentPost.ts';

type TagVariant = 'default' | 'warning' | 'success' | 'error' | 'info';

/** How each request status reads on the card. */
export const HELP_STATUS: Record<HelpRequest['status'], { label: string; variant: TagVariant }> = {
  open: { label: 'Open', variant: 'warning' },
  accepted: { label: 'Accepted', variant: 'info' },
  done: { label: 'Done', variant: 'success' },
  declined: { label: 'Declined', variant: 'default' },
};

/** Where a request stands against its SLA. */
export const HELP_SLA: Record<HelpRequest['sla'], { label: string; variant: TagVariant }> = {
  within: { label: 'Within SLA', variant: 'success' },
  overdue: { label: 'SLA overdue', variant: 'warning' },
  escalated: { label: 'Escalated', variant: 'error' },
  answered: { label: 'Answered', variant: 'default' },
};

/** The owner's HubSpot task for the request. */
export const taskText = (task: HelpRequest['task']): string => {
  if (task === null) return '—';
  if (task.status === 'pending') return 'Queued for HubSpot';
  if (task.status === 'failed') return 'Not created';
  return 'Task created';
};

/** The moves a request may make from its status, as the service allows them. */
const MOVES: Record<HelpRequest['status'], readonly { status: 'accepted' | 'done' | 'declined'; label: string }[]> = {
  open: [{ status: 'accepted', label: 'Accept' }, { status: 'done', label: 'Done' }, { status: 'declined', label: 'Decline' }],
  accepted: [{ status: 'done', label: 'Done' }, { status: 'declined', label: 'Decline' }],
  done: [],
  declined: [],
};

/** The ISO date `days` after `iso`. */
const plusDays = (iso: string, days: number): string => new Date(Date.parse(`${iso}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

/** The status buttons of one request; each click is one action with its own idempotency key. */
const StatusButtons = ({ request, onChanged }: { request: HelpRequest; onChanged: (request: HelpRequest) => void }) => {
  const post = useIdempotentPost(`/api/v1/cards/help-requests/${encodeURIComponent(request.id)}/status`, HelpRequestSchema, onChanged);
  const moves = MOVES[request.status];
  if (moves.length === 0) return null;
  return (
    <Flex direction="column" gap="xs">
      <Flex direction="row" gap="xs">
        {moves.map((move) => (
          <Button key={move.status} testId={`help-${request.id}-${move.status}`} size="xs" variant={move.status === 'declined' ? 'secondary' : 'primary'}
            disabled={post.state.status === 'sending'} onClick={() => void post.start({ status: move.status })}>{move.label}</Button>
        ))}
      </Flex>
      {post.state.status === 'failed' && (
        <Alert title="The request was not updated" variant="danger">
          <Text>{post.state.error.message}</Text>
          {Object.keys(post.state.error.fields).length === 0 && <Button testId={`help-${request.id}-retry`} onClick={() => void post.retry()}>Try again</Button>}
        </Alert>
      )}
    </Flex>
  );
};

/** The record's help requests (newest first): what is needed, by when, status, SLA state, who asked, the owner's task. */
export const HelpRequestList = ({ requests, locale, onChanged }: {
  requests: HelpRequest[]; locale: string | undefined; onChanged: () => void;
}) => {
  if (requests.length === 0) return <Text testId="help-empty">No help requests yet.</Text>;
  return (
    <Table bordered testId="help-requests">
      <TableHead>
        <TableRow>
          <TableHeader>What is needed</TableHeader>
          <TableHeader>By</TableHeader>
          <TableHeader>Status</TableHeader>
          <TableHeader>SLA</TableHeader>
          <TableHeader>Requested by</TableHeader>
          <TableHeader>Task</TableHeader>
          <TableHeader> </TableHeader>
        </TableRow>
      </TableHead>
      <TableBody>
        {requests.map((r) => (
          <TableRow key={r.id} testId={`help-${r.id}`}>
            <TableCell>{r.needed}</TableCell>
            <TableCell>{formatDate(r.needed_by, locale)}</TableCell>
            <TableCell><Tag testId={`help-${r.id}-status`} variant={HELP_STATUS[r.status].variant}>{HELP_STATUS[r.status].label}</Tag></TableCell>
            <TableCell><Tag testId={`help-${r.id}-sla`} variant={HELP_SLA[r.sla].variant}>{HELP_SLA[r.sla].label}</Tag></TableCell>
            <TableCell>{`${r.requested_by ?? '—'} on ${formatDate(r.requested_on, locale)}`}</TableCell>
            <TableCell>{taskText(r.task)}</TableCell>
            <TableCell><StatusButtons request={r} onChanged={onChanged} /></TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
};

/**
 * "Ask the owner for help": what is needed and by when (two days from the card's as-of date unless changed). Saving is
 * one action with its own idempotency key; "Try again" resends it with the same key. Fields the service refuses are marked.
 */
export const HelpRequestForm = ({ objectType, objectId, today, onSaved }: {
  objectType: 'company' | 'deal'; objectId: string; today: string; onSaved: (request: HelpRequest) => void;
}) => {
  const [needed, setNeeded] = useState('');
  const [by, setBy] = useState(() => plusDays(today, 2));
  const save = useIdempotentPost('/api/v1/cards/help-requests', HelpRequestSchema, (request: HelpRequest) => {
    setNeeded('');
    onSaved(request);
  });
  const fields = save.state.status === 'failed' ? save.state.error.fields : {};
  const problem = (...names: string[]) => {
    const messages = names.flatMap((n) => fields[n] ?? []);
    return messages.length > 0 ? { error: true, validationMessage: messages.join('; ') } : {};
  };
  return (
    <Flex direction="column" gap="sm" testId="help-form">
      <TextArea name="help-needed" label="What is needed" required placeholder="e.g. Ask their CFO to release the March invoices"
        value={needed} onChange={setNeeded} {...problem('needed')} />
      <DateInput name="help-by" label="Needed by" required format="YYYY-MM-DD" value={isoToDateInput(by)} min={isoToDateInput(today)}
        onChange={(v) => { if (v) setBy(dateInputToIso(v)); }} {...problem('neededBy')} />
      <Button testId="ask-help" variant="primary" disabled={needed.trim() === '' || save.state.status === 'sending'}
        onClick={() => void save.start({ objectType, objectId, needed: needed.trim(), neededBy: by })}>Ask the owner for help</Button>
      {save.state.status === 'failed' && (
        <Alert title="The help request was not sent" variant="danger">
          <Text>{save.state.error.message}</Text>
          {Boolean(fields.objectId?.length) && <Text testId="help-record-problem">{`This ${objectType} ${fields.objectId?.join('; ')}.`}</Text>}
          {Object.keys(fields).length === 0 && <Button testId="retry-help" onClick={() => void save.retry()}>Try again</Button>}
        </Alert>
      )}
    </Flex>
  );
};

/** The help-requests section of a card: the list and the form. */
export const HelpRequests = ({ objectType, objectId, requests, today, locale, onChanged }: {
  objectType: 'company' | 'deal'; objectId: string; requests: HelpRequest[]; today: string; locale: string | undefined; onChanged: () => void;
}) => (
  <Flex direction="column" gap="sm">
    <HelpRequestList requests={requests} locale={locale} onChanged={onChanged} />
    <HelpRequestForm objectType={objectType} objectId={objectId} today={today} onSaved={onChanged} />
  </Flex>
);
