import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { SourceError } from '../../src/connectors/types';
import type { Store } from '../../src/store/store';
import { storedCursor, SyncConflictError, syncSource, type SyncProgress } from '../../src/sync/engine';
import { InvalidPageError } from '../../src/sync/page';
import { describeEachStore, openTestStore } from '../helpers/stores';
import { customer, invoice, payment, rateLimited, ScriptedSource, seededSource } from './scripted-source';
import { connect, connectionRow, countRows, sorted, storeState } from './store-state';

describeEachStore('sync engine', (backend) => {
  let store: Store;
  let db: Store['db'];
  let nextPortal = 100;
  /** A fresh portal with a connected Xero connection. */
  const portal = async (): Promise<number> => {
    const portalId = nextPortal++;
    await connect(db, portalId, 'xero');
    return portalId;
  };
  const noSleep = { sleep: async () => undefined };

  beforeAll(async () => {
    store = await openTestStore(backend);
    db = store.db;
  });
  afterAll(async () => store.close());

  it('pulls every page in a full sync, then only the changes, and the store equals the source', async () => {
    const portalId = await portal();
    const source = seededSource(7, 600, 50);
    const pages: SyncProgress[] = [];
    const first = await syncSource(db, portalId, source.connector(), { onPage: (p) => pages.push(p), trigger: 'cli' });
    expect(first.done).toBe(true);
    expect(first.pages).toBe(pages.length);
    expect(pages.map((p) => p.pages)).toEqual(pages.map((_, i) => i + 1));
    expect(first.customers).toBe(30);
    expect(sorted(await storeState(db, portalId, 'xero'))).toEqual(sorted(source.expected()));
    expect(await countRows(db, 'payments', portalId)).toBe(source.expectedPayments());
    const kept = [...source.invoices.values()].filter((i) => i.value.status !== 'draft' && i.value.status !== 'deleted');
    expect(first.invoices).toBe(kept.length);
    expect(await countRows(db, 'invoice_lines', portalId)).toBe(kept.length * 2);
    expect(first.skippedAllocations).toBeGreaterThan(0);
    expect(await storedCursor(db, portalId, 'xero')).toBe(first.cursor);
    const run = await db.selectFrom('sync_runs').selectAll().where('id', '=', first.runId).executeTakeFirstOrThrow();
    expect(run).toMatchObject({ trigger: 'cli', full_sync: false, pages: first.pages, invoices: first.invoices, error: null, skipped_allocations: first.skippedAllocations });
    expect(run.finished_at).not.toBeNull();
    const connection = await connectionRow(db, portalId, 'xero');
    expect(connection).toMatchObject({ status: 'connected', last_error: null });
    expect(connection.last_sync_at).not.toBeNull();

    // Nothing changed: one pull, an empty page, nothing written.
    const version = (await db.selectFrom('portals').select('data_version').where('portal_id', '=', portalId).executeTakeFirstOrThrow()).data_version;
    const idle = await syncSource(db, portalId, source.connector());
    expect(idle).toMatchObject({ pages: 1, customers: 0, invoices: 0, payments: 0 });
    expect((await db.selectFrom('portals').select('data_version').where('portal_id', '=', portalId).executeTakeFirstOrThrow()).data_version).toBe(version);

    // Changes in the source: a new total, a deletion, a removed payment, a new customer with an invoice and payment.
    const changed = source.invoices.get('I3')?.value;
    if (!changed || changed.status === 'draft' || changed.status === 'deleted') throw new Error('fixture: I3 is kept');
    source.putInvoice({ ...changed, totalMinor: changed.totalMinor + 1_234, lines: [{ productId: null, description: 'All', quantity: 1, amountMinor: changed.totalMinor + 1_234 }] });
    const deleted = [...source.invoices.values()].find((i) => i.value.status === 'open' && i.value.id !== 'I3')?.value;
    if (!deleted) throw new Error('fixture: an open invoice');
    source.putInvoice({ ...deleted, status: 'deleted', sourceStatus: 'DELETED' });
    const paid = [...source.payments.values()].find((p) => !p.value.removed)?.value;
    if (!paid) throw new Error('fixture: a payment');
    source.putPayment({ ...paid, removed: true });
    source.putCustomer(customer('NEW', { name: 'Newco' }));
    source.putInvoice(invoice('I-NEW', 'NEW', 9_900));
    source.putPayment(payment('P-NEW', [{ invoiceId: 'I-NEW', amountMinor: 9_900 }]));
    const second = await syncSource(db, portalId, source.connector());
    expect(second).toMatchObject({ pages: 3, customers: 1, invoices: 2, invoicesRemoved: 1, payments: 1, paymentsRemoved: 1 });
    expect(sorted(await storeState(db, portalId, 'xero'))).toEqual(sorted(source.expected()));
    expect(await countRows(db, 'payments', portalId)).toBe(source.expectedPayments());
    const lines = await db.selectFrom('invoice_lines as l').innerJoin('invoices as i', 'i.id', 'l.invoice_id')
      .select(['l.line_no', 'l.description', 'l.amount_minor', 'l.quantity', 'i.product', 'i.source_status'])
      .where('i.portal_id', '=', portalId).where('i.external_id', '=', 'I3').execute();
    expect(lines).toEqual([{ line_no: 1, description: 'All', amount_minor: changed.totalMinor + 1_234, quantity: 1, product: 'All', source_status: changed.sourceStatus }]);
  });

  it('keeps the source\'s customer attributes, fills in a customer named before it was sent, and removes drafts', async () => {
    const portalId = await portal();
    const source = new ScriptedSource('xero', 10);
    source.putInvoice(invoice('I1', 'LATE', 1_000));
    source.putInvoice(invoice('D1', 'LATE', 500, { status: 'draft' }));
    source.putPayment(payment('P1', [{ invoiceId: 'I1', amountMinor: 400 }, { invoiceId: 'D1', amountMinor: 100 }, { invoiceId: 'I1', amountMinor: 100 }]));
    const first = await syncSource(db, portalId, source.connector(), noSleep);
    expect(first).toMatchObject({ placeholderCustomers: 1, invoices: 1, payments: 1, skippedAllocations: 1 });
    // Two allocations of one payment to one invoice are one settlement of their sum.
    expect(sorted(await storeState(db, portalId, 'xero'))).toEqual([['LATE', { invoices: 1, totalMinor: 1_000, appliedMinor: 500 }]]);

    source.putCustomer(customer('LATE', { name: 'Late Ltd', email: 'ar@late.example', archived: true, creditLimitMinor: 500_000, creditLimitCurrency: 'NZD' }));
    source.putInvoice(invoice('I1', 'LATE', 1_000, { status: 'draft', sourceStatus: 'DRAFT' }));
    const second = await syncSource(db, portalId, source.connector(), noSleep);
    expect(second).toMatchObject({ customers: 1, invoicesRemoved: 1 });
    const row = await db.selectFrom('customers').select(['name', 'email', 'archived', 'credit_limit_minor', 'credit_limit_currency', 'source_updated_at'])
      .where('portal_id', '=', portalId).where('external_id', '=', 'LATE').executeTakeFirstOrThrow();
    expect(row).toMatchObject({ name: 'Late Ltd', email: 'ar@late.example', archived: true, credit_limit_minor: 500_000, credit_limit_currency: 'NZD' });
    expect(new Date(row.source_updated_at as Date).toISOString()).toBe('2026-10-01T10:00:00.000Z');
    expect(await countRows(db, 'invoices', portalId)).toBe(0);
    expect(await countRows(db, 'payment_allocations', portalId)).toBe(0);
    expect(await countRows(db, 'invoice_lines', portalId)).toBe(0);
    // The payment stays, applied to nothing, until the source removes it.
    expect(await countRows(db, 'payments', portalId)).toBe(1);
  });

  it('advances the cursor with its page: a page that fails leaves the previous cursor, and the rerun loses and repeats nothing', async () => {
    const portalId = await portal();
    const source = seededSource(11, 300, 40);
    await syncSource(db, portalId, source.connector(), noSleep);
    // 100 invoices change; the second page of them carries a change the store refuses (a settled invoice's currency).
    const open = [...source.invoices.values()].map((i) => i.value).filter((i) => i.status === 'open');
    const settled = new Set([...source.payments.values()].filter((p) => !p.value.removed).flatMap((p) => p.value.allocations.map((a) => a.invoiceId)));
    const changes = open.slice(0, 100);
    const bad = changes.slice(40, 80).find((i) => settled.has(i.id));
    if (!bad) throw new Error('fixture: a settled invoice on the second page');
    for (const i of changes) source.putInvoice(i === bad ? { ...i, currency: 'EUR', totalMinor: i.totalMinor + 1 } : { ...i, totalMinor: i.totalMinor + 1 });
    const before = await storedCursor(db, portalId, 'xero');
    const pages: string[] = [];
    const failed = syncSource(db, portalId, source.connector(), { ...noSleep, onPage: (p) => pages.push(p.cursor ?? '') });
    await expect(failed).rejects.toThrow(/cannot change currency/);
    expect(pages).toHaveLength(1);
    const committed = await storedCursor(db, portalId, 'xero');
    expect(committed).toBe(pages[0]);
    expect(committed).not.toBe(before);
    const connection = await connectionRow(db, portalId, 'xero');
    expect(connection.status).toBe('error');
    expect(connection.last_error).toMatch(/^Xero sync failed: .*cannot change currency/);
    // Of the failed page nothing was stored: its invoices keep their old totals.
    const stored = await db.selectFrom('invoices').select(['external_id', 'total_minor']).where('portal_id', '=', portalId)
      .where('external_id', 'in', changes.slice(40, 80).map((i) => i.id)).execute();
    expect(stored.map((r) => r.total_minor).sort()).toEqual(changes.slice(40, 80).map((i) => i.totalMinor).sort());

    // The source fixes the invoice; the rerun starts at the committed cursor.
    source.putInvoice({ ...bad, totalMinor: bad.totalMinor + 1 });
    const pulledBefore = source.pulls.length;
    const resumed = await syncSource(db, portalId, source.connector(), noSleep);
    expect(source.pulls[pulledBefore]).toBe(committed);
    expect(resumed.invoices).toBe(60 - 1); // the rest of the pass; the fixed invoice moved to the next pass
    const last = await syncSource(db, portalId, source.connector(), noSleep);
    expect(last.invoices).toBe(1);
    expect(sorted(await storeState(db, portalId, 'xero'))).toEqual(sorted(source.expected()));
    expect(await countRows(db, 'payments', portalId)).toBe(source.expectedPayments());
    expect((await connectionRow(db, portalId, 'xero')).status).toBe('connected');
  });

  it('waits out a 429 for at least its Retry-After, backs off, and gives up after the set attempts', async () => {
    const portalId = await portal();
    const source = seededSource(3, 40, 100);
    source.faults.push(rateLimited('xero', 1_500), rateLimited('xero', 0), new SourceError('xero', 'HTTP 503', true));
    const waits: number[] = [];
    const sleep = async (ms: number): Promise<void> => { waits.push(ms); };
    const result = await syncSource(db, portalId, source.connector(), { sleep, retry: { baseDelayMs: 1_000 }, random: () => 0 });
    expect(result.done).toBe(true);
    // At least Retry-After; otherwise exponential (jitter at its lowest: half of 1 s, 2 s, 4 s).
    expect(waits).toEqual([1_500, 1_000, 2_000]);
    expect(sorted(await storeState(db, portalId, 'xero'))).toEqual(sorted(source.expected()));

    source.putInvoice(invoice('I-X', 'C0', 100));
    source.faults.push(...Array.from({ length: 3 }, () => rateLimited('xero', 10)));
    waits.length = 0;
    await expect(syncSource(db, portalId, source.connector(), { sleep, retry: { attempts: 3 } })).rejects.toThrow('Rate limited (HTTP 429)');
    expect(waits).toHaveLength(2);
    expect(await connectionRow(db, portalId, 'xero')).toMatchObject({ status: 'error', last_error: 'Xero: Rate limited (HTTP 429)' });

    // A Retry-After beyond what a run waits (a daily limit) ends the run at once; the next one tries again.
    source.faults.push(rateLimited('xero', 3 * 60 * 60_000));
    waits.length = 0;
    await expect(syncSource(db, portalId, source.connector(), { sleep })).rejects.toThrow('Rate limited');
    expect(waits).toEqual([]);
    const run = await db.selectFrom('sync_runs').select(['error', 'finished_at']).where('portal_id', '=', portalId)
      .orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(run.error).toBe('Xero: Rate limited (HTTP 429)');
    expect(run.finished_at).not.toBeNull();
    await syncSource(db, portalId, source.connector(), { sleep });
    expect(await connectionRow(db, portalId, 'xero')).toMatchObject({ status: 'connected', last_error: null, last_error_at: null });
  });

  it('records a refusal as the connection\'s error without retrying, and keeps a disconnected connection disconnected', async () => {
    const portalId = await portal();
    const source = seededSource(5, 30, 100);
    source.faults.push(new SourceError('xero', 'Xero answered 401: token expired', false));
    const waits: number[] = [];
    await expect(syncSource(db, portalId, source.connector(), { sleep: async (ms) => { waits.push(ms); } })).rejects.toThrow('token expired');
    expect(waits).toEqual([]);
    const row = await connectionRow(db, portalId, 'xero');
    expect(row).toMatchObject({ status: 'error', last_error: 'Xero: Xero answered 401: token expired' });
    expect(row.last_error_at).not.toBeNull();
    expect(await storedCursor(db, portalId, 'xero')).toBeNull();

    await db.updateTable('accounting_connections').set({ status: 'disconnected', credentials_enc: null }).where('portal_id', '=', portalId).execute();
    source.faults.push(new SourceError('xero', 'refused', false));
    await expect(syncSource(db, portalId, source.connector(), noSleep)).rejects.toThrow('refused');
    expect((await connectionRow(db, portalId, 'xero')).status).toBe('disconnected');
    await syncSource(db, portalId, source.connector(), noSleep);
    expect((await connectionRow(db, portalId, 'xero')).status).toBe('disconnected');
  });

  it('refuses a page that breaks the canonical model, naming the object, and stores none of it', async () => {
    const portalId = await portal();
    const source = new ScriptedSource('xero', 10);
    source.putCustomer(customer('C1'));
    source.putInvoice(invoice('I1', 'C1', 1_000, { currency: 'nzd' }));
    source.putInvoice(invoice('I2', 'C1', 1_000));
    await expect(syncSource(db, portalId, source.connector(), noSleep)).rejects.toThrow(InvalidPageError);
    expect((await connectionRow(db, portalId, 'xero')).last_error).toMatch(/invoices\[0\] \(I1\)\.currency: must be an upper-case ISO 4217 code/);
    expect(await countRows(db, 'invoices', portalId)).toBe(0);
  });

  it('runs a full sync from the start, keeping the old cursor until its first page commits', async () => {
    const portalId = await portal();
    const source = seededSource(9, 120, 30);
    const first = await syncSource(db, portalId, source.connector(), noSleep);
    source.faults.push(new SourceError('xero', 'HTTP 400', false));
    await expect(syncSource(db, portalId, source.connector(), { ...noSleep, full: true })).rejects.toThrow('HTTP 400');
    expect(source.pulls[source.pulls.length - 1]).toBeNull();
    expect(await storedCursor(db, portalId, 'xero')).toBe(first.cursor);
    const pulled = source.pulls.length;
    const full = await syncSource(db, portalId, source.connector(), { ...noSleep, full: true });
    expect(source.pulls[pulled]).toBeNull();
    expect(full.pages).toBe(first.pages);
    expect(full.invoices).toBe(first.invoices);
    const run = await db.selectFrom('sync_runs').select('full_sync').where('id', '=', full.runId).executeTakeFirstOrThrow();
    expect(run.full_sync).toBe(true);
    expect(sorted(await storeState(db, portalId, 'xero'))).toEqual(sorted(source.expected()));
  });

  it('lets only one of two simultaneous runs of a connection write; the other stops with nothing written', async () => {
    const portalId = await portal();
    const source = seededSource(13, 200, 50);
    // Both runs pull their first page before either commits.
    let arrived = 0;
    let release!: () => void;
    const bothPulled = new Promise<void>((resolve) => { release = resolve; });
    const gated = {
      source: 'xero' as const,
      pull: async (cursor: string | null) => {
        const page = source.pull(cursor);
        if (cursor === null) {
          arrived += 1;
          if (arrived === 2) release();
          await bothPulled;
        }
        return page;
      },
    };
    const results = await Promise.allSettled([syncSource(db, portalId, gated, noSleep), syncSource(db, portalId, gated, noSleep)]);
    const rejected = results.filter((r) => r.status === 'rejected');
    expect(rejected).toHaveLength(1);
    expect((rejected[0] as PromiseRejectedResult).reason).toBeInstanceOf(SyncConflictError);
    expect(sorted(await storeState(db, portalId, 'xero'))).toEqual(sorted(source.expected()));
    // The conflict is not the connection's fault.
    expect((await connectionRow(db, portalId, 'xero')).status).toBe('connected');
  });

  it('marks the webhook events received before a finished sync as processed', async () => {
    const portalId = await portal();
    const source = seededSource(17, 20, 100);
    await db.insertInto('source_webhook_events').values([
      { portal_id: portalId, source: 'xero', event_id: 'e1', tenant_id: 't', object_type: 'invoice', object_id: 'I1', occurred_at: null },
      { portal_id: portalId, source: 'stripe', event_id: 'e2', tenant_id: 't', object_type: 'invoice', object_id: 'I1', occurred_at: null },
    ]).execute();
    await syncSource(db, portalId, source.connector(), noSleep);
    const rows = await sql<{ source: string; processed: boolean }>`
      SELECT source, processed_at IS NOT NULL AS processed FROM source_webhook_events WHERE portal_id = ${portalId} ORDER BY source`.execute(db);
    expect(rows.rows).toEqual([{ source: 'stripe', processed: false }, { source: 'xero', processed: true }]);
  });
});
