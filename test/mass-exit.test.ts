/**
 * A mass exit from a CSV file, in both modes, through the real API (EMS, Access, Notification, real
 * PostgreSQL, bus and SMTP sink): one batch, progress until settled, a case and a timeline per person, no
 * email about a person before that person's access was suspended, an idempotent repeat, and a refused row
 * that names its line and changes nothing.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoOrg } from '@ems/demo-org';
import { waitFor } from '@ems/platform/testing';
import { ems } from '@ems/contracts';
import { http, HR_LEAD, startAcceptanceEms, tokenFor, type AcceptanceEnv } from './acceptance/harness.ts';

const org = demoOrg();
const admins = new Set(org.roleAssignments.map((a) => a.personId));
const partners = new Set(org.employees.map((e) => e.hrPartnerId));
/** People who are neither administrators nor HR partners: 50 of them are exited. */
const PEOPLE = org.employees.filter((e) => !admins.has(e.id) && !partners.has(e.id));

describe.each(['orchestration', 'choreography'] as const)('a mass exit (%s)', (mode) => {
  let env: AcceptanceEnv;
  let base: string;
  const arrivals: Array<{ to: string; at: number }> = [];
  const sql = <T extends Record<string, unknown>>(text: string, values: unknown[] = []) => env.ems.pool.query<T>(text, values).then((r) => r.rows);
  const postCsv = async (csv: string, query: string, key: string) => {
    const res = await fetch(`${base}${ems.EmsPaths.exits}?${query}`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv', 'idempotency-key': key, authorization: `Bearer ${await tokenFor(base, HR_LEAD)}` },
      body: csv,
    });
    return { status: res.status, location: res.headers.get('location'), body: (await res.json()) as ems.ExitsStarted & { errors?: ems.ExitRowError[] } };
  };

  beforeAll(async () => {
    env = await startAcceptanceEms(mode, `mass_exit_${mode}`);
    base = env.base;
    const push = env.smtp.messages.push.bind(env.smtp.messages);
    env.smtp.messages.push = (...mails) => {
      for (const m of mails) for (const t of (Array.isArray(m.to) ? m.to : m.to ? [m.to] : []).flatMap((x) => x.value)) arrivals.push({ to: t.address ?? '', at: Date.now() });
      return push(...mails);
    };
  }, 120_000);
  afterAll(async () => {
    await env?.stop();
  });

  it('when a CSV row is refused, then the answer names its line and nobody is exited', async () => {
    const [a, b] = PEOPLE;
    const csv = `employee_id,last_working_day\n${a!.id},\n${b!.id},2001-01-01\nNOBODY-7,\n`;
    const r = await postCsv(csv, 'reason=redundancy', randomUUID());
    expect(r.status).toBe(422);
    expect(r.body.errors).toEqual([
      { row: 3, employeeId: b!.id, error: expect.stringContaining('is in the past') as string },
      { row: 4, employeeId: 'NOBODY-7', error: 'no employee with this id' },
    ]);
    expect(await sql('SELECT id FROM ems.resignations WHERE employee_id = ANY($1)', [[a!.id, b!.id]])).toHaveLength(0);
    expect(await sql('SELECT id FROM ems.exit_batches')).toHaveLength(0);
  });

  it('when HR exits 50 people from a CSV file, then one batch settles with a case and timeline each, no email before that person is suspended, and a repeat changes nothing', async () => {
    const people = PEOPLE.slice(0, 50);
    expect(people).toHaveLength(50);
    const csv = `employee_id\n${people.map((p) => p.id).join('\n')}\n`;
    const key = randomUUID();
    const started = await postCsv(csv, 'reason=redundancy&note=site%20closure', key);
    expect(started.status).toBe(202);
    expect(started.location).toBe(ems.EmsPaths.exit(started.body.id));
    expect(started.body).toMatchObject({ total: 50, chunks: 1 });

    const settled = await waitFor(async () => {
      const p = (await http<ems.ExitBatch>(base, 'GET', `${ems.EmsPaths.exit(started.body.id)}?limit=100`)).body;
      return p.settled ? p : undefined;
    }, 'the batch to settle', 60_000);
    expect(settled).toMatchObject({ total: 50, accessSuspended: 50, noticesSent: 50, revocationsScheduled: 50, failed: 0 });
    expect(settled.settledAt).not.toBeNull();
    // The recorders settle the batch chunk by chunk (its one chunk here), never by re-reading the whole batch.
    await waitFor(async () => {
      const [row] = await sql<{ chunks_settled: number[] }>('SELECT chunks_settled FROM ems.exit_batches WHERE id = $1', [started.body.id]);
      return row?.chunks_settled.length ? row : undefined;
    }, 'the chunk to be recorded settled', 30_000);
    expect(await sql('SELECT chunks_settled FROM ems.exit_batches WHERE id = $1', [started.body.id])).toEqual([{ chunks_settled: [1] }]);
    expect(settled.cases.items.map((c) => c.employeeId).sort()).toEqual(people.map((p) => p.id).sort());

    // Each person: their own case, kind involuntary, their own timeline.
    const cases = await sql<{ id: string; employee_id: string }>('SELECT id, employee_id FROM ems.resignations WHERE batch_id = $1', [started.body.id]);
    expect(new Set(cases.map((c) => c.id)).size).toBe(50);
    for (const c of cases.slice(0, 5)) {
      const t = (await http<{ items: ems.TimelineEntry[] }>(base, 'GET', ems.EmsPaths.timeline(c.id))).body.items;
      expect(t.every((i) => i.correlationId === c.id)).toBe(true);
      expect(t.map((i) => i.type)).toEqual(expect.arrayContaining(['exit.involuntary-started', 'com.ems.access.exit-access-suspended.v1', 'com.ems.notification.exit-notices-sent.v1']));
    }

    // No email about a person before that person's hold was committed (the employee's own notice).
    await waitFor(() => (people.every((p) => arrivals.some((a) => a.to === p.email)) ? true : undefined), 'every employee notice at the SMTP sink', 30_000);
    const holds = await sql<{ employee_id: string; created_at: Date }>('SELECT employee_id, created_at FROM access.holds WHERE resignation_id = ANY($1)', [cases.map((c) => c.id)]);
    expect(holds).toHaveLength(50);
    for (const h of holds) {
      const email = people.find((p) => p.id === h.employee_id)!.email;
      for (const a of arrivals.filter((x) => x.to === email)) expect(a.at).toBeGreaterThanOrEqual(h.created_at.getTime());
    }

    // The same request again, with the same key: the same batch, nothing new.
    const again = await postCsv(csv, 'reason=redundancy&note=site%20closure', key);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(started.body.id);
    expect(await sql('SELECT id FROM ems.resignations WHERE batch_id IS NOT NULL')).toHaveLength(50);
    // The same key with another request is refused.
    const other = await postCsv(csv, 'reason=performance', key);
    expect(other.status).toBe(422);
  }, 120_000);
});
