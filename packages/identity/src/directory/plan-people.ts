import type { z } from 'zod';
import type { DirectoryPerson as DirectoryPersonSchema } from '@ems/contracts/events';

/**
 * What a batch of people does to the directory, decided before anything is written: the pure core of
 * applyPeople (apply-people.ts), shared by the CSV import's dry run and the real thing.
 *
 *   current directory ──┐
 *   the batch ──────────┼─► validate the organisation it would make ─► refused (every problem)
 *   deactivate missing? ┘                                        └──► created / updated (fields) / unchanged / deactivated
 */

export type DirectoryPerson = z.infer<typeof DirectoryPersonSchema>;

/** SCIM's names of an account: userName (unique, case-insensitively; the email by default) and externalId. */
export interface AccountNames {
  userName?: string | undefined;
  /** null clears it. */
  externalId?: string | null | undefined;
}

/** A person as the directory holds them now. */
export interface CurrentPerson {
  person: DirectoryPerson;
  version: number;
  userName: string;
  externalId: string | null;
}

/** The fields of a person a change may name (the record's, plus SCIM's account names). */
export type PersonField = keyof DirectoryPerson | 'userName' | 'externalId';

export interface DirectoryProblem {
  personId: string;
  field: PersonField;
  message: string;
}

export interface PlannedChange {
  person: DirectoryPerson;
  userName: string;
  externalId: string | null;
  /** The version after the change. */
  version: number;
  /** null: the person is new. */
  previous: CurrentPerson | null;
  /** What changed (empty for a new person). */
  fields: PersonField[];
}

export interface DirectoryPlan {
  created: PlannedChange[];
  updated: PlannedChange[];
  unchanged: string[];
  /** People left out of a full batch, made inactive (also listed in `updated` with field active). */
  deactivated: string[];
}

export type PlanOutcome = { ok: true; plan: DirectoryPlan } | { ok: false; problems: DirectoryProblem[] };

export interface PlanOptions {
  /** A full export: everyone active not in the batch becomes inactive. */
  deactivateMissing?: boolean | undefined;
  accounts?: Readonly<Record<string, AccountNames>> | undefined;
}

/** The record in the directory's canonical form: weekdays ascending and once, roles sorted and once. */
export function normalizePerson(p: DirectoryPerson): DirectoryPerson {
  return {
    ...p,
    workingHours: { ...p.workingHours, days: [...new Set(p.workingHours.days)].sort((a, b) => a - b) },
    roles: [...new Set(p.roles)].sort(),
  };
}

const FIELDS = ['name', 'email', 'title', 'department', 'location', 'timezone', 'workingHours', 'managerId', 'hrPartnerId', 'roles', 'active'] as const satisfies ReadonlyArray<keyof DirectoryPerson>;

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The fields that differ between two records of one person. */
export function changedFields(before: CurrentPerson, after: { person: DirectoryPerson; userName: string; externalId: string | null }): PersonField[] {
  const out: PersonField[] = FIELDS.filter((f) => !same(before.person[f], after.person[f]));
  if (before.userName !== after.userName) out.push('userName');
  if (before.externalId !== after.externalId) out.push('externalId');
  return out;
}

/**
 * Plans a batch over the current directory. Refuses (listing every problem, each on the person and field
 * that has it) a batch naming a person twice, a manager or HR partner who is neither in the batch nor in
 * the directory, a manager chain that comes back to where it started, or an email, userName or externalId
 * that another person of the resulting directory has.
 */
export function planPeople(current: ReadonlyMap<string, CurrentPerson>, batch: readonly DirectoryPerson[], options: PlanOptions = {}): PlanOutcome {
  const problems: DirectoryProblem[] = [];
  const accounts = options.accounts ?? {};

  // The directory as it would be.
  const next = new Map<string, { person: DirectoryPerson; userName: string; externalId: string | null }>();
  for (const [id, c] of current) next.set(id, { person: c.person, userName: c.userName, externalId: c.externalId });
  const inBatch = new Set<string>();
  for (const raw of batch) {
    const p = normalizePerson(raw);
    if (inBatch.has(p.id)) {
      problems.push({ personId: p.id, field: 'id', message: `${p.id} appears more than once` });
      continue;
    }
    inBatch.add(p.id);
    const before = current.get(p.id);
    const names = accounts[p.id] ?? {};
    next.set(p.id, {
      person: p,
      // A userName that was the email (the default: imported, never named by SCIM) follows the email, so a
      // lookup by email-as-userName finds the person, and their old address is free for someone else.
      userName: names.userName ?? (before && before.userName.toLowerCase() !== before.person.email.toLowerCase() ? before.userName : p.email),
      externalId: names.externalId !== undefined ? names.externalId : (before?.externalId ?? null),
    });
  }
  const deactivated: string[] = [];
  if (options.deactivateMissing) {
    for (const [id, c] of current) {
      if (inBatch.has(id) || !c.person.active) continue;
      next.set(id, { person: { ...c.person, active: false }, userName: c.userName, externalId: c.externalId });
      deactivated.push(id);
    }
  }

  for (const id of inBatch) {
    const { person } = next.get(id)!;
    if (person.managerId !== null) {
      if (person.managerId === id) problems.push({ personId: id, field: 'managerId', message: 'a person cannot be their own manager' });
      else if (!next.has(person.managerId)) problems.push({ personId: id, field: 'managerId', message: `manager ${person.managerId} is neither in this batch nor in the directory` });
    }
    if (person.hrPartnerId !== null) {
      if (person.hrPartnerId === id) problems.push({ personId: id, field: 'hrPartnerId', message: 'a person cannot be their own HR partner' });
      else if (!next.has(person.hrPartnerId)) problems.push({ personId: id, field: 'hrPartnerId', message: `HR partner ${person.hrPartnerId} is neither in this batch nor in the directory` });
    }
  }

  // Unique, case-insensitively: a clash is reported on each person of the batch who has it.
  const unique = (field: 'email' | 'userName' | 'externalId', key: (e: { person: DirectoryPerson; userName: string; externalId: string | null }) => string | null) => {
    const holders = new Map<string, string[]>();
    for (const [id, e] of next) {
      const k = key(e)?.toLowerCase();
      if (k === undefined) continue;
      holders.set(k, [...(holders.get(k) ?? []), id]);
    }
    for (const ids of holders.values()) {
      if (ids.length < 2) continue;
      for (const id of ids.filter((x) => inBatch.has(x))) {
        // A userName that is the email clashes exactly when the email does: said once.
        const e = next.get(id)!;
        if (field === 'userName' && e.userName.toLowerCase() === e.person.email.toLowerCase() && problems.some((p) => p.personId === id && p.field === 'email')) continue;
        const others = ids.filter((x) => x !== id);
        problems.push({ personId: id, field, message: `${field === 'email' ? 'email' : field} ${key(next.get(id)!)} is also ${others.join(', ')}'s` });
      }
    }
  };
  unique('email', (e) => e.person.email);
  unique('userName', (e) => e.userName);
  unique('externalId', (e) => e.externalId);

  // Manager cycles: the directory before was acyclic, so every new cycle goes through someone in the batch.
  const acyclic = new Set<string>();
  for (const id of inBatch) {
    const path: string[] = [];
    const onPath = new Set<string>();
    let at: string | null = id;
    let looped = false;
    while (at !== null && !acyclic.has(at) && next.has(at)) {
      if (onPath.has(at)) {
        const cycle = path.slice(path.indexOf(at));
        problems.push({ personId: id, field: 'managerId', message: `the manager chain loops: ${[...cycle, at].join(' → ')}` });
        looped = true;
        break;
      }
      onPath.add(at);
      path.push(at);
      at = next.get(at)!.person.managerId;
    }
    if (!looped) for (const x of path) acyclic.add(x);
  }

  if (problems.length) return { ok: false, problems };

  const plan: DirectoryPlan = { created: [], updated: [], unchanged: [], deactivated };
  const leaving = new Set(deactivated);
  for (const [id, e] of next) {
    const before = current.get(id);
    if (!before) {
      plan.created.push({ ...e, version: 1, previous: null, fields: [] });
      continue;
    }
    if (!inBatch.has(id) && !leaving.has(id)) continue;
    const fields = changedFields(before, e);
    if (fields.length === 0) plan.unchanged.push(id);
    else plan.updated.push({ ...e, version: before.version + 1, previous: before, fields });
  }
  return { ok: true, plan };
}

/**
 * The order followers should hear of the changes in: HR partners and managers before the people who name
 * them (a copy with foreign keys can then take them as they come); otherwise by id.
 */
export function followerOrder(changes: readonly PlannedChange[]): PlannedChange[] {
  const byId = new Map(changes.map((c) => [c.person.id, c]));
  const partners = new Set(changes.map((c) => c.person.hrPartnerId).filter((x): x is string => x !== null));
  const depth = new Map<string, number>();
  const depthOf = (id: string, seen = new Set<string>()): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    const c = byId.get(id);
    const manager = c?.person.managerId;
    const d = !c || manager === null || manager === undefined || seen.has(id) ? 0 : 1 + depthOf(manager, new Set(seen).add(id));
    depth.set(id, d);
    return d;
  };
  return [...changes].sort(
    (a, b) =>
      Number(partners.has(b.person.id)) - Number(partners.has(a.person.id)) ||
      depthOf(a.person.id) - depthOf(b.person.id) ||
      (a.person.id < b.person.id ? -1 : a.person.id > b.person.id ? 1 : 0),
  );
}
