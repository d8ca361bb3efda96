import type { Migration } from './migrate.ts';
import type { ReadinessCheck, RoutePlugin } from './http.ts';

/**
 * What a service hands to a composition root. The root decides where it runs: all services in one
 * process and one HTTP server (the embedded default), or one process per service.
 */
export interface ServiceModule<Seed = never> {
  name: string;
  /** The PostgreSQL schema this service owns; nobody else reads or writes it. */
  schema: string;
  migrations: readonly Migration[];
  routes: RoutePlugin;
  readiness?: Record<string, ReadinessCheck>;
  /** Dependencies it copes without for a while (reported, never a reason to be not ready). */
  health?: Record<string, ReadinessCheck>;
  /** Starts background workers (dispatchers, relays). */
  start?(): Promise<void>;
  /** Stops them, letting in-flight work finish. */
  stop?(): Promise<void>;
  /** Loads the demo organisation's part that this service owns; idempotent. */
  seed?(data: Seed): Promise<void>;
}
