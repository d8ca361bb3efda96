import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { escapeDnValue, escapeFilterValue, fillTemplate, sameDn } from './ldap.escape.ts';
import { describeLdapSettings, groupSearchBase, LdapSettingsSchema } from './ldap.settings.ts';

const minimal = {
  url: 'ldaps://ldap.example.com',
  bindDn: 'cn=ems,ou=services,dc=example,dc=com',
  bindPasswordFile: 'ldap.password',
  userDn: 'uid={id},ou=people,dc=example,dc=com',
  groups: { base: 'ou=groups,dc=example,dc=com' },
};

const problems = (raw: unknown): string[] => {
  const r = LdapSettingsSchema.safeParse(raw);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('LDAP settings', () => {
  it('when only the required settings are given, then the defaults are the documented ones', () => {
    const s = LdapSettingsSchema.parse(minimal);
    expect(s.url).toEqual({ url: 'ldaps://ldap.example.com', secure: true, host: 'ldap.example.com' });
    expect(s.groups).toEqual({ entitlement: 'dn', base: 'ou=groups,dc=example,dc=com', memberAttribute: 'member' });
    expect(s.lock).toEqual({ method: 'ppolicy', probeBind: true, probeBindOnRestore: false });
    expect(s.revoke).toBe('lock');
    expect([s.connectTimeout, s.timeout]).toEqual([5000, 10000]);
    expect(s.tls).toEqual({ startTls: false });
  });

  it('when a setting is unknown, missing or contradictory, then each problem is named by its field', () => {
    expect(problems({ ...minimal, extra: 1 })).toEqual([expect.stringContaining('Unrecognized key')]);
    expect(problems({ ...minimal, bindPassword: 'x' })).toEqual([expect.stringMatching(/^bindPasswordFile: give exactly one/)]);
    expect(problems({ ...minimal, userDn: undefined })).toEqual([expect.stringMatching(/^userDn: give userDn/)]);
    expect(problems({ ...minimal, userDn: 'uid={name},dc=x' })).toEqual([expect.stringMatching(/^userDn: unknown placeholder \{name\}/)]);
    expect(problems({ ...minimal, userDn: undefined, userSearch: { base: 'dc=x', filter: 'mail={email}' } })).toEqual([expect.stringMatching(/^userSearch.filter: must be an RFC 4515 filter/)]);
    expect(problems({ ...minimal, groups: {} })).toEqual([expect.stringMatching(/^groups.base: give the base DN/)]);
    expect(problems({ ...minimal, groups: { entitlement: 'cn' } })).toEqual([expect.stringMatching(/^groups.dn: entitlement "cn" needs/)]);
    expect(problems({ ...minimal, url: 'http://ldap.example.com' })).toEqual([expect.stringMatching(/^url: must be ldap:\/\//)]);
    expect(problems({ ...minimal, url: 'ldap://user:pw@ldap.example.com' })).toEqual([expect.stringMatching(/^url: must be ldap:\/\//)]);
    expect(problems({ ...minimal, timeout: '5m' })).toEqual([expect.stringMatching(/^timeout: must be a duration/)]);
  });

  it('when ldap:// names a remote host, then it needs StartTLS or an explicit allowPlaintext; loopback is allowed', () => {
    expect(problems({ ...minimal, url: 'ldap://ldap.example.com' })).toEqual([expect.stringMatching(/^url: ldap:\/\/ to a host that is not loopback/)]);
    expect(problems({ ...minimal, url: 'ldap://ldap.example.com', tls: { startTls: true } })).toEqual([]);
    expect(problems({ ...minimal, url: 'ldap://ldap.example.com:389', allowPlaintext: true })).toEqual([]);
    expect(problems({ ...minimal, url: 'ldap://127.0.0.1:3890' })).toEqual([]);
    expect(problems({ ...minimal, tls: { startTls: true } })).toEqual([expect.stringMatching(/^tls.startTls: ldaps:\/\/ is encrypted/)]);
  });

  it('when the settings are described for the API, then neither the password nor its file is shown', () => {
    const described = JSON.stringify(describeLdapSettings(LdapSettingsSchema.parse({ ...minimal, bindPasswordFile: undefined, bindPassword: 'hunter2-secret' })));
    expect(described).not.toContain('hunter2-secret');
    expect(described).not.toContain('bindPassword');
    expect(JSON.stringify(describeLdapSettings(LdapSettingsSchema.parse(minimal)))).not.toContain('ldap.password');
  });

  it('when groups are named by cn, then inspect searches the template\'s parent', () => {
    const s = LdapSettingsSchema.parse({ ...minimal, groups: { entitlement: 'cn', dn: 'cn={cn},ou=groups,dc=example,dc=com' } });
    expect(groupSearchBase(s)).toBe('ou=groups,dc=example,dc=com');
  });

  it('when a zod error is reported, then it never echoes the values given', () => {
    const r = LdapSettingsSchema.safeParse({ ...minimal, bindPassword: 'hunter2-secret' });
    expect(r.success).toBe(false);
    expect(JSON.stringify(z.treeifyError(r.error!))).not.toContain('hunter2-secret');
  });
});

describe('LDAP escaping', () => {
  it('when an id or email carries DN or filter syntax, then it stays one value', () => {
    expect(escapeDnValue('a,b+c="d"\\<e>;')).toBe('a\\,b\\+c\\=\\"d\\"\\\\\\<e\\>\\;');
    expect(escapeDnValue(' #x ')).toBe('\\ #x\\ ');
    expect(escapeFilterValue('*)(uid=*')).toBe('\\2a\\29\\28uid=\\2a');
    expect(escapeFilterValue('a\\b\0')).toBe('a\\5cb\\00');
    expect(fillTemplate('(&(uid={id})(mail={email}))', { id: 'e1*', email: 'x)(y' }, escapeFilterValue)).toBe('(&(uid=e1\\2a)(mail=x\\29\\28y))');
    expect(() => fillTemplate('uid={nope}', {}, escapeDnValue)).toThrow('no value for {nope}');
  });

  it('when two DNs differ only in case and spacing, then they are the same DN', () => {
    expect(sameDn('CN=Finance, OU=Groups,dc=Example,dc=com', 'cn=finance,ou=groups,dc=example,dc=com')).toBe(true);
    expect(sameDn('cn=a\\,b,dc=x', 'cn=a,b,dc=x')).toBe(false);
  });
});
