/**
 * `npm run docs:screenshots`: the README's pictures of the web app. Starts a real EMS (orchestration) on a
 * PostgreSQL of its own (EMS_TEST_DATABASE_URL when set, else an embedded one in a temporary directory),
 * makes a few cases as the demo people would, signs each role in through the built-in provider in Debian's
 * chromium, and saves each role's main page at 1280 px into docs/screenshots/ (PNG, kept small).
 */
import { randomUUID } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { demoOrg, type Employee } from '@ems/demo-org';
import { waitFor } from '@ems/platform/testing';
import { AppPaths } from '@ems/contracts/app-paths';
import { pageSettled, scriptServer, startBrowserEms, type BrowserEms } from '../test/browser/browser-ems.ts';
import { ACCESS_ADMIN, HR_LEAD, http, OPERATOR } from '../test/support/auth.ts';

const OUT = path.resolve(import.meta.dirname, '../docs/screenshots');
const MAX_BYTES = 200 * 1024;
const DAY = 86_400_000;

const org = demoOrg();
const admins = new Set(org.roleAssignments.map((a) => a.personId));
const critical = new Set(org.systems.filter((s) => s.critical).map((s) => s.id));
/** Employees who report to the same manager, have critical access and no administrative role. */
const team = (() => {
  const candidates = org.employees.filter((e) => e.managerId && !admins.has(e.id) && !org.employees.some((x) => x.managerId === e.id) && org.grants.some((g) => g.employeeId === e.id && critical.has(g.systemId)));
  const managerId = candidates[0]!.managerId!;
  return candidates.filter((e) => e.managerId === managerId);
})();
const [FIRST, SECOND, THIRD, FOURTH] = team as [Employee, Employee, Employee, Employee];
if (!FOURTH) throw new Error('the demo organisation has no team of four to picture');
const MANAGER = FIRST.managerId!;

interface CaseBody {
  id: string;
  status: string;
}

async function main(): Promise<void> {
  const server = await scriptServer('screenshots');
  let web: BrowserEms | undefined;
  try {
    const serverUrl = server.url;
    web = await startBrowserEms({ mode: 'orchestration', name: 'screenshots', serverUrl });
    const base = web.base;
    const ids = await makeCases(base);

    await mkdir(OUT, { recursive: true });
    const shots: Array<{ file: string; person: string; path: string; then?: (page: Page) => Promise<void> }> = [
      { file: 'employee-case.png', person: FIRST.id, path: AppPaths.case(ids.first) },
      { file: 'manager-team.png', person: MANAGER, path: AppPaths.team },
      { file: 'hr-inbox.png', person: FIRST.hrPartnerId, path: AppPaths.inbox },
      { file: 'hr-lead-reports.png', person: HR_LEAD, path: AppPaths.reports },
      { file: 'it-access.png', person: ACCESS_ADMIN, path: AppPaths.access },
      { file: 'operator-operations.png', person: OPERATOR, path: AppPaths.operations },
      // The operator's mailbox: every message captured, with its recipients.
      { file: 'mailbox.png', person: OPERATOR, path: AppPaths.mailbox },
      // Import people: HR's export chosen, its dry run shown (nothing applied).
      { file: 'directory-import.png', person: HR_LEAD, path: AppPaths.directoryImport, then: dryRunOfAnExport },
    ];
    for (const shot of shots) {
      const page = await web.signIn(shot.person, { path: shot.path });
      await shot.then?.(page);
      await save(page, shot.file);
      await page.close();
    }
    // Last, so no other picture shows its cases: a mass exit of six people, settled, on its progress page.
    const batch = await massExit(base);
    const progress = await web.signIn(HR_LEAD, { path: AppPaths.exitBatch(batch) });
    await progress.getByRole('status').filter({ hasText: /^Settled / }).waitFor({ timeout: 60_000 });
    await save(progress, 'hr-lead-mass-exit.png');
    await progress.close();
  } finally {
    await web?.stop();
    await server.stop();
  }
}

/**
 * Four cases of one team: one awaiting the decision, one exit confirmed (a revocation scheduled), one retained,
 * and one leaving today — no time left for an interview, so it needs attention (the operator's stuck cases).
 */
async function makeCases(base: string): Promise<{ first: string; second: string; third: string }> {
  const resign = async (e: Employee, reason: string): Promise<string> => {
    const res = await http<CaseBody>(base, 'POST', '/api/resignations', { employeeId: e.id, reason });
    if (res.status !== 201) throw new Error(`resigning ${e.id}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.id;
  };
  const awaiting = (id: string) =>
    waitFor(async () => ((await http<CaseBody>(base, 'GET', `/api/resignations/${id}`)).body.status === 'awaiting_decision' ? true : undefined), `case ${id} awaiting the decision`, 60_000, 200);
  const first = await resign(FIRST, 'A role closer to home');
  const second = await resign(SECOND, 'Moving abroad');
  const third = await resign(THIRD, 'Career change');
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: FOURTH.timezone }).format(new Date());
  // Today when it is a working day of theirs (on a weekend the next one: the case may then find a slot).
  await http(base, 'POST', '/api/resignations', { employeeId: FOURTH.id, reason: 'Family reasons', lastWorkingDay: workingDayFrom(FOURTH, today) });
  await Promise.all([awaiting(first), awaiting(second), awaiting(third)]);
  const lastDay = workingDayFrom(SECOND, new Date(Date.now() + 21 * DAY).toISOString().slice(0, 10));
  const decide = async (id: string, body: Record<string, unknown>) => {
    const res = await http(base, 'POST', `/api/resignations/${id}/decision`, body);
    if (res.status !== 200) throw new Error(`deciding ${id}: ${res.status} ${JSON.stringify(res.body)}`);
  };
  await decide(second, { decision: 'exit_confirmed', lastWorkingDay: lastDay });
  await decide(third, { decision: 'retained', note: 'Moves to the platform team' });
  // The mailbox and the access page show what followed: wait for the scheduled revocation.
  await waitFor(async () => ((await http<{ items: unknown[] }>(base, 'GET', `/api/access-revocations?resignationId=${second}`)).body.items.length ? true : undefined), 'the revocation scheduled', 60_000, 200);
  return { first, second, third };
}

/** Ends the employment of six people outside the pictured team (redundancy, revoked at the end of their day) and waits until the batch settles. */
async function massExit(base: string): Promise<string> {
  const inTeam = new Set(team.map((e) => e.id));
  const people = org.employees.filter((e) => e.managerId && !admins.has(e.id) && !inTeam.has(e.id) && !org.employees.some((x) => x.managerId === e.id)).slice(0, 6);
  const res = await http<{ id: string }>(base, 'POST', '/api/exits', { employees: people.map((e) => ({ employeeId: e.id })), reason: 'redundancy', note: 'Site closure' }, { 'idempotency-key': randomUUID() });
  if (res.status !== 202) throw new Error(`starting a mass exit: ${res.status} ${JSON.stringify(res.body)}`);
  await waitFor(async () => ((await http<{ settled: boolean }>(base, 'GET', `/api/exits/${res.body.id}`)).body.settled ? true : undefined), 'the mass exit settled', 60_000, 200);
  return res.body.id;
}

/** Chooses a small HR export on the Import people page (a newcomer, a teammate with a new title) and waits for its dry run. */
async function dryRunOfAnExport(page: Page): Promise<void> {
  const department = new Map(org.departments.map((d) => [d.id, d.name]));
  const field = (v: string) => (/[",]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const row = (e: Employee, title: string) =>
    [e.id, e.name, e.email, title, e.managerId ?? '', e.hrPartnerId, department.get(e.departmentId) ?? '', e.location, e.timezone, e.workingHours.days.join(','), e.workingHours.start, e.workingHours.end].map(field).join(',');
  const newcomer: Employee = { ...FIRST, id: 'E9001', name: 'Nora Newcomer', email: 'nora.newcomer@acme.example' };
  const csv = ['id,name,email,title,manager_id,hr_partner_id,department,location,timezone,working_days,work_start,work_end', row(newcomer, 'Researcher'), row(SECOND, `Senior ${SECOND.title}`)].join('\r\n');
  await page.getByLabel('CSV file').setInputFiles({ name: 'hr-export.csv', mimeType: 'text/csv', buffer: Buffer.from(`${csv}\r\n`) });
  await page.getByRole('heading', { level: 2, name: 'What the file would change' }).waitFor();
}

function workingDayFrom(e: Employee, date: string): string {
  let day = date;
  while (!e.workingHours.days.includes(((new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7) + 1)) day = new Date(Date.parse(`${day}T00:00:00Z`) + DAY).toISOString().slice(0, 10);
  return day;
}

/** The page at 1280 px, at most 1600 px tall, as a PNG under MAX_BYTES (shorter if it would be larger). */
async function save(page: Page, file: string): Promise<void> {
  await pageSettled(page);
  // No caret or focus ring caught mid-blink; the same picture every run.
  await page.addStyleTag({ content: '*{caret-color:transparent!important;animation:none!important;transition:none!important}' });
  await page.evaluate('document.activeElement instanceof HTMLElement && document.activeElement.blur()');
  const full = await page.evaluate<number>('document.documentElement.scrollHeight');
  const target = path.join(OUT, file);
  for (let height = Math.min(full, 1600); ; height = Math.round(height * 0.8)) {
    await page.screenshot({ path: target, clip: { x: 0, y: 0, width: 1280, height }, fullPage: true });
    const size = (await stat(target)).size;
    if (size <= MAX_BYTES || height < 500) {
      console.log(`${path.relative(process.cwd(), target)}: 1280×${height}, ${Math.round(size / 1024)} KB`);
      return;
    }
  }
}

await main();
