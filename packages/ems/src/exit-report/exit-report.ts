import { sql, type Kysely } from 'kysely';
import { HttpProblem, type Clock } from '@ems/platform';
import { ems, type reports as api } from '@ems/contracts';
import type { EmsDb } from '../db/types.ts';

type Series = keyof api.ExitCounts;
const zero = (): api.ExitCounts => ({ submitted: 0, exits: 0, retained: 0, withdrawn: 0, involuntary: 0 });
const DAY = 86_400_000;
/** A window longer than this is refused: the answer lists every month. */
const MAX_DAYS = 10 * 366;

/**
 * Counts the cases of the window by series, month, department and reason category — one aggregate
 * query over EMS's own cases (a case keeps its employee's department and its category from submission).
 * Resignations count in submitted / exits / retained / withdrawn; an involuntary exit only in `involuntary`,
 * at its start, by its batch's reason (HR's, not a resignation's category).
 */
export async function exitReport(deps: { db: Kysely<EmsDb>; clock: Clock }, query: api.ExitReportQuery): Promise<api.ExitReport> {
  const to = query.to ?? deps.clock.now().toISOString().slice(0, 10);
  const toDate = new Date(`${to}T00:00:00Z`);
  const from = query.from ?? new Date(Date.UTC(toDate.getUTCFullYear(), toDate.getUTCMonth() - 11, 1)).toISOString().slice(0, 10);
  const start = new Date(`${from}T00:00:00Z`);
  const end = new Date(toDate.getTime() + DAY);
  if (start > toDate) throw new HttpProblem(400, `from (${from}) is after to (${to})`, { extra: { errors: [{ path: 'querystring.from', message: 'must not be after to' }] } });
  if ((end.getTime() - start.getTime()) / DAY > MAX_DAYS) throw new HttpProblem(400, `The window may span at most ${MAX_DAYS} days`, { extra: { errors: [{ path: 'querystring.from', message: `must be at most ${MAX_DAYS} days before to` }] } });

  const rows = await sql<{ series: Series; month: string; department: string | null; category: string | null; exit_reason: api.ExitReport['byExitReason'][number]['reason'] | null; n: number }>`
    SELECT series, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM') AS month, department, reason_category AS category, exit_reason, count(*)::int AS n
    FROM (
      SELECT 'submitted' AS series, submitted_at AS at, department, reason_category, NULL AS exit_reason FROM ems.resignations
       WHERE kind = 'resignation' AND submitted_at >= ${start} AND submitted_at < ${end}
      UNION ALL
      SELECT CASE decision WHEN 'exit_confirmed' THEN 'exits' ELSE decision END, decided_at, department, reason_category, NULL FROM ems.resignations
       WHERE kind = 'resignation' AND decision IS NOT NULL AND decided_at >= ${start} AND decided_at < ${end}
      UNION ALL
      SELECT 'involuntary', r.submitted_at, r.department, NULL, b.reason FROM ems.resignations r JOIN ems.exit_batches b ON b.id = r.batch_id
       WHERE r.kind = 'involuntary' AND r.submitted_at >= ${start} AND r.submitted_at < ${end}
    ) x
    GROUP BY 1, 2, 3, 4, 5`.execute(deps.db);

  const totals = zero();
  const months = new Map<string, api.ExitCounts>();
  for (let d = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), 1)); d <= toDate; d = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1))) {
    months.set(d.toISOString().slice(0, 7), zero());
  }
  const departments = new Map<string | null, api.ExitCounts>();
  const reasons = new Map<string, api.ExitCounts>([...ems.ReasonCategory.options, 'uncategorised'].map((c) => [c, zero()]));
  const exitReasons = new Map<string, number>(ems.ExitReason.options.map((reason) => [reason, 0]));
  for (const r of rows.rows) {
    totals[r.series] += r.n;
    if (r.exit_reason !== null) exitReasons.set(r.exit_reason, (exitReasons.get(r.exit_reason) ?? 0) + r.n);
    months.get(r.month)![r.series] += r.n;
    if (!departments.has(r.department)) departments.set(r.department, zero());
    departments.get(r.department)![r.series] += r.n;
    if (r.series !== 'involuntary') reasons.get(r.category ?? 'uncategorised')![r.series] += r.n;
  }
  return {
    from,
    to,
    totals,
    byMonth: [...months].map(([month, c]) => ({ month, ...c })),
    byDepartment: [...departments]
      .map(([department, c]) => ({ department, ...c }))
      .sort((a, b) => b.exits + b.involuntary - (a.exits + a.involuntary) || (a.department ?? '\uffff').localeCompare(b.department ?? '\uffff')),
    byReason: [...reasons].map(([reasonCategory, c]) => ({ reasonCategory: reasonCategory as api.ExitReport['byReason'][number]['reasonCategory'], ...c })),
    byExitReason: ems.ExitReason.options.map((reason) => ({ reason, involuntary: exitReasons.get(reason) ?? 0 })),
  };
}
