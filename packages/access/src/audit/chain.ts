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

/** canonicalJson of an actor (or null), made once per object by a chain of many rows. */
type ActorJson = (actor: Actor | null) => string;
const actorJson: ActorJson = (a) => (a === null ? 'null' : canonicalJson(a));
function cachedActorJson(): ActorJson {
  const seen = new Map<Actor, string>();
  return (a) => {
    if (a === null) return 'null';
    let j = seen.get(a);
    if (j === undefined) seen.set(a, (j = canonicalJson(a)));
    return j;
  };
}

/**
 * The canonical JSON of a row's content (what its hash covers besides prev_hash): canonicalJson of
 * { actor, at, detail?, employee_id, event?, from_status, grant_id, hold_id, on_behalf_of, reason,
 * system_id, to_status }, written field by field in that (sorted) key order rather than by building and
 * sorting an object per row — a chunk of an exit chains thousands of rows. The unit test holds it equal
 * to canonicalJson of the object.
 */
export function canonicalAuditContent(row: AuditContent, actor: ActorJson = actorJson): string {
  const str = (v: string | null) => (v === null ? 'null' : JSON.stringify(v));
  // Only when non-null (left out otherwise): rows without them hash as before migration 6.
  const detail = row.detail == null ? '' : `"detail":${canonicalJson(row.detail)},`;
  const event = row.event == null ? '' : `"event":${JSON.stringify(row.event)},`;
  return (
    `{"actor":${actor(row.actor)},"at":${canonicalJson(row.at)},${detail}"employee_id":${JSON.stringify(row.employee_id)},${event}` +
    `"from_status":${str(row.from_status)},"grant_id":${str(row.grant_id)},"hold_id":${str(row.hold_id === null ? null : row.hold_id.toLowerCase())},` +
    `"on_behalf_of":${actor(row.on_behalf_of)},"reason":${JSON.stringify(row.reason)},"system_id":${JSON.stringify(row.system_id)},` +
    `"to_status":${str(row.to_status)}}`
  );
}

export function auditHash(prevHash: string | null, row: AuditContent, actor: ActorJson = actorJson): string {
  return createHash('sha256')
    .update((prevHash ?? '') + canonicalAuditContent(row, actor), 'utf8')
    .digest('hex');
}

/** Chains new rows after `prevHash` (the last stored row's hash, or null when there is none), in order. */
export function chainRows<T extends AuditContent>(prevHash: string | null, rows: readonly T[]): Array<T & { prev_hash: string | null; hash: string }> {
  const actor = cachedActorJson();
  let prev = prevHash;
  return rows.map((row) => {
    const hash = auditHash(prev, row, actor);
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

/**
 * Walks stored rows in chain order after `previousHash` (the hash of the row before the first, or null at
 * the start of the chain): the index of the first row that does not hold and why, or undefined when all
 * do. The verification walks the chain batch by batch with it, each batch after the last one's hash.
 */
export function firstBreak(previousHash: string | null, rows: readonly ChainedRow[]): { index: number; reason: ChainBreak } | undefined {
  let prev = previousHash;
  for (const [index, row] of rows.entries()) {
    const reason = checkRow(prev, row);
    if (reason) return { index, reason };
    prev = row.hash;
  }
  return undefined;
}
