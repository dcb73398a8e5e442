import crypto from 'node:crypto';

/**
 * Secrets at rest: AES-256-GCM with a fresh 96-bit nonce per value. The stored text is
 * `v1.<key id>.<nonce>.<tag>.<ciphertext>` (base64url parts); the key id (first 8 hex digits of the key's
 * SHA-256) says which key sealed it, so a rotated key can be told apart from a wrong one. `context` (for
 * example `portal:42:refresh_token`) is bound as additional data: a sealed value moved to another row or
 * field does not open.
 */
const VERSION = 'v1';

export const keyId = (key: Buffer): string => crypto.createHash('sha256').update(key).digest('hex').slice(0, 8);

const checkKey = (key: Buffer): void => {
  if (key.length !== 32) throw new Error('A secret key is 32 bytes');
};

export const sealSecret = (key: Buffer, plaintext: string, context: string): string => {
  checkKey(key);
  const nonce = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [VERSION, keyId(key), nonce.toString('base64url'), tag.toString('base64url'), body.toString('base64url')].join('.');
};

export class SecretError extends Error {
  override name = 'SecretError';
}

export const openSecret = (key: Buffer, sealed: string, context: string): string => {
  checkKey(key);
  const parts = sealed.split('.');
  if (parts.length !== 5 || parts[0] !== VERSION) throw new SecretError('Not a sealed secret');
  const [, id, nonce, tag, body] = parts as [string, string, string, string, string];
  if (id !== keyId(key)) throw new SecretError(`Sealed with another key (${id}); this key is ${keyId(key)}`);
  try {
    const decipher = crypto.createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64url'));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretError('A sealed secret failed its integrity check (tampered, or sealed for another field)');
  }
};
