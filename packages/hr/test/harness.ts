import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inject } from 'vitest';
import { createHttpServer, createLogger, createPool, migrate, type App, type CaseLookup, type Clock, type Pool, type ServiceModule } from '@ems/platform';
import { createTestDatabase, knownCases, type TestDatabase } from '@ems/platform/testing';
import { demoOrg, type DemoOrg, type Employee } from '@ems/demo-org';
import { z } from 'zod';
import { notification } from '@ems/contracts';
import { EventSources, EventTypes, type CloudEvent, type EventData } from '@ems/contracts/events';
import { createEvent, type EventBus, type EventedService } from '@ems/eventbus';
import { startTestIdentity, type TestIdentity } from '@ems/identity/testing';
import { createHrService, type HrFollowUpOptions, type HrService } from '../src/index.ts';

/** A clock the tests set by hand. */
export function manualClock(iso: string): Clock & { set(iso: string): void } {
  let now = new Date(iso);
  return { now: () => new Date(now), set: (s) => (now = new Date(s)) };
}

/** The HR lead of the demo organisation (role hr_lead): reads and changes every interview. */
export const HR_LEAD = demoOrg().roleAssignments.find((a) => a.role === 'hr_lead')!.personId;

export type Headers = Record<string, string>;

/**
 * EMS's answer to HR's question "is this a case, and whose?" (GET /api/resignations/{id}), stood in for
 * as these tests stand in for EMS's events: HR books an interview only for a case added here.
 */
export interface KnownCases {
  /** EMS knows the resignation, of this employee (a case's employee never changes). Returns the id. */
  add(resignationId: string, employeeId: string): string;
  /** While set, every question rejects with it (e.g. a retryable ServiceCallError: EMS cannot be asked); unset, EMS answers again. */
  failWith: Error | undefined;
}

export interface HrUnderTest {
  base: string;
  pool: Pool;
  service: HrService;
  org: DemoOrg;
  /** The identity provider HR trusts (its own port, over the test database): real tokens, never minted by hand. */
  identity: TestIdentity;
  /** The cases EMS knows, as HR asks about them before booking: register the case a test books for. */
  cases: KnownCases;
  /** The orchestrator's credentials for HR (EMS's client-credentials token): who books interviews and cancels them on a decision. */
  asEms(): Promise<Headers>;
  /** A signed-in person's `{ authorization }` (e.g. an employee reading the directory, `HR_LEAD`). */
  as(personId: string): Promise<Headers>;
  /** The credentials of the employee's HR partner (as the directory says): who holds, moves and reads their interview. */
  asPartnerOf(employeeId: string): Promise<Headers>;
  /**
   * An employee of the HR partner (and, given `where`, one it accepts) this harness has not handed out before: a test
   * file starts one harness, so its tests never share people. Throws when the partner has none left.
   */
  employeeOf(partnerId: string, where?: (employee: Employee) => boolean): Employee;
  /**
   * Another HR process on the same database (its own pool, HTTP server and workers, started; the
   * same bus, clock and Notification): a second replica, or the process that replaces a stopped one.
   */
  another(): Promise<HrInstance>;
  stop(): Promise<void>;
}

export interface HrInstance {
  base: string;
  service: ServiceModule<DemoOrg> & EventedService;
  stop(): Promise<void>;
}

/**
 * The HR service on a real PostgreSQL (its own throwaway database) and a real HTTP server on port 0,
 * behind the real trust boundary: a test identity provider over the same database issues the tokens
 * (people sign in, services use client credentials), and HR calls Notification with its own service token.
 */
export async function startHr(options: {
  label: string;
  clock: Clock;
  notificationUrl: string;
  relayIntervalMs?: number;
  startRelay?: boolean;
  /** Builds the event bus on the test database's pool; none → HR publishes nothing (the default). */
  bus?: (pool: Pool) => Promise<EventBus>;
  reactToEvents?: boolean;
  followUps?: HrFollowUpOptions;
  /** How many demo employees to seed (the demo organisation's 60 by default). */
  employees?: number;
}): Promise<HrUnderTest> {
  const db: TestDatabase = await createTestDatabase(inject('testServerUrl'), options.label);
  const pool = createPool(db.url, { max: 20 });
  const log = createLogger({ level: process.env.EMS_TEST_LOG_LEVEL ?? 'silent' });
  const org = demoOrg(options.employees);
  const identity = await startTestIdentity(pool, org, log);
  const bus = options.bus ? await options.bus(pool) : undefined;
  const known = knownCases();
  const cases: KnownCases = { add: (resignationId, employeeId) => known.add(resignationId, employeeId), failWith: undefined };
  const lookup: CaseLookup = {
    get: async (resignationId) => {
      if (cases.failWith) throw cases.failWith;
      return known.lookup.get(resignationId);
    },
  };
  const build = (on: Pool) =>
    createHrService({
      pool: on,
      log,
      clock: options.clock,
      notificationUrl: options.notificationUrl,
      auth: identity.callAuth('hr'),
      cases: lookup,
      ...(options.relayIntervalMs ? { relayIntervalMs: options.relayIntervalMs } : {}),
      ...(bus ? { bus } : {}),
      ...(options.reactToEvents ? { reactToEvents: true } : {}),
      ...(options.followUps ? { followUps: options.followUps } : {}),
    });
  const serve = async (service: ServiceModule<DemoOrg>) => {
    const app: App = await createHttpServer({
      title: 'hr test',
      version: '0',
      logger: log,
      plugins: [service.routes],
      readiness: service.readiness ?? {},
      docs: false,
      security: identity.securityFor(['hr']),
    });
    return { app, base: await app.listen({ port: 0, host: '127.0.0.1' }) };
  };
  const service = build(pool);
  await migrate(pool, service.schema, service.migrations);
  await service.seed!(org);
  const { app, base } = await serve(service);
  if (options.startRelay) await service.start!();
  const partnerOf = (employeeId: string) => {
    const e = org.employees.find((x) => x.id === employeeId);
    if (!e) throw new Error(`no employee ${employeeId} in the demo organisation`);
    return e.hrPartnerId;
  };
  const handedOut = new Set<string>();
  const employeeOf = (partnerId: string, where: (employee: Employee) => boolean = () => true) => {
    const e = org.employees.find((x) => x.hrPartnerId === partnerId && !handedOut.has(x.id) && where(x));
    if (!e) throw new Error(`out of employees of ${partnerId}`);
    handedOut.add(e.id);
    return e;
  };
  return {
    base,
    pool,
    service,
    org,
    identity,
    cases,
    asEms: () => identity.callAuth('ems')('hr'),
    as: (personId) => identity.as(personId),
    asPartnerOf: (employeeId) => identity.as(partnerOf(employeeId)),
    employeeOf,
    async another() {
      const otherPool = createPool(db.url, { max: 5 });
      const other = build(otherPool);
      await migrate(otherPool, other.schema, other.migrations);
      const served = await serve(other);
      await other.start!();
      return {
        base: served.base,
        service: other,
        async stop() {
          await other.stop!();
          await served.app.close();
          await otherPool.end();
        },
      };
    },
    async stop() {
      await service.stop?.();
      await app.close();
      await identity.stop();
      await pool.end();
      await db.drop();
    },
  };
}

export interface ReceivedEmail {
  request: notification.SendEmailRequest;
  idempotencyKey: string | undefined;
  /** The Authorization header the caller sent (HR's service token for Notification). */
  authorization: string | undefined;
  /** The id of the email the stub answered with (the same for a repeat). */
  emailId: string;
}

/**
 * A stand-in for the Notification service over real HTTP: POST /api/emails validated against the
 * contract, de-duplicated on (resignationId, purpose, recipient) like the real one (201 new, 200
 * repeat). `failWith` makes it answer an error status instead, to play an unhealthy service. It records
 * the Authorization header of each request but does not check it (Notification's own tests do).
 */
export interface NotificationStub {
  url: string;
  port: number;
  /** Every POST it accepted, repeats included. */
  received: ReceivedEmail[];
  /** HTTP requests it answered (a batch of emails counts once). */
  calls: number;
  /** One entry per distinct email (what the real service would have sent). */
  emails(): notification.SendEmailRequest[];
  failWith: number | undefined;
  stop(): Promise<void>;
}

/** The template data HR sends, checked as the real service checks it (Notification refuses bad data with 400). */
const TEMPLATE_DATA: Partial<Record<notification.EmailTemplate, z.ZodType>> = {
  'exit-interview-invite': notification.InterviewInviteData,
  'exit-interview-cancelled': notification.InterviewInviteData,
  'exit-follow-up': notification.FollowUpData,
};

export async function startNotificationStub(port = 0): Promise<NotificationStub> {
  const stored = new Map<string, { id: string; request: notification.SendEmailRequest }>();
  const stub: NotificationStub = {
    url: '',
    port: 0,
    received: [],
    calls: 0,
    emails: () => [...stored.values()].map((s) => s.request),
    failWith: undefined,
    stop: async () => undefined,
  };
  const server: Server = createServer((req, res) => {
    void handle(req).then(
      ({ status, body }) => {
        res.writeHead(status, { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json' });
        res.end(JSON.stringify(body));
      },
      () => {
        res.writeHead(500);
        res.end();
      },
    );
  });

  async function handle(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    let raw = '';
    for await (const chunk of req) raw += String(chunk);
    const batch = req.url === notification.NotificationPaths.emailBatches;
    if (req.method !== 'POST' || (req.url !== notification.NotificationPaths.emails && !batch)) {
      return { status: 404, body: { type: 'about:blank', title: 'Not Found', status: 404 } };
    }
    stub.calls++;
    if (stub.failWith !== undefined) return { status: stub.failWith, body: { type: 'about:blank', title: 'Unavailable', status: stub.failWith, detail: 'stub told to fail' } };
    const authorization = req.headers.authorization;
    if (!batch) {
      const idempotencyKey = req.headers['idempotency-key'];
      const one = accept(JSON.parse(raw), typeof idempotencyKey === 'string' ? idempotencyKey : undefined, authorization, 'body');
      if ('problem' in one) return { status: 400, body: one.problem };
      return { status: one.created ? 201 : 200, body: one.email };
    }
    // The batch form (POST /api/email-batches): every email checked first, then each stored as one request would be.
    const parsed = z.object({ emails: z.array(z.object({ idempotencyKey: z.string(), email: z.unknown() })).min(1) }).safeParse(JSON.parse(raw));
    if (!parsed.success) return { status: 400, body: { type: 'https://ems.dev/problems/validation', title: 'Invalid request', status: 400, detail: parsed.error.message } };
    for (const [i, item] of parsed.data.emails.entries()) {
      const problem = check(item.email, `body.emails.${i}.email`);
      if (problem) return { status: 400, body: problem };
    }
    const emails = parsed.data.emails.map((item, i) => {
      const one = accept(item.email, item.idempotencyKey, authorization, `body.emails.${i}.email`);
      if ('problem' in one) throw new Error('checked above');
      return { state: one.created ? 'created' : 'existing', email: one.email };
    });
    return { status: 200, body: { emails } };
  }

  function check(body: unknown, at: string): { type: string; title: string; status: number; detail: string; errors: { path: string; message: string }[] } | undefined {
    const invalid = (path: string, detail: string) => ({ type: 'https://ems.dev/problems/validation', title: 'Invalid request', status: 400, detail, errors: [{ path, message: detail }] });
    const parsed = notification.SendEmailRequest.safeParse(body);
    if (!parsed.success) return invalid(at, parsed.error.message);
    const data = TEMPLATE_DATA[parsed.data.template]?.safeParse(parsed.data.data);
    if (data && !data.success) return invalid(`${at}.data`, `data: ${data.error.message}`);
    return undefined;
  }

  function accept(body: unknown, idempotencyKey: string | undefined, authorization: string | undefined, at: string) {
    const problem = check(body, at);
    if (problem) return { problem };
    const request = notification.SendEmailRequest.parse(body);
    const key = `${request.resignationId}|${request.purpose}|${request.to.email.toLowerCase()}`;
    const existing = stored.get(key);
    const entry = existing ?? { id: randomUUID(), request };
    if (!existing) stored.set(key, entry);
    stub.received.push({ request, idempotencyKey, authorization, emailId: entry.id });
    const email: notification.Email = {
      id: entry.id,
      resignationId: request.resignationId,
      purpose: request.purpose,
      to: request.to.email,
      template: request.template,
      subject: `stub: ${request.template}`,
      status: 'sent',
      attempts: 1,
      messageId: `<${entry.id}@stub>`,
      lastError: null,
      attachments: request.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType })),
      createdAt: new Date().toISOString(),
      sentAt: new Date().toISOString(),
    };
    return { created: !existing, email };
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  stub.port = (server.address() as AddressInfo).port;
  stub.url = `http://127.0.0.1:${stub.port}`;
  stub.stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return stub;
}

export { requestJson as call, type JsonResponse } from '@ems/platform/testing';

export { waitFor } from '@ems/platform/testing';

/** RFC 5545 content lines of an ICS text (unfolded), for assertions. */
export function icsLines(ics: string): { name: string; params: string; value: string }[] {
  if (!/\r\n$/.test(ics)) throw new Error('ICS lines must end with CRLF');
  return ics
    .replace(/\r\n[ \t]/g, '')
    .split('\r\n')
    .filter((l) => l !== '')
    .map((line) => {
      const m = /^([A-Z][A-Z0-9-]*)((?:;[^:]*)?):(.*)$/.exec(line);
      if (!m) throw new Error(`not an iCalendar content line: ${line}`);
      return { name: m[1]!, params: m[2]!, value: m[3]! };
    });
}

export function icsValues(ics: string, name: string): string[] {
  return icsLines(ics).filter((l) => l.name === name).map((l) => l.value);
}

/** '20260303T020000Z' → ISO instant. */
export function icsInstant(value: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) throw new Error(`not a UTC DATE-TIME: ${value}`);
  return new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`).toISOString();
}

type Closing = typeof EventTypes.resignationRetained | typeof EventTypes.resignationWithdrawn | typeof EventTypes.exitConfirmed;

/** The event EMS publishes when a resignation is decided (retained, exit confirmed) or withdrawn, on the case of `submitted`. */
export function decisionEvent(
  type: Closing,
  submitted: CloudEvent<EventData<typeof EventTypes.resignationSubmitted>>,
  decidedAt: Date,
): CloudEvent<EventData<Closing>> {
  const s = submitted.data;
  const decided = { resignationId: s.resignationId, employee: s.employee, manager: s.manager, hrPartnerId: s.hrPartnerId, decidedAt: decidedAt.toISOString(), note: null };
  return createEvent({
    type,
    source: EventSources.ems,
    subject: s.resignationId,
    correlationId: submitted.correlationid,
    traceparent: submitted.traceparent,
    data: type === EventTypes.exitConfirmed ? { ...decided, lastWorkingDay: s.lastWorkingDay, revokeAt: `${s.lastWorkingDay}T16:00:00.000Z`, revision: 1 } : decided,
  });
}
