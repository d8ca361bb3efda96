import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { hr } from '@ems/contracts';
import { createPool, migrate } from '@ems/platform';
import { createTestDatabase } from '@ems/platform/testing';
import { HR_SCHEMA } from '../src/index.ts';
import { migrations } from '../src/db/migrations.ts';
import { call as request, manualClock, startHr, type HrUnderTest } from './harness.ts';

type Employee = hr.Employee;
type Page<T> = { items: T[]; nextOffset: number | null };

let h: HrUnderTest;

/** The directory is open to every signed-in person: here an engineer with no administrative role reads it. */
const READER = 'E1001';
const call = async <T = Record<string, unknown>>(base: string, method: string, path: string) => request<T>(base, method, path, undefined, await h.as(READER));

beforeAll(async () => {
  // The directory never calls Notification; the URL points at a closed port.
  h = await startHr({ label: 'hrdir', clock: manualClock('2026-03-02T10:00:00Z'), notificationUrl: 'http://127.0.0.1:9' });
});
afterAll(async () => {
  await h?.stop();
});

describe('people directory', () => {
  it('when paging through all employees, then every seeded employee appears once, each matching the contract', async () => {
    const seen: Employee[] = [];
    let offset: number | null = 0;
    while (offset !== null) {
      const res: { status: number; body: Page<Employee> } = await call<Page<Employee>>(h.base, 'GET', `/api/employees?limit=25&offset=${offset}`);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(25);
      for (const e of res.body.items) expect(hr.Employee.parse(e)).toEqual(e);
      seen.push(...res.body.items);
      offset = res.body.nextOffset;
    }
    expect(seen.map((e) => e.id).sort()).toEqual(h.org.employees.map((e) => e.id).sort());
  });

  it('when filtering by department, then only that department is listed', async () => {
    const res = await call<Page<Employee>>(h.base, 'GET', '/api/employees?departmentId=fin&limit=500');
    expect(res.status).toBe(200);
    const expected = h.org.employees.filter((e) => e.departmentId === 'fin').map((e) => e.id).sort();
    expect(expected.length).toBeGreaterThan(0);
    expect(res.body.items.map((e) => e.id).sort()).toEqual(expected);
    expect(res.body.items.every((e) => e.department.id === 'fin' && e.department.name === 'Finance')).toBe(true);
  });

  it('when searching with q, then names and emails match case-insensitively, and % is taken literally', async () => {
    const someone = h.org.employees[7]!;
    const byName = await call<Page<Employee>>(h.base, 'GET', `/api/employees?q=${encodeURIComponent(someone.name.split(' ')[0]!.toUpperCase())}&limit=500`);
    expect(byName.body.items.map((e) => e.id)).toContain(someone.id);
    expect(byName.body.items.every((e) => e.name.toLowerCase().includes(someone.name.split(' ')[0]!.toLowerCase()) || e.email.includes(someone.name.split(' ')[0]!.toLowerCase()))).toBe(true);
    const byEmail = await call<Page<Employee>>(h.base, 'GET', `/api/employees?q=${encodeURIComponent(someone.email)}`);
    expect(byEmail.body.items.map((e) => e.id)).toEqual([someone.id]);
    const literal = await call<Page<Employee>>(h.base, 'GET', `/api/employees?q=${encodeURIComponent('%')}`);
    expect(literal.body.items).toEqual([]);
  });

  it('when reading one employee, then the manager and HR partner come with it; the CEO has no manager', async () => {
    const e = h.org.employees.find((x) => x.managerId !== null)!;
    const manager = h.org.employees.find((m) => m.id === e.managerId)!;
    const partner = h.org.hrPartners.find((p) => p.id === e.hrPartnerId)!;
    const res = await call<Employee>(h.base, 'GET', hr.HrPaths.employee(e.id));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: e.id,
      name: e.name,
      email: e.email,
      title: e.title,
      department: { id: e.departmentId, name: h.org.departments.find((d) => d.id === e.departmentId)!.name },
      location: e.location,
      timezone: e.timezone,
      workingHours: e.workingHours,
      manager: { id: manager.id, name: manager.name, email: manager.email },
      hrPartner: { id: partner.id, name: partner.name, email: partner.email, timezone: partner.timezone },
    });
    const ceo = h.org.employees.find((x) => x.managerId === null)!;
    expect((await call<Employee>(h.base, 'GET', hr.HrPaths.employee(ceo.id))).body.manager).toBeNull();
  });

  it('when the employee is unknown, then 404 problem+json; a malformed id is 400', async () => {
    const missing = await call<{ status: number; title: string }>(h.base, 'GET', hr.HrPaths.employee('E9999'));
    expect(missing.status).toBe(404);
    expect(missing.contentType).toContain('application/problem+json');
    expect(missing.body.status).toBe(404);
    const bad = await call(h.base, 'GET', `/api/employees/${encodeURIComponent('no spaces allowed')}`);
    expect(bad.status).toBe(400);
  });

  it('when listing HR partners, then all three come with time zones, working hours and their HR lead', async () => {
    const res = await call<Page<hr.HrPartner>>(h.base, 'GET', hr.HrPaths.hrPartners);
    expect(res.status).toBe(200);
    expect(res.body.nextOffset).toBeNull();
    expect(res.body.items).toEqual(
      [...h.org.hrPartners]
        .sort((a, b) => a.id.localeCompare(b.id))
        .map((p) => ({ id: p.id, name: p.name, email: p.email, timezone: p.timezone, workingHours: p.workingHours, lead: { id: h.org.hrLead.id, name: h.org.hrLead.name, email: h.org.hrLead.email } })),
    );
  });
});

describe('one HR partner and the HR lead', () => {
  const lead = () => ({ id: h.org.hrLead.id, name: h.org.hrLead.name, email: h.org.hrLead.email });

  it('when reading one HR partner, then it comes with its working hours and the HR lead it escalates to, matching the list', async () => {
    const p = h.org.hrPartners.find((x) => x.id === 'hrp-singapore')!;
    const res = await call<hr.HrPartner>(h.base, 'GET', hr.HrPaths.hrPartner(p.id));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: p.id, name: p.name, email: p.email, timezone: 'Asia/Singapore', workingHours: p.workingHours, lead: lead() });
    const list = await call<Page<hr.HrPartner>>(h.base, 'GET', hr.HrPaths.hrPartners);
    expect(list.body.items.find((x) => x.id === p.id)).toEqual(res.body);
  });

  it('when the HR partner is unknown, then 404 problem+json', async () => {
    const res = await call<{ status: number; detail: string }>(h.base, 'GET', hr.HrPaths.hrPartner('hrp-atlantis'));
    expect(res.status).toBe(404);
    expect(res.contentType).toContain('application/problem+json');
    expect(res.body.detail).toContain('hrp-atlantis');
  });

  it('when a partner has no lead, then lead is null; seeding again (as `ems seed` does) restores it and changes nothing else', async () => {
    await h.pool.query(`UPDATE hr.hr_partners SET lead_id = NULL WHERE id = 'hrp-newyork'`);
    expect((await call<hr.HrPartner>(h.base, 'GET', hr.HrPaths.hrPartner('hrp-newyork'))).body.lead).toBeNull();
    const before = await call<Page<hr.HrPartner>>(h.base, 'GET', hr.HrPaths.hrPartners);

    await h.service.seed!(h.org);
    await h.service.seed!(h.org);

    const after = await call<Page<hr.HrPartner>>(h.base, 'GET', hr.HrPaths.hrPartners);
    expect(after.body.items).toEqual(before.body.items.map((p) => ({ ...p, lead: lead() })));
    const counts = await h.pool.query<{ leads: number; partners: number }>('SELECT (SELECT count(*)::int FROM hr.hr_leads) AS leads, (SELECT count(*)::int FROM hr.hr_partners) AS partners');
    expect(counts.rows[0]).toEqual({ leads: 1, partners: h.org.hrPartners.length });
  });
});

describe('API description', () => {
  it('when the OpenAPI document is requested, then every HR route is described with its contract schemas', async () => {
    // A public route: no credentials needed to read the API description.
    const res = await request<{ paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, unknown> } }>(h.base, 'GET', '/openapi.json');
    expect(res.status).toBe(200);
    for (const path of ['/api/employees', '/api/employees/{id}', '/api/hr-partners', '/api/interviews', '/api/interviews/{id}', '/api/interviews/{id}/reschedule', '/api/interviews/{id}/cancel', '/api/interviews/{id}/held', '/api/hr-partners/{id}']) {
      expect(Object.keys(res.body.paths), path).toContain(path);
    }
    expect(Object.keys(res.body.components.schemas)).toEqual(expect.arrayContaining(['Interview', 'ScheduleInterviewRequest', 'Employee', 'HrPartner', 'MarkInterviewHeldRequest']));
  });
});

describe('seeding', () => {
  it('when the demo organisation is seeded again (twice at once), then nothing is duplicated or lost', async () => {
    const counts = async () =>
      (
        await h.pool.query<{ partners: number; busy: number; departments: number; employees: number }>(
          `SELECT (SELECT count(*) FROM hr.hr_partners)::int AS partners, (SELECT count(*) FROM hr.recurring_busy)::int AS busy,
                  (SELECT count(*) FROM hr.departments)::int AS departments, (SELECT count(*) FROM hr.employees)::int AS employees`,
        )
      ).rows[0];
    const before = await counts();
    expect(before).toEqual({
      partners: h.org.hrPartners.length,
      busy: h.org.hrPartners.reduce((n, p) => n + p.busy.length, 0),
      departments: h.org.departments.length,
      employees: h.org.employees.length,
    });
    await Promise.all([h.service.seed!(h.org), h.service.seed!(h.org)]);
    expect(await counts()).toEqual(before);
  });

  it('when the organisation names a time zone that does not exist, then seeding refuses it and changes nothing', async () => {
    const broken = { ...h.org, employees: h.org.employees.map((e, i) => (i === 3 ? { ...e, timezone: 'Mars/Olympus_Mons', name: 'Changed' } : e)) };
    await expect(h.service.seed!(broken)).rejects.toThrow(/Mars\/Olympus_Mons/);
    const row = await h.pool.query<{ name: string }>('SELECT name FROM hr.employees WHERE id = $1', [h.org.employees[3]!.id]);
    expect(row.rows[0]!.name).toBe(h.org.employees[3]!.name);
  });

  it('when the migrations run again, then nothing is applied twice', async () => {
    const { migrate } = await import('@ems/platform');
    expect(await migrate(h.pool, h.service.schema, h.service.migrations)).toEqual([]);
  });
});

describe('upgrading a database seeded before partners had leads', () => {
  it('when the migration runs on it, then every partner escalates to the one HR lead it already had', async () => {
    const db = await createTestDatabase(inject('testServerUrl'), 'hrleadmig');
    const pool = createPool(db.url, { max: 2 });
    try {
      await migrate(pool, HR_SCHEMA, migrations.filter((m) => m.version <= 3));
      await pool.query(`INSERT INTO hr.hr_leads (id, name, email) VALUES ('hr-lead', 'Renata Okafor', 'renata@acme.example')`);
      await pool.query(`INSERT INTO hr.hr_partners (id, name, email, timezone, work_days, work_start, work_end) VALUES ('hrp-x', 'X', 'x@acme.example', 'Europe/Berlin', '{1,2,3,4,5}', '09:00', '17:00')`);

      await migrate(pool, HR_SCHEMA, migrations);

      expect((await pool.query('SELECT id, lead_id FROM hr.hr_partners')).rows).toEqual([{ id: 'hrp-x', lead_id: 'hr-lead' }]);
    } finally {
      await pool.end();
      await db.drop();
    }
  });
});
