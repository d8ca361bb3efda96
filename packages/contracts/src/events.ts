import { z } from 'zod';
import { EmployeeId, IsoDate, IsoDateTime, Uuid } from './common.ts';

/**
 * The event contract of the choreographed flow. Every message on the bus is a CloudEvents 1.0
 * envelope (see `CloudEvent` below) whose `type` is one of these stable, versioned names and whose
 * `data` matches the schema registered for it. Events carry what happened — never what to do.
 *
 * A new version of an event is a new type name (…v2) published alongside the old one until every
 * subscriber has moved; a type name is never reused with another shape.
 */
export const EventTypes = {
  resignationSubmitted: 'com.ems.resignation.submitted.v1',
  managerNotified: 'com.ems.notification.manager-notified.v1',
  managerNotificationFailed: 'com.ems.notification.manager-notification-failed.v1',
  exitInterviewScheduled: 'com.ems.hr.exit-interview-scheduled.v1',
  exitInterviewSchedulingFailed: 'com.ems.hr.exit-interview-scheduling-failed.v1',
  criticalAccessSuspended: 'com.ems.access.critical-access-suspended.v1',
  criticalAccessSuspensionFailed: 'com.ems.access.critical-access-suspension-failed.v1',
} as const;
export type EventType = (typeof EventTypes)[keyof typeof EventTypes];

/** Where events come from: the `source` attribute (a URI reference) of each service's events. */
export const EventSources = {
  ems: '/ems/ems',
  notification: '/ems/notification',
  hr: '/ems/hr',
  access: '/ems/access',
} as const;

const Person = z.object({ id: EmployeeId, name: z.string().min(1).max(200), email: z.email() });

export const ResignationSubmitted = z
  .object({
    resignationId: Uuid,
    /** Who resigned and who their manager was when they did: facts of the submission. */
    employee: Person.extend({ timezone: z.string().min(1) }),
    manager: Person.nullable(),
    hrPartnerId: z.string().min(1),
    lastWorkingDay: IsoDate,
    reason: z.string().max(2000).nullable(),
    submittedAt: IsoDateTime,
  })
  .meta({ id: 'ResignationSubmitted', description: 'An employee resigned; EMS opened a case.' });

export const ManagerNotified = z
  .object({ resignationId: Uuid, emailId: Uuid, to: z.string(), messageId: z.string().nullable(), skipped: z.string().optional() })
  .meta({ id: 'ManagerNotified', description: "Notification delivered the resignation notice to the employee's manager (or there is no manager to tell)." });

export const ReactionFailed = z.object({
  resignationId: Uuid,
  reason: z.string().min(1).max(2000),
  /** The event the service was reacting to. */
  causationId: z.string().min(1),
});

export const ManagerNotificationFailed = ReactionFailed.meta({ id: 'ManagerNotificationFailed', description: 'Notification gave up telling the manager.' });

export const ExitInterviewScheduled = z
  .object({
    resignationId: Uuid,
    interviewId: Uuid,
    employeeId: EmployeeId,
    hrPartnerId: z.string(),
    start: IsoDateTime,
    end: IsoDateTime,
    timezone: z.string(),
  })
  .meta({ id: 'ExitInterviewScheduled', description: "HR booked the exit interview in the HR partner's calendar and sent the invites." });

export const ExitInterviewSchedulingFailed = ReactionFailed.meta({ id: 'ExitInterviewSchedulingFailed', description: 'HR could not book the exit interview (e.g. no free slot before the last working day).' });

export const CriticalAccessSuspended = z
  .object({
    resignationId: Uuid,
    employeeId: EmployeeId,
    holdId: Uuid,
    suspended: z.array(z.object({ grantId: z.string(), system: z.string() })),
  })
  .meta({ id: 'CriticalAccessSuspended', description: "Access put the employee's critical grants on hold (exactly those listed)." });

export const CriticalAccessSuspensionFailed = ReactionFailed.meta({ id: 'CriticalAccessSuspensionFailed', description: 'Access could not put the critical grants on hold.' });

/** type name → payload schema: the bus validates every event against this when publishing and receiving. */
export const EventSchemas = {
  [EventTypes.resignationSubmitted]: ResignationSubmitted,
  [EventTypes.managerNotified]: ManagerNotified,
  [EventTypes.managerNotificationFailed]: ManagerNotificationFailed,
  [EventTypes.exitInterviewScheduled]: ExitInterviewScheduled,
  [EventTypes.exitInterviewSchedulingFailed]: ExitInterviewSchedulingFailed,
  [EventTypes.criticalAccessSuspended]: CriticalAccessSuspended,
  [EventTypes.criticalAccessSuspensionFailed]: CriticalAccessSuspensionFailed,
} as const satisfies Record<EventType, z.ZodType>;

export type EventData<T extends EventType> = z.infer<(typeof EventSchemas)[T]>;

/** The CloudEvents 1.0 envelope (JSON format), with our two extension attributes. */
export const CloudEvent = z
  .object({
    specversion: z.literal('1.0'),
    id: z.string().min(1).max(200),
    source: z.string().min(1).max(500),
    type: z.string().min(1).max(200).regex(/^[a-z0-9.-]+\.v\d+$/, 'must be a versioned type name like com.ems.x.y.v1'),
    subject: z.string().min(1).max(200),
    time: IsoDateTime,
    datacontenttype: z.literal('application/json'),
    /** Extension: ties every event of one case together (the resignation's correlation id). */
    correlationid: z.string().min(1).max(200),
    /** Extension: W3C trace context of the work that produced the event. */
    traceparent: z.string().regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/, 'must be a W3C traceparent'),
    data: z.unknown(),
  })
  .meta({ id: 'CloudEvent' });
export type CloudEvent<D = unknown> = Omit<z.infer<typeof CloudEvent>, 'data'> & { data: D };
