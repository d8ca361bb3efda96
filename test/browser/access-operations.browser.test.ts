/**
 * IT's access pages and the operator's pages in a real browser against a real EMS (orchestration, then
 * choreography): what the access administrator sees of holds, revocations and the audit, and does (revoke now,
 * check the hash chain); what the operator sees of stuck cases, dead letters, webhooks and a case's flow, and
 * does (replay, register, delete). Each page axe-clean (WCAG 2.2 AA) at 1280 and 375 px, with no sideways scroll.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { demoOrg, type Employee } from '@ems/demo-org';
import { randomUUID } from 'node:crypto';
import { createKysely } from '@ems/platform';
import { EventSources, EventTypes } from '@ems/contracts/events';
import { createEvent } from '@ems/eventbus';
import { ACCESS_ADMIN, expectAccessible, HR_LEAD, http, OPERATOR, personName, scrollsSideways, startBrowserEms, useViewport, waitFor, type BrowserEms } from './harness.ts';

const org = demoOrg();
const DAY = 86_400_000;
const admins = new Set(org.roleAssignments.map((a) => a.personId));
const critical = new Set(org.systems.filter((s) => s.critical).map((s) => s.id));
/** Employees with a manager and critical access, no reports, no administrative role. */
const PEOPLE = org.employees.filter((e) => e.managerId && !admins.has(e.id) && !org.employees.some((x) => x.managerId === e.id) && org.grants.some((g) => g.employeeId === e.id && critical.has(g.systemId)));
const systemsOf = (e: Employee, which: 'critical' | 'other') =>
  org.grants.filter((g) => g.employeeId === e.id && critical.has(g.systemId) === (which === 'critical')).map((g) => org.systems.find((s) => s.id === g.systemId)!.name);

interface CaseBody {
  id: string;
  status: string;
  systems: unknown[];
}

async function accessibleAtBothWidths(page: Page, what: string): Promise<void> {
  await useViewport(page, 'desktop');
  await expectAccessible(page, what);
  await useViewport(page, 'phone');
  await expectAccessible(page, what);
  expect(await scrollsSideways(page), `${what} scrolls sideways at 375 px`).toBe(false);
  await useViewport(page, 'desktop');
}

/** The text of the row of `table` that mentions `text`. */
async function rowText(table: Locator, text: string): Promise<string> {
  const row = table.getByRole('row').filter({ hasText: text }).first();
  await row.waitFor();
  return row.innerText();
}

/** A day `e` works, on or after `date`. */
function workingDayFrom(e: Employee, date: string): string {
  let day = date;
  while (!e.workingHours.days.includes(((new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7) + 1)) day = new Date(Date.parse(`${day}T00:00:00Z`) + DAY).toISOString().slice(0, 10);
  return day;
}

/** The text of the element that has the keyboard focus (a string expression: the root typecheck has no DOM). */
const focusedText = async (page: Page) => String(await page.evaluate("document.activeElement ? document.activeElement.textContent : ''"));

describe('access and operations pages (orchestration)', () => {
  let web: BrowserEms;
  const api = <T = Record<string, unknown>>(method: string, path: string, body?: unknown) => http<T>(web.base, method, path, body);
  const settledCase = (id: string, status: string) => waitFor(async () => ((await api<CaseBody>('GET', `/api/resignations/${id}`)).body.status === status ? true : undefined), `case ${id} ${status}`, 30_000);

  beforeAll(async () => {
    web = await startBrowserEms({ mode: 'orchestration', name: 'access_ops' });
  });
  afterAll(async () => {
    await web?.stop();
  });

  it('when an exit is confirmed, then IT sees the hold with the grants it suspended and the revocation at the end of the last day in the employee\'s zone, revokes now after a confirmation, and reads the audit with its actors and its hash chain, intact then broken', async () => {
    const leaver = PEOPLE[0]!;
    const submitted = await api<CaseBody>('POST', '/api/resignations', { employeeId: leaver.id, reason: 'Moving on' });
    expect(submitted.status).toBe(201);
    const caseId = submitted.body.id;
    await settledCase(caseId, 'awaiting_decision');
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: leaver.timezone }).format(new Date());
    const lastDay = workingDayFrom(leaver, new Date(Date.parse(`${today}T00:00:00Z`) + 21 * DAY).toISOString().slice(0, 10));
    expect((await api('POST', `/api/resignations/${caseId}/decision`, { decision: 'exit_confirmed', lastWorkingDay: lastDay })).status).toBeLessThan(300);
    await waitFor(async () => ((await api<{ items: unknown[] }>('GET', `/api/access-revocations?resignationId=${caseId}`)).body.items.length === 1 ? true : undefined), 'the revocation scheduled');

    // The Access page: the hold names exactly the critical systems; the revocation is at the end of the last day, in the employee's zone.
    const it = await web.signIn(ACCESS_ADMIN, { path: '/access' });
    const holds = it.getByRole('table', { name: /Active access holds/ });
    const holdRow = await rowText(holds, leaver.name);
    for (const system of systemsOf(leaver, 'critical')) expect(holdRow).toContain(system);
    for (const system of systemsOf(leaver, 'other')) expect(holdRow).not.toContain(system);
    const scheduled = it.getByRole('table', { name: /Scheduled revocations/ });
    const revocationRow = await rowText(scheduled, leaver.name);
    const lastDayWords = new Date(`${lastDay}T12:00:00Z`).toLocaleDateString('en-GB', { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' });
    expect(revocationRow).toContain(`the end of ${lastDayWords}`);
    expect(revocationRow).toContain('00:00');
    expect(revocationRow).toContain(leaver.timezone);
    await accessibleAtBothWidths(it, 'the access page');

    // The HR lead reads the same page, without the means to revoke.
    const lead = await web.signIn(HR_LEAD, { path: '/access' });
    await lead.getByRole('table', { name: /Scheduled revocations/ }).getByRole('row').filter({ hasText: leaver.name }).waitFor();
    expect(await lead.getByRole('button', { name: /Revoke now/ }).count()).toBe(0);
    await lead.close();

    // Someone else resigns while the page is open: their hold shows up on it, live.
    const next = PEOPLE[3]!;
    expect((await api('POST', '/api/resignations', { employeeId: next.id })).status).toBe(201);
    await holds.getByRole('row').filter({ hasText: next.name }).waitFor({ timeout: 30_000 });

    // The employee's access page: each critical grant suspended by the hold, the others active.
    await holds.getByRole('link', { name: leaver.name }).click();
    await it.getByRole('heading', { level: 1, name: `Access of ${leaver.name}` }).waitFor();
    const grants = it.getByRole('table', { name: /grants, critical systems first/ });
    for (const system of systemsOf(leaver, 'critical')) expect(await rowText(grants, system)).toMatch(/suspended by the hold of/i);
    for (const system of systemsOf(leaver, 'other')) expect(await rowText(grants, system)).toContain('Active');
    await accessibleAtBothWidths(it, "an employee's access page");

    // Revoke now: the dialog opens on Cancel, Escape closes it and gives focus back; confirming revokes everything.
    await it.getByRole('link', { name: 'All holds and revocations' }).click();
    const revokeButton = scheduled.getByRole('button', { name: new RegExp(`^Revoke now.*${leaver.name}`) });
    await revokeButton.click();
    const dialog = it.getByRole('dialog', { name: `Revoke all of ${leaver.name}'s access now?` });
    await dialog.waitFor();
    await dialog.getByText('These go:').waitFor();
    for (const system of [...systemsOf(leaver, 'critical'), ...systemsOf(leaver, 'other')]) await dialog.getByText(system, { exact: false }).first().waitFor();
    expect(await focusedText(it)).toBe('Cancel');
    await expectAccessible(it, 'the revoke-now dialog');
    await it.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await focusedText(it)).toContain('Revoke now');
    // Still scheduled: Escape changed nothing.
    expect((await api<{ items: Array<{ status: string }> }>('GET', `/api/access-revocations?resignationId=${caseId}`)).body.items[0]!.status).toBe('scheduled');
    await it.keyboard.press('Enter');
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Revoke now' }).click();
    await it.getByText(`${leaver.name}'s access is revoked`).waitFor();
    await it.getByText('No revocation is scheduled.').waitFor();
    await it.getByRole('table', { name: /last revocations carried out/ }).getByRole('row').filter({ hasText: leaver.name }).waitFor();
    const access = (await api<{ items: Array<{ status: string }> }>('GET', `/api/employees/${leaver.id}/access`)).body.items;
    expect(access.length).toBeGreaterThan(0);
    for (const g of access) expect(g.status).toBe('revoked');

    // The audit: the revocation's entries name the access administrator, their role and the web client; the chain is intact.
    await it.getByRole('link', { name: 'Access audit' }).first().click();
    await it.getByRole('heading', { level: 1, name: 'Access audit' }).waitFor();
    await it.getByText('Intact.').waitFor();
    const entries = it.getByRole('table', { name: /Access audit entries/ });
    const byAdmin = await rowText(entries, personName(ACCESS_ADMIN));
    expect(byAdmin).toContain('access administrator');
    expect(byAdmin).toContain('client web');
    expect(byAdmin).toMatch(/→ revoked/);
    await accessibleAtBothWidths(it, 'the access audit');

    // Filter by employee (kept in the address); a malformed id is refused next to the field.
    await it.getByLabel('Employee id').fill(leaver.id);
    await it.getByRole('button', { name: 'Show' }).click();
    await it.getByRole('heading', { level: 2, name: `Entries for ${leaver.name}` }).waitFor();
    expect(new URL(it.url()).searchParams.get('employeeId')).toBe(leaver.id);
    const rows = await entries.getByRole('row').filter({ has: it.getByRole('cell') }).allInnerTexts();
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r).toContain(leaver.name);
    await it.getByLabel('Employee id').fill('not an id!');
    await it.getByRole('button', { name: 'Show' }).click();
    await it.getByText('must be an employee id').waitFor();
    expect(await it.getByLabel('Employee id').getAttribute('aria-invalid')).toBe('true');
    expect(await it.getByLabel('Employee id').inputValue()).toBe('not an id!');

    // Someone alters an entry behind Access's back: "Check again" says where the chain breaks, and the row says so.
    const victim = (await web.ems.pool.query<{ id: number }>('SELECT id::int AS id FROM access.audit ORDER BY id LIMIT 1 OFFSET 1')).rows[0]!.id;
    await web.ems.pool.query('ALTER TABLE access.audit DISABLE TRIGGER USER');
    try {
      await web.ems.pool.query(`UPDATE access.audit SET reason = 'nothing to see' WHERE id = $1`, [victim]);
    } finally {
      await web.ems.pool.query('ALTER TABLE access.audit ENABLE TRIGGER USER');
    }
    await it.getByRole('link', { name: 'Show all' }).click();
    await it.getByRole('button', { name: 'Check again' }).click();
    await it.getByText(`Broken at entry #${victim}:`).waitFor();
    await it.getByText('its content was altered').waitFor();
    expect(await rowText(entries, 'Chain broken here')).toContain(`#${victim}`);
    await accessibleAtBothWidths(it, 'the access audit with a broken chain');
  });

  it('when the operator registers a webhook, then a private URL is refused next to the field with nothing typed lost, a public one shows its secret once, its deliveries appear live, and it can be deleted after a confirmation; the case page shows the workflow as a picture with its words', async () => {
    const op = await web.signIn(OPERATOR, { path: '/operations' });
    await op.getByRole('heading', { level: 1, name: 'Operations' }).waitFor();
    await op.getByText('No case is stuck').waitFor();
    await accessibleAtBothWidths(op, 'the operations page');

    await op.getByRole('link', { name: 'See the webhooks' }).click();
    await op.getByRole('heading', { level: 1, name: 'Webhooks' }).waitFor();
    await op.getByText('No webhook is registered.').waitFor();
    await op.getByLabel('URL').fill('http://127.0.0.1:9/hook');
    // No event type chosen: the server's refusal is shown by the event types, the URL kept.
    await op.getByRole('button', { name: 'Register' }).click();
    await op.locator('#event-types-error').waitFor();
    expect(await op.getByLabel('URL').inputValue()).toBe('http://127.0.0.1:9/hook');
    await op.getByLabel(/^com\.ems\.resignation\.submitted\.v1/).check();
    await op.getByLabel(/^com\.ems\.notification\.manager-notified\.v1/).check();
    await op.getByLabel('Description (optional)').fill('Payroll');
    await op.getByRole('button', { name: 'Register' }).click();
    await op.locator('.field-error').filter({ hasText: 'internal address' }).waitFor();
    expect(await op.getByLabel('URL').getAttribute('aria-invalid')).toBe('true');
    expect(await op.getByLabel('URL').inputValue()).toBe('http://127.0.0.1:9/hook');
    expect(await op.getByLabel(/^com\.ems\.resignation\.submitted\.v1/).isChecked()).toBe(true);
    expect(await op.getByLabel('Description (optional)').inputValue()).toBe('Payroll');
    await accessibleAtBothWidths(op, 'the webhooks page with a refused URL');

    await op.getByLabel('URL').fill('https://hooks.example.com/ems');
    await op.getByRole('button', { name: 'Register' }).click();
    await op.getByText('Its signing secret, shown this once').waitFor();
    expect(await op.locator('code.secret').innerText()).toMatch(/^whsec_/);
    expect(await op.getByLabel('URL').inputValue()).toBe('');
    const listed = op.getByRole('table', { name: 'Registered webhooks' });
    await listed.getByRole('link', { name: 'https://hooks.example.com/ems' }).click();
    await op.getByRole('heading', { level: 1, name: 'Webhook to hooks.example.com' }).waitFor();
    await op.getByText('Nothing delivered yet').waitFor();

    // An event it asked for: its delivery attempts show up on the open page, without reloading it.
    const employee = PEOPLE[1]!;
    const submitted = await api<CaseBody>('POST', '/api/resignations', { employeeId: employee.id });
    expect(submitted.status).toBe(201);
    const deliveries = op.getByRole('table', { name: 'Delivery attempts of this webhook' });
    await deliveries.getByRole('row').filter({ hasText: 'com.ems.resignation.submitted.v1' }).first().waitFor({ timeout: 30_000 });
    expect(await rowText(deliveries, 'com.ems.resignation.submitted.v1')).toMatch(/Failed|Dead-lettered/);
    await accessibleAtBothWidths(op, "a webhook's deliveries");

    await op.getByRole('button', { name: /^Delete/ }).click();
    const dialog = op.getByRole('dialog', { name: 'Delete this webhook?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await op.getByRole('heading', { level: 1, name: 'Webhooks' }).waitFor();
    await op.getByText('No webhook is registered.').waitFor();
    expect((await api<{ items: unknown[] }>('GET', '/api/webhooks')).body.items).toEqual([]);

    // The case's flow, as the operator sees it beside the timeline: the workflow's steps, in a picture and in words.
    await settledCase(submitted.body.id, 'awaiting_decision');
    await op.goto(web.url(`/cases/${submitted.body.id}`));
    await op.getByRole('heading', { level: 2, name: 'Flow (orchestration)' }).waitFor();
    await op.getByRole('img', { name: /Flow of the case of/ }).waitFor();
    const words = await op.locator('.flow-text').innerText();
    expect(words).toMatch(/Tell the manager — done/);
    expect(words).toMatch(/Book the exit interview — done/);
    expect(words).toMatch(/Suspend critical access — done/);
    expect(words).toContain('Decision: Awaiting the decision');
    await accessibleAtBothWidths(op, 'the case page with its flow');
  });

  it('when connected systems report on a case and the directory names a new manager, then the open case page shows each system verified or retrying with its error, the drift, and who is responsible now — live', async () => {
    const leaver = PEOPLE[2]!;
    const before = org.employees.find((e) => e.id === leaver.managerId)!;
    const after = PEOPLE.find((e) => e.id !== leaver.id && e.id !== before.id)!;
    const submitted = await api<CaseBody>('POST', '/api/resignations', { employeeId: leaver.id });
    expect(submitted.status).toBe(201);
    const caseId = submitted.body.id;
    const page = await web.signIn(ACCESS_ADMIN, { path: `/cases/${caseId}` });
    await page.getByRole('heading', { level: 2, name: 'Timeline' }).waitFor();
    expect(await page.getByRole('heading', { level: 2, name: 'Connected systems' }).count()).toBe(0);

    // The systems' names are held back until this test lets them through: until then, the page shows no id
    // that would turn into a name a moment later (as it did on a loaded machine).
    let releaseNames!: () => void;
    const namesReleased = new Promise<void>((resolve) => (releaseNames = resolve));
    await page.route(
      (url) => url.pathname === '/api/systems',
      async (route) => {
        await namesReleased;
        await route.continue();
      },
    );
    const now = new Date().toISOString();
    // One system Access knows (the page names it), one it does not (its id stands in).
    const known = org.systems.find((s) => s.critical)!;
    const change = { resignationId: caseId, employeeId: leaver.id, action: 'suspend', attempts: 1 };
    const event = (type: string, source: string, subject: string, data: Record<string, unknown>) => createEvent({ type, source, subject, correlationId: caseId, data });
    await web.ems.bus.publish(createKysely<unknown>(web.ems.pool, 'ems'), [
      event(EventTypes.systemAccessChanged, EventSources.access, caseId, {
        ...change,
        changeId: randomUUID(),
        systemId: known.id,
        connector: 'ldap',
        entitlements: ['cn=finance-approvers,ou=groups,dc=example,dc=com', 'cn=vpn-users,ou=groups,dc=example,dc=com'],
        verification: `bind as uid=${leaver.id},ou=people,dc=example,dc=com refused: account locked`,
        changedAt: now,
      }),
      event(EventTypes.systemAccessChangeFailed, EventSources.access, caseId, { ...change, changeId: randomUUID(), systemId: 'crm', connector: 'scim', entitlements: ['grp-42'], error: 'connect ECONNREFUSED 127.0.0.1:9443', willRetry: true, retryAt: new Date(Date.now() + 60_000).toISOString(), failedAt: now }),
      event(EventTypes.accessDriftDetected, EventSources.access, caseId, { resignationId: caseId, employeeId: leaver.id, driftId: randomUUID(), systemId: 'corp-ldap', kind: 'account_enabled', entitlement: null, detail: 'pwdAccountLockedTime was removed: the account can bind again.', detectedAt: now }),
      event(EventTypes.personChanged, EventSources.identity, leaver.id, {
        person: { id: leaver.id, name: leaver.name, email: leaver.email, title: leaver.title, department: null, location: null, timezone: leaver.timezone, workingHours: { days: leaver.workingHours.days, start: '09:00', end: '17:00' }, managerId: after.id, hrPartnerId: leaver.hrPartnerId, roles: [], active: true },
        version: 2,
        previous: { managerId: before.id, hrPartnerId: leaver.hrPartnerId, active: true },
        origin: 'import',
        changedAt: now,
      }),
    ]);
    // The open page follows without a reload: the section appears at once, waiting for the systems' names.
    const systems = page.getByRole('region', { name: 'Connected systems' });
    await systems.getByRole('status').filter({ hasText: 'Loading the connected systems' }).waitFor({ timeout: 30_000 });
    await waitFor(async () => ((await api<CaseBody>('GET', `/api/resignations/${caseId}`)).body.systems.length === 2 ? true : undefined), 'both system reports recorded', 30_000);
    expect(await page.locator('main').innerText()).not.toMatch(new RegExp(`\\b(${known.id}|crm): `));
    releaseNames();
    await systems.getByText('Drift found').waitFor({ timeout: 30_000 });
    await systems.getByText(/Attempt 1 failed: connect ECONNREFUSED 127\.0\.0\.1:9443\. Access tries again at/).waitFor();
    // Each report reaches the page on its own (the events are handled apart, in no set order): wait for each before reading.
    await systems.getByText(`Verified: bind as uid=${leaver.id},ou=people,dc=example,dc=com refused: account locked`).waitFor();
    const text = await systems.innerText();
    expect(text).toContain(`${known.name}: suspend access`);
    expect(text).toContain(`Verified: bind as uid=${leaver.id},ou=people,dc=example,dc=com refused: account locked`);
    expect(text).toContain('crm: suspend access');
    expect(text).toContain('Account re-enabled in corp-ldap during the hold.');
    // The timeline names the system Access knows.
    await page.getByRole('list').filter({ hasText: `${known.name}: access suspended (2 entitlements taken away), verified — bind as uid=${leaver.id}` }).first().waitFor();
    expect(text).toContain('LDAP directory · entitlements: cn=finance-approvers,ou=groups,dc=example,dc=com, cn=vpn-users,ou=groups,dc=example,dc=com');
    await page.getByText(`Manager: ${after.name} (was ${before.name} at submission)`).waitFor();
    await page.getByRole('list').filter({ hasText: `Manager is now ${after.name} (was ${before.name})` }).first().waitFor();
    await accessibleAtBothWidths(page, 'the case page with connected systems, a drift and a new manager');

    // IT's access page lists every system with how Access reaches it (the demo's are built-in: rows in EMS only).
    await page.goto(web.url('/access'));
    const systemsTable = page.getByRole('table', { name: /Systems and how Access reaches them/ });
    expect(await rowText(systemsTable, known.name)).toMatch(/Critical: suspended during a hold\s+Built-in \(EMS only\)/);
    // …and the open drifts, with a reconciliation on demand (the demo has no connected system to read).
    await page.getByRole('heading', { level: 2, name: 'Open drifts (0)' }).waitFor();
    await page.getByText('Every connected system matches what Access holds.').waitFor();
    await page.getByRole('button', { name: 'Check connected systems now' }).click();
    await page.getByRole('status').filter({ hasText: 'Checked 0 connected systems: 0 new drifts, 0 open.' }).waitFor();
    await accessibleAtBothWidths(page, 'the access page with its systems');
  });
});

describe('access and operations pages (choreography)', () => {
  let web: BrowserEms;
  const api = <T = Record<string, unknown>>(method: string, path: string, body?: unknown) => http<T>(web.base, method, path, body);

  beforeAll(async () => {
    // The fifth service (IT asset recovery) joins, for the extensions page.
    web = await startBrowserEms({ mode: 'choreography', name: 'access_ops_choreo', env: { EMS_EXTENSIONS: '@ems/assets' } });
  });
  afterAll(async () => {
    await web?.stop();
  });

  it('when Access fails a case for good, then the operator sees it stuck live with the failed step named, replays its dead letter after a confirmation, and the case moves on — its flow showing what each participant published', async () => {
    const op = await web.signIn(OPERATOR, { path: '/operations' });
    await op.getByText('No case is stuck').waitFor();
    // A second tab on the dead letters, open before anything fails.
    const lettersTab = await web.signIn(OPERATOR, { path: '/operations/dead-letters' });
    await lettersTab.getByText('No open dead letters').waitFor();

    const broken = PEOPLE[2]!;
    const subscriber = 'access.suspend-access-when-resignation-submitted';
    await web.ems.pool.query('ALTER TABLE access.holds RENAME TO holds_unavailable');
    let caseId: string;
    try {
      const res = await api<CaseBody>('POST', '/api/resignations', { employeeId: broken.id });
      expect(res.status).toBe(201);
      caseId = res.body.id;
      // The open page shows it, live: the case stuck, its failed step named.
      const stuck = op.getByRole('table', { name: /Stuck cases/ });
      await stuck.getByRole('row').filter({ hasText: broken.name }).filter({ hasText: 'Suspend critical access' }).filter({ hasText: 'Failed' }).waitFor({ timeout: 30_000 });
      await waitFor(async () => ((await api<{ items: Array<{ eventId: string | null }> }>('GET', `/api/dead-letters?subscriber=${subscriber}`)).body.items.some((d) => d.eventId === caseId) ? true : undefined), 'the dead letter', 30_000);
    } finally {
      await web.ems.pool.query('ALTER TABLE access.holds_unavailable RENAME TO holds');
    }
    await accessibleAtBothWidths(op, 'the operations page with a stuck case');
    // The dead letter reached the open tab by itself (the page follows dead-letter updates).
    await lettersTab.getByRole('table', { name: 'Open dead letters' }).getByRole('row').filter({ hasText: subscriber }).waitFor({ timeout: 30_000 });
    await lettersTab.close();

    await op.getByRole('link', { name: 'See the dead letters' }).click();
    await op.getByRole('heading', { level: 1, name: 'Dead letters' }).waitFor();
    const letters = op.getByRole('table', { name: 'Open dead letters' });
    const row = await rowText(letters, subscriber);
    expect(row).toContain('com.ems.resignation.submitted.v1');
    expect(row).toMatch(/holds/);
    await accessibleAtBothWidths(op, 'the dead letters');

    await letters.getByRole('row').filter({ hasText: subscriber }).getByRole('link', { name: 'com.ems.resignation.submitted.v1' }).click();
    await op.getByRole('heading', { level: 1, name: 'Dead letter: com.ems.resignation.submitted.v1' }).waitFor();
    expect(await op.getByRole('region', { name: /The event as received/ }).innerText()).toContain(caseId);
    await accessibleAtBothWidths(op, 'a dead letter');
    await op.getByRole('button', { name: /^Replay/ }).click();
    const dialog = op.getByRole('dialog', { name: 'Replay com.ems.resignation.submitted.v1?' });
    await dialog.waitFor();
    expect(await focusedText(op)).toBe('Cancel');
    await dialog.getByRole('button', { name: 'Replay' }).click();
    await op.getByText(`Sent to ${subscriber} again`).waitFor();
    await op.getByRole('button', { name: /^Replay/ }).waitFor({ state: 'detached' });

    // The list no longer has it; the case moves on, and the operations page no longer lists it as stuck.
    await op.getByRole('link', { name: 'All dead letters' }).click();
    await op.getByText('No open dead letters').waitFor();
    await waitFor(async () => ((await api<CaseBody>('GET', `/api/resignations/${caseId}`)).body.status === 'awaiting_decision' ? true : undefined), 'the case to move on', 30_000);
    await op.getByRole('link', { name: 'Operations', exact: true }).first().click();
    await op.getByText('No case is stuck').waitFor();

    // The flow in choreography: the events each participant published, Access's suspension among them.
    await op.goto(web.url(`/cases/${caseId}`));
    await op.getByRole('heading', { level: 2, name: 'Flow (choreography)' }).waitFor();
    const words = await op.locator('.flow-text').innerText();
    expect(words).toMatch(/Access published .*Critical access suspended/);
    expect(words).toMatch(/Notification published .*Manager notified/);
    expect(words).toMatch(/HR published .*Exit interview scheduled/);
    expect(words).toMatch(/IT asset recovery published .*Recovery task opened/);
    await accessibleAtBothWidths(op, 'a choreography case page with its flow');

    // The extensions page: what the extension subscribes to, publishes and adds to the API.
    await op.goto(web.url('/operations/extensions'));
    await op.getByRole('heading', { level: 2, name: /^assets/ }).waitFor();
    const extension = await op.locator('section.extension').innerText();
    expect(extension).toContain('com.ems.resignation.submitted.v1');
    expect(extension).toContain('com.ems.assets.recovery-task-opened.v1');
    expect(extension).toContain('GET /api/asset-recovery-tasks');
    await accessibleAtBothWidths(op, 'the extensions page');
  });
});
