import { describe, expect, it } from 'vitest';
import { createLogger } from '@ems/platform';
import { inviteEmails, type InterviewInvite } from '../domain/calendar-invite.ts';
import { invitesNotSent, outboxRows } from './outbox.ts';

const log = createLogger({ level: 'silent' });

/** An address Notification refuses (longer than its 254 characters) though the directory may hold it. */
const tooLong = (local: string) => `${local}@${`${'a'.repeat(60)}.`.repeat(4)}example.com`;

/** An interview of two people who share a name: nothing in an invite's data tells their invites apart. */
const invite = (addresses: { employee: string; hrPartner: string }): InterviewInvite => ({
  interviewId: '0b7a3c52-5a8e-4f0e-9f3a-3d1f8c2b6a10',
  resignationId: '5f2c9d1e-7b4a-4c3e-8a6f-2e9d0c1b3a47',
  uid: '0b7a3c52-5a8e-4f0e-9f3a-3d1f8c2b6a10@ems.example.com',
  sequence: 0,
  start: new Date('2026-03-03T09:00:00Z'),
  end: new Date('2026-03-03T09:30:00Z'),
  employee: { name: 'Alex Kim', email: addresses.employee, timezone: 'Europe/Berlin' },
  hrPartner: { name: 'Alex Kim', email: addresses.hrPartner, timezone: 'Europe/Berlin' },
});
const stamp = new Date('2026-03-02T10:00:00Z');

describe('an invite Notification would refuse, and whom it was for', () => {
  const cases = [
    { whose: 'hrPartner', addresses: { employee: 'alex.kim@example.com', hrPartner: tooLong('alex.kim.hr') } },
    { whose: 'employee', addresses: { employee: tooLong('alex.kim'), hrPartner: 'alex.kim.hr@example.com' } },
  ] as const;
  for (const { whose, addresses } of cases) {
    it(`when the employee and the HR partner share a name and the ${whose} address is refused, then it is reported as the ${whose} one, in any order and alone`, () => {
      const rows = outboxRows('0b7a3c52-5a8e-4f0e-9f3a-3d1f8c2b6a10', inviteEmails('REQUEST', invite(addresses), stamp), log);
      const refused = rows.find((r) => r.status === 'failed')!;
      const reason = `Notification refuses this email to ${addresses[whose]} (to.email: `;

      expect(refused).toMatchObject({ invitee: whose, attempts: 0, last_error: `not sent: ${refused.not_sent}` });
      expect(refused.not_sent).toContain(reason);
      const expected = [{ to: whose, reason: refused.not_sent }];
      expect(invitesNotSent(rows)).toEqual(expected);
      // As read back: in another order, or the refused row alone (what storedInvitesNotSent reads): a guess by place is wrong in one.
      expect(invitesNotSent([...rows].reverse())).toEqual(expected);
      expect(invitesNotSent([{ invitee: refused.invitee, not_sent: refused.not_sent }])).toEqual(expected);
    });
  }

  it('when both invites can be sent, then none is reported', () => {
    const rows = outboxRows('0b7a3c52-5a8e-4f0e-9f3a-3d1f8c2b6a10', inviteEmails('REQUEST', invite({ employee: 'alex.kim@example.com', hrPartner: 'alex.kim.hr@example.com' }), stamp), log);
    expect(rows.map((r) => [r.invitee, r.status, r.not_sent])).toEqual([
      ['employee', 'pending', null],
      ['hrPartner', 'pending', null],
    ]);
    expect(invitesNotSent(rows)).toEqual([]);
  });

  it('when the refusal is long, then last_error keeps its 2000 characters and the reason is what follows "not sent: "', () => {
    const rows = outboxRows('0b7a3c52-5a8e-4f0e-9f3a-3d1f8c2b6a10', inviteEmails('REQUEST', invite({ employee: 'alex.kim@example.com', hrPartner: tooLong('x'.repeat(2100)) }), stamp), log);
    const refused = rows.find((r) => r.status === 'failed')!;
    expect(refused.last_error).toHaveLength(2000);
    expect(refused.last_error).toBe(`not sent: ${refused.not_sent}`);
  });
});
