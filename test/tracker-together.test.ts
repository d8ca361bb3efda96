/**
 * Choreography's case tracker records the outcome events that arrive together in one transaction (eventbus's
 * handledTogether): in a burst each case reports three outcomes, and each was a transaction of its own. On real
 * PostgreSQL, with EMS's schema: twelve outcomes of four cases delivered at once settle every case as one at a
 * time would, in a few transactions, each recording its deliveries processed by one statement, locking and reading
 * their cases by two and writing what they recorded by one; the decision's three outcomes arriving together close the case once; a delivery the database
 * refuses fails alone, and the others are recorded; one about no case of EMS's changes nothing.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createPool, migrate, systemClock, type Pool } from '@ems/platform';
import { createTestDatabase, type TestDatabase } from '@ems/platform/testing';
import { createEvent, type CloudEvent, type Subscription } from '@ems/eventbus';
import { EventSources, EventTypes } from '@ems/contracts/events';
import { createEmsDb, EMS_SCHEMA } from '@ems/ems';
import { migrations } from '../packages/ems/src/db/migrations.ts';
import { trackReactionsWhenReported } from '../packages/ems/src/choreography/track-reactions-when-reported.ts';

describe('the case tracker (choreography), deliveries arriving together', () => {
  let db: TestDatabase;
  let pool: Pool;
  let tracker: Subscription;
  /** Connections the tracker took from its pool: one per transaction. */
  let taken = 0;
  /** Statements that recorded deliveries processed (ems.processed_events). */
  let dedupes = 0;
  /** Statements that locked cases, and that read cases' steps. */
  let locks = 0;
  let stepReads = 0;
  /** Statements that wrote records on cases (each writes the timeline). */
  let writes = 0;

  beforeAll(async () => {
    db = await createTestDatabase(inject('testServerUrl'), 'tracker');
    pool = createPool(db.url, { max: 4 });
    // Counting from the pool's first connection: the one migrating stays idle in the pool, and a transaction that
    // got it later was not counted (a README run: 1 transaction, 0 statements writing).
    pool.on('acquire', () => taken++);
    const counted = new WeakSet<object>();
    pool.on('connect', (client) => {
      if (counted.has(client)) return;
      counted.add(client);
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
        const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: unknown } | undefined)?.text;
        if (typeof text === 'string' && text.includes('processed_events')) dedupes++;
        if (typeof text === 'string' && /from "ems"\."resignations".* for update$/s.test(text)) locks++;
        if (typeof text === 'string' && /^select .* from "ems"\."steps"/s.test(text)) stepReads++;
        if (typeof text === 'string' && /insert into "?ems"?\."?timeline"?/i.test(text)) writes++;
        return query(...args);
      };
    });
    await migrate(pool, EMS_SCHEMA, migrations);
    tracker = trackReactionsWhenReported({ db: createEmsDb(pool), clock: systemClock, types: () => [] });
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  /** A case in progress, its three reactions awaited (as a submission opens it). */
  const openCase = async (): Promise<string> => {
    const id = randomUUID();
    await pool.query(
      `INSERT INTO ems.resignations (id, employee_id, employee_name, employee_email, employee_timezone, manager_name, hr_partner_id, last_working_day, status, mode, correlation_id, submitted_at, updated_at)
       VALUES ($1, $2, 'Ada Leaver', 'ada@acme.example', 'Europe/Berlin', 'Grace Manager', 'hrp-1', '2026-12-31', 'in_progress', 'choreography', $3, now(), now())`,
      [id, `E-${id.slice(0, 8)}`, id],
    );
    await pool.query(`INSERT INTO ems.steps (resignation_id, name, status, attempts) SELECT $1, unnest(ARRAY['notifyManager', 'scheduleInterview', 'suspendAccess']), 'pending', 0`, [id]);
    return id;
  };
  const outcome = (type: string, source: string, subject: string, data: Record<string, unknown>): CloudEvent =>
    createEvent({ type, source, subject, correlationId: subject, data: { resignationId: subject, ...data } });
  const reactions = (id: string): CloudEvent[] => [
    outcome(EventTypes.managerNotified, EventSources.notification, id, { to: 'grace@acme.example' }),
    outcome(EventTypes.exitInterviewScheduled, EventSources.hr, id, { start: '2026-12-10T10:00:00.000Z', end: '2026-12-10T10:45:00.000Z', timezone: 'Europe/Berlin', invitesNotSent: [] }),
    outcome(EventTypes.criticalAccessSuspended, EventSources.access, id, { suspended: [{ system: 'github' }] }),
  ];
  const deliver = (e: CloudEvent) => tracker.handle(e, { attempt: 1, lastAttempt: false });
  const statusOf = async (id: string) => (await pool.query<{ status: string }>(`SELECT status FROM ems.resignations WHERE id = $1`, [id])).rows[0]!.status;
  const stepsOf = async (id: string) =>
    Object.fromEntries((await pool.query<{ name: string; status: string }>(`SELECT name, status FROM ems.steps WHERE resignation_id = $1`, [id])).rows.map((r) => [r.name, r.status]));
  const entriesOf = async (id: string) => (await pool.query<{ dedupe_key: string }>(`SELECT dedupe_key FROM ems.timeline WHERE resignation_id = $1 ORDER BY dedupe_key`, [id])).rows.map((r) => r.dedupe_key);

  it('when twelve outcomes of four cases arrive at once, then every case settles as one at a time would, in a few transactions', async () => {
    const ids = await Promise.all([1, 2, 3, 4].map(() => openCase()));
    // Interleaved: the three outcomes of a case are never next to each other.
    const events = [0, 1, 2].flatMap((k) => ids.map((id) => reactions(id)[k]!));
    taken = 0;
    dedupes = 0;
    locks = 0;
    stepReads = 0;
    writes = 0;
    await Promise.all(events.map(deliver));
    expect(taken, 'transactions for 12 deliveries').toBeLessThanOrEqual(4);
    expect(writes, 'statements writing what the 12 deliveries recorded').toBe(taken);
    expect(dedupes, 'statements recording the 12 deliveries processed').toBe(taken);
    expect(locks, 'statements locking the cases of the 12 deliveries').toBe(taken);
    expect(stepReads, 'statements reading the steps of those cases').toBe(taken);
    for (const id of ids) {
      expect(await statusOf(id)).toBe('awaiting_decision');
      expect(await stepsOf(id)).toEqual({ notifyManager: 'done', scheduleInterview: 'done', suspendAccess: 'done' });
      const entries = await entriesOf(id);
      expect(entries.filter((k) => k.startsWith('event.'))).toHaveLength(3);
      expect(entries.filter((k) => k.startsWith('reactions.settled.'))).toEqual(['reactions.settled.awaiting_decision']);
    }
    // Delivered again (as a bus may, together too): nothing changes.
    const before = await Promise.all(ids.map(entriesOf));
    await Promise.all(events.map(deliver));
    expect(await Promise.all(ids.map(entriesOf))).toEqual(before);
  });

  it('when the three outcomes of a retention decision arrive together, then the case closes once, retained', async () => {
    const id = await openCase();
    await pool.query(
      `UPDATE ems.resignations SET status = 'retained', decision = 'retained', decided_at = now(), decision_revision = 1 WHERE id = $1;
       UPDATE ems.steps SET status = 'done' WHERE resignation_id = $1;
       INSERT INTO ems.steps (resignation_id, name, status, attempts) SELECT $1, unnest(ARRAY['announceDecision', 'restoreAccess', 'cancelInterview']), 'pending', 0;`.replaceAll('$1', `'${id}'`),
    );
    const closing = [
      outcome(EventTypes.decisionAnnounced, EventSources.notification, id, { decision: 'retained', revision: 1, emailIds: [], recipients: ['Grace Manager', 'Ada Leaver'] }),
      outcome(EventTypes.accessRestored, EventSources.access, id, { employeeId: 'E-1', holdId: null, restored: [{ system: 'github' }], skipped: [] }),
      outcome(EventTypes.exitInterviewCancelled, EventSources.hr, id, { interviewId: null, skipped: 'no interview', reason: 'retained' }),
    ];
    taken = 0;
    await Promise.all(closing.map(deliver));
    expect(taken, 'transactions for 3 deliveries').toBeLessThan(3);
    const row = (await pool.query<{ status: string; closed_at: Date | null }>(`SELECT status, closed_at FROM ems.resignations WHERE id = $1`, [id])).rows[0]!;
    expect(row.status).toBe('retained');
    expect(row.closed_at).not.toBeNull();
    expect(await stepsOf(id)).toMatchObject({ announceDecision: 'done', restoreAccess: 'done', cancelInterview: 'done' });
    expect((await entriesOf(id)).filter((k) => k === 'closed')).toEqual(['closed']);
  });

  it('when deliveries about no case of EMS’s arrive with others, then they change nothing, and the others are recorded', async () => {
    const id = await openCase();
    const unknown = randomUUID();
    const strays = [
      outcome(EventTypes.managerNotified, EventSources.notification, unknown, { to: 'grace@acme.example' }),
      outcome(EventTypes.managerNotified, EventSources.notification, 'E-1042', { to: 'grace@acme.example' }),
    ];
    await Promise.all([...strays, ...reactions(id)].map(deliver));
    expect(await statusOf(id)).toBe('awaiting_decision');
    expect((await pool.query(`SELECT 1 FROM ems.timeline WHERE resignation_id = $1`, [unknown])).rowCount).toBe(0);
  });

  it('when one delivery of those arriving together is refused by the database, then it alone fails, and the others are recorded', async () => {
    const ids = await Promise.all([1, 2].map(() => openCase()));
    const good = ids.flatMap((id) => reactions(id).slice(0, 2));
    // PostgreSQL refuses a NUL in text: recording this one fails whichever transaction it is in.
    const refused = outcome(EventTypes.criticalAccessSuspensionFailed, EventSources.access, ids[0]!, { reason: 'directory said \u0000' });
    const results = await Promise.allSettled([...good, refused].map(deliver));
    expect(results.slice(0, good.length).map((r) => r.status)).toEqual(good.map(() => 'fulfilled'));
    expect(results[good.length]!.status).toBe('rejected');
    for (const id of ids) expect(await stepsOf(id)).toEqual({ notifyManager: 'done', scheduleInterview: 'done', suspendAccess: 'pending' });
    expect((await entriesOf(ids[0]!)).filter((k) => k === `event.${refused.id}`)).toEqual([]);
  });
});
