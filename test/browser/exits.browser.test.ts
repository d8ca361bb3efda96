/**
 * Involuntary and mass exits in the web app, in a real browser against a real EMS (orchestration): the HR
 * lead ends the employment of two people from a CSV file, reads the confirmation (what happens, to how many),
 * confirms with a double click — one batch — and watches the progress page reach "settled", then opens a case
 * and comes back through its link; a file naming someone unknown shows the refused row and starts nothing
 * (checked through the API and the database); one person picked from the directory; both batches found again
 * in the list of exit batches (newest first) and opened from it; an HR partner has no way in. Each state axe-clean (WCAG 2.2 AA) at 1280 and 375 px, with no sideways scroll.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { demoOrg } from '@ems/demo-org';
import { EmsPaths } from '@ems/contracts/paths';
import { expectAccessible, HR_LEAD, http, personName, scrollsSideways, startBrowserEms, tokenFor, useViewport, type BrowserEms } from './harness.ts';

const org = demoOrg();
const admins = new Set(org.roleAssignments.map((a) => a.personId));
const managesSomeone = (id: string) => org.employees.some((e) => e.managerId === id);
/** Employees with a manager, no reports and no administrative role, each used once. */
const LEAVERS = org.employees.filter((e) => e.managerId && !managesSomeone(e.id) && !admins.has(e.id));
const [A, B, C, D] = [LEAVERS[0]!, LEAVERS[1]!, LEAVERS[2]!, LEAVERS[3]!];
const HR_PARTNER = org.hrPartners[0]!.id;

async function accessibleAtBothWidths(page: Page, what: string): Promise<void> {
  await useViewport(page, 'desktop');
  await expectAccessible(page, what);
  await useViewport(page, 'phone');
  await expectAccessible(page, what);
  expect(await scrollsSideways(page), `${what} scrolls sideways at 375 px`).toBe(false);
  await useViewport(page, 'desktop');
}

const navLabels = (page: Page) => page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents();
/** The text of each row of the table named `name` (header row left out). */
const rows = async (page: Page, name: string | RegExp) => (await page.getByRole('table', { name }).getByRole('row').allInnerTexts()).slice(1).map((r) => r.replace(/\s+/g, ' ').trim());
const csvFile = (name: string, ids: string[]) => ({ name, mimeType: 'text/csv', buffer: Buffer.from(`employee_id\r\n${ids.join('\r\n')}\r\n`) });

describe('ending employments in the web app, in a real browser', () => {
  let web: BrowserEms;
  const sql = async <T extends Record<string, unknown>>(text: string, values: unknown[] = []) => (await web.ems.pool.query<T>(text, values)).rows;
  const batches = async () => Number((await sql<{ n: string }>('SELECT count(*) AS n FROM ems.exit_batches'))[0]!.n);
  const casesOf = async (employeeId: string) => (await http<{ items: Array<{ id: string; kind: string; batchId: string | null }> }>(web.base, 'GET', `${EmsPaths.resignations}?employeeId=${employeeId}`)).body.items;

  beforeAll(async () => {
    web = await startBrowserEms({ mode: 'orchestration', name: 'exits' });
  });
  afterAll(async () => {
    await web?.stop();
  });

  it('when the HR lead ends two employments from a CSV file and confirms (twice, quickly), then one batch starts, its progress page reaches settled with both cases, each case links back to it, and the list of exit batches leads to it', { timeout: 180_000 }, async () => {
    const page = await web.signIn(HR_LEAD);
    expect(await navLabels(page)).toContain('End employment');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'End employment' }).click();
    await page.getByRole('heading', { level: 1, name: 'End employment' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/exits');
    await accessibleAtBothWidths(page, 'the end-employment page, empty');

    // Review with nothing filled: each missing answer is named at its field, and nothing opens.
    await page.getByRole('button', { name: 'Review…' }).click();
    await page.getByText('Pick the person: type their id or find them by name.').waitFor();
    await page.getByText('Choose the reason.').waitFor();
    expect(await page.getByRole('dialog').count()).toBe(0);

    await page.getByRole('radio', { name: 'A list of people: a CSV file' }).check();
    await page.getByLabel('CSV file', { exact: true }).setInputFiles(csvFile('leavers.csv', [A.id, B.id]));
    await expect.poll(() => page.locator('.exit-chosen').textContent()).toMatch(/^Chosen: leavers\.csv \(\d+ bytes\): 2 people\.$/);
    await page.getByLabel('Reason').selectOption('redundancy');
    await page.getByLabel('Note (optional)').fill('Site closure, Q4 plan');
    await accessibleAtBothWidths(page, 'the end-employment page, a file chosen');

    await page.getByRole('button', { name: 'Review…' }).click();
    const dialog = page.getByRole('dialog', { name: 'End the employment of 2 people?' });
    await dialog.waitFor();
    const words = (await dialog.textContent()) ?? '';
    expect(words).toContain('leavers.csv names 2 people');
    expect(words).toContain('Reason: Redundancy');
    expect(words).toContain('Every grant is suspended at once, critical access first, for all of them before any email');
    expect(words).toContain('Then each person and their manager are told by email');
    expect(words).toContain('revoked at the end of the last working day, in their time zone');
    expect(words).toContain('This cannot be undone in EMS');
    // It opens on the safe choice.
    expect(await page.evaluate('document.activeElement ? document.activeElement.textContent : ""')).toBe('Cancel');
    await accessibleAtBothWidths(page, 'the end-employment confirmation');
    expect(await batches()).toBe(0);

    // A double click sends one request at most twice with one key: one batch either way.
    await dialog.getByRole('button', { name: 'End employment of 2 people' }).dblclick();
    await page.waitForURL(/\/exits\/[0-9a-f-]{36}$/);
    const batchId = new URL(page.url()).pathname.split('/').pop()!;
    await page.getByRole('heading', { level: 1, name: 'Mass exit of 2 people' }).waitFor();

    // The page reads progress again by itself until the batch settles.
    await page.getByRole('status').filter({ hasText: /^Settled / }).waitFor({ timeout: 90_000 });
    for (const bar of ['Access suspended', 'Told by email', 'Revocation scheduled']) {
      expect(await page.getByRole('progressbar', { name: new RegExp(`^${bar}`) }).getAttribute('value'), bar).toBe('2');
    }
    await page.getByText('No step has failed.').waitFor();
    const facts = (await page.locator('dl.facts').innerText()).replace(/\s+/g, ' ');
    expect(facts).toContain('Reason Redundancy');
    expect(facts).toContain(`by ${personName(HR_LEAD)}`);
    const cases = await rows(page, 'Cases of this exit');
    expect(cases.map((r) => r.split(' (')[0]).sort()).toEqual([A.name, B.name].sort());
    for (const r of cases) expect(r).toMatch(/Exit confirmed Done Done Pending/);
    await accessibleAtBothWidths(page, 'an exit batch, settled');

    // One batch, two cases — what the API says too.
    expect(await batches()).toBe(1);
    const progress = await http<{ total: number; settled: boolean; accessSuspended: number }>(web.base, 'GET', EmsPaths.exit(batchId));
    expect(progress.body).toMatchObject({ total: 2, settled: true, accessSuspended: 2 });
    for (const e of [A, B]) expect((await casesOf(e.id)).map((c) => [c.kind, c.batchId])).toEqual([['involuntary', batchId]]);

    // A case opens from the table, and links back to its exit's progress.
    await page.getByRole('table', { name: 'Cases of this exit' }).getByRole('link', { name: A.name }).click();
    await page.getByRole('heading', { level: 1, name: `${A.name}'s exit` }).waitFor();
    await page.getByRole('link', { name: 'see the exit’s progress' }).click();
    await page.getByRole('heading', { level: 1, name: 'Mass exit of 2 people' }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/exits/${batchId}`);

    // Once its page is left, the batch is found again in the list of exit batches, and its link leads back.
    await page.getByRole('link', { name: 'End another employment' }).click();
    await page.getByRole('heading', { level: 1, name: 'End employment' }).waitFor();
    const listed = page.getByRole('table', { name: 'Exit batches, newest first' });
    await listed.waitFor();
    expect(await rows(page, 'Exit batches, newest first')).toEqual([expect.stringMatching(new RegExp(`^.+ 2 people Redundancy Settled .+ ${personName(HR_LEAD)}$`))]);
    await accessibleAtBothWidths(page, 'the end-employment page with its list of exit batches');
    await listed.getByRole('link').click();
    await page.getByRole('heading', { level: 1, name: 'Mass exit of 2 people' }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/exits/${batchId}`);
  });

  it('when the file names someone unknown, then the page shows the refused row, and nobody in the file is started', { timeout: 180_000 }, async () => {
    const before = await batches();
    const page = await web.signIn(HR_LEAD, { path: '/exits' });
    await page.getByRole('radio', { name: 'A list of people: a CSV file' }).check();
    await page.getByLabel('CSV file', { exact: true }).setInputFiles(csvFile('with-a-typo.csv', [C.id, 'E-NOBODY-9']));
    await expect.poll(() => page.locator('.exit-chosen').textContent()).toContain('2 people');
    await page.getByLabel('Reason').selectOption('end_of_contract');
    await page.getByRole('radio', { name: 'At a time I give' }).check();
    // More than a year ahead is refused at the field (the server would refuse it too); a month ahead is taken.
    await page.getByLabel(/^Revoke at/).fill('2099-01-15T18:00');
    await page.getByRole('button', { name: 'Review…' }).click();
    await page.getByText(/is more than a year ahead/).waitFor();
    expect(await page.getByRole('dialog').count()).toBe(0);
    const inAMonth = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    await page.getByLabel(/^Revoke at/).fill(`${inAMonth}T18:00`);
    await page.getByRole('button', { name: 'Review…' }).click();
    const dialog = page.getByRole('dialog', { name: 'End the employment of 2 people?' });
    await dialog.waitFor();
    const [y, m, d] = inAMonth.split('-').map(Number);
    const expected = new Date(Date.UTC(y!, m! - 1, d)).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
    expect(await dialog.textContent()).toContain(`revoked at ${expected}, 18:00 UTC`);
    await dialog.getByRole('button', { name: 'End employment of 2 people' }).click();

    await page.getByRole('heading', { level: 2, name: 'Nothing was started' }).waitFor();
    const refused = await rows(page, 'Refused people, by row');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatch(/^3 E-NOBODY-9 \S/);
    expect(await page.getByRole('dialog').count()).toBe(0);
    // Focus is on what went wrong.
    expect(await page.evaluate('document.activeElement ? document.activeElement.textContent : ""')).toBe('Nothing was started');
    await accessibleAtBothWidths(page, 'the end-employment page, a refused file');

    // Nothing started: no batch, and the known person in the file has no case.
    expect(await batches()).toBe(before);
    expect(await casesOf(C.id)).toEqual([]);
  });

  it('when the HR lead picks one person from the directory, then the confirmation names them, the progress page is theirs, and it heads the list of exit batches', { timeout: 180_000 }, async () => {
    const page = await web.signIn(HR_LEAD, { path: '/exits' });
    await page.getByLabel('Name or email').fill(D.name);
    await page.getByRole('list', { name: 'Matching people' }).getByRole('button', { name: new RegExp(`^${D.name} \\(${D.id},`) }).click();
    await expect.poll(() => page.getByLabel('Employee id').inputValue()).toBe(D.id);
    await page.getByText(new RegExp(`^${D.name} \\(.*\\) works `)).waitFor();
    await page.getByLabel('Reason').selectOption('performance');
    await page.getByRole('button', { name: 'Review…' }).click();
    const dialog = page.getByRole('dialog', { name: `End ${D.name}'s employment?` });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain(`For ${D.name}:`);
    await dialog.getByRole('button', { name: 'End employment', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: `Exit of ${D.name}` }).waitFor();
    await page.getByRole('status').filter({ hasText: /^Settled / }).waitFor({ timeout: 90_000 });
    const batchPath = new URL(page.url()).pathname;

    // The list of exit batches has it first (newest first), above the mass exit; its link opens it.
    await page.getByRole('link', { name: 'End another employment' }).click();
    const listed = page.getByRole('table', { name: 'Exit batches, newest first' });
    await listed.waitFor();
    const listedRows = await rows(page, 'Exit batches, newest first');
    expect(listedRows).toHaveLength(2);
    expect(listedRows[0]).toMatch(/ 1 person Performance /);
    expect(listedRows[1]).toMatch(/ 2 people Redundancy /);
    await listed.getByRole('row').nth(1).getByRole('link').click();
    await page.getByRole('heading', { level: 1, name: `Exit of ${D.name}` }).waitFor();
    expect(new URL(page.url()).pathname).toBe(batchPath);
  });

  it('when an HR partner signs in, then the navigation has no "End employment", the page refuses them, and so does the API', async () => {
    const page = await web.signIn(HR_PARTNER);
    expect(await navLabels(page)).not.toContain('End employment');
    await page.goto(web.url('/exits'));
    await page.getByRole('heading', { level: 1, name: 'Not available to you' }).waitFor();
    expect(await page.getByRole('button', { name: 'Review…' }).count()).toBe(0);
    const asPartner = await http(web.base, 'POST', EmsPaths.exits, { employees: [{ employeeId: C.id }], reason: 'other' }, { authorization: `Bearer ${await tokenFor(web.base, HR_PARTNER)}`, 'idempotency-key': randomUUID() });
    expect(asPartner.status).toBe(403);
    expect(await casesOf(C.id)).toEqual([]);
  });
});
