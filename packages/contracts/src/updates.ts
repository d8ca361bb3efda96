import { z } from 'zod';
import { IsoDateTime, Uuid } from './common.ts';
import { CaseStatus } from './ems.ts';

/**
 * Live updates: GET /api/updates is a server-sent events stream (text/event-stream; the browser's EventSource
 * sends the session cookie, other clients a bearer token) of what changed that the caller may see:
 *
 *   retry: 5000                        ← how long a client waits before reconnecting
 *   event: case                        ← a case the caller may read (the rows of getResignation) changed
 *   data: {"resignationId":"…","status":"awaiting_decision","updatedAt":"…"}
 *
 *   event: dead-letter                 ← operators only: a subscriber gave up on an event
 *   data: {"id":"…","subscriber":"…","eventType":"…","reason":"…","deadAt":"…"}
 *
 *   : heartbeat                        ← a comment every 15 s, so proxies and the client know it is alive
 *
 * An event says only what changed and when: read the case (or the dead letter) for the rest. The stream
 * starts empty (no replay): load the page, then follow the stream.
 */
export { UpdatesPaths } from './paths.ts';

export const UpdateEvents = { case: 'case', deadLetter: 'dead-letter' } as const;

export const CaseUpdate = z.object({ resignationId: Uuid, status: CaseStatus, updatedAt: IsoDateTime }).meta({ id: 'CaseUpdate' });
export type CaseUpdate = z.infer<typeof CaseUpdate>;

export const DeadLetterUpdate = z
  .object({ id: z.string(), subscriber: z.string(), eventType: z.string().nullable(), reason: z.string(), deadAt: z.string() })
  .meta({ id: 'DeadLetterUpdate' });
export type DeadLetterUpdate = z.infer<typeof DeadLetterUpdate>;

/** The stream refuses more than this many open streams of one person or service (429). */
export const MAX_UPDATE_STREAMS_PER_IDENTITY = 5;
/** Seconds between heartbeats (a comment line). */
export const UPDATES_HEARTBEAT_SECONDS = 15;
