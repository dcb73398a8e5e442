import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from '@jest/globals';
import { loadConfig, parseSecretKey } from '../../src/config';
import { createLogger } from '../../src/logger';
import { SecretError, keyId, openSecret, sealSecret } from '../../src/secrets/crypto';
import { DEV_KEY_FILE, resolveSecretKey } from '../../src/secrets/keys';
import { tempDir } from '../helpers/cli';

const KEY = Buffer.alloc(32, 7);
const OTHER = Buffer.alloc(32, 9);
const CONTEXT = 'hubspot:42:refresh';

/** Flips one character of a base64url part, keeping it base64url. */
const flip = (text: string, index: number): string => {
  const c = text[index] as string;
  return `${text.slice(0, index)}${c === 'A' ? 'B' : 'A'}${text.slice(index + 1)}`;
};

describe('sealed secrets (AES-256-GCM)', () => {
  it('opens what it sealed, and never holds the plaintext', () => {
    const token = 'hubspot-access-token-11111111-2222-3333-4444';
    const sealed = sealSecret(KEY, token, CONTEXT);
    expect(sealed).not.toContain(token);
    expect(sealed.split('.')).toHaveLength(5);
    expect(openSecret(KEY, sealed, CONTEXT)).toBe(token);
    expect(openSecret(KEY, sealSecret(KEY, '', CONTEXT), CONTEXT)).toBe('');
    expect(openSecret(KEY, sealSecret(KEY, 'é ✓ 🔑', CONTEXT), CONTEXT)).toBe('é ✓ 🔑');
  });

  it('uses a fresh nonce per value: the same plaintext seals differently each time', () => {
    const a = sealSecret(KEY, 'same', CONTEXT);
    const b = sealSecret(KEY, 'same', CONTEXT);
    expect(a).not.toBe(b);
    expect(a.split('.')[2]).not.toBe(b.split('.')[2]);
  });

  it('names the key that sealed a value, and refuses another key by that id', () => {
    expect(keyId(KEY)).toMatch(/^[0-9a-f]{8}$/);
    expect(keyId(KEY)).toBe(crypto.createHash('sha256').update(KEY).digest('hex').slice(0, 8));
    expect(keyId(OTHER)).not.toBe(keyId(KEY));
    const sealed = sealSecret(KEY, 'token', CONTEXT);
    expect(sealed.split('.')[1]).toBe(keyId(KEY));
    expect(() => openSecret(OTHER, sealed, CONTEXT)).toThrow(SecretError);
    expect(() => openSecret(OTHER, sealed, CONTEXT)).toThrow(`Sealed with another key (${keyId(KEY)}); this key is ${keyId(OTHER)}`);
  });

  it('refuses a wrong key even when the key id is forged to match', () => {
    const sealed = sealSecret(KEY, 'token', CONTEXT).split('.');
    sealed[1] = keyId(OTHER);
    expect(() => openSecret(OTHER, sealed.join('.'), CONTEXT)).toThrow(/integrity check/);
  });

  it('detects tampering with the ciphertext, the tag or the nonce', () => {
    const parts = sealSecret(KEY, 'a refresh token of some length', CONTEXT).split('.');
    for (const index of [2, 3, 4]) {
      const tampered = [...parts];
      tampered[index] = flip(tampered[index] as string, 0);
      expect(() => openSecret(KEY, tampered.join('.'), CONTEXT)).toThrow(/integrity check/);
    }
    const truncated = [...parts];
    truncated[4] = (truncated[4] as string).slice(0, -2);
    expect(() => openSecret(KEY, truncated.join('.'), CONTEXT)).toThrow(SecretError);
  });

  it('refuses text that is not a sealed secret', () => {
    expect(() => openSecret(KEY, 'pat-na1-plain-token', CONTEXT)).toThrow('Not a sealed secret');
    const v2 = sealSecret(KEY, 'x', CONTEXT).replace(/^v1\./, 'v2.');
    expect(() => openSecret(KEY, v2, CONTEXT)).toThrow('Not a sealed secret');
  });

  it('binds the context: a value moved to another portal or field does not open', () => {
    const sealed = sealSecret(KEY, 'token', 'hubspot:42:refresh');
    expect(() => openSecret(KEY, sealed, 'hubspot:43:refresh')).toThrow(/integrity check/);
    expect(() => openSecret(KEY, sealed, 'hubspot:42:access')).toThrow(/integrity check/);
    expect(openSecret(KEY, sealed, 'hubspot:42:refresh')).toBe('token');
  });

  it('takes only 32-byte keys', () => {
    expect(() => sealSecret(Buffer.alloc(16), 'x', CONTEXT)).toThrow('A secret key is 32 bytes');
    expect(() => openSecret(Buffer.alloc(31), 'v1.a.b.c.d', CONTEXT)).toThrow('A secret key is 32 bytes');
  });
});

describe('ARBRIDGE_SECRET_KEY', () => {
  it('reads 32 bytes as 64 hex digits or as base64', () => {
    const raw = crypto.randomBytes(32);
    expect(parseSecretKey(raw.toString('hex'))).toEqual(raw);
    expect(parseSecretKey(raw.toString('base64'))).toEqual(raw);
    expect(loadConfig({ ARBRIDGE_SECRET_KEY: raw.toString('base64') }).secretKey).toEqual(raw);
  });

  it('refuses a key of the wrong length or encoding, naming the variable', () => {
    expect(() => loadConfig({ ARBRIDGE_SECRET_KEY: crypto.randomBytes(16).toString('base64') })).toThrow(/ARBRIDGE_SECRET_KEY must be 32 random bytes/);
    expect(() => loadConfig({ ARBRIDGE_SECRET_KEY: 'correct horse battery staple' })).toThrow(/ARBRIDGE_SECRET_KEY/);
  });

  it('is required in production', () => {
    const production = { NODE_ENV: 'production', HUBSPOT_CLIENT_ID: 'id', HUBSPOT_CLIENT_SECRET: 'secret', ARBRIDGE_PUBLIC_URL: 'https://arbridge.example.com' };
    expect(() => loadConfig(production)).toThrow('ARBRIDGE_SECRET_KEY is required in production');
    expect(loadConfig({ ...production, ARBRIDGE_SECRET_KEY: KEY.toString('base64') }).secretKey).toEqual(KEY);
  });
});

describe('resolveSecretKey', () => {
  const dir = tempDir();
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const captureLogs = (): { logger: ReturnType<typeof createLogger>; lines: () => Array<{ msg: string; file?: string }> } => {
    const chunks: string[] = [];
    const sink = new Writable({ write(chunk: Buffer, _enc, done) { chunks.push(chunk.toString()); done(); } });
    const logger = createLogger('info', sink);
    return { logger, lines: () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { msg: string; file?: string }) };
  };

  it('uses ARBRIDGE_SECRET_KEY when it is set, and writes no key file', () => {
    const dataDir = path.join(dir, 'configured');
    const config = loadConfig({ ARBRIDGE_SECRET_KEY: KEY.toString('hex'), ARBRIDGE_DATA_DIR: dataDir });
    const { logger, lines } = captureLogs();
    expect(resolveSecretKey(config, logger)).toEqual(KEY);
    expect(fs.existsSync(path.join(dataDir, DEV_KEY_FILE))).toBe(false);
    expect(lines()).toEqual([]);
  });

  it('outside production without a key, creates a random key file once (mode 0600), says so, and reads it back', () => {
    const dataDir = path.join(dir, 'dev');
    const config = loadConfig({ ARBRIDGE_DATA_DIR: dataDir });
    const { logger, lines } = captureLogs();
    const first = resolveSecretKey(config, logger);
    const file = path.join(dataDir, DEV_KEY_FILE);
    expect(first).toHaveLength(32);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(lines()).toEqual([expect.objectContaining({ file, msg: expect.stringContaining('ARBRIDGE_SECRET_KEY is not set') })]);
    expect(JSON.stringify(lines())).not.toContain(first.toString('base64'));
    const second = resolveSecretKey(config, logger);
    expect(second).toEqual(first);
    // A sealed token survives a restart.
    expect(openSecret(second, sealSecret(first, 'token', CONTEXT), CONTEXT)).toBe('token');
    expect(fs.readdirSync(dataDir)).toEqual([DEV_KEY_FILE]);
  });

  it('uses the same key file with DATABASE_URL outside production', () => {
    const dataDir = path.join(dir, 'pg');
    const config = loadConfig({ ARBRIDGE_DATA_DIR: dataDir, DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' });
    const key = resolveSecretKey(config);
    expect(parseSecretKey(fs.readFileSync(path.join(dataDir, DEV_KEY_FILE), 'utf8'))).toEqual(key);
  });

  it('refuses a damaged key file, naming it', () => {
    const dataDir = path.join(dir, 'damaged');
    fs.mkdirSync(dataDir);
    fs.writeFileSync(path.join(dataDir, DEV_KEY_FILE), 'not a key\n');
    expect(() => resolveSecretKey(loadConfig({ ARBRIDGE_DATA_DIR: dataDir }))).toThrow(`${path.join(dataDir, DEV_KEY_FILE)} does not hold a secret key`);
  });

  it('never falls back to a key file in production', () => {
    const dataDir = path.join(dir, 'production');
    const config = { ...loadConfig({ ARBRIDGE_DATA_DIR: dataDir }), env: 'production' as const };
    expect(() => resolveSecretKey(config)).toThrow('ARBRIDGE_SECRET_KEY is required in production');
    expect(fs.existsSync(dataDir)).toBe(false);
  });
});
