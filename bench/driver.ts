/**
 * bench/driver.ts — what preparing statements saves, at the driver alone: the same Kysely statements
 * (the shapes EMS runs most: a lookup by key, a join, an insert, an update with RETURNING, each in a
 * transaction as a use case runs them) through createKysely (named prepared statements) and through a plain
 * PostgresDialect (unnamed: parsed and planned at every call), alternated round by round on one connection
 * each, in one run, on a fresh embedded PostgreSQL (its backends are this run's processes). Reported per
 * transaction: the CPU of the PostgreSQL backend serving it (from /proc), the CPU of this process, and the
 * wall time; and the ratios plain ÷ prepared.
 *
 *   npm exec -- node bench/driver.ts [--rounds 6] [--tx 500]     (npm exec: Node 24 from node_modules)
 *
 * Ratios from one run only: the machine is shared.
 */
import { parseArgs } from 'node:util';
import { Kysely, PostgresDialect, sql, type Generated } from 'kysely';
import { createKysely, createPool, type Pool } from '@ems/platform';
import { cpuTimes } from './proc.ts';
import { startBenchServer } from './postgres.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '6' },
    tx: { type: 'string', default: '500' },
  },
});
const rounds = Number(values.rounds);
const perRound = Number(values.tx);

interface DB {
  cases: { id: string; employee_id: string; status: string; submitted_at: Date; version: Generated<number>; note: string | null };
  steps: { case_id: string; step: string; status: string; at: Date | null };
  people: { id: string; name: string; manager_id: string | null; department: string };
}

const server = await startBenchServer({});
const tdb = await server.createDatabase('driver');
const setup = createPool(tdb.url, { max: 1 });
await setup.query(`
  CREATE SCHEMA app;
  CREATE TABLE app.people (id text PRIMARY KEY, name text NOT NULL, manager_id text, department text NOT NULL);
  CREATE TABLE app.cases (id text PRIMARY KEY, employee_id text NOT NULL REFERENCES app.people, status text NOT NULL,
    submitted_at timestamptz NOT NULL, version int NOT NULL DEFAULT 0, note text);
  CREATE INDEX ON app.cases (employee_id) WHERE status = 'in_progress';
  CREATE TABLE app.steps (case_id text NOT NULL REFERENCES app.cases, step text NOT NULL, status text NOT NULL, at timestamptz,
    PRIMARY KEY (case_id, step));
  INSERT INTO app.people SELECT 'e' || i, 'Person ' || i, CASE WHEN i > 10 THEN 'e' || (i % 10 + 1) END, 'd' || (i % 7) FROM generate_series(1, 5000) i;
  ANALYZE;`);
await setup.end();

/** One use case's worth of statements in a transaction: read the person and manager, open a case with its steps, mark one done. */
async function useCase(db: Kysely<DB>, n: number): Promise<void> {
  const employee = `e${(n % 4990) + 11}`;
  await db.transaction().execute(async (trx) => {
    const person = await trx
      .selectFrom('people as p')
      .leftJoin('people as m', 'm.id', 'p.manager_id')
      .select(['p.id', 'p.name', 'p.department', 'm.name as manager_name'])
      .where('p.id', '=', employee)
      .executeTakeFirstOrThrow();
    const open = await trx.selectFrom('cases').select('id').where('employee_id', '=', person.id).where('status', '=', 'in_progress').executeTakeFirst();
    if (open) await trx.updateTable('cases').set({ status: 'closed' }).where('id', '=', open.id).execute();
    const id = `c${n}-${Math.random().toString(36).slice(2)}`;
    await trx.insertInto('cases').values({ id, employee_id: person.id, status: 'in_progress', submitted_at: new Date() }).execute();
    await trx.insertInto('steps').values(['notify', 'interview', 'hold'].map((step) => ({ case_id: id, step, status: 'pending', at: null }))).execute();
    await trx.updateTable('steps').set({ status: 'done', at: new Date() }).where('case_id', '=', id).where('step', '=', 'hold').returningAll().executeTakeFirstOrThrow();
    await trx.updateTable('cases').set((eb) => ({ version: eb('version', '+', 1) })).where('id', '=', id).returning(['version']).executeTakeFirstOrThrow();
  });
}

interface Side {
  label: string;
  pool: Pool;
  db: Kysely<DB>;
  backendCpu: number;
  clientCpu: number;
  wallMs: number;
  tx: number;
}

async function side(label: string, prepared: boolean): Promise<Side> {
  const pool = createPool(tdb.url, { max: 1, name: `bench-driver-${label}` });
  const db = prepared ? createKysely<DB>(pool, 'app') : new Kysely<DB>({ dialect: new PostgresDialect({ pool }) }).withSchema('app');
  return { label, pool, db, backendCpu: 0, clientCpu: 0, wallMs: 0, tx: 0 };
}

const sides = [await side('prepared', true), await side('plain', false)];
let n = 0;
// Warm-up: the JIT, and the prepared side's plan cache (PostgreSQL chooses generic or custom plans after five
// executions, from the costs it sees then): side by side, so both sides see the tables as they grow.
for (let i = 0; i < 50; i++) for (const s of sides) await useCase(s.db, n++);
for (let r = 0; r < rounds; r++) {
  // Alternate which goes first, so neither always follows the other.
  for (const s of r % 2 === 0 ? sides : [...sides].reverse()) {
    // The pool's one connection may have been closed while idle (10 s): ask which backend serves it now.
    const backendPid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(s.db)).rows[0]!.pid;
    const b0 = cpuTimes(backendPid)?.self;
    if (b0 === undefined) throw new Error(`cannot read /proc/${backendPid}`);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < perRound; i++) await useCase(s.db, n++);
    s.wallMs += performance.now() - t0;
    const c = process.cpuUsage(c0);
    s.clientCpu += (c.user + c.system) / 1000;
    const b1 = cpuTimes(backendPid)?.self;
    if (b1 === undefined) throw new Error(`backend ${backendPid} went away during the round`);
    s.backendCpu += (b1 - b0) * 1000;
    s.tx += perRound;
  }
}
// Which plans the prepared side ended up with (plan_cache_mode auto chooses per statement after five runs): a
// statement that kept custom plans is planned at every call, as on the plain side.
const kept = (await sql<{ generic: number; custom: number }>`select coalesce(sum(generic_plans), 0)::int as generic, coalesce(sum(custom_plans), 0)::int as custom from pg_prepared_statements where not from_sql`.execute(sides[0]!.db)).rows[0]!;
for (const s of sides) await s.pool.end();
await server.stop();

const per = (s: Side, v: number) => v / s.tx;
const [prep, plain] = sides as [Side, Side];
console.log(`Driver alone: ${prep.tx} transactions per side (8 statements + BEGIN/COMMIT each), ${rounds} alternated rounds, one connection each`);
console.log('| per transaction | prepared (createKysely) | plain PostgresDialect | plain ÷ prepared |');
console.log('|---|---:|---:|---:|');
for (const [label, f] of [
  ['PostgreSQL backend CPU, ms', (s: Side) => per(s, s.backendCpu)],
  ['client process CPU, ms', (s: Side) => per(s, s.clientCpu)],
  ['wall time, ms', (s: Side) => per(s, s.wallMs)],
] as const) {
  console.log(`| ${label} | ${f(prep).toFixed(3)} | ${f(plain).toFixed(3)} | ${(f(plain) / f(prep)).toFixed(2)} |`);
}
console.log(`| plans the prepared side ran (pg_prepared_statements) | ${kept.generic} generic / ${kept.custom} custom | – | |`);
