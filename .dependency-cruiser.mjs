// @ts-check
/**
 * Layer rules, checked by `npm run lint:layers` (part of `npm run lint`, so of `npm test`).
 * What each rule means and how to read a violation: README, "Layer rules".
 *
 * Paths below are the files the imports resolve to (`@ems/hr` resolves to packages/hr/src/index.ts through
 * the workspace link), so one rule catches an import by package name and by relative path alike.
 */

/** The services: each owns its tables and talks to the others only through contracts (HTTP, events). */
const SERVICES = ['access', 'assets', 'hr', 'identity', 'notification', 'webhooks'];

/**
 * packages/ems is today two things: the EMS service (cases, orchestration, choreography, …) and the
 * composition root — the process that starts every service, the CLI, the fleet supervisor and the
 * gateway. The composition root (to move to its own package) is the ONE place allowed to import every
 * service; these are its files. Everything else in packages/ems is the EMS service ("EMS core").
 */
export const COMPOSITION_ROOT = [
  'packages/ems/bin/', // the `ems` executable
  'packages/ems/src/cli/', // the CLI, the fleet supervisor (fleet.ts) and the gateway (gateway.ts)
  'packages/ems/src/index.ts', // the package's entry: startEms, loadConfig
  'packages/ems/src/app.ts', // startEms: builds every service of one process
  'packages/ems/src/config.ts', // the process's configuration schema
  'packages/ems/src/database-roles.ts', // one PostgreSQL role per service
  'packages/ems/src/auth-setup.ts', // Identity's keys and service tokens for every process
  'packages/ems/src/seed.ts', // first-start demo data of every service
  'packages/ems/src/seed-modules.ts',
  'packages/ems/src/extensions.ts', // loads extension packages into the process
  'packages/ems/src/web-app.http.ts', // serves the web app (@ems/web)
];

/** Shared libraries every layer may use: the language between services, and infrastructure. */
const LIBRARIES = ['contracts', 'platform', 'eventbus', 'demo-org'];

const escape = (/** @type {string} */ s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const either = (/** @type {string[]} */ names) => `(${names.join('|')})`;

/** A path regex matching the composition root's files (a trailing '/' means a whole folder). */
const COMPOSITION_ROOT_PATH = `^(${COMPOSITION_ROOT.map((p) => escape(p) + (p.endsWith('/') ? '' : '$')).join('|')})`;
/** Test code may compose several services (a service's tests start Identity to mint tokens). */
const TEST_CODE = ['^packages/[^/]+/test/', '\\.test\\.tsx?$'];
/** Any package a service must not import: another service, EMS (service or root) or the web app. */
const NOT_A_LIBRARY = `^packages/${either([...SERVICES, 'ems', 'web'])}/`;

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'services-never-import-services',
      severity: 'error',
      comment:
        'A service (access, assets, hr, identity, notification, webhooks) never imports another service, EMS or ' +
        'the web app — neither by package name (@ems/hr) nor by relative path. Services talk through ' +
        '@ems/contracts (typed HTTP commands and events); shared code belongs in @ems/contracts, @ems/platform ' +
        'or @ems/eventbus. Tests may start other services, so test files are exempt.',
      from: { path: `^packages/${either(SERVICES)}/`, pathNot: TEST_CODE },
      to: { path: NOT_A_LIBRARY, pathNot: '^packages/$1/' },
    },
    {
      name: 'ems-core-never-imports-services',
      severity: 'error',
      comment:
        "EMS's own service code (everything in packages/ems outside the composition root, listed in " +
        '.dependency-cruiser.mjs) imports no other service and not the web app: it knows participants only ' +
        'through @ems/contracts. Only the composition root (app.ts, cli/, seed*.ts, …) wires services together.',
      from: { path: '^packages/ems/', pathNot: [COMPOSITION_ROOT_PATH, ...TEST_CODE] },
      to: { path: `^packages/${either([...SERVICES, 'web'])}/` },
    },
    {
      name: 'ems-core-never-imports-composition-root',
      severity: 'error',
      comment:
        "The composition root builds EMS's service code, never the other way round: EMS core does not import " +
        'app.ts, config.ts, cli/ or any other composition-root file (listed in .dependency-cruiser.mjs). ' +
        'Pass what it needs in as a parameter.',
      from: { path: '^packages/ems/', pathNot: [COMPOSITION_ROOT_PATH, ...TEST_CODE] },
      to: { path: COMPOSITION_ROOT_PATH },
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
      name: 'libraries-never-import-services',
      severity: 'error',
      comment:
        'The shared libraries (@ems/contracts, @ems/platform, @ems/eventbus, @ems/demo-org) sit below every ' +
        'service: they never import a service, EMS or the web app.',
      from: { path: `^packages/${either(LIBRARIES)}/`, pathNot: TEST_CODE },
      to: { path: NOT_A_LIBRARY },
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
