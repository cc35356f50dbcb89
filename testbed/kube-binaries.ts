// Where scripts/build-kube.sh puts kube-apiserver and etcd. The directory name must match the
// script's: .cache/kube/<k8s.io/kubernetes version>-<first 12 hex of sha256(go.mod + go.sum)>.
import { createHash } from 'node:crypto';
import { accessSync, constants, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// testbed/ sits directly below the repository root (the test bed runs from source, with tsx).
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const wrapperModuleDir = path.join(repoRoot, 'test', 'kube');

function kubeBinaryDir(): string {
  const goMod = readFileSync(path.join(wrapperModuleDir, 'go.mod'));
  const goSum = readFileSync(path.join(wrapperModuleDir, 'go.sum'));
  const version = /^\s*k8s\.io\/kubernetes (v[0-9][^\s]*)/m.exec(goMod.toString('utf8'))?.[1];
  if (version === undefined) {
    throw new Error(`no k8s.io/kubernetes version in ${path.join(wrapperModuleDir, 'go.mod')}`);
  }
  const hash = createHash('sha256').update(goMod).update(goSum).digest('hex').slice(0, 12);
  return path.join(repoRoot, '.cache', 'kube', `${version}-${hash}`);
}

export function kubeBinaries(): { apiserver: string; etcd: string } {
  const dir = kubeBinaryDir();
  const binaries = { apiserver: path.join(dir, 'kube-apiserver'), etcd: path.join(dir, 'etcd') };
  for (const file of Object.values(binaries)) {
    try {
      accessSync(file, constants.X_OK);
    } catch {
      throw new Error(
        `test bed binary missing: ${file}. Build kube-apiserver and etcd with \`npm run testbed:build\` ` +
          '(needs Go 1.26; the first build takes about 6 minutes).',
      );
    }
  }
  return binaries;
}
