/**
 * `ems provisioning-tokens create --name TEXT [--expires-in-days N]`, `… list`, `… revoke <id>`: the credentials
 * of a SCIM client (Microsoft Entra ID, Okta, an HR system) that provisions the directory at /scim/v2 — through
 * the API (/api/provisioning-tokens, operators only) with the CLI's sign-in. `create` prints the token once, with
 * the SCIM URL to give the client beside it.
 */
import { parseArgs } from 'node:util';
import { IdentityPaths } from '@ems/contracts/paths';
import { authorization } from './sign-in.ts';

export const PROVISIONING_TOKENS_USAGE =
  'Usage: ems provisioning-tokens create --name TEXT [--expires-in-days N] | ems provisioning-tokens list | ems provisioning-tokens revoke <id>';

export interface ProvisioningTokensIo {
  baseUrl: string;
  out: (line: string) => void;
  err: (line: string) => void;
}

/** What the API answers (identity's ProvisioningToken; CreatedProvisioningToken adds token and scimUrl). */
interface TokenJson {
  id: string;
  name: string;
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
  token?: string;
  scimUrl?: string;
}

class Refused extends Error {}

/** Exit code: 0 done, 1 refused or failed, 2 usage. */
export async function provisioningTokensCommand(args: string[], io: ProvisioningTokensIo): Promise<number> {
  const [sub, ...rest] = args;
  const usage = () => {
    io.err(PROVISIONING_TOKENS_USAGE);
    return 2;
  };
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(sub, rest);
  } catch (err) {
    io.err(err instanceof TypeError ? err.message : String(err));
    return usage();
  }
  if (!parsed) return usage();
  try {
    if (parsed.kind === 'create') return await create(io, parsed.name, parsed.expiresInDays);
    if (parsed.kind === 'list') return await list(io);
    return await revoke(io, parsed.id);
  } catch (err) {
    if (!(err instanceof Refused)) throw err;
    io.err(err.message);
    return 1;
  }
}

type Parsed = { kind: 'create'; name: string; expiresInDays: number | undefined } | { kind: 'list' } | { kind: 'revoke'; id: string };

/** Undefined: not a valid command line (parseArgs throws a TypeError for an unknown or malformed option). */
function parse(sub: string | undefined, rest: string[]): Parsed | undefined {
  if (sub === 'create') {
    const { values, positionals } = parseArgs({ args: rest, options: { name: { type: 'string' }, 'expires-in-days': { type: 'string' } } });
    const name = values.name?.trim();
    const days = values['expires-in-days'];
    if (!name || positionals.length) return undefined;
    if (days !== undefined && !/^\d{1,4}$/.test(days)) throw new TypeError(`--expires-in-days must be a whole number of days (1 to 730), not "${days}"`);
    return { kind: 'create', name, expiresInDays: days === undefined ? undefined : Number(days) };
  }
  if (sub === 'list') {
    const { positionals } = parseArgs({ args: rest, allowPositionals: true, options: {} });
    return positionals.length ? undefined : { kind: 'list' };
  }
  if (sub === 'revoke') {
    const { positionals } = parseArgs({ args: rest, allowPositionals: true, options: {} });
    return positionals.length === 1 ? { kind: 'revoke', id: positionals[0]! } : undefined;
  }
  return undefined;
}

async function create(io: ProvisioningTokensIo, name: string, expiresInDays: number | undefined): Promise<number> {
  const t = await call<TokenJson>(io, 'POST', IdentityPaths.provisioningTokens, { name, ...(expiresInDays === undefined ? {} : { expiresInDays }) });
  io.out(`Provisioning token ${t.id} "${t.name}", valid until ${t.expiresAt}.`);
  io.out('Give your SCIM client these two. The token will not be shown again: store it as a secret.');
  io.out(`  SCIM URL (tenant URL):  ${t.scimUrl ?? ''}`);
  io.out(`  Secret token:           ${t.token ?? ''}`);
  io.out(`Make a new one and swap it in the client before it expires; revoke this one with: ems provisioning-tokens revoke ${t.id}`);
  return 0;
}

async function list(io: ProvisioningTokensIo): Promise<number> {
  const items: TokenJson[] = [];
  for (let offset: number | null = 0; offset !== null; ) {
    const page: { items: TokenJson[]; nextOffset: number | null } = await call(io, 'GET', `${IdentityPaths.provisioningTokens}?limit=500&offset=${offset}`);
    items.push(...page.items);
    offset = page.nextOffset;
  }
  if (!items.length) {
    io.out('No provisioning tokens. Make one with: ems provisioning-tokens create --name "Entra ID"');
    return 0;
  }
  const now = Date.now();
  for (const t of items) {
    const state = t.revokedAt ? 'revoked' : Date.parse(t.expiresAt) <= now ? 'expired' : 'active ';
    io.out(`${t.id}  ${state}  ${t.name}  (by ${t.createdBy} ${t.createdAt}, until ${t.expiresAt}, last used ${t.lastUsedAt ?? 'never'})`);
  }
  return 0;
}

async function revoke(io: ProvisioningTokensIo, id: string): Promise<number> {
  const t = await call<TokenJson>(io, 'DELETE', IdentityPaths.provisioningToken(id));
  io.out(`Provisioning token ${t.id} "${t.name}" revoked (${t.revokedAt ?? ''}): a SCIM client using it is refused from now on.`);
  return 0;
}

async function call<T>(io: ProvisioningTokensIo, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  // Not signed in: SignInRequired, which `ems` prints as it does for every command.
  const credentials = await authorization(io.baseUrl);
  let res: Response;
  try {
    res = await fetch(`${io.baseUrl}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), authorization: credentials },
      body: body === undefined ? null : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch {
    throw new Refused(`Cannot reach EMS at ${io.baseUrl} — is it running? (npm start)`);
  }
  const json = (await res.json().catch(() => ({}))) as T & { title?: string; detail?: string };
  if (res.status === 401) throw new Refused(`401 ${json.detail ?? 'Unauthorized'} — sign in again: ems login`);
  if (res.status >= 400) throw new Refused(`${res.status} ${json.title ?? ''}: ${json.detail ?? ''}`.trim());
  return json;
}
