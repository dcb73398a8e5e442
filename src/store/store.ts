import type { Config } from '../config';
import { migrate, openDatabase, type DatabaseOptions, type Db, type StoreKind } from './database';

export type Store = {
  db: Db;
  kind: StoreKind;
  migrate: () => Promise<string[]>;
  close: () => Promise<void>;
};

export const storeOptionsFrom = (config: Pick<Config, 'databaseUrl' | 'databaseSchema' | 'dataDir'>): DatabaseOptions =>
  config.databaseUrl
    ? { kind: 'postgres', url: config.databaseUrl, ...(config.databaseSchema ? { schema: config.databaseSchema } : {}) }
    : { kind: 'pglite', dataDir: config.dataDir };

/** Opens the store and brings its schema up to date. */
export const openStore = async (options: DatabaseOptions, { migrateOnOpen = true } = {}): Promise<Store> => {
  const { db, kind, close } = await openDatabase(options);
  const store: Store = { db, kind, migrate: () => migrate(db), close };
  if (migrateOnOpen) {
    try {
      await store.migrate();
    } catch (error) {
      await close();
      throw error;
    }
  }
  return store;
};
