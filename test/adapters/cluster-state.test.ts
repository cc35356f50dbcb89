// ClusterState's event → enqueue path, fed through its informers' own watch handlers (no API
// server): which Service keys each Pod and Service event hands to the work queue.
import assert from 'node:assert/strict';
import { KubeConfig } from '@kubernetes/client-node';
import { ClusterState } from '../../src/kube/cluster-state.js';
import { slimIngress, slimPod, slimService } from '../../src/kube/slim.js';
import { silentLogger } from '../../src/observability/log.js';
import { Metrics } from '../../src/observability/metrics.js';
import { ServiceReconciler } from '../../src/controller/reconcile.js';
import { HealthCheckInventory } from '../../src/gcp/inventory.js';
import type { HealthCheckApi } from '../../src/gcp/compute-adapter.js';
import type { BackendServiceRef, LiveHealthCheck } from '../../src/model/health-check.js';
import { negBackendName } from '../../src/model/ingress-gce-names.js';

type Kind = 'services' | 'pods' | 'ingresses';
const SLIM = { services: slimService, pods: slimPod, ingresses: slimIngress } as const;

function clusterState() {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  const enqueued: string[] = [];
  const cluster = new ClusterState(kc, [], silentLogger(), (keys) => enqueued.push(...keys));
  let rv = 1;
  const nextResourceVersion = () => String(rv);
  /** A watch event as the API server sends it, through the informer's own handler (ListWatch.watchHandler, with the version it replaces known). */
  const watch = (kind: Kind, phase: 'ADDED' | 'MODIFIED' | 'DELETED', raw: { metadata: Record<string, unknown>; [k: string]: unknown }) => {
    const obj = SLIM[kind]({
      ...raw,
      metadata: { uid: `${String(raw.metadata['name'])}-uid`, ...raw.metadata, resourceVersion: String(rv++) },
    });
    const family = (
      cluster as unknown as Record<
        Kind,
        { informers: { lw: { watchHandler(p: string, o: unknown): void }; handlingWatchEvent(o: unknown, handle: () => void): void }[] }
      >
    )[kind];
    for (const inf of family.informers) inf.handlingWatchEvent(obj, () => inf.lw.watchHandler(phase, obj));
  };
  return { cluster, enqueued, watch, nextResourceVersion };
}

const svc = (name: string, selector: Record<string, string>) => ({
  metadata: { namespace: 'default', name },
  spec: { selector, ports: [{ name: 'http', port: 80, targetPort: 8000 }] },
});
const gkeIngress = (service: string) => ({
  metadata: { namespace: 'default', name: `ing-${service}`, annotations: { 'kubernetes.io/ingress.class': 'gce' } },
  spec: { defaultBackend: { service: { name: service, port: { number: 80 } } } },
});
const rawPod = (name: string, labels: Record<string, string>, o: { podIP?: string; path?: string } = {}) => ({
  metadata: { namespace: 'default', name, labels, creationTimestamp: '2026-11-29T10:00:00Z' },
  spec: { containers: [{ name: 'app', readinessProbe: { httpGet: { path: o.path ?? '/ready', port: 8000 } } }] },
  status: { phase: 'Running', podIP: o.podIP ?? '10.0.0.1' },
});

describe('cluster state: Pod and Service events → enqueued Services', () => {
  it('a Pod update that changes nothing hcsync reads (a new podIP) enqueues nothing; a probe change enqueues its Service', () => {
    const { cluster, enqueued, watch } = clusterState();
    watch('services', 'ADDED', svc('web', { app: 'web' }));
    watch('ingresses', 'ADDED', gkeIngress('web'));
    watch('pods', 'ADDED', rawPod('web-1', { app: 'web' }));
    enqueued.length = 0;
    watch('pods', 'MODIFIED', rawPod('web-1', { app: 'web' }, { podIP: '10.0.0.2' }));
    assert.deepEqual(enqueued, []);
    watch('pods', 'MODIFIED', rawPod('web-1', { app: 'web' }, { podIP: '10.0.0.2', path: '/healthz' }));
    assert.deepEqual(enqueued, ['default/web']);
    assert.equal(cluster.podsFor(cluster.service('default', 'web')!)[0]?.spec.containers[0]?.readinessProbe?.httpGet?.path, '/healthz');
  });

  it("a Pod selected only by a Service's new selector: deleting it enqueues that Service, and podsFor no longer lists it", () => {
    const { cluster, enqueued, watch } = clusterState();
    watch('ingresses', 'ADDED', gkeIngress('web'));
    watch('services', 'ADDED', svc('web', { app: 'web' }));
    watch('pods', 'ADDED', rawPod('v2-1', { app: 'web-v2' }));
    watch('services', 'MODIFIED', svc('web', { app: 'web-v2' }));
    assert.deepEqual(
      cluster.podsFor(cluster.service('default', 'web')!).map((p) => p.metadata.name),
      ['v2-1'],
    );
    enqueued.length = 0;
    watch('pods', 'DELETED', rawPod('v2-1', { app: 'web-v2' }));
    assert.deepEqual(enqueued, ['default/web']);
    assert.deepEqual(cluster.podsFor(cluster.service('default', 'web')!), []);
  });

  it('a relabelled Pod enqueues the Service it left and the one it joined', () => {
    const { cluster, enqueued, watch } = clusterState();
    for (const s of ['web', 'api']) {
      watch('services', 'ADDED', svc(s, { app: s }));
      watch('ingresses', 'ADDED', gkeIngress(s));
    }
    watch('pods', 'ADDED', rawPod('p', { app: 'web' }));
    enqueued.length = 0;
    watch('pods', 'MODIFIED', rawPod('p', { app: 'api' }));
    assert.deepEqual([...enqueued].sort(), ['default/api', 'default/web']);
    assert.deepEqual(
      cluster.podsFor(cluster.service('default', 'api')!).map((p) => p.metadata.name),
      ['p'],
    );
  });

  it("the watch event echoing hcsync's own condition write enqueues nothing; a later change by anyone else does", () => {
    const { cluster, enqueued, watch, nextResourceVersion } = clusterState();
    watch('ingresses', 'ADDED', gkeIngress('web'));
    watch('services', 'ADDED', svc('web', { app: 'web' }));
    const condition = {
      type: 'HealthCheckInSync',
      status: 'True',
      reason: 'InSync',
      message: 'in sync',
      lastTransitionTime: '2026-11-29T10:00:00Z',
    };
    enqueued.length = 0;
    cluster.ownStatusWritten(cluster.service('default', 'web')!, nextResourceVersion());
    watch('services', 'MODIFIED', { ...svc('web', { app: 'web' }), status: { conditions: [condition] } });
    assert.deepEqual(enqueued, [], 'the echo of the write');
    watch('services', 'MODIFIED', { ...svc('web', { app: 'web' }), status: { conditions: [{ ...condition, message: 'edited by hand' }] } });
    assert.deepEqual(enqueued, ['default/web'], 'a hand edit of the condition is reconciled (and put back)');
  });

  it("a write whose echo arrived before its response leaves no note (it held the old Service until the Service's next event)", () => {
    const { cluster, enqueued, watch, nextResourceVersion } = clusterState();
    const notes = () => (cluster as unknown as { ownStatusWrites: Map<string, unknown> }).ownStatusWrites.size;
    watch('ingresses', 'ADDED', gkeIngress('web'));
    watch('services', 'ADDED', svc('web', { app: 'web' }));
    const assessed = cluster.service('default', 'web')!;
    const written = nextResourceVersion();
    watch('services', 'MODIFIED', {
      ...svc('web', { app: 'web' }),
      status: { conditions: [{ type: 'HealthCheckInSync', status: 'True' }] },
    });
    cluster.ownStatusWritten(assessed, written);
    assert.equal(notes(), 0);
    // The echo not yet seen: the note is kept, and the echo consumes it.
    enqueued.length = 0;
    cluster.ownStatusWritten(cluster.service('default', 'web')!, nextResourceVersion());
    assert.equal(notes(), 1);
    watch('services', 'MODIFIED', {
      ...svc('web', { app: 'web' }),
      status: { conditions: [{ type: 'HealthCheckInSync', status: 'False' }] },
    });
    assert.deepEqual([notes(), enqueued], [0, []]);
  });

  it("an event at the version of hcsync's write that also carries another change (a re-list folds them) is reconciled", () => {
    const { cluster, enqueued, watch, nextResourceVersion } = clusterState();
    watch('ingresses', 'ADDED', gkeIngress('web'));
    watch('services', 'ADDED', svc('web', { app: 'web' }));
    enqueued.length = 0;
    cluster.ownStatusWritten(cluster.service('default', 'web')!, nextResourceVersion());
    const edited = svc('web', { app: 'web' });
    watch('services', 'MODIFIED', { ...edited, metadata: { ...edited.metadata, annotations: { 'hcsync.io/health-path': '/x' } } });
    assert.deepEqual(enqueued, ['default/web']);
  });
});

describe('cluster state: a steady resync', () => {
  it('of N in-sync Services (3 Pods each, two namespaces) makes 0 status writes, 0 Events, 0 PATCHes and 0 GETs', async () => {
    const N = 200;
    const { cluster, watch } = clusterState();
    const ns = (i: number) => `ns-${i % 2}`;
    const backends: BackendServiceRef[] = [];
    const checks: LiveHealthCheck[] = [];
    for (let i = 0; i < N; i++) {
      const name = negBackendName('abcdef12', ns(i), `svc-${i}`, 80);
      backends.push({
        name,
        scope: { kind: 'global' },
        healthCheck: { name, scope: { kind: 'global' } },
        service: { namespace: ns(i), name: `svc-${i}`, port: '80' },
        backendKind: 'neg',
      });
      checks.push({
        name,
        scope: { kind: 'global' },
        id: String(i),
        type: 'HTTP',
        checkIntervalSec: 10,
        timeoutSec: 1,
        block: { requestPath: '/ready', host: '', portSpecification: 'USE_SERVING_PORT' },
      });
      const s = svc(`svc-${i}`, { app: `svc-${i}` });
      watch('services', 'ADDED', { ...s, metadata: { ...s.metadata, namespace: ns(i) } });
      const ing = gkeIngress(`svc-${i}`);
      watch('ingresses', 'ADDED', {
        ...ing,
        metadata: {
          ...ing.metadata,
          namespace: ns(i),
          annotations: { ...ing.metadata.annotations, 'ingress.kubernetes.io/backends': JSON.stringify({ [name]: 'HEALTHY' }) },
        },
      });
      for (let j = 0; j < 3; j++) {
        const p = rawPod(`svc-${i}-${j}`, { app: `svc-${i}` });
        const probe = { httpGet: { path: '/ready', port: 8000 }, periodSeconds: 10, timeoutSeconds: 1 };
        watch('pods', 'ADDED', {
          ...p,
          metadata: { ...p.metadata, namespace: ns(i) },
          spec: { containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8000 }], readinessProbe: probe }] },
        });
      }
    }
    const calls: string[] = [];
    const api: HealthCheckApi = {
      listBackendServices: () => Promise.resolve(backends),
      listHealthChecks: () => Promise.resolve(checks),
      patchHealthCheck: (t) => (calls.push(`PATCH ${t.name}`), Promise.resolve()),
      getHealthCheck: (n) => (calls.push(`GET ${n}`), Promise.resolve(undefined)),
    };
    const inventory = new HealthCheckInventory(api, { minRefreshIntervalMs: 15_000 });
    const writes: string[] = [];
    const reconciler = new ServiceReconciler({
      view: cluster,
      backends: inventory,
      patcher: api,
      status: {
        // As the API server would: the condition comes back through the watch.
        writeCondition: (s, c) => {
          writes.push(`${s.metadata.name} ${c.reason}: ${c.message}`);
          watch('services', 'MODIFIED', {
            ...svc(s.metadata.name, { app: s.metadata.name }),
            metadata: { namespace: s.metadata.namespace, name: s.metadata.name },
            status: { conditions: [c] },
          });
          return Promise.resolve();
        },
      },
      events: { emit: (s, e) => (writes.push(`Event ${s.metadata.name} ${e.reason}`), Promise.resolve()) },
      metrics: new Metrics({ defaultMetrics: false }),
      log: silentLogger(),
      mode: 'enforce',
      inferFromLiveness: true,
      notReadyRequeueMs: 15_000,
    });
    const resync = async () => {
      await inventory.refresh();
      for (const k of cluster.managedServiceKeys()) assert.equal((await reconciler.reconcile(k)).kind, 'done', k);
    };
    await resync();
    assert.equal(writes.length, N, `the first pass writes each InSync condition once: ${writes.slice(0, 3).join(' | ')}`);
    assert.ok(
      writes.every((w) => w.includes(' InSync: ')),
      writes[0],
    );
    writes.length = 0;
    await resync();
    await resync();
    assert.deepEqual(writes, []);
    assert.deepEqual(calls, []);
  });
});
