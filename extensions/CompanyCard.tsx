import {
  Alert, Button, Divider, EmptyState, Flex, Heading, LoadingSpinner, Statistics, StatisticsItem, Text, useExtensionContext,
} from '@hubspot/ui-extensions';
import { useCallback } from 'react';
import {
  COMPANY_LINK_METHODS, CompanyCardSchema, LinkResultSchema, type CompanyCard as CompanyCardData,
} from './card-api.ts';
import { AgingChart } from './components/AgingChart.tsx';
import { TrendChart } from './components/TrendChart.tsx';
import { ErrorPanel } from './components/ErrorPanel.tsx';
import { LinkPicker } from './components/LinkPicker.tsx';
import { PaymentHistory } from './components/PaymentHistory.tsx';
import { RiskSummary } from './components/RiskSummary.tsx';
import { LogEntries, LogForm, OpenDisputes, OverdueTerms } from './components/CommunicationLog.tsx';
import { CreditLimit } from './components/CreditLimit.tsx';
import { HelpRequests } from './components/HelpRequests.tsx';
import { TermsOnRecord } from './components/TermsAck.tsx';
import { formatDate, formatDays, formatMoney, formatRate, isZeroAmount } from './format.ts';
import { useCardData } from './hooks/useCardData.ts';
import { useIdempotentPost } from './hooks/useIdempotentPost.ts';

/** How each link method reads on the card. */
export const COMPANY_LINK_METHOD_LABELS: Record<(typeof COMPANY_LINK_METHODS)[number], string> = {
  hubspot: 'from HubSpot invoices',
  explicit_id: 'by the customer id on the company',
  mapping: 'by the mapping file',
  domain: 'by email or website domain',
  name: 'by company name',
  manual: 'linked by hand',
};

type Matched = Extract<CompanyCardData['match'], { status: 'matched' }>;

const MatchedCompany = ({ card, match, locale, objectId, onChange }: {
  card: CompanyCardData; match: Matched; locale: string | undefined; objectId: string; onChange: () => void;
}) => {
  const unlink = useIdempotentPost('/api/v1/cards/company/unlink', LinkResultSchema, onChange);
  const summary = card.summary;
  const hasInvoices = summary !== null && summary.invoices.length > 0;
  return (
    <Flex direction="column" gap="md">
      <Text testId="match">
        {`Linked to ${match.customer_name ?? match.customer_id} (${match.source}), ${COMPANY_LINK_METHOD_LABELS[match.method]}${match.detail ? `: ${match.detail}` : ''}.`}
      </Text>
      {!hasInvoices && (
        <EmptyState testId="no-invoices" title="No invoices synced for this company yet" imageName="emptyStateCharts" layout="vertical">
          <Text testId="no-invoices-next-step">
            {`Import a CSV export or connect an accounting system in the ARBridge settings; this customer's invoices appear here after the next sync (as of ${formatDate(card.as_of, locale)}).`}
          </Text>
        </EmptyState>
      )}
      {hasInvoices && <Text testId="as-of" variant="microcopy">{`Figures as of ${formatDate(card.as_of, locale)}`}</Text>}
      {hasInvoices && summary.currencies.map(({ currency, metrics, risk, trend }) => (
        <Flex key={currency} direction="column" gap="sm">
          <Heading>{currency}</Heading>
          <Statistics>
            <StatisticsItem testId={`outstanding-${currency}`} label="Outstanding" number={formatMoney(metrics.outstanding, currency, locale)} />
            <StatisticsItem testId={`overdue-${currency}`} label="Overdue" number={formatMoney(metrics.overdue, currency, locale)} />
            <StatisticsItem testId={`on-time-${currency}`} label="Paid on time" number={formatRate(metrics.on_time_rate, locale)} />
            <StatisticsItem testId={`days-late-${currency}`} label="Weighted days late" number={formatDays(metrics.weighted_days_late, locale)} />
          </Statistics>
          {!isZeroAmount(metrics.overdue) && <OverdueTerms currency={currency} terms={card.terms} locale={locale} />}
          <RiskSummary currency={currency} risk={risk} />
          <AgingChart currency={currency} aging={metrics.aging} />
          {trend && <TrendChart currency={currency} trend={trend} />}
        </Flex>
      ))}
      {hasInvoices && (
        <Flex direction="column" gap="sm">
          <Heading>Payment history</Heading>
          <PaymentHistory invoices={summary.invoices} payments={summary.payments} locale={locale} />
        </Flex>
      )}
      {card.credit_limit && (
        <Flex direction="column" gap="sm">
          <Heading>Credit limit</Heading>
          <CreditLimit companyId={objectId} limit={card.credit_limit} defaultCurrency={summary?.currencies[0]?.currency ?? null}
            locale={locale} onSaved={onChange} />
        </Flex>
      )}
      <Flex direction="column" gap="sm">
        <Heading>Payment terms on record</Heading>
        {card.terms.length === 0
          ? <Text testId="no-terms">No payment-terms acknowledgment is on record for this company's deals. Capture it on the deal.</Text>
          : card.terms.map((ack) => (
            <Flex key={ack.id} direction="column" gap="xs">
              <Text format={{ fontWeight: 'demibold' }}>{`Deal ${ack.deal_id}`}</Text>
              <TermsOnRecord ack={ack} locale={locale} testId={`terms-${ack.deal_id}`} />
            </Flex>
          ))}
      </Flex>
      <Flex direction="column" gap="sm">
        <Heading>Communication log</Heading>
        {card.log && <LogEntries entries={card.log.entries} total={card.log.total} locale={locale} />}
        {card.log && <OpenDisputes entries={card.log.entries} companyId={objectId} today={card.as_of} locale={locale} onResolved={onChange} />}
        <LogForm companyId={objectId} today={card.as_of} onLogged={onChange} choices={{
          currencies: summary?.currencies.map((c) => c.currency) ?? [],
          invoices: (summary?.invoices ?? []).filter((i) => !isZeroAmount(i.open))
            .map((i) => ({ id: i.id, label: `${i.number ?? i.id} (${formatMoney(i.open, i.currency, locale)} open)`, currency: i.currency })),
        }} />
      </Flex>
      <Flex direction="column" gap="sm">
        <Heading>Help from the owner</Heading>
        <HelpRequests objectType="company" objectId={objectId} requests={card.help_requests} today={card.as_of} locale={locale} onChanged={onChange} />
      </Flex>
      <Divider />
      <Button testId="unlink" variant="destructive" disabled={unlink.state.status === 'sending'}
        onClick={() => void unlink.start({ objectId })}>Unlink this customer</Button>
      {unlink.state.status === 'failed' && (
        <Alert title="The customer was not unlinked" variant="danger">
          <Text>{unlink.state.error.message}</Text>
          <Button testId="retry-unlink" onClick={() => void unlink.retry()}>Try again</Button>
        </Alert>
      )}
    </Flex>
  );
};

/** The company record card: the linked accounting customer's receivables and risk, or a way to link one. */
export const CompanyCard = () => {
  const context = useExtensionContext<'crm.record.tab'>();
  const objectId = String(context.crm.objectId);
  const locale = context.user.locale;
  const { state, reload } = useCardData(`/api/v1/cards/company?objectId=${encodeURIComponent(objectId)}`, CompanyCardSchema);
  const changed = useCallback(() => reload(), [reload]);

  if (state.status === 'loading') return <LoadingSpinner label="Loading receivables" layout="centered" />;
  if (state.status === 'error') return <ErrorPanel title="Receivables are not available" error={state.error} onRetry={reload} />;
  const card = state.data;
  if (card.match.status === 'unmatched') return <LinkPicker objectId={objectId} onLinked={changed} />;
  return <MatchedCompany card={card} match={card.match} locale={locale} objectId={objectId} onChange={changed} />;
};
