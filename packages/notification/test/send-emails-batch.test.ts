import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pool } from '@ems/platform';
import type { notification as api } from '@ems/contracts';
import { startCaptureSmtpServer, type CaptureSmtpServer } from '../src/index.ts';
import { asHr, asOperator, bootService, http, interviewEmail, managerNotice, openCase, openDatabase, type RunningService } from './harness.ts';

/** POST /api/email-batches on a real PostgreSQL and a real SMTP server: HR's two invites of an interview in one request. */

let database: Awaited<ReturnType<typeof openDatabase>>;
let pool: Pool;
let smtp: CaptureSmtpServer;
let svc: RunningService;

beforeAll(async () => {
  database = await openDatabase();
  pool = database.pool;
  smtp = await startCaptureSmtpServer();
  svc = await bootService(database, { smtpUrl: smtp.url });
});

afterAll(async () => {
  await svc?.close();
  await smtp?.stop();
  await database?.close();
});

const postBatch = async (emails: { idempotencyKey: string; email: unknown }[], headers?: Record<string, string>) =>
  http<api.SendEmailsAnswer & { status?: number; errors?: { path: string }[] }>(`${svc.baseUrl}/api/email-batches`, { body: { emails }, headers: headers ?? (await asHr(svc)) });
const rowsOf = async (resignationId: string) =>
  (await pool.query<{ recipient: string; idempotency_key: string }>('SELECT recipient, idempotency_key FROM notification.emails WHERE resignation_id = $1 ORDER BY recipient', [resignationId])).rows;

describe('POST /api/email-batches', () => {
  it("when HR sends an interview's two invites in one request, then both are stored, sent over SMTP once each, and each answers its own state", async () => {
    const kase = openCase();
    const interviewId = randomUUID();
    const emails = [
      { idempotencyKey: `k-${randomUUID()}`, email: interviewEmail(kase, 'employee', { interviewId }) },
      { idempotencyKey: `k-${randomUUID()}`, email: interviewEmail(kase, 'hr_partner', { interviewId }) },
    ];
    const res = await postBatch(emails);
    expect(res.status).toBe(200);
    expect(res.body.emails.map((e) => e.state)).toEqual(['created', 'created']);
    const sent = res.body.emails.map((e) => (e.state === 'conflict' ? undefined : e.email));
    expect(sent.map((e) => e?.to)).toEqual([kase.employee.email, kase.hrPartner.email]);
    expect(sent.every((e) => e?.status === 'sent')).toBe(true);
    for (const e of sent) expect(smtp.messages().filter((m) => m.messageId === e?.messageId)).toHaveLength(1);
    expect((await rowsOf(kase.resignationId)).map((r) => r.idempotency_key).sort()).toEqual(emails.map((e) => e.idempotencyKey).sort());

    // The same batch again: each email is a repeat, answered with the one stored first; nothing is sent again.
    const before = smtp.messages().length;
    const again = await postBatch(emails);
    expect(again.status).toBe(200);
    expect(again.body.emails.map((e) => [e.state, e.state === 'conflict' ? undefined : e.email.id])).toEqual(sent.map((e) => ['existing', e?.id]));
    expect(smtp.messages().length).toBe(before);
    expect(await rowsOf(kase.resignationId)).toHaveLength(2);
  });

  it('when one email of the batch is invalid, then the whole batch is refused naming that email, and nothing is stored or sent', async () => {
    const kase = openCase();
    const interviewId = randomUUID();
    const before = smtp.messages().length;
    const good = interviewEmail(kase, 'employee', { interviewId });
    const wrongPerson = interviewEmail(kase, 'hr_partner', { interviewId, email: kase.manager.email });
    const res = await postBatch([
      { idempotencyKey: `k-${randomUUID()}`, email: good },
      { idempotencyKey: `k-${randomUUID()}`, email: wrongPerson },
    ]);
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body.errors?.map((e) => e.path)).toEqual(['body.emails.1.email.to.email']);

    const badData = { ...interviewEmail(kase, 'hr_partner', { interviewId }), data: { ...good.data, start: 'not a time' } };
    const invalid = await postBatch([
      { idempotencyKey: `k-${randomUUID()}`, email: good },
      { idempotencyKey: `k-${randomUUID()}`, email: badData },
    ]);
    expect(invalid.status).toBe(400);
    expect(invalid.body.errors?.[0]?.path).toMatch(/^body\.emails\.1\.email\.data\.start$/);

    const sameKey = `k-${randomUUID()}`;
    const twice = await postBatch([
      { idempotencyKey: sameKey, email: good },
      { idempotencyKey: sameKey, email: interviewEmail(kase, 'hr_partner', { interviewId }) },
    ]);
    expect(twice.status).toBe(400);
    expect(twice.body.errors?.map((e) => e.path)).toEqual(['body.emails.1.idempotencyKey']);

    expect(await rowsOf(kase.resignationId)).toEqual([]);
    expect(smtp.messages().length).toBe(before);
  });

  it("when an email's key was used for another email, then that email answers conflict and is not stored; the others are", async () => {
    const kase = openCase();
    const interviewId = randomUUID();
    const used = `k-${randomUUID()}`;
    expect((await postBatch([{ idempotencyKey: used, email: interviewEmail(kase, 'employee', { interviewId }) }])).body.emails[0]?.state).toBe('created');

    const res = await postBatch([
      { idempotencyKey: used, email: interviewEmail(kase, 'employee', { interviewId: randomUUID() }) },
      { idempotencyKey: `k-${randomUUID()}`, email: interviewEmail(kase, 'hr_partner', { interviewId }) },
    ]);
    expect(res.status).toBe(200);
    expect(res.body.emails.map((e) => e.state)).toEqual(['conflict', 'created']);
    expect(await rowsOf(kase.resignationId)).toHaveLength(2);
  });

  it("when a person's token asks, then 403: only EMS and HR send emails", async () => {
    const kase = openCase();
    const res = await postBatch([{ idempotencyKey: `k-${randomUUID()}`, email: managerNotice(kase) }], await asOperator(svc));
    expect(res.status).toBe(403);
    expect(await rowsOf(kase.resignationId)).toEqual([]);
  });
});
