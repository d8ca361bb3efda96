export { startEms, VERSION, WORKFLOW_VERSION, type RunningEms } from './app.ts';
export { loadConfig, ConfigSchema, type Config } from './config.ts';
