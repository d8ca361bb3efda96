import { describe, expect, it } from 'vitest';
import { purposeRule } from './recipients.ts';

const INTERVIEW = '3f2b6c1e-8d4a-4c2e-9b7f-0a1b2c3d4e5f';

describe('purposeRule', () => {
  it('when the purpose is the manager notice, then it goes to the manager only, without attachments', () => {
    expect(purposeRule('manager-notice')).toEqual({ roles: ['manager'], invite: false });
  });

  it.each([
    ['decision-notice:retained:1:manager', 'manager'],
    ['decision-notice:withdrawn:1:employee', 'employee'],
    ['decision-notice:exit_confirmed:2:manager', 'manager'],
    ['decision-notice:exit_confirmed:123456789:employee', 'employee'],
  ] as const)('when the purpose is %s, then it goes to the %s the purpose names only', (purpose, audience) => {
    expect(purposeRule(purpose)).toEqual({ roles: [audience], invite: false });
  });

  it.each([`interview-invite:${INTERVIEW}:0`, `interview-invite:${INTERVIEW}:12`, `interview-cancelled:${INTERVIEW}:3`])(
    'when the purpose is %s, then it goes to the employee or their HR partner and may carry the calendar invite',
    (purpose) => {
      expect(purposeRule(purpose)).toEqual({ roles: ['employee', 'hr_partner'], invite: true });
    },
  );

  it.each(['interview_scheduled', 'interview_held', 'decision'])('when the purpose is the %s reminder, then it goes to the HR partner only', (milestone) => {
    expect(purposeRule(`follow-up:${milestone}.reminder`)).toEqual({ roles: ['hr_partner'], invite: false });
  });

  it.each(['interview_scheduled', 'interview_held', 'decision'])('when the purpose is the %s escalation, then it goes to an HR lead only', (milestone) => {
    expect(purposeRule(`follow-up:${milestone}.escalation`)).toEqual({ roles: ['hr_lead'], invite: false });
  });

  it.each([
    '',
    'newsletter',
    'reminder',
    'Manager-Notice',
    'manager-notice:again',
    ' manager-notice',
    'decision-notice:fired:1:employee',
    'decision-notice:retained:0:employee',
    'decision-notice:retained:1:hr_partner',
    'decision-notice:retained:1',
    'decision-notice:retained:1:employee:extra',
    'interview-invite:not-an-interview:0',
    `interview-invite:${INTERVIEW}`,
    `interview-invite:${INTERVIEW}:x`,
    `interview-rescheduled:${INTERVIEW}:0`,
    `interview-invite:${INTERVIEW}:0:extra`,
    'follow-up:decision:escalation',
    'follow-up:decision.reminder.again',
    'follow-up:coffee.reminder',
    'follow-up:decision.nudge',
    'follow-up:decision',
  ])('when the purpose is %j, then it is not one EMS sends', (purpose) => {
    expect(purposeRule(purpose)).toBeUndefined();
  });
});
