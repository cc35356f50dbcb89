// Pipelined writes (issue 11): a reconcile sends its patch and returns without waiting for the
// Operation; the Service is reconciled again when the Operation settles, and only then reported.
// Over fakes whose Operations settle when the test says so.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServiceReconciler, type ReconcileDeps } from '../../src/controller/reconcile.js';
import { Fence, FencedPatcher } from '../../src/controller/fence.js';
import { RateLimitedPatcher } from '../../src/controller/write-limiter.js';
import { PatchesInFlight } from '../../src/controller/patches-in-flight.js';
import { maxPatchesInFlight } from '../../src/controller/controller.js';
import { StaticClusterView } from '../../src/kube/cluster-view.js';
import { HealthCheckInventory } from '../../src/gcp/inventory.js';
import type { HealthCheckApi } from '../../src/gcp/compute-adapter.js';
import { GcpError, OperationTimeoutError } from '../../src/gcp/errors.js';
import type { BackendServiceRef, LiveHealthCheck, OwnedFields } from '../../src/model/health-check.js';
import type { ClusterView, HealthCheckPatcher } from '../../src/model/ports.js';
import type { SlimCondition } from '../../src/model/kube.js';
import type { PlannedEvent } from '../../src/model/report.js';
import { Metrics } from '../../src/observability/metrics.js';
import { silentLogger } from '../../src/observability/log.js';
import { container, httpProbe, ingress, liveCheck, pod, service } from '../support/fixtures.js';

const HC = 'k8s1-abcdef12-default-web-80-12345678';
const KEY = 'default/web';

/** One PATCH sent: what, with which requestId, and the handle that settles its Operation. */
interface Sent {
  readonly fields: OwnedFields;
  readonly requestId: string;
  done(): void;
  fail(err: Error): void;
}

/** A Compute fake whose PATCH returns at once and whose Operation settles when the test says (DONE applies the fields). */
class SlowOperations implements HealthCheckApi {
  readonly sent: Sent[] = [];
  gets = 0;
  constructor(public check: LiveHealthCheck) {}
  listBackendServices(): Promise<BackendServiceRef[]> {
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
  listHealthChecks(): Promise<LiveHealthCheck[]> {
    return Promise.resolve([this.check]);
  }
  getHealthCheck(): Promise<LiveHealthCheck | undefined> {
    this.gets++;
    return Promise.resolve(this.check);
  }
  patchHealthCheck(_t: unknown, fields: OwnedFields, requestId: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.sent.push({
        fields,
        requestId,
        done: () => {
          this.check = { ...this.check, block: { ...this.check.block!, requestPath: fields.requestPath ?? this.check.block!.requestPath } };
          resolve();
        },
        fail: reject,
      });
    });
  }
}

function setup(o: { patcher?: (api: SlowOperations) => HealthCheckPatcher } = {}) {
  const compute = new SlowOperations(liveCheck({ name: HC, requestPath: '/' }));
  const inventory = new HealthCheckInventory(compute, { minRefreshIntervalMs: 60_000 });
  const writes: SlimCondition[] = [];
  const events: PlannedEvent[] = [];
  const settled: string[] = [];
  /** Per settle: whether the Service was re-queued as urgent (the patch did not apply). */
  const urgency: boolean[] = [];
  let svc = service();
  const pods = [pod([container({ livenessProbe: httpProbe('/health-check') })])];
  const current = () =>
    new StaticClusterView({ services: [svc], pods, ingresses: [ingress({ gkeBackends: { [HC]: 'UNHEALTHY' } })], backendConfigs: [] });
  const view: ClusterView = {
    service: (ns, n) => current().service(ns, n),
    podsFor: (s) => current().podsFor(s),
    ingressesFor: (ns, n) => current().ingressesFor(ns, n),
    backendConfig: (ns, n) => current().backendConfig(ns, n),
  };
  const deps: ReconcileDeps = {
    view,
    backends: inventory,
    patcher: o.patcher ? o.patcher(compute) : compute,
    status: {
      writeCondition: (_s, c) => {
        writes.push(c);
        svc = { ...svc, status: { conditions: [c] } };
        return Promise.resolve();
      },
    },
    events: { emit: (_s, e) => Promise.resolve(void events.push(e)) },
    metrics: new Metrics({ defaultMetrics: false }),
    log: silentLogger(),
    mode: 'enforce',
    inferFromLiveness: true,
    notReadyRequeueMs: 15_000,
    onPatchSettled: (keys, urgent) => {
      settled.push(...keys);
      urgency.push(urgent);
    },
  };
  return { compute, inventory, writes, events, settled, urgency, reconciler: new ServiceReconciler(deps) };
}

/** Lets the settle callbacks (promise reactions) run. */
const tick = () => sleep(5);

describe('reconcile: pipelined writes', () => {
  it('the worker is free while the Operation runs: the pass returns at once and reports nothing yet', async () => {
    const t = setup();
    await t.inventory.refresh();
    const outcome = await t.reconciler.reconcile(KEY);
    assert.deepEqual(outcome, { kind: 'done' });
    assert.equal(t.compute.sent.length, 1, 'the PATCH was sent');
    assert.equal(t.reconciler.patchesInFlight, 1);
    assert.deepEqual(t.writes, [], 'no condition before the Operation is DONE');
    assert.deepEqual(t.events, []);
    assert.deepEqual(t.settled, []);
  });

  it('Patched (condition and one HealthCheckPatched) only after the Operation is DONE, from the pass it brings back', async () => {
    const t = setup();
    await t.inventory.refresh();
    await t.reconciler.reconcile(KEY);
    t.compute.sent[0]!.done();
    await tick();
    assert.deepEqual(t.settled, [KEY], 'the settled Operation re-queues its Service');
    assert.deepEqual(t.urgency, [false], 'a report pass waits its turn');
    assert.equal(t.reconciler.patchesInFlight, 0);
    const outcome = await t.reconciler.reconcile(KEY);
    assert.deepEqual([t.writes[0]?.status, t.writes[0]?.reason], ['True', 'Patched']);
    assert.deepEqual(
      t.events.map((e) => e.reason),
      ['HealthCheckPatched', 'LivenessProbeFallback'],
    );
    assert.equal(outcome.kind, 'requeueAfter', 'comes back to re-verify the check');
    assert.equal(t.compute.sent.length, 1);
    await t.reconciler.reconcile(KEY);
    assert.equal(t.writes.length, 1, 'reported once');
  });

  it('an Operation DONE with an error → PatchFailed with GCP’s message, not re-sent (a 400 is terminal)', async () => {
    const t = setup();
    await t.inventory.refresh();
    await t.reconciler.reconcile(KEY);
    const gcp = new GcpError('invalid', 400, 'operation op-1 on hc: INVALID_USAGE: timeoutSec must be <= checkIntervalSec');
    t.compute.sent[0]!.fail(gcp);
    await tick();
    assert.deepEqual(t.settled, [KEY]);
    assert.deepEqual(t.urgency, [true], 'a failed patch is looked at before a resync backlog');
    const outcome = await t.reconciler.reconcile(KEY);
    assert.deepEqual([t.writes[0]?.status, t.writes[0]?.reason], ['False', 'PatchFailed']);
    assert.match(t.writes[0]?.message ?? '', /timeoutSec must be <= checkIntervalSec/);
    assert.equal(outcome.kind, 'error');
    await t.reconciler.reconcile(KEY);
    assert.equal(t.compute.sent.length, 1, 'the rejected patch is not re-sent');
    assert.equal(t.writes.length, 1);
  });

  it('an Operation that fails transiently is reported once and re-sent on the backoff’s pass, not at once', async () => {
    const t = setup();
    await t.inventory.refresh();
    await t.reconciler.reconcile(KEY);
    t.compute.sent[0]!.fail(new GcpError('retryable', 503, 'operation op-1: backendError'));
    await tick();
    const first = await t.reconciler.reconcile(KEY);
    assert.equal(first.kind, 'error', 'the error policy backs off');
    assert.equal(t.writes[0]?.reason, 'PatchFailed');
    assert.equal(t.compute.sent.length, 1, 'the pass that reports the failure does not re-send');
    await t.reconciler.reconcile(KEY);
    assert.equal(t.compute.sent.length, 2, 'the next pass re-sends');
  });

  it('no second PATCH while one is in flight: resyncs and events of the Service, even concurrent ones, wait for it', async () => {
    const t = setup();
    await t.inventory.refresh();
    await Promise.all([t.reconciler.reconcile(KEY), t.reconciler.reconcile(KEY)]);
    await t.inventory.refresh(); // a resync list while the Operation runs still shows the old path
    for (let i = 0; i < 3; i++) assert.deepEqual(await t.reconciler.reconcile(KEY), { kind: 'done' });
    assert.equal(t.compute.sent.length, 1);
    t.compute.sent[0]!.done();
    await tick();
    await t.reconciler.reconcile(KEY);
    await t.inventory.refresh();
    await t.reconciler.reconcile(KEY);
    assert.equal(t.compute.sent.length, 1, 'one intent change, one PATCH');
    assert.equal(t.events.filter((e) => e.reason === 'HealthCheckPatched').length, 1);
  });

  it('a wait that times out: the next pass re-reads the check (GET) before it re-patches, with a new Operation', async () => {
    const t = setup();
    await t.inventory.refresh();
    await t.reconciler.reconcile(KEY);
    const first = t.compute.sent[0]!;
    first.fail(new OperationTimeoutError('operation op-1 on hc did not finish within 20 s; checked again later'));
    await tick();
    assert.deepEqual(t.settled, [KEY], 'the Service is looked at again at once');
    assert.equal(t.compute.gets, 0);
    await t.reconciler.reconcile(KEY); // still not applied in GCP: re-read, then patched again
    assert.equal(t.compute.gets, 1, 're-read before the re-patch');
    assert.equal(t.compute.sent.length, 2);
    assert.notEqual(t.compute.sent[1]!.requestId, first.requestId, 'a new Operation, not a wait on the one that may be stuck');
    t.compute.sent[1]!.done();
    await tick();
    await t.reconciler.reconcile(KEY);
    assert.equal(t.writes.at(-1)?.reason, 'Patched');
  });

  it('a wait that times out on an Operation that did apply: the re-read shows it, nothing is re-sent', async () => {
    const t = setup();
    await t.inventory.refresh();
    await t.reconciler.reconcile(KEY);
    t.compute.check = { ...t.compute.check, block: { ...t.compute.check.block!, requestPath: '/health-check' } }; // applied late
    t.compute.sent[0]!.fail(new OperationTimeoutError('operation op-1 did not finish within 20 s'));
    await tick();
    await t.reconciler.reconcile(KEY);
    await t.reconciler.reconcile(KEY);
    assert.equal(t.compute.sent.length, 1);
    assert.equal(t.writes.at(-1)?.reason, 'InSync');
  });

  it('step-down abandons the Operation wait: nothing more is written or re-queued, and no later patch is sent', async () => {
    let leading = true;
    const fence = new Fence(() => leading);
    let limiter: RateLimitedPatcher | undefined;
    const t = setup({ patcher: (api) => (limiter = new RateLimitedPatcher(new FencedPatcher(api, fence), 100)) });
    await t.inventory.refresh();
    await t.reconciler.reconcile(KEY);
    assert.equal(t.compute.sent.length, 1);
    leading = false;
    fence.close('lost the Lease');
    limiter!.dropQueued('lost the Lease');
    await tick();
    assert.equal(t.reconciler.patchesInFlight, 0, 'the wait is abandoned');
    t.compute.sent[0]!.done(); // the Operation ends in GCP after all
    await tick();
    assert.deepEqual(t.settled, [], 'not re-queued');
    assert.deepEqual(t.writes, []);
    await t.reconciler.reconcile(KEY);
    assert.equal(t.compute.sent.length, 1, 'no patch leaves a replica that stepped down');
  });

  it('shutdown drain: an Operation that settles after the queue stopped is still reported once', async () => {
    const t = setup();
    await t.inventory.refresh();
    await t.reconciler.reconcile(KEY);
    t.reconciler.holdSettled();
    const drained = t.reconciler.drain();
    t.compute.sent[0]!.done();
    await drained;
    assert.deepEqual(t.settled, [], 'kept for the drain, not re-queued');
    assert.equal(t.writes[0]?.reason, 'Patched');
  });
});

describe('patches in flight', () => {
  it('one reservation per check; later callers are told when it settles', () => {
    const p = new PatchesInFlight(10);
    assert.ok(p.reserve('global/hc', 'ns/a', 'e1'));
    assert.equal(p.reserve('global/hc', 'ns/b', 'e1'), undefined);
    assert.equal(p.reserve('global/hc', 'ns/a', 'e1'), undefined);
    assert.deepEqual(p.release('global/hc'), ['ns/a', 'ns/b']);
    assert.ok(p.reserve('global/hc', 'ns/b', 'e1'));
  });

  it('bounded: a reservation beyond the limit waits for a slot', async () => {
    const p = new PatchesInFlight(2);
    const a = p.reserve('a', 'k', 'e')!;
    const b = p.reserve('b', 'k', 'e')!;
    const c = p.reserve('c', 'k', 'e')!;
    await p.acquire(a);
    await p.acquire(b);
    let third = false;
    const waiting = p.acquire(c).then(() => (third = true));
    await tick();
    assert.equal(third, false);
    p.release('a');
    await waiting;
    assert.equal(third, true);
    p.release('b');
    p.release('c');
    await p.idle();
  });

  it('the bound is --gcp-write-qps × the 20 s Operation deadline, within [10, 2000]', () => {
    assert.deepEqual([maxPatchesInFlight(25), maxPatchesInFlight(0.1), maxPatchesInFlight(500)], [500, 10, 2000]);
  });
});
