/**
 * A split deployment (one process per service, `ems start --service …`, on one database) with the trust
 * boundary between them: each process holds only its own service's credentials (the identity service alone
 * holds the secrets key); a service called with another service's token, or with a person's token where a
 * service's is required, answers 403; a token issued for another service's audience is refused (401); and
 * Access checks with EMS — over HTTP, with its own token — that a case exists before it suspends anything.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '@ems/platform';
import { createTestDatabase, requestJson, waitFor, type TestDatabase } from '@ems/platform/testing';
import { clientSecretFor, createSecrets } from '@ems/identity';
import { serviceToken, TEST_SECRETS_KEY } from '@ems/identity/testing';
import { demoOrg } from '@ems/demo-org';
import { EMS_BIN, emsProcesses } from './support/ems-process.ts';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.ts';
import { tokenFor, useProvider } from './support/auth.ts';
import { rolePassword, roleUrl } from '../packages/server/src/database-roles.ts';

const execFileAsync = promisify(execFile);
const secrets = createSecrets(Buffer.from(TEST_SECRETS_KEY, 'base64'));
const org = demoOrg();
const EMP = org.employees.find((e) => e.managerId && e.departmentId === 'eng')!;

describe('a split deployment, service to service', () => {
  let db: TestDatabase;
  let smtp: SmtpSink;
  const processes = emsProcesses();
  const base: Record<'identity' | 'ems' | 'access' | 'notification', string> = { identity: '', ems: '', access: '', notification: '' };
  let caseId: string;

  beforeAll(async () => {
    db = await createTestDatabase(inject('testServerUrl'), 'split_auth');
    smtp = await startSmtpSink();
    // As the admin, with the key: `ems migrate` makes each service's role, its password derived from the key.
    const cli = (...args: string[]) => execFileAsync(process.execPath, [EMS_BIN, ...args], { env: { ...process.env, EMS_DATABASE_URL: db.url, EMS_SECRETS_KEY: TEST_SECRETS_KEY }, timeout: 120_000 });
    await cli('migrate');
    await cli('seed');
    const ports = { identity: await freePort(), ems: await freePort(), access: await freePort(), notification: await freePort() };
    for (const k of Object.keys(ports) as Array<keyof typeof ports>) base[k] = `http://127.0.0.1:${ports[k]}`;
    const shared = {
      EMS_DATABASE_URL: db.url,
      EMS_MODE: 'choreography',
      EMS_LOG_LEVEL: 'error',
      EMS_PUBLIC_URL: base.identity,
      EMS_IDENTITY_URL: base.identity,
      EMS_CASES_URL: base.ems,
      EMS_SMTP_URL: smtp.url,
      // Nothing from the parent may leak a key into a service process.
      EMS_SECRETS_KEY: '',
      EMS_SECRETS_KEY_FILE: '',
    };
    // Each process logs in as its service's role (the URL `ems credentials` prints), never as the admin.
    const own = (service: 'ems' | 'notification' | 'access') => ({
      [`EMS_SERVICE_CLIENT_SECRET_${service.toUpperCase()}`]: clientSecretFor(secrets, `ems-service-${service}`),
      EMS_DATABASE_URL: roleUrl(db.url, service, rolePassword(secrets, db.name, service)),
    });
    await processes.start({ ...shared, EMS_PORT: String(ports.identity), EMS_SECRETS_KEY: TEST_SECRETS_KEY }, { args: ['start', '--service', 'identity'] });
    await processes.start({ ...shared, EMS_PORT: String(ports.ems), ...own('ems') }, { args: ['start', '--service', 'ems'] });
    await processes.start({ ...shared, EMS_PORT: String(ports.access), ...own('access') }, { args: ['start', '--service', 'access'] });
    await processes.start({ ...shared, EMS_PORT: String(ports.notification), ...own('notification') }, { args: ['start', '--service', 'notification'] });
    for (const b of [base.ems, base.access, base.notification]) useProvider(b, base.identity);
    // A real case, submitted by the employee at EMS.
    const submitted = await requestJson<{ id: string }>(base.ems, 'POST', '/api/resignations', { employeeId: EMP.id }, { authorization: `Bearer ${await tokenFor(base.identity, EMP.id)}` });
    expect(submitted.status).toBe(201);
    caseId = submitted.body.id;
    // Choreography: Access, in its own process, hears of the case on the bus and suspends the access itself.
    await waitFor(async () => ((await holdsOfCase()).length === 1 ? true : undefined), 'Access to suspend the access of the case (by the event)');
  }, 180_000);

  const holdsOfCase = async () =>
    (await requestJson<{ items: Array<{ id: string }> }>(base.access, 'GET', `/api/access-holds?resignationId=${caseId}`, undefined, { authorization: `Bearer ${await tokenFor(base.identity, 'E1004')}` })).body.items;
  const auditRows = async () => Number((await requestJson<{ items: unknown[] }>(base.access, 'GET', `/api/access-audit?employeeId=${EMP.id}&limit=500`, undefined, { authorization: `Bearer ${await tokenFor(base.identity, 'E1004')}` })).body.items.length);

  afterAll(async () => {
    processes.killAll();
    await smtp?.stop();
    await db?.drop();
  });

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const orchestratorFor = (target: 'access' | 'notification' | 'hr') => serviceToken(base.identity, secrets, 'ems', target);

  it('when Access is called with a person’s token where a service’s is required, then 403 naming the permission, and nothing is suspended', async () => {
    const audited = await auditRows();
    const res = await requestJson<{ permission: string }>(base.access, 'POST', '/api/access-holds', { resignationId: caseId, employeeId: EMP.id }, bearer(await tokenFor(base.identity, 'hr-lead')));
    expect(res.status).toBe(403);
    expect(res.body.permission).toBe('suspendAccess');
    const release = await requestJson<{ permission: string }>(base.access, 'POST', `/api/access-holds/${(await holdsOfCase())[0]!.id}/release`, {}, bearer(await tokenFor(base.identity, 'hr-lead')));
    expect(release.status).toBe(403);
    expect(await holdsOfCase()).toHaveLength(1);
    expect(await auditRows()).toBe(audited);
  });

  it('when EMS is called with another service’s token, then 403: Access may read a case, never decide one', async () => {
    const accessToken = await serviceToken(base.identity, secrets, 'access', 'ems');
    expect((await requestJson(base.ems, 'GET', `/api/resignations/${caseId}`, undefined, bearer(accessToken))).status).toBe(200);
    const decided = await requestJson<{ permission: string }>(base.ems, 'POST', `/api/resignations/${caseId}/decision`, { decision: 'retained' }, bearer(accessToken));
    expect(decided.status).toBe(403);
    expect(decided.body.permission).toBe('decideResignation');
  });

  it('when Notification is called with a token issued for Access, then 401 — a process accepts only its own services’ audiences', async () => {
    const forAccess = await orchestratorFor('access');
    const res = await fetch(`${base.notification}/api/emails`, {
      method: 'POST',
      headers: { ...bearer(forAccess), 'content-type': 'application/json' },
      body: JSON.stringify({ resignationId: caseId, purpose: 'manager-notice', to: { email: 'x@acme.example' }, template: 'resignation-manager-notice', data: {} }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/invalid_token/);
  });

  it('when the orchestrator’s token asks Access to suspend, then Access asks EMS (over HTTP, with its own token) whether the case is real and the employee’s', async () => {
    const orchestrator = bearer(await orchestratorFor('access'));
    const unknown = await requestJson<{ type: string }>(base.access, 'POST', '/api/access-holds', { resignationId: '00000000-0000-4000-8000-000000000001', employeeId: EMP.id }, orchestrator);
    expect(unknown.status).toBe(404);
    expect(unknown.body.type).toBe('https://ems.dev/problems/unknown-case');
    const other = org.employees.find((e) => e.id !== EMP.id && e.managerId)!;
    const mismatch = await requestJson<{ type: string }>(base.access, 'POST', '/api/access-holds', { resignationId: caseId, employeeId: other.id }, orchestrator);
    expect(mismatch.status).toBe(409);
    expect(mismatch.body.type).toBe('https://ems.dev/problems/case-mismatch');
    const ok = await requestJson<{ employeeId: string; suspendedGrants: unknown[] }>(base.access, 'POST', '/api/access-holds', { resignationId: caseId, employeeId: EMP.id }, orchestrator);
    expect([200, 201]).toContain(ok.status);
    expect(ok.body.employeeId).toBe(EMP.id);
  });

  it('when Notification is asked to email an address that is not the case’s manager, then 422 and nothing is sent; the manager gets the notice', async () => {
    const orchestrator = bearer(await orchestratorFor('notification'));
    const manager = org.employees.find((e) => e.id === EMP.managerId)!;
    const notice = (email: string) => ({
      resignationId: caseId,
      purpose: 'manager-notice',
      to: { email },
      template: 'resignation-manager-notice',
      data: { managerName: manager.name, employeeName: EMP.name, employeeId: EMP.id, lastWorkingDay: '2027-01-29', caseUrl: 'https://evil.example/phish' },
    });
    const refused = await requestJson(base.notification, 'POST', '/api/emails', notice('attacker@evil.example'), orchestrator);
    expect(refused.status).toBe(422);
    const sent = await requestJson<{ to: string }>(base.notification, 'POST', '/api/emails', notice(manager.email), orchestrator);
    expect([200, 201]).toContain(sent.status);
    const mail = await waitFor(() => smtp.messages.find((m) => [m.to].flat().some((a) => a?.value.some((v) => v.address === manager.email))), 'the manager notice over SMTP');
    expect(mail.text).not.toContain('evil.example');
    expect(smtp.messages.some((m) => [m.to].flat().some((a) => a?.value.some((v) => v.address === 'attacker@evil.example')))).toBe(false);
  });
});
