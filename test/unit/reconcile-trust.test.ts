// Trust rules of reconcile over fakes with a clock (issue 8): a 404 is repaired at the next
// requeue, a patch is re-verified once, a list read before a patch completed cannot undo it, a
// BackendConfig change gets ingress-gce's grace before Drifted, an applied patch whose status write
// failed is still reported once, and GCP's 400 message stays in the condition.
import assert from 'node:assert/strict';
import { ServiceReconciler, backendConfigGrace, type ReconcileDeps } from '../../src/controller/reconcile.js';
import type { ClusterView } from '../../src/model/ports.js';
import { StaticClusterView } from '../../src/kube/cluster-view.js';
import { HealthCheckInventory } from '../../src/gcp/inventory.js';
import type { HealthCheckApi } from '../../src/gcp/compute-adapter.js';
import { GcpError } from '../../src/gcp/errors.js';
import type { BackendServiceRef, LiveHealthCheck, OwnedFields } from '../../src/model/health-check.js';
import type { SlimBackendConfig, SlimCondition } from '../../src/model/kube.js';
import type { PlannedEvent } from '../../src/model/report.js';
import { Metrics } from '../../src/observability/metrics.js';
import { silentLogger } from '../../src/observability/log.js';
import { backendConfig, container, httpProbe, ingress, liveCheck, pod, service } from '../support/fixtures.js';

const HC = 'k8s1-abcdef12-default-web-80-12345678';
const KEY = 'default/web';
const REQUEUE_MS = 15_000;

/** A Compute API fake: counts calls, applies patches, and can hold a list's answer (read now, answered later). */
class FakeCompute implements HealthCheckApi {
  calls: Record<string, number> = {};
  failNextPatch: GcpError | undefined;
  /** While set, listHealthChecks reads the check at call time and answers when the gate opens. */
  gate: Promise<void> | undefined;
  constructor(public check: LiveHealthCheck) {}
  private count(m: string) {
    this.calls[m] = (this.calls[m] ?? 0) + 1;
  }
  n(m: string): number {
    return this.calls[m] ?? 0;
  }
  listBackendServices(): Promise<BackendServiceRef[]> {
    this.count('backendServices.aggregatedList');
    return Promise.resolve([
      {
        name: HC,
        scope: { kind: 'global' },
        healthCheck: { name: HC, scope: { kind: 'global' } },
        service: { namespace: 'default', name: 'web', port: '80' },
        backendKind: 'neg',
      },
    ]);
  }
  async listHealthChecks(): Promise<LiveHealthCheck[]> {
    this.count('healthChecks.aggregatedList');
    const snapshot = this.check;
    if (this.gate) await this.gate;
    return [snapshot];
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
    this.setPath(fields.requestPath ?? this.check.block!.requestPath);
    this.check = {
      ...this.check,
      checkIntervalSec: fields.checkIntervalSec ?? this.check.checkIntervalSec,
      timeoutSec: fields.timeoutSec ?? this.check.timeoutSec,
    };
    return Promise.resolve();
  }
  setPath(requestPath: string, id = this.check.id): void {
    this.check = { ...this.check, id, block: { ...this.check.block!, requestPath } };
  }
}

function setup(o: { bc?: SlimBackendConfig; bcChangedAgoMs?: number; failWrites?: number } = {}) {
  let clock = Date.parse('2026-12-01T00:00:00Z');
  const compute = new FakeCompute(liveCheck({ name: HC, requestPath: '/' }));
  const inventory = new HealthCheckInventory(compute, { minRefreshIntervalMs: 60_000, now: () => clock });
  const writes: SlimCondition[] = [];
  const events: PlannedEvent[] = [];
  let failWrites = o.failWrites ?? 0;
  const annotations = o.bc ? { 'cloud.google.com/backend-config': JSON.stringify({ default: o.bc.metadata.name }) } : undefined;
  let svc = service(annotations ? { annotations } : {});
  // The probe's timing is the live check's: only the path is ever in question.
  const pods = [pod([container({ readinessProbe: httpProbe('/ready', 8000, { periodSeconds: 15, timeoutSeconds: 15 }) })])];
  const bcChangedAt = o.bcChangedAgoMs === undefined ? undefined : clock - o.bcChangedAgoMs;
  const current = () =>
    new StaticClusterView({
      services: [svc],
      pods,
      ingresses: [ingress({ gkeBackends: { [HC]: 'HEALTHY' } })],
      backendConfigs: o.bc ? [o.bc] : [],
    });
  const view: ClusterView = {
    service: (ns, n) => current().service(ns, n),
    podsFor: (s) => current().podsFor(s),
    ingressesFor: (ns, n) => current().ingressesFor(ns, n),
    backendConfig: (ns, n) => current().backendConfig(ns, n),
    backendConfigChangedAt: () => bcChangedAt,
  };
  const deps: ReconcileDeps = {
    view,
    backends: inventory,
    patcher: compute,
    status: {
      writeCondition: (_s, c) => {
        if (failWrites > 0) {
          failWrites -= 1;
          return Promise.reject(new Error('apiserver unavailable'));
        }
        writes.push(c);
        svc = { ...svc, status: { conditions: [c] } };
        return Promise.resolve();
      },
    },
    events: {
      emit: (_s, e) => {
        events.push(e);
        return Promise.resolve();
      },
    },
    metrics: new Metrics({ defaultMetrics: false }),
    log: silentLogger(),
    mode: 'enforce',
    inferFromLiveness: true,
    notReadyRequeueMs: REQUEUE_MS,
    now: () => new Date(clock),
  };
  return {
    compute,
    inventory,
    writes,
    events,
    reconciler: new ServiceReconciler(deps),
    advance: (ms: number) => (clock += ms),
    reasons: () => events.map((e) => e.reason),
  };
}

describe('reconcile: trust', () => {
  it('a 404 on patch (GKE recreating the check) is repaired at the next requeue, inside the re-list interval', async () => {
    const t = setup();
    await t.inventory.refresh();
    t.compute.failNextPatch = new GcpError('not_found', 404, 'The resource was not found');
    const first = await t.reconciler.reconcile(KEY);
    assert.equal(first.kind, 'requeueAfter');
    assert.equal(first.kind === 'requeueAfter' && first.ms, REQUEUE_MS);
    assert.equal(t.writes.at(-1)?.reason, 'BackendNotReady');
    // GKE recreated it from defaults under the same name, with a new id.
    t.compute.setPath('/', '2002');
    t.advance(REQUEUE_MS); // less than the inventory's 60 s interval
    await t.reconciler.reconcile(KEY);
    assert.equal(t.compute.n('healthChecks.aggregatedList'), 2, 'one forced re-list');
    assert.equal(t.compute.check.block?.requestPath, '/ready');
    assert.equal(t.writes.at(-1)?.reason, 'Patched');
    // The bypass is used up: a further missing check waits for the interval.
    t.compute.failNextPatch = new GcpError('not_found', 404, 'gone again');
    t.compute.setPath('/x', '3003');
    await t.inventory.refresh();
    await t.reconciler.reconcile(KEY);
    t.advance(1000);
    await t.reconciler.reconcile(KEY);
    t.advance(1000);
    await t.reconciler.reconcile(KEY);
    assert.equal(t.compute.n('healthChecks.aggregatedList'), 4, 'one forced re-list per 404, not one per pass');
  });

  it('re-verifies a patched check once with one GET, and re-applies a patch ingress-gce’s stale PUT reverted', async () => {
    const t = setup();
    await t.inventory.refresh();
    const first = await t.reconciler.reconcile(KEY);
    assert.deepEqual(first, { kind: 'requeueAfter', ms: 10_000, why: 'a patched or BackendConfig-owned check is re-read then' });
    assert.equal(t.compute.n('healthChecks.patch'), 1);
    t.compute.setPath('/'); // ingress-gce's PUT built from a GET made before the patch
    t.advance(10_000);
    const again = await t.reconciler.reconcile(KEY);
    assert.equal(t.compute.n('healthChecks.get'), 1, 'one targeted GET, no re-list');
    assert.equal(t.compute.n('healthChecks.aggregatedList'), 1);
    assert.equal(t.compute.n('healthChecks.patch'), 2, 're-applied');
    assert.equal(t.compute.check.block?.requestPath, '/ready');
    assert.deepEqual(again, { kind: 'done' }, 'a re-apply is not re-verified again (bounded)');
    t.advance(60_000);
    await t.reconciler.reconcile(KEY);
    assert.equal(t.compute.n('healthChecks.get'), 1);
  });

  it('a re-verify that finds the patch in place changes nothing', async () => {
    const t = setup();
    await t.inventory.refresh();
    await t.reconciler.reconcile(KEY);
    t.advance(10_000);
    assert.deepEqual(await t.reconciler.reconcile(KEY), { kind: 'done' });
    assert.equal(t.compute.n('healthChecks.get'), 1);
    assert.equal(t.compute.n('healthChecks.patch'), 1);
    assert.deepEqual(t.reasons(), ['HealthCheckPatched']);
  });

  it('a list read before a patch completed does not undo it: one intent change, one PATCH, one HealthCheckPatched', async () => {
    const t = setup();
    await t.inventory.refresh();
    let release!: () => void;
    t.compute.gate = new Promise((r) => (release = r));
    const resync = t.inventory.refresh(); // reads "/" now, answers later
    await t.reconciler.reconcile(KEY); // patches "/" → "/ready" meanwhile
    t.compute.gate = undefined;
    release();
    await resync;
    assert.equal(t.inventory.healthCheck(HC, { kind: 'global' })?.block?.requestPath, '/ready', 'the patched value stays');
    await t.reconciler.reconcile(KEY); // the resync re-enqueues every Service
    assert.equal(t.compute.n('healthChecks.patch'), 1);
    assert.deepEqual(t.reasons(), ['HealthCheckPatched']);
    // A list that started after the patch is the truth again (here: a hand edit).
    t.compute.setPath('/hand');
    await t.inventory.refresh();
    assert.equal(t.inventory.healthCheck(HC, { kind: 'global' })?.block?.requestPath, '/hand');
  });

  it('right after a BackendConfig change: RolloutInProgress (no Drifted) until the grace ends, then a re-read decides', async () => {
    const bc = backendConfig('bc', { requestPath: '/bc' });
    const t = setup({ bc, bcChangedAgoMs: 5_000 });
    await t.inventory.refresh();
    const first = await t.reconciler.reconcile(KEY);
    assert.equal(t.writes.at(-1)?.reason, 'RolloutInProgress');
    assert.match(t.writes.at(-1)!.message, /BackendConfig bc changed 5 s ago; ingress-gce applies it on its next sync/);
    assert.deepEqual(t.reasons(), [], 'no HealthCheckDrifted');
    assert.equal(first.kind === 'requeueAfter' && first.ms, 115_000, 'back when the grace ends');
    assert.equal(t.compute.n('healthChecks.patch'), 0, 'a BackendConfig-owned field is never patched');
    // ingress-gce never applied it: at the end of the grace, one GET, then Drifted.
    t.advance(115_000);
    await t.reconciler.reconcile(KEY);
    assert.equal(t.compute.n('healthChecks.get'), 1);
    assert.equal(t.writes.at(-1)?.reason, 'Drifted');
    assert.deepEqual(t.reasons(), ['HealthCheckDrifted']);
  });

  it('a BackendConfig change ingress-gce applies within the grace ends InSync without any Drifted', async () => {
    const bc = backendConfig('bc', { requestPath: '/bc' });
    const t = setup({ bc, bcChangedAgoMs: 1_000 });
    await t.inventory.refresh();
    await t.reconciler.reconcile(KEY);
    t.compute.setPath('/bc');
    t.advance(119_000);
    await t.reconciler.reconcile(KEY);
    assert.deepEqual(
      t.writes.map((w) => w.reason),
      ['RolloutInProgress', 'InSync'],
    );
    assert.deepEqual(t.reasons(), []);
  });

  it('backendConfigGrace: within the grace only, from when the change was seen', () => {
    const cases: [number | undefined, number, number | undefined][] = [
      [undefined, 1000, undefined], // never seen to change (e.g. existed before hcsync started)
      [0, 1000, 120_000],
      [0, 119_999, 120_000],
      [0, 120_000, undefined],
    ];
    for (const [changedAt, now, endsAt] of cases) assert.equal(backendConfigGrace(changedAt, now, 120_000)?.endsAt, endsAt);
  });

  it('a patch applied whose status write failed ends Patched with exactly one HealthCheckPatched, and is not re-sent', async () => {
    const t = setup({ failWrites: 1 });
    await t.inventory.refresh();
    const first = await t.reconciler.reconcile(KEY);
    assert.equal(first.kind, 'error');
    assert.deepEqual(t.reasons(), [], 'no Event before the condition is written');
    await t.reconciler.reconcile(KEY); // the retry
    assert.equal(t.compute.n('healthChecks.patch'), 1);
    assert.equal(t.writes.at(-1)?.reason, 'Patched');
    assert.match(t.writes.at(-1)!.message, /requestPath "\/" → "\/ready"/);
    await t.reconciler.reconcile(KEY);
    assert.deepEqual(t.reasons(), ['HealthCheckPatched']);
    assert.equal(t.writes.length, 1);
  });

  it('GCP’s 400 message stays in the condition on later passes (no second write, no second Event)', async () => {
    const t = setup();
    await t.inventory.refresh();
    t.compute.failNextPatch = new GcpError('invalid', 400, "Invalid value for field 'resource.httpHealthCheck.requestPath'");
    await t.reconciler.reconcile(KEY);
    await t.reconciler.reconcile(KEY);
    await t.reconciler.reconcile(KEY);
    assert.equal(t.compute.n('healthChecks.patch'), 1);
    assert.equal(t.writes.length, 1);
    assert.equal(t.writes[0]?.reason, 'PatchFailed');
    assert.match(t.writes[0]?.message ?? '', /Invalid value for field 'resource.httpHealthCheck.requestPath'/);
    assert.deepEqual(t.reasons(), ['HealthCheckPatchFailed']);
  });
});
