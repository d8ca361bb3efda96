import type { PolicyTable } from '@ems/contracts/policy';

/** IT asset recovery's rows in the policy table: IT collects the equipment; operators see the tasks. */
export const AssetPolicy = {
  listAssetRecoveryTasks: { service: 'extensions', what: 'List asset recovery tasks', roles: [{ role: 'access_admin', rows: 'all' }, { role: 'operator', rows: 'all' }] },
  getAssetRecoveryTask: { service: 'extensions', what: 'Read an asset recovery task', roles: [{ role: 'access_admin', rows: 'all' }, { role: 'operator', rows: 'all' }] },
  completeAssetRecoveryTask: { service: 'extensions', what: 'Record the equipment collected', roles: [{ role: 'access_admin', rows: 'all' }] },
} as const satisfies PolicyTable;
