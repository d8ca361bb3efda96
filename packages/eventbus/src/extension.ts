import type { Clock, Logger, Pool, ServiceModule } from '@ems/platform';
import type { PolicyTable } from '@ems/contracts/policy';
import type { EventBus, EventCatalogue, EventedService } from './port.ts';

/**
 * An optional service that joins the flow by subscribing only. EMS loads it by module name from
 * configuration (EMS_EXTENSIONS=@ems/assets,…): no other service's code names it.
 *
 * The module's default export, or its named export `createExtension`, is an ExtensionFactory.
 */
export interface ExtensionDeps {
  pool: Pool;
  log: Logger;
  clock: Clock;
  bus: EventBus;
  /** The process environment, for the extension's own settings (validated by the extension). */
  env: NodeJS.ProcessEnv;
}

export type Extension = ServiceModule<never> &
  EventedService & {
    /** Event types this extension publishes, added to the bus's catalogue (and the AsyncAPI document). */
    events?: EventCatalogue;
    /** The rows of its operations in the policy table (service `extensions`): who may call them. */
    policy?: PolicyTable;
  };

export type ExtensionFactory = (deps: ExtensionDeps) => Extension | Promise<Extension>;
