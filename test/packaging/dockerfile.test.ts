// The Dockerfile, checked without a Docker engine (there is none here): linted by Docker's own
// build checks (BuildKit's linter, what `docker build --check` runs; built from Go modules by
// scripts/build-tools.sh — hadolint is not packaged for Debian, npm or Go), its key properties read
// from the file itself, and the final stage reproduced on disk — production-only `npm ci`, the
// compiled dist/, package.json — with its ENTRYPOINT + CMD command line run as the image runs it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot, runTool } from '../support/packaging-tools.js';
import { dockerignored, dockerignorePatterns, imageBuild } from './image-build.js';

interface Instruction {
  op: string; // upper case
  args: string; // raw argument text, continuations joined
}
interface Stage {
  from: string; // base image, ARGs resolved
  name: string | undefined;
  instructions: Instruction[];
}

/** Dockerfile → stages, with line continuations joined, comments dropped and global ARGs resolved. */
function parseDockerfile(text: string): { stages: Stage[]; globalArgs: Map<string, string> } {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (current === '' && /^\s*#/.test(line)) continue; // comment (incl. parser directives)
    if (line.endsWith('\\')) {
      current += line.slice(0, -1) + ' ';
      continue;
    }
    current += line;
    if (current.trim() !== '') logical.push(current.trim());
    current = '';
  }
  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const l of logical) {
    const m = /^(\S+)\s*(.*)$/s.exec(l);
    if (!m) continue;
    const op = (m[1] ?? '').toUpperCase();
    const args = m[2] ?? '';
    if (op === 'ARG' && stages.length === 0) {
      const [k, v] = args.split('=', 2);
      if (k) globalArgs.set(k.trim(), (v ?? '').trim());
      continue;
    }
    if (op === 'FROM') {
      const fm = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args.trim());
      assert.ok(fm, `cannot parse FROM ${args}`);
      const image = (fm[1] ?? '').replace(/\$\{?(\w+)\}?/g, (_, name: string) => globalArgs.get(name) ?? '');
      stages.push({ from: image, name: fm[2], instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    assert.ok(stage, `${op} before the first FROM`);
    stage.instructions.push({ op, args });
  }
  return { stages, globalArgs };
}

function execForm(args: string): string[] {
  const value: unknown = JSON.parse(args);
  assert.ok(Array.isArray(value) && value.every((v) => typeof v === 'string'), `not exec form: ${args}`);
  return value;
}

interface PackageJson {
  bin: Record<string, string>;
  engines: { node: string };
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

describe('Dockerfile', function () {
  this.timeout(180_000);
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as PackageJson;
  const { stages } = parseDockerfile(readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8'));
  const final = stages.at(-1);
  const ops = (stage: Stage | undefined, op: string): Instruction[] => stage?.instructions.filter((i) => i.op === op) ?? [];
  const stageNamed = (name: string): Stage | undefined => stages.find((s) => s.name === name);

  it("passes Docker's build checks (BuildKit linter) with no warning", () => {
    interface LintOutput {
      warnings: { ruleName: string; detail: string; line: number }[];
      error?: string;
    }
    const lint = (file: string): LintOutput => JSON.parse(runTool('dockerfile-lint', [file])) as LintOutput;
    const result = lint(path.join(repoRoot, 'Dockerfile'));
    assert.equal(result.error, undefined);
    assert.deepEqual(result.warnings, []);
    // Control: the linter does flag a Dockerfile with the usual mistakes.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hcsync-lint-'));
    try {
      const bad = path.join(dir, 'Dockerfile');
      writeFileSync(bad, 'from node:24 as build\nENV API_TOKEN=x\nCMD node dist/cli/main.js run\n');
      const rules = lint(bad)
        .warnings.map((w) => w.ruleName)
        .sort();
      assert.deepEqual(rules, ['ConsistentInstructionCasing', 'JSONArgsRecommended', 'SecretsUsedInArgOrEnv']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is multi-stage, on Node 24 LTS images throughout', () => {
    assert.ok(stages.length >= 2, 'at least a build stage and a runtime stage');
    const engines = /(\d+)/.exec(pkg.engines.node)?.[1];
    assert.equal(engines, '24');
    for (const s of stages) {
      assert.match(s.from, /^(node:24[-.]|gcr\.io\/distroless\/nodejs24-)/, `stage ${s.name ?? '(final)'} base ${s.from}`);
      assert.doesNotMatch(s.from, /:latest$/, 'no floating :latest');
    }
  });

  it('runs the final stage as a numeric non-root user, with no shell commands (distroless has none)', () => {
    const users = ops(final, 'USER');
    assert.equal(users.length, 1);
    const m = /^(\d+)(?::(\d+))?$/.exec(users[0]?.args.trim() ?? '');
    assert.ok(m, `USER must be numeric uid[:gid] so the kubelet can check runAsNonRoot, got ${users[0]?.args}`);
    assert.notEqual(Number(m[1]), 0);
    if (m[2] !== undefined) assert.notEqual(Number(m[2]), 0);
    assert.equal(ops(final, 'RUN').length, 0);
    // The manifests run it as 65532 too.
    const deployment = readFileSync(path.join(repoRoot, 'deploy/base/deployment.yaml'), 'utf8');
    assert.match(deployment, new RegExp(`runAsUser: ${m[1]}\\b`));
  });

  it('ships production dependencies only: node_modules comes from an `npm ci --omit=dev` stage', () => {
    const copies = ops(final, 'COPY').map((c) => c.args);
    const nodeModules = copies.find((c) => /\bnode_modules\b/.test(c));
    assert.ok(nodeModules, 'final stage copies node_modules');
    const from = /--from=(\S+)/.exec(nodeModules)?.[1];
    assert.ok(from, 'node_modules is copied from another stage');
    const depsStage = stageNamed(from);
    assert.ok(depsStage, `stage ${from} exists`);
    const installs = ops(depsStage, 'RUN').filter((r) => /\bnpm (ci|install)\b/.test(r.args));
    assert.ok(installs.length > 0, `stage ${from} installs with npm`);
    for (const r of installs) assert.match(r.args, /npm ci\b.*--omit=dev/, `stage ${from}: ${r.args}`);
    // dist/ comes from the stage that compiles (with dev dependencies), and only dist/.
    const dist = copies.find((c) => /\bdist\b/.test(c));
    const buildStage = stageNamed(/--from=(\S+)/.exec(dist ?? '')?.[1] ?? '');
    assert.ok(buildStage && ops(buildStage, 'RUN').some((r) => r.args.includes('npm run build')), 'dist/ is built by npm run build');
    assert.ok(
      copies.some((c) => /\bpackage\.json\b/.test(c)),
      'package.json ("type": "module") is in the image',
    );
  });

  it('starts `hcsync run`: ENTRYPOINT is node + package.json bin, CMD is run, node is on PATH', () => {
    const entrypoint = ops(final, 'ENTRYPOINT');
    const cmd = ops(final, 'CMD');
    assert.equal(entrypoint.length, 1);
    assert.equal(cmd.length, 1);
    assert.deepEqual(execForm(entrypoint[0]?.args ?? ''), ['node', pkg.bin.hcsync]);
    assert.deepEqual(execForm(cmd[0]?.args ?? ''), ['run']);
    if (final?.from.includes('distroless')) {
      // distroless keeps node in /nodejs/bin, which is not on its default PATH.
      const env = ops(final, 'ENV')
        .map((e) => e.args)
        .join(' ');
      assert.match(env, /PATH=\/nodejs\/bin:/);
    }
  });

  it('.dockerignore sends only the build inputs', () => {
    const patterns = dockerignorePatterns();
    for (const f of [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
      'src/cli/main.ts',
      'scripts/bundle-client-node.ts',
    ]) {
      assert.equal(dockerignored(patterns, f), false, `${f} must reach the build`);
    }
    for (const f of [
      'node_modules/mocha/index.js',
      '.git/config',
      '.cache/tools/helm',
      'dist/cli/main.js',
      'test/unit/x.test.ts',
      'testbed/bed.ts',
      'deploy/base/deployment.yaml',
    ]) {
      assert.equal(dockerignored(patterns, f), true, `${f} must not be sent`);
    }
  });

  it("the final stage's files, assembled as the Dockerfile does, start with the image's command line", function () {
    // The deps stage's production-only npm ci, the build stage's dist/ (from exactly the context
    // .dockerignore sends), package.json: assembled by image-build.ts, shared with packaging-imports.
    const { app } = imageBuild();
    // Nothing that only development needs made it in — in particular not the `node` package and
    // its binary. The lock file marks those `dev: true`; a devDependency that a production
    // dependency also needs (e.g. @types/node) is not marked and rightly stays.
    const lock = JSON.parse(readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean; optional?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages).filter(([p, meta]) => p.startsWith('node_modules/') && meta.dev === true);
    assert.ok(
      devOnly.some(([p]) => p === 'node_modules/node'),
      'the lock marks the node package as dev-only',
    );
    for (const [p] of devOnly) assert.equal(existsSync(path.join(app, p)), false, `${p} (development only) is in the image`);
    for (const dev of ['node', 'typescript', 'mocha', 'tsx', 'nock']) {
      assert.equal(existsSync(path.join(app, 'node_modules', dev)), false, `devDependency ${dev} is in the image`);
    }
    for (const dep of Object.keys(pkg.dependencies))
      assert.ok(existsSync(path.join(app, 'node_modules', dep)), `dependency ${dep} is missing`);
    const before = snapshot(app);
    // ENTRYPOINT + CMD, with --help so it exits: every module must resolve from the production
    // node_modules, and nothing may be written next to the app (the root FS is read-only).
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '', NODE_ENV: 'production', HOME: app };
    const run = spawnSync(process.execPath, [pkg.bin.hcsync ?? '', 'run', '--help'], { cwd: app, env, encoding: 'utf8', timeout: 30_000 });
    const output = `${run.stdout}\n${run.stderr}`;
    assert.doesNotMatch(output, /ERR_MODULE_NOT_FOUND|Cannot find (package|module)/, output);
    assert.equal(run.status, 0, `node ${pkg.bin.hcsync} run --help exited ${run.status}: ${output}`);
    assert.deepEqual(snapshot(app), before, 'the app wrote into its own directory');
  });
});

function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(`${path.relative(dir, p)} ${statSync(p).mtimeMs}`);
    }
  };
  walk(dir);
  return out.sort();
}
