import type { notification as api } from '@ems/contracts';
import type { EmailRow } from './db/notification.db.ts';

/** Row → API shape: a whitelist, so new columns (claims, bodies, idempotency keys) never leak. */
export function toEmail(row: EmailRow): api.Email {
  return {
    id: row.id,
    resignationId: row.resignation_id,
    purpose: row.purpose,
    to: row.recipient,
    template: row.template,
    subject: row.subject,
    status: row.status,
    attempts: row.attempts,
    messageId: row.message_id,
    lastError: row.last_error,
    attachments: row.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType })),
    createdAt: row.created_at.toISOString(),
    sentAt: row.sent_at ? row.sent_at.toISOString() : null,
  };
}
