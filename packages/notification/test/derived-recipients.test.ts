import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceCallError, type Pool } from '@ems/platform';
import type { notification as api } from '@ems/contracts';
import { startCaptureSmtpServer, type CapturedMessage, type CaptureSmtpServer } from '../src/index.ts';
import {
  asHr,
  bootService,
  cases,
  decisionNotice,
  followUp,
  HR_LEAD,
  interviewEmail,
  managerNotice,
  openCase,
  openDatabase,
  org,
  postEmail,
  recipientsFor,
  waitFor,
  type Reply,
  type RunningService,
  type TestCase,
} from './harness.ts';

/**
 * POST /api/emails sends only an email EMS sends: for a case EMS knows, to the person its purpose names in
 * the identity directory (with the directory's address and name), linking only to the case's page, with
 * attachments only on HR's calendar invites. The cases stand in for EMS's answer (harness `cases`); the
 * directory is the real one (the demo organisation in the identity schema of the test database). Real
 * PostgreSQL, real SMTP on loopback, real tokens.
 *
 * Every case opened here is of another demo employee (fewer cases than employees), so a message can be
 * told apart by its case's link or its employee's name.
 */

let database: Awaited<ReturnType<typeof openDatabase>>;
let pool: Pool;
let smtp: CaptureSmtpServer;
let svc: RunningService;

const caseUrl = (id: string) => `https://ems.example/cases/${id}`;
const PHISHING = 'https://evil.example/login';

beforeAll(async () => {
  database = await openDatabase();
  pool = database.pool;
  smtp = await startCaptureSmtpServer();
  svc = await bootService(database, { smtpUrl: smtp.url, caseUrl });
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
  errors?: { path: string; message: string }[];
}

interface StoredEmail {
  recipient: string;
  recipient_name: string | null;
}
const rowsOf = async (resignationId: string) =>
  (await pool.query<StoredEmail>('SELECT recipient, recipient_name FROM notification.emails WHERE resignation_id = $1', [resignationId])).rows;
const allRows = async () => (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM notification.emails')).rows[0]!.n;
const messageWithId = (messageId: string | null) => smtp.messages().filter((m) => m.messageId === messageId);
/**
 * What reached the SMTP server about a case: messages carrying its link (manager and decision notices,
 * follow-ups) or naming its employee in the subject (interview invitations carry no link; every case in
 * this file is of another employee).
 */
const messagesAbout = (kase: TestCase) => smtp.messages().filter((m) => m.text.includes(kase.resignationId) || m.subject.includes(kase.employee.name));
const messagesTo = (address: string) => smtp.messages().filter((m) => m.envelope.to.some((a) => a.toLowerCase() === address.toLowerCase()));

/** Posts a legitimate email and waits until the SMTP server has it: whatever an earlier request set off has had its turn by then. */
async function arrives(request: object, headers: Record<string, string> = {}): Promise<{ reply: Reply<api.Email>; message: CapturedMessage }> {
  const reply = await postEmail(svc, request, headers);
  expect(reply.status).toBe(201);
  const message = await waitFor('the legitimate email at the SMTP server', async () => messageWithId(reply.body.messageId)[0]);
  return { reply, message };
}

function expectRefused(res: Reply<api.Email>, path: string): void {
  expect(res.status).toBe(422);
  expect(res.contentType).toContain('application/problem+json');
  const problem = res.body as unknown as Problem;
  expect(problem).toMatchObject({ status: 422, type: 'https://ems.dev/problems/recipient-not-allowed', title: 'Not an email EMS sends' });
  expect(problem.errors?.map((e) => e.path)).toEqual([path]);
}

/** A manager in the demo organisation who is not `kase`'s manager. */
const anotherManager = (kase: TestCase) => org.employees.find((m) => m.id !== kase.manager.id && m.id !== kase.employee.id && org.employees.some((e) => e.managerId === m.id))!;
/** An HR partner who is not `kase`'s. */
const anotherPartner = (kase: TestCase) => org.hrPartners.find((p) => p.id !== kase.hrPartner.id)!;

describe('the case must be one EMS knows', () => {
  it('when the case is unknown, then 404 and nothing is stored or sent', async () => {
    const before = await allRows();
    const unknown = { ...managerNotice(), resignationId: randomUUID() };
    const res = await postEmail(svc, unknown);

    expect(res.status).toBe(404);
    expect(res.contentType).toContain('application/problem+json');
    expect(res.body as unknown as Problem).toMatchObject({ status: 404, type: 'https://ems.dev/problems/unknown-case' });
    expect(await rowsOf(unknown.resignationId)).toEqual([]);
    expect(await allRows()).toBe(before);

    await arrives(managerNotice());
    expect(smtp.messages().filter((m) => m.text.includes(unknown.resignationId))).toHaveLength(0);
  });

  it("when the case's employee is not in the directory, then 422 naming body.resignationId and nothing is stored", async () => {
    const resignationId = cases.add(randomUUID(), 'E-not-in-the-directory');
    const res = await postEmail(svc, { ...managerNotice(), resignationId });
    expectRefused(res, 'body.resignationId');
    expect(await rowsOf(resignationId)).toEqual([]);
  });

  it.each([
    ['EMS cannot be reached', new ServiceCallError('connect ECONNREFUSED', undefined, true), 503],
    ['EMS answers something that is not a case', new ServiceCallError('EMS answered a case that does not match the contract', undefined, false), 502],
  ])('when %s, then %i and nothing is stored', async (_what, error, status) => {
    const unsure = await bootService(database, { smtpUrl: smtp.url, caseUrl, recipients: { ...recipientsFor(pool), cases: { get: () => Promise.reject(error) } } }, { start: false });
    try {
      const request = managerNotice();
      const res = await postEmail(unsure, request);
      expect(res.status).toBe(status);
      expect(res.contentType).toContain('application/problem+json');
      expect(await rowsOf(request.resignationId)).toEqual([]);
    } finally {
      await unsure.close();
    }
  });
});

describe('the recipient is the person the purpose names for the case', () => {
  const ATTACKER = 'attacker@evil.example';
  it.each([
    ['a manager notice', 'the employee', (k: TestCase) => managerNotice(k, { email: k.employee.email, name: k.employee.name }), managerNotice],
    ['a manager notice', 'an outsider', (k: TestCase) => managerNotice(k, { email: ATTACKER, name: k.manager.name }), managerNotice],
    ['a manager notice', "another employee's manager", (k: TestCase) => managerNotice(k, { email: anotherManager(k).email }), managerNotice],
    ['a manager notice', 'the HR partner', (k: TestCase) => managerNotice(k, { email: k.hrPartner.email }), managerNotice],
    ["the employee's decision notice", 'the manager', (k: TestCase) => decisionNotice(k, 'employee', { email: k.manager.email }), (k: TestCase) => decisionNotice(k, 'employee')],
    ["the manager's decision notice", 'an outsider', (k: TestCase) => decisionNotice(k, 'manager', { email: ATTACKER }), (k: TestCase) => decisionNotice(k, 'manager')],
  ])('when %s is addressed to %s, then 422 naming body.to.email, nothing is stored and nothing reaches the SMTP server', async (_what, _who, refusedFor, legitimateFor) => {
    const kase = openCase();
    const refused = refusedFor(kase);
    const res = await postEmail(svc, refused);

    expectRefused(res, 'body.to.email');
    expect(await rowsOf(kase.resignationId)).toEqual([]);

    // The barrier: the email the case may have, to its real recipient, arrives; the refused one never did.
    const { message } = await arrives(legitimateFor(kase));
    expect(messagesAbout(kase)).toEqual([message]);
    expect(messagesTo(ATTACKER)).toHaveLength(0);
    expect(await rowsOf(kase.resignationId)).toHaveLength(1);
  });

  it("when the manager's address comes in other letter case with another display name, then the email goes to the directory's address and name", async () => {
    // A case whose manager's name is plain letters, so the To header can be read as it was sent.
    let kase = openCase();
    while (!/^[A-Za-z ]+$/.test(kase.manager.name)) kase = openCase();
    const { manager } = kase;
    const shouted = manager.email.toUpperCase();
    expect(shouted).not.toBe(manager.email);

    const { reply, message } = await arrives(managerNotice(kase, { email: shouted, name: 'Not The Manager' }));
    expect(reply.body.to).toBe(manager.email);
    expect(await rowsOf(kase.resignationId)).toEqual([{ recipient: manager.email, recipient_name: manager.name }]);
    expect(message.envelope.to).toEqual([manager.email]);
    expect(message.to).toEqual([manager.email]);
    const toHeader = message.headerLines.filter((h) => h.key === 'to').map((h) => h.line);
    expect(toHeader).toEqual([`To: ${manager.name} <${manager.email}>`]);
    expect(JSON.stringify(message.headerLines)).not.toContain('Not The Manager');
    expect(JSON.stringify(message.headerLines)).not.toContain(shouted);
  });
});

describe('the only link is the case page', () => {
  it.each([
    ['a manager notice', (k: TestCase) => managerNotice(k, { data: { caseUrl: PHISHING } })],
    ['a decision notice', (k: TestCase) => decisionNotice(k, 'employee', { data: { caseUrl: PHISHING } })],
    ['a follow-up', (k: TestCase) => followUp(k, 'reminder', { data: { caseUrl: PHISHING } })],
  ])("when %s carries a caseUrl pointing elsewhere, then the delivered email links to the case's page instead", async (_what, requestFor) => {
    const kase = openCase();
    const { message } = await arrives(requestFor(kase));
    expect(message.text).toContain(`Case details: ${caseUrl(kase.resignationId)}`);
    expect(message.html).toContain(`<a href="${caseUrl(kase.resignationId)}">View the case</a>`);
    expect(message.text).not.toContain('evil.example');
    expect(message.html).not.toContain('evil.example');
  });

  it('when the service has no case page to link to, then a caller-supplied link is dropped', async () => {
    const unlinked = await bootService(database, { smtpUrl: smtp.url }, { start: false });
    try {
      const kase = openCase();
      const res = await postEmail(unlinked, managerNotice(kase, { data: { caseUrl: PHISHING } }));
      expect(res.status).toBe(201);
      expect(res.body.status).toBe('sent');
      const [message] = messageWithId(res.body.messageId);
      expect(message!.text).not.toContain('evil.example');
      expect(message!.html).not.toContain('evil.example');
      expect(message!.text).not.toContain('Case details:');
    } finally {
      await unlinked.close();
    }
  });
});

describe("attachments only on HR's calendar invites", () => {
  it('when HR sends an invite with its .ics file, then it is accepted and delivered with it', async () => {
    const kase = openCase();
    const { reply, message } = await arrives(interviewEmail(kase, 'employee'), await asHr(svc));
    expect(reply.body).toMatchObject({ to: kase.employee.email, status: 'sent', attachments: [{ filename: 'exit-interview.ics', contentType: 'text/calendar; method=REQUEST' }] });
    expect(message.attachments.filter((a) => a.filename === 'exit-interview.ics')).toHaveLength(1);

    // …and to the HR partner of the case, the invite's other reader.
    const toPartner = await arrives(interviewEmail(kase, 'hr_partner'), await asHr(svc));
    expect(toPartner.message.envelope.to).toEqual([kase.hrPartner.email]);
  });

  const pdf = [{ filename: 'contract.pdf', contentType: 'application/pdf', content: '%PDF-1.7' }];
  it.each([
    ['the ems service identity sends an invite with its .ics', 'ems', (k: TestCase) => interviewEmail(k, 'employee')],
    ['HR sends an invite with a non-calendar attachment', 'hr', (k: TestCase) => interviewEmail(k, 'employee', { attachments: pdf })],
    ['HR sends an invite with its .ics and a non-calendar attachment', 'hr', (k: TestCase) => {
      const invite = interviewEmail(k, 'employee');
      return { ...invite, attachments: [...invite.attachments, ...pdf] };
    }],
    ['HR attaches an .ics to a manager notice', 'hr', (k: TestCase) => ({ ...managerNotice(k), attachments: interviewEmail(k, 'employee').attachments })],
  ] as const)('when %s, then 422 naming body.attachments and nothing is stored or sent', async (_what, caller, requestFor) => {
    const kase = openCase();
    const headers = caller === 'hr' ? await asHr(svc) : {};
    const res = await postEmail(svc, requestFor(kase), headers);
    expectRefused(res, 'body.attachments');
    expect(await rowsOf(kase.resignationId)).toEqual([]);

    const { message } = await arrives(interviewEmail(kase, 'employee'), await asHr(svc));
    expect(messagesAbout(kase)).toEqual([message]);
  });
});

describe('follow-ups: a reminder to the HR partner, an escalation to an HR lead', () => {
  it('the HR lead is hr-lead, who holds the hr_lead role', () => {
    expect(HR_LEAD.id).toBe('hr-lead');
    expect(org.roleAssignments.filter((a) => a.role === 'hr_lead').map((a) => a.personId)).toEqual([HR_LEAD.id]);
  });

  it.each([
    ['an escalation', 'the HR partner', (k: TestCase) => followUp(k, 'escalation', { email: k.hrPartner.email })],
    ['an escalation', 'the manager', (k: TestCase) => followUp(k, 'escalation', { email: k.manager.email })],
    ['a reminder', 'the HR lead', (k: TestCase) => followUp(k, 'reminder', { email: k.hrLead.email })],
    ['a reminder', "another department's HR partner", (k: TestCase) => followUp(k, 'reminder', { email: anotherPartner(k).email })],
  ])('when %s is addressed to %s, then 422 naming body.to.email and nothing is stored', async (_what, _who, requestFor) => {
    const kase = openCase();
    const res = await postEmail(svc, requestFor(kase));
    expectRefused(res, 'body.to.email');
    expect(await rowsOf(kase.resignationId)).toEqual([]);
  });

  it('when an escalation goes to the HR lead and a reminder to the HR partner, then both are sent, to them', async () => {
    const kase = openCase();
    const escalation = await arrives(followUp(kase, 'escalation', { milestone: 'interview_held' }));
    expect(escalation.reply.body.to).toBe(HR_LEAD.email);
    expect(escalation.message.envelope.to).toEqual([HR_LEAD.email]);
    const reminder = await arrives(followUp(kase, 'reminder', { milestone: 'interview_scheduled' }));
    expect(reminder.reply.body.to).toBe(kase.hrPartner.email);
    expect(reminder.message.envelope.to).toEqual([kase.hrPartner.email]);
    expect((await rowsOf(kase.resignationId)).map((r) => r.recipient).sort()).toEqual([HR_LEAD.email, kase.hrPartner.email].sort());
  });
});

describe('only purposes EMS sends', () => {
  it.each([
    'newsletter',
    'reminder',
    'manager-notice:again',
    'follow-up:decision:escalation',
    'follow-up:coffee.reminder',
    'decision-notice:fired:1:employee',
    'decision-notice:retained:1:hr_partner',
    'interview-invite:not-an-interview:0',
  ])('when a manager notice says purpose %s, then 400 naming body.purpose (purposes are typed per template) and nothing is stored', async (purpose) => {
    const kase = openCase();
    const res = await postEmail(svc, { ...managerNotice(kase), purpose });
    expect(res.status).toBe(400);
    expect(res.contentType).toContain('application/problem+json');
    expect((res.body as unknown as { errors: { path: string }[] }).errors.map((e) => e.path)).toContain('body.purpose');
    expect(await rowsOf(kase.resignationId)).toEqual([]);
  });

  it('when a well-formed drift alert is requested over HTTP, then 422 naming body.purpose: Notification sends those itself, on the event', async () => {
    const kase = openCase();
    const res = await postEmail(svc, {
      resignationId: kase.resignationId,
      purpose: `access-drift:${kase.resignationId}`,
      to: { email: kase.manager.email },
      template: 'access-drift-alert',
      data: { recipientName: 'R', employeeId: kase.employee.id, systemId: 'github', kind: 'account_enabled', detail: 'enabled again', detectedAt: new Date().toISOString() },
      attachments: [],
    });
    expectRefused(res, 'body.purpose');
    expect(await rowsOf(kase.resignationId)).toEqual([]);
  });
});
