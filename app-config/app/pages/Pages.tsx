import { hubspot } from '@hubspot/ui-extensions';
import { AppPages } from '@arbridge/extensions/pages/AppPages.tsx';

hubspot.extend<'pages'>(() => <AppPages />);
