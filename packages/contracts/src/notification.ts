import { z } from 'zod';
import { EmployeeId, IsoDateTime, ListOf, PageQuery, StorableJsonRecord, StorableLine, StorableText, Uuid } from './common.ts';

/**
 * Notification service API. It is "dumb": it renders a named template with the data it is given and
 * delivers it over SMTP, once per (resignationId, purpose, recipient).
 */
export const EmailTemplate = z.enum([
  /** To the manager: an employee of theirs resigned. data: ManagerNoticeData */
  'resignation-manager-notice',
  /** Calendar invite (ICS attached) for the exit interview. data: InterviewInviteData */
  'exit-interview-invite',
  /** Calendar cancellation (ICS METHOD:CANCEL attached). data: InterviewInviteData */
  'exit-interview-cancelled',
  /** To the manager or the employee: the resignation was decided (retained / withdrawn / exit confirmed). data: DecisionNoticeData */
  'resignation-decision-notice',
  /** To the HR partner (reminder) or the HR lead (escalation): a deadline of the exit process passed. data: FollowUpData */
  'exit-follow-up',
  /** To every access administrator: a reconciliation found a connected system contradicting a hold or a revocation. data: AccessDriftAlertData */
  'access-drift-alert',
]);
export type EmailTemplate = z.infer<typeof EmailTemplate>;

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
  audience: z.enum(['manager', 'employee']),
  employeeName: StorableText.min(1).max(200),
  decision: z.enum(['retained', 'withdrawn', 'exit_confirmed']),
  /** exit_confirmed: the final last working day, and when access ends (ISO instant). */
  lastWorkingDay: StorableLine.nullish(),
  revokeAt: IsoDateTime.nullish(),
  note: StorableText.max(2000).nullish(),
  caseUrl: StorableLine.url().nullish(),
});

export const FollowUpData = z.object({
  recipientName: StorableText.min(1).max(200),
  level: z.enum(['reminder', 'escalation']),
  milestone: z.enum(['interview_scheduled', 'interview_held', 'decision']),
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

export const SendEmailRequest = z
  .object({
    resignationId: Uuid,
    /** Why this email exists, e.g. 'manager-notice', 'interview-invite:<interviewId>:<sequence>'. */
    purpose: StorableLine.min(1).max(200).regex(/^[A-Za-z0-9:._-]+$/, 'must be a purpose key (letters, digits, : . _ -)'),
    to: Recipient,
    template: EmailTemplate,
    data: StorableJsonRecord,
    attachments: z.array(Attachment).max(5).default([]),
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
