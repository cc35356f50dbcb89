// What the controller hands the memory trim (controller.ts controllerWork, cli/memory-trim.ts): it
// is idle only when no Service is queued or being reconciled, no patch is in flight or waiting for a
// slot, and GCP is not being listed. Over the real work queue, reconciler (its patches in flight)
// and inventory, wired as controller.ts wires them, and a Compute fake whose lists and Operations
// finish when the test says.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { controllerWork } from '../../src/controller/controller.js';
import { RETRY_BACKOFF, requeueFor, type Outcome } from '../../src/controller/outcome.js';
import { ServiceReconciler } from '../../src/controller/reconcile.js';
import { WorkQueue } from '../../src/controller/workqueue.js';
import { StaticClusterView } from '../../src/kube/cluster-view.js';
import { HealthCheckInventory } from '../../src/gcp/inventory.js';
import type { HealthCheckApi } from '../../src/gcp/compute-adapter.js';
import type { BackendServiceRef, LiveHealthCheck, OwnedFields } from '../../src/model/health-check.js';
import type { SlimService } from '../../src/model/kube.js';
import { Metrics } from '../../src/observability/metrics.js';
import { silentLogger } from '../../src/observability/log.js';
import { container, httpProbe, ingress, liveCheck, pod, service } from '../support/fixtures.js';

const g = { kind: 'global' } as const;
const NAMES = ['a', 'b'];
const hcOf = (name: string) => `k8s1-abcdef12-default-${name}-80-12345678`;

/** Two checks needing a patch; a list waits for `listGate` when set, an Operation for its done(). */
class Compute implements HealthCheckApi {
  readonly checks = new Map(NAMES.map((n) => [hcOf(n), liveCheck({ name: hcOf(n), requestPath: '/' })]));
  readonly sent: { name: string; done(): void }[] = [];
  listGate: Promise<void> | undefined;
  listBackendServices(): Promise<BackendServiceRef[]> {
    return Promise.resolve(
      NAMES.map((n) => ({
        name: hcOf(n),
        scope: g,
        healthCheck: { name: hcOf(n), scope: g },
        service: { namespace: 'default', name: n, port: '80' },
        backendKind: 'neg' as const,
      })),
    );
  }
  async listHealthChecks(): Promise<LiveHealthCheck[]> {
    await this.listGate;
    return [...this.checks.values()];
  }
  getHealthCheck(name: string): Promise<LiveHealthCheck | undefined> {
    return Promise.resolve(this.checks.get(name));
  }
  patchHealthCheck(t: { name: string }, fields: OwnedFields): Promise<void> {
    return new Promise<void>((resolve) =>
      this.sent.push({
        name: t.name,
        done: () => {
          const c = this.checks.get(t.name)!;
          this.checks.set(t.name, { ...c, block: { ...c.block!, requestPath: fields.requestPath ?? '/' } });
          resolve();
        },
      }),
    );
  }
}

function setup() {
  const compute = new Compute();
  const inventory = new HealthCheckInventory(compute, { minRefreshIntervalMs: 60_000 });
  const services = new Map<string, SlimService>(NAMES.map((n) => [n, service({ name: n, selector: { app: n } })]));
  const pods = NAMES.map((n) => pod([container({ livenessProbe: httpProbe('/health-check') })], { labels: { app: n } }));
  const ingresses = NAMES.map((n) =>
    ingress({ name: `ing-${n}`, backends: [{ service: n, port: 80 }], gkeBackends: { [hcOf(n)]: 'UNHEALTHY' } }),
  );
  const view = () => new StaticClusterView({ services: [...services.values()], pods, ingresses, backendConfigs: [] });
  const reconciler = new ServiceReconciler({
    view: {
      service: (ns, name) => view().service(ns, name),
      podsFor: (s) => view().podsFor(s),
      ingressesFor: (ns, name) => view().ingressesFor(ns, name),
      backendConfig: (ns, name) => view().backendConfig(ns, name),
    },
    backends: inventory,
    patcher: compute,
    status: {
      writeCondition: (s, c) => Promise.resolve(void services.set(s.metadata.name, { ...s, status: { conditions: [c] } })),
    },
    events: { emit: () => Promise.resolve() },
    metrics: new Metrics({ defaultMetrics: false }),
    log: silentLogger(),
    mode: 'enforce',
    inferFromLiveness: true,
    notReadyRequeueMs: 15_000,
    // One slot: the second Service's patch waits for it.
    maxPatchesInFlight: 1,
    // As controller.ts wires them: a settled Operation re-queues its Service.
    onPatchSettled: (keys, urgent) => keys.forEach((k) => queue.add(k, urgent)),
  });
  const queue = new WorkQueue<Outcome>((key) => reconciler.reconcile(key), { concurrency: 2, decide: requeueFor, onThrow: RETRY_BACKOFF });
  const work = () => controllerWork(queue, reconciler, inventory);
  return { compute, inventory, reconciler, queue, work };
}

/** Waits until `cond` holds (the machine may be loaded: no fixed sleep); fails after 5 s. */
async function until(cond: () => boolean): Promise<void> {
  const deadline = performance.now() + 5_000;
  while (!cond()) {
    assert.ok(performance.now() < deadline, 'timed out');
    await sleep(2);
  }
}

describe('controllerWork: what holds the memory trim', () => {
  it('is busy while GCP is listed, Services are queued or reconciling, or a patch is in flight or waits for a slot; idle only after', async () => {
    const t = setup();
    assert.equal(t.work(), undefined, 'a new controller has nothing to do');

    let release!: () => void;
    t.compute.listGate = new Promise((r) => (release = r));
    const listed = t.inventory.refresh();
    assert.equal(t.work(), 'listing GCP');
    release();
    await listed;
    assert.equal(t.work(), undefined, 'the list is over');

    // From here until the last Operation is DONE, the controller is never idle: sampled every turn of the loop.
    const samples: (string | undefined)[] = [];
    const sampler = setInterval(() => samples.push(t.work()), 1);
    let busyUntil: number | undefined;
    try {
      t.queue.add('default/a');
      t.queue.add('default/b');
      assert.equal(t.work(), '2 Services queued or reconciling');
      await t.queue.onIdle();
      assert.equal(t.queue.active, 0, 'both passes returned: the workers do not wait for Operations or slots');
      assert.deepEqual(
        t.compute.sent.map((s) => s.name),
        [hcOf('a')],
      );
      assert.equal(t.work(), '2 health check patches in flight', "a's Operation runs; b's patch waits for the slot");

      t.compute.sent[0]!.done(); // a's Operation settles: the slot goes to b's patch, a's report pass is queued
      await until(() => t.compute.sent.length === 2);
      await t.queue.onIdle();
      assert.equal(t.work(), '1 health check patches in flight', "b's Operation runs");

      busyUntil = samples.length;
      t.compute.sent[1]!.done(); // b's Operation settles: its report pass runs, then nothing is left to do
      await until(() => t.work() === undefined);
      await sleep(10);
    } finally {
      clearInterval(sampler);
    }
    assert.ok(
      busyUntil !== undefined && busyUntil > 0 && samples.slice(0, busyUntil).every((s) => s !== undefined),
      `idle too early: ${JSON.stringify(samples)}`,
    );
    const idleFrom = samples.indexOf(undefined);
    assert.ok(idleFrom >= busyUntil && samples.slice(idleFrom).every((s) => s === undefined), `busy again: ${JSON.stringify(samples)}`);
    assert.equal(t.reconciler.patchesInFlight, 0);
    // The re-verifies are due in 10 s (requeueAfter): work due later is not work now.
    assert.equal(t.work(), undefined);
    await t.queue.shutdown();
  });
});
