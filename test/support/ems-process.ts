import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { waitFor } from '@ems/platform/testing';

/** The CLI entry point, as a user runs it. */
export const EMS_BIN = path.resolve(import.meta.dirname, '../../packages/server/bin/ems.mjs');

export interface EmsProcess {
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** SIGKILL, and resolves once it is gone. */
  kill(): Promise<void>;
  /** SIGTERM, and resolves with its exit code. */
  stop(): Promise<number | null>;
}

/**
 * Runs `ems <args>` as a real child process with the given environment (on top of this one's) and
 * waits until it prints `readyText`. Every process started here is killed when `killAll` runs.
 */
export function emsProcesses() {
  const started: ChildProcess[] = [];
  return {
    async start(env: NodeJS.ProcessEnv, options: { args?: string[]; /** null: return at once, without waiting for it to be up. */ readyText?: string | null; timeoutMs?: number } = {}): Promise<EmsProcess> {
      const child = spawn(process.execPath, [EMS_BIN, ...(options.args ?? ['start'])], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      started.push(child);
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exited = () => child.exitCode !== null || child.signalCode !== null;
      if (options.readyText !== null) {
      await waitFor(
        async () => {
          if (out.includes(options.readyText ?? 'EMS is up')) return true;
          if (exited()) throw new Error(`ems ${(options.args ?? ['start']).join(' ')} exited before it was up:\n${out}`);
          return undefined;
        },
        `ems to start:\n${out}`,
        options.timeoutMs ?? 60_000,
      );
      }
      return {
        child,
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
    },
    killAll(): void {
      for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    },
  };
}
