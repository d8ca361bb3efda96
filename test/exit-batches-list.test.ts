/**
 * The HR lead's list of involuntary exit batches (GET /api/exits, operation listExitBatches) through the real
 * API: EMS, Access and Notification on a real PostgreSQL, the real bus, a real SMTP sink. Newest first, paged
 * as every list of EMS (limit/offset, nextOffset), from the batch rows alone; the HR lead only; a bad query is
 * a 400 problem.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoOrg } from '@ems/demo-org';
import { waitFor } from '@ems/platform/testing';
import { ems } from '@ems/contracts';
import { employeePicker, http, HR_LEAD, startAcceptanceEms, tokenFor, type AcceptanceEnv } from './acceptance/harness.ts';

const org = demoOrg();

describe('the list of exit batches', () => {
  let env: AcceptanceEnv;
  let base: string;
  const picker = employeePicker(org);
  const as = async (person: string) => ({ authorization: `Bearer ${await tokenFor(base, person)}` });
  const start = async (body: ems.StartExitsRequest) => {
    const r = await http<ems.ExitsStarted>(base, 'POST', ems.EmsPaths.exits, body, { ...(await as(HR_LEAD)), 'idempotency-key': randomUUID() });
    expect(r.status).toBe(202);
    return r.body;
  };
  const list = async (query = '', person = HR_LEAD) => http<ems.ExitBatchList & { type?: string; permission?: string }>(base, 'GET', `${ems.EmsPaths.exits}${query}`, undefined, await as(person));
  /** The first batch (one person) and the second (two people), started in this order. */
  let first: ems.ExitsStarted;
  let second: ems.ExitsStarted;

  beforeAll(async () => {
    env = await startAcceptanceEms('orchestration', 'exit_batches_list');
    base = env.base;
  }, 120_000);
  afterAll(async () => {
    await env?.stop();
  });

  it('when nothing was started, then the list is empty', async () => {
    const r = await list();
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ items: [], nextOffset: null });
  });

  it('when HR started two batches, then both are listed newest first with who started them, why and how many', async () => {
    first = await start({ employees: [{ employeeId: picker.takeEmployee().id }], reason: 'misconduct' });
    second = await start({ employees: [{ employeeId: picker.takeEmployee().id }, { employeeId: picker.takeEmployee().id }], reason: 'redundancy', note: 'site closure' });
    const r = await list();
    expect(r.status).toBe(200);
    expect(r.body.nextOffset).toBeNull();
    expect(r.body.items.map((b) => b.id)).toEqual([second.id, first.id]);
    expect(r.body.items[0]).toMatchObject({ id: second.id, mode: 'orchestration', reason: 'redundancy', total: 2, createdBy: { id: HR_LEAD, kind: 'person', name: org.hrLead.name, role: 'hr_lead' } });
    expect(r.body.items[1]).toMatchObject({ id: first.id, mode: 'orchestration', reason: 'misconduct', total: 1, createdBy: { id: HR_LEAD } });
    expect(Date.parse(r.body.items[0]!.createdAt)).toBeGreaterThanOrEqual(Date.parse(r.body.items[1]!.createdAt));
    // The list holds no note and no case: only what the batch row says.
    expect(Object.keys(r.body.items[0]!).sort()).toEqual(['createdAt', 'createdBy', 'id', 'mode', 'reason', 'settled', 'settledAt', 'total']);

    // Once the batch has settled (its progress says so), the list says so too, with the instant.
    const settled = await waitFor(async () => {
      const p = (await http<ems.ExitBatch>(base, 'GET', ems.EmsPaths.exit(second.id))).body;
      return p.settled ? p : undefined;
    }, 'the second batch to settle', 30_000);
    const after = (await list()).body.items.find((b) => b.id === second.id)!;
    expect(after.settled).toBe(true);
    expect(after.settledAt).toBe(settled.settledAt);
  }, 60_000);

  it('when the list is read a page at a time, then each page follows the last and the last says there is no more', async () => {
    const page1 = await list('?limit=1');
    expect(page1.status).toBe(200);
    expect(page1.body.items.map((b) => b.id)).toEqual([second.id]);
    expect(page1.body.nextOffset).toBe(1);
    const page2 = await list(`?limit=1&offset=${page1.body.nextOffset}`);
    expect(page2.body.items.map((b) => b.id)).toEqual([first.id]);
    expect(page2.body.nextOffset).toBeNull();
    const beyond = await list('?limit=1&offset=2');
    expect(beyond.body).toEqual({ items: [], nextOffset: null });
  });

  it('when someone other than the HR lead lists the batches, then it is 403 naming the permission', async () => {
    const e = picker.takeEmployee();
    for (const person of [e.hrPartnerId, e.managerId!, e.id]) {
      const r = await list('', person);
      expect(r.status, person).toBe(403);
      expect(r.body.permission, person).toBe('listExitBatches');
      expect(r.body.items, person).toBeUndefined();
    }
    const anonymous = await fetch(`${base}${ems.EmsPaths.exits}`);
    expect(anonymous.status).toBe(401);
  });

  it('when the query is bad, then it is a 400 problem', async () => {
    for (const query of ['?limit=0', '?limit=501', '?limit=ten', '?offset=-1', '?offset=1.5']) {
      const r = await list(query);
      expect(r.status, query).toBe(400);
      expect(r.contentType, query).toMatch(/^application\/problem\+json/);
      expect(r.body.type, query).toBe('https://ems.dev/problems/validation');
    }
  });
});
