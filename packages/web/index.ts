import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Where the built app is (`npm install` builds it; `npm run build -w @ems/web` again after a change). */
export const WEB_APP_DIR = join(import.meta.dirname, 'dist');

/** Whether the app has been built here. */
export function webAppBuilt(): boolean {
  return existsSync(join(WEB_APP_DIR, 'index.html'));
}
