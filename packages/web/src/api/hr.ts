import type { followUps, hr } from '@ems/contracts';
import { FollowUpPaths, HrPaths } from '@ems/contracts/paths';
import { get, post, type Query } from './client.ts';
import { getEmployee, type Employee } from './directory.ts';

/** HR's API (packages/contracts/src/hr.ts), as the signed-in person: exit interviews and the directory. */
export type Interview = hr.Interview;
export type InterviewStatus = Interview['status'];
export type { Employee, HrPartner } from './directory.ts';
export type InterviewList = { items: Interview[]; nextOffset: number | null };

/** Problem types HR answers with (copied from HrProblemTypes: the contracts module itself carries zod). */
export const HrProblems = {
  noFreeSlot: 'https://ems.dev/problems/no-free-slot',
  slotUnavailable: 'https://ems.dev/problems/slot-unavailable',
  illegalTransition: 'https://ems.dev/problems/illegal-transition',
  notStarted: 'https://ems.dev/problems/interview-not-started',
  notesRecorded: 'https://ems.dev/problems/interview-notes-recorded',
} as const satisfies Partial<typeof hr.HrProblemTypes>;

/** Interviews the person may see (the API scopes them: the HR partner's assigned employees, everyone for the HR lead, the employee's own). */
export const listInterviews = (query: Query, signal?: AbortSignal) => get<InterviewList>(HrPaths.interviews, query, signal);
export const getInterview = (id: string, signal?: AbortSignal) => get<Interview>(HrPaths.interview(id), undefined, signal);
/** To a given start (an instant), or without one to the next free slot after the current one. */
export const rescheduleInterview = (id: string, body: hr.RescheduleInterviewRequest, idempotencyKey: string) => post<Interview>(HrPaths.reschedule(id), body, { idempotencyKey });
/** Held (only once it has started), with notes that are never rewritten once recorded. */
export const markInterviewHeld = (id: string, body: hr.MarkInterviewHeldRequest) => post<Interview>(HrPaths.held(id), body);
export const cancelInterview = (id: string, body: hr.CancelInterviewRequest, idempotencyKey: string) => post<Interview>(HrPaths.cancel(id), body, { idempotencyKey });

/** The directory (one person, one HR partner) lives in directory.ts, shared with the case page. */
export { getEmployee, getHrPartner } from './directory.ts';

/** Every page of a list the API pages by offset (at most `max` items). */
export async function listEvery<T>(load: (query: Query) => Promise<{ items: T[]; nextOffset: number | null }>, query: Query = {}, max = 2000): Promise<T[]> {
  const items: T[] = [];
  let offset: number | null = 0;
  while (offset !== null && items.length < max) {
    const page: { items: T[]; nextOffset: number | null } = await load({ ...query, limit: 500, offset });
    items.push(...page.items);
    offset = page.nextOffset;
  }
  return items;
}

/** The directory entries of these people, by id (one request each, in parallel; one the API refuses is left out). */
export async function peopleById(ids: Iterable<string>, signal?: AbortSignal): Promise<Map<string, Employee>> {
  const unique = [...new Set(ids)];
  const found = await Promise.all(unique.map((id) => getEmployee(id, signal).catch(() => undefined)));
  return new Map(found.flatMap((e) => (e ? [[e.id, e] as const] : [])));
}

/** The reminders (to the HR partner) and escalations (to the HR lead) of one case awaiting a decision: sent, due or upcoming. */
export type CaseFollowUps = followUps.CaseFollowUps;
export type FollowUp = followUps.FollowUp;
export type FollowUpList = { items: CaseFollowUps[]; nextOffset: number | null };

/** Follow-ups of the cases awaiting a decision that the person may see (answered by EMS). */
export const listFollowUps = (query: Query, signal?: AbortSignal) => get<FollowUpList>(FollowUpPaths.followUps, query, signal);
