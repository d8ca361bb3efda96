import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Extension } from '@ems/eventbus';
import type { extensions as api } from '@ems/contracts';

/** Where each operation is served: filled as routes are declared (the extensions' come after EMS's own). */
export type RouteIndex = Map<string, { method: string; path: string }>;

/**
 * What the operator sees of the loaded extensions: each module with its version and description (its
 * package.json), what it subscribes to, what it publishes, and the operations it adds with their rows.
 */
export function describeExtensions(modules: readonly string[], loaded: readonly Extension[], routes: RouteIndex): api.ExtensionInfo[] {
  return loaded.map((ext, i) => {
    const module = modules[i] ?? ext.name;
    const pkg = packageOf(module);
    return {
      module,
      name: ext.name,
      version: pkg?.version ?? null,
      description: pkg?.description ?? null,
      subscribes: (ext.subscriptions ?? []).map((s) => ({ subscriber: s.name, eventTypes: [...s.types] })),
      publishes: Object.keys(ext.events ?? {}),
      operations: Object.entries(ext.policy ?? {}).map(([operationId, p]) => ({
        operationId,
        method: routes.get(operationId)?.method ?? null,
        path: routes.get(operationId)?.path ?? null,
        what: p.what,
        roles: p.roles.map((g) => ({ role: g.role, rows: g.rows })),
      })),
    };
  });
}

/** The package.json of a module (the nearest one above its entry point that names it). */
function packageOf(module: string): { version?: string; description?: string } | undefined {
  try {
    let dir = path.dirname(fileURLToPath(import.meta.resolve(module)));
    for (let i = 0; i < 6; i++) {
      try {
        const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string; description?: string };
        if (pkg.name === module) return pkg;
      } catch {
        // none here: look further up
      }
      dir = path.dirname(dir);
    }
  } catch {
    // not resolvable from here: no version to show
  }
  return undefined;
}
