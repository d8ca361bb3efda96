import type { access } from '@ems/contracts';
import { sql } from 'kysely';
import { ACCESS_SCHEMA, type AccessDb } from '../db/access.db.ts';
import { firstBreak, type ChainBreak } from './chain.ts';

export type AuditChainVerification =
  | { ok: true; rows: number; pending: number; lastId: number | null; lastHash: string | null }
  | { ok: false; rows: number; pending: number; firstBrokenId: number; reason: ChainBreak; lastIntactId: number | null };

const BATCH = 1_000;

/**
 * Walks the hash chain in its order (audit_chain.seq, the order the sealer linked the entries in),
 * `batchSize` entries at a time (never the whole table in memory), recomputing each entry's hash from its
 * content and checking it names the previous entry's hash; stops at the first entry that does not hold.
 * One REPEATABLE READ snapshot, so entries written or sealed meanwhile neither count nor confuse the walk.
 *
 * `pending`: entries written but not linked yet (the sealer links them within a moment; see
 * seal-audit.ts) — the chain vouches for them only once they are. Gaps in the ids are not breaks (a
 * rolled-back insert leaves one); a deleted entry is found through the next entry's prev_hash. Entries cut
 * off the end leave no trace in the chain itself: compare `lastHash` with one noted earlier.
 */
export async function verifyAuditChain(db: AccessDb, batchSize = BATCH): Promise<AuditChainVerification> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(async (trx) => {
      const counts = await sql<{ pending: number }>`
        SELECT (SELECT count(*) FROM ${sql.table(`${ACCESS_SCHEMA}.audit`)})
             - (SELECT count(*) FROM ${sql.table(`${ACCESS_SCHEMA}.audit_chain`)}) AS pending`.execute(trx);
      const pending = counts.rows[0]!.pending;
      let previous: { seq: number; id: number; hash: string } | null = null;
      let rows = 0;
      for (;;) {
        let q = trx.selectFrom('audit_chain as c').innerJoin('audit as a', 'a.id', 'c.audit_id').selectAll('a').select(['c.seq', 'c.prev_hash', 'c.hash']).orderBy('c.seq').limit(batchSize);
        if (previous) q = q.where('c.seq', '>', previous.seq);
        const batch = await q.execute();
        const broken = firstBreak(previous?.hash ?? null, batch);
        if (broken) {
          const before = batch[broken.index - 1];
          return { ok: false, rows: rows + broken.index + 1, pending, firstBrokenId: batch[broken.index]!.id, reason: broken.reason, lastIntactId: before ? before.id : (previous?.id ?? null) };
        }
        rows += batch.length;
        const last = batch.at(-1);
        if (last) previous = { seq: last.seq, id: last.id, hash: last.hash };
        if (batch.length < batchSize) return { ok: true, rows, pending, lastId: previous?.id ?? null, lastHash: previous?.hash ?? null };
      }
    });
}

/** The answer of GET /api/access-audit/verification: the outcome, when it was checked, and a sentence saying it. */
export function describeVerification(v: AuditChainVerification, checkedAt: Date): access.AuditVerification {
  const at = checkedAt.toISOString();
  const waiting =
    v.pending === 0 ? '' : ` ${v.pending} ${v.pending === 1 ? 'entry was' : 'entries were'} written but not linked into the chain yet (the sealer links them within a moment; check again).`;
  if (v.ok) {
    const summary =
      v.rows === 0
        ? v.pending === 0
          ? 'The access audit is empty: nothing to verify.'
          : `No entry of the access audit is linked into its hash chain yet.${waiting}`
        : `The access audit's hash chain is intact: ${v.rows} ${v.rows === 1 ? 'entry' : 'entries'} checked, each matching its content and linked to the one before; the last is entry ${v.lastId} with hash ${v.lastHash}.${waiting}`;
    return { ok: true, rows: v.rows, pending: v.pending, lastId: v.lastId, lastHash: v.lastHash, checkedAt: at, summary };
  }
  const before = v.lastIntactId === null ? 'it is the first entry' : v.rows - 1 === 1 ? `the entry before it (${v.lastIntactId}) is intact` : `the ${v.rows - 1} entries before it (up to entry ${v.lastIntactId}) are intact`;
  const meaning =
    v.reason === 'hash does not match its content'
      ? 'its content (or its hash) was changed after it was written'
      : v.lastIntactId === null
        ? 'it names a predecessor although it is the first entry: the entries before it were removed'
        : `it does not name entry ${v.lastIntactId} as its predecessor: an entry between them was removed, or a hash was rewritten`;
  return {
    ok: false,
    rows: v.rows,
    firstBrokenId: v.firstBrokenId,
    reason: v.reason,
    lastIntactId: v.lastIntactId,
    pending: v.pending,
    checkedAt: at,
    summary: `The access audit's hash chain is broken at entry ${v.firstBrokenId}: ${v.reason}, so ${meaning}; ${before}. The chain vouches for no entry from ${v.firstBrokenId} on.${waiting}`,
  };
}
