import type { ColumnType, Selectable } from 'kysely';
import type { notification } from '@ems/contracts';

type EmailStatus = notification.EmailStatus;
type EmailTemplate = notification.EmailTemplate;

import type { EmailAttachment } from '../domain/mail-message.ts';

/** The PostgreSQL schema the Notification service owns. */
export const NOTIFICATION_SCHEMA = 'notification';

/** An attachment as stored (jsonb). */
export type StoredAttachment = EmailAttachment;

type Timestamp = ColumnType<Date, Date, Date>;
/** jsonb: pg parses it on read; we write JSON text (pg would turn a JS array into a PostgreSQL array). */
type Json<T> = ColumnType<T, string, string>;

export interface EmailsTable {
  id: string;
  resignation_id: string;
  purpose: string;
  recipient: string;
  recipient_name: string | null;
  template: EmailTemplate;
  data: Json<Record<string, unknown>>;
  subject: string;
  text: string;
  html: string;
  attachments: Json<StoredAttachment[]>;
  status: ColumnType<EmailStatus, EmailStatus | undefined, EmailStatus>;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: Timestamp;
  message_id: string;
  last_error: string | null;
  idempotency_key: string | null;
  claim_token: string | null;
  claimed_until: ColumnType<Date | null, Date | null | undefined, Date | null>;
  created_at: Timestamp;
  sent_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  correlation_id: ColumnType<string | null, string | null | undefined, string | null>;
  traceparent: ColumnType<string | null, string | null | undefined, string | null>;
  causation_id: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface DecisionAnnouncementsTable {
  resignation_id: string;
  decision: 'retained' | 'withdrawn' | 'exit_confirmed';
  revision: number;
  outcome: ColumnType<'announced' | 'failed' | null, 'announced' | 'failed' | null | undefined, 'announced' | 'failed' | null>;
  settled_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface NotificationDB {
  emails: EmailsTable;
  decision_announcements: DecisionAnnouncementsTable;
}

export type EmailRow = Selectable<EmailsTable>;
