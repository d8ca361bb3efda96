import { readFileSync, readdirSync } from 'node:fs';

/** Readers of /proc (Linux): memory and CPU of the processes the benchmark starts. */

const TICKS_PER_SECOND = 100; // USER_HZ; 100 on every Linux we run on

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** A `Key:   123 kB` line of /proc/<pid>/status, in bytes. */
function statusKb(pid: number, key: string): number | undefined {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(read(`/proc/${pid}/status`) ?? '');
  return m ? Number(m[1]) * 1024 : undefined;
}

/** Peak resident set size of a live process (VmHWM), bytes. */
export const peakRss = (pid: number) => statusKb(pid, 'VmHWM');

/** Proportional set size (shared pages divided among their users), bytes. */
export function pss(pid: number): number | undefined {
  const m = /^Pss:\s+(\d+) kB/m.exec(read(`/proc/${pid}/smaps_rollup`) ?? '');
  return m ? Number(m[1]) * 1024 : undefined;
}

export interface CpuTimes {
  /** utime + stime of the process itself, seconds. */
  self: number;
  /** cutime + cstime: children it has waited for (a postmaster's exited backends), seconds. */
  reaped: number;
}

export function cpuTimes(pid: number): CpuTimes | undefined {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // Fields after the command name (which may contain spaces) start at ") ".
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const n = (i: number) => Number(f[i - 3]);
  return { self: (n(14) + n(15)) / TICKS_PER_SECOND, reaped: (n(16) + n(17)) / TICKS_PER_SECOND };
}

/**
 * Read and write system calls a process has made (/proc/<pid>/io: syscr, syscw — socket reads and
 * writes included, writev counted once). Each SQL round trip costs the client one write (pg corks a
 * statement's messages into one writev) and at least one read.
 */
export interface SyscallCounts {
  reads: number;
  writes: number;
}

export function syscalls(pid: number): SyscallCounts | undefined {
  const io = read(`/proc/${pid}/io`);
  const r = io && /^syscr:\s+(\d+)$/m.exec(io);
  const w = io && /^syscw:\s+(\d+)$/m.exec(io);
  return r && w ? { reads: Number(r[1]), writes: Number(w[1]) } : undefined;
}

/** Direct children of a process. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const task of readdirSync(`/proc/${pid}/task`, { withFileTypes: true })) {
    const text = read(`/proc/${pid}/task/${task.name}/children`);
    if (text) out.push(...text.trim().split(/\s+/).filter(Boolean).map(Number));
  }
  return out;
}

/**
 * CPU of a process tree (e.g. a postmaster and its backends) between two snapshots: per-process
 * deltas of the live processes plus what the root reaped from children that exited in between.
 */
export interface TreeCpu {
  perPid: Map<number, number>;
  rootReaped: number;
}

export function treeCpu(root: number): TreeCpu {
  const perPid = new Map<number, number>();
  const root0 = cpuTimes(root);
  for (const pid of [root, ...safeChildren(root)]) {
    const t = cpuTimes(pid);
    if (t) perPid.set(pid, t.self);
  }
  return { perPid, rootReaped: root0?.reaped ?? 0 };
}

export function treeCpuDelta(before: TreeCpu, after: TreeCpu): number {
  let sum = after.rootReaped - before.rootReaped;
  for (const [pid, t] of after.perPid) sum += t - (before.perPid.get(pid) ?? 0);
  return sum;
}

/** Sum of PSS over a process tree, bytes (shared buffers counted once, not once per backend). */
export function treePss(root: number): number {
  let sum = 0;
  for (const pid of [root, ...safeChildren(root)]) sum += pss(pid) ?? 0;
  return sum;
}

function safeChildren(pid: number): number[] {
  try {
    return childrenOf(pid);
  } catch {
    return [];
  }
}

export function loadAverage(): number[] {
  return (read('/proc/loadavg') ?? '0 0 0').split(' ').slice(0, 3).map(Number);
}

export function cpuModel(): string {
  return /^model name\s*:\s*(.+)$/m.exec(read('/proc/cpuinfo') ?? '')?.[1]?.trim() ?? 'unknown';
}

/** The nats-server process on this host serving `servers`' port (matched on its -p/--port argument). */
export function natsServerPid(servers: string): number | undefined {
  const m = /^(?:nats|tls):\/\/(?:[^@/]*@)?(127\.0\.0\.1|localhost|\[::1\]):(\d+)/.exec(servers.split(',')[0]!.trim());
  if (!m) return undefined;
  const port = m[2]!;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    if (read(`/proc/${entry}/comm`)?.trim() !== 'nats-server') continue;
    const args = (read(`/proc/${entry}/cmdline`) ?? '').split('\0');
    const i = args.findIndex((a) => a === '-p' || a === '--port' || a === '-port');
    const p = i >= 0 ? args[i + 1] : '4222';
    if (p === port) return Number(entry);
  }
  return undefined;
}
