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

/**
 * Opens the store and brings its schema up to date. `migrationsDir` names the migrations folder for callers
 * that cannot rely on this module's location (code loaded as ES modules).
 */
export const openStore = async (
  options: DatabaseOptions, { migrateOnOpen = true, migrationsDir }: { migrateOnOpen?: boolean; migrationsDir?: string } = {},
): Promise<Store> => {
  const { db, kind, close } = await openDatabase(options);
  const store: Store = { db, kind, migrate: () => migrate(db, migrationsDir), close };
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
