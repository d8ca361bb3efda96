import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The installation's master key (EMS_SECRETS_KEY / EMS_SECRETS_KEY_FILE, or a file generated in the data
 * directory by the embedded default). Everything secret EMS keeps is derived from it or encrypted with it:
 * the development provider's signing keys and client secrets, webhook secrets at rest, the sign-in cookie.
 * It is never logged, never put in a URL, never answered.
 */
export interface Secrets {
  /** A stable secret for a purpose, e.g. `service-client:hr` (base64url, 256 bits). */
  derive(label: string): string;
  /** AES-256-GCM, bound to `context` (a row id, a purpose): a ciphertext moved elsewhere does not decrypt. */
  encrypt(plaintext: string, context: string): string;
  /** Throws when the ciphertext was altered, belongs to another context or another key. */
  decrypt(ciphertext: string, context: string): string;
}

const VERSION = 'v1';

export function createSecrets(key: Buffer): Secrets {
  if (key.length < 32) throw new Error('the secrets key must be at least 32 bytes');
  const subkey = (label: string) => createHmac('sha256', key).update(label).digest();
  const encKey = subkey('ems:encryption');
  return {
    derive: (label) => subkey(`ems:derive:${label}`).toString('base64url'),
    encrypt(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', encKey, iv);
      cipher.setAAD(Buffer.from(context));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
    },
    decrypt(ciphertext, context) {
      const [version, packed] = ciphertext.split('.');
      if (version !== VERSION || !packed) throw new Error('not an EMS ciphertext');
      const raw = Buffer.from(packed, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', encKey, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    },
  };
}

/** Reads a base64 or hex key (≥ 32 bytes). */
export function parseSecretsKey(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64,}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length < 32) throw new Error('must be at least 32 bytes, base64 or hex (e.g. `openssl rand -base64 32`)');
  return key;
}

/**
 * The embedded default's key: `<dataDir>/secrets.key`, created on first start, readable by its owner only.
 * Returns the key and whether it was just created.
 */
export function loadOrCreateKeyFile(file: string): { key: Buffer; created: boolean } {
  if (existsSync(file)) return { key: parseSecretsKey(readFileSync(file, 'utf8')), created: false };
  mkdirSync(path.dirname(file), { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { key, created: true };
}

/** A token's hash as stored: SHA-256 (tokens are 256 random bits, so no salt or stretching is needed). */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A new random token with a recognisable prefix (secret scanners and people can tell what it is). */
export function newToken(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

export function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
