/**
 * How a webhook's signing secret is kept: encrypted with the installation's secrets key, never in
 * plain text, shown once (in the answer that registers it) and never returned again.
 *
 *   stored:  `v1.<base64url(iv ‖ tag ‖ AES-256-GCM(secret))>`, bound to the context `webhooks.secret:<id>`
 *
 * The binding means a ciphertext copied into another webhook's row does not decrypt there (the
 * delivery fails, instead of signing with another webhook's secret). Rows written by a release before
 * encryption hold the plain secret (`whsec_…`); the service encrypts them when it starts.
 */

/**
 * What the webhook service needs of the installation's secrets (`Secrets` of @ems/identity fits):
 * authenticated encryption bound to a context string.
 */
export interface SecretsCipher {
  encrypt(plaintext: string, context: string): string;
  /** Throws when the ciphertext was altered, belongs to another context, or to another key. */
  decrypt(ciphertext: string, context: string): string;
}

/** The prefix of every plain secret (see newWebhookSecret), and so of a row an earlier release stored in plain text. */
const PLAINTEXT_PREFIX = 'whsec_';

/** What a webhook's secret is bound to: its own row. */
export function secretContext(webhookId: string): string {
  return `webhooks.secret:${webhookId}`;
}

/** True for a secret stored in plain text by a release before encryption at rest. */
export function isPlaintextSecret(stored: string): boolean {
  return stored.startsWith(PLAINTEXT_PREFIX);
}

/** The stored form of a webhook's secret. */
export function sealSecret(cipher: SecretsCipher, webhookId: string, secret: string): string {
  return cipher.encrypt(secret, secretContext(webhookId));
}

/** The stored secret cannot be used to sign: the message says why (it never contains the secret). */
export class UnreadableSecretError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UnreadableSecretError';
  }
}

/**
 * The secret to sign with. Throws UnreadableSecretError when the stored value is not this webhook's
 * ciphertext under this installation's key (altered, copied from another row, another key), or is
 * still plain text (start() encrypts those before any delivery): nothing is signed then.
 */
export function openSecret(cipher: SecretsCipher, webhookId: string, stored: string): string {
  if (isPlaintextSecret(stored)) {
    throw new UnreadableSecretError(`the signing secret of webhook ${webhookId} is stored unencrypted; the webhook service encrypts it when it starts`);
  }
  try {
    return cipher.decrypt(stored, secretContext(webhookId));
  } catch (err) {
    throw new UnreadableSecretError(
      `the signing secret of webhook ${webhookId} does not decrypt (altered, copied from another webhook, or encrypted under another secrets key — is EMS_SECRETS_KEY the same on every process?); nothing was sent`,
      { cause: err },
    );
  }
}
