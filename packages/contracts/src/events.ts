import { z } from 'zod';
import { EmployeeId, IsoDate, IsoDateTime, Storable, Uuid } from './common.ts';
import { ExitReason } from './ems.ts';

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

  // The decision lifecycle (after the three first reactions).
  resignationRetained: 'com.ems.resignation.retained.v1',
  resignationWithdrawn: 'com.ems.resignation.withdrawn.v1',
  exitConfirmed: 'com.ems.resignation.exit-confirmed.v1',
  decisionAnnounced: 'com.ems.notification.decision-announced.v1',
  decisionAnnouncementFailed: 'com.ems.notification.decision-announcement-failed.v1',
  exitInterviewHeld: 'com.ems.hr.exit-interview-held.v1',
  exitInterviewCancelled: 'com.ems.hr.exit-interview-cancelled.v1',
  exitInterviewCancellationFailed: 'com.ems.hr.exit-interview-cancellation-failed.v1',
  followUpSent: 'com.ems.hr.follow-up-sent.v1',
  followUpSkipped: 'com.ems.hr.follow-up-skipped.v1',
  accessRestored: 'com.ems.access.access-restored.v1',
  accessRestorationFailed: 'com.ems.access.access-restoration-failed.v1',
  accessRevocationScheduled: 'com.ems.access.access-revocation-scheduled.v1',
  accessRevoked: 'com.ems.access.access-revoked.v1',
  accessRevocationFailed: 'com.ems.access.access-revocation-failed.v1',

  // Connected systems (Access's connectors) and drift: published in both modes, about one system each.
  systemAccessChanged: 'com.ems.access.system-access-changed.v1',
  systemAccessChangeFailed: 'com.ems.access.system-access-change-failed.v1',
  accessDriftDetected: 'com.ems.access.access-drift-detected.v1',

  // The directory (owned by Identity: CSV import and SCIM write it), published in both modes.
  personChanged: 'com.ems.identity.person-changed.v1',

  // Involuntary and mass exits (a batch of one or many, in chunks of at most 500 people). Choreography:
  // EMS publishes involuntaryExitsStarted per chunk; Access reacts with exitAccessSuspended; Notification
  // reacts to that with exitNoticesSent. Orchestration calls the same use cases as commands and publishes none.
  involuntaryExitsStarted: 'com.ems.exit.involuntary-exits-started.v1',
  exitAccessSuspended: 'com.ems.access.exit-access-suspended.v1',
  exitNoticesSent: 'com.ems.notification.exit-notices-sent.v1',
} as const;
export type EventType = (typeof EventTypes)[keyof typeof EventTypes];

/** Where events come from: the `source` attribute (a URI reference) of each service's events. */
export const EventSources = {
  ems: '/ems/ems',
  notification: '/ems/notification',
  hr: '/ems/hr',
  access: '/ems/access',
  identity: '/ems/identity',
} as const;

const Person = z.object({ id: EmployeeId, name: Storable.min(1).max(200), email: z.email() });

export const ResignationSubmitted = z
  .object({
    resignationId: Uuid,
    /** Who resigned and who their manager was when they did: facts of the submission. */
    employee: Person.extend({ timezone: Storable.min(1) }),
    manager: Person.nullable(),
    hrPartnerId: Storable.min(1),
    lastWorkingDay: IsoDate,
    reason: Storable.max(2000).nullable(),
    submittedAt: IsoDateTime,
  })
  .meta({ id: 'ResignationSubmitted', description: 'An employee resigned; EMS opened a case.' });

export const ManagerNotified = z
  .object({ resignationId: Uuid, emailId: Uuid, to: Storable, messageId: Storable.nullable(), skipped: Storable.optional() })
  .meta({ id: 'ManagerNotified', description: "Notification delivered the resignation notice to the employee's manager (or there is no manager to tell)." });

export const ReactionFailed = z.object({
  resignationId: Uuid,
  reason: Storable.min(1).max(2000),
  /** The event the service was reacting to. */
  causationId: Storable.min(1),
});

export const ManagerNotificationFailed = ReactionFailed.meta({ id: 'ManagerNotificationFailed', description: 'Notification gave up telling the manager.' });

/**
 * An interview invite HR did not send because Notification would refuse it (e.g. an address over its 254
 * characters): the interview stands, the other person's invite goes, this one is never retried. `reason` names the
 * address and Notification's rule. One definition for HR's answer (hr.Interview) and exit-interview-scheduled; no
 * registered id, so the AsyncAPI document inlines it (asyncapi.ts resolves only a payload's own top-level $ref).
 */
export const InviteNotSent = z.object({ to: z.enum(['employee', 'hrPartner']), reason: Storable.min(1).max(2000) });
export type InviteNotSent = z.infer<typeof InviteNotSent>;

export const ExitInterviewScheduled = z
  .object({
    resignationId: Uuid,
    interviewId: Uuid,
    employeeId: EmployeeId,
    hrPartnerId: Storable,
    start: IsoDateTime,
    end: IsoDateTime,
    timezone: Storable,
    /** The invites not sent (see InviteNotSent); absent when both went, and in events published before it existed. */
    invitesNotSent: z.array(InviteNotSent).max(2).optional(),
  })
  .meta({ id: 'ExitInterviewScheduled', description: "HR booked the exit interview in the HR partner's calendar and sent the invites (invitesNotSent: any it could not send)." });

export const ExitInterviewSchedulingFailed = ReactionFailed.meta({ id: 'ExitInterviewSchedulingFailed', description: 'HR could not book the exit interview (e.g. no free slot before the last working day).' });

export const CriticalAccessSuspended = z
  .object({
    resignationId: Uuid,
    employeeId: EmployeeId,
    holdId: Uuid,
    suspended: z.array(z.object({ grantId: Storable, system: Storable })),
  })
  .meta({ id: 'CriticalAccessSuspended', description: "Access put the employee's critical grants on hold (exactly those listed)." });

export const CriticalAccessSuspensionFailed = ReactionFailed.meta({ id: 'CriticalAccessSuspensionFailed', description: 'Access could not put the critical grants on hold.' });

// ── The decision lifecycle ─────────────────────────────────────────────────────────────────────────

export const Decision = z.enum(['retained', 'withdrawn', 'exit_confirmed']);

const Decided = z.object({
  resignationId: Uuid,
  employee: Person.extend({ timezone: Storable.min(1) }),
  manager: Person.nullable(),
  hrPartnerId: Storable.min(1),
  /** When the decision (or withdrawal) was recorded. */
  decidedAt: IsoDateTime,
  note: Storable.max(2000).nullable(),
  /** Who decided (or withdrew): the access audit records the reactions on their behalf. */
  decidedBy: z
    .object({ id: Storable.max(200), kind: z.enum(['person', 'service']), name: Storable.max(200).nullable(), role: Storable.max(50), client: Storable.max(200) })
    .nullish(),
});

export const ResignationRetained = Decided.meta({
  id: 'ResignationRetained',
  description: 'HR decided to retain the employee: the resignation is off, the hold on their access must be lifted and the interview (if not held) cancelled.',
});

export const ResignationWithdrawn = Decided.meta({
  id: 'ResignationWithdrawn',
  description: 'The employee withdrew the resignation before a decision: the same consequences as retained.',
});

export const ExitConfirmed = Decided.extend({
  lastWorkingDay: IsoDate,
  /** The instant every remaining grant is to be revoked: the end of the last working day in the employee's time zone. */
  revokeAt: IsoDateTime,
  /** 1 for the first confirmation; each later confirmation that moves the last working day counts up. Consumers keep the highest. */
  revision: z.number().int().min(1),
}).meta({
  id: 'ExitConfirmed',
  description: 'HR confirmed the exit with the final last working day (published again, with a higher revision, when the day moves).',
});

export const DecisionAnnounced = z
  .object({
    resignationId: Uuid,
    decision: Decision,
    /** The exit-confirmed revision announced (1 for retained / withdrawn). */
    revision: z.number().int().min(1),
    emailIds: z.array(Uuid),
    recipients: z.array(Storable),
  })
  .meta({ id: 'DecisionAnnounced', description: 'Notification told the manager and the employee about the decision.' });

export const DecisionAnnouncementFailed = ReactionFailed.extend({
  /** Which announcement failed, when known (a dead-lettered, unreadable decision event has neither). */
  decision: Decision.optional(),
  revision: z.number().int().min(1).optional(),
}).meta({ id: 'DecisionAnnouncementFailed', description: 'Notification gave up telling manager and employee about the decision.' });

export const ExitInterviewHeld = z
  .object({ resignationId: Uuid, interviewId: Uuid, heldAt: IsoDateTime, hasNotes: z.boolean() })
  .meta({ id: 'ExitInterviewHeld', description: 'The HR partner marked the exit interview as held (the notes stay in HR).' });

export const ExitInterviewCancelled = z
  .object({
    resignationId: Uuid,
    /** null when there was no interview to cancel. */
    interviewId: Uuid.nullable(),
    /** Set when nothing was cancelled: 'no interview', 'already held', 'already cancelled'. */
    skipped: Storable.optional(),
    reason: Storable.max(500),
  })
  .meta({ id: 'ExitInterviewCancelled', description: 'HR cancelled the exit interview (cancellation invites sent), or found nothing to cancel.' });

export const ExitInterviewCancellationFailed = ReactionFailed.meta({ id: 'ExitInterviewCancellationFailed', description: 'HR could not cancel the exit interview.' });

export const FollowUpMilestone = z.enum(['interview_scheduled', 'interview_held', 'decision']);
export const FollowUpLevel = z.enum(['reminder', 'escalation']);

export const FollowUpSent = z
  .object({
    resignationId: Uuid,
    milestone: FollowUpMilestone,
    level: FollowUpLevel,
    /** The instant the milestone was due (reminder) or the reminder went unanswered (escalation). */
    dueAt: IsoDateTime,
    to: Storable,
    emailId: Uuid,
  })
  .meta({ id: 'FollowUpSent', description: 'A deadline passed unmet: HR reminded the HR partner, or escalated to the HR lead (once each).' });

export const FollowUpSkipped = z
  .object({
    resignationId: Uuid,
    milestone: FollowUpMilestone,
    level: FollowUpLevel,
    /** The instant the milestone was due (reminder) or the reminder went unanswered (escalation). */
    dueAt: IsoDateTime,
    /** Why no email went out: nobody to send it to (no HR lead, a partner not in HR's directory), or Notification refused it. */
    reason: Storable.min(1).max(2000),
  })
  .meta({ id: 'FollowUpSkipped', description: 'A deadline passed unmet, but HR sent no reminder or escalation (nobody to send it to, or Notification refused it); recorded once, the case moves on to its next follow-up.' });

const GrantRef = z.object({ grantId: Storable, system: Storable });

export const AccessRestored = z
  .object({
    resignationId: Uuid,
    employeeId: EmployeeId,
    /** null when there was no hold (e.g. it was never created). */
    holdId: Uuid.nullable(),
    /** Exactly the grants the hold had suspended and that were still suspended by it. */
    restored: z.array(GrantRef),
    /** Grants of the hold not restored, because they changed since for another reason. */
    skipped: z.array(GrantRef.extend({ reason: Storable })),
  })
  .meta({ id: 'AccessRestored', description: "Access lifted the hold: the grants it suspended are active again." });

export const AccessRestorationFailed = ReactionFailed.meta({ id: 'AccessRestorationFailed', description: 'Access could not lift the hold.' });

export const AccessRevocationScheduled = z
  .object({ resignationId: Uuid, employeeId: EmployeeId, revokeAt: IsoDateTime, revision: z.number().int().min(1) })
  .meta({ id: 'AccessRevocationScheduled', description: "Access will revoke every remaining grant at revokeAt (its own durable timer); a later revision moves it." });

export const AccessRevoked = z
  .object({ resignationId: Uuid, employeeId: EmployeeId, revokedAt: IsoDateTime, revoked: z.array(GrantRef) })
  .meta({ id: 'AccessRevoked', description: 'Access revoked every remaining grant of the employee (the exit is complete).' });

export const AccessRevocationFailed = ReactionFailed.meta({ id: 'AccessRevocationFailed', description: 'Access could not revoke the remaining grants.' });

// ── Connected systems and drift ────────────────────────────────────────────────────────────────────

/** What Access asks a connected system to do: suspend (hold), restore (hold lifted), revoke (exit done). */
export const SystemChangeAction = z.enum(['suspend', 'restore', 'revoke']);

const SystemChange = z.object({
  /** The connector task's id: one per system per change, the system's idempotency key. */
  changeId: Uuid,
  /** The case it belongs to (null for a change made outside a case, e.g. by an administrator). */
  resignationId: Uuid.nullable(),
  employeeId: EmployeeId,
  systemId: Storable.min(1).max(100),
  /** The connector type that made it: builtin, ldap, scim or http. */
  connector: z.enum(['builtin', 'ldap', 'scim', 'http']),
  action: SystemChangeAction,
  /** The system's own names of what was taken away or given back (group DNs, SCIM group ids, roles). */
  entitlements: z.array(Storable.max(500)).max(1000),
  /** Attempts made, this one included. */
  attempts: z.number().int().min(1),
});

export const SystemAccessChanged = SystemChange.extend({
  /** How the connector checked it, in words ("bind as uid=ada refused: account locked"). */
  verification: Storable.min(1).max(1000),
  changedAt: IsoDateTime,
}).meta({ id: 'SystemAccessChanged', description: 'A connected system made the change Access asked for, and the connector verified it.' });

export const SystemAccessChangeFailed = SystemChange.extend({
  /** The system's own error, as it gave it (credentials never included). */
  error: Storable.min(1).max(2000),
  /** true: Access tries again at retryAt; false: it gave up (permanent error or attempts exhausted). */
  willRetry: z.boolean(),
  retryAt: IsoDateTime.nullable(),
  failedAt: IsoDateTime,
}).meta({ id: 'SystemAccessChangeFailed', description: 'A connected system refused or could not be reached for a change; the other systems are not held up.' });

export const DriftKind = z.enum([
  /** The account was enabled again (unlocked, active) while a hold or a revocation says it must not be. */
  'account_enabled',
  /** An entitlement (group membership) is present in the system that EMS suspended or revoked, or never granted, during a hold or after a revocation. */
  'entitlement_added',
  /** An entitlement EMS believes active is missing from the system (taken away outside EMS). */
  'entitlement_missing',
]);

export const AccessDriftDetected = z
  .object({
    driftId: Uuid,
    employeeId: EmployeeId,
    systemId: Storable.min(1).max(100),
    kind: DriftKind,
    /** The entitlement concerned (for the entitlement kinds). */
    entitlement: Storable.max(500).nullable(),
    /** The open case whose hold or revocation the drift contradicts, if any. */
    resignationId: Uuid.nullable(),
    /** In words: what EMS expected and what the system showed. */
    detail: Storable.min(1).max(2000),
    detectedAt: IsoDateTime,
  })
  .meta({ id: 'AccessDriftDetected', description: "A reconciliation found a connected system differing from what Access believes (e.g. an account re-enabled during a hold)." });

// ── The directory ──────────────────────────────────────────────────────────────────────────────────

export const AdminRole = z.enum(['hr_lead', 'access_admin', 'operator']);

/** One person of the directory as every service may hold part of it: the full record, never a delta. */
export const DirectoryPerson = z.object({
  id: EmployeeId,
  name: Storable.min(1).max(200),
  email: z.email().max(320),
  title: Storable.max(200).nullable(),
  department: Storable.max(200).nullable(),
  location: Storable.max(200).nullable(),
  /** IANA time zone. */
  timezone: Storable.min(1).max(64),
  workingHours: z.object({
    /** ISO weekdays, 1 = Monday … 7 = Sunday. */
    days: z.array(z.number().int().min(1).max(7)).min(1).max(7),
    start: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/),
    end: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/),
  }),
  managerId: EmployeeId.nullable(),
  hrPartnerId: EmployeeId.nullable(),
  /** Administrative roles (relationship roles follow from managerId / hrPartnerId). */
  roles: z.array(AdminRole).max(3),
  /** false: deactivated (SCIM active=false, or left out of a full import); kept, never deleted. */
  active: z.boolean(),
});

export const PersonChanged = z
  .object({
    person: DirectoryPerson,
    /** Counts up with every change of this person; consumers apply a snapshot only over an older one. */
    version: z.number().int().min(1),
    /** What the person's record said before (null: the person is new). */
    previous: z.object({ managerId: EmployeeId.nullable(), hrPartnerId: EmployeeId.nullable(), active: z.boolean() }).nullable(),
    /** Where the change came from. */
    origin: z.enum(['import', 'scim', 'seed']),
    changedAt: IsoDateTime,
  })
  .meta({ id: 'PersonChanged', description: 'The directory added or changed a person (the full record, with a version).' });

// ── Involuntary and mass exits ─────────────────────────────────────────────────────────────────────

/** At most this many people per chunk (per event, per command call). */
export const EXIT_CHUNK_SIZE = 500;

/** One person of a chunk: their case and what Access and Notification need to act without asking EMS. */
export const ExitPerson = z.object({
  resignationId: Uuid,
  employeeId: EmployeeId,
  employeeName: Storable.min(1).max(200),
  employeeEmail: z.email().max(320),
  managerId: EmployeeId.nullable(),
  managerName: Storable.min(1).max(200).nullable(),
  managerEmail: z.email().max(320).nullable(),
  /** IANA time zone of the employee. */
  timezone: Storable.min(1).max(64),
  lastWorkingDay: IsoDate,
  /** When every grant of this person is to be revoked (the batch's revokeAt, or the end of today in their zone). */
  revokeAt: IsoDateTime,
});
export type ExitPerson = z.infer<typeof ExitPerson>;

export const InvoluntaryExitsStarted = z
  .object({
    batchId: Uuid,
    /** 1-based; `chunks` in all. Each chunk is handled (and deduplicated) on its own: key (batchId, chunk). */
    chunk: z.number().int().min(1),
    chunks: z.number().int().min(1),
    /** The batch's revokeAt when HR gave one (each person carries their own in `exits`); null: end of today per person. */
    revokeAt: IsoDateTime.nullable(),
    reason: ExitReason,
    exits: z.array(ExitPerson).min(1).max(EXIT_CHUNK_SIZE),
  })
  .meta({
    id: 'InvoluntaryExitsStarted',
    description: 'HR started involuntary exits (one person, or a chunk of a mass exit): EMS opened a case for each. Every grant of each is to be suspended at once, then manager and employee told.',
  });

export const ExitAccessSuspended = z
  .object({
    batchId: Uuid,
    chunk: z.number().int().min(1),
    /** Every grant of each person listed is suspended (critical first), and their revocation scheduled at their revokeAt, in one transaction. */
    suspended: z.array(
      z.object({
        resignationId: Uuid,
        employeeId: EmployeeId,
        holdId: Uuid,
        /** How many grants the hold suspended (0: the person had none active). */
        grants: z.number().int().min(0),
        /** The revocation scheduled at the person's revokeAt (its accessRevoked comes later, per case, as for resignations). */
        revocationId: Uuid,
        revokeAt: IsoDateTime,
      }),
    ),
    failed: z.array(z.object({ resignationId: Uuid, employeeId: EmployeeId, reason: Storable.min(1).max(2000) })),
  })
  .meta({ id: 'ExitAccessSuspended', description: "Access suspended every grant of the chunk's people (those listed as suspended) and scheduled their revocation." });

export const ExitNoticesSent = z
  .object({
    batchId: Uuid,
    chunk: z.number().int().min(1),
    /** Sent (or queued in Notification's outbox, past which delivery is Notification's own retry) after access was suspended. */
    sent: z.array(z.object({ resignationId: Uuid, managerTold: z.boolean(), employeeTold: z.boolean() })),
    failed: z.array(z.object({ resignationId: Uuid, reason: Storable.min(1).max(2000) })),
  })
  .meta({ id: 'ExitNoticesSent', description: 'Notification told the manager (if any) and the employee of each listed exit, after their access was suspended.' });

/** type name → payload schema: the bus validates every event against this when publishing and receiving. */
export const EventSchemas = {
  [EventTypes.resignationSubmitted]: ResignationSubmitted,
  [EventTypes.managerNotified]: ManagerNotified,
  [EventTypes.managerNotificationFailed]: ManagerNotificationFailed,
  [EventTypes.exitInterviewScheduled]: ExitInterviewScheduled,
  [EventTypes.exitInterviewSchedulingFailed]: ExitInterviewSchedulingFailed,
  [EventTypes.criticalAccessSuspended]: CriticalAccessSuspended,
  [EventTypes.criticalAccessSuspensionFailed]: CriticalAccessSuspensionFailed,
  [EventTypes.resignationRetained]: ResignationRetained,
  [EventTypes.resignationWithdrawn]: ResignationWithdrawn,
  [EventTypes.exitConfirmed]: ExitConfirmed,
  [EventTypes.decisionAnnounced]: DecisionAnnounced,
  [EventTypes.decisionAnnouncementFailed]: DecisionAnnouncementFailed,
  [EventTypes.exitInterviewHeld]: ExitInterviewHeld,
  [EventTypes.exitInterviewCancelled]: ExitInterviewCancelled,
  [EventTypes.exitInterviewCancellationFailed]: ExitInterviewCancellationFailed,
  [EventTypes.followUpSent]: FollowUpSent,
  [EventTypes.followUpSkipped]: FollowUpSkipped,
  [EventTypes.accessRestored]: AccessRestored,
  [EventTypes.accessRestorationFailed]: AccessRestorationFailed,
  [EventTypes.accessRevocationScheduled]: AccessRevocationScheduled,
  [EventTypes.accessRevoked]: AccessRevoked,
  [EventTypes.accessRevocationFailed]: AccessRevocationFailed,
  [EventTypes.systemAccessChanged]: SystemAccessChanged,
  [EventTypes.systemAccessChangeFailed]: SystemAccessChangeFailed,
  [EventTypes.accessDriftDetected]: AccessDriftDetected,
  [EventTypes.personChanged]: PersonChanged,
  [EventTypes.involuntaryExitsStarted]: InvoluntaryExitsStarted,
  [EventTypes.exitAccessSuspended]: ExitAccessSuspended,
  [EventTypes.exitNoticesSent]: ExitNoticesSent,
} as const satisfies Record<EventType, z.ZodType>;

export type EventData<T extends EventType> = z.infer<(typeof EventSchemas)[T]>;

/** The CloudEvents 1.0 envelope (JSON format), with our two extension attributes. */
export const CloudEvent = z
  .object({
    specversion: z.literal('1.0'),
    id: Storable.min(1).max(200),
    source: Storable.min(1).max(500),
    type: Storable.min(1).max(200).regex(/^[a-z0-9.-]+\.v\d+$/, 'must be a versioned type name like com.ems.x.y.v1'),
    subject: Storable.min(1).max(200),
    time: IsoDateTime,
    datacontenttype: z.literal('application/json'),
    /** Extension: ties every event of one case together (the resignation's correlation id). */
    correlationid: Storable.min(1).max(200),
    /** Extension: W3C trace context of the work that produced the event. */
    traceparent: Storable.regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/, 'must be a W3C traceparent'),
    data: z.unknown(),
  })
  .meta({ id: 'CloudEvent' });
export type CloudEvent<D = unknown> = Omit<z.infer<typeof CloudEvent>, 'data'> & { data: D };
