export * from './common.ts';
export * from './app-paths.ts';
export * as notification from './notification.ts';
export * as hr from './hr.ts';
export * as access from './access.ts';
export * as ems from './ems.ts';
export * as events from './events.ts';
export * as policy from './policy.ts';
export * as identity from './identity.ts';
