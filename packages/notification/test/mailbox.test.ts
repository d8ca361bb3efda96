/**
 * The embedded default's mailbox: what the capture SMTP server received, kept as a Maildir, read through
 * GET /api/mailbox — each person their own address's messages, the operator every one. Real PostgreSQL,
 * real SMTP over loopback (Notification sends through nodemailer to the capture server), real tokens.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { AppPaths, appUrl, type mailbox } from '@ems/contracts';
import { createDirectoryReader } from '@ems/identity';
import { openMaildir, startCaptureSmtpServer, type CaptureSmtpServer, type Maildir } from '../src/index.ts';
import { asHr, bootService, http, interviewEmail, managerNotice, openCase, openDatabase, OPERATOR, postEmail, type RunningService, type TestEnvironment } from './harness.ts';

let env: TestEnvironment;
let dir: string;
const running: Array<{ close(): Promise<void> } | CaptureSmtpServer> = [];

async function mailboxService(maildir: Maildir | undefined): Promise<{ svc: RunningService; smtp: CaptureSmtpServer }> {
  const smtp = await startCaptureSmtpServer(maildir ? { maildir } : {});
  const directory = createDirectoryReader(env.pool);
  const svc = await bootService(env, { smtpUrl: smtp.url, caseUrl: (id) => appUrl('https://ems.acme.example/', AppPaths.case(id)), mailbox: { maildir, emailOf: (id) => directory.emailOf(id) } });
  running.push(svc, smtp);
  return { svc, smtp };
}
const stop = (x: { close(): Promise<void> } | CaptureSmtpServer) => ('close' in x ? x.close() : x.stop());

beforeAll(async () => {
  env = await openDatabase();
  dir = await mkdtemp(path.join(tmpdir(), 'ems-mailbox-test-'));
});
afterAll(async () => {
  for (const r of running.reverse()) await stop(r);
  await env?.close();
  await rm(dir, { recursive: true, force: true });
});

const list = async (svc: RunningService, as: string, query = '') => http<mailbox.MailboxList>(`${svc.baseUrl}/api/mailbox${query}`, { headers: await svc.identity.as(as) });
const get = async (svc: RunningService, as: string, id: string) => http<mailbox.MailboxMessage>(`${svc.baseUrl}/api/mailbox/${id}`, { headers: await svc.identity.as(as) });

describe('the mailbox', () => {
  const kase = openCase();
  let first: { svc: RunningService; smtp: CaptureSmtpServer };

  it('when Notification sends an invite to the employee and a notice to the manager, then each reads only their own, the operator both, newest first', async () => {
    first = await mailboxService(await openMaildir({ dir }));
    const invite = await postEmail(first.svc, interviewEmail(kase, 'employee'), { ...(await asHr(first.svc)), prefer: 'wait=20' });
    expect(invite.body.status).toBe('sent');
    const notice = await postEmail(first.svc, managerNotice(kase), { prefer: 'wait=20' });
    expect(notice.body.status).toBe('sent');

    const employee = await list(first.svc, kase.employee.id);
    expect(employee.status).toBe(200);
    expect(employee.body.items.map((m) => m.deliveredTo)).toEqual([[kase.employee.email]]);
    const [mine] = employee.body.items;
    expect(mine).toMatchObject({ to: [kase.employee.email], hasHtml: true });
    expect(mine!.attachmentCount).toBeGreaterThan(0);
    expect(mine!.subject).toContain(kase.employee.name);

    const manager = await list(first.svc, kase.manager.id);
    expect(manager.body.items.map((m) => m.deliveredTo)).toEqual([[kase.manager.email]]);

    const operator = await list(first.svc, OPERATOR);
    const ours = operator.body.items.filter((m) => m.deliveredTo.includes(kase.employee.email) || m.deliveredTo.includes(kase.manager.email));
    // Newest first: the notice was sent after the invite.
    expect(ours.map((m) => m.deliveredTo[0])).toEqual([kase.manager.email, kase.employee.email]);
  });

  it('when the employee opens their invite, then it reads as a mail client shows it: text, HTML as sent, the .ics as text', async () => {
    const [summary] = (await list(first.svc, kase.employee.id)).body.items;
    const message = await get(first.svc, kase.employee.id, summary!.id);
    expect(message.status).toBe(200);
    expect(message.body.from).toContain('ems@');
    expect(message.body.text).toContain(kase.hrPartner.name);
    // The invite links to the case's page in the app, like every email about a case.
    expect(message.body.text).toContain(`https://ems.acme.example/cases/${kase.resignationId}`);
    expect(message.body.html).toMatch(/<html|<p/i);
    const ics = message.body.attachments.find((a) => a.contentType === 'text/calendar');
    expect(ics).toMatchObject({ encoding: 'utf8', params: expect.objectContaining({ method: 'REQUEST' }) as unknown });
    expect(ics!.content).toContain('BEGIN:VCALENDAR');
    expect(ics!.content).toContain('METHOD:REQUEST');
  });

  it("when someone asks for a message that is not theirs, then it answers 404 exactly like an unknown one, and the operator reads it", async () => {
    const [notice] = (await list(first.svc, kase.manager.id)).body.items;
    const refused = await get(first.svc, kase.employee.id, notice!.id);
    const unknown = await get(first.svc, kase.employee.id, '0000000000000.000000deadbeef');
    expect([refused.status, unknown.status]).toEqual([404, 404]);
    expect(refused.contentType).toContain('application/problem+json');
    expect(refused.body).toMatchObject({ title: (unknown.body as unknown as { title: string }).title });
    const operator = await get(first.svc, OPERATOR, notice!.id);
    expect(operator.status).toBe(200);
    // The link opens the app's page of the case, not the API.
    expect(operator.body.html).toContain(`<a href="https://ems.acme.example/cases/${kase.resignationId}">`);
    expect(operator.body.text).toContain(`https://ems.acme.example/cases/${kase.resignationId}`);
  });

  it('when the capture server and Notification restart on the same Maildir, then every message is still there (raw RFC 5322 files in new/, with their envelope)', async () => {
    const before = (await list(first.svc, OPERATOR)).body.items.map((m) => m.id);
    await stop(first.svc);
    await stop(first.smtp);
    const files = await readdir(path.join(dir, 'new'));
    expect(files.sort()).toEqual(before.map((id) => `${id}.ems`).sort());
    expect(await readdir(path.join(dir, 'tmp'))).toEqual([]);
    const raw = await readFile(path.join(dir, 'new', `${before.at(-1)}.ems`), 'utf8');
    expect(raw).toMatch(/^Return-Path: <[^>]+>\r\nDelivered-To: [^\r\n]+\r\n/);
    expect(raw).toMatch(/\r\nSubject: /);

    const again = await mailboxService(await openMaildir({ dir }));
    expect((await list(again.svc, OPERATOR)).body.items.map((m) => m.id)).toEqual(before);
    expect((await list(again.svc, kase.employee.id)).body.items).toHaveLength(1);
  });

  it('when more messages arrive than the mailbox keeps, then the oldest go, from disk too', async () => {
    const small = await mkdtemp(path.join(tmpdir(), 'ems-mailbox-keep-'));
    try {
      const maildir = await openMaildir({ dir: small, keep: 2 });
      const smtp = await startCaptureSmtpServer({ maildir });
      const transport = nodemailer.createTransport({ url: smtp.url } as never);
      for (const n of [1, 2, 3]) await transport.sendMail({ from: 'a@acme.example', to: 'b@acme.example', subject: `message ${n}`, text: `body ${n}` });
      transport.close();
      await smtp.stop();
      const page = await maildir.list({}, { limit: 10, offset: 0 });
      expect(page.items.map((m) => m.subject)).toEqual(['message 3', 'message 2']);
      expect(await readdir(path.join(small, 'new'))).toHaveLength(2);
      // Paged like the other lists.
      const one = await maildir.list({}, { limit: 1, offset: 0 });
      expect([one.items.map((m) => m.subject), one.nextOffset]).toEqual([['message 3'], 1]);
    } finally {
      await rm(small, { recursive: true, force: true });
    }
  });

  it('when mail goes to a relay (no Maildir), then the mailbox answers 404 problem+json saying so', async () => {
    const relay = await mailboxService(undefined);
    const res = await list(relay.svc, OPERATOR);
    expect(res.status).toBe(404);
    expect(res.contentType).toContain('application/problem+json');
    expect(res.body).toMatchObject({ type: 'https://ems.dev/problems/no-mailbox' });
    expect(JSON.stringify(res.body)).toContain('EMS_SMTP_URL');
  });
});
