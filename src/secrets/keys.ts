import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseSecretKey, type Config } from '../config';
import type { Logger } from '../logger';
import { keyId } from './crypto';

/** The development key's file inside the data directory. */
export const DEV_KEY_FILE = 'secret.key';

/**
 * The key that seals tokens at rest. `ARBRIDGE_SECRET_KEY` when set. Outside production, when it is not set,
 * a random key kept in `<dataDir>/secret.key` (mode 0600, written once, then read back on every start) so a
 * development checkout works without setup; this also holds with DATABASE_URL, since the key file is local to
 * the machine while the tokens it seals live in the database: a second machine on the same database needs the
 * same key, which is what ARBRIDGE_SECRET_KEY is for. Production never falls back: loadConfig already refuses
 * to start without the variable, and a hand-built production config without a key is refused here too.
 */
export const resolveSecretKey = (
  config: Pick<Config, 'env' | 'secretKey' | 'dataDir'>,
  logger?: Pick<Logger, 'warn'>,
): Buffer => {
  if (config.secretKey !== null) return config.secretKey;
  if (config.env === 'production') {
    throw new Error('ARBRIDGE_SECRET_KEY is required in production (it encrypts stored tokens)');
  }
  const file = path.join(config.dataDir, DEV_KEY_FILE);
  const key = readOrCreateKeyFile(file);
  logger?.warn({ file, keyId: keyId(key) }, `ARBRIDGE_SECRET_KEY is not set; stored tokens are sealed with the development key in ${file}`);
  return key;
};

const readOrCreateKeyFile = (file: string): Buffer => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  if (!fs.existsSync(file)) {
    // Written under a temporary name, then linked into place: link fails when the file exists, so two
    // processes starting together keep the first key, and no reader ever sees a half-written file.
    const temp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
    fs.writeFileSync(temp, `${crypto.randomBytes(32).toString('base64')}\n`, { flag: 'wx', mode: 0o600 });
    try {
      fs.linkSync(temp, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      fs.rmSync(temp, { force: true });
    }
  }
  const text = fs.readFileSync(file, 'utf8');
  try {
    return parseSecretKey(text);
  } catch {
    throw new Error(`${file} does not hold a secret key (32 random bytes as base64 or 64 hex digits); restore it, or set ARBRIDGE_SECRET_KEY`);
  }
};
