// Benchmarks that print ratios measured in one run (absolute times depend on the machine).
//   npm run bench
// 1. Informer cache memory: full API objects vs hcsync's slim objects, for 15k Pods.
// 2. GCP reads per resync: hcsync's two aggregatedLists vs one GET of backend service + check per
//    Service port, for 5k Services.
// 3. Steady-state reconcile: the cost of a pass that finds nothing to do, vs one that patches.
import { slimPod } from '../src/kube/slim.js';
import { HealthCheckInventory } from '../src/gcp/inventory.js';
import type { HealthCheckApi } from '../src/gcp/compute-adapter.js';
import type { BackendServiceRef, LiveHealthCheck } from '../src/model/health-check.js';
import { ServiceReconciler } from '../src/controller/reconcile.js';
import { StaticClusterView } from '../src/kube/cluster-view.js';
import { Metrics } from '../src/observability/metrics.js';
import { silentLogger } from '../src/observability/log.js';
import type { SlimCondition, SlimIngress, SlimService } from '../src/model/kube.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc (npm run bench does)');

const heapUsed = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

function fullPod(i: number): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `web-${i}-abcde`,
      namespace: `ns-${i % 50}`,
      uid: `0000-${i}`,
      resourceVersion: String(1000 + i),
      creationTimestamp: '2026-11-25T10:00:00Z',
      labels: { app: `web-${i % 5000}`, 'pod-template-hash': 'abcdef1234', tier: 'frontend' },
      annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-25T10:00:00Z', 'checksum/config': 'f'.repeat(64) },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `web-${i}`, uid: `rs-${i}`, controller: true }],
      managedFields: [
        {
          manager: 'kube-controller-manager',
          operation: 'Update',
          apiVersion: 'v1',
          fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
            'f:spec': { 'f:containers': { 'k:{"name":"app"}': { '.': {}, 'f:image': {}, 'f:ports': {} } } },
          },
        },
        {
          manager: 'kubelet',
          operation: 'Update',
          subresource: 'status',
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:status': { 'f:conditions': {}, 'f:containerStatuses': {}, 'f:podIP': {} } },
        },
      ],
    },
    spec: {
      volumes: [
        {
          name: 'kube-api-access',
          projected: {
            sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3607 } }, { configMap: { name: 'kube-root-ca.crt' } }],
          },
        },
      ],
      containers: [
        {
          name: 'app',
          image: 'gcr.io/project/app:1.2.3',
          env: Array.from({ length: 10 }, (_, k) => ({ name: `ENV_${k}`, value: `value-${k}` })),
          ports: [{ name: 'http', containerPort: 8000, protocol: 'TCP' }],
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
          readinessProbe: {
            httpGet: { path: '/ready', port: 8000, scheme: 'HTTP' },
            periodSeconds: 10,
            timeoutSeconds: 1,
            successThreshold: 1,
            failureThreshold: 3,
          },
          livenessProbe: { httpGet: { path: '/live', port: 8000, scheme: 'HTTP' }, periodSeconds: 10, timeoutSeconds: 1 },
          volumeMounts: [{ name: 'kube-api-access', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }],
        },
      ],
      nodeName: `node-${i % 100}`,
      serviceAccountName: 'default',
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
    },
    status: {
      phase: 'Running',
      podIP: `10.0.${Math.floor(i / 250)}.${i % 250}`,
      conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({
        type,
        status: 'True',
        lastTransitionTime: '2026-11-25T10:00:00Z',
      })),
      containerStatuses: [
        {
          name: 'app',
          ready: true,
          restartCount: 0,
          image: 'gcr.io/project/app:1.2.3',
          imageID: `sha256:${'a'.repeat(64)}`,
          containerID: `containerd://${'b'.repeat(64)}`,
          started: true,
        },
      ],
    },
  };
}

function benchMemory(): void {
  const N = 15_000;
  const base = heapUsed();
  // Round-trip through JSON so each object is a fresh parse, as from the API server.
  const full = Array.from({ length: N }, (_, i) => JSON.parse(JSON.stringify(fullPod(i))) as unknown);
  const fullBytes = heapUsed() - base;
  const slim = full.map(slimPod);
  full.length = 0;
  const slimBytes = heapUsed() - base;
  // eslint-disable-next-line @typescript-eslint/no-unused-expressions -- keeps `slim` reachable until its heap is measured
  slim.length;
  console.log(
    `1. informer cache, ${N} Pods: full objects ${(fullBytes / 2 ** 20).toFixed(1)} MiB, slim ${(slimBytes / 2 ** 20).toFixed(1)} MiB → slim uses ${(slimBytes / fullBytes).toFixed(2)}× the memory (${(fullBytes / slimBytes).toFixed(1)}× less)`,
  );
}

function world(n: number) {
  const services: SlimService[] = [];
  const ingresses: SlimIngress[] = [];
  const backends: BackendServiceRef[] = [];
  const checks: LiveHealthCheck[] = [];
  for (let i = 0; i < n; i++) {
    const name = `svc-${i}`;
    const hc = `k8s1-abcdef12-default-${name}-80-${i.toString(16).padStart(8, '0')}`;
    services.push({
      metadata: {
        namespace: 'default',
        name,
        uid: `u${i}`,
        resourceVersion: '1',
        generation: 1,
        annotations: { 'hcsync.io/health-path': '/healthz' },
      },
      spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8000 }] },
      status: { conditions: [] },
    });
    ingresses.push({
      metadata: {
        namespace: 'default',
        name: `ing-${i}`,
        resourceVersion: '1',
        annotations: { 'ingress.kubernetes.io/backends': JSON.stringify({ [hc]: 'HEALTHY' }) },
      },
      backends: [{ service: name, port: 80 }],
    });
    backends.push({
      name: hc,
      scope: { kind: 'global' },
      healthCheck: { name: hc, scope: { kind: 'global' } },
      service: { namespace: 'default', name, port: '80' },
      backendKind: 'neg',
    });
    checks.push({
      name: hc,
      scope: { kind: 'global' },
      id: String(i),
      type: 'HTTP',
      checkIntervalSec: 15,
      timeoutSec: 15,
      block: { requestPath: '/', host: '' },
    });
  }
  return { services, ingresses, backends, checks };
}

async function benchReconcile(): Promise<void> {
  const N = 5_000;
  const w = world(N);
  const calls: Record<string, number> = {};
  const count = (m: string) => (calls[m] = (calls[m] ?? 0) + 1);
  const api: HealthCheckApi = {
    listBackendServices: () => (count('list'), Promise.resolve(w.backends)),
    listHealthChecks: () => (count('list'), Promise.resolve(w.checks)),
    patchHealthCheck: () => (count('patch'), Promise.resolve()),
    getHealthCheck: () => (count('get'), Promise.resolve(undefined)),
  };
  const inventory = new HealthCheckInventory(api, { minRefreshIntervalMs: 60_000 });
  await inventory.refresh();
  const conditions = new Map<string, SlimCondition>();
  const view = new StaticClusterView({ services: w.services, pods: [], ingresses: w.ingresses, backendConfigs: [] });
  const reconciler = new ServiceReconciler({
    view: {
      service: (ns, n) => {
        const s = view.service(ns, n);
        const c = conditions.get(n);
        return s && c ? { ...s, status: { conditions: [c] } } : s;
      },
      podsFor: () => [],
      ingressesFor: (ns, n) => view.ingressesFor(ns, n),
      backendConfig: () => undefined,
    },
    backends: inventory,
    patcher: api,
    status: { writeCondition: (s, c) => (conditions.set(s.metadata.name, c), Promise.resolve()) },
    events: { emit: () => Promise.resolve() },
    metrics: new Metrics({ defaultMetrics: false }),
    log: silentLogger(),
    mode: 'enforce',
    inferFromLiveness: true,
    notReadyRequeueMs: 1000,
  });
  // Index Ingresses by Service once, as ClusterState does, so the bench measures reconcile.
  const byService = new Map(w.ingresses.map((ing) => [ing.backends[0]?.service, [ing]]));
  (view as unknown as { ingressesFor: (ns: string, n: string) => SlimIngress[] }).ingressesFor = (_ns, n) => byService.get(n) ?? [];

  let t = process.hrtime.bigint();
  for (const s of w.services) await reconciler.reconcile(`default/${s.metadata.name}`);
  const firstPass = Number(process.hrtime.bigint() - t) / 1e6;
  const patches = calls['patch'] ?? 0;
  t = process.hrtime.bigint();
  for (const s of w.services) await reconciler.reconcile(`default/${s.metadata.name}`);
  const steadyPass = Number(process.hrtime.bigint() - t) / 1e6;
  // Each aggregatedList is paged by 500 items, so its HTTP requests are ceil(N / 500).
  const listRequests = (calls['list'] ?? 0) * Math.ceil(N / 500);
  console.log(
    `2. GCP reads for one resync of ${N} Service ports: hcsync ${calls['list'] ?? 0} aggregatedLists = ${listRequests} HTTP requests vs ${2 * N} GETs (backend service + check per port) → ${((2 * N) / listRequests).toFixed(0)}× fewer requests; ${calls['get'] ?? 0} GETs (a GET re-verifies a patch only; a steady resync makes none)`,
  );
  console.log(
    `3. reconcile of ${N} Services: first pass (${patches} patches) vs steady pass (${(calls['patch'] ?? 0) - patches} patches, 0 status writes): steady pass takes ${(steadyPass / firstPass).toFixed(2)}× the time of the patching pass`,
  );
}

benchMemory();
await benchReconcile();
