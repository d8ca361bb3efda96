import { randomUUID } from 'node:crypto';
import { conflict, notFound, paged, type PageQuery, type Permit } from '@ems/platform';
import type { identity } from '@ems/contracts';
import type { IdentityContext } from '../identity.context.ts';
import type { ApiTokenRow } from '../db/identity.db.ts';
import { newToken, tokenHash } from '../secrets.ts';
import { API_TOKEN_PREFIX } from '../authenticate/security.ts';

/**
 * API tokens for automation. An operator creates one for a directory person: the token acts as that person,
 * with the roles the directory gives them at each use. The token is shown once; only its hash is stored.
 */

const toApiToken = (r: ApiTokenRow): identity.ApiToken => ({
  id: r.id,
  name: r.name,
  personId: r.person_id,
  createdBy: r.created_by,
  createdAt: new Date(r.created_at).toISOString(),
  expiresAt: r.expires_at ? new Date(r.expires_at).toISOString() : null,
  revokedAt: r.revoked_at ? new Date(r.revoked_at).toISOString() : null,
  lastUsedAt: r.last_used_at ? new Date(r.last_used_at).toISOString() : null,
});

export async function createApiToken(
  ctx: IdentityContext,
  permit: Permit,
  request: { name: string; personId: string; expiresInDays: number },
  idempotencyKey: string | undefined,
): Promise<{ created: boolean; token: identity.CreatedApiToken }> {
  // The Idempotency-Key is stored as the id's seed: a repeat answers the same token's metadata, never its secret.
  const id = idempotencyKey ? uuidFromKey(`${permit.principal.id}:${idempotencyKey}`) : randomUUID();
  const earlier = await ctx.db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
  if (earlier) {
    if (earlier.name !== request.name || earlier.person_id !== request.personId) throw conflict(`Idempotency-Key ${idempotencyKey} was already used for another token`);
    return { created: false, token: { ...toApiToken(earlier), token: null } };
  }
  const person = await ctx.security.person(request.personId);
  if (!person) throw notFound(`No person ${request.personId} in the directory`);
  const now = ctx.clock.now();
  const secret = newToken(API_TOKEN_PREFIX);
  const row = await ctx.db
    .insertInto('api_tokens')
    .values({
      id,
      name: request.name,
      hash: tokenHash(secret),
      person_id: person.id,
      created_by: permit.principal.id,
      created_at: now,
      expires_at: new Date(now.getTime() + request.expiresInDays * 86_400_000),
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .returningAll()
    .executeTakeFirst();
  if (!row) return createApiToken(ctx, permit, request, idempotencyKey);
  ctx.log.info({ token: id, person: person.id, by: permit.principal.id }, 'API token created');
  return { created: true, token: { ...toApiToken(row), token: secret } };
}

export async function listApiTokens(ctx: IdentityContext, page: PageQuery): Promise<{ items: identity.ApiToken[]; nextOffset: number | null }> {
  const rows = await ctx.db.selectFrom('api_tokens').selectAll().orderBy('created_at', 'desc').orderBy('id').limit(page.limit + 1).offset(page.offset).execute();
  return paged(rows.map(toApiToken), page);
}

export async function revokeApiToken(ctx: IdentityContext, permit: Permit, id: string): Promise<identity.ApiToken> {
  const row = await ctx.db
    .updateTable('api_tokens')
    .set({ revoked_at: ctx.clock.now(), revoked_by: permit.principal.id })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
  const found = row ?? (await ctx.db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst());
  if (!found) throw notFound(`No API token ${id}`);
  ctx.security.evict('api-token', found.hash);
  if (row) ctx.log.info({ token: id, by: permit.principal.id }, 'API token revoked');
  return toApiToken(found);
}

/** A UUID (v8 layout) derived from a key: one token per caller and Idempotency-Key. */
function uuidFromKey(key: string): string {
  const h = tokenHash(`api-token:${key}`);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}
