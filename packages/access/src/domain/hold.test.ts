import { describe, expect, it } from 'vitest';
import { planHold, planRelease, type GrantState, type SystemCriticality } from './hold.ts';

const systems: SystemCriticality[] = [
  { id: 'github', critical: true },
  { id: 'aws-prod', critical: true },
  { id: 'vpn', critical: true },
  { id: 'slack', critical: false },
  { id: 'wiki', critical: false },
];

const grant = (systemId: string, status: GrantState['status'] = 'active', suspendedByHold: string | null = null): GrantState => ({
  id: `g-${systemId}`,
  systemId,
  status,
  suspendedByHold,
});

const HOLD = '11111111-1111-4111-8111-111111111111';
const OTHER_HOLD = '22222222-2222-4222-8222-222222222222';

describe('planHold', () => {
  it('when the employee has active grants on critical and non-critical systems, then only the critical ones are suspended', () => {
    const plan = planHold([grant('slack'), grant('github'), grant('wiki'), grant('aws-prod')], systems);
    expect(plan).toEqual([
      { grantId: 'g-aws-prod', systemId: 'aws-prod', from: 'active', to: 'suspended' },
      { grantId: 'g-github', systemId: 'github', from: 'active', to: 'suspended' },
    ]);
  });

  it('when a critical grant is already suspended or revoked, then it is left alone', () => {
    const plan = planHold([grant('github', 'suspended'), grant('aws-prod', 'revoked'), grant('vpn')], systems);
    expect(plan.map((c) => c.grantId)).toEqual(['g-vpn']);
  });

  it('when a critical grant is suspended by another hold, then the new hold does not claim it', () => {
    expect(planHold([grant('github', 'suspended', OTHER_HOLD)], systems)).toEqual([]);
  });

  it('when the employee has only non-critical grants, then nothing is suspended', () => {
    expect(planHold([grant('slack'), grant('wiki')], systems)).toEqual([]);
  });

  it('when the employee has no grants, then the plan is empty', () => {
    expect(planHold([], systems)).toEqual([]);
  });

  it('when a grant is on a system that is not known, then it is treated as critical (fail closed)', () => {
    expect(planHold([grant('mainframe')], systems).map((c) => c.grantId)).toEqual(['g-mainframe']);
  });

  it('when grants come in any order, then the plan is ordered by grant id (stable locks and audit order)', () => {
    const a = planHold([grant('vpn'), grant('github'), grant('aws-prod')], systems);
    const b = planHold([grant('aws-prod'), grant('vpn'), grant('github')], systems);
    expect(a).toEqual(b);
    expect(a.map((c) => c.grantId)).toEqual(['g-aws-prod', 'g-github', 'g-vpn']);
  });
});

describe('planRelease', () => {
  const held = [
    { grantId: 'g-github', priorStatus: 'active' as const },
    { grantId: 'g-aws-prod', priorStatus: 'active' as const },
    { grantId: 'g-vpn', priorStatus: 'active' as const },
  ];

  it('when every grant the hold suspended is still suspended by it, then all are restored to their prior status', () => {
    const plan = planRelease({
      holdId: HOLD,
      heldGrants: held,
      current: [grant('github', 'suspended', HOLD), grant('aws-prod', 'suspended', HOLD), grant('vpn', 'suspended', HOLD), grant('slack')],
    });
    expect(plan.handOver).toEqual([]);
    expect(plan.restore).toEqual([
      { grantId: 'g-aws-prod', systemId: 'aws-prod', from: 'suspended', to: 'active' },
      { grantId: 'g-github', systemId: 'github', from: 'suspended', to: 'active' },
      { grantId: 'g-vpn', systemId: 'vpn', from: 'suspended', to: 'active' },
    ]);
  });

  it('when a held grant was revoked in between, then it stays revoked and the others are restored', () => {
    const plan = planRelease({
      holdId: HOLD,
      heldGrants: held,
      current: [grant('github', 'revoked'), grant('aws-prod', 'suspended', HOLD), grant('vpn', 'suspended', HOLD)],
    });
    expect(plan.restore.map((c) => c.grantId)).toEqual(['g-aws-prod', 'g-vpn']);
  });

  it('when a held grant was re-suspended by someone else (no hold, or another hold), then it is not restored', () => {
    const plan = planRelease({
      holdId: HOLD,
      heldGrants: held,
      current: [grant('github', 'suspended', null), grant('aws-prod', 'suspended', OTHER_HOLD), grant('vpn', 'suspended', HOLD)],
    });
    expect(plan.restore.map((c) => c.grantId)).toEqual(['g-vpn']);
  });

  it('when a held grant was re-activated by someone else, then it is not touched', () => {
    const plan = planRelease({ holdId: HOLD, heldGrants: held, current: [grant('github', 'active'), grant('vpn', 'suspended', HOLD)] });
    expect(plan.restore.map((c) => c.grantId)).toEqual(['g-vpn']);
  });

  it('when a grant is suspended by this hold but the hold never recorded it, then it is not restored (only what the hold suspended)', () => {
    const plan = planRelease({ holdId: HOLD, heldGrants: [], current: [grant('github', 'suspended', HOLD)] });
    expect(plan).toEqual({ restore: [], handOver: [], skipped: [] });
  });

  it('when a held grant no longer exists, then it is skipped', () => {
    const plan = planRelease({ holdId: HOLD, heldGrants: held, current: [grant('vpn', 'suspended', HOLD)] });
    expect(plan.restore.map((c) => c.grantId)).toEqual(['g-vpn']);
  });

  it('when the hold recorded a prior status other than active, then the grant goes back to exactly that status', () => {
    const plan = planRelease({
      holdId: HOLD,
      heldGrants: [{ grantId: 'g-github', priorStatus: 'revoked' }],
      current: [grant('github', 'suspended', HOLD)],
    });
    expect(plan.restore).toEqual([{ grantId: 'g-github', systemId: 'github', from: 'suspended', to: 'revoked' }]);
  });

  it('when the employee has another active hold, then the grants stay suspended and move to that hold', () => {
    const plan = planRelease({
      holdId: HOLD,
      heldGrants: held,
      current: [grant('github', 'suspended', HOLD), grant('aws-prod', 'revoked'), grant('vpn', 'suspended', HOLD)],
      successorHoldId: OTHER_HOLD,
    });
    expect(plan.restore).toEqual([]);
    expect(plan.handOver).toEqual([
      { grantId: 'g-github', systemId: 'github', from: 'suspended', to: 'suspended' },
      { grantId: 'g-vpn', systemId: 'vpn', from: 'suspended', to: 'suspended' },
    ]);
  });

  it('when the successor named is the hold itself, then it is ignored and grants are restored', () => {
    const plan = planRelease({ holdId: HOLD, heldGrants: held, current: [grant('vpn', 'suspended', HOLD)], successorHoldId: HOLD });
    expect(plan.restore.map((c) => c.grantId)).toEqual(['g-vpn']);
    expect(plan.handOver).toEqual([]);
  });

  it('when grants of the hold changed since for other reasons, then each is listed as skipped with why, and only the untouched one is restored', () => {
    const plan = planRelease({
      holdId: HOLD,
      heldGrants: [...held, { grantId: 'g-mainframe', priorStatus: 'active' }, { grantId: 'g-gone', priorStatus: 'active' }],
      current: [grant('github', 'revoked'), grant('aws-prod', 'active'), grant('vpn', 'suspended', OTHER_HOLD), grant('mainframe', 'suspended', null), grant('slack', 'suspended', HOLD)],
    });
    expect(plan.restore).toEqual([]);
    expect(plan.skipped).toEqual([
      { grantId: 'g-aws-prod', systemId: 'aws-prod', reason: 're-activated since the hold' },
      { grantId: 'g-github', systemId: 'github', reason: 'revoked since the hold' },
      { grantId: 'g-gone', systemId: null, reason: 'the grant no longer exists' },
      { grantId: 'g-mainframe', systemId: 'mainframe', reason: 'suspended since for another reason' },
      { grantId: 'g-vpn', systemId: 'vpn', reason: `suspended since by access hold ${OTHER_HOLD}` },
    ]);
  });

  it('when every grant of the hold is restored, then nothing is skipped', () => {
    const plan = planRelease({ holdId: HOLD, heldGrants: held, current: [grant('github', 'suspended', HOLD), grant('aws-prod', 'suspended', HOLD), grant('vpn', 'suspended', HOLD)] });
    expect(plan.restore).toHaveLength(3);
    expect(plan.skipped).toEqual([]);
  });

  it('when the grants are handed over to another active hold, then they are listed as skipped, naming that hold', () => {
    const plan = planRelease({ holdId: HOLD, heldGrants: held, current: [grant('github', 'suspended', HOLD), grant('aws-prod', 'revoked')], successorHoldId: OTHER_HOLD });
    expect(plan.skipped).toEqual([
      { grantId: 'g-aws-prod', systemId: 'aws-prod', reason: 'revoked since the hold' },
      { grantId: 'g-github', systemId: 'github', reason: `still suspended by access hold ${OTHER_HOLD}` },
      { grantId: 'g-vpn', systemId: null, reason: 'the grant no longer exists' },
    ]);
  });

  it('when a hold is planned and then released with nothing changed in between, then release undoes exactly the hold', () => {
    const before = [grant('github'), grant('aws-prod', 'revoked'), grant('vpn'), grant('slack'), grant('wiki', 'suspended')];
    const suspend = planHold(before, systems);
    const during = before.map((g) => (suspend.some((c) => c.grantId === g.id) ? { ...g, status: 'suspended' as const, suspendedByHold: HOLD } : g));
    const plan = planRelease({ holdId: HOLD, heldGrants: suspend.map((c) => ({ grantId: c.grantId, priorStatus: c.from })), current: during });
    const after = during.map((g) => {
      const change = plan.restore.find((c) => c.grantId === g.id);
      return change ? { ...g, status: change.to, suspendedByHold: null } : g;
    });
    expect(after).toEqual(before);
  });
});
