export { createHrService, HR_SCHEMA, type HrService, type HrServiceDeps, type HrFollowUpOptions } from './hr.service.ts';
export { SCHEDULE_INTERVIEW_SUBSCRIBER } from './schedule-interview/schedule-interview-when-resignation-submitted.ts';
export { CANCEL_INTERVIEW_SUBSCRIBER } from './cancel-interview/cancel-interview-when-resignation-closed.ts';
export { FOLLOW_UP_SUBSCRIBER } from './follow-up-exit-process/follow-up-when-resignation-submitted-or-decided.ts';
export { UPDATE_DIRECTORY_SUBSCRIBER } from './directory/update-directory-when-person-changed.ts';
export {
  findFreeSlot,
  checkSlot,
  nextWorkingDay,
  SLOT_MINUTES,
  type PartnerCalendar,
  type Availability,
  type NoSlotReason,
  type SlotSearch,
  type SlotResult,
  type SlotCheck,
  type Slot,
  type WorkingHours,
  type WeeklyBusy,
  type Booked,
} from './domain/slots.ts';
export { calendarInvite, inviteEmails, type InviteEvent, type InterviewInvite } from './domain/calendar-invite.ts';
export {
  DEFAULT_FOLLOW_UP_POLICY,
  followUpKey,
  followUpsCalledFor,
  followUpsDue,
  nextFollowUp,
  type FollowUp,
  type FollowUpFacts,
  type FollowUpLevel,
  type FollowUpPolicy,
  type Milestone,
} from './domain/follow-ups.ts';
