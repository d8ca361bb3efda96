import { sql, type Kysely } from 'kysely';
import type { Clock } from '@ems/platform';
import { events, followUps as api } from '@ems/contracts';
import { followUpKey, followUpsCalledFor, type FollowUpPolicy } from '@ems/contracts/follow-up-policy';
import type { EmsDb } from '../db/types.ts';
import { summaries } from '../domain/summaries.ts';

export interface FollowUpDeps {
  db: Kysely<EmsDb>;
  clock: Clock;
  policy: FollowUpPolicy;
}

/** At most this many open cases are looked at per request (an HR lead's whole organisation, many times over). */
const MAX_OPEN_CASES = 5_000;

/**
 * The follow-ups of the cases awaiting a decision that the caller may see, oldest case first: what HR
 * sent or skipped (the timeline's entries from follow-up-sent and follow-up-skipped, in both modes) and
 * what the policy still calls for — due once its instant has passed, upcoming before. The facts are EMS's
 * own: the submission, the interview the scheduling step booked, a held interview once HR reported it
 * (choreography), the decision.
 */
export async function listFollowUps(deps: FollowUpDeps, query: api.FollowUpListQuery, employeeIds: readonly string[] | undefined): Promise<api.FollowUpList> {
  const { db } = deps;
  let q = db
    .selectFrom('resignations')
    .select(['id', 'employee_id', 'employee_name', 'hr_partner_id', 'status', 'submitted_at'])
    .where('decision', 'is', null)
    .where('closed_at', 'is', null);
  if (query.resignationId) q = q.where('id', '=', query.resignationId);
  if (employeeIds) q = employeeIds.length ? q.where('employee_id', 'in', [...employeeIds]) : q.where(sql<boolean>`false`);
  const cases = await q.orderBy('submitted_at').orderBy('id').limit(MAX_OPEN_CASES).execute();
  if (!cases.length) return { items: [], nextOffset: null };

  const ids = cases.map((c) => c.id);
  const [steps, entries] = await Promise.all([
    db.selectFrom('steps').select(['resignation_id', 'result']).where('name', '=', 'scheduleInterview').where('status', '=', 'done').where('resignation_id', 'in', ids).execute(),
    db
      .selectFrom('timeline')
      .select(['resignation_id', 'type', 'at', 'summary', 'detail'])
      .where('type', 'in', [events.EventTypes.followUpSent, events.EventTypes.followUpSkipped, events.EventTypes.exitInterviewHeld])
      .where('resignation_id', 'in', ids)
      .execute(),
  ]);
  const now = deps.clock.now();
  const all = cases.map((c): api.CaseFollowUps => {
    const booked = steps.find((s) => s.resignation_id === c.id)?.result as { end?: unknown } | null | undefined;
    const mine = entries.filter((e) => e.resignation_id === c.id);
    const held = mine.some((e) => e.type === events.EventTypes.exitInterviewHeld);
    // What HR recorded, per follow-up: sent, or skipped (one or the other; HR records each once).
    const recorded = new Map<string, api.FollowUp>();
    for (const e of mine) {
      if (e.type !== events.EventTypes.followUpSent && e.type !== events.EventTypes.followUpSkipped) continue;
      const f = recordedFollowUp(e);
      const key = f && followUpKey(f);
      if (f && key && (f.state === 'sent' || !recorded.has(key))) recorded.set(key, f);
    }
    const calledFor = followUpsCalledFor(deps.policy, {
      submittedAt: new Date(c.submitted_at),
      interview: typeof booked?.end === 'string' ? { end: new Date(booked.end), held } : null,
      decided: false,
    });
    const list: api.FollowUp[] = [...recorded.values()];
    for (const f of calledFor) {
      if (recorded.has(followUpKey(f))) continue;
      list.push({ milestone: f.milestone, level: f.level, dueAt: f.dueAt.toISOString(), state: f.dueAt <= now ? 'due' : 'upcoming', sentAt: null, skippedAt: null, reason: null });
    }
    const done = (f: api.FollowUp) => f.state === 'sent' || f.state === 'skipped';
    list.sort((a, b) => (done(a) !== done(b) ? (done(a) ? -1 : 1) : a.dueAt.localeCompare(b.dueAt)));
    return {
      resignationId: c.id,
      employeeId: c.employee_id,
      employeeName: c.employee_name,
      hrPartnerId: c.hr_partner_id,
      status: c.status,
      submittedAt: new Date(c.submitted_at).toISOString(),
      followUps: list,
    };
  });
  const wanted = query.state ? all.filter((c) => c.followUps.some((f) => f.state === query.state)) : all;
  const items = wanted.slice(query.offset, query.offset + query.limit);
  return { items, nextOffset: query.offset + query.limit < wanted.length ? query.offset + query.limit : null };
}

/**
 * A follow-up HR recorded, from the timeline entry EMS wrote for its follow-up-sent or follow-up-skipped event
 * (record-reported.ts: the detail keeps milestone, level, due instant and a skip's reason; the entry's instant is the event's).
 */
function recordedFollowUp(e: { type: string; at: Date | string; summary: string; detail: Record<string, unknown> }): api.FollowUp | undefined {
  const milestone = api.FollowUpMilestone.safeParse(e.detail.milestone);
  const level = api.FollowUpLevel.safeParse(e.detail.level);
  if (!milestone.success || !level.success) return undefined;
  const f = { milestone: milestone.data, level: level.data };
  const at = new Date(e.at).toISOString();
  const due = typeof e.detail.dueAt === 'string' ? e.detail.dueAt : at;
  if (e.type === events.EventTypes.followUpSent) return { ...f, dueAt: due, state: 'sent', sentAt: at, skippedAt: null, reason: null };
  return { ...f, dueAt: due, state: 'skipped', sentAt: null, skippedAt: at, reason: skipReason(f, e) };
}

/**
 * HR's reason for a skipped follow-up: the entry's detail.reason (record-reported.ts keeps it). An entry recorded
 * before the detail kept it has it only in its sentence, after the words summaries.followUpSkipped puts before it.
 */
function skipReason(f: { milestone: string; level: string }, e: { summary: string; detail: Record<string, unknown> }): string {
  if (typeof e.detail.reason === 'string') return e.detail.reason;
  const before = summaries.followUpSkipped({ ...f, why: '' });
  return e.summary.startsWith(before) ? e.summary.slice(before.length) : e.summary;
}
