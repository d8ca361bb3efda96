import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compareAccount, type AccountBelief, type AccountPhase, type BelievedGrant, type ObservedAccount } from './compare-account.ts';

const HOLD: AccountPhase = { kind: 'held', holdId: 'h-1', resignationId: 'r-1' };
const REVOKED: AccountPhase = { kind: 'revoked', revocationId: 'v-1', resignationId: 'r-2' };
const ADMINS = 'cn=admins,ou=groups,dc=acme';
const STAFF = 'cn=staff,ou=groups,dc=acme';
const VPN = 'cn=vpn,ou=groups,dc=acme';

const belief = (phase: AccountPhase, grants: BelievedGrant[], changeInFlight = false): AccountBelief => ({ employeeId: 'e-1', systemId: 'corp-ldap', phase, grants, changeInFlight });
const seen = (enabled: boolean, entitlements: string[], exists = true): ObservedAccount => ({ exists, enabled, entitlements });

describe('compareAccount', () => {
  it('when a hold locked the account and someone unlocked it, then account_enabled names the case', () => {
    const d = compareAccount(belief(HOLD, [{ id: 'g1', entitlement: ADMINS, status: 'suspended' }]), seen(true, []));
    expect(d).toMatchObject({ outcome: 'drift', resignationId: 'r-1', drifts: [{ kind: 'account_enabled', entitlement: null }] });
  });

  it('when a suspended group is back during the hold, then entitlement_added says EMS suspended it', () => {
    const d = compareAccount(belief(HOLD, [{ id: 'g1', entitlement: ADMINS, status: 'suspended' }]), seen(false, [ADMINS]));
    expect(d.outcome).toBe('drift');
    if (d.outcome !== 'drift') return;
    expect(d.drifts).toEqual([{ kind: 'entitlement_added', entitlement: ADMINS, detail: expect.stringContaining('EMS suspended it') as string }]);
  });

  it('when a group EMS never granted appears during the hold, then it is drift, not a discovered grant', () => {
    const d = compareAccount(belief(HOLD, [{ id: 'g1', entitlement: ADMINS, status: 'suspended' }]), seen(false, [VPN]));
    expect(d).toMatchObject({ outcome: 'drift', drifts: [{ kind: 'entitlement_added', entitlement: VPN, detail: expect.stringContaining('never granted') as string }] });
  });

  it('when a revoked account comes back with its group, then both are drift of the revocation', () => {
    const d = compareAccount(belief(REVOKED, [{ id: 'g1', entitlement: STAFF, status: 'revoked' }]), seen(true, [STAFF]));
    expect(d).toMatchObject({ outcome: 'drift', resignationId: 'r-2', drifts: [{ kind: 'account_enabled' }, { kind: 'entitlement_added', entitlement: STAFF }] });
  });

  it('when a grant the hold did not take is gone during the hold, then entitlement_missing', () => {
    const d = compareAccount(belief(HOLD, [{ id: 'g1', entitlement: ADMINS, status: 'suspended' }, { id: 'g2', entitlement: STAFF, status: 'active' }]), seen(false, []));
    expect(d).toMatchObject({ outcome: 'drift', drifts: [{ kind: 'entitlement_missing', entitlement: STAFF }] });
  });

  it('when the account was deleted during the hold or after the revocation, then that is no drift', () => {
    expect(compareAccount(belief(HOLD, [{ id: 'g1', entitlement: ADMINS, status: 'suspended' }]), seen(true, [ADMINS], false))).toEqual({ outcome: 'nothing', why: 'in sync' });
    expect(compareAccount(belief(REVOKED, [{ id: 'g1', entitlement: ADMINS, status: 'revoked' }]), seen(false, [], false))).toEqual({ outcome: 'nothing', why: 'in sync' });
  });

  it('when outside any hold a membership appears, then it is discovered as an active grant', () => {
    const d = compareAccount(belief({ kind: 'open' }, [{ id: 'g1', entitlement: STAFF, status: 'active' }]), seen(true, [STAFF, VPN]));
    expect(d).toEqual({ outcome: 'sync', discovered: [{ entitlement: VPN, grantId: null, from: null }], removed: [] });
  });

  it('when outside any hold a revoked grant is back, then that grant is active again (not a second one)', () => {
    const d = compareAccount(belief({ kind: 'open' }, [{ id: 'g1', entitlement: STAFF, status: 'revoked' }]), seen(true, [STAFF]));
    expect(d).toEqual({ outcome: 'sync', discovered: [{ entitlement: STAFF, grantId: 'g1', from: 'revoked' }], removed: [] });
  });

  it('when outside any hold an active grant is gone, then it is synced as removed', () => {
    const d = compareAccount(belief({ kind: 'open' }, [{ id: 'g1', entitlement: STAFF, status: 'active' }]), seen(true, []));
    expect(d).toEqual({ outcome: 'sync', discovered: [], removed: [{ entitlement: STAFF, grantId: 'g1' }] });
  });

  it('when a change EMS asked for is still on its way, then nothing is decided', () => {
    expect(compareAccount(belief(HOLD, [{ id: 'g1', entitlement: ADMINS, status: 'suspended' }], true), seen(true, [ADMINS]))).toEqual({ outcome: 'nothing', why: 'change in flight' });
  });
});

// ── Properties ─────────────────────────────────────────────────────────────────────────────────────

const entitlement = fc.constantFrom<string>(ADMINS, STAFF, VPN, 'cn=finance,ou=groups,dc=acme', 'grp-42');
const grants = fc
  .uniqueArray(fc.record({ entitlement, status: fc.constantFrom('active', 'suspended', 'revoked') }), { selector: (g) => g.entitlement, maxLength: 5 })
  .map((gs) => gs.map((g, i) => ({ id: `g${i}`, ...g })));
const phase: fc.Arbitrary<AccountPhase> = fc.constantFrom<AccountPhase>({ kind: 'open' }, HOLD, REVOKED);
const beliefs = fc.record({ phase, grants, changeInFlight: fc.boolean() }).map((b) => belief(b.phase, b.grants, b.changeInFlight));
const observed = fc.record({ exists: fc.boolean(), enabled: fc.boolean(), entitlements: fc.uniqueArray(entitlement, { maxLength: 5 }) });

/** The system exactly as EMS believes it: locked during a hold or after a revocation, the active grants present. */
const matching = (b: AccountBelief): ObservedAccount => ({ exists: true, enabled: b.phase.kind === 'open', entitlements: b.grants.filter((g) => g.status === 'active').map((g) => g.entitlement) });

describe('compareAccount, properties', () => {
  it('a system exactly matching what EMS believes never yields drift nor sync', () => {
    fc.assert(
      fc.property(beliefs, (b) => {
        expect(compareAccount(b, matching(b)).outcome).toBe('nothing');
      }),
    );
  });

  it('every drift names a real difference', () => {
    fc.assert(
      fc.property(beliefs, observed, (b, o) => {
        const d = compareAccount(b, o);
        if (d.outcome !== 'drift') return;
        const active = new Set(b.grants.filter((g) => g.status === 'active').map((g) => g.entitlement));
        const present = new Set(o.exists ? o.entitlements : []);
        for (const f of d.drifts) {
          if (f.kind === 'account_enabled') expect(o.exists && o.enabled).toBe(true);
          if (f.kind === 'entitlement_added') expect(present.has(f.entitlement!) && !active.has(f.entitlement!)).toBe(true);
          if (f.kind === 'entitlement_missing') expect(active.has(f.entitlement!) && !present.has(f.entitlement!)).toBe(true);
          expect(f.detail.length).toBeGreaterThan(0);
          expect(f.detail.length).toBeLessThanOrEqual(2000);
        }
      }),
    );
  });

  it('drift only during a hold or after a revocation, sync only outside them, nothing while a change is in flight', () => {
    fc.assert(
      fc.property(beliefs, observed, (b, o) => {
        const d = compareAccount(b, o);
        if (b.changeInFlight) expect(d.outcome).toBe('nothing');
        if (d.outcome === 'drift') expect(b.phase.kind).not.toBe('open');
        if (d.outcome === 'sync') expect(b.phase.kind).toBe('open');
      }),
    );
  });

  it('outside a hold, applying the sync leaves nothing to sync', () => {
    fc.assert(
      fc.property(grants, observed, (gs, o) => {
        const b = belief({ kind: 'open' }, gs);
        const d = compareAccount(b, o);
        if (d.outcome !== 'sync') return;
        const after = b.grants.map((g) => (d.removed.some((r) => r.grantId === g.id) ? { ...g, status: 'revoked' as const } : g));
        for (const found of d.discovered) {
          if (found.grantId === null) after.push({ id: `new-${found.entitlement}`, entitlement: found.entitlement, status: 'active' });
          else after.splice(after.findIndex((g) => g.id === found.grantId), 1, { id: found.grantId, entitlement: found.entitlement, status: 'active' });
        }
        expect(compareAccount(belief({ kind: 'open' }, after), o)).toEqual({ outcome: 'nothing', why: 'in sync' });
      }),
    );
  });

  it('a drift is found once per (kind, entitlement)', () => {
    fc.assert(
      fc.property(beliefs, observed, (b, o) => {
        const d = compareAccount(b, o);
        if (d.outcome !== 'drift') return;
        const keys = d.drifts.map((f) => `${f.kind}/${f.entitlement}`);
        expect(new Set(keys).size).toBe(keys.length);
      }),
    );
  });
});
