import { sql } from 'kysely';
import type { identity } from '@ems/contracts';
import type { TraceContext } from '@ems/eventbus';
import type { IdentityContext } from '../identity.context.ts';
import { applyPeople, DirectoryRefused, listDirectoryPeople, type DirectoryPerson } from '../directory/apply-people.ts';
import { columnOf, columnValue, COLUMNS, type RowError } from './people-csv.ts';
import { readPeopleFileOffThread } from './read-people-file.ts';

/**
 * HR's export in: a CSV file of people written into the directory, all or nothing.
 *
 *   read the file ─► errors (every one, by row and column) ─► refused, nothing written
 *        └─► people ─► applyPeople in one transaction (dry run: plan only) ─► errors about the organisation
 *                                                                              (unknown manager, cycle, clash) ─► refused, rolled back
 *                        └─► the report: created / updated (columns, before → after) / unchanged / deactivated
 *
 * A re-import of the same file changes nothing and publishes nothing.
 */

export type ImportOutcome = { ok: true; report: identity.DirectoryImportReport } | { ok: false; errors: RowError[] };

export interface ImportOptions {
  dryRun: boolean;
  deactivateMissing: boolean;
  trace?: TraceContext | undefined;
}

export async function importPeople(ctx: Pick<IdentityContext, 'db' | 'clock' | 'bus' | 'log'>, csv: string, options: ImportOptions, by: string): Promise<ImportOutcome> {
  const file = await readPeopleFileOffThread(csv, ctx.log);
  if (!file.ok) return { ok: false, errors: file.errors };

  const outcome = await ctx.db.transaction().execute(async (trx): Promise<ImportOutcome> => {
    // applyPeople's lock, taken before the roles are read from the directory (the same session may take it twice).
    await sql`SELECT pg_advisory_xact_lock(hashtext('identity.directory'))`.execute(trx);
    const all = await listDirectoryPeople(trx, { startIndex: 1, count: Number.MAX_SAFE_INTEGER });
    const before = new Map(all.items.map((e) => [e.person.id, e.person]));
    // Without a roles column the directory's roles stay as they are.
    const people: DirectoryPerson[] = file.people.map(({ person }) => ({ ...person, roles: person.roles ?? before.get(person.id)?.roles ?? [] }));
    // The HR lead may import, but only an operator gives or takes the roles that run EMS and IT's access:
    // otherwise an HR lead could make themselves operator (or take it from every operator) with one file.
    const escalations = before.get(by)?.roles.includes('operator') ? [] : file.people.filter(({ person }) => guardedRolesChange(before.get(person.id)?.roles ?? [], people.find((p) => p.id === person.id)!.roles));
    if (escalations.length > 0) {
      return { ok: false, errors: escalations.map((p) => ({ row: p.row, column: 'roles', message: `only an operator may give or take the ${GUARDED_ROLES.join(' and ')} roles (${p.person.id})` })) };
    }
    try {
      const result = await applyPeople(trx, { clock: ctx.clock, bus: ctx.bus }, people, 'import', { dryRun: options.dryRun, deactivateMissing: options.deactivateMissing, trace: options.trace });
      // A full export that leaves out the person importing it would lock them out mid-way: refused, rolled back.
      if (result.deactivated.includes(by) || file.people.some((p) => p.person.id === by && !p.person.active)) throw new LocksOutImporter(by);
      const after = new Map(people.map((p) => [p.id, p]));
      const nameOf = (id: string) => after.get(id)?.name ?? before.get(id)?.name ?? id;
      return {
        ok: true,
        report: {
          dryRun: options.dryRun,
          deactivateMissing: options.deactivateMissing,
          rows: file.people.length,
          created: result.created.map((id) => ({ id, name: nameOf(id) })),
          updated: result.updated.map((id) => ({ id, name: nameOf(id), changes: columnChanges(before.get(id)!, after.get(id)!) })),
          unchanged: result.unchanged,
          deactivated: result.deactivated.map((id) => ({ id, name: nameOf(id) })),
        },
      };
    } catch (err) {
      if (!(err instanceof DirectoryRefused)) throw err;
      const rowOf = new Map(file.people.map((p) => [p.person.id, p.row]));
      return { ok: false, errors: err.problems.map((p) => ({ row: rowOf.get(p.personId) ?? 1, column: columnOf(p.field), message: p.message })) };
    }
  }).catch((err: unknown) => {
    if (!(err instanceof LocksOutImporter)) throw err;
    const row = file.people.find((p) => p.person.id === by)?.row ?? 1;
    return { ok: false as const, errors: [{ row, column: row === 1 ? null : 'active', message: `this import would deactivate ${by}, who is importing it: add them to the file (active), or let someone else import it` }] };
  });
  if (outcome.ok && !options.dryRun) {
    const r = outcome.report;
    ctx.log.info({ by, rows: r.rows, created: r.created.length, updated: r.updated.length, unchanged: r.unchanged.length, deactivated: r.deactivated.length }, 'directory imported');
  }
  return outcome;
}

/** Roles only an operator's import may change. */
const GUARDED_ROLES = ['operator', 'access_admin'] as const;

function guardedRolesChange(before: readonly string[], after: readonly string[]): boolean {
  return GUARDED_ROLES.some((r) => before.includes(r) !== after.includes(r));
}

/** The columns of a person that differ, as the file writes them. */
function columnChanges(before: DirectoryPerson, after: DirectoryPerson): Array<{ column: string; from: string; to: string }> {
  return COLUMNS.flatMap((c) => {
    const from = columnValue(before, c);
    const to = columnValue(after, c);
    return from === to ? [] : [{ column: c, from, to }];
  });
}

/** Thrown inside the transaction to roll it back: the import would deactivate the person making it. */
class LocksOutImporter extends Error {
  constructor(personId: string) {
    super(`the import would deactivate ${personId}`);
  }
}
