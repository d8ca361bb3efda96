/**
 * The web app in a real browser against a real EMS, for tests: see browser-ems.ts for what it starts.
 *
 *   const web = await startBrowserEms({ mode: 'orchestration', name: 'my_pages' });
 *   const page = await web.signIn('E1010');            // lands on the home page, signed in
 *   await page.goto(web.url('/cases'));
 *   await expectAccessible(page);                      // axe, WCAG 2.2 AA, no serious/critical violation
 *   await web.stop();
 */
import { inject } from 'vitest';
import { startBrowserEms as start, type BrowserEms, type BrowserEmsOptions } from './browser-ems.ts';

export * from './browser-ems.ts';
export { http, tokenFor, HR_LEAD, ACCESS_ADMIN, OPERATOR } from '../support/auth.ts';
/** Waits for `probe` to return something (a barrier on state the test can read, never a sleep). */
export { waitFor } from '@ems/platform/testing';

/** A real EMS (its throwaway database on the run's test PostgreSQL) and chromium; `stop()` removes both. */
export function startBrowserEms(options: Omit<BrowserEmsOptions, 'serverUrl'>): Promise<BrowserEms> {
  return start({ ...options, serverUrl: inject('testServerUrl') });
}
