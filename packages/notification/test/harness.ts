import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { inject } from 'vitest';
import { createHttpServer, createLogger, createPool, migrate, type Pool } from '@ems/platform';
import { createTestDatabase, knownCases, type TestDatabase } from '@ems/platform/testing';
import type { notification as api } from '@ems/contracts';
import { demoOrg, type Employee } from '@ems/demo-org';
import { createDirectoryReader } from '@ems/identity';
import { startTestIdentity, type TestIdentity } from '@ems/identity/testing';
import type { EventBusTestHooks } from '@ems/eventbus';
import { createNotificationService, type NotificationServiceDeps } from '../src/index.ts';

export const org = demoOrg();
const log = createLogger({ level: process.env.EMS_TEST_LOG_LEVEL ?? 'silent' });

/** The operator on call in the demo organisation: the one who reads the emails sent. */
export const OPERATOR = org.roleAssignments.find((a) => a.role === 'operator')!.personId;

// ---------------------------------------------------------------------------------------------------
// The cases the tests email about, and the people the directory names for them

/**
 * Stands in for EMS's answer to "does this case exist, and whose is it?" (GET /api/resignations/{id}), as
 * the tests stand in for its events: a test registers the case it emails about (`cases.add`, or
 * `openCase`), and every service booted here asks this lookup. A case not registered is unknown (404).
 */
export const cases = knownCases();

export interface Person {
  id: string;
  name: string;
  email: string;
}

/** A case EMS knows (registered with `cases`): its employee, and the people the directory names around them. */
export interface TestCase {
  resignationId: string;
  employee: Employee;
  manager: Person;
  hrPartner: Person;
  hrLead: Person;
}

const person = (p: Person): Person => ({ id: p.id, name: p.name, email: p.email });

/** The HR lead of the demo organisation (`hr-lead`, who holds the hr_lead role): whom escalations go to. */
export const HR_LEAD: Person = person(org.hrLead);

/** The demo employees with a manager (all but the CEO), in the organisation's order: whose cases the tests open. */
export const EMPLOYEES: readonly Employee[] = org.employees.filter((e) => e.managerId !== null);

let turn = 0;

/**
 * A new case (a fresh resignation id, registered with `cases`) of `employee`, or of the next demo employee
 * with a manager in turn, so that cases opened one after another are of different employees.
 */
export function openCase(employee: Employee = EMPLOYEES[turn++ % EMPLOYEES.length]!): TestCase {
  const manager = org.employees.find((m) => m.id === employee.managerId);
  const hrPartner = org.hrPartners.find((p) => p.id === employee.hrPartnerId);
  if (!manager || !hrPartner) throw new Error(`${employee.id} has no manager or no HR partner in the demo organisation`);
  return { resignationId: cases.add(randomUUID(), employee.id), employee, manager: person(manager), hrPartner: person(hrPartner), hrLead: HR_LEAD };
}

/** What every service booted here checks recipients against: the cases above, the identity directory of the test database. */
export const recipientsFor = (pool: Pool): NotificationServiceDeps['recipients'] => ({ cases: cases.lookup, directory: createDirectoryReader(pool) });

export interface TestEnvironment {
  db: TestDatabase;
  pool: Pool;
  /** The identity provider the service under test trusts (its own port, over the same database): real tokens. */
  identity: TestIdentity;
  close(): Promise<void>;
}

/** One throwaway database per test file, migrated with the notification schema, and an identity provider over it. */
export async function openDatabase(): Promise<TestEnvironment> {
  const db = await createTestDatabase(inject('testServerUrl'), 'notification');
  const pool = createPool(db.url, { max: 10, name: 'notification-test' });
  const service = createNotificationService({ pool, log: createLogger({ level: 'silent' }), smtpUrl: 'smtp://127.0.0.1:9', recipients: recipientsFor(pool) });
  await migrate(pool, service.schema, service.migrations);
  const identity = await startTestIdentity(pool, org, log);
  return {
    db,
    pool,
    identity,
    async close() {
      await identity.stop();
      await pool.end();
      await db.drop();
    },
  };
}

export interface RunningService {
  baseUrl: string;
  service: ReturnType<typeof createNotificationService>;
  identity: TestIdentity;
  /** Stops the HTTP server, then the service's workers. */
  close(): Promise<void>;
}

/**
 * Boots the service's routes on a real HTTP server (port 0), behind the real trust boundary (tokens of
 * the environment's identity provider), and starts its dispatcher. It checks recipients against the
 * cases registered with `cases` and the identity directory of the test database, unless told otherwise.
 */
export async function bootService(
  env: Pick<TestEnvironment, 'pool' | 'identity'>,
  deps: Omit<NotificationServiceDeps, 'pool' | 'log' | 'recipients'> & { recipients?: NotificationServiceDeps['recipients'] },
  options: { start?: boolean } = {},
): Promise<RunningService> {
  const service = createNotificationService({ pool: env.pool, log, ...deps, recipients: deps.recipients ?? recipientsFor(env.pool) });
  const app = await createHttpServer({
    title: 'notification test',
    version: 'test',
    logger: log,
    plugins: [service.routes],
    readiness: service.readiness ?? {},
    health: service.health ?? {},
    docs: false,
    security: env.identity.securityFor(['notification']),
  });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  if (options.start !== false) await service.start?.();
  let closed: Promise<void> | undefined;
  return {
    baseUrl: address,
    service,
    identity: env.identity,
    close() {
      closed ??= (async () => {
        await app.close();
        await service.stop?.();
      })();
      return closed;
    },
  };
}

export interface Reply<T = unknown> {
  status: number;
  contentType: string;
  body: T;
  headers: Headers;
}

export async function http<T = unknown>(url: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Reply<T>> {
  const res = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
    body: init.body === undefined ? null : JSON.stringify(init.body),
  });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: (text ? JSON.parse(text) : undefined) as T, headers: res.headers };
}

/** The orchestrator's credentials for Notification (its client-credentials token): who sends emails about a case. */
export const asEms = (svc: Pick<RunningService, 'identity'>) => svc.identity.callAuth('ems')('notification');
/** HR's credentials for Notification: who sends the exit-interview invitations. */
export const asHr = (svc: Pick<RunningService, 'identity'>) => svc.identity.callAuth('hr')('notification');
/** The operator's credentials (a signed-in person): who reads the emails sent. */
export const asOperator = (svc: Pick<RunningService, 'identity'>) => svc.identity.as(OPERATOR);

/** POST /api/emails as EMS (the orchestrator's service token) unless `headers` carries another authorization. */
export async function postEmail(svc: RunningService, body: unknown, headers: Record<string, string> = {}): Promise<Reply<api.Email>> {
  return http<api.Email>(`${svc.baseUrl}/api/emails`, { body, headers: { ...(await asEms(svc)), ...headers } });
}

/** GET /api/emails/:id as the operator. */
export async function getEmail(svc: RunningService, id: string): Promise<Reply<api.Email>> {
  return http<api.Email>(`${svc.baseUrl}/api/emails/${id}`, { headers: await asOperator(svc) });
}

/** GET /api/emails?… as the operator unless `headers` carries another authorization. */
export async function listEmails(svc: RunningService, query: string, headers: Record<string, string> = {}): Promise<Reply<api.EmailList>> {
  return http<api.EmailList>(`${svc.baseUrl}/api/emails?${query}`, { headers: { ...(await asOperator(svc)), ...headers } });
}

const to = (p: Person, over: { email?: string | undefined; name?: string | undefined }) => ({ email: over.email ?? p.email, name: over.name ?? p.name });

/** A manager notice about `kase` (a fresh case unless given), to the case's manager unless told otherwise. */
export function managerNotice(kase: TestCase = openCase(), over: { email?: string; name?: string; data?: Record<string, unknown> } = {}) {
  return {
    resignationId: kase.resignationId,
    purpose: 'manager-notice',
    to: to(kase.manager, over),
    template: 'resignation-manager-notice',
    data: {
      managerName: kase.manager.name,
      employeeName: kase.employee.name,
      employeeId: kase.employee.id,
      lastWorkingDay: '2025-12-12',
      reason: 'A new opportunity',
      ...over.data,
    },
  };
}

/** A decision notice about `kase` for the audience (the case's manager or employee, unless told otherwise). */
export function decisionNotice(
  kase: TestCase,
  audience: 'manager' | 'employee',
  over: { decision?: 'retained' | 'withdrawn' | 'exit_confirmed'; revision?: number; email?: string; name?: string; data?: Record<string, unknown> } = {},
) {
  const decision = over.decision ?? 'exit_confirmed';
  const reader = audience === 'manager' ? kase.manager : kase.employee;
  return {
    resignationId: kase.resignationId,
    purpose: `decision-notice:${decision}:${over.revision ?? 1}:${audience}`,
    to: to(reader, over),
    template: 'resignation-decision-notice',
    data: {
      recipientName: reader.name,
      audience,
      employeeName: kase.employee.name,
      decision,
      ...(decision === 'exit_confirmed' ? { lastWorkingDay: '2026-03-31', revokeAt: '2026-03-31T22:00:00.000Z' } : {}),
      ...over.data,
    },
  };
}

export type Milestone = 'interview_scheduled' | 'interview_held' | 'decision';

/** A follow-up about `kase`: a reminder to the case's HR partner, an escalation to the HR lead (unless told otherwise). */
export function followUp(kase: TestCase, level: 'reminder' | 'escalation', over: { milestone?: Milestone; email?: string; name?: string; data?: Record<string, unknown> } = {}) {
  const milestone = over.milestone ?? 'decision';
  const reader = level === 'reminder' ? kase.hrPartner : kase.hrLead;
  return {
    resignationId: kase.resignationId,
    purpose: `follow-up:${milestone}.${level}`,
    to: to(reader, over),
    template: 'exit-follow-up',
    data: {
      recipientName: reader.name,
      level,
      milestone,
      employeeName: kase.employee.name,
      hrPartnerName: kase.hrPartner.name,
      dueAt: '2026-03-20T08:00:00Z',
      ...over.data,
    },
  };
}

/** An iCalendar file for an exit interview (REQUEST books it, CANCEL calls it off). */
export const ics = (method: 'REQUEST' | 'CANCEL', uid: string, employeeName = 'Alice Leaver') =>
  [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Acme//EMS//EN',
    `METHOD:${method}`,
    'BEGIN:VEVENT',
    `UID:${uid}`,
    'SEQUENCE:0',
    'DTSTAMP:20251201T090000Z',
    'DTSTART:20251216T090000Z',
    'DTEND:20251216T094500Z',
    `SUMMARY:Exit interview: ${employeeName}`,
    ...(method === 'CANCEL' ? ['STATUS:CANCELLED'] : []),
    'END:VEVENT',
    'END:VCALENDAR',
    '',
  ].join('\r\n');

/**
 * HR's exit-interview invitation (REQUEST) or cancellation (CANCEL) about `kase`, to the case's employee or
 * HR partner (unless told otherwise), with its .ics file unless other attachments are given.
 */
export function interviewEmail(
  kase: TestCase,
  reader: 'employee' | 'hr_partner',
  over: { method?: 'REQUEST' | 'CANCEL'; interviewId?: string; sequence?: number; email?: string; name?: string; attachments?: api.SendEmailRequest['attachments'] } = {},
) {
  const method = over.method ?? 'REQUEST';
  const interviewId = over.interviewId ?? randomUUID();
  const who = reader === 'employee' ? kase.employee : kase.hrPartner;
  return {
    resignationId: kase.resignationId,
    purpose: `interview-${method === 'REQUEST' ? 'invite' : 'cancelled'}:${interviewId}:${over.sequence ?? 0}`,
    to: to(who, over),
    template: method === 'REQUEST' ? 'exit-interview-invite' : 'exit-interview-cancelled',
    data: {
      recipientName: who.name,
      employeeName: kase.employee.name,
      hrPartnerName: kase.hrPartner.name,
      start: '2025-12-16T09:00:00Z',
      end: '2025-12-16T09:45:00Z',
      timezone: 'Europe/Berlin',
    },
    attachments: over.attachments ?? [{ filename: 'exit-interview.ics', contentType: `text/calendar; method=${method}`, content: ics(method, `${interviewId}@ems.local`, kase.employee.name) }],
  };
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** Waits until a statement whose text contains `fragment` waits for a lock in this database (it has reached PostgreSQL and is blocked). */
export async function waitForLockWait(pool: Pool, fragment: string): Promise<void> {
  await waitFor(`a statement with "${fragment}" to wait for a lock`, async () => {
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND strpos(query, $1) > 0`,
      [fragment],
    );
    return rows[0]!.n > 0 ? true : undefined;
  });
}

/**
 * The barrier for "nothing more happens" (instead of sleeping): every event on its way to the `reactions`
 * subscribers has been handled (the bus's settled(): a mark taken now, waited for), then a dispatcher round begun
 * after that has ended (a duplicate send, or an outcome a retry publishes, happens in it), then every outcome on its
 * way to the `listeners` has reached them. A duplicate would have shown by the time this resolves.
 */
export async function quiet(bus: EventBusTestHooks, svc: Pick<RunningService, 'service'>, subscribers: { reactions: readonly string[]; listeners: readonly string[] }): Promise<void> {
  for (const s of subscribers.reactions) await bus.settled(s);
  await svc.service.dispatcher.drained();
  for (const s of subscribers.listeners) await bus.settled(s);
}

export { freePort } from '@ems/platform';
