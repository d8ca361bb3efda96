/**
 * @ems/server — the composition root: builds processes from the services (startEms), reads their
 * configuration (loadConfig), and runs the `ems` CLI (main; the executable is bin/ems.mjs).
 */
export { startEms, VERSION, WORKFLOW_VERSION, type RunningEms } from './app.ts';
export { BUS_SCHEMA, WORKFLOW_SCHEMA } from './database-roles.ts';
export { loadConfig, ConfigSchema, type Config } from './config.ts';
export { main } from './cli/cli.ts';
