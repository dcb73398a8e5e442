import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Express } from 'express';
import pg from 'pg';
import { CompanyCardSchema, type CompanyCard } from '../../extensions/card-api';
import { loadConfig } from '../../src/config';
import { DEFAULT_POLICY } from '../../src/domain/policy';
import { createApp } from '../../src/http/app';
import { setCompanyLink } from '../../src/hubspot/links';
import { runMatching } from '../../src/hubspot/matching';
import { createLogger } from '../../src/logger';
import { cardAnswer, createCardCache, portalVersions, type PortalVersions } from '../../src/services/card-cache';
import { loadDemo, removeDemo } from '../../src/services/demo';
import { importInvoicesCsv, importPaymentsCsv } from '../../src/services/import';
import {
  importCompanyMappings, resetCompanyLink, resetDealLink, setManualCompanyLink, setManualDealLink,
} from '../../src/services/matching';
import { portalDataVersion, touchPortal } from '../../src/store/facts';
import { savePolicy } from '../../src/store/policies';
import { openStore, type Store } from '../../src/store/store';
import { cardQuery, signedRequest } from '../helpers/sign';
import { BACKENDS, describeEachStore, openTestStore, postgresEnabled } from '../helpers/stores';

const PORTAL = 8_800;
const SECRET = 'card-cache-secret';
const PUBLIC_URL = 'https://arbridge.example.com';
const COMPANY = '4242';
const OTHER_COMPANY = '4343';
const TODAY = '2026-03-31';
const STRONG_ETAG = /^"[A-Za-z0-9_-]{16,}"$/;

const config = loadConfig({
  HUBSPOT_CLIENT_SECRET: SECRET, ARBRIDGE_PUBLIC_URL: PUBLIC_URL, HUBSPOT_ACCESS_TOKEN: 'token', HUBSPOT_PORTAL_ID: String(PORTAL), LOG_LEVEL: 'silent',
});
const appOn = (store: Store): Express => createApp({ db: store.db, config, logger: createLogger('silent'), today: () => TODAY });

type Answer = { status: number; etag: string | undefined; text: string; card: CompanyCard | null };

/** The company card as HubSpot's proxy would fetch it, with the request's extra headers (If-None-Match). */
const companyCard = async (app: Express, headers: Record<string, string> = {}): Promise<Answer> => {
  const res = await signedRequest(app, {
    method: 'GET', secret: SECRET, publicUrl: PUBLIC_URL, headers,
    path: `/api/v1/cards/company?${cardQuery({ objectId: COMPANY }, { portalId: PORTAL })}`,
  });
  const etag = res.headers.etag as string | undefined;
  return { status: res.status, etag, text: res.text, card: res.status === 200 ? CompanyCardSchema.parse(res.body) : null };
};

const outstandingOf = (answer: Answer): string | undefined => answer.card?.summary?.currencies[0]?.metrics.outstanding;

/** Two invoices of customer C-1 (150.00 USD outstanding), linked to COMPANY by hand. */
const seed = async (store: Store): Promise<void> => {
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
};

describe('createCardCache', () => {
  it('answers only for the version an entry was computed at, and forgets the least recently used first', () => {
    const cache = createCardCache(2);
    const text = (key: string, version: number): string | undefined => cache.get(key, version)?.body.toString('utf8');
    cache.set('a', 1, '"A1"');
    expect(text('a', 1)).toBe('"A1"');
    expect(text('a', 2)).toBeUndefined();
    expect(text('a', 1)).toBeUndefined(); // a stale entry is dropped, not kept for an older reader
    cache.set('a', 2, '"A2"');
    cache.set('b', 2, '"B2"');
    expect(text('a', 2)).toBe('"A2"'); // a is now the most recently used
    cache.set('c', 2, '"C2"');
    expect(cache.size).toBe(2);
    expect(text('b', 2)).toBeUndefined();
    expect(text('a', 2)).toBe('"A2"');
    expect(text('c', 2)).toBe('"C2"');
  });

  it('keeps the bytes it sends, and returns the same answer object on every hit', () => {
    const cache = createCardCache();
    const kept = cache.set('k', 7, '{"name":"Zoë"}');
    expect(kept.body.equals(Buffer.from('{"name":"Zoë"}', 'utf8'))).toBe(true);
    expect(cache.get('k', 7)).toBe(kept);
  });
});

describe('cardAnswer', () => {
  it('gives equal bytes the same strong ETag, and different bytes another', () => {
    const a = cardAnswer('{"outstanding":"150.00"}');
    expect(a.etag).toMatch(STRONG_ETAG);
    expect(cardAnswer('{"outstanding":"150.00"}').etag).toBe(a.etag);
    expect(cardAnswer('{"outstanding":"250.00"}').etag).not.toBe(a.etag);
  });
});

describeEachStore('cached card answers', (backend) => {
  let store: Store;
  let app: Express;

  beforeAll(async () => {
    store = await openTestStore(backend);
    app = appOn(store);
    await seed(store);
  });
  afterAll(async () => {
    await store.close();
  });

  it('serves the same answer until a writer marks the portal changed, then the new one', async () => {
    expect(outstandingOf(await companyCard(app))).toBe('150.00');
    // A change that did not mark the portal (no writer of the service does this): the cached answer stands.
    await store.db.updateTable('invoices').set({ total_minor: 20_000 }).where('portal_id', '=', PORTAL).where('external_id', '=', 'INV-1').execute();
    expect(outstandingOf(await companyCard(app))).toBe('150.00');
    await touchPortal(store.db, PORTAL);
    expect(outstandingOf(await companyCard(app))).toBe('250.00');
  });

  it('sees an import at once: every import marks the portal changed', async () => {
    const before = outstandingOf(await companyCard(app));
    await importPaymentsCsv(store.db, PORTAL, ['payment_id,invoice_id,date,amount', 'P-1,INV-2,2026-03-10,50.00'].join('\n'));
    expect(outstandingOf(await companyCard(app))).not.toBe(before);
    expect(outstandingOf(await companyCard(app))).toBe('200.00');
  });

  it('tags the answer with a strong ETag of its bytes, answers 304 to If-None-Match, and a new ETag after a change', async () => {
    const first = await companyCard(app);
    expect(first.status).toBe(200);
    expect(first.etag).toMatch(STRONG_ETAG);
    expect(first.etag).toBe(cardAnswer(first.text).etag);
    const again = await companyCard(app);
    expect(again.etag).toBe(first.etag);
    expect(again.text).toBe(first.text);
    // Another instance computing the same answer tags it the same way.
    expect((await companyCard(appOn(store))).etag).toBe(first.etag);

    const unchanged = await companyCard(app, { 'If-None-Match': first.etag! });
    expect(unchanged.status).toBe(304);
    expect(unchanged.text).toBe('');
    expect((await companyCard(app, { 'If-None-Match': '"some-other-answer"' })).status).toBe(200);

    await store.db.updateTable('invoices').set({ total_minor: 30_000 }).where('portal_id', '=', PORTAL).where('external_id', '=', 'INV-1').execute();
    await touchPortal(store.db, PORTAL);
    const changed = await companyCard(app, { 'If-None-Match': first.etag! });
    expect(changed.status).toBe(200);
    expect(changed.etag).toMatch(STRONG_ETAG);
    expect(changed.etag).not.toBe(first.etag);
    expect(outstandingOf(changed)).toBe('300.00');
  });

  it('serves no answer older than a change committed before the request, whatever ran while it was uncommitted', async () => {
    const before = outstandingOf(await companyCard(app));
    expect(before).toBe('300.00');
    let during: Promise<Answer> | undefined;
    await store.db.transaction().execute(async (trx) => {
      await trx.updateTable('invoices').set({ total_minor: 40_000 }).where('portal_id', '=', PORTAL).where('external_id', '=', 'INV-1').execute();
      await touchPortal(trx, PORTAL);
      // Sent while the change is not committed; not awaited here (on PGlite it waits for the commit).
      during = companyCard(app);
    });
    expect(outstandingOf(await companyCard(app))).toBe('400.00');
    const seen = outstandingOf(await during!);
    // PGlite has one connection, held by the transaction until it ends: the request read after the commit.
    // PostgreSQL readers do not wait for writers: before the commit, the request saw the portal unchanged.
    expect(backend.name === 'pglite' ? ['400.00'] : ['300.00', '400.00']).toContain(seen);
  });

  it('keeps serving the committed answer after a change that rolled back', async () => {
    const before = await companyCard(app);
    await expect(store.db.transaction().execute(async (trx) => {
      await trx.updateTable('invoices').set({ total_minor: 90_000 }).where('portal_id', '=', PORTAL).where('external_id', '=', 'INV-1').execute();
      await touchPortal(trx, PORTAL);
      throw new Error('changed my mind');
    })).rejects.toThrow('changed my mind');
    const after = await companyCard(app);
    expect(after.text).toBe(before.text);
    expect(after.etag).toBe(before.etag);
  });
});

describeEachStore('portal data versions for the card cache', (backend) => {
  let store: Store;
  let app: Express;
  let versions: PortalVersions;

  beforeAll(async () => {
    store = await openTestStore(backend);
    app = appOn(store);
    versions = portalVersions(store.db);
    await seed(store);
  });
  afterAll(async () => {
    await store.close();
  });

  it('asks PostgreSQL every time (other instances write it), PGlite only after a touchPortal of this process', async () => {
    const reads = versions.storeReads;
    const version = await versions.read(PORTAL);
    expect(await versions.read(PORTAL)).toBe(version);
    expect(versions.storeReads - reads).toBe(backend.name === 'pglite' ? 1 : 2);
    await touchPortal(store.db, PORTAL);
    expect(await versions.read(PORTAL)).toBe(version + 1);
    expect(await versions.read(PORTAL)).toBe(version + 1);
    expect(versions.storeReads - reads).toBe(backend.name === 'pglite' ? 2 : 4);
    expect(await versions.read(999_999)).toBe(0); // a portal the store does not know
  });

  const customerRef = { source: 'csv', id: 'C-1' };
  const invoiceRef = { source: 'csv', id: 'INV-1' };
  const post = (path: string, body: Record<string, unknown>) => signedRequest(app, {
    method: 'POST', secret: SECRET, publicUrl: PUBLIC_URL, body: JSON.stringify(body),
    path: `${path}?${cardQuery({}, { portalId: PORTAL })}`,
  });
  let key = 0;
  const idempotencyKey = (): string => `card-cache-${++key}`;

  // Every writer of what cards show, through its usual entry point; each must move the version both in the store
  // and as the cache reads it, and the company card must show what the writer changed on it.
  type Writer = [name: string, write: () => Promise<unknown>, check?: (card: CompanyCard) => void];
  const writers: Writer[] = [
    ['an invoices import', () => importInvoicesCsv(store.db, PORTAL, [
      'invoice_id,customer_id,customer_name,issue_date,due_date,amount,currency', 'INV-3,C-1,Acme,2026-03-01,2026-03-31,25.00,USD',
    ].join('\n')), (card) => expect(card.summary?.invoices.map((i) => i.id)).toContain('INV-3')],
    ['a payments import', () => importPaymentsCsv(store.db, PORTAL, ['payment_id,invoice_id,date,amount', 'P-3,INV-3,2026-03-20,25.00'].join('\n')),
      (card) => expect(card.summary?.payments.map((p) => p.id)).toContain('P-3')],
    ['a policy change', () => savePolicy(store.db, PORTAL, { ...DEFAULT_POLICY, aging: { boundaries: [15, 45], basis: 'due' } }),
      (card) => expect(card.summary?.currencies[0]?.metrics.aging).toHaveLength(4)],
    ['an unlink from the company card', async () => expect((await post('/api/v1/cards/company/unlink', { objectId: COMPANY, idempotencyKey: idempotencyKey() })).status).toBe(200),
      (card) => expect(card.match.status).toBe('unmatched')],
    ['a link from the company card', async () => {
      const customer = await store.db.selectFrom('customers').select('id').where('portal_id', '=', PORTAL).where('external_id', '=', 'C-1').executeTakeFirstOrThrow();
      expect((await post('/api/v1/cards/company/link', { objectId: COMPANY, customerId: String(customer.id), idempotencyKey: idempotencyKey() })).status).toBe(200);
    }, (card) => expect(card.match.status).toBe('matched')],
    ['a log entry from the company card', async () => expect((await post('/api/v1/cards/company/log', {
      objectId: COMPANY, kind: 'call', occurredOn: '2026-03-30', summary: 'Promised to pay Friday', idempotencyKey: idempotencyKey(),
    })).status).toBe(201), (card) => expect(card.log?.entries.map((e) => e.summary)).toContain('Promised to pay Friday')],
    ['a payment-terms acknowledgment from the deal card', () => post('/api/v1/cards/deal/terms', {
      objectId: '7001', terms: 'Net 30', contactName: 'Paula Payer', acknowledgedOn: '2026-03-15', idempotencyKey: idempotencyKey(),
    }).then((res) => expect(res.status).toBe(201))],
    ['a manual company link (CLI)', () => setManualCompanyLink(store.db, PORTAL, customerRef, OTHER_COMPANY),
      (card) => expect(card.match.status).toBe('unmatched')],
    ['a reset of a company link (CLI)', () => resetCompanyLink(store.db, PORTAL, customerRef)],
    // A mapping alone shows on no card (it changes nothing): the matching run that applies it does.
    ['a matching run', async () => {
      await importCompanyMappings(store.db, PORTAL, ['source,external_id,company_id', `csv,C-1,${COMPANY}`].join('\n'));
      await runMatching(store.db, PORTAL);
    }, (card) => expect(card.match).toMatchObject({ status: 'matched', method: 'mapping' })],
    ['a manual deal link (CLI)', () => setManualDealLink(store.db, PORTAL, invoiceRef, '7001')],
    ['a reset of a deal link (CLI)', () => resetDealLink(store.db, PORTAL, invoiceRef)],
    ['a demo load', () => loadDemo(store.db, PORTAL, { customers: 2, invoices: 6, seed: 3, endDate: TODAY })],
    ['a demo removal', () => removeDemo(store.db, PORTAL)],
  ];

  it.each(writers.map(([name, write, check]) => ({ name, write, check })))('moves after $name, and the card shows it at once', async ({ write, check }) => {
    const before = await versions.read(PORTAL);
    const cached = await companyCard(app);
    expect(cached.status).toBe(200);
    await write();
    const after = await versions.read(PORTAL);
    expect(after).toBeGreaterThan(before);
    expect(after).toBe(await portalDataVersion(store.db, PORTAL));
    const fresh = await companyCard(app);
    expect(fresh.status).toBe(200);
    check?.(fresh.card!);
  });
});

// Several service instances on one PostgreSQL: a change another instance commits shows on the next request here.
(postgresEnabled() ? describe : describe.skip)('cached card answers with another service instance [postgres]', () => {
  const backend = BACKENDS.find((b) => b.name === 'postgres')!;
  const options = backend.options();
  let store: Store;
  let other: pg.Client;

  beforeAll(async () => {
    store = await openStore(options);
    await seed(store);
    if (options.kind !== 'postgres') throw new Error('a PostgreSQL backend was expected');
    other = new pg.Client({ connectionString: options.url, options: `-c search_path=${options.schema}` });
    await other.connect();
  });
  afterAll(async () => {
    await other.end();
    await store.close();
    await backend.cleanup(options);
  });

  it('shows a change the other instance committed on the next request', async () => {
    const app = appOn(store);
    expect(outstandingOf(await companyCard(app))).toBe('150.00');
    expect(outstandingOf(await companyCard(app))).toBe('150.00');
    // The other instance's writer, on its own connection: its touchPortal never runs in this process.
    await other.query('BEGIN');
    await other.query("UPDATE invoices SET total_minor = 5000 WHERE portal_id = $1 AND external_id = 'INV-1'", [PORTAL]);
    await other.query('UPDATE portals SET data_version = data_version + 1 WHERE portal_id = $1', [PORTAL]);
    await other.query('COMMIT');
    expect(outstandingOf(await companyCard(app))).toBe('100.00');
  });
});
