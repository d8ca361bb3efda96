import { describe, expect, it } from 'vitest';
import { planRestoreTasks, planRevokeTasks, planSuspendTasks, type ChangedGrant, type SystemConnection } from './plan-connector-tasks.ts';

const systems: SystemConnection[] = [
  { id: 'corp-ldap', critical: true, connector: 'ldap' },
  { id: 'idp', critical: true, connector: 'scim' },
  { id: 'wiki', critical: false, connector: 'http' },
  { id: 'vpn', critical: true, connector: 'builtin' },
];
const g = (grantId: string, systemId: string, role: string): ChangedGrant => ({ grantId, systemId, role });

describe('planning connector tasks', () => {
  it('when a hold suspends grants, then each critical connected system gets one suspend task with its roles, sorted and distinct; built-in and non-critical systems get none', () => {
    const suspended = [g('g3', 'corp-ldap', 'cn=vpn,ou=groups'), g('g1', 'corp-ldap', 'cn=eng,ou=groups'), g('g2', 'corp-ldap', 'cn=eng,ou=groups'), g('g4', 'idp', 'grp-1'), g('g5', 'vpn', 'user'), g('g6', 'wiki', 'editor')];
    expect(planSuspendTasks(suspended, systems)).toEqual([
      { systemId: 'corp-ldap', connector: 'ldap', entitlements: ['cn=eng,ou=groups', 'cn=vpn,ou=groups'] },
      { systemId: 'idp', connector: 'scim', entitlements: ['grp-1'] },
    ]);
  });

  it('when a hold suspends nothing on a connected system, then that system gets no task', () => {
    expect(planSuspendTasks([g('g5', 'vpn', 'user')], systems)).toEqual([]);
    expect(planSuspendTasks([], systems)).toEqual([]);
  });

  it('when a hold is released, then each system its suspend reached gets a restore of exactly what was given back there (possibly nothing: the account is unlocked all the same)', () => {
    const suspendedOn = [
      { systemId: 'idp', connector: 'scim' as const },
      { systemId: 'corp-ldap', connector: 'ldap' as const },
    ];
    expect(planRestoreTasks(suspendedOn, [g('g1', 'corp-ldap', 'cn=eng,ou=groups'), g('g9', 'vpn', 'user')], false)).toEqual([
      { systemId: 'corp-ldap', connector: 'ldap', entitlements: ['cn=eng,ou=groups'] },
      { systemId: 'idp', connector: 'scim', entitlements: [] },
    ]);
  });

  it('when another hold of the employee takes the grants over, then no restore is planned: the accounts stay locked', () => {
    expect(planRestoreTasks([{ systemId: 'corp-ldap', connector: 'ldap' }], [], true)).toEqual([]);
  });

  it('when a hold that took grants over from another is released, then the systems of what it gives back get a restore, though it sent no suspend there itself', () => {
    expect(planRestoreTasks([], [g('g1', 'corp-ldap', 'cn=eng,ou=groups'), g('g5', 'vpn', 'user')], false, systems)).toEqual([
      { systemId: 'corp-ldap', connector: 'ldap', entitlements: ['cn=eng,ou=groups'] },
    ]);
  });

  it('when a revocation revokes grants, then every connected system where it revoked something gets a revoke with all of them, critical or not', () => {
    const revoked = [g('g1', 'corp-ldap', 'cn=eng,ou=groups'), g('g6', 'wiki', 'editor'), g('g5', 'vpn', 'user')];
    expect(planRevokeTasks(revoked, systems)).toEqual([
      { systemId: 'corp-ldap', connector: 'ldap', entitlements: ['cn=eng,ou=groups'] },
      { systemId: 'wiki', connector: 'http', entitlements: ['editor'] },
    ]);
  });
});
