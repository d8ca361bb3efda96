import { sql, type Selectable } from 'kysely';
import { conflict } from '@ems/platform';
import type { Decision, ExitCasesTable, HrTx } from '../db/hr.db.ts';

/**
 * HR's record of a resignation it heard of on the bus (choreography): the submission's facts and
 * the decision. Events reach HR's subscribers in any order, so each writer fills in only its part.
 */

/**
 * Serialises, per resignation, booking its interview and closing it: whichever comes second sees
 * the other (a booking sees the withdrawal and refuses; a withdrawal sees the booking and cancels
 * it). Taken before any row lock.
 */
export async function lockResignation(trx: HrTx, resignationId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext('hr.resignation'), hashtext(${resignationId}))`.execute(trx);
}

/** The 409 of a booking for a resignation that was retained or withdrawn: it no longer needs an exit interview. */
export function closedConflict(resignationId: string, decision: 'retained' | 'withdrawn'): Error {
  return conflict(`Resignation ${resignationId} was ${decision}; it needs no exit interview`);
}

export interface Submission {
  resignationId: string;
  employeeId: string;
  employeeName: string;
  hrPartnerId: string;
  submittedAt: Date;
  correlationId: string;
  /** The case's trace context; absent when the caller sent none (an HTTP command without traceparent). */
  traceparent: string | null;
}

/**
 * Records the submission's facts, unless already known (a redelivery, or a later duplicate). Returns the case's
 * row when it wrote it, locked by `trx` until it ends (so its caller need not read it again); undefined when the
 * submission was known already.
 */
export async function recordSubmission(trx: HrTx, s: Submission): Promise<Selectable<ExitCasesTable> | undefined> {
  return trx
    .insertInto('exit_cases')
    .values({
      resignation_id: s.resignationId,
      employee_id: s.employeeId,
      employee_name: s.employeeName,
      hr_partner_id: s.hrPartnerId,
      submitted_at: s.submittedAt,
      correlation_id: s.correlationId,
      traceparent: s.traceparent,
    })
    .onConflict((oc) =>
      oc
        .column('resignation_id')
        .doUpdateSet((eb) => ({
          employee_id: eb.ref('excluded.employee_id'),
          employee_name: eb.ref('excluded.employee_name'),
          hr_partner_id: eb.ref('excluded.hr_partner_id'),
          submitted_at: eb.ref('excluded.submitted_at'),
          correlation_id: eb.ref('excluded.correlation_id'),
          traceparent: eb.ref('excluded.traceparent'),
          updated_at: new Date(),
        }))
        .where('exit_cases.submitted_at', 'is', null),
    )
    .returningAll()
    .executeTakeFirst();
}

/** Records the decision (the first one stands) and stops the follow-up timer for good. */
export async function recordDecision(trx: HrTx, d: { resignationId: string; decision: Decision; decidedAt: Date }): Promise<void> {
  await trx
    .insertInto('exit_cases')
    .values({ resignation_id: d.resignationId, decision: d.decision, decided_at: d.decidedAt })
    .onConflict((oc) =>
      oc.column('resignation_id').doUpdateSet((eb) => ({
        decision: eb.fn.coalesce('exit_cases.decision', 'excluded.decision'),
        decided_at: eb.fn.coalesce('exit_cases.decided_at', 'excluded.decided_at'),
        follow_up_at: null,
        updated_at: new Date(),
      })),
    )
    .execute();
}
