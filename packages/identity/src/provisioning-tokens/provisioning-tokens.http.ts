import { z } from 'zod';
import { PageQuerySchema, pagedSchema, ProblemSchema, type App } from '@ems/platform';
import { Uuid } from '@ems/contracts';
import type { IdentityContext } from '../identity.context.ts';
import { SCIM_PREFIX } from '../scim/scim.http.ts';
import { CreatedProvisioningToken, CreateProvisioningTokenRequest, createProvisioningToken, listProvisioningTokens, ProvisioningToken, revokeProvisioningToken } from './provisioning-tokens.ts';

export const PROVISIONING_TOKENS_PATH = '/api/provisioning-tokens';

export function registerProvisioningTokenRoutes(app: App, ctx: IdentityContext): void {
  app.post(
    PROVISIONING_TOKENS_PATH,
    {
      schema: {
        operationId: 'createProvisioningToken',
        tags: ['identity'],
        summary: "Create a provisioning token: the SCIM client's credential (the token is in this answer only)",
        body: CreateProvisioningTokenRequest,
        response: { 201: CreatedProvisioningToken, 400: ProblemSchema },
      },
    },
    async (req, reply) => reply.status(201).header('cache-control', 'no-store').send(await createProvisioningToken(ctx, req.permit, req.body, `${ctx.web.publicUrl}${SCIM_PREFIX}`)),
  );
  app.get(
    PROVISIONING_TOKENS_PATH,
    { schema: { operationId: 'listProvisioningTokens', tags: ['identity'], summary: 'Provisioning tokens, newest first (never their secret)', querystring: PageQuerySchema, response: { 200: pagedSchema(ProvisioningToken), 400: ProblemSchema } } },
    async (req) => listProvisioningTokens(ctx, req.query),
  );
  app.delete(
    `${PROVISIONING_TOKENS_PATH}/:id`,
    { schema: { operationId: 'revokeProvisioningToken', tags: ['identity'], summary: 'Revoke a provisioning token (idempotent)', params: z.object({ id: Uuid }), response: { 200: ProvisioningToken, 400: ProblemSchema, 404: ProblemSchema } } },
    async (req) => revokeProvisioningToken(ctx, req.permit, req.params.id),
  );
}
