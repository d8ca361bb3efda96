import type { ColumnType, Generated, Kysely, Selectable } from 'kysely';

/** Row types of the `webhooks` schema (see migrations.ts), for Kysely. */

export const WEBHOOKS_SCHEMA = 'webhooks';

export interface WebhooksTable {
  id: string;
  url: string;
  event_types: string[];
  description: string | null;
  /** The signing secret, encrypted (`v1.…`, see domain/secret-at-rest.ts); `whsec_…` in a row of an earlier release until start() encrypts it. */
  secret_encrypted: string;
  created_at: ColumnType<Date, Date, never>;
  deleted_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  idempotency_key: string | null;
}

export interface DeliveriesTable {
  id: Generated<number>;
  webhook_id: string;
  event_id: string;
  event_type: string;
  attempt: number;
  outcome: 'delivered' | 'failed' | 'dead-lettered';
  status_code: number | null;
  error: string | null;
  duration_ms: number | null;
  at: ColumnType<Date, Date, never>;
}

export interface WebhooksDB {
  webhooks: WebhooksTable;
  deliveries: DeliveriesTable;
}

export type WebhooksDb = Kysely<WebhooksDB>;
export type WebhookRow = Selectable<WebhooksTable>;
export type DeliveryRow = Selectable<DeliveriesTable>;
