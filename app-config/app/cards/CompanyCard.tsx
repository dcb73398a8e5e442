import { hubspot } from '@hubspot/ui-extensions';
import { CompanyCard } from '@arbridge/extensions/CompanyCard.tsx';

hubspot.extend<'crm.record.tab'>(() => <CompanyCard />);
