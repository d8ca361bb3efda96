import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { inject } from 'vitest';
import { createHttpServer, createLogger, createPool, migrate, type Pool } from '@ems/platform';
import { createTestDatabase, type TestDatabase } from '@ems/platform/testing';
import type { notification as api } from '@ems/contracts';
import { createNotificationService, type NotificationServiceDeps } from '../src/index.ts';

/** One throwaway database per test file, migrated with the notification schema. */
export async function openDatabase(): Promise<{ db: TestDatabase; pool: Pool; close(): Promise<void> }> {
  const db = await createTestDatabase(inject('testServerUrl'), 'notification');
  const pool = createPool(db.url, { max: 10, name: 'notification-test' });
  const service = createNotificationService({ pool, log: createLogger({ level: 'silent' }), smtpUrl: 'smtp://127.0.0.1:9' });
  await migrate(pool, service.schema, service.migrations);
  return {
    db,
    pool,
    async close() {
      await pool.end();
      await db.drop();
    },
  };
}

export interface RunningService {
  baseUrl: string;
  service: ReturnType<typeof createNotificationService>;
  /** Stops the HTTP server, then the service's workers. */
  close(): Promise<void>;
}

/** Boots the service's routes on a real HTTP server (port 0) and starts its dispatcher. */
export async function bootService(pool: Pool, deps: Omit<NotificationServiceDeps, 'pool' | 'log'>, options: { start?: boolean } = {}): Promise<RunningService> {
  const log = createLogger({ level: process.env.EMS_TEST_LOG_LEVEL ?? 'silent' });
  const service = createNotificationService({ pool, log, ...deps });
  const app = await createHttpServer({
    title: 'notification test',
    version: 'test',
    logger: log,
    plugins: [service.routes],
    readiness: service.readiness ?? {},
    docs: false,
  });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  if (options.start !== false) await service.start?.();
  let closed: Promise<void> | undefined;
  return {
    baseUrl: address,
    service,
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

export function postEmail(baseUrl: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply<api.Email>> {
  return http<api.Email>(`${baseUrl}/api/emails`, { body, headers });
}

export function getEmail(baseUrl: string, id: string): Promise<Reply<api.Email>> {
  return http<api.Email>(`${baseUrl}/api/emails/${id}`);
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
