import { createHash } from 'node:crypto';
import { HttpProblem, type Actor, type Clock } from '@ems/platform';
import { ems } from '@ems/contracts';
import { decideTransition, localDate, notWorkingDayProblem, type DecisionKind } from '../domain/resignation.ts';
import type { Directory } from '../directory/directory.ts';
import type { CaseStore, DecideOutcome, DecisionInput } from './case-store.ts';
import { invalidLastWorkingDay } from './submit-resignation.ts';

/**
 * How a decision reaches the case: choreography writes it (and its event) at once; orchestration hands
 * it to the case's workflow, which applies it between its own steps. `pending`: not answered in time.
 */
export interface CaseDecider {
  decide(caseId: string, input: DecisionInput & { requestId: string }): Promise<DecideOutcome | 'pending'>;
}

export interface DecideDeps {
  store: CaseStore;
  decider: CaseDecider;
  clock: Clock;
  /** The employee's working days: an exit confirmed for a day off is refused. */
  directory: Directory;
}

export type DecideResult = { kind: 'done'; resignation: ems.Resignation } | { kind: 'accepted'; id: string };

/**
 * HR records the decision, or the employee withdraws. The state machine is checked here first, so an
 * illegal request is refused at once (409) and a repeat of one that took effect answers the case as it
 * is (200, nothing changes); the mode's decider then applies it, under the case's lock, where a
 * concurrent request may still lose (409).
 */
export async function decideResignation(
  deps: DecideDeps,
  caseId: string,
  input: { kind: DecisionKind; lastWorkingDay?: string | undefined; note?: string | undefined },
  meta: {
    idempotencyKey?: string | undefined;
    /** Whether the caller may decide cases of this employee (the policy's rows); a case they may not is unknown to them. */
    allowed(employeeId: string): boolean;
    actor(employeeId: string): Actor;
  },
): Promise<DecideResult> {
  const facts = await deps.store.facts(caseId);
  if (!facts || !meta.allowed(facts.draft.employee.id)) throw new HttpProblem(404, `No resignation with id ${caseId}`);
  if (facts.kind === 'involuntary') {
    throw new HttpProblem(409, `Case ${caseId} is an involuntary exit, decided when HR started it: it cannot be ${input.kind === 'withdrawn' ? 'withdrawn' : 'decided again'}`, {
      type: ems.EmsProblemTypes.involuntaryCase,
      title: 'An involuntary exit is not decided or withdrawn',
      extra: { caseStatus: facts.status },
    });
  }
  const current = facts.decision && { kind: facts.decision.kind, lastWorkingDay: facts.decision.lastWorkingDay, revision: facts.decision.revision, revokeAt: facts.decision.revokeAt };
  const now = deps.clock.now();
  const t = decideTransition({ status: facts.status, lastWorkingDay: facts.draft.lastWorkingDay, decision: current }, input, localDate(now, facts.draft.employee.timezone), now);
  if (t.outcome === 'illegal') throw illegal(t.detail, facts.status);
  if (t.outcome === 'apply') {
    if (t.kind === 'exit_confirmed' && input.lastWorkingDay) {
      // A person no longer in the directory has no calendar to hold the day against.
      const employee = await deps.directory.findEmployee(facts.draft.employee.id);
      const problem = employee && notWorkingDayProblem(input.lastWorkingDay, employee);
      if (problem) throw invalidLastWorkingDay(problem);
    }
    const requestId = createHash('sha256')
      .update(JSON.stringify([caseId, input.kind, input.lastWorkingDay ?? null, current?.revision ?? 0, meta.idempotencyKey ?? null]))
      .digest('hex')
      .slice(0, 32);
    const outcome = await deps.decider.decide(caseId, { ...input, requestId, actor: meta.actor(facts.draft.employee.id) });
    if (outcome === 'pending') return { kind: 'accepted', id: caseId };
    if (outcome.outcome === 'illegal') throw illegal(outcome.detail, (await deps.store.get(caseId))?.status ?? facts.status);
    if (outcome.outcome === 'not-found') throw new HttpProblem(404, `No resignation with id ${caseId}`);
  }
  return { kind: 'done', resignation: (await deps.store.get(caseId))! };
}

function illegal(detail: string, status: string): HttpProblem {
  return new HttpProblem(409, detail, { type: ems.EmsProblemTypes.illegalTransition, title: 'Not allowed in the current status', extra: { caseStatus: status } });
}
