// ESLint flat config. TypeScript is linted with type information (typescript-eslint's project
// service: each file is checked with the tsconfig.json that includes it, so no separate project
// list to keep in step). Globs are by top-level directory, so they match both today's layout
// (src/testbed/) and tomorrow's (testbed/, test/packaging/).
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

const TS = ['src/**/*.ts', 'test/**/*.ts', 'testbed/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'];
const TESTS = ['test/**/*.ts'];

// The handful of Node globals our plain-JS files (this file, tools/*.cjs, .dependency-cruiser.cjs) use.
const nodeGlobals = { process: 'readonly', console: 'readonly', require: 'readonly', module: 'writable', __dirname: 'readonly' };

export default defineConfig(
  globalIgnores(['dist/', '.cache/', 'coverage/', 'node_modules/', '**/*.d.ts', 'test/kube/', 'test/tools/']),

  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: { globals: nodeGlobals },
    rules: { eqeqeq: ['error', 'always', { null: 'ignore' }] },
  },

  {
    files: TS,
    extends: [js.configs.recommended, tseslint.configs.strictTypeChecked, tseslint.configs.stylisticTypeChecked],
    languageOptions: {
      parserOptions: {
        // Every linted .ts file (scripts/ included) is in tsconfig.json's program.
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // --- What matters for a long-running controller: a lost promise is a lost patch or an
      // unhandled rejection that kills the process; a missed enum case is a silently ignored state.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-explicit-any': 'error',
      // Catches dead `?.`/`??` and checks that can never fail. Known false positive: a flag that
      // another async path sets (`while (!this.stopping) { await …; if (this.stopping) return; }`):
      // TS keeps the narrowing across `await`; read such flags through a method.
      '@typescript-eslint/no-unnecessary-condition': 'error',
      'require-await': 'off',
      '@typescript-eslint/require-await': 'error',
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/prefer-promise-reject-errors': 'error',
      // `x == null` is the one loose comparison we allow: it means "null or undefined".
      eqeqeq: ['error', 'always', { null: 'ignore' }],

      // --- Imports: with verbatimModuleSyntax a type import must say so; both `import type {…}`
      // and `import { type X, y }` are fine, but `import { type X }` alone leaves a side-effect import.
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-import-type-side-effects': 'error',

      // --- Tuning of the strict/stylistic presets.
      // In the API objects we read, an empty string means "not set" as much as a missing field does
      // (GCE requestPath '' is '/', a list's `_continue: ''` is the last page, an Operation's empty error
      // list has no message): `s || fallback` on a string is deliberate here. `??` is still asked for
      // on every other type.
      '@typescript-eslint/prefer-nullish-coalescing': ['error', { ignorePrimitives: { string: true } }],
      // Numbers in messages and log lines are normal; objects and nullish values in them are the bugs.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // `() => void doIt()` and `(x) => set.add(x)` in callbacks read fine.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // The code writes `record['key']` for index-signature access (what TS's
      // noPropertyAccessFromIndexSignature asks for) and `obj.key` for declared fields: keep that.
      '@typescript-eslint/dot-notation': ['error', { allowIndexSignaturePropertyAccess: true }],
      // @kubernetes/client-node declares its API objects (V1Pod, V1ObjectMeta, …) as classes, but they
      // are plain JSON on the wire and its API methods take object literals; this rule fights that idiom.
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
      // Same reason: `{ ...lease.metadata }` copies plain data. (Its `allow` list does not match
      // client-node's optional fields, `V1ObjectMeta | undefined`, so it cannot be narrowed to them.)
      '@typescript-eslint/no-misused-spread': 'off',
      // Conflicts with no-non-null-assertion (strict): it rewrites `x as T` into `x!`, which that rule forbids.
      '@typescript-eslint/non-nullable-type-assertion-style': 'off',
    },
  },

  {
    // Tests: fixtures and assertions, not production paths. Relaxed only here, and only where the
    // rule makes tests harder to read without catching real bugs:
    files: TESTS,
    rules: {
      // after `assert.ok(x)` the test knows x is there; `x!` says so without an `if` that TS wants.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // fakes of async ports are `async () => value`, with nothing to await.
      '@typescript-eslint/require-await': 'off',
      // JSON.parse / YAML parse of fixtures and API answers is checked by the assertions that follow.
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      // mocha's `describe`/`it` take `function () { this.timeout(…) }`; empty stubs are normal in fakes.
      '@typescript-eslint/no-empty-function': 'off',
      // `let bed: TestBed` is assigned in before(); after() says `await bed?.stop()` because before()
      // may have failed, which the types cannot know. Assertions use `?.` so a failure prints the
      // diff instead of a TypeError.
      '@typescript-eslint/no-unnecessary-condition': 'off',
    },
  },
);
