export { createNotificationService, NOTIFICATION_SCHEMA, type NotificationServiceDeps } from './notification-service.ts';
export { migrations as notificationMigrations } from './db/migrations.ts';
export {
  startCaptureSmtpServer,
  type CaptureSmtpServer,
  type CaptureSmtpOptions,
  type CapturedMessage,
  type CapturedAttachment,
} from './capture-smtp/capture-smtp-server.ts';
