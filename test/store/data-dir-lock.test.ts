import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { StoreInUseError } from '../../src/store/data-dir-lock';
import { openStore } from '../../src/store/store';
import { runCli, tempDir } from '../helpers/cli';

describe('one process per embedded data directory', () => {
  it('refuses a second opener while the first holds the store, and frees it on close', async () => {
    const dataDir = path.join(tempDir(), 'data');
    const first = await openStore({ kind: 'pglite', dataDir });
    try {
      await expect(openStore({ kind: 'pglite', dataDir })).rejects.toThrow(StoreInUseError);
    } finally {
      await first.close();
    }
    const again = await openStore({ kind: 'pglite', dataDir });
    await again.close();
    expect(fs.existsSync(path.join(dataDir, 'arbridge.lock'))).toBe(false);
  });

  it('takes over a lock left by a process that is gone', async () => {
    const dataDir = path.join(tempDir(), 'data');
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'arbridge.lock'), '2147483646');
    const store = await openStore({ kind: 'pglite', dataDir });
    await store.close();
  });

  it('makes the CLI say which process holds the store, with exit 1', async () => {
    const cwd = tempDir();
    const dataDir = path.join(cwd, '.arbridge-data');
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'arbridge.lock'), String(process.ppid));
    const run = await runCli(['report', '--as-of', '2024-06-30'], { cwd });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`is in use by process ${process.ppid}`);
    fs.rmSync(cwd, { recursive: true, force: true });
  });
});
