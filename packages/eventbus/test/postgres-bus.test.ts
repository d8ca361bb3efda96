import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Kysely, PostgresDialect } from 'kysely';
import { z } from 'zod';
import { createLogger, createPool, type Pool } from '@ems/platform';
import { createTestDatabase, sleep, waitFor, type TestDatabase } from '@ems/platform/testing';
import { createEvent, createPostgresEventBus, type CloudEvent, type EventBus, type Subscription } from '../src/index.ts';
import { defineEventBusContract } from './contract.ts';

defineEventBusContract('postgres', async (ctx) => {
  const bus = createPostgresEventBus({ pool: ctx.pool, log: ctx.log, catalogue: ctx.catalogue, pollingIntervalSeconds: 0.5 });
  return {
    bus,
    dispose: () => bus.stop(),
    // Its queues, their jobs (any state) and its routing.
    waitingUnder: async (subscriber) => {
      const names = [subscriber, `${subscriber}.dead-letters`];
      const { rows } = await ctx.pool.query<{ n: number }>(
        `SELECT (SELECT count(*) FROM bus.queue WHERE name = ANY($1::text[])) + (SELECT count(*) FROM bus.job WHERE name = ANY($1::text[])) + (SELECT count(*) FROM bus.subscription WHERE name = $2) AS n`,
        [names, subscriber],
      );
      return Number(rows[0]!.n);
    },
  };
});

describe('PostgreSQL event bus', () => {
  const type = 'com.ems.pgbus.tick.v1';
  const catalogue = { [type]: z.object({ n: z.number().int() }) };
  const log = createLogger({ level: process.env.EMS_TEST_LOG_LEVEL ?? 'silent' });
  let testDb: TestDatabase;
  let pool: Pool;
  let db: Kysely<Record<string, never>>;

  beforeAll(async () => {
    testDb = await createTestDatabase(inject('testServerUrl'), 'pgbus');
    pool = createPool(testDb.url, { max: 20 });
    db = new Kysely({ dialect: new PostgresDialect({ pool }) });
  });
  afterAll(async () => {
    await db?.destroy();
    await testDb?.drop();
  });

  const tick = (n: number): CloudEvent => createEvent({ type, source: '/ems/test', subject: randomUUID(), correlationId: randomUUID(), data: { n } });
  const publish = (bus: EventBus, events: CloudEvent[]) => db.transaction().execute((trx) => bus.publish(trx, events));
  /** Barrier: every job in the bus schema has run to its end: a second delivery, or one of a dropped type, would have happened. */
  const idle = (schema: string) =>
    waitFor(async () => ((await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}.job WHERE state < 'completed'`)).rows[0]!.n === 0 ? true : undefined), `every job in ${schema} to have run`);
  const counting = (name: string, handleMs: number) => {
    const seen: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const subscription: Subscription = {
      name,
      types: [type],
      async handle(event) {
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        await sleep(handleMs);
        inFlight--;
        seen.push(event.id);
      },
    };
    return { subscription, seen, maxInFlight: () => maxInFlight };
  };

  /**
   * A pool of the test's own whose connections count, per queue, the fetches pg-boss's workers made and got an
   * answer to (a worker's claim names its queue in its text: `j.name = '<queue>'` … `SKIP LOCKED`) — seen on the
   * wire, so the bus needs no hook for it.
   */
  const fetchCountingPool = (name: string) => {
    const watched = createPool(testDb.url, { max: 10, name });
    const answered = new Map<string, number>();
    watched.on('connect', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      const counted = (...args: unknown[]): unknown => {
        const result = query(...args);
        const config = args[0];
        const text = typeof config === 'string' ? config : typeof config === 'object' && config !== null && 'text' in config ? config.text : undefined;
        const queue = typeof text === 'string' && text.includes('SKIP LOCKED') ? /\bj\.name = '([^']+)'/.exec(text)?.[1] : undefined;
        if (queue && result instanceof Promise) {
          result.then(
            () => answered.set(queue, (answered.get(queue) ?? 0) + 1),
            () => undefined,
          );
        }
        return result;
      };
      client.query = counted as typeof client.query;
    });
    return { pool: watched, fetched: (queue: string) => answered.get(queue) ?? 0 };
  };
  /**
   * Barrier: each of the subscriber's `workers` and its dead-letter worker made its first fetch at start and was
   * answered (nothing waits yet, so each found nothing): from here only a wake-up makes them fetch again.
   */
  const firstFetchesBehind = (fetched: (queue: string) => number, subscriber: string, workers: number) =>
    waitFor(() => (fetched(subscriber) >= workers && fetched(`${subscriber}.dead-letters`) >= 1 ? true : undefined), `the first fetches of ${subscriber}'s workers`);

  it("when the bus is installed, then its job table is analysed after every 1,000 changes (+10 %): a burst's fetches are planned on the queue's real size, not on a handful of jobs", async () => {
    const bus = createPostgresEventBus({ pool, log, catalogue, schema: 'bus_stats', pollingIntervalSeconds: 0.5 });
    await bus.start();
    try {
      const { rows } = await pool.query<{ reloptions: string[] | null }>(`SELECT reloptions FROM pg_class WHERE oid = 'bus_stats.job_common'::regclass`);
      expect(rows[0]!.reloptions).toEqual(expect.arrayContaining(['autovacuum_analyze_threshold=1000', 'autovacuum_analyze_scale_factor=0.1']));
    } finally {
      await bus.stop();
    }
  });

  it('when a process retires a subscriber it never subscribed (routing left by an earlier run), then events stop queuing for it', async () => {
    const routedTo = async (name: string) =>
      Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM bus_retire.subscription WHERE name = $1`, [name])).rows[0]!.n);
    const earlier = createPostgresEventBus({ pool, log, catalogue, schema: 'bus_retire', pollingIntervalSeconds: 0.5 });
    await earlier.subscribe(counting('pgbus.retired', 0).subscription);
    await earlier.start();
    await earlier.stop();
    expect(await routedTo('pgbus.retired')).toBe(1);

    const later = createPostgresEventBus({ pool, log, catalogue, schema: 'bus_retire', pollingIntervalSeconds: 0.5 });
    await later.unsubscribe('pgbus.retired'); // before start: applied when it starts
    await later.start();
    try {
      expect(await routedTo('pgbus.retired')).toBe(0);
      await publish(later, [tick(1)]);
      const queued = await pool.query(`SELECT 1 FROM bus_retire.job WHERE name = 'pgbus.retired'`);
      expect(queued.rowCount).toBe(0);
    } finally {
      await later.stop();
    }
  });

  it("when every connection of the bus's pool is held (a burst of other work), then a critical-lane subscriber still fetches, handles and settles its event on its own connections; a standard one waits for the pool", async () => {
    const busPool = createPool(testDb.url, { max: 3, name: 'pgbus-lane' });
    const bus = createPostgresEventBus({ pool: busPool, log, catalogue, schema: 'bus_lane', pollingIntervalSeconds: 0.5 });
    const standard = counting('pgbus.lane-standard', 0);
    const critical = counting('pgbus.lane-critical', 0);
    await bus.subscribe(standard.subscription);
    await bus.subscribe({ ...critical.subscription, lane: 'critical' });
    await bus.start();
    const held = await Promise.all([1, 2, 3].map(() => busPool.connect()));
    try {
      // Published on the test's own pool: the event reaches both queues, NOTIFY wakes both workers.
      await publish(bus, [tick(1)]);
      await waitFor(() => (critical.seen.length === 1 ? true : undefined), 'the critical subscriber, with the bus pool exhausted');
      // Marker reached; the standard worker cannot have fetched: no connection of its pool was free.
      expect(standard.seen).toHaveLength(0);
    } finally {
      for (const c of held) c.release();
    }
    try {
      await waitFor(() => (standard.seen.length === 1 ? true : undefined), 'the standard subscriber, once the pool is free');
      await idle('bus_lane'); // the critical delivery was settled (completed), not left active
    } finally {
      await bus.stop();
      await busPool.end();
    }
  });

  it('when several processes start together on a fresh database, then all start, and a subscriber they share gets each event once', async () => {
    const buses = [1, 2, 3].map(() => createPostgresEventBus({ pool, log, catalogue, schema: 'bus_race', pollingIntervalSeconds: 0.5 }));
    const shared = counting('pgbus.shared', 0);
    try {
      for (const bus of buses) await bus.subscribe(shared.subscription);
      await Promise.all(buses.map((bus) => bus.start()));
      const events = Array.from({ length: 12 }, (_, i) => tick(i));
      await publish(buses[0]!, events);
      await waitFor(() => (shared.seen.length >= 12 ? true : undefined), 'twelve deliveries');
      await idle('bus_race');
      expect(shared.seen.sort()).toEqual(events.map((e) => e.id).sort());
    } finally {
      await Promise.all(buses.map((bus) => bus.stop()));
    }
  });

  it('when a subscriber has concurrency 3, then at most 3 of its handlers run at once, and they do run in parallel', async () => {
    const bus = createPostgresEventBus({ pool, log, catalogue, schema: 'bus_concurrency', pollingIntervalSeconds: 0.5 });
    const c = counting('pgbus.concurrency', 300);
    try {
      await bus.subscribe({ ...c.subscription, concurrency: 3 });
      await bus.start();
      await publish(bus, Array.from({ length: 12 }, (_, i) => tick(i)));
      await waitFor(() => (c.seen.length === 12 ? true : undefined), 'twelve deliveries');
      expect(c.maxInFlight()).toBe(3);
    } finally {
      await bus.stop();
    }
  });

  it('when a subscriber takes batches of 8, then a backlog of 16 is fetched 8 at a time and each batch reaches its handler at once (one turn); the default takes 2', async () => {
    const run = async (name: string, batch: number | undefined) => {
      const watched = fetchCountingPool(`pgbus-${name}`);
      const bus = createPostgresEventBus({ pool: watched.pool, log, catalogue, schema: `bus_${name}`, pollingIntervalSeconds: 0.5 });
      /** Deliveries handed over in each turn of the event loop, in order. */
      const turns: number[] = [];
      let inTurn = 0;
      const subscription: Subscription = {
        name: `pgbus.${name}`,
        types: [type],
        concurrency: 8,
        ...(batch !== undefined ? { batch } : {}),
        async handle() {
          if (inTurn++ === 0) {
            queueMicrotask(() => {
              turns.push(inTurn);
              inTurn = 0;
            });
          }
          await sleep(50);
        },
      };
      try {
        await bus.subscribe(subscription);
        await bus.start();
        await bus.stop();
        await publish(bus, Array.from({ length: 16 }, (_, i) => tick(i)));
        await bus.start();
        await waitFor(() => (turns.reduce((a, n) => a + n, 0) === 16 ? true : undefined), 'sixteen deliveries');
        await idle(`bus_${name}`);
        return { turns, fetched: watched.fetched(`pgbus.${name}`) };
      } finally {
        await bus.stop();
        await watched.pool.end();
      }
    };
    const eights = await run('batch8', 8);
    expect(eights.turns).toEqual([8, 8]);
    // Each start's first fetch (the first found nothing), then two full batches and the one after the second that found the queue empty.
    expect(eights.fetched).toBeLessThanOrEqual(4);
    const twos = await run('batch2', undefined);
    expect(twos.turns).toEqual([2, 2, 2, 2, 2, 2, 2, 2]);
    expect(twos.fetched).toBeGreaterThan(eights.fetched);
  });

  it('when a subscriber lingers, then deliveries committed one by one within its linger are fetched together, in one batch', async () => {
    const watched = fetchCountingPool('pgbus-linger');
    // The sweep (every idle polling interval) is kept out of it: only NOTIFYs wake the worker.
    const bus = createPostgresEventBus({ pool: watched.pool, log, catalogue, schema: 'bus_linger', pollingIntervalSeconds: 0.5, idlePollingIntervalSeconds: 120 });
    /** Deliveries handed over in each turn of the event loop, in order. */
    const turns: number[] = [];
    let inTurn = 0;
    const subscription: Subscription = {
      name: 'pgbus.linger',
      types: [type],
      concurrency: 8,
      batch: 8,
      linger: 1000,
      async handle() {
        if (inTurn++ === 0) {
          queueMicrotask(() => {
            turns.push(inTurn);
            inTurn = 0;
          });
        }
      },
    };
    try {
      await bus.subscribe(subscription);
      await bus.start();
      await firstFetchesBehind(watched.fetched, 'pgbus.linger', 1);
      const before = watched.fetched('pgbus.linger');
      // Eight transactions, one after another: eight NOTIFYs, each of which woke a fetch of its own without a linger.
      for (let i = 0; i < 8; i++) await publish(bus, [tick(i)]);
      await waitFor(() => (turns.reduce((a, n) => a + n, 0) === 8 ? true : undefined), 'eight deliveries');
      await idle('bus_linger');
      expect(turns).toEqual([8]);
      // The batch of eight, and the fetch after a full batch that found the queue empty.
      expect(watched.fetched('pgbus.linger') - before).toBeLessThanOrEqual(2);
    } finally {
      await bus.stop();
      await watched.pool.end();
    }
  });

  it('when a backlog waits for a single-worker subscriber, then it drains without waiting a polling interval per event', async () => {
    const bus = createPostgresEventBus({ pool, log, catalogue, schema: 'bus_backlog', pollingIntervalSeconds: 2 });
    const c = counting('pgbus.backlog', 0);
    try {
      await bus.subscribe({ ...c.subscription, concurrency: 1 });
      await bus.start();
      await bus.stop();
      await publish(bus, Array.from({ length: 30 }, (_, i) => tick(i)));
      const started = Date.now();
      await bus.start();
      await waitFor(() => (c.seen.length === 30 ? true : undefined), 'thirty deliveries');
      // One poll interval per event would take a minute.
      expect(Date.now() - started).toBeLessThan(6000);
    } finally {
      await bus.stop();
    }
  });

  it('when idle polling is rare, then new events, retries and dead letters still arrive promptly (woken by NOTIFY and by the process that failed them)', async () => {
    const watched = fetchCountingPool('pgbus-wakeups');
    const bus = createPostgresEventBus({ pool: watched.pool, log, catalogue, schema: 'bus_wakeups', pollingIntervalSeconds: 0.5, idlePollingIntervalSeconds: 120 });
    const attempts: number[] = [];
    const dead: string[] = [];
    const subscription: Subscription = {
      name: 'pgbus.wakeups',
      types: [type],
      retry: { maxAttempts: 2, backoffMs: 200 },
      async handle(event, ctx) {
        attempts.push(ctx.attempt);
        if ((event.data as { n: number }).n === 1) throw new Error('always fails');
      },
      onDeadLetter: async (event) => void dead.push(event.id),
    };
    try {
      await bus.subscribe(subscription);
      await bus.start();
      // The default concurrency (4) is two workers taking two jobs each.
      await firstFetchesBehind(watched.fetched, 'pgbus.wakeups', 2);
      const started = Date.now();
      const failing = tick(1);
      await publish(bus, [failing]);
      await waitFor(() => (dead.length ? true : undefined), 'the dead letter', 15_000);
      // Retry due 1–2 s after the first failure, then dead-lettered; a 120 s poll would take minutes.
      expect(Date.now() - started).toBeLessThan(8000);
      expect(attempts).toEqual([1, 2]);
      expect(dead).toEqual([failing.id]);
      const later = Date.now();
      await publish(bus, [tick(2)]);
      await waitFor(() => (attempts.length === 3 ? true : undefined), 'the next event', 10_000);
      expect(Date.now() - later).toBeLessThan(3000);
    } finally {
      await bus.stop();
      await watched.pool.end();
    }
  });

  it('when a retry comes due that nothing here scheduled (its handler timed out), then the periodic sweep finds it, though the workers themselves poll only once a minute', async () => {
    const watched = fetchCountingPool('pgbus-sweep');
    const bus = createPostgresEventBus({ pool: watched.pool, log, catalogue, schema: 'bus_sweep', pollingIntervalSeconds: 0.5, idlePollingIntervalSeconds: 1, handlerTimeoutSeconds: 1 });
    const attempts: number[] = [];
    const subscription: Subscription = {
      name: 'pgbus.sweep',
      types: [type],
      retry: { maxAttempts: 2, backoffMs: 200 },
      concurrency: 1,
      async handle(_event, ctx) {
        attempts.push(ctx.attempt);
        // Outlives the 1 s handler timeout: pg-boss fails it, not the bus. It returns once failed: the one worker, held
        // until then and waking itself after each job, fetches at once — a second before the retry can be due
        // (retryWindow: 1–2 s), so only the sweep can find the retry. (A fixed 2.5 s let that fetch find it: with the
        // sweep every 120 s instead, the test passed 1 run in 3; now it fails every time.)
        if (ctx.attempt === 1) {
          await waitFor(async () => ((await pool.query(`SELECT 1 FROM bus_sweep.job WHERE name = 'pgbus.sweep' AND state = 'retry'`)).rowCount ? true : undefined), 'pg-boss to fail the timed-out attempt');
        }
      },
    };
    try {
      await bus.subscribe(subscription);
      await bus.start();
      await firstFetchesBehind(watched.fetched, 'pgbus.sweep', 1);
      const started = Date.now();
      await publish(bus, [tick(1)]);
      await waitFor(() => (attempts.length === 2 ? true : undefined), 'the retry', 20_000);
      // Timed out after 1 s, due 1–2 s later, found within a 1 s sweep (a minute if left to the workers).
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await bus.stop();
      await watched.pool.end();
    }
  });

  it('when a publish fans out to several subscribers, then each gets a job exactly like the one pg-boss itself would queue, in one statement', async () => {
    const bus = createPostgresEventBus({ pool, log, catalogue, schema: 'bus_rows', pollingIntervalSeconds: 0.5 });
    const a = counting('pgbus.rows-a', 0).subscription;
    const b = counting('pgbus.rows-b', 0).subscription;
    await bus.subscribe({ ...a, retry: { maxAttempts: 3, backoffMs: 2500 } });
    await bus.subscribe(b);
    await bus.start();
    await bus.stop(); // nothing consumes: the rows stay as written
    const events = [tick(1), tick(2)];
    await publish(bus, events);
    await bus.injectRaw('pgbus.rows-a', events[0]); // through pg-boss's own send()

    type Row = Record<string, unknown> & { id: string; name: string; data: { event: { id: string } }; start_after: Date; keep_until: Date; created_on: Date };
    const { rows } = await pool.query<Row>(`SELECT * FROM bus_rows.job ORDER BY created_on`);
    expect(rows.map((r) => r.name).sort()).toEqual(['pgbus.rows-a', 'pgbus.rows-a', 'pgbus.rows-a', 'pgbus.rows-b', 'pgbus.rows-b']);
    for (const name of ['pgbus.rows-a', 'pgbus.rows-b']) {
      expect(rows.filter((r) => r.name === name && r.id !== rows.at(-1)!.id).map((r) => r.data.event.id).sort()).toEqual(events.map((e) => e.id).sort());
    }
    const viaSend = rows.at(-1)!;
    expect(viaSend.name).toBe('pgbus.rows-a');
    // Every column but the job's own identity, payload and times (compared as durations).
    const comparable = (row: Row) => {
      const rest: Record<string, unknown> = { ...row };
      for (const own of ['id', 'data', 'created_on', 'start_after', 'keep_until', 'trace_context']) delete rest[own];
      return { ...rest, retention: row.keep_until.getTime() - row.start_after.getTime(), immediate: row.start_after.getTime() === row.created_on.getTime() };
    };
    for (const published of rows.filter((r) => r.name === 'pgbus.rows-a' && r.id !== viaSend.id)) {
      expect(comparable(published)).toEqual(comparable(viaSend));
    }
    expect(viaSend).toMatchObject({ retry_limit: 2, retry_delay: 3, retry_backoff: true, dead_letter: 'pgbus.rows-a.dead-letters', state: 'created' });
  });

  it('when a subscriber comes back declaring fewer types, then it no longer receives the type it dropped', async () => {
    const other = 'com.ems.pgbus.tock.v1';
    const both = { ...catalogue, [other]: z.object({ n: z.number().int() }) };
    const seen: string[] = [];
    const subscription = (types: string[]): Subscription => ({ name: 'pgbus.fickle', types, handle: async (e) => void seen.push(e.type) });
    const before = createPostgresEventBus({ pool, log, catalogue: both, schema: 'bus_routing', pollingIntervalSeconds: 0.5 });
    await before.subscribe(subscription([type, other]));
    await before.start();
    await before.stop();

    const after = createPostgresEventBus({ pool, log, catalogue: both, schema: 'bus_routing', pollingIntervalSeconds: 0.5 });
    try {
      await after.subscribe(subscription([type]));
      await after.start();
      const tock = createEvent({ type: other, source: '/ems/test', subject: randomUUID(), correlationId: randomUUID(), data: { n: 1 } });
      await publish(after, [tock, tick(2)]);
      await waitFor(() => (seen.includes(type) ? true : undefined), 'the kept type');
      await idle('bus_routing');
      expect(seen).toEqual([type]);
      expect((await after.deadLetters.list()).items).toEqual([]);
    } finally {
      await after.stop();
    }
  });

  it('when publishing before the bus ever started, then it says so', async () => {
    const bus = createPostgresEventBus({ pool, log, catalogue, schema: 'bus_unstarted' });
    await expect(publish(bus, [tick(1)])).rejects.toThrow(/not started/);
    expect((await bus.deadLetters.list()).items).toEqual([]);
  });

  it('when a subscriber name cannot name a queue, then subscribe refuses it', async () => {
    const bus = createPostgresEventBus({ pool, log, catalogue, schema: 'bus_names' });
    const handle = async () => undefined;
    await expect(bus.subscribe({ name: 'has space', types: [type], handle })).rejects.toThrow(/invalid subscriber name/);
    await expect(bus.subscribe({ name: 'x.dead-letters', types: [type], handle })).rejects.toThrow(/invalid subscriber name/);
    await expect(bus.subscribe({ name: 'no-types', types: [], handle })).rejects.toThrow(/no event type/);
  });
});
