import { sql, type Kysely } from 'kysely';
import type { Clock } from '@ems/platform';
import { events, type followUps as api } from '@ems/contracts';
import { followUpKey, followUpsCalledFor, type FollowUpPolicy } from '@ems/contracts/follow-up-policy';
import type { EmsDb } from '../db/types.ts';

export interface FollowUpDeps {
  db: Kysely<EmsDb>;
  clock: Clock;
  policy: FollowUpPolicy;
}

/** At most this many open cases are looked at per request (an HR lead's whole organisation, many times over). */
const MAX_OPEN_CASES = 5_000;

/**
 * The follow-ups of the cases awaiting a decision that the caller may see, oldest case first: what was
 * sent (the timeline's follow-up entries, in both modes) and what the policy still calls for — due once
 * its instant has passed, upcoming before. The facts are EMS's own: the submission, the interview the
 * scheduling step booked, a held interview once HR reported it (choreography), the decision.
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
      .select(['resignation_id', 'type', 'at', 'detail'])
      .where('type', 'in', [events.EventTypes.followUpSent, events.EventTypes.exitInterviewHeld])
      .where('resignation_id', 'in', ids)
      .execute(),
  ]);
  const now = deps.clock.now();
  const all = cases.map((c): api.CaseFollowUps => {
    const booked = steps.find((s) => s.resignation_id === c.id)?.result as { end?: unknown } | null | undefined;
    const mine = entries.filter((e) => e.resignation_id === c.id);
    const held = mine.some((e) => e.type === events.EventTypes.exitInterviewHeld);
    const sent = new Map<string, { at: Date; dueAt: string | null }>();
    for (const e of mine) {
      if (e.type !== events.EventTypes.followUpSent) continue;
      const d = e.detail as { milestone?: unknown; level?: unknown; dueAt?: unknown };
      if (typeof d.milestone === 'string' && typeof d.level === 'string') sent.set(`${d.milestone}.${d.level}`, { at: new Date(e.at), dueAt: typeof d.dueAt === 'string' ? d.dueAt : null });
    }
    const calledFor = followUpsCalledFor(deps.policy, {
      submittedAt: new Date(c.submitted_at),
      interview: typeof booked?.end === 'string' ? { end: new Date(booked.end), held } : null,
      decided: false,
    });
    const list: api.FollowUp[] = [];
    for (const [key, s] of sent) {
      const [milestone, level] = key.split('.') as [api.FollowUp['milestone'], api.FollowUp['level']];
      list.push({ milestone, level, dueAt: s.dueAt ?? s.at.toISOString(), state: 'sent', sentAt: s.at.toISOString() });
    }
    for (const f of calledFor) {
      if (sent.has(followUpKey(f))) continue;
      list.push({ milestone: f.milestone, level: f.level, dueAt: f.dueAt.toISOString(), state: f.dueAt <= now ? 'due' : 'upcoming', sentAt: null });
    }
    list.sort((a, b) => (a.state === 'sent') !== (b.state === 'sent') ? (a.state === 'sent' ? -1 : 1) : a.dueAt.localeCompare(b.dueAt));
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
