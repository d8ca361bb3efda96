import { describe, expect, it } from 'vitest';
import { refusalProblem } from './problem.ts';
import { isRefusal, Refusal, refuse } from './refusal.ts';

describe('refusal → problem+json (the one mapping)', () => {
  it('when a use case refuses, then each kind answers its status, with its facts and issues as problem members', () => {
    const statuses = (['invalid', 'not-found', 'conflict', 'forbidden', 'not-allowed', 'upstream', 'unavailable'] as const).map((k) => refusalProblem(new Refusal(k, 'no')).status);
    expect(statuses).toEqual([400, 404, 409, 403, 422, 502, 503]);

    const conflict = refusalProblem(refuse.conflict('key reused', { detail: { emailId: 'e1' } })).toJSON('/api/emails');
    expect(conflict).toEqual({ type: 'https://ems.dev/problems/conflict', title: 'Conflict', status: 409, detail: 'key reused', instance: '/api/emails', emailId: 'e1' });

    const invalid = refusalProblem(refuse.invalid('bad', { issues: [{ path: 'body.emails.1.data', message: 'required' }] })).toJSON();
    expect(invalid).toMatchObject({ type: 'https://ems.dev/problems/validation', title: 'Invalid request', status: 400, errors: [{ path: 'body.emails.1.data', message: 'required' }] });

    const typed = refusalProblem(refuse.notAllowed('not the manager', { type: 'https://ems.dev/problems/recipient-not-allowed', title: 'Not an email EMS sends' })).toJSON();
    expect(typed).toMatchObject({ type: 'https://ems.dev/problems/recipient-not-allowed', title: 'Not an email EMS sends', status: 422 });
  });

  it('when something else is thrown, then it is no refusal', () => {
    expect(isRefusal(new Error('boom'))).toBe(false);
    expect(isRefusal(refuse.notFound('gone'))).toBe(true);
  });
});
