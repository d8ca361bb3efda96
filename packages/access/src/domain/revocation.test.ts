import { describe, expect, it } from 'vitest';
import { decideReschedule, isDue, planRevocation } from './revocation.ts';
import type { GrantState } from './hold.ts';

const HOLD = '11111111-1111-4111-8111-111111111111';
const grant = (systemId: string, status: GrantState['status'] = 'active', suspendedByHold: string | null = null): GrantState => ({
  id: `g-${systemId}`,
  systemId,
  status,
  suspendedByHold,
});

describe('planRevocation', () => {
  it('when grants are active, suspended by a hold, suspended otherwise or revoked, then every one not yet revoked is revoked, in grant-id order', () => {
    const plan = planRevocation([grant('vpn', 'suspended', HOLD), grant('slack'), grant('github', 'revoked'), grant('wiki', 'suspended')]);
    expect(plan).toEqual([
      { grantId: 'g-slack', systemId: 'slack', from: 'active', to: 'revoked' },
      { grantId: 'g-vpn', systemId: 'vpn', from: 'suspended', to: 'revoked' },
      { grantId: 'g-wiki', systemId: 'wiki', from: 'suspended', to: 'revoked' },
    ]);
  });

  it('when the employee has no grants, or only revoked ones, then there is nothing to revoke', () => {
    expect(planRevocation([])).toEqual([]);
    expect(planRevocation([grant('github', 'revoked')])).toEqual([]);
  });
});

describe('isDue', () => {
  const now = new Date('2026-03-31T22:00:00Z');
  it('when the instant is now or past, then it is due; a millisecond later, then not yet', () => {
    expect(isDue(now, now)).toBe(true);
    expect(isDue(new Date(now.getTime() - 1), now)).toBe(true);
    expect(isDue(new Date(now.getTime() + 1), now)).toBe(false);
  });
});

describe('decideReschedule', () => {
  const at = new Date('2026-03-31T22:00:00Z');
  const later = new Date('2026-04-15T22:00:00Z');
  const scheduled = { status: 'scheduled' as const, revokeAt: at, revision: 2 };

  it('when a higher revision names another instant, then the revocation moves to it', () => {
    expect(decideReschedule(scheduled, { revokeAt: later, revision: 3 })).toEqual({ change: 'revise', revokeAt: later, revision: 3, moved: true });
  });

  it('when a higher revision names the same instant, then only the revision is recorded', () => {
    expect(decideReschedule(scheduled, { revokeAt: new Date(at), revision: 3 })).toEqual({ change: 'revise', revokeAt: at, revision: 3, moved: false });
  });

  it('when an older or equal revision arrives (late, or a repeat), then nothing changes, whatever instant it names', () => {
    expect(decideReschedule(scheduled, { revokeAt: later, revision: 1 })).toEqual({ change: 'none', why: 'not a newer revision' });
    expect(decideReschedule(scheduled, { revokeAt: later, revision: 2 })).toEqual({ change: 'none', why: 'not a newer revision' });
  });

  it('when the revocation is already done or cancelled, then even a newer revision changes nothing', () => {
    expect(decideReschedule({ ...scheduled, status: 'done' }, { revokeAt: later, revision: 9 })).toEqual({ change: 'none', why: 'already done' });
    expect(decideReschedule({ ...scheduled, status: 'cancelled' }, { revokeAt: later, revision: 9 })).toEqual({ change: 'none', why: 'cancelled' });
  });
});
