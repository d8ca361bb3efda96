/**
 * The systems file at start-up (EMS_ACCESS_SYSTEMS_FILE): a mistake in it stops `ems start` as a
 * configuration error naming the system and field, never a secret; a good one puts its systems in
 * Access with their connector, shown by GET /api/systems without the credentials.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '@ems/platform';
import { createTestDatabase, waitFor, type TestDatabase } from '@ems/platform/testing';
import { TEST_SECRETS_KEY } from '@ems/identity/testing';
import { access } from '@ems/contracts';
import { ACCESS_ADMIN, http, tokenFor } from './support/auth.ts';
import { emsProcesses } from './support/ems-process.ts';

describe('the systems file at start-up', () => {
  let db: TestDatabase;
  let dir: string;
  const processes = emsProcesses();
  beforeAll(async () => {
    db = await createTestDatabase(inject('testServerUrl'), 'systems_file');
    dir = await mkdtemp(path.join(tmpdir(), 'ems-systems-file-'));
  });
  afterAll(async () => {
    processes.killAll();
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  const scim = { baseUrl: 'https://idp.example.com/scim/v2', tokenFile: 'idp.token', userFilter: 'userName eq "{email}"' };
  const TOKEN = 'scim-bearer-5ecret-do-not-print';

  it('when the systems file names an unknown connector type and a bad setting, then start-up stops naming each by system and field, and prints no secret', async () => {
    const file = path.join(dir, 'bad.json');
    await writeFile(
      file,
      JSON.stringify({
        systems: [
          { id: 'krb', name: 'Kerberos', critical: true, connector: { type: 'kerberos', settings: {} } },
          { id: 'idp', name: 'IdP', critical: true, connector: { type: 'scim', settings: { ...scim, tokenFile: undefined, token: TOKEN, baseUrl: 'ftp://idp.example.com' } } },
        ],
      }),
    );
    const ems = await processes.start({ EMS_DATABASE_URL: db.url, EMS_PORT: String(await freePort()), EMS_SECRETS_KEY: TEST_SECRETS_KEY, EMS_ACCESS_SYSTEMS_FILE: file, EMS_LOG_LEVEL: 'info' }, { readyText: null });
    await waitFor(() => (ems.child.exitCode !== null || ems.output().includes('EMS is up') ? true : undefined), 'ems to exit', 60_000);
    expect(ems.child.exitCode, ems.output()).toBe(78);
    expect(ems.output()).toContain(`EMS_ACCESS_SYSTEMS_FILE (${file}): systems[0].connector.type: unknown connector type "kerberos"`);
    expect(ems.output()).toContain(`EMS_ACCESS_SYSTEMS_FILE (${file}): systems[1].connector.settings.baseUrl:`);
    expect(ems.output()).not.toContain(TOKEN);
    expect(ems.output()).not.toContain('EMS is up');
  });

  it('when the systems file is good, then its systems are in Access with their connector type, GET /api/systems never shows the credentials; a process without the file leaves them connected; a file that leaves one out makes it built-in again', async () => {
    const file = path.join(dir, 'good.json');
    await writeFile(path.join(dir, 'idp.token'), `${TOKEN}\n`);
    await writeFile(
      file,
      JSON.stringify({
        systems: [
          { id: 'idp', name: 'Identity provider', critical: true, connector: { type: 'scim', settings: scim } },
          { id: 'intranet', name: 'Intranet', critical: false, connector: { type: 'builtin' } },
        ],
      }),
    );
    const port = await freePort();
    const ems = await processes.start({ EMS_DATABASE_URL: db.url, EMS_PORT: String(port), EMS_SECRETS_KEY: TEST_SECRETS_KEY, EMS_ACCESS_SYSTEMS_FILE: file, EMS_LOG_LEVEL: 'info' });
    const base = `http://127.0.0.1:${port}`;
    const res = await http<unknown>(base, 'GET', access.AccessPaths.systems, undefined, { authorization: `Bearer ${await tokenFor(base, ACCESS_ADMIN)}` });
    expect(res.status).toBe(200);
    const items = access.SystemList.parse(res.body).items;
    expect(items.find((s) => s.id === 'idp')).toMatchObject({ name: 'Identity provider', critical: true, connector: { type: 'scim' } });
    expect(items.find((s) => s.id === 'intranet')).toMatchObject({ critical: false, connector: { type: 'builtin', settings: {} } });
    expect(JSON.stringify(res.body)).not.toContain(TOKEN);
    expect(ems.output()).not.toContain(TOKEN);
    await ems.stop();

    // Started without the file (a replica someone forgot to give it): the system stays connected — its changes wait
    // for a process that has the file instead of failing — and the log says so.
    const again = await processes.start({ EMS_DATABASE_URL: db.url, EMS_PORT: String(port), EMS_SECRETS_KEY: TEST_SECRETS_KEY, EMS_LOG_LEVEL: 'info' });
    const after = await http<unknown>(base, 'GET', access.AccessPaths.systems, undefined, { authorization: `Bearer ${await tokenFor(base, ACCESS_ADMIN)}` });
    expect(access.SystemList.parse(after.body).items.find((s) => s.id === 'idp')).toMatchObject({ name: 'Identity provider', connector: { type: 'scim' } });
    expect(again.output()).toContain('not in this process, which has no EMS_ACCESS_SYSTEMS_FILE');
    expect(again.output()).toContain('idp');
    await again.stop();

    // Started with a file that leaves the system out: built-in again (its rows stay; changes still pending for it fail at once).
    const without = path.join(dir, 'without-idp.json');
    await writeFile(without, JSON.stringify({ systems: [{ id: 'intranet', name: 'Intranet', critical: false, connector: { type: 'builtin' } }] }));
    const third = await processes.start({ EMS_DATABASE_URL: db.url, EMS_PORT: String(port), EMS_SECRETS_KEY: TEST_SECRETS_KEY, EMS_ACCESS_SYSTEMS_FILE: without, EMS_LOG_LEVEL: 'info' });
    const last = await http<unknown>(base, 'GET', access.AccessPaths.systems, undefined, { authorization: `Bearer ${await tokenFor(base, ACCESS_ADMIN)}` });
    expect(access.SystemList.parse(last.body).items.find((s) => s.id === 'idp')).toMatchObject({ name: 'Identity provider', connector: { type: 'builtin', settings: {} } });
    await third.stop();
  });
});
