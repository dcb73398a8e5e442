import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from '@jest/globals';
import { createCaller } from '../../src/hubspot/caller';
import { hubspotClient } from '../../src/hubspot/client';
import { setCompanyLink } from '../../src/hubspot/links';
import { mirrorLogNotes, noteMarker } from '../../src/hubspot/notes';
import { addLogEntry } from '../../src/services/comm-log';
import { ensurePortal, idsByExternalId, upsertCustomers } from '../../src/store/facts';
import type { Store } from '../../src/store/store';
import { startFakeHubSpot, type FakeHubSpot } from '../fakes/hubspot';
import { describeEachStore, openTestStore } from '../helpers/stores';

const PORTAL = 4_717;
const TOKEN = 'notes-test-token';

/** A caller on a virtual clock: waits (429 Retry-After, backoff) take no real time. */
const virtualCaller = () => {
  let t = 0;
  return createCaller({ callsPerWindow: 110, now: () => t, sleep: async (ms) => { t += ms; }, baseDelayMs: 10 });
};

describeEachStore('communication log mirrored to HubSpot notes', (backend) => {
  let store: Store;
  let fake: FakeHubSpot;
  let companyId: string;
  let dealId: string;
  let customers: Map<string, number>;

  const mirror = () => mirrorLogNotes({ db: store.db, portalId: PORTAL, client: async () => hubspotClient(TOKEN, fake.url), caller: virtualCaller() });
  const notesOf = (entryId: number) => fake.objects(PORTAL, 'notes')
    .filter((n) => (n.properties.hs_note_body ?? '').includes(`[${noteMarker(PORTAL, entryId)}]`));
  const log = (customer: string, summary: string, extra: { dealId?: string } = {}) => addLogEntry(store.db, PORTAL, {
    customerId: customers.get(customer) as number, kind: 'call', occurredOn: '2025-03-20', summary, author: 'ada.ar@example.com', ...extra,
  });
  const stored = async () => store.db.selectFrom('communication_log').select(['id', 'hubspot_note_id', 'hubspot_note_intent_at'])
    .where('portal_id', '=', PORTAL).orderBy('id').execute();

  beforeAll(async () => {
    store = await openTestStore(backend);
    await ensurePortal(store.db, PORTAL);
    await upsertCustomers(store.db, PORTAL, 'csv', [
      { id: 'AC', name: 'Acme', domain: null, industry: null, country: null },
      { id: 'UN', name: 'Unlinked', domain: null, industry: null, country: null },
    ]);
    customers = await idsByExternalId(store.db, 'customers', PORTAL, 'csv', ['AC', 'UN']);
  });
  afterAll(async () => store.close());
  beforeEach(async () => {
    fake = await startFakeHubSpot({ rateLimit: null });
    fake.addPortal(PORTAL, { privateToken: TOKEN });
    companyId = fake.createObject(PORTAL, 'companies', { name: 'Acme' });
    dealId = fake.createObject(PORTAL, 'deals', { dealname: 'Renewal' });
    await store.db.deleteFrom('communication_log').execute();
    await setCompanyLink(store.db, PORTAL, { customerId: String(customers.get('AC')), companyId, method: 'manual' });
  });
  afterEach(async () => fake.close());

  it('writes each entry of a linked customer once, as a note on the company (and its deal)', async () => {
    const call = await log('AC', 'Spoke to AP <finance>');
    const withDeal = await log('AC', 'Agreed a payment plan', { dealId });
    await log('UN', 'Not linked: stays here');
    expect(await mirror()).toEqual({ created: 2, found: 0, failed: 0, remaining: 0 });

    const [note] = notesOf(Number(call.id));
    expect(notesOf(Number(call.id))).toHaveLength(1);
    expect(note?.properties.hs_note_body).toBe(
      `<p><strong>Call</strong>: Spoke to AP &lt;finance&gt;</p><p>Logged in ARBridge by ada.ar@example.com. [${noteMarker(PORTAL, Number(call.id))}]</p>`,
    );
    expect(note?.properties.hs_timestamp).toMatch(/^2025-03-20T12:00:00(\.000)?Z$/);
    expect(fake.associations(PORTAL, 'notes', note!.id, 'companies')).toEqual([{ toId: companyId, typeIds: [190] }]);
    expect(fake.associations(PORTAL, 'notes', note!.id, 'deals')).toEqual([]);
    const dealNote = notesOf(Number(withDeal.id))[0];
    expect(fake.associations(PORTAL, 'notes', dealNote!.id, 'deals')).toEqual([{ toId: dealId, typeIds: [214] }]);
    expect((await stored()).map((r) => r.hubspot_note_id)).toEqual([note!.id, dealNote!.id, null]);

    // A second round has nothing to do.
    fake.clearRequests();
    expect(await mirror()).toEqual({ created: 0, found: 0, failed: 0, remaining: 0 });
    expect(fake.requests.filter((r) => r.method === 'POST')).toEqual([]);
    expect(fake.objects(PORTAL, 'notes')).toHaveLength(2);
  });

  it('after a lost answer finds the note by its marker instead of making a second one', async () => {
    const entry = await log('AC', 'Promised to pay on Friday');
    // Every call fails with a 500, the create after HubSpot made the note.
    fake.setFaults({ rate: 1, kinds: ['500'], when: 'after', seed: 1 });
    expect(await mirror()).toEqual({ created: 0, found: 0, failed: 1, remaining: 1 });
    expect(notesOf(Number(entry.id))).toHaveLength(1);
    const [row] = await stored();
    expect([row?.hubspot_note_id, row?.hubspot_note_intent_at instanceof Date]).toEqual([null, true]);

    fake.setFaults(null);
    expect(await mirror()).toEqual({ created: 0, found: 1, failed: 0, remaining: 0 });
    expect(notesOf(Number(entry.id))).toHaveLength(1);
    expect((await stored())[0]?.hubspot_note_id).toBe(notesOf(Number(entry.id))[0]?.id);
  });

  it('creates the note when an intent was committed but the call never made it', async () => {
    const entry = await log('AC', 'Emailed the statement');
    await store.db.updateTable('communication_log').set({ hubspot_note_intent_at: new Date() }).where('id', '=', Number(entry.id)).execute();
    expect(await mirror()).toEqual({ created: 1, found: 0, failed: 0, remaining: 0 });
    expect(notesOf(Number(entry.id))).toHaveLength(1);
  });

  it('under random faults (429s, 500s before and after the write) converges to exactly one note per entry', async () => {
    const entries = [];
    for (let i = 0; i < 12; i++) entries.push(await log('AC', `Call ${i}`, i % 3 === 0 ? { dealId } : {}));
    let found = 0;
    for (const [round, when] of (['after', 'before', 'after', 'before', 'after', 'after', 'before', 'after'] as const).entries()) {
      fake.setFaults({ rate: 0.35, kinds: ['429', '500'], when, seed: 11 + round, retryAfterSeconds: 1 });
      const report = await mirror();
      found += report.found;
      if (report.remaining === 0) break;
    }
    // Some creates lost their answer and were found by their marker.
    expect(found).toBeGreaterThan(0);
    fake.setFaults(null);
    expect((await mirror()).remaining).toBe(0);
    const rows = await stored();
    for (const entry of entries) {
      const notes = notesOf(Number(entry.id));
      expect(notes).toHaveLength(1);
      expect(rows.find((r) => r.id === Number(entry.id))?.hubspot_note_id).toBe(notes[0]?.id);
    }
    expect(fake.objects(PORTAL, 'notes')).toHaveLength(entries.length);
  });
});
