'use strict';
// Decides once per run whether the PostgreSQL store tests run. With CI=true an unreachable server fails
// the run; elsewhere those tests are skipped with a visible notice, and everything else still runs.
const { Client } = require('pg');

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test';

module.exports = async () => {
  const url = process.env.TEST_DATABASE_URL || DEFAULT_URL;
  process.env.TEST_DATABASE_URL = url;
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    process.env.ARBRIDGE_TEST_POSTGRES = 'on';
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (process.env.CI === 'true') {
      throw new Error(`PostgreSQL is required when CI=true but ${url} is unreachable: ${reason}`);
    }
    process.env.ARBRIDGE_TEST_POSTGRES = 'off';
    process.stderr.write(
      `\n*** NOTICE: PostgreSQL at ${url} is unreachable (${reason}).\n` +
        '*** The PostgreSQL runs of the store tests are SKIPPED; the PGlite runs still execute.\n' +
        '*** Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n\n',
    );
  } finally {
    await client.end().catch(() => undefined);
  }
};
