/**
 * Orchestration's engine ceiling (spawned by ceilings.ts, never run by hand): a bare DBOS workflow
 * of three parallel no-op steps — EMS's resignation workflow without EMS — started and awaited at
 * the benchmark's client concurrency. Its own process, because DBOS is a process singleton, on its
 * own database, with EMS's DBOS settings (schema `dbos`, pool size 20).
 *
 *   warm up → 'warmed' → parent snapshots the commit counter → 'go' → N workflows → 'result'
 */
import { DBOS } from '@dbos-inc/dbos-sdk';
import type { ChildMessage, ParentMessage } from './ems-process.ts';

const url = process.env.BENCH_DBOS_URL!;
const workflows = Number(process.env.BENCH_WORKFLOWS);
const concurrency = Number(process.env.BENCH_CONCURRENCY);
const poolSize = Number(process.env.BENCH_DBOS_POOL);
const send = (m: ChildMessage) => process.send?.(m);

async function bare(): Promise<number> {
  const done = await Promise.all(['notify', 'schedule', 'block'].map((name) => DBOS.runStep(async () => 1, { name })));
  return done.length;
}
const workflow = DBOS.registerWorkflow(bare, { name: 'bench-bare' });

const quiet = () => undefined;
DBOS.setConfig({
  name: 'bench-ceiling',
  systemDatabaseUrl: url,
  systemDatabaseSchemaName: 'dbos',
  systemDatabasePoolSize: poolSize,
  runAdminServer: false,
  logger: { info: quiet, debug: quiet, warn: quiet, error: (e) => console.error(e) },
});
await DBOS.launch();

async function run(count: number): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        next++;
        const handle = await DBOS.startWorkflow(workflow)();
        await handle.getResult();
      }
    }),
  );
  return performance.now() - t0;
}

await run(Math.min(20, workflows));
send({ type: 'warmed' });
process.on('message', (m: ParentMessage) => {
  void (async () => {
    if (m.type === 'go') {
      const ms = await run(workflows);
      send({ type: 'result', result: { workflows, concurrency, poolSize, elapsedMs: ms, workflowsPerSecond: (workflows * 1000) / ms } });
    } else if (m.type === 'stop') {
      await DBOS.shutdown();
      send({ type: 'stopped' });
      process.disconnect?.();
      process.exit(0);
    }
  })().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
});
process.on('disconnect', () => process.exit(0));
