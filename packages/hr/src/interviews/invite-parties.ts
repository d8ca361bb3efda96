import type { HrDb, HrTx } from '../db/hr.db.ts';
import type { InterviewInvite } from '../domain/calendar-invite.ts';
import type { InterviewRow } from './interview.view.ts';

/** The people an interview invite goes to, read from HR's own directory. */
export async function inviteFor(db: HrDb | HrTx, row: InterviewRow): Promise<InterviewInvite> {
  // One after the other: inside a transaction both would share one connection anyway.
  const employee = await db.selectFrom('employees').select(['name', 'email', 'timezone']).where('id', '=', row.employee_id).executeTakeFirstOrThrow();
  const partner = await db.selectFrom('hr_partners').select(['name', 'email', 'timezone']).where('id', '=', row.hr_partner_id).executeTakeFirstOrThrow();
  return {
    interviewId: row.id,
    resignationId: row.resignation_id,
    uid: row.uid,
    sequence: row.sequence,
    start: row.starts_at,
    end: row.ends_at,
    employee,
    hrPartner: partner,
  };
}
