import { createHash } from 'node:crypto';
import type { Actor } from '@ems/platform';

/**
 * The access audit's hash chain, defined once (pure: no database).
 *
 *   hash(row) = hex( SHA-256( UTF-8( (prev_hash ?? '') + canonical(row) ) ) )
 *
 * where prev_hash is the hash of the row before it in id order (null for the first row) and
 * canonical(row) is the JSON of the row's content — at, employee_id, grant_id, system_id, from_status,
 * to_status, reason, hold_id, actor, on_behalf_of; not the id — with:
 * - object keys sorted (by UTF-16 code units, as Array.prototype.sort does), at every depth;
 * - no whitespace; strings escaped as JSON.stringify does;
 * - timestamps as ISO 8601 in UTC with milliseconds (Date.prototype.toISOString, e.g. 2026-03-02T09:00:00.000Z);
 * - hold_id in lower case (PostgreSQL's uuid has no case);
 * - absent (undefined) properties left out, as JSON.stringify does;
 * - event and detail (system-level rows, migration 6) only when non-null: every row written before
 *   them has both null, so its canonical form — and its hash — is what it was.
 *
 * Migration 4 chains the rows that existed before the chain in SQL; that SQL builds exactly this form
 * (see migrations.ts), and a test verifies such rows with this module.
 */

export interface AuditContent {
  at: Date;
  employee_id: string;
  grant_id: string | null;
  system_id: string;
  from_status: string | null;
  to_status: string | null;
  reason: string;
  hold_id: string | null;
  actor: Actor;
  on_behalf_of: Actor | null;
  /** A system-level row's kind; null (or absent) on a grant status change. */
  event?: string | null | undefined;
  /** A system-level row's detail (JSON object); null (or absent) otherwise. */
  detail?: Record<string, unknown> | null | undefined;
}

/** A stored row, as the verification reads it. */
export interface ChainedRow extends AuditContent {
  id: number;
  prev_hash: string | null;
  hash: string;
}

/** JSON with sorted keys and no whitespace; Dates as toISOString(). */
export function canonicalJson(value: unknown): string {
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (value === null || typeof value !== 'object') {
    const json = JSON.stringify(value) as string | undefined;
    if (json === undefined) throw new TypeError(`canonicalJson: ${typeof value} has no JSON form`);
    return json;
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The canonical JSON of a row's content (what its hash covers besides prev_hash). */
export function canonicalAuditContent(row: AuditContent): string {
  const content: Record<keyof AuditContent, unknown> = {
    // Only when non-null (undefined is left out): rows without them hash as before migration 6.
    event: row.event ?? undefined,
    detail: row.detail ?? undefined,
    at: row.at,
    employee_id: row.employee_id,
    grant_id: row.grant_id,
    system_id: row.system_id,
    from_status: row.from_status,
    to_status: row.to_status,
    reason: row.reason,
    hold_id: row.hold_id === null ? null : row.hold_id.toLowerCase(),
    actor: row.actor,
    on_behalf_of: row.on_behalf_of,
  };
  return canonicalJson(content);
}

export function auditHash(prevHash: string | null, row: AuditContent): string {
  return createHash('sha256')
    .update((prevHash ?? '') + canonicalAuditContent(row), 'utf8')
    .digest('hex');
}

/** Chains new rows after `prevHash` (the last stored row's hash, or null when there is none), in order. */
export function chainRows<T extends AuditContent>(prevHash: string | null, rows: readonly T[]): Array<T & { prev_hash: string | null; hash: string }> {
  let prev = prevHash;
  return rows.map((row) => {
    const hash = auditHash(prev, row);
    const chained = { ...row, prev_hash: prev, hash };
    prev = hash;
    return chained;
  });
}

export const CHAIN_BREAKS = {
  content: 'hash does not match its content',
  link: "prev_hash does not match the previous row's hash",
} as const;
export type ChainBreak = (typeof CHAIN_BREAKS)[keyof typeof CHAIN_BREAKS];

/**
 * Checks one stored row against the hash of the row before it (null when it is the first): its link
 * first (a row removed or re-chained before it), then its own content. Undefined when it holds.
 */
export function checkRow(previousHash: string | null, row: ChainedRow): ChainBreak | undefined {
  if (row.prev_hash !== previousHash) return CHAIN_BREAKS.link;
  if (row.hash !== auditHash(row.prev_hash, row)) return CHAIN_BREAKS.content;
  return undefined;
}
