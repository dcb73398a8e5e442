import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow, Text } from '@hubspot/ui-extensions';
import { formatCount } from '../../format.ts';
import type { Settings } from '../../settings-api.ts';
import { SOURCE_LABELS } from './Connections.tsx';

/** Accounting customers linked to no HubSpot company: how many, and the first ones with why. */
export const UnmatchedCustomers = ({ unmatched, locale }: { unmatched: Settings['unmatched']; locale: string | undefined }) => {
  if (unmatched.total === 0) {
    return <Text testId="unmatched-count">Every accounting customer is linked to a HubSpot company.</Text>;
  }
  const shown = unmatched.customers.length;
  return (
    <>
      <Text testId="unmatched-count">
        {`${formatCount(unmatched.total, locale)} accounting ${unmatched.total === 1 ? 'customer is' : 'customers are'} not linked to a HubSpot company`
          + `${shown < unmatched.total ? ` (the first ${shown} are listed)` : ''}.`}
      </Text>
      <Table bordered testId="unmatched">
        <TableHead>
          <TableRow>
            <TableHeader>Customer</TableHeader>
            <TableHeader>Source</TableHeader>
            <TableHeader>Domain</TableHeader>
            <TableHeader>Why</TableHeader>
          </TableRow>
        </TableHead>
        <TableBody>
          {unmatched.customers.map((c) => (
            <TableRow key={`${c.source}:${c.customer_id}`} testId={`unmatched-${c.source}-${c.customer_id}`}>
              <TableCell>{c.name ?? c.customer_id}</TableCell>
              <TableCell>{`${SOURCE_LABELS[c.source] ?? c.source} ${c.customer_id}`}</TableCell>
              <TableCell>{c.domain ?? '—'}</TableCell>
              <TableCell>{c.reason === 'ambiguous' ? `${c.candidates} companies fit` : 'No company fits'}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      <Text variant="microcopy" testId="unmatched-note">
        Reps can link a customer from the company card: open the company, find the customer in the ARBridge tab and link it.
      </Text>
    </>
  );
};
