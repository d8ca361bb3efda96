import type { Extension, ExtensionDeps, ExtensionFactory } from '@ems/eventbus';
import { ConfigError } from '@ems/platform';

/**
 * Loads the optional services named in EMS_EXTENSIONS by module name. EMS knows nothing of them
 * beyond the Extension interface: this is how a new service joins the flow without a change here.
 */
export async function loadExtensions(
  names: readonly string[],
  deps: Omit<ExtensionDeps, 'pool'> & { /** One pool for all, or each module's own (its database role). */ pool: ExtensionDeps['pool'] | ((module: string) => ExtensionDeps['pool']) },
): Promise<Extension[]> {
  const loaded: Extension[] = [];
  for (const name of names) {
    let mod: { default?: unknown; createExtension?: unknown };
    try {
      mod = (await import(name)) as typeof mod;
    } catch (err) {
      throw new Error(`EMS_EXTENSIONS: cannot load ${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const factory = (mod.createExtension ?? mod.default) as ExtensionFactory | undefined;
    if (typeof factory !== 'function') throw new Error(`EMS_EXTENSIONS: ${name} exports no extension factory (default export or createExtension)`);
    const pool = typeof deps.pool === 'function' ? deps.pool(name) : deps.pool;
    const ext = await factory({ ...deps, pool, log: deps.log.child({ service: name }) });
    loaded.push(ext);
    deps.log.info({ extension: ext.name }, 'extension loaded');
  }
  return loaded;
}

/**
 * The EMS_* settings the extensions named in EMS_EXTENSIONS read, so that they are not refused as unknown:
 * each module declares them in its named export `settings` (a list of variable names, e.g. derived from its
 * config schema's keys). Imported without being started; a module that cannot be loaded stops start-up here.
 */
export async function extensionSettings(names: readonly string[]): Promise<string[]> {
  const settings: string[] = [];
  for (const name of names) {
    let mod: { settings?: unknown };
    try {
      mod = (await import(name)) as typeof mod;
    } catch (err) {
      throw new ConfigError([`EMS_EXTENSIONS: cannot load ${name}: ${err instanceof Error ? err.message : String(err)}`]);
    }
    if (mod.settings === undefined) continue;
    if (!Array.isArray(mod.settings) || !mod.settings.every((s): s is string => typeof s === 'string')) {
      throw new ConfigError([`EMS_EXTENSIONS: ${name} exports settings that are not a list of variable names`]);
    }
    settings.push(...mod.settings);
  }
  return settings;
}
