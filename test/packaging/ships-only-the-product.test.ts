// The image ships only the product: its build context (exactly what .dockerignore admits) holds
// no test-bed code, compiling it gives no test-bed output, src/ imports nothing from testbed/ or
// test/, and every compiled module loads with production dependencies only (`npm ci --omit=dev`),
// so a src/ file that imported a devDependency (yaml, nock, …) fails here rather than in a cluster.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../support/packaging-tools.js';
import { buildContextFiles, filesBelow, imageBuild } from './image-build.js';

interface PackageJson {
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}
const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as PackageJson;

/** Module specifiers a JS/TS source loads: static and dynamic imports, re-exports, require(). */
function specifiers(source: string): string[] {
  const out: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)(['"])([^'"\n]+)\1/g;
  for (const m of source.matchAll(re)) out.push(m[2] ?? '');
  return out;
}

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? spec);
}

describe('packaging: the image ships only the product', function () {
  this.timeout(300_000);

  it('the build context is package.json, the lock, the tsconfigs, src/ and the bundling step: no test-bed or test code', () => {
    const files = buildContextFiles();
    // Controls: the context is not empty, and the test bed it must leave out is in the checkout.
    assert.ok(files.includes('src/cli/main.ts') && files.includes('package-lock.json'), `context: ${files.slice(0, 10).join(', ')}…`);
    assert.ok(existsSync(path.join(repoRoot, 'testbed', 'bed.ts')) && existsSync(path.join(repoRoot, 'testbed', 'demo.ts')));
    const outsideProduct = files.filter(
      (f) =>
        !['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts/bundle-client-node.ts'].includes(f) &&
        !f.startsWith('src/'),
    );
    assert.deepEqual(outsideProduct, [], 'the context sends files outside the product');
    const testBed = files.filter((f) => f.split('/').some((seg) => seg === 'testbed' || seg === 'test') || /demo\.[cm]?[jt]s$/.test(f));
    assert.deepEqual(testBed, [], 'the context sends test-bed or test code');
  });

  it('no file in src/ imports from testbed/ or test/ (every relative import stays inside src/)', () => {
    const srcDir = path.join(repoRoot, 'src');
    const escapes = (file: string, source: string): string[] =>
      specifiers(source)
        .filter((s) => s.startsWith('.'))
        .filter((s) => {
          const target = path.resolve(path.dirname(file), s);
          return path.relative(srcDir, target).startsWith('..');
        });
    // Control: the scan does see such an import.
    assert.deepEqual(
      escapes(
        path.join(srcDir, 'cli', 'x.ts'),
        "import { TestBed } from '../../testbed/bed.js';\nconst m = await import('../../test/support/fixtures.js');",
      ),
      ['../../testbed/bed.js', '../../test/support/fixtures.js'],
    );
    const sources = filesBelow(srcDir).filter((f) => /\.[cm]?[jt]s$/.test(f));
    assert.ok(sources.length > 20, `${sources.length} sources in src/`);
    const found = sources.flatMap((f) => {
      const file = path.join(srcDir, f);
      return escapes(file, readFileSync(file, 'utf8')).map((s) => `src/${f} imports ${s}`);
    });
    assert.deepEqual(found, []);
  });

  it('the test bed shares no code with src/: nothing in testbed/ imports from src/ or dist/', () => {
    // It drives the product only as a process (node dist/cli/main.js), like a user would.
    const bedDir = path.join(repoRoot, 'testbed');
    const sources = filesBelow(bedDir).filter((f) => /\.[cm]?[jt]s$/.test(f));
    assert.ok(sources.includes('bed.ts') && sources.includes('demo.ts'), sources.join(', '));
    const found = sources.flatMap((f) => {
      const file = path.join(bedDir, f);
      return specifiers(readFileSync(file, 'utf8'))
        .filter((s) => s.startsWith('.') && path.relative(bedDir, path.resolve(path.dirname(file), s)).startsWith('..'))
        .map((s) => `testbed/${f} imports ${s}`);
    });
    assert.deepEqual(found, []);
  });

  it('compiled with tsconfig.build.json, the context gives a dist/ with no test-bed output and only production imports', () => {
    const { context } = imageBuild();
    const dist = filesBelow(path.join(context, 'dist'));
    assert.ok(dist.includes('cli/main.js'), 'dist/cli/main.js is built');
    assert.deepEqual(
      dist.filter((f) => f.split('/').some((seg) => seg.startsWith('testbed')) || f.startsWith('cli/demo.')),
      [],
      'test-bed output in dist/',
    );
    // Every emitted module comes from a src/ file (nothing from outside src/ was compiled in).
    const js = dist.filter((f) => f.endsWith('.js'));
    assert.deepEqual(
      js.filter((f) => !existsSync(path.join(repoRoot, 'src', f.replace(/\.js$/, '.ts')))),
      [],
      'dist/ modules without a src/ source',
    );
    // What the compiled code loads at run time: Node built-ins, its own modules, declared dependencies.
    const builtins = new Set(builtinModules);
    // The client-node bundle is minified: text in its string literals reads like imports to this
    // scan; its imports are checked in the next test.
    const bad = js
      .filter((f) => f !== 'kube/client-node.js')
      .flatMap((f) =>
        specifiers(readFileSync(path.join(context, 'dist', f), 'utf8'))
          .filter((s) => !s.startsWith('.') && !s.startsWith('node:') && !builtins.has(s))
          .filter((s) => !(packageName(s) in pkg.dependencies))
          .map((s) => `dist/${f} imports ${s}${packageName(s) in pkg.devDependencies ? ' (a devDependency)' : ' (not a dependency)'}`),
      );
    assert.deepEqual(bad, []);
  });

  it('dist/ loads client-node only through its bundle: no compiled module imports the package (its index loads ~1,000 modules)', () => {
    // src/kube/client-node.ts is the one source importing the package's values; the build's
    // second step (scripts/bundle-client-node.ts) replaces its output with what those names reach.
    const { context } = imageBuild();
    const js = filesBelow(path.join(context, 'dist')).filter((f) => f.endsWith('.js'));
    const importers = js.filter((f) =>
      specifiers(readFileSync(path.join(context, 'dist', f), 'utf8')).some((s) => packageName(s) === '@kubernetes/client-node'),
    );
    assert.deepEqual(importers, [], 'dist/ modules importing @kubernetes/client-node (not the bundle)');
    // The bundle is there, and far smaller than the package's 25 MB of modules.
    const bundle = readFileSync(path.join(context, 'dist', 'kube', 'client-node.js'), 'utf8');
    assert.ok(bundle.includes('var KubeConfig=class'), 'dist/kube/client-node.js holds client-node (KubeConfig)');
    assert.ok(bundle.length < 6_000_000, `the bundle is ${bundle.length} bytes`);
    // What it loads itself: Node built-ins only (client-node's dependencies are inside it).
    const builtins = new Set(builtinModules);
    const loads = [
      ...[...bundle.matchAll(/(?:^|[;}])\s*import\s*[^;"']*?from\s*["']([^"']+)["']/g)].map((m) => m[1] ?? ''),
      ...[...bundle.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1] ?? ''),
    ];
    assert.ok(loads.includes('node:fs'), `the scan sees the bundle's imports: ${loads.slice(0, 5).join(', ')}`);
    assert.deepEqual(
      loads.filter((s) => !s.startsWith('node:') && !builtins.has(s)),
      [],
      'the bundle imports a package',
    );
    // All ASCII: V8 keeps a module's source as long as the process runs, two bytes a character otherwise.
    assert.equal(/[^\t\n\r -~]/.test(bundle), false, 'non-ASCII characters in the bundle');
  });

  it('with `npm ci --omit=dev`, every module under dist/ imports and `hcsync --help` runs, listing no demo', () => {
    const { app } = imageBuild();
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '', NODE_ENV: 'production', HOME: app };
    const modules = filesBelow(path.join(app, 'dist'))
      .filter((f) => f.endsWith('.js'))
      .map((f) => path.join(app, 'dist', f));
    // dist/cli/main.js is the entry point: it runs its command line when loaded, so it is run below.
    const entry = path.join(app, pkg.bin.hcsync ?? '');
    const libraries = modules.filter((m) => m !== entry);
    assert.ok(libraries.length > 20, `${libraries.length} modules`);
    // Controls, beside dist/ under the same package.json and node_modules: modules that import a
    // devDependency must fail, which proves those are absent and that a failure is seen.
    const controlDir = path.join(app, 'control');
    const controls = ['yaml', 'nock'].map((dev) => path.join(controlDir, `imports-${dev}.js`));
    mkdirSync(controlDir);
    try {
      for (const [i, dev] of ['yaml', 'nock'].entries()) writeFileSync(controls[i] ?? '', `import '${dev}';\n`);
      const importer = `
        import { pathToFileURL } from 'node:url';
        const failed = {};
        for (const file of process.argv.slice(1)) {
          try { await import(pathToFileURL(file).href); } catch (e) { failed[file] = (e.code ?? '') + ' ' + e.message.split('\\n')[0]; }
        }
        process.stdout.write(JSON.stringify(failed), () => process.exit(0));
      `;
      const run = spawnSync(process.execPath, ['--input-type=module', '-e', importer, '--', ...libraries, ...controls], {
        cwd: app,
        env,
        encoding: 'utf8',
        timeout: 120_000,
      });
      assert.equal(run.status, 0, `importer exited ${run.status}: ${run.stderr}`);
      const failed = JSON.parse(run.stdout) as Record<string, string>;
      for (const c of controls) assert.match(failed[c] ?? 'imported', /ERR_MODULE_NOT_FOUND/, `control ${path.basename(c)}`);
      const productFailures = Object.entries(failed)
        .filter(([f]) => !controls.includes(f))
        .map(([f, msg]) => `${path.relative(app, f)}: ${msg}`);
      assert.deepEqual(productFailures, [], 'modules under dist/ that do not load with production dependencies only');
    } finally {
      rmSync(controlDir, { recursive: true, force: true });
    }

    const help = spawnSync(process.execPath, [entry, '--help'], { cwd: app, env, encoding: 'utf8', timeout: 30_000 });
    assert.equal(help.status, 0, `hcsync --help exited ${help.status}: ${help.stderr}`);
    assert.match(help.stdout, /^\s+hcsync run\b/m, help.stdout);
    assert.doesNotMatch(help.stdout, /^\s+hcsync demo\b/m, '--help lists no demo command');
    // The contract's `hcsync demo` is not "unknown": it says where the demo runs, and exits 2.
    const demo = spawnSync(process.execPath, [entry, 'demo'], { cwd: app, env, encoding: 'utf8', timeout: 30_000 });
    assert.equal(demo.status, 2);
    assert.doesNotMatch(demo.stderr, /unknown command/);
    assert.match(demo.stderr, /npm run demo/);
    assert.equal(demo.stderr.trim().split('\n').length, 1, `one line: ${demo.stderr}`);
  });
});
