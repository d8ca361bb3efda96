/**
 * The HR partner's and the HR lead's pages in a real browser against a real EMS (orchestration; the pages
 * only call the public API, the same in both modes — the journeys test runs both): the inbox, an interview
 * moved, refused, held and cancelled, the decision panel refusing a day off by its field and then confirming
 * the exit, the employee's own view of their interview, and the HR lead's escalations and exit report.
 * Every page is checked with axe at 1280 px and at 375 px, where it must not scroll sideways.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { demoOrg, type Employee } from '@ems/demo-org';
import { adjustableClock, type AdjustableClock } from '@ems/platform';
import { expectAccessible, HR_LEAD, http, scrollsSideways, startBrowserEms, useViewport, waitFor, type BrowserEms } from './harness.ts';

const org = demoOrg();
const DAY = 86_400_000;
const admins = new Set(org.roleAssignments.map((a) => a.personId));
const critical = new Set(org.systems.filter((s) => s.critical).map((s) => s.id));
/** Employees of the Berlin HR partner with critical access and no administrative role: one in Berlin, one in London. */
const candidates = org.employees.filter((e) => e.managerId && e.hrPartnerId === 'hrp-berlin' && !admins.has(e.id) && org.grants.some((g) => g.employeeId === e.id && critical.has(g.systemId)));
const BERLIN = candidates.find((e) => e.timezone === 'Europe/Berlin')!;
const LONDON = candidates.find((e) => e.timezone === 'Europe/London')!;
const PARTNER = org.hrPartners.find((p) => p.id === 'hrp-berlin')!;
const criticalSystemsOf = (e: Employee) => org.grants.filter((g) => g.employeeId === e.id && critical.has(g.systemId)).map((g) => org.systems.find((s) => s.id === g.systemId)!.name);

interface Interview {
  id: string;
  start: string;
  status: string;
  notes: string | null;
}

const isoWeekday = (day: string) => ((new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7) + 1;
const plusDays = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY).toISOString().slice(0, 10);
/** The first Saturday on or after a day. */
const saturdayFrom = (day: string) => plusDays(day, (6 - isoWeekday(day) + 7) % 7);

/** Waits for `locator`; pages update live, and should the stream miss an update the person would reload: so does this. */
async function see(page: Page, locator: Locator, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await locator.first().waitFor({ timeout: 1_000 });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await page.reload();
    }
  }
}

/** axe at 1280 px, then at 375 px with no sideways scrolling of the page, then back. */
async function accessibleAtBothSizes(page: Page, what: string): Promise<void> {
  await expectAccessible(page, what);
  await useViewport(page, 'phone');
  expect(await scrollsSideways(page), `${what} scrolls sideways at 375 px`).toBe(false);
  await expectAccessible(page, what);
  await useViewport(page, 'desktop');
}

describe('the HR pages in a real browser', () => {
  let web: BrowserEms;
  let clock: AdjustableClock;
  const api = <T = Record<string, unknown>>(method: string, path: string, body?: unknown) => http<T>(web.base, method, path, body);
  const interviewOf = async (caseId: string) => (await api<{ items: Interview[] }>('GET', `/api/interviews?resignationId=${caseId}`)).body.items[0]!;
  const cases: Record<string, string> = {};

  beforeAll(async () => {
    clock = adjustableClock(undefined, 500);
    web = await startBrowserEms({ mode: 'orchestration', name: 'hr_pages', clock, env: { EMS_SESSION_IDLE: '30d', EMS_SESSION_MAX: '30d' } });
    // Two employees of the Berlin HR partner resign (as they would, themselves); their cases await a decision.
    for (const e of [BERLIN, LONDON]) {
      const res = await api<{ id: string }>('POST', '/api/resignations', { employeeId: e.id, reason: 'A new role', reasonCategory: 'career' });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      cases[e.id] = res.body.id;
    }
    for (const id of Object.values(cases)) await waitFor(async () => ((await api<{ status: string }>('GET', `/api/resignations/${id}`)).body.status === 'awaiting_decision' ? true : undefined), 'the case awaiting a decision', 30_000);
  }, 180_000);
  afterAll(async () => {
    await web?.stop();
  });

  it('when the HR partner works through the inbox, then an interview is moved (a busy start refused by its field), held only once started, and another cancelled', { timeout: 180_000 }, async () => {
    const hr = await web.signIn(PARTNER.id);
    await hr.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Inbox' }).click();
    await hr.getByRole('heading', { level: 1, name: 'Inbox' }).waitFor();

    // Both interviews are in "Interviews to hold" (booked from the next business day: this week or next), each in the employee's zone too.
    const interviews = hr.getByRole('region', { name: 'Interviews to hold' });
    // (A refused load — this machine's shared PostgreSQL at its connection limit answers 500 — is what a person reloads.)
    for (const e of [BERLIN, LONDON]) await see(hr, interviews.getByRole('link', { name: e.name, exact: true }));
    const londonRow = interviews.getByRole('row').filter({ has: hr.getByRole('link', { name: LONDON.name, exact: true }) });
    expect(await londonRow.innerText()).toContain('(London)');
    // Both cases await the partner's decision.
    const toDecide = hr.getByRole('table', { name: /Cases awaiting a decision/ });
    for (const e of [BERLIN, LONDON]) expect(await toDecide.getByRole('row').filter({ hasText: e.name }).innerText()).toContain('Awaiting decision');
    await accessibleAtBothSizes(hr, 'the inbox');

    // The Berlin employee's interview: a Saturday start is refused, the server's reason by the field, the typed value kept.
    await interviews.getByRole('link', { name: BERLIN.name, exact: true }).click();
    await hr.getByRole('heading', { level: 1, name: `Exit interview with ${BERLIN.name}` }).waitFor();
    const before = await interviewOf(cases[BERLIN.id]!);
    const saturday = `${saturdayFrom(before.start.slice(0, 10))}T10:00`;
    const start = hr.getByLabel(/^New start/);
    await start.fill(saturday);
    await hr.getByRole('button', { name: 'Move to this time' }).click();
    await hr.getByText(/is not a free slot: Saturday is not a working day/).waitFor();
    expect(await start.getAttribute('aria-invalid')).toBe('true');
    expect(await start.inputValue()).toBe(saturday);
    expect((await interviewOf(cases[BERLIN.id]!)).start).toBe(before.start);
    await accessibleAtBothSizes(hr, 'the interview page, a start refused');

    // The next free slot instead: moved, and said so.
    await hr.getByRole('button', { name: 'Move to the next free slot' }).click();
    await hr.getByText(/^Moved to .*Both were sent an updated invitation\.$/).waitFor();
    const moved = await interviewOf(cases[BERLIN.id]!);
    expect(moved.start > before.start).toBe(true);

    // Held before it starts: refused, the notes still there to send again.
    const notes = 'Would stay for a move to the platform team.';
    await hr.getByLabel('Notes of the conversation').fill(notes);
    await hr.getByRole('button', { name: 'Mark held' }).click();
    await hr.getByText(/it cannot be held before it starts/).waitFor();
    expect(await hr.getByLabel('Notes of the conversation').inputValue()).toBe(notes);
    expect((await interviewOf(cases[BERLIN.id]!)).status).toBe('scheduled');

    // EMS's clock moves just past the start: now it is held, with the notes, and nothing is left to do on it.
    clock.set(new Date(Date.parse(moved.start) + 60_000));
    await hr.getByRole('button', { name: 'Mark held' }).click();
    await hr.getByText('Marked held.').waitFor();
    // The page has read the interview again: its status and the notes as recorded.
    await hr.getByRole('definition').getByText('Held', { exact: true }).waitFor();
    await hr.getByRole('definition').getByText(notes).waitFor();
    expect(await hr.getByRole('heading', { name: 'Move the interview' }).count()).toBe(0);
    expect(await hr.getByRole('button', { name: 'Mark held' }).count()).toBe(0);
    expect(await interviewOf(cases[BERLIN.id]!)).toMatchObject({ status: 'held', notes });

    // The London employee's interview is cancelled, with a reason, after a confirmation.
    await hr.goto(web.url(`/interviews/${(await interviewOf(cases[LONDON.id]!)).id}`));
    await hr.getByRole('heading', { level: 1, name: `Exit interview with ${LONDON.name}` }).waitFor();
    await hr.getByLabel('Reason (optional)').fill('Grace is on leave until her last day');
    await hr.getByRole('button', { name: 'Cancel the interview…' }).click();
    await hr.getByRole('button', { name: 'Yes, cancel the interview' }).click();
    await hr.getByText('Cancelled. Both were sent a cancellation.').waitFor();
    expect((await interviewOf(cases[LONDON.id]!)).status).toBe('cancelled');

    // The employee sees their own interview, held — but not HR's notes, and nothing to change.
    const employee = await web.signIn(BERLIN.id, { path: `/interviews/${moved.id}` });
    await employee.getByRole('heading', { level: 1, name: 'Your exit interview' }).waitFor();
    await employee.getByText('Held', { exact: true }).waitFor();
    expect(await employee.getByText(notes).count()).toBe(0);
    expect(await employee.getByRole('button').filter({ hasText: /Mark held|Move|Cancel/ }).count()).toBe(0);
    await accessibleAtBothSizes(employee, "the employee's interview page");
  });

  it('when the HR partner confirms an exit on a day off, then the refusal is by the date field with nothing lost; on a working day the exit is confirmed, and the day can be moved after', { timeout: 180_000 }, async () => {
    const hr = await web.signIn(PARTNER.id, { path: `/cases/${cases[BERLIN.id]}` });
    await hr.getByRole('heading', { level: 1, name: `${BERLIN.name}'s resignation` }).waitFor();

    // Beside the decision: the employee's access, with exactly the critical grants this case's hold suspended.
    const access = hr.getByRole('table', { name: `${BERLIN.name}’s access` });
    for (const system of criticalSystemsOf(BERLIN)) expect(await access.getByRole('row').filter({ hasText: system }).innerText()).toMatch(/suspended\s+Yes/i);
    await accessibleAtBothSizes(hr, 'the case page with the decision panel');

    // A Saturday as the last working day: the server refuses it, shown by the field; the note is still there.
    const today = clock.now().toISOString().slice(0, 10);
    const saturday = saturdayFrom(plusDays(today, 7));
    const note = 'Leaving for a start-up; handover agreed.';
    await hr.getByLabel(/^Confirm the exit/).check();
    const lastDay = hr.getByLabel('Last working day', { exact: true });
    await lastDay.fill(saturday);
    await hr.getByLabel('Note (optional)').fill(note);
    await hr.getByRole('button', { name: 'Review the decision' }).click();
    await hr.getByRole('heading', { name: 'Check before sending' }).waitFor();
    await hr.getByRole('button', { name: 'Send the decision' }).click();
    await hr.getByText(/is a Saturday, not a working day/).waitFor();
    expect(await lastDay.getAttribute('aria-invalid')).toBe('true');
    expect(await lastDay.inputValue()).toBe(saturday);
    expect(await hr.getByLabel('Note (optional)').inputValue()).toBe(note);
    expect((await api<{ status: string }>('GET', `/api/resignations/${cases[BERLIN.id]}`)).body.status).toBe('awaiting_decision');

    // The Friday before: confirmed; the case page follows.
    const friday = plusDays(saturday, -1);
    await lastDay.fill(friday);
    await hr.getByRole('button', { name: 'Review the decision' }).click();
    await hr.getByText(/Confirm .* exit with the last working day/).waitFor();
    await hr.getByRole('button', { name: 'Send the decision' }).click();
    await hr.getByText(new RegExp(`Decision sent: ${BERLIN.name}’s exit is confirmed`)).waitFor();
    // The case page follows live: its status says so.
    await see(hr, hr.getByText('Exit confirmed', { exact: true }));
    const decided = (await api<{ status: string; lastWorkingDay: string; decision: { note: string | null } }>('GET', `/api/resignations/${cases[BERLIN.id]}`)).body;
    expect(decided).toMatchObject({ status: 'exit_confirmed', lastWorkingDay: friday, decision: { note } });

    // Opened again, the panel moves the last working day: to the Thursday before, revision 2.
    await hr.reload();
    await hr.getByRole('heading', { level: 2, name: 'Move the last working day' }).waitFor();
    const thursday = plusDays(friday, -1);
    await hr.getByLabel('Last working day', { exact: true }).fill(thursday);
    await hr.getByRole('button', { name: 'Review the decision' }).click();
    await hr.getByText(/Move .* exit to the last working day/).waitFor();
    await hr.getByRole('button', { name: 'Send the decision' }).click();
    await hr.getByText(new RegExp(`Decision sent: ${BERLIN.name}’s exit is confirmed, last working day`)).waitFor();
    await waitFor(async () => {
      const c = (await api<{ lastWorkingDay: string; decision: { revision: number } }>('GET', `/api/resignations/${cases[BERLIN.id]}`)).body;
      return c.lastWorkingDay === thursday && c.decision.revision === 2 ? true : undefined;
    }, 'the last working day moved');
  });

  it('when reminders go unanswered, then the HR lead sees the escalation in their inbox, which follows new cases live; the exit report shows the same numbers as the API, as charts and tables', { timeout: 180_000 }, async () => {
    // The London case has no decision: past the deadline and the escalation delay, HR reminds, then escalates.
    clock.advance(10 * DAY);
    const lead = await web.signIn(HR_LEAD, { path: '/inbox' });
    await lead.getByRole('heading', { level: 1, name: 'Inbox' }).waitFor();
    const followUps = lead.getByRole('table', { name: /Reminders and escalations/ });
    await see(lead, followUps.getByRole('row').filter({ hasText: LONDON.name }).filter({ hasText: 'Escalation' }), 60_000);
    // The lead's escalations come first.
    expect(await followUps.getByRole('row').nth(1).innerText()).toContain('Escalation');
    await accessibleAtBothSizes(lead, "the HR lead's inbox");

    // Open, the inbox follows live: a third employee resigns and their case appears once it awaits a decision — no reload.
    const third = candidates.find((e) => e !== BERLIN && e !== LONDON)!;
    const submitted = await api<{ id: string }>('POST', '/api/resignations', { employeeId: third.id });
    expect(submitted.status).toBe(201);
    await lead.getByRole('table', { name: /Cases awaiting a decision/ }).getByRole('link', { name: third.name, exact: true }).waitFor({ timeout: 30_000 });

    // The report: three charts, each an image with a summary, each followed by its numbers.
    await lead.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Reports' }).click();
    await lead.getByRole('heading', { level: 1, name: 'Reports' }).waitFor();
    await lead.getByRole('heading', { level: 2, name: 'By month' }).waitFor();
    expect(await lead.getByRole('img', { name: /^Bar chart of resignations and confirmed exits/ }).count()).toBe(3);
    const report = (await api<{ totals: { submitted: number; exits: number }; byReason: Array<{ reasonCategory: string; submitted: number; exits: number }> }>('GET', '/api/reports/exits')).body;
    expect(report.totals).toMatchObject({ submitted: 3, exits: 1 });
    const byReason = lead.getByRole('table', { name: 'By reason, in numbers' });
    expect((await byReason.getByRole('row').filter({ hasText: 'Career' }).getByRole('cell').allInnerTexts()).slice(0, 2)).toEqual(['2', '1']);
    expect((await byReason.getByRole('row').filter({ hasText: 'No category given' }).getByRole('cell').allInnerTexts()).slice(0, 2)).toEqual(['1', '0']);
    expect((await byReason.getByRole('row').filter({ hasText: 'Relocation' }).getByRole('cell').allInnerTexts()).slice(0, 2)).toEqual(['0', '0']);
    await lead.getByText(/3\s+resigned/).waitFor();
    await accessibleAtBothSizes(lead, 'the reports page');

    // A period that ends before anyone resigned: zero everywhere, said in words.
    await lead.getByLabel('From', { exact: true }).fill('2020-01-01');
    await lead.getByLabel('To', { exact: true }).fill('2020-03-31');
    await lead.getByRole('button', { name: 'Show' }).click();
    await lead.getByRole('heading', { level: 2, name: /1 Jan 2020 to .*31 Mar 2020/ }).waitFor();
    await lead.getByText('Nobody resigned in this period.').waitFor();
    expect(lead.url()).toContain('from=2020-01-01');
  });

  it('when the HR lead exits someone involuntarily, then their case page says so: every grant suspended, employee and manager told — no interview, no decision to take, nothing to withdraw', { timeout: 180_000 }, async () => {
    const person = candidates.filter((e) => e !== BERLIN && e !== LONDON)[1]!;
    const revokeAt = new Date(clock.now().getTime() + 30 * DAY).toISOString();
    const started = await http<{ id: string }>(web.base, 'POST', '/api/exits', { employees: [{ employeeId: person.id }], reason: 'redundancy', revokeAt }, { 'idempotency-key': randomUUID() });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const caseId = await waitFor(async () => {
      const batch = (await api<{ settled: boolean; cases: { items: Array<{ resignationId: string }> } }>('GET', `/api/exits/${started.body.id}`)).body;
      return batch.settled ? batch.cases.items[0]!.resignationId : undefined;
    }, 'the exit to settle', 60_000);

    const lead = await web.signIn(HR_LEAD, { path: `/cases/${caseId}` });
    await lead.getByRole('heading', { level: 1, name: `${person.name}'s exit` }).waitFor();
    await lead.getByText(/Involuntary exit, started by HR/).waitFor();
    await see(lead, lead.getByText(new RegExp(`HR started this exit\\. Every grant of ${person.name}'s access is suspended and is revoked at`)));
    await lead.getByRole('heading', { level: 3, name: /^Suspend all access/ }).waitFor();
    await lead.getByRole('heading', { level: 3, name: /^Tell the employee and the manager/ }).waitFor();
    await lead.getByText(`${person.name} and the manager were told by email.`).waitFor();
    // What a resignation has and an involuntary exit does not: the interview, the decision, the withdrawal.
    expect(await lead.getByRole('heading', { name: /exit interview/i }).count()).toBe(0);
    expect(await lead.getByRole('heading', { level: 2, name: 'Decision' }).count()).toBe(0);
    expect(await lead.getByRole('button', { name: /Withdraw/ }).count()).toBe(0);
    expect(await lead.getByText(/critical access/).count()).toBe(0);
    await accessibleAtBothSizes(lead, "an involuntary exit's case page");
  });
});
