import {
  Alert, Button, Flex, SearchInput, Table, TableBody, TableCell, TableHead, TableHeader, TableRow, Text,
} from '@hubspot/ui-extensions';
import { useCallback, useState } from 'react';
import { callCardApi, CardApiError } from '../api.ts';
import { CustomerChoicesSchema, LinkResultSchema, type CustomerChoices, type LinkResult } from '../card-api.ts';
import { useIdempotentPost } from '../hooks/useIdempotentPost.ts';

type Search = { status: 'idle' } | { status: 'searching' } | { status: 'done'; result: CustomerChoices } | { status: 'failed'; error: CardApiError };

/**
 * Links an unmatched company to an accounting customer by hand: search the customers no company is linked to, then
 * link one. Each Link click is one action with its own idempotency key; "Try again" resends it with the same key.
 */
export const LinkPicker = ({ objectId, onLinked }: { objectId: string; onLinked: (result: LinkResult) => void }) => {
  const [query, setQuery] = useState('');
  const [search, setSearch] = useState<Search>({ status: 'idle' });
  const link = useIdempotentPost('/api/v1/cards/company/link', LinkResultSchema, onLinked);

  const runSearch = useCallback(async () => {
    setSearch({ status: 'searching' });
    try {
      const result = await callCardApi(`/api/v1/cards/customers?query=${encodeURIComponent(query.trim())}`, CustomerChoicesSchema);
      setSearch({ status: 'done', result });
    } catch (error) {
      setSearch({ status: 'failed', error: error instanceof CardApiError ? error : new CardApiError('network', null, 'ARBridge could not be reached.') });
    }
  }, [query]);

  return (
    <Flex direction="column" gap="sm">
      <Text>This company is not linked to an accounting customer yet. Find the customer and link it.</Text>
      <Flex direction="row" gap="sm" align="end">
        <SearchInput name="customer-query" label="Customer name, domain or id" value={query} onChange={(value) => setQuery(value)} />
        <Button testId="search" onClick={() => void runSearch()} disabled={search.status === 'searching'}>Search</Button>
      </Flex>
      {search.status === 'failed' && <Alert title="Search failed" variant="danger">{search.error.message}</Alert>}
      {search.status === 'done' && search.result.customers.length === 0 && <Text testId="no-customers">No unlinked customer matches.</Text>}
      {search.status === 'done' && search.result.customers.length > 0 && (
        <Table bordered>
          <TableHead>
            <TableRow>
              <TableHeader>Customer</TableHeader>
              <TableHeader>Domain</TableHeader>
              <TableHeader>Source</TableHeader>
              <TableHeader> </TableHeader>
            </TableRow>
          </TableHead>
          <TableBody>
            {search.result.customers.map((c) => (
              <TableRow key={c.id}>
                <TableCell>{c.name ?? c.external_id}</TableCell>
                <TableCell>{c.domain ?? '—'}</TableCell>
                <TableCell>{`${c.source} ${c.external_id}`}</TableCell>
                <TableCell>
                  <Button testId={`link-${c.id}`} variant="primary" disabled={link.state.status === 'sending'}
                    onClick={() => void link.start({ objectId, customerId: c.id })}>Link</Button>
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
      {link.state.status === 'failed' && (
        <Alert title="The link was not saved" variant="danger">
          <Text>{link.state.error.message}</Text>
          <Button testId="retry-link" onClick={() => void link.retry()}>Try again</Button>
        </Alert>
      )}
    </Flex>
  );
};
