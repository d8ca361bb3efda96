import { sql, type Kysely } from 'kysely';
import type { EventData, EventTypes } from '@ems/contracts/events';
import type { EmsDb, Responsible } from '../db/types.ts';

export type PersonChanged = EventData<typeof EventTypes.personChanged>;

/**
 * The directory changed a person → EMS's roster follows, in one transaction:
 *
 *   snapshot newer than the roster's? ──no──▶ nothing (a redelivery, or an older change arriving late)
 *        │ yes
 *        ▼
 *   roster row replaced ──▶ open cases naming them as manager / HR partner get their new name
 *        │
 *        ▼
 *   their own open case: manager or HR partner changed? ──▶ `responsible` now, and a timeline entry each
 *
 * The version makes it idempotent and order-proof; the timeline entries are keyed by it too.
 */
export async function updateRoster(db: Kysely<EmsDb>, change: PersonChanged): Promise<'applied' | 'stale'> {
  const p = change.person;
  return db.transaction().execute(async (trx) => {
    // One roster change at a time (the bus delivers several at once): a case given a manager the roster does not
    // hold yet is completed by the manager's own snapshot only if that one sees the case's change committed — run
    // side by side, each missed the other, and the case kept a nameless manager (its messages going to the old one).
    await sql`SELECT pg_advisory_xact_lock(hashtext('ems.roster'))`.execute(trx);
    const applied = await trx
      .insertInto('employees')
      .values({
        id: p.id,
        name: p.name,
        email: p.email,
        timezone: p.timezone,
        work_days: p.workingHours.days,
        manager_id: p.managerId,
        hr_partner_id: p.hrPartnerId,
        department: p.department,
        active: p.active,
        version: change.version,
        updated_at: change.changedAt,
      })
      .onConflict((oc) =>
        oc
          .column('id')
          .doUpdateSet((eb) => ({
            name: eb.ref('excluded.name'),
            email: eb.ref('excluded.email'),
            timezone: eb.ref('excluded.timezone'),
            work_days: eb.ref('excluded.work_days'),
            manager_id: eb.ref('excluded.manager_id'),
            hr_partner_id: eb.ref('excluded.hr_partner_id'),
            department: eb.ref('excluded.department'),
            active: eb.ref('excluded.active'),
            version: eb.ref('excluded.version'),
            updated_at: eb.ref('excluded.updated_at'),
          }))
          .where((eb) => eb('employees.version', '<', eb.ref('excluded.version'))),
      )
      .returning('id')
      .executeTakeFirst();
    if (!applied) return 'stale' as const;

    // Open cases that name this person as the one responsible now: their name as the directory has it.
    await sql`
      UPDATE ems.resignations SET responsible = jsonb_set(responsible, '{manager}', jsonb_build_object('id', ${p.id}::text, 'name', ${p.name}::text, 'email', ${p.email}::text))
      WHERE closed_at IS NULL AND responsible->'manager'->>'id' = ${p.id}`.execute(trx);
    await sql`
      UPDATE ems.resignations SET responsible = jsonb_set(responsible, '{hrPartner}', jsonb_build_object('id', ${p.id}::text, 'name', ${p.name}::text))
      WHERE closed_at IS NULL AND responsible->'hrPartner'->>'id' = ${p.id}`.execute(trx);

    const kase = await trx
      .selectFrom('resignations')
      .select(['id', 'correlation_id', 'manager_id', 'manager_name', 'manager_email', 'hr_partner_id', 'responsible'])
      .where('employee_id', '=', p.id)
      .where('closed_at', 'is', null)
      .forUpdate()
      .executeTakeFirst();
    if (!kase) return 'applied' as const;
    const now: Responsible['manager'] | undefined = kase.responsible ? kase.responsible.manager : kase.manager_id ? { id: kase.manager_id, name: kase.manager_name, email: kase.manager_email } : null;
    const nowManager = now ?? null;
    const nowPartner = kase.responsible ? kase.responsible.hrPartner : { id: kase.hr_partner_id, name: null };
    const managerChanged = (nowManager?.id ?? null) !== p.managerId;
    const partnerChanged = (nowPartner?.id ?? null) !== p.hrPartnerId;
    if (!managerChanged && !partnerChanged) return 'applied' as const;

    const ids = [p.managerId, p.hrPartnerId, nowPartner?.id].filter((x): x is string => x !== null && x !== undefined);
    const people = new Map((await trx.selectFrom('employees').select(['id', 'name', 'email']).where('id', 'in', ids).execute()).map((r) => [r.id, r]));
    const manager = p.managerId ? { id: p.managerId, name: people.get(p.managerId)?.name ?? null, email: people.get(p.managerId)?.email ?? null } : null;
    const hrPartner = p.hrPartnerId ? { id: p.hrPartnerId, name: people.get(p.hrPartnerId)?.name ?? null } : null;
    // Back to the submission's people: nothing to say beside the submission's facts (the timeline keeps the history).
    const asSubmitted = (manager?.id ?? null) === kase.manager_id && hrPartner?.id === kase.hr_partner_id;
    const responsible: Responsible | null = asSubmitted ? null : { manager, hrPartner, changedAt: change.changedAt };
    await trx
      .updateTable('resignations')
      .set({ responsible: responsible ? JSON.stringify(responsible) : null, updated_at: change.changedAt })
      .where('id', '=', kase.id)
      .execute();

    const name = (x: { id: string; name: string | null } | null | undefined) => (x ? (x.name ?? x.id) : 'nobody');
    const entries: Array<{ type: string; summary: string; detail: Record<string, unknown>; key: string }> = [];
    if (managerChanged) {
      entries.push({
        type: 'responsible.manager-changed',
        summary: `Manager is now ${name(manager)} (was ${name(nowManager)})`,
        detail: { managerId: manager?.id ?? null, previousManagerId: nowManager?.id ?? null, version: change.version, origin: change.origin },
        key: `responsible.manager.v${change.version}`,
      });
    }
    if (partnerChanged) {
      const before = nowPartner ? { id: nowPartner.id, name: nowPartner.name ?? people.get(nowPartner.id)?.name ?? null } : null;
      entries.push({
        type: 'responsible.hr-partner-changed',
        summary: `HR partner is now ${name(hrPartner)} (was ${name(before)})`,
        detail: { hrPartnerId: hrPartner?.id ?? null, previousHrPartnerId: before?.id ?? null, version: change.version, origin: change.origin },
        key: `responsible.hr-partner.v${change.version}`,
      });
    }
    await trx
      .insertInto('timeline')
      .values(
        entries.map((e) => ({
          resignation_id: kase.id,
          at: change.changedAt,
          service: 'identity',
          type: e.type,
          summary: e.summary,
          correlation_id: kase.correlation_id,
          detail: JSON.stringify(e.detail),
          dedupe_key: e.key,
        })),
      )
      .onConflict((oc) => oc.columns(['resignation_id', 'dedupe_key']).doNothing())
      .execute();
    return 'applied' as const;
  });
}
