import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { sql } from 'kysely';
import type { IdentityDb } from '../db/identity.db.ts';
import type { Secrets } from '../secrets.ts';

/** How long a retired key stays published: longer than any token it signed lives. */
export const RETIRED_KEY_PUBLISHED_MS = 24 * 3600_000;
export const SIGNING_ALG = 'ES256';

export interface SigningKeys {
  /** Newest first: the first signs, the others only verify. */
  keys: JWK[];
  /** Identifies the set (changes when a key is added or pruned). */
  version: string;
}

const context = (kid: string) => `identity.signing_keys:${kid}`;

async function newKey(db: IdentityDb, secrets: Secrets, now: Date): Promise<void> {
  const { privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const kid = `${now.toISOString().slice(0, 10)}-${randomUUID().slice(0, 8)}`;
  const jwk = { ...(await exportJWK(privateKey)), kid, alg: SIGNING_ALG, use: 'sig' };
  await db.insertInto('signing_keys').values({ kid, private_jwk: secrets.encrypt(JSON.stringify(jwk), context(kid)), created_at: now }).execute();
}

/**
 * The provider's signing keys: created on first use, stored encrypted with the installation's secrets key,
 * so every replica (and a restart) signs and publishes the same keys.
 */
export async function loadSigningKeys(db: IdentityDb, secrets: Secrets): Promise<SigningKeys> {
  await db.transaction().execute(async (tx) => {
    await sql`SELECT pg_advisory_xact_lock(hashtext('identity.signing_keys'))`.execute(tx);
    const active = await tx.selectFrom('signing_keys').select('kid').where('retired_at', 'is', null).executeTakeFirst();
    if (!active) await newKey(tx, secrets, new Date());
  });
  const rows = await db
    .selectFrom('signing_keys')
    .select(['kid', 'private_jwk'])
    .where((eb) => eb.or([eb('retired_at', 'is', null), eb('retired_at', '>', new Date(Date.now() - RETIRED_KEY_PUBLISHED_MS))]))
    .orderBy(sql`retired_at IS NULL`, 'desc')
    .orderBy('created_at', 'desc')
    .execute();
  return { keys: rows.map((r) => JSON.parse(secrets.decrypt(r.private_jwk, context(r.kid))) as JWK), version: rows.map((r) => r.kid).join(',') };
}

/** A new key takes over signing; the previous one stays published for a day, then is pruned. */
export async function rotateSigningKeys(db: IdentityDb, secrets: Secrets): Promise<{ kid: string; retired: string[] }> {
  return db.transaction().execute(async (tx) => {
    await sql`SELECT pg_advisory_xact_lock(hashtext('identity.signing_keys'))`.execute(tx);
    const now = new Date();
    const retired = await tx.updateTable('signing_keys').set({ retired_at: now }).where('retired_at', 'is', null).returning('kid').execute();
    await tx.deleteFrom('signing_keys').where('retired_at', '<', new Date(now.getTime() - RETIRED_KEY_PUBLISHED_MS)).execute();
    await newKey(tx, secrets, now);
    const active = await tx.selectFrom('signing_keys').select('kid').where('retired_at', 'is', null).executeTakeFirstOrThrow();
    return { kid: active.kid, retired: retired.map((r) => r.kid) };
  });
}
