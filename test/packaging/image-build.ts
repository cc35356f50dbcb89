// The image's build, reproduced on disk without a Docker engine (there is none here), for the
// packaging tests: the build context exactly as .dockerignore admits it, compiled as the build
// stage does (`npm run build`: tsc -p tsconfig.build.json, then the client-node bundle, with all dependencies), and the final
// stage's files — package.json, the deps stage's production-only `npm ci`, the compiled dist/.
// Assembled once per test run (mocha runs every file in one process) and removed on exit.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../support/packaging-tools.js';

export function dockerignorePatterns(): string[] {
  return readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** One path segment of a .dockerignore glob as a regular expression source (`*`, `?`). */
function segmentSource(seg: string): string {
  return seg
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
}

function globMatches(glob: string, file: string): boolean {
  const re = new RegExp(
    '^' +
      glob
        .split('/')
        .map((seg) => (seg === '**' ? '.*' : segmentSource(seg)))
        .join('/')
        .replace(/\/\.\*$/, '(/.*)?') +
      '$',
  );
  // As Docker's pattern matcher: a pattern that matches a parent directory matches the file too.
  const segs = file.split('/');
  return segs.some((_, i) => re.test(segs.slice(0, i + 1).join('/')));
}

/** Docker's .dockerignore semantics: the last matching pattern wins, `!` re-includes. */
export function dockerignored(patterns: readonly string[], file: string): boolean {
  let ignored = false;
  for (const p of patterns) {
    const negate = p.startsWith('!');
    if (globMatches(negate ? p.slice(1) : p, file)) ignored = !negate;
  }
  return ignored;
}

/** Whether some `!` pattern could re-include a path below `dir` (else an ignored dir is skipped, as Docker does). */
function mayAdmitBelow(patterns: readonly string[], dir: string): boolean {
  const dirSegs = dir.split('/');
  return patterns
    .filter((p) => p.startsWith('!'))
    .some((p) => {
      const patSegs = p.slice(1).split('/');
      for (const [i, d] of dirSegs.entries()) {
        const ps = patSegs[i];
        if (ps === undefined || ps === '**') return true; // matched a parent of dir, or anything below
        if (!new RegExp(`^${segmentSource(ps)}$`).test(d)) return false;
      }
      return true;
    });
}

/**
 * The files `docker build .` sends from this checkout: repository-relative paths that
 * .dockerignore admits (symlinks are sent as links, never followed), sorted.
 */
export function buildContextFiles(patterns: readonly string[] = dockerignorePatterns()): string[] {
  const files: string[] = [];
  const walk = (rel: string): void => {
    for (const e of readdirSync(path.join(repoRoot, rel), { withFileTypes: true })) {
      const p = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) {
        if (!dockerignored(patterns, p) || mayAdmitBelow(patterns, p)) walk(p);
      } else if (!dockerignored(patterns, p)) {
        files.push(p);
      }
    }
  };
  walk('');
  return files.sort();
}

export interface ImageBuild {
  /** The build context as sent (files only), compiled: `dist/` beside it is the build stage's output. */
  readonly context: string;
  /** Repository-relative paths of the context's files. */
  readonly contextFiles: readonly string[];
  /** The final stage's files: package.json, node_modules (`npm ci --omit=dev`), dist/. */
  readonly app: string;
}

let built: ImageBuild | undefined;

/** Assembles the image's build and final stage once per process (about 40 s: npm ci + tsc). */
export function imageBuild(): ImageBuild {
  if (built) return built;
  const root = mkdtempSync(path.join(os.tmpdir(), 'hcsync-image-'));
  process.once('exit', () => rmSync(root, { recursive: true, force: true }));
  // build stage: only what the context sends, plus all dependencies, then `npm run build`.
  const context = path.join(root, 'context');
  const contextFiles = buildContextFiles();
  for (const f of contextFiles) {
    mkdirSync(path.dirname(path.join(context, f)), { recursive: true });
    cpSync(path.join(repoRoot, f), path.join(context, f), { verbatimSymlinks: true });
  }
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(context, 'node_modules'), 'dir');
  execFileSync(process.execPath, [path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
    cwd: context,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // …and its second step, the client-node bundle (package.json "build").
  execFileSync(process.execPath, ['scripts/bundle-client-node.ts'], { cwd: context, stdio: ['ignore', 'pipe', 'pipe'] });
  rmSync(path.join(context, 'node_modules'));
  // deps stage: the same npm ci command, from the lock file (npm's cache, else the registry).
  const app = path.join(root, 'app');
  mkdirSync(app);
  cpSync(path.join(repoRoot, 'package.json'), path.join(app, 'package.json'));
  cpSync(path.join(repoRoot, 'package-lock.json'), path.join(app, 'package-lock.json'));
  const npm = path.join(repoRoot, 'node_modules', '.bin', 'npm');
  execFileSync(existsSync(npm) ? npm : 'npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], {
    cwd: app,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}` },
  });
  rmSync(path.join(app, 'package-lock.json'));
  // final stage: COPY --from=build /src/dist ./dist
  cpSync(path.join(context, 'dist'), path.join(app, 'dist'), { recursive: true });
  built = { context, contextFiles, app };
  return built;
}

/** Every file below `dir`, relative to it, sorted. */
export function filesBelow(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const p = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory())
        walk(p); // a symlink is listed, not followed
      else out.push(p);
    }
  };
  walk('');
  return out.sort();
}
