import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { peakRss } from './proc.ts';

export type ParentMessage = { type: 'stop' } | { type: 'go' } | { type: 'profile-start' } | { type: 'profile-stop'; file: string } | { type: 'loop-start' } | { type: 'loop-stop' };

/**
 * The EMS process's event loop over a phase: the share of the time it was running callbacks (1 = never
 * idle: everything else waited for it), and how late a timer repeating every 10 ms ran (perf_hooks' event-loop delay, less the 10 ms).
 */
export interface EventLoopReport {
  utilization: number;
  delayMs: { p50: number; p99: number; max: number };
}
export type ChildMessage =
  | { type: 'ready'; url: string }
  | { type: 'warmed' }
  | { type: 'stopped' }
  | { type: 'profile-started' }
  | { type: 'profile-written'; file: string }
  | { type: 'loop-started' }
  | { type: 'loop'; loop: EventLoopReport }
  | { type: 'result'; result: unknown };

/** Node 24 (the project's devDependency), whatever Node runs the benchmark itself. */
export function node24(): string {
  if (Number(process.versions.node.split('.')[0]) >= 24) return process.execPath;
  return path.join(path.dirname(createRequire(import.meta.url).resolve('node/package.json')), 'bin', 'node');
}

/** A child process speaking the IPC protocol above, with the tail of its output for error messages. */
export interface Child {
  readonly pid: number;
  readonly process: ChildProcess;
  output(): string;
  next<T extends ChildMessage['type']>(type: T, timeoutMs: number): Promise<Extract<ChildMessage, { type: T }>>;
  send(m: ParentMessage): void;
  /** Resolves when it has exited (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

export function spawnChild(script: string, env: NodeJS.ProcessEnv, logFile?: string): Child {
  const child = spawn(node24(), [script], { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let tail = '';
  const file = logFile ? createWriteStream(logFile, { flags: 'a' }) : undefined;
  child.once('exit', () => file?.end());
  const keep = (d: Buffer) => {
    file?.write(d);
    tail = (tail + d.toString()).slice(-8000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const inbox: ChildMessage[] = [];
  const waiters: Array<() => void> = [];
  child.on('message', (m: ChildMessage) => {
    inbox.push(m);
    for (const w of waiters.splice(0)) w();
  });
  child.once('exit', () => {
    for (const w of waiters.splice(0)) w();
  });
  return {
    pid: child.pid!,
    process: child,
    output: () => tail,
    async next(type, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const i = inbox.findIndex((m) => m.type === type);
        if (i >= 0) return inbox.splice(i, 1)[0] as Extract<ChildMessage, { type: typeof type }>;
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`${path.basename(script)} exited (${child.exitCode ?? child.signalCode}) before '${type}':\n${tail}`);
        }
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`${path.basename(script)}: no '${type}' within ${timeoutMs} ms:\n${tail}`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    },
    send(m) {
      if (child.connected) child.send(m);
    },
    async stop(graceMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.send({ type: 'stop' } satisfies ParentMessage);
      else child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
}

const CHILD = path.join(import.meta.dirname, 'ems-child.ts');

export interface EmsProcess {
  url: string;
  pid: number;
  /** Peak RSS so far (VmHWM), bytes. */
  peakRss(): number | undefined;
  /** Starts a V8 CPU profile of the EMS process; stop() writes it to `file` and returns the path. */
  profile(file: string): Promise<{ stop(): Promise<string> }>;
  /** Starts watching the EMS process's event loop; stop() says what it saw meanwhile. */
  watchLoop(): Promise<{ stop(): Promise<EventLoopReport> }>;
  output(): string;
  stop(): Promise<void>;
}

/** Starts EMS in its own process (its memory and CPU are then its own) and waits until it serves. */
export async function startEmsProcess(env: Record<string, string>, resigners: number, logFile: string, timeoutMs = 180_000): Promise<EmsProcess> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EMS_')));
  const child = spawnChild(CHILD, { ...inherited, ...env, BENCH_RESIGNERS: String(resigners) }, logFile);
  let url: string;
  try {
    url = (await child.next('ready', timeoutMs)).url;
  } catch (err) {
    await child.stop(5_000);
    throw err;
  }
  return {
    url,
    pid: child.pid,
    peakRss: () => peakRss(child.pid),
    output: () => child.output(),
    async profile(file) {
      child.send({ type: 'profile-start' });
      await child.next('profile-started', 30_000);
      return {
        async stop() {
          child.send({ type: 'profile-stop', file });
          return (await child.next('profile-written', 60_000)).file;
        },
      };
    },
    async watchLoop() {
      child.send({ type: 'loop-start' });
      await child.next('loop-started', 30_000);
      return {
        async stop() {
          child.send({ type: 'loop-stop' });
          return (await child.next('loop', 30_000)).loop;
        },
      };
    },
    stop: () => child.stop(),
  };
}
