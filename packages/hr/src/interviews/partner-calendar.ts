import type { Selectable } from 'kysely';
import type { EmployeesTable, HrPartnersTable, HrTx } from '../db/hr.db.ts';
import type { Availability, PartnerCalendar } from '../domain/slots.ts';

export type PartnerRow = Selectable<HrPartnersTable>;

const DAY_MS = 86_400_000;

/** The employee's side of an interview: the days and hours they work, in their own zone. */
export function availabilityOf(employee: Pick<Selectable<EmployeesTable>, 'timezone' | 'work_days' | 'work_start' | 'work_end'>): Availability {
  return { timezone: employee.timezone, workingHours: { days: employee.work_days, start: employee.work_start, end: employee.work_end } };
}

/**
 * Locks the HR partner's row and reads their calendar. Every booking and reschedule takes this lock
 * first, so concurrent requests for one partner queue up and each sees the slots the previous one
 * took (READ COMMITTED reads fresh data per statement): they pick different slots instead of
 * colliding on the exclusion constraint.
 */
export async function lockPartnerCalendar(
  trx: HrTx,
  partnerId: string,
  window: { now: Date; lastWorkingDay: string; excludeInterviewId?: string },
): Promise<{ partner: PartnerRow; calendar: PartnerCalendar } | undefined> {
  const partner = await trx.selectFrom('hr_partners').selectAll().where('id', '=', partnerId).forUpdate().executeTakeFirst();
  if (!partner) return undefined;
  const busy = await trx
    .selectFrom('recurring_busy')
    .select(['weekday', 'start_time', 'end_time'])
    .where('hr_partner_id', '=', partnerId)
    .execute();
  // The search never goes past the last working day; a day of margin either side covers every zone offset.
  const until = new Date(Date.parse(`${window.lastWorkingDay}T00:00:00Z`) + 2 * DAY_MS);
  let booked = trx
    .selectFrom('interviews')
    .select(['starts_at', 'ends_at'])
    .where('hr_partner_id', '=', partnerId)
    .where('status', '<>', 'cancelled')
    .where('ends_at', '>', window.now)
    .where('starts_at', '<', until);
  if (window.excludeInterviewId) booked = booked.where('id', '<>', window.excludeInterviewId);
  const interviews = await booked.execute();
  return {
    partner,
    calendar: {
      timezone: partner.timezone,
      workingHours: { days: partner.work_days, start: partner.work_start, end: partner.work_end },
      busy: busy.map((b) => ({ weekday: b.weekday, start: b.start_time, end: b.end_time })),
      booked: interviews.map((i) => ({ start: i.starts_at, end: i.ends_at })),
    },
  };
}
