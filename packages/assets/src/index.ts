import { createExtension } from './assets.extension.ts';

export default createExtension;
export { createExtension };
export { ASSETS_SCHEMA } from './db/assets.db.ts';
export { AssetsConfigSchema, assetsConfig, settings, type AssetsConfig } from './config.ts';
export { AssetEvents, AssetEventTypes, ASSETS_EVENT_SOURCE, RecoveryTaskOpened } from './events.ts';
export { AssetsPaths, RecoveryTask, RecoveryTaskList, RecoveryTaskListQuery, RecoveryTaskStatus } from './api.ts';
export { OPEN_RECOVERY_TASK_SUBSCRIBER } from './open-recovery-task/open-recovery-task-when-resignation-submitted.ts';
