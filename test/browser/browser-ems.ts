/**
 * (The implementation of test/browser/harness.ts, free of vitest so scripts/screenshots.ts can use it too.)
 *
 * The web app in a real browser against a real EMS: a throwaway database on the test PostgreSQL, EMS
 * in-process in either mode on a free port with its built-in capture SMTP server (the mailbox page reads
 * what it captured) and its built-in OpenID provider, and Debian's chromium driven by playwright-core.
 * People sign in as they do for real: the app's "Sign in" → the provider's sign-in page → a click on their
 * name → back in the app. One browser context per person, so their sessions never mix.
 *
 *   const web = await startBrowserEms({ mode: 'orchestration', name: 'my_pages' });
 *   const page = await web.signIn('E1010');            // lands on the home page, signed in
 *   await page.goto(web.url('/cases'));
 *   await expectAccessible(page);                      // axe, WCAG 2.2 AA, no serious/critical violation
 *   await web.stop();
 *
 * The app served is packages/web/dist: it is rebuilt first when a source file is newer than the build.
 * Keep browser tests few and broad: each file launches chromium and starts an EMS (seconds each).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import { demoOrg } from '@ems/demo-org';
import { createTestDatabase, type TestDatabase } from '@ems/platform/testing';
import { freePort, startEmbeddedPostgres, type Clock } from '@ems/platform';
import { loadConfig, startEms, type RunningEms } from '@ems/server';
import { TEST_SECRETS_KEY } from '@ems/identity/testing';
import { WEB_APP_DIR } from '@ems/web';
import { CHROMIUM, CHROMIUM_ARGS, chromiumMissing } from './chromium.ts';

/** Desktop and the narrowest phone the app must work on. */
export const DESKTOP = { width: 1280, height: 900 } as const;
export const PHONE = { width: 375, height: 812 } as const;
export type Viewport = 'desktop' | 'phone';
const SIZES = { desktop: DESKTOP, phone: PHONE } as const;

export interface BrowserEms {
  /** The app's origin (EMS_PUBLIC_URL: links in emails point here too). */
  base: string;
  /** `base` + path. */
  url(path: string): string;
  ems: RunningEms;
  db: TestDatabase;
  browser: Browser;
  /**
   * A page signed in as `personId` (a demo directory id: E1010, hr-lead, hrp-berlin…) by clicking through
   * the real sign-in, in a browser context of their own; it ends on `path` (default: the home page) with
   * the page's heading shown. Calling it again for the same person gives a new page in their context.
   */
  signIn(personId: string, options?: { path?: string; viewport?: Viewport }): Promise<Page>;
  /** A page in a fresh context with no session. */
  signedOut(options?: { viewport?: Viewport }): Promise<Page>;
  stop(): Promise<void>;
}

export interface BrowserEmsOptions {
  mode: 'orchestration' | 'choreography';
  /** Names the throwaway database (letters, digits, underscores). */
  name: string;
  /** The PostgreSQL server on which the throwaway database is made (tests: the run's test server). */
  serverUrl: string;
  env?: Record<string, string>;
  clock?: Clock;
}

export async function startBrowserEms(options: BrowserEmsOptions): Promise<BrowserEms> {
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);
  ensureWebAppBuilt();
  const cleanup: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    for (const fn of cleanup.reverse()) await fn().catch((err: unknown) => console.error('browser harness clean-up:', err));
    cleanup.length = 0;
  };
  try {
    const db = await createTestDatabase(options.serverUrl, `web_${options.name}`);
    cleanup.push(() => db.drop());
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const config = loadConfig({
      EMS_PORT: String(port),
      // The browser stays on one host: the provider's redirects and the session cookie are all 127.0.0.1.
      EMS_PUBLIC_URL: base,
      EMS_MODE: options.mode,
      EMS_DATABASE_URL: db.url,
      // No EMS_SMTP_URL: EMS runs its capture SMTP server, whose mailbox the app shows.
      EMS_LOG_LEVEL: 'warn',
      EMS_SECRETS_KEY: TEST_SECRETS_KEY,
      // Short retry clocks, so failure paths (dead letters) play out in seconds.
      EMS_STEP_MAX_ATTEMPTS: '4',
      EMS_STEP_RETRY_INTERVAL_MS: '150',
      EMS_SMTP_RETRY_BASE_MS: '150',
      EMS_BUS_MAX_ATTEMPTS: '3',
      EMS_BUS_RETRY_BACKOFF_MS: '100',
      EMS_STEP_DEADLINE_SECONDS: '2',
      ...options.env,
    });
    const ems = await startEms(config, options.clock ? { clock: options.clock } : {});
    cleanup.push(() => ems.stop());
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    cleanup.push(() => browser.close());

    const contexts = new Map<string, BrowserContext>();
    const newContext = async (viewport: Viewport) => {
      const context = await browser.newContext({ viewport: SIZES[viewport], baseURL: base, locale: 'en-GB', timezoneId: 'UTC' });
      // A failing page fails fast and says where, instead of waiting out the test's timeout.
      context.setDefaultTimeout(15_000);
      return context;
    };

    return {
      base,
      url: (path) => new URL(path, base).href,
      ems,
      db,
      browser,
      async signIn(personId, { path = '/', viewport = 'desktop' } = {}) {
        let context = contexts.get(personId);
        if (context) {
          const page = await context.newPage();
          await page.setViewportSize(SIZES[viewport]);
          await page.goto(new URL(path, base).href);
          await pageShown(page);
          // Their session ended meanwhile (idle, or a test moved EMS's clock past it): sign in again.
          if ((await page.getByRole('button', { name: 'Sign out' }).count()) === 0) await signInOnPage(page, personId);
          return page;
        }
        context = await newContext(viewport);
        contexts.set(personId, context);
        const page = await context.newPage();
        await page.goto(new URL(path, base).href);
        await signInOnPage(page, personId);
        return page;
      },
      async signedOut({ viewport = 'desktop' } = {}) {
        const context = await newContext(viewport);
        cleanup.push(() => context.close());
        return context.newPage();
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** On the app's sign-in page: Sign in → the provider's page → search for the person → click them → back in the app. */
export async function signInOnPage(page: Page, personId: string): Promise<void> {
  const person = personName(personId);
  await page.getByRole('link', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Sign in to EMS', level: 1 }).waitFor();
  // The provider lists a few people per group; searching by id narrows it to this one.
  await page.getByLabel('Search the directory').fill(personId);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('button', { name: new RegExp(`^${escapeRegExp(person)} .*· ${escapeRegExp(personId)}$`) }).click();
  // Back in the app, signed in: their name is in the header.
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  await pageShown(page);
}

/** Waits until the app shows a page (its h1), not the loading state. */
export async function pageShown(page: Page): Promise<void> {
  await page.locator('main h1').first().waitFor();
}

/**
 * Waits until the page shows its h1 and nothing is loading any more (no status line ending in "…"), e.g.
 * before a screenshot or axe. A page that never finishes loading fails here, saying so.
 */
export async function pageSettled(page: Page): Promise<void> {
  await pageShown(page);
  // A function, not a string: the app's CSP forbids eval. (This file is type-checked without the DOM's types.)
  type Doc = { querySelectorAll(selector: string): ArrayLike<{ textContent: string | null }> };
  await page.waitForFunction(() => !Array.from((globalThis as unknown as { document: Doc }).document.querySelectorAll('[role=status]')).some((e) => /…\s*$/.test(e.textContent ?? '')), undefined, { timeout: 15_000 });
}

/** The demo directory's name for a person id. */
export function personName(personId: string): string {
  const org = demoOrg();
  const p = [org.hrLead, ...org.hrPartners, ...org.employees].find((x) => x.id === personId);
  if (!p) throw new Error(`no one in the demo organisation has the id ${personId}`);
  return p.name;
}

/** WCAG 2.0/2.1/2.2 A and AA rules. */
export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'];

/**
 * Runs axe-core on the page as it is now and throws when it finds any serious or critical violation,
 * listing each (rule, what it means, the elements and what to fix), so the failure reads on its own.
 */
export async function expectAccessible(page: Page, what = page.url()): Promise<void> {
  // Sandboxed frames (a captured email's HTML, as received) run no script: axe cannot enter them and would
  // wait forever; their content is the sender's, not the app's. The frame element itself is still checked.
  const run = new AxeBuilder({ page }).withTags(WCAG_TAGS).exclude('iframe[sandbox]').analyze();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`axe did not finish within 30 s on ${what}`)), 30_000);
  });
  const result = await Promise.race([run, timeout]).finally(() => clearTimeout(timer));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length === 0) return;
  const viewport = page.viewportSize();
  const lines = bad.flatMap((v) => [
    `- ${v.id} (${v.impact}): ${v.help} — ${v.helpUrl}`,
    ...v.nodes.slice(0, 5).map((n) => `    at ${n.target.join(' ')}: ${n.failureSummary?.replace(/\s*\n\s*/g, '; ') ?? ''}`),
    ...(v.nodes.length > 5 ? [`    … and ${v.nodes.length - 5} more`] : []),
  ]);
  throw new Error(`${bad.length} serious or critical accessibility violation(s) on ${what}${viewport ? ` at ${viewport.width} px` : ''}:\n${lines.join('\n')}`);
}

/** Resizes the page (desktop 1280 px, phone 375 px). */
export async function useViewport(page: Page, viewport: Viewport): Promise<void> {
  await page.setViewportSize(SIZES[viewport]);
}

/** Whether the page scrolls sideways as a whole (a 375 px layout must not; tables scroll inside .table-wrap). */
export async function scrollsSideways(page: Page): Promise<boolean> {
  // A string: this file is type-checked without the DOM's types.
  return (await page.evaluate('document.documentElement.scrollWidth > document.documentElement.clientWidth + 1')) === true;
}


function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Serves what the source says: rebuilds packages/web when a file under it is newer than the build (the
 * build takes about a second). A lock directory keeps two test processes from building at once.
 */
function ensureWebAppBuilt(): void {
  const root = join(WEB_APP_DIR, '..');
  const built = (() => {
    try {
      return statSync(join(WEB_APP_DIR, 'index.html')).mtimeMs;
    } catch {
      return 0;
    }
  })();
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((m, e) => Math.max(m, e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs), 0);
  const source = Math.max(newest(join(root, 'src')), statSync(join(root, 'index.html')).mtimeMs, statSync(join(root, 'vite.config.ts')).mtimeMs);
  if (built >= source) return;
  const lock = join(tmpdir(), 'ems-web-build.lock');
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`another build of packages/web holds ${lock} for a minute: remove it if no build is running`);
      execFileSync('sleep', ['0.2']);
    }
  }
  try {
    // The production build, as npm install makes it (vitest sets NODE_ENV=test, which would give React's development build).
    execFileSync('npm', ['run', 'build', '-w', '@ems/web'], { cwd: join(root, '..', '..'), env: { ...process.env, NODE_ENV: 'production' }, stdio: ['ignore', 'ignore', 'inherit'] });
  } finally {
    rmdirSync(lock);
  }
}

/**
 * For scripts (screenshots, bench:web): the PostgreSQL server their throwaway database goes on —
 * EMS_TEST_DATABASE_URL when set, else an embedded one in a temporary directory, removed by `stop()`.
 */
export async function scriptServer(name: string): Promise<{ url: string; stop(): Promise<void> }> {
  const given = process.env.EMS_TEST_DATABASE_URL;
  if (given) return { url: given, stop: async () => undefined };
  const dir = mkdtempSync(join(tmpdir(), `ems-${name}-pg-`));
  const pg = await startEmbeddedPostgres({ dataDir: dir, database: 'postgres', tcp: true });
  return {
    url: pg.url,
    async stop() {
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
