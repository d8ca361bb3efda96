/**
 * The EMS process of a benchmark run (spawned by ems-process.ts, never run by hand): the whole
 * system via startEms, seeded with the benchmark organisation, configured by EMS_* variables.
 * Talks to the parent over IPC: 'ready' with its URL; 'profile-start' / 'profile-stop' (a V8 CPU
 * profile of the load phase only); 'loop-start' / 'loop-stop' (how busy its event loop was, and how late
 * a timer ran, over the load phase); 'stop'.
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks';
import { loadConfig, startEms } from '@ems/server';
import { benchOrg } from './org.ts';
import type { ChildMessage, ParentMessage } from './ems-process.ts';

const send = (m: ChildMessage) => process.send?.(m);

const resigners = Number(process.env.BENCH_RESIGNERS);
const ems = await startEms(loadConfig(process.env), { org: benchOrg({ resigners }).org });
send({ type: 'ready', url: ems.url });

let session: Session | undefined;
let loop: { delay: ReturnType<typeof monitorEventLoopDelay>; since: EventLoopUtilization } | undefined;
/**
 * A timer repeats every 10 ms; the histogram holds the time between its runs, so its lateness is that
 * minus 10 ms: what any callback waited for the loop, at that resolution.
 */
const LOOP_RESOLUTION_MS = 10;
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await ems.stop();
  send({ type: 'stopped' });
  process.disconnect?.();
  process.exit(0);
};

process.on('message', (m: ParentMessage) => {
  void (async () => {
    if (m.type === 'stop') return stop();
    if (m.type === 'loop-start') {
      const delay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
      delay.enable();
      loop = { delay, since: performance.eventLoopUtilization() };
      send({ type: 'loop-started' });
    } else if (m.type === 'loop-stop' && loop) {
      const { delay, since } = loop;
      loop = undefined;
      delay.disable();
      const ms = (ns: number) => Math.max(0, Math.round((ns / 1e6 - LOOP_RESOLUTION_MS) * 100) / 100);
      send({
        type: 'loop',
        loop: { utilization: Math.round(performance.eventLoopUtilization(since).utilization * 1000) / 1000, delayMs: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) } },
      });
    } else if (m.type === 'profile-start') {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 1000 });
      await session.post('Profiler.start');
      send({ type: 'profile-started' });
    } else if (m.type === 'profile-stop' && session) {
      const { profile } = await session.post('Profiler.stop');
      await writeFile(m.file, JSON.stringify(profile));
      session.disconnect();
      session = undefined;
      send({ type: 'profile-written', file: m.file });
    }
  })().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
});
// The parent went away: do not outlive it.
process.on('disconnect', () => void stop());
process.on('SIGTERM', () => void stop());
