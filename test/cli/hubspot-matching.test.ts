import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Command, CommanderError } from 'commander';
import { registerMatchingCommands } from '../../src/cli/hubspot-matching';
import { InputError, UsageError, type Io } from '../../src/cli/io';
import type { MirrorOptions } from '../../src/hubspot/mirror';
import { importInvoicesCsv } from '../../src/services/import';
import type { Store } from '../../src/store/store';
import { startFakeHubSpot, type FakeHubSpot } from '../fakes/hubspot';
import { FIXTURES, tempDir } from '../helpers/cli';
import { describeEachStore, openTestStore } from '../helpers/stores';

const PORTAL = 5151;
const TOKEN = 'pat-cli-matching';

type Run = { code: number; stdout: string; stderr: string };

const sink = (chunks: string[]): Writable =>
  new Writable({ write(chunk: Buffer | string, _enc, done) { chunks.push(chunk.toString()); done(); } });

const INVOICES = [
  'invoice_id,customer_id,customer_name,customer_domain,issue_date,due_date,amount,currency,reference',
  'INV-1,C-100,Wayne Enterprises,wayne.com,2024-01-01,2024-01-31,100.00,USD,PO-9',
  'INV-2,C-200,Oscorp,,2024-01-01,2024-01-31,50.00,USD,',
  'INV-3,C-300,Cyberdyne Systems Inc,,2024-01-01,2024-01-31,75.00,USD,q-1',
  'INV-4,C-400,Tyrell Holdings,tyrell.com,2024-01-01,2024-01-31,20.00,USD,',
].join('\n');

describeEachStore('arbridge hubspot matching commands', (backend) => {
  let store: Store;
  let fake: FakeHubSpot;
  let cwd: string;
  let mirror: MirrorOptions;

  /** Runs `arbridge hubspot …` through the commands as the CLI registers them; exit codes as main.ts maps errors. */
  const run = async (args: string[], connected = true): Promise<Run> => {
    const out: string[] = [];
    const err: string[] = [];
    const io: Io = { stdout: sink(out), stderr: sink(err), env: {}, cwd };
    const program = new Command('arbridge').exitOverride()
      .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
    registerMatchingCommands(program.command('hubspot'), {
      withDeps: (work) => work({ db: store.db, io, portalId: PORTAL }),
      mirrorOptions: async () => (connected ? mirror : null),
    });
    let code = 0;
    try {
      await program.parseAsync(['hubspot', ...args], { from: 'user' });
    } catch (error) {
      if (error instanceof CommanderError) code = error.exitCode === 0 ? 0 : 2;
      else if (error instanceof UsageError) code = 2;
      else if (error instanceof InputError) code = 1;
      else throw error;
      if (!(error instanceof CommanderError)) err.push(`arbridge: ${error.message}\n`);
    }
    return { code, stdout: out.join(''), stderr: err.join('') };
  };

  beforeAll(async () => {
    store = await openTestStore(backend);
    cwd = tempDir();
    fake = await startFakeHubSpot({ rateLimit: null, searchRateLimit: null });
    fake.addPortal(PORTAL, { privateToken: TOKEN });
    mirror = { basePath: fake.url, token: TOKEN, searchIntervalMs: 0, retry: { sleep: async () => undefined } };
    for (const [id, name, domain] of [
      ['9001', 'Wayne Enterprises', 'wayne.com'], ['9002', 'Cyberdyne Systems', ''], ['9003', 'Oscorp Industries', ''],
      ['9004', 'Tyrell', 'tyrell.com'], ['9005', 'Tyrell Two', 'tyrell.com'],
    ] as const) fake.createObject(PORTAL, 'companies', domain ? { name, domain } : { name }, { id });
    const properties = await fetch(`${fake.url}/crm/v3/properties/deals`, {
      method: 'POST', headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'arbridge_reference', label: 'Reference', type: 'string', fieldType: 'text', groupName: 'dealinformation' }),
    });
    expect(properties.status).toBe(201);
    fake.createObject(PORTAL, 'deals', { dealname: 'Wayne PO', arbridge_reference: 'PO-9' }, { id: '9101' });
    fake.createObject(PORTAL, 'deals', { dealname: 'Cyberdyne quote', arbridge_reference: 'Q-1' }, { id: '9102' });
    await importInvoicesCsv(store.db, PORTAL, INVOICES);
  });

  afterAll(async () => {
    await fake?.close();
    await store?.close();
    if (cwd) fs.rmSync(cwd, { recursive: true, force: true });
  });

  it('imports the optional reference column; a file without it leaves references alone, an empty cell clears one', async () => {
    const references = async () => Object.fromEntries((await store.db.selectFrom('invoices').select(['external_id', 'reference'])
      .where('portal_id', '=', PORTAL).orderBy('external_id').execute()).map((r) => [r.external_id, r.reference]));
    expect(await references()).toEqual({ 'INV-1': 'PO-9', 'INV-2': null, 'INV-3': 'q-1', 'INV-4': null });
    const without = INVOICES.split('\n').map((line) => line.split(',').slice(0, -1).join(',')).join('\n');
    const again = await importInvoicesCsv(store.db, PORTAL, without);
    expect(again.invoices).toEqual({ inserted: 0, updated: 0, unchanged: 4 });
    expect(await references()).toEqual({ 'INV-1': 'PO-9', 'INV-2': null, 'INV-3': 'q-1', 'INV-4': null });
    const cleared = await importInvoicesCsv(store.db, PORTAL, INVOICES.replace(',PO-9', ','));
    expect(cleared.invoices.updated).toBe(1);
    expect((await references())['INV-1']).toBeNull();
    await importInvoicesCsv(store.db, PORTAL, INVOICES);
    expect((await references())['INV-1']).toBe('PO-9');
    // A differently named column maps onto it; a control character in it refuses the file.
    await importInvoicesCsv(store.db, PORTAL, INVOICES.replace(',reference', ',PO Number').replace(',PO-9', ',PO-9B'), { map: { reference: 'PO Number' } });
    expect((await references())['INV-1']).toBe('PO-9B');
    await expect(importInvoicesCsv(store.db, PORTAL, INVOICES.replace(',PO-9', ',"PO\t9"'))).rejects.toMatchObject({
      errors: [expect.objectContaining({ message: 'row 2, reference: "PO\\t9" contains a control character (tab or line break)' })],
    });
    await importInvoicesCsv(store.db, PORTAL, INVOICES);
  });

  it('match: mirrors HubSpot, matches and prints the counts', async () => {
    const result = await run(['match']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe([
      'mirror: companies 5 fetched (full: 5 new, 0 updated, 0 unchanged, 0 removed); deals 2 fetched (full: 2 new, 0 updated, 0 unchanged, 0 removed)',
      'companies: 2 linked (domain 1, name 1), 2 unmatched (1 ambiguous); this run: 2 added, 0 changed, 0 removed',
      'deals: 2 linked (reference 2), 2 unmatched; this run: 2 added, 0 changed, 0 removed',
      '',
    ].join('\n'));
    fake.clearRequests();
    const json = await run(['match', '--no-mirror', '--format', 'json']);
    expect(json.code).toBe(0);
    expect(fake.requests).toEqual([]);
    expect(JSON.parse(json.stdout)).toEqual({
      companies: { linked: 2, byMethod: { domain: 1, name: 1 }, unmatched: 2, ambiguous: 1, changes: { added: 0, changed: 0, removed: 0 } },
      deals: { linked: 2, byMethod: { reference: 2 }, unmatched: 2, ambiguous: 0, changes: { added: 0, changed: 0, removed: 0 } },
    });
  });

  it('match without a HubSpot connection matches the stored mirror and says so; --full needs the connection', async () => {
    const result = await run(['match'], false);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(`note: HubSpot is not connected for portal ${PORTAL}; matching against the stored mirror\n`);
    expect(result.stdout).toContain('companies: 2 linked');
    const full = await run(['match', '--full'], false);
    expect(full.code).toBe(2);
    expect(full.stderr).toBe('arbridge: --full needs a HubSpot connection for this portal\n');
  });

  it('unmatched: the review list as a table or JSON', async () => {
    const table = await run(['unmatched']);
    expect(table.code).toBe(0);
    expect(table.stdout).toBe([
      'source  customer  name             domain      reason     candidates',
      'csv     C-200     Oscorp           -           none       -',
      'csv     C-400     Tyrell Holdings  tyrell.com  ambiguous  domain tyrell.com: 9004 (Tyrell), 9005 (Tyrell Two)',
      '',
    ].join('\n'));
    const paged = await run(['unmatched', '--limit', '1']);
    expect(paged.stdout).toMatch(/^More: arbridge hubspot unmatched --kind customers --after \d+$/m);
    const invoices = await run(['unmatched', '--kind', 'invoices', '--format', 'json']);
    const page = JSON.parse(invoices.stdout) as { kind: string; items: Array<{ invoiceId: string; reason: string; companyId: string | null }> };
    expect(page.kind).toBe('invoices');
    expect(page.items.map((i) => [i.invoiceId, i.reason, i.companyId])).toEqual([['INV-2', 'none', null], ['INV-4', 'none', null]]);
    const bad = await run(['unmatched', '--kind', 'deals']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('deals');
    const badCursor = await run(['unmatched', '--after', 'x']);
    expect(badCursor).toMatchObject({ code: 2, stderr: 'arbridge: --after takes the cursor a previous page printed (got "x")\n' });
    const invoiceTable = await run(['unmatched', '--kind', 'invoices']);
    expect(invoiceTable.stdout.split('\n')[0]).toBe('source  invoice  customer         company  amount     issued      reference  reason  candidates');
    expect(invoiceTable.stdout).toContain('INV-4    Tyrell Holdings  -        20.00 USD  2024-01-01  -          none    -');
  });

  it('link, unlink, link-deal and unlink-deal record manual decisions that match keeps', async () => {
    const linked = await run(['link', '--customer', 'C-400', '--company', '9005']);
    expect(linked).toEqual({ code: 0, stderr: '', stdout: 'customer C-400 (csv) is linked to company 9005 by hand; matching keeps this link\n' });
    const unknownCompany = await run(['link', '--customer', 'C-200', '--company', '424242']);
    expect(unknownCompany.code).toBe(0);
    expect(unknownCompany.stderr).toBe('note: company 424242 is not in the HubSpot mirror (yet)\n');
    const unlinked = await run(['unlink', '--customer', 'C-100']);
    expect(unlinked.stdout).toBe('customer C-100 (csv) is unlinked by hand (was company 9001); matching will not link it\n');
    const deal = await run(['link-deal', '--invoice', 'INV-4', '--deal', '9102']);
    expect(deal.stdout).toBe('invoice INV-4 (csv) is linked to deal 9102 by hand; matching keeps this link\n');
    const dealUnlinked = await run(['unlink-deal', '--invoice', 'INV-1']);
    expect(dealUnlinked.stdout).toBe('invoice INV-1 (csv) is unlinked by hand (was deal 9101); matching will not link it\n');

    const match = await run(['match', '--no-mirror', '--format', 'json']);
    expect(JSON.parse(match.stdout)).toMatchObject({
      companies: { linked: 3, byMethod: { manual: 2, manual_unlink: 1, name: 1 }, unmatched: 0, changes: { added: 0, changed: 0, removed: 0 } },
      deals: { linked: 2, byMethod: { manual: 1, manual_unlink: 1, reference: 1 }, unmatched: 1 },
    });

    const auto = await run(['unlink', '--customer', 'C-100', '--auto']);
    expect(auto.stdout).toBe('customer C-100: manual_unlink link removed; the next matching run decides\n');
    const rematch = await run(['match', '--no-mirror', '--format', 'json']);
    expect(JSON.parse(rematch.stdout)).toMatchObject({ companies: { byMethod: { domain: 1 }, changes: { added: 1 } } });

    const unknown = await run(['link', '--customer', 'NOPE', '--company', '9001']);
    expect(unknown).toEqual({ code: 1, stdout: '', stderr: 'arbridge: No customer NOPE in this portal\n' });
    const notAnId = await run(['link-deal', '--invoice', 'INV-2', '--deal', 'abc']);
    expect(notAnId.code).toBe(1);
    expect(notAnId.stderr).toBe('arbridge: dealId "abc" is not a HubSpot record id\n');
    const missing = await run(['link', '--customer', 'C-200']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--company');
  });

  it('map-companies loads a mapping file that the next match applies, and refuses a bad one whole', async () => {
    const bad = await run(['map-companies', path.join(FIXTURES, 'company-mapping-errors.csv')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe([
      'arbridge: 3 errors in the mapping file; nothing was imported',
      '  row 3, external_id: "" is empty but required',
      '  row 4, company_id: "nine" is not a HubSpot company id (a whole number)',
      '  row 5, external_id: "C-200" duplicates row 2 (same source and external_id)',
      '',
    ].join('\n'));
    expect(await store.db.selectFrom('company_mappings').selectAll().where('portal_id', '=', PORTAL).execute()).toEqual([]);

    // C-200 was linked by hand above: hand it back to matching so that its mapping applies.
    await run(['unlink', '--customer', 'C-200', '--auto']);
    const good = await run(['map-companies', path.join(FIXTURES, 'company-mapping.csv')]);
    expect(good).toEqual({ code: 0, stderr: '', stdout: '2 mappings: 2 new, 0 updated, 0 unchanged; run arbridge hubspot match to apply them\n' });
    const again = await run(['map-companies', path.join(FIXTURES, 'company-mapping.csv')]);
    expect(again.stdout).toBe('2 mappings: 0 new, 0 updated, 2 unchanged; run arbridge hubspot match to apply them\n');
    const match = await run(['match', '--no-mirror', '--format', 'json']);
    expect(JSON.parse(match.stdout)).toMatchObject({ companies: { byMethod: { mapping: 2 }, changes: { added: 1, changed: 1, removed: 0 } } });
    const missingFile = await run(['map-companies', 'nope.csv']);
    expect(missingFile).toMatchObject({ code: 1, stderr: 'arbridge: cannot read nope.csv: ENOENT\n' });
  });
});
