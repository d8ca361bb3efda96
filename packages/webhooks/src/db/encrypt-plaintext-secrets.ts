import { sql } from 'kysely';
import { sealSecret, type SecretsCipher } from '../domain/secret-at-rest.ts';
import type { WebhooksDb } from './webhooks.db.ts';

/**
 * The one-off step that finishes migration 2: encrypts every secret an earlier release stored in plain
 * text (`whsec_…`), deleted webhooks' included. The migration cannot, having no key; the service does
 * it at start(), before it subscribes any webhook, so no delivery meets a plain row.
 *
 * Safe to run on every start and on several replicas at once: each row is replaced only while it still
 * holds the plain value read (a replica that lost the race leaves the other's ciphertext alone), and
 * once no plain row is left it is one query that finds nothing. Answers how many rows it encrypted.
 */
export async function encryptPlaintextSecrets(db: WebhooksDb, secrets: SecretsCipher): Promise<number> {
  const plain = await db
    .selectFrom('webhooks')
    .select(['id', 'secret_encrypted'])
    .where(sql<boolean>`starts_with(secret_encrypted, 'whsec_')`)
    .execute();
  let encrypted = 0;
  for (const row of plain) {
    const done = await db
      .updateTable('webhooks')
      .set({ secret_encrypted: sealSecret(secrets, row.id, row.secret_encrypted) })
      .where('id', '=', row.id)
      .where('secret_encrypted', '=', row.secret_encrypted)
      .executeTakeFirst();
    encrypted += Number(done.numUpdatedRows);
  }
  return encrypted;
}
