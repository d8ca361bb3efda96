import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { App } from '@ems/platform';
import type { IdentityContext } from '../identity.context.ts';
import { parseFilter, parseAttrPath, ScimSyntaxError, type Filter } from './filter.ts';
import { getGroup, GROUP_TYPE, listGroups, patchGroup, replaceGroup } from './groups.ts';
import { parsePatchBody } from './patch.ts';
import { parseProjection, project, type Projection } from './projection.ts';
import { MAX_BODY_BYTES, MAX_RESULTS, RESOURCE_TYPES, resourceTypeResource, SCHEMAS, schemaResource, SCIM, SCIM_MEDIA_TYPE, serviceProviderConfig } from './schemas.ts';
import { ScimError, scimErrorHandler, scimNotFound, sendScim } from './scim-error.ts';
import { createUser, deactivateUser, getUser, listUsers, patchUser, replaceUser, type ScimDeps } from './users.ts';
import { USER_TYPE } from './filter-sql.ts';
import type { ScimJson } from './user.ts';

/**
 * The SCIM 2.0 service provider (RFC 7643 / RFC 7644) at /scim/v2: Users (the directory's people), Groups (the
 * three administrative roles), and the discovery endpoints. Its own error format: under /scim every refusal —
 * authentication and the policy's included — is a SCIM error (urn:ietf:params:scim:api:messages:2.0:Error) in
 * application/scim+json, because SCIM clients read that, not RFC 9457's problem+json that the rest of EMS speaks.
 */

export const SCIM_PREFIX = '/scim/v2';

const Id = z.string().min(1).max(64);
const ListQuery = z.object({
  filter: z.string().max(4096).optional(),
  startIndex: z.string().max(12).optional(),
  count: z.string().max(12).optional(),
  sortBy: z.string().max(300).optional(),
  sortOrder: z.string().max(20).optional(),
  attributes: z.string().max(2000).optional(),
  excludedAttributes: z.string().max(2000).optional(),
});
const ResourceQuery = ListQuery.pick({ attributes: true, excludedAttributes: true });
const MatchHeaders = z.object({ 'if-match': z.string().max(1000).optional() });
const NoneMatchHeaders = z.object({ 'if-none-match': z.string().max(1000).optional() });

function filterOf(text: string | undefined): Filter | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  try {
    return parseFilter(text);
  } catch (err) {
    if (err instanceof ScimSyntaxError) throw new ScimError(400, `filter: ${err.message} (at character ${err.position})`, 'invalidFilter');
    throw err;
  }
}

/** startIndex below 1 is 1 and count below 0 is 0 (RFC 7644 §3.4.2.4); count above the maximum is the maximum. */
function paging(q: { startIndex?: string | undefined; count?: string | undefined }): { startIndex: number; count: number } {
  const int = (v: string | undefined, what: string, fallback: number) => {
    if (v === undefined || v === '') return fallback;
    if (!/^-?\d{1,10}$/.test(v)) throw new ScimError(400, `${what} must be an integer`, 'invalidValue');
    return Number(v);
  };
  return { startIndex: Math.max(1, int(q.startIndex, 'startIndex', 1)), count: Math.min(MAX_RESULTS, Math.max(0, int(q.count, 'count', MAX_RESULTS))) };
}

function listResponse(resources: ScimJson[], total: number, startIndex: number, projection: Projection) {
  return { schemas: [SCIM.list], totalResults: total, startIndex, itemsPerPage: resources.length, Resources: resources.map((r) => project(r, projection)) };
}

function sendResource(req: FastifyRequest, reply: FastifyReply, found: { resource: ScimJson; etag: string }, projection: Projection, status = 200): FastifyReply {
  void reply.header('etag', found.etag);
  if (status === 200 && req.method === 'GET') {
    const none = req.headers['if-none-match'];
    if (typeof none === 'string' && none.split(',').some((t) => t.trim() === '*' || t.trim().replace(/^W\//, '') === found.etag.replace(/^W\//, ''))) return reply.status(304).send();
  }
  if (status === 201) void reply.header('location', String((found.resource.meta as { location?: string } | undefined)?.location ?? ''));
  return sendScim(reply, status, project(found.resource, projection));
}

export async function registerScimRoutes(app: App, ctx: IdentityContext): Promise<void> {
  const deps = (): ScimDeps => ({ db: ctx.db, clock: ctx.clock, bus: ctx.bus, base: `${ctx.web.publicUrl}${SCIM_PREFIX}` });
  const who = (req: FastifyRequest) => req.permit.principal.client;

  await app.register(
    async (plain) => {
      const scim = plain.withTypeProvider<ZodTypeProvider>();
      scim.setErrorHandler(scimErrorHandler);
      scim.setNotFoundHandler((req, reply) => sendScim(reply, 404, scimNotFound(`${req.method} ${req.url.split('?')[0]}`).toJSON()));
      // SCIM's media type, read as JSON (with the same guard against prototype poisoning).
      scim.addContentTypeParser(SCIM_MEDIA_TYPE, { parseAs: 'string', bodyLimit: MAX_BODY_BYTES }, scim.getDefaultJsonParser('error', 'error'));
      const tags = ['scim'];
      const write = { bodyLimit: MAX_BODY_BYTES };

      // ── Users ──
      scim.get('/Users', { schema: { operationId: 'scimListUsers', tags, summary: 'SCIM: list or search Users (filter, startIndex, count, sortBy, sortOrder, attributes, excludedAttributes)', querystring: ListQuery } }, async (req, reply) => {
        const q = req.query;
        const page = paging(q);
        const sortBy = q.sortBy ? sortPath(q.sortBy) : undefined;
        if (q.sortOrder !== undefined && !/^(ascending|descending)$/i.test(q.sortOrder)) throw new ScimError(400, 'sortOrder must be ascending or descending', 'invalidValue');
        const projection = parseProjection(USER_TYPE, q.attributes, q.excludedAttributes);
        const { total, resources } = await listUsers(deps(), { filter: filterOf(q.filter), ...page, sortBy, descending: /^descending$/i.test(q.sortOrder ?? '') });
        return sendScim(reply, 200, listResponse(resources, total, page.startIndex, projection));
      });
      scim.get('/Users/:id', { schema: { operationId: 'scimGetUser', tags, summary: 'SCIM: one User (ETag; If-None-Match answers 304)', params: z.object({ id: Id }), querystring: ResourceQuery, headers: NoneMatchHeaders } }, async (req, reply) =>
        sendResource(req, reply, await getUser(deps(), req.params.id), parseProjection(USER_TYPE, req.query.attributes, req.query.excludedAttributes)),
      );
      scim.post('/Users', { ...write, schema: { operationId: 'scimCreateUser', tags, summary: 'SCIM: create a User (a person of the directory)', querystring: ResourceQuery } }, async (req, reply) => {
        const created = await createUser(deps(), req.body);
        ctx.log.info({ user: created.resource.id, by: who(req) }, 'SCIM: user created');
        return sendResource(req, reply, created, parseProjection(USER_TYPE, req.query.attributes, req.query.excludedAttributes), 201);
      });
      scim.put('/Users/:id', { ...write, schema: { operationId: 'scimReplaceUser', tags, summary: 'SCIM: replace a User (If-Match: 412 when stale)', params: z.object({ id: Id }), querystring: ResourceQuery, headers: MatchHeaders } }, async (req, reply) => {
        const replaced = await replaceUser(deps(), req.params.id, req.body, req.headers['if-match']);
        ctx.log.info({ user: req.params.id, by: who(req) }, 'SCIM: user replaced');
        return sendResource(req, reply, replaced, parseProjection(USER_TYPE, req.query.attributes, req.query.excludedAttributes));
      });
      scim.patch('/Users/:id', { ...write, schema: { operationId: 'scimPatchUser', tags, summary: 'SCIM: change a User with PATCH operations, all or none (If-Match: 412 when stale)', params: z.object({ id: Id }), querystring: ResourceQuery, headers: MatchHeaders } }, async (req, reply) => {
        const patched = await patchUser(deps(), req.params.id, parsePatchBody(req.body), req.headers['if-match']);
        ctx.log.info({ user: req.params.id, by: who(req) }, 'SCIM: user patched');
        return sendResource(req, reply, patched, parseProjection(USER_TYPE, req.query.attributes, req.query.excludedAttributes));
      });
      scim.delete('/Users/:id', { schema: { operationId: 'scimDeleteUser', tags, summary: 'SCIM: deactivate a User (active=false; the directory never deletes a person)', params: z.object({ id: Id }), headers: MatchHeaders } }, async (req, reply) => {
        await deactivateUser(deps(), req.params.id, req.headers['if-match']);
        ctx.log.info({ user: req.params.id, by: who(req) }, 'SCIM: user deactivated');
        return reply.status(204).send();
      });

      // ── Groups: the administrative roles ──
      scim.get('/Groups', { schema: { operationId: 'scimListGroups', tags, summary: 'SCIM: the Groups (hr_lead, access_admin, operator) with their members', querystring: ListQuery } }, async (req, reply) => {
        const q = req.query;
        const page = paging(q);
        if (q.sortBy) throw new ScimError(400, 'Groups are not sorted (there are three, in a fixed order)', 'invalidValue');
        const projection = parseProjection(GROUP_TYPE, q.attributes, q.excludedAttributes);
        const { total, resources } = await listGroups(deps(), { filter: filterOf(q.filter), ...page });
        return sendScim(reply, 200, listResponse(resources, total, page.startIndex, projection));
      });
      scim.get('/Groups/:id', { schema: { operationId: 'scimGetGroup', tags, summary: 'SCIM: one Group (an administrative role) and its members', params: z.object({ id: Id }), querystring: ResourceQuery, headers: NoneMatchHeaders } }, async (req, reply) =>
        sendResource(req, reply, await getGroup(deps(), req.params.id), parseProjection(GROUP_TYPE, req.query.attributes, req.query.excludedAttributes)),
      );
      scim.patch('/Groups/:id', { ...write, schema: { operationId: 'scimPatchGroup', tags, summary: "SCIM: add or remove a Group's members (who holds the role)", params: z.object({ id: Id }), querystring: ResourceQuery, headers: MatchHeaders } }, async (req, reply) => {
        const patched = await patchGroup(deps(), req.params.id, parsePatchBody(req.body), req.headers['if-match']);
        ctx.log.info({ group: req.params.id, by: who(req) }, 'SCIM: group members changed');
        return sendResource(req, reply, patched, parseProjection(GROUP_TYPE, req.query.attributes, req.query.excludedAttributes));
      });
      scim.put('/Groups/:id', { ...write, schema: { operationId: 'scimReplaceGroup', tags, summary: "SCIM: set a Group's members", params: z.object({ id: Id }), querystring: ResourceQuery, headers: MatchHeaders } }, async (req, reply) => {
        const replaced = await replaceGroup(deps(), req.params.id, req.body, req.headers['if-match']);
        ctx.log.info({ group: req.params.id, by: who(req) }, 'SCIM: group members replaced');
        return sendResource(req, reply, replaced, parseProjection(GROUP_TYPE, req.query.attributes, req.query.excludedAttributes));
      });
      const fixed = "EMS's Groups are its three administrative roles (hr_lead, access_admin, operator): they are neither created nor deleted. Change who holds a role with PATCH /Groups/{id} (members).";
      scim.post('/Groups', { ...write, schema: { operationId: 'scimCreateGroup', tags, summary: 'SCIM: refused — the Groups are fixed (the administrative roles)' } }, async () => {
        throw new ScimError(400, fixed, 'mutability');
      });
      scim.delete('/Groups/:id', { schema: { operationId: 'scimDeleteGroup', tags, summary: 'SCIM: refused — the Groups are fixed (the administrative roles)', params: z.object({ id: Id }) } }, async () => {
        throw new ScimError(400, fixed, 'mutability');
      });

      // ── Discovery ──
      scim.get('/ServiceProviderConfig', { schema: { operationId: 'scimGetServiceProviderConfig', tags, summary: "SCIM: the service provider's configuration (what it supports)" } }, async (_req, reply) =>
        sendScim(reply, 200, serviceProviderConfig(deps().base, `${ctx.web.publicUrl}/docs`)),
      );
      scim.get('/ResourceTypes', { schema: { operationId: 'scimListResourceTypes', tags, summary: 'SCIM: the resource types (User, Group)' } }, async (_req, reply) => {
        const all = RESOURCE_TYPES.map((t) => resourceTypeResource(t, deps().base));
        return sendScim(reply, 200, { schemas: [SCIM.list], totalResults: all.length, startIndex: 1, itemsPerPage: all.length, Resources: all });
      });
      scim.get('/ResourceTypes/:id', { schema: { operationId: 'scimGetResourceType', tags, summary: 'SCIM: one resource type', params: z.object({ id: Id }) } }, async (req, reply) => {
        const t = RESOURCE_TYPES.find((x) => x.id === req.params.id);
        if (!t) throw scimNotFound(`ResourceType ${req.params.id}`);
        return sendScim(reply, 200, resourceTypeResource(t, deps().base));
      });
      scim.get('/Schemas', { schema: { operationId: 'scimListSchemas', tags, summary: 'SCIM: the schemas (User, enterprise extension, EMS extension, Group)' } }, async (_req, reply) => {
        const all = SCHEMAS.map((s) => schemaResource(s, deps().base));
        return sendScim(reply, 200, { schemas: [SCIM.list], totalResults: all.length, startIndex: 1, itemsPerPage: all.length, Resources: all });
      });
      scim.get('/Schemas/:id', { schema: { operationId: 'scimGetSchema', tags, summary: 'SCIM: one schema, by its URN', params: z.object({ id: z.string().min(1).max(200) }) } }, async (req, reply) => {
        const s = SCHEMAS.find((x) => x.id.toLowerCase() === req.params.id.toLowerCase());
        if (!s) throw scimNotFound(`Schema ${req.params.id}`);
        return sendScim(reply, 200, schemaResource(s, deps().base));
      });
    },
    { prefix: SCIM_PREFIX },
  );
}

function sortPath(text: string) {
  try {
    return parseAttrPath(text.trim());
  } catch (err) {
    if (err instanceof ScimSyntaxError) throw new ScimError(400, `sortBy: ${err.message}`, 'invalidValue');
    throw err;
  }
}
