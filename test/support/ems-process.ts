import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { waitFor } from '@ems/platform/testing';

/** The CLI entry point, as a user runs it. */
export const EMS_BIN = path.resolve(import.meta.dirname, '../../packages/server/bin/ems.mjs');

export interface EmsProcess {
  child: ChildProcess;
  /** The environment it was started with (on top of this one's): with a port picker, the ports it got. */
  env: NodeJS.ProcessEnv;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** SIGKILL, and resolves once it is gone. */
  kill(): Promise<void>;
  /** SIGTERM, and resolves with its exit code. */
  stop(): Promise<number | null>;
}

export interface StartOptions {
  args?: string[];
  /** null: return at once, without waiting for it to be up. */
  readyText?: string | null;
  timeoutMs?: number;
}

/**
 * The environment of a process, or a function that makes it afresh — picking new free ports each time.
 * Only with a function can `start` retry when a port it picked was taken before the process bound it.
 */
export type EmsEnv = NodeJS.ProcessEnv | (() => NodeJS.ProcessEnv | Promise<NodeJS.ProcessEnv>);

/** How many times a start whose port was taken in between is tried with new ports. */
export const PORT_ATTEMPTS = 5;

/**
 * What a process prints when a port it was given is taken: Node's listen error, or the fleet's own check
 * ("port … is in use by another program").
 */
export const PORT_TAKEN = /EADDRINUSE|address already in use|is in use by another program/;

/** The child exited before it was up: carries what it printed, so a caller can tell why. */
export class ExitedBeforeUp extends Error {
  readonly printed: string;
  constructor(command: string, printed: string) {
    super(`ems ${command} exited before it was up:\n${printed}`);
    this.printed = printed;
  }
}

/**
 * Runs `ems <args>` as a real child process with the given environment (on top of this one's) and
 * waits until it prints `readyText`. Every process started here is killed when `killAll` runs.
 *
 * A free port is only free when it is picked: another suite on the machine (or an outgoing connection's
 * ephemeral port) may take it before the child binds it. Given a function for `env`, a child that exits
 * on a taken port before it is up is started again with a fresh environment, up to PORT_ATTEMPTS times.
 */
export function emsProcesses() {
  const started: ChildProcess[] = [];
  const spawnOnce = async (env: NodeJS.ProcessEnv, options: StartOptions): Promise<EmsProcess> => {
    const command = (options.args ?? ['start']).join(' ');
    const child = spawn(process.execPath, [EMS_BIN, ...(options.args ?? ['start'])], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    started.push(child);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = () => child.exitCode !== null || child.signalCode !== null;
    if (options.readyText !== null) {
      const readyText = options.readyText ?? 'EMS is up';
      // waitFor retries a probe that throws: an early exit is returned, and thrown from here, at once.
      const up = await waitFor(() => (out.includes(readyText) ? 'up' : exited() ? 'exited' : undefined), `ems ${command} to start:\n${out}`, options.timeoutMs ?? 60_000);
      if (up === 'exited') throw new ExitedBeforeUp(command, out);
    }
    return {
      child,
      env,
      output: () => out,
      async kill() {
        if (exited()) return;
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await gone;
      },
      async stop() {
        if (exited()) return child.exitCode;
        const code = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
        child.kill('SIGTERM');
        return code;
      },
    };
  };
  return {
    async start(env: EmsEnv, options: StartOptions = {}): Promise<EmsProcess> {
      if (typeof env !== 'function') return spawnOnce(env, options);
      for (let attempt = 1; ; attempt++) {
        try {
          return await spawnOnce(await env(), options);
        } catch (err) {
          const portTaken = err instanceof ExitedBeforeUp && PORT_TAKEN.test(err.printed);
          if (!portTaken || attempt >= PORT_ATTEMPTS) throw err;
        }
      }
    },
    killAll(): void {
      for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    },
  };
}
