import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Kysely, PostgresDialect } from 'kysely';
import { z } from 'zod';
import { createLogger, createPool, PermanentError, type Logger, type Pool } from '@ems/platform';
import { createTestDatabase, sleep, waitFor, type TestDatabase } from '@ems/platform/testing';
import { createEvent } from '../src/envelope.ts';
import type { CloudEvent, DeliveryContext, EventBus, EventBusTestHooks, EventCatalogue, Subscription } from '../src/port.ts';

/**
 * The EventBus port's contract, written once and run against every adapter (PostgreSQL now, NATS
 * JetStream next). Each scenario gets a fresh bus from `makeBus` on one throwaway database, and its
 * own event type, so scenarios never see each other's events.
 */
export interface ContractContext {
  /** The throwaway database (publishers' transactions run on it; an adapter may keep its state there). */
  url: string;
  pool: Pool;
  log: Logger;
  /** The adapter must validate against exactly this catalogue. */
  catalogue: EventCatalogue;
}

/**
 * A fresh bus for one scenario. With `replicaOf`: another process of the same deployment as that bus
 * (same database, same NATS prefix), e.g. a running one beside a stopped one.
 */
export type MakeBus = (
  ctx: ContractContext,
  replicaOf?: EventBus,
) => Promise<{
  bus: EventBus & EventBusTestHooks;
  dispose: () => Promise<void>;
  /** What the adapter still keeps under a subscriber name (queued jobs, queues, consumers, stored messages): 0 when nothing. */
  waitingUnder: (subscriber: string) => Promise<number>;
}>;

const Payload = z.object({ n: z.number().int() });
const scenarios = ['commit', 'fanout', 'other', 'retry', 'dead', 'poison', 'restart', 'invalid', 'late', 'gone', 'inflight', 'permanent', 'malformed', 'email', 'critical', 'renamed'] as const;
const T = Object.fromEntries(scenarios.map((s) => [s, `com.ems.contract.${s}.v1`])) as Record<(typeof scenarios)[number], string>;
const catalogue: EventCatalogue = Object.fromEntries(Object.values(T).map((t) => [t, Payload]));

/** Generous: the slowest path (two attempts, backoff, dead-lettering) on a busy 2-core machine. */
const DELIVERY_TIMEOUT_MS = 30_000;

interface Delivery {
  event: CloudEvent;
  ctx: DeliveryContext;
  at: number;
}

/** A subscription that records what reaches it; `fail` decides whether a delivery throws. */
function recorder(type: string | string[], opts: { fail?: (d: Delivery) => string | Error | undefined | Promise<string | Error | undefined>; retry?: Subscription['retry']; onDeadLetterFailures?: number; handleMs?: number } = {}) {
  const deliveries: Delivery[] = [];
  const handled: CloudEvent[] = [];
  const deadLettered: Array<{ event: CloudEvent; reason: string }> = [];
  const subscription: Subscription = {
    name: `contract.${Array.isArray(type) ? 'multi' : type.split('.')[3]}-${randomBytes(3).toString('hex')}`,
    types: Array.isArray(type) ? type : [type],
    ...(opts.retry ? { retry: opts.retry } : {}),
    async handle(event, ctx) {
      const d = { event, ctx, at: Date.now() };
      deliveries.push(d);
      if (opts.handleMs) await sleep(opts.handleMs);
      const failure = await opts.fail?.(d);
      if (failure) throw typeof failure === 'string' ? new Error(failure) : failure;
      handled.push(event);
    },
    async onDeadLetter(event, reason) {
      deadLettered.push({ event, reason });
      if (deadLettered.length <= (opts.onDeadLetterFailures ?? 0)) throw new Error('onDeadLetter blew up');
    },
  };
  return { subscription, deliveries, handled, deadLettered, ids: () => handled.map((e) => e.id) };
}

const event = (type: string, n: number, data: unknown = { n }): CloudEvent =>
  createEvent({ type, source: '/ems/contract', subject: randomUUID(), correlationId: randomUUID(), data });

export function defineEventBusContract(name: string, makeBus: MakeBus): void {
  describe(`EventBus contract: ${name}`, () => {
    let testDb: TestDatabase;
    let ctx: ContractContext;
    let db: Kysely<Record<string, never>>;

    beforeAll(async () => {
      testDb = await createTestDatabase(inject('testServerUrl'), `bus${name}`);
      const pool = createPool(testDb.url, { max: 20, name: 'bus-contract' });
      ctx = { url: testDb.url, pool, log: createLogger({ level: process.env.EMS_TEST_LOG_LEVEL ?? 'silent' }), catalogue };
      db = new Kysely({ dialect: new PostgresDialect({ pool }) });
    });

    afterAll(async () => {
      await db?.destroy(); // ends the pool too
      await testDb?.drop();
    });

    /** A fresh, not yet started bus for one scenario; always disposed. */
    const withBus = async (fn: (bus: EventBus & EventBusTestHooks) => Promise<void>) => {
      const { bus, dispose } = await makeBus(ctx);
      try {
        await fn(bus);
      } finally {
        await dispose();
      }
    };
    const publish = (bus: EventBus, ...events: CloudEvent[]) => db.transaction().execute((trx) => bus.publish(trx, events));
    /**
     * The barrier before every "and nothing else": whatever was on its way to these subscribers has been
     * handled or dead-lettered — a second delivery, a retry or a stray event would have happened by now.
     */
    const settled = async (bus: EventBusTestHooks, ...recorders: Array<{ subscription: Subscription }>) => {
      for (const r of recorders) await bus.settled(r.subscription.name, { timeoutMs: DELIVERY_TIMEOUT_MS });
    };

    it('when the publishing transaction commits, then the event is delivered once, and not before the commit; when it rolls back, never', async () => {
      await withBus(async (bus) => {
        const r = recorder(T.commit);
        await bus.subscribe(r.subscription);
        await bus.start();

        const committed = event(T.commit, 1);
        await db.transaction().execute(async (trx) => {
          await bus.publish(trx, [committed]);
          // Anything on its way to the subscriber outside this transaction would be handled first.
          await settled(bus, r);
          expect(r.deliveries, 'delivered before its transaction committed').toHaveLength(0);
        });
        await waitFor(() => (r.handled.length === 1 ? true : undefined), 'the committed event', DELIVERY_TIMEOUT_MS);

        const rolledBack = event(T.commit, 2);
        await expect(
          db.transaction().execute(async (trx) => {
            await bus.publish(trx, [rolledBack]);
            throw new Error('the business write failed');
          }),
        ).rejects.toThrow('the business write failed');

        const marker = event(T.commit, 3);
        await publish(bus, marker);
        await waitFor(() => (r.ids().includes(marker.id) ? true : undefined), 'the marker event', DELIVERY_TIMEOUT_MS);
        await settled(bus, r);
        expect(r.ids().sort()).toEqual([committed.id, marker.id].sort());
        expect(r.deliveries[0]!.ctx).toEqual({ attempt: 1, lastAttempt: false });
        expect(r.handled[0]).toEqual(committed);
      });
    });

    it('when two subscribers take the same type, then each receives the event once, and a subscriber of another type none', async () => {
      await withBus(async (bus) => {
        const a = recorder(T.fanout);
        const b = recorder(T.fanout);
        const other = recorder(T.other);
        for (const r of [a, b, other]) await bus.subscribe(r.subscription);
        await bus.start();

        const e = event(T.fanout, 1);
        await publish(bus, e);
        await waitFor(() => (a.handled.length && b.handled.length ? true : undefined), 'both subscribers', DELIVERY_TIMEOUT_MS);
        await settled(bus, a, b, other);
        expect(a.ids()).toEqual([e.id]);
        expect(b.ids()).toEqual([e.id]);
        expect(other.deliveries).toHaveLength(0);
      });
    });

    it('when a handler fails once, then the event is retried after a backoff and the retry succeeds; nothing is dead-lettered', async () => {
      await withBus(async (bus) => {
        const r = recorder(T.retry, { retry: { maxAttempts: 3, backoffMs: 200 }, fail: (d) => (d.ctx.attempt === 1 ? 'transient failure' : undefined) });
        await bus.subscribe(r.subscription);
        await bus.start();

        const e = event(T.retry, 1);
        await publish(bus, e);
        await waitFor(() => (r.handled.length === 1 ? true : undefined), 'the retried event', DELIVERY_TIMEOUT_MS);
        await settled(bus, r);
        expect(r.deliveries.map((d) => d.ctx)).toEqual([
          { attempt: 1, lastAttempt: false },
          { attempt: 2, lastAttempt: false },
        ]);
        expect(r.deliveries[1]!.at - r.deliveries[0]!.at, 'the retry waited for the backoff').toBeGreaterThanOrEqual(180);
        expect(r.ids()).toEqual([e.id]);
        expect((await bus.deadLetters.list({ subscriber: r.subscription.name, includeReplayed: true })).items).toEqual([]);
        expect(r.deadLettered).toEqual([]);
      });
    });

    it('when a handler keeps failing, then after maxAttempts the event is dead-lettered with the last error, onDeadLetter is called until it succeeds, and a replay delivers it again exactly once', async () => {
      await withBus(async (bus) => {
        let fixed = false;
        // onDeadLetter throws the first time: it is called again until it succeeds (a subscriber's
        // failure report must not be lost), then never again.
        const r = recorder(T.dead, { retry: { maxAttempts: 2, backoffMs: 200 }, onDeadLetterFailures: 1, fail: (d) => (fixed ? undefined : `boom on attempt ${d.ctx.attempt}`) });
        await bus.subscribe(r.subscription);
        await bus.start();

        const e = event(T.dead, 1);
        await publish(bus, e);
        await waitFor(() => (r.deadLettered.length === 2 ? true : undefined), 'onDeadLetter, failing once, then again', DELIVERY_TIMEOUT_MS);
        expect(r.deliveries.map((d) => d.ctx)).toEqual([
          { attempt: 1, lastAttempt: false },
          { attempt: 2, lastAttempt: true },
        ]);
        expect(r.deadLettered[0]!.event).toEqual(e);
        expect(r.deadLettered[0]!.reason).toContain('boom on attempt 2');

        const listed = await waitFor(async () => {
          const page = await bus.deadLetters.list({ subscriber: r.subscription.name });
          return page.items.length === 1 ? page : undefined;
        }, 'the dead letter to be listed');
        const letter = listed.items[0]!;
        expect(letter).toMatchObject({ subscriber: r.subscription.name, eventId: e.id, eventType: T.dead, attempts: 2, replayedAt: null });
        expect(letter.reason).toContain('boom on attempt 2');
        expect(letter.event).toEqual(e);
        expect(Number.isNaN(Date.parse(letter.deadAt))).toBe(false);
        expect(listed.nextOffset).toBeNull();
        expect(await bus.deadLetters.get(letter.id)).toEqual(letter);
        expect(await bus.deadLetters.get('no-such-dead-letter')).toBeUndefined();
        expect(await bus.deadLetters.replay('no-such-dead-letter')).toBeUndefined();

        await settled(bus, r);
        expect(r.deadLettered, 'onDeadLetter is called until it succeeds, then no more').toHaveLength(2);
        expect(r.deadLettered[1]!.event).toEqual(e);
        expect(r.deliveries, 'no delivery after the dead letter').toHaveLength(2);

        // Fixed, then replayed twice at once and once more: one fresh delivery.
        fixed = true;
        const [first, second] = await Promise.all([bus.deadLetters.replay(letter.id), bus.deadLetters.replay(letter.id)]);
        expect(first?.replayedAt).toBeTruthy();
        expect(second?.replayedAt).toBe(first?.replayedAt);
        expect((await bus.deadLetters.replay(letter.id))?.replayedAt).toBe(first?.replayedAt);
        await waitFor(() => (r.handled.length === 1 ? true : undefined), 'the replayed event', DELIVERY_TIMEOUT_MS);
        await settled(bus, r);
        expect(r.ids()).toEqual([e.id]);
        expect(r.deliveries.map((d) => d.ctx.attempt), 'the replay starts with fresh attempts').toEqual([1, 2, 1]);

        expect((await bus.deadLetters.list({ subscriber: r.subscription.name })).items, 'a replayed letter is no longer open').toEqual([]);
        const all = await bus.deadLetters.list({ subscriber: r.subscription.name, includeReplayed: true });
        expect(all.items.map((l) => l.id)).toEqual([letter.id]);
        expect(r.deadLettered).toHaveLength(2);
      });
    });

    it('when poison messages arrive (garbage, an unknown type, an invalid payload), then each is dead-lettered at once with a reason naming the problem, the handler never sees them, and later events still flow', async () => {
      await withBus(async (bus) => {
        const r = recorder(T.poison);
        await bus.subscribe(r.subscription);
        await bus.start();

        const valid = event(T.poison, 1);
        const unknownType = { ...event(T.poison, 2), type: 'com.ems.contract.nobody-knows.v1' };
        const badPayload = event(T.poison, 3, { n: 'three' });
        await bus.injectRaw(r.subscription.name, 'not even json-shaped');
        await bus.injectRaw(r.subscription.name, unknownType);
        await bus.injectRaw(r.subscription.name, badPayload);
        await publish(bus, valid);

        const letters = await waitFor(async () => {
          const page = await bus.deadLetters.list({ subscriber: r.subscription.name });
          return page.items.length === 3 ? page.items : undefined;
        }, 'three dead letters', DELIVERY_TIMEOUT_MS);
        await waitFor(() => (r.handled.length === 1 ? true : undefined), 'the valid event', DELIVERY_TIMEOUT_MS);

        const byEventId = (id: string | null) => letters.find((l) => l.eventId === id);
        const garbage = letters.find((l) => l.event === 'not even json-shaped');
        expect(garbage?.reason).toMatch(/envelope/i);
        expect(garbage?.eventId).toBeNull();
        expect(byEventId(unknownType.id)?.reason).toContain('unknown event type com.ems.contract.nobody-knows.v1');
        expect(byEventId(badPayload.id)?.reason).toMatch(/payload/);
        expect(byEventId(badPayload.id)?.reason).toContain('data.n');
        expect(letters.map((l) => l.attempts)).toEqual([1, 1, 1]);

        // Paged, newest first.
        const page1 = await bus.deadLetters.list({ subscriber: r.subscription.name, limit: 2 });
        const page2 = await bus.deadLetters.list({ subscriber: r.subscription.name, limit: 2, offset: page1.nextOffset ?? -1 });
        expect(page1.items).toHaveLength(2);
        expect(page2).toMatchObject({ nextOffset: null });
        expect(new Set([...page1.items, ...page2.items].map((l) => l.id)).size).toBe(3);
        expect((await bus.deadLetters.list({ subscriber: 'contract.someone-else' })).items).toEqual([]);

        await settled(bus, r);
        expect(r.deliveries.map((d) => d.event.id), 'the handler saw only the valid event').toEqual([valid.id]);
        expect(r.deadLettered, 'onDeadLetter is for valid events only').toEqual([]);

        const later = event(T.poison, 4);
        await publish(bus, later);
        await waitFor(() => (r.ids().includes(later.id) ? true : undefined), 'an event after the poison', DELIVERY_TIMEOUT_MS);
      });
    });

    it('when events are published while the bus is stopped, then they are delivered after it starts again (subscribed before the first start)', async () => {
      await withBus(async (bus) => {
        const r = recorder(T.restart);
        await bus.subscribe(r.subscription);
        await bus.start();
        await bus.start(); // idempotent
        await bus.stop();

        // The marker: a running replica beside the stopped bus, with a witness of the same type — once the
        // witness has handled the events, they were out and deliverable (NOTIFYs sent, relayed to NATS).
        const replica = await makeBus(ctx, bus);
        const witness = recorder(T.restart);
        try {
          await replica.bus.subscribe(witness.subscription);
          await replica.bus.start();
          const events = [1, 2, 3].map((n) => event(T.restart, n));
          await publish(bus, events[0]!, events[1]!);
          await publish(bus, events[2]!);
          await waitFor(() => (witness.handled.length === 3 ? true : undefined), 'the witness on the running replica', DELIVERY_TIMEOUT_MS);
          await settled(replica.bus, witness);
          expect(r.deliveries, 'nothing is delivered while stopped').toHaveLength(0);

          await bus.start();
          await waitFor(() => (r.handled.length === 3 ? true : undefined), 'the events published while stopped', DELIVERY_TIMEOUT_MS);
          await settled(bus, r);
          expect(r.ids().sort()).toEqual(events.map((e) => e.id).sort());
        } finally {
          await replica.dispose();
        }
      });
    });

    it('when a subscriber is renamed (formerNames) while events wait under its old name — one undelivered, one pending retry, one dead-lettered — then after the bus starts with the new name each waiting event is delivered once to the new handler, the dead letter is listed and replayable under the new name, and nothing remains under the old name', async () => {
      await withBus(async (bus) => {
        // Dead-lettered first: an adapter resuming at the old consumer's ack floor (NATS) would deliver a
        // message acknowledged above it once more (see topology.ts resumeSequence).
        const dead = event(T.renamed, 1);
        const replayed = event(T.renamed, 6);
        const retried = event(T.renamed, 2);
        const waiting = event(T.renamed, 3);
        const before = recorder(T.renamed, {
          // A backoff long enough that the retry is still pending when the bus stops.
          retry: { maxAttempts: 3, backoffMs: 3000 },
          fail: (d) => ([dead.id, replayed.id].includes(d.event.id) ? new PermanentError('refused under the old name') : 'failing under the old name'),
        });
        const oldName = before.subscription.name;
        await bus.subscribe(before.subscription);
        await bus.start();
        await publish(bus, dead, replayed);
        await waitFor(() => (before.deadLettered.length === 2 ? true : undefined), 'onDeadLetter under the old name', DELIVERY_TIMEOUT_MS);
        const oldLetters = await waitFor(async () => {
          const page = await bus.deadLetters.list({ subscriber: oldName });
          return page.items.length === 2 ? page.items : undefined;
        }, 'the dead letters listed under the old name', DELIVERY_TIMEOUT_MS);
        await publish(bus, retried);
        await waitFor(() => (before.deliveries.some((d) => d.event.id === retried.id) ? true : undefined), 'the first, failing, attempt', DELIVERY_TIMEOUT_MS);
        await bus.stop();
        const deliveredBefore = before.deliveries.length;
        expect(before.deliveries.filter((d) => d.event.id === retried.id), 'its retry is still pending').toHaveLength(1);
        await publish(bus, waiting); // routed to the old name, with nobody working it
        // And a replay under the old name, on its way when the bus stopped (NATS: to the old name's direct subject).
        const replay = oldLetters.find((l) => l.eventId === replayed.id)!;
        expect((await bus.deadLetters.replay(replay.id))?.replayedAt).toBeTruthy();

        // The next version: same deployment, the subscriber under its new name, in two processes starting at once.
        const next = await makeBus(ctx, bus);
        const twin = await makeBus(ctx, bus);
        const after = recorder(T.renamed);
        const renamed: Subscription = { ...after.subscription, formerNames: [oldName] };
        try {
          await next.bus.subscribe(renamed);
          await twin.bus.subscribe(renamed);
          await Promise.all([next.bus.start(), twin.bus.start()]);
          const label = (id: string) => ({ [dead.id]: 'dead', [replayed.id]: 'replayed', [retried.id]: 'retried', [waiting.id]: 'waiting' })[id] ?? id;
          await waitFor(() => (after.handled.length >= 3 ? true : undefined), 'the retried, the waiting and the replayed event under the new name', DELIVERY_TIMEOUT_MS).catch((err: unknown) => {
            throw new Error(`${err instanceof Error ? err.message : String(err)} (handled: ${after.ids().map(label).join(', ') || 'none'})`);
          });

          const letters = await next.bus.deadLetters.list({ subscriber: renamed.name });
          expect(letters.items.map((l) => ({ subscriber: l.subscriber, eventId: l.eventId })), 'the open dead letter, listed under the new name').toEqual([{ subscriber: renamed.name, eventId: dead.id }]);
          expect((await next.bus.deadLetters.list({ subscriber: oldName, includeReplayed: true })).items, 'no dead letter under the old name').toEqual([]);
          expect((await next.bus.deadLetters.replay(letters.items[0]!.id))?.replayedAt).toBeTruthy();
          await waitFor(() => (after.ids().includes(dead.id) ? true : undefined), 'the replayed dead letter under the new name', DELIVERY_TIMEOUT_MS);

          await next.bus.settled(renamed.name, { timeoutMs: DELIVERY_TIMEOUT_MS });
          await next.bus.settled(oldName, { timeoutMs: DELIVERY_TIMEOUT_MS });
          const all = [dead.id, replayed.id, retried.id, waiting.id].sort();
          expect(after.ids().sort(), 'each waiting event once, then the replay').toEqual(all);
          // Once each (the retry's attempt number is the adapter's: pg-boss's job keeps its count, a new NATS consumer starts afresh).
          expect(after.deliveries.map((d) => d.event.id).sort(), 'no second delivery').toEqual(all);
          expect(before.deliveries, 'nothing reached the old handler after the stop').toHaveLength(deliveredBefore);

          // New events reach the new name only (routing under the old name is gone).
          const marker = event(T.renamed, 4);
          await publish(next.bus, marker);
          await waitFor(() => (after.ids().includes(marker.id) ? true : undefined), 'an event after the rename', DELIVERY_TIMEOUT_MS);
          await next.bus.settled(renamed.name, { timeoutMs: DELIVERY_TIMEOUT_MS });
          expect(after.ids().filter((id) => id === marker.id), 'once, by either process').toHaveLength(1);
          expect(await next.waitingUnder(oldName), 'nothing left under the old name (queues, jobs, consumers, messages)').toBe(0);

          // A second start with the same formerNames (every start runs the move) finds nothing to move.
          await next.bus.stop();
          await next.bus.start();
          const again = event(T.renamed, 5);
          await publish(next.bus, again);
          await waitFor(() => (after.ids().includes(again.id) ? true : undefined), 'an event after a second start', DELIVERY_TIMEOUT_MS);
          await next.bus.settled(renamed.name, { timeoutMs: DELIVERY_TIMEOUT_MS });
          expect(after.ids()).toHaveLength(6);
        } finally {
          await twin.dispose();
          await next.dispose();
        }
      });
    });

    it('when a publish contains an invalid event, then it throws and publishes none of them, even if the caller commits', async () => {
      await withBus(async (bus) => {
        const r = recorder(T.invalid);
        await bus.subscribe(r.subscription);
        await bus.start();

        const valid = event(T.invalid, 1);
        const invalid = event(T.invalid, 2, { n: 'two' });
        const unknownType = { ...event(T.invalid, 3), type: 'com.ems.contract.nobody-knows.v1' };
        const garbage = { ...event(T.invalid, 4), specversion: '0.3' } as unknown as CloudEvent;
        await db.transaction().execute(async (trx) => {
          await expect(bus.publish(trx, [valid, invalid])).rejects.toThrow(/payload/);
          await expect(bus.publish(trx, [valid, unknownType])).rejects.toThrow(/unknown event type/);
          await expect(bus.publish(trx, [garbage])).rejects.toThrow(/envelope/);
        }); // commits

        const marker = event(T.invalid, 5);
        await publish(bus, marker);
        await waitFor(() => (r.handled.length ? true : undefined), 'the marker event', DELIVERY_TIMEOUT_MS);
        await settled(bus, r);
        expect(r.ids()).toEqual([marker.id]);
      });
    });

    it('when a subscriber joins after start, then it receives events published from then on', async () => {
      await withBus(async (bus) => {
        await bus.start();
        const r = recorder(T.late);
        await bus.subscribe(r.subscription);
        await expect(bus.subscribe(r.subscription), 'a name is subscribed once').rejects.toThrow(/already subscribed/);

        const e = event(T.late, 1);
        await publish(bus, e);
        await waitFor(() => (r.handled.length ? true : undefined), 'the late subscriber', DELIVERY_TIMEOUT_MS);
        expect(r.ids()).toEqual([e.id]);

        await bus.unsubscribe(r.subscription.name);
        // A subscriber still there receives the next event: it was published and routed.
        const stays = recorder(T.late);
        await bus.subscribe(stays.subscription);
        const next = event(T.late, 2);
        await publish(bus, next);
        await waitFor(() => (stays.ids().includes(next.id) ? true : undefined), 'the subscriber that stayed', DELIVERY_TIMEOUT_MS);
        // Routed to the one that left too, its queue would hold it until delivered: the barrier waits for that.
        await settled(bus, r, stays);
        expect(r.deliveries, 'nothing after unsubscribe').toHaveLength(1);
      });
    });

    it('when a subscriber is unsubscribed for good (discardPending) while a retry of its is pending, then the retry is dropped: nothing is left on its way to it and it is not called again', async () => {
      await withBus(async (bus) => {
        const r = recorder(T.gone, { retry: { maxAttempts: 5, backoffMs: 200 }, fail: () => 'not yet' });
        await bus.subscribe(r.subscription);
        await bus.start();
        await publish(bus, event(T.gone, 1));
        await waitFor(() => (r.deliveries.length === 1 ? true : undefined), 'the first, failing, attempt', DELIVERY_TIMEOUT_MS);

        await bus.unsubscribe(r.subscription.name, { discardPending: true });
        // Kept, the retry would hold this barrier until the time-out (nobody works the queue any more).
        await settled(bus, r);
        expect(r.deliveries, 'no attempt after unsubscribing').toHaveLength(1);
        expect(r.deadLettered).toEqual([]);
      });
    });

    it('when a handler fails with an error retrying cannot cure (a refusal, invalid data for PostgreSQL), then the event is dead-lettered at once with the reason; a transient error is still retried; later events flow', async () => {
      await withBus(async (bus) => {
        const refused = event(T.permanent, 1);
        const unstorable = event(T.permanent, 2);
        const flaky = event(T.permanent, 3);
        const marker = event(T.permanent, 4);
        const r = recorder(T.permanent, {
          retry: { maxAttempts: 5, backoffMs: 200 },
          fail: async (d) => {
            if (d.event.id === refused.id) return new PermanentError('employee E404 is unknown here');
            if (d.event.id === unstorable.id) {
              // A real one: PostgreSQL refuses a NUL in text (22021).
              try {
                await ctx.pool.query('SELECT $1::text', ['bad\u0000text']);
              } catch (err) {
                return err as Error;
              }
              return 'expected PostgreSQL to refuse the NUL';
            }
            if (d.event.id === flaky.id && d.ctx.attempt === 1) return Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
            return undefined;
          },
        });
        await bus.subscribe(r.subscription);
        await bus.start();
        await publish(bus, refused, unstorable, flaky);

        const letters = await waitFor(async () => {
          const page = await bus.deadLetters.list({ subscriber: r.subscription.name });
          return page.items.length === 2 ? page.items : undefined;
        }, 'two dead letters', DELIVERY_TIMEOUT_MS);
        await waitFor(() => (r.ids().includes(flaky.id) ? true : undefined), 'the retried event', DELIVERY_TIMEOUT_MS);
        await publish(bus, marker);
        await waitFor(() => (r.ids().includes(marker.id) ? true : undefined), 'an event after them', DELIVERY_TIMEOUT_MS);

        const letterOf = (id: string) => letters.find((l) => l.eventId === id);
        expect(letterOf(refused.id)).toMatchObject({ attempts: 1 });
        expect(letterOf(refused.id)?.reason).toContain('employee E404 is unknown here');
        expect(letterOf(unstorable.id)).toMatchObject({ attempts: 1 });
        expect(letterOf(unstorable.id)?.reason).toMatch(/invalid byte sequence/);
        const attemptsOf = (id: string) => r.deliveries.filter((d) => d.event.id === id).map((d) => d.ctx.attempt);
        expect(attemptsOf(refused.id), 'never retried').toEqual([1]);
        expect(attemptsOf(unstorable.id), 'never retried').toEqual([1]);
        expect(attemptsOf(flaky.id), 'a transient error is retried').toEqual([1, 2]);
        // The subscriber hears of the permanent failures as of any dead letter (to report them).
        await waitFor(() => (r.deadLettered.length === 2 ? true : undefined), 'onDeadLetter for both', DELIVERY_TIMEOUT_MS);
        expect(r.deadLettered.map((d) => d.event.id).sort()).toEqual([refused.id, unstorable.id].sort());
      });
    });

    it('when malformed CloudEvents arrive (not JSON, not an object, missing id/source/type, unknown specversion, wrong datacontenttype, huge, a NUL or lone surrogate, too deep), then each is dead-lettered at once with a reason naming what is wrong, and a valid event after them is handled', async () => {
      await withBus(async (bus) => {
        const r = recorder(T.malformed);
        await bus.subscribe(r.subscription);
        await bus.start();

        const base = (n: number) => event(T.malformed, n) as unknown as Record<string, unknown>;
        const without = (key: string, n: number) => {
          const e = base(n);
          delete e[key];
          return e;
        };
        let deep: unknown = { n: 1 };
        for (let i = 0; i < 40; i++) deep = { deeper: deep };
        const cases: Array<{ what: string; raw: unknown; reason: RegExp }> = [
          { what: 'a JSON array', raw: [1, 2, 3], reason: /envelope.*array/ },
          { what: 'JSON null', raw: null, reason: /envelope.*null/ },
          { what: 'a number', raw: 42, reason: /envelope.*number/ },
          { what: 'no id', raw: without('id', 1), reason: /envelope: (.*; )?id: / },
          { what: 'no source', raw: without('source', 2), reason: /envelope: (.*; )?source: / },
          { what: 'no type', raw: without('type', 3), reason: /envelope: (.*; )?type: / },
          { what: 'specversion 0.3', raw: { ...base(4), specversion: '0.3' }, reason: /envelope: (.*; )?specversion: / },
          { what: 'datacontenttype text/xml', raw: { ...base(5), datacontenttype: 'text/xml' }, reason: /envelope: (.*; )?datacontenttype: / },
          { what: 'a huge payload', raw: { ...base(6), data: { n: 6, padding: 'x'.repeat(300 * 1024) } }, reason: /too large: \d+ bytes/ },
          { what: 'nested 40 deep', raw: { ...base(7), data: deep }, reason: /nested more than \d+ levels/ },
          { what: 'a NUL in the subject', raw: { ...base(8), subject: 'case\u0000one' }, reason: /subject: contains a NUL character/ },
          { what: 'a lone surrogate in the data', raw: { ...base(9), data: { n: 9, note: 'x\uD800y' } }, reason: /data\.note: contains a lone UTF-16 surrogate/ },
        ];
        if (bus.name === 'nats') cases.push({ what: 'not JSON', raw: new TextEncoder().encode('{"specversion": "1.0", '), reason: /not JSON/ });

        // What the wire takes: PostgreSQL's queue (jsonb) itself refuses a NUL or a lone surrogate, so
        // those never reach a subscriber there; everything that does is dead-lettered.
        const delivered: typeof cases = [];
        for (const c of cases) {
          try {
            await bus.injectRaw(r.subscription.name, c.raw);
            delivered.push(c);
          } catch (err) {
            expect(bus.name, `only the PostgreSQL queue refuses ${c.what}`).toBe('postgres');
            expect((err as { code?: string }).code, 'PostgreSQL: invalid text (class 22)').toMatch(/^22/);
          }
        }
        expect(delivered.length).toBeGreaterThanOrEqual(cases.length - 2);
        // The marker: a valid event behind them on the same queue.
        const valid = event(T.malformed, 100);
        await bus.injectRaw(r.subscription.name, valid);
        await waitFor(() => (r.ids().includes(valid.id) ? true : undefined), 'the valid event after the malformed ones', DELIVERY_TIMEOUT_MS);
        const letters = await waitFor(async () => {
          const page = await bus.deadLetters.list({ subscriber: r.subscription.name, limit: 100 });
          return page.items.length >= delivered.length ? page.items : undefined;
        }, `${delivered.length} dead letters`, DELIVERY_TIMEOUT_MS);

        expect(letters).toHaveLength(delivered.length);
        const unmatched = [...letters];
        for (const c of delivered) {
          const i = unmatched.findIndex((l) => c.reason.test(l.reason));
          expect(i, `a dead letter for ${c.what} (reasons: ${unmatched.map((l) => l.reason).join(' | ')})`).toBeGreaterThanOrEqual(0);
          expect(unmatched[i]!.attempts).toBe(1);
          unmatched.splice(i, 1);
        }
        expect(r.deliveries.map((d) => d.event.id), 'the handler saw only the valid event').toEqual([valid.id]);
        expect(r.deadLettered, 'onDeadLetter is for valid events only').toEqual([]);
        // And publishing any of them is refused at once, naming what is wrong.
        await db.transaction().execute(async (trx) => {
          await expect(bus.publish(trx, [{ ...base(20), subject: 'a\u0000b' } as unknown as CloudEvent])).rejects.toThrow(/subject: contains a NUL/);
          await expect(bus.publish(trx, [{ ...base(21), data: { n: 21, padding: 'x'.repeat(300 * 1024) } } as unknown as CloudEvent])).rejects.toThrow(/too large/);
        });
      });
    });

    it('when a standard subscriber has every handler blocked and a backlog behind them, then a critical-lane subscriber still handles its event; the backlog is handled once unblocked', async () => {
      await withBus(async (bus) => {
        let unblock: () => void = () => undefined;
        const gate = new Promise<void>((resolve) => (unblock = resolve));
        const email = recorder(T.email, { fail: () => gate.then(() => undefined) });
        const critical = recorder(T.critical);
        await bus.subscribe({ ...email.subscription, concurrency: 2 });
        await bus.subscribe({ ...critical.subscription, lane: 'critical' });
        await bus.start();
        try {
          await publish(bus, ...Array.from({ length: 20 }, (_, i) => event(T.email, i)));
          // Marker: the email lane is saturated (both handlers are in, blocked) before the critical event.
          await waitFor(() => (email.deliveries.length >= 2 ? true : undefined), 'both email handlers to be blocked', DELIVERY_TIMEOUT_MS);
          await publish(bus, event(T.critical, 1));
          await waitFor(() => (critical.handled.length === 1 ? true : undefined), 'the critical event, with the email lane blocked', DELIVERY_TIMEOUT_MS);
          expect(email.handled, 'no email handler had finished').toHaveLength(0);
        } finally {
          unblock();
        }
        await waitFor(() => (email.handled.length === 20 ? true : undefined), 'the email backlog', DELIVERY_TIMEOUT_MS);
        expect(new Set(email.ids()).size).toBe(20);
      });
    });

    it('when the bus stops while a handler runs, then stop() waits for it to finish', async () => {
      await withBus(async (bus) => {
        const r = recorder(T.inflight, { handleMs: 1000 });
        await bus.subscribe(r.subscription);
        await bus.start();

        await publish(bus, event(T.inflight, 1));
        await waitFor(() => (r.deliveries.length ? true : undefined), 'the handler to start', DELIVERY_TIMEOUT_MS);
        await bus.stop();
        expect(r.handled, 'the handler finished before stop() returned').toHaveLength(1);
      });
    });
  });
}
