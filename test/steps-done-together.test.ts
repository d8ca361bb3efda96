import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKysely, createPool, migrate, systemClock, type Pool } from '@ems/platform';
import { createTestDatabase, type TestDatabase } from '@ems/platform/testing';
import { recordStatements } from './support/recording-pool.ts';
import { migrations as emsMigrations } from '../packages/ems/src/db/migrations.ts';
import { EMS_SCHEMA } from '../packages/ems/src/ems.service.ts';
import type { EmsDb } from '../packages/ems/src/db/types.ts';
import { createCaseStore, type CaseStore } from '../packages/ems/src/resignations/case-store.ts';
import { caseDraft } from './support/case-draft.ts';
import type { StepName } from '../packages/ems/src/domain/resignation.ts';

/*
 * The orchestrator's step records (packages/ems/src/resignations/record-step-done.ts): the records asked for at the
 * same time go in one statement, each as it would alone — its step done with its result, the case touched, one
 * timeline entry — and a record the database refuses, or of a case that does not exist, fails only itself.
 */
let tdb: TestDatabase;
let pool: Pool;
let store: CaseStore;
/** Every statement text sent through `pool`. */
const sent: string[] = [];

beforeAll(async () => {
  tdb = await createTestDatabase(inject('testServerUrl'), 'stepsdone');
  pool = createPool(tdb.url, { max: 4, name: 'steps-done-test' });
  recordStatements(pool, sent);
  await migrate(pool, EMS_SCHEMA, emsMigrations);
  store = createCaseStore(createKysely<EmsDb>(pool, EMS_SCHEMA), systemClock, { stepDeadlineSeconds: 60 });
});
afterAll(async () => {
  await pool?.end().catch(() => undefined);
  await tdb?.drop();
});

async function openCase(): Promise<string> {
  const id = randomUUID();
  const draft = caseDraft(`emp-${id}`, { id, correlationId: `corr-${id}` });
  expect((await store.open(draft)).outcome).toBe('created');
  return id;
}

const done = (step: StepName, n: number) => ({ result: { n }, attempts: n, service: 'access', type: `${step}.done-test`, summary: `${step} done (${n})` });

async function stepsOf(id: string) {
  const { rows } = await pool.query<{ name: string; status: string; result: unknown; attempts: number }>('SELECT name, status, result, attempts FROM ems.steps WHERE resignation_id = $1', [id]);
  return new Map(rows.map((r) => [r.name, r]));
}
async function entriesOf(id: string) {
  const { rows } = await pool.query<{ dedupe_key: string; summary: string; correlation_id: string }>(
    "SELECT dedupe_key, summary, correlation_id FROM ems.timeline WHERE resignation_id = $1 AND dedupe_key LIKE '%.done' ORDER BY dedupe_key",
    [id],
  );
  return rows;
}
/** Statements that mark steps done. */
const stepWrites = () => sent.filter((t) => /update\s+"?ems"?\."?steps"?\s+(st\s+)?set\s+"?status"?\s*=/i.test(t)).length;

describe('the orchestrator’s step records, written together', () => {
  it('when steps of several cases are recorded at the same moment, then each is done with its result and one timeline entry, in fewer statements than records', async () => {
    const ids = await Promise.all(Array.from({ length: 6 }, () => openCase()));
    const before = stepWrites();
    const steps: StepName[] = ['notifyManager', 'scheduleInterview', 'suspendAccess'];
    await Promise.all(ids.flatMap((id, i) => steps.map((step) => store.recordStepDone(id, step, done(step, i + 1)))));
    const statements = stepWrites() - before;
    expect(statements).toBeLessThan(ids.length * steps.length);
    for (const [i, id] of ids.entries()) {
      const s = await stepsOf(id);
      for (const step of steps) expect(s.get(step)).toMatchObject({ status: 'done', result: { n: i + 1 }, attempts: i + 1 });
      expect(await entriesOf(id)).toEqual(
        ['notifyManager', 'scheduleInterview', 'suspendAccess'].map((step) => ({ dedupe_key: `${step}.done`, summary: `${step} done (${i + 1})`, correlation_id: `corr-${id}` })),
      );
    }
  });

  it('when a step is recorded again (a replay, another answer), then the first record stands and the timeline shows it once', async () => {
    const id = await openCase();
    await store.recordStepDone(id, 'suspendAccess', done('suspendAccess', 1));
    await Promise.all([store.recordStepDone(id, 'suspendAccess', done('suspendAccess', 2)), store.recordStepDone(id, 'suspendAccess', done('suspendAccess', 3))]);
    expect((await stepsOf(id)).get('suspendAccess')).toMatchObject({ status: 'done', result: { n: 1 } });
    expect(await entriesOf(id)).toEqual([{ dedupe_key: 'suspendAccess.done', summary: 'suspendAccess done (1)', correlation_id: `corr-${id}` }]);
  });

  it('when one step of a case is recorded twice in the same batch (two writers at once), then the first record stands, for the step and its timeline entry alike', async () => {
    const [other, id] = await Promise.all([openCase(), openCase()]);
    // The first goes alone; the two records of the same step wait for it and go together.
    await Promise.all([
      store.recordStepDone(other, 'suspendAccess', done('suspendAccess', 9)),
      store.recordStepDone(id, 'scheduleInterview', done('scheduleInterview', 1)),
      store.recordStepDone(id, 'scheduleInterview', done('scheduleInterview', 2)),
    ]);
    expect((await stepsOf(id)).get('scheduleInterview')).toMatchObject({ status: 'done', result: { n: 1 }, attempts: 1 });
    expect(await entriesOf(id)).toEqual([{ dedupe_key: 'scheduleInterview.done', summary: 'scheduleInterview done (1)', correlation_id: `corr-${id}` }]);
  });

  it('when a record names a case that does not exist, or carries a result the database cannot store, then only that record fails; the others of its batch are recorded', async () => {
    const [a, b] = await Promise.all([openCase(), openCase()]);
    const missing = randomUUID();
    const settled = await Promise.allSettled([
      store.recordStepDone(a, 'notifyManager', done('notifyManager', 1)),
      store.recordStepDone(missing, 'notifyManager', done('notifyManager', 1)),
      // PostgreSQL's jsonb cannot hold a NUL character.
      store.recordStepDone(b, 'notifyManager', { ...done('notifyManager', 1), result: { text: 'nul \u0000 here' } }),
      store.recordStepDone(b, 'suspendAccess', done('suspendAccess', 2)),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect(String((settled[1] as PromiseRejectedResult).reason)).toContain(`case ${missing} does not exist`);
    expect((await stepsOf(a)).get('notifyManager')).toMatchObject({ status: 'done' });
    expect((await stepsOf(b)).get('notifyManager')).toMatchObject({ status: 'pending' });
    expect((await stepsOf(b)).get('suspendAccess')).toMatchObject({ status: 'done', result: { n: 2 } });
    expect((await entriesOf(b)).map((e) => e.dedupe_key)).toEqual(['suspendAccess.done']);
  });
});
