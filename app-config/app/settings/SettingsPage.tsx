import { hubspot } from '@hubspot/ui-extensions';
import { SettingsPage } from '@arbridge/extensions/SettingsPage.tsx';

hubspot.extend<'settings'>(() => <SettingsPage />);
