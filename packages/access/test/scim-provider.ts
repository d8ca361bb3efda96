import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/**
 * A small SCIM 2.0 service provider on loopback (RFC 7644), enough of it to drive the SCIM connector
 * through what EMS's own endpoint cannot be made to do on demand: a 412 between read and write, a 429
 * with Retry-After, a 503, a hang, a write that is accepted and not applied, a provider whose Users do
 * not list their groups.
 *
 * Users: GET /Users?filter=<attr> eq "<json string>" (userName, externalId), GET/PATCH/DELETE /Users/{id}
 * Groups: GET /Groups/{id}, GET /Groups?filter=members.value eq "<id>", PATCH /Groups/{id} (add members,
 * remove members[value eq "<id>"]). Versions are weak ETags (W/"n"); If-Match is honoured.
 */

export interface ProviderUser {
  id: string;
  userName: string;
  externalId?: string;
  active: boolean;
  version: number;
}

export interface ProviderGroup {
  id: string;
  members: Set<string>;
  version: number;
}

export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Answers a request instead of the provider (once), or lets it through (undefined). */
export type Fault = (req: SeenRequest) => { status: number; headers?: Record<string, string>; body?: unknown } | 'hang' | 'ignore-write' | undefined;

export interface ScimProvider {
  /** The SCIM base URL, e.g. http://127.0.0.1:41234/scim/v2 */
  url: string;
  token: string;
  users: Map<string, ProviderUser>;
  groups: Map<string, ProviderGroup>;
  seen: SeenRequest[];
  /** Each fault is tried on every request until it answers something other than undefined, then dropped. */
  faults: Fault[];
  /** Whether a User resource carries `groups` (RFC 7643 lets a provider leave it out). */
  listGroupsOnUsers: boolean;
  addUser(userName: string, options?: { externalId?: string; active?: boolean }): ProviderUser;
  addGroup(id: string, memberIds?: string[]): ProviderGroup;
  writes(): SeenRequest[];
  close(): Promise<void>;
}

const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** `tls`: serve https with this key and certificate (PEM) instead of http. */
export async function startScimProvider(options: { tls?: { key: string; cert: string } } = {}): Promise<ScimProvider> {
  const provider: ScimProvider = {
    url: '',
    token: `scim-token-${randomUUID()}`,
    users: new Map(),
    groups: new Map(),
    seen: [],
    faults: [],
    listGroupsOnUsers: true,
    addUser(userName, options = {}) {
      const user: ProviderUser = { id: randomUUID(), userName, active: options.active ?? true, version: 1, ...(options.externalId ? { externalId: options.externalId } : {}) };
      provider.users.set(user.id, user);
      return user;
    },
    addGroup(id, memberIds = []) {
      const group: ProviderGroup = { id, members: new Set(memberIds), version: 1 };
      provider.groups.set(id, group);
      return group;
    },
    writes: () => provider.seen.filter((r) => r.method !== 'GET'),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  const send = (res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }), ...headers });
    res.end(body === undefined ? undefined : JSON.stringify(body));
  };
  const error = (res: ServerResponse, status: number, detail: string, scimType?: string) =>
    send(res, status, { schemas: [ERROR], status: String(status), detail, ...(scimType ? { scimType } : {}) });
  const etag = (v: number) => `W/"${v}"`;

  const userJson = (u: ProviderUser) => ({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    id: u.id,
    userName: u.userName,
    ...(u.externalId ? { externalId: u.externalId } : {}),
    active: u.active,
    ...(provider.listGroupsOnUsers
      ? { groups: [...provider.groups.values()].filter((g) => g.members.has(u.id)).map((g) => ({ value: g.id, $ref: `${provider.url}/Groups/${g.id}` })) }
      : {}),
    meta: { resourceType: 'User', version: etag(u.version) },
  });
  const groupJson = (g: ProviderGroup) => ({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
    id: g.id,
    displayName: g.id,
    members: [...g.members].map((value) => ({ value })),
    meta: { resourceType: 'Group', version: etag(g.version) },
  });
  const list = (resources: unknown[]) => ({ schemas: [LIST], totalResults: resources.length, startIndex: 1, itemsPerPage: resources.length, Resources: resources });

  /** `attr eq "json"` only: enough for the connector's filters. */
  const parseEq = (filter: string): [string, string] | undefined => {
    const m = /^\s*([A-Za-z.]+)\s+eq\s+("(?:[^"\\]|\\.)*")\s*$/.exec(filter);
    if (!m) return undefined;
    return [m[1]!, JSON.parse(m[2]!) as string];
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const path = url.pathname.replace(/^\/scim\/v2/, '');
      const seen: SeenRequest = { method: req.method ?? 'GET', path: `${path}${url.search}`, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      provider.seen.push(seen);

      let ignoreWrite = false;
      for (const [i, fault] of provider.faults.entries()) {
        const answer = fault(seen);
        if (answer === undefined) continue;
        provider.faults.splice(i, 1);
        if (answer === 'hang') return;
        if (answer === 'ignore-write') {
          ignoreWrite = true;
          break;
        }
        return send(res, answer.status, answer.body, answer.headers);
      }
      if (req.headers.authorization !== `Bearer ${provider.token}`) return error(res, 401, 'Authorization failure: the bearer token is not valid');

      const [, kind, rawId] = /^\/(Users|Groups)(?:\/([^/]+))?$/.exec(path) ?? [];
      const id = rawId === undefined ? undefined : decodeURIComponent(rawId);
      if (!kind) return error(res, 404, `no resource at ${path}`);
      const body = seen.body ? (JSON.parse(seen.body) as { schemas?: string[]; Operations?: Array<{ op: string; path?: string; value?: unknown }> }) : undefined;

      if (kind === 'Users' && id === undefined && req.method === 'GET') {
        const eq = parseEq(url.searchParams.get('filter') ?? '');
        if (!eq || !['userName', 'externalId'].includes(eq[0])) return error(res, 400, 'unsupported filter', 'invalidFilter');
        const [attr, value] = eq;
        const found = [...provider.users.values()].filter((u) => (attr === 'userName' ? u.userName.toLowerCase() === value.toLowerCase() : u.externalId === value));
        return send(res, 200, list(found.map(userJson)));
      }
      if (kind === 'Groups' && id === undefined && req.method === 'GET') {
        const eq = parseEq(url.searchParams.get('filter') ?? '');
        if (!eq || eq[0] !== 'members.value') return error(res, 400, 'unsupported filter', 'invalidFilter');
        return send(res, 200, list([...provider.groups.values()].filter((g) => g.members.has(eq[1])).map((g) => ({ id: g.id }))));
      }

      const resource = kind === 'Users' ? provider.users.get(id!) : provider.groups.get(id!);
      if (!resource) return error(res, 404, `Resource ${id} not found`);
      const ifMatch = req.headers['if-match'];
      if (req.method !== 'GET' && ifMatch !== undefined && ifMatch !== '*' && ifMatch !== etag(resource.version)) {
        return error(res, 412, `If-Match ${ifMatch} is not the current version ${etag(resource.version)}`);
      }
      const answer = () => send(res, 200, kind === 'Users' ? userJson(resource as ProviderUser) : groupJson(resource as ProviderGroup), { etag: etag(resource.version) });

      if (req.method === 'GET') return answer();
      if (req.method === 'DELETE' && kind === 'Users') {
        if (!ignoreWrite) {
          provider.users.delete(id!);
          for (const g of provider.groups.values()) g.members.delete(id!);
        }
        return send(res, 204);
      }
      if (req.method === 'PATCH') {
        if (!body?.schemas?.includes(PATCH_OP) || !Array.isArray(body.Operations)) return error(res, 400, 'not a PatchOp', 'invalidSyntax');
        if (ignoreWrite) return answer();
        for (const op of body.Operations) {
          if (kind === 'Users' && op.op === 'replace' && op.path === 'active' && typeof op.value === 'boolean') {
            (resource as ProviderUser).active = op.value;
          } else if (kind === 'Groups' && op.op === 'add' && op.path === 'members' && Array.isArray(op.value)) {
            for (const m of op.value as Array<{ value: string }>) {
              if (!provider.users.has(m.value)) return error(res, 400, `no User ${m.value}`, 'invalidValue');
              (resource as ProviderGroup).members.add(m.value);
            }
          } else if (kind === 'Groups' && op.op === 'remove' && op.path) {
            const m = /^members\[value eq ("(?:[^"\\]|\\.)*")\]$/.exec(op.path);
            if (!m) return error(res, 400, `unsupported path ${op.path}`, 'invalidPath');
            const member = JSON.parse(m[1]!) as string;
            if (!(resource as ProviderGroup).members.delete(member)) return error(res, 400, `no member ${member}`, 'noTarget');
          } else {
            return error(res, 400, `unsupported operation ${JSON.stringify(op)}`, 'invalidValue');
          }
        }
        resource.version += 1;
        return answer();
      }
      return error(res, 405, `${req.method} not supported here`);
    });
  };
  const server = options.tls ? createHttpsServer(options.tls, handle) : createHttpServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  provider.url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}/scim/v2`;
  return provider;
}
