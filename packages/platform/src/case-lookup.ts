import { z } from 'zod';
import { callJson, ServiceCallError, type CallAuth } from './http-client.ts';
import { HttpProblem } from './problem.ts';

/**
 * Internal operations act only for a real case: HR books an interview, Access suspends or revokes access,
 * Notification emails — each only for a resignation EMS knows, and only for its employee. They ask EMS
 * (GET /api/resignations/{id}, with their own service token); a case's id and employee never change, so
 * an answer is remembered for the life of the process.
 */
export interface CaseFacts {
  id: string;
  employeeId: string;
}

export interface CaseLookup {
  /** The case, or undefined when EMS knows no such case. Throws ServiceCallError when EMS cannot be asked. */
  get(resignationId: string): Promise<CaseFacts | undefined>;
}

const CaseAnswer = z.object({ id: z.string(), employeeId: z.string() });

export function httpCaseLookup(o: { casesUrl: string; auth: CallAuth; remember?: number }): CaseLookup {
  const known = new Map<string, CaseFacts>();
  const remember = o.remember ?? 50_000;
  return {
    async get(resignationId) {
      const hit = known.get(resignationId);
      if (hit) return hit;
      let body: unknown;
      try {
        body = await callJson(`${o.casesUrl}/api/resignations/${encodeURIComponent(resignationId)}`, { headers: await o.auth('ems'), timeoutMs: 5_000 });
      } catch (err) {
        if (err instanceof ServiceCallError && err.status === 404) return undefined;
        throw err;
      }
      const parsed = CaseAnswer.safeParse(body);
      if (!parsed.success) throw new ServiceCallError(`EMS answered a case that does not match the contract: ${parsed.error.message.slice(0, 200)}`, undefined, false);
      if (known.size >= remember) known.clear();
      known.set(resignationId, { id: parsed.data.id, employeeId: parsed.data.employeeId });
      return parsed.data;
    },
  };
}

/**
 * The case an internal operation names, checked: 404 when EMS knows no such case, 409 when it is another
 * employee's, 503 when EMS cannot be asked (the caller retries).
 */
export async function requireCase(lookup: CaseLookup, resignationId: string, employeeId?: string): Promise<CaseFacts> {
  let found: CaseFacts | undefined;
  try {
    found = await lookup.get(resignationId);
  } catch (err) {
    // Only a failed call to EMS is EMS's trouble; anything else is a defect here, and must not pass for an outage.
    if (!(err instanceof ServiceCallError)) throw err;
    if (!err.retryable) throw new HttpProblem(502, `EMS could not confirm resignation ${resignationId}: ${err.message}`);
    throw new HttpProblem(503, `EMS cannot be asked about resignation ${resignationId} right now; try again`);
  }
  if (!found) throw new HttpProblem(404, `No resignation ${resignationId}: EMS knows no such case`, { type: 'https://ems.dev/problems/unknown-case', title: 'Unknown case' });
  if (employeeId !== undefined && found.employeeId !== employeeId) {
    throw new HttpProblem(409, `Resignation ${resignationId} is not ${employeeId}'s`, { type: 'https://ems.dev/problems/case-mismatch', title: 'Case and employee do not match' });
  }
  return found;
}
