/**
 * The all-in-one process at run time logs in only as roles that are no superuser: each service as its
 * own, the bus's work as the bus role, the workflow engine as EMS's. The admin (the URL's user) only
 * migrates, makes the roles and seeds, at start. (A file of its own: DBOS registers the orchestrator's
 * workflows once per process.)
 */
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { waitFor } from '@ems/platform/testing';
import { http, startAcceptanceEms } from './acceptance/harness.ts';

describe('the all-in-one process at run time', () => {
  it('when EMS serves a case from resignation to decision, then every connection it holds logs in as a role that is no superuser — the admin only migrates, makes the roles and seeds', async () => {
    const env = await startAcceptanceEms('orchestration', 'roles_connections');
    const probe = new pg.Client({ connectionString: inject('testServerUrl'), application_name: 'roles-probe' });
    await probe.connect();
    /** Every connection to EMS's database but this probe's: who it logs in as, and as which pool. */
    const seen = new Map<string, { role: string; superuser: boolean; app: string }>();
    /** The most connections seen at once, per role and in all (printed: what the process holds). */
    const most = new Map<string, number>();
    let sampling = true;
    const sample = async () => {
      const { rows } = await probe.query<{ role: string; superuser: boolean; app: string }>(
        `SELECT a.usename AS role, r.rolsuper AS superuser, a.application_name AS app
           FROM pg_stat_activity a JOIN pg_roles r ON r.oid = a.usesysid
          WHERE a.datname = $1 AND a.pid <> pg_backend_pid()`,
        [env.db.name],
      );
      for (const r of rows) seen.set(`${r.role} ${r.app}`, r);
      const counts = new Map<string, number>([['(all)', rows.length]]);
      for (const r of rows) counts.set(r.role, (counts.get(r.role) ?? 0) + 1);
      for (const [role, n] of counts) most.set(role, Math.max(most.get(role) ?? 0, n));
    };
    const sampler = (async () => {
      while (sampling) {
        await sample();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    try {
      const res = await http<{ id: string }>(env.base, 'POST', '/api/resignations', { employeeId: 'E1010' });
      expect(res.status).toBe(201);
      const caseOf = async () => (await http<{ status: string; closedAt: string | null }>(env.base, 'GET', `/api/resignations/${res.body.id}`)).body;
      await waitFor(async () => ((await caseOf()).status === 'awaiting_decision' ? true : undefined), 'the case to await a decision');
      const decided = await http(env.base, 'POST', `/api/resignations/${res.body.id}/decision`, { decision: 'retained' });
      expect(decided.status).toBe(200);
      await waitFor(async () => ((await caseOf()).closedAt !== null ? true : undefined), 'the case to close');
      await sample();
    } finally {
      sampling = false;
      await sampler;
      await probe.end();
      await env.stop();
    }
    console.log(`connections held at most, by role: ${[...most].map(([role, n]) => `${role.replace(`${env.db.name}_`, '')} ${n}`).join(', ')}`);
    const connections = [...seen.values()];
    // The pools the process runs on: the bus's, the workflow engine's (as EMS), each service's.
    const roles = new Set(connections.map((c) => c.role));
    for (const role of ['bus', 'ems', 'hr', 'access', 'notification', 'identity']) expect(roles).toContain(`${env.db.name}_${role}`);
    expect(connections.filter((c) => c.superuser)).toEqual([]);
    expect([...roles].every((r) => r.startsWith(`${env.db.name}_`))).toBe(true);
  }, 180_000);

  it('when the bus role reaches for a service\'s tables, then PostgreSQL refuses (42501); the bus\'s own it reads', async () => {
    const env = await startAcceptanceEms('choreography', 'roles_bus');
    try {
      const bus = env.ems.database.shared();
      expect((await bus.query('SELECT current_user, count(*) >= 0 AS ok FROM bus.job')).rows[0]).toEqual({ current_user: `${env.db.name}_bus`, ok: true });
      for (const table of ['hr.employees', 'identity.people', 'access.holds', 'ems.resignations', 'dbos.workflow_status']) {
        expect(await bus.query(`SELECT * FROM ${table}`).then(() => 'allowed', (err: { code?: string }) => err.code), table).toBe('42501');
      }
    } finally {
      await env.stop();
    }
  }, 120_000);
});
