import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pool } from '@ems/platform';
import { startCaptureSmtpServer, type CaptureSmtpServer } from '../src/index.ts';
import { asHr, asOperator, bootService, getEmail, http, interviewEmail, listEmails, managerNotice, OPERATOR, openCase, openDatabase, org, postEmail, waitFor, type RunningService } from './harness.ts';

/**
 * Who may use Notification's API, as the policy table says: only the EMS and HR service identities send
 * emails (a person's token never does, whatever their roles); only operators read what was sent. Real
 * tokens from the test identity provider, a real SMTP server on loopback.
 */

let database: Awaited<ReturnType<typeof openDatabase>>;
let pool: Pool;
let smtp: CaptureSmtpServer;
let svc: RunningService;

const HR_LEAD = org.roleAssignments.find((a) => a.role === 'hr_lead')!.personId;
/** An employee with no administrative role and nobody reporting to them: only the employee role. */
const EMPLOYEE = org.employees.find((e) => !org.roleAssignments.some((a) => a.personId === e.id) && !org.employees.some((r) => r.managerId === e.id))!.id;

beforeAll(async () => {
  database = await openDatabase();
  pool = database.pool;
  smtp = await startCaptureSmtpServer();
  // With the case's link in every notice, what reached the SMTP server can be told apart by case.
  svc = await bootService(database, { smtpUrl: smtp.url, caseUrl: (id) => `https://ems.example/cases/${id}` });
});

afterAll(async () => {
  await svc?.close();
  await smtp?.stop();
  await database?.close();
});

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  permission?: string;
}

const rowsOf = async (resignationId: string) =>
  (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM notification.emails WHERE resignation_id = $1', [resignationId])).rows[0]!.n;
/** What reached the SMTP server about a case: the messages carrying its link. */
const messagesAbout = (resignationId: string) => smtp.messages().filter((m) => m.text.includes(resignationId));
const messagesWithId = (messageId: string | null) => smtp.messages().filter((m) => m.messageId === messageId);

/**
 * Sends a legitimate email with the orchestrator's token and waits until the SMTP server has it: whatever
 * an earlier request could have set off (the fast path, the dispatcher) has had its turn by then.
 */
async function legitimateEmailArrives(): Promise<void> {
  const res = await postEmail(svc, managerNotice());
  expect(res.status).toBe(201);
  await waitFor('the legitimate email at the SMTP server', async () => (messagesWithId(res.body.messageId).length === 1 ? true : undefined));
  // …and the probe the refused requests are checked with finds it.
  expect(messagesAbout(res.body.resignationId)).toHaveLength(1);
}

describe('sending an email (sendEmail: service identities ems and hr only)', () => {
  it.each([
    ['the operator', OPERATOR],
    ['the HR lead', HR_LEAD],
  ])("when %s posts an email with their own token, then it is refused with 403 naming sendEmail, no email is stored and nothing reaches the SMTP server", async (_who, personId) => {
    const refused = managerNotice();
    const res = await postEmail(svc, refused, await svc.identity.as(personId));

    expect(res.status).toBe(403);
    expect(res.contentType).toContain('application/problem+json');
    const problem = res.body as unknown as Problem;
    expect(problem).toMatchObject({ status: 403, title: 'Forbidden', permission: 'sendEmail' });
    expect(await rowsOf(refused.resignationId)).toBe(0);

    await legitimateEmailArrives();
    expect(messagesAbout(refused.resignationId)).toHaveLength(0);
    expect(await rowsOf(refused.resignationId)).toBe(0);
  });

  it("when the orchestrator's token was issued for another service (Access), then it is refused with 401 and nothing is stored or sent", async () => {
    const refused = managerNotice();
    const res = await postEmail(svc, refused, await svc.identity.callAuth('ems')('access'));

    expect(res.status).toBe(401);
    expect(res.contentType).toContain('application/problem+json');
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(await rowsOf(refused.resignationId)).toBe(0);

    await legitimateEmailArrives();
    expect(messagesAbout(refused.resignationId)).toHaveLength(0);
  });

  it('when no token is sent, then 401 with a Bearer challenge, and nothing is stored', async () => {
    const refused = managerNotice();
    const res = await http<Problem>(`${svc.baseUrl}/api/emails`, { body: refused });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(await rowsOf(refused.resignationId)).toBe(0);
  });

  it("when HR sends an email (an exit-interview invitation) with its own service token, then it is accepted and sent", async () => {
    const request = interviewEmail(openCase(), 'employee');
    const res = await postEmail(svc, request, await asHr(svc));
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('sent');
    expect(messagesWithId(res.body.messageId)).toHaveLength(1);
    expect(messagesWithId(res.body.messageId)[0]!.envelope.to).toEqual([request.to.email]);
  });
});

describe('reading emails (listEmails, getEmail: operators only)', () => {
  it('when an employee lists or reads emails, then 403 naming the permission; the operator reads the same email', async () => {
    const sent = await postEmail(svc, managerNotice());
    expect(sent.status).toBe(201);
    const employee = await svc.identity.as(EMPLOYEE);

    const list = await listEmails(svc, `resignationId=${sent.body.resignationId}`, employee);
    expect(list.status).toBe(403);
    expect(list.contentType).toContain('application/problem+json');
    expect((list.body as unknown as Problem).permission).toBe('listEmails');
    const one = await http<Problem>(`${svc.baseUrl}/api/emails/${sent.body.id}`, { headers: employee });
    expect(one.status).toBe(403);
    expect(one.body.permission).toBe('getEmail');

    const asOp = await listEmails(svc, `resignationId=${sent.body.resignationId}`, await asOperator(svc));
    expect(asOp.status).toBe(200);
    expect(asOp.body.items.map((e) => e.id)).toEqual([sent.body.id]);
    expect((await getEmail(svc, sent.body.id)).body).toEqual(sent.body);
  });

  it("when the orchestrator's service token lists emails, then 403: reading what was sent is an operator's", async () => {
    const res = await listEmails(svc, 'limit=1', await svc.identity.callAuth('ems')('notification'));
    expect(res.status).toBe(403);
    expect((res.body as unknown as Problem).permission).toBe('listEmails');
  });
});
