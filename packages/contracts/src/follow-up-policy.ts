/**
 * When the exit process needs a nudge: HR's follow-up policy, pure.
 *
 * Three milestones, each with a deadline:
 *   interview_scheduled  — due `scheduleWithinMs` after the submission, while no interview is booked;
 *   interview_held       — due `heldWithinMs` after the booked interview's end, while it is not held;
 *   decision             — due `decideWithinMs` after the submission, while nothing is decided.
 * An unmet milestone earns one reminder to the HR partner at its due instant and, still unmet
 * `escalateAfterMs` later, one escalation to the HR lead. A decision (or withdrawal) ends them all.
 *
 * The orchestrator times follow-ups with it (how long the case's workflow waits) and then calls HR's command;
 * HR's use case judges with it whether one is still due, in both modes (choreography: HR's own timer); EMS's
 * follow-up list (GET /api/follow-ups) shows what it calls for. Why it is a contract and not HR's alone: three
 * parties apply it and must agree on every instant, and it is pure (no I/O, no state), like a schema. HR owns
 * what a follow-up does (whether it is due, whom it goes to, its email): packages/hr/src/follow-up-exit-process/.
 */
import type { FollowUpLevel as Level, FollowUpMilestone } from './notification.ts';

export type Milestone = FollowUpMilestone;
export type FollowUpLevel = Level;

export interface FollowUpPolicy {
  scheduleWithinMs: number;
  heldWithinMs: number;
  decideWithinMs: number;
  escalateAfterMs: number;
}

export const DEFAULT_FOLLOW_UP_POLICY: FollowUpPolicy = {
  scheduleWithinMs: 1 * 86_400_000,
  heldWithinMs: 1 * 86_400_000,
  decideWithinMs: 7 * 86_400_000,
  escalateAfterMs: 2 * 86_400_000,
};

/** What is known of the case when the policy is asked. */
export interface FollowUpFacts {
  submittedAt: Date;
  /** The booked interview (scheduled or held), or null when none is booked. */
  interview: { end: Date; held: boolean } | null;
  decided: boolean;
}

export interface FollowUp {
  milestone: Milestone;
  level: FollowUpLevel;
  dueAt: Date;
}

/** The key a follow-up is sent under, once: e.g. 'interview_held.reminder'. */
export function followUpKey(f: Pick<FollowUp, 'milestone' | 'level'>): string {
  return `${f.milestone}.${f.level}`;
}

/**
 * How long after its submission a case's first follow-up can fall due, at the soonest, whatever its facts: each
 * deadline runs from the submission or from the booked interview's end, which comes after it. Before then no case
 * needs anything timed (the orchestrator starts a case's decision workflow no later than this).
 */
export function earliestFollowUpMs(policy: FollowUpPolicy): number {
  return Math.min(policy.scheduleWithinMs, policy.heldWithinMs, policy.decideWithinMs);
}

/** Every follow-up the facts still call for, sent or not, in due order. */
export function followUpsCalledFor(policy: FollowUpPolicy, facts: FollowUpFacts): FollowUp[] {
  if (facts.decided) return [];
  const due: Array<{ milestone: Milestone; at: number }> = [];
  const submitted = facts.submittedAt.getTime();
  if (!facts.interview) due.push({ milestone: 'interview_scheduled', at: submitted + policy.scheduleWithinMs });
  else if (!facts.interview.held) due.push({ milestone: 'interview_held', at: facts.interview.end.getTime() + policy.heldWithinMs });
  due.push({ milestone: 'decision', at: submitted + policy.decideWithinMs });
  return due
    .flatMap(({ milestone, at }) => [
      { milestone, level: 'reminder' as const, dueAt: new Date(at) },
      { milestone, level: 'escalation' as const, dueAt: new Date(at + policy.escalateAfterMs) },
    ])
    .sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime());
}

/**
 * The next follow-up not yet sent (by key), or null: the caller waits until its `dueAt`, re-reads the
 * facts, and sends it if this still returns it and it is due. An escalation waits for its reminder.
 */
export function nextFollowUp(policy: FollowUpPolicy, facts: FollowUpFacts, sent: ReadonlySet<string>): FollowUp | null {
  for (const f of followUpsCalledFor(policy, facts)) {
    if (sent.has(followUpKey(f))) continue;
    if (f.level === 'escalation' && !sent.has(followUpKey({ milestone: f.milestone, level: 'reminder' }))) continue;
    return f;
  }
  return null;
}

/** Follow-ups due at `now` and not yet sent, oldest first. */
export function followUpsDue(policy: FollowUpPolicy, facts: FollowUpFacts, sent: ReadonlySet<string>, now: Date): FollowUp[] {
  const out: FollowUp[] = [];
  const seen = new Set(sent);
  for (;;) {
    const next = nextFollowUp(policy, facts, seen);
    if (!next || next.dueAt > now) return out;
    out.push(next);
    seen.add(followUpKey(next));
  }
}
