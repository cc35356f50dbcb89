// Paths to the packaging tools that scripts/build-tools.sh builds into .cache/tools/, and small
// helpers to run them. A missing tool fails the test with the command that builds it: these tests
// are the proof that the manifests work, so they never skip silently.
import { execFileSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const toolsDir = path.join(repoRoot, '.cache', 'tools');

export type ToolName = 'kustomize' | 'helm' | 'promtool' | 'controller-gen' | 'dockerfile-lint';

function tool(name: ToolName): string {
  const file = path.join(toolsDir, name);
  try {
    accessSync(file, constants.X_OK);
  } catch {
    throw new Error(`${file} is missing: run \`bash scripts/build-tools.sh\` (part of npm test's pretest)`);
  }
  return file;
}

/** Runs a tool and returns its stdout; on failure the error carries stdout and stderr. */
export function runTool(name: ToolName, args: readonly string[], opts: { cwd?: string } = {}): string {
  try {
    return execFileSync(tool(name), args, {
      cwd: opts.cwd ?? repoRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${name} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`, { cause: err });
  }
}

/** A Kubernetes object as plain JSON (what the API server receives). */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export function parseObjects(text: string): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`YAML error: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJS({ maxAliasCount: -1 });
    if (value === null || value === undefined) continue;
    if (!isKubeObject(value)) throw new Error(`not a Kubernetes object: ${JSON.stringify(value).slice(0, 200)}`);
    objects.push(value);
  }
  return objects;
}

export function readObjects(file: string): KubeObject[] {
  return parseObjects(readFileSync(path.resolve(repoRoot, file), 'utf8'));
}

function isKubeObject(value: unknown): value is KubeObject {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const metadata = v.metadata as Record<string, unknown> | undefined;
  return typeof v.apiVersion === 'string' && typeof v.kind === 'string' && typeof metadata?.name === 'string';
}

export function kustomizeBuild(dir: string): KubeObject[] {
  return parseObjects(runTool('kustomize', ['build', dir]));
}

export function helmTemplate(sets: readonly string[] = [], namespace = 'hcsync-system', release = 'hcsync'): KubeObject[] {
  const args = ['template', release, 'deploy/helm/hcsync', '--namespace', namespace];
  for (const s of sets) args.push('--set', s);
  return parseObjects(runTool('helm', args));
}

export function objectKey(o: KubeObject): string {
  return `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}
