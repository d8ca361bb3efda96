import { z } from 'zod';
import { EmployeeId, IdempotencyKey, IsoDate, IsoDateTime, ListOf, PageQuery, StorableLine, StorableText, Uuid } from './common.ts';
import { ExitReason } from './ems.ts';
import { EXIT_CHUNK_SIZE, ExitNoticesSent, ExitPerson } from './events.ts';

/**
 * Notification service API. It renders a named template with the data it is given and delivers it over
 * SMTP, once per (resignationId, purpose, recipient). Templates, purposes and their data are typed here.
 */
export const EmailTemplate = z.enum([
  /** To the manager: an employee of theirs resigned. data: ManagerNoticeData; purpose ManagerNoticePurpose */
  'resignation-manager-notice',
  /** Calendar invite (ICS attached) for the exit interview. data: InterviewInviteData; purpose InterviewInvitePurpose */
  'exit-interview-invite',
  /** Calendar cancellation (ICS METHOD:CANCEL attached). data: InterviewInviteData; purpose InterviewCancelledPurpose */
  'exit-interview-cancelled',
  /** To the manager or the employee: the resignation was decided (retained / withdrawn / exit confirmed). data: DecisionNoticeData; purpose DecisionNoticePurpose */
  'resignation-decision-notice',
  /** To the HR partner (reminder) or the HR lead (escalation): a deadline of the exit process passed. data: FollowUpData; purpose FollowUpPurpose */
  'exit-follow-up',
  /** To every access administrator: a reconciliation found a connected system contradicting a hold or a revocation. data: AccessDriftAlertData; purpose AccessDriftPurpose */
  'access-drift-alert',
  /** Exit notices (access-exits): to the employee or their manager, after an involuntary exit suspended every grant. data: ExitNoticeData; purpose ExitNoticePurpose */
  'involuntary-exit-notice',
]);
export type EmailTemplate = z.infer<typeof EmailTemplate>;

export const Decision = z.enum(['retained', 'withdrawn', 'exit_confirmed']);
export type Decision = z.infer<typeof Decision>;
/** Who a decision notice is written for: the wording differs for the manager and for the employee. */
export const DecisionAudience = z.enum(['manager', 'employee']);
export type DecisionAudience = z.infer<typeof DecisionAudience>;
export const FollowUpMilestone = z.enum(['interview_scheduled', 'interview_held', 'decision']);
export type FollowUpMilestone = z.infer<typeof FollowUpMilestone>;
export const FollowUpLevel = z.enum(['reminder', 'escalation']);
export type FollowUpLevel = z.infer<typeof FollowUpLevel>;

/*
 * Purposes. An email is stored once per (resignation, purpose, recipient): the purpose is that key, a
 * typed string built ONLY by EmailPurposes below from typed fields, and never parsed back — what an email
 * means is its template and its typed data (which say the same: the request is refused when they differ).
 */
export const ManagerNoticePurpose = z.literal('manager-notice');
export const DecisionNoticePurpose = z.templateLiteral(['decision-notice:', Decision, ':', z.int(), ':', DecisionAudience]);
export const FollowUpPurpose = z.templateLiteral(['follow-up:', FollowUpMilestone, '.', FollowUpLevel]);
export const AccessDriftPurpose = z.templateLiteral(['access-drift:', z.uuid()]);
const UUID_PATTERN = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
// HR builds these (packages/hr/src/domain/calendar-invite.ts invitePurpose, typed `string` today): checked by
// pattern here; their type narrows to the template-literal one when that builder returns EmailPurposes'.
export const InterviewInvitePurpose = StorableLine.regex(new RegExp(`^interview-invite:${UUID_PATTERN}:\\d{1,6}$`), 'must be interview-invite:<interviewId>:<sequence>');
export const InterviewCancelledPurpose = StorableLine.regex(new RegExp(`^interview-cancelled:${UUID_PATTERN}:\\d{1,6}$`), 'must be interview-cancelled:<interviewId>:<sequence>');

/** The one place purposes are built. */
export const EmailPurposes = {
  managerNotice: (): z.infer<typeof ManagerNoticePurpose> => 'manager-notice',
  decisionNotice: (p: { decision: Decision; revision: number; audience: DecisionAudience }): z.infer<typeof DecisionNoticePurpose> =>
    `decision-notice:${p.decision}:${p.revision}:${p.audience}`,
  followUp: (p: { milestone: FollowUpMilestone; level: FollowUpLevel }): z.infer<typeof FollowUpPurpose> => `follow-up:${p.milestone}.${p.level}`,
  accessDrift: (driftId: string): z.infer<typeof AccessDriftPurpose> => `access-drift:${driftId}`,
  exitNotice: (audience: DecisionAudience): z.infer<typeof ExitNoticePurpose> => `exit-notice:${audience}`,
  interviewInvite: (interviewId: string, sequence: number): `interview-invite:${string}:${number}` => `interview-invite:${interviewId}:${sequence}`,
  interviewCancelled: (interviewId: string, sequence: number): `interview-cancelled:${string}:${number}` => `interview-cancelled:${interviewId}:${sequence}`,
} as const;

// Names in template data and a recipient's display name are rendered into headers and bodies, which fold any
// line break they carry (the header-injection test sends one): they are text, not lines, for validation.
export const ManagerNoticeData = z.object({
  managerName: StorableText.min(1).max(200),
  employeeName: StorableText.min(1).max(200),
  employeeId: EmployeeId,
  lastWorkingDay: StorableLine,
  reason: StorableText.max(2000).nullish(),
  caseUrl: StorableLine.url().nullish(),
});

export const InterviewInviteData = z.object({
  recipientName: StorableText.min(1).max(200),
  employeeName: StorableText.min(1).max(200),
  hrPartnerName: StorableText.min(1).max(200),
  /** ISO instants. */
  start: IsoDateTime,
  end: IsoDateTime,
  /** IANA zone the times are shown in for this recipient. */
  timezone: StorableLine.min(1),
  /** The case's page in the web app (set by Notification, like every link it sends). */
  caseUrl: StorableLine.url().nullish(),
});

export const DecisionNoticeData = z.object({
  recipientName: StorableText.min(1).max(200),
  /** Who is told: the wording differs for the manager and for the employee. */
  audience: DecisionAudience,
  employeeName: StorableText.min(1).max(200),
  decision: Decision,
  /** Which announcement of the case this notice belongs to: the exit-confirmed revision; 1 for retained and withdrawn. */
  revision: z.int().min(1).max(999_999_999).default(1),
  /** exit_confirmed: the final last working day, and when access ends (ISO instant). */
  lastWorkingDay: StorableLine.nullish(),
  revokeAt: IsoDateTime.nullish(),
  note: StorableText.max(2000).nullish(),
  caseUrl: StorableLine.url().nullish(),
});

export const FollowUpData = z.object({
  recipientName: StorableText.min(1).max(200),
  level: FollowUpLevel,
  milestone: FollowUpMilestone,
  employeeName: StorableText.min(1).max(200),
  hrPartnerName: StorableText.min(1).max(200),
  /** ISO instant the milestone was due. */
  dueAt: IsoDateTime,
  caseUrl: StorableLine.url().nullish(),
});

export const AccessDriftAlertData = z.object({
  recipientName: StorableText.min(1).max(200),
  employeeId: EmployeeId,
  /** The person's name in the directory, when it has them. */
  employeeName: StorableText.min(1).max(200).nullish(),
  systemId: StorableLine.min(1).max(100),
  kind: z.enum(['account_enabled', 'entitlement_added', 'entitlement_missing']),
  entitlement: StorableLine.max(500).nullish(),
  /** What EMS expected and what the system showed. */
  detail: StorableText.min(1).max(2000),
  detectedAt: IsoDateTime,
  /** The IT page of the web app (set by Notification). */
  accessUrl: StorableLine.url().nullish(),
});

export const Recipient = z.object({
  email: z.email().max(254),
  name: StorableText.max(200).optional(),
});

export const Attachment = z.object({
  filename: StorableLine.min(1).max(200).regex(/^[^\r\n"/\\]+$/, 'must be a plain file name'),
  /** e.g. 'text/calendar; method=REQUEST' */
  contentType: StorableLine.min(1).max(200).regex(/^[^\r\n]+$/, 'must be one line'),
  /** UTF-8 text content (ICS files are text). */
  content: StorableText.max(256 * 1024),
});

/** What every email request carries besides its kind. */
const EmailRequestBase = z.object({
  resignationId: Uuid,
  to: Recipient,
  attachments: z.array(Attachment).max(5).default([]),
});

/**
 * One kind of email: its template, the purpose it is stored under and its data, all typed. Adding a kind
 * (see /work/notes/reactions-api.md): a template name above, its data schema, one `emailKind` here and in
 * the union below, and its renderer in Notification (packages/notification/src/domain/templates.ts).
 */
function emailKind<T extends EmailTemplate, P extends z.ZodType<string>, D extends z.ZodType>(template: T, purpose: P, data: D) {
  return EmailRequestBase.extend({ template: z.literal(template), purpose, data });
}
export const ManagerNoticeEmail = emailKind('resignation-manager-notice', ManagerNoticePurpose, ManagerNoticeData);
export const InterviewInviteEmail = emailKind('exit-interview-invite', InterviewInvitePurpose, InterviewInviteData);
export const InterviewCancelledEmail = emailKind('exit-interview-cancelled', InterviewCancelledPurpose, InterviewInviteData);
export const DecisionNoticeEmail = emailKind('resignation-decision-notice', DecisionNoticePurpose, DecisionNoticeData);
export const FollowUpEmail = emailKind('exit-follow-up', FollowUpPurpose, FollowUpData);
export const AccessDriftAlertEmail = emailKind('access-drift-alert', AccessDriftPurpose, AccessDriftAlertData);
export type ManagerNoticeEmail = z.infer<typeof ManagerNoticeEmail>;
export type InterviewInviteEmail = z.infer<typeof InterviewInviteEmail>;
export type InterviewCancelledEmail = z.infer<typeof InterviewCancelledEmail>;
export type DecisionNoticeEmail = z.infer<typeof DecisionNoticeEmail>;
export type FollowUpEmail = z.infer<typeof FollowUpEmail>;
export type AccessDriftAlertEmail = z.infer<typeof AccessDriftAlertEmail>;

// Exit notices (access-exits): an involuntary exit's notice to the employee and to their manager, sent by
// Notification itself (tell-exit/) once Access reported every grant suspended — never requestable over HTTP.
// One per case and audience: the case is the resignation id, so the purpose needs only the audience.
export const ExitNoticePurpose = z.templateLiteral(['exit-notice:', DecisionAudience]);
export const ExitNoticeData = z.object({
  recipientName: StorableText.min(1).max(200),
  /** Who is told: the employee, or their manager (about their report). */
  audience: DecisionAudience,
  employeeName: StorableText.min(1).max(200),
  /** The category only: no details of the reason reach either email. */
  reason: ExitReason,
  lastWorkingDay: IsoDate,
  /** When every grant is revoked (ISO instant), shown in `timezone` (the employee's IANA zone). */
  revokeAt: IsoDateTime,
  timezone: StorableLine.min(1).max(64),
  /** Whom the employee may ask: their manager, when they have one (HR in any case). */
  managerName: StorableText.min(1).max(200).nullish(),
  caseUrl: StorableLine.url().nullish(),
});
export const ExitNoticeEmail = emailKind('involuntary-exit-notice', ExitNoticePurpose, ExitNoticeData);
export type ExitNoticeEmail = z.infer<typeof ExitNoticeEmail>;

/**
 * An email to send: one of the kinds, told apart by `template`. The purpose must be the one its data
 * names (a decision notice's decision, revision and audience; a follow-up's milestone and level).
 */
export const SendEmailRequest = z
  .discriminatedUnion('template', [ManagerNoticeEmail, InterviewInviteEmail, InterviewCancelledEmail, DecisionNoticeEmail, FollowUpEmail, AccessDriftAlertEmail, ExitNoticeEmail])
  .superRefine((r, ctx) => {
    const expected =
      r.template === 'resignation-decision-notice'
        ? EmailPurposes.decisionNotice(r.data)
        : r.template === 'exit-follow-up'
          ? EmailPurposes.followUp(r.data)
          : r.template === 'involuntary-exit-notice'
            ? EmailPurposes.exitNotice(r.data.audience)
            : undefined;
    if (expected !== undefined && r.purpose !== expected) ctx.addIssue({ code: 'custom', path: ['purpose'], message: `must be ${expected}, the purpose its data names` });
  })
  .meta({ id: 'SendEmailRequest' });
export type SendEmailRequest = z.infer<typeof SendEmailRequest>;

export const EmailStatus = z.enum(['queued', 'sent', 'failed']);
export type EmailStatus = z.infer<typeof EmailStatus>;

export const Email = z
  .object({
    id: Uuid,
    resignationId: Uuid,
    purpose: z.string(),
    to: z.string(),
    template: EmailTemplate,
    subject: z.string(),
    status: EmailStatus,
    attempts: z.number().int(),
    /** The SMTP Message-ID header the message was sent with. */
    messageId: z.string().nullable(),
    lastError: z.string().nullable(),
    attachments: z.array(z.object({ filename: z.string(), contentType: z.string() })),
    createdAt: IsoDateTime,
    sentAt: IsoDateTime.nullable(),
  })
  .meta({ id: 'Email' });
export type Email = z.infer<typeof Email>;

export const EmailList = ListOf(Email).meta({ id: 'EmailList' });
export type EmailList = z.infer<typeof EmailList>;
export const EmailListQuery = PageQuery.extend({
  resignationId: Uuid.optional(),
  status: EmailStatus.optional(),
  to: StorableLine.max(320).optional(),
});
export type EmailListQuery = z.infer<typeof EmailListQuery>;

export { NotificationPaths } from './paths.ts';

/** The most emails one batch request carries. */
export const EMAIL_BATCH_MAX = 20;

/**
 * POST /api/email-batches (operation sendEmails): several emails in one request — e.g. an interview's invites to the
 * employee and the HR partner — stored in one statement and delivered at once. Each email is checked as POST
 * /api/emails checks it and keeps its own idempotency: its own key (no two alike in one batch) and its
 * (resignationId, purpose, to.email). Any invalid email refuses the whole batch before anything is stored (the
 * problem names it: body.emails.<i>…).
 */
export const SendEmailsRequest = z
  .object({
    emails: z
      .array(
        z.object({
          /** This email's Idempotency-Key: a repeat with it answers the email stored first. */
          idempotencyKey: IdempotencyKey,
          email: SendEmailRequest,
        }),
      )
      .min(1)
      .max(EMAIL_BATCH_MAX),
  })
  .meta({ id: 'SendEmailsRequest' });
export type SendEmailsRequest = z.infer<typeof SendEmailsRequest>;

/**
 * One email's answer, in the order asked: created (stored now; its status says whether it is sent yet), existing (a
 * repeat: the email stored first, nothing sent), or conflict (its key was used for another email: nothing stored).
 */
export const SentEmailOutcome = z.discriminatedUnion('state', [
  z.object({ state: z.literal('created'), email: Email }),
  z.object({ state: z.literal('existing'), email: Email }),
  z.object({ state: z.literal('conflict'), detail: z.string(), emailId: Uuid }),
]);
export type SentEmailOutcome = z.infer<typeof SentEmailOutcome>;
export const SendEmailsAnswer = z.object({ emails: z.array(SentEmailOutcome) }).meta({ id: 'SendEmailsAnswer' });
export type SendEmailsAnswer = z.infer<typeof SendEmailsAnswer>;

// ── Involuntary and mass exits: Notification's typed command (operation sendExitNotices, service ems) ────

/**
 * POST /api/notification/exit-notices: tell the manager (if any) and the employee of each exit of one chunk — only
 * people whose access Access reported suspended (the notice says access is suspended: a fact only then). The answer
 * is the exitNoticesSent payload. Both adapters call one core (tell-exit/). Idempotent by (batchId, chunk) and, per
 * person, by (resignationId, recipient).
 */
export const SendExitNoticesRequest = z
  .object({
    batchId: Uuid,
    chunk: z.number().int().min(1),
    reason: ExitReason,
    exits: z.array(ExitPerson).min(1).max(EXIT_CHUNK_SIZE),
  })
  .meta({ id: 'SendExitNoticesRequest' });
export type SendExitNoticesRequest = z.infer<typeof SendExitNoticesRequest>;
export const SendExitNoticesAnswer = ExitNoticesSent.meta({ id: 'SendExitNoticesAnswer' });
export type SendExitNoticesAnswer = z.infer<typeof SendExitNoticesAnswer>;

// ── The orchestrator's typed commands for the reactions Notification owns (services: ems only) ───────────
// Each calls the same use case as its choreography handler (notify-manager/, announce-decision/): the
// orchestrator says what happened, Notification knows which emails that means, with which purposes.

const Person = z.object({ name: StorableText.min(1).max(200), email: z.email().max(254) });

/**
 * POST /api/notification/manager-notices (operation notifyManager): an employee resigned — tell their manager.
 * The same facts as resignationSubmitted carries. Once per case: a repeat answers the notice stored first.
 */
export const NotifyManagerRequest = z
  .object({
    resignationId: Uuid,
    employee: z.object({ id: EmployeeId, name: StorableText.min(1).max(200) }),
    manager: Person.nullable(),
    lastWorkingDay: StorableLine.min(1).max(100),
    reason: StorableText.max(2000).nullable(),
  })
  .meta({ id: 'NotifyManagerRequest' });
export type NotifyManagerRequest = z.infer<typeof NotifyManagerRequest>;

/** The notice (its status: sent, queued — delivery goes on —, or failed), or nobody to tell. */
export const ManagerNoticeOutcome = z
  .discriminatedUnion('outcome', [
    z.object({ outcome: z.literal('email'), email: Email }),
    /** No manager: nothing sent. emailId is derived from the case (managerNotified says the same). */
    z.object({ outcome: z.literal('no manager'), emailId: Uuid }),
  ])
  .meta({ id: 'ManagerNoticeOutcome' });
export type ManagerNoticeOutcome = z.infer<typeof ManagerNoticeOutcome>;

/**
 * POST /api/notification/decision-announcements (operation announceDecision): a resignation was decided — tell
 * the manager (if any) and the employee. The same facts as the decision events carry. Once per (case, decision,
 * revision): a repeat answers the notices stored first.
 */
export const AnnounceDecisionRequest = z
  .object({
    resignationId: Uuid,
    decision: Decision,
    /** The exit-confirmed revision; 1 for retained and withdrawn. */
    revision: z.int().min(1).max(999_999_999),
    employee: Person,
    manager: Person.nullable(),
    note: StorableText.max(2000).nullable(),
    /** exit_confirmed: the last working day and when access ends. */
    lastWorkingDay: StorableLine.min(1).max(100).nullish(),
    revokeAt: IsoDateTime.nullish(),
  })
  .meta({ id: 'AnnounceDecisionRequest' });
export type AnnounceDecisionRequest = z.infer<typeof AnnounceDecisionRequest>;

/**
 * announced: every notice sent; pending: one is still queued (delivery goes on, ask again); failed: one was given up
 * (`reason`); overtaken: a newer exit confirmation was announced already, so this one is not.
 */
export const DecisionAnnouncementOutcome = z
  .object({
    outcome: z.enum(['announced', 'pending', 'failed', 'overtaken']),
    /** The manager's notice first, then the employee's. */
    emails: z.array(Email),
    reason: z.string().nullable(),
  })
  .meta({ id: 'DecisionAnnouncementOutcome' });
export type DecisionAnnouncementOutcome = z.infer<typeof DecisionAnnouncementOutcome>;
