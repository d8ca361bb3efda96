import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import { createKysely, createLogger, createPool, migrate, systemClock, type Pool } from '@ems/platform';
import { createTestDatabase, type TestDatabase } from '@ems/platform/testing';
import { recordStatements } from './support/recording-pool.ts';
import { migrations as notificationMigrations } from '../packages/notification/src/db/migrations.ts';
import { NOTIFICATION_SCHEMA, type NotificationDB } from '../packages/notification/src/db/notification.db.ts';
import { deliverEmail } from '../packages/notification/src/deliver-email/deliver-email.ts';
import { createSendSlots } from '../packages/notification/src/deliver-email/send-slots.ts';
import type { NotificationContext } from '../packages/notification/src/notification.context.ts';
import { migrations as hrMigrations } from '../packages/hr/src/db/migrations.ts';
import { HR_SCHEMA, type HrDB } from '../packages/hr/src/db/hr.db.ts';
import { createInviteDelivery } from '../packages/hr/src/deliver-invites/deliver-invites.ts';
import { migrations as accessMigrations } from '../packages/access/src/db/migrations.ts';
import { ACCESS_SCHEMA, type AccessDB } from '../packages/access/src/db/access.db.ts';
import { createRevocationTimer } from '../packages/access/src/revoke-access/revocation-timer.ts';
import { migrations as emsMigrations } from '../packages/ems/src/db/migrations.ts';
import { EMS_SCHEMA } from '../packages/ems/src/ems.service.ts';
import type { EmsDb } from '../packages/ems/src/db/types.ts';
import { createCaseStore } from '../packages/ems/src/resignations/case-store.ts';
import { casesWithoutWorkflow } from '../packages/ems/src/orchestration/cases-without-workflow.ts';

/*
 * Guard for 1712c28. The services' statements are named prepared statements (platform/db.ts), and after
 * five runs PostgreSQL may keep a generic plan: one made without the parameters' values. A due scan written
 * `status = $1` can then never use its partial index `… WHERE status = 'queued'` (the planner cannot prove
 * $1 = 'queued'), and reads and sorts the whole table; `sql.lit('queued')` puts the status in the text.
 *
 *   the service's own claim/sweep code ──► pool (every statement it sends recorded)
 *                 │
 *                 └─ the recorded text ──► PREPARE … ; plan_cache_mode = force_generic_plan
 *                                          EXPLAIN (FORMAT JSON) EXECUTE … ──► the partial index is in the plan
 *
 * enable_seqscan is off while explaining: the tables are empty, and the question is whether the generic
 * plan CAN use the partial index, not whether it is worth it on no rows. With a parameter it cannot,
 * whatever the costs, so the index is missing from the plan and the test fails.
 */

let tdb: TestDatabase;
let pool: Pool;
let explainer: pg.Client;
/** Every statement text the services sent through `pool`, in order. */
const sent: string[] = [];
const log = createLogger({ level: 'silent' });

beforeAll(async () => {
  tdb = await createTestDatabase(inject('testServerUrl'), 'genericplan');
  pool = createPool(tdb.url, { max: 2, name: 'generic-plan-test' });
  recordStatements(pool, sent);
  await migrate(pool, NOTIFICATION_SCHEMA, notificationMigrations);
  await migrate(pool, HR_SCHEMA, hrMigrations);
  await migrate(pool, ACCESS_SCHEMA, accessMigrations);
  await migrate(pool, EMS_SCHEMA, emsMigrations);
  explainer = new pg.Client({ connectionString: tdb.url });
  await explainer.connect();
  await explainer.query('SET plan_cache_mode = force_generic_plan');
  await explainer.query('SET enable_seqscan = off');
});

afterAll(async () => {
  await explainer?.end();
  await pool?.end();
  await tdb?.drop();
});

/** Runs `work` (a service's own code) and answers the one statement it sent that reads `table`. */
async function statementOn(table: string, work: () => Promise<unknown>): Promise<string> {
  const from = sent.length;
  await work();
  const texts = sent.slice(from).filter((t) => t.includes(table));
  expect(texts, `statements on ${table}`).toHaveLength(1);
  return texts[0]!;
}

/** The indexes named in the generic plan of `text`, prepared as the driver prepares it (parameter types left to the server). */
async function genericPlanIndexes(text: string): Promise<string[]> {
  const params = (text.match(/\$\d+/g) ?? []).map((p) => Number(p.slice(1)));
  const count = params.length === 0 ? 0 : Math.max(...params);
  await explainer.query(`PREPARE due_scan AS ${text}`);
  try {
    // Values do not shape a generic plan; NULL stands for each one.
    const args = count === 0 ? '' : `(${Array.from({ length: count }, () => 'NULL').join(', ')})`;
    const res = await explainer.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) EXECUTE due_scan${args}`);
    const indexes: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') {
        for (const [key, value] of Object.entries(node)) {
          if (key === 'Index Name' && typeof value === 'string') indexes.push(value);
          else walk(value);
        }
      }
    };
    walk(res.rows[0]!['QUERY PLAN']);
    return indexes;
  } finally {
    await explainer.query('DEALLOCATE due_scan');
  }
}

describe('due scans under a generic plan', () => {
  it("when Notification's dispatcher claims the most overdue email, then the statement's generic plan uses emails_due", async () => {
    const ctx = {
      db: createKysely<NotificationDB>(pool, NOTIFICATION_SCHEMA),
      clock: systemClock,
      leaseMs: 60_000,
      sendSlots: createSendSlots(1),
    } as NotificationContext;
    const text = await statementOn(`"${NOTIFICATION_SCHEMA}"."emails"`, () => deliverEmail(ctx));
    expect(await genericPlanIndexes(text), text).toContain('emails_due');
  });

  it("when HR's relay claims due invites, then the statement's generic plan uses outbox_due", async () => {
    const delivery = createInviteDelivery({
      db: createKysely<HrDB>(pool, HR_SCHEMA),
      log,
      client: {
        sendEmail: () => Promise.reject(new Error('no email is due')),
        sendEmails: () => Promise.reject(new Error('no email is due')),
      },
      retryBaseMs: 1_000,
    });
    const text = await statementOn(`"${HR_SCHEMA}"."outbox"`, () => delivery.deliverDue(10));
    expect(await genericPlanIndexes(text), text).toContain('outbox_due');
  });

  it("when Access's revocation timer runs, then its claim's generic plan uses revocations_due_idx", async () => {
    const timer = createRevocationTimer({ db: createKysely<AccessDB>(pool, ACCESS_SCHEMA), clock: systemClock, log }, { intervalMs: 60_000 });
    const text = await statementOn(`"${ACCESS_SCHEMA}"."revocations"`, () => timer.runDue());
    expect(await genericPlanIndexes(text), text).toContain('revocations_due_idx');
  });

  it("when EMS's overdue sweep runs, then its statement's generic plan uses steps_overdue", async () => {
    const store = createCaseStore(createKysely<EmsDb>(pool, EMS_SCHEMA), systemClock, { stepDeadlineSeconds: 60 });
    const text = await statementOn(`"${EMS_SCHEMA}"."steps"`, () => store.markOverdue());
    expect(await genericPlanIndexes(text), text).toContain('steps_overdue');
  });

  it("when EMS's sweeper looks for decision workflows to start, then its statement's generic plan uses resignations_decision_unstarted", async () => {
    // DBOS's table, as far as the scan reads it (the workflow's id), in a schema of its own.
    await explainer.query('CREATE SCHEMA dbos_stub; CREATE TABLE dbos_stub.workflow_status (workflow_uuid text PRIMARY KEY)');
    const sweep = casesWithoutWorkflow(createKysely<EmsDb>(pool, EMS_SCHEMA), 'dbos_stub');
    const text = await statementOn(`"${EMS_SCHEMA}"."resignations"`, () => sweep.decision(new Date(), 100));
    expect(await genericPlanIndexes(text), text).toContain('resignations_decision_unstarted');
  });
});
