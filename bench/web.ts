/**
 * `npm run bench:web`: what the web app costs a person — the shell's JavaScript (raw, gzip, brotli) and how
 * long a case page takes to show, in Debian's chromium against a real EMS (orchestration) on a PostgreSQL
 * of its own (EMS_TEST_DATABASE_URL when set, else an embedded one in a temporary directory).
 *
 * Timed, per round, in one signed-in browser context (the employee whose case it is):
 *   - cold: the case page opened with the browser's cache disabled (every file fetched again, as on a first visit);
 *   - warm: opened again with the cache (the hashed /static files are immutable, so only the shell revalidates);
 *   - in-app: reached by a click from the cases list (no page load: the app fetches the case and its timeline);
 *   - api: the one request the page cannot do without, GET /api/resignations/{id}, made from the page.
 * "Shown" = the page's h1 is there and nothing says it is loading. Medians and p95 over the rounds, and
 * each as a ratio to the API request measured in the same run (the machine is shared: ratios travel,
 * milliseconds drift).
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { AppPaths } from '@ems/contracts/app-paths';
import { demoOrg } from '@ems/demo-org';
import { WEB_APP_DIR } from '@ems/web';
import { pageSettled, scriptServer, startBrowserEms, type BrowserEms } from '../test/browser/browser-ems.ts';

const ROUNDS = Number(process.env.BENCH_WEB_ROUNDS ?? 15);
const RESULTS = path.join(import.meta.dirname, 'results');

interface Bundle {
  files: number;
  raw: number;
  gzip: number;
  brotli: number;
}

/** The JavaScript the shell loads: every .js file of the build (the app is one entry, no lazy chunks yet). */
async function bundleSize(): Promise<Bundle> {
  const dir = path.join(WEB_APP_DIR, 'static');
  const js = (await readdir(dir)).filter((f) => f.endsWith('.js'));
  const sizes = await Promise.all(
    js.map(async (f) => {
      const body = await readFile(path.join(dir, f));
      return { raw: body.length, gzip: gzipSync(body, { level: 9 }).length, brotli: brotliCompressSync(body).length };
    }),
  );
  return { files: js.length, ...sizes.reduce((a, s) => ({ raw: a.raw + s.raw, gzip: a.gzip + s.gzip, brotli: a.brotli + s.brotli }), { raw: 0, gzip: 0, brotli: 0 }) };
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

async function main(): Promise<void> {
  const server = await scriptServer('bench-web');
  let web: BrowserEms | undefined;
  try {
    const serverUrl = server.url;
    web = await startBrowserEms({ mode: 'orchestration', name: 'bench_web', serverUrl });
    const bundle = await bundleSize();
    const org = demoOrg();
    const employee = org.employees.find((e) => e.managerId && !org.roleAssignments.some((a) => a.personId === e.id))!;
    const page = await web.signIn(employee.id);
    // The employee resigns through the API, from the signed-in page (their session, their CSRF token).
    const caseId = await page.evaluate(async () => {
      const s = (await (await fetch('/auth/session')).json()) as { csrfToken: string; person: { id: string } };
      const r = await fetch('/api/resignations', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': s.csrfToken }, body: JSON.stringify({ employeeId: s.person.id }) });
      return ((await r.json()) as { id: string }).id;
    });
    const caseUrl = web.url(AppPaths.case(caseId));
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');

    const time = async (fn: () => Promise<unknown>) => {
      const t0 = performance.now();
      await fn();
      return performance.now() - t0;
    };
    const cold: number[] = [];
    const warm: number[] = [];
    const inApp: number[] = [];
    const api: number[] = [];
    // One untimed round first: the server's own first requests (plans, pools) are not the page's cost.
    await page.goto(caseUrl);
    await pageSettled(page);
    for (let i = 0; i < ROUNDS; i++) {
      await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
      cold.push(await time(async () => {
        await page.goto(caseUrl);
        await pageSettled(page);
      }));
      await cdp.send('Network.setCacheDisabled', { cacheDisabled: false });
      warm.push(await time(async () => {
        await page.goto(caseUrl);
        await pageSettled(page);
      }));
      await page.goto(web.url(AppPaths.cases));
      await pageSettled(page);
      const link = page.locator(`a[href="${AppPaths.case(caseId)}"]`).first();
      inApp.push(await time(async () => {
        await link.click();
        await page.waitForURL(caseUrl);
        await pageSettled(page);
      }));
      api.push(await page.evaluate(async (id) => {
        const t0 = performance.now();
        const r = await fetch(`/api/resignations/${id}`);
        await r.json();
        return performance.now() - t0;
      }, caseId));
    }
    const apiMedian = quantile(api, 0.5);
    const row = (name: string, xs: number[]) => `| ${name} | ${quantile(xs, 0.5).toFixed(0)} | ${quantile(xs, 0.95).toFixed(0)} | ${(quantile(xs, 0.5) / apiMedian).toFixed(1)}× |`;
    const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
    const report = [
      `# Web app — ${new Date().toISOString()}`,
      '',
      `Shell JavaScript: ${bundle.files} file(s), ${kb(bundle.raw)} raw, **${kb(bundle.gzip)} gzip**, ${kb(bundle.brotli)} brotli (budget: 200 KB compressed).`,
      '',
      `Case page in chromium, ${ROUNDS} rounds (ms; ratio = median ÷ the API request's median, same run):`,
      '',
      '| | median | p95 | ÷ API |',
      '|---|---:|---:|---:|',
      row('cold load (no cache)', cold),
      row('warm load (cache)', warm),
      row('in-app navigation', inApp),
      row('GET /api/resignations/{id}', api),
      '',
    ].join('\n');
    console.log(report);
    const file = path.join(RESULTS, `${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}Z-web.md`);
    await writeFile(file, report);
    console.error(`bench:web: written ${path.relative(process.cwd(), file)}`);
  } finally {
    await web?.stop();
    await server.stop();
  }
}

await main();
