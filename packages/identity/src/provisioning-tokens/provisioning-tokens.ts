import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { Storable } from '@ems/contracts';
import { notFound, paged, type PageQuery, type Permit } from '@ems/platform';
import type { IdentityContext } from '../identity.context.ts';
import type { ProvisioningTokenRow } from '../db/identity.db.ts';
import { newToken, tokenHash } from '../secrets.ts';
import { PROVISIONING_TOKEN_PREFIX } from '../authenticate/security.ts';

/**
 * Provisioning tokens: the credential of a SCIM client (an identity provider such as Microsoft Entra ID or Okta,
 * or an HR system) that provisions the directory at /scim/v2. A token acts as the `provisioning` service
 * identity — never as a person, so no one's roles or departure change what it may do, and the policy table
 * decides what it reaches (the SCIM operations). An operator creates one; it is shown once, only its hash is
 * stored, and it expires (at most two years).
 */

export const CreateProvisioningTokenRequest = z
  .object({
    name: Storable.min(1).max(100).describe('Who uses it, e.g. "Entra ID provisioning"'),
    expiresInDays: z.number().int().min(1).max(730).default(365),
  })
  .strict()
  .meta({ id: 'CreateProvisioningTokenRequest' });

export const ProvisioningToken = z
  .object({
    id: z.uuid(),
    name: z.string(),
    createdBy: z.string(),
    createdAt: z.string(),
    expiresAt: z.string(),
    revokedAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
  })
  .meta({ id: 'ProvisioningToken', description: 'A SCIM client\'s credential (never its secret)' });
export type ProvisioningToken = z.infer<typeof ProvisioningToken>;

export const CreatedProvisioningToken = ProvisioningToken.extend({
  token: z.string().describe('The secret: Authorization: Bearer <token>. Shown in this answer only.'),
  scimUrl: z.string().describe("The SCIM base URL to give the client (the tenant URL)"),
}).meta({ id: 'CreatedProvisioningToken' });

const toToken = (r: ProvisioningTokenRow): ProvisioningToken => ({
  id: r.id,
  name: r.name,
  createdBy: r.created_by,
  createdAt: new Date(r.created_at).toISOString(),
  expiresAt: new Date(r.expires_at).toISOString(),
  revokedAt: r.revoked_at ? new Date(r.revoked_at).toISOString() : null,
  lastUsedAt: r.last_used_at ? new Date(r.last_used_at).toISOString() : null,
});

export async function createProvisioningToken(ctx: IdentityContext, permit: Permit, request: { name: string; expiresInDays: number }, scimUrl: string) {
  const now = ctx.clock.now();
  const secret = newToken(PROVISIONING_TOKEN_PREFIX);
  const row = await ctx.db
    .insertInto('provisioning_tokens')
    .values({ id: randomUUID(), name: request.name, hash: tokenHash(secret), created_by: permit.principal.id, created_at: now, expires_at: new Date(now.getTime() + request.expiresInDays * 86_400_000) })
    .returningAll()
    .executeTakeFirstOrThrow();
  ctx.log.info({ token: row.id, by: permit.principal.id }, 'provisioning token created');
  return { ...toToken(row), token: secret, scimUrl };
}

export async function listProvisioningTokens(ctx: IdentityContext, page: PageQuery): Promise<{ items: ProvisioningToken[]; nextOffset: number | null }> {
  const rows = await ctx.db.selectFrom('provisioning_tokens').selectAll().orderBy('created_at', 'desc').orderBy('id').limit(page.limit + 1).offset(page.offset).execute();
  return paged(rows.map(toToken), page);
}

export async function revokeProvisioningToken(ctx: IdentityContext, permit: Permit, id: string): Promise<ProvisioningToken> {
  const row = await ctx.db
    .updateTable('provisioning_tokens')
    .set({ revoked_at: ctx.clock.now(), revoked_by: permit.principal.id })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
  const found = row ?? (await ctx.db.selectFrom('provisioning_tokens').selectAll().where('id', '=', id).executeTakeFirst());
  if (!found) throw notFound(`No provisioning token ${id}`);
  ctx.security.evict('provisioning-token', found.hash);
  if (row) ctx.log.info({ token: id, by: permit.principal.id }, 'provisioning token revoked');
  return toToken(found);
}
