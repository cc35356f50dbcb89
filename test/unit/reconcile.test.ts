// Reconcile over fakes of its edges: what it writes, and — as important — what it does not.
import assert from 'node:assert/strict';
import { ServiceReconciler, type ReconcileDeps } from '../../src/controller/reconcile.js';
import type { EventRecorder, StatusWriter } from '../../src/model/ports.js';
import { StaticClusterView } from '../../src/kube/cluster-view.js';
import { HealthCheckInventory } from '../../src/gcp/inventory.js';
import type { HealthCheckApi } from '../../src/gcp/compute-adapter.js';
import { GcpError } from '../../src/gcp/errors.js';
import type { BackendServiceRef, LiveHealthCheck, OwnedFields } from '../../src/model/health-check.js';
import type { SlimCondition, SlimService } from '../../src/model/kube.js';
import type { PlannedEvent } from '../../src/model/report.js';
import { Metrics } from '../../src/observability/metrics.js';
import { silentLogger } from '../../src/observability/log.js';
import { container, httpProbe, ingress, liveCheck, pod, service } from '../support/fixtures.js';

const HC = 'k8s1-abcdef12-default-web-80-12345678';
/** A pass that patched comes back once to re-verify the check (docs/gke-ingress-healthchecks.md §5.7). */
const REVERIFY = { kind: 'requeueAfter', ms: 10_000, why: 'a patched or BackendConfig-owned check is re-read then' };

/** A Compute API fake that counts calls and applies patches to its own state. */
class FakeCompute implements HealthCheckApi {
  calls: Record<string, number> = {};
  failNextPatch: GcpError | undefined;
  failLists: GcpError | undefined;
  listed: BackendServiceRef[] = [
    {
      name: HC,
      scope: { kind: 'global' },
      healthCheck: { name: HC, scope: { kind: 'global' } },
      service: { namespace: 'default', name: 'web', port: '80' },
      backendKind: 'neg',
    },
  ];
  constructor(public check: LiveHealthCheck) {}
  private count(m: string) {
    this.calls[m] = (this.calls[m] ?? 0) + 1;
  }
  listBackendServices(): Promise<BackendServiceRef[]> {
    this.count('backendServices.aggregatedList');
    return this.failLists ? Promise.reject(this.failLists) : Promise.resolve(this.listed);
  }
  listHealthChecks(): Promise<LiveHealthCheck[]> {
    this.count('healthChecks.aggregatedList');
    return Promise.resolve([this.check]);
  }
  getHealthCheck(name: string): Promise<LiveHealthCheck | undefined> {
    this.count('healthChecks.get');
    return Promise.resolve(name === this.check.name ? this.check : undefined);
  }
  patchHealthCheck(_t: unknown, fields: OwnedFields): Promise<void> {
    this.count('healthChecks.patch');
    if (this.failNextPatch) {
      const e = this.failNextPatch;
      this.failNextPatch = undefined;
      return Promise.reject(e);
    }
    this.check = { ...this.check, block: { ...this.check.block!, ...(fields.requestPath ? { requestPath: fields.requestPath } : {}) } };
    return Promise.resolve();
  }
}

class RecordingStatus implements StatusWriter {
  writes: SlimCondition[] = [];
  writeCondition(_s: SlimService, c: SlimCondition): Promise<void> {
    this.writes.push(c);
    return Promise.resolve();
  }
}
class RecordingEvents implements EventRecorder {
  events: PlannedEvent[] = [];
  emit(_s: SlimService, e: PlannedEvent): Promise<void> {
    this.events.push(e);
    return Promise.resolve();
  }
}

function setup(
  o: { annotations?: Record<string, string>; livePath?: string; mode?: 'enforce' | 'observe'; allowServiceEnforce?: boolean } = {},
) {
  const compute = new FakeCompute(liveCheck({ name: HC, requestPath: o.livePath ?? '/' }));
  const inventory = new HealthCheckInventory(compute, { minRefreshIntervalMs: 60_000 });
  const status = new RecordingStatus();
  const events = new RecordingEvents();
  const metrics = new Metrics({ defaultMetrics: false });
  let svc = service(o.annotations ? { annotations: o.annotations } : {});
  const pods = [pod([container({ livenessProbe: httpProbe('/health-check') })])];
  const view = {
    current: () =>
      new StaticClusterView({ services: [svc], pods, ingresses: [ingress({ gkeBackends: { [HC]: 'UNHEALTHY' } })], backendConfigs: [] }),
  };
  const deps: ReconcileDeps = {
    view: {
      service: (ns, n) => view.current().service(ns, n),
      podsFor: (s) => view.current().podsFor(s),
      ingressesFor: (ns, n) => view.current().ingressesFor(ns, n),
      backendConfig: (ns, n) => view.current().backendConfig(ns, n),
    },
    backends: inventory,
    patcher: compute,
    status: {
      writeCondition: async (s, c) => {
        await status.writeCondition(s, c);
        svc = { ...svc, status: { conditions: [c] } }; // as the API server would store it
      },
    },
    events,
    metrics,
    log: silentLogger(),
    mode: o.mode ?? 'enforce',
    inferFromLiveness: true,
    ...(o.allowServiceEnforce === undefined ? {} : { allowServiceEnforce: o.allowServiceEnforce }),
    notReadyRequeueMs: 1000,
  };
  return { compute, inventory, status, events, metrics, deps, reconciler: new ServiceReconciler(deps) };
}

async function driftValue(metrics: Metrics): Promise<number | undefined> {
  const m = await metrics.drift.get();
  return m.values[0]?.value;
}

describe('reconcile', () => {
  it('the story: patches / → /health-check from the livenessProbe, condition Patched, events, drift 0', async () => {
    const t = setup();
    await t.inventory.refresh();
    const outcome = await t.reconciler.reconcile('default/web');
    assert.deepEqual(outcome, REVERIFY, 'done, but back once to re-verify the patch');
    assert.equal(t.compute.check.block?.requestPath, '/health-check');
    assert.equal(t.status.writes.length, 1);
    assert.deepEqual([t.status.writes[0]?.status, t.status.writes[0]?.reason], ['True', 'Patched']);
    assert.match(t.status.writes[0]!.message, /from livenessProbe/);
    assert.deepEqual(
      t.events.events.map((e) => e.reason),
      ['HealthCheckPatched', 'LivenessProbeFallback'],
    );
    assert.equal(await driftValue(t.metrics), 0);
  });

  it('steady state: no Compute call (no write, no re-list), no status write, no Event', async () => {
    const t = setup();
    await t.inventory.refresh();
    await t.reconciler.reconcile('default/web');
    const before = { ...t.compute.calls };
    const writes = t.status.writes.length;
    const events = t.events.events.length;
    for (let i = 0; i < 20; i++) await t.reconciler.reconcile('default/web');
    assert.deepEqual(t.compute.calls, before, 'no Compute call at all in 20 reconciles');
    assert.equal(t.status.writes.length, writes);
    assert.equal(t.events.events.length, events);
  });

  it('observe mode: drift gauge 1 and Drifted, no patch', async () => {
    const t = setup({ mode: 'observe' });
    await t.inventory.refresh();
    await t.reconciler.reconcile('default/web');
    assert.equal(t.compute.calls['healthChecks.patch'], undefined);
    assert.equal(t.status.writes[0]?.reason, 'Drifted');
    assert.equal(await driftValue(t.metrics), 1);
    assert.deepEqual(
      t.events.events.map((e) => e.reason),
      ['HealthCheckDrifted', 'LivenessProbeFallback'],
    );
  });

  it('--mode observe: a Service with hcsync.io/mode: enforce is patched, unless --allow-service-enforce=false', async () => {
    const allowed = setup({ mode: 'observe', annotations: { 'hcsync.io/mode': 'enforce' } });
    await allowed.inventory.refresh();
    await allowed.reconciler.reconcile('default/web');
    assert.equal(allowed.compute.check.block?.requestPath, '/health-check');
    assert.equal(allowed.status.writes[0]?.reason, 'Patched');

    const forbidden = setup({ mode: 'observe', annotations: { 'hcsync.io/mode': 'enforce' }, allowServiceEnforce: false });
    await forbidden.inventory.refresh();
    await forbidden.reconciler.reconcile('default/web');
    assert.equal(forbidden.compute.calls['healthChecks.patch'], undefined);
    assert.equal(forbidden.compute.check.block?.requestPath, '/');
    assert.equal(forbidden.status.writes[0]?.reason, 'Drifted');
  });

  it('hcsync.io/mode: ignore → NotManaged only if hcsync had reported before; nothing patched', async () => {
    const t = setup({ annotations: { 'hcsync.io/mode': 'ignore' } });
    await t.inventory.refresh();
    await t.reconciler.reconcile('default/web');
    assert.equal(t.compute.calls['healthChecks.patch'], undefined);
    assert.equal(t.status.writes.length, 0);
  });

  it('a bad hcsync.io/mode is reported as InvalidIntent and changes nothing', async () => {
    const t = setup({ annotations: { 'hcsync.io/mode': 'sometimes' } });
    await t.inventory.refresh();
    await t.reconciler.reconcile('default/web');
    assert.equal(t.compute.calls['healthChecks.patch'], undefined);
    assert.equal(t.status.writes[0]?.reason, 'InvalidIntent');
    assert.match(t.status.writes[0].message, /hcsync.io\/mode: "sometimes" is not one of enforce, observe, ignore/);
  });

  it('a 400 from GCP → PatchFailed with GCP’s message, and the same patch is not re-sent', async () => {
    const t = setup();
    await t.inventory.refresh();
    t.compute.failNextPatch = new GcpError('invalid', 400, 'Invalid value for field requestPath');
    const outcome = await t.reconciler.reconcile('default/web');
    assert.equal(outcome.kind, 'error');
    assert.equal(
      outcome.kind === 'error' && outcome.error instanceof GcpError && outcome.error.errorClass,
      'invalid',
      'a terminal error for the error policy',
    );
    assert.equal(t.status.writes[0]?.reason, 'PatchFailed');
    assert.match(t.status.writes[0].message, /Invalid value for field requestPath/);
    assert.deepEqual(await t.reconciler.reconcile('default/web'), { kind: 'done' }, 'the next pass reports, without an error');
    assert.equal(t.compute.calls['healthChecks.patch'], 1);
  });

  it('a rate limit → error outcome (the queue backs off), PatchFailed reported', async () => {
    const t = setup();
    await t.inventory.refresh();
    t.compute.failNextPatch = new GcpError('rate_limited', 403, 'Rate Limit Exceeded');
    const outcome = await t.reconciler.reconcile('default/web');
    assert.equal(outcome.kind, 'error');
    const retry = await t.reconciler.reconcile('default/web');
    assert.deepEqual(retry, REVERIFY);
    assert.equal(t.compute.check.block?.requestPath, '/health-check');
  });

  it('a 404 on patch → BackendNotReady and requeue', async () => {
    const t = setup();
    await t.inventory.refresh();
    t.compute.failNextPatch = new GcpError('not_found', 404, 'not found');
    const outcome = await t.reconciler.reconcile('default/web');
    assert.equal(outcome.kind, 'requeueAfter');
    assert.equal(t.status.writes[0]?.reason, 'BackendNotReady');
  });

  it('reconciling a key whose Service does not exist leaves other Services’ metrics alone', async () => {
    const t = setup();
    await t.inventory.refresh();
    await t.reconciler.reconcile('default/web');
    assert.equal((await t.metrics.drift.get()).values.length, 1);
    await t.reconciler.reconcile('default/gone');
    assert.equal((await t.metrics.drift.get()).values.length, 1, 'other Services untouched');
  });

  it('a backend the inventory has not seen: reconcile re-lists GCP and patches in the same pass', async () => {
    const t = setup();
    // No refresh yet: the Ingress names a backend the (empty) inventory does not know.
    const outcome = await t.reconciler.reconcile('default/web');
    assert.deepEqual(outcome, REVERIFY);
    assert.equal(t.compute.calls['backendServices.aggregatedList'], 1);
    assert.equal(t.compute.check.block?.requestPath, '/health-check');
  });

  it('a backend still unseen after a recent re-list: BackendNotReady and requeue, no second re-list', async () => {
    const t = setup();
    await t.inventory.refresh();
    t.compute.listed = [];
    await t.inventory.refresh(); // GCP no longer lists the backend; this list is recent
    const outcome = await t.reconciler.reconcile('default/web');
    assert.equal(outcome.kind, 'requeueAfter');
    assert.equal(t.status.writes[0]?.reason, 'BackendNotReady');
    assert.equal(t.compute.calls['backendServices.aggregatedList'], 2, 'the inventory refused a re-list within its interval');
  });

  it('a re-list that fails becomes an error outcome', async () => {
    const t = setup();
    t.compute.failLists = new GcpError('retryable', 503, 'backend error');
    const outcome = await t.reconciler.reconcile('default/web');
    assert.equal(outcome.kind, 'error');
    assert.match(outcome.kind === 'error' ? outcome.error.message : '', /backend error/);
  });

  it('a failed status write becomes an error outcome; reconcile never rejects', async () => {
    const t = setup();
    await t.inventory.refresh();
    const deps = { ...t.deps, status: { writeCondition: () => Promise.reject(new Error('apiserver down')) } };
    const outcome = await new ServiceReconciler(deps).reconcile('default/web');
    assert.equal(outcome.kind, 'error');
    assert.match(outcome.kind === 'error' ? outcome.error.message : '', /writing the condition: apiserver down/);
  });

  it('an unexpected throw (here: from the cluster view) becomes an error outcome', async () => {
    const t = setup();
    const deps = {
      ...t.deps,
      view: {
        ...t.deps.view,
        service: () => {
          throw new Error('cache bug');
        },
      },
    };
    const outcome = await new ServiceReconciler(deps).reconcile('default/web');
    assert.deepEqual(outcome.kind === 'error' && outcome.error.message, 'cache bug');
  });
});
