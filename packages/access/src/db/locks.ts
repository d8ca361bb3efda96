import type { AccessTx } from './access.db.ts';

/**
 * Every change to one employee's access (hold, release) takes this row lock
 * first, so such transactions run one at a time per employee and always in the same lock order.
 * FOR NO KEY UPDATE leaves foreign-key checks against the identity free.
 * Resolves false when the employee has no identity here.
 */
export async function lockIdentity(trx: AccessTx, employeeId: string): Promise<boolean> {
  const row = await trx.selectFrom('identities').select('employee_id').where('employee_id', '=', employeeId).forNoKeyUpdate().executeTakeFirst();
  return row !== undefined;
}
