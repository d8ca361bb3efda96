export { createNotificationService, NOTIFICATION_SCHEMA, type NotificationServiceDeps, type NotificationService } from './notification.service.ts';
export { migrations as notificationMigrations } from './db/migrations.ts';
export { NOTIFY_MANAGER_SUBSCRIBER } from './notify-manager/notify-manager-when-resignation-submitted.ts';
export { TELL_ACCESS_ADMINS_SUBSCRIBER, accessDriftPurpose, type AccessAdminDirectory } from './tell-access-admins/tell-access-admins-when-drift-detected.ts';
export { ANNOUNCE_DECISION_SUBSCRIBER } from './announce-decision/announce-decision-when-decided.ts';
export { TELL_EXIT_SUBSCRIBER } from './tell-exit/tell-exit-when-access-suspended.ts';
export { decisionNoticePurpose } from './domain/decision-notice.ts';
export { MANAGER_NOTICE_PURPOSE, noManagerEmailId, NO_MANAGER_NAMESPACE } from './notify-manager/manager-notice.ts';
export {
  startCaptureSmtpServer,
  type CaptureSmtpServer,
  type CaptureSmtpOptions,
  type CapturedMessage,
  type CapturedAttachment,
} from './capture-smtp/capture-smtp-server.ts';
export { openMaildir, type Maildir } from './mailbox/maildir.ts';
export type { MailboxDeps } from './mailbox/read-mailbox.ts';
