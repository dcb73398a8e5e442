import type { PGlite } from '@electric-sql/pglite';
import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';

type Command = PostgresQueryResult<unknown>['command'];
const COMMANDS = new Set<string>(['UPDATE', 'DELETE', 'INSERT', 'SELECT', 'MERGE', 'COMMIT', 'ROLLBACK']);

const commandOf = (sql: string): Command => {
  const word = /^\s*(?:WITH\b[\s\S]*?\)\s*)?([A-Za-z]+)/.exec(sql)?.[1]?.toUpperCase() ?? 'SELECT';
  return (COMMANDS.has(word) ? word : 'SELECT') as Command;
};

/**
 * Presents one PGlite instance as the pool Kysely's PostgresDialect expects. PGlite is a single
 * connection, so the "pool" hands out that connection to one borrower at a time (a FIFO lock): a
 * transaction keeps it until commit or rollback and other queries wait. The trade-off is no parallelism,
 * which an in-process database on one machine does not offer anyway.
 */
export const pglitePool = (pglite: PGlite): PostgresPool => {
  let tail: Promise<void> = Promise.resolve();
  const client = (release: () => void): PostgresPoolClient => ({
    query: (async (sql: string, parameters: readonly unknown[]) => {
      if (parameters.length === 0) {
        // Parameterless SQL may hold several statements (migrations); only the simple protocol takes them.
        const results = await pglite.exec(sql);
        const last = results[results.length - 1];
        return { command: commandOf(sql), rowCount: last?.affectedRows ?? last?.rows.length ?? 0, rows: last?.rows ?? [] };
      }
      const result = await pglite.query(sql, parameters as unknown[]);
      return { command: commandOf(sql), rowCount: result.affectedRows ?? result.rows.length, rows: result.rows };
    }) as PostgresPoolClient['query'],
    release,
  });
  return {
    connect: async () => {
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const previous = tail;
      tail = previous.then(() => held);
      await previous;
      let released = false;
      return client(() => {
        if (!released) { released = true; release(); }
      });
    },
    end: async () => {
      await tail;
      await pglite.close();
    },
  };
};
