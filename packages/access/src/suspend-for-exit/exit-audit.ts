import { sql } from 'kysely';
import { ACCESS_SCHEMA, type AccessTx } from '../db/access.db.ts';
import { AUDIT_CHAIN_LOCK, type AuditChange } from '../audit/record-audit.ts';
import { createHash } from 'node:crypto';
import { canonicalJson } from '../audit/chain.ts';
import type { AuditBy } from '../audit/actor.ts';

/**
 * recordAudit (audit/record-audit.ts) for a chunk of thousands of rows: the same chain, the same lock,
 * the same canonical hashes (audit/chain.ts) — but one INSERT … SELECT over unnest arrays, so the
 * statement has 12 parameters whatever the row count (a multi-row VALUES of 5,000 rows would need 70,000,
 * past PostgreSQL's 65,535), and one plan.
 *
 * The chain is in id order: WITH ORDINALITY … ORDER BY n makes the bigserial numbers follow the order
 * the hashes were chained in, and the ids returned are checked against it (as recordAudit does).
 */
export async function recordAuditSet(trx: AccessTx, entries: ReadonlyArray<{ change: AuditChange; by: AuditBy }>): Promise<void> {
  if (entries.length === 0) return;
  await sql`SELECT pg_advisory_xact_lock(hashtext(${AUDIT_CHAIN_LOCK}))`.execute(trx);
  const last = await trx.selectFrom('audit').select('hash').orderBy('id', 'desc').limit(1).executeTakeFirst();
  const rows = chainGrantChanges(last?.hash ?? null, entries);
  const col = <T>(f: (r: (typeof rows)[number]) => T): T[] => rows.map(f);
  const { rows: inserted } = await sql<{ id: string; hash: string }>`
    INSERT INTO ${sql.table(`${ACCESS_SCHEMA}.audit`)}
      (at, employee_id, grant_id, system_id, from_status, to_status, reason, hold_id, actor, on_behalf_of, prev_hash, hash)
    SELECT u.at, u.employee_id, u.grant_id, u.system_id, u.from_status, u.to_status, u.reason, u.hold_id,
           u.actor::jsonb, u.on_behalf_of::jsonb, u.prev_hash, u.hash
      FROM unnest(
        ${col((r) => r.at.toISOString())}::timestamptz[], ${col((r) => r.employee_id)}::text[], ${col((r) => r.grant_id)}::text[],
        ${col((r) => r.system_id)}::text[], ${col((r) => r.from_status)}::text[], ${col((r) => r.to_status)}::text[],
        ${col((r) => r.reason)}::text[], ${col((r) => r.hold_id)}::uuid[], ${col((r) => r.actor)}::text[],
        ${col((r) => r.on_behalf_of)}::text[], ${col((r) => r.prev_hash)}::text[], ${col((r) => r.hash)}::text[]
      ) WITH ORDINALITY AS u(at, employee_id, grant_id, system_id, from_status, to_status, reason, hold_id, actor, on_behalf_of, prev_hash, hash, n)
     ORDER BY u.n
    RETURNING id, hash`.execute(trx);
  // bigint ids come back as strings: compare numerically.
  const byId = [...inserted].sort((a, b) => Number(a.id) - Number(b.id));
  if (byId.length !== rows.length || byId.some((r, i) => r.hash !== rows[i]!.hash)) throw new Error('access audit: inserted rows were numbered out of chain order');
}

/**
 * chainRows (audit/chain.ts) for grant status changes, without building and sorting an object per row:
 * the canonical JSON is written in its sorted key order directly, and each actor's canonical JSON is
 * made once. The same bytes, so the same hashes: verifyAuditChain (chain.ts's checkRow) checks them.
 */
function chainGrantChanges(prevHash: string | null, entries: ReadonlyArray<{ change: AuditChange; by: AuditBy }>) {
  const actors = new Map<AuditBy['actor'], string>();
  const json = (a: AuditBy['actor'] | null): string => {
    if (a === null) return 'null';
    let j = actors.get(a);
    if (j === undefined) actors.set(a, (j = canonicalJson(a)));
    return j;
  };
  let prev = prevHash;
  return entries.map(({ change: c, by }) => {
    const canonical =
      `{"actor":${json(by.actor)},"at":${JSON.stringify(c.at.toISOString())},"employee_id":${JSON.stringify(c.employeeId)}` +
      `,"from_status":${JSON.stringify(c.from)},"grant_id":${JSON.stringify(c.grantId)},"hold_id":${c.holdId === null ? 'null' : JSON.stringify(c.holdId.toLowerCase())}` +
      `,"on_behalf_of":${json(by.onBehalfOf)},"reason":${JSON.stringify(c.reason)},"system_id":${JSON.stringify(c.systemId)},"to_status":${JSON.stringify(c.to)}}`;
    const hash = createHash('sha256').update((prev ?? '') + canonical, 'utf8').digest('hex');
    const row = {
      at: c.at,
      employee_id: c.employeeId,
      grant_id: c.grantId,
      system_id: c.systemId,
      from_status: c.from,
      to_status: c.to,
      reason: c.reason,
      hold_id: c.holdId,
      actor: json(by.actor),
      on_behalf_of: by.onBehalfOf === null ? null : json(by.onBehalfOf),
      prev_hash: prev,
      hash,
    };
    prev = hash;
    return row;
  });
}
