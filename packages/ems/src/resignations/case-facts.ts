import type { Kysely } from 'kysely';
import { Uuid } from '@ems/contracts';
import { describeError, isTransient, ServiceCallError, type CaseFacts, type CaseLookup } from '@ems/platform';
import type { EmsDb } from '../db/types.ts';

/**
 * The participants' check that a case exists (platform's CaseLookup: HR books, Access holds and revokes,
 * Notification emails only for a case EMS knows, and only for its employee), answered by EMS in the process
 * that hosts it. One read of the case's id and employee, remembered for the life of the process — neither
 * ever changes — and shared by every participant hosted beside EMS.
 *
 * Over HTTP (httpCaseLookup, for a participant in a process of its own) each participant's first call for a
 * case was a request to GET /api/resignations/{id} with its service token, answered by reading the whole case
 * (the case, its steps, its systems, its drifts): an orchestrated case cost 3 such requests and 12 statements.
 *
 * A case EMS opens in this process is remembered as it is committed (`opened`, the case store's hook), so
 * the participants' first checks for it read nothing: measured at one statement per case.
 *
 * A database error is EMS that cannot be asked: a ServiceCallError, retryable when retrying can cure it
 * (requireCase answers 503 then, 502 otherwise), as the HTTP lookup's would be.
 */
export function inProcessCaseLookup(db: Kysely<EmsDb>, remember = 50_000): CaseLookup & { opened: (kase: CaseFacts) => void } {
  const known = new Map<string, CaseFacts>();
  const keep = (facts: CaseFacts) => {
    if (known.size >= remember) known.clear();
    known.set(facts.id, facts);
  };
  return {
    /** A case just opened (and committed) by EMS in this process. */
    opened: (kase) => keep({ id: kase.id, employeeId: kase.employeeId }),
    async get(resignationId) {
      const hit = known.get(resignationId);
      if (hit) return hit;
      // EMS's case ids are UUIDs: anything else names no case (and must not reach a uuid column).
      if (!Uuid.safeParse(resignationId).success) return undefined;
      let row: { id: string; employee_id: string } | undefined;
      try {
        row = await db.selectFrom('resignations').select(['id', 'employee_id']).where('id', '=', resignationId).executeTakeFirst();
      } catch (err) {
        throw new ServiceCallError(`EMS could not read resignation ${resignationId}: ${describeError(err)}`, undefined, isTransient(err));
      }
      if (!row) return undefined;
      const facts = { id: row.id, employeeId: row.employee_id };
      keep(facts);
      return facts;
    },
  };
}
