/**
 * `ems audit verify`: an access administrator checks the access audit's hash chain from the command line.
 * The chain holds after real changes; an entry altered in the database (by someone with database rights,
 * past the append-only trigger) is reported as the first broken link, and entries cut off the end are
 * noticed against an earlier check.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoOrg } from '@ems/demo-org';
import { waitFor } from '@ems/platform/testing';
import { startAcceptanceEms, type AcceptanceEnv } from './acceptance/harness.ts';
import { ACCESS_ADMIN, http, tokenFor } from './support/auth.ts';
import { EMS_BIN } from './support/ems-process.ts';

const execFileAsync = promisify(execFile);

describe('ems audit verify', () => {
  let env: AcceptanceEnv;
  const verify = async (...args: string[]) =>
    execFileAsync(process.execPath, [EMS_BIN, 'audit', 'verify', ...args], { env: { ...process.env, EMS_URL: env.base, EMS_TOKEN: await tokenFor(env.base, ACCESS_ADMIN) }, timeout: 60_000 }).then(
      (r) => ({ code: 0, out: r.stdout }),
      (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, out: err.stdout + err.stderr }),
    );
  const sql = async (text: string, params: unknown[] = []) => env.ems.pool.query(text, params);

  beforeAll(async () => {
    env = await startAcceptanceEms('orchestration', 'audit_verify');
    // Real audit entries: two resignations put critical access on hold.
    const org = demoOrg();
    for (const e of org.employees.filter((x) => x.managerId && x.departmentId === 'eng').slice(0, 2)) {
      const c = await http<{ id: string }>(env.base, 'POST', '/api/resignations', { employeeId: e.id });
      await waitFor(async () => ((await http<{ steps: { suspendAccess: { status: string } } }>(env.base, 'GET', `/api/resignations/${c.body.id}`)).body.steps.suspendAccess.status === 'done' ? true : undefined), 'the hold');
    }
    // Entries are linked into the chain by Access's sealer just after they commit: wait until none is pending.
    await waitFor(async () => ((await sql(`SELECT count(*)::int AS n FROM access.audit_pending`)).rows[0] as { n: number }).n === 0 || undefined, 'the audit entries linked into the chain');
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('when the chain is intact, then it says so with the number of entries and how to check later that none was cut off', async () => {
    const r = await verify();
    expect(r.code, r.out).toBe(0);
    const counted = (await sql(`SELECT count(*)::int AS n, (SELECT audit_id::int FROM access.audit_chain ORDER BY seq DESC LIMIT 1) AS last FROM access.audit`)).rows[0] as { n: number; last: number };
    expect(counted.n).toBeGreaterThan(2);
    expect(r.out).toMatch(new RegExp(`\\b${counted.n}\\b`));
    const since = /--since-id (\d+) --since-hash ([0-9a-f]{64})/.exec(r.out);
    expect(since?.[1]).toBe(String(counted.last));
    const again = await verify('--since-id', since![1]!, '--since-hash', since![2]!);
    expect(again.code, again.out).toBe(0);
    expect(again.out).toContain('still there, unchanged');
  });

  it('when an entry was altered in the database, then the first broken link is reported and the command fails', async () => {
    const { rows } = await sql(`SELECT id, reason FROM access.audit ORDER BY id LIMIT 1 OFFSET 1`);
    const victim = rows[0] as { id: string; reason: string };
    // Only someone with database rights can: the application's role is refused (append-only).
    await expect(sql(`UPDATE access.audit SET reason = 'nothing to see' WHERE id = $1`, [victim.id])).rejects.toThrow(/append-only/);
    await sql(`ALTER TABLE access.audit DISABLE TRIGGER USER`);
    try {
      await sql(`UPDATE access.audit SET reason = 'nothing to see' WHERE id = $1`, [victim.id]);
    } finally {
      await sql(`ALTER TABLE access.audit ENABLE TRIGGER USER`);
    }
    const r = await verify();
    expect(r.code).toBe(1);
    expect(r.out).toContain(`entry ${victim.id}`);
  });

  it('when the last entries were cut off the end, then a check against an earlier one notices', async () => {
    const { rows } = await sql(`SELECT audit_id::int AS id, hash FROM access.audit_chain ORDER BY seq DESC LIMIT 1`);
    const last = rows[0] as { id: number; hash: string };
    // The entry and its link in the chain, both removed past their append-only triggers.
    await sql(`ALTER TABLE access.audit DISABLE TRIGGER USER`);
    await sql(`ALTER TABLE access.audit_chain DISABLE TRIGGER USER`);
    try {
      await sql(`WITH link AS (DELETE FROM access.audit_chain WHERE audit_id = $1) DELETE FROM access.audit WHERE id = $1`, [last.id]);
    } finally {
      await sql(`ALTER TABLE access.audit ENABLE TRIGGER USER`);
      await sql(`ALTER TABLE access.audit_chain ENABLE TRIGGER USER`);
    }
    const r = await verify('--since-id', String(last.id), '--since-hash', last.hash);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/gone|broken/);
  });
});
