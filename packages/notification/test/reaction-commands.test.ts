import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventTypes } from '@ems/contracts/events';
import { notification as api } from '@ems/contracts';
import { createRecordingBus, type RecordingBus } from '@ems/eventbus/testing';
import { ANNOUNCE_DECISION_SUBSCRIBER, NOTIFY_MANAGER_SUBSCRIBER, noManagerEmailId, startCaptureSmtpServer, type CaptureSmtpServer } from '../src/index.ts';
import { exitConfirmedEvent } from './decision-events.ts';
import { asEms, asHr, bootService, http, openCase, openDatabase, type RunningService, type TestCase } from './harness.ts';

/**
 * The orchestrator's typed commands (notifyManager, announceDecision) run the same use cases as the
 * choreography handlers: the same emails, purposes and outcome events, whichever mode asks. Real
 * PostgreSQL, a real SMTP server on loopback, a recording bus.
 */
let database: Awaited<ReturnType<typeof openDatabase>>;
let bus: RecordingBus;
let smtp: CaptureSmtpServer;
let svc: RunningService;
const caseUrl = (id: string) => `https://ems.example/cases/${id}`;

beforeAll(async () => {
  database = await openDatabase();
  bus = await createRecordingBus(database.pool);
  smtp = await startCaptureSmtpServer();
  svc = await bootService(database, { smtpUrl: smtp.url, bus, reactToEvents: true, caseUrl });
});
afterAll(async () => {
  await svc?.close();
  await smtp?.stop();
  await database?.close();
});

const command = async <T>(path: string, body: unknown, key: string, as = asEms) =>
  http<T>(`${svc.baseUrl}${path}`, { body, headers: { ...(await as(svc)), 'idempotency-key': key, prefer: 'wait=10' } });
const facts = (k: TestCase, manager: TestCase['manager'] | null = k.manager): api.NotifyManagerRequest => ({
  resignationId: k.resignationId,
  employee: { id: k.employee.id, name: k.employee.name },
  manager: manager && { name: manager.name, email: manager.email },
  lastWorkingDay: '2026-03-31',
  reason: 'A new opportunity',
});
const rowsOf = async (resignationId: string) =>
  (await database.pool.query<{ purpose: string; template: string; recipient: string; status: string }>('SELECT purpose, template, recipient, status FROM notification.emails WHERE resignation_id = $1 ORDER BY purpose', [resignationId])).rows;
const published = async (type: string, resignationId: string) => (await bus.published(type)).filter((e) => e.subject === resignationId);

describe('notifyManager: the orchestrator asks Notification to tell the manager', () => {
  it('when asked twice, then the manager gets one notice (the one choreography stores: same purpose and template), answered sent both times, and one managerNotified', async () => {
    const k = openCase();
    const first = await command<api.ManagerNoticeOutcome>(api.NotificationPaths.managerNotices, facts(k), `${k.resignationId}:notifyManager`);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ outcome: 'email', email: { status: 'sent', to: k.manager.email, purpose: 'manager-notice', template: 'resignation-manager-notice' } });
    const again = await command<api.ManagerNoticeOutcome>(api.NotificationPaths.managerNotices, facts(k), `${k.resignationId}:notifyManager`);
    expect(again.body).toEqual(first.body);
    expect(await rowsOf(k.resignationId)).toEqual([{ purpose: 'manager-notice', template: 'resignation-manager-notice', recipient: k.manager.email, status: 'sent' }]);
    expect(smtp.messages().filter((m) => m.envelope.to.includes(k.manager.email) && m.text?.includes(caseUrl(k.resignationId)))).toHaveLength(1);
    expect(await published(EventTypes.managerNotified, k.resignationId)).toHaveLength(1);
  });

  it('when the employee has no manager, then nothing is sent and managerNotified says skipped — as in choreography', async () => {
    const k = openCase();
    const res = await command<api.ManagerNoticeOutcome>(api.NotificationPaths.managerNotices, facts(k, null), `${k.resignationId}:notifyManager`);
    expect(res.body).toEqual({ outcome: 'no manager', emailId: noManagerEmailId(k.resignationId) });
    expect(await rowsOf(k.resignationId)).toEqual([]);
    const [event] = await published(EventTypes.managerNotified, k.resignationId);
    expect(event?.data).toMatchObject({ skipped: 'no manager', emailId: noManagerEmailId(k.resignationId) });
  });

  it('when the case is unknown, then 404 and nothing is stored; HR may not call it (403)', async () => {
    const k = openCase();
    const unknown = { ...facts(k), resignationId: randomUUID() };
    expect((await command(api.NotificationPaths.managerNotices, unknown, 'k1')).status).toBe(404);
    expect((await command(api.NotificationPaths.managerNotices, facts(k), 'k2', asHr)).status).toBe(403);
    expect(await rowsOf(unknown.resignationId)).toEqual([]);
    expect(await rowsOf(k.resignationId)).toEqual([]);
  });
});

describe('announceDecision: the orchestrator asks Notification to announce the decision', () => {
  const announce = (k: TestCase, over: Partial<api.AnnounceDecisionRequest> = {}): api.AnnounceDecisionRequest => ({
    resignationId: k.resignationId,
    decision: 'exit_confirmed',
    revision: 2,
    employee: { name: k.employee.name, email: k.employee.email },
    manager: { name: k.manager.name, email: k.manager.email },
    note: null,
    lastWorkingDay: '2026-03-31',
    revokeAt: '2026-03-31T22:00:00.000Z',
    ...over,
  });

  it('when asked, then manager and employee each get their notice under the purposes choreography uses, the answer says announced, and one decisionAnnounced follows', async () => {
    const k = openCase();
    const res = await command<api.DecisionAnnouncementOutcome>(api.NotificationPaths.decisionAnnouncements, announce(k), `${k.resignationId}:announceDecision.exit_confirmed.2`);
    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe('announced');
    expect(res.body.emails.map((e) => [e.purpose, e.to, e.status])).toEqual([
      ['decision-notice:exit_confirmed:2:manager', k.manager.email, 'sent'],
      ['decision-notice:exit_confirmed:2:employee', k.employee.email, 'sent'],
    ]);
    const again = await command<api.DecisionAnnouncementOutcome>(api.NotificationPaths.decisionAnnouncements, announce(k), `${k.resignationId}:announceDecision.exit_confirmed.2`);
    expect(again.body).toEqual(res.body);
    const [announced, ...more] = await published(EventTypes.decisionAnnounced, k.resignationId);
    expect(more).toHaveLength(0);
    expect(announced?.data).toMatchObject({ decision: 'exit_confirmed', revision: 2, recipients: [k.manager.email, k.employee.email] });
  });

  it('when an older exit confirmation arrives after a newer one was announced, then it is overtaken: nobody is told a day that no longer holds', async () => {
    const k = openCase();
    await command(api.NotificationPaths.decisionAnnouncements, announce(k, { revision: 3 }), 'r3');
    const older = await command<api.DecisionAnnouncementOutcome>(api.NotificationPaths.decisionAnnouncements, announce(k, { revision: 2 }), 'r2');
    expect(older.body).toMatchObject({ outcome: 'overtaken', emails: [] });
    expect((await rowsOf(k.resignationId)).map((r) => r.purpose)).toEqual(['decision-notice:exit_confirmed:3:employee', 'decision-notice:exit_confirmed:3:manager']);
  });

  it('when the choreography handler then hears the same decision, then nothing more is stored or sent (one use case, one set of notices)', async () => {
    const k = openCase();
    await command(api.NotificationPaths.decisionAnnouncements, announce(k, { revision: 1 }), 'r1');
    const event = exitConfirmedEvent({ resignationId: k.resignationId, revision: 1, employeeEmail: k.employee.email, manager: { id: k.manager.id, name: k.manager.name, email: k.manager.email } });
    const handler = svc.service.subscriptions!.find((s) => s.name === ANNOUNCE_DECISION_SUBSCRIBER)!;
    await handler.handle(event, { attempt: 1, lastAttempt: false });
    expect(await rowsOf(k.resignationId)).toHaveLength(2);
    expect(await published(EventTypes.decisionAnnounced, k.resignationId)).toHaveLength(1);
    expect(svc.service.subscriptions!.some((s) => s.name === NOTIFY_MANAGER_SUBSCRIBER)).toBe(true);
  });
});
