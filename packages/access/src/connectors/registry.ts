import type { Logger } from '@ems/platform';
import type { Connector, ConnectorContext, ConnectorFactory } from './connector.ts';
import { httpConnector } from './http/index.ts';
import { ldapConnector } from './ldap/index.ts';
import { scimConnector } from './scim/index.ts';

/**
 * Connector type → its factory. A type missing here is refused by the systems file with a message
 * saying so (see systems-file.ts).
 */
export type ConnectedType = 'ldap' | 'scim' | 'http';
export const CONNECTED_TYPES: readonly ConnectedType[] = ['ldap', 'scim', 'http'];

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each factory has its own Settings type; parseSettings produces what create takes
type AnyFactory = ConnectorFactory<any>;

const factories: Partial<Record<ConnectedType, AnyFactory>> = { ldap: ldapConnector, scim: scimConnector, http: httpConnector };

/** The factory of a connector type, or a sentence saying why there is none. */
export function connectorFactory(type: string): AnyFactory | { refused: string } {
  if (!(CONNECTED_TYPES as readonly string[]).includes(type)) {
    return { refused: `unknown connector type "${type}" (known: builtin, ${CONNECTED_TYPES.join(', ')})` };
  }
  const factory = factories[type as ConnectedType];
  return factory ?? { refused: `the ${type} connector is not available in this build of EMS` };
}

/** One system of the systems file, its settings checked by its connector's own schema. */
export interface SystemConfig {
  id: string;
  name: string;
  critical: boolean;
  type: 'builtin' | ConnectedType;
  /** Parsed settings (undefined for builtin). */
  settings: unknown;
  /** Where relative secret file paths are resolved (the systems file's folder). */
  baseDir: string;
}

/** A system the process carries changes to: its connector, opened once. */
export interface ConnectedSystem {
  id: string;
  name: string;
  critical: boolean;
  type: ConnectedType;
  connector: Connector;
  /** What GET /api/access-systems may show of its settings (never a secret). */
  description: Record<string, unknown>;
}

/** The connected systems of this process (from the systems file), by id. */
export interface ConnectedSystems {
  readonly all: readonly ConnectedSystem[];
  /** The system's connector, or undefined for a built-in system (rows only) or one not configured here. */
  connectorFor(systemId: string): Connector | undefined;
  get(systemId: string): ConnectedSystem | undefined;
  /** Closes every connector (shutdown). */
  close(): Promise<void>;
}

export const NO_CONNECTED_SYSTEMS: ConnectedSystems = { all: [], connectorFor: () => undefined, get: () => undefined, close: async () => undefined };

/**
 * Opens a connector per connected system of `configs` (builtin ones have none). A connector's own
 * start-up error (a secret file missing…) throws, naming the system; the caller reports it as a
 * configuration error.
 */
export function openConnectedSystems(configs: readonly SystemConfig[], log: Logger, readSecretFile: (path: string, baseDir: string) => string): ConnectedSystems {
  const opened: ConnectedSystem[] = [];
  try {
    for (const c of configs) {
      if (c.type === 'builtin') continue;
      const factory = connectorFactory(c.type);
      if ('refused' in factory) throw new Error(`system ${c.id}: ${factory.refused}`);
      const systemLog = log.child({ systemId: c.id, connector: c.type });
      const context: ConnectorContext = {
        systemId: c.id,
        log: { info: (o, m) => systemLog.info(o, m), warn: (o, m) => systemLog.warn(o, m), error: (o, m) => systemLog.error(o, m) },
        readSecretFile: (path) => readSecretFile(path, c.baseDir),
      };
      let connector: Connector;
      try {
        connector = factory.create(c.settings, context);
      } catch (err) {
        throw new Error(`system ${c.id} (${c.type}): ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      opened.push({ id: c.id, name: c.name, critical: c.critical, type: c.type, connector, description: factory.describe ? factory.describe(c.settings) : {} });
    }
  } catch (err) {
    // Close what was opened before the failure (fire and forget: start-up stops anyway).
    for (const s of opened) void s.connector.close().catch(() => undefined);
    throw err;
  }
  return connectedSystems(opened);
}

/** The connected systems `opened` (connectors made already: by openConnectedSystems, or a test's own). */
export function connectedSystems(opened: readonly ConnectedSystem[]): ConnectedSystems {
  const byId = new Map(opened.map((s) => [s.id, s]));
  return {
    all: opened,
    connectorFor: (id) => byId.get(id)?.connector,
    get: (id) => byId.get(id),
    async close() {
      await Promise.allSettled(opened.map((s) => s.connector.close()));
    },
  };
}
