import type { ems } from '@ems/contracts';
import { EmsPaths } from '@ems/contracts/paths';
import { get, post, type Query } from './client.ts';

/** EMS's case API (packages/contracts/src/ems.ts), as the signed-in person. */
export type Resignation = ems.Resignation;
export type TimelineEntry = ems.TimelineEntry;
export type CaseStatus = ems.CaseStatus;
export type ReasonCategory = ems.ReasonCategory;
export type Actor = ems.Actor;
export type ResignationList = { items: Resignation[]; nextOffset: number | null };
export type SubmitResignationRequest = ems.SubmitResignationRequest;
export type DecisionRequest = ems.DecisionRequest;
/** A change the server took and will carry out (202): the case shows it once done. */
export type Accepted = { id: string; status: 'accepted' };
/** One step of a case (notifyManager, scheduleInterview, …): status, when, by when, attempts, last error. */
export type Step = Resignation['steps']['notifyManager'];
export type StepName = keyof Resignation['steps'];

/** The statuses a case may have, in the order it passes through them; `stuck` filters open cases with a step late or failed. */
export const CASE_STATUSES: readonly CaseStatus[] = ['in_progress', 'awaiting_decision', 'action_required', 'exit_confirmed', 'retained', 'withdrawn', 'exited'];
/** Statuses in which the case still waits for HR's decision or the employee's withdrawal. */
export const UNDECIDED: readonly CaseStatus[] = ['in_progress', 'awaiting_decision', 'action_required'];
/** The employee may withdraw in these (not while the first reactions run: the server answers 409 then). */
export const WITHDRAWABLE: readonly CaseStatus[] = ['awaiting_decision', 'action_required'];
/** The 409 of a second resignation names the open case. */
export const OPEN_RESIGNATION_EXISTS = 'https://ems.dev/problems/open-resignation-exists';

export const listResignations = (query: Query, signal?: AbortSignal) => get<ResignationList>(EmsPaths.resignations, query, signal);
export const getResignation = (id: string, signal?: AbortSignal) => get<Resignation>(EmsPaths.resignation(id), undefined, signal);
export const getTimeline = (id: string, signal?: AbortSignal) => get<{ resignationId: string; items: TimelineEntry[] }>(EmsPaths.timeline(id), undefined, signal);
export const submitResignation = (body: SubmitResignationRequest, idempotencyKey: string) => post<Resignation>(EmsPaths.resignations, body, { idempotencyKey });
export const decideResignation = (id: string, body: DecisionRequest, idempotencyKey: string) => post<Resignation | Accepted>(EmsPaths.decision(id), body, { idempotencyKey });
export const withdrawResignation = (id: string, body: { note?: string }, idempotencyKey: string) => post<Resignation | Accepted>(EmsPaths.withdrawal(id), body, { idempotencyKey });

/** The reason categories in words (a Record: the compiler insists on every category the contract names). */
export const REASON_CATEGORY_WORDS: Record<ReasonCategory, string> = {
  career: 'Career (a new role, growth)',
  compensation: 'Pay and benefits',
  management: 'Management',
  relocation: 'Moving away',
  personal: 'Personal reasons',
  other: 'Something else',
};
export const REASON_CATEGORIES = Object.keys(REASON_CATEGORY_WORDS) as ReasonCategory[];

/** Open: something may still happen (closedAt is set once nothing more will). */
export const isOpen = (c: Pick<Resignation, 'closedAt'>) => c.closedAt === null;

/**
 * Every open case the person may see (the API has no "open" filter: it pages through newest first and keeps
 * the open ones; a manager's reports or one employee's cases are a few pages at most).
 */
export async function listOpenResignations(query: Query, signal?: AbortSignal, max = 2000): Promise<Resignation[]> {
  const open: Resignation[] = [];
  let offset: number | null = 0;
  let seen = 0;
  while (offset !== null && seen < max) {
    const page: ResignationList = await listResignations({ ...query, limit: 500, offset }, signal);
    seen += page.items.length;
    open.push(...page.items.filter(isOpen));
    offset = page.nextOffset;
  }
  return open;
}
