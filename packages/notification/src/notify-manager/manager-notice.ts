import { createHash } from 'node:crypto';
import { notification as api } from '@ems/contracts';

/**
 * The manager notice: the email that tells a manager one of their people resigned. Its outcome is what
 * the rest of EMS waits for, so Notification reports it as an event (managerNotified /
 * managerNotificationFailed) whoever asked for it.
 */
export const MANAGER_NOTICE_PURPOSE = api.EmailPurposes.managerNotice();

export interface ResignationFacts {
  resignationId: string;
  employee: { id: string; name: string };
  manager: { name: string; email: string } | null;
  lastWorkingDay: string;
  reason: string | null;
}

/** The email request for a resignation, the same one the orchestrator sends over HTTP; undefined when there is no manager. */
export function managerNoticeRequest(facts: ResignationFacts, caseUrl: string | null): api.ManagerNoticeEmail | undefined {
  if (!facts.manager) return undefined;
  return {
    resignationId: facts.resignationId,
    purpose: MANAGER_NOTICE_PURPOSE,
    to: { email: facts.manager.email, name: facts.manager.name },
    template: 'resignation-manager-notice' as const,
    data: {
      managerName: facts.manager.name,
      employeeName: facts.employee.name,
      employeeId: facts.employee.id,
      lastWorkingDay: facts.lastWorkingDay,
      reason: facts.reason,
      caseUrl,
    },
    attachments: [],
  };
}

/**
 * Namespace of the ids below. Fixed forever: changing it changes every id derived from it.
 */
export const NO_MANAGER_NAMESPACE = '3f0c6a52-8d1e-4b7a-9c55-2b7e6f1d0a94';

/**
 * The `emailId` of a managerNotified event that says "skipped: no manager". The event's schema requires
 * an email id, yet no email exists: we use a name-based UUID (version 5, RFC 9562 §5.5) of the
 * resignation id in our own namespace. It is deterministic — a redelivered or replayed event yields the
 * same id — it names no row in `emails`, and it cannot collide with a real email id (those are random v4).
 */
export function noManagerEmailId(resignationId: string): string {
  return uuidV5(resignationId.toLowerCase(), NO_MANAGER_NAMESPACE);
}

/** RFC 9562 version-5 UUID: SHA-1 of namespace bytes + name, with version and variant bits set. */
export function uuidV5(name: string, namespace: string): string {
  const ns = Buffer.from(namespace.replaceAll('-', ''), 'hex');
  if (ns.length !== 16) throw new Error(`not a UUID: ${namespace}`);
  const bytes = createHash('sha1').update(ns).update(name, 'utf8').digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
