import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pool } from '@ems/platform';
import type { notification as api } from '@ems/contracts';
import { startCaptureSmtpServer, type CaptureSmtpServer } from '../src/index.ts';
import { asHr, bootService, followUp, getEmail, http, interviewEmail, listEmails, managerNotice, openCase, openDatabase, postEmail, type RunningService } from './harness.ts';

let database: Awaited<ReturnType<typeof openDatabase>>;
let pool: Pool;
let smtp: CaptureSmtpServer;
let svc: RunningService;

beforeAll(async () => {
  database = await openDatabase();
  pool = database.pool;
  smtp = await startCaptureSmtpServer();
  svc = await bootService(database, { smtpUrl: smtp.url, from: 'EMS Test <ems@acme.example>' });
});

afterAll(async () => {
  await svc?.close();
  await smtp?.stop();
  await database?.close();
});

const messagesWithId = (messageId: string | null) => smtp.messages().filter((m) => m.messageId === messageId);
const rowCount = async (resignationId?: string) =>
  Number(
    (
      await pool.query<{ n: string }>(
        resignationId ? 'SELECT count(*) AS n FROM notification.emails WHERE resignation_id = $1' : 'SELECT count(*) AS n FROM notification.emails',
        resignationId ? [resignationId] : [],
      )
    ).rows[0]!.n,
  );

describe('POST /api/emails', () => {
  it('when a valid email is requested, then it is sent over SMTP once and the answer already says sent', async () => {
    const kase = openCase();
    const { manager, employee } = kase;
    const request = managerNotice(kase);
    const res = await postEmail(svc, request);

    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(`/api/emails/${res.body.id}`);
    expect(res.body).toMatchObject({
      resignationId: request.resignationId,
      purpose: 'manager-notice',
      to: manager.email,
      template: 'resignation-manager-notice',
      status: 'sent',
      attempts: 1,
      messageId: `<${res.body.id}@ems.local>`,
      lastError: null,
      attachments: [],
    });
    expect(res.body.subject).toBe(`Resignation: ${employee.name}, last working day Friday, 12 December 2025`);
    expect(res.body.sentAt).not.toBeNull();

    const [message, ...more] = messagesWithId(res.body.messageId);
    expect(more).toHaveLength(0);
    expect(message).toMatchObject({
      from: '"EMS Test" <ems@acme.example>',
      to: [manager.email],
      envelope: { from: 'ems@acme.example', to: [manager.email] },
      subject: res.body.subject,
    });
    expect(message!.text).toContain(`Dear ${manager.name},`);
    expect(message!.text).toContain(`${employee.name} (employee ID ${employee.id}) has resigned.`);
    expect(message!.html).toContain(`<strong>${employee.name}</strong>`);
  });

  it('when 5 identical requests arrive at once, then one email is stored and one message sent; a later repeat answers 200 with the same email', async () => {
    const request = managerNotice();
    const replies = await Promise.all(Array.from({ length: 5 }, () => postEmail(svc, request)));

    expect(replies.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 201]);
    // Those that lost the race waited for the winner's delivery: every answer already says sent.
    expect(replies.map((r) => r.body.status)).toEqual(['sent', 'sent', 'sent', 'sent', 'sent']);
    const ids = new Set(replies.map((r) => r.body.id));
    expect(ids.size).toBe(1);
    expect(await rowCount(request.resignationId)).toBe(1);
    const id = [...ids][0]!;
    expect(messagesWithId(`<${id}@ems.local>`)).toHaveLength(1);

    const later = await postEmail(svc, request);
    expect(later.status).toBe(200);
    expect(later.body).toMatchObject({ id, status: 'sent', attempts: 1 });
    expect(await rowCount(request.resignationId)).toBe(1);
    expect(messagesWithId(`<${id}@ems.local>`)).toHaveLength(1);
  });

  it('when the recipient address differs only in letter case, then it is the same email', async () => {
    const request = managerNotice();
    const first = await postEmail(svc, request);
    const again = await postEmail(svc, { ...request, to: { email: request.to.email.toUpperCase(), name: 'Someone' } });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
  });

  it('when the same case and purpose go to a different recipient, then that is a second email', async () => {
    // An interview invitation goes to the employee and to their HR partner: one purpose, two recipients.
    const kase = openCase();
    const interviewId = randomUUID();
    const a = await postEmail(svc, interviewEmail(kase, 'employee', { interviewId }), await asHr(svc));
    const b = await postEmail(svc, interviewEmail(kase, 'hr_partner', { interviewId }), await asHr(svc));

    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.purpose).toBe(b.body.purpose);
    expect(a.body.id).not.toBe(b.body.id);
    expect(await rowCount(kase.resignationId)).toBe(2);
    expect(messagesWithId(a.body.messageId)[0]?.envelope.to).toEqual([kase.employee.email]);
    expect(messagesWithId(b.body.messageId)[0]?.envelope.to).toEqual([kase.hrPartner.email]);
  });

  it('when an Idempotency-Key is repeated, then the first email is returned; reused for another email, it is refused with 409', async () => {
    const key = `key-${randomUUID()}`;
    const request = managerNotice();
    const first = await postEmail(svc, request, { 'idempotency-key': key });
    const repeat = await postEmail(svc, request, { 'idempotency-key': key });
    expect(first.status).toBe(201);
    expect(repeat.status).toBe(200);
    expect(repeat.body.id).toBe(first.body.id);

    const other = managerNotice();
    const misuse = await postEmail(svc, other, { 'idempotency-key': key });
    expect(misuse.status).toBe(409);
    expect(misuse.contentType).toContain('application/problem+json');
    expect(await rowCount(other.resignationId)).toBe(0);
  });

  it.each([
    ['a malformed recipient address', { to: { email: 'not-an-address' } }, 'body.to.email'],
    ['an unknown template', { template: 'birthday-greeting' }, 'body.template'],
    ['template data without the manager name', { data: { employeeName: 'A', employeeId: 'E-1', lastWorkingDay: '2025-12-12' } }, 'body.data.managerName'],
    ['template data of the wrong type', { data: { managerName: 42, employeeName: 'A', employeeId: 'E-1', lastWorkingDay: '2025-12-12' } }, 'body.data.managerName'],
    ['a purpose with spaces', { purpose: 'manager notice' }, 'body.purpose'],
  ])('when the request has %s, then it is refused with 400 problem+json and nothing is stored', async (_what, change, path) => {
    const before = await rowCount();
    const sentBefore = smtp.messages().length;
    const request = { ...managerNotice(), ...change };
    const res = await postEmail(svc, request);

    expect(res.status).toBe(400);
    expect(res.contentType).toContain('application/problem+json');
    const problem = res.body as unknown as { title: string; errors: { path: string }[] };
    expect(problem.title).toBe('Invalid request');
    expect(problem.errors.map((e) => e.path)).toContain(path);
    expect(await rowCount()).toBe(before);
    expect(smtp.messages().length).toBe(sentBefore);
  });
});

describe('GET /api/emails', () => {
  it('when emails of a case are listed, then they come newest first, paged, and filterable by status and recipient', async () => {
    // Three emails of one case, each to another person: its manager, its HR partner, the HR lead.
    const kase = openCase();
    const { resignationId } = kase;
    const sent: api.Email[] = [];
    for (const request of [managerNotice(kase), followUp(kase, 'reminder'), followUp(kase, 'escalation')]) {
      sent.push((await postEmail(svc, request)).body);
    }
    const [p1, p2, p3] = ['manager-notice', 'follow-up:decision.reminder', 'follow-up:decision.escalation'];
    expect(sent.map((e) => e.purpose)).toEqual([p1, p2, p3]);

    const page1 = await listEmails(svc, `resignationId=${resignationId}&limit=2`);
    expect(page1.status).toBe(200);
    expect(page1.body.items.map((e) => e.purpose)).toEqual([p3, p2]);
    expect(page1.body.nextOffset).toBe(2);
    const page2 = await listEmails(svc, `resignationId=${resignationId}&limit=2&offset=2`);
    expect(page2.body.items.map((e) => e.purpose)).toEqual([p1]);
    expect(page2.body.nextOffset).toBeNull();

    const toP2 = await listEmails(svc, `resignationId=${resignationId}&to=${encodeURIComponent(kase.hrPartner.email.toUpperCase())}`);
    expect(toP2.body.items.map((e) => e.id)).toEqual([sent[1]!.id]);
    const failed = await listEmails(svc, `resignationId=${resignationId}&status=failed`);
    expect(failed.body.items).toEqual([]);

    // Rows are mapped to the contract: no bodies, data, claims or keys leak.
    expect(Object.keys(page1.body.items[0]!).sort()).toEqual(
      ['attachments', 'attempts', 'createdAt', 'id', 'lastError', 'messageId', 'purpose', 'resignationId', 'sentAt', 'status', 'subject', 'template', 'to'].sort(),
    );
  });

  it('when one email is fetched by id, then it is returned; an unknown id is 404 and a malformed one 400', async () => {
    const created = (await postEmail(svc, managerNotice())).body;
    const found = await getEmail(svc, created.id);
    expect(found.status).toBe(200);
    expect(found.body).toEqual(created);

    const missing = await getEmail(svc, randomUUID());
    expect(missing.status).toBe(404);
    expect(missing.contentType).toContain('application/problem+json');
    expect((await getEmail(svc, 'nope')).status).toBe(400);
  });
});

describe('readiness', () => {
  it('when the database and SMTP server answer, then /readyz is ready', async () => {
    const res = await http<{ status: string; checks: Record<string, string>; degraded: Record<string, string> }>(`${svc.baseUrl}/readyz`);
    expect(res.status).toBe(200);
    expect(res.body.checks).toEqual({ notification: 'ok' });
    expect(res.body.degraded).toEqual({ 'notification.smtp': 'ok' });
  });

  it('when the SMTP server is unreachable, then /readyz stays ready (mail is queued and retried) and says the mail server is down', async () => {
    const down = await bootService(database, { smtpUrl: 'smtp://127.0.0.1:9' }, { start: false });
    try {
      const res = await http<{ status: string; checks: Record<string, string>; degraded: Record<string, string> }>(`${down.baseUrl}/readyz`);
      expect(res.status).toBe(200);
      expect(res.body.checks.notification).toBe('ok');
      expect(res.body.degraded['notification.smtp']).toMatch(/^down/);
    } finally {
      await down.close();
    }
  });
});
