import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { notification as api } from '@ems/contracts';
import { announcementOutcome, decisionNoticePurpose, decisionNoticeRequests, type AnnouncedEmail, type DecisionFacts } from './decision-notice.ts';
import { prepareEmail } from './templates.ts';

const facts: DecisionFacts = {
  resignationId: randomUUID(),
  decision: 'exit_confirmed',
  revision: 2,
  employee: { name: 'Alice Leaver', email: 'alice@acme.example' },
  manager: { name: 'Dana Boss', email: 'dana@acme.example' },
  note: 'All the best',
  lastWorkingDay: '2026-03-31',
  revokeAt: '2026-03-31T22:00:00.000Z',
};

describe('decision notice purposes', () => {
  it('when a purpose is built, then it names decision, revision and audience; the data says the same, typed', () => {
    const purpose = decisionNoticePurpose('exit_confirmed', 12, 'manager');
    expect(purpose).toBe('decision-notice:exit_confirmed:12:manager');
    const [manager] = decisionNoticeRequests({ ...facts, revision: 12 }, null);
    expect(manager!.purpose).toBe(purpose);
    expect(manager!.data).toMatchObject({ decision: 'exit_confirmed', revision: 12, audience: 'manager' });
  });
});

describe('decisionNoticeRequests', () => {
  it('when there is a manager, then the manager and the employee each get a valid notice worded for them, the manager first', () => {
    const requests = decisionNoticeRequests(facts, 'https://ems.example/cases/1');
    expect(requests.map((r) => [r.purpose, r.to.email, r.data.audience, r.data.recipientName])).toEqual([
      ['decision-notice:exit_confirmed:2:manager', 'dana@acme.example', 'manager', 'Dana Boss'],
      ['decision-notice:exit_confirmed:2:employee', 'alice@acme.example', 'employee', 'Alice Leaver'],
    ]);
    for (const r of requests) {
      expect(api.SendEmailRequest.safeParse(r).success).toBe(true);
      expect(prepareEmail(r.template, r.data).ok).toBe(true);
      expect(r.data).toMatchObject({ employeeName: 'Alice Leaver', decision: 'exit_confirmed', lastWorkingDay: '2026-03-31', revokeAt: facts.revokeAt, note: 'All the best', caseUrl: 'https://ems.example/cases/1' });
    }
  });

  it('when there is no manager, then only the employee is told', () => {
    const requests = decisionNoticeRequests({ ...facts, decision: 'withdrawn', revision: 1, manager: null, lastWorkingDay: undefined, revokeAt: undefined }, null);
    expect(requests.map((r) => r.purpose)).toEqual(['decision-notice:withdrawn:1:employee']);
    expect(prepareEmail(requests[0]!.template, requests[0]!.data).ok).toBe(true);
  });
});

describe('announcementOutcome', () => {
  const email = (audience: 'manager' | 'employee', status: AnnouncedEmail['status'], over: Partial<AnnouncedEmail> = {}): AnnouncedEmail => ({
    id: `${audience}-id`,
    audience,
    recipient: `${audience}@acme.example`,
    status,
    lastError: status === 'failed' ? '550 No such user' : null,
    causationId: 'event-1',
    ...over,
  });

  it('when an email is still queued, then the announcement is not over', () => {
    expect(announcementOutcome([email('manager', 'sent'), email('employee', 'queued')])).toEqual({ settled: false });
    expect(announcementOutcome([email('manager', 'failed'), email('employee', 'queued')])).toEqual({ settled: false });
  });

  it("when only the manager's notice exists, then it waits for the employee's", () => {
    expect(announcementOutcome([email('manager', 'sent')])).toEqual({ settled: false });
    expect(announcementOutcome([])).toEqual({ settled: false });
  });

  it('when every email was sent, then it is announced with the manager first, whatever order the rows came in', () => {
    expect(announcementOutcome([email('employee', 'sent'), email('manager', 'sent')])).toEqual({
      settled: true,
      outcome: 'announced',
      emailIds: ['manager-id', 'employee-id'],
      recipients: ['manager@acme.example', 'employee@acme.example'],
    });
    expect(announcementOutcome([email('employee', 'sent')])).toMatchObject({ outcome: 'announced', recipients: ['employee@acme.example'] });
  });

  it('when one email was given up, then the announcement failed, naming the recipient, the SMTP error and the cause', () => {
    const outcome = announcementOutcome([email('manager', 'failed', { causationId: null }), email('employee', 'sent')]);
    expect(outcome).toEqual({
      settled: true,
      outcome: 'failed',
      reason: 'the decision notice to manager@acme.example could not be delivered: 550 No such user',
      causationId: 'manager-id',
    });
  });
});
