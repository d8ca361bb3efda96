/**
 * The journeys, end to end in a real browser against a real EMS, in both modes — each step done by
 * clicking as the person whose step it is (their own browser context, signed in through the built-in
 * provider): an employee resigns, the HR partner holds the interview and retains them, IT sees their access
 * back, the emails are in the mailboxes; an exit confirmed with a last day shows IT the scheduled revocation
 * in the employee's zone; the operator replays a dead letter and the case moves on; each role is refused
 * what is not theirs, by the page and by the API behind it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { demoOrg, type Employee } from '@ems/demo-org';
import { adjustableClock, type AdjustableClock } from '@ems/platform';
import { ACCESS_ADMIN, expectAccessible, HR_LEAD, http, OPERATOR, startBrowserEms, waitFor, type BrowserEms } from './harness.ts';

const org = demoOrg();
const DAY = 86_400_000;
const admins = new Set(org.roleAssignments.map((a) => a.personId));
const critical = new Set(org.systems.filter((s) => s.critical).map((s) => s.id));
/** Employees of the Berlin HR partner's region (they share working hours), with critical access, no reports, no administrative role. */
const PEOPLE = org.employees.filter(
  (e) => e.managerId && e.hrPartnerId === 'hrp-berlin' && !admins.has(e.id) && !org.employees.some((x) => x.managerId === e.id) && org.grants.some((g) => g.employeeId === e.id && critical.has(g.systemId)),
);
const RETAINED = PEOPLE[0]!;
const EXITING = PEOPLE[1]!;
const BROKEN = PEOPLE[2]!;
const nameOf = (id: string) => [...org.employees, ...org.hrPartners, org.hrLead].find((p) => p.id === id)!.name;
const criticalSystemsOf = (e: Employee) => org.grants.filter((g) => g.employeeId === e.id && critical.has(g.systemId)).map((g) => org.systems.find((s) => s.id === g.systemId)!.name);

interface CaseBody {
  id: string;
  status: string;
  closedAt: string | null;
}

/**
 * Waits until `locator` shows on the page. Pages update live; should the live stream miss an update, the
 * person would reload: so does this, once a second, until the marker is there.
 */
async function see(page: Page, locator: Locator, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // Each look waits longer (1 s, 2 s … 5 s), so a slow machine's reload has time to show the page.
  for (let look = 1; ; look++) {
    try {
      await locator.first().waitFor({ timeout: Math.min(look, 5) * 1_000 });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await page.reload();
    }
  }
}

/** The cells of the row of `table` that mentions `text`, as the person reads them. */
async function rowOf(table: Locator, text: string): Promise<string[]> {
  const row = table.getByRole('row').filter({ hasText: text });
  await row.first().waitFor();
  return row.first().getByRole('cell').allInnerTexts();
}

function workingDayFrom(e: Employee, date: string): string {
  let day = date;
  while (!e.workingHours.days.includes(((new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7) + 1)) day = new Date(Date.parse(`${day}T00:00:00Z`) + DAY).toISOString().slice(0, 10);
  return day;
}

describe.each(['orchestration', 'choreography'] as const)('journeys in a real browser (%s)', (mode) => {
  let web: BrowserEms;
  let clock: AdjustableClock;
  const api = <T = Record<string, unknown>>(method: string, path: string, body?: unknown) => http<T>(web.base, method, path, body);
  const caseOf = async (id: string) => (await api<CaseBody>('GET', `/api/resignations/${id}`)).body;
  const caseIdIn = (page: Page) => /\/cases\/([^/?#]+)/.exec(page.url())?.[1] ?? '';

  beforeAll(async () => {
    clock = adjustableClock(undefined, 500);
    web = await startBrowserEms({
      mode,
      name: `journeys_${mode}`,
      clock,
      // The fifth service (IT asset recovery) joins as in the acceptance suites: its dead letters are the operator's too.
      env: { EMS_EXTENSIONS: '@ems/assets', EMS_SESSION_IDLE: '30d', EMS_SESSION_MAX: '30d' },
    });
  });
  afterAll(async () => {
    await web?.stop();
  });

  it('when an employee resigns and the HR partner holds the interview and retains them, then IT sees their access back and the emails are in the mailboxes', async () => {
    // The employee resigns on the Resign page and lands on their case.
    const employee = await web.signIn(RETAINED.id);
    await employee.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Resign' }).click();
    await employee.getByLabel('Reason', { exact: true }).fill('A role closer to home');
    await employee.getByRole('button', { name: 'Submit resignation' }).click();
    await employee.getByRole('heading', { level: 1, name: 'Your resignation' }).waitFor();
    const caseId = caseIdIn(employee);
    expect(caseId).toMatch(/^[0-9a-f-]{36}$/);
    await see(employee, employee.getByText('Awaiting decision'));
    await expect.poll(() => employee.getByRole('heading', { name: 'Your exit interview' }).count()).toBe(1);

    // The conversation takes place: EMS's clock moves to just after the interview's start (HR cannot mark it held before).
    const interview = (await api<{ items: Array<{ id: string; start: string }> }>('GET', `/api/interviews?resignationId=${caseId}`)).body.items[0]!;
    clock.set(new Date(Date.parse(interview.start) + 60_000));

    // IT, before the decision: the employee's critical access is suspended by the hold.
    const it = await web.signIn(ACCESS_ADMIN);
    await it.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Access', exact: true }).click();
    await it.getByRole('table', { name: /Active access holds/ }).getByRole('link', { name: RETAINED.name }).click();
    await it.getByRole('heading', { level: 1, name: `Access of ${RETAINED.name}` }).waitFor();
    const grants = it.getByRole('table', { name: /grants/ });
    for (const system of criticalSystemsOf(RETAINED)) expect((await rowOf(grants, system)).join(' ')).toMatch(/suspended/i);

    // The HR partner: inbox → the case awaiting their decision → its interview → mark held with notes.
    const hr = await web.signIn(RETAINED.hrPartnerId);
    await hr.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Inbox' }).click();
    await hr.getByRole('heading', { level: 2, name: 'Cases awaiting your decision' }).waitFor();
    await hr.getByRole('table', { name: /Cases awaiting a decision/ }).getByRole('link', { name: RETAINED.name, exact: true }).click();
    await hr.getByRole('heading', { level: 1, name: `${RETAINED.name}'s resignation` }).waitFor();
    await hr.getByRole('link', { name: 'Open the interview' }).click();
    await hr.getByLabel('Notes of the conversation').fill('Would stay for a move to the platform team.');
    await hr.getByRole('button', { name: 'Mark held' }).click();
    await hr.getByText('Marked held.').waitFor();
    await expectAccessible(hr, 'the interview page, held');

    // …then back on the case: retain, review, send.
    await hr.goBack();
    await hr.getByRole('heading', { level: 1, name: `${RETAINED.name}'s resignation` }).waitFor();
    await hr.getByLabel(/^Retain/).check();
    await hr.getByRole('button', { name: 'Review the decision' }).click();
    await hr.getByRole('heading', { name: 'Check before sending' }).waitFor();
    await hr.getByRole('button', { name: 'Send the decision' }).click();
    await hr.getByText(`Decision sent: ${RETAINED.name} is retained`).waitFor();
    // The case closes once access is back, the interview settled and both told.
    await see(hr, hr.getByText(/Nothing more to do/));
    expect((await caseOf(caseId)).status).toBe('retained');
    await expectAccessible(hr, 'the case page, retained');

    // IT: the employee's access is back — every grant active again.
    await it.reload();
    await it.getByRole('heading', { level: 1, name: `Access of ${RETAINED.name}` }).waitFor();
    await see(it, grants.getByRole('row').filter({ hasText: criticalSystemsOf(RETAINED)[0]! }).getByText(/^active$/i));
    for (const system of criticalSystemsOf(RETAINED)) expect((await rowOf(grants, system)).join(' ')).toMatch(/active/i);
    expect(await grants.getByText(/suspended/i).count()).toBe(0);

    // The mailboxes: the employee has the interview invite and the decision; the manager the notice and the decision.
    await employee.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Mailbox' }).click();
    await see(employee, employee.getByRole('link', { name: /Your resignation: you are staying/ }));
    await expect.poll(() => employee.getByRole('link', { name: /Exit interview/ }).count()).toBeGreaterThan(0);
    await employee.getByRole('link', { name: /Your resignation: you are staying/ }).first().click();
    // The message as a mail client shows it: its HTML, in a sandboxed frame.
    await see(employee, employee.frameLocator('iframe[title^="The message"]').getByText(/you are staying with us/));
    await expectAccessible(employee, 'a message in the mailbox');

    const manager = await web.signIn(RETAINED.managerId!, { path: '/mailbox' });
    await see(manager, manager.getByRole('link', { name: new RegExp(`Resignation retained: ${RETAINED.name} stays`) }));
    await expect.poll(() => manager.getByRole('link', { name: new RegExp(`Resignation: ${RETAINED.name}`) }).count()).toBe(1);
  }, 180_000);

  it("when HR confirms the exit with a last day, then IT sees the revocation scheduled for the end of that day in the employee's zone", async () => {
    const employee = await web.signIn(EXITING.id);
    await employee.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Resign' }).click();
    await employee.getByLabel('Reason', { exact: true }).fill('Moving abroad');
    await employee.getByRole('button', { name: 'Submit resignation' }).click();
    await employee.getByRole('heading', { level: 1, name: 'Your resignation' }).waitFor();
    const caseId = caseIdIn(employee);
    await see(employee, employee.getByText('Awaiting decision'));

    // The HR partner confirms the exit with a last day three weeks on (a day the employee works).
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: EXITING.timezone }).format(clock.now());
    const lastDay = workingDayFrom(EXITING, new Date(Date.parse(`${today}T00:00:00Z`) + 21 * DAY).toISOString().slice(0, 10));
    const hr = await web.signIn(EXITING.hrPartnerId, { path: `/cases/${caseId}` });
    await hr.getByRole('heading', { level: 1, name: `${EXITING.name}'s resignation` }).waitFor();
    await hr.getByLabel(/^Confirm the exit/).check();
    await hr.getByLabel('Last working day', { exact: true }).fill(lastDay);
    await hr.getByRole('button', { name: 'Review the decision' }).click();
    await hr.getByRole('button', { name: 'Send the decision' }).click();
    await hr.getByText(new RegExp(`Decision sent: ${EXITING.name}.s exit is confirmed`)).waitFor();

    // IT: Access → scheduled revocations → midnight at the end of the last day, in the employee's zone.
    const revokeAt = await waitFor(async () => {
      const items = (await api<{ items: Array<{ revokeAt: string }> }>('GET', `/api/access-revocations?resignationId=${caseId}`)).body.items;
      return items[0]?.revokeAt;
    }, 'the revocation scheduled');
    const dayAfter = new Date(Date.parse(`${lastDay}T00:00:00Z`) + DAY);
    const it = await web.signIn(ACCESS_ADMIN);
    await it.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Access', exact: true }).click();
    const scheduled = it.getByRole('table', { name: /Scheduled revocations/ });
    await see(it, scheduled.getByRole('row').filter({ hasText: EXITING.name }));
    const when = (await rowOf(scheduled, EXITING.name)).join(' ');
    expect(when).toContain(new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' }).format(dayAfter));
    expect(when).toContain('00:00');
    expect(when).toContain(EXITING.timezone);
    // The instant shown is the one Access will act on: midnight after the last day, in the employee's zone.
    expect(new Intl.DateTimeFormat('en-CA', { timeZone: EXITING.timezone }).format(new Date(revokeAt))).toBe(dayAfter.toISOString().slice(0, 10));
    await expectAccessible(it, 'the access page with a scheduled revocation');
    // The employee's case says so too, in their words.
    await see(employee, employee.getByText(/Exit confirmed/));
  }, 120_000);

  it('when a reaction fails for good and its dead letter is replayed by the operator, then the case moves on', async () => {
    // Break a participant for real: its table disappears (as if its database were damaged).
    const [table, subscriber] =
      mode === 'choreography'
        ? ['access.holds', 'access.suspend-access-when-resignation-submitted']
        : // Orchestration calls Access itself (a failed step, no dead letter): the extension's reaction is the bus's.
          ['assets.recovery_tasks', 'assets.open-recovery-task-when-resignation-submitted'];
    const [schema, name] = table.split('.') as [string, string];
    await web.ems.pool.query(`ALTER TABLE ${table} RENAME TO ${name}_unavailable`);
    let caseId: string;
    let letterId: string;
    try {
      const res = await api<CaseBody>('POST', '/api/resignations', { employeeId: BROKEN.id });
      expect(res.status).toBe(201);
      caseId = res.body.id;
      letterId = await waitFor(async () => {
        const dead = (await api<{ items: Array<{ id: string; eventId: string | null }> }>('GET', `/api/dead-letters?subscriber=${subscriber}`)).body.items;
        return dead.find((d) => d.eventId === caseId)?.id;
      }, 'the dead letter', 30_000);
    } finally {
      await web.ems.pool.query(`ALTER TABLE ${schema}.${name}_unavailable RENAME TO ${name}`);
    }

    // The operator: Operations → the dead letters → the one with its reason → Replay, confirmed.
    const operator = await web.signIn(OPERATOR);
    await operator.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Operations' }).click();
    await operator.getByRole('link', { name: 'See the dead letters' }).click();
    await operator.getByRole('heading', { level: 1, name: 'Dead letters' }).waitFor();
    const open = operator.getByRole('table', { name: 'Open dead letters' });
    const letter = open.getByRole('row').filter({ hasText: subscriber });
    await see(operator, letter);
    expect(await letter.innerText()).toMatch(new RegExp(`${name}.*does not exist`));
    await letter.getByRole('button', { name: /^Replay/ }).click();
    await operator.getByRole('dialog').getByRole('button', { name: 'Replay', exact: true }).click();
    await operator.getByText(`was sent to ${subscriber} again`).waitFor();
    // It leaves the open list; the API agrees it was replayed.
    await see(operator, operator.getByText(/No open dead letters/));
    expect((await api<{ replayedAt: string | null }>('GET', `/api/dead-letters/${letterId}`)).body.replayedAt).not.toBeNull();

    if (mode === 'choreography') {
      // The case moves on (action required → awaiting the decision), as the operator sees it on the case page.
      await operator.goto(web.url(`/cases/${caseId}`));
      await see(operator, operator.getByText('Awaiting decision'));
      expect((await caseOf(caseId)).status).toBe('awaiting_decision');
    } else {
      // Orchestration keeps no bus reaction in the case's own flow (EMS's tracker listens in choreography only):
      // the replayed reaction's effect is the extension's recovery task, which no page shows (API only).
      await waitFor(async () => ((await api<{ items: unknown[] }>('GET', `/api/asset-recovery-tasks?resignationId=${caseId}`)).body.items.length === 1 ? true : undefined), 'the recovery task opened by the replay');
    }
  });

  it('when each role opens a page that is not theirs, then the page says "Not available to you" and the API behind it refuses them too', async () => {
    const tries: Array<[person: string, page: string, api: string]> = [
      [RETAINED.id, '/operations/dead-letters', '/api/dead-letters'],
      [RETAINED.managerId!, '/access', '/api/access-holds'],
      [RETAINED.hrPartnerId, '/operations', '/api/dead-letters'],
      [HR_LEAD, '/access/audit', '/api/access-audit'],
      [ACCESS_ADMIN, '/reports', '/api/reports/exits'],
      [OPERATOR, '/inbox', '/api/follow-ups'],
    ];
    for (const [person, path, apiPath] of tries) {
      const page = await web.signIn(person, { path });
      await page.getByRole('heading', { level: 1, name: 'Not available to you' }).waitFor();
      expect(await page.getByRole('main').innerText()).toContain(`You are signed in as ${nameOf(person)}`);
      // The same session asking the API directly (as a script in the page would) is refused.
      const answer = await page.request.get(web.url(apiPath));
      expect(answer.status(), `${person} GET ${apiPath}`).toBe(403);
      await page.close();
    }
  });
});
