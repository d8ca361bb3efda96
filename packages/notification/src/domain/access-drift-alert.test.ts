import { describe, expect, it } from 'vitest';
import { prepareEmail, type PreparedEmail } from './templates.ts';

const alert = {
  recipientName: 'Ivan IT',
  employeeId: 'E1042',
  employeeName: 'Ada <b>Lovelace</b>',
  systemId: 'corp-ldap',
  kind: 'entitlement_added',
  entitlement: 'cn=finance,ou=groups,dc=acme,dc=example',
  detail: 'cn=finance,ou=groups,dc=acme,dc=example is present in Corporate directory during the access hold of resignation r-1; EMS suspended it.',
  detectedAt: '2026-12-03T11:30:01.402Z',
  accessUrl: 'https://ems.acme.example/access?x=1&y=2',
};

function ok(p: PreparedEmail) {
  if (!p.ok) throw new Error(`expected ok, got ${JSON.stringify(p.issues)}`);
  return p;
}

describe('prepareEmail: access-drift-alert', () => {
  it('when a drift is found, then the alert says who, where, what and links to the IT page, markup escaped in HTML', () => {
    const { rendered } = ok(prepareEmail('access-drift-alert', alert));
    expect(rendered.subject).toBe('Access drift in corp-ldap: Ada <b>Lovelace</b> (E1042), access added');
    expect(rendered.text).toContain('Dear Ivan IT,');
    expect(rendered.text).toContain('A reconciliation found corp-ldap differing from EMS for Ada <b>Lovelace</b> (E1042): access added (cn=finance,ou=groups,dc=acme,dc=example).');
    expect(rendered.text).toContain('EMS suspended it.');
    expect(rendered.text).toContain('Access overview: https://ems.acme.example/access?x=1&y=2');
    expect(rendered.html).not.toContain('<b>Lovelace');
    expect(rendered.html).toContain('Ada &lt;b&gt;Lovelace&lt;/b&gt;');
    expect(rendered.html).toContain('href="https://ems.acme.example/access?x=1&amp;y=2"');
  });

  it('when the account was enabled, then no entitlement is named, and without a name the id stands alone', () => {
    const { rendered } = ok(prepareEmail('access-drift-alert', { ...alert, kind: 'account_enabled', entitlement: null, employeeName: null, accessUrl: null }));
    expect(rendered.subject).toBe('Access drift in corp-ldap: E1042, account enabled again');
    expect(rendered.text).toContain('for E1042: account enabled again.');
    expect(rendered.text).not.toContain('Access overview');
  });

  it('when the data is not a drift (an unknown kind, a link that is no web link, a name with a line break in the subject), then it is refused or kept to one line', () => {
    const bad = prepareEmail('access-drift-alert', { ...alert, kind: 'weather', accessUrl: 'javascript:alert(1)' });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.issues.map((i) => i.path).sort()).toEqual(['data.accessUrl', 'data.kind']);
    const { rendered } = ok(prepareEmail('access-drift-alert', { ...alert, employeeName: 'Eve\r\nBcc: x@y' }));
    expect(rendered.subject).not.toMatch(/[\r\n]/);
  });
});
