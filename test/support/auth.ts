/**
 * Calls to a running EMS as the caller a real deployment would have, with real tokens from the EMS's
 * built-in provider (signed in once per test file and EMS).
 */
import { demoOrg } from '@ems/demo-org';
import { requestJson, type JsonResponse } from '@ems/platform/testing';
import { TEST_SECRETS_KEY, tokenCache } from '@ems/identity/testing';

/** Who does what in the demo organisation (org.roleAssignments): the HR lead, IT's access administrator, the operator. */
export const HR_LEAD = 'hr-lead';
export const ACCESS_ADMIN = 'E1004';
export const OPERATOR = 'E1013';

const tokens = new Map<string, (personId: string) => Promise<string>>();
const providers = new Map<string, string>();
/** Requests to `base` carry tokens of the built-in provider at `providerBase` (a service process without one). */
export function useProvider(base: string, providerBase: string): void {
  providers.set(base, providerBase);
}
/** A person's access token from the EMS at `base` (its built-in provider; signed in once per test file). */
export function tokenFor(base: string, personId: string): Promise<string> {
  const provider = providers.get(base) ?? base;
  let cache = tokens.get(provider);
  if (!cache) tokens.set(provider, (cache = tokenCache(() => provider)));
  return cache(personId);
}

const PUBLIC = /^\/(healthz|readyz|openapi\.json|asyncapi\.json|docs|auth\/)/;

/** The caller a real deployment would have for a request: the employee resigning, operators for operations, else the HR lead. */
const people = new Set(demoOrg().employees.map((e) => e.id));
function callerOf(method: string, path: string, body: unknown): string {
  if (method === 'POST' && path.split('?')[0] === '/api/resignations') {
    // The employee resigns themselves; a submission for no one in the directory comes from the HR lead.
    const id = (body as { employeeId?: unknown } | undefined)?.employeeId;
    return typeof id === 'string' && people.has(id) ? id : HR_LEAD;
  }
  if (/^\/api\/(webhooks|emails|dead-letters)\b/.test(path)) return OPERATOR;
  if (/^\/api\/(asset-recovery-tasks|access-audit)\b/.test(path)) return ACCESS_ADMIN;
  return HR_LEAD;
}

/** requestJson with the credential of the caller a real deployment would have (a test's own Authorization header wins). */
export async function http<T = Record<string, unknown>>(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<JsonResponse<T>> {
  if (PUBLIC.test(path) && !headers.authorization) return requestJson<T>(base, method, path, body, headers);
  const authorization = headers.authorization ?? `Bearer ${await tokenFor(base, callerOf(method, path, body))}`;
  return requestJson<T>(base, method, path, body, { ...headers, authorization });
}


/** The environment of an EMS process a test starts: a fixed secrets key (never the repository's data directory). */
export const TEST_AUTH_ENV = { EMS_SECRETS_KEY: TEST_SECRETS_KEY } as const;
