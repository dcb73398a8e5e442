import {
  Alert, Button, Flex, Link, Table, TableBody, TableCell, TableHead, TableHeader, TableRow, Tag, Text,
} from '@hubspot/ui-extensions';
import { useCallback, useState } from 'react';
import { formatCount, formatDate } from '../../format.ts';
import { useIdempotentPost } from '../../hooks/useIdempotentPost.ts';
import { CONNECT_LINK_PATH, ConnectLinkResponseSchema, type ConnectLinkResponse } from '../../connect-api.ts';
import { ACCOUNTING_SOURCES, type Connection } from '../../settings-api.ts';

/** How each source reads; a source found only in the data is shown by its own name. */
export const SOURCE_LABELS: Record<string, string> = {
  quickbooks: 'QuickBooks Online',
  xero: 'Xero',
  stripe: 'Stripe',
  csv: 'CSV import',
  hubspot: 'HubSpot invoices',
};

type TagVariant = 'default' | 'warning' | 'success' | 'error' | 'info';

const isAccounting = (source: string): boolean => (ACCOUNTING_SOURCES as readonly string[]).includes(source);

/** The status tag of a source: accounting systems by their connection, other sources by whether they hold data. */
export const statusTag = (connection: Connection): { label: string; variant: TagVariant } => {
  if (!isAccounting(connection.source)) {
    return connection.status === 'connected' ? { label: 'Has data', variant: 'success' } : { label: 'No data', variant: 'default' };
  }
  switch (connection.status) {
    case 'connected': return { label: 'Connected', variant: 'success' };
    case 'error': return { label: 'Error', variant: 'error' };
    case 'disconnected': return { label: 'Disconnected', variant: 'warning' };
    default: return { label: 'Not connected', variant: 'default' };
  }
};

/** A timestamp as its calendar date (UTC) in the user's locale; `—` when there is none. */
const dateOf = (timestamp: string | null, locale: string | undefined): string => (timestamp === null ? '—' : formatDate(timestamp.slice(0, 10), locale));

/** An ISO date-time as a UTC clock time in the user's locale ("12:15 PM UTC"). */
const timeOf = (timestamp: string, locale: string | undefined): string => {
  try {
    return `${new Intl.DateTimeFormat(locale ?? 'en-US', { timeStyle: 'short', timeZone: 'UTC' }).format(new Date(timestamp))} UTC`;
  } catch {
    return timestamp;
  }
};

/**
 * Where the portal's invoices come from: one row per source with its status, account, counts, last sync and last
 * error; and "Connect accounting", which asks the service for a short-lived link to its connect page and offers it
 * (the link itself is never printed).
 */
export const Connections = ({ connections, locale }: { connections: Connection[]; locale: string | undefined }) => {
  const [link, setLink] = useState<ConnectLinkResponse | null>(null);
  const onLink = useCallback((result: ConnectLinkResponse) => setLink(result), []);
  const connect = useIdempotentPost(CONNECT_LINK_PATH, ConnectLinkResponseSchema, onLink);
  return (
    <Flex direction="column" gap="sm">
      <Table bordered testId="connections">
        <TableHead>
          <TableRow>
            <TableHeader>Source</TableHeader>
            <TableHeader>Status</TableHeader>
            <TableHeader>Account</TableHeader>
            <TableHeader>Customers</TableHeader>
            <TableHeader>Invoices</TableHeader>
            <TableHeader>Last sync</TableHeader>
            <TableHeader>Last error</TableHeader>
          </TableRow>
        </TableHead>
        <TableBody>
          {connections.map((c) => {
            const tag = statusTag(c);
            return (
              <TableRow key={c.source} testId={`connection-${c.source}`}>
                <TableCell>{SOURCE_LABELS[c.source] ?? c.source}</TableCell>
                <TableCell><Tag testId={`status-${c.source}`} variant={tag.variant}>{tag.label}</Tag></TableCell>
                <TableCell>{c.tenant_name ?? '—'}</TableCell>
                <TableCell>{formatCount(c.customers, locale)}</TableCell>
                <TableCell>{formatCount(c.invoices, locale)}</TableCell>
                <TableCell>{dateOf(c.last_sync_at, locale)}</TableCell>
                <TableCell>{c.last_error ?? '—'}</TableCell>
              </TableRow>
            );
          })}
        </TableBody>
      </Table>
      <Flex direction="row" gap="sm" align="center">
        <Button testId="connect" variant="primary" disabled={connect.state.status === 'sending'} onClick={() => void connect.start({})}>
          Connect accounting
        </Button>
        {link !== null && (
          <Link testId="connect-link" href={{ url: link.url, external: true }}>Open the connection page</Link>
        )}
      </Flex>
      {link !== null && (
        <Text variant="microcopy" testId="connect-expires">{`The link works until ${timeOf(link.expires_at, locale)}; ask for a new one after that.`}</Text>
      )}
      {connect.state.status === 'failed' && (
        <Alert testId="connect-failed" title="No connection link" variant="danger">
          <Text>{connect.state.error.message}</Text>
          <Button testId="connect-retry" onClick={() => void connect.retry()}>Try again</Button>
        </Alert>
      )}
    </Flex>
  );
};
