import { hubspot } from '@hubspot/ui-extensions';
import { DealCard } from '@arbridge/extensions/DealCard.tsx';

hubspot.extend<'crm.record.tab'>(() => <DealCard />);
