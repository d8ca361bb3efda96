/**
 * The app's pages and navigation as packages/web/src/routes.tsx declares them, read from its source (the
 * root typecheck has no JSX or DOM, so the module itself is not imported here). Throws when the file no
 * longer reads as expected, so a test built on it cannot pass by finding nothing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppPaths } from '@ems/contracts/app-paths';

export interface AppRoute {
  /** The AppPaths key (`deadLetter`). */
  name: keyof typeof AppPaths;
  /** A concrete path (parameters filled with a made-up id). */
  path: string;
  /** Who may open it; undefined: anyone signed in. */
  roles: string[] | undefined;
}

const SOURCE = join(import.meta.dirname, '../../packages/web/src/routes.tsx');

function section(source: string, name: string): string {
  const declaration = source.indexOf(`export const ${name}`);
  const start = source.indexOf('= [', declaration);
  const end = source.indexOf('];', start);
  if (declaration < 0 || start < 0 || end < 0) throw new Error(`packages/web/src/routes.tsx: no ${name} array`);
  return source.slice(start, end);
}

const roleList = (s: string | undefined) => (s === undefined ? undefined : [...s.matchAll(/'([a-z_]+)'/g)].map((m) => m[1]!));

function pathOf(name: string, param: boolean): string {
  const p = (AppPaths as Record<string, string | ((id: string) => string)>)[name];
  if (p === undefined) throw new Error(`routes.tsx names AppPaths.${name}, which does not exist`);
  return typeof p === 'function' ? p(param ? '00000000-0000-4000-8000-000000000000' : '') : p;
}

export function appRoutes(): AppRoute[] {
  const routes = section(readFileSync(SOURCE, 'utf8'), 'ROUTES');
  const entries = [...routes.matchAll(/\{\s*pattern:\s*AppPaths\.(\w+)(\(':id'\))?\s*,\s*page:\s*\w+\s*(?:,\s*roles:\s*\[([^\]]*)\]\s*)?,?\s*\}/g)];
  const declared = (routes.match(/pattern:/g) ?? []).length;
  if (entries.length === 0 || entries.length !== declared) throw new Error(`packages/web/src/routes.tsx: read ${entries.length} of its ${declared} routes; update test/browser/app-routes.ts`);
  return entries.map((m) => ({ name: m[1] as keyof typeof AppPaths, path: pathOf(m[1]!, Boolean(m[2])), roles: roleList(m[3]) }));
}

export function appNav(): Array<{ label: string; path: string; roles: string[] | undefined }> {
  const nav = section(readFileSync(SOURCE, 'utf8'), 'NAV');
  const entries = [...nav.matchAll(/\{\s*to:\s*AppPaths\.(\w+)\s*,\s*label:\s*'([^']+)'\s*(?:,\s*roles:\s*\[([^\]]*)\]\s*)?,?\s*\}/g)];
  const declared = (nav.match(/to:/g) ?? []).length;
  if (entries.length === 0 || entries.length !== declared) throw new Error(`packages/web/src/routes.tsx: read ${entries.length} of its ${declared} navigation links; update test/browser/app-routes.ts`);
  return entries.map((m) => ({ path: pathOf(m[1]!, false), label: m[2]!, roles: roleList(m[3]) }));
}
