// The scale benchmark (issue 11): the built `hcsync run`, as its own process under the shipped Node
// options, against the real kube-apiserver holding S Services, S Ingresses and 3S Pods, and the
// Compute stand-in serving S drifted ingress-gce checks (+ their backend services) and 1,000
// unrelated checks. Prints one markdown table (and --json FILE) with every figure of issue 11:
// RSS peak/steady, heap used, time to converge vs the quota bound S/qps, patches per check,
// GCP requests by kind, CPU per steady resync, event → PATCH p50/p99, RSS per cached object.
//
//   npm run build && npm run bench:scale -- --services 500 [--op-latency-ms 2000] [--json out.json]
//
// Phases: (1) the empty-cluster floor: hcsync against the bed with nothing loaded; (2) load the
// objects with bounded concurrency; (3) seed the Compute stand-in; (4) hcsync converges; (5) the
// "after" window (patches that should not happen); (6) the first resync after convergence, with nothing to do;
// (7) event → PATCH on --event-services Services. Everything started is stopped, even on failure.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT, TestBed, until, type HcsyncProcess } from '../testbed/bed.js';
import type { RequestRecord } from '../testbed/compute/index.js';

// ---- parameters ---------------------------------------------------------------------------------

const USAGE = `npm run bench:scale -- [options]   (run \`npm run build\` first: it runs dist/cli/main.js)
  --services N            Services (and Ingresses; 3N Pods) to load (default 5000)
  --namespaces N          namespaces the Services are spread over (default 10)
  --op-latency-ms MS      time from a write to its Operation being DONE in the stand-in (default 0)
  --gcp-write-qps N       passed to hcsync run --gcp-write-qps (default 25)
  --write-quota N         stand-in write quota per second, 403 rateLimitExceeded beyond (default: none)
  --resync D              passed to hcsync run --resync (default: the shipped Deployment's, 5m; the
                          bench waits for the first resync after convergence to measure its CPU)
  --after-s N             the window after convergence in which patches are counted again (default 60)
  --event-services N      Services whose annotation path is changed for event → PATCH (default 100)
  --node-options S        NODE_OPTIONS for hcsync (default: the one in deploy/base/deployment.yaml; "" for none)
  --load-concurrency N    API requests in flight while loading (default 48)
  --converge-timeout-s N  give up converging after N s (default: 600 + 3 × S/qps)
  --converge-only         stop after convergence (skip the after window, the steady resync and event → PATCH; --variants still run)
  --hcsync-log FILE       write hcsync's log lines (JSON, one a line) to FILE at the end
  --variants JSON         after the run, start hcsync again on the converged bed once per variant,
                          e.g. '[{"name":"semi 2","nodeOptions":"--max-old-space-size=224 --max-semi-space-size=2"},
                          {"name":"arena 1","env":{"MALLOC_ARENA_MAX":"1"}}]' ("main": another build's main.js), and measure its steady state only:
                          RSS median/max and CPU per steady resync over --variant-minutes (nothing to patch)
  --variant-minutes N     how long each variant runs after it is ready (default 5)
  --json FILE             also write the result as JSON`;

const { values: flags } = parseArgs({
  options: {
    services: { type: 'string', default: '5000' },
    namespaces: { type: 'string', default: '10' },
    'op-latency-ms': { type: 'string', default: '0' },
    'gcp-write-qps': { type: 'string', default: '25' },
    'write-quota': { type: 'string' },
    resync: { type: 'string' },
    'after-s': { type: 'string', default: '60' },
    'event-services': { type: 'string', default: '100' },
    'node-options': { type: 'string' },
    'load-concurrency': { type: 'string', default: '48' },
    'converge-timeout-s': { type: 'string' },
    json: { type: 'string' },
    'converge-only': { type: 'boolean', default: false },
    'hcsync-log': { type: 'string' },
    variants: { type: 'string' },
    'variant-minutes': { type: 'string', default: '5' },
    help: { type: 'boolean', short: 'h' },
  },
  strict: true,
});
if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}

function num(flag: string, raw: string | undefined, min: number): number {
  const n = Number(raw);
  if (raw === undefined || !Number.isFinite(n) || n < min) {
    console.error(`--${flag}: "${raw}" is not a number of at least ${min}\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

interface ShippedContainer {
  name?: string;
  args?: string[];
  env?: { name: string; value?: string }[];
  resources?: { limits?: { memory?: string } };
}

/** The hcsync container of the shipped kustomize Deployment: the bench runs hcsync with its NODE_OPTIONS and compares with its memory limit. */
function shippedContainer(): ShippedContainer {
  for (const doc of parseAllDocuments(readFileSync(join(REPO_ROOT, 'deploy/base/deployment.yaml'), 'utf8'))) {
    const d = doc.toJS() as { kind?: string; spec?: { template?: { spec?: { containers?: ShippedContainer[] } } } } | null;
    const c = d?.kind === 'Deployment' ? d.spec?.template?.spec?.containers?.[0] : undefined;
    if (c) return c;
  }
  return {};
}

/** A Kubernetes quantity such as 512Mi or 1Gi in MiB (NaN for forms the bench does not need). */
function quantityMiB(q: string | undefined): number {
  const m = /^(\d+)(Mi|Gi)$/.exec(q ?? '');
  return m ? Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1) : NaN;
}

const shipped = shippedContainer();

/** A variant of hcsync's NODE_OPTIONS and env, measured at steady state after the run (--variants). */
interface Variant {
  name: string;
  nodeOptions?: string;
  env?: Record<string, string>;
  /** Another build's dist/cli/main.js (an A/B of code rather than flags). */
  main?: string;
}

function parseVariants(raw: string | undefined): Variant[] {
  if (raw === undefined) return [];
  try {
    const v = JSON.parse(raw) as Variant[];
    if (Array.isArray(v) && v.every((x) => typeof x.name === 'string')) return v;
  } catch {
    // reported below
  }
  console.error(`--variants: not a JSON array of {name, nodeOptions?, env?}\n${USAGE}`);
  process.exit(2);
}

const S = num('services', flags.services, 1);
const params = {
  services: S,
  ingresses: S,
  pods: 3 * S,
  namespaces: Math.min(S, num('namespaces', flags.namespaces, 1)),
  unrelatedChecks: 1000,
  opLatencyMs: num('op-latency-ms', flags['op-latency-ms'], 0),
  gcpWriteQps: num('gcp-write-qps', flags['gcp-write-qps'], 0.001),
  writeQuotaPerSecond: flags['write-quota'] === undefined ? null : num('write-quota', flags['write-quota'], 1),
  resync: flags.resync ?? shipped.args?.find((a) => a.startsWith('--resync='))?.slice('--resync='.length) ?? '5m',
  afterS: num('after-s', flags['after-s'], 0),
  eventServices: Math.min(S, num('event-services', flags['event-services'], 0)),
  nodeOptions: flags['node-options'] ?? shipped.env?.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '',
  deploymentMemoryLimitMiB: quantityMiB(shipped.resources?.limits?.memory),
  nodeOptionsSource: flags['node-options'] === undefined ? 'deploy/base/deployment.yaml' : '--node-options',
  /** The shipped container’s other literal env (MALLOC_ARENA_MAX, MALLOC_MMAP_THRESHOLD_): hcsync runs with it, as in the Deployment. */
  shippedEnv: Object.fromEntries(
    (shipped.env ?? []).flatMap((e) => (e.value !== undefined && e.name !== 'NODE_OPTIONS' ? [[e.name, e.value]] : [])),
  ) as Record<string, string>,
  loadConcurrency: num('load-concurrency', flags['load-concurrency'], 1),
  convergeTimeoutS: 0,
  variants: parseVariants(flags.variants),
  variantMinutes: num('variant-minutes', flags['variant-minutes'], 0.5),
};
/** --resync in ms, for how long to wait for one (a number and a unit, as hcsync parses it). */
const resyncMs = ((): number => {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(params.resync);
  if (!m) {
    console.error(`--resync: "${params.resync}" is not a duration such as 30s or 5m`);
    process.exit(2);
  }
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
})();
params.convergeTimeoutS = num(
  'converge-timeout-s',
  flags['converge-timeout-s'] ?? String(Math.round(600 + (3 * S) / params.gcpWriteQps)),
  1,
);

// ---- the objects --------------------------------------------------------------------------------

const READY_PATH = '/ready';
const READY_PERIOD = 10;
const READY_TIMEOUT = 2;
const nsOf = (i: number): string => `bench-${i % params.namespaces}`;
const svcOf = (i: number): string => `svc-${i}`;

const podName = (i: number, k: number): string => `${svcOf(i)}-7c9f8d6b5-${k}x`;

function podBody(i: number, k: number): V1Pod {
  const svc = svcOf(i);
  return {
    metadata: {
      name: podName(i, k),
      labels: { app: svc, 'pod-template-hash': '7c9f8d6b5' },
      annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-29T10:00:00Z' },
    },
    spec: {
      containers: [
        {
          name: 'app',
          image: 'us-docker.pkg.dev/example/app/web:1.2.3',
          ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
          env: Array.from({ length: 5 }, (_, n) => ({ name: `ENV_${n}`, value: `value-${n}` })),
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
          readinessProbe: { httpGet: { path: READY_PATH, port: 'http' }, periodSeconds: READY_PERIOD, timeoutSeconds: READY_TIMEOUT },
          livenessProbe: { httpGet: { path: '/live', port: 'http' }, periodSeconds: 20 },
        },
      ],
    },
  };
}

/** A kubelet's status: Running and Ready with an IP (hcsync counts any Pod not terminating and not finished). */
function podStatus(i: number, k: number): object {
  const n = i * 3 + k;
  const ip = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
  const at = '2026-11-29T10:00:05Z';
  return {
    status: {
      phase: 'Running',
      podIP: ip,
      podIPs: [{ ip }],
      hostIP: '10.128.0.2',
      startTime: at,
      conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({
        type,
        status: 'True',
        lastTransitionTime: at,
      })),
      containerStatuses: [
        {
          name: 'app',
          ready: true,
          started: true,
          restartCount: 0,
          image: 'us-docker.pkg.dev/example/app/web:1.2.3',
          imageID: `us-docker.pkg.dev/example/app/web@sha256:${'a'.repeat(64)}`,
          containerID: `containerd://${'b'.repeat(64)}`,
          state: { running: { startedAt: at } },
        },
      ],
    },
  };
}

/** Runs fn(0..n-1) with at most `concurrency` in flight; the first error stops new work and is thrown. */
async function pool(n: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async (): Promise<void> => {
    while (failed === undefined && next < n) {
      const i = next++;
      try {
        await fn(i);
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, worker));
  if (failed !== undefined) throw failed instanceof Error ? failed : new Error(JSON.stringify(failed));
}

/**
 * Writes to the API server over one keep-alive HTTPS agent. client-node's agent does not keep
 * connections alive, so each of its requests pays a TLS handshake: measured here (2 cores) 60
 * creates/s at 48 in flight, against 750/s with keep-alive — 25,000 objects would take 11 min.
 */
class ApiWriter {
  private readonly agent: https.Agent;
  private readonly url: URL;
  private readonly token: string;

  constructor(kc: KubeConfig, maxSockets: number) {
    const cluster = kc.getCurrentCluster();
    const token = kc.getCurrentUser()?.token;
    if (!cluster?.caData || token === undefined) throw new Error('the admin kubeconfig has no CA data or token');
    this.url = new URL(cluster.server);
    this.token = token;
    this.agent = new https.Agent({ keepAlive: true, maxSockets, ca: Buffer.from(cluster.caData, 'base64') });
  }

  request(method: 'POST' | 'PATCH', path: string, body: object): Promise<void> {
    const data = JSON.stringify(body);
    const contentType = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: this.url.hostname,
          port: this.url.port,
          path,
          method,
          agent: this.agent,
          headers: { authorization: `Bearer ${this.token}`, 'content-type': contentType, 'content-length': Buffer.byteLength(data) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => {
            const code = res.statusCode ?? 0;
            if (code >= 200 && code < 300) resolve();
            else reject(new Error(`${method} ${path}: HTTP ${code} ${text.slice(0, 300)}`));
          });
        },
      );
      req.on('error', reject);
      req.end(data);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

async function load(bed: TestBed, api: ApiWriter): Promise<{ seconds: number; createSeconds: number; requests: number }> {
  const started = Date.now();
  for (let n = 0; n < params.namespaces; n++) await bed.ensureNamespace(`bench-${n}`);
  // Creates first (Service, Ingress, 3 Pods per Service), then the Pods' status (a kubelet's write).
  const creates = async (i: number, k: number): Promise<void> => {
    const namespace = nsOf(i);
    const svc = svcOf(i);
    const check = bed.checkName(namespace, svc, 80);
    if (k === 0) {
      await api.request('POST', `/api/v1/namespaces/${namespace}/services`, {
        metadata: { name: svc, annotations: { 'cloud.google.com/neg': '{"ingress":true}' } },
        spec: { clusterIP: 'None', selector: { app: svc }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
      });
    } else if (k === 1) {
      await api.request('POST', `/apis/networking.k8s.io/v1/namespaces/${namespace}/ingresses`, {
        // What ingress-gce writes once synced: the backend's name (= its check's name) and health.
        metadata: { name: `ing-${i}`, annotations: { 'ingress.kubernetes.io/backends': JSON.stringify({ [check]: 'HEALTHY' }) } },
        spec: { defaultBackend: { service: { name: svc, port: { number: 80 } } } },
      });
    } else {
      await api.request('POST', `/api/v1/namespaces/${namespace}/pods`, podBody(i, k - 2));
    }
  };
  let done = 0;
  const progress = (what: string, total: number): void => {
    done += 1;
    if (done % 5000 === 0) note(`${what}: ${done}/${total} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  };
  await pool(5 * S, params.loadConcurrency, async (j) => {
    await creates(Math.floor(j / 5), j % 5);
    progress('created', 5 * S);
  });
  const createSeconds = (Date.now() - started) / 1000;
  done = 0;
  await pool(3 * S, params.loadConcurrency, async (j) => {
    const i = Math.floor(j / 3);
    const k = j % 3;
    await api.request('PATCH', `/api/v1/namespaces/${nsOf(i)}/pods/${podName(i, k)}/status`, podStatus(i, k));
    progress('Pod status', 3 * S);
  });
  return { seconds: (Date.now() - started) / 1000, createSeconds, requests: 8 * S };
}

function seedCompute(bed: TestBed): void {
  const project = bed.project;
  const hcLink = (name: string): string => `https://www.googleapis.com/compute/v1/projects/${project}/global/healthChecks/${name}`;
  const checks: Record<string, unknown>[] = [];
  const backends: Record<string, unknown>[] = [];
  for (let i = 0; i < S; i++) {
    const namespace = nsOf(i);
    const svc = svcOf(i);
    const name = bed.checkName(namespace, svc, 80);
    // What ingress-gce created before the readinessProbe existed (docs §1): "/", 15 s / 15 s.
    checks.push({
      name,
      type: 'HTTP',
      description: 'Default kubernetes L7 Loadbalancing health check for NEG.',
      checkIntervalSec: 15,
      timeoutSec: 15,
      healthyThreshold: 1,
      unhealthyThreshold: 2,
      httpHealthCheck: { portSpecification: 'USE_SERVING_PORT', requestPath: '/', proxyHeader: 'NONE' },
    });
    backends.push({
      name,
      description: JSON.stringify({
        'kubernetes.io/service-name': `${namespace}/${svc}`,
        'kubernetes.io/service-port': '80',
        'x-features': ['NEG'],
      }),
      protocol: 'HTTP',
      port: 80,
      portName: 'http',
      timeoutSec: 30,
      loadBalancingScheme: 'EXTERNAL',
      healthChecks: [hcLink(name)],
      backends: [
        {
          group: `https://www.googleapis.com/compute/v1/projects/${project}/zones/${bed.zone}/networkEndpointGroups/${name}`,
          balancingMode: 'RATE',
          maxRatePerEndpoint: 1,
          capacityScaler: 1,
        },
      ],
    });
  }
  for (let j = 0; j < params.unrelatedChecks; j++) {
    checks.push({
      name: `unrelated-check-${j}`,
      type: 'HTTP',
      checkIntervalSec: 5,
      timeoutSec: 5,
      httpHealthCheck: { port: 8080, requestPath: '/status' },
    });
  }
  bed.compute.seed('global', 'healthChecks', checks as never);
  bed.compute.seed('global', 'backendServices', backends as never);
}

// ---- sampling -----------------------------------------------------------------------------------

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

interface ProcSample {
  t: number;
  rssKiB: number;
  hwmKiB: number;
  cpuS: number;
}

function readProc(pid: number): ProcSample | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    // Fields after the ")" of comm: utime and stime are fields 14 and 15 of the whole line.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuS = (Number(rest[11]) + Number(rest[12])) / CLK_TCK;
    return { t: Date.now(), rssKiB: kib('VmRSS'), hwmKiB: kib('VmHWM'), cpuS };
  } catch {
    return undefined;
  }
}

/** Samples /proc every 200 ms and hcsync's heap (nodejs_heap_size_used_bytes on /metrics) every 5 s. */
class Sampler {
  readonly proc: ProcSample[] = [];
  readonly heap: { t: number; usedBytes: number }[] = [];
  private readonly procTimer: NodeJS.Timeout;
  private readonly heapTimer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    hcsync: HcsyncProcess,
  ) {
    this.procTimer = setInterval(() => {
      const s = readProc(this.pid);
      if (s) this.proc.push(s);
    }, 200);
    this.heapTimer = setInterval(() => {
      hcsync
        .metric('nodejs_heap_size_used_bytes')
        .then((v) => v !== undefined && this.heap.push({ t: Date.now(), usedBytes: v }))
        .catch(() => undefined);
    }, 5000);
  }

  /** A fresh sample now (for a phase boundary). */
  now(): ProcSample {
    const s = readProc(this.pid);
    if (!s) throw new Error(`hcsync (pid ${this.pid}) is gone`);
    this.proc.push(s);
    return s;
  }

  stop(): void {
    clearInterval(this.procTimer);
    clearInterval(this.heapTimer);
  }

  rss(from: number, to: number): { maxMiB: number; medianMiB: number; hwmMiB: number } {
    const xs = this.proc.filter((s) => s.t >= from && s.t <= to);
    const rss = xs.map((s) => s.rssKiB).sort((a, b) => a - b);
    return {
      maxMiB: mib((rss.at(-1) ?? NaN) * 1024),
      medianMiB: mib((rss[Math.floor(rss.length / 2)] ?? NaN) * 1024),
      hwmMiB: mib((xs.at(-1)?.hwmKiB ?? NaN) * 1024),
    };
  }

  heapMiB(from: number, to: number): { maxMiB: number; lastMiB: number } {
    const xs = this.heap.filter((s) => s.t >= from && s.t <= to);
    return { maxMiB: mib(Math.max(...xs.map((s) => s.usedBytes))), lastMiB: mib(xs.at(-1)?.usedBytes ?? NaN) };
  }
}

/** The bed's kube-apiserver and etcd processes (found by their flags in /proc), to tell where the load's time goes. */
function controlPlanePids(server: string): { apiserver?: number; etcd?: number } {
  const cmdlines = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d): [number, string[]] => {
      try {
        return [Number(d), readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0')];
      } catch {
        return [Number(d), []];
      }
    });
  const port = new URL(server).port;
  const api = cmdlines.find(([, a]) => a[0]?.endsWith('kube-apiserver') && a.includes(`--secure-port=${port}`));
  const etcdUrl = api?.[1].find((a) => a.startsWith('--etcd-servers='))?.slice('--etcd-servers='.length);
  const etcd = cmdlines.find(([, a]) => a[0]?.endsWith('etcd') && a.includes(`--listen-client-urls=${etcdUrl}`));
  return { ...(api ? { apiserver: api[0] } : {}), ...(etcd ? { etcd: etcd[0] } : {}) };
}

const cpuOf = (pid: number | undefined): number => (pid === undefined ? NaN : (readProc(pid)?.cpuS ?? NaN));
const mib = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const t0 = Date.now();
function note(line: string): void {
  process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(5)} s] ${line}\n`);
}

// ---- request log analysis -----------------------------------------------------------------------

function kindOf(r: RequestRecord): string {
  if (/Operations\.(get|wait)$/.test(r.api)) return 'operationPolls';
  if (/\.(aggregatedList|list)$/.test(r.api)) return 'listPages';
  if (r.api.endsWith('.get')) return 'gets';
  if (/[hH]ealthChecks\.patch$/.test(r.api)) return 'patches';
  return 'other';
}

function requestsByKind(log: readonly RequestRecord[], from: number, to: number): Record<string, number> {
  const out: Record<string, number> = { listPages: 0, gets: 0, patches: 0, operationPolls: 0, other: 0, rateLimited: 0 };
  for (const r of log) {
    if (r.at < from || r.at >= to) continue;
    const k = kindOf(r);
    out[k] = (out[k] ?? 0) + 1;
    if (r.status === 403) out['rateLimited'] = (out['rateLimited'] ?? 0) + 1;
  }
  return out;
}

/**
 * How the PATCHes were spread from the first one on: how many arrived in each second, the seconds
 * under the pace (the limiter starved, or a pause), and the last few (a straggler shows up here).
 */
function patchTimeline(
  log: readonly RequestRecord[],
  from: number,
  to: number,
  qps: number,
): { perSecond: number[]; secondsUnderPace: number; last: { atS: number; check: string }[] } {
  const patches = log.filter((r) => r.at >= from && r.at < to && kindOf(r) === 'patches');
  const first = patches[0]?.at ?? from;
  const perSecond: number[] = [];
  for (const r of patches) {
    const k = Math.floor((r.at - first) / 1000);
    while (perSecond.length <= k) perSecond.push(0);
    perSecond[k] = (perSecond[k] ?? 0) + 1;
  }
  return {
    perSecond,
    // The last second is partial: not counted.
    secondsUnderPace: perSecond.slice(0, -1).filter((n) => n < Math.floor(qps)).length,
    last: patches.slice(-5).map((r) => ({ atS: (r.at - first) / 1000, check: r.resource ?? '?' })),
  };
}

/** Accepted health-check PATCHes per check in [from, to): the most for one check, and how many checks got more than one. */
function patchesPerCheck(
  log: readonly RequestRecord[],
  from: number,
  to: number,
): { checks: number; max: number; patchedMoreThanOnce: number; replays: number } {
  // Writes are counted by the Operation they started: a retry that re-sends a write with its
  // requestId (after a lost answer) gets the original Operation back, and GCP applies it once
  // (testbed/compute/api.ts), so it is a replay, not a second patch.
  const per = new Map<string, Set<string>>();
  let replays = 0;
  for (const r of log) {
    if (r.at < from || r.at >= to || kindOf(r) !== 'patches' || r.status !== 200) continue;
    const resource = r.resource ?? '?';
    let ops = per.get(resource);
    if (!ops) per.set(resource, (ops = new Set()));
    const op = r.operation ?? `unnamed-${r.at}-${ops.size}`;
    if (ops.has(op)) replays++;
    ops.add(op);
  }
  const counts = [...per.values()].map((ops) => ops.size);
  return { checks: per.size, max: Math.max(0, ...counts), patchedMoreThanOnce: counts.filter((c) => c > 1).length, replays };
}

// ---- the run ------------------------------------------------------------------------------------

function hcsyncArgs(): string[] {
  return ['run', '--mode=enforce', `--resync=${params.resync}`, `--gcp-write-qps=${params.gcpWriteQps}`, '--log-level=info'];
}

function hcsyncEnv(): Record<string, string> {
  return { ...params.shippedEnv, NODE_OPTIONS: params.nodeOptions };
}

function inSync(bed: TestBed, name: string, path = READY_PATH): boolean {
  const hc = bed.compute.resource('global', 'healthChecks', name) as
    { checkIntervalSec?: number; timeoutSec?: number; httpHealthCheck?: { requestPath?: string } } | undefined;
  return (
    hc?.httpHealthCheck?.requestPath === path &&
    (path !== READY_PATH || (hc.checkIntervalSec === READY_PERIOD && hc.timeoutSec === READY_TIMEOUT))
  );
}

async function floor(bed: TestBed, kubeconfig: string): Promise<{ rssMiB: number; heapMiB: number | null }> {
  const h = await bed.spawnHcsync(hcsyncArgs(), kubeconfig, { env: hcsyncEnv() });
  try {
    await until('hcsync (empty cluster) ready', () => h.ready().then((ok) => ok || undefined), 60_000, 200);
    await sleep(10_000);
    const pid = h.pid as number;
    const rss: number[] = [];
    for (let k = 0; k < 10; k++) {
      rss.push(readProc(pid)?.rssKiB ?? NaN);
      await sleep(200);
    }
    rss.sort((a, b) => a - b);
    const heap = await h.metric('nodejs_heap_size_used_bytes');
    return { rssMiB: mib((rss[5] ?? NaN) * 1024), heapMiB: heap === undefined ? null : mib(heap) };
  } finally {
    await h.stop();
  }
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/**
 * The sample where hcsync went idle after a resync that started at `resyncStart`: the earliest
 * point followed by 2 s with under 0.04 CPU s (undefined while it is still busy).
 */
function idleAfter(xs: readonly ProcSample[], resyncStart: number): ProcSample | undefined {
  for (let k = xs.length - 1; k > 0; k--) {
    const cur = xs[k] as ProcSample;
    if (cur.t < resyncStart + 1000) return undefined;
    const earlier = xs.findLast((x) => x.t <= cur.t - 2000);
    if (earlier && earlier.t >= resyncStart && cur.cpuS - earlier.cpuS < 0.04) {
      // The earliest such point: walk back while the window before is still idle.
      let first = cur;
      for (let j = k - 1; j > 0; j--) {
        const c = xs[j] as ProcSample;
        const e = xs.findLast((x) => x.t <= c.t - 2000);
        if (!e || e.t < resyncStart || c.cpuS - e.cpuS >= 0.04) break;
        first = c;
      }
      return xs.findLast((x) => x.t <= first.t - 2000) ?? first;
    }
  }
  return undefined;
}

/** Starts of resyncs in [from, to): a list page after a quiet second. */
function resyncStarts(log: readonly RequestRecord[], from: number, to: number): number[] {
  const out: number[] = [];
  let lastList = -Infinity;
  for (const r of log) {
    if (kindOf(r) !== 'listPages') continue;
    if (r.at >= from && r.at < to && r.at - lastList > 1000) out.push(r.at);
    lastList = r.at;
  }
  return out;
}

/**
 * One variant on the converged bed (every check in sync, every condition written): hcsync starts,
 * lists, finds nothing to do, then resyncs every --resync. RSS from ready to the end, CPU per
 * steady resync (each resync that went idle within the window), its memory trims.
 */
async function steadyVariant(
  bed: TestBed,
  kubeconfig: string,
  log: () => readonly RequestRecord[],
  v: Variant,
): Promise<Record<string, unknown>> {
  const env = { ...hcsyncEnv(), ...(v.nodeOptions !== undefined ? { NODE_OPTIONS: v.nodeOptions } : {}), ...v.env };
  const h = await bed.spawnHcsync(hcsyncArgs(), kubeconfig, { env, ...(v.main !== undefined ? { main: v.main } : {}) });
  const spawnedAt = Date.now();
  const sampler = new Sampler(h.pid as number, h);
  try {
    // A process that exits at start (a flag Node refuses in NODE_OPTIONS) is reported, not waited for.
    const state = await until<'ready' | 'exited'>(
      `variant ${v.name} ready`,
      () => (readProc(h.pid as number) ? h.ready().then((ok) => (ok ? 'ready' : undefined)) : 'exited'),
      600_000,
      500,
    );
    if (state === 'exited') {
      const out = { name: v.name, env, exited: h.lines.slice(-5) };
      note(`variant ${JSON.stringify(out)}`);
      return out;
    }
    const readyAt = Date.now();
    const end = readyAt + params.variantMinutes * 60_000;
    while (Date.now() < end) {
      if (!readProc(h.pid as number)) throw new Error(`variant ${v.name}: hcsync exited; last lines:\n${h.lines.slice(-5).join('\n')}`);
      await sleep(1000);
    }
    const xs = sampler.proc;
    const resyncs = resyncStarts(log(), readyAt + 1000, end).flatMap((start) => {
      const before = xs.findLast((x) => x.t <= start);
      const idle = idleAfter(
        xs.filter((x) => x.t <= end),
        start,
      );
      return before && idle && idle.t > start
        ? [
            {
              cpuS: Math.round((idle.cpuS - before.cpuS) * 100) / 100,
              busyS: (idle.t - start) / 1000,
              requests: requestsByKind(log(), start, idle.t + 1),
            },
          ]
        : [];
    });
    const firstResync = resyncStarts(log(), readyAt + 1000, end)[0] ?? readyAt;
    const out = {
      name: v.name,
      env,
      readyAfterS: (readyAt - spawnedAt) / 1000,
      rssFromReady: sampler.rss(readyAt, end),
      rssFromFirstResync: sampler.rss(firstResync, end),
      heap: sampler.heapMiB(readyAt, end),
      cpuPerResync: resyncs,
      cpuSecondsFromReady:
        Math.round(((xs.findLast((x) => x.t <= end)?.cpuS ?? NaN) - (xs.find((x) => x.t >= readyAt)?.cpuS ?? NaN)) * 100) / 100,
      memoryTrims: h.lines.filter((l) => l.includes('returned unused heap memory to the OS')),
      // With HCSYNC_DEBUG_MEMORY in the variant's env: its last breakdown (src/cli/memory-debug.ts).
      memoryBreakdown: h.lines.findLast((l) => l.includes('"memory breakdown"')),
    };
    note(`variant ${JSON.stringify(out)}`);
    return out;
  } finally {
    sampler.stop();
    await h.stop();
  }
}

async function main(): Promise<void> {
  const result: Record<string, unknown> = {
    date: new Date().toISOString(),
    machine: {
      nproc: os.availableParallelism(),
      memoryMiB: Math.round(os.totalmem() / 2 ** 20),
      cpu: os.cpus()[0]?.model ?? 'unknown',
      node: process.version,
      // 1-minute load average when the run starts and ends: the machine may be shared, and
      // wall-clock figures (convergence, event → PATCH, load) stretch under contention; CPU seconds and RSS do not.
      loadAverageAtStart: Math.round((os.loadavg()[0] ?? 0) * 10) / 10,
      commit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT }).toString().trim(),
    },
    params,
  };
  note(`parameters ${JSON.stringify(params)}`);
  const bed = await TestBed.start({
    operationDelayMs: params.opLatencyMs,
    compute: { probe: false, ...(params.writeQuotaPerSecond !== null ? { writeQuotaPerSecond: params.writeQuotaPerSecond } : {}) },
  });
  const api = new ApiWriter(bed.kc, params.loadConcurrency);
  const onSignal = (): void => void bed.stop().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const kubeconfig = await bed.hcsyncKubeconfig();

    note('(1) empty-cluster floor');
    const fl = await floor(bed, kubeconfig);
    result['floor'] = fl;
    note(`floor RSS ${fl.rssMiB} MiB, heap ${fl.heapMiB} MiB`);

    note(`(2) loading ${S} Services, ${S} Ingresses, ${3 * S} Pods`);
    const cpPids = controlPlanePids(bed.cp.server);
    const cpuBefore = { apiserver: cpuOf(cpPids.apiserver), etcd: cpuOf(cpPids.etcd), bench: process.cpuUsage() };
    const loaded = await load(bed, api);
    const benchCpu = process.cpuUsage(cpuBefore.bench);
    result['load'] = {
      ...loaded,
      requestsPerSecond: Math.round(loaded.requests / loaded.seconds),
      // CPU seconds spent while loading: where the load's time goes on a shared machine.
      cpuSeconds: {
        apiserver: Math.round(cpuOf(cpPids.apiserver) - cpuBefore.apiserver),
        etcd: Math.round(cpuOf(cpPids.etcd) - cpuBefore.etcd),
        bench: Math.round((benchCpu.user + benchCpu.system) / 1e6),
      },
    };
    note(`loaded in ${loaded.seconds.toFixed(1)} s (${Math.round(loaded.requests / loaded.seconds)} requests/s)`);

    note('(3) seeding the Compute stand-in');
    seedCompute(bed);
    const logStart = bed.compute.requestLog().length;
    const log = (): readonly RequestRecord[] => bed.compute.requestLog().slice(logStart);

    note('(4) hcsync converging');
    // --converge-only leaves this block after convergence (to the --variants, if any).
    measured: {
      const h = await bed.spawnHcsync(hcsyncArgs(), kubeconfig, { env: hcsyncEnv() });
      const spawnedAt = Date.now();
      const sampler = new Sampler(h.pid as number, h);
      try {
        const pending = new Set(Array.from({ length: S }, (_, i) => bed.checkName(nsOf(i), svcOf(i), 80)));
        let lastReport = Date.now();
        const deadline = spawnedAt + params.convergeTimeoutS * 1000;
        while (pending.size > 0 && Date.now() < deadline) {
          if (!readProc(h.pid as number)) throw new Error(`hcsync exited while converging; last lines:\n${h.lines.slice(-5).join('\n')}`);
          for (const name of pending) if (inSync(bed, name)) pending.delete(name);
          if (Date.now() - lastReport > 30_000) {
            lastReport = Date.now();
            const s = sampler.proc.at(-1);
            note(`${S - pending.size}/${S} checks in sync; RSS ${s ? mib(s.rssKiB * 1024) : '?'} MiB`);
          }
          if (pending.size > 0) await sleep(500);
        }
        const convergedAt = Date.now();
        const converged = pending.size === 0;
        const firstPatch = log().find((r) => kindOf(r) === 'patches')?.at;
        const boundS = S / params.gcpWriteQps;
        const convergeS = (convergedAt - spawnedAt) / 1000;
        const rssConverging = sampler.rss(spawnedAt, convergedAt);
        result['convergence'] = {
          converged,
          inSync: S - pending.size,
          seconds: convergeS,
          firstPatchAfterS: firstPatch === undefined ? null : (firstPatch - spawnedAt) / 1000,
          patchingSeconds: firstPatch === undefined ? null : (convergedAt - firstPatch) / 1000,
          quotaBoundS: boundS,
          ratio: convergeS / boundS,
          ratioFromFirstPatch: firstPatch === undefined ? null : (convergedAt - firstPatch) / 1000 / boundS,
          rss: rssConverging,
          heap: sampler.heapMiB(spawnedAt, convergedAt),
          requests: requestsByKind(log(), spawnedAt, convergedAt + 1),
          patchesPerCheck: patchesPerCheck(log(), spawnedAt, convergedAt + 1),
          patchTimeline: patchTimeline(log(), spawnedAt, convergedAt + 1, params.gcpWriteQps),
        };
        note(`${converged ? 'converged' : 'NOT converged'} in ${convergeS.toFixed(1)} s (bound ${boundS.toFixed(1)} s)`);
        if (!converged) throw new Error(`not converged after ${params.convergeTimeoutS} s: ${S - pending.size} of ${S} checks in sync`);
        if (flags['converge-only']) break measured;

        note(`(5) ${params.afterS} s after convergence`);
        await sleep(params.afterS * 1000);
        const afterEnd = Date.now();
        result['after'] = {
          seconds: params.afterS,
          patchesPerCheck: patchesPerCheck(log(), convergedAt + 1, afterEnd),
          requests: requestsByKind(log(), convergedAt + 1, afterEnd),
        };

        note('(6) the first resync after convergence (nothing to do)');
        // A resync starts with its list pages: the first list request after a quiet second. Its cost
        // is the CPU burst from there until hcsync is idle again (under 0.04 CPU s over 2 s).
        const resyncStart = await until(
          'a resync (list pages) in the stand-in log',
          () => {
            let lastList = -Infinity;
            for (const r of log()) {
              if (kindOf(r) !== 'listPages') continue;
              if (r.at > convergedAt + 1000 && r.at - lastList > 1000) return r.at;
              lastList = r.at;
            }
            return undefined;
          },
          resyncMs + 120_000,
          200,
        );
        const cpuBefore = sampler.proc.findLast((x) => x.t <= resyncStart) ?? sampler.now();
        const idleAt = await until('hcsync idle after the resync', () => idleAfter(sampler.proc, resyncStart), 120_000, 500);
        const steadyEnd = Date.now();
        result['steady'] = {
          resyncStartAfterConvergedS: (resyncStart - convergedAt) / 1000,
          resyncBusySeconds: (idleAt.t - resyncStart) / 1000,
          cpuSecondsPerResync: Math.round((idleAt.cpuS - cpuBefore.cpuS) * 100) / 100,
          requestsPerResync: requestsByKind(log(), resyncStart, idleAt.t + 1),
          rss: sampler.rss(convergedAt + 1, steadyEnd),
          heap: sampler.heapMiB(convergedAt + 1, steadyEnd),
          patchesPerCheck: patchesPerCheck(log(), convergedAt + 1, steadyEnd),
        };

        note(`(7) event → PATCH on ${params.eventServices} Services`);
        const spacingMs = Math.max(100, 2000 / params.gcpWriteQps);
        const sent: { name: string; path: string; at: number }[] = [];
        for (let e = 0; e < params.eventServices; e++) {
          const i = Math.floor((e * S) / params.eventServices);
          const path = `/moved-${e}`;
          const at = Date.now();
          await api.request('PATCH', `/api/v1/namespaces/${nsOf(i)}/services/${svcOf(i)}`, {
            metadata: { annotations: { 'hcsync.io/health-path': path } },
          });
          sent.push({ name: bed.checkName(nsOf(i), svcOf(i), 80), path, at });
          await sleep(spacingMs);
        }
        const latencies = await until(
          'every event → PATCH',
          () => {
            const xs = log();
            const out: number[] = [];
            for (const s of sent) {
              const p = xs.find(
                (r) =>
                  r.at >= s.at &&
                  r.resource === s.name &&
                  kindOf(r) === 'patches' &&
                  (r.body['httpHealthCheck'] as { requestPath?: string } | undefined)?.requestPath === s.path,
              );
              if (!p) return undefined;
              out.push(p.at - s.at);
            }
            return out.sort((a, b) => a - b);
          },
          120_000,
          500,
        ).catch(() => null);
        result['eventToPatch'] =
          latencies === null
            ? { services: params.eventServices, complete: false }
            : {
                services: params.eventServices,
                complete: true,
                p50Ms: percentile(latencies, 50),
                p99Ms: percentile(latencies, 99),
                maxMs: latencies.at(-1),
              };
        const end = sampler.now();
        result['hwmMiB'] = mib(end.hwmKiB * 1024);
        result['hcsyncCpuSecondsTotal'] = Math.round(end.cpuS * 10) / 10;
        result['requestsTotal'] = requestsByKind(log(), spawnedAt, Date.now() + 1);
        result['patchesPerCheckTotal'] = patchesPerCheck(log(), spawnedAt, Date.now() + 1);
        // hcsync's idle memory trims (cli/memory-trim.ts): when, RSS before/after, CPU.
        result['memoryTrims'] = h.lines.filter((l) => l.includes('returned unused heap memory to the OS'));
        for (const l of result['memoryTrims'] as string[]) note(`memory trim: ${l}`);
      } finally {
        sampler.stop();
        const code = await h.stop();
        if (flags['hcsync-log']) writeFileSync(flags['hcsync-log'], h.lines.join('\n') + '\n');
        if (code !== 0) note(`hcsync exited ${code}; last lines:\n${h.lines.slice(-10).join('\n')}`);
        result['hcsyncExitCode'] = code;
      }
    }
    if (params.variants.length > 0) {
      const out: Record<string, unknown>[] = [];
      result['variants'] = out;
      for (const v of params.variants) {
        note(`(8) variant ${v.name}`);
        out.push(await steadyVariant(bed, kubeconfig, log, v));
      }
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    api.close();
    await bed.stop();
    (result['machine'] as Record<string, unknown>)['loadAverageAtEnd'] = Math.round((os.loadavg()[0] ?? 0) * 10) / 10;
    if (flags.json) writeFileSync(flags.json, `${JSON.stringify(result, null, 2)}\n`);
    console.log(table(result));
  }
}

// ---- output -------------------------------------------------------------------------------------

function table(r: Record<string, unknown>): string {
  // The result is built above; read it back loosely (absent parts print as "–" when a phase failed).
  const g = (path: string): unknown => path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], r);
  const f = (path: string, digits = 1): string => {
    const v = g(path);
    return typeof v === 'number' && Number.isFinite(v)
      ? v.toFixed(digits)
      : typeof v === 'string' || typeof v === 'boolean'
        ? String(v)
        : '–';
  };
  const kinds = (path: string): string =>
    g(path) === undefined
      ? '–'
      : `${f(`${path}.listPages`, 0)} list pages, ${f(`${path}.gets`, 0)} GETs, ${f(`${path}.patches`, 0)} PATCHes, ` +
        `${f(`${path}.operationPolls`, 0)} operation polls, ${f(`${path}.other`, 0)} other, ${f(`${path}.rateLimited`, 0)} × 403`;
  // What hcsync caches in this bed: 5S Kubernetes objects (S Services, S Ingresses, 3S Pods) and 2S
  // GCP objects (the inventory keeps ingress-gce's S backend services and the S checks they link,
  // gcp/inventory.ts; the unrelated checks are listed but not kept). Before 2026-11-30 this row
  // divided by the Kubernetes objects alone; both are printed.
  const perObjectKiB = (objects: number): string => {
    const steady = g('steady.rss.medianMiB');
    const fl = g('floor.rssMiB');
    return typeof steady === 'number' && typeof fl === 'number' ? (((steady - fl) * 1024) / objects).toFixed(2) : '–';
  };
  const m = r['machine'] as Record<string, unknown>;
  const rows: [string, string][] = [
    [
      `RSS peak while converging (max VmRSS / VmHWM; the Deployment's limit: ${params.deploymentMemoryLimitMiB} MiB)`,
      `${f('convergence.rss.maxMiB')} / ${f('convergence.rss.hwmMiB')} MiB`,
    ],
    [
      'RSS steady after (median VmRSS from convergence to the resync measured)',
      `${f('steady.rss.medianMiB')} MiB (max ${f('steady.rss.maxMiB')})`,
    ],
    ['heap used converging (max) / steady (last)', `${f('convergence.heap.maxMiB')} / ${f('steady.heap.lastMiB')} MiB`],
    ['empty-cluster floor: RSS / heap used', `${f('floor.rssMiB')} / ${f('floor.heapMiB')} MiB`],
    [
      `RSS per cached object over the floor (${7 * S}: ${5 * S} Services + Ingresses + Pods, ${2 * S} GCP backend services + checks)`,
      `${perObjectKiB(7 * S)} KiB`,
    ],
    [`  the same over the ${5 * S} Kubernetes objects alone`, `${perObjectKiB(5 * S)} KiB`],
    [
      'time to converge (from spawn) vs quota bound S/qps',
      g('convergence.converged') === false
        ? `NOT converged: ${f('convergence.inSync', 0)} of ${S} in sync after ${f('convergence.seconds')} s (bound ${f('convergence.quotaBoundS')} s)`
        : `${f('convergence.seconds')} s vs ${f('convergence.quotaBoundS')} s (${f('convergence.ratio', 2)}×)`,
    ],
    [
      '  of which start-up to first PATCH / first PATCH to converged',
      `${f('convergence.firstPatchAfterS')} s / ${f('convergence.patchingSeconds')} s` +
        (g('convergence.converged') === true ? ` (${f('convergence.ratioFromFirstPatch', 2)}× the bound)` : ' (not converged)'),
    ],
    [
      'PATCH rate from the first PATCH to converged (or to the timeout)',
      (() => {
        const n = g('convergence.requests.patches');
        const t = g('convergence.patchingSeconds');
        return typeof n === 'number' && typeof t === 'number' && t > 0
          ? `${(n / t).toFixed(1)}/s (--gcp-write-qps ${params.gcpWriteQps})`
          : '–';
      })(),
    ],
    [
      'seconds under the pace (fewer PATCHes than --gcp-write-qps, last second excluded) / last PATCH after the first',
      g('convergence.patchTimeline') === undefined
        ? '–'
        : `${f('convergence.patchTimeline.secondsUnderPace', 0)} of ${
            (g('convergence.patchTimeline.perSecond') as unknown[] | undefined)?.length ?? '–'
          } / ${String((g('convergence.patchTimeline.last') as { atS: number }[] | undefined)?.at(-1)?.atS ?? '–')} s`,
    ],
    [
      'patches per check while converging (by Operation): max / checks patched >1 / requestId replays',
      `${f('convergence.patchesPerCheck.max', 0)} / ${f('convergence.patchesPerCheck.patchedMoreThanOnce', 0)} / ${f('convergence.patchesPerCheck.replays', 0)}`,
    ],
    [
      `patches in the ${params.afterS} s after: PATCHes / checks patched`,
      `${f('after.requests.patches', 0)} / ${f('after.patchesPerCheck.checks', 0)}`,
    ],
    [
      'patches per check over the whole run (incl. events): max / >1',
      `${f('patchesPerCheckTotal.max', 0)} / ${f('patchesPerCheckTotal.patchedMoreThanOnce', 0)}`,
    ],
    ['GCP requests while converging', kinds('convergence.requests')],
    [`GCP requests in the ${params.afterS} s after`, kinds('after.requests')],
    ['GCP requests per steady resync', kinds('steady.requestsPerResync')],
    [
      'CPU per steady resync (from its first list page until hcsync is idle again; nothing to do)',
      `${f('steady.cpuSecondsPerResync', 2)} s (busy ${f('steady.resyncBusySeconds')} s wall clock)`,
    ],
    [
      `event → PATCH (${params.eventServices} Services): p50 / p99 / max`,
      `${f('eventToPatch.p50Ms', 0)} / ${f('eventToPatch.p99Ms', 0)} / ${f('eventToPatch.maxMs', 0)} ms`,
    ],
    [
      'load: objects into the API server',
      `${f('load.seconds')} s, of which creates ${f('load.createSeconds')} s (${f('load.requestsPerSecond', 0)} requests/s, ${params.loadConcurrency} in flight); CPU s: kube-apiserver ${f('load.cpuSeconds.apiserver', 0)}, etcd ${f('load.cpuSeconds.etcd', 0)}, bench ${f('load.cpuSeconds.bench', 0)}`,
    ],
  ];
  return [
    `### bench:scale — ${String(r['date'])}`,
    '',
    `Machine: ${String(m['nproc'])} cores (${String(m['cpu'])}), ${String(m['memoryMiB'])} MiB, Node ${String(m['node'])}, commit ${String(m['commit'])}, ` +
      `load average ${String(m['loadAverageAtStart'])} at start / ${String(m['loadAverageAtEnd'])} at end (wall-clock figures stretch under load; CPU seconds and RSS do not).`,
    `Parameters: S=${S} (${params.namespaces} namespaces, ${params.unrelatedChecks} unrelated checks), Operation latency ${params.opLatencyMs} ms, ` +
      `--gcp-write-qps ${params.gcpWriteQps}, write quota ${params.writeQuotaPerSecond ?? 'none'}/s, --resync ${params.resync}, ` +
      `NODE_OPTIONS "${params.nodeOptions}" (${params.nodeOptionsSource}), env ${JSON.stringify(params.shippedEnv)} (deploy/base/deployment.yaml). Heap used: nodejs_heap_size_used_bytes from hcsync's /metrics every 5 s.`,
    '',
    '| figure | measured |',
    '|---|---|',
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
    ...variantRows(r['variants'] as VariantResult[] | undefined),
  ].join('\n');
}

interface VariantResult {
  name: string;
  env: Record<string, string>;
  rssFromReady: { medianMiB: number; maxMiB: number };
  rssFromFirstResync: { medianMiB: number; maxMiB: number };
  heap: { maxMiB: number; lastMiB: number };
  cpuPerResync: { cpuS: number; requests: Record<string, number> }[];
  memoryTrims: string[];
  exited?: string[];
}

/** --variants: one row each, steady state on the converged bed. */
function variantRows(vs: VariantResult[] | undefined): string[] {
  if (!vs?.length) return [];
  return [
    '',
    `Variants on the converged bed (each a fresh hcsync, ${params.variantMinutes} min after ready; nothing to patch):`,
    '',
    '| variant | NODE_OPTIONS / env | RSS median / max from the first resync | heap used max / last | CPU s per steady resync (GETs) | trims |',
    '|---|---|---|---|---|---|',
    ...vs.map((v) =>
      v.exited
        ? `| ${v.name} | ${JSON.stringify(v.env)} | exited at start: ${v.exited.join(' ').replaceAll('|', '/')} | | | |`
        : `| ${v.name} | ${JSON.stringify(v.env)} | ${v.rssFromFirstResync.medianMiB} / ${v.rssFromFirstResync.maxMiB} MiB | ${v.heap.maxMiB} / ${v.heap.lastMiB} MiB | ` +
          `${v.cpuPerResync.map((c) => `${c.cpuS.toFixed(2)} (${c.requests['gets'] ?? 0})`).join(', ')} | ${v.memoryTrims.length} |`,
    ),
  ];
}

main().catch((e: unknown) => {
  console.error(`bench:scale failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exitCode = 1;
});
