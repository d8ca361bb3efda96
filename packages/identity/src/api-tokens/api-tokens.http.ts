import { z } from 'zod';
import { HttpProblem, PageQuerySchema, ProblemSchema, type App } from '@ems/platform';
import { identity, IDEMPOTENCY_HEADER, IdempotencyKey, Uuid } from '@ems/contracts';
import type { IdentityContext } from '../identity.context.ts';
import { createApiToken, listApiTokens, revokeApiToken } from './api-tokens.ts';

export function registerApiTokenRoutes(app: App, ctx: IdentityContext): void {
  app.post(
    identity.IdentityPaths.apiTokens,
    {
      schema: {
        operationId: 'createApiToken',
        tags: ['identity'],
        summary: 'Create an API token acting as a directory person (the token is in this answer only)',
        headers: z.object({ [IDEMPOTENCY_HEADER]: IdempotencyKey.optional() }),
        body: identity.CreateApiTokenRequest,
        response: { 200: identity.CreatedApiToken, 201: identity.CreatedApiToken, 400: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema },
      },
    },
    async (req, reply) => {
      const { created, token } = await createApiToken(ctx, req.permit, req.body, req.headers[IDEMPOTENCY_HEADER]);
      return reply.status(created ? 201 : 200).header('cache-control', 'no-store').send(token);
    },
  );
  app.get(
    identity.IdentityPaths.apiTokens,
    { schema: { operationId: 'listApiTokens', tags: ['identity'], summary: 'API tokens, newest first (never their secret)', querystring: PageQuerySchema, response: { 200: identity.ApiTokenList, 400: ProblemSchema } } },
    async (req) => listApiTokens(ctx, req.query),
  );
  app.delete(
    '/api/api-tokens/:id',
    { schema: { operationId: 'revokeApiToken', tags: ['identity'], summary: 'Revoke an API token (idempotent)', params: z.object({ id: Uuid }), response: { 200: identity.ApiToken, 400: ProblemSchema, 404: ProblemSchema } } },
    async (req) => revokeApiToken(ctx, req.permit, req.params.id),
  );

  app.get(
    identity.IdentityPaths.me,
    { schema: { operationId: 'getMe', tags: ['identity'], summary: 'Who am I: the caller as EMS sees it (person or service, roles, relationships)', response: { 200: identity.Me } } },
    async (req) => {
      const p = req.permit.principal;
      const person = p.kind === 'person' ? await ctx.security.person(p.id) : undefined;
      return { kind: p.kind, id: p.id, name: p.name, roles: [...p.roles], client: p.client, via: p.via, reports: person?.reports.length ?? 0, assigned: person?.assigned.length ?? 0 };
    },
  );

  app.post(
    identity.IdentityPaths.signingKeys,
    {
      schema: {
        operationId: 'rotateSigningKeys',
        tags: ['identity'],
        summary: "Rotate the built-in provider's signing key (the previous key stays published for a day)",
        response: { 200: identity.RotatedKeys, 409: ProblemSchema },
      },
    },
    async () => {
      if (!ctx.rotateKeys) throw new HttpProblem(409, 'The built-in identity provider is not in use: rotate keys at your provider');
      return ctx.rotateKeys();
    },
  );
}
