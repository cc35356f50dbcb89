// CPU of one steady resync, in-process: the controller's own ClusterState (its informer caches
// filled through the informers' watch path, no API server), the real reconciler, metrics and
// logger, and a GCP inventory holding S in-sync checks plus 1,000 unrelated ones (with the shared scope
// object, as gcp/compute-adapter.ts makes them). Every Service
// already carries its InSync condition, so a resync must write nothing.
//   npm run bench:steady [-- S [NAMESPACES [names]]]
// (default S = 5000, 3 Pods per Service, over 10 namespaces as bench:scale; `names`: backend
// services without ingress-gce's JSON description, so ports are matched by recomputed name)
// Prints the CPU (user+system) of a resync (GCP inventory refresh + a reconcile of every managed
// Service), what it wrote, and the cost of a Pod event; `--cpu-prof` profiles it. With gc exposed
// (the npm script passes --expose-gc) it also prints the live heap after a forced GC, before any
// object and after the measured passes, per cached object; HCSYNC_BENCH_HEAP=file.heapsnapshot
// writes a heap snapshot of that steady state.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { writeHeapSnapshot } from 'node:v8';
import { KubeConfig } from '@kubernetes/client-node';
import { ClusterState } from '../src/kube/cluster-state.js';
import { slimIngress, slimPod, slimService } from '../src/kube/slim.js';
import { HealthCheckInventory } from '../src/gcp/inventory.js';
import type { HealthCheckApi } from '../src/gcp/compute-adapter.js';
import { GLOBAL_SCOPE, type BackendServiceRef, type LiveHealthCheck } from '../src/model/health-check.js';
import { ServiceReconciler } from '../src/controller/reconcile.js';
import { Metrics } from '../src/observability/metrics.js';
import { createLogger } from '../src/observability/log.js';
import { negBackendName } from '../src/model/ingress-gce-names.js';

const S = Number(process.argv[2] ?? 5000);
const NAMESPACES = Number(process.argv[3] ?? 10);
const BY_NAME = process.argv[4] === 'names';
const nsOf = (i: number) => `bench-${i % NAMESPACES}`;
const UID8 = 'abcdef12';

const kc = new KubeConfig();
kc.loadFromOptions({
  clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }],
  users: [{ name: 'u' }],
  contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
  currentContext: 'x',
});
/** Heap used after a forced GC, in bytes (undefined without --expose-gc); log lines still queued for stderr are let out first. */
async function liveHeap(): Promise<number | undefined> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return undefined;
  await new Promise((r) => setTimeout(r, 200));
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
const heapFloor = await liveHeap();
let enqueued = 0;
const log = createLogger('info');
const cluster = new ClusterState(kc, [], log, (keys) => {
  for (const _ of keys) enqueued++;
});

/**
 * Feeds a raw object through an informer's watch path, as the API server's watch would: as JSON
 * text parsed by JSON.parse, like a watch line or a list page, so its strings are what the
 * informer really gets (V8's JSON.parse shares equal strings; the bench's template literals would not).
 */
function watchEvent(kind: 'services' | 'pods' | 'ingresses', phase: 'ADDED' | 'MODIFIED', object: unknown): void {
  const family = (
    cluster as unknown as Record<
      string,
      { informers: { lw: { watchHandler(p: string, o: unknown): void }; handlingWatchEvent(o: unknown, handle: () => void): void }[] }
    >
  )[kind];
  const raw: unknown = JSON.parse(JSON.stringify(object));
  const slim = kind === 'services' ? slimService(raw) : kind === 'pods' ? slimPod(raw) : slimIngress(raw);
  for (const inf of family?.informers ?? []) inf.handlingWatchEvent(slim, () => inf.lw.watchHandler(phase, slim));
}

const checkName = (i: number) => negBackendName(UID8, nsOf(i), `svc-${i}`, 80);
const backends: BackendServiceRef[] = [];
const checks: LiveHealthCheck[] = [];
for (let i = 0; i < S; i++) {
  const hc = checkName(i);
  backends.push({
    name: hc,
    scope: GLOBAL_SCOPE,
    healthCheck: { name: hc, scope: GLOBAL_SCOPE },
    ...(BY_NAME ? {} : { service: { namespace: nsOf(i), name: `svc-${i}`, port: '80' } }),
    backendKind: 'neg',
  });
  checks.push({
    name: hc,
    scope: GLOBAL_SCOPE,
    id: String(i),
    type: 'HTTP',
    checkIntervalSec: 10,
    timeoutSec: 1,
    block: { requestPath: '/ready', host: '', portSpecification: 'USE_SERVING_PORT' },
  });
}
for (let i = 0; i < 1000; i++) {
  checks.push({ name: `other-${i}`, scope: GLOBAL_SCOPE, id: `o${i}`, type: 'HTTP', checkIntervalSec: 5, timeoutSec: 5 });
}
const calls: Record<string, number> = {};
const count = (m: string) => (calls[m] = (calls[m] ?? 0) + 1);
const api: HealthCheckApi = {
  listBackendServices: () => (count('list'), Promise.resolve(backends)),
  listHealthChecks: () => (count('list'), Promise.resolve(checks)),
  patchHealthCheck: () => (count('patch'), Promise.resolve()),
  getHealthCheck: () => (count('get'), Promise.resolve(undefined)),
};
const inventory = new HealthCheckInventory(api, { minRefreshIntervalMs: 15_000 });

// The objects are as the API server sends them where that matters for memory: a 36-character uid,
// a ReplicaSet-generated Pod name (`svc-12-7d4b9c6f5-x2k8q`) and its pod-template-hash label, a
// creationTimestamp per second of creation (a workload's replicas share one second), 7-8 digit
// resourceVersions, ownerReferences, the fields hcsync drops (Pod IPs, container statuses, a
// Service's clusterIP, ingress-gce's annotations on the Ingress).
const ALNUM = 'bcdfghjklmnpqrstvwxz2456789';
/** A deterministic pseudo-random string of `n` characters of the alphabet Kubernetes' name generator uses. */
const rand = (seed: number, n: number, alphabet = ALNUM) => {
  let x = (seed * 2654435761 + 0x9e3779b9) >>> 0;
  let out = '';
  for (let k = 0; k < n; k++) {
    x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + k * 0x297a2d39) >>> 0;
    out += alphabet.charAt(x % alphabet.length);
  }
  return out;
};
const uidOf = (seed: number) => {
  const h = rand(seed, 32, '0123456789abcdef');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};
const T0 = Date.parse('2026-11-02T08:00:00Z');
/** When Service i and its workload were created: one second each, some minutes apart per hundred. */
const createdAt = (i: number) => new Date(T0 + i * 7_000).toISOString().replace('.000Z', 'Z');
const templateHash = (i: number) => rand(i, 9);
const rawPod = (i: number, j: number, rv: number) => {
  const hash = templateHash(i);
  return {
    metadata: {
      namespace: nsOf(i),
      name: `svc-${i}-${hash}-${rand(i * 8 + j, 5)}`,
      generateName: `svc-${i}-${hash}-`,
      uid: uidOf(3 * i + j + 1_000_000),
      resourceVersion: String(rv),
      labels: { app: `svc-${i}`, tier: 'web', 'pod-template-hash': hash },
      creationTimestamp: createdAt(i),
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: `svc-${i}-${hash}`,
          uid: uidOf(i + 2_000_000),
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      containers: [
        {
          name: 'app',
          image: 'europe-docker.pkg.dev/acme/apps/web:1.42.0',
          ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
          readinessProbe: {
            httpGet: { path: '/ready', port: 8080, scheme: 'HTTP' },
            periodSeconds: 10,
            timeoutSeconds: 1,
            successThreshold: 1,
            failureThreshold: 3,
          },
          resources: { requests: { cpu: '100m', memory: '128Mi' } },
        },
      ],
      nodeName: `gke-prod-pool-1-${rand(i % 40, 8)}-${rand(i % 40, 4)}`,
      serviceAccountName: 'default',
    },
    status: {
      phase: 'Running',
      podIP: `10.${(i >> 8) & 255}.${i & 255}.${j + 10}`,
      hostIP: '10.128.0.12',
      startTime: createdAt(i),
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: createdAt(i) }],
    },
  };
};
let rv = 4_000_000;
const rawService = (i: number, conditions: unknown[]) => ({
  metadata: {
    namespace: nsOf(i),
    name: `svc-${i}`,
    uid: uidOf(i),
    resourceVersion: String(rv++),
    creationTimestamp: createdAt(i),
    annotations: {
      'cloud.google.com/neg': '{"ingress":true}',
      'cloud.google.com/neg-status': `{"network_endpoint_groups":{"80":"${checkName(i)}"},"zones":["europe-west1-b"]}`,
    },
  },
  spec: {
    selector: { app: `svc-${i}`, tier: 'web' },
    ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }],
    clusterIP: `10.40.${(i >> 8) & 255}.${i & 255}`,
    clusterIPs: [`10.40.${(i >> 8) & 255}.${i & 255}`],
    type: 'ClusterIP',
    sessionAffinity: 'None',
  },
  status: { loadBalancer: {}, conditions },
});
for (let i = 0; i < S; i++) {
  watchEvent('services', 'ADDED', rawService(i, []));
  watchEvent('ingresses', 'ADDED', {
    metadata: {
      namespace: nsOf(i),
      name: `ing-${i}`,
      uid: uidOf(i + 3_000_000),
      resourceVersion: String(rv++),
      generation: 1,
      creationTimestamp: createdAt(i),
      annotations: {
        'kubernetes.io/ingress.class': 'gce',
        // Not JSON.stringify({ [name]: … }): 5,000 one-off computed keys would fill V8's transition
        // tree of {} and give the objects created meanwhile maps of their own (bench garbage, not hcsync's).
        'ingress.kubernetes.io/backends': `{"${checkName(i)}":"HEALTHY"}`,
        'ingress.kubernetes.io/forwarding-rule': `k8s2-fr-${UID8}-${nsOf(i)}-ing-${i}-${rand(i, 8)}`,
        'ingress.kubernetes.io/target-proxy': `k8s2-tp-${UID8}-${nsOf(i)}-ing-${i}-${rand(i, 8)}`,
        'ingress.kubernetes.io/url-map': `k8s2-um-${UID8}-${nsOf(i)}-ing-${i}-${rand(i, 8)}`,
      },
      finalizers: ['networking.gke.io/ingress-finalizer-V2'],
    },
    spec: { defaultBackend: { service: { name: `svc-${i}`, port: { number: 80 } } } },
    status: { loadBalancer: { ingress: [{ ip: `34.120.${(i >> 8) & 255}.${i & 255}` }] } },
  });
  for (let j = 0; j < 3; j++) watchEvent('pods', 'ADDED', rawPod(i, j, rv++));
}

const statusWrites: string[] = [];
const events: string[] = [];
const reconciler = new ServiceReconciler({
  view: cluster,
  backends: inventory,
  patcher: api,
  status: {
    // As the API server would: the write comes back as a watch event.
    writeCondition: (s, c) => {
      statusWrites.push(`${s.metadata.name}: ${c.reason} ${c.message}`);
      watchEvent('services', 'MODIFIED', rawService(Number(s.metadata.name.slice(4)), [c]));
      return Promise.resolve();
    },
  },
  events: { emit: (s, e) => (events.push(`${s.metadata.name}: ${e.reason}`), Promise.resolve()) },
  metrics: new Metrics({ defaultMetrics: false }),
  log,
  mode: 'enforce',
  inferFromLiveness: true,
  notReadyRequeueMs: 15_000,
});

async function resync(): Promise<{ cpuMs: number; wallMs: number; keys: number }> {
  const cpu = process.cpuUsage();
  const t = performance.now();
  await inventory.refresh();
  const keys = cluster.managedServiceKeys();
  for (const k of keys) {
    const o = await reconciler.reconcile(k);
    if (o.kind === 'error') throw o.error;
  }
  const d = process.cpuUsage(cpu);
  return { cpuMs: (d.user + d.system) / 1000, wallMs: performance.now() - t, keys: keys.length };
}

// The first pass writes every Service's condition (InSync) and warms the JIT; steady resyncs are measured after it.
const warm = await resync();
const warmWrites = statusWrites.length;
statusWrites.length = 0;
events.length = 0;
const runs = [];
// HCSYNC_BENCH_PROFILE=file.cpuprofile: a CPU profile of the measured resyncs only (open in Chrome DevTools).
const profile = process.env.HCSYNC_BENCH_PROFILE;
// HCSYNC_BENCH_HEAP_PROFILE=file.heapprofile: a sampling profile of what steady resyncs allocate,
// collected objects included (open in Chrome DevTools' Memory tab).
const heapProfile = process.env.HCSYNC_BENCH_HEAP_PROFILE;
const session = profile || heapProfile ? new Session() : undefined;
const post = (method: string, params?: object) =>
  new Promise<unknown>((ok, fail) => session?.post(method, params, (e, r) => (e ? fail(e) : ok(r))));
if (session) session.connect();
if (profile) {
  await post('Profiler.enable');
  await post('Profiler.start');
}
// The heap profile covers the last two resyncs: the first after the warm pass meets the Services
// its status writes replaced (new objects, so nothing memoised yet), the next ones are steady.
runs.push(await resync());
if (heapProfile) {
  await post('HeapProfiler.enable');
  await post('HeapProfiler.startSampling', {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
}
for (let r = 0; r < 2; r++) runs.push(await resync());
if (profile) writeFileSync(profile, JSON.stringify(((await post('Profiler.stop')) as { profile: unknown }).profile));
if (heapProfile) writeFileSync(heapProfile, JSON.stringify(((await post('HeapProfiler.stopSampling')) as { profile: unknown }).profile));
const best = runs.reduce((a, b) => (a.cpuMs < b.cpuMs ? a : b));
console.log(
  `steady resync of ${best.keys} Services (${3 * S} Pods, ${NAMESPACES} namespaces${BY_NAME ? ', backends matched by name' : ''}): CPU ${best.cpuMs.toFixed(0)} ms (runs: ${runs.map((r) => r.cpuMs.toFixed(0)).join(', ')} ms; first pass ${warm.cpuMs.toFixed(0)} ms, ${warmWrites} status writes); ` +
    `${statusWrites.length} status writes, ${events.length} Events, ${calls['patch'] ?? 0} PATCHes, ${calls['get'] ?? 0} GETs`,
);
if (statusWrites.length > 0) console.log(`first status writes: ${statusWrites.slice(0, 3).join(' | ')}`);
const heapSteady = await liveHeap();
if (heapFloor !== undefined && heapSteady !== undefined) {
  const objects = 5 * S; // S Services, S Ingresses, 3S Pods
  console.log(
    `live heap after GC: ${(heapFloor / 2 ** 20).toFixed(1)} MiB before any object, ${(heapSteady / 2 ** 20).toFixed(1)} MiB steady; ` +
      `${((heapSteady - heapFloor) / objects).toFixed(0)} B per cached object (${objects} objects, GCP inventory of ${checks.length} checks included)`,
  );
}
if (process.env.HCSYNC_BENCH_HEAP) console.log(`heap snapshot: ${writeHeapSnapshot(process.env.HCSYNC_BENCH_HEAP)}`);

// A Pod event that changes nothing hcsync reads (a new resourceVersion, a new Pod IP), then one that relabels.
enqueued = 0;
let cpu = process.cpuUsage();
for (let i = 0; i < S; i++) watchEvent('pods', 'MODIFIED', { ...rawPod(i, 0, rv++), status: { phase: 'Running', podIP: '10.0.0.2' } });
let d = process.cpuUsage(cpu);
console.log(`${S} no-op Pod updates: CPU ${((d.user + d.system) / 1000).toFixed(0)} ms, ${enqueued} keys enqueued`);
enqueued = 0;
cpu = process.cpuUsage();
for (let i = 0; i < S; i++) {
  const p = rawPod(i, 1, rv++);
  watchEvent('pods', 'MODIFIED', { ...p, metadata: { ...p.metadata, labels: { app: `svc-${(i + NAMESPACES) % S}`, tier: 'web' } } });
}
d = process.cpuUsage(cpu);
console.log(
  `${S} Pod relabels (each moves a Pod to another Service of its namespace): CPU ${((d.user + d.system) / 1000).toFixed(0)} ms, ${enqueued} keys enqueued`,
);
