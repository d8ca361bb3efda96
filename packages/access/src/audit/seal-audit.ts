import { sql } from 'kysely';
import { createPoller, type Logger, type Poller } from '@ems/platform';
import { ACCESS_SCHEMA, type AccessDb } from '../db/access.db.ts';
import { chainRows, type ChainedRow } from './chain.ts';
import { AUDIT_CHAIN_LOCK } from './record-audit.ts';

/**
 * The sealer: links audit entries into the hash chain after their own transactions committed.
 *
 *   writers (holds, releases, revocations, connectors, drift, exits) — no lock, in parallel:
 *     INSERT audit entries + one audit_pending row each ─▶ COMMIT with their effect
 *
 *   sealer (one poller per process; one at a time across processes, by the chain's advisory lock):
 *     any pending? ─no─▶ done (1 statement)
 *       │yes
 *     BEGIN; pg_advisory_xact_lock('access.audit')
 *     read the chain's last (seq, hash) and up to `limit` pending entries, oldest id first   (1 statement)
 *     hash them in JS (audit/chain.ts), each on the one before
 *     INSERT their audit_chain rows (seq = last + 1, + 2 …) and DELETE their audit_pending rows (1 statement)
 *     COMMIT
 *
 * Why this is safe:
 * - commit order: an entry is sealed only once its transaction committed (its pending row is visible),
 *   and its place in the chain is the sealer's `seq`, not its id — an entry with a lower id that commits
 *   after a higher one was sealed is linked after it. Nothing waits for in-flight transactions;
 * - crash: an entry's pending row commits with it, and leaves only in the transaction that seals it — a
 *   crash between the two leaves the entry pending, and the next round (any process's) seals it;
 * - two sealers: the lock is taken before the read, and READ COMMITTED gives the read a snapshot taken
 *   after the lock was granted, so the second sealer sees the first one's chain; audit_chain's unique
 *   prev_hash would turn a fork into an error anyway.
 */

/** Links up to `limit` pending entries into the chain; answers how many it linked. */
export async function sealAuditBatch(db: AccessDb, limit: number): Promise<number> {
  // The cheap look first: an idle round is one statement, not a transaction.
  const any = await db.selectFrom('audit_pending').select('audit_id').limit(1).executeTakeFirst();
  if (!any) return 0;
  return db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(hashtext(${AUDIT_CHAIN_LOCK}))`.execute(trx);
    const { rows } = await sql<Omit<ChainedRow, 'prev_hash' | 'hash'> & { last_seq: number | null; last_hash: string | null }>`
      WITH last AS (SELECT seq, hash FROM ${sql.table(`${ACCESS_SCHEMA}.audit_chain`)} ORDER BY seq DESC LIMIT 1)
      SELECT a.*, last.seq AS last_seq, last.hash AS last_hash
        FROM ${sql.table(`${ACCESS_SCHEMA}.audit_pending`)} p
        JOIN ${sql.table(`${ACCESS_SCHEMA}.audit`)} a ON a.id = p.audit_id
        LEFT JOIN last ON true
       ORDER BY p.audit_id
       LIMIT ${limit}`.execute(trx);
    const first = rows[0];
    if (!first) return 0; // another sealer took them while this one waited for the lock
    const chained = chainRows(first.last_hash, rows);
    const from = (first.last_seq ?? 0) + 1;
    await sql`
      WITH sealed AS (
        INSERT INTO ${sql.table(`${ACCESS_SCHEMA}.audit_chain`)} (seq, audit_id, prev_hash, hash)
        SELECT * FROM unnest(${chained.map((_, i) => from + i)}::bigint[], ${chained.map((r) => r.id)}::bigint[],
                             ${chained.map((r) => r.prev_hash)}::text[], ${chained.map((r) => r.hash)}::text[])
        RETURNING audit_id
      )
      DELETE FROM ${sql.table(`${ACCESS_SCHEMA}.audit_pending`)} p USING sealed WHERE p.audit_id = sealed.audit_id`.execute(trx);
    return rows.length;
  });
}

export interface AuditSealerOptions {
  /**
   * How often it looks for pending entries. Default 1 s: an idle look is one statement, and in a burst a
   * round links everything committed since the last one (a few statements and one commit per round,
   * whatever the number of entries); nothing waits on it but the verification's `pending` count.
   */
  intervalMs?: number;
  /** Most entries linked per transaction (a full batch is followed by another at once). Default 2,000. */
  batch?: number;
}

/**
 * The sealer as a background poller (started with the service, both modes). `drained()` is the barrier
 * a test waits on: every entry committed before the call is linked once it resolves.
 */
export function createAuditSealer(deps: { db: AccessDb; log: Logger }, options: AuditSealerOptions = {}): Poller {
  return createPoller({
    name: 'access audit sealer',
    log: deps.log,
    intervalMs: options.intervalMs ?? 1_000,
    batch: options.batch ?? 2_000,
    work: (limit) => sealAuditBatch(deps.db, limit),
  });
}

/** Links every entry pending now, batch after batch (tests, an operator's one-off): how many it linked. */
export async function sealAllPending(db: AccessDb, batch = 2_000): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await sealAuditBatch(db, batch);
    total += n;
    if (n < batch) return total;
  }
}
