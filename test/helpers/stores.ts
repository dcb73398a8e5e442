import { randomBytes } from 'node:crypto';
import { describe } from '@jest/globals';
import pg from 'pg';
import type { DatabaseOptions } from '../../src/store/database';
import { openStore, type Store } from '../../src/store/store';

export type Backend = { name: 'pglite' | 'postgres'; options: () => DatabaseOptions; cleanup: (options: DatabaseOptions) => Promise<void> };

const postgresUrl = (): string => process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export const postgresEnabled = (): boolean => process.env.ARBRIDGE_TEST_POSTGRES === 'on';

const dropSchema = async (schema: string): Promise<void> => {
  const client = new pg.Client({ connectionString: postgresUrl() });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    // The job queue (pg-boss) of a service started on this schema keeps its tables beside it.
    await client.query(`DROP SCHEMA IF EXISTS ${schema}_jobs CASCADE`);
  } finally {
    await client.end();
  }
};

export const BACKENDS: readonly Backend[] = [
  { name: 'pglite', options: () => ({ kind: 'pglite', dataDir: null }), cleanup: async () => undefined },
  {
    name: 'postgres',
    // A fresh schema per store, dropped afterwards: runs never see each other's rows.
    options: () => ({ kind: 'postgres', url: postgresUrl(), schema: `t_${process.pid}_${randomBytes(4).toString('hex')}` }),
    cleanup: async (options) => {
      if (options.kind === 'postgres' && options.schema) await dropSchema(options.schema);
    },
  },
];

/** Opens a migrated store on the backend; `close` also drops what the run created. */
export const openTestStore = async (backend: Backend): Promise<Store> => {
  const options = backend.options();
  const store = await openStore(options);
  return { ...store, close: async () => { await store.close(); await backend.cleanup(options); } };
};

/** Declares the suite once per store backend; the PostgreSQL run is skipped (visibly) when it is off. */
export const describeEachStore = (title: string, body: (backend: Backend) => void): void => {
  for (const backend of BACKENDS) {
    const run = backend.name === 'postgres' && !postgresEnabled() ? describe.skip : describe;
    run(`${title} [${backend.name}]`, () => body(backend));
  }
};
