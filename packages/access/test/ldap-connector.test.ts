/**
 * The LDAP connector against a real OpenLDAP slapd (test/support/slapd.ts: a private server on a free
 * loopback port with ppolicy). What a person sees is a bind with their own password: refused while
 * suspended or revoked, accepted again once restored. The oracle is ldap-utils (ldapwhoami, ldapsearch),
 * not the connector's own client.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlapd, type Slapd } from '../../../test/support/slapd.ts';
import { ConnectorError, type Connector, type ConnectorChange, type ConnectorContext } from '../src/connectors/connector.ts';
import { ldapConnector, type LdapSettings } from '../src/connectors/ldap/index.ts';

const logged: string[] = [];
const context: ConnectorContext = {
  systemId: 'corp-ldap',
  log: {
    info: (o, m) => logged.push(JSON.stringify([o, m])),
    warn: (o, m) => logged.push(JSON.stringify([o, m])),
    error: (o, m) => logged.push(JSON.stringify([o, m])),
  },
  readSecretFile: (p) => {
    throw new Error(`unexpected secret file ${p}`);
  },
};

let slapd: Slapd;
const signal = () => AbortSignal.timeout(30_000);

function settings(s: Slapd, extra: Record<string, unknown> = {}): LdapSettings {
  return ldapConnector.parseSettings({
    url: s.url,
    bindDn: s.serviceDn,
    bindPassword: s.servicePassword,
    userDn: `uid={id},${s.peopleBase}`,
    groups: { entitlement: 'dn', base: s.groupsBase, placeholderMember: s.placeholderDn },
    timeout: '3s',
    connectTimeout: '1s',
    ...extra,
  });
}

const connectorFor = (s: Slapd, extra: Record<string, unknown> = {}): Connector => ldapConnector.create(settings(s, extra), context);

let n = 0;
const change = (action: ConnectorChange['action'], employeeId: string, entitlements: string[]): ConnectorChange => ({
  changeId: `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
  action,
  account: { employeeId, email: `${employeeId}@example.test` },
  entitlements,
});

async function failure(p: Promise<unknown>): Promise<ConnectorError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConnectorError);
  return err as ConnectorError;
}

beforeAll(async () => {
  slapd = await startSlapd({ name: 'acme', serviceCanDelete: true });
  await slapd.addPeople([
    { uid: 'e1001', password: 'ada-secret-1', mail: 'e1001@example.test' },
    { uid: 'e1002', password: 'bob-secret-2', mail: 'e1002@example.test' },
    { uid: 'e1003', password: 'cy-secret-3', mail: 'e1003@example.test' },
    { uid: 'e1004', password: 'di-secret-4', mail: 'e1004@example.test' },
    { uid: 'e1005', password: 'ed-secret-5', mail: 'e1005@example.test' },
  ]);
  await slapd.addGroup({ cn: 'finance', members: ['e1001', 'e1002', 'e1005'] });
  await slapd.addGroup({ cn: 'payroll', members: ['e1001', 'e1005'] });
  await slapd.addGroup({ cn: 'wiki', members: ['e1001', 'e1002', 'e1003', 'e1005'] });
  await slapd.addGroup({ cn: 'solo', members: ['e1003'] });
});

afterAll(async () => {
  await slapd?.stop();
});

describe('LDAP connector against slapd', () => {
  it('when a hold suspends a person, then a bind with their real password fails (49) and the critical groups no longer list them; when it is restored, the bind succeeds and exactly those groups are back', async () => {
    const ldap = connectorFor(slapd);
    const critical = [slapd.groupDn('finance'), slapd.groupDn('payroll')];
    expect(await slapd.bindAs('e1001', 'ada-secret-1')).toBe('ok');

    const suspended = await ldap.apply(change('suspend', 'e1001', critical), signal());
    expect(await slapd.bindAs('e1001', 'ada-secret-1')).toBe('invalidCredentials');
    expect((await slapd.entry(slapd.personDn('e1001')))?.pwdAccountLockedTime).toEqual(['000001010000Z']);
    expect(await slapd.members('finance')).not.toContain(slapd.personDn('e1001'));
    expect(await slapd.members('payroll')).not.toContain(slapd.personDn('e1001'));
    // Not a critical group: untouched.
    expect(await slapd.members('wiki')).toContain(slapd.personDn('e1001'));
    expect(suspended.verification).toContain('account locked');
    expect(suspended.verification).toContain('pwdAccountLockedTime=000001010000Z read back');
    // The probe bind on a locked account is not a failed login.
    expect((await slapd.entry(slapd.personDn('e1001')))?.pwdFailureTime).toBeUndefined();

    const restored = await ldap.apply(change('restore', 'e1001', critical), signal());
    expect(await slapd.bindAs('e1001', 'ada-secret-1')).toBe('ok');
    expect((await slapd.entry(slapd.personDn('e1001')))?.pwdAccountLockedTime).toBeUndefined();
    expect(await slapd.members('finance')).toEqual([slapd.personDn('e1001'), slapd.personDn('e1002'), slapd.personDn('e1005')].sort());
    expect(await slapd.members('payroll')).toEqual([slapd.personDn('e1001'), slapd.personDn('e1005')].sort());
    expect(restored.verification).toContain('unlocked');
    expect(restored.verification).toContain(`member of ${critical.join('; ')} again`);
    await ldap.close();
  });

  it('when the same change is applied twice (a retry), then the second succeeds and the directory is as after one', async () => {
    const ldap = connectorFor(slapd);
    const groups = [slapd.groupDn('finance')];
    const suspend = change('suspend', 'e1002', groups);
    await ldap.apply(suspend, signal());
    const again = await ldap.apply(suspend, signal());
    expect(again.verification).toContain('(was not)');
    expect(await slapd.bindAs('e1002', 'bob-secret-2')).toBe('invalidCredentials');
    expect(await slapd.members('finance')).not.toContain(slapd.personDn('e1002'));

    const restore = change('restore', 'e1002', groups);
    await ldap.apply(restore, signal());
    await ldap.apply(restore, signal());
    expect(await slapd.bindAs('e1002', 'bob-secret-2')).toBe('ok');
    expect((await slapd.members('finance')).filter((m) => m === slapd.personDn('e1002'))).toHaveLength(1);
    await ldap.close();
  });

  it('when access is revoked, then the person cannot bind and is in none of the listed groups; the last member of a group leaves the placeholder', async () => {
    const ldap = connectorFor(slapd);
    const all = [slapd.groupDn('wiki'), slapd.groupDn('solo')];
    const revoked = await ldap.apply(change('revoke', 'e1003', all), signal());
    expect(await slapd.bindAs('e1003', 'cy-secret-3')).toBe('invalidCredentials');
    expect(await slapd.members('wiki')).not.toContain(slapd.personDn('e1003'));
    expect(await slapd.members('solo')).toEqual([slapd.placeholderDn.toLowerCase()]);
    expect(revoked.verification).toContain('account locked');
    // Repeated: still success.
    await ldap.apply(change('revoke', 'e1003', all), signal());
    await ldap.close();
  });

  it('when revoke is set to delete, then the entry is gone, a bind fails, and a repeat succeeds', async () => {
    const ldap = connectorFor(slapd, { revoke: 'delete' });
    const all = [slapd.groupDn('finance'), slapd.groupDn('payroll'), slapd.groupDn('wiki')];
    const revoked = await ldap.apply(change('revoke', 'e1005', all), signal());
    expect(await slapd.entry(slapd.personDn('e1005'))).toBeUndefined();
    expect(await slapd.bindAs('e1005', 'ed-secret-5')).toBe('invalidCredentials');
    for (const g of ['finance', 'payroll', 'wiki']) expect(await slapd.members(g)).not.toContain(slapd.personDn('e1005'));
    expect(revoked.verification).toContain('entry deleted');
    const again = await ldap.apply(change('revoke', 'e1005', all), signal());
    expect(again.verification).toContain('already absent');
    await ldap.close();
  });

  it('when the person has no entry, then the change fails permanently with no such object (32)', async () => {
    const ldap = connectorFor(slapd);
    const err = await failure(ldap.apply(change('suspend', 'e9999', [slapd.groupDn('finance')]), signal()));
    expect(err.transient).toBe(false);
    expect(err.code).toBe('32');
    expect(err.message).toContain('e9999');
    await ldap.close();
  });

  it('when the service password is wrong, then the change fails permanently (49) and no message or log line carries the password', async () => {
    const wrong = 'not-the-service-password-xyz';
    const ldap = connectorFor(slapd, { bindPassword: wrong });
    const err = await failure(ldap.apply(change('suspend', 'e1004', []), signal()));
    expect(err.transient).toBe(false);
    expect(err.code).toBe('49');
    expect(err.message).toContain('invalid credentials');
    expect(`${err.message} ${String((err.cause as Error | undefined)?.message)}`).not.toContain(wrong);
    expect(logged.join('\n')).not.toContain(wrong);
    expect(logged.join('\n')).not.toContain(slapd.servicePassword);
    expect(await slapd.bindAs('e1004', 'di-secret-4')).toBe('ok');
    await ldap.close();
  });

  it('when the service account may not write, then the change fails permanently with insufficient access (50)', async () => {
    // The rootdn's rights are not needed; a person's own account has none of the service account's.
    const ldap = ldapConnector.create(settings(slapd, { bindDn: slapd.personDn('e1004'), bindPassword: 'di-secret-4' }), context);
    const err = await failure(ldap.apply(change('suspend', 'e1002', []), signal()));
    expect(err.transient).toBe(false);
    expect(err.code).toBe('50');
    await ldap.close();
  });

  it('when slapd is down, then the change fails as transient; once it is back, the same change succeeds', async () => {
    const ldap = connectorFor(slapd);
    const suspend = change('suspend', 'e1004', [slapd.groupDn('wiki')]);
    await slapd.down();
    try {
      const err = await failure(ldap.apply(suspend, signal()));
      expect(err.transient).toBe(true);
      expect(err.message).toContain('did not answer');
    } finally {
      await slapd.up();
    }
    await ldap.apply(suspend, signal());
    expect(await slapd.bindAs('e1004', 'di-secret-4')).toBe('invalidCredentials');
    await ldap.apply(change('restore', 'e1004', []), signal());
    expect(await slapd.bindAs('e1004', 'di-secret-4')).toBe('ok');
    await ldap.close();
  });

  it('when someone removes the lock outside EMS, then inspect shows the account enabled again and its groups', async () => {
    const ldap = connectorFor(slapd);
    await ldap.apply(change('suspend', 'e1002', [slapd.groupDn('finance')]), signal());
    expect(await ldap.inspect!({ employeeId: 'e1002', email: null }, signal())).toEqual({ exists: true, enabled: false, entitlements: [slapd.groupDn('wiki')] });

    await slapd.modify(`dn: ${slapd.personDn('e1002')}\nchangetype: modify\ndelete: pwdAccountLockedTime\n`);
    await slapd.modify(`dn: ${slapd.groupDn('payroll')}\nchangetype: modify\nadd: member\nmember: ${slapd.personDn('e1002')}\n`);
    expect(await slapd.bindAs('e1002', 'bob-secret-2')).toBe('ok');
    expect(await ldap.inspect!({ employeeId: 'e1002', email: null }, signal())).toEqual({
      exists: true,
      enabled: true,
      entitlements: [slapd.groupDn('payroll'), slapd.groupDn('wiki')].sort(),
    });
    expect(await ldap.inspect!({ employeeId: 'e9999', email: null }, signal())).toEqual({ exists: false, enabled: false, entitlements: [] });
    await ldap.close();
  });

  it('when people are found by a search on their email and groups are named by cn, then an injected filter finds nobody', async () => {
    const ldap = connectorFor(slapd, {
      userDn: undefined,
      userSearch: { base: slapd.peopleBase, filter: '(&(objectClass=inetOrgPerson)(mail={email}))' },
      groups: { entitlement: 'cn', dn: `cn={cn},${slapd.groupsBase}`, placeholderMember: slapd.placeholderDn },
    });
    await ldap.apply({ ...change('suspend', 'ignored', ['payroll']), account: { employeeId: 'x', email: 'e1001@example.test' } }, signal());
    expect(await slapd.bindAs('e1001', 'ada-secret-1')).toBe('invalidCredentials');
    expect(await slapd.members('payroll')).not.toContain(slapd.personDn('e1001'));
    expect((await ldap.inspect!({ employeeId: 'x', email: 'e1001@example.test' }, signal())).entitlements).toEqual(['finance', 'wiki']);
    await ldap.apply({ ...change('restore', 'ignored', ['payroll']), account: { employeeId: 'x', email: 'e1001@example.test' } }, signal());
    expect(await slapd.bindAs('e1001', 'ada-secret-1')).toBe('ok');

    const injected = await failure(ldap.apply({ ...change('suspend', 'x', []), account: { employeeId: 'x', email: '*)(uid=e1001' } }, signal()));
    expect(injected.code).toBe('32');
    expect(await slapd.bindAs('e1001', 'ada-secret-1')).toBe('ok');
    await ldap.close();
  });

  it('when an administrator locked the account with a lock of their own during the hold, then the restore leaves it locked and fails permanently, saying so', async () => {
    const ldap = connectorFor(slapd);
    await ldap.apply(change('suspend', 'e1004', []), signal());
    await slapd.modify(`dn: ${slapd.personDn('e1004')}\nchangetype: modify\nreplace: pwdAccountLockedTime\npwdAccountLockedTime: 20200101000000Z\n`);
    const err = await failure(ldap.apply(change('restore', 'e1004', []), signal()));
    expect(err.transient).toBe(false);
    expect(err.message).toContain('is still locked: pwdAccountLockedTime=20200101000000Z, not set by EMS');
    expect(await slapd.bindAs('e1004', 'di-secret-4')).toBe('invalidCredentials');
    await slapd.modify(`dn: ${slapd.personDn('e1004')}\nchangetype: modify\ndelete: pwdAccountLockedTime\n`);
    await ldap.close();
  });

  it('when probeBindOnRestore is on, then a restore also proves by a bind that the account is no longer refused as locked', async () => {
    const ldap = connectorFor(slapd, { lock: { probeBindOnRestore: true } });
    await ldap.apply(change('suspend', 'e1004', []), signal());
    const restored = await ldap.apply(change('restore', 'e1004', []), signal());
    expect(restored.verification).toContain('no longer refused as locked');
    expect(await slapd.bindAs('e1004', 'di-secret-4')).toBe('ok');
    await ldap.close();
  });
});

describe('LDAP connector against a directory without ppolicy lock-out', () => {
  it('when a lock does not stop a bind, then the suspension fails permanently instead of claiming success', async () => {
    const plain = await startSlapd({ name: 'nolock' });
    try {
      await plain.addPerson({ uid: 'e1', password: 'pw-1' });
      // Without the default policy entry, pwdAccountLockedTime is ignored (FACTS.md).
      await plain.modify(`dn: cn=default,ou=policies,${plain.suffix}\nchangetype: delete\n`);
      const ldap = connectorFor(plain);
      const err = await failure(ldap.apply(change('suspend', 'e1', []), signal()));
      expect(err.transient).toBe(false);
      expect(err.message).toContain('not refused as locked');
      expect(await plain.bindAs('e1', 'pw-1')).toBe('ok');
      await ldap.close();
    } finally {
      await plain.stop();
    }
  });
});

describe('LDAP connector over TLS', () => {
  let secure: Slapd;
  beforeAll(async () => {
    secure = await startSlapd({ name: 'tls', tls: true });
    await secure.addPerson({ uid: 'e1', password: 'pw-tls-1' });
    await secure.addGroup({ cn: 'vpn', members: ['e1'] });
  });
  afterAll(async () => {
    await secure?.stop();
  });
  const tlsContext: ConnectorContext = { ...context, readSecretFile: (p) => readFileSync(p, 'utf8') };
  const connect = (extra: Record<string, unknown>) => ldapConnector.create(settings(secure, extra), tlsContext);

  it('when the directory is reached over ldaps:// with its CA file, then a suspension locks the account, and the probe bind goes over TLS too', async () => {
    const ldap = connect({ url: secure.ldapsUrl, tls: { caFile: secure.caFile } });
    const out = await ldap.apply(change('suspend', 'e1', [secure.groupDn('vpn')]), signal());
    expect(out.verification).toContain('account locked');
    expect(await secure.bindAs('e1', 'pw-tls-1')).toBe('invalidCredentials');
    await ldap.apply(change('restore', 'e1', [secure.groupDn('vpn')]), signal());
    expect(await secure.bindAs('e1', 'pw-tls-1')).toBe('ok');
    await ldap.close();
  });

  it('when ldap:// is upgraded with StartTLS, then the change is made', async () => {
    const ldap = connect({ tls: { startTls: true, caFile: secure.caFile } });
    await ldap.apply(change('suspend', 'e1', []), signal());
    expect(await secure.bindAs('e1', 'pw-tls-1')).toBe('invalidCredentials');
    await ldap.apply(change('restore', 'e1', []), signal());
    expect(await secure.bindAs('e1', 'pw-tls-1')).toBe('ok');
    await ldap.close();
  });

  it('when the server\'s certificate is not signed by a trusted CA, then the change fails permanently and nothing changes', async () => {
    const ldap = connect({ url: secure.ldapsUrl });
    const err = await failure(ldap.apply(change('suspend', 'e1', []), signal()));
    expect(err.transient).toBe(false);
    expect(err.message).toContain('TLS refused');
    expect(await secure.bindAs('e1', 'pw-tls-1')).toBe('ok');
    await ldap.close();
  });
});
