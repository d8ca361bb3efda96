/**
 * The directory import in the web app, in a real browser against a real EMS (orchestration): the HR lead
 * chooses HR's CSV export, sees its errors by row and column, drops the fixed file, reads the dry run (one
 * person created, one updated with the manager before → after), applies it after a confirmation — a failed
 * apply keeps the file — and finds the new person in the app; the same file checked again changes nothing.
 * An employee has no way in. Each state axe-clean (WCAG 2.2 AA) at 1280 and 375 px, with no sideways scroll.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { demoOrg, type Employee } from '@ems/demo-org';
import { IdentityPaths } from '@ems/contracts/paths';
import type { DirectoryImportReport } from '@ems/contracts/identity';
import { expectAccessible, HR_LEAD, http, personName, scrollsSideways, startBrowserEms, tokenFor, useViewport, waitFor, type BrowserEms } from './harness.ts';

const org = demoOrg();
const admins = new Set(org.roleAssignments.map((a) => a.personId));
const managesSomeone = (id: string) => org.employees.some((e) => e.managerId === id);
/** An employee with a manager, no reports and no administrative role: the one refused. */
const EMPLOYEE = org.employees.find((e) => e.managerId && !managesSomeone(e.id) && !admins.has(e.id))!;
/** The person whose manager the file changes, and their new manager: two people with no reports (neither is in the other's chain). */
const LEAVES = org.employees.filter((e) => e.managerId && !managesSomeone(e.id) && !admins.has(e.id) && e.id !== EMPLOYEE.id);
const MOVED = LEAVES[3]!;
const NEW_MANAGER = LEAVES.find((e) => e.id !== MOVED.id && e.managerId !== MOVED.managerId)!;
const departmentName = new Map(org.departments.map((d) => [d.id, d.name]));

const HEADER = 'id,name,email,title,manager_id,hr_partner_id,department,location,timezone,working_days,work_start,work_end';
const csvField = (v: string) => (/[",]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
/** A demo person's row as the directory holds it, with a manager of our choosing. */
const rowOf = (e: Employee, managerId: string) =>
  [e.id, e.name, e.email, e.title, managerId, e.hrPartnerId, departmentName.get(e.departmentId)!, e.location, e.timezone, e.workingHours.days.join(','), e.workingHours.start, e.workingHours.end].map(csvField).join(',');
const NEWCOMER = { id: 'N-web-1', name: 'Nora Newcomer', email: 'nora.newcomer@acme.example' };
const newcomerRow = (timezone: string) => `${NEWCOMER.id},${NEWCOMER.name},${NEWCOMER.email},Researcher,${NEW_MANAGER.id},hrp-berlin,Research,Berlin,${timezone},Mon-Thu,09:00,17:00`;
const file = (timezone: string) => `${HEADER}\r\n${newcomerRow(timezone)}\r\n${rowOf(MOVED, NEW_MANAGER.id)}\r\n`;

async function accessibleAtBothWidths(page: Page, what: string): Promise<void> {
  await useViewport(page, 'desktop');
  await expectAccessible(page, what);
  await useViewport(page, 'phone');
  await expectAccessible(page, what);
  expect(await scrollsSideways(page), `${what} scrolls sideways at 375 px`).toBe(false);
  await useViewport(page, 'desktop');
}

const navLabels = (page: Page) => page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents();
const status = (page: Page) => page.locator('main .import-status');
/** The text of each row of the table named `name` (header row left out). */
const rows = async (page: Page, name: string | RegExp) => (await page.getByRole('table', { name }).getByRole('row').allInnerTexts()).slice(1).map((r) => r.replace(/\s+/g, ' ').trim());

describe('the directory import page, in a real browser', () => {
  let web: BrowserEms;
  /** An import straight to the API as the HR lead (someone else at work meanwhile). */
  const importDirectly = async (csv: string) =>
    http<DirectoryImportReport>(web.base, 'POST', IdentityPaths.directoryImports, csv, { authorization: `Bearer ${await tokenFor(web.base, HR_LEAD)}`, 'content-type': 'text/csv' });

  beforeAll(async () => {
    web = await startBrowserEms({ mode: 'orchestration', name: 'directory_import' });
  });
  afterAll(async () => {
    await web?.stop();
  });

  it('when the HR lead imports a file, then they see its errors by row and column, then the dry run of the fixed file, apply it after a confirmation (a failed apply keeps the file), and the new person is in the app; checked again, nothing changes', async () => {
    const page = await web.signIn(HR_LEAD, { path: '/' });
    expect(await navLabels(page)).toContain('Import people');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Import people' }).click();
    await page.getByRole('heading', { level: 1, name: 'Import people' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/directory/import');
    // The documented columns are on the page, linked from the file's field.
    await page.getByRole('table', { name: /^The file.s columns$/ }).getByRole('rowheader', { name: 'working_days' }).waitFor();
    expect(await page.getByRole('link', { name: 'the columns' }).getAttribute('href')).toBe('#import-columns');
    await accessibleAtBothWidths(page, 'the import page, no file chosen');

    // A file with an error: the time zone of row 2 (the header is row 1). Nothing can be applied.
    await page.getByLabel('CSV file').setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(file('Europe/Berln')) });
    await page.getByRole('heading', { level: 2, name: 'The file has errors' }).waitFor();
    const errors = await rows(page, 'Errors in the file, by row and column');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^2 timezone .*Europe\/Berln/);
    await expect.poll(() => status(page).textContent()).toBe('people.csv was refused: 1 error.');
    expect(await page.getByRole('button', { name: /^Apply/ }).count()).toBe(0);
    await accessibleAtBothWidths(page, 'the import page, a refused file');

    // The fixed file, dropped on the page: the dry run — one created, one updated (the manager, before → after).
    const dropped = await page.evaluateHandle(
      `(() => { const t = new DataTransfer(); t.items.add(new File([${JSON.stringify(file('Europe/Berlin'))}], 'people-fixed.csv', { type: 'text/csv' })); return t; })()`,
    );
    await page.locator('.import-drop').dispatchEvent('drop', { dataTransfer: dropped });
    await page.getByRole('heading', { level: 2, name: 'What the file would change' }).waitFor();
    await expect.poll(() => status(page).textContent()).toBe('Dry run of people-fixed.csv: 1 to create, 1 to update, 0 to deactivate, 0 unchanged.');
    expect(await rows(page, 'To create')).toEqual([`${NEWCOMER.id} ${NEWCOMER.name}`]);
    const updated = await rows(page, /^To update/);
    expect(updated).toHaveLength(1);
    expect(updated[0]).toMatch(new RegExp(`^${MOVED.id} ${MOVED.name} manager_id: “${MOVED.managerId}” →\\s*becomes “${NEW_MANAGER.id}”$`));
    expect((await http<{ manager: { id: string } | null }>(web.base, 'GET', `/api/employees/${MOVED.id}`)).body.manager?.id).toBe(MOVED.managerId);
    await accessibleAtBothWidths(page, 'the import page, a dry run');

    // "People missing from the file become inactive": the HR lead is not in the file, so it would lock them out — refused, dry run included; off again, the report is back.
    const option = page.getByRole('checkbox', { name: 'People missing from the file become inactive' });
    await option.check();
    await page.getByRole('heading', { level: 2, name: 'The file has errors' }).waitFor();
    expect((await rows(page, 'Errors in the file, by row and column'))[0]).toContain(`would deactivate ${HR_LEAD}`);
    await option.uncheck();
    await page.getByRole('heading', { level: 2, name: 'What the file would change' }).waitFor();

    // Meanwhile someone makes the new manager report to the person moving under them: applied now, the file would close a
    // loop — refused, nothing written, the file and the option stay.
    expect((await importDirectly(`${HEADER}\r\n${rowOf(NEW_MANAGER, MOVED.id)}\r\n`)).status).toBe(201);
    await page.getByRole('button', { name: 'Apply the import…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Apply this import?' });
    await dialog.waitFor();
    await expect.poll(() => dialog.textContent()).toContain('1 created, 1 updated, 0 deactivated, 0 unchanged');
    expect(await page.evaluate('document.activeElement ? document.activeElement.textContent : ""')).toBe('Cancel');
    await dialog.getByRole('button', { name: 'Apply the import' }).click();
    await page.getByRole('heading', { level: 2, name: 'The import was refused' }).waitFor();
    const loops = await rows(page, 'Errors in the file, by row and column');
    expect(loops.some((e) => new RegExp(`^3 manager_id the manager chain loops: .*${MOVED.id}`).test(e)), loops.join('\n')).toBe(true);
    expect(await page.locator('.import-chosen').textContent()).toContain('people-fixed.csv');
    expect(await option.isChecked()).toBe(false);
    expect((await http(web.base, 'GET', `/api/employees/${NEWCOMER.id}`)).status).toBe(404);

    // The loop undone elsewhere: the same file, checked again without choosing it again, and applied.
    expect((await importDirectly(`${HEADER}\r\n${rowOf(NEW_MANAGER, NEW_MANAGER.managerId!)}\r\n`)).status).toBe(201);
    await page.getByRole('button', { name: /^Check the file again/ }).click();
    await expect.poll(() => status(page).textContent()).toBe('Dry run of people-fixed.csv: 1 to create, 1 to update, 0 to deactivate, 0 unchanged.');
    await page.getByRole('button', { name: 'Apply the import…' }).click();
    await dialog.getByRole('button', { name: 'Apply the import' }).click();
    await page.getByRole('heading', { level: 2, name: 'Imported' }).waitFor();
    await expect.poll(() => status(page).textContent()).toBe('Imported people-fixed.csv: 1 created, 1 updated, 0 deactivated, 0 unchanged.');
    expect(await rows(page, 'Created')).toEqual([`${NEWCOMER.id} ${NEWCOMER.name}`]);
    expect(await page.evaluate('document.activeElement ? document.activeElement.textContent : ""')).toBe('Imported');
    await accessibleAtBothWidths(page, 'the import page, applied');

    // The person is in the app: HR's directory has them (a barrier on what the page reads), and the case intake finds them.
    await waitFor(async () => ((await http(web.base, 'GET', `/api/employees/${NEWCOMER.id}`)).status === 200 ? true : undefined), 'the newcomer in HR', 30_000);
    await waitFor(async () => ((await http<{ manager: { id: string } | null }>(web.base, 'GET', `/api/employees/${MOVED.id}`)).body.manager?.id === NEW_MANAGER.id ? true : undefined), 'the new manager in HR', 30_000);
    const intake = await web.signIn(HR_LEAD, { path: '/resign' });
    await intake.getByLabel('Employee id').fill(NEWCOMER.id);
    await intake.getByText(`${NEWCOMER.name} (Researcher, Research) works Mon–Thu, 09:00–17:00 (Europe/Berlin).`).waitFor();
    await intake.close();

    // The same file checked again: nothing to change, nothing to apply.
    await page.getByRole('button', { name: /^Check the file again/ }).click();
    await expect.poll(() => status(page).textContent()).toBe('Dry run of people-fixed.csv: nothing to change.');
    await page.getByText('Nothing to change: every person in the file is already in the directory as the file says.').waitFor();
    expect(await page.getByRole('button', { name: 'Apply the import…' }).count()).toBe(0);
  });

  it('when an employee signs in, then the navigation has no import, and the page refuses them', async () => {
    const page = await web.signIn(EMPLOYEE.id);
    expect(await navLabels(page)).not.toContain('Import people');
    await page.goto(web.url('/directory/import'));
    await page.getByRole('heading', { level: 1, name: 'Not available to you' }).waitFor();
    await expect.poll(() => page.getByRole('main').textContent()).toContain(`You are signed in as ${personName(EMPLOYEE.id)}`);
    expect(await page.getByLabel('CSV file').count()).toBe(0);
    await accessibleAtBothWidths(page, 'the import page refused to an employee');
  });
});
