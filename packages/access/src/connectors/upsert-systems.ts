import type { AccessDb, ConnectorType } from '../db/access.db.ts';

/**
 * The systems file's systems into access.systems (at start): name, criticality and connector type as
 * the file says. With `authoritative` (the file is the whole truth: EMS start-up), a system connected
 * before but no longer in the file goes back to the built-in connector — new holds write no change
 * for a system nobody carries them to. Other systems keep what they have (the demo's: builtin). Idempotent.
 */
export async function upsertConfiguredSystems(db: AccessDb, systems: readonly { id: string; name: string; critical: boolean; type: ConnectorType }[], authoritative: boolean): Promise<void> {
  if (authoritative) {
    let q = db.updateTable('systems').set({ connector: 'builtin' }).where('connector', '!=', 'builtin');
    if (systems.length > 0) q = q.where('id', 'not in', systems.map((s) => s.id));
    await q.execute();
  }
  if (systems.length === 0) return;
  await db
    .insertInto('systems')
    .values(systems.map((s) => ({ id: s.id, name: s.name, critical: s.critical, connector: s.type })))
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet((eb) => ({ name: eb.ref('excluded.name'), critical: eb.ref('excluded.critical'), connector: eb.ref('excluded.connector') }))
        .where((eb) =>
          eb.or([
            eb('systems.name', 'is distinct from', eb.ref('excluded.name')),
            eb('systems.critical', 'is distinct from', eb.ref('excluded.critical')),
            eb('systems.connector', 'is distinct from', eb.ref('excluded.connector')),
          ]),
        ),
    )
    .execute();
}
