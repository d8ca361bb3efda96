/**
 * The browser the web app's tests drive: Debian's chromium at /usr/bin/chromium, launched by playwright-core
 * (Playwright's own browser download is not available here, nor wanted in CI). Never a silent skip: when it
 * is missing, the test setup installs it (as root, with apt) or the browser tests fail at once saying how.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const CHROMIUM = process.env.EMS_CHROMIUM ?? '/usr/bin/chromium';

/** The one command that installs it (Debian/Ubuntu). */
export const INSTALL_CHROMIUM = 'sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y chromium';

/** Flags for a headless chromium in a container (FACTS.md): no sandbox, no GPU, nothing fetched from outside. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function chromiumMissing(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  return `The browser tests need chromium at ${CHROMIUM} and it is not there. Install it with:\n  ${INSTALL_CHROMIUM}\n(or point EMS_CHROMIUM at a Chromium or Chrome binary).`;
}

const hasApt = () => spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;

/**
 * Called once per test run (test/global-setup.ts): when chromium is missing and this process may install it
 * (root, apt-get present), installs Debian's package; otherwise leaves it to the browser tests to fail with
 * chromiumMissing()'s message. Returns what it did, for the log.
 */
export function provideChromium(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): 'present' | 'installed' | 'missing' {
  if (!chromiumMissing()) return 'present';
  if (CHROMIUM !== '/usr/bin/chromium' || process.getuid?.() !== 0 || !hasApt()) return 'missing';
  log(`chromium is missing: installing Debian's chromium for the browser tests (apt-get install -y chromium)…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => spawnSync('apt-get', ['install', '-y', 'chromium'], { env, stdio: ['ignore', 'ignore', 'inherit'] }).status === 0;
  if (!install()) {
    // A fresh machine has no package lists yet. Should apt fail, the browser tests say how to install it.
    if (spawnSync('apt-get', ['update'], { env, stdio: ['ignore', 'ignore', 'inherit'] }).status !== 0 || !install()) return 'missing';
  }
  return chromiumMissing() ? 'missing' : 'installed';
}
