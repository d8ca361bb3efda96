/**
 * `npm run bench -- …`: both coordination modes side by side, against the ceilings of their engines
 * measured in the same run. See options.ts for the flags, run-bench.ts for what is measured.
 */
import path from 'node:path';
import { parseBenchArgs, UsageError, USAGE } from './options.ts';
import { busAvailable, runBench, type BenchReport } from './run-bench.ts';
import { toMarkdown, writeReport } from './report.ts';

const RESULTS = path.join(import.meta.dirname, 'results');

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseBenchArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    if (err.message) console.error(`bench: ${err.message}\n`);
    console.error(`usage: ${USAGE}`);
    return err.message ? 2 : 0;
  }
  const { out, json, label, ...options } = parsed;
  if (!busAvailable(options.bus)) {
    console.error(`bench: --bus ${options.bus} is not yet available: EMS has no ${options.bus} event bus adapter yet.`);
    return 2;
  }

  const abort = new AbortController();
  process.once('SIGINT', () => {
    console.error('\nbench: interrupted; stopping EMS and PostgreSQL …');
    abort.abort();
  });
  const tty = process.stderr.isTTY;
  const clearLine = tty ? '\r\x1b[K' : '';
  let lastProgress = 0;
  let report: BenchReport;
  try {
    report = await runBench({
      ...options,
      signal: abort.signal,
      log: (line) => console.error(`${clearLine}${line}`),
      progress: (line) => {
        if (tty) process.stderr.write(`${clearLine}${line}`);
        else if (Date.now() - lastProgress > 5_000) {
          lastProgress = Date.now();
          console.error(line);
        }
      },
    });
  } catch (err) {
    console.error(`${clearLine}bench: ${abort.signal.aborted ? 'interrupted' : 'failed'}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  process.stderr.write(clearLine);
  console.log(toMarkdown(report));
  const written = await writeReport(report, out ?? RESULTS, json, label);
  console.error(`written: ${written.map((f) => path.relative(process.cwd(), f)).join(', ')}`);
  if (report.errors > 0) console.error(`bench: ${report.errors} error(s) — see the report`);
  return report.errors > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
