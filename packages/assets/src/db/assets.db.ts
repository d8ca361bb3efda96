import type { ColumnType, Generated, Kysely, Selectable, Transaction } from 'kysely';

/** Row types of the `assets` schema (see migrations.ts), for Kysely. */

export const ASSETS_SCHEMA = 'assets';

export interface RecoveryTasksTable {
  id: string;
  resignation_id: string;
  employee_id: string;
  items: string[];
  /** 'YYYY-MM-DD' (the platform keeps DATE columns as strings). */
  due_date: string;
  status: Generated<'open' | 'done'>;
  created_at: ColumnType<Date, Date, never>;
  completed_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface ProcessedEventsTable {
  subscriber: string;
  event_id: string;
  processed_at: Generated<Date>;
}

export interface AssetsDB {
  recovery_tasks: RecoveryTasksTable;
  processed_events: ProcessedEventsTable;
}

export type AssetsDb = Kysely<AssetsDB>;
export type AssetsTx = Transaction<AssetsDB>;
export type RecoveryTaskRow = Selectable<RecoveryTasksTable>;
