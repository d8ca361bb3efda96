import type { Extension, ExtensionDeps, ExtensionFactory } from '@ems/eventbus';

/**
 * Loads the optional services named in EMS_EXTENSIONS by module name. EMS knows nothing of them
 * beyond the Extension interface: this is how a new service joins the flow without a change here.
 */
export async function loadExtensions(names: readonly string[], deps: ExtensionDeps): Promise<Extension[]> {
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
    const ext = await factory({ ...deps, log: deps.log.child({ service: name }) });
    loaded.push(ext);
    deps.log.info({ extension: ext.name }, 'extension loaded');
  }
  return loaded;
}
