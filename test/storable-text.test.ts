/**
 * Text PostgreSQL cannot store — a NUL character, a lone UTF-16 surrogate — is refused at the edge with a
 * 400 problem+json naming the field, and nothing changes: no case is opened, a case's status and decision
 * stay as they were, no interview is touched, no webhook or token is created. (Before, such text was
 * accepted and failed inside PostgreSQL: a 500, or a 202 and a case stuck retrying.) Real EMS, real
 * PostgreSQL, real tokens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoOrg } from '@ems/demo-org';
import { createSecrets } from '@ems/identity';
import { serviceToken, TEST_SECRETS_KEY } from '@ems/identity/testing';
import { waitFor } from '@ems/platform/testing';
import { employeePicker, http, OPERATOR, startAcceptanceEms, tokenFor, type AcceptanceEnv } from './acceptance/harness.ts';

const org = demoOrg();
const { takeEmployee } = employeePicker(org);
const secrets = createSecrets(Buffer.from(TEST_SECRETS_KEY, 'base64'));

interface Problem {
  type: string;
  status: number;
  errors?: Array<{ path: string; message: string }>;
}

/** What a user cannot store: each is sent in JSON as an escape (`\u0000`, `\ud800`), as a client would. */
const HOSTILE = [
  { name: 'a NUL character', text: 'before\u0000after', message: /NUL/, url: true },
  // A URL cannot carry a lone surrogate (percent-encoding is of UTF-8 bytes): JSON bodies only.
  { name: 'a lone high surrogate', text: 'before\ud800after', message: /well-formed Unicode/, url: false },
  { name: 'a lone low surrogate', text: '\udc00', message: /well-formed Unicode/, url: false },
] as const;

describe('storable text at every edge', () => {
  let env: AcceptanceEnv;
  let base: string;
  /** A case awaiting a decision, with its interview booked. */
  let caseId: string;
  let interviewId: string;
  let caseEmployeeId: string;

  beforeAll(async () => {
    env = await startAcceptanceEms('orchestration', 'storable_text');
    base = env.base;
    const employee = takeEmployee();
    caseEmployeeId = employee.id;
    const submitted = await http<{ id: string }>(base, 'POST', '/api/resignations', { employeeId: employee.id, reason: 'A new role' });
    expect(submitted.status).toBe(201);
    caseId = submitted.body.id;
    await waitFor(async () => ((await http<{ status: string }>(base, 'GET', `/api/resignations/${caseId}`)).body.status === 'awaiting_decision' ? true : undefined), 'the case awaits a decision', 60_000);
    const interviews = await http<{ items: Array<{ id: string }> }>(base, 'GET', `/api/interviews?resignationId=${caseId}`);
    interviewId = interviews.body.items[0]!.id;
  });
  afterAll(async () => {
    await env?.stop();
  });

  /** How many rows a list shows (every list here stays far below one page of 100). */
  const count = async (path: string, as?: string) => {
    const res = await http<{ items: unknown[] }>(base, 'GET', `${path}?limit=100`, undefined, as ? { authorization: `Bearer ${await tokenFor(base, as)}` } : {});
    expect(res.status, `GET ${path}`).toBe(200);
    return res.body.items.length;
  };
  /** Everything a refused request might have changed, as the API shows it. */
  const snapshot = async () => ({
    cases: await count('/api/resignations'),
    theCase: (await http(base, 'GET', `/api/resignations/${caseId}`)).body,
    interview: (await http(base, 'GET', `/api/interviews/${interviewId}`)).body,
    webhooks: await count('/api/webhooks'),
    tokens: await count('/api/api-tokens', OPERATOR),
    holds: await count('/api/access-holds'),
    emails: await count('/api/emails'),
  });

  /** Each free-text field at each edge: the request carrying `text`, and the field the problem must name. */
  const FIELDS: Array<{ field: string; inUrl?: true; send: (text: string) => Promise<{ status: number; body: Problem }> }> = [
    { field: 'body.reason', send: (t) => http<Problem>(base, 'POST', '/api/resignations', { employeeId: takeEmployeeId(), reason: t }) },
    { field: 'body.note', send: (t) => http<Problem>(base, 'POST', `/api/resignations/${caseId}/decision`, { decision: 'retained', note: t }) },
    { field: 'body.note', send: (t) => http<Problem>(base, 'POST', `/api/resignations/${caseId}/withdrawal`, { note: t }) },
    { field: 'querystring.q', inUrl: true, send: (t) => http<Problem>(base, 'GET', `/api/employees?q=${encodeURIComponent(t)}`) },
    { field: 'querystring.to', inUrl: true, send: (t) => http<Problem>(base, 'GET', `/api/emails?to=${encodeURIComponent(t)}`) },
    { field: 'params.id', inUrl: true, send: (t) => http<Problem>(base, 'GET', `/api/hr-partners/${encodeURIComponent(t)}`) },
    { field: 'body.notes', send: (t) => http<Problem>(base, 'POST', `/api/interviews/${interviewId}/held`, { notes: t }) },
    { field: 'body.reason', send: (t) => http<Problem>(base, 'POST', `/api/interviews/${interviewId}/cancel`, { reason: t }) },
    { field: 'body.description', send: (t) => http<Problem>(base, 'POST', '/api/webhooks', { url: 'http://127.0.0.1:9/hook', eventTypes: ['com.ems.resignation.submitted.v1'], description: t }) },
    { field: 'body.name', send: async (t) => http<Problem>(base, 'POST', '/api/api-tokens', { name: t, personId: org.employees[0]!.id }, { authorization: `Bearer ${await tokenFor(base, OPERATOR)}` }) },
    {
      field: 'body.reason',
      send: async (t) => http<Problem>(base, 'POST', '/api/access-holds', { resignationId: caseId, employeeId: takeEmployeeId(), reason: t }, { authorization: `Bearer ${await serviceToken(base, secrets, 'ems', 'access')}` }),
    },
    {
      // A service acting for someone names them in a header: base64url of the Actor's JSON, the text inside checked too.
      field: 'headers.x-ems-on-behalf-of.name',
      send: async (t) =>
        http<Problem>(base, 'POST', '/api/access-holds', { resignationId: caseId, employeeId: caseEmployeeId }, {
          authorization: `Bearer ${await serviceToken(base, secrets, 'ems', 'access')}`,
          'x-ems-on-behalf-of': Buffer.from(JSON.stringify({ id: 'hr-lead', kind: 'person', name: t, role: 'hr_lead', client: 'ems-cli' })).toString('base64url'),
        }),
    },
    {
      field: 'body.data.managerName',
      send: async (t) =>
        http<Problem>(
          base,
          'POST',
          '/api/emails',
          { resignationId: caseId, purpose: 'manager-notice', to: { email: 'someone@example.com' }, template: 'resignation-manager-notice', data: { managerName: t } },
          { authorization: `Bearer ${await serviceToken(base, secrets, 'ems', 'notification')}` },
        ),
    },
  ];
  const spare = org.employees.filter((e) => e.managerId).slice(-10).map((e) => e.id);
  const takeEmployeeId = () => spare[0]!;

  for (const hostile of HOSTILE) {
    it(`when ${hostile.name} is sent in a free-text field${hostile.url ? ', a query or a path' : ''}, then each answer is 400 problem+json naming the field and nothing changes`, async () => {
      const before = await snapshot();
      for (const { field, inUrl, send } of FIELDS) {
        if (inUrl && !hostile.url) continue;
        const res = await send(hostile.text);
        expect(res.status, `${field}: ${JSON.stringify(res.body)}`).toBe(400);
        expect(res.body.type).toBe('https://ems.dev/problems/validation');
        const named = res.body.errors?.find((e) => e.path === field);
        expect(named, `${field} named in ${JSON.stringify(res.body.errors)}`).toBeDefined();
        expect(named!.message).toMatch(hostile.message);
      }
      expect(await snapshot()).toEqual(before);
    });
  }

  it('when free text carries tabs, line breaks and any well-formed Unicode, then it is accepted and stored as sent', async () => {
    const description = 'Line one\n\tindented — “quoted” 😀 日本語\r\nend';
    const registered = await http<{ id: string }>(base, 'POST', '/api/webhooks', { url: 'http://127.0.0.1:9/hook', eventTypes: ['com.ems.resignation.submitted.v1'], description });
    expect(registered.status).toBe(201);
    const read = await http<{ description: string }>(base, 'GET', `/api/webhooks/${registered.body.id}`);
    expect(read.body.description).toBe(description);
  });
});
