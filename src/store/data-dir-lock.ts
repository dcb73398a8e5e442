import fs from 'node:fs';
import path from 'node:path';

const LOCK_FILE = 'arbridge.lock';

/** The embedded store is open in another process: PGlite allows one process per data directory. */
export class StoreInUseError extends Error {
  constructor(readonly dataDir: string, readonly pid: number) {
    super(
      `the embedded store in ${dataDir} is in use by process ${pid} (is the service running?); ` +
        'stop it, or run the service and the CLI on PostgreSQL (DATABASE_URL)',
    );
    this.name = 'StoreInUseError';
  }
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Takes the data directory for this process (a lock file holding its pid) and returns its release. Two
 * processes writing one PGlite directory lose and corrupt data, so a second opener is refused; a lock left
 * by a process that no longer runs is taken over.
 */
export const lockDataDir = (dataDir: string): (() => void) => {
  const file = path.join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      let released = false;
      return () => {
        if (released) return;
        released = true;
        fs.rmSync(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(fs.readFileSync(file, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new StoreInUseError(dataDir, holder);
      }
      if (holder === process.pid) throw new StoreInUseError(dataDir, holder);
      fs.rmSync(file, { force: true }); // stale: its process is gone
    }
  }
  throw new Error(`could not lock ${dataDir}`);
};
