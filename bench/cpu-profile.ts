import { readFile } from 'node:fs/promises';

/** A summary of a V8 CPU profile (.cpuprofile): where the EMS process spent its samples. */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  wallMs: number;
  /** Share of wall time the main thread was busy (not idle). */
  busyShare: number;
  /** Self time by component (a package, an EMS service, node internals, GC; native code counts for its caller), most first. */
  components: Array<{ name: string; ms: number; share: number }>;
  /** Self time by function, most first. */
  functions: Array<{ name: string; ms: number; share: number }>;
}

/** Where a frame's code lives: an npm package, one of our workspaces, Node itself, or V8's pseudo-frames. */
export function componentOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const dep = /^node:internal\/deps\/([^/]+)/.exec(url);
  if (dep) return `node:${dep[1]}`; // e.g. fetch's undici
  if (url.startsWith('node:')) return 'node:internal';
  // The last node_modules/<package> in the path owns the code (nested dependencies).
  const packages = [...url.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)];
  if (packages.length > 0) return packages[packages.length - 1]![1]!;
  const ws = /\/packages\/([^/]+)\//.exec(url);
  if (ws) return `@ems/${ws[1]}`;
  if (url.includes('/bench/')) return 'bench';
  return url.replace(/^file:\/\//, '');
}

export async function summarizeProfile(file: string, top = 15): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Native frames (writev, …) and Node's own plumbing count for the code that called them: a socket
  // write issued by pg is "pg", not "(native)" or "node:internal".
  const ownerOf = (id: number): string => {
    let fallback: string | undefined;
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at)!.callFrame;
      if (f.functionName.startsWith('(') && !f.url) return f.functionName;
      if (!f.url) continue;
      const c = componentOf(f.url, f.functionName);
      if (c !== 'node:internal') return c;
      fallback ??= c;
    }
    return fallback ?? '(native)';
  };
  const wallUs = profile.endTime - profile.startTime;
  const components = new Map<string, number>();
  const functions = new Map<string, number>();
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const f = byId.get(id)!.callFrame;
    if (f.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const component = ownerOf(id);
    components.set(component, (components.get(component) ?? 0) + us);
    const short = f.url ? `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(node_modules|packages)\//, '$1/')}:${f.lineNumber + 1}` : f.functionName;
    functions.set(short, (functions.get(short) ?? 0) + us);
  }
  const busyUs = wallUs - idleUs;
  const rank = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: Math.round(us / 1000), share: busyUs > 0 ? us / busyUs : 0 }));
  return { wallMs: Math.round(wallUs / 1000), busyShare: wallUs > 0 ? busyUs / wallUs : 0, components: rank(components), functions: rank(functions) };
}
