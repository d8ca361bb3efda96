import { sql, type Selectable } from 'kysely';
import { followUpKey, nextFollowUp, type FollowUpFacts, type FollowUpLevel, type FollowUpPolicy, type Milestone } from '../domain/follow-ups.ts';
import type { ExitCasesTable, HrDb, HrTx } from '../db/hr.db.ts';
import type { HrContext } from '../hr.context.ts';

export type ExitCaseRow = Selectable<ExitCasesTable>;

/** A case as the follow-up policy sees it, read from HR's own tables; undefined until its submission is known. */
export interface CaseFollowUps {
  exitCase: ExitCaseRow;
  facts: FollowUpFacts;
  /** Keys of the follow-ups already recorded (sent or skipped). */
  sent: Set<string>;
  /** What was recorded of each, by key: a repeated request is answered with it. */
  records: Map<string, FollowUpRecord>;
}

/** A follow-up recorded: sent (to, emailId) or skipped (why). */
export interface FollowUpRecord {
  dueAt: Date;
  to: string | null;
  emailId: string | null;
  skipped: string | null;
}

/**
 * `lock`: the case's row locked for the caller's transaction. `locked`: that row as the caller's transaction wrote it
 * (and holds it locked), not read again.
 */
export async function readFollowUps(db: HrDb | HrTx, resignationId: string, options: { lock?: boolean; locked?: ExitCaseRow } = {}): Promise<CaseFollowUps | undefined> {
  const exitCase = options.locked ?? (await readCase(db, resignationId, options.lock ?? false));
  if (!exitCase?.submitted_at) return undefined;
  // The interview and the follow-ups recorded, in one statement after the case's lock (a fresh snapshot).
  // One interview per resignation; a cancelled one counts as none (it has to be booked again).
  const facts = await sql<{ interview: { ends_at: string; status: string } | null; recorded: [Milestone, FollowUpLevel, string, string | null, string | null, string | null][] }>`
    SELECT (SELECT jsonb_build_object('ends_at', i.ends_at, 'status', i.status) FROM hr.interviews i
             WHERE i.resignation_id = ${resignationId} AND i.status <> 'cancelled') AS interview,
           (SELECT coalesce(jsonb_agg(jsonb_build_array(f.milestone, f.level, f.due_at, f.recipient, f.email_id, f.skipped)), '[]') FROM hr.follow_ups f
             WHERE f.resignation_id = ${resignationId}) AS recorded`.execute(db);
  const { interview, recorded } = facts.rows[0]!;
  return {
    exitCase,
    facts: {
      submittedAt: exitCase.submitted_at,
      interview: interview ? { end: new Date(interview.ends_at), held: interview.status === 'held' } : null,
      decided: exitCase.decision !== null,
    },
    sent: new Set(recorded.map(([milestone, level]) => followUpKey({ milestone, level }))),
    records: new Map(recorded.map(([milestone, level, dueAt, to, emailId, skipped]) => [followUpKey({ milestone, level }), { dueAt: new Date(dueAt), to, emailId, skipped }])),
  };
}

function readCase(db: HrDb | HrTx, resignationId: string, lock: boolean): Promise<ExitCaseRow | undefined> {
  const q = db.selectFrom('exit_cases').selectAll().where('resignation_id', '=', resignationId);
  return (lock ? q.forUpdate() : q).executeTakeFirst();
}

/** When the next follow-up of the case is due, or null when none is (decided, or all recorded). */
export function nextDueAt(policy: FollowUpPolicy, c: CaseFollowUps | undefined): Date | null {
  return c ? (nextFollowUp(policy, c.facts, c.sent)?.dueAt ?? null) : null;
}

/**
 * Sets the case's timer to its next due follow-up, in the caller's transaction. Every change of the
 * facts calls this (an interview booked, moved, held or cancelled; a decision), so the timer never
 * sleeps past a follow-up that became due earlier. No-op when HR does not own follow-ups (orchestration)
 * or has not heard of the case. `locked`: the case's row as the caller's transaction just wrote it (it holds the row's
 * lock): the facts are read without reading it again.
 */
export async function refreshFollowUpTimer(ctx: Pick<HrContext, 'followUpPolicy'>, trx: HrTx, resignationId: string, locked?: ExitCaseRow): Promise<void> {
  if (!ctx.followUpPolicy) return;
  const c = await readFollowUps(trx, resignationId, locked ? { locked } : { lock: true });
  if (c) await setFollowUpTimer(ctx.followUpPolicy, trx, c);
}

/** Sets the timer from facts the caller read under the case's lock (readFollowUps with lock) and kept current. */
export async function setFollowUpTimer(policy: FollowUpPolicy, trx: HrTx, c: CaseFollowUps): Promise<void> {
  const due = nextDueAt(policy, c);
  if (due?.getTime() === c.exitCase.follow_up_at?.getTime()) return;
  await trx.updateTable('exit_cases').set({ follow_up_at: due, updated_at: new Date() }).where('resignation_id', '=', c.exitCase.resignation_id).execute();
}
