import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSecrets } from '@ems/identity';
import { TEST_SECRETS_KEY } from '@ems/identity/testing';
import { isPlaintextSecret, openSecret, sealSecret, secretContext, UnreadableSecretError } from './secret-at-rest.ts';
import { newWebhookSecret } from '@ems/platform';

const secrets = createSecrets(Buffer.from(TEST_SECRETS_KEY, 'base64'));
const A = '6f1c2b1e-0000-4000-8000-00000000000a';
const B = '6f1c2b1e-0000-4000-8000-00000000000b';

describe('webhook secrets at rest', () => {
  it('when a secret is sealed, then the stored form is a v1 ciphertext without the secret, and it opens for its own webhook', () => {
    const secret = newWebhookSecret();
    const stored = sealSecret(secrets, A, secret);
    expect(stored).toMatch(/^v1\./);
    expect(stored).not.toContain(secret);
    expect(isPlaintextSecret(stored)).toBe(false);
    expect(sealSecret(secrets, A, secret)).not.toBe(stored); // a fresh IV each time
    expect(openSecret(secrets, A, stored)).toBe(secret);
    expect(secretContext(A)).toBe(`webhooks.secret:${A}`);
  });

  it('when the ciphertext is moved to another webhook, altered, or read under another key, then it does not open, and the error does not carry the secret', () => {
    const secret = newWebhookSecret();
    const stored = sealSecret(secrets, A, secret);
    const tries = [
      () => openSecret(secrets, B, stored),
      () => openSecret(secrets, A, `${stored.slice(0, 10)}${stored[10] === 'A' ? 'B' : 'A'}${stored.slice(11)}`),
      () => openSecret(createSecrets(randomBytes(32)), A, stored),
      () => openSecret(secrets, A, 'v2.nonsense'),
    ];
    for (const open of tries) {
      expect(open).toThrow(UnreadableSecretError);
      expect(open).toThrow(/does not decrypt/);
      try {
        open();
      } catch (err) {
        expect(String((err as Error).message)).not.toContain(secret);
      }
    }
  });

  it('when a secret is still stored in plain text, then it is recognised, and never used to sign', () => {
    const secret = newWebhookSecret();
    expect(isPlaintextSecret(secret)).toBe(true);
    expect(() => openSecret(secrets, A, secret)).toThrow(/stored unencrypted/);
  });
});
