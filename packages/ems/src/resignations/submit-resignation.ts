import { createHash, randomUUID } from 'node:crypto';
import { HttpProblem, type Actor, type Clock } from '@ems/platform';
import type { ems } from '@ems/contracts';
import { defaultLastWorkingDay, lastWorkingDayProblem, notWorkingDayProblem } from '../domain/resignation.ts';
import type { CaseIntake, CaseStore, OpenOutcome } from './case-store.ts';
import type { Directory } from '../directory/directory.ts';

/** How a case gets going: both modes open it in one transaction; orchestration then starts its workflow, choreography's event is in that transaction. */
export interface CaseStarter {
  mode: 'orchestration' | 'choreography';
  /** Opens the case from its intake (read in the opening transaction). */
  start(intake: CaseIntake): Promise<OpenOutcome>;
  /** Orchestration: starts the workflow of cases whose opener stopped before starting it (see resignation.workflow.ts). */
  startOrphans?(now: Date): Promise<number>;
}

export interface SubmitDeps {
  store: CaseStore;
  directory: Directory;
  starter: CaseStarter;
  clock: Clock;
  noticeDays: number;
}

export type SubmitResult =
  | { kind: 'created'; resignation: ems.Resignation }
  | { kind: 'replayed'; resignation: ems.Resignation };

/** A stable case id for an Idempotency-Key, so a retried POST lands on the same case and workflow. */
export function caseIdForKey(key: string): string {
  const h = createHash('sha256').update(`ems.resignation:${key}`).digest('hex');
  // Shape it as a version-8 (custom) RFC 9562 UUID.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}

/**
 * An employee resigns: the employee must exist and have no open case; the last working day defaults
 * to the notice period. Then the case is opened by the configured coordination mode.
 */
export async function submitResignation(
  deps: SubmitDeps,
  input: ems.SubmitResignationRequest,
  meta: {
    idempotencyKey?: string | undefined;
    correlationId?: string | undefined;
    traceparent?: string | undefined;
    /** Whether the caller may act for this employee (the policy's rows); an employee they may not is unknown to them. */
    allowed(employeeId: string): boolean;
    actor(employeeId: string): Actor;
  },
): Promise<SubmitResult> {
  if (!meta.allowed(input.employeeId)) throw noEmployee(input.employeeId);
  const fingerprint = meta.idempotencyKey ? requestFingerprint(input) : null;
  if (meta.idempotencyKey) {
    const existing = await deps.store.findByIdempotencyKey(meta.idempotencyKey);
    if (existing) {
      if (existing.fingerprint !== fingerprint) throw keyReused(meta.idempotencyKey);
      return { kind: 'replayed', resignation: (await deps.store.get(existing.id))! };
    }
  }
  const id = meta.idempotencyKey ? caseIdForKey(meta.idempotencyKey) : randomUUID();
  const correlationId = meta.correlationId ?? id;

  // The employee is read in the transaction that opens their case (a transaction of its own before: one commit a case).
  let outcome: OpenOutcome;
  try {
    outcome = await deps.starter.start(async (trx) => {
      const employee = await deps.directory.findEmployee(input.employeeId, trx);
      if (!employee || !employee.active) throw noEmployee(input.employeeId);
      if (employee.hrPartnerId === null) throw noHrPartner(employee.id);

      const now = deps.clock.now();
      const lastWorkingDay = input.lastWorkingDay ?? defaultLastWorkingDay(now, employee.timezone, deps.noticeDays, employee.workingDays);
      const problem = lastWorkingDayProblem(lastWorkingDay, now, employee.timezone) ?? notWorkingDayProblem(lastWorkingDay, employee);
      if (problem) throw new DayRefused(employee.id, problem);

      return {
        id,
        employee: { id: employee.id, name: employee.name, email: employee.email, timezone: employee.timezone },
        manager: employee.manager,
        hrPartnerId: employee.hrPartnerId,
        lastWorkingDay,
        reason: input.reason ? input.reason : null,
        reasonCategory: input.reasonCategory ?? null,
        department: employee.department,
        mode: deps.starter.mode,
        correlationId,
        traceparent: meta.traceparent ?? null,
        idempotencyKey: meta.idempotencyKey ?? null,
        requestFingerprint: fingerprint,
        submittedAt: now.toISOString(),
        submittedBy: meta.actor(employee.id),
      };
    });
  } catch (err) {
    if (!(err instanceof DayRefused)) throw err;
    // An open case answers before a refused day: fixing the day would not let them resign. Looked up only here —
    // on the way in, opening the case finds an open one itself (its unique index), one statement fewer per case.
    const open = await deps.store.findOpenByEmployee(err.employeeId);
    // The same key sent concurrently: another request opened this very case since the key was looked up.
    if (open !== undefined && open === id) return replay(deps, id, meta.idempotencyKey, fingerprint);
    if (open) throw conflictFor(err.employeeId, open);
    throw invalidLastWorkingDay(err.problem);
  }
  // A concurrent request with the same key opened it first; it must have been the same request.
  if (outcome.outcome === 'existing') return replay(deps, id, meta.idempotencyKey, fingerprint);
  if (outcome.outcome === 'conflict') {
    if (outcome.existingId === id) return replay(deps, id, meta.idempotencyKey, fingerprint);
    throw conflictFor(input.employeeId, outcome.existingId);
  }
  return { kind: 'created', resignation: outcome.resignation ?? (await deps.store.get(id))! };
}

/** A last working day the employee's calendar refuses: thrown out of the opening transaction (nothing written), answered after it. */
class DayRefused extends Error {
  readonly employeeId: string;
  readonly problem: string;
  constructor(employeeId: string, problem: string) {
    super(problem);
    this.employeeId = employeeId;
    this.problem = problem;
  }
}

/** The case an earlier request with the same Idempotency-Key opened — if it was the same request. */
async function replay(deps: SubmitDeps, id: string, key: string | undefined, fingerprint: string | null): Promise<SubmitResult> {
  const kase = key ? await deps.store.findByIdempotencyKey(key) : undefined;
  if (kase && kase.fingerprint !== fingerprint) throw keyReused(key!);
  return { kind: 'replayed', resignation: (await deps.store.get(id))! };
}

/** A last working day the employee's calendar refuses: 400, naming the field (the decision answers the same). */
export function invalidLastWorkingDay(problem: string): HttpProblem {
  return new HttpProblem(400, problem, {
    type: 'https://ems.dev/problems/validation',
    title: 'Invalid request',
    extra: { errors: [{ path: 'body.lastWorkingDay', message: problem }] },
  });
}

/** What makes two submissions "the same request" for an Idempotency-Key. */
function requestFingerprint(input: ems.SubmitResignationRequest): string {
  return createHash('sha256')
    .update(JSON.stringify([input.employeeId, input.lastWorkingDay ?? null, input.reason ?? null, ...(input.reasonCategory ? [input.reasonCategory] : [])]))
    .digest('hex');
}

function noEmployee(id: string): HttpProblem {
  return new HttpProblem(404, `No employee with id ${id}`);
}

/** The directory names no HR partner for the person: nobody would interview them or decide. */
function noHrPartner(id: string): HttpProblem {
  return new HttpProblem(422, `Employee ${id} has no HR partner in the directory; ask HR to name one, then resign again`, {
    type: 'https://ems.dev/problems/no-hr-partner',
    title: 'No HR partner',
  });
}

function keyReused(key: string): HttpProblem {
  return new HttpProblem(422, `Idempotency-Key ${JSON.stringify(key)} was already used with a different request`, {
    type: 'https://ems.dev/problems/idempotency-key-reused',
    title: 'Idempotency key reused',
  });
}

function conflictFor(employeeId: string, existingId: string): HttpProblem {
  return new HttpProblem(409, `Employee ${employeeId} already has an open resignation (${existingId})`, {
    type: 'https://ems.dev/problems/open-resignation-exists',
    title: 'Open resignation exists',
    extra: { resignationId: existingId },
  });
}
