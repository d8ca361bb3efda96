import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { inject } from 'vitest';
import { createHttpServer, createLogger, createPool, migrate, type Pool } from '@ems/platform';
import { createTestDatabase, type TestDatabase } from '@ems/platform/testing';
import type { notification as api } from '@ems/contracts';
import { demoOrg } from '@ems/demo-org';
import { startTestIdentity, type TestIdentity } from '@ems/identity/testing';
import { createNotificationService, type NotificationServiceDeps } from '../src/index.ts';

export const org = demoOrg();
const log = createLogger({ level: process.env.EMS_TEST_LOG_LEVEL ?? 'silent' });

/** The operator on call in the demo organisation: the one who reads the emails sent. */
export const OPERATOR = org.roleAssignments.find((a) => a.role === 'operator')!.personId;

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
  const service = createNotificationService({ pool, log: createLogger({ level: 'silent' }), smtpUrl: 'smtp://127.0.0.1:9' });
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
 * the environment's identity provider), and starts its dispatcher.
 */
export async function bootService(env: Pick<TestEnvironment, 'pool' | 'identity'>, deps: Omit<NotificationServiceDeps, 'pool' | 'log'>, options: { start?: boolean } = {}): Promise<RunningService> {
  const service = createNotificationService({ pool: env.pool, log, ...deps });
  const app = await createHttpServer({
    title: 'notification test',
    version: 'test',
    logger: log,
    plugins: [service.routes],
    readiness: service.readiness ?? {},
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

/** A manager notice for a fresh case unless told otherwise. */
export function managerNotice(over: { resignationId?: string; purpose?: string; email?: string; name?: string; data?: Record<string, unknown> } = {}) {
  return {
    resignationId: over.resignationId ?? randomUUID(),
    purpose: over.purpose ?? 'manager-notice',
    to: { email: over.email ?? 'dana.boss@acme.example', name: over.name ?? 'Dana Boss' },
    template: 'resignation-manager-notice',
    data: {
      managerName: 'Dana Boss',
      employeeName: 'Alice Leaver',
      employeeId: 'E-1001',
      lastWorkingDay: '2025-12-12',
      reason: 'A new opportunity',
      ...over.data,
    },
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

export { freePort } from '@ems/platform';
