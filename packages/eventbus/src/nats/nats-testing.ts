import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect } from '@nats-io/transport-node';
import { JetStreamApiCodes, jetstreamManager } from '@nats-io/jetstream';
import { createLogger, freePort, type Pool } from '@ems/platform';
import { EventSchemas } from '@ems/contracts/events';
import type { EventBus, EventBusTestHooks } from '../port.ts';
import { createNatsEventBus, type NatsEventBusOptions } from './nats-event-bus.ts';
import { isApiError, natsNames } from './topology.ts';

/*
 * Test helpers for the NATS adapter (re-exported by @ems/eventbus/testing; tests only):
 * - natsTestUrl, checkNats, checkNatsServerBinary: where the tests' NATS is, and whether it is there —
 *   skip with a visible warning on a machine without it, fail when EMS_REQUIRE_SERVICES=1 (CI);
 * - startNatsServer: a nats-server of the test's own (free port, throwaway storage) to kill and restart;
 * - createTestNatsBus, removeNatsStreams: the real adapter on a unique prefix, and its cleanup.
 */

/** The NATS server tests use: EMS_NATS_URL, or the machine's on 127.0.0.1:4222. */
export function natsTestUrl(): string {
  return process.env.EMS_NATS_URL ?? 'nats://127.0.0.1:4222';
}

/** Whether a test file can use an external service, decided once when the file is collected. */
export interface ServiceCheck {
  available: boolean;
  /** For `describe.skipIf(check.skip)`: unavailable, and EMS_REQUIRE_SERVICES is not 1. */
  skip: boolean;
  /** Why it is unavailable. */
  reason: string | undefined;
  /** Call in beforeAll: throws, naming the reason, when unavailable (tests then fail instead of skipping). */
  assertAvailable(): void;
}

/** EMS_REQUIRE_SERVICES=1 (CI sets it): missing services fail the tests instead of skipping them. */
export function servicesRequired(): boolean {
  return process.env.EMS_REQUIRE_SERVICES === '1';
}

function serviceCheck(what: string, reason: string | undefined): ServiceCheck {
  const required = servicesRequired();
  if (reason !== undefined && !required) {
    console.warn(`[ems tests] SKIPPING tests that need ${what}: ${reason}. (Set EMS_REQUIRE_SERVICES=1 to make this a failure.)`);
  }
  return {
    available: reason === undefined,
    skip: reason !== undefined && !required,
    reason,
    assertAvailable() {
      if (reason !== undefined) throw new Error(`${what} is required (EMS_REQUIRE_SERVICES=1) but unavailable: ${reason}`);
    },
  };
}

/** Connects once (no retries) and asks JetStream for the account's info; undefined when that works. */
async function probeJetStream(url: string, timeoutMs: number): Promise<string | undefined> {
  try {
    const nc = await connect({ servers: url, timeout: timeoutMs, reconnect: false });
    try {
      await jetstreamManager(nc, { timeout: timeoutMs });
      return undefined;
    } finally {
      await nc.close();
    }
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** Whether NATS with JetStream answers at `url` (default natsTestUrl()). Warns when the tests will skip. */
export async function checkNats(url: string = natsTestUrl()): Promise<ServiceCheck> {
  const problem = await probeJetStream(url, 2000);
  return serviceCheck(`NATS JetStream at ${url}`, problem === undefined ? undefined : `${problem} (EMS_NATS_URL selects the server)`);
}

/** The nats-server binary tests may start: EMS_NATS_SERVER_BIN, or the usual install locations. */
export function natsServerBinary(): string | undefined {
  const candidates = [process.env.EMS_NATS_SERVER_BIN, '/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'];
  return candidates.find((c): c is string => !!c && existsSync(c));
}

/** Whether a nats-server binary is installed (for tests that start their own). Warns when they will skip. */
export function checkNatsServerBinary(): ServiceCheck {
  return serviceCheck('a nats-server binary', natsServerBinary() ? undefined : 'not found (install nats-server, or set EMS_NATS_SERVER_BIN)');
}

/** A nats-server of the test's own, on a free port of 127.0.0.1, with JetStream on throwaway storage. */
export interface NatsTestServer {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** Whether the process is running. */
  readonly running: boolean;
  /** Stops it (default kill -9; SIGTERM: a clean shutdown) and resolves when the process is gone. */
  stop(signal?: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  /** Starts it again on the same port and storage; resolves when JetStream answers. */
  start(): Promise<void>;
  /** stop(signal), then start(). */
  restart(signal?: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  /** Stops it and deletes its storage. */
  dispose(): Promise<void>;
}

const children = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Starts `nats-server -a 127.0.0.1 -p <free port> -js -sd <tmpdir>` and waits until JetStream answers.
 * Never restart the machine's shared server in a test: start one of these. Killed when the test process exits.
 */
export async function startNatsServer(options: { binary?: string; startTimeoutMs?: number } = {}): Promise<NatsTestServer> {
  const binary = options.binary ?? natsServerBinary();
  if (!binary) throw new Error('no nats-server binary (install nats-server, or set EMS_NATS_SERVER_BIN)');
  const startTimeoutMs = options.startTimeoutMs ?? 15_000;
  const port = await freePort();
  const storeDir = await mkdtemp(path.join(tmpdir(), 'ems-nats-'));
  const logFile = path.join(storeDir, 'nats-server.log');
  const url = `nats://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of children) c.kill('SIGKILL');
    });
  }

  const logTail = async () => (await readFile(logFile, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n');

  const start = async () => {
    if (child) return;
    const c = spawn(binary, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir, '-l', logFile], { stdio: 'ignore' });
    child = c;
    children.add(c);
    let exited: string | undefined;
    c.once('exit', (code, signal) => {
      exited = `exited (${signal ?? code})`;
      children.delete(c);
      if (child === c) child = undefined;
    });
    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      if (exited) throw new Error(`nats-server on port ${port} ${exited} while starting:\n${await logTail()}`);
      const problem = await probeJetStream(url, 1000);
      if (problem === undefined) return;
      if (Date.now() > deadline) throw new Error(`nats-server on port ${port} did not answer within ${startTimeoutMs} ms (${problem}):\n${await logTail()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const stop = async (signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL') => {
    const c = child;
    if (!c) return;
    const gone = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill(signal);
    await gone;
  };

  try {
    await start();
  } catch (err) {
    await stop();
    await rm(storeDir, { recursive: true, force: true });
    throw err;
  }
  return {
    url,
    port,
    storeDir,
    get running() {
      return child !== undefined;
    },
    stop,
    start,
    async restart(signal) {
      await stop(signal);
      await start();
    },
    async dispose() {
      await stop();
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}

/** Prefixes tests may delete streams of: so a misconfigured cleanup can never touch a deployment's streams. */
export const TEST_NATS_PREFIX = 'test_';

/** A fresh prefix for one test run (or one bus). */
export function testNatsPrefix(label = ''): string {
  return `${TEST_NATS_PREFIX}${label.replace(/[^a-z0-9]/gi, '').toLowerCase().slice(0, 12)}${label ? '_' : ''}${randomBytes(4).toString('hex')}`;
}

/** Deletes the streams of a test prefix (with everything in them and their consumers). */
export async function removeNatsStreams(servers: string | string[], prefix: string): Promise<void> {
  if (!prefix.startsWith(TEST_NATS_PREFIX)) throw new Error(`refusing to delete the streams of ${prefix}: not a test prefix`);
  const names = natsNames(prefix);
  const nc = await connect({ servers, timeout: 5000, reconnect: false });
  try {
    const jsm = await jetstreamManager(nc);
    for (const stream of [names.eventsStream, names.deadLetterStream]) {
      await jsm.streams.delete(stream).catch((err: unknown) => {
        if (!isApiError(err, JetStreamApiCodes.StreamNotFound)) throw err;
      });
    }
  } finally {
    await nc.close();
  }
}

export interface TestNatsBus extends EventBus, EventBusTestHooks {
  readonly prefix: string;
  readonly servers: string | string[];
  /** stop(), then delete the prefix's streams. */
  destroy(): Promise<void>;
}

/**
 * The real NATS bus as integration tests run it: natsTestUrl(), a unique test prefix, a copy of the
 * core catalogue, a quiet log, 10 s ack wait, 2 s pulls, 0.5 s relay polling. Any option can be overridden.
 */
export function createTestNatsBus(pool: Pool, options: Partial<Omit<NatsEventBusOptions, 'pool'>> = {}): TestNatsBus {
  const servers = options.servers ?? natsTestUrl();
  const prefix = options.prefix ?? testNatsPrefix();
  const bus = createNatsEventBus({
    log: createLogger({ level: process.env.EMS_TEST_LOG_LEVEL ?? 'silent' }),
    catalogue: { ...EventSchemas },
    ackWaitMs: 10_000,
    pullExpiresMs: 2000,
    relayPollMs: 500,
    ...options,
    servers,
    prefix,
    pool,
  });
  return {
    ...bus,
    prefix,
    servers,
    async destroy() {
      await bus.stop();
      await removeNatsStreams(servers, prefix);
    },
  };
}
