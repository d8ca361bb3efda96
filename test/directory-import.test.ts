/**
 * An organisation loads its own people: the CSV import through a running EMS (in-process, real PostgreSQL,
 * real HTTP, real tokens), in both modes — who may import, what HR's copy of the directory shows afterwards,
 * and `ems import` from the command line.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoOrg, type Employee } from '@ems/demo-org';
import { IdentityPaths } from '@ems/contracts/paths';
import type { DirectoryImportProblem, DirectoryImportReport } from '@ems/contracts/identity';
import { waitFor } from '@ems/platform/testing';
import { startAcceptanceEms, type AcceptanceEnv } from './acceptance/harness.ts';
import { HR_LEAD, OPERATOR, http, tokenFor } from './support/auth.ts';
import { EMS_BIN } from './support/ems-process.ts';

const execFileAsync = promisify(execFile);
const org = demoOrg();
const departmentName = new Map(org.departments.map((d) => [d.id, d.name]));
const HEADER = 'id,name,email,title,manager_id,hr_partner_id,department,location,timezone,working_days,work_start,work_end';
const rowOf = (e: Employee, over: Partial<Record<'title' | 'managerId' | 'hrPartnerId', string>> = {}) =>
  [e.id, e.name, e.email, over.title ?? e.title, over.managerId ?? e.managerId ?? '', over.hrPartnerId ?? e.hrPartnerId, departmentName.get(e.departmentId)!, e.location, e.timezone, 'Mon-Fri', e.workingHours.start, e.workingHours.end]
    .map((v) => (/[",]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v))
    .join(',');
const berlin = org.hrPartners.find((p) => p.id === 'hrp-berlin')!;
const partnerRow = (name: string) => `${berlin.id},${name},${berlin.email},HR Partner,,,,,${berlin.timezone},Mon-Fri,${berlin.workingHours.start},${berlin.workingHours.end}`;

const postCsv = async <T,>(base: string, who: string, csv: string, query = '') =>
  http<T>(base, 'POST', `${IdentityPaths.directoryImports}${query}`, csv, { authorization: `Bearer ${await tokenFor(base, who)}`, 'content-type': 'text/csv' });

interface HrEmployee {
  manager: { id: string } | null;
  title: string;
  department: { name: string };
  hrPartner: { id: string; name: string };
}

describe.each(['orchestration', 'choreography'] as const)('the directory import (%s)', (mode) => {
  let env: AcceptanceEnv;
  beforeAll(async () => {
    env = await startAcceptanceEms(mode, `dirimport${mode.slice(0, 5)}`);
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('when an employee posts a file, then it is refused (403) and nothing changes; the HR lead may (201), the operator may ask a dry run (200)', async () => {
    const someone = org.employees.find((e) => e.managerId && !org.roleAssignments.some((a) => a.personId === e.id))!;
    const file = `${HEADER}\r\n${rowOf(someone, { title: 'Refused Title' })}\r\n`;
    const refused = await postCsv(env.base, someone.id, file);
    expect(refused.status).toBe(403);
    const dry = await postCsv<DirectoryImportReport>(env.base, OPERATOR, file, '?dryRun=true');
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, updated: [{ id: someone.id, changes: [{ column: 'title', from: someone.title, to: 'Refused Title' }] }] });
    const unchanged = await http<HrEmployee>(env.base, 'GET', `/api/employees/${someone.id}`);
    expect(unchanged.body.title).toBe(someone.title);
    const applied = await postCsv<DirectoryImportReport>(env.base, HR_LEAD, `${HEADER}\r\n${rowOf(someone)}\r\n`);
    expect(applied.status).toBe(201);
    expect(applied.body).toMatchObject({ dryRun: false, created: [], updated: [], unchanged: [someone.id] });
  });

  it("when a file is refused, then the answer is problem+json listing every error by row and column, and HR's copy is untouched", async () => {
    const [a, b] = org.employees.filter((e) => e.managerId).slice(3, 5) as [Employee, Employee];
    const bad = `${HEADER}\r\n${rowOf(a, { title: 'Never Seen' })}\r\n${rowOf(b, { managerId: 'NOBODY' }).replace(b.timezone, 'Mars/Base')}\r\n`;
    const r = await postCsv<DirectoryImportProblem>(env.base, HR_LEAD, bad);
    expect(r.status).toBe(422);
    expect(r.contentType).toContain('application/problem+json');
    expect(r.body.errors).toEqual([{ row: 3, column: 'timezone', message: expect.stringContaining('Mars/Base') as string }]);
    expect((await http<HrEmployee>(env.base, 'GET', `/api/employees/${a.id}`)).body.title).toBe(a.title);
  });

  it("when the HR lead imports a changed manager, a new person in a new department and an HR partner's new name, then HR's directory shows them, and the partner's calendar stays", async () => {
    const employee = org.employees.filter((e) => e.managerId)[10]!;
    const newManager = org.employees.find((e) => e.id !== employee.managerId && e.id !== employee.id && e.managerId === null)!;
    const newcomer = `N-${mode}-1,Nia Newcomer,nia.${mode}@acme.example,Researcher,${newManager.id},hrp-berlin,Research ${mode},Berlin,Europe/Berlin,Mon-Thu,09:00,17:00`;
    const busyBefore = (await env.ems.pool.query(`SELECT count(*)::int AS n FROM hr.recurring_busy WHERE hr_partner_id = 'hrp-berlin'`)).rows[0] as { n: number };
    expect(busyBefore.n).toBeGreaterThan(0);

    const r = await postCsv<DirectoryImportReport>(env.base, HR_LEAD, `${HEADER}\r\n${newcomer}\r\n${rowOf(employee, { managerId: newManager.id })}\r\n${partnerRow('Helga Richter-Berg')}\r\n`);
    expect(r.status).toBe(201);
    expect(r.body.created.map((c) => c.id)).toEqual([`N-${mode}-1`]);
    expect(r.body.updated.map((u) => [u.id, u.changes.map((c) => c.column)])).toEqual([
      [employee.id, ['manager_id']],
      ['hrp-berlin', ['name']],
    ]);

    const moved = await waitFor(async () => {
      const e = await http<HrEmployee>(env.base, 'GET', `/api/employees/${employee.id}`);
      return e.body.manager?.id === newManager.id && e.body.hrPartner.name === 'Helga Richter-Berg' ? e.body : undefined;
    }, "HR's copy showing the new manager and the HR partner's new name");
    expect(moved.hrPartner.id).toBe('hrp-berlin');
    const nia = await waitFor(async () => {
      const e = await http<HrEmployee & { workingHours: { days: number[] } }>(env.base, 'GET', `/api/employees/N-${mode}-1`);
      return e.status === 200 ? e.body : undefined;
    }, 'the newcomer in HR');
    expect(nia).toMatchObject({ department: { name: `Research ${mode}` }, manager: { id: newManager.id }, hrPartner: { id: 'hrp-berlin' }, workingHours: { days: [1, 2, 3, 4] } });
    const busyAfter = (await env.ems.pool.query(`SELECT count(*)::int AS n FROM hr.recurring_busy WHERE hr_partner_id = 'hrp-berlin'`)).rows[0] as { n: number };
    expect(busyAfter.n).toBe(busyBefore.n);

    // Imported again: nothing changes, nothing is published (the snapshot versions HR holds stay).
    const versions = async () => (await env.ems.pool.query(`SELECT id, version FROM hr.directory_people ORDER BY id`)).rows as unknown[];
    const held = await versions();
    const again = await postCsv<DirectoryImportReport>(env.base, HR_LEAD, `${HEADER}\r\n${newcomer}\r\n${rowOf(employee, { managerId: newManager.id })}\r\n${partnerRow('Helga Richter-Berg')}\r\n`);
    expect(again.body).toMatchObject({ created: [], updated: [], unchanged: [employee.id, 'hrp-berlin', `N-${mode}-1`].sort() });
    const published = (await env.ems.pool.query(`SELECT count(*)::int AS n FROM identity.people WHERE version > 1`)).rows[0] as { n: number };
    expect(published.n).toBe(2);
    expect(await versions()).toEqual(held);
  });

  if (mode === 'orchestration') {
    it('when the API document is read, then the import takes a text/csv body and names its refusal', async () => {
      const doc = await http<{ paths: Record<string, Record<string, { requestBody: { content: Record<string, unknown> }; responses: Record<string, unknown> }>> }>(env.base, 'GET', '/openapi.json');
      const op = doc.body.paths[IdentityPaths.directoryImports]!.post!;
      expect(Object.keys(op.requestBody.content)).toEqual(['text/csv']);
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '201', '422']));
    });

    describe('ems import', () => {
      let dir: string;
      beforeAll(async () => {
        dir = await mkdtemp(path.join(tmpdir(), 'ems-import-'));
      });
      afterAll(async () => {
        await rm(dir, { recursive: true, force: true });
      });
      const cli = async (who: string, ...args: string[]) =>
        execFileAsync(process.execPath, [EMS_BIN, 'import', ...args], { env: { ...process.env, EMS_URL: env.base, EMS_TOKEN: await tokenFor(env.base, who) }, timeout: 60_000 }).then(
          (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
          (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, out: err.stdout, err: err.stderr }),
        );

      it('when the HR lead imports a file from the command line, then a dry run says what would change, the import applies it, and a bad file is refused row by row', async () => {
        const employee = org.employees.filter((e) => e.managerId)[20]!;
        const good = path.join(dir, 'people.csv');
        // A spreadsheet's export: a byte-order mark, CRLF, a quoted field.
        await writeFile(good, `\uFEFF${HEADER}\r\n${rowOf(employee, { title: 'Principal, Platform' })}\r\nN-cli-1,Cleo Cli,cleo@acme.example,,,hrp-berlin,,,UTC,1-5,09:00,17:00\r\n`);

        const dry = await cli(HR_LEAD, good, '--dry-run');
        expect(dry.code, dry.err).toBe(0);
        expect(dry.out).toContain('nothing was changed');
        expect(dry.out).toMatch(new RegExp(`${employee.id} .*title "${employee.title}" → "Principal, Platform"`));
        expect((await http<HrEmployee>(env.base, 'GET', `/api/employees/${employee.id}`)).body.title).toBe(employee.title);

        const done = await cli(HR_LEAD, good);
        expect(done.code, done.err).toBe(0);
        expect(done.out).toMatch(/created\s+1\s+N-cli-1 Cleo Cli/);
        await waitFor(async () => ((await http<HrEmployee>(env.base, 'GET', `/api/employees/${employee.id}`)).body.title === 'Principal, Platform' ? true : undefined), 'the new title in HR');

        const bad = path.join(dir, 'bad.csv');
        await writeFile(bad, `${HEADER},salary\r\n${rowOf(employee)},100\r\n`);
        const refused = await cli(HR_LEAD, bad);
        expect(refused.code).toBe(1);
        expect(refused.err).toContain('nothing was imported');
        expect(refused.err).toContain('row 1, salary: unknown column');

        const employeeTries = await cli(employee.id, good);
        expect(employeeTries.code).toBe(1);
        expect(employeeTries.err).toMatch(/^403/);
      });
    });
  }
});
