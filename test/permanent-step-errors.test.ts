/**
 * Orchestration: a durable step that meets an error retrying cannot cure fails at once with the reason
 * (the case goes to action_required after ONE attempt); a transient error is still retried.
 *
 * Notification is reached through a participant of the test's own in front of the real one: it answers
 * the manager notice as the test says and passes every other request (HR's invites) through untouched.
 * Real EMS, real PostgreSQL, real HTTP.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoOrg } from '@ems/demo-org';
import { adjustableClock } from '@ems/platform';
import { waitFor } from '@ems/platform/testing';
import { employeePicker, http, startAcceptanceEms, type AcceptanceEnv } from './acceptance/harness.ts';

interface StepBody {
  status: string;
  attempts: number;
  lastError: string | null;
}
interface CaseBody {
  id: string;
  status: string;
  steps: Record<'notifyManager' | 'scheduleInterview' | 'suspendAccess', StepBody>;
}

/** What the participant answers to a manager notice: a status and body, or "pass it to Notification". */
type Answer = { status: number; body: unknown } | 'forward';

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks))).on('error', reject);
  });
}

describe('orchestration: permanent and transient errors in a step', () => {
  const { takeEmployee } = employeePicker(demoOrg());
  let env: AcceptanceEnv;
  /** Manager notices that reached the participant, by resignation id. */
  const calls = new Map<string, number>();
  /** How the participant answers the n-th manager notice of a case (1-based); 'forward' after the list. */
  let script: Answer[] = [];
  let notificationUrl = '';
  /** Follow-up emails that reached the participant, by resignation id: each refused with 422. */
  const followUpCalls = new Map<string, number>();
  const clock = adjustableClock(undefined, 500);

  const participant = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const body = await readBody(req);
      let parsed: { resignationId?: string; purpose?: string } = {};
      try {
        parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
      } catch {
        // not JSON: forwarded as it is
      }
      if (req.method === 'POST' && parsed.purpose?.startsWith('follow-up:') && parsed.resignationId) {
        followUpCalls.set(parsed.resignationId, (followUpCalls.get(parsed.resignationId) ?? 0) + 1);
        res.writeHead(422, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ type: 'about:blank', title: 'Unprocessable Content', status: 422, detail: 'no such HR partner mailbox' }));
        return;
      }
      // The manager notice: Notification's notifyManager command (its use case builds the email).
      if (req.method === 'POST' && req.url === '/api/notification/manager-notices' && parsed.resignationId) {
        const n = (calls.get(parsed.resignationId) ?? 0) + 1;
        calls.set(parsed.resignationId, n);
        const answer = script[n - 1] ?? 'forward';
        if (answer !== 'forward') {
          res.writeHead(answer.status, { 'content-type': 'application/problem+json' }).end(JSON.stringify(answer.body));
          return;
        }
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && !['host', 'connection', 'content-length'].includes(k)) headers[k] = v;
      const upstream = await fetch(`${notificationUrl}${req.url}`, { method: req.method ?? 'GET', headers, body: body.length ? body : null });
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' }).end(Buffer.from(await upstream.arrayBuffer()));
    })().catch((err: unknown) => {
      res.writeHead(502).end(String(err));
    });
  });

  beforeAll(async () => {
    await new Promise<void>((resolve) => participant.listen(0, '127.0.0.1', resolve));
    const port = (participant.address() as AddressInfo).port;
    env = await startAcceptanceEms('orchestration', 'permanent_steps', { clock, env: { EMS_NOTIFICATION_URL: `http://127.0.0.1:${port}` } });
    // HR and the manager notice's forwarded calls reach the real Notification on EMS's own server.
    notificationUrl = env.base;
  });

  afterAll(async () => {
    await env?.stop();
    await new Promise<void>((resolve) => participant.close(() => resolve()));
  });

  const submit = (employeeId: string) => http<CaseBody>(env.base, 'POST', '/api/resignations', { employeeId, lastWorkingDay: '2027-03-31' });
  const getCase = (id: string) => http<CaseBody>(env.base, 'GET', `/api/resignations/${id}`);
  const settled = (id: string) =>
    waitFor(
      async () => {
        const c = (await getCase(id)).body;
        return Object.values(c.steps).every((s) => s.status !== 'pending') && c.status !== 'in_progress' ? c : undefined;
      },
      `case ${id} to settle`,
      45_000,
    );

  it('when the participant refuses the manager notice (422, its detail echoing a NUL), then the case is action_required with the reason after one attempt', async () => {
    script = [{ status: 422, body: { type: 'about:blank', title: 'Unprocessable Content', status: 422, detail: 'recipient "Bad\u0000Name" refused' } }];
    const res = await submit(takeEmployee().id);
    expect(res.status).toBe(201);
    const done = await settled(res.body.id);

    expect(done.status).toBe('action_required');
    expect(done.steps.notifyManager).toMatchObject({ status: 'failed', attempts: 1 });
    expect(done.steps.notifyManager.lastError).toContain('422');
    expect(done.steps.notifyManager.lastError).toContain('recipient "Bad\uFFFDName" refused');
    expect(calls.get(res.body.id)).toBe(1);
    // The other reactions went on as usual.
    expect(done.steps.suspendAccess.status).toBe('done');

    const timeline = await http<{ items: Array<{ type: string; summary: string }> }>(env.base, 'GET', `/api/resignations/${res.body.id}/timeline`);
    const failed = timeline.body.items.find((t) => t.type === 'notifyManager.failed');
    expect(failed?.summary).toContain('422');
    expect(timeline.body.items.map((t) => t.type)).not.toContain('notifyManager.attempt_failed');
  });

  it('when the participant answers 409, then the step fails at once too', async () => {
    script = [{ status: 409, body: { type: 'about:blank', title: 'Conflict', status: 409, detail: 'already sent to someone else' } }];
    const res = await submit(takeEmployee().id);
    const done = await settled(res.body.id);
    expect(done.status).toBe('action_required');
    expect(done.steps.notifyManager).toMatchObject({ status: 'failed', attempts: 1 });
    expect(done.steps.notifyManager.lastError).toContain('already sent to someone else');
    expect(calls.get(res.body.id)).toBe(1);
  });

  it("when a follow-up email is refused (422), then it is not retried: HR records it skipped, the timeline says why (from HR's follow-up-skipped, as in choreography) and the case goes on", async () => {
    script = [];
    const res = await submit(takeEmployee().id);
    const done = await settled(res.body.id);
    expect(done.status).toBe('awaiting_decision');
    const interview = (await http<{ items: Array<{ end: string }> }>(env.base, 'GET', `/api/interviews?resignationId=${res.body.id}`)).body.items[0]!;
    // A day after the interview's end, not held: the reminder is due — and refused.
    clock.set(new Date(Date.parse(interview.end) + 86_400_000 + 1_000));
    const failed = await waitFor(async () => {
      const timeline = (await http<{ items: Array<{ type: string; summary: string }> }>(env.base, 'GET', `/api/resignations/${res.body.id}/timeline`)).body.items;
      return timeline.find((t) => t.type === 'com.ems.hr.follow-up-skipped.v1');
    }, 'the refused reminder on the timeline');
    expect(failed.summary).toMatch(/^Reminder not sent \(interview not held\): refused by Notification: /);
    expect(failed.summary).toContain('422');
    expect(failed.summary).toContain('no such HR partner mailbox');
    // Written only once retrying was given up: the refusal was the one and only attempt.
    expect(followUpCalls.get(res.body.id)).toBe(1);
  });

  it('when the participant is unavailable twice (503), then the step is retried and done on the third attempt', async () => {
    const unavailable = { status: 503, body: { type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'try again' } };
    script = [unavailable, unavailable];
    const res = await submit(takeEmployee().id);
    const done = await settled(res.body.id);
    expect(done.status).toBe('awaiting_decision');
    expect(done.steps.notifyManager).toMatchObject({ status: 'done', attempts: 3 });
    expect(calls.get(res.body.id)).toBe(3);
  });
});
