// dependency-cruiser: the layering of src/ and what production code may depend on.
// `npm run lint` runs `depcruise .` with this file. Rules are written by directory, so they hold for
// today's tree and for the planned one (port interfaces in a leaf module: src/model/ports.ts or
// src/ports/; assessment below controller; leader election in src/kube/; the test bed at testbed/).
//
//   cli ──► controller ──► kube, gcp ──► plan ──► intent ──► parse ──► model (+ ports)
//   (config, observability, server: shared infrastructure, never import controller or cli
//    except server/observability as noted below)
//   src/** never imports testbed/, test/, bench/, scripts/ or a devDependency.

/** Anything in src/ except the named top-level directories. */
const srcExcept = (...dirs) => `^src/(?!(${dirs.join('|')})/)`;
// The bottom layer: plain data and port interfaces (a future src/ports/ sits beside model/).
const BOTTOM = ['model', 'ports'];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    // --- The pure core: each layer imports only the layers below it.
    {
      name: 'model-is-a-leaf',
      comment: 'src/model (and src/ports) hold plain data and interfaces: they import nothing else from src/.',
      severity: 'error',
      from: { path: '^src/(model|ports)/' },
      to: { path: srcExcept(...BOTTOM) },
    },
    {
      name: 'parse-imports-only-model',
      severity: 'error',
      from: { path: '^src/parse/' },
      to: { path: srcExcept('parse', ...BOTTOM) },
    },
    {
      name: 'intent-imports-only-parse-model',
      severity: 'error',
      from: { path: '^src/intent/' },
      to: { path: srcExcept('intent', 'parse', ...BOTTOM) },
    },
    {
      name: 'plan-imports-only-intent-parse-model',
      severity: 'error',
      from: { path: '^src/plan/' },
      to: { path: srcExcept('plan', 'intent', 'parse', ...BOTTOM) },
    },
    // --- Adapters and glue.
    {
      name: 'adapters-not-to-controller-or-cli',
      comment: 'src/kube and src/gcp are adapters: they implement ports, they do not call the controller or the CLI.',
      severity: 'error',
      from: { path: '^src/(kube|gcp)/' },
      to: { path: '^src/(controller|cli)/' },
    },
    {
      name: 'controller-not-to-cli',
      severity: 'error',
      from: { path: '^src/controller/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'infrastructure-not-to-controller-or-cli',
      comment: 'config, observability and server are used by the controller and the CLI, not the other way round.',
      severity: 'error',
      from: { path: '^src/(config|observability|server)/' },
      to: { path: '^src/(controller|cli)/' },
    },
    // --- What ships: dist/ is built from src/ and runs with `npm ci --omit=dev`.
    {
      name: 'src-not-to-test-code',
      comment: 'Production code never imports the test bed (testbed/, today still src/testbed/), tests, benchmarks or scripts.',
      severity: 'error',
      from: { path: srcExcept('testbed') },
      to: { path: '^(src/testbed|testbed|test|bench|scripts)/' },
    },
    {
      name: 'src-not-to-dev-dependencies',
      comment: 'The image installs production dependencies only; a devDependency imported from src/ is missing at run time.',
      severity: 'error',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'] },
    },
    // --- General hygiene, everywhere.
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-non-package-json',
      comment: 'Every npm package imported is declared in package.json (not just present through another package).',
      severity: 'error',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
  ],
  options: {
    // node_modules stays in (not followed) so the dependency-type rules can see npm packages.
    includeOnly: '^(src|test|testbed|bench|scripts)/|(^|/)node_modules/',
    exclude: { path: '^(dist|\\.cache)/' },
    doNotFollow: { path: 'node_modules' },
    // Count `import type` too: the layering is about what a module knows, not only what it runs.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
