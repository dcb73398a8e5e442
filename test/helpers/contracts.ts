import fs from 'node:fs';
import path from 'node:path';

/**
 * The folder of the external APIs' contracts (Xero's OpenAPI documents, Stripe's fixtures), read at test time and
 * never copied into the repository: `ARBRIDGE_CONTRACTS_DIR` when set, else `shared/contracts` beside the
 * repository (`../shared/contracts` from its root), else the workspace's `/work/shared/contracts`. A missing folder
 * is an error naming every place looked at.
 */
export const contractsDir = (): string => {
  const candidates = [
    process.env.ARBRIDGE_CONTRACTS_DIR,
    path.resolve(__dirname, '../../../shared/contracts'),
    '/work/shared/contracts',
  ].filter((c): c is string => typeof c === 'string' && c !== '');
  const found = candidates.find((dir) => fs.existsSync(path.join(dir, 'README.md')) || fs.existsSync(path.join(dir, 'xero')));
  if (found === undefined) {
    throw new Error(`The API contracts folder was not found (looked in ${candidates.join(', ')}); set ARBRIDGE_CONTRACTS_DIR`);
  }
  return found;
};
