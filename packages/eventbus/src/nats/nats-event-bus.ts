import { createHash, randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type JsMsg, type MsgRequest } from '@nats-io/jetstream';
import { z } from 'zod';
import { backoffDelay, describeError, isPermanent, migrate, PermanentError, quoteIdent, withTransaction, type Logger, type Pool } from '@ems/platform';
import { validateEvent } from '../envelope.ts';
import type { EventBus, EventBusTestHooks, EventCatalogue, Subscription, TransactionLike } from '../port.ts';
import { createDeadLetterTable, deadLetterMigrations, renameDeadLetters } from '../postgres/dead-letters.ts';
import { createOutbox, createRelay, outboxMigrations, relayLockKey, type OutboxMessage } from './outbox.ts';
import { startPullWorker, type PullWorker } from './pull-worker.ts';
import { addConsumerFrom, consumerInfo, deleteConsumer, ensureConsumer, ensureStreams, natsNames, resumeSequence } from './topology.ts';
import { natsServersAndAuth } from './credentials.ts';

/*
 * The NATS JetStream adapter of the EventBus port.
 *
 *   publish(trx, [e]) ── validate ──► outbox rows (in trx, same database as the service's data)
 *                                        │ relay (start()): in order, at least once, Nats-Msg-Id = event id
 *                                        ▼
 *   stream <prefix>_EVENTS  <prefix>.events.<type> ──► durable pull consumer per subscriber (replicas share it)
 *                           <prefix>.direct.<sub>  ──► <sub>'s direct consumer (replays, injected test messages)
 *        worker: validate ─ invalid ─► dead letter at once
 *                handle ── throws ──► nak(backoff) … on the last attempt (JetStream's delivery count),
 *                                     or at once for a permanent error (platform's classification):
 *                                      ▼
 *   stream <prefix>_DEAD_LETTERS  <prefix>.dead-letters.<sub> ──► <sub>'s dead-letter consumer:
 *        bus.dead_letters row (the PostgreSQL adapter's table and API) ─► subscription.onDeadLetter, until it succeeds
 *   deadLetters.replay(id) ── in one tx: mark replayed + outbox row to <prefix>.direct.<sub> (fresh attempts)
 *
 * A subscriber on the critical lane (Subscription.lane) pulls and acks over a NATS connection of its
 * own: its messages never wait in the shared connection's inbound buffer behind the other consumers'.
 */

export interface NatsEventBusOptions {
  /** NATS server URL(s), e.g. EMS_NATS_URL (`nats://127.0.0.1:4222`; a list for a cluster). */
  servers: string | string[];
  /** The service's database: the outbox (in the publisher's transactions) and the dead letters live here. */
  pool: Pool;
  log: Logger;
  /** Read at every validation, so event types added to it after creation (extensions) count. */
  catalogue: EventCatalogue;
  /** Stream and subject prefix: `<prefix>_EVENTS`, `<prefix>.events.<type>`, … Default 'ems'. */
  prefix?: string;
  /** Schema of the outbox and dead-letter tables. Default 'bus' (the PostgreSQL adapter's dead letters). */
  schema?: string;
  /** Default 5 attempts, 500 ms; retry n waits backoffMs·2^(n-1) (at most 10 minutes). */
  defaultRetry?: { maxAttempts: number; backoffMs: number };
  /** Handlers of one subscriber running at once in this process (its events). Default 4. */
  concurrency?: number;
  /** JetStream ack_wait: a message not acknowledged for this long (its process died) is delivered again. Default 30 000. */
  ackWaitMs?: number;
  /**
   * A running handler keeps its message (progress acks every ackWaitMs/3) up to this long; after that
   * the message is delivered again, and the delivery counts as a failed attempt. Default 60 000.
   */
  handlerTimeoutMs?: number;
  /** How long an idle pull request waits for messages before it is renewed. Default 5 000, at least 1 000. */
  pullExpiresMs?: number;
  /** The relay looks for unsent outbox rows this often when not woken by NOTIFY. Default 1 000. */
  relayPollMs?: number;
  /** Rows one relay batch sends (one transaction). Default 100. */
  relayBatchSize?: number;
  /** Streams keep messages this long. Default 14 days (as pg-boss keeps unfetched jobs). */
  streamMaxAgeMs?: number;
  /** JetStream's de-duplication window for Nats-Msg-Id. Default 120 000. */
  duplicateWindowMs?: number;
  /** Stream replicas (a NATS cluster: 3). Default 1. */
  streamReplicas?: number;
  /** How long stop() waits for handlers in flight. Default 30 000. */
  stopTimeoutMs?: number;
  /** Connecting at start(); reconnection afterwards never gives up. Default 5 000. */
  connectTimeoutMs?: number;
  /** JetStream API requests and publish acknowledgements. Default 5 000. */
  requestTimeoutMs?: number;
  /** The connection's name, as NATS monitoring shows it. Default 'ems-bus'. */
  connectionName?: string;
  /** Default true: creates its tables (outbox, dead letters). False: installed by the admin (installEventBus); this bus only reads and writes them. */
  install?: boolean;
  /**
   * This process is the only one working its subscribers' consumers (no replicas of it): messages they
   * still hold unacknowledged when it starts were held by its predecessor, killed mid-handler — delivered
   * again at once rather than after ackWaitMs (defect 16: ≈ ack_wait without the reaction after a kill -9).
   */
  resumeHeld?: boolean;
}

/**
 * How held messages are handed back at start (resumeHeld): JetStream has no call to release another
 * connection's deliveries, but it re-reads a consumer's ack_wait at once when it changes (nats-server
 * 2.9, measured: a message held for 30 s came back 1 s after ack_wait was set to 1 s). So the consumers
 * that hold some get this ack_wait, the server queues what expired for redelivery — first in line for the
 * next pull, even after ack_wait is restored (measured) — and their own ack_wait is restored before this
 * process pulls anything, so no message of its own is ever held under the short one. A message delivered
 * less than this long before the kill may miss the window and come back after ack_wait, as before.
 */
const RESUME_ACK_WAIT_MS = 1_000;
const RESUME_MARGIN_MS = 500;

/**
 * Deliveries JetStream allows beyond maxAttempts. The handler never sees them: they exist so that a
 * message whose last attempt died with its process (or whose dead-lettering failed) is still
 * dead-lettered instead of silently dropped by JetStream.
 */
const SPARE_DELIVERIES = 10;
const SUBSCRIBER_NAME = /^[a-z0-9][a-z0-9._-]{0,150}$/i;
const MAX_REASON = 1000;
const MAX_RETRY_DELAY_MS = 10 * 60_000;

/** What travels on `<prefix>.dead-letters.<subscriber>`. */
const LetterMessage = z.object({
  id: z.string().regex(/^[0-9a-f-]{36}$/),
  subscriber: z.string(),
  event: z.unknown(),
  reason: z.string(),
  attempts: z.number().int(),
  deadAt: z.string(),
});
type LetterMessage = z.infer<typeof LetterMessage>;

type Role = 'events' | 'direct';

export function createNatsEventBus(options: NatsEventBusOptions): EventBus & EventBusTestHooks {
  const { pool, log, catalogue } = options;
  const names = natsNames(options.prefix ?? 'ems');
  const schema = options.schema ?? 'bus';
  const defaultRetry = { maxAttempts: 5, backoffMs: 500, ...options.defaultRetry };
  const defaultConcurrency = options.concurrency ?? 4;
  const ackWaitMs = options.ackWaitMs ?? 30_000;
  const handlerTimeoutMs = options.handlerTimeoutMs ?? 60_000;
  const pullExpiresMs = Math.max(1000, options.pullExpiresMs ?? 5000);
  const stopTimeoutMs = options.stopTimeoutMs ?? 30_000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 5000;
  const streamSettings = { maxAgeMs: options.streamMaxAgeMs ?? 14 * 24 * 3_600_000, duplicateWindowMs: options.duplicateWindowMs ?? 120_000, replicas: options.streamReplicas ?? 1 };

  const subscriptions = new Map<string, Subscription>();
  /** Subscribers unsubscribed while not connected: their consumers are deleted at the next start. */
  const retired = new Set<string>();
  const workers = new Map<string, PullWorker[]>();
  /** Dead letters whose publication failed, by id: the message's next delivery dead-letters it with this reason. */
  const unpublishedLetters = new Map<string, LetterMessage>();
  let connection: { nc: NatsConnection; js: JetStreamClient; jsm: JetStreamManager } | undefined;
  /** The critical lane's connection, opened with its first subscriber, closed by stop(). */
  let critical: Promise<{ nc: NatsConnection; js: JetStreamClient }> | undefined;
  let running = false;

  // start, stop and (un)subscribing run one at a time: each sees the state the last left.
  let last: Promise<unknown> = Promise.resolve();
  const serially = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = last.then(fn);
    last = run.catch(() => undefined);
    return run;
  };

  let tablesReady: Promise<unknown> | undefined;
  const ensureTables = () =>
    (tablesReady ??= (options.install === false ? Promise.resolve() : migrate(pool, schema, [...deadLetterMigrations, ...outboxMigrations])).catch((err: unknown) => {
      tablesReady = undefined;
      throw err;
    }));

  const outbox = createOutbox(schema, names.prefix);
  const table = createDeadLetterTable(pool, schema, async (client, subscriber, event) => {
    // A replay goes through the outbox too: marked replayed iff the re-delivery is on its way.
    const id = randomUUID();
    await outbox.appendWithClient(client, { subject: names.directSubject(subscriber), msgId: id, payload: JSON.stringify(event ?? null) });
    return id;
  });

  const open = (name: string) =>
    connect({
      ...natsServersAndAuth(options.servers), // credentials in the URL (nats://user:pass@host) as options
      name,
      timeout: options.connectTimeoutMs ?? 5000,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    });
  const connectionName = options.connectionName ?? 'ems-bus';
  const criticalLane = () =>
    (critical ??= open(`${connectionName} critical`).then(
      (nc) => {
        void watch(nc, log);
        return { nc, js: jetstream(nc, { timeout: requestTimeoutMs }) };
      },
      (err: unknown) => {
        critical = undefined;
        throw err;
      },
    ));
  const closeCriticalLane = async () => {
    const lane = critical;
    critical = undefined;
    const nc = await lane?.then((l) => l.nc, () => undefined);
    if (nc) await disconnect(nc);
  };

  const connected = () => {
    if (!connection) throw new Error('event bus not started: call start() first');
    return connection;
  };

  const relay = createRelay({
    pool,
    schema,
    prefix: names.prefix,
    log,
    pollMs: options.relayPollMs ?? 1000,
    batchSize: options.relayBatchSize ?? 100,
    async send(m: OutboxMessage) {
      await connected().js.publish(m.subject, m.payload, { msgID: m.msgId, timeout: requestTimeoutMs });
    },
    async onSendError(err) {
      // The streams are gone (a NATS server that lost its storage, or deleted): create them again — not
      // at once (see RECREATE_AFTER_MS); the relay sends nothing meanwhile, so nothing goes into a
      // stream whose files the server is still deleting.
      if (connection && /no responders|not enabled|stream not found|503/i.test(String(err))) await ensureStreams(connection.jsm, names, streamSettings, log, true);
    },
  });

  const retryOf = (sub: Subscription) => ({ ...defaultRetry, ...sub.retry });

  /** Tells JetStream the handler is still at it, up to the handler timeout. */
  const keepAlive = (msg: JsMsg) => {
    const started = Date.now();
    const timer = setInterval(() => {
      if (Date.now() - started < handlerTimeoutMs) msg.working();
      else clearInterval(timer);
    }, Math.max(100, Math.floor(ackWaitMs / 3)));
    return () => clearInterval(timer);
  };

  const deadLetter = async (sub: Subscription, msg: JsMsg, raw: unknown, reason: string, attempts: number) => {
    const id = deadLetterId(msg);
    const letter: LetterMessage = { id, subscriber: sub.name, event: raw, reason: truncate(reason), attempts, deadAt: new Date().toISOString() };
    try {
      await connected().js.publish(names.deadLetterSubject(sub.name), JSON.stringify(letter), { msgID: id, timeout: requestTimeoutMs });
      unpublishedLetters.delete(id);
      msg.term();
    } catch (err) {
      unpublishedLetters.set(id, letter);
      if (unpublishedLetters.size > 1000) unpublishedLetters.delete(unpublishedLetters.keys().next().value!);
      log.error({ err, subscriber: sub.name, deadLetterId: id }, 'event bus: could not publish a dead letter; the message comes back');
      msg.nak(1000);
    }
  };

  const deliver = async (sub: Subscription, role: Role, msg: JsMsg) => {
    const body = parse(msg);
    const raw = body.ok ? body.value : body.text;
    // A subscriber of several types reads all events (see topology.ts): the others' are not its business.
    const type = typeOf(raw);
    if (role === 'events' && sub.types.length > 1 && type !== undefined && !sub.types.includes(type)) {
      msg.ack();
      return;
    }
    const retry = retryOf(sub);
    const attempt = msg.info.deliveryCount;
    if (attempt > retry.maxAttempts) {
      const pending = unpublishedLetters.get(deadLetterId(msg));
      const why = pending?.reason ?? `attempt ${retry.maxAttempts} (the last) ended without an outcome: its process stopped, or the handler ran past ${handlerTimeoutMs} ms`;
      return deadLetter(sub, msg, raw, why, pending?.attempts ?? retry.maxAttempts);
    }
    const poisoned = (why: string) => {
      log.warn({ subscriber: sub.name, seq: msg.seq, reason: why }, 'event bus: poison message dead-lettered');
      return deadLetter(sub, msg, raw, why, attempt);
    };
    if (!body.ok) return poisoned(`not JSON: ${body.error}`);
    const checked = validateEvent(raw, catalogue, msg.data.length);
    if (!checked.ok) return poisoned(checked.reason);
    if (!sub.types.includes(checked.event.type)) return poisoned(`subscriber ${sub.name} does not handle ${checked.event.type}`);
    const event = checked.event;
    const lastAttempt = attempt >= retry.maxAttempts;
    const stopKeepingAlive = keepAlive(msg);
    try {
      await sub.handle(event, { attempt, lastAttempt });
      stopKeepingAlive();
      msg.ack();
    } catch (err) {
      stopKeepingAlive();
      const reason = truncate(describe(err));
      // Retrying cannot cure invalid data or a refusal: dead-lettered now, with the reason.
      const permanent = isPermanent(err);
      log[lastAttempt || permanent ? 'error' : 'warn'](
        { subscriber: sub.name, eventId: event.id, eventType: event.type, attempt, err },
        permanent
          ? 'event bus: handler failed with an error retrying cannot cure; dead-lettering at once'
          : lastAttempt
            ? 'event bus: handler failed on its last attempt; dead-lettering'
            : 'event bus: handler failed; will retry',
      );
      if (lastAttempt || permanent) await deadLetter(sub, msg, raw, reason, attempt);
      else msg.nak(backoffDelay(attempt, { baseMs: retry.backoffMs, maxMs: MAX_RETRY_DELAY_MS }));
    }
  };

  const recordDeadLetter = async (sub: Subscription, msg: JsMsg) => {
    const body = parse(msg);
    const parsed = LetterMessage.safeParse(body.ok ? body.value : undefined);
    if (!parsed.success) {
      log.error({ subscriber: sub.name, seq: msg.seq }, 'event bus: malformed message on the dead-letter subject; dropped');
      msg.term();
      return;
    }
    const letter = parsed.data;
    const stopKeepingAlive = keepAlive(msg);
    try {
      const notYetNotified = await table.record({ id: letter.id, subscriber: sub.name, event: letter.event, reason: letter.reason, attempts: letter.attempts, deadAt: new Date(letter.deadAt) });
      if (notYetNotified) {
        log.error({ subscriber: sub.name, deadLetterId: letter.id, reason: letter.reason, attempts: letter.attempts }, 'event bus: event dead-lettered');
        const checked = validateEvent(letter.event, catalogue);
        // If it fails, the letter stays recorded once and this is retried with backoff: a subscriber's
        // failure report must not be lost, or its case would only ever look late.
        if (checked.ok && sub.types.includes(checked.event.type) && sub.onDeadLetter) await sub.onDeadLetter(checked.event, letter.reason);
        await table.markNotified(letter.id);
      }
      stopKeepingAlive();
      msg.ack();
    } catch (err) {
      stopKeepingAlive();
      log.error({ subscriber: sub.name, deadLetterId: letter.id, err }, 'event bus: could not record a dead letter; will retry');
      msg.nak(backoffDelay(msg.info.deliveryCount, { baseMs: 500, maxMs: 60_000 }));
    }
  };

  const consumersOf = (sub: Subscription) => {
    const maxDeliver = retryOf(sub).maxAttempts + SPARE_DELIVERIES;
    return [
      { stream: names.eventsStream, name: names.consumer(sub.name, 'events'), settings: { filter: names.eventsFilter(sub.types), ackWaitMs, maxDeliver, description: `events for ${sub.name}` } },
      { stream: names.eventsStream, name: names.consumer(sub.name, 'direct'), settings: { filter: names.directSubject(sub.name), ackWaitMs, maxDeliver, description: `replays for ${sub.name}` } },
      // onDeadLetter is called until it succeeds: no limit.
      { stream: names.deadLetterStream, name: names.consumer(sub.name, 'dead-letters'), settings: { filter: names.deadLetterSubject(sub.name), ackWaitMs, maxDeliver: -1, description: `dead letters of ${sub.name}` } },
    ] as const;
  };

  /**
   * Stored messages on `from`, from stream sequence `start` on, published again on `to` (the body through
   * `rewrite`), then `from` purged. The copy's Nats-Msg-Id is derived from the original's and `to`: two
   * processes moving at once store it once (within the duplicate window; past it, handlers dedupe and
   * dead letters are recorded once by id) — the original's own id would be dropped as its duplicate.
   */
  const republish = async (stream: string, from: string, start: number, to: string, rewrite: (body: string) => string = (body) => body) => {
    const { js, jsm } = connected();
    let moved = 0;
    for (let seq = start; ; ) {
      // STREAM.MSG.GET with next_by_subj (nats-server ≥ 2.9; the client's type lists seq and last_by_subj only).
      const stored = await jsm.streams.getMessage(stream, { seq, next_by_subj: from } as unknown as MsgRequest);
      if (!stored) break;
      const original = stored.header?.get('Nats-Msg-Id') || `${stream}.${stored.seq}`;
      await js.publish(to, rewrite(stored.string()), { msgID: `${original}>${to}`, timeout: requestTimeoutMs });
      moved++;
      seq = stored.seq + 1;
    }
    await jsm.streams.purge(stream, { filter: from });
    return moved;
  };

  /**
   * A renamed subscriber (Subscription.formerNames): before its own consumers are ensured, what waits under
   * a former name moves to the current one. Idempotent and safe from several processes at once; each step
   * leaves the next start able to finish the move if the process dies in between.
   * 0. The new name's direct and dead-letter consumers are ensured, so that they take what reaches their
   *    subjects from here on.
   * 1. Outbox rows not yet relayed to the former's direct subject (replays) are re-addressed, and its
   *    recorded dead letters renamed, in one transaction holding the relay's lock (so no relay is sending
   *    one of those rows meanwhile, and none is sent to the old subject afterwards).
   * 2. Its events consumer is replaced by the new one, created at the former's first unacknowledged
   *    message (resumeSequence, as for a filter change): its undelivered events and pending retries come
   *    to the new name with fresh attempts; events it acknowledged out of order above its ack floor come
   *    again — with a dead-lettered one among them, the handler sees it once more (as after a filter change).
   * 3. Messages on its direct subject (replays, injected) and dead-letter subject (letters not yet recorded)
   *    above its consumers' ack floors are published again on the new name's subjects (a letter naming
   *    the new subscriber), its consumers deleted and the old subjects purged.
   */
  const moveFormerNames = async (sub: Subscription) => {
    const { jsm } = connected();
    const [events, direct, letters] = consumersOf(sub);
    const formers = (sub.formerNames ?? []).filter((former) => former !== sub.name);
    if (formers.length === 0) return;
    // The new name's direct and dead-letter consumers first (from the next message): a row re-addressed
    // below may be relayed (by this process's relay or another's) as soon as the transaction commits,
    // and a consumer created after it would start behind it and never deliver it.
    for (const c of [direct, letters]) await ensureConsumer(jsm, c.stream, c.name, c.settings, log);
    for (const former of formers) {
      const { rows, recorded } = await withTransaction(pool, async (client) => {
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [relayLockKey(schema, names.prefix)]);
        const rerouted = await client.query(`UPDATE ${quoteIdent(schema)}.nats_outbox SET subject = $3 WHERE prefix = $1 AND subject = $2 AND sent_at IS NULL`, [
          names.prefix,
          names.directSubject(former),
          names.directSubject(sub.name),
        ]);
        return { rows: rerouted.rowCount ?? 0, recorded: await renameDeadLetters(client, schema, former, sub.name) };
      });

      const oldEvents = names.consumer(former, 'events');
      let startSeq: number | undefined;
      if (await consumerInfo(jsm, names.eventsStream, oldEvents)) {
        // Gone meanwhile: another process moved it (and created the new consumer first).
        startSeq = await resumeSequence(jsm, names.eventsStream, oldEvents);
        if (startSeq !== undefined) await addConsumerFrom(jsm, events.stream, events.name, events.settings, startSeq);
        await deleteConsumer(jsm, names.eventsStream, oldEvents);
      }
      const moves = [
        { stream: names.eventsStream, consumer: names.consumer(former, 'direct'), from: names.directSubject(former), to: names.directSubject(sub.name), rewrite: undefined },
        {
          stream: names.deadLetterStream,
          consumer: names.consumer(former, 'dead-letters'),
          from: names.deadLetterSubject(former),
          to: names.deadLetterSubject(sub.name),
          rewrite: (body: string) => {
            const letter = LetterMessage.safeParse(parseJson(body));
            return letter.success ? JSON.stringify({ ...letter.data, subscriber: sub.name }) : body;
          },
        },
      ];
      const republished: number[] = [];
      for (const m of moves) {
        const old = await consumerInfo(jsm, m.stream, m.consumer);
        // Without its consumer, nothing on the old subject was waiting for anyone: purged only.
        republished.push(old ? await republish(m.stream, m.from, old.ack_floor.stream_seq + 1, m.to, m.rewrite) : 0);
        if (!old) await jsm.streams.purge(m.stream, { filter: m.from });
        await deleteConsumer(jsm, m.stream, m.consumer);
      }
      if (startSeq !== undefined || rows || recorded || republished.some((n) => n > 0)) {
        log.warn(
          { subscriber: sub.name, formerName: former, eventsFrom: startSeq, outboxRows: rows, deadLetters: recorded, direct: republished[0], deadLetterMessages: republished[1] },
          'event bus: moved what waited under a former subscriber name; its consumers are gone',
        );
      }
    }
  };

  const activate = async (sub: Subscription) => {
    await moveFormerNames(sub);
    const { jsm } = connected();
    const js = sub.lane === 'critical' ? (await criticalLane()).js : connected().js;
    const [events, direct, letters] = consumersOf(sub);
    for (const c of [events, direct, letters]) await ensureConsumer(jsm, c.stream, c.name, c.settings, log);
    const worker = (c: (typeof events | typeof direct | typeof letters), concurrency: number, handle: (msg: JsMsg) => Promise<void>) =>
      startPullWorker({
        js,
        stream: c.stream,
        consumer: c.name,
        concurrency,
        expiresMs: pullExpiresMs,
        log,
        handle,
        recover: async (missingSince) => {
          await ensureStreams(jsm, names, streamSettings, log, true);
          await ensureConsumer(jsm, c.stream, c.name, c.settings, log, missingSince);
        },
      });
    workers.set(sub.name, [
      worker(events, Math.max(1, Math.floor(sub.concurrency ?? defaultConcurrency)), (msg) => deliver(sub, 'events', msg)),
      worker(direct, 1, (msg) => deliver(sub, 'direct', msg)),
      worker(letters, 1, (msg) => recordDeadLetter(sub, msg)),
    ]);
  };

  /** See RESUME_ACK_WAIT_MS. Before any worker of this process pulls. */
  const resumeHeldMessages = async (jsm: JetStreamManager) => {
    const holding: Array<ReturnType<typeof consumersOf>[number]> = [];
    let messages = 0;
    for (const sub of subscriptions.values()) {
      for (const c of consumersOf(sub)) {
        const info = await jsm.consumers.info(c.stream, c.name).catch(() => undefined); // not made yet: holds nothing
        if (!info?.num_ack_pending) continue;
        holding.push(c);
        messages += info.num_ack_pending;
      }
    }
    if (!holding.length) return;
    for (const c of holding) await jsm.consumers.update(c.stream, c.name, { ack_wait: RESUME_ACK_WAIT_MS * 1_000_000 });
    await new Promise((resolve) => setTimeout(resolve, RESUME_ACK_WAIT_MS + RESUME_MARGIN_MS));
    // Their own ack_wait again (a process killed meanwhile: the next start's ensureConsumer restores it).
    for (const c of holding) await ensureConsumer(jsm, c.stream, c.name, c.settings, log);
    log.warn({ consumers: holding.length, messages }, 'event bus: deliveries left in flight by a stopped process, delivered again now');
  };

  const deactivate = async (name: string) => {
    const own = workers.get(name) ?? [];
    workers.delete(name);
    await Promise.all(own.map((w) => w.stop(stopTimeoutMs)));
  };

  /** Deletes the consumers that deliver to the subscriber; its dead-letter consumer stays (letters on their way). */
  const removeConsumers = async (jsm: JetStreamManager, name: string) => {
    await deleteConsumer(jsm, names.eventsStream, names.consumer(name, 'events'));
    await deleteConsumer(jsm, names.eventsStream, names.consumer(name, 'direct'));
  };

  const disconnect = async (nc: NatsConnection) => {
    // drain() flushes acknowledgements still buffered before closing.
    await nc.drain().catch(() => nc.close().catch(() => undefined));
  };

  return {
    name: 'nats',

    async publish(tx: TransactionLike, events) {
      // All or nothing: every event is checked before the first is written.
      const messages: OutboxMessage[] = [];
      for (const e of events) {
        const checked = validateEvent(e, catalogue);
        if (!checked.ok) throw new PermanentError(`refusing to publish event ${describeEvent(e)}: ${checked.reason}`);
        messages.push({ subject: names.eventSubject(checked.event.type), msgId: checked.event.id, payload: JSON.stringify(checked.event) });
      }
      if (messages.length === 0) return;
      await ensureTables();
      await outbox.append(tx, messages);
    },

    async subscribe(sub) {
      if (!SUBSCRIBER_NAME.test(sub.name) || sub.name.endsWith('.dead-letters')) {
        throw new Error(`invalid subscriber name ${JSON.stringify(sub.name)}: letters, digits, '.', '_' and '-' only`);
      }
      if (sub.types.length === 0) throw new Error(`subscriber ${sub.name} subscribes to no event type`);
      for (const t of sub.types) names.eventSubject(t); // throws for a type that cannot name a subject
      for (const former of sub.formerNames ?? []) {
        if (!SUBSCRIBER_NAME.test(former) || former.endsWith('.dead-letters') || former === sub.name) throw new Error(`invalid former name ${JSON.stringify(former)} of subscriber ${sub.name}`);
      }
      if (subscriptions.has(sub.name)) throw new Error(`subscriber ${sub.name} is already subscribed`);
      const unknown = sub.types.filter((t) => !catalogue[t]);
      if (unknown.length) log.warn({ subscriber: sub.name, unknown }, 'event bus: subscribing to types missing from the catalogue; their events will be dead-lettered');
      subscriptions.set(sub.name, sub);
      retired.delete(sub.name);
      try {
        await serially(async () => {
          if (running && subscriptions.get(sub.name) === sub) await activate(sub);
        });
      } catch (err) {
        subscriptions.delete(sub.name);
        throw err;
      }
    },

    /**
     * Stops delivering to the subscriber and deletes its durable consumers — also when this process
     * never subscribed it. Not connected: done at the next start(). Its dead letters stay. What was
     * pending goes with the consumers, so discardPending changes nothing here.
     */
    async unsubscribe(name) {
      subscriptions.delete(name);
      await serially(async () => {
        await deactivate(name);
        if (running && connection) await removeConsumers(connection.jsm, name);
        else retired.add(name);
      });
    },

    start: () =>
      serially(async () => {
        if (running) return;
        await ensureTables();
        const nc = await open(connectionName);
        try {
          const js = jetstream(nc, { timeout: requestTimeoutMs });
          const jsm = await jetstreamManager(nc, { timeout: requestTimeoutMs });
          await ensureStreams(jsm, names, streamSettings, log);
          for (const name of retired) await removeConsumers(jsm, name);
          retired.clear();
          connection = { nc, js, jsm };
          void watch(nc, log);
          running = true;
          await relay.start();
          if (options.resumeHeld) await resumeHeldMessages(jsm);
          for (const sub of subscriptions.values()) await activate(sub);
        } catch (err) {
          running = false;
          await Promise.all([...workers.keys()].map(deactivate));
          await relay.stop();
          connection = undefined;
          await closeCriticalLane();
          await disconnect(nc);
          throw err;
        }
      }),

    stop: () =>
      serially(async () => {
        if (!running) return;
        running = false;
        await Promise.all([...workers.keys()].map(deactivate));
        await relay.stop();
        const nc = connection?.nc;
        connection = undefined;
        await closeCriticalLane();
        if (nc) await disconnect(nc);
      }),

    deadLetters: {
      list: async (query) => {
        await ensureTables();
        return table.list(query);
      },
      get: async (id) => {
        await ensureTables();
        return table.get(id);
      },
      replay: async (id) => {
        await ensureTables();
        return table.replay(id);
      },
    },

    async injectRaw(subscriber, raw) {
      // Bytes go on the wire as they are (a test's non-JSON garbage); anything else as its JSON.
      const payload = raw instanceof Uint8Array ? raw : JSON.stringify(raw ?? null);
      await connected().js.publish(names.directSubject(subscriber), payload, { msgID: randomUUID(), timeout: requestTimeoutMs });
    },

    subscribers: () => [...subscriptions.keys()],

    /**
     * Three marks in turn: the outbox rows committed before the call have been relayed; then the
     * subscriber's two consumers on the events stream have acknowledged (or terminated) everything up to
     * that stream's last message — which covers the relayed rows, injected and replayed messages; then
     * its dead-letter consumer has done the same up to its stream's last message (a message is
     * terminated only after its dead letter is on that stream). A consumer that does not exist (the
     * subscriber was unsubscribed) has nothing to deliver.
     */
    async settled(subscriber, { timeoutMs = 30_000 } = {}) {
      const { jsm } = connected();
      const deadline = Date.now() + timeoutMs;
      const until = async (what: string, done: () => Promise<string | undefined>) => {
        for (;;) {
          const left = await done();
          if (left === undefined) return;
          if (Date.now() > deadline) throw new Error(`event bus: ${subscriber} not settled after ${timeoutMs} ms: ${what} (${left})`);
          await pause(SETTLED_POLL_MS);
        }
      };
      await ensureTables();
      const table = `${quoteIdent(schema)}.nats_outbox`;
      const { rows } = await pool.query<{ mark: string | null }>(`SELECT max(seq)::text AS mark FROM ${table} WHERE prefix = $1`, [names.prefix]);
      const outboxMark = rows[0]?.mark;
      if (outboxMark) {
        await until('the outbox relayed', async () => {
          const unsent = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE prefix = $1 AND seq <= $2 AND sent_at IS NULL`, [names.prefix, outboxMark]);
          return unsent.rows[0]!.n === 0 ? undefined : `${unsent.rows[0]!.n} rows unsent`;
        });
      }
      const acknowledged = async (stream: string, consumers: string[]) => {
        const mark = (await jsm.streams.info(stream)).state.last_seq;
        await until(`${stream} acknowledged up to ${mark}`, async () => {
          for (const name of consumers) {
            const info = await consumerInfo(jsm, stream, name);
            if (!info) continue;
            const idle = info.num_pending === 0 && info.num_ack_pending === 0;
            if (!idle && info.ack_floor.stream_seq < mark) return `${name}: ${info.num_pending} pending, ${info.num_ack_pending} unacknowledged, acknowledged up to ${info.ack_floor.stream_seq}`;
          }
          return undefined;
        });
      };
      await acknowledged(names.eventsStream, [names.consumer(subscriber, 'events'), names.consumer(subscriber, 'direct')]);
      await acknowledged(names.deadLetterStream, [names.consumer(subscriber, 'dead-letters')]);
    },
  };
}

const SETTLED_POLL_MS = 100;
const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Logs the connection's ups and downs (the client reconnects by itself, forever). */
async function watch(nc: NatsConnection, log: Logger): Promise<void> {
  for await (const s of nc.status()) {
    if (s.type === 'disconnect') log.warn({ server: s.server }, 'event bus: disconnected from NATS; reconnecting');
    else if (s.type === 'reconnect') log.info({ server: s.server }, 'event bus: reconnected to NATS');
    else if (s.type === 'error') log.error({ err: s.error }, 'event bus: NATS connection error');
  }
}

/** The body as JSON, or as text when it is not JSON (garbage is dead-lettered, not dropped). */
function parse(msg: JsMsg): { ok: true; value: unknown } | { ok: false; text: string; error: string } {
  const text = msg.string();
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, text, error: err instanceof Error ? err.message : String(err) };
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function typeOf(raw: unknown): string | undefined {
  const type = typeof raw === 'object' && raw !== null ? (raw as { type?: unknown }).type : undefined;
  return typeof type === 'string' ? type : undefined;
}

/** Same stream message, same dead letter: recording it twice (a retried dead-lettering) records it once. */
function deadLetterId(msg: JsMsg): string {
  const h = createHash('sha256').update(`${msg.info.stream}/${msg.info.consumer}/${msg.seq}/${msg.info.timestampNanos}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const describe = describeError;

function truncate(s: string): string {
  return s.length > MAX_REASON ? `${s.slice(0, MAX_REASON - 1)}…` : s;
}

function describeEvent(e: unknown): string {
  const { type, id } = (typeof e === 'object' && e !== null ? e : {}) as { type?: unknown; id?: unknown };
  return `${typeof type === 'string' ? type : '(no type)'} ${typeof id === 'string' ? id : '(no id)'}`;
}
