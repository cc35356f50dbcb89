// The container image itself: ./Dockerfile built for real by buildah (scripts/build-images.sh, on
// local bases made from Debian's packages and npm: see that script), then inspected and run.
// There is no Docker engine here, and the sandbox refuses a container runtime (`buildah run
// --isolation oci` → crun: "cgroups in hybrid mode not supported, drop all controllers from
// cgroupv2"). So the image runs as buildah's chroot isolation runs it (`buildah run --isolation
// chroot`), and for the end-to-end test through scripts/run-image.sh: the image's own files
// (`buildah mount`), bind-mounted read-only, a writable /tmp only, uid/gid 65532, chrooted — the
// shipped securityContext without the runtime. Nothing here runs dist/ from the work tree.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HealthChecksClient } from '@google-cloud/compute';
import { REPO_ROOT, HcsyncProcess, TestBed, httpGet, until } from '../../testbed/bed.js';
import { computeClientOptions } from '../../testbed/compute/index.js';
import { freeLoopbackPort } from '../../testbed/loopback-http.js';
import { parseAllDocuments } from 'yaml';

interface ImageConfig {
  User?: string;
  Entrypoint?: string[];
  Cmd?: string[];
  WorkingDir?: string;
  Env?: string[];
}

const buildah = (...args: string[]): string =>
  execFileSync('buildah', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/** Whether PATH exists in the image, without following symlinks out of it. */
function inImage(root: string, p: string): boolean {
  try {
    lstatSync(path.join(root, p));
    return true;
  } catch {
    return false;
  }
}

/** Every path in the image (relative), symlinks not followed. */
function walk(root: string): string[] {
  const out: string[] = [];
  const go = (rel: string): void => {
    for (const e of readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const p = rel === '' ? e.name : `${rel}/${e.name}`;
      if (rel === '' && ['proc', 'dev', 'sys'].includes(e.name)) continue; // mount points
      out.push(p);
      if (e.isDirectory()) go(p);
    }
  };
  go('');
  return out;
}

function dockerfileExecForm(op: string): string[] {
  const line = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith(`${op} `))
    .at(-1);
  assert.ok(line, `Dockerfile has ${op}`);
  return JSON.parse(line.slice(op.length + 1)) as string[];
}

describe('container image (built by buildah from ./Dockerfile)', function () {
  this.timeout(120_000);
  let image: string;
  let config: ImageConfig;
  let container: string;
  let root: string;

  before(function () {
    // Cold: Debian rootfs, both bases and the image, a few minutes; warm: hashes and one inspect.
    this.timeout(25 * 60_000);
    image = execFileSync('bash', [path.join(REPO_ROOT, 'scripts/build-images.sh')], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }).trim();
    config = (JSON.parse(buildah('inspect', '--type', 'image', image)) as { OCIv1: { config: ImageConfig } }).OCIv1.config;
    container = buildah('from', '--pull=never', '--quiet', '--name', `hcsync-image-test-${process.pid}`, image);
    root = buildah('mount', container);
    // The mount points a runtime creates in the container (not in the image).
    for (const d of ['proc', 'dev', 'sys']) mkdirSync(path.join(root, d), { recursive: true });
  });

  after(() => {
    if (container) spawnSync('buildah', ['rm', container], { stdio: 'ignore' });
  });

  it('runs as 65532:65532, with the Dockerfile ENTRYPOINT, CMD and WORKDIR', () => {
    assert.equal(config.User, '65532:65532');
    assert.deepEqual(config.Entrypoint, dockerfileExecForm('ENTRYPOINT'));
    assert.deepEqual(config.Entrypoint, ['node', 'dist/cli/main.js']);
    assert.deepEqual(config.Cmd, ['run']);
    assert.equal(config.WorkingDir, '/app');
    assert.ok(
      config.Env?.some((e) => e.startsWith('PATH=/nodejs/bin:')),
      String(config.Env),
    );
    const passwd = readFileSync(path.join(root, 'etc/passwd'), 'utf8');
    assert.match(passwd, /^nonroot:x:65532:65532:/m);
  });

  it('contains no shell and no package manager', () => {
    for (const p of ['bin/sh', 'bin/bash', 'bin/dash', 'usr/bin/sh', 'usr/bin/bash', 'usr/bin/dash', 'bin/busybox', 'usr/bin/env']) {
      assert.equal(inImage(root, p), false, `/${p} is in the image`);
    }
    const names = /^(sh|bash|dash|ash|zsh|busybox|apt|apt-get|dpkg|rpm|npm|npx|yarn|pnpm|corepack|npm-cli\.js)$/;
    const found = walk(root).filter((p) => names.test(path.basename(p)));
    assert.deepEqual(found, []);
    for (const p of ['var/lib/dpkg', 'usr/lib/node_modules', 'usr/local/lib/node_modules', 'nodejs/lib/node_modules']) {
      assert.equal(inImage(root, p), false, `/${p} is in the image`);
    }
  });

  it('contains no test bed (dist/testbed)', () => {
    // The test bed lives in testbed/, outside src/: it must never ship in the image.
    assert.equal(inImage(root, 'app/dist/cli/main.js'), true);
    assert.equal(inImage(root, 'app/dist/testbed'), false, 'dist/testbed is in the image');
  });

  it('ships production dependencies only: no dev-only package of the lock file', () => {
    const lock = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages).filter(([p, meta]) => p.startsWith('node_modules/') && meta.dev === true);
    assert.ok(
      devOnly.some(([p]) => p === 'node_modules/node'),
      'the lock marks the node package as dev-only',
    );
    const present = devOnly.filter(([p]) => inImage(root, `app/${p}`)).map(([p]) => p);
    assert.deepEqual(present, []);
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    for (const dep of Object.keys(pkg.dependencies))
      assert.ok(inImage(root, `app/node_modules/${dep}/package.json`), `dependency ${dep} missing`);
  });

  it('`hcsync --help` works from its entrypoint (buildah run --isolation chroot, as 65532)', () => {
    const run = spawnSync(
      'buildah',
      ['run', '--isolation', 'chroot', '--user', config.User ?? '', container, '--', ...(config.Entrypoint ?? []), '--help'],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^hcsync — keeps GKE Ingress health checks/);
    assert.match(run.stdout, /hcsync run/);
  });

  describe('end to end: the image’s `hcsync run`, read-only root, uid 65532, against the test bed', function () {
    this.timeout(180_000);
    const NS = 'production';
    const SVC = 'spacejam-np-service';
    let bed: TestBed;
    let hcs: HealthChecksClient;
    let lb: string;
    let tmp: string;
    let hcsync: HcsyncProcess;
    const check = () => bed.checkName(NS, SVC, 8000);
    const livePath = async () => (await hcs.get({ project: bed.project, healthCheck: check() }))[0].httpHealthCheck?.requestPath;

    before(async () => {
      bed = await TestBed.start();
      hcs = new HealthChecksClient(computeClientOptions(bed.compute.endpoint));
      await bed.deployBlogApp(NS, { service: SVC, ingress: 'sample-ingress', ip: '127.0.0.10' });
      await bed.gke.start();
      lb = await bed.loadBalancer(NS, 'sample-ingress');
      // The Pod's emptyDir on /tmp: the only writable place, where the kubeconfig goes.
      tmp = mkdtempSync(path.join(os.tmpdir(), 'hcsync-image-tmp-'));
      chmodSync(tmp, 0o1777);
    });

    after(async () => {
      await hcs?.close();
      await bed?.stop();
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    });

    it('before hcsync: the check probes / and the load balancer answers 502', async () => {
      assert.equal(await livePath(), '/');
      await until('a 502', async () => ((await httpGet(`http://${lb}/`)).status === 502 ? true : undefined), 30_000);
    });

    it('the image’s hcsync (shipped RBAC) patches the check to /health-check; the load balancer answers 200', async () => {
      copyFileSync(await bed.hcsyncKubeconfig(), path.join(tmp, 'kubeconfig'));
      chmodSync(path.join(tmp, 'kubeconfig'), 0o444);
      const metricsPort = await freeLoopbackPort();
      const healthPort = await freeLoopbackPort();
      const flags = ['--kubeconfig', '/tmp/kubeconfig', '--project', bed.project, '--gcp-api-endpoint', bed.compute.endpoint];
      flags.push('--metrics-addr', `127.0.0.1:${metricsPort}`, '--health-addr', `127.0.0.1:${healthPort}`, '--resync', '5s');
      // The image’s environment, plus what the Deployment sets (NODE_OPTIONS, the MALLOC_ settings) and
      // what the test bed gives every hcsync (no GCE metadata server probe).
      const env = [...(config.Env ?? []), ...Object.entries(shippedEnv()).map(([k, v]) => `${k}=${v}`), 'METADATA_SERVER_DETECTION=none'];
      const child = spawn(
        'bash',
        [
          path.join(REPO_ROOT, 'scripts/run-image.sh'),
          '-u',
          config.User ?? '',
          '-w',
          config.WorkingDir ?? '/',
          ...env.flatMap((e) => ['-e', e]),
          root,
          tmp,
          '--',
          ...(config.Entrypoint ?? []),
          ...(config.Cmd ?? []),
          ...flags,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      hcsync = new HcsyncProcess(child, `http://127.0.0.1:${metricsPort}`, `http://127.0.0.1:${healthPort}`);
      await until('hcsync ready', async () => ((await hcsync.ready()) ? true : undefined), 60_000).catch((e: unknown) => {
        throw new Error(`${String(e)}\n${hcsync.lines.join('\n')}`);
      });
      await until('check patched', async () => ((await livePath()) === '/health-check' ? true : undefined), 30_000);
      await until(
        'a 200 through the load balancer',
        async () => ((await httpGet(`http://${lb}/health-check`)).status === 200 ? true : undefined),
        30_000,
      );
      const c = await until('condition', () => bed.serviceCondition(NS, SVC));
      assert.equal(c.reason, 'Patched');
      assert.match(c.message, /requestPath "\/" → "\/health-check" \(from livenessProbe\)/);
      assert.equal(await hcsync.metric('hcsync_health_check_drift', { namespace: NS, service: SVC }), 0);
      assert.deepEqual(
        hcsync.lines.filter((l) => /forbidden|\b403\b|EROFS|EACCES/i.test(l)),
        [],
      );
    });

    it('the process is the image’s node, as 65532, on a read-only root; idle RSS', async () => {
      const pid = hcsync.pid;
      assert.ok(pid);
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      assert.match(status, /^Uid:\s+65532\s+65532\s+65532\s+65532$/m);
      assert.match(status, /^Gid:\s+65532\s+65532\s+65532\s+65532$/m);
      assert.equal(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0], 'node');
      const rootMount = readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
        .split('\n')
        .map((l) => l.split(' '))
        .find((f) => f[4] === '/');
      assert.ok(rootMount, 'a mount at /');
      assert.ok(rootMount[5]?.split(',').includes('ro'), `root mounted ${rootMount[5]}`);
      // The image's files: its node binary, not the work tree's.
      const exe = statSync(`/proc/${pid}/exe`);
      const imageNode = statSync(path.join(root, 'nodejs/bin/node'));
      assert.deepEqual([exe.dev, exe.ino], [imageNode.dev, imageNode.ino], 'the process runs /nodejs/bin/node of the image');
      // Idle: converged, two quiet resyncs (5 s each).
      await new Promise((r) => setTimeout(r, 11_000));
      const rss = Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
      const heap = await hcsync.metric('nodejs_heap_size_used_bytes');
      console.log(
        `      image hcsync idle: VmRSS ${(rss / 1024).toFixed(1)} MiB${heap ? `, V8 heap used ${(heap / 2 ** 20).toFixed(1)} MiB` : ''}`,
      );
      assert.ok(rss > 0 && rss < 448 * 1024, `RSS ${rss} kB within the Deployment's 448Mi limit`);
    });

    it('SIGTERM: exits 0, and wrote nothing but /tmp', async () => {
      assert.equal(await hcsync.stop(), 0);
      assert.deepEqual(readdirSync(tmp), ['kubeconfig']);
    });
  });
});

/** The literal env of the shipped Deployment's container (deploy/base/deployment.yaml): NODE_OPTIONS, MALLOC_ARENA_MAX, MALLOC_MMAP_THRESHOLD_. */
function shippedEnv(): Record<string, string> {
  for (const doc of parseAllDocuments(readFileSync(path.join(REPO_ROOT, 'deploy/base/deployment.yaml'), 'utf8'))) {
    const d = doc.toJS() as {
      kind?: string;
      spec?: { template?: { spec?: { containers?: { env?: { name: string; value?: string }[] }[] } } };
    };
    const env = d.kind === 'Deployment' ? d.spec?.template?.spec?.containers?.[0]?.env : undefined;
    if (env) return Object.fromEntries(env.flatMap((e) => (e.value === undefined ? [] : [[e.name, e.value]])));
  }
  throw new Error('no Deployment in deploy/base/deployment.yaml');
}
