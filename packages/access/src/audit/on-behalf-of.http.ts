import { HttpProblem, type Actor, type Permit } from '@ems/platform';
import { access } from '@ems/contracts';
import { z } from 'zod';
import type { AuditBy } from './actor.ts';

const HEADER = access.ON_BEHALF_OF_HEADER;

/** The header, as the routes that change access declare it (documentation; decoded by auditByRequest). */
export const OnBehalfOfHeaders = {
  [HEADER]: z
    .string()
    .max(4096)
    .optional()
    .describe('Service identities only: the person (or service) the caller acts for, as base64url of the Actor JSON; recorded as onBehalfOf in the access audit'),
};

/**
 * Who a request's changes are recorded for: the caller's actor (the role that grants the employee's row)
 * and, from a service, whom it says it acts for. Validates the header at once, before anything is done:
 * a malformed one, or one from a person (who only ever acts as themselves), is refused with 400.
 */
export function auditByRequest(req: { headers: Record<string, string | string[] | undefined>; permit: Permit }): (employeeId: string) => AuditBy {
  const onBehalfOf = onBehalfOfFrom(req);
  return (employeeId) => ({ actor: req.permit.actor(employeeId), onBehalfOf });
}

function onBehalfOfFrom(req: { headers: Record<string, string | string[] | undefined>; permit: Permit }): Actor | null {
  const raw = req.headers[HEADER];
  if (raw === undefined) return null;
  if (req.permit.principal.kind !== 'service') {
    throw invalidHeader('only a service identity may act on behalf of someone; a person acts as themselves (leave the header out)');
  }
  // Node joins a repeated header with ', ': that is no base64url either.
  const value = Array.isArray(raw) ? raw.join(', ') : raw;
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(value)) throw invalidHeader('must be the base64url encoding of an Actor as JSON');
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    throw invalidHeader('does not decode to JSON (expected base64url of an Actor as JSON)');
  }
  const parsed = access.OnBehalfOf.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: `headers.${HEADER}${i.path.map((p) => `.${String(p)}`).join('')}`, message: i.message }));
    throw invalidHeader(`is not an Actor { id, kind, name, role, client }: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  }
  return parsed.data;
}

function invalidHeader(why: string, errors?: Array<{ path: string; message: string }>): HttpProblem {
  return new HttpProblem(400, `Header ${HEADER}: ${why}`, {
    type: 'https://ems.dev/problems/validation',
    title: 'Invalid request',
    extra: { errors: errors ?? [{ path: `headers.${HEADER}`, message: why }] },
  });
}
