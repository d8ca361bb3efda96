/**
 * Every place that starts EMS names the `ems` executable of @ems/server (packages/server/bin): `npm start` and
 * `npm run ems` (package.json), the image's entry point (Dockerfile), the split deployment's migrate job
 * (docker-compose.yml) and `npx ems` (the package's bin, linked by npm install). A path left at a moved file
 * would only show when someone ran that command; this reads each one and checks the file it names.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
/** The executables a text names, e.g. packages/server/bin/ems.ts. */
const executables = (text: string) => [...text.matchAll(/packages\/[\w-]+\/bin\/[\w.-]+/g)].map((m) => m[0]);

describe('the ems executable', () => {
  it('when EMS is started by npm, Docker, compose or npx, then the file each names exists in packages/server/bin', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    const named = new Map<string, string[]>([
      ['npm start', executables(scripts['start'] ?? '')],
      ['npm run ems', executables(scripts['ems'] ?? '')],
      ['Dockerfile', executables(read('Dockerfile'))],
      ['docker-compose.yml', executables(read('docker-compose.yml'))],
    ]);
    for (const [where, files] of named) {
      expect(files.length, where).toBeGreaterThan(0);
      for (const file of files) {
        expect(file, where).toMatch(/^packages\/server\/bin\//);
        expect(existsSync(path.join(ROOT, file)), `${where}: ${file}`).toBe(true);
      }
    }

    const server = JSON.parse(read('packages/server/package.json')) as { name: string; bin: Record<string, string> };
    expect(server.name).toBe('@ems/server');
    expect(server.bin['ems']).toBe('bin/ems.mjs');
    expect(realpathSync(path.join(ROOT, 'node_modules/.bin/ems'))).toBe(path.join(ROOT, 'packages/server/bin/ems.mjs'));
  });
});
