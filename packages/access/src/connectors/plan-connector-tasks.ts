/**
 * Which connected systems a hold, a release or a revocation concerns, and with which entitlements —
 * pure decisions (no I/O): the use cases load the grants and store the tasks, in their own transaction.
 *
 *   suspend: each critical connected system where the hold suspended ≥ 1 grant   → its roles
 *   restore: each system the hold's suspend reached (a suspend task) or where it gives
 *            grants back, unless another active hold takes the grants over     → the roles given back
 *   revoke:  each connected system where the revocation revoked ≥ 1 grant       → all of those roles
 *
 * Built-in systems (rows only) never get a task. A grant's `role` is the system's own name of the
 * entitlement (an LDAP group DN, a SCIM group id).
 */
import type { ConnectorType } from '../db/access.db.ts';

export type ConnectedType = Exclude<ConnectorType, 'builtin'>;

export interface ChangedGrant {
  grantId: string;
  systemId: string;
  role: string;
}

export interface SystemConnection {
  id: string;
  critical: boolean;
  connector: ConnectorType;
}

export interface PlannedTask {
  systemId: string;
  connector: ConnectedType;
  /** Distinct, sorted. */
  entitlements: string[];
}

const connected = (s: SystemConnection | undefined): s is SystemConnection & { connector: ConnectedType } => s !== undefined && s.connector !== 'builtin';

function bySystem(grants: readonly ChangedGrant[]): Map<string, string[]> {
  const roles = new Map<string, Set<string>>();
  for (const g of grants) {
    const set = roles.get(g.systemId) ?? new Set<string>();
    set.add(g.role);
    roles.set(g.systemId, set);
  }
  return new Map([...roles].map(([id, set]) => [id, [...set].sort()]));
}

const sorted = (tasks: PlannedTask[]) => tasks.sort((a, b) => (a.systemId < b.systemId ? -1 : a.systemId > b.systemId ? 1 : 0));

/** A new hold: one task per critical connected system where it suspended something. */
export function planSuspendTasks(suspended: readonly ChangedGrant[], systems: readonly SystemConnection[]): PlannedTask[] {
  const byId = new Map(systems.map((s) => [s.id, s]));
  const tasks: PlannedTask[] = [];
  for (const [systemId, entitlements] of bySystem(suspended)) {
    const system = byId.get(systemId);
    if (connected(system) && system.critical) tasks.push({ systemId, connector: system.connector, entitlements });
  }
  return sorted(tasks);
}

/**
 * A released hold: one task per system its suspend tasks went to, and per connected system of a grant
 * it gives back (a hold that took grants over from another hold has no suspend task of its own there),
 * giving back exactly the roles restored there (possibly none: the account is unlocked all the same).
 * None while another active hold of the employee keeps the grants suspended (`handedOver`): the
 * account stays locked.
 */
export function planRestoreTasks(
  suspendedOn: readonly { systemId: string; connector: ConnectedType }[],
  restored: readonly ChangedGrant[],
  handedOver: boolean,
  systems: readonly SystemConnection[] = [],
): PlannedTask[] {
  if (handedOver) return [];
  const roles = bySystem(restored);
  const byId = new Map(systems.map((s) => [s.id, s]));
  const targets = new Map<string, ConnectedType>(suspendedOn.map((s) => [s.systemId, s.connector]));
  for (const systemId of roles.keys()) {
    const system = byId.get(systemId);
    if (connected(system) && !targets.has(systemId)) targets.set(systemId, system.connector);
  }
  return sorted([...targets].map(([systemId, connector]) => ({ systemId, connector, entitlements: roles.get(systemId) ?? [] })));
}

/** A revocation: one task per connected system where it revoked something, with every role revoked there. */
export function planRevokeTasks(revoked: readonly ChangedGrant[], systems: readonly SystemConnection[]): PlannedTask[] {
  const byId = new Map(systems.map((s) => [s.id, s]));
  const tasks: PlannedTask[] = [];
  for (const [systemId, entitlements] of bySystem(revoked)) {
    const system = byId.get(systemId);
    if (connected(system)) tasks.push({ systemId, connector: system.connector, entitlements });
  }
  return sorted(tasks);
}
