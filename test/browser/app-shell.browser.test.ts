/**
 * The app's shell in a real browser against a real EMS: signing in through the built-in provider, the home
 * page and navigation each role gets, every role-limited page refused to those without the role, and axe
 * (WCAG 2.2 AA) on each at 1280 and 375 px.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { demoOrg } from '@ems/demo-org';
import { ACCESS_ADMIN, expectAccessible, HR_LEAD, OPERATOR, personName, scrollsSideways, signInOnPage, startBrowserEms, useViewport, type BrowserEms } from './harness.ts';
import { appNav, appRoutes } from './app-routes.ts';

const org = demoOrg();
const admins = new Set(org.roleAssignments.map((a) => a.personId));
const managesSomeone = (id: string) => org.employees.some((e) => e.managerId === id);
/** An employee with a manager, no reports and no administrative role. */
const EMPLOYEE = org.employees.find((e) => e.managerId && !managesSomeone(e.id) && !admins.has(e.id))!.id;
/** A manager with no administrative role. */
const MANAGER = org.employees.find((e) => e.managerId && managesSomeone(e.id) && !admins.has(e.id))!.id;
const HR_PARTNER = org.hrPartners[0]!.id;
const PEOPLE = [EMPLOYEE, MANAGER, HR_PARTNER, HR_LEAD, ACCESS_ADMIN, OPERATOR];

async function rolesOf(page: Page): Promise<string[]> {
  const res = await page.request.get('/auth/session');
  expect(res.status()).toBe(200);
  return ((await res.json()) as { roles: string[] }).roles;
}

async function navLabels(page: Page): Promise<string[]> {
  return page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents();
}

async function accessibleAtBothWidths(page: Page, what: string): Promise<void> {
  await useViewport(page, 'desktop');
  await expectAccessible(page, what);
  await useViewport(page, 'phone');
  await expectAccessible(page, what);
  expect(await scrollsSideways(page), `${what} scrolls sideways at 375 px`).toBe(false);
  await useViewport(page, 'desktop');
}

describe('the web app shell, in a real browser', () => {
  let web: BrowserEms;

  beforeAll(async () => {
    web = await startBrowserEms({ mode: 'orchestration', name: 'app_shell' });
  });
  afterAll(async () => {
    await web?.stop();
  });

  it('when no one is signed in, then every page shows the sign-in page, and signing in from a page lands back on it', async () => {
    const page = await web.signedOut();
    await page.goto(web.url('/'));
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('EMS — Exit Management System');
    await accessibleAtBothWidths(page, 'the sign-in page');

    // A deep link (as in an email) asks to sign in first, then opens the page asked for.
    await page.goto(web.url('/team'));
    await page.getByRole('link', { name: 'Sign in' }).waitFor();
    expect(await page.getByRole('navigation', { name: 'Main' }).count()).toBe(0);
    await signInOnPage(page, MANAGER);
    expect(new URL(page.url()).pathname).toBe('/team');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).not.toBe('Not available to you');
    await expect.poll(() => page.getByRole('banner').textContent()).toContain(personName(MANAGER));
  });

  it('when an employee signs in, then they see their home page with their card and the navigation of their role only', async () => {
    const page = await web.signIn(EMPLOYEE);
    expect(new URL(page.url()).pathname).toBe('/');
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe(`Hello, ${personName(EMPLOYEE)}`);
    const cards = await page.getByRole('main').getByRole('heading', { level: 2 }).allTextContents();
    expect(cards).toEqual(['Your exit']);
    expect(await navLabels(page)).toEqual(['Home', 'Resign', 'Cases', 'Mailbox']);
    // The card leads to their case.
    await page.getByRole('link', { name: 'Your case' }).click();
    await expect.poll(() => new URL(page.url()).pathname).toBe('/cases');
    await page.getByRole('link', { name: 'Home' }).click();
    await page.getByRole('heading', { level: 1, name: `Hello, ${personName(EMPLOYEE)}` }).waitFor();
    await accessibleAtBothWidths(page, "an employee's home page");
  });

  it('when each role signs in, then the navigation shows the pages of their roles, and every page limited to other roles shows "Not available to you" (axe-clean at 1280 and 375 px)', { timeout: 180_000 }, async () => {
    const routes = appRoutes();
    const nav = appNav();
    const people = new Map<string, { page: Page; roles: string[] }>();
    for (const id of PEOPLE) {
      const page = await web.signIn(id);
      const roles = await rolesOf(page);
      people.set(id, { page, roles });
      const expected = nav.filter((n) => !n.roles || n.roles.some((r) => roles.includes(r))).map((n) => n.label);
      expect(await navLabels(page), `${id} (${roles.join(', ')})`).toEqual(expected);
    }
    // Every role is someone's here, so each limited page is tried by someone outside it.
    expect(new Set([...people.values()].flatMap((p) => p.roles))).toEqual(new Set(['employee', 'manager', 'hr_partner', 'hr_lead', 'access_admin', 'operator']));

    // Pages limited to roles that leave someone out (every person in the directory is an employee, so a page
    // open to employees, HR partners and the HR lead — /resign, /cases — has no one to refuse).
    const limited = routes.filter((r) => r.roles && [...people.values()].some((p) => !p.roles.some((role) => r.roles!.includes(role))));
    expect(limited.length).toBeGreaterThan(10);
    for (const route of limited) {
      const [id, { page }] = [...people.entries()].find(([, p]) => !p.roles.some((r) => route.roles!.includes(r)))!;
      await page.goto(web.url(route.path));
      await page.getByRole('heading', { level: 1, name: 'Not available to you' }).waitFor();
      await expect.poll(() => page.getByRole('main').textContent()).toContain(`You are signed in as ${personName(id)}`);
      await accessibleAtBothWidths(page, `${route.path} refused to ${id}`);
    }
  });
});
