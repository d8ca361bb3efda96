import { HttpProblem } from '@ems/platform';
import { hr } from '@ems/contracts';
import { describeDays, type Availability, type NoSlotReason } from '../domain/slots.ts';

/** The two people of an interview, for saying why no slot suits both. */
export interface SlotParties {
  partner: { name: string } & Availability;
  employee: { name: string } & Availability;
}

const hoursOf = (who: Availability) => `${describeDays(who.workingHours.days)} ${who.workingHours.start}–${who.workingHours.end} ${who.timezone}`;

/** The 409s of interview booking, each with its own problem type (see contracts HrProblemTypes). */

export function noFreeSlot(lastWorkingDay: string, reason: NoSlotReason, parties: SlotParties): HttpProblem {
  const { partner, employee } = parties;
  const why =
    reason === 'last-working-day-too-close'
      ? `the last working day ${lastWorkingDay} is not after the next business day`
      : reason === 'no-shared-hours'
        ? `${employee.name} (${hoursOf(employee)}) and the HR partner ${partner.name} (${hoursOf(partner)}) share no working hours until ${lastWorkingDay}`
        : `${partner.name}'s calendar has no free 30-minute slot in the hours shared with ${employee.name} until ${lastWorkingDay}`;
  return new HttpProblem(409, `No free slot before the last working day: ${why}`, {
    type: hr.HrProblemTypes.noFreeSlot,
    title: 'No free slot',
    extra: { reason, lastWorkingDay },
  });
}

export function slotUnavailable(start: string, reason: string): HttpProblem {
  return new HttpProblem(409, `${start} is not a free slot: ${reason}`, { type: hr.HrProblemTypes.slotUnavailable, title: 'Slot unavailable' });
}

export function illegalTransition(id: string, status: string, action: string): HttpProblem {
  return new HttpProblem(409, `Interview ${id} is ${status}; it cannot be ${action}`, {
    type: hr.HrProblemTypes.illegalTransition,
    title: 'Illegal transition',
    extra: { interviewStatus: status },
  });
}

/** An interview is held once it has started: not before. */
export function notStarted(id: string, start: Date): HttpProblem {
  return new HttpProblem(409, `Interview ${id} starts at ${start.toISOString()}: it cannot be held before it starts`, {
    type: hr.HrProblemTypes.notStarted,
    title: 'Not started yet',
    extra: { interviewStatus: 'scheduled', start: start.toISOString() },
  });
}

/** Notes recorded are the record of the conversation: they may be written up later once, never rewritten. */
export function notesRecorded(id: string): HttpProblem {
  return new HttpProblem(409, `Interview ${id} already has its notes: they are not overwritten`, { type: hr.HrProblemTypes.notesRecorded, title: 'Notes already recorded', extra: { interviewStatus: 'held' } });
}

/** PostgreSQL's exclusion_violation: the interviews_no_overlap guard caught a double booking. */
export function isOverlap(err: unknown): boolean {
  return (err as { code?: string } | undefined)?.code === '23P01';
}

export function slotTakenConcurrently(): HttpProblem {
  return new HttpProblem(409, 'The slot was taken by a concurrent booking; try again', { type: hr.HrProblemTypes.slotUnavailable, title: 'Slot unavailable' });
}
