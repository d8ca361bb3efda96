import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '@ems/platform';
import { provideChromium } from './browser/chromium.ts';
import { provideSlapd } from './support/slapd.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A PostgreSQL server URL on which each test file creates (and drops) its own database. */
    testServerUrl: string;
  }
}

/**
 * Integration tests run against EMS_TEST_DATABASE_URL (CI sets it to the machine's PostgreSQL) or,
 * when unset, against an embedded PostgreSQL started here for this run and removed afterwards.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The browser tests need chromium: installed here once when missing (as root, with apt); else they fail saying how.
  if (browserTestsMayRun()) provideChromium();
  // The LDAP tests need OpenLDAP's slapd: installed here once when missing (as root, with apt); else
  // startSlapd fails saying how (it also installs lazily, for a run without this setup).
  if (testsNamedMayRun('ldap')) provideSlapd();
  const external = process.env.EMS_TEST_DATABASE_URL;
  if (external) {
    project.provide('testServerUrl', external);
    return async () => undefined;
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'ems-test-pg-'));
  // TCP as well: tests put a TCP proxy in front of the database to take it down.
  const pg: EmbeddedPostgres = await startEmbeddedPostgres({ dataDir: dir, database: 'postgres', tcp: true });
  project.provide('testServerUrl', pg.url);
  return async () => {
    await pg.stop();
    await rm(dir, { recursive: true, force: true });
  };
}

/** False only when the command line names test files and none of them is a browser test. */
function browserTestsMayRun(): boolean {
  return testsNamedMayRun('browser');
}

/** False only when the command line names test files and none of them has `word` in its path. */
function testsNamedMayRun(word: string): boolean {
  const named = process.argv.slice(2).filter((a) => !a.startsWith('-') && /[/.]/.test(a) && !/vitest/.test(a));
  return named.length === 0 || named.some((a) => a.includes(word));
}
