import { PageRoutes, createPageRouter } from '@hubspot/ui-extensions/pages';
import { Workspace } from './Workspace.tsx';

/** The app's pages (platform 2026.03): the AR workspace is the home page. */
const PageRouter = createPageRouter(
  <PageRoutes>
    <PageRoutes.IndexRoute component={Workspace} id="workspace" />
  </PageRoutes>,
);

export const AppPages = () => <PageRouter />;
