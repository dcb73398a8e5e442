import {
  Alert, Button, Flex, Heading, LoadingSpinner, StatusTag, Table, TableBody, TableCell, TableHead, TableHeader, TableRow, Text,
  useExtensionContext,
} from '@hubspot/ui-extensions';
import { DealCardSchema, type DealCard as DealCardData } from './card-api.ts';
import { ErrorPanel } from './components/ErrorPanel.tsx';
import { INVOICE_STATUS } from './components/PaymentHistory.tsx';
import { HelpRequests } from './components/HelpRequests.tsx';
import { RiskSummary } from './components/RiskSummary.tsx';
import { TermsForm, TermsOnRecord } from './components/TermsAck.tsx';
import { formatDate, formatMoney, formatRate } from './format.ts';
import { useCardData } from './hooks/useCardData.ts';
import { useCallback, useState } from 'react';

const CompanyRisk = ({ company }: { company: DealCardData['company'] }) => {
  if (company === null) return <Text testId="company-risk">No company is associated with this deal.</Text>;
  if (company.match.status === 'unmatched') {
    return <Text testId="company-risk">The deal's company is not linked to an accounting customer.</Text>;
  }
  if (company.risk.length === 0) return <Text testId="company-risk">The deal's company has no invoices yet.</Text>;
  return (
    <Flex direction="column" gap="sm">
      {company.risk.map(({ currency, risk }) => <RiskSummary key={currency} currency={currency} risk={risk} />)}
    </Flex>
  );
};

type Credit = NonNullable<NonNullable<DealCardData['company']>['credit']>;

/** The credit-check line: outstanding + the rest of this deal against the credit limit; a warning above it. */
const CreditLine = ({ credit, locale }: { credit: Credit; locale: string | undefined }) => {
  const money = (amount: string): string => formatMoney(amount, credit.currency, locale);
  const text = `Outstanding ${money(credit.outstanding)} + this deal ${money(credit.uninvoiced_deal)} = ${money(credit.total)} of a ${money(credit.limit)} credit limit`
    + (credit.utilisation === null ? '' : ` (${formatRate(credit.utilisation, locale)})`);
  return credit.exceeds
    ? <Alert testId="credit-check" title="Over the credit limit" variant="warning">{text}</Alert>
    : <Text testId="credit-check">{text}</Text>;
};

/** The deal record card: the deal's invoices, what is collected and outstanding per currency, and the company's risk. */
export const DealCard = () => {
  const context = useExtensionContext<'crm.record.tab'>();
  const objectId = String(context.crm.objectId);
  const locale = context.user.locale;
  const { state, reload } = useCardData(`/api/v1/cards/deal?objectId=${encodeURIComponent(objectId)}`, DealCardSchema);
  const [capturing, setCapturing] = useState(false);
  const saved = useCallback(() => {
    setCapturing(false);
    reload();
  }, [reload]);

  if (state.status === 'loading') return <LoadingSpinner label="Loading invoices" layout="centered" />;
  if (state.status === 'error') return <ErrorPanel title="Invoices are not available" error={state.error} onRetry={reload} />;
  const card = state.data;
  return (
    <Flex direction="column" gap="md">
      {card.invoices.length === 0 ? <Text testId="no-invoices">No invoices are linked to this deal.</Text> : (
        <Table bordered>
          <TableHead>
            <TableRow>
              <TableHeader>Invoice</TableHeader>
              <TableHeader>Due</TableHeader>
              <TableHeader align="right">Amount</TableHeader>
              <TableHeader align="right">Collected</TableHeader>
              <TableHeader align="right">Outstanding</TableHeader>
              <TableHeader>Status</TableHeader>
            </TableRow>
          </TableHead>
          <TableBody>
            {card.invoices.map((inv) => (
              <TableRow key={inv.id} testId={`invoice-${inv.id}`}>
                <TableCell>{inv.number ?? inv.id}</TableCell>
                <TableCell>{formatDate(inv.due_date, locale)}</TableCell>
                <TableCell align="right">{formatMoney(inv.amount, inv.currency, locale)}</TableCell>
                <TableCell align="right">{formatMoney(inv.collected, inv.currency, locale)}</TableCell>
                <TableCell align="right">{formatMoney(inv.outstanding, inv.currency, locale)}</TableCell>
                <TableCell><StatusTag testId={`status-${inv.id}`} variant={INVOICE_STATUS[inv.status].variant}>{INVOICE_STATUS[inv.status].label}</StatusTag></TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
      {card.totals.map((t) => (
        <Text key={t.currency} testId={`totals-${t.currency}`}>
          {`${t.currency}: invoiced ${formatMoney(t.invoiced, t.currency, locale)}, collected ${formatMoney(t.collected, t.currency, locale)}, outstanding ${formatMoney(t.outstanding, t.currency, locale)}, overdue ${formatMoney(t.overdue, t.currency, locale)}`}
        </Text>
      ))}
      <Heading>Company risk</Heading>
      <CompanyRisk company={card.company} />
      {card.company?.credit && <CreditLine credit={card.company.credit} locale={locale} />}
      <Heading>Payment terms</Heading>
      {card.terms_ack
        ? <TermsOnRecord ack={card.terms_ack} locale={locale} />
        : <Text testId="no-terms-ack">No payment-terms acknowledgment is on record for this deal.</Text>}
      {card.terms_ack && !capturing
        ? <Button testId="new-terms-ack" onClick={() => setCapturing(true)}>Record a new acknowledgment</Button>
        : <TermsForm dealId={objectId} today={card.as_of} onSaved={saved} />}
      <Heading>Help from the owner</Heading>
      <HelpRequests objectType="deal" objectId={objectId} requests={card.help_requests} today={card.as_of} locale={locale} onChanged={reload} />
    </Flex>
  );
};
