import { createHash } from 'node:crypto';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type ConsumerInfo,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import type { Logger } from '@ems/platform';

/*
 * Names and shapes on the JetStream side, all derived from the bus's prefix (one prefix per
 * deployment, or per test run):
 *
 *   stream <prefix>_EVENTS        subjects <prefix>.events.<event type>   what services publish (via the outbox relay)
 *                                          <prefix>.direct.<subscriber>   to one subscriber only: replays, test injections
 *   stream <prefix>_DEAD_LETTERS  subjects <prefix>.dead-letters.<subscriber>
 *
 * Per subscriber, three durable pull consumers (shared by every replica that subscribes the name):
 *   <base>          on _EVENTS, filter: its one event type, or <prefix>.events.> when it takes several
 *   <base>_direct   on _EVENTS, filter <prefix>.direct.<subscriber>
 *   <base>          on _DEAD_LETTERS, filter <prefix>.dead-letters.<subscriber>
 * where <base> is the subscriber name made legal for NATS ('.' → '_') plus a hash of the exact name.
 *
 * nats-server 2.9 (Debian 12's, the machine's) has no multi-subject consumer filters (filter_subjects
 * came with 2.10), hence the wide filter for a subscriber of several types: it skips the others' events.
 */

const PREFIX = /^[A-Za-z0-9_-]{1,40}$/;
const NANOS_PER_MS = 1_000_000;

export interface Names {
  readonly prefix: string;
  readonly eventsStream: string;
  readonly deadLetterStream: string;
  /** The subject an event of `type` is published on; throws when the type cannot name a subject. */
  eventSubject(type: string): string;
  directSubject(subscriber: string): string;
  deadLetterSubject(subscriber: string): string;
  /** The filter of a subscriber's events consumer. */
  eventsFilter(types: readonly string[]): string;
  consumer(subscriber: string, role: 'events' | 'direct' | 'dead-letters'): string;
}

export function natsNames(prefix: string): Names {
  if (!PREFIX.test(prefix)) throw new Error(`invalid NATS prefix ${JSON.stringify(prefix)}: 1–40 letters, digits, '_' or '-'`);
  const eventSubject = (type: string) => {
    if (!type || type.split('.').some((token) => token === '' || /[\s*>]/.test(token))) {
      throw new Error(`event type ${JSON.stringify(type)} cannot name a NATS subject`);
    }
    return `${prefix}.events.${type}`;
  };
  return {
    prefix,
    eventsStream: `${prefix}_EVENTS`,
    deadLetterStream: `${prefix}_DEAD_LETTERS`,
    eventSubject,
    directSubject: (subscriber) => `${prefix}.direct.${subscriber}`,
    deadLetterSubject: (subscriber) => `${prefix}.dead-letters.${subscriber}`,
    eventsFilter: (types) => (types.length === 1 ? eventSubject(types[0]!) : `${prefix}.events.>`),
    consumer(subscriber, role) {
      const base = `${subscriber.replaceAll('.', '_').slice(0, 100)}_${createHash('sha256').update(subscriber).digest('hex').slice(0, 8)}`;
      return role === 'direct' ? `${base}_direct` : base;
    },
  };
}

export interface StreamSettings {
  maxAgeMs: number;
  duplicateWindowMs: number;
  replicas: number;
}

/**
 * How long a stream that vanished under a running bus stays missing before the bus creates it again.
 *
 * nats-server (2.9, measured) takes a stream out of the account before it has finished deleting it:
 * the pulls on its consumers get 409 "consumer deleted" and publishes find no stream while its files are
 * still being removed. A stream created again under the same name in that moment has its files removed
 * under it: JetStream acknowledges what is published into it and then cannot read it back ("error
 * looking up message for consumer: open …/msgs/1.blk: no such file or directory" in the server's log),
 * so the consumers never deliver it, and the outbox rows are already marked sent — those events are
 * lost. (Creating it in that moment can also fail: "storage directory is not writable".) Waiting lets the
 * deletion finish; when the streams are missing because the server lost its storage, the events wait in
 * the outbox meanwhile, so nothing is lost either way.
 */
export const RECREATE_AFTER_MS = 2000;

/**
 * Creates both streams, or brings the settings the bus manages in line; safe when replicas race.
 * `afterLoss`: the streams existed and vanished while the bus ran — a missing one is created again only
 * if it is still missing RECREATE_AFTER_MS later (see there).
 */
export async function ensureStreams(jsm: JetStreamManager, names: Names, settings: StreamSettings, log: Logger, afterLoss = false): Promise<void> {
  const common = {
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: settings.maxAgeMs * NANOS_PER_MS,
    duplicate_window: settings.duplicateWindowMs * NANOS_PER_MS,
    num_replicas: settings.replicas,
  };
  await ensureStream(jsm, { ...common, name: names.eventsStream, subjects: [`${names.prefix}.events.>`, `${names.prefix}.direct.>`] }, log, afterLoss);
  await ensureStream(jsm, { ...common, name: names.deadLetterStream, subjects: [`${names.prefix}.dead-letters.>`] }, log, afterLoss);
}

type ManagedStream = Pick<StreamConfig, 'name' | 'subjects' | 'retention' | 'storage' | 'discard' | 'max_age' | 'duplicate_window' | 'num_replicas'>;

async function ensureStream(jsm: JetStreamManager, wanted: ManagedStream, log: Logger, afterLoss = false): Promise<void> {
  const info = () =>
    jsm.streams.info(wanted.name).catch((err: unknown) => {
      if (isApiError(err, JetStreamApiCodes.StreamNotFound)) return undefined;
      throw err;
    });
  let existing = await info();
  if (!existing && afterLoss) {
    log.warn({ stream: wanted.name, afterMs: RECREATE_AFTER_MS }, 'event bus: NATS stream missing; creating it again once the server is done deleting the old one');
    await new Promise((resolve) => setTimeout(resolve, RECREATE_AFTER_MS));
    existing = await info();
  }
  if (!existing) {
    try {
      await jsm.streams.add(wanted);
      return;
    } catch (err) {
      // Another replica created it meanwhile: fall through and compare.
      if (!(await jsm.streams.info(wanted.name).catch(() => undefined))) throw err;
      return ensureStream(jsm, wanted, log);
    }
  }
  const c = existing.config;
  const same =
    [...c.subjects].sort().join(' ') === [...wanted.subjects].sort().join(' ') &&
    c.max_age === wanted.max_age &&
    c.duplicate_window === wanted.duplicate_window &&
    c.num_replicas === wanted.num_replicas;
  if (same) return;
  if (c.retention !== wanted.retention || c.storage !== wanted.storage) {
    log.warn({ stream: wanted.name, retention: c.retention, storage: c.storage }, 'event bus: NATS stream exists with another retention or storage; left as it is');
  }
  await jsm.streams.update(wanted.name, { subjects: wanted.subjects, max_age: wanted.max_age, duplicate_window: wanted.duplicate_window, num_replicas: wanted.num_replicas });
}

export interface ConsumerSettings {
  filter: string;
  ackWaitMs: number;
  /** JetStream's own limit of deliveries; -1: unlimited. */
  maxDeliver: number;
  description: string;
}

/**
 * Creates a durable pull consumer with explicit ack, or updates the settings that may change (ack
 * wait, max deliveries). New consumers start with the next message (events published before a
 * subscriber ever existed are not its business, as with the PostgreSQL adapter's routing) — or, given
 * `missingSince` (a consumer that vanished under a running worker: deleted, or its server lost its
 * storage), with the first message stored since then.
 *
 * A changed filter (the subscriber now takes other types) cannot be updated in place on nats-server
 * 2.9: the update is accepted, and then the consumer delivers nothing (measured). So the consumer is
 * deleted and created again: a subscriber that was caught up starts with the next message; one with a
 * backlog starts from the first message it had not acknowledged — messages it acknowledged out of
 * order come again (handlers are idempotent), none of its types is skipped, and the events of its new
 * types from that point on reach it too. (A process dying between the delete and the add would
 * re-create the consumer from the next message: that instant's backlog would be skipped.)
 */
export async function ensureConsumer(jsm: JetStreamManager, stream: string, name: string, settings: ConsumerSettings, log: Logger, missingSince?: Date): Promise<void> {
  const config = consumerConfig(name, settings);
  const existing = await consumerInfo(jsm, stream, name);
  if (!existing) {
    // Re-created after it went missing: from the moment it was last known to be there.
    const start = missingSince ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: missingSince.toISOString() } : { deliver_policy: DeliverPolicy.New };
    await jsm.consumers.add(stream, { ...config, ...start });
    return;
  }
  const c = existing.config;
  if ((c.filter_subject ?? '') !== settings.filter) {
    const from = await resumeSequence(jsm, stream, name);
    // Gone meanwhile (another process replacing it too): start over.
    if (from === undefined) return ensureConsumer(jsm, stream, name, settings, log, missingSince);
    log.warn({ stream, consumer: name, from: c.filter_subject, to: settings.filter, startSeq: from }, 'event bus: subscriber changed its event types; re-creating its NATS consumer');
    await jsm.consumers.delete(stream, name).catch((err: unknown) => {
      if (!isApiError(err, JetStreamApiCodes.ConsumerNotFound)) throw err;
    });
    await jsm.consumers.add(stream, { ...config, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from });
    return;
  }
  if (c.ack_wait !== config.ack_wait || c.max_deliver !== config.max_deliver || c.description !== config.description) {
    await jsm.consumers.update(stream, name, { ack_wait: config.ack_wait, max_deliver: config.max_deliver, description: settings.description });
  }
}

function consumerConfig(name: string, settings: ConsumerSettings): Partial<ConsumerConfig> {
  return {
    durable_name: name,
    description: settings.description,
    ack_policy: AckPolicy.Explicit,
    filter_subject: settings.filter,
    ack_wait: settings.ackWaitMs * NANOS_PER_MS,
    max_deliver: settings.maxDeliver,
    max_ack_pending: 1000,
  };
}

/**
 * A consumer's state, or undefined when it does not exist — or is being deleted: nats-server (2.9,
 * seen when two processes moved a renamed subscriber at once) answers an info request on a consumer
 * closed but not yet removed with neither an error nor any state, so such an answer means gone.
 */
export async function consumerInfo(jsm: JetStreamManager, stream: string, name: string): Promise<ConsumerInfo | undefined> {
  const info = await jsm.consumers.info(stream, name).catch((err: unknown) => {
    if (isApiError(err, JetStreamApiCodes.ConsumerNotFound)) return undefined;
    throw err;
  });
  return isConsumerInfo(info) ? info : undefined;
}

function isConsumerInfo(info: ConsumerInfo | undefined): info is ConsumerInfo {
  // Typed as always there; absent in the answer about a consumer being deleted.
  const partial = info as Partial<ConsumerInfo> | undefined;
  return Boolean(partial?.config && partial.delivered && partial.ack_floor);
}

/**
 * The stream sequence a consumer replacing `name` starts at, so that nothing `name` has not acknowledged is
 * skipped: after the stream's last message if it had nothing left to deliver or acknowledge; otherwise
 * its first unacknowledged message (after its last delivery, if all were acknowledged). Messages it
 * acknowledged out of order, above its ack floor, come again (handlers are idempotent). Undefined when
 * `name` is gone (another process replaced it meanwhile).
 */
export async function resumeSequence(jsm: JetStreamManager, stream: string, name: string): Promise<number | undefined> {
  // The stream's last message first, then the consumer's state: if it had nothing left to deliver
  // or acknowledge, nothing up to that message concerns it any more.
  const last = (await jsm.streams.info(stream)).state.last_seq;
  const now = await consumerInfo(jsm, stream, name);
  if (!now) return undefined;
  const caughtUp = now.num_pending === 0 && now.num_ack_pending === 0;
  return caughtUp ? last + 1 : (now.num_ack_pending === 0 ? now.delivered.stream_seq : now.ack_floor.stream_seq) + 1;
}

/**
 * Creates the durable consumer `name` starting at stream sequence `startSeq` (taking over from a
 * consumer of a former subscriber name), unless it exists already: a process that moved it before
 * (or at the same time) — then it is left as it is.
 */
export async function addConsumerFrom(jsm: JetStreamManager, stream: string, name: string, settings: ConsumerSettings, startSeq: number): Promise<void> {
  if (await consumerInfo(jsm, stream, name)) return;
  try {
    await jsm.consumers.add(stream, { ...consumerConfig(name, settings), deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: startSeq });
  } catch (err) {
    if (!(await consumerInfo(jsm, stream, name))) throw err;
  }
}

/** Deletes a consumer; true if it existed. */
export async function deleteConsumer(jsm: JetStreamManager, stream: string, name: string): Promise<boolean> {
  try {
    return await jsm.consumers.delete(stream, name);
  } catch (err) {
    if (isApiError(err, JetStreamApiCodes.ConsumerNotFound) || isApiError(err, JetStreamApiCodes.StreamNotFound)) return false;
    throw err;
  }
}

export function isApiError(err: unknown, code: number): boolean {
  return err instanceof JetStreamApiError && err.code === code;
}
