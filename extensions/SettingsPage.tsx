import {
  DescriptionList, DescriptionListItem, Divider, Flex, Heading, Link, LoadingSpinner, Text, useExtensionContext,
} from '@hubspot/ui-extensions';
import { apiBaseUrl } from './api.ts';
import { Connections } from './components/settings/Connections.tsx';
import { PolicyForm } from './components/settings/PolicyForm.tsx';
import { UnmatchedCustomers } from './components/settings/UnmatchedCustomers.tsx';
import { ErrorPanel } from './components/ErrorPanel.tsx';
import { formatCount, formatDate } from './format.ts';
import { useCardData } from './hooks/useCardData.ts';
import { SettingsSchema, type Settings } from './settings-api.ts';

const INSTALL_KINDS = { oauth: 'OAuth install', private_app: 'Private app' } as const;

const Install = ({ settings, locale }: { settings: Settings; locale: string | undefined }) => {
  const { hubspot } = settings;
  return (
    <DescriptionList direction="row">
      <DescriptionListItem label="Installed as">
        <Text testId="install-kind">{hubspot.kind === null ? 'Not installed' : INSTALL_KINDS[hubspot.kind]}</Text>
      </DescriptionListItem>
      <DescriptionListItem label="HubSpot domain">
        <Text testId="hub-domain">{hubspot.hub_domain ?? '—'}</Text>
      </DescriptionListItem>
      <DescriptionListItem label="Installed on">
        <Text>{hubspot.installed_at === null ? '—' : formatDate(hubspot.installed_at.slice(0, 10), locale)}</Text>
      </DescriptionListItem>
      <DescriptionListItem label="Mirrored">
        <Text testId="mirrored">{`${formatCount(hubspot.companies, locale)} companies, ${formatCount(hubspot.deals, locale)} deals`}</Text>
      </DescriptionListItem>
    </DescriptionList>
  );
};

/**
 * The app's settings page: the HubSpot install and where invoices come from, the accounting customers no company is
 * linked to, and the portal's policy, which an admin edits here. One signed GET of `/api/v1/settings` per load.
 */
export const SettingsPage = () => {
  const context = useExtensionContext<'settings'>();
  const locale = context.user?.locale;
  const base = apiBaseUrl();
  const { state, reload } = useCardData('/api/v1/settings', SettingsSchema);
  return (
    <Flex direction="column" gap="md">
      <Text>ARBridge answers the company and deal cards from its own store of invoices and payments.</Text>
      <DescriptionList direction="row">
        <DescriptionListItem label="HubSpot account">
          <Text testId="portal">{String(context.portal.id)}</Text>
        </DescriptionListItem>
        <DescriptionListItem label="App">
          <Text testId="app">{context.extension?.appName ?? 'ARBridge'}</Text>
        </DescriptionListItem>
        <DescriptionListItem label="Service">
          <Link testId="service" href={{ url: base, external: true }}>{base}</Link>
        </DescriptionListItem>
      </DescriptionList>
      {state.status === 'loading' && <LoadingSpinner label="Loading settings" layout="centered" />}
      {state.status === 'error' && <ErrorPanel title="Settings are not available" error={state.error} onRetry={reload} />}
      {state.status === 'success' && (
        <>
          <Install settings={state.data} locale={locale} />
          <Divider />
          <Heading>Connections</Heading>
          <Connections connections={state.data.connections} locale={locale} />
          <Divider />
          <Heading>Unmatched customers</Heading>
          <UnmatchedCustomers unmatched={state.data.unmatched} locale={locale} />
          <Divider />
          <Heading>Policies</Heading>
          <PolicyForm key={state.data.portal_id} policy={state.data.policy} defaults={state.data.defaults} />
        </>
      )}
    </Flex>
  );
};
