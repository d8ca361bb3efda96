/**
 * bench/driver.ts — what the driver's choices save, at the driver alone: the same Kysely statements
 * (the shapes EMS runs most: a lookup by key, a join, an insert, an update with RETURNING, each in a
 * transaction as a use case runs them) through createKysely (named prepared statements, the BEGIN riding
 * with the first statement), through the same named statements with BEGIN sent on its own (as before), and
 * through a plain PostgresDialect (unnamed: parsed and planned at every call, BEGIN on its own), alternated
 * round by round on one connection each, in one run, on a fresh embedded PostgreSQL (its backends are this
 * run's processes). Two transaction shapes: the use case above (seven statements) and a short one (one
 * update, as most of a case's transactions are). Reported per transaction: the CPU of the PostgreSQL
 * backend serving it (from /proc), the CPU of this process, and the wall time; and each ÷ createKysely's.
 *
 *   npm exec -- node bench/driver.ts [--rounds 6] [--tx 500]     (npm exec: Node 24 from node_modules)
 *
 * Ratios from one run only: the machine is shared.
 */
import { parseArgs } from 'node:util';
import { Kysely, PostgresDialect, sql, type Generated } from 'kysely';
import { createKysely, createPool, preparedStatements, type Pool } from '@ems/platform';
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

/** A short transaction: one update of a row by key, as most of a case's transactions are (a step recorded, an email marked). */
async function shortTx(db: Kysely<DB>, n: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('people').set({ name: `Person ${n}` }).where('id', '=', `e${(n % 5000) + 1}`).execute();
  });
}

/**
 * createKysely's named statements, but BEGIN, COMMIT and ROLLBACK sent on their own (each a round trip),
 * as every transaction was before the BEGIN rode with its first statement.
 */
function beginAlone(pool: Pool): Kysely<DB> {
  const statements = preparedStatements({ prefix: 'alone', maxTexts: 5_000, maxPerConnection: 250 });
  type KyselyPool = ConstructorParameters<typeof PostgresDialect>[0]['pool'];
  const wrapped: KyselyPool = {
    async connect() {
      const client = await pool.connect();
      return {
        query: ((text: string, parameters?: readonly unknown[]) =>
          /^\s*(begin|commit|rollback)\s*$/i.test(text) ? client.query(text) : statements.query(client, text, parameters ?? [])) as never,
        release: () => client.release(),
      };
    },
    end: () => pool.end(),
  };
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool: wrapped }) }).withSchema('app');
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

async function side(label: string, kind: 'prepared' | 'begin alone' | 'plain', work: (db: Kysely<DB>, n: number) => Promise<void>): Promise<Side & { work: typeof work }> {
  const pool = createPool(tdb.url, { max: 1, name: `bench-driver-${label}` });
  const db = kind === 'prepared' ? createKysely<DB>(pool, 'app') : kind === 'begin alone' ? beginAlone(pool) : new Kysely<DB>({ dialect: new PostgresDialect({ pool }) }).withSchema('app');
  return { label, pool, db, backendCpu: 0, clientCpu: 0, wallMs: 0, tx: 0, work };
}

const shapes = [
  { name: 'use case (7 statements)', work: useCase },
  { name: 'short (1 update)', work: shortTx },
] as const;
const sides = [];
for (const shape of shapes) {
  for (const kind of ['prepared', 'begin alone', 'plain'] as const) sides.push(await side(`${shape.name}|${kind}`, kind, shape.work));
}
let n = 0;
// Warm-up: the JIT, and the named sides' plan caches (PostgreSQL chooses generic or custom plans after five
// executions, from the costs it sees then): side by side, so every side sees the tables as they grow.
for (let i = 0; i < 50; i++) for (const s of sides) await s.work(s.db, n++);
for (let r = 0; r < rounds; r++) {
  // Alternate which goes first, so neither always follows the other.
  for (const s of r % 2 === 0 ? sides : [...sides].reverse()) {
    // The pool's one connection may have been closed while idle (10 s): ask which backend serves it now.
    const backendPid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(s.db)).rows[0]!.pid;
    const b0 = cpuTimes(backendPid)?.self;
    if (b0 === undefined) throw new Error(`cannot read /proc/${backendPid}`);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < perRound; i++) await s.work(s.db, n++);
    s.wallMs += performance.now() - t0;
    const c = process.cpuUsage(c0);
    s.clientCpu += (c.user + c.system) / 1000;
    const b1 = cpuTimes(backendPid)?.self;
    if (b1 === undefined) throw new Error(`backend ${backendPid} went away during the round`);
    s.backendCpu += (b1 - b0) * 1000;
    s.tx += perRound;
  }
}
// Which plans each named side ended up with (plan_cache_mode auto chooses per statement after five runs):
// a side that kept custom plans plans at every call, as the plain one does.
const plansOf = new Map<string, string>();
for (const s of sides) {
  const r = await sql<{ generic: number; custom: number }>`select coalesce(sum(generic_plans), 0)::int as generic, coalesce(sum(custom_plans), 0)::int as custom from pg_prepared_statements where not from_sql`.execute(s.db);
  plansOf.set(s.label, `${r.rows[0]!.generic} generic / ${r.rows[0]!.custom} custom`);
}
for (const s of sides) await s.pool.end();
await server.stop();

const per = (s: Side, v: number) => v / s.tx;
console.log(`Driver alone: ${rounds} alternated rounds of ${perRound} transactions per side, one connection each`);
for (const shape of shapes) {
  const [prep, alone, plain] = sides.filter((s) => s.label.startsWith(`${shape.name}|`));
  if (!prep || !alone || !plain) throw new Error(`missing sides for ${shape.name}`);
  console.log('', `${shape.name}, BEGIN/COMMIT included: ${prep.tx} transactions per side`);
  console.log('| per transaction | createKysely (named, BEGIN rides) | named, BEGIN alone | plain PostgresDialect | BEGIN alone ÷ rides | plain ÷ rides |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const [label, f] of [
    ['PostgreSQL backend CPU, ms', (s: Side) => per(s, s.backendCpu)],
    ['client process CPU, ms', (s: Side) => per(s, s.clientCpu)],
    ['wall time, ms', (s: Side) => per(s, s.wallMs)],
  ] as const) {
    console.log(`| ${label} | ${f(prep).toFixed(3)} | ${f(alone).toFixed(3)} | ${f(plain).toFixed(3)} | ${(f(alone) / f(prep)).toFixed(2)} | ${(f(plain) / f(prep)).toFixed(2)} |`);
  }
  console.log(`| plans of the named statements (pg_prepared_statements) | ${plansOf.get(prep.label)} | ${plansOf.get(alone.label)} | – | | |`);
}
