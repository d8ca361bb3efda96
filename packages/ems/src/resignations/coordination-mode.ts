import type { Subscription } from '@ems/eventbus';
import type { CaseStore } from './case-store.ts';
import type { CaseStarter } from './submit-resignation.ts';
import type { CaseDecider } from './decide-resignation.ts';

/**
 * What a coordination mode gives the composition root (app.ts), which picks one of the two:
 * choreography/choreography-mode.ts or orchestration/orchestration-mode.ts.
 */
export interface CoordinationMode {
  mode: 'orchestration' | 'choreography';
  store: CaseStore;
  /** How a case gets going, and how a decision takes effect. */
  starter: CaseStarter;
  decider: CaseDecider;
  /** What EMS subscribes to in this mode only (beside what it follows in both). */
  subscriptions: Subscription[];
  /** Run as the database's admin while migrating: the mode's own tables (the workflow engine's). */
  install?(adminUrl: string): Promise<void>;
  /**
   * Run once the bus has started: the mode's engine (retried by `retrying` while its database is down).
   * Answers what stops it, in the order shutdown runs them.
   */
  start?(retrying: (what: string, fn: () => Promise<void>) => Promise<void>): Promise<Array<() => Promise<void>>>;
}
