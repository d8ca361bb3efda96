import { callJson, preferWait, ServiceCallError, type Actor, type CallAuth, type CallOptions, type HttpTransport } from '@ems/platform';
import { access, hr, notification } from '@ems/contracts';
import type { z } from 'zod';

/**
 * The orchestrator knows its participants only through their published HTTP contracts
 * (@ems/contracts): it imports schemas and types, never a service's implementation.
 */
export interface ParticipantUrls {
  notification: string;
  hr: string;
  access: string;
}

export interface CallContext {
  correlationId: string;
  idempotencyKey: string;
  /** The case's trace context: the services continue it in the events they publish. */
  traceparent?: string | null | undefined;
  /** The person whose decision this call carries out (the access audit records it). */
  onBehalfOf?: Actor | null | undefined;
}

function headers(ctx: CallContext): Record<string, string> {
  return {
    'x-correlation-id': ctx.correlationId,
    ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}),
    ...(ctx.onBehalfOf ? { [access.ON_BEHALF_OF_HEADER]: Buffer.from(JSON.stringify(ctx.onBehalfOf)).toString('base64url') } : {}),
  };
}

/** A reply that does not match the contract is a defect on the other side: not worth retrying. */
function parseReply<S extends z.ZodType>(schema: S, body: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(body);
  if (!result.success) throw new ServiceCallError(`${what}: reply does not match the contract: ${result.error.message}`, undefined, false);
  return result.data;
}

/**
 * How long a step asks Notification to wait for an email's delivery (`Prefer: wait`). A step is done
 * when its email is delivered: one long request answers that, where short ones had the step retry
 * with backoff (measured in a burst of 1,000: ~40 statements per case for re-asking, and the manager
 * notice p50 at 33 s while access was suspended at 2.7 s). A failed SMTP attempt still answers at once.
 */
export const EMAIL_WAIT_S = 20;

/**
 * Calls in flight to each participant at most (from this process); the rest wait their turn, inside
 * their step. Why: a burst runs every case's steps at once, and in the embedded default the participants
 * answer on EMS's own HTTP server and event loop — thousands of internal calls in flight left a new
 * POST /api/resignations waiting 20 s and more behind them at an overload (some clients timing out
 * before being accepted). Per participant, so that cheap calls (the access hold) never queue behind
 * slow ones (an email waiting for SMTP).
 */
export const CALLS_IN_FLIGHT_PER_PARTICIPANT = 16;

/** A chunk of involuntary exits (≤500 people) is one call: given longer than one case's call. */
export const EXIT_CHUNK_TIMEOUT_MS = 120_000;

/**
 * Calls in flight to each other participant at most while any call suspending access (a case's hold, an exit
 * chunk's suspension) is queued or in flight: a quarter of the limit. Why: in a burst the hold waited for its
 * turn behind the notices and interviews of the cases before it — on the same event loop, pools and database —
 * and its wait grew with the burst (p99 8–10 s at 2,000 where its own calls take milliseconds). Critical
 * access is suspended first: the others go on, fewer at a time, and at full width once no hold waits.
 */
const OTHER_CALLS_WHILE_SUSPENDING = (inFlight: number) => Math.max(1, Math.floor(inFlight / 4));

/** At most `capacity()` calls at once, in arrival order; `pump` lets waiting calls in after the capacity grew. */
function limiter(capacity: () => number): { run: <T>(fn: () => Promise<T>) => Promise<T>; pump: () => void } {
  let active = 0;
  const waiting: (() => void)[] = [];
  const pump = () => {
    while (waiting.length > 0 && active < capacity()) {
      active++;
      waiting.shift()!();
    }
  };
  return {
    async run(fn) {
      if (waiting.length === 0 && active < capacity()) active++;
      // Let in by pump(): `active` already counts this call.
      else await new Promise<void>((resolve) => waiting.push(resolve));
      try {
        return await fn();
      } finally {
        active--;
        pump();
      }
    },
    pump,
  };
}

/**
 * Calls suspending access in flight at most (apart from Access's other calls): more than the others, as Access
 * writes the holds that arrive together in one transaction (its holds-together), so more calls in flight
 * means larger transactions, not more of them. With 16, in a burst of 2,000 the holds queued here for their
 * turn (p50 8.3 s) while each call took 0.2 s.
 */
export const SUSPENDING_CALLS_IN_FLIGHT = 128;

export interface ParticipantCallOptions {
  /** Calls in flight to each participant at most (CALLS_IN_FLIGHT_PER_PARTICIPANT). */
  inFlight?: number;
  /** Calls suspending access in flight at most (SUSPENDING_CALLS_IN_FLIGHT). */
  suspendingInFlight?: number;
  /** How the calls reach the participants (default over the network; the embedded default: platform's injectTransport). */
  transport?: HttpTransport;
}

export function createParticipants(urls: () => ParticipantUrls, auth: CallAuth, options: ParticipantCallOptions = {}) {
  const { inFlight = CALLS_IN_FLIGHT_PER_PARTICIPANT, suspendingInFlight = SUSPENDING_CALLS_IN_FLIGHT, transport } = options;
  const call = <T = unknown>(url: string, o: CallOptions) => callJson<T>(url, transport ? { ...o, transport } : o);
  // Calls suspending access, queued or in flight: while there are any, the other participants get fewer calls.
  let suspending = 0;
  const others = OTHER_CALLS_WHILE_SUSPENDING(inFlight);
  const limiters = {
    notification: limiter(() => (suspending > 0 ? others : inFlight)),
    hr: limiter(() => (suspending > 0 ? others : inFlight)),
    access: limiter(() => inFlight),
    suspending: limiter(() => suspendingInFlight),
  };
  // Each call carries the orchestrator's service token for that participant (fetched inside the call's turn).
  const limitedAs = (turn: keyof typeof limiters, target: 'notification' | 'hr' | 'access') => {
    const limit = limiters[turn];
    return <T>(fn: (credentials: Record<string, string>) => Promise<T>) => limit.run(async () => fn(await auth(target)));
  };
  const limited = (target: 'notification' | 'hr' | 'access') => limitedAs(target, target);
  /** A call suspending access: counted from when it is asked for until it has answered. */
  const suspendingCall = async <T>(fn: (credentials: Record<string, string>) => Promise<T>): Promise<T> => {
    suspending++;
    try {
      return await limitedAs('suspending', 'access')(fn);
    } finally {
      if (--suspending === 0) {
        limiters.notification.pump();
        limiters.hr.pump();
      }
    }
  };
  const toNotification = limited('notification');
  const toHr = limited('hr');
  const toAccess = limited('access');
  return {
    /** Notification's command: tell the manager (its use case builds the notice). Waits for the delivery (Prefer: wait). */
    async notifyManager(request: notification.NotifyManagerRequest, ctx: CallContext): Promise<notification.ManagerNoticeOutcome> {
      const body = await toNotification((auth) => call(`${urls().notification}${notification.NotificationPaths.managerNotices}`, {
        body: request,
        idempotencyKey: ctx.idempotencyKey,
        headers: { ...headers(ctx), ...auth, prefer: preferWait(EMAIL_WAIT_S) },
        timeoutMs: (EMAIL_WAIT_S + 10) * 1000,
      }));
      return parseReply(notification.ManagerNoticeOutcome, body, 'notification');
    },
    /** Notification's command: tell the manager and the employee how the case was decided. Waits for the deliveries. */
    async announceDecision(request: notification.AnnounceDecisionRequest, ctx: CallContext): Promise<notification.DecisionAnnouncementOutcome> {
      const body = await toNotification((auth) => call(`${urls().notification}${notification.NotificationPaths.decisionAnnouncements}`, {
        body: request,
        idempotencyKey: ctx.idempotencyKey,
        headers: { ...headers(ctx), ...auth, prefer: preferWait(EMAIL_WAIT_S) },
        timeoutMs: (EMAIL_WAIT_S + 10) * 1000,
      }));
      return parseReply(notification.DecisionAnnouncementOutcome, body, 'notification');
    },
    async scheduleInterview(request: hr.ScheduleInterviewRequest, ctx: CallContext): Promise<hr.Interview> {
      const body = await toHr((auth) => call(`${urls().hr}${hr.HrPaths.interviews}`, { body: request, idempotencyKey: ctx.idempotencyKey, headers: { ...headers(ctx), ...auth } }));
      return parseReply(hr.Interview, body, 'hr');
    },
    async suspendAccess(request: access.SuspendAccessRequest, ctx: CallContext): Promise<access.AccessHold> {
      const body = await suspendingCall((auth) => call(`${urls().access}${access.AccessPaths.holds}`, { body: request, idempotencyKey: ctx.idempotencyKey, headers: { ...headers(ctx), ...auth } }));
      return parseReply(access.AccessHold, body, 'access');
    },
    async cancelInterview(interviewId: string, request: hr.CancelInterviewRequest, ctx: CallContext): Promise<hr.Interview> {
      const body = await toHr((auth) => call(`${urls().hr}${hr.HrPaths.cancel(interviewId)}`, { body: request, idempotencyKey: ctx.idempotencyKey, headers: { ...headers(ctx), ...auth } }));
      return parseReply(hr.Interview, body, 'hr');
    },
    /** HR's command for a retained or withdrawn case: its use case cancels the interview still scheduled, or says why not. */
    async cancelInterviewOnClose(request: hr.CaseClosureRequest, ctx: CallContext): Promise<hr.CaseClosure> {
      const body = await toHr((auth) => call(`${urls().hr}${hr.HrPaths.caseClosures}`, { body: request, idempotencyKey: ctx.idempotencyKey, headers: { ...headers(ctx), ...auth } }));
      return parseReply(hr.CaseClosure, body, 'hr');
    },
    /** HR's command for a follow-up whose deadline passed: its use case sends it if still due with HR's facts, or says why not. */
    async followUp(request: hr.FollowUpRequest, ctx: CallContext): Promise<hr.FollowUpAnswer> {
      const body = await toHr((auth) => call(`${urls().hr}${hr.HrPaths.followUps}`, { body: request, idempotencyKey: ctx.idempotencyKey, headers: { ...headers(ctx), ...auth } }));
      return parseReply(hr.FollowUpAnswer, body, 'hr');
    },
    async hrPartner(id: string, ctx: Omit<CallContext, 'idempotencyKey'>): Promise<hr.HrPartner> {
      const body = await toHr((auth) => call(`${urls().hr}${hr.HrPaths.hrPartner(id)}`, { headers: { ...headers({ ...ctx, idempotencyKey: '' }), ...auth } }));
      return parseReply(hr.HrPartner, body, 'hr');
    },
    /** Involuntary exits: every grant of a chunk's people suspended (idempotent by batch and chunk). */
    async suspendAccessForExit(request: access.SuspendAccessForExitRequest, ctx: CallContext): Promise<access.SuspendAccessForExitAnswer> {
      const body = await suspendingCall((auth) => call(`${urls().access}${access.AccessPaths.exitSuspensions}`, { body: request, idempotencyKey: ctx.idempotencyKey, headers: { ...headers(ctx), ...auth }, timeoutMs: EXIT_CHUNK_TIMEOUT_MS }));
      return parseReply(access.SuspendAccessForExitAnswer, body, 'access');
    },
    /** Involuntary exits: a chunk's managers and employees told, after their access was suspended. */
    async sendExitNotices(request: notification.SendExitNoticesRequest, ctx: CallContext): Promise<notification.SendExitNoticesAnswer> {
      const body = await toNotification((auth) => call(`${urls().notification}${notification.NotificationPaths.exitNotices}`, { body: request, idempotencyKey: ctx.idempotencyKey, headers: { ...headers(ctx), ...auth }, timeoutMs: EXIT_CHUNK_TIMEOUT_MS }));
      return parseReply(notification.SendExitNoticesAnswer, body, 'notification');
    },
    /** Access's command for a closed case: its use case lifts the case's hold, or records that it has none. */
    async restoreAccess(request: access.RestoreAccessRequest, ctx: CallContext): Promise<access.HoldLifted> {
      const body = await toAccess((auth) => call(`${urls().access}${access.AccessPaths.lifts}`, { body: request, idempotencyKey: ctx.idempotencyKey, headers: { ...headers(ctx), ...auth } }));
      return parseReply(access.HoldLifted, body, 'access');
    },
    async revokeAccess(request: access.RevocationRequest, ctx: CallContext): Promise<access.Revocation> {
      const body = await toAccess((auth) => call(`${urls().access}${access.AccessPaths.revocations}`, { body: request, idempotencyKey: ctx.idempotencyKey, headers: { ...headers(ctx), ...auth } }));
      return parseReply(access.Revocation, body, 'access');
    },
  };
}

export type Participants = ReturnType<typeof createParticipants>;
