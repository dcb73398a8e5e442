import { DescriptionList, DescriptionListItem, Link, Text, useExtensionContext } from '@hubspot/ui-extensions';
import { apiBaseUrl } from './api.ts';

/** The app's settings page: what HubSpot says about this install, and where the ARBridge service is. */
export const SettingsPage = () => {
  const context = useExtensionContext<'settings'>();
  const base = apiBaseUrl();
  return (
    <>
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
      <Text variant="microcopy">Connection settings for accounting systems are managed in the ARBridge service.</Text>
    </>
  );
};
