import { describe, expect, it } from 'vitest';
import { notification as api } from '@ems/contracts';
import { purposeRule } from './recipients.ts';

const INTERVIEW = '3f2b6c1e-8d4a-4c2e-9b7f-0a1b2c3d4e5f';
const CASE = '9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d';
const base = { resignationId: CASE, to: { email: 'x@acme.example' }, attachments: [] };
const managerNotice = { ...base, template: 'resignation-manager-notice', purpose: 'manager-notice', data: { managerName: 'M', employeeName: 'E', employeeId: 'e1', lastWorkingDay: '2026-03-31' } };
const decisionNotice = (decision: string, revision: number, audience: string, purpose = `decision-notice:${decision}:${revision}:${audience}`) => ({
  ...base,
  template: 'resignation-decision-notice',
  purpose,
  data: { recipientName: 'R', audience, employeeName: 'E', decision, revision },
});
const invite = (template: string, purpose: string) => ({
  ...base,
  template,
  purpose,
  data: { recipientName: 'R', employeeName: 'E', hrPartnerName: 'H', start: '2026-03-01T10:00:00Z', end: '2026-03-01T10:30:00Z', timezone: 'Europe/Berlin' },
});
const followUp = (milestone: string, level: string, purpose = `follow-up:${milestone}.${level}`) => ({
  ...base,
  template: 'exit-follow-up',
  purpose,
  data: { recipientName: 'R', level, milestone, employeeName: 'E', hrPartnerName: 'H', dueAt: '2026-03-01T10:00:00Z' },
});
const rule = (request: unknown) => purposeRule(api.SendEmailRequest.parse(request));

describe('purposeRule: whom each kind of email may go to, read from the typed request', () => {
  it('when the email is the manager notice, then it goes to the manager only, without attachments', () => {
    expect(rule(managerNotice)).toEqual({ roles: ['manager'], invite: false });
  });

  it.each([
    ['retained', 1, 'manager'],
    ['withdrawn', 1, 'employee'],
    ['exit_confirmed', 2, 'manager'],
    ['exit_confirmed', 123456789, 'employee'],
  ] as const)('when the decision notice is %s revision %s for the %s, then it goes to that audience only', (decision, revision, audience) => {
    expect(rule(decisionNotice(decision, revision, audience))).toEqual({ roles: [audience], invite: false });
  });

  it.each([
    ['exit-interview-invite', `interview-invite:${INTERVIEW}:0`],
    ['exit-interview-invite', `interview-invite:${INTERVIEW}:12`],
    ['exit-interview-cancelled', `interview-cancelled:${INTERVIEW}:3`],
  ])('when the email is %s (%s), then it goes to the employee or their HR partner and may carry the calendar invite', (template, purpose) => {
    expect(rule(invite(template, purpose))).toEqual({ roles: ['employee', 'hr_partner'], invite: true });
  });

  it.each(['interview_scheduled', 'interview_held', 'decision'])('when the email is the %s reminder, then it goes to the HR partner only; its escalation to an HR lead only', (milestone) => {
    expect(rule(followUp(milestone, 'reminder'))).toEqual({ roles: ['hr_partner'], invite: false });
    expect(rule(followUp(milestone, 'escalation'))).toEqual({ roles: ['hr_lead'], invite: false });
  });

  it('when the email is a drift alert, then it is not one sent on request', () => {
    const alert = {
      ...base,
      template: 'access-drift-alert',
      purpose: `access-drift:${INTERVIEW}`,
      data: { recipientName: 'R', employeeId: 'e1', systemId: 's', kind: 'account_enabled', detail: 'd', detectedAt: '2026-03-01T10:00:00Z' },
    };
    expect(rule(alert)).toBeUndefined();
  });
});

describe('SendEmailRequest: a purpose is typed, and must be the one its kind and data name', () => {
  it.each([
    ['', managerNotice],
    ['newsletter', managerNotice],
    ['Manager-Notice', managerNotice],
    ['manager-notice:again', managerNotice],
    [' manager-notice', managerNotice],
    ['decision-notice:retained:1:manager', managerNotice],
  ])('when a manager notice says purpose %j, then it is refused', (purpose, request) => {
    expect(api.SendEmailRequest.safeParse({ ...request, purpose }).success).toBe(false);
  });

  it.each([
    'decision-notice:fired:1:employee',
    'decision-notice:retained:0:employee',
    'decision-notice:retained:1:hr_partner',
    'decision-notice:retained:1',
    'decision-notice:retained:1:employee:extra',
    // Valid shape, but not what the data says: withdrawn, revision 2, the manager.
    'decision-notice:withdrawn:1:employee',
    'decision-notice:retained:2:employee',
    'decision-notice:retained:1:manager',
  ])('when a decision notice (retained, 1, employee) says purpose %j, then it is refused', (purpose) => {
    expect(api.SendEmailRequest.safeParse(decisionNotice('retained', 1, 'employee', purpose)).success).toBe(false);
  });

  it.each([
    ['exit-interview-invite', 'interview-invite:not-an-interview:0'],
    ['exit-interview-invite', `interview-invite:${INTERVIEW}`],
    ['exit-interview-invite', `interview-invite:${INTERVIEW}:x`],
    ['exit-interview-invite', `interview-rescheduled:${INTERVIEW}:0`],
    ['exit-interview-invite', `interview-invite:${INTERVIEW}:0:extra`],
    ['exit-interview-invite', `interview-cancelled:${INTERVIEW}:0`],
    ['exit-interview-cancelled', `interview-invite:${INTERVIEW}:0`],
  ])('when %s says purpose %j, then it is refused', (template, purpose) => {
    expect(api.SendEmailRequest.safeParse(invite(template, purpose)).success).toBe(false);
  });

  it.each(['follow-up:decision:escalation', 'follow-up:decision.reminder.again', 'follow-up:coffee.reminder', 'follow-up:decision.nudge', 'follow-up:decision', 'follow-up:decision.escalation'])(
    'when a decision reminder says purpose %j, then it is refused',
    (purpose) => {
      expect(api.SendEmailRequest.safeParse(followUp('decision', 'reminder', purpose)).success).toBe(false);
    },
  );

  it('when the purposes are built by EmailPurposes, then each kind is accepted as it is', () => {
    expect(api.SendEmailRequest.safeParse(decisionNotice('exit_confirmed', 3, 'manager', api.EmailPurposes.decisionNotice({ decision: 'exit_confirmed', revision: 3, audience: 'manager' }))).success).toBe(true);
    expect(api.SendEmailRequest.safeParse(followUp('interview_held', 'escalation', api.EmailPurposes.followUp({ milestone: 'interview_held', level: 'escalation' }))).success).toBe(true);
    expect(api.SendEmailRequest.safeParse(invite('exit-interview-invite', api.EmailPurposes.interviewInvite(INTERVIEW, 4))).success).toBe(true);
    expect(api.SendEmailRequest.safeParse({ ...managerNotice, purpose: api.EmailPurposes.managerNotice() }).success).toBe(true);
  });
});
