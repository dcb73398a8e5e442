import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Store } from '../../src/store/store';
import { syncSource } from '../../src/sync/engine';
import { describeEachStore, openTestStore } from '../helpers/stores';
import { customer, invoice, ScriptedSource } from './scripted-source';

describeEachStore('a page applied to the store', (backend) => {
  let store: Store;
  const PORTAL = 5_301;

  beforeAll(async () => {
    store = await openTestStore(backend);
  });
  afterAll(async () => store.close());

  const row = (id: string) => store.db.selectFrom('invoices').select(['number', 'voided_date'])
    .where('portal_id', '=', PORTAL).where('source', '=', 'xero').where('external_id', '=', id).executeTakeFirstOrThrow();

  it('keeps the first void date of an invoice voided before, moves nothing else, and clears it when the invoice is reinstated', async () => {
    const source = new ScriptedSource('xero');
    const sync = () => syncSource(store.db, PORTAL, source.connector());
    source.putCustomer(customer('C1'));
    source.putInvoice(invoice('I1', 'C1', 10_000, { status: 'void', voidedDate: '2026-09-10', updatedAt: '2026-09-10T08:00:00.000Z' }));
    source.putInvoice(invoice('I2', 'C1', 20_000));
    expect(await sync()).toMatchObject({ invoicesInserted: 2, invoicesUpdated: 0 });
    expect(await row('I1')).toEqual({ number: 'INV-I1', voided_date: '2026-09-10' });

    // Edited after the void: a source that dates voids by the last change sends a later date.
    source.putInvoice(invoice('I1', 'C1', 10_000, { number: 'INV-I1-B', status: 'void', voidedDate: '2026-09-25', updatedAt: '2026-09-25T08:00:00.000Z' }));
    expect(await sync()).toMatchObject({ invoices: 1, invoicesUpdated: 1 });
    expect(await row('I1')).toEqual({ number: 'INV-I1-B', voided_date: '2026-09-10' });
    // The same page again changes nothing.
    expect(await syncSource(store.db, PORTAL, source.connector(), { full: true })).toMatchObject({ invoices: 2, invoicesInserted: 0, invoicesUpdated: 0 });

    source.putInvoice(invoice('I1', 'C1', 10_000, { number: 'INV-I1-B', status: 'open', voidedDate: null }));
    await sync();
    expect(await row('I1')).toEqual({ number: 'INV-I1-B', voided_date: null });
    // Voided again: a new void, with its own date.
    source.putInvoice(invoice('I1', 'C1', 10_000, { number: 'INV-I1-B', status: 'void', voidedDate: '2026-10-05' }));
    await sync();
    expect(await row('I1')).toEqual({ number: 'INV-I1-B', voided_date: '2026-10-05' });
  });
});
