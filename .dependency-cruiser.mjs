// @ts-check
/**
 * Layer rules, checked by `npm run lint:layers` (part of `npm run lint`, so of `npm test`).
 * What each rule means and how to read a violation: README, "Layer rules".
 *
 * Paths below are the files the imports resolve to (`@ems/hr` resolves to packages/hr/src/index.ts through
 * the workspace link), so one rule catches an import by package name and by relative path alike.
 */

/**
 * The services: each owns its tables and talks to the others only through contracts (HTTP, events).
 * EMS (packages/ems: cases, orchestration, choreography, exits, …) is a service like the others.
 */
const SERVICES = ['access', 'assets', 'ems', 'hr', 'identity', 'notification', 'webhooks'];

/**
 * The composition root: packages/server (@ems/server) — the process that starts every service
 * (startEms, loadConfig), the `ems` CLI, the fleet supervisor and the gateway. It is the ONE package
 * allowed to import every service (and the web app, which it serves).
 */
export const COMPOSITION_ROOT = 'packages/server/';

/** Shared libraries every layer may use: the language between services, and infrastructure. */
const LIBRARIES = ['contracts', 'platform', 'eventbus', 'demo-org'];

const either = (/** @type {string[]} */ names) => `(${names.join('|')})`;

/** Test code may compose several services (a service's tests start Identity to mint tokens). */
const TEST_CODE = ['^packages/[^/]+/test/', '\\.test\\.tsx?$'];
/** What only the composition root may import: the services, itself and the web app (which it serves). */
const NOT_A_LIBRARY = `^packages/${either([...SERVICES, 'server', 'web'])}/`;

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'only-the-composition-root-imports-services',
      severity: 'error',
      comment:
        'Only the composition root (packages/server: startEms, the CLI, the fleet supervisor, the gateway) ' +
        'imports services to build processes from them. A service (access, assets, ems, hr, identity, ' +
        'notification, webhooks) never imports another service, the composition root or the web app, and a ' +
        `library (${LIBRARIES.map((l) => `@ems/${l}`).join(', ')}) none of them — neither by ` +
        'package name (@ems/hr) nor by relative path. Services talk through @ems/contracts (typed HTTP ' +
        'commands and events); shared code belongs in @ems/contracts, @ems/platform or @ems/eventbus. Tests ' +
        'may start other services, so test files are exempt.',
      from: { path: '^packages/([^/]+)/', pathNot: [`^${COMPOSITION_ROOT}`, ...TEST_CODE] },
      to: { path: NOT_A_LIBRARY, pathNot: '^packages/$1/' },
    },
    {
      name: 'orchestration-imports-only-contracts-platform-and-ems-core',
      severity: 'error',
      comment:
        'The orchestrator (packages/ems/src/orchestration) knows its participants only through their published ' +
        'API: of our packages it imports @ems/contracts, @ems/platform, @ems/eventbus (to hear events) and EMS ' +
        "core — never a service's implementation (@ems/hr, …), never the composition root. Libraries from npm " +
        '(@dbos-inc/*, zod, kysely) and node builtins are fine. Need a participant\'s rule? Call its command.',
      from: { path: '^packages/ems/src/orchestration/' },
      to: {
        path: '^packages/',
        pathNot: ['^packages/(contracts|platform|eventbus)/', '^packages/ems/src/'],
      },
    },
    {
      name: 'contracts-import-no-other-package',
      severity: 'error',
      comment:
        '@ems/contracts is the language shared by the servers and the browser app: it imports none of our ' +
        'other packages (only zod), so importing it never drags server code into the web bundle.',
      from: { path: '^packages/contracts/' },
      to: { path: '^packages/', pathNot: '^packages/contracts/' },
    },
    {
      name: 'web-imports-only-contracts',
      severity: 'error',
      comment:
        'The web app (packages/web) runs in the browser: of our packages it imports only @ems/contracts (paths, ' +
        'schemas, types). It talks to the servers over HTTP, never by importing them.',
      from: { path: '^packages/web/' },
      to: { path: '^packages/', pathNot: '^packages/(web|contracts)/' },
    },
    {
      name: 'no-relative-import-into-another-package',
      severity: 'error',
      comment:
        "A package never reaches into another package's files by relative path (../../hr/src/…): import it by " +
        'its name (@ems/hr) and only what its package.json `exports` publish. Applies to src and tests of ' +
        'every package.',
      // Only packages/: the workspace's own test/, bench/ and scripts/ are white-box integration tests that may
      // import a package's internal files (measured when written: 22 imports in 12 of 58 test files, 1 in bench,
      // 2 in scripts). New tests: prefer @ems/<name>.
      from: { path: '^packages/([^/]+)/' },
      to: {
        path: '^packages/',
        pathNot: '^packages/$1/',
        // 'local' = a relative import; imports by package name are 'aliased' (or 'undetermined').
        dependencyTypes: ['local'],
        dependencyTypesNot: ['aliased'],
      },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'No module cycles: a file never (directly or through others) imports a file that imports it. Cycles ' +
        'make load order matter and hide which module owns what. Break one edge: move the shared piece (often ' +
        'a type) into its own module that both import.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-folder-cycle',
      scope: 'folder',
      severity: 'error',
      comment:
        'No cycles between folders: if files in folder A import folder B, no file in B (or below it) imports A. ' +
        'A folder may import its parent (a slice imports its service context), but two sibling slices must ' +
        'not lean on each other both ways. Move what both need into one of them, a shared folder or contracts.',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['(^|/)node_modules/', '^packages/web/dist/', '^\\.ems-data/', '^coverage/'] },
    // Type-only imports count: `import type` from another service couples it all the same.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // Workspace packages export their TypeScript sources (package.json `exports`): resolve through them.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
