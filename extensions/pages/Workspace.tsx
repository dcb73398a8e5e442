import {
  Button, EmptyState, Flex, Heading, Input, Link, LoadingSpinner, Select, Table, TableBody, TableCell, TableHead, TableHeader,
  TableRow, Tag, Text, useExtensionContext,
} from '@hubspot/ui-extensions';
import { PageTitle } from '@hubspot/ui-extensions/pages';
import { useState, type ReactNode } from 'react';
import { ErrorPanel } from '../components/ErrorPanel.tsx';
import { formatDate, formatMoney } from '../format.ts';
import { useCardData } from '../hooks/useCardData.ts';
import { WorkspaceSchema, type Workspace as WorkspaceData, type WorkspacePromise } from '../workspace-api.ts';

const SLA_LABELS = { within: 'Within SLA', overdue: 'SLA missed', escalated: 'Escalated' } as const;
const SLA_VARIANTS = { within: 'success', overdue: 'error', escalated: 'warning' } as const;
const CURRENCY_CHOICES = ['USD', 'EUR', 'GBP', 'CAD', 'AUD', 'CHF', 'JPY'];

/** One section of the worklist: a heading with its count, the table, or a line saying it is empty. */
const Section = ({ id, title, count, empty, headers, children }: {
  id: string; title: string; count: number; empty: string; headers: string[]; children: ReactNode;
}) => (
  <Flex direction="column" gap="sm">
    <Heading>{`${title} (${count})`}</Heading>
    {count === 0
      ? <Text testId={`${id}-empty`}>{empty}</Text>
      : (
        <Table bordered testId={id}>
          <TableHead><TableRow>{headers.map((h) => <TableHeader key={h}>{h}</TableHeader>)}</TableRow></TableHead>
          <TableBody>{children}</TableBody>
        </Table>
      )}
  </Flex>
);

const RecordLink = ({ url, children }: { url: string; children: string }) => <Link href={{ url, external: false }}>{children}</Link>;

const PromiseRows = ({ rows, locale }: { rows: WorkspacePromise[]; locale: string | undefined }) => rows.map((p) => (
  <TableRow key={p.id}>
    <TableCell><RecordLink url={p.url}>{p.customer_name ?? `Company ${p.company_id}`}</RecordLink></TableCell>
    <TableCell>{formatDate(p.promise_date, locale)}</TableCell>
    <TableCell>{formatMoney(p.amount, p.currency, locale)}</TableCell>
    <TableCell>{formatMoney(p.paid, p.currency, locale)}</TableCell>
    <TableCell>{p.owner_id ?? '—'}</TableCell>
  </TableRow>
));

const Lists = ({ data, locale }: { data: WorkspaceData; locale: string | undefined }) => (
  <Flex direction="column" gap="lg">
    <Text variant="microcopy" testId="as-of">
      {`As of ${formatDate(data.as_of, locale)}. Stalled: past the ask-the-rep level (${data.ask_rep_days ?? '—'} days past due) with no payment and nothing logged in ${data.filters.quiet_days} days.`}
    </Text>
    <Section id="stalled" title="Stalled accounts" count={data.stalled.length} empty="No account is stalled."
      headers={['Customer', 'Overdue', 'Days past due', 'Last payment', 'Last contact', 'Owner']}>
      {data.stalled.map((s) => (
        <TableRow key={`${s.customer_id}-${s.currency}`}>
          <TableCell><RecordLink url={s.url}>{s.company_name ?? s.customer_name ?? `Company ${s.company_id}`}</RecordLink></TableCell>
          <TableCell>{formatMoney(s.overdue, s.currency, locale)}</TableCell>
          <TableCell>{String(s.days_past_due)}</TableCell>
          <TableCell>{s.last_payment_on ? formatDate(s.last_payment_on, locale) : 'Never'}</TableCell>
          <TableCell>{s.last_logged_on ? formatDate(s.last_logged_on, locale) : 'Never'}</TableCell>
          <TableCell>{s.owner_id ?? '—'}</TableCell>
        </TableRow>
      ))}
    </Section>
    <Section id="help-requests" title="Open help requests" count={data.help_requests.length} empty="No help request is open."
      headers={['Customer', 'Needed', 'By', 'Status', 'SLA', 'Owner']}>
      {data.help_requests.map((h) => (
        <TableRow key={h.id}>
          <TableCell><RecordLink url={h.url}>{h.customer_name ?? `Request ${h.id}`}</RecordLink></TableCell>
          <TableCell>{h.needed}</TableCell>
          <TableCell>{formatDate(h.needed_by, locale)}</TableCell>
          <TableCell>{h.status === 'open' ? 'Open' : 'Accepted'}</TableCell>
          <TableCell><Tag variant={SLA_VARIANTS[h.sla]}>{`${SLA_LABELS[h.sla]} (${formatDate(h.sla_due_on, locale)})`}</Tag></TableCell>
          <TableCell>{h.owner_id ?? '—'}</TableCell>
        </TableRow>
      ))}
    </Section>
    <Section id="promises-due" title="Promises to pay due this week" count={data.promises_due.length} empty="No promise falls due this week."
      headers={['Customer', 'Promised for', 'Amount', 'Paid so far', 'Owner']}>
      <PromiseRows rows={data.promises_due} locale={locale} />
    </Section>
    <Section id="broken-promises" title="Broken promises" count={data.broken_promises.length} empty="No promise was broken in the last 30 days."
      headers={['Customer', 'Promised for', 'Amount', 'Paid', 'Owner']}>
      <PromiseRows rows={data.broken_promises} locale={locale} />
    </Section>
    <Section id="big-deals" title="Big deals just closed" count={data.big_deals.length} empty="No big deal closed in the last 7 days."
      headers={['Deal', 'Amount', 'Closed', 'Owner']}>
      {data.big_deals.map((d) => (
        <TableRow key={d.deal_id}>
          <TableCell><RecordLink url={d.url}>{d.name ?? `Deal ${d.deal_id}`}</RecordLink></TableCell>
          <TableCell>{formatMoney(d.amount, d.currency, locale)}</TableCell>
          <TableCell>{formatDate(d.closed_on, locale)}</TableCell>
          <TableCell>{d.owner_id ?? '—'}</TableCell>
        </TableRow>
      ))}
    </Section>
  </Flex>
);

/**
 * The AR workspace, the app's home page: the worklist of stalled accounts, open help requests, promises to pay
 * due this week and broken, and big deals just closed, filtered by HubSpot owner and currency. Every row links
 * to its HubSpot record. A rep narrows it to their book with their owner id.
 */
export const Workspace = () => {
  const context = useExtensionContext<'pages'>();
  const locale = context.user.locale;
  const [owner, setOwner] = useState('');
  const [currency, setCurrency] = useState('');
  const [applied, setApplied] = useState({ owner: '', currency: '' });
  const query = new URLSearchParams();
  if (applied.owner !== '') query.set('owner', applied.owner);
  if (applied.currency !== '') query.set('currency', applied.currency);
  const { state, reload } = useCardData(`/api/v1/workspace${query.size > 0 ? `?${query.toString()}` : ''}`, WorkspaceSchema);

  return (
    <Flex direction="column" gap="md">
      <PageTitle>AR workspace</PageTitle>
      <Flex direction="row" gap="sm" align="end" testId="filters">
        <Input name="owner" label="HubSpot owner id" placeholder="All owners" value={owner} onChange={setOwner} />
        <Select name="currency" label="Currency" value={currency} onChange={(v) => setCurrency(String(v ?? ''))}
          options={[{ label: 'All currencies', value: '' }, ...CURRENCY_CHOICES.map((c) => ({ label: c, value: c }))]} />
        <Button testId="apply-filters" onClick={() => setApplied({ owner: owner.trim(), currency })}>Apply</Button>
      </Flex>
      {state.status === 'loading' && <LoadingSpinner label="Loading the worklist" layout="centered" />}
      {state.status === 'error' && <ErrorPanel title="The worklist is not available" error={state.error} onRetry={reload} />}
      {state.status === 'success' && (
        state.data.stalled.length + state.data.help_requests.length + state.data.promises_due.length + state.data.broken_promises.length + state.data.big_deals.length === 0
          ? (
            <EmptyState testId="all-clear" title="Nothing needs attention" imageName="emptyStateCharts" layout="vertical">
              <Text>{`No stalled account, open help request, promise due or broken, or big deal for these filters as of ${formatDate(state.data.as_of, locale)}.`}</Text>
            </EmptyState>
          )
          : <Lists data={state.data} locale={locale} />
      )}
    </Flex>
  );
};
