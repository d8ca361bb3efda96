import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { checkLayers, LAYER_RULES_FILE, type LayerViolation } from '../scripts/lint-layers.ts';

/**
 * The layer lint (npm run lint:layers) run with the repository's own rules on a small tree laid out like
 * ours, planted with one violation of each rule beside imports the rules allow; then on the real tree.
 */

const PACKAGES = ['access', 'hr', 'notification', 'identity', 'ems', 'assets', 'server', 'eventbus', 'platform', 'contracts', 'demo-org', 'web'];

const files: Record<string, string> = {
  'package.json': JSON.stringify({ name: 'fixture', private: true, type: 'module', workspaces: ['packages/*'] }),
  'tsconfig.json': JSON.stringify({
    compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', allowImportingTsExtensions: true, noEmit: true, jsx: 'react-jsx' },
    include: ['packages', 'test'],
  }),
  // --- planted violations, one (or two) per rule ---
  'packages/access/src/uses-hr.ts': `import { hr } from '@ems/hr';\nexport const a = hr;\n`,
  'packages/hr/src/uses-notification.ts': `import { notification } from '../../notification/src/index.ts';\nexport const b = notification;\n`,
  'packages/ems/src/follow-ups/list.ts': `import { hr } from '@ems/hr';\nexport const c = hr;\n`,
  'packages/assets/src/uses-server.ts': `import { config } from '../../server/src/config.ts';\nimport { server } from '@ems/server';\nexport const store = [config, server];\n`,
  'packages/eventbus/src/uses-web.ts': `import { web } from '@ems/web';\nexport const i = web;\n`,
  'packages/ems/src/orchestration/flow.ts': `import { demoOrg } from '@ems/demo-org';\nexport const d = demoOrg;\n`,
  'packages/eventbus/src/bad.ts': `import { hr } from '@ems/hr';\nexport const e = hr;\n`,
  'packages/contracts/src/bad.ts': `import { demoOrg } from '@ems/demo-org';\nexport const f = demoOrg;\n`,
  'packages/web/src/page.tsx': `import { platform } from '@ems/platform';\nexport const Page = () => <p>{String(platform)}</p>;\n`,
  'packages/platform/src/reach.ts': `import { contracts } from '../../contracts/src/index.ts';\nexport const g = contracts;\n`,
  'packages/access/test/reach.test.ts': `import { contracts } from '../../contracts/src/index.ts';\nexport const h = contracts;\n`,
  'packages/platform/src/a.ts': `import { b } from './b.ts';\nexport const a = () => b;\n`,
  'packages/platform/src/b.ts': `import { a } from './a.ts';\nexport const b = () => a;\n`,
  'packages/notification/src/one/x.ts': `import { y } from '../two/y.ts';\nexport const x = y;\n`,
  'packages/notification/src/one/w.ts': `export const w = 1;\n`,
  'packages/notification/src/two/y.ts': `export const y = 1;\n`,
  'packages/notification/src/two/z.ts': `import { w } from '../one/w.ts';\nexport const z = w;\n`,
  // --- allowed ---
  // the composition root (packages/server) wires every service, EMS among them, and serves the web app
  'packages/server/src/app.ts': `import { hr } from '@ems/hr';\nimport { access } from '@ems/access';\nimport { ems } from '@ems/ems';\nimport { web } from '@ems/web';\nimport { config } from './config.ts';\nexport const app = [hr, access, ems, web, config];\n`,
  'packages/server/src/config.ts': `export const config = 1;\n`,
  'packages/server/src/cli/cli.ts': `import { app } from '../app.ts';\nimport { identity } from '@ems/identity';\nexport const cli = [app, identity];\n`,
  // orchestration: contracts, platform, eventbus, EMS core, node builtins
  'packages/ems/src/orchestration/ok.ts':
    `import { readFileSync } from 'node:fs';\nimport { contracts } from '@ems/contracts';\nimport { platform } from '@ems/platform';\n` +
    `import { eventbus } from '@ems/eventbus';\nimport { store } from '../resignations/store.ts';\nexport const ok = [readFileSync, contracts, platform, eventbus, store];\n`,
  // a service's tests may start another service
  'packages/access/test/harness.ts': `import { identity } from '@ems/identity';\nexport const harness = identity;\n`,
  // services use the libraries; a slice imports its service's context (its parent folder)
  'packages/access/src/access.context.ts': `import { contracts } from '@ems/contracts';\nimport { platform } from '@ems/platform';\nimport { eventbus } from '@ems/eventbus';\nimport type { Org } from '@ems/demo-org';\nexport type Ctx = { org: Org };\nexport const ctx = [contracts, platform, eventbus];\n`,
  'packages/access/src/slice/handler.ts': `import { ctx } from '../access.context.ts';\nexport const handler = ctx;\n`,
  'packages/access/src/access.service.ts': `import { handler } from './slice/handler.ts';\nexport const service = handler;\n`,
  'packages/web/src/app.tsx': `import { contracts } from '@ems/contracts';\nexport const App = () => <p>{String(contracts)}</p>;\n`,
  // the workspace's own tests are out of the relative-import rule's scope (see .dependency-cruiser.mjs)
  'test/root.test.ts': `import { app } from '../packages/server/src/app.ts';\nimport { server } from '@ems/server';\nexport const t = [app, server];\n`,
};
for (const name of PACKAGES) {
  const entry = name === 'web' ? './index.ts' : './src/index.ts';
  files[`packages/${name}/package.json`] = JSON.stringify({ name: `@ems/${name}`, type: 'module', exports: { '.': entry } });
  const binding = name.replace('-o', 'O'); // demo-org → demoOrg
  files[`packages/${name}/${entry.slice(2)}`] = name === 'demo-org' ? `export type Org = string;\nexport const demoOrg = 1;\n` : `export const ${binding} = 1;\n`;
}

const planted = [
  ['only-the-composition-root-imports-services', 'packages/access/src/uses-hr.ts', 'packages/hr/src/index.ts'],
  ['only-the-composition-root-imports-services', 'packages/hr/src/uses-notification.ts', 'packages/notification/src/index.ts'],
  ['no-relative-import-into-another-package', 'packages/hr/src/uses-notification.ts', 'packages/notification/src/index.ts'],
  ['only-the-composition-root-imports-services', 'packages/ems/src/follow-ups/list.ts', 'packages/hr/src/index.ts'],
  ['only-the-composition-root-imports-services', 'packages/assets/src/uses-server.ts', 'packages/server/src/config.ts'],
  ['no-relative-import-into-another-package', 'packages/assets/src/uses-server.ts', 'packages/server/src/config.ts'],
  ['only-the-composition-root-imports-services', 'packages/assets/src/uses-server.ts', 'packages/server/src/index.ts'],
  ['only-the-composition-root-imports-services', 'packages/eventbus/src/uses-web.ts', 'packages/web/index.ts'],
  ['orchestration-imports-only-contracts-platform-and-ems-core', 'packages/ems/src/orchestration/flow.ts', 'packages/demo-org/src/index.ts'],
  ['only-the-composition-root-imports-services', 'packages/eventbus/src/bad.ts', 'packages/hr/src/index.ts'],
  ['contracts-import-no-other-package', 'packages/contracts/src/bad.ts', 'packages/demo-org/src/index.ts'],
  ['web-imports-only-contracts', 'packages/web/src/page.tsx', 'packages/platform/src/index.ts'],
  ['no-relative-import-into-another-package', 'packages/platform/src/reach.ts', 'packages/contracts/src/index.ts'],
  ['no-relative-import-into-another-package', 'packages/access/test/reach.test.ts', 'packages/contracts/src/index.ts'],
].map(([rule, from, to]) => `${rule}: ${from} → ${to}`);

const key = (v: LayerViolation) => `${v.rule}: ${v.from} → ${v.to}`;

describe('layer lint', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'layers-'));
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    // what npm install does for a workspace: node_modules/@ems/<name> → packages/<name>
    mkdirSync(join(root, 'node_modules/@ems'), { recursive: true });
    for (const name of PACKAGES) symlinkSync(join(root, 'packages', name), join(root, 'node_modules/@ems', name), 'dir');
  });
  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  test('when a tree breaks each rule once, then each break is reported — and nothing the rules allow', async () => {
    const report = await checkLayers(root);

    const plain = report.violations.filter((v) => !v.cycle).map(key).sort();
    expect(plain).toEqual([...planted].sort());

    const cycles = report.violations.filter((v) => v.cycle).map((v) => `${v.rule}: ${[...new Set(v.cycle)].sort().join(' ')}`);
    expect(cycles.sort()).toEqual([
      'no-circular: packages/platform/src/a.ts packages/platform/src/b.ts',
      'no-folder-cycle: packages/notification/src/one packages/notification/src/two',
    ]);
    // the report names the file imports behind each step of a folder cycle
    expect(report.text).toContain('packages/notification/src/one/x.ts → packages/notification/src/two/y.ts');
    expect(report.text).toContain('packages/notification/src/two/z.ts → packages/notification/src/one/w.ts');
  });

  test('the composition root named in the rules is the package that holds startEms and the ems executable', async () => {
    const { COMPOSITION_ROOT } = (await import(pathToFileURL(LAYER_RULES_FILE).href)) as { COMPOSITION_ROOT: string };
    const repo = resolve(import.meta.dirname, '..');
    expect(COMPOSITION_ROOT).toBe('packages/server/');
    expect(['src/app.ts', 'src/index.ts', 'bin/ems.ts', 'src/cli/cli.ts'].filter((p) => !existsSync(join(repo, COMPOSITION_ROOT, p)))).toEqual([]);
  });

  test('the repository keeps its layer rules', { timeout: 180_000 }, async () => {
    const report = await checkLayers();
    expect(report.modules).toBeGreaterThan(300);
    expect(report.violations, report.text).toEqual([]);
  });
});
