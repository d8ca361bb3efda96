import type { access, ems, hr } from '@ems/contracts';
import type { z } from 'zod';
import { AccessPaths, HrPaths } from '@ems/contracts/paths';
import { get, post, type Query } from './client.ts';

/** Access's API (packages/contracts/src/access.ts), as the signed-in person: holds, grants, revocations, the audit. */
export type AccessHold = access.AccessHold;
export type Revocation = access.Revocation;
export type RevocationRequest = access.RevocationRequest;
type Infer<T extends z.ZodType> = z.infer<T>;
export type EffectiveAccess = Infer<typeof access.EffectiveAccess>;
export type EffectiveAccessItem = EffectiveAccess['items'][number];
export type GrantStatus = access.GrantStatus;
export type AuditVerification = access.AuditVerification;
export type AuditEntry = Infer<typeof access.AuditEntry>;
export type Actor = ems.Actor;
export type AccessSystem = Infer<typeof access.AccessSystem>;
/** A difference a reconciliation found between a connected system and Access (open until a later one no longer finds it). */
export type AccessDrift = access.AccessDrift;
export type Reconciliation = access.Reconciliation;
/** One connected system's part of a hold or a revocation. */
export type SystemChange = access.SystemChangeView;
export type Employee = hr.Employee;
export type Page<T> = { items: T[]; nextOffset: number | null };

export const listHolds = (query: Query, signal?: AbortSignal) => get<Page<AccessHold>>(AccessPaths.holds, query, signal);
export const listRevocations = (query: Query, signal?: AbortSignal) => get<Page<Revocation>>(AccessPaths.revocations, query, signal);
export const getEmployeeAccess = (employeeId: string, signal?: AbortSignal) => get<EffectiveAccess>(AccessPaths.employeeAccess(employeeId), undefined, signal);
export const listAudit = (query: Query, signal?: AbortSignal) => get<Page<AuditEntry>>(AccessPaths.audit, query, signal);
export const verifyAudit = (signal?: AbortSignal) => get<AuditVerification>(AccessPaths.auditVerification, undefined, signal);
export const listSystems = (signal?: AbortSignal) => get<Page<AccessSystem>>(AccessPaths.systems, { limit: 500 }, signal);
/** Open drifts, newest first (the access administrator and the operator may list them). */
export const listDrifts = (query: Query, signal?: AbortSignal) => get<Page<AccessDrift>>(AccessPaths.drifts, { status: 'open', ...query }, signal);
/** Compares every connected system with what Access believes, now. */
export const runReconciliation = () => post<Reconciliation>(AccessPaths.reconciliations, {});
/** Revokes every remaining grant now (no `revokeAt`); a scheduled revocation is moved to now by a higher `revision`. */
export const revokeAccess = (body: RevocationRequest, idempotencyKey: string) => post<Revocation>(AccessPaths.revocations, body, { idempotencyKey });
/** One person of the directory: their name and time zone (any role may read it). */
export const getEmployee = (id: string, signal?: AbortSignal) => get<Employee>(HrPaths.employee(id), undefined, signal);

/**
 * Every page of a list (the API pages by offset, oldest first), up to `max` items; `complete` is false when
 * there were more. (Holds and revocations have no "active only" filter yet: the overview reads them all.)
 */
export async function listAll<T>(load: (query: Query) => Promise<Page<T>>, query: Query = {}, max = 10_000): Promise<{ items: T[]; complete: boolean }> {
  const items: T[] = [];
  let offset: number | null = 0;
  while (offset !== null && items.length < max) {
    const page: Page<T> = await load({ ...query, limit: 500, offset });
    items.push(...page.items);
    offset = page.nextOffset;
  }
  return { items, complete: offset === null };
}

/** Directory entries read in this tab: names and zones hardly change, and live pages reload often. */
const directory = new Map<string, Promise<Employee | undefined>>();

/** The directory entries of these employees, by id (one request per id not read before; an unknown id is left out). */
export async function employeesById(ids: Iterable<string>, signal?: AbortSignal): Promise<Map<string, Employee>> {
  const unique = [...new Set(ids)];
  const found = await Promise.all(
    unique.map((id) => {
      let entry = directory.get(id);
      if (!entry) {
        // Not tied to one page's signal: the entry is shared; a failure is not remembered.
        entry = getEmployee(id).catch(() => {
          directory.delete(id);
          return undefined;
        });
        directory.set(id, entry);
      }
      return entry;
    }),
  );
  signal?.throwIfAborted();
  return new Map(found.flatMap((e) => (e ? [[e.id, e] as const] : [])));
}
