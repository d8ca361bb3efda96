import type { access } from '@ems/contracts';
import type { AccessDb } from '../db/access.db.ts';
import { checkRow, type ChainBreak } from './chain.ts';

export type AuditChainVerification =
  | { ok: true; rows: number; lastId: number | null; lastHash: string | null }
  | { ok: false; rows: number; firstBrokenId: number; reason: ChainBreak; lastIntactId: number | null };

const BATCH = 1_000;

/**
 * Walks the access audit in id order, `batchSize` rows at a time (never the whole table in memory),
 * recomputing each row's hash from its content and checking it names the previous row's hash; stops at
 * the first row that does not hold. One REPEATABLE READ snapshot, so rows appended meanwhile neither
 * count nor confuse the walk.
 *
 * Gaps in the ids are not breaks (a rolled-back insert leaves one); a deleted row is found through the
 * next row's prev_hash. Rows cut off the end leave no trace in the chain itself: compare `lastHash`
 * with one noted earlier.
 */
export async function verifyAuditChain(db: AccessDb, batchSize = BATCH): Promise<AuditChainVerification> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(async (trx) => {
      let previous: { id: number; hash: string } | null = null;
      let rows = 0;
      for (;;) {
        let q = trx.selectFrom('audit').selectAll().orderBy('id').limit(batchSize);
        if (previous) q = q.where('id', '>', previous.id);
        const batch = await q.execute();
        for (const row of batch) {
          rows++;
          const broken = checkRow(previous?.hash ?? null, row);
          if (broken) return { ok: false, rows, firstBrokenId: row.id, reason: broken, lastIntactId: previous?.id ?? null };
          previous = { id: row.id, hash: row.hash };
        }
        if (batch.length < batchSize) return { ok: true, rows, lastId: previous?.id ?? null, lastHash: previous?.hash ?? null };
      }
    });
}

/** The answer of GET /api/access-audit/verification: the outcome, when it was checked, and a sentence saying it. */
export function describeVerification(v: AuditChainVerification, checkedAt: Date): access.AuditVerification {
  const at = checkedAt.toISOString();
  if (v.ok) {
    const summary =
      v.rows === 0
        ? 'The access audit is empty: nothing to verify.'
        : `The access audit's hash chain is intact: ${v.rows} ${v.rows === 1 ? 'entry' : 'entries'} checked, each matching its content and linked to the one before; the last is entry ${v.lastId} with hash ${v.lastHash}.`;
    return { ok: true, rows: v.rows, lastId: v.lastId, lastHash: v.lastHash, checkedAt: at, summary };
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
    checkedAt: at,
    summary: `The access audit's hash chain is broken at entry ${v.firstBrokenId}: ${v.reason}, so ${meaning}; ${before}. The chain vouches for no entry from ${v.firstBrokenId} on.`,
  };
}
