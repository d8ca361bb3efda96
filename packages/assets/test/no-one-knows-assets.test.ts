import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The proof that asset recovery joins the flow by configuration only: no production file of any other
 * package names it. Scanned: every file under packages/<other>/src and packages/<other>/bin, and every
 * packages/<other>/package.json (a dependency on the extension would be wiring too). Not scanned: this
 * package, and test folders (an acceptance test may load the extension the way an operator would).
 *
 * TypeScript and JavaScript files are scanned token by token with the TypeScript scanner, comments
 * excluded: a comment cannot wire anything, while a string or an import can. Other files are scanned
 * as plain text.
 */

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const PACKAGES = path.join(ROOT, 'packages');
const OWN_PACKAGE = 'assets';
const SOURCE_DIRS = ['src', 'bin'];
const SKIPPED_DIRS = new Set(['node_modules', 'test', 'tests', '__tests__', 'fixtures']);

/** What would betray knowledge of the extension. Precise on purpose: the word "assets" alone is allowed. */
const FORBIDDEN: readonly { what: string; pattern: RegExp }[] = [
  { what: 'its package name', pattern: /@ems\/assets(?![\w-])/ },
  { what: 'a path into its package', pattern: /(?:\.\.\/|packages\/)assets(?![\w.-])/ },
  { what: 'its API path', pattern: /asset-recovery/i },
  { what: 'its resource or event name', pattern: /recovery[-_]tasks?(?![\w])/i },
  { what: 'its event type namespace', pattern: /com\.ems\.assets\./ },
  { what: 'its service or schema name as a string', pattern: /(['"`])assets\1/ },
];

export interface Hit {
  file: string;
  line: number;
  text: string;
  what: string;
}

/** Tokens of a TS/JS source with their line numbers; comments and JSDoc are not tokens. */
function tokensOf(file: string, text: string): { text: string; line: number }[] {
  const kind = /\.[cm]?jsx?$/.test(file) ? ts.ScriptKind.JS : ts.ScriptKind.TS;
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind);
  const tokens: { text: string; line: number }[] = [];
  const visit = (node: ts.Node): void => {
    if (node.kind >= ts.SyntaxKind.FirstJSDocNode && node.kind <= ts.SyntaxKind.LastJSDocNode) return;
    const children = node.getChildren(sf);
    if (children.length > 0) return children.forEach(visit);
    const t = node.getText(sf);
    if (t) tokens.push({ text: t, line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1 });
  };
  visit(sf);
  return tokens;
}

/** Every forbidden reference in one file's content. */
export function findReferences(file: string, content: string): Hit[] {
  const units = /\.[cm]?[jt]sx?$/.test(file) && !file.endsWith('.d.ts')
    ? tokensOf(file, content)
    : content.split('\n').map((text, i) => ({ text, line: i + 1 }));
  const hits: Hit[] = [];
  for (const unit of units) {
    for (const { what, pattern } of FORBIDDEN) {
      if (pattern.test(unit.text)) hits.push({ file, line: unit.line, text: unit.text.trim().slice(0, 160), what });
    }
  }
  return hits;
}

function walk(dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) walk(full, out);
    } else if (entry.isFile()) {
      out.push(full);
    }
  }
}

/** The files of one package that the proof covers. */
function filesOf(packageDir: string): string[] {
  const files: string[] = [];
  const manifest = path.join(packageDir, 'package.json');
  if (statSync(manifest, { throwIfNoEntry: false })?.isFile()) files.push(manifest);
  for (const dir of SOURCE_DIRS) {
    const full = path.join(packageDir, dir);
    if (statSync(full, { throwIfNoEntry: false })?.isDirectory()) walk(full, files);
  }
  return files;
}

function scan(files: readonly string[]): Hit[] {
  return files.flatMap((f) => findReferences(path.relative(ROOT, f), readFileSync(f, 'utf8')));
}

const otherPackages = readdirSync(PACKAGES, { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name !== OWN_PACKAGE)
  .map((d) => path.join(PACKAGES, d.name));

describe('no other service knows about asset recovery', () => {
  it('when every other package is scanned, then none of its code or manifests names the extension', () => {
    const files = otherPackages.flatMap(filesOf);
    // The scan must really cover the services (a wrong root would scan nothing and pass).
    for (const pkg of ['ems', 'eventbus', 'contracts', 'notification', 'hr', 'access', 'platform']) {
      expect(files.filter((f) => f.startsWith(path.join(PACKAGES, pkg, 'src') + path.sep)).length, `files scanned in packages/${pkg}/src`).toBeGreaterThan(0);
      expect(files, `packages/${pkg}/package.json scanned`).toContain(path.join(PACKAGES, pkg, 'package.json'));
    }
    const hits = scan(files);
    expect(hits.map((h) => `${h.file}:${h.line} names ${h.what}: ${h.text}`)).toEqual([]);
  });

  it('when the scanner reads the extension itself, then it finds it everywhere it is named (the scanner is not blind)', () => {
    const hits = scan(filesOf(path.join(PACKAGES, OWN_PACKAGE)));
    const found = new Set(hits.map((h) => h.what));
    expect(found).toContain('its package name'); // package.json
    expect(found).toContain('its API path');
    expect(found).toContain('its resource or event name');
    expect(found).toContain('its event type namespace');
    expect(found).toContain('its service or schema name as a string');
  });

  it.each([
    ['a static import', 'ems.ts', `import createExtension from '@ems/assets';`],
    ['a dynamic import', 'ems.ts', `const m = await import("@ems/assets");`],
    ['a re-export', 'index.ts', `export * from '@ems/assets/src/index.ts';`],
    ['a require', 'cli.cjs', `const a = require('@ems/assets');`],
    ['a template-literal import', 'ems.ts', 'const m = await import(`@ems/assets`);'],
    ['a relative import into the package', 'ems.ts', `import { AssetEvents } from '../../assets/src/events.ts';`],
    ['a dependency in a manifest', 'package.json', `{ "dependencies": { "@ems/assets": "*" } }`],
    ['a default extension list', 'config.ts', `const DEFAULT_EXTENSIONS = ['@ems/assets'];`],
    ['its event type', 'tracking.ts', `const expected = ['com.ems.assets.recovery-task-opened.v1'];`],
    ['its API path', 'client.ts', 'await callJson(`${base}/api/asset-recovery-tasks?resignationId=${id}`);'],
    ['its table', 'report.ts', 'await sql`SELECT count(*) FROM assets.recovery_tasks`.execute(db);'],
    ['its schema name', 'migrate.ts', `await migrate(pool, 'assets', migrations);`],
  ])('when a file contains %s, then the scanner reports it', (_what, file, code) => {
    expect(findReferences(file, code).length).toBeGreaterThan(0);
  });

  it.each([
    ['the plain word in prose', 'landing.ts', `const text = 'Company assets are returned on the last day';`],
    ['a variable name', 'server.ts', `const assetsDir = staticAssets(root);`],
    ['a static-assets folder of the package itself', 'server.ts', `app.register(serveStatic, { root: './public/assets/' });`],
    ['a comment naming the extension', 'config.ts', `// e.g. EMS_EXTENSIONS=@ems/assets\nconst x = 1;`],
    ['a JSDoc naming the extension', 'extension.ts', `/** Loaded by name, e.g. @ems/assets. */\nexport type F = () => void;`],
    ['other recovery words', 'hr.ts', `const recovery = 'crash recovery'; const task = 'task';`],
  ])('when a file contains %s, then the scanner lets it pass', (_what, file, code) => {
    expect(findReferences(file, code)).toEqual([]);
  });
});
