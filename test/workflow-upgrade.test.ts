/**
 * Upgrading EMS across a workflow version with cases open (orchestration). DBOS resumes only its own
 * version's workflows: without a takeover, a case begun under the earlier version would wait for ever, and a
 * decision on it would be accepted (202) and never applied. Here four cases are opened by a real EMS process;
 * it is killed; their workflows are left as the earlier version (resignation-v6) left them: one workflow per
 * case, its id the case's, waiting in its decision phase — and no reactions workflow (v7's). While no
 * process runs: a decision is sent to one (as a 202'd decision waits in its mailbox); one is left as a crash
 * right after its retention was applied would leave it; one as a first takeover cut short by a crash would.
 * The new version, started, takes all four over: the reactions run again without doing anything twice, the
 * decisions that waited are applied, the retained case is closed, a new decision is applied at once, and
 * nothing the cases had already done — the manager's notice, the interview invitations — is done twice. The same holds for a mass exit's batch workflow: one whose
 * process died after its last step and one whose last recording did not commit are taken over, and nobody's
 * notice is written or sent twice.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { DBOSClient } from '@dbos-inc/dbos-sdk';
import { demoOrg } from '@ems/demo-org';
import { createPool, freePort } from '@ems/platform';
import { createTestDatabase, waitFor, type TestDatabase } from '@ems/platform/testing';
import { http, TEST_AUTH_ENV } from './support/auth.ts';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.ts';
import { emsProcesses } from './support/ems-process.ts';

interface BatchBody {
  id: string;
  settled: boolean;
  cases: { items: Array<{ resignationId: string; employeeId: string; noticesSent: string }> };
}

interface CaseBody {
  id: string;
  status: string;
  closedAt: string | null;
}

describe('upgrading across a workflow version with cases open (orchestration)', () => {
  let db: TestDatabase;
  let smtp: SmtpSink;
  let port: number;
  const processes = emsProcesses();
  const org = demoOrg();

  beforeAll(async () => {
    db = await createTestDatabase(inject('testServerUrl'), 'wfupgrade');
    smtp = await startSmtpSink();
    port = await freePort();
  });
  afterAll(async () => {
    processes.killAll();
    await smtp?.stop();
    await db?.drop();
  });

  const start = () => processes.start({ EMS_MODE: 'orchestration', EMS_PORT: String(port), EMS_DATABASE_URL: db.url, EMS_SMTP_URL: smtp.url, EMS_LOG_LEVEL: 'warn', ...TEST_AUTH_ENV });
  const base = () => `http://127.0.0.1:${port}`;
  const getCase = async (id: string) => (await http<CaseBody>(base(), 'GET', `/api/resignations/${id}`)).body;
  const until = (id: string, status: string) => waitFor(async () => ((await getCase(id)).status === status ? true : undefined), `case ${id} ${status}`, 60_000);
  const mails = (prefix: string) => smtp.messages.filter((m) => m.subject?.startsWith(prefix)).length;

  it('when the new version starts, then it takes over the earlier version’s running workflows: a decision sent while they waited is applied, a new one is applied at once, and nothing is done twice', async () => {
    const people = org.employees.filter((e) => e.managerId).slice(30, 34);
    const closing = people[2]!;
    const first = await start();
    const opened = await Promise.all(people.map((e) => http<CaseBody>(base(), 'POST', '/api/resignations', { employeeId: e.id })));
    for (const o of opened) expect(o.status).toBe(201);
    const [one, two, three, four] = opened.map((o) => o.body.id) as [string, string, string, string];
    for (const id of [one, two, three, four]) await until(id, 'awaiting_decision');
    // Each manager told once, each interview's invitations out, before the old version goes.
    for (const e of people) await waitFor(() => (mails(`Resignation: ${e.name}`) === 1 && mails(`Exit interview: ${e.name}`) > 0 ? true : undefined), `${e.name}'s notice and invitations`, 30_000);
    const invitations = people.map((e) => mails(`Exit interview: ${e.name}`));
    await first.kill();

    // As resignation-v6 left its cases: one workflow per case (id = the case's, named 'resignation', the case's
    // draft its input), begun under that version and waiting in its decision phase; no reactions workflow.
    const pool = createPool(db.url, { max: 1 });
    try {
      const ids = [one, two, three, four];
      const reactions = ids.map((id) => `${id}:reactions`);
      await pool.query(`CREATE TEMP TABLE earlier AS SELECT * FROM dbos.workflow_status WHERE workflow_uuid = ANY($1::text[])`, [reactions]);
      await pool.query(
        `UPDATE earlier SET workflow_uuid = split_part(workflow_uuid, ':', 1), name = 'resignation', status = 'PENDING', output = NULL, application_version = 'resignation-v6'`,
      );
      const marked = await pool.query(`INSERT INTO dbos.workflow_status SELECT * FROM earlier`);
      expect(marked.rowCount).toBe(4);
      await pool.query(`INSERT INTO dbos.workflow_input (workflow_uuid, inputs) SELECT split_part(workflow_uuid, ':', 1), inputs FROM dbos.workflow_input WHERE workflow_uuid = ANY($1::text[])`, [reactions]);
      await pool.query(`DELETE FROM dbos.workflow_status WHERE workflow_uuid = ANY($1::text[])`, [reactions]);

      // A decision sent while no process of its version runs: it waits in the workflow's mailbox (the API had answered 202).
      const client = await DBOSClient.create({ systemDatabaseUrl: db.url });
      try {
        for (const id of [one, four]) await client.send(id, { kind: 'retained', requestId: randomUUID(), note: 'Counter-offer accepted', actor: null }, 'decision', randomUUID());
      } finally {
        await client.destroy();
      }
      // The third had just applied its retention (as the case store's decide writes it) when its process died,
      // before telling anyone, lifting the hold or cancelling the interview.
      await pool.query(`UPDATE ems.resignations SET status = 'retained', decision = 'retained', decided_at = now(), decision_revision = 1, updated_at = now() WHERE id = $1`, [three]);
      await pool.query(
        `INSERT INTO ems.steps (resignation_id, name, status, attempts, expected_by)
         SELECT $1, name, 'pending', 0, now() + interval '1 hour' FROM unnest(ARRAY['announceDecision', 'restoreAccess', 'cancelInterview']) AS name`,
        [three],
      );
      // The fourth's takeover was cut short by a crash: its waiting decision parked, its workflow cancelled, not yet rewound.
      await pool.query(`UPDATE dbos.notifications SET consumed = true, consumed_by_function_id = -1 WHERE destination_uuid = $1`, [four]);
      await pool.query(`UPDATE dbos.workflow_status SET status = 'CANCELLED' WHERE workflow_uuid = $1`, [four]);
    } finally {
      await pool.end();
    }

    const second = await start();
    expect(second.output()).toContain('4 running workflow(s) begun under resignation-v6 or resignation-v5 taken over by this version (resignation-v7)');
    expect(second.output()).not.toContain('does not resume them');
    // The decisions that waited are applied (the one parked by the takeover cut short too): the cases close as retained.
    for (const id of [one, four]) {
      await waitFor(async () => {
        const c = await getCase(id);
        return c.status === 'retained' && c.closedAt ? true : undefined;
      }, `the waiting decision on ${id} applied and the case closed`, 60_000);
    }
    // Each case's reactions ran again under this version, in their own workflow, before its decision phase went on.
    const check = createPool(db.url, { max: 1 });
    try {
      const { rows } = await check.query<{ n: string }>(`SELECT count(*) AS n FROM dbos.workflow_status WHERE workflow_uuid = ANY($1::text[]) AND status = 'SUCCESS' AND application_version = 'resignation-v7'`, [
        [one, four].map((id) => `${id}:reactions`),
      ]);
      expect(Number(rows[0]!.n)).toBe(2);
    } finally {
      await check.end();
    }
    // A new decision reaches the other workflow, which answers it at once (200: applied, not 202).
    const decided = await http<CaseBody>(base(), 'POST', `/api/resignations/${two}/decision`, { decision: 'retained' });
    expect(decided.status).toBe(200);
    await waitFor(async () => ((await getCase(two)).closedAt ? true : undefined), 'the second case closed', 60_000);
    // The one retained as its process died is closed where it stood: told, its hold lifted, its interview cancelled.
    await waitFor(async () => ((await getCase(three)).closedAt ? true : undefined), 'the third case closed', 60_000);
    const access = (await http<{ items: Array<{ status: string }> }>(base(), 'GET', `/api/employees/${closing.id}/access`)).body.items;
    expect(access.length).toBeGreaterThan(0);
    expect(access.filter((g) => g.status !== 'active')).toEqual([]);
    // The decisions' own emails came (each interview's cancellation), once each; nothing before them again.
    for (const e of people) await waitFor(() => (mails(`Cancelled: exit interview for ${e.name}`) > 0 ? true : undefined), `${e.name}'s cancellation`, 30_000);
    for (const [i, e] of people.entries()) {
      expect(mails(`Cancelled: exit interview for ${e.name}`), `${e.name}'s interview cancelled once`).toBe(invitations[i]);
      expect(mails(`Resignation: ${e.name}`), `${e.name}'s manager told once`).toBe(1);
      expect(mails(`Exit interview: ${e.name}`), `${e.name}'s invitations sent once`).toBe(invitations[i]);
    }
    await second.stop();
  }, 300_000);

  it('when the new version starts, then it takes over the earlier version’s mass-exit batches: an unfinished one settles, and no notice is written or sent twice', async () => {
    const admins = new Set(org.roleAssignments.map((a) => a.personId));
    const partners = new Set(org.employees.map((e) => e.hrPartnerId));
    const people = org.employees.filter((e) => e.managerId && !admins.has(e.id) && !partners.has(e.id)).slice(50, 54);
    const [finished, unrecorded] = [people.slice(0, 2), people.slice(2, 4)];
    const batch = async (id: string) => (await http<BatchBody>(base(), 'GET', `/api/exits/${id}?limit=100`)).body;
    const settled = (id: string) => waitFor(async () => ((await batch(id)).settled ? true : undefined), `batch ${id} settled`, 60_000);
    const mailsTo = (address: string) => smtp.messages.filter((m) => (Array.isArray(m.to) ? m.to : m.to ? [m.to] : []).some((t) => t.value.some((v) => v.address === address))).length;

    const first = await start();
    const started = await Promise.all(
      [finished, unrecorded].map((group) =>
        http<{ id: string }>(base(), 'POST', '/api/exits', { reason: 'redundancy', employees: group.map((e) => ({ employeeId: e.id })) }, { 'idempotency-key': randomUUID() }),
      ),
    );
    for (const s of started) expect(s.status).toBe(202);
    const [done, cut] = started.map((s) => s.body.id) as [string, string];
    for (const id of [done, cut]) await settled(id);
    const cases = (await Promise.all([done, cut].map(batch))).flatMap((b) => b.cases.items.map((c) => c.resignationId));
    expect(cases).toHaveLength(4);
    // Everyone told (the employee, and the manager) before the old version goes.
    for (const e of people) await waitFor(() => (mailsTo(e.email) > 0 ? true : undefined), `${e.name}'s notice`, 30_000);
    const pool = createPool(db.url, { max: 1 });
    // …and every notice recorded sent by Notification: a process killed between the SMTP server's "250" and that record
    // sends the email again (with its Message-ID), which is not what this upgrade is about.
    await waitFor(async () => {
      const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM notification.emails WHERE resignation_id = ANY($1::uuid[]) AND status <> 'sent'`, [cases]);
      return Number(rows[0]!.n) === 0 ? true : undefined;
    }, 'every notice recorded sent', 30_000);
    const told = people.map((e) => mailsTo(e.email));
    await first.kill();

    const notices = async () => Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM notification.emails WHERE resignation_id = ANY($1::uuid[])`, [cases])).rows[0]!.n);
    try {
      const written = await notices();
      expect(written).toBeGreaterThan(0);
      // As an earlier version's processes left them: both batches' workflows begun under resignation-v6 and
      // still running — the first's process died after its last step, the second's before its notices were
      // recorded in EMS (Notification had written and sent them).
      const marked = await pool.query(`UPDATE dbos.workflow_status SET status = 'PENDING', application_version = 'resignation-v6' WHERE workflow_uuid = ANY($1::text[]) AND status = 'SUCCESS'`, [[done, cut]]);
      expect(marked.rowCount).toBe(2);
      const undone = await pool.query(
        `UPDATE ems.steps SET status = 'pending', result = NULL WHERE name = 'announceDecision' AND resignation_id IN (SELECT id FROM ems.resignations WHERE batch_id = $1)`,
        [cut],
      );
      expect(undone.rowCount).toBe(2);
      await pool.query(`UPDATE ems.exit_batches SET chunks_settled = '{}', settled_at = NULL WHERE id = $1`, [cut]);

      const second = await start();
      expect(second.output()).toContain('2 running workflow(s) begun under resignation-v6 or resignation-v5 taken over by this version (resignation-v7)');
      expect(second.output()).not.toContain('does not resume them');
      await settled(cut);
      // Both workflows ran to their end under this version.
      await waitFor(async () => {
        const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM dbos.workflow_status WHERE workflow_uuid = ANY($1::text[]) AND status = 'SUCCESS' AND application_version = 'resignation-v7'`, [[done, cut]]);
        return Number(rows[0]!.n) === 2 ? true : undefined;
      }, 'both batches’ workflows finished under resignation-v7', 60_000);
      for (const c of (await batch(cut)).cases.items) expect(c.noticesSent, `${c.employeeId}'s notices recorded`).toBe('done');
      // Nothing written again (Notification answered both batches' notices from its records), so nothing sent again.
      expect(await notices()).toBe(written);
      const { rows: entries } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ems.timeline WHERE resignation_id = ANY($1::uuid[]) AND dedupe_key = 'exit.notices-sent'`, [cases]);
      expect(Number(entries[0]!.n)).toBe(4);
      expect(people.map((e) => mailsTo(e.email))).toEqual(told);
      await second.stop();
    } finally {
      await pool.end();
    }
  }, 300_000);
});
