/**
 * The employee's, the manager's and everybody's pages in a real browser against a real EMS, in both modes:
 * resigning (the calendar offers working days only; a day off typed is named at once; the server's refusal
 * shows next to the field and loses nothing typed), the case page in plain words updating live as the case
 * moves (a failed step and why, an exit confirmed and when access ends), the exit interview with its calendar
 * file, withdrawing with a confirmation, the manager's team page and view (no reason), the cases list's filter
 * and paging, an HR partner submitting for an employee, and the mailbox: the manager's notice, the interview
 * invite (HTML in a script-less sandbox, the .ics readable and downloadable), and the page with a relay.
 * axe (WCAG 2.2 AA) on each page at 1280 and 375 px.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { demoOrg } from '@ems/demo-org';
import { expectAccessible, scrollsSideways, startBrowserEms, useViewport, type BrowserEms } from './harness.ts';

const org = demoOrg();
const admins = new Set(org.roleAssignments.map((a) => a.personId));
const managesSomeone = (id: string) => org.employees.some((e) => e.managerId === id);
/** Employees with a manager, no reports and no administrative role, who work Monday to Friday. */
const plain = org.employees.filter((e) => e.managerId && !managesSomeone(e.id) && !admins.has(e.id) && e.workingHours.days.join() === '1,2,3,4,5' && !admins.has(e.managerId));
const EMPLOYEE = plain[0]!;
const MANAGER = org.employees.find((e) => e.id === EMPLOYEE.managerId)!;
const PARTNER = org.hrPartners.find((p) => p.id === EMPLOYEE.hrPartnerId)!;
/** Another employee whose HR partner submits for them. */
const OTHER = plain.find((e) => e.hrPartnerId !== EMPLOYEE.hrPartnerId || e.managerId !== EMPLOYEE.managerId)!;

/** A calendar day in a zone, 'YYYY-MM-DD'. */
function dayIn(timeZone: string, plusDays: number): string {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
  const d = new Date(`${today}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + plusDays);
  return d.toISOString().slice(0, 10);
}
const weekday = (day: string) => new Date(`${day}T00:00:00Z`).getUTCDay(); // 0 Sunday … 6 Saturday
/** The first Saturday at least three weeks ahead (time for an interview before the Friday). */
function saturdayAhead(timeZone: string): string {
  for (let i = 21; ; i++) if (weekday(dayIn(timeZone, i)) === 6) return dayIn(timeZone, i);
}

/**
 * axe on a page (the harness leaves a sandboxed frame — a received email's HTML, the sender's markup — out:
 * axe cannot run in a frame without scripts); the message frame itself must still be titled.
 */
async function accessible(page: Page, what: string): Promise<void> {
  for (const frame of await page.locator('iframe.mail-html').all()) expect(await frame.getAttribute('title'), `the message frame on ${what} has a title`).toMatch(/\S/);
  await expectAccessible(page, what);
}

async function accessibleAtBothWidths(page: Page, what: string): Promise<void> {
  await useViewport(page, 'desktop');
  await accessible(page, what);
  await useViewport(page, 'phone');
  await accessible(page, what);
  expect(await scrollsSideways(page), `${what} scrolls sideways at 375 px`).toBe(false);
  await useViewport(page, 'desktop');
}

const nav = (page: Page, name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });

/** Fails the test on any uncaught error in the page (a crash blanks the app). */
const pageErrors: string[] = [];
function watchErrors(page: Page): void {
  page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`));
}

/** The focused element's markup (a string expression: this file is type-checked without the DOM's types). */
async function focusedElement(page: Page): Promise<string> {
  return String(await page.evaluate('document.activeElement ? document.activeElement.outerHTML : ""'));
}

/** A day as the page writes it (formatDay: the browser's words for a calendar day). */
async function cellDay(page: Page, day: string): Promise<string> {
  return String(await page.evaluate(`new Date(Date.UTC(${day.slice(0, 4)}, ${Number(day.slice(5, 7)) - 1}, ${Number(day.slice(8))})).toLocaleDateString(undefined, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' })`));
}

/** Counts full page loads from now on (the app navigates without them; a live update must not need one). */
async function navigations(page: Page): Promise<() => Promise<number>> {
  let loads = 0;
  const onLoad = () => loads++;
  page.on('load', onLoad);
  return async () => {
    page.off('load', onLoad);
    return loads;
  };
}

async function getCase(page: Page, id: string): Promise<{ status: string; decision: { note: string | null } | null }> {
  const res = await page.request.get(`/api/resignations/${id}`);
  expect(res.status()).toBe(200);
  return (await res.json()) as { status: string; decision: { note: string | null } | null };
}

async function interviewOf(page: Page, id: string): Promise<{ uid: string; sequence: number; start: string }> {
  const res = await page.request.get(`/api/interviews?resignationId=${id}`);
  expect(res.status()).toBe(200);
  const items = ((await res.json()) as { items: Array<{ uid: string; sequence: number; start: string; status: string }> }).items.filter((i) => i.status === 'scheduled');
  expect(items).toHaveLength(1);
  return items[0]!;
}

describe.each(['orchestration', 'choreography'] as const)("the employee's, the manager's, the case and the mailbox pages, in a real browser (%s)", (mode) => {
  let web: BrowserEms;
  let caseUrl = '';
  let employeePage: Page;
  const caseId = () => caseUrl.split('/').at(-1)!;

  beforeAll(async () => {
    web = await startBrowserEms({ mode, name: `employee_pages_${mode}` });
  });
  afterAll(async () => {
    await web?.stop();
    expect(pageErrors).toEqual([]);
  });

  it('when an employee picks a day off, then the picker says so before submitting and offers the working day before; the server refuses a day off next to the field, keeping what was typed; a working day opens the case page', async () => {
    const page = await web.signIn(EMPLOYEE.id, { path: '/resign' });
    watchErrors(page);
    await page.getByRole('heading', { name: 'Resign', level: 1 }).waitFor();
    await page.getByText(/You \(.*\) work Mon–Fri/).waitFor();
    await accessibleAtBothWidths(page, 'the resign page');

    const saturday = saturdayAhead(EMPLOYEE.timezone);
    const day = page.getByLabel('Last working day');
    await day.fill(saturday);
    await page.getByLabel('Reason', { exact: true }).fill('A new adventure, by the sea.');
    await page.getByLabel('Reason category').selectOption({ label: 'Moving away' });
    // Told at once, next to the field, and the field is marked invalid.
    await page.getByText(/is a Saturday: you do not work that day \(you work Mon–Fri\)/).waitFor();
    expect(await day.getAttribute('aria-invalid')).toBe('true');
    await page.getByRole('button', { name: 'Submit resignation' }).click();
    // Not sent: still on the form, the day focused.
    expect(new URL(page.url()).pathname).toBe('/resign');
    expect(await focusedElement(page)).toContain('name="lastWorkingDay"');
    await accessibleAtBothWidths(page, 'the resign page with a day off picked');

    const friday = (() => {
      const d = new Date(`${saturday}T00:00:00Z`);
      d.setUTCDate(d.getUTCDate() - 1);
      return d.toISOString().slice(0, 10);
    })();
    await page.getByRole('button', { name: /^Use .* instead$/ }).click();
    expect(await day.inputValue()).toBe(friday);
    await page.getByText(/is a Saturday/).waitFor({ state: 'detached' });

    // The calendar beside the field offers working days only: the Saturday cannot be picked, by mouse or keys.
    const calendar = page.getByRole('grid', { name: /^Calendar of the days that can be picked: / });
    const cell = (d: string) => calendar.locator(`td[data-day="${d}"]`);
    expect(await cell(friday).getAttribute('aria-selected')).toBe('true');
    expect(await cell(saturday).getAttribute('aria-disabled')).toBe('true');
    expect(await cell(saturday).getAttribute('aria-label')).toMatch(/Saturday.*, not a working day$/);
    await cell(saturday).click({ force: true }); // a real click on it, though it says it is disabled
    expect(await day.inputValue()).toBe(friday);
    await cell(friday).focus();
    await page.keyboard.press('ArrowRight');
    expect(await focusedElement(page)).toContain(`data-day="${saturday}"`);
    await page.keyboard.press('Enter');
    expect(await day.inputValue()).toBe(friday);
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('Enter');
    const thursday = (() => {
      const d = new Date(`${friday}T00:00:00Z`);
      d.setUTCDate(d.getUTCDate() - 1);
      return d.toISOString().slice(0, 10);
    })();
    expect(await day.inputValue()).toBe(thursday);
    await page.getByText(`Last working day: ${await cellDay(page, thursday)}.`, { exact: false }).waitFor();
    await cell(friday).click();
    expect(await day.inputValue()).toBe(friday);

    // The server checks the same: the Friday sent as the Saturday (the picker bypassed on the wire) is refused,
    // its words shown next to the field, and nothing typed is lost.
    await page.route('**/api/resignations', async (route) => {
      const body = JSON.parse(route.request().postData() ?? '{}') as Record<string, unknown>;
      await route.continue({ postData: JSON.stringify({ ...body, lastWorkingDay: saturday }) });
    });
    await page.getByRole('button', { name: 'Submit resignation' }).click();
    const refusal = page.locator('.field-error', { hasText: `${saturday} is a Saturday, not a working day for ${EMPLOYEE.id} (works Mon–Fri)` });
    await refusal.waitFor();
    expect(await day.getAttribute('aria-describedby')).toContain(await refusal.getAttribute('id'));
    expect(await day.inputValue()).toBe(friday);
    expect(await page.getByLabel('Reason', { exact: true }).inputValue()).toBe('A new adventure, by the sea.');
    expect(await page.getByLabel('Reason category').inputValue()).toBe('relocation');
    await page.unroute('**/api/resignations');

    // The same submission again: sent as typed now, it opens the case.
    await page.getByRole('button', { name: 'Submit resignation' }).click();
    await page.waitForURL(/\/cases\/[0-9a-f-]{36}$/);
    caseUrl = page.url();
    await page.getByRole('heading', { name: 'Your resignation', level: 1 }).waitFor();
    await page.getByText('A new adventure, by the sea.').waitFor();
    await page.locator('dl.facts dd', { hasText: 'Moving away' }).waitFor();
    employeePage = page;
  });

  it('when the first steps finish, then the open case page moves to awaiting decision by itself, says what comes next, and offers the interview as a calendar file with the invite\'s UID', async () => {
    const page = employeePage;
    const reloads = await navigations(page);
    // No reload: the live stream brings the change (the facts' status badge reads "Awaiting decision").
    await page.locator('dl.facts').getByText('Awaiting decision').waitFor({ timeout: 30_000 });
    expect(await reloads()).toBe(0);
    await page.getByText(new RegExp(`Next: the exit interview, .+ with ${PARTNER.name}\\. After it, HR decides .* Until HR decides, you may withdraw your resignation\\.`)).waitFor();
    for (const step of ['Tell the manager', 'Book the exit interview', 'Suspend critical access']) {
      await page.getByRole('heading', { level: 3, name: `${step} Done` }).waitFor();
    }
    await page.getByText(/^Your manager was told by email\./).waitFor();

    const interview = page.getByRole('region', { name: 'Your exit interview' });
    await interview.getByText(/Scheduled/).waitFor();
    await interview.getByText(`with ${PARTNER.name}, your HR partner.`, { exact: false }).waitFor();
    const ics = decodeURIComponent((await interview.getByRole('link', { name: 'Add to calendar (.ics)' }).getAttribute('href'))!.replace(/^data:text\/calendar;charset=utf-8,/, ''));
    const booked = await interviewOf(page, caseId());
    expect(ics).toContain(`UID:${booked.uid}\r\n`);
    expect(ics).toContain(`SEQUENCE:${booked.sequence}\r\n`);
    expect(ics).toContain(`DTSTART:${booked.start.replace(/[-:]/g, '').replace(/\.\d{3}/, '')}\r\n`);
    await accessibleAtBothWidths(page, "the employee's case page");

    // From home, the employee with one case goes straight to it, however early they click: while home is still
    // loading their cases (held here until the card has said so) the card offers no link at all — a link shown
    // then led to the list of cases, where an early click landed on a loaded machine.
    let release = (): void => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const ownCases = (url: URL) => url.pathname === '/api/resignations' && url.searchParams.get('employeeId') === EMPLOYEE.id;
    await page.route(ownCases, async (route) => {
      await released;
      await route.continue();
    });
    await nav(page, 'Home').click();
    await page.getByText('Finding your case…').waitFor();
    expect(await page.getByRole('link', { name: 'Your case' }).count()).toBe(0);
    release();
    await page.getByRole('link', { name: 'Your case' }).click({ timeout: 30_000 });
    await page.unroute(ownCases);
    await page.getByRole('heading', { level: 1, name: 'Your resignation' }).waitFor({ timeout: 30_000 });
    expect(page.url()).toBe(caseUrl);
    // Resigning again while it is open: the form says so and links the case.
    await nav(page, 'Resign').click();
    await page.getByRole('status').getByRole('link', { name: 'follow it here' }).waitFor();
    expect(await page.getByRole('status').getByRole('link', { name: 'follow it here' }).getAttribute('href')).toBe(new URL(caseUrl).pathname);

    // How long a case page takes to show, opened afresh (reported, not asserted: a timed test proves nothing).
    const started = Date.now();
    await page.goto(caseUrl);
    await page.locator('ol.timeline li').first().waitFor();
    await page.getByRole('heading', { level: 2, name: 'Your exit interview' }).waitFor();
    await page.getByRole('link', { name: 'Add to calendar (.ics)' }).waitFor();
    console.log(`[${mode}] the case page, opened afresh, showed its steps, timeline and interview in ${Date.now() - started} ms`);
  });

  it('when the employee opens their mailbox, then the interview invite is there; its HTML shows in a sandbox without scripts and its .ics reads as a calendar invite and downloads', async () => {
    const page = employeePage;
    await nav(page, 'Mailbox').click();
    await page.getByRole('heading', { level: 1, name: 'Mailbox' }).waitFor();
    const invite = page.getByRole('link', { name: new RegExp(`^Exit interview: ${EMPLOYEE.name}`) });
    await invite.waitFor();
    // Only their own mail: not the manager's notice.
    expect(await page.getByRole('link', { name: new RegExp(`^Resignation: ${EMPLOYEE.name}`) }).count()).toBe(0);
    await accessibleAtBothWidths(page, "the employee's mailbox");

    await invite.click();
    await page.getByRole('heading', { level: 1, name: new RegExp(`^Exit interview: ${EMPLOYEE.name}`) }).waitFor();
    const frame = page.locator('iframe.mail-html');
    expect(await frame.getAttribute('sandbox')).toBe('allow-popups allow-popups-to-escape-sandbox');
    // The HTML rendered (the page's CSP lets the sandboxed srcdoc show): its text is readable inside the frame.
    await page.frameLocator('iframe.mail-html').getByText(PARTNER.name).first().waitFor();
    const card = page.locator('li.invite');
    await card.getByRole('heading', { level: 3, name: /^Calendar invite: / }).waitFor();
    await card.getByText('Invitation (reply requested)').waitFor();
    const download = card.getByRole('link', { name: /^Download .*\.ics$/ });
    expect(await download.getAttribute('href')).toMatch(/^data:text\/calendar;charset=utf-8,BEGIN%3AVCALENDAR/);
    const [file] = await Promise.all([page.waitForEvent('download'), download.click()]);
    expect(file.suggestedFilename()).toMatch(/\.ics$/);
    await accessibleAtBothWidths(page, 'an invite in the mailbox');
  });

  it("when the manager opens their team page and the link in their notice, then they see the report's open case with status and dates but not the reason", async () => {
    const page = await web.signIn(MANAGER.id, { path: '/team' });
    watchErrors(page);
    await page.getByRole('heading', { level: 1, name: 'My team' }).waitFor();
    const row = page.getByRole('row', { name: new RegExp(EMPLOYEE.name) });
    await row.getByText('Awaiting decision').waitFor();
    expect(await page.getByRole('main').textContent()).not.toContain('A new adventure');
    await accessibleAtBothWidths(page, "the manager's team page");

    await nav(page, 'Mailbox').click();
    await page.getByRole('link', { name: new RegExp(`^Resignation: ${EMPLOYEE.name}`) }).click();
    await page.getByRole('heading', { level: 1, name: new RegExp(`^Resignation: ${EMPLOYEE.name}`) }).waitFor();
    await accessibleAtBothWidths(page, "the manager's notice");
    // The link in the text part opens the case in the app (the same link the HTML carries).
    await page.getByText('Plain text').click();
    await page.locator('pre.mail-text').getByRole('link', { name: caseUrl }).first().click();
    await page.getByRole('heading', { level: 1, name: `${EMPLOYEE.name}'s resignation` }).waitFor();
    expect(page.url()).toBe(caseUrl);
    await page.locator('dl.facts').getByText('Awaiting decision').waitFor();
    expect(await page.getByRole('main').textContent()).not.toContain('A new adventure');
    expect(await page.getByRole('term').allTextContents()).not.toContain('Reason');
    expect(await page.getByRole('main').textContent()).not.toContain('Moving away');
    // Not theirs to withdraw or to see the interview of.
    expect(await page.getByRole('button', { name: /Withdraw/ }).count()).toBe(0);
    expect(await page.getByRole('region', { name: /exit interview/i }).count()).toBe(0);
    await accessibleAtBothWidths(page, "the manager's view of a case");
  });

  it('when the employee withdraws, then a confirmation comes first (cancel keeps the case), and once confirmed the case says withdrawn and access comes back', async () => {
    const page = employeePage;
    await page.goto(caseUrl);
    await page.getByRole('heading', { level: 1, name: 'Your resignation' }).waitFor();
    await page.getByRole('button', { name: 'Withdraw my resignation…' }).click();
    const confirm = page.getByRole('heading', { level: 3, name: 'Withdraw your resignation?' });
    await confirm.waitFor();
    expect(await focusedElement(page)).toMatch(/^<h3 [^>]*>Withdraw your resignation\?<\/h3>$/);
    await accessibleAtBothWidths(page, 'the withdrawal confirmation');
    await page.getByRole('button', { name: 'No, keep my resignation' }).click();
    await confirm.waitFor({ state: 'detached' });
    expect((await getCase(page, caseId())).status).toBe('awaiting_decision');

    await page.getByRole('button', { name: 'Withdraw my resignation…' }).click();
    await page.getByLabel('Note (optional)').fill('Staying after all.');
    await page.getByRole('button', { name: 'Yes, withdraw' }).click();
    await page.locator('dl.facts').getByText('Withdrawn', { exact: true }).waitFor();
    await page.getByRole('heading', { level: 3, name: /^Restore access/ }).waitFor();
    await page.getByRole('heading', { level: 3, name: 'Restore access Done' }).waitFor({ timeout: 30_000 });
    expect(await page.getByRole('button', { name: /Withdraw/ }).count()).toBe(0);
    expect((await getCase(page, caseId())).decision?.note).toBe('Staying after all.');
  });

  it('when an HR partner submits for an employee found by name, then the case opens; the cases list filters by status in its address', async () => {
    const page = await web.signIn(OTHER.hrPartnerId, { path: '/resign' });
    watchErrors(page);
    await page.getByRole('heading', { level: 1, name: 'Submit a resignation' }).waitFor();
    await page.getByLabel('Name or email').fill(OTHER.name);
    await page.getByRole('button', { name: new RegExp(`^${OTHER.name} \\(${OTHER.id},`) }).click();
    expect(await page.getByLabel('Employee id').inputValue()).toBe(OTHER.id);
    await page.getByText(new RegExp(`^${OTHER.name} \\(.*\\) works Mon–Fri`)).waitFor();
    await accessibleAtBothWidths(page, 'the resign page for HR');
    // An unknown id is named next to the field.
    await page.getByLabel('Employee id').fill('E99999');
    await page.locator('.field-error', { hasText: 'No one in the directory has the id E99999.' }).waitFor();
    await page.getByLabel('Employee id').fill(OTHER.id);
    await page.getByText(new RegExp(`^${OTHER.name} \\(.*\\) works Mon–Fri`)).waitFor();
    await page.getByLabel('Reason', { exact: true }).fill('Relocating.');
    await page.getByRole('button', { name: 'Submit resignation' }).click();
    await page.getByRole('heading', { level: 1, name: `${OTHER.name}'s resignation` }).waitFor();
    const otherUrl = page.url();

    const lead = await web.signIn('hr-lead', { path: '/cases' });
    watchErrors(lead);
    await lead.getByRole('heading', { level: 1, name: 'Cases' }).waitFor();
    await lead.getByRole('link', { name: OTHER.name }).waitFor();
    await lead.getByRole('link', { name: EMPLOYEE.name }).waitFor();
    await lead.getByLabel('Status').selectOption('withdrawn');
    await lead.getByText(/Showing 1–1 \(withdrawn\)/).waitFor();
    expect(new URL(lead.url()).search).toBe('?status=withdrawn');
    expect(await lead.getByRole('link', { name: OTHER.name }).count()).toBe(0);
    await accessibleAtBothWidths(lead, 'the cases list, filtered');
    await lead.getByRole('link', { name: EMPLOYEE.name }).click();
    expect(lead.url()).toBe(caseUrl);
    await lead.goBack();
    await lead.getByText(/Showing 1–1 \(withdrawn\)/).waitFor();
    expect(otherUrl).toMatch(/\/cases\/[0-9a-f-]{36}$/);
  });

  it('when a step fails and then an exit is confirmed, then the open case page says, live and in words, what failed and why, then when access ends', async (ctx) => {
    // A last working day of today or tomorrow leaves no time for an interview: HR finds no free slot.
    const someone = plain.filter((e) => e.id !== EMPLOYEE.id && e.id !== OTHER.id).at(-1)!;
    const soon = [0, 1].map((n) => dayIn(someone.timezone, n)).find((d) => weekday(d) >= 1 && weekday(d) <= 5);
    // Today a Saturday: neither today nor tomorrow is a working day, and nothing else forces the failure.
    if (!soon) ctx.skip();
    const lead = await web.signIn('hr-lead', { path: '/resign' });
    watchErrors(lead);
    await lead.getByLabel('Employee id').fill(someone.id);
    await lead.getByText(new RegExp(`^${someone.name} \\(.*\\) works Mon–Fri`)).waitFor();
    await lead.getByLabel('Last working day').fill(soon!);
    await lead.getByRole('button', { name: 'Submit resignation' }).click();
    await lead.getByRole('heading', { level: 1, name: `${someone.name}'s resignation` }).waitFor();
    await lead.locator('dl.facts').getByText('Action required', { exact: true }).waitFor({ timeout: 30_000 });
    await lead.getByText(/^Something needs HR's attention: book the exit interview failed \(.+\)\. HR can still decide\.$/).waitFor();
    await lead.getByRole('heading', { level: 3, name: 'Book the exit interview Failed' }).waitFor();
    await lead.locator('.step-failed p', { hasText: /^Failed .+: .+/ }).waitFor();
    await accessibleAtBothWidths(lead, 'a case needing attention');

    // The exit confirmed (through the API, as the HR lead): the open page follows.
    const { csrfToken } = (await (await lead.request.get('/auth/session')).json()) as { csrfToken: string };
    const id = lead.url().split('/').at(-1)!;
    const res = await lead.request.post(`/api/resignations/${id}/decision`, { data: { decision: 'exit_confirmed' }, headers: { 'x-csrf-token': csrfToken } });
    expect([200, 202], await res.text()).toContain(res.status());
    await lead.locator('dl.facts').getByText('Exit confirmed', { exact: true }).waitFor();
    await lead.getByText(/^The exit is confirmed\. The last working day is .+; every remaining grant is revoked at its end, .+\.$/).waitFor();
    await lead.getByRole('heading', { level: 3, name: /^Revoke access (Pending|Late)$/ }).waitFor();
    await lead.getByText('Every remaining grant will be revoked at the end of the last working day.').waitFor();
    await lead.getByRole('term').getByText('Access revoked').waitFor();
  });

  // Paging is the API's and the page's, the same in both modes: once is enough.
  it.skipIf(mode === 'choreography')('when there are more cases than a page holds, then the cases list pages through them, newer and older, in its address', async () => {
    const lead = await web.signIn('hr-lead', { path: '/cases' });
    const { csrfToken } = (await (await lead.request.get('/auth/session')).json()) as { csrfToken: string };
    // 25 more resignations (a page is 25), submitted by the HR lead through the API as the browser session.
    const others = plain.filter((e) => e.id !== EMPLOYEE.id && e.id !== OTHER.id).slice(0, 25);
    expect(others).toHaveLength(25);
    for (const e of others) {
      const res = await lead.request.post('/api/resignations', { data: { employeeId: e.id }, headers: { 'x-csrf-token': csrfToken } });
      expect(res.status(), await res.text()).toBe(201);
    }
    const all = ((await (await lead.request.get('/api/resignations?limit=500')).json()) as { items: unknown[] }).items.length;
    expect(all).toBeGreaterThan(26);
    expect(all).toBeLessThanOrEqual(50);
    await lead.reload();
    await lead.getByText('Showing 1–25, newest first.').waitFor();
    await lead.getByRole('button', { name: 'Older' }).click();
    await lead.getByText(`Showing 26–${all}, newest first.`).waitFor();
    expect(new URL(lead.url()).search).toBe('?offset=25');
    // The oldest two are on it: the first resignations of this run.
    await lead.getByRole('link', { name: EMPLOYEE.name }).waitFor();
    await lead.getByRole('link', { name: OTHER.name }).waitFor();
    expect(await lead.getByRole('button', { name: 'Older' }).isDisabled()).toBe(true);
    await accessibleAtBothWidths(lead, 'the second page of cases');
    await lead.getByRole('button', { name: 'Newer' }).click();
    await lead.getByText('Showing 1–25, newest first.').waitFor();
    expect(new URL(lead.url()).search).toBe('');
  });
});

describe('the mailbox page when EMS sends through a relay', () => {
  let web: BrowserEms;
  beforeAll(async () => {
    // A relay nobody listens on: mail waits in the queue; the mailbox does not exist.
    web = await startBrowserEms({ mode: 'orchestration', name: 'mailbox_relay', env: { EMS_SMTP_URL: 'smtp://127.0.0.1:9' } });
  });
  afterAll(async () => {
    await web?.stop();
  });

  it('when someone opens the mailbox, then it says mail goes to the configured relay, on the list and on a message', async () => {
    const page = await web.signIn(EMPLOYEE.id, { path: '/mailbox' });
    await page.getByText(/No mailbox here\. EMS sends its mail through the configured relay/).waitFor();
    expect(await page.getByRole('table').count()).toBe(0);
    await accessibleAtBothWidths(page, 'the mailbox with a relay');
    await page.goto(web.url('/mailbox/1764748800000.abcdefghijklmn'));
    await page.getByText(/No mailbox here\./).waitFor();
  });
});
