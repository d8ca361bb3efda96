import { randomUUID } from 'node:crypto';
import type { CaseDraft } from '../../packages/ems/src/resignations/case.types.ts';

/** A case as a submission opens it (orchestration), for `employeeId`: a fresh id, its own correlation id unless told. */
export function caseDraft(employeeId: string, over: Partial<CaseDraft> = {}): CaseDraft {
  const id = over.id ?? randomUUID();
  return {
    id,
    employee: { id: employeeId, name: 'Alice Leaver', email: 'alice@acme.example', timezone: 'Europe/Berlin' },
    manager: null,
    hrPartnerId: 'hrp-berlin',
    lastWorkingDay: '2027-03-31',
    reason: null,
    mode: 'orchestration',
    correlationId: id,
    traceparent: null,
    idempotencyKey: null,
    requestFingerprint: null,
    submittedAt: new Date().toISOString(),
    ...over,
  };
}
