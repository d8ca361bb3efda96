import type { ems } from '@ems/contracts';
import { EmsPaths } from '@ems/contracts/paths';
import { get, post, type Query } from './client.ts';

/** EMS's case API (packages/contracts/src/ems.ts), as the signed-in person. */
export type Resignation = ems.Resignation;
export type TimelineEntry = ems.TimelineEntry;
export type ResignationList = { items: Resignation[]; nextOffset: number | null };
export type SubmitResignationRequest = ems.SubmitResignationRequest;
export type DecisionRequest = ems.DecisionRequest;
/** A change the server took and will carry out (202): the case shows it once done. */
export type Accepted = { id: string; status: 'accepted' };

export const listResignations = (query: Query, signal?: AbortSignal) => get<ResignationList>(EmsPaths.resignations, query, signal);
export const getResignation = (id: string, signal?: AbortSignal) => get<Resignation>(EmsPaths.resignation(id), undefined, signal);
export const getTimeline = (id: string, signal?: AbortSignal) => get<{ resignationId: string; items: TimelineEntry[] }>(EmsPaths.timeline(id), undefined, signal);
export const submitResignation = (body: SubmitResignationRequest, idempotencyKey: string) => post<Resignation>(EmsPaths.resignations, body, { idempotencyKey });
export const decideResignation = (id: string, body: DecisionRequest, idempotencyKey: string) => post<Resignation | Accepted>(EmsPaths.decision(id), body, { idempotencyKey });
export const withdrawResignation = (id: string, body: { note?: string }, idempotencyKey: string) => post<Resignation | Accepted>(EmsPaths.withdrawal(id), body, { idempotencyKey });
