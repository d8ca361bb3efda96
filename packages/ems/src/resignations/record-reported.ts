/*
 * What a participant reported about a case, recorded on it: the step the event settles (if any), a
 * timeline entry worded by domain/summaries.ts, and the status, which follows from the steps
 * (settlement.ts). Choreography's tracker records every reported event this way; orchestration records
 * here only what its workflow does not record itself (an interview held, a follow-up HR skipped, an
 * extension's events), so a case's timeline holds the same entries in both modes.
 */
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import { arrayParam, type Clock } from '@ems/platform';
import { EventTypes, ExitInterviewScheduled, type CloudEvent } from '@ems/contracts/events';
import { firstDelivery, type EventCatalogue } from '@ems/eventbus';
import type { EmsDb, ResignationRow } from '../db/types.ts';
import { stepCanBecome, type StepName, type StepStatus } from '../domain/resignation.ts';
import { CONNECTED_SYSTEM_EVENT_TYPES } from '../connected-systems/record-system-access.ts';
import { timelineRow } from './case-store.ts';
import { EMS_OWN_EVENTS } from './resignation.events.ts';
import { SETTLE_COLUMNS, settlement } from './settlement.ts';
import { summaries } from '../domain/summaries.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Events EMS follows with subscribers of their own: never recorded here — a directory change is about
 * no case, and an exit batch's chunk events are about up to 500 cases (choreography/track-exits-when-reported.ts).
 */
const FOLLOWED_APART = new Set<string>([
  ...CONNECTED_SYSTEM_EVENT_TYPES,
  EventTypes.personChanged,
  EventTypes.involuntaryExitsStarted,
  EventTypes.exitAccessSuspended,
  EventTypes.exitNoticesSent,
]);

/**
 * The event types recorded on cases: every event of the catalogue (an extension's too, read when the
 * subscriber subscribes) but EMS's own — the submission and each decision are on the timeline already,
 * written with the event in one transaction (and by whom) — and those followed apart.
 */
export function reportedTypes(catalogue: EventCatalogue): string[] {
  return Object.keys(catalogue).filter((t) => !EMS_OWN_EVENTS.has(t) && !FOLLOWED_APART.has(t));
}

/** Outcome events → the step they settle. */
const OUTCOMES: Record<string, { step: StepName; status: 'done' | 'failed' }> = {
  [EventTypes.managerNotified]: { step: 'notifyManager', status: 'done' },
  [EventTypes.managerNotificationFailed]: { step: 'notifyManager', status: 'failed' },
  [EventTypes.exitInterviewScheduled]: { step: 'scheduleInterview', status: 'done' },
  [EventTypes.exitInterviewSchedulingFailed]: { step: 'scheduleInterview', status: 'failed' },
  [EventTypes.criticalAccessSuspended]: { step: 'suspendAccess', status: 'done' },
  [EventTypes.criticalAccessSuspensionFailed]: { step: 'suspendAccess', status: 'failed' },
  [EventTypes.decisionAnnounced]: { step: 'announceDecision', status: 'done' },
  [EventTypes.decisionAnnouncementFailed]: { step: 'announceDecision', status: 'failed' },
  [EventTypes.accessRestored]: { step: 'restoreAccess', status: 'done' },
  [EventTypes.accessRestorationFailed]: { step: 'restoreAccess', status: 'failed' },
  [EventTypes.exitInterviewCancelled]: { step: 'cancelInterview', status: 'done' },
  [EventTypes.exitInterviewCancellationFailed]: { step: 'cancelInterview', status: 'failed' },
  [EventTypes.accessRevoked]: { step: 'revokeAccess', status: 'done' },
  [EventTypes.accessRevocationFailed]: { step: 'revokeAccess', status: 'failed' },
};
export const OUTCOME_EVENT_TYPES = Object.keys(OUTCOMES);

/** What recording an event came to. */
export type Recorded = 'recorded' | 'duplicate' | 'unknown-case';

/**
 * A service reported what it did (in choreography every outcome; in orchestration what settles no step). In one transaction (and once per event, however
 * often it is delivered): the step moves, the timeline shows the event with its source service,
 * and the case status follows once no step is still awaited. Events about a case this EMS does not
 * know, or that settle no step (e.g. an extension's), only add a timeline entry.
 */
export async function recordReported(db: Kysely<EmsDb>, clock: Clock, event: CloudEvent, subscriber: string): Promise<Recorded> {
  // A subject that is no case id (a person's, for an event about no case) is no case of ours: no transaction.
  if (!UUID.test(event.subject)) return 'unknown-case';
  return db.transaction().execute((trx) => recordReportedIn(trx, clock, event, subscriber));
}

/**
 * recordReported in the caller's transaction: the tracker records the deliveries that arrive together in one
 * (choreography/track-reactions-when-reported.ts). The case's row stays locked until that transaction ends.
 */
export async function recordReportedIn(trx: Transaction<EmsDb>, clock: Clock, event: CloudEvent, subscriber: string): Promise<Recorded> {
  return recordOnCase(trx, clock, event, () => firstDelivery(trx, 'ems', subscriber, event.id));
}

/** What recording an event reads of its case. */
const CASE_COLUMNS = ['id', 'manager_name', 'employee_timezone', 'decision_revision', ...SETTLE_COLUMNS] as const;

/** A case as its transaction locked and read it, kept current by the records noted on it since. */
interface LockedCase {
  kase: Pick<Selectable<ResignationRow>, (typeof CASE_COLUMNS)[number]>;
  steps: Partial<Record<StepName, StepStatus>>;
}

/**
 * The cases of a transaction's deliveries, locked and read (by their ids in lower case), and what recording the
 * deliveries noted to write on them: written by one statement when the transaction's deliveries are all handled
 * (`writeRecorded`).
 */
export interface LockedCases {
  cases: ReadonlyMap<string, LockedCase>;
  writes: Writes;
}

/** Records noted, in the order they were made. */
interface Writes {
  steps: Array<{ id: string; step: StepName; status: 'done' | 'failed'; at: Date; lastError: string | null; result: string }>;
  /** Per case, the columns its records set, merged in order (a later record's value wins, as a later UPDATE's would). */
  cases: Map<string, { updated_at: Date; status?: string; closed_at?: Date }>;
  timeline: Array<ReturnType<typeof timelineRow>>;
}

const noWrites = (): Writes => ({ steps: [], cases: new Map(), timeline: [] });

/**
 * The cases the events are about, locked in the order of their ids (the order eventbus's handledTogether handles
 * them in) and read with their steps: two statements for a transaction's deliveries, where each delivery spent two.
 * The steps are read by a statement of their own, AFTER the locks are held: a subquery in the locking SELECT would
 * see the snapshot from before it waited for a lock, i.e. miss the step another event's tracker just moved (found
 * by the acceptance suite: cases stuck in progress with every step done).
 */
export async function lockCasesOf(trx: Transaction<EmsDb>, events: readonly CloudEvent[]): Promise<LockedCases> {
  // A subject that is no case id (a person's, for an event about no case) is no case of ours; the uuid column would refuse it.
  const ids = [...new Set(events.map((e) => e.subject.toLowerCase()).filter((s) => UUID.test(s)))].sort();
  if (ids.length === 0) return { cases: new Map(), writes: noWrites() };
  // The ids as one array: one statement text (and one prepared statement) whatever the batch's size.
  const cases = await trx.selectFrom('resignations').select(CASE_COLUMNS).where(sql<boolean>`id = any(${arrayParam(ids, 'uuid')})`).orderBy('id').forUpdate().execute();
  const locked = new Map<string, LockedCase>(cases.map((kase) => [kase.id, { kase, steps: {} }]));
  if (locked.size === 0) return { cases: locked, writes: noWrites() };
  const stepRows = await trx.selectFrom('steps').select(['resignation_id', 'name', 'status']).where(sql<boolean>`resignation_id = any(${arrayParam([...locked.keys()], 'uuid')})`).execute();
  for (const r of stepRows) locked.get(r.resignation_id)!.steps[r.name] = r.status;
  return { cases: locked, writes: noWrites() };
}

/**
 * recordReportedIn for a delivery its caller has recorded processed already, seen for the first time, on a case
 * its transaction has locked and read (`lockCasesOf`): the tracker records those of a transaction processed by one
 * statement (eventbus's handledTogether with `once`), locks and reads their cases by two, and writes what they
 * recorded by one (`writeRecorded`, once all are handled: until then the record is only noted).
 */
export function recordFirstReportedIn(clock: Clock, event: CloudEvent, cases: LockedCases): Recorded {
  const locked = cases.cases.get(event.subject.toLowerCase());
  return locked ? noteRecord(clock, event, locked, cases.writes) : 'unknown-case';
}

async function recordOnCase(trx: Transaction<EmsDb>, clock: Clock, event: CloudEvent, first: () => Promise<boolean>): Promise<Recorded> {
  // A subject that is no case id (a person's, for an event about no case) is no case of ours; the uuid column would refuse it.
  if (!UUID.test(event.subject)) return 'unknown-case';
  const kase = await trx.selectFrom('resignations').select(CASE_COLUMNS).where('id', '=', event.subject).forUpdate().executeTakeFirst();
  if (!kase) return 'unknown-case' as const;
  if (!(await first())) return 'duplicate' as const;
  // After the lock, by a statement of its own (see lockCasesOf).
  const stepRows = await trx.selectFrom('steps').select(['name', 'status']).where('resignation_id', '=', kase.id).execute();
  const steps = Object.fromEntries(stepRows.map((r) => [r.name, r.status])) as Partial<Record<StepName, StepStatus>>;
  const writes = noWrites();
  const recorded = noteRecord(clock, event, { kase, steps }, writes);
  await writeRecorded(trx, writes);
  return recorded;
}

/**
 * The event recorded on its case, locked by the caller's transaction and read (`locked`), which is kept current:
 * the step it moved and the status it settled, noted in `writes` (written by `writeRecorded`, with the other
 * records of the transaction). The new status is worked out here, from the case as the records before it left it.
 */
function noteRecord(clock: Clock, event: CloudEvent, locked: LockedCase, writes: Writes): Recorded {
  const { kase, steps } = locked;
  const outcome = OUTCOMES[event.type];
  const at = new Date(event.time);
  const entry = timelineRow(kase.id, event.correlationid, clock.now(), {
    service: serviceOf(event.source),
    type: event.type,
    summary: describe(event, kase),
    // Which event said so, not what it carried: the payload names addresses the reader has no need for
    // (the step keeps the payload as its result).
    detail: { eventId: event.id, source: event.source, ...followUpOf(event) },
    dedupeKey: `event.${event.id}`,
    at,
  });
  const current = outcome ? steps[outcome.step] : undefined;
  // An outcome for a step the case does not have (e.g. a hold released by hand before any
  // decision) is history, not progress; an announcement of an older revision neither.
  const moves =
    outcome !== undefined &&
    current !== undefined &&
    stepCanBecome(current, outcome.status) &&
    !(outcome.step === 'announceDecision' && revisionOf(event) !== kase.decision_revision);
  if (!outcome || !moves) {
    writes.timeline.push(entry);
    return 'recorded' as const;
  }
  const plan = settlement(kase, { ...steps, [outcome.step]: outcome.status }, clock.now());
  writes.steps.push({ id: kase.id, step: outcome.step, status: outcome.status, at, lastError: outcome.status === 'failed' ? reasonOf(event) : null, result: JSON.stringify(event.data) });
  // The row is locked by this transaction: the status read (and kept current) here is the status now, so `onlyFrom`
  // is judged here, as the UPDATE's WHERE would have judged it.
  if (!plan.onlyFrom || plan.onlyFrom.includes(kase.status)) {
    const update = plan.update ?? { updated_at: at };
    writes.cases.set(kase.id, { ...writes.cases.get(kase.id), ...update });
    if (plan.update) {
      kase.status = plan.update.status;
      if (plan.update.closed_at) kase.closed_at = plan.update.closed_at;
    }
  }
  writes.timeline.push(entry, ...plan.timeline.map((e) => timelineRow(kase.id, event.correlationid, clock.now(), e)));
  // What the record changes, as the next event of this case in the transaction must see it.
  steps[outcome.step] = outcome.status;
  return 'recorded' as const;
}

/**
 * What the records of a transaction noted, written by ONE statement (data-modifying CTEs run whether or not the
 * insert reads them): the steps they moved (a step moved twice: the later move, as a later UPDATE would leave it),
 * the cases' columns, the timeline entries in the order noted (an entry already there is left as it is). The
 * tracker wrote a statement per delivery; in a burst, three per case.
 */
export async function writeRecorded(trx: Transaction<EmsDb>, writes: Writes): Promise<void> {
  const { steps, timeline } = writes;
  const cases = [...writes.cases];
  if (steps.length === 0 && cases.length === 0 && timeline.length === 0) return;
  const stepIds = steps.map((m) => m.id);
  const caseIds = cases.map(([id]) => id);
  await sql`
    WITH moved AS (
      SELECT DISTINCT ON (id, step) * FROM unnest(
        ${arrayParam(stepIds, 'uuid')}, ${arrayParam(steps.map((m) => m.step), 'text')}, ${arrayParam(steps.map((m) => m.status), 'text')},
        ${arrayParam(steps.map((m) => m.at), 'timestamptz')}, ${arrayParam(steps.map((m) => m.lastError), 'text')}, ${arrayParam(steps.map((m) => m.result), 'jsonb')}
      ) WITH ORDINALITY AS m(id, step, status, at, last_error, result, ord)
      ORDER BY id, step, ord DESC
    ), s AS (
      UPDATE ems.steps st SET status = moved.status, at = moved.at, attempts = greatest(st.attempts, 1), last_error = moved.last_error, result = moved.result
      -- = ANY(ids) beside the join: the steps' primary key finds the rows.
      FROM moved WHERE st.resignation_id = ANY(${arrayParam(stepIds, 'uuid')}) AND st.resignation_id = moved.id AND st.name = moved.step
    ), c AS (
      UPDATE ems.resignations r SET updated_at = x.updated_at, status = coalesce(x.status, r.status), closed_at = coalesce(x.closed_at, r.closed_at)
      FROM unnest(
        ${arrayParam(caseIds, 'uuid')}, ${arrayParam(cases.map(([, u]) => u.updated_at), 'timestamptz')},
        ${arrayParam(cases.map(([, u]) => u.status ?? null), 'text')}, ${arrayParam(cases.map(([, u]) => u.closed_at ?? null), 'timestamptz')}
      ) AS x(id, updated_at, status, closed_at)
      WHERE r.id = ANY(${arrayParam(caseIds, 'uuid')}) AND r.id = x.id
    )
    INSERT INTO ems.timeline (resignation_id, at, service, type, summary, correlation_id, detail, dedupe_key, actor)
    SELECT resignation_id, at, service, type, summary, correlation_id, detail, dedupe_key, actor FROM unnest(
      ${arrayParam(timeline.map((e) => e.resignation_id), 'uuid')}, ${arrayParam(timeline.map((e) => e.at), 'timestamptz')},
      ${arrayParam(timeline.map((e) => e.service), 'text')}, ${arrayParam(timeline.map((e) => e.type), 'text')}, ${arrayParam(timeline.map((e) => e.summary), 'text')},
      ${arrayParam(timeline.map((e) => e.correlation_id), 'text')}, ${arrayParam(timeline.map((e) => e.detail), 'jsonb')},
      ${arrayParam(timeline.map((e) => e.dedupe_key), 'text')}, ${arrayParam(timeline.map((e) => e.actor), 'jsonb')}
    ) WITH ORDINALITY AS t(resignation_id, at, service, type, summary, correlation_id, detail, dedupe_key, actor, ord)
    ORDER BY ord
    ON CONFLICT (resignation_id, dedupe_key) DO NOTHING
  `.execute(trx);
}


/**
 * A follow-up's milestone, level and due instant (never its addressee), and HR's reason when it was skipped:
 * what GET /api/follow-ups reads back of a recorded one.
 */
function followUpOf(event: CloudEvent): Record<string, unknown> {
  if (event.type !== EventTypes.followUpSent && event.type !== EventTypes.followUpSkipped) return {};
  const d = event.data as { milestone?: unknown; level?: unknown; dueAt?: unknown; reason?: unknown };
  const f = { milestone: d.milestone, level: d.level, dueAt: d.dueAt };
  return event.type === EventTypes.followUpSkipped ? { ...f, reason: d.reason } : f;
}

function revisionOf(event: CloudEvent): number {
  const r = (event.data as { revision?: unknown }).revision;
  return typeof r === 'number' ? r : 1;
}

function reasonOf(event: CloudEvent): string {
  const reason = (event.data as { reason?: unknown }).reason;
  return typeof reason === 'string' ? reason : 'failed';
}

/** '/ems/notification' → 'notification' */
function serviceOf(source: string): string {
  return source.split('/').filter(Boolean).pop() ?? source;
}

/** The timeline's sentence for a reported event; names come from the case's own snapshot. */
function describe(event: CloudEvent, kase: { employee_name: string; manager_name: string | null; employee_timezone: string }): string {
  const d = event.data as Record<string, unknown>;
  switch (event.type) {
    case EventTypes.managerNotified:
      return typeof d.skipped === 'string' ? summaries.noManager(kase.employee_name) : summaries.managerNotified(kase.manager_name ?? String(d.to));
    case EventTypes.exitInterviewScheduled: {
      // Absent in events published before HR reported invites it could not send.
      const notSent = ExitInterviewScheduled.shape.invitesNotSent.safeParse(d.invitesNotSent);
      return summaries.interviewScheduled(String(d.start), String(d.timezone), notSent.success ? notSent.data : []);
    }
    case EventTypes.criticalAccessSuspended:
      return summaries.accessSuspended(((d.suspended as Array<{ system: string }>) ?? []).map((g) => g.system));
    case EventTypes.decisionAnnounced: {
      // Notification tells the manager (when there is one) and the employee, as the orchestrator does.
      const people = (d.recipients as unknown[] | undefined)?.length === 1 || !kase.manager_name ? [kase.employee_name] : [kase.manager_name, kase.employee_name];
      return summaries.decisionAnnounced(String(d.decision), people);
    }
    case EventTypes.accessRestored: {
      const restored = ((d.restored as Array<{ system: string }>) ?? []).map((g) => g.system);
      const skipped = ((d.skipped as Array<{ system: string }>) ?? []).map((g) => g.system);
      return summaries.accessRestored(restored, skipped);
    }
    case EventTypes.exitInterviewCancelled:
      return typeof d.skipped === 'string' ? summaries.noInterviewToCancel(d.skipped) : summaries.interviewCancelled();
    case EventTypes.exitInterviewHeld:
      return summaries.interviewHeld();
    case EventTypes.accessRevocationScheduled:
      return summaries.revocationScheduled(String(d.revokeAt), kase.employee_timezone);
    case EventTypes.accessRevoked: {
      const revoked = ((d.revoked as Array<{ system: string }>) ?? []).map((g) => g.system);
      return summaries.accessRevoked(revoked);
    }
    case EventTypes.followUpSent:
      return summaries.followUp({ milestone: String(d.milestone), level: String(d.level), to: String(d.to) });
    case EventTypes.followUpSkipped:
      return summaries.followUpSkipped({ milestone: String(d.milestone), level: String(d.level), why: String(d.reason) });
    default: {
      const failed = OUTCOMES[event.type];
      if (failed?.status === 'failed') return summaries.stepFailed(failed.step, reasonOf(event));
      // Another participant's event (an extension's): its name in words, never the raw type.
      const what = summaries.eventInWords(serviceOf(event.source), event.type);
      return typeof d.reason === 'string' ? `${what}: ${d.reason}` : what;
    }
  }
}
