import type { DemoOrg } from '@ems/demo-org';
import type { AccessDb } from '../db/access.db.ts';

/**
 * Loads the systems, identities and grants of the demo organisation. Idempotent: a re-seed updates
 * names, criticality and roles, adds what is new, and never touches a grant's status (a hold or an
 * admin may have changed it since).
 */
export async function seedAccess(db: AccessDb, org: Pick<DemoOrg, 'systems' | 'employees' | 'grants'>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    if (org.systems.length > 0) {
      await trx
        .insertInto('systems')
        .values(org.systems.map((s) => ({ id: s.id, name: s.name, critical: s.critical })))
        .onConflict((oc) =>
          oc
            .column('id')
            .doUpdateSet((eb) => ({ name: eb.ref('excluded.name'), critical: eb.ref('excluded.critical') }))
            .where((eb) => eb.or([eb('systems.name', 'is distinct from', eb.ref('excluded.name')), eb('systems.critical', 'is distinct from', eb.ref('excluded.critical'))])),
        )
        .execute();
    }
    if (org.employees.length > 0) {
      await trx
        .insertInto('identities')
        .values(org.employees.map((e) => ({ employee_id: e.id, email: e.email })))
        // The email only while the directory has not spoken (directory_version 0): its snapshots win.
        .onConflict((oc) =>
          oc
            .column('employee_id')
            .doUpdateSet((eb) => ({ email: eb.ref('excluded.email') }))
            .where((eb) => eb.and([eb('identities.directory_version', '=', 0), eb('identities.email', 'is distinct from', eb.ref('excluded.email'))])),
        )
        .execute();
    }
    for (let i = 0; i < org.grants.length; i += 1000) {
      await trx
        .insertInto('grants')
        .values(org.grants.slice(i, i + 1000).map((g) => ({ id: g.id, employee_id: g.employeeId, system_id: g.systemId, role: g.role })))
        .onConflict((oc) =>
          oc
            .column('id')
            .doUpdateSet((eb) => ({ role: eb.ref('excluded.role'), updated_at: new Date() }))
            .where((eb) => eb('grants.role', 'is distinct from', eb.ref('excluded.role'))),
        )
        .execute();
    }
  });
}
