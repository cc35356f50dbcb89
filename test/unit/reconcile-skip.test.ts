// A settled pass is reused (controller/pass-reads.ts, reconcile.ts settledAsBefore; issue 11): a
// pass over a Service whose inputs are all the very objects its last settled pass read returns at
// once, and every kind of input change — the Service, a Pod added/changed/removed, the Ingress,
// a BackendConfig, the live check in GCP — is assessed in full and acted on. The Compute fake
// lists fresh copies on every list (as the real lists decode JSON), so a skip across a resync
// relies on the inventory keeping unchanged checks' objects.
import assert from 'node:assert/strict';
import { ServiceReconciler, type ReconcileDeps } from '../../src/controller/reconcile.js';
import { StaticClusterView } from '../../src/kube/cluster-view.js';
import { HealthCheckInventory } from '../../src/gcp/inventory.js';
import type { HealthCheckApi } from '../../src/gcp/compute-adapter.js';
import type { BackendServiceRef, LiveHealthCheck, OwnedFields } from '../../src/model/health-check.js';
import type { SlimBackendConfig, SlimCondition, SlimIngress, SlimPod, SlimService } from '../../src/model/kube.js';
import type { ClusterView } from '../../src/model/ports.js';
import { Metrics } from '../../src/observability/metrics.js';
import { silentLogger } from '../../src/observability/log.js';
import { backendConfig, container, httpProbe, ingress, liveCheck, pod, service } from '../support/fixtures.js';

const HC = 'k8s1-abcdef12-default-web-80-12345678';
const GLOBAL = { kind: 'global' } as const;
const KEY = 'default/web';

class FakeCompute implements HealthCheckApi {
  patches: OwnedFields[] = [];
  backend: BackendServiceRef = {
    name: HC,
    scope: GLOBAL,
    healthCheck: { name: HC, scope: GLOBAL },
    service: { namespace: 'default', name: 'web', port: '80' },
    backendKind: 'neg',
  };
  constructor(public check: LiveHealthCheck) {}
  // Fresh objects on every list, as decoding the API's JSON gives.
  listBackendServices(): Promise<BackendServiceRef[]> {
    return Promise.resolve([structuredClone(this.backend)]);
  }
  listHealthChecks(): Promise<LiveHealthCheck[]> {
    return Promise.resolve([structuredClone(this.check)]);
  }
  getHealthCheck(): Promise<LiveHealthCheck | undefined> {
    return Promise.resolve(structuredClone(this.check));
  }
  patchHealthCheck(_t: unknown, fields: OwnedFields): Promise<void> {
    this.patches.push(fields);
    const block = { ...this.check.block!, ...(fields.requestPath !== undefined ? { requestPath: fields.requestPath } : {}) };
    this.check = {
      ...this.check,
      block,
      checkIntervalSec: fields.checkIntervalSec ?? this.check.checkIntervalSec,
      timeoutSec: fields.timeoutSec ?? this.check.timeoutSec,
    };
    return Promise.resolve();
  }
}

const ready = (path: string) => pod([container({ readinessProbe: httpProbe(path, 8000, { periodSeconds: 10, timeoutSeconds: 2 }) })]);

/** A cluster whose objects are replaced, never changed in place, as the informer caches' are. */
class World {
  svc: SlimService;
  pods: SlimPod[] = [ready('/ready'), ready('/ready')];
  ingresses: SlimIngress[] = [ingress({ classAnnotation: 'gce', gkeBackends: { [HC]: 'HEALTHY' } })];
  backendConfigs: SlimBackendConfig[] = [];
  writes: SlimCondition[] = [];
  events: string[] = [];
  readonly compute = new FakeCompute(liveCheck({ name: HC, requestPath: '/ready', checkIntervalSec: 10, timeoutSec: 2 }));
  readonly inventory = new HealthCheckInventory(this.compute, { minRefreshIntervalMs: 60_000 });
  readonly metrics = new Metrics({ defaultMetrics: false });
  readonly view: ClusterView;

  constructor(annotations?: Record<string, string>) {
    this.svc = service(annotations ? { annotations } : {});
    const now = () =>
      new StaticClusterView({ services: [this.svc], pods: this.pods, ingresses: this.ingresses, backendConfigs: this.backendConfigs });
    this.view = {
      service: (ns, n) => now().service(ns, n),
      podsFor: (s) => now().podsFor(s),
      ingressesFor: (ns, n) => now().ingressesFor(ns, n),
      backendConfig: (ns, n) => now().backendConfig(ns, n),
    };
  }

  reconciler(o: Partial<Pick<ReconcileDeps, 'mode' | 'inferFromLiveness' | 'reverifyAfterMs'>> = {}): ServiceReconciler {
    return new ServiceReconciler({
      view: this.view,
      backends: this.inventory,
      patcher: this.compute,
      status: {
        writeCondition: (_s, c) => {
          this.writes.push(c);
          this.svc = { ...this.svc, status: { conditions: [c] } }; // the API server's new version
          return Promise.resolve();
        },
      },
      events: { emit: (_s, e) => (this.events.push(e.reason), Promise.resolve()) },
      metrics: this.metrics,
      log: silentLogger(),
      mode: o.mode ?? 'enforce',
      inferFromLiveness: o.inferFromLiveness ?? true,
      notReadyRequeueMs: 1000,
      ...(o.reverifyAfterMs !== undefined ? { reverifyAfterMs: o.reverifyAfterMs } : {}),
    });
  }

  /** A resync: GCP re-listed (fresh copies), then the Service reconciled. */
  async resync(r: ServiceReconciler): Promise<string> {
    await this.inventory.refresh();
    return (await r.reconcile(KEY)).kind;
  }

  /** The check object the inventory holds, changed in place behind the reconciler's back: only a full pass can see it. */
  tamperInPlace(requestPath: string): void {
    const hc = this.inventory.healthCheck(HC, GLOBAL) as { block: { requestPath: string } };
    hc.block.requestPath = requestPath;
  }
}

/** Reconciles until the Service is settled: its condition written and that write's version seen once. */
async function settle(w: World, r: ServiceReconciler): Promise<void> {
  for (let i = 0; i < 3; i++) assert.equal(await w.resync(r), 'done');
}

describe('reconcile: a settled pass is reused only while every input is the same object', () => {
  it('skips a resync when nothing changed (GCP re-listed as fresh copies), and assesses in full once passes are forgotten', async () => {
    const w = new World();
    const r = w.reconciler();
    await settle(w, r);
    assert.deepEqual(
      w.writes.map((c) => c.reason),
      ['InSync'],
    );
    await w.inventory.refresh(); // fresh copies of the same check: the inventory keeps its object
    w.tamperInPlace('/tampered');
    assert.equal(await r.reconcile(KEY).then((o) => o.kind), 'done');
    assert.equal(w.compute.patches.length, 0, 'the same objects: the pass was skipped, so the in-place change went unseen');
    // Leadership regained (Controller.startWorking) or lost: every Service is assessed in full.
    r.forgetSettledPasses();
    await r.reconcile(KEY);
    assert.deepEqual(
      w.compute.patches.map((p) => p.requestPath),
      ['/ready'],
      'a full pass sees the check and patches it',
    );
  });

  it('a skipped pass leaves every metric exactly as the full pass before it set them', async () => {
    const w = new World();
    const r = w.reconciler();
    await settle(w, r);
    const full = await w.metrics.registry.metrics();
    assert.match(full, /hcsync_health_checks\{state="in_sync"\} 1/);
    assert.match(full, /hcsync_health_check_drift\{namespace="default",service="web",port="http\/80",health_check="[^"]+"\} 0/);
    await w.resync(r);
    assert.equal(await w.metrics.registry.metrics(), full);
    r.forgetSettledPasses();
    await w.resync(r);
    assert.equal(await w.metrics.registry.metrics(), full, 'and a full pass sets the same');
  });

  const cases: { name: string; change: (w: World) => void; want: { patches?: (string | undefined)[]; condition?: string } }[] = [
    {
      name: 'the Service changed (a new annotation)',
      change: (w) => (w.svc = { ...w.svc, metadata: { ...w.svc.metadata, annotations: { 'hcsync.io/health-path': '/new' } } }),
      want: { patches: ['/new'], condition: 'Patched' },
    },
    {
      name: 'a Pod changed (its probe)',
      change: (w) => (w.pods = [ready('/v2'), ready('/v2')]),
      want: { patches: ['/v2'], condition: 'Patched' },
    },
    {
      name: 'a Pod was added (a rollout)',
      change: (w) => (w.pods = [...w.pods, ready('/v2')]),
      want: { patches: [], condition: 'RolloutInProgress' },
    },
    { name: 'the Pods were removed', change: (w) => (w.pods = []), want: { patches: [], condition: 'NoIntent' } },
    {
      name: 'the Ingress changed (another class: not GKE’s)',
      change: (w) => (w.ingresses = [ingress({ classAnnotation: 'nginx', gkeBackends: { [HC]: 'HEALTHY' } })]),
      want: { patches: [], condition: 'NotManaged' },
    },
    {
      name: 'the live check changed in GCP between resyncs',
      change: (w) => (w.compute.check = liveCheck({ name: HC, requestPath: '/hand', checkIntervalSec: 10, timeoutSec: 2 })),
      want: { patches: ['/ready'], condition: 'Patched' },
    },
  ];
  for (const c of cases) {
    it(`assesses again when ${c.name}`, async () => {
      const w = new World();
      const r = w.reconciler();
      await settle(w, r);
      const writes = w.writes.length;
      c.change(w);
      await w.resync(r);
      assert.deepEqual(
        w.compute.patches.map((p) => p.requestPath),
        c.want.patches,
      );
      assert.equal(w.writes.length, writes + 1, 'the condition is written');
      assert.equal(w.writes.at(-1)?.reason, c.want.condition);
    });
  }

  it('assesses again when a BackendConfig it read changed (its drift is reported, never patched)', async () => {
    const w = new World({ 'cloud.google.com/backend-config': '{"default":"bc"}' });
    w.backendConfigs = [backendConfig('bc', { requestPath: '/ready' })];
    const r = w.reconciler();
    await settle(w, r);
    assert.equal(w.writes.at(-1)?.reason, 'InSync');
    w.backendConfigs = [backendConfig('bc', { requestPath: '/bc2' })];
    await w.resync(r);
    assert.equal(w.writes.at(-1)?.reason, 'Drifted');
    assert.deepEqual(w.compute.patches, []);
  });

  it('passes are not shared between reconcilers with other flags (--infer-from-liveness)', async () => {
    const w = new World();
    w.pods = [pod([container({ livenessProbe: httpProbe('/ready', 8000, { periodSeconds: 10, timeoutSeconds: 2 }) })])];
    await settle(w, w.reconciler({ inferFromLiveness: true }));
    assert.equal(w.writes.at(-1)?.reason, 'InSync');
    await w.resync(w.reconciler({ inferFromLiveness: false }));
    assert.equal(w.writes.at(-1)?.reason, 'NoIntent', 'the same Service object, assessed under the other flag');
  });

  it('a pass that patched is not reused: the next one assesses (and reports) in full', async () => {
    const w = new World({ 'hcsync.io/health-path': '/annotated' });
    const r = w.reconciler();
    await w.inventory.refresh();
    assert.equal((await r.reconcile(KEY)).kind, 'requeueAfter', 'patched: back to re-verify');
    assert.deepEqual(
      w.compute.patches.map((p) => p.requestPath),
      ['/annotated'],
    );
    w.tamperInPlace('/tampered');
    await r.reconcile(KEY);
    assert.deepEqual(
      w.compute.patches.map((p) => p.requestPath),
      ['/annotated', '/annotated'],
      'not skipped: the change is seen',
    );
  });

  it('a patched check settles with its re-verify: the pass that re-read it is kept, and the next resync is skipped', async () => {
    const w = new World({ 'hcsync.io/health-path': '/annotated' });
    const r = w.reconciler({ reverifyAfterMs: 0 });
    await w.inventory.refresh();
    assert.equal((await r.reconcile(KEY)).kind, 'requeueAfter', 'patched: back to re-verify');
    assert.equal(w.writes.at(-1)?.reason, 'Patched');
    assert.equal((await r.reconcile(KEY)).kind, 'done', 're-verified (one GET): in sync, the condition stays Patched');
    assert.equal(w.writes.length, 1);
    await w.inventory.refresh();
    w.tamperInPlace('/tampered');
    assert.equal(await r.reconcile(KEY).then((o) => o.kind), 'done');
    assert.equal(w.compute.patches.length, 1, 'skipped: only the first patch');
  });

  it('the version its own condition write produced adopts that pass: the first resync after a write is skipped, unless the echo differs', async () => {
    const w = new World();
    const r = w.reconciler();
    assert.equal(await w.resync(r), 'done');
    assert.deepEqual(
      w.writes.map((c) => c.reason),
      ['InSync'],
    );
    await w.inventory.refresh();
    w.tamperInPlace('/tampered');
    assert.equal((await r.reconcile(KEY)).kind, 'done');
    assert.equal(w.compute.patches.length, 0, 'the echo (status only) adopted the writing pass: skipped');

    // The condition edited by hand in the version seen: a full pass, which puts it back.
    const u = new World();
    const ru = u.reconciler();
    await u.resync(ru);
    const edited = { ...u.writes[0]!, message: 'edited by hand' };
    u.svc = { ...u.svc, status: { conditions: [edited] } };
    await u.resync(ru);
    assert.equal(u.writes.length, 2, 'written again');
    assert.equal(u.writes[1]?.message, u.writes[0]?.message);

    // Anything hcsync reads changed along with the status: a full pass.
    const v = new World();
    const rv = v.reconciler();
    await v.resync(rv);
    v.svc = { ...v.svc, metadata: { ...v.svc.metadata, annotations: { 'hcsync.io/health-path': '/new' } } };
    await v.resync(rv);
    assert.deepEqual(
      v.compute.patches.map((p) => p.requestPath),
      ['/new'],
    );
  });
});
