import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CompanyCardSchema } from '../../extensions/card-api';
import { loadConfig } from '../../src/config';
import { createApp } from '../../src/http/app';
import { setCompanyLink } from '../../src/hubspot/links';
import { createLogger } from '../../src/logger';
import { createCardCache } from '../../src/services/card-cache';
import { importInvoicesCsv, importPaymentsCsv } from '../../src/services/import';
import { touchPortal } from '../../src/store/facts';
import type { Store } from '../../src/store/store';
import { cardQuery, signedRequest } from '../helpers/sign';
import { describeEachStore, openTestStore } from '../helpers/stores';

const PORTAL = 8_800;
const SECRET = 'card-cache-secret';
const PUBLIC_URL = 'https://arbridge.example.com';
const COMPANY = '4242';

describe('createCardCache', () => {
  it('answers only for the version an entry was computed at, and forgets the least recently used first', () => {
    const cache = createCardCache(2);
    cache.set('a', 1, 'A1');
    expect(cache.get('a', 1)).toBe('A1');
    expect(cache.get('a', 2)).toBeUndefined();
    expect(cache.get('a', 1)).toBeUndefined(); // a stale entry is dropped, not kept for an older reader
    cache.set('a', 2, 'A2');
    cache.set('b', 2, 'B2');
    expect(cache.get('a', 2)).toBe('A2'); // a is now the most recently used
    cache.set('c', 2, 'C2');
    expect(cache.size).toBe(2);
    expect(cache.get('b', 2)).toBeUndefined();
    expect(cache.get('a', 2)).toBe('A2');
    expect(cache.get('c', 2)).toBe('C2');
  });
});

describeEachStore('cached card answers', (backend) => {
  let store: Store;
  let app: ReturnType<typeof createApp>;

  beforeAll(async () => {
    store = await openTestStore(backend);
    const config = loadConfig({
      HUBSPOT_CLIENT_SECRET: SECRET, ARBRIDGE_PUBLIC_URL: PUBLIC_URL, HUBSPOT_ACCESS_TOKEN: 'token', HUBSPOT_PORTAL_ID: String(PORTAL), LOG_LEVEL: 'silent',
    });
    app = createApp({ db: store.db, config, logger: createLogger('silent'), today: () => '2026-03-31' });
    await importInvoicesCsv(store.db, PORTAL, [
      'invoice_id,customer_id,customer_name,issue_date,due_date,amount,currency',
      'INV-1,C-1,Acme,2026-01-01,2026-01-31,100.00,USD',
      'INV-2,C-1,Acme,2026-02-01,2026-03-02,50.00,USD',
    ].join('\n'));
    const customer = await store.db.selectFrom('customers').select('id').where('portal_id', '=', PORTAL).executeTakeFirstOrThrow();
    await store.db.transaction().execute(async (trx) => {
      await setCompanyLink(trx, PORTAL, { customerId: String(customer.id), companyId: COMPANY, method: 'manual' });
      await touchPortal(trx, PORTAL);
    });
  });
  afterAll(async () => {
    await store.close();
  });

  const outstanding = async (): Promise<string | undefined> => {
    const res = await signedRequest(app, {
      method: 'GET', secret: SECRET, publicUrl: PUBLIC_URL,
      path: `/api/v1/cards/company?${cardQuery({ objectId: COMPANY }, { portalId: PORTAL })}`,
    });
    expect(res.status).toBe(200);
    return CompanyCardSchema.parse(res.body).summary?.currencies[0]?.metrics.outstanding;
  };

  it('serves the same answer until a writer marks the portal changed, then the new one', async () => {
    expect(await outstanding()).toBe('150.00');
    // A change that did not mark the portal (no writer of the service does this): the cached answer stands.
    await store.db.updateTable('invoices').set({ total_minor: 20_000 }).where('portal_id', '=', PORTAL).where('external_id', '=', 'INV-1').execute();
    expect(await outstanding()).toBe('150.00');
    await touchPortal(store.db, PORTAL);
    expect(await outstanding()).toBe('250.00');
  });

  it('sees an import at once: every import marks the portal changed', async () => {
    const before = await outstanding();
    await importPaymentsCsv(store.db, PORTAL, ['payment_id,invoice_id,date,amount', 'P-1,INV-2,2026-03-10,50.00'].join('\n'));
    expect(await outstanding()).not.toBe(before);
    expect(await outstanding()).toBe('200.00');
  });
});
