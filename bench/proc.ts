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
  /** stime alone: the part spent in the kernel (system calls: socket reads and writes, fsync…), seconds. */
  system: number;
  /** cutime + cstime: children it has waited for (a postmaster's exited backends), seconds. */
  reaped: number;
  /** cstime alone, seconds. */
  reapedSystem: number;
}

export function cpuTimes(pid: number): CpuTimes | undefined {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // Fields after the command name (which may contain spaces) start at ") ".
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const n = (i: number) => Number(f[i - 3]);
  return {
    self: (n(14) + n(15)) / TICKS_PER_SECOND,
    system: n(15) / TICKS_PER_SECOND,
    reaped: (n(16) + n(17)) / TICKS_PER_SECOND,
    reapedSystem: n(17) / TICKS_PER_SECOND,
  };
}

/**
 * Context switches of a process's main thread (/proc/<pid>/status; for Node, the event loop's thread).
 * Voluntary: it waited (epoll with nothing to do). Involuntary: it was preempted while it had work —
 * typically right after a write woke the PostgreSQL backend it talks to and the scheduler gave that
 * backend the core. A CPU profile samples a preempted thread at the frame it was in (`writev`), so such
 * waits show there as if they were CPU time.
 */
export interface ContextSwitches {
  voluntary: number;
  involuntary: number;
}

export function contextSwitches(pid: number): ContextSwitches | undefined {
  const status = read(`/proc/${pid}/status`) ?? '';
  const v = /^voluntary_ctxt_switches:\s+(\d+)$/m.exec(status);
  const i = /^nonvoluntary_ctxt_switches:\s+(\d+)$/m.exec(status);
  return v && i ? { voluntary: Number(v[1]), involuntary: Number(i[1]) } : undefined;
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
  perPid: Map<number, { self: number; system: number }>;
  rootReaped: { self: number; system: number };
}

export function treeCpu(root: number): TreeCpu {
  const perPid = new Map<number, { self: number; system: number }>();
  const root0 = cpuTimes(root);
  for (const pid of [root, ...safeChildren(root)]) {
    const t = cpuTimes(pid);
    if (t) perPid.set(pid, { self: t.self, system: t.system });
  }
  return { perPid, rootReaped: { self: root0?.reaped ?? 0, system: root0?.reapedSystem ?? 0 } };
}

/** Seconds of CPU the tree used between the snapshots; `system`: only the part spent in the kernel. */
export function treeCpuDelta(before: TreeCpu, after: TreeCpu, part: 'self' | 'system' = 'self'): number {
  let sum = after.rootReaped[part] - before.rootReaped[part];
  for (const [pid, t] of after.perPid) sum += t[part] - (before.perPid.get(pid)?.[part] ?? 0);
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
