// A real Kubernetes control plane for tests and the demo: etcd + kube-apiserver on loopback.
//
// The flag set follows controller-runtime's envtest, plus a static token file whose admin is in
// system:masters, so no client certificates are needed. There is no controller-manager, scheduler
// or kubelet: namespaces never finish deleting, no default ServiceAccounts, Pods stay Pending
// unless a test writes their status. Binaries come from scripts/build-kube.sh.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { forgetOnExit, logTail, removeOnExit, spawnManaged, type ManagedProcess } from './child-process.js';
import { httpGet, freeLoopbackPort, sleep } from './loopback-http.js';
import { kubeBinaries } from './kube-binaries.js';
import { kubeconfigText } from './kubeconfig.js';

export interface ControlPlane {
  readonly server: string; // https://127.0.0.1:PORT
  readonly kubeconfigPath: string; // admin kubeconfig file (user in system:masters)
  kubeConfig(opts?: { impersonate?: string }): KubeConfig;
  /** `server` points the file elsewhere (a fault proxy in front of the API server, testbed/kube-proxy.ts). */
  writeKubeconfig(path: string, opts?: { impersonate?: string; server?: string }): void;
  /** The API server's self-signed serving certificate (with its CA) and key, for a proxy that serves as it. */
  servingKeyPair(): { certPem: string; keyPem: string; caPem: string };
  /**
   * Stops kube-apiserver (SIGTERM) and starts it again on the same port, etcd and certificates,
   * as a control-plane upgrade or crash does; resolves when /readyz is green again.
   */
  restartApiServer(opts?: { downMs?: number }): Promise<{ unavailableMs: number }>;
  /** Compacts etcd at its current revision (physical): older resourceVersions are gone for good. */
  compactEtcd(): Promise<number>;
  stop(): Promise<void>; // SIGTERM both, wait for exit, remove temp dir; idempotent
}

/** Both servers up, /readyz green and namespace `default` created, within this budget. */
const START_BUDGET_MS = 30_000;
/** After SIGTERM, how long a server may take to exit before it gets SIGKILL. */
const STOP_GRACE_MS = 10_000;
const ADMIN_USER = 'hcsync-admin';

export async function startControlPlane(opts?: { log?: (line: string) => void }): Promise<ControlPlane> {
  const log = opts?.log ?? (() => undefined);
  const binaries = kubeBinaries();
  // Free ports are picked, then released, then bound by the servers: another process can take
  // one in between. Rare, and a second attempt with new ports cures it.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(binaries, log);
    } catch (error) {
      if (attempt >= 2 || !(error instanceof Error) || !/address already in use/i.test(error.message)) throw error;
      log('control plane: a port was taken meanwhile, retrying with new ports');
    }
  }
}

async function startOnce(binaries: { apiserver: string; etcd: string }, log: (line: string) => void): Promise<ControlPlane> {
  const startedAt = Date.now();
  const deadline = startedAt + START_BUDGET_MS;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hcsync-testbed-'));
  removeOnExit(dir);
  const processes: ManagedProcess[] = [];
  try {
    const [etcdPort, peerPort, apiPort] = await Promise.all([freeLoopbackPort(), freeLoopbackPort(), freeLoopbackPort()]);
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const server = `https://127.0.0.1:${apiPort}`;
    const token = randomBytes(24).toString('hex');
    writeAuthFiles(dir, token);

    const etcd = spawnManaged('etcd', binaries.etcd, etcdArgs(dir, etcdUrl, peerPort), path.join(dir, 'etcd.log'));
    processes.push(etcd);
    await waitFor('etcd /health', deadline, processes, async () => {
      const response = await httpGet(`${etcdUrl}/health`);
      return response.status === 200;
    });

    const apiserver = spawnManaged(
      'kube-apiserver',
      binaries.apiserver,
      apiserverArgs(dir, etcdUrl, apiPort),
      path.join(dir, 'kube-apiserver.log'),
    );
    processes.push(apiserver);
    // The API server writes a self-signed serving certificate followed by its CA into --cert-dir.
    const caFile = path.join(dir, 'pki', 'apiserver.crt');
    await waitFor('serving certificate', deadline, processes, async () => Promise.resolve(existsSync(caFile)));
    const caPem = readFileSync(caFile, 'utf8');
    const authorized = { ca: caPem, headers: { Authorization: `Bearer ${token}` } };
    // With the token: anonymous /readyz can be 403 until the RBAC bootstrap roles exist.
    await waitFor('kube-apiserver /readyz', deadline, processes, async () => {
      const response = await httpGet(`${server}/readyz`, authorized);
      return response.status === 200;
    });
    await waitFor('namespace default', deadline, processes, async () => {
      const response = await httpGet(`${server}/api/v1/namespaces/default`, authorized);
      return response.status === 200;
    });
    log(`control plane: ready at ${server} in ${Date.now() - startedAt} ms (dir ${dir})`);
    const startApiServer = (): ManagedProcess =>
      spawnManaged('kube-apiserver', binaries.apiserver, apiserverArgs(dir, etcdUrl, apiPort), path.join(dir, 'kube-apiserver.log'));
    return makeControlPlane({ dir, server, caPem, token, processes, log, etcdUrl, startApiServer, authorized });
  } catch (error) {
    const tails = processes.map((p) => `--- ${p.name} log (${p.logPath}) ---\n${logTail(p.logPath)}`).join('\n');
    await Promise.all(processes.map((p) => p.terminate(STOP_GRACE_MS)));
    removeDir(dir);
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`control plane failed to start: ${reason}\n${tails}`, { cause: error });
  }
}

function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  forgetOnExit(dir);
}

function writeAuthFiles(dir: string, token: string): void {
  mkdirSync(path.join(dir, 'pki'));
  // CSV: token,user,uid,"groups". system:masters passes every authorization check and may
  // impersonate anyone, which is how tests act as the hcsync ServiceAccount.
  writeFileSync(path.join(dir, 'tokens.csv'), `${token},${ADMIN_USER},${ADMIN_USER},"system:masters"\n`, { mode: 0o600 });
  // One key serves both SA flags. SEC1 ("EC PRIVATE KEY") because the API server's public-key
  // reader parses EC private keys only in that encoding.
  const { privateKey } = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    privateKeyEncoding: { type: 'sec1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  writeFileSync(path.join(dir, 'sa.key'), privateKey, { mode: 0o600 });
}

function etcdArgs(dir: string, clientUrl: string, peerPort: number): string[] {
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  return [
    `--data-dir=${path.join(dir, 'etcd')}`,
    `--listen-client-urls=${clientUrl}`,
    `--advertise-client-urls=${clientUrl}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=default=${peerUrl}`,
    // A test bed's data is thrown away: fsync only costs time.
    '--unsafe-no-fsync=true',
    '--log-level=warn',
  ];
}

function apiserverArgs(dir: string, etcdUrl: string, port: number): string[] {
  const saKey = path.join(dir, 'sa.key');
  return [
    `--etcd-servers=${etcdUrl}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${port}`,
    `--cert-dir=${path.join(dir, 'pki')}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    `--service-account-issuer=https://127.0.0.1:${port}`,
    `--service-account-key-file=${saKey}`,
    `--service-account-signing-key-file=${saKey}`,
    `--token-auth-file=${path.join(dir, 'tokens.csv')}`,
    '--authorization-mode=RBAC',
    '--allow-privileged=true',
    // No controller-manager creates the `default` ServiceAccount this plugin would insist on.
    '--disable-admission-plugins=ServiceAccount',
    // Otherwise it keeps trying to publish 127.0.0.1 as the `kubernetes` Service endpoint.
    '--endpoint-reconciler-type=none',
  ];
}

async function waitFor(what: string, deadline: number, processes: readonly ManagedProcess[], check: () => Promise<boolean>): Promise<void> {
  let lastError: string;
  for (;;) {
    const dead = processes.find((p) => p.hasExited());
    if (dead !== undefined) throw new Error(`${dead.name} exited (${await dead.exited}) while waiting for ${what}`);
    try {
      if (await check()) return;
      lastError = '';
    } catch (error) {
      lastError = error instanceof Error ? `: ${error.message}` : '';
    }
    if (Date.now() >= deadline) throw new Error(`timed out after ${START_BUDGET_MS} ms waiting for ${what}${lastError}`);
    await sleep(100);
  }
}

function makeControlPlane(state: {
  dir: string;
  server: string;
  caPem: string;
  token: string;
  processes: ManagedProcess[];
  log: (line: string) => void;
  etcdUrl: string;
  startApiServer: () => ManagedProcess;
  authorized: { ca: string; headers: Record<string, string> };
}): ControlPlane {
  const { dir, server, caPem, token, processes, log, etcdUrl, startApiServer, authorized } = state;
  const text = (impersonate?: string, at = server): string =>
    kubeconfigText(impersonate === undefined ? { server: at, caPem, token } : { server: at, caPem, token, impersonate });
  const etcdPost = async (api: string, body: unknown): Promise<Record<string, unknown>> => {
    const response = await fetch(`${etcdUrl}${api}`, { method: 'POST', body: JSON.stringify(body) });
    const json = (await response.json()) as Record<string, unknown>;
    if (!response.ok) throw new Error(`etcd ${api}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  };
  const kubeconfigPath = path.join(dir, 'admin.kubeconfig');
  writeFileSync(kubeconfigPath, text(), { mode: 0o600 });
  let stopping: Promise<void> | undefined;

  return {
    server,
    kubeconfigPath,
    kubeConfig(opts) {
      const kc = new KubeConfig();
      kc.loadFromString(text(opts?.impersonate));
      return kc;
    },
    writeKubeconfig(file, opts) {
      writeFileSync(file, text(opts?.impersonate, opts?.server), { mode: 0o600 });
    },
    servingKeyPair() {
      return {
        certPem: readFileSync(path.join(dir, 'pki', 'apiserver.crt'), 'utf8'),
        keyPem: readFileSync(path.join(dir, 'pki', 'apiserver.key'), 'utf8'),
        caPem,
      };
    },
    async restartApiServer(opts) {
      const index = processes.findIndex((p) => p.name === 'kube-apiserver');
      const old = processes[index];
      if (old === undefined) throw new Error('no kube-apiserver to restart');
      const downAt = Date.now();
      await old.terminate(STOP_GRACE_MS);
      if (opts?.downMs) await sleep(opts.downMs);
      // The cert dir already holds the serving certificate: the new process loads it, so clients keep trusting it.
      const next = startApiServer();
      processes[index] = next;
      await waitFor('kube-apiserver /readyz after restart', Date.now() + START_BUDGET_MS, processes, async () => {
        const response = await httpGet(`${server}/readyz`, authorized);
        return response.status === 200;
      });
      const unavailableMs = Date.now() - downAt;
      log(`control plane: kube-apiserver restarted, unavailable for ${unavailableMs} ms`);
      return { unavailableMs };
    },
    async compactEtcd() {
      // The gRPC gateway of etcd v3: range on any key returns the header with the current revision.
      const range = await etcdPost('/v3/kv/range', { key: Buffer.from('/').toString('base64') });
      const revision = Number((range['header'] as { revision?: string } | undefined)?.revision ?? 0);
      await etcdPost('/v3/kv/compaction', { revision: String(revision), physical: true });
      log(`control plane: etcd compacted at revision ${revision}`);
      return revision;
    },
    stop() {
      stopping ??= (async () => {
        const stopStartedAt = Date.now();
        // API server first: it would otherwise log etcd errors while shutting down.
        for (const p of [...processes].reverse()) await p.terminate(STOP_GRACE_MS);
        removeDir(dir);
        log(`control plane: stopped in ${Date.now() - stopStartedAt} ms`);
      })();
      return stopping;
    },
  };
}
