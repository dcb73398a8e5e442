import type { DatabaseOptions } from '../../src/store/database';
import { openStore } from '../../src/store/store';
import { syncSource } from '../../src/sync/engine';
import { seededSource } from './scripted-source';

// The sync process of the crash test (crash.test.ts): syncs the seeded source into the store named by the
// environment, printing `page N` after each committed page and `done` at the end. The test kills it with SIGKILL.

const main = async (): Promise<void> => {
  const options = JSON.parse(process.env.CRASH_STORE ?? '') as DatabaseOptions;
  const store = await openStore(options, { migrateOnOpen: false });
  try {
    const source = seededSource(Number(process.env.CRASH_SEED), Number(process.env.CRASH_INVOICES), Number(process.env.CRASH_PAGE_SIZE));
    const result = await syncSource(store.db, Number(process.env.CRASH_PORTAL), source.connector(), {
      trigger: 'crash-test', onPage: (p) => process.stdout.write(`page ${p.pages}\n`),
    });
    process.stdout.write(`done ${result.pages}\n`);
  } finally {
    await store.close();
  }
};

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
