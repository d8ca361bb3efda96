/**
 * Measures, against a running EMS, the time from POST /api/resignations to all three steps done,
 * one case at a time (latency, not throughput: see `npm run bench` for that).
 *
 *   npm start   # in another terminal, on a fresh EMS_DATA_DIR
 *   node scripts/measure-flow.ts [--url http://127.0.0.1:3000] [--n 20]
 *
 * Reports the server-side time (latest step's `at` − `submittedAt`) and the client-observed time
 * (POST sent → steps seen done, polled every 5 ms), median and spread.
 */
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { url: { type: 'string', default: 'http://127.0.0.1:3000' }, n: { type: 'string', default: '20' } } });
const base = values.url.replace(/\/+$/, '');
const n = Number(values.n);

interface Case {
  id: string;
  submittedAt: string;
  status: string;
  steps: Record<string, { status: string; at: string | null }>;
}

const get = async <T>(p: string): Promise<T> => (await (await fetch(`${base}${p}`)).json()) as T;
const employees = (await get<{ items: Array<{ id: string; manager: unknown }> }>('/api/employees?limit=500')).items.filter((e) => e.manager);
const open = new Set((await get<{ items: Array<{ employeeId: string }> }>('/api/resignations?limit=500')).items.map((c) => c.employeeId));
const free = employees.filter((e) => !open.has(e.id));
if (free.length < n) throw new Error(`only ${free.length} employees without a case; start EMS on a fresh EMS_DATA_DIR`);

const server: number[] = [];
const client: number[] = [];
for (let i = 0; i < n; i++) {
  const t0 = performance.now();
  const res = await fetch(`${base}/api/resignations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ employeeId: free[i]!.id }) });
  if (res.status !== 201) throw new Error(`POST answered ${res.status}: ${await res.text()}`);
  const created = (await res.json()) as Case;
  let c = created;
  while (Object.values(c.steps).some((s) => s.status === 'pending')) {
    await new Promise((r) => setTimeout(r, 5));
    c = await get<Case>(`/api/resignations/${created.id}`);
  }
  client.push(performance.now() - t0);
  if (Object.values(c.steps).some((s) => s.status !== 'done')) throw new Error(`case ${c.id} did not complete: ${JSON.stringify(c.steps)}`);
  server.push(Math.max(...Object.values(c.steps).map((s) => Date.parse(s.at!))) - Date.parse(c.submittedAt));
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return `median ${q(0.5).toFixed(0)} ms  (min ${s[0]!.toFixed(0)}, p90 ${q(0.9).toFixed(0)}, max ${s[s.length - 1]!.toFixed(0)})`;
};
console.log(`${n} resignations, one at a time, against ${base}`);
console.log(`  POST → all three steps done, server clock: ${stats(server)}`);
console.log(`  POST → all three steps done, client view:  ${stats(client)}`);
