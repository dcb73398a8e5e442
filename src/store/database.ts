import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { lockDataDir } from './data-dir-lock';
import { pglitePool } from './pglite-pool';
import type { Database } from './schema';

export type StoreKind = 'pglite' | 'postgres';

export type DatabaseOptions =
  /** Embedded PostgreSQL (WASM) persisted in `dataDir`; `null` keeps it in memory (throw-away stores). */
  | { kind: 'pglite'; dataDir: string | null }
  /** A PostgreSQL server; `schema` (created if missing) isolates a tenant of the server, e.g. a test run. */
  | { kind: 'postgres'; url: string; schema?: string; poolSize?: number };

export type Db = Kysely<Database>;

export type OpenDatabase = { db: Db; kind: StoreKind; close: () => Promise<void> };

// int8 and numeric arrive as numbers (money is minor units, far below 2^53); dates stay ISO strings.
const INT8 = 20;
const NUMERIC = 1700;
const DATE = 1082;
const toNumber = (value: string): number => Number(value);
const keepText = (value: string): string => value;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

const singleProcess = new WeakSet<Db>();

/** True for a store no other process can write: PGlite (one process per data directory, by lock, or in memory). */
export const isSingleProcess = (db: Db): boolean => singleProcess.has(db);

export const openDatabase = async (options: DatabaseOptions): Promise<OpenDatabase> => {
  if (options.kind === 'pglite') {
    let unlock = (): void => undefined;
    if (options.dataDir) {
      fs.mkdirSync(options.dataDir, { recursive: true });
      unlock = lockDataDir(options.dataDir);
    }
    try {
      const pglite = await PGlite.create(options.dataDir ?? undefined, {
        parsers: { [INT8]: toNumber, [NUMERIC]: toNumber, [DATE]: keepText },
      });
      const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: pglitePool(pglite) }) });
      singleProcess.add(db);
      return { db, kind: 'pglite', close: async () => { try { await db.destroy(); } finally { unlock(); } } };
    } catch (error) {
      unlock();
      throw error;
    }
  }
  if (options.schema !== undefined && !SCHEMA_NAME.test(options.schema)) {
    throw new Error(`Invalid schema name "${options.schema}"`);
  }
  const types = {
    getTypeParser: ((oid: number, format?: string) => {
      if (oid === INT8 || oid === NUMERIC) return toNumber;
      if (oid === DATE) return keepText;
      return pg.types.getTypeParser(oid, format as 'text');
    }) as typeof pg.types.getTypeParser,
  };
  if (options.schema) {
    const admin = new pg.Client({ connectionString: options.url });
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA IF NOT EXISTS ${options.schema}`);
    } finally {
      await admin.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    types,
    // Dates travel as ISO text whatever the server's default DateStyle.
    options: `-c DateStyle=ISO${options.schema ? ` -c search_path=${options.schema}` : ''}`,
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, kind: 'postgres', close: () => db.destroy() };
};

const migrationsDir = (): string => {
  const candidates = [
    path.join(__dirname, 'migrations'),
    path.join(__dirname, '..', '..', '..', 'src', 'store', 'migrations'),
  ];
  const found = candidates.find((dir) => fs.existsSync(dir));
  if (!found) throw new Error(`Migrations folder not found (looked in ${candidates.join(', ')})`);
  return found;
};

export type Migration = { version: string; sql: string };

/** The migrations in `dir` (default: the folder beside this module, in src or dist), in order. */
export const listMigrations = (dir: string = migrationsDir()): Migration[] => {
  return fs
    .readdirSync(dir)
    .filter((name) => /^\d{4}_[a-z0-9_]+\.sql$/.test(name))
    .sort()
    .map((name) => ({ version: name.replace(/\.sql$/, ''), sql: fs.readFileSync(path.join(dir, name), 'utf8') }));
};

/**
 * Applies the migrations not yet recorded, each in its own transaction, forward only. An advisory lock
 * keeps two service instances starting together on one PostgreSQL from applying the same file twice.
 * Returns the versions applied.
 */
export const migrate = async (db: Db, dir?: string): Promise<string[]> => {
  await sql`CREATE TABLE IF NOT EXISTS schema_migrations (
    version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`.execute(db);
  const applied: string[] = [];
  for (const migration of listMigrations(dir)) {
    await db.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(724311001)`.execute(trx);
      const done = await trx.selectFrom('schema_migrations').select('version')
        .where('version', '=', migration.version).executeTakeFirst();
      if (done) return;
      await sql.raw(migration.sql).execute(trx);
      await trx.insertInto('schema_migrations').values({ version: migration.version }).execute();
      applied.push(migration.version);
    });
  }
  return applied;
};
