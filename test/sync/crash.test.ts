import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { createRng } from '../../src/demo/generate';
import type { DatabaseOptions } from '../../src/store/database';
import { openStore, type Store } from '../../src/store/store';
import { tempDir } from '../helpers/cli';
import { describeEachStore } from '../helpers/stores';
import { seededSource } from './scripted-source';
import { connect, countRows, sorted, storeState } from './store-state';

// A sync subprocess killed with SIGKILL at 20 random points (before its first page, between pages, inside a
// page's transaction), restarted each time, ends with the store equal to the source and no payment twice.
// 100,000 invoices in about 60 pages; ARBRIDGE_CRASH_INVOICES=N runs another size (e.g. smaller while developing).

const INVOICES = Number(process.env.ARBRIDGE_CRASH_INVOICES ?? 100_000);
const KILLS = 20;
const SEED = 2026;
const PORTAL = 4_242;
const ROOT = path.join(__dirname, '..', '..');
const CHILD = path.join(__dirname, 'crash-child.ts');
// About 100 pages: 20 runs that each commit a few pages leave the last run some to do.
const PAGE_SIZE = Math.max(10, Math.floor(INVOICES / 60));

type Run = { killed: boolean; pages: number };

/** Runs the sync process; kills it `delayMs` after its `afterPages`-th committed page (0: after start) unless it ends first. */
const runChild = (options: DatabaseOptions, kill: { afterPages: number; delayMs: number } | null): Promise<Run> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      cwd: ROOT,
      env: {
        ...process.env, CRASH_STORE: JSON.stringify(options), CRASH_SEED: String(SEED), CRASH_INVOICES: String(INVOICES),
        CRASH_PAGE_SIZE: String(PAGE_SIZE), CRASH_PORTAL: String(PORTAL),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let pages = 0;
    let stderr = '';
    let armed = false;
    const arm = (): void => {
      if (armed || !kill) return;
      armed = true;
      setTimeout(() => child.kill('SIGKILL'), kill.delayMs);
    };
    if (kill?.afterPages === 0) arm();
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      pages += (text.match(/^page \d+$/gm) ?? []).length;
      if (kill && pages >= kill.afterPages) arm();
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text; });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve({ killed: true, pages });
      else if (code === 0) resolve({ killed: false, pages });
      else reject(new Error(`the sync process failed (exit ${code}): ${stderr}`));
    });
  });

describeEachStore('a sync killed with SIGKILL and restarted', (backend) => {
  let options: DatabaseOptions;
  let dir: string | null = null;
  let store: Store;

  beforeAll(async () => {
    if (backend.name === 'pglite') {
      dir = tempDir();
      options = { kind: 'pglite', dataDir: path.join(dir, 'data') };
    } else {
      options = backend.options();
    }
    // Migrated and connected first; the store is closed while the sync processes run (PGlite is one process).
    const setup = await openStore(options);
    await connect(setup.db, PORTAL, 'xero');
    await setup.close();
  });
  afterAll(async () => {
    await store?.close();
    await backend.cleanup(options);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it(`ends with the store equal to the source after ${KILLS} kills (${INVOICES.toLocaleString('en-US')} invoices)`, async () => {
    const rng = createRng(SEED + (backend.name === 'pglite' ? 1 : 2));
    const runs: Run[] = [];
    while (runs.filter((r) => r.killed).length < KILLS) {
      const run = await runChild(options, { afterPages: rng.int(0, 3), delayMs: rng.int(0, 60) });
      runs.push(run);
      if (!run.killed) break;
    }
    expect(runs.filter((r) => r.killed)).toHaveLength(KILLS);
    // The last run finishes what the killed ones left.
    const last = await runChild(options, null);
    expect(last.killed).toBe(false);

    store = await openStore(options, { migrateOnOpen: false });
    const source = seededSource(SEED, INVOICES, PAGE_SIZE);
    expect(sorted(await storeState(store.db, PORTAL, 'xero'))).toEqual(sorted(source.expected()));
    expect(await countRows(store.db, 'payments', PORTAL)).toBe(source.expectedPayments());
    const kept = [...source.invoices.values()].filter((i) => i.value.status !== 'draft' && i.value.status !== 'deleted').length;
    expect(await countRows(store.db, 'invoices', PORTAL)).toBe(kept);
    expect(await countRows(store.db, 'invoice_lines', PORTAL)).toBe(kept * 2);
    const twice = await sql<{ external_id: string }>`
      SELECT external_id FROM payments WHERE portal_id = ${PORTAL} GROUP BY external_id HAVING count(*) > 1`.execute(store.db);
    expect(twice.rows).toEqual([]);
    // Every process that got as far as a page recorded its run; only the last one finished.
    const recorded = await store.db.selectFrom('sync_runs').select(['finished_at', 'error']).where('portal_id', '=', PORTAL).execute();
    expect(recorded.filter((r) => r.finished_at !== null)).toEqual([{ finished_at: expect.any(Date), error: null }]);
    expect(recorded.length).toBeGreaterThanOrEqual(runs.filter((r) => r.pages > 0).length + 1);
    expect(recorded.length).toBeLessThanOrEqual(runs.length + 1);
  }, Math.max(600_000, INVOICES * 20));
});
