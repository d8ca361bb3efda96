import type { Selectable } from 'kysely';
import type { hr } from '@ems/contracts';
import type { InviteNotSent } from '@ems/contracts/events';
import type { InterviewsTable } from '../db/hr.db.ts';

export type InterviewRow = Selectable<InterviewsTable>;

/**
 * The API shape of an interview: a whitelist of the row's fields, never the row itself. `notSent`: in the answer to
 * a booking or a move, the invites of that version refused as they were queued (left out when none was).
 */
export function toInterview(row: InterviewRow, notSent: readonly InviteNotSent[] = []): hr.Interview {
  return {
    id: row.id,
    resignationId: row.resignation_id,
    employeeId: row.employee_id,
    hrPartnerId: row.hr_partner_id,
    start: row.starts_at.toISOString(),
    end: row.ends_at.toISOString(),
    timezone: row.timezone,
    status: row.status,
    heldAt: row.held_at ? row.held_at.toISOString() : null,
    notes: row.notes,
    sequence: row.sequence,
    uid: row.uid,
    createdAt: row.created_at.toISOString(),
    ...(notSent.length ? { invitesNotSent: [...notSent] } : {}),
  };
}
