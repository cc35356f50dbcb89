// The post-convergence backlog (issue 11): after a burst of patches, re-verifies ride on one
// coalesced list instead of a GET per check, and a pass whose patch waits for a write slot does
// not hold its worker (the report passes of settled Services are not starved). Over a fake Compute
// API of many checks whose Operations settle when the test says so.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServiceReconciler, type ReconcileDeps } from '../../src/controller/reconcile.js';
import { Fence, FencedPatcher } from '../../src/controller/fence.js';
import { RateLimitedPatcher } from '../../src/controller/write-limiter.js';
import { StaticClusterView } from '../../src/kube/cluster-view.js';
import { HealthCheckInventory } from '../../src/gcp/inventory.js';
import type { HealthCheckApi } from '../../src/gcp/compute-adapter.js';
import type { BackendServiceRef, LiveHealthCheck, OwnedFields } from '../../src/model/health-check.js';
import type { HealthCheckPatcher } from '../../src/model/ports.js';
import type { SlimCondition, SlimService } from '../../src/model/kube.js';
import type { PlannedEvent } from '../../src/model/report.js';
import { Metrics } from '../../src/observability/metrics.js';
import { silentLogger, type Logger } from '../../src/observability/log.js';
import { container, httpProbe, ingress, liveCheck, pod, service } from '../support/fixtures.js';

const g = { kind: 'global' } as const;
const nameOf = (i: number) => `svc-${i}`;
const keyOf = (i: number) => `default/${nameOf(i)}`;
const hcOf = (i: number) => `k8s1-abcdef12-default-svc-${i}-80-${String(i).padStart(8, '0')}`;

/** A Compute fake over many checks: counts reads; a PATCH is sent at once and its Operation settles when the test says (or at once, `autoDone`). */
class Fleet implements HealthCheckApi {
  readonly checks = new Map<string, LiveHealthCheck>();
  readonly sent: { name: string; fields: OwnedFields; done(): void }[] = [];
  gets = 0;
  lists = 0;
  autoDone = false;
  /** The next this many health-check lists fail with this error (a 5xx, a network error). */
  failLists: { count: number; error: Error } = { count: 0, error: new Error('') };
  constructor(n: number) {
    for (let i = 0; i < n; i++) this.checks.set(hcOf(i), liveCheck({ name: hcOf(i), id: String(1000 + i), requestPath: '/' }));
  }
  listBackendServices(): Promise<BackendServiceRef[]> {
    return Promise.resolve(
      [...this.checks.keys()].map((name, i) => ({
        name,
        scope: g,
        healthCheck: { name, scope: g },
        service: { namespace: 'default', name: nameOf(i), port: '80' },
        backendKind: 'neg' as const,
      })),
    );
  }
  listHealthChecks(): Promise<LiveHealthCheck[]> {
    this.lists++;
    if (this.failLists.count > 0) {
      this.failLists.count--;
      const { error } = this.failLists;
      // A failing list answers after a round trip, as GCP does: Services asking meanwhile join it.
      return new Promise((_, reject) => setImmediate(() => reject(error)));
    }
    return Promise.resolve([...this.checks.values()]);
  }
  getHealthCheck(name: string): Promise<LiveHealthCheck | undefined> {
    this.gets++;
    return Promise.resolve(this.checks.get(name));
  }
  patchHealthCheck(t: { name: string }, fields: OwnedFields): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        this.setPath(t.name, fields.requestPath ?? '/');
        resolve();
      };
      this.sent.push({ name: t.name, fields, done });
      if (this.autoDone) done();
    });
  }
  setPath(name: string, requestPath: string): void {
    const c = this.checks.get(name)!;
    this.checks.set(name, { ...c, block: { ...c.block!, requestPath } });
  }
  patchesOf(name: string): number {
    return this.sent.filter((s) => s.name === name).length;
  }
}

/** A logger that keeps every line (a child logs into the same list, with its fields). */
function recordingLogger(): { log: Logger; lines: { level: string; message: string; fields: Record<string, unknown> }[] } {
  const lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  const make = (meta: Record<string, unknown>): Logger => {
    const at =
      (level: string) =>
      (message: string, fields: Record<string, unknown> = {}) =>
        void lines.push({ level, message, fields: { ...meta, ...fields } });
    return {
      child: (m: Record<string, unknown>) => make({ ...meta, ...m }),
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
    } as unknown as Logger;
  };
  return { log: make({}), lines };
}

function setup(n: number, o: { maxPatchesInFlight?: number; patcher?: (api: Fleet) => HealthCheckPatcher; log?: Logger } = {}) {
  let clock = Date.parse('2026-12-01T00:00:00Z');
  const compute = new Fleet(n);
  // One clock for both, as in the controller (Date.now): a re-read due at T is done by a list that started at T or later.
  const inventory = new HealthCheckInventory(compute, { minRefreshIntervalMs: 20, now: () => clock });
  const writes = new Map<string, SlimCondition[]>();
  const events: PlannedEvent[] = [];
  const settled: string[] = [];
  const services = new Map<string, SlimService>();
  for (let i = 0; i < n; i++) services.set(nameOf(i), service({ name: nameOf(i), selector: { app: nameOf(i) } }));
  const pods = Array.from({ length: n }, (_, i) =>
    pod([container({ livenessProbe: httpProbe('/health-check') })], { labels: { app: nameOf(i) } }),
  );
  const ingresses = Array.from({ length: n }, (_, i) =>
    ingress({ name: `ing-${i}`, backends: [{ service: nameOf(i), port: 80 }], gkeBackends: { [hcOf(i)]: 'UNHEALTHY' } }),
  );
  const view = () => new StaticClusterView({ services: [...services.values()], pods, ingresses, backendConfigs: [] });
  const deps: ReconcileDeps = {
    view: {
      service: (ns, name) => view().service(ns, name),
      podsFor: (s) => view().podsFor(s),
      ingressesFor: (ns, name) => view().ingressesFor(ns, name),
      backendConfig: (ns, name) => view().backendConfig(ns, name),
    },
    backends: inventory,
    patcher: o.patcher ? o.patcher(compute) : compute,
    status: {
      writeCondition: (s, c) => {
        writes.set(s.metadata.name, [...(writes.get(s.metadata.name) ?? []), c]);
        services.set(s.metadata.name, { ...s, status: { conditions: [c] } });
        return Promise.resolve();
      },
    },
    events: { emit: (_s, e) => Promise.resolve(void events.push(e)) },
    metrics: new Metrics({ defaultMetrics: false }),
    log: o.log ?? silentLogger(),
    mode: 'enforce',
    inferFromLiveness: true,
    notReadyRequeueMs: 15_000,
    maxPatchesInFlight: o.maxPatchesInFlight ?? 500,
    rereadGetsMax: 20,
    onPatchSettled: (keys) => settled.push(...keys),
    now: () => new Date(clock),
  };
  const reconciler = new ServiceReconciler(deps);
  /** Reconciles the Services re-queued since the last call (as the work queue would), until none is. */
  const drainSettled = async () => {
    while (settled.length > 0) for (const k of settled.splice(0)) await reconciler.reconcile(k);
  };
  const lastReason = (i: number) => writes.get(nameOf(i))?.at(-1)?.reason;
  return { compute, inventory, writes, events, settled, reconciler, drainSettled, lastReason, advance: (ms: number) => (clock += ms) };
}

/** Lets promise reactions and short timers run. */
const tick = (ms = 5) => sleep(ms);

/** Waits until `cond` holds (the machine may be loaded: no fixed sleep); fails after 5 s. */
async function until(cond: () => boolean): Promise<void> {
  const deadline = performance.now() + 5_000;
  while (!cond()) {
    assert.ok(performance.now() < deadline, 'timed out');
    await tick(2);
  }
}

describe('reconcile: the post-convergence backlog', () => {
  it('re-verifies many patched checks with one coalesced list, no GET each; a reverted one is re-applied once', async () => {
    const N = 30;
    const t = setup(N);
    t.compute.autoDone = true;
    await t.inventory.refresh();
    for (let i = 0; i < N; i++) await t.reconciler.reconcile(keyOf(i));
    await t.drainSettled();
    assert.equal(t.compute.sent.length, N, 'one PATCH per check');
    assert.ok([...Array(N).keys()].every((i) => t.lastReason(i) === 'Patched'));
    // ingress-gce's stale PUT (GET → merge → PUT, docs §5.7) reverts one of them.
    t.compute.setPath(hcOf(7), '/');
    t.advance(10_000);
    const listsBefore = t.compute.lists;
    for (let i = 0; i < N; i++) await t.reconciler.reconcile(keyOf(i)); // the re-verifies fall due
    await tick(); // the coalesced list (the first due re-read started it; every later one joined it)
    await t.drainSettled(); // each Service is brought back when the list completed
    assert.equal(t.compute.gets, 0, 'no re-verify GET');
    assert.equal(t.compute.lists - listsBefore, 1, 'one list for all of them');
    assert.equal(t.compute.patchesOf(hcOf(7)), 2, 'the reverted check is re-applied');
    assert.equal(t.compute.checks.get(hcOf(7))?.block?.requestPath, '/health-check');
    assert.equal(t.compute.sent.length, N + 1, 'nothing else is re-sent');
    // A re-apply is not re-verified again: nothing more is pending, so later passes read nothing.
    t.advance(60_000);
    for (let i = 0; i < N; i++) assert.deepEqual(await t.reconciler.reconcile(keyOf(i)), { kind: 'done' });
    await tick(60);
    assert.equal(t.compute.gets, 0);
    assert.equal(t.compute.lists - listsBefore, 1);
    assert.equal(t.events.filter((e) => e.reason === 'HealthCheckPatched').length, N + 1);
  });

  it('the coalesced list fails (5xx, network): said once, the waiting Services are re-queued and still unverified; a later list completes them', async () => {
    const N = 30;
    const { log, lines } = recordingLogger();
    const t = setup(N, { log });
    t.compute.autoDone = true;
    await t.inventory.refresh();
    for (let i = 0; i < N; i++) await t.reconciler.reconcile(keyOf(i));
    await t.drainSettled();
    assert.equal(t.compute.sent.length, N);
    const writesBefore = [...t.writes.values()].reduce((n, w) => n + w.length, 0);
    const listFailed = () => lines.filter((l) => l.message.startsWith('listing GCP to re-verify'));
    for (const [round, error] of [
      [1, Object.assign(new Error('backendError'), { code: 503 })],
      [2, new Error('connect ECONNREFUSED 10.0.0.1:443')],
    ] as const) {
      t.compute.failLists = { count: 1, error };
      t.advance(round === 1 ? 10_000 : 1_000); // the re-verifies fall due; then past the failed list's backoff
      const listsBefore = t.compute.lists;
      if (round === 1) for (let i = 0; i < N; i++) assert.deepEqual(await t.reconciler.reconcile(keyOf(i)), { kind: 'done' });
      // The coalesced list runs (round 2: once the backoff's timer ends), fails, and its waiters are re-queued.
      await until(() => listFailed().length === round && new Set(t.settled).size === N);
      assert.equal(t.compute.lists - listsBefore, 1, `round ${round}: one list for all of them`);
      assert.equal(listFailed().length, round, `round ${round}: the failure is logged once, not once per Service`);
      assert.equal(listFailed().at(-1)?.level, 'warn');
      // About the list, not one Service: no Service's name on it, and how many wait for the next one.
      assert.equal(listFailed().at(-1)?.fields['service'], undefined);
      assert.equal(listFailed().at(-1)?.fields['services_waiting'], N);
      assert.match(String(listFailed().at(-1)?.fields['error']), round === 1 ? /backendError/ : /ECONNREFUSED/);
      assert.deepEqual(
        [...new Set(t.settled)].sort(),
        [...Array(N).keys()].map(keyOf).sort(),
        `round ${round}: every waiting Service is re-queued`,
      );
      await t.drainSettled(); // their passes wait for the next list (after the failure's backoff)
      await tick();
      assert.equal(t.compute.lists - listsBefore, 1, `round ${round}: no list before the backoff ends`);
      assert.equal(t.compute.gets, 0, 'no GET instead');
      assert.equal(t.compute.sent.length, N, 'no PATCH re-sent for a check whose patch was sent');
      assert.equal(
        [...t.writes.values()].reduce((n, w) => n + w.length, 0),
        writesBefore,
        'no condition changes',
      );
      assert.equal(lines.filter((l) => l.message === 're-read health check by a list').length, 0, 'nothing re-verified');
    }
    // ingress-gce's stale PUT reverted one check meanwhile; the next list (it succeeds) shows it.
    t.compute.setPath(hcOf(7), '/');
    t.advance(60_000);
    const listsBefore = t.compute.lists;
    await until(() => new Set(t.settled).size === N);
    assert.equal(t.compute.lists - listsBefore, 1, 'the next list, once the backoff is over');
    await t.drainSettled();
    assert.equal(lines.filter((l) => l.message === 're-read health check by a list').length, N, 'every re-verify done by it');
    assert.equal(t.compute.patchesOf(hcOf(7)), 2, 'the reverted check is re-applied');
    assert.equal(t.compute.sent.length, N + 1, 'nothing else is re-sent');
    assert.equal(listFailed().length, 2);
    // Nothing is pending any more: later passes read nothing.
    t.advance(60_000);
    for (let i = 0; i < N; i++) assert.deepEqual(await t.reconciler.reconcile(keyOf(i)), { kind: 'done' });
    await tick(60);
    assert.equal(t.compute.lists - listsBefore, 1);
    assert.equal(t.compute.gets, 0);
  });

  it('a few re-verifies still get one GET each (cheaper than a list)', async () => {
    const t = setup(3);
    t.compute.autoDone = true;
    await t.inventory.refresh();
    for (let i = 0; i < 3; i++) await t.reconciler.reconcile(keyOf(i));
    await t.drainSettled();
    t.advance(10_000);
    const listsBefore = t.compute.lists;
    for (let i = 0; i < 3; i++) await t.reconciler.reconcile(keyOf(i));
    await tick(60);
    assert.equal(t.compute.gets, 3);
    assert.equal(t.compute.lists, listsBefore);
  });

  it('a pass whose patch waits for a slot returns at once; a second pass sends no second PATCH; Patched only once DONE', async () => {
    const t = setup(2, { maxPatchesInFlight: 1 });
    await t.inventory.refresh();
    await t.reconciler.reconcile(keyOf(0)); // takes the only slot; its Operation runs
    const second = await Promise.race([t.reconciler.reconcile(keyOf(1)).then(() => 'returned'), tick(200).then(() => 'blocked')]);
    assert.equal(second, 'returned', 'the worker is not held while the patch waits for a slot');
    assert.deepEqual(await t.reconciler.reconcile(keyOf(1)), { kind: 'done' });
    assert.equal(t.compute.sent.length, 1, 'no PATCH for svc-1 before a slot is free, and no second one queued');
    assert.equal(t.writes.get(nameOf(1)), undefined, 'nothing reported while the patch waits');
    t.compute.sent[0]!.done();
    await tick();
    assert.deepEqual(
      t.compute.sent.map((s) => s.name),
      [hcOf(0), hcOf(1)],
      'the freed slot sends the waiting patch',
    );
    await t.drainSettled();
    assert.equal(t.lastReason(0), 'Patched');
    assert.equal(t.lastReason(1), undefined, 'svc-1 not reported before its Operation is DONE');
    t.compute.sent[1]!.done();
    await tick();
    await t.drainSettled();
    assert.equal(t.lastReason(1), 'Patched');
    assert.equal(t.compute.patchesOf(hcOf(1)), 1);
    assert.equal(t.events.filter((e) => e.reason === 'HealthCheckPatched').length, 2);
  });

  it('step-down while a patch waits for a slot: it is never sent, and nothing is re-queued for it', async () => {
    let leading = true;
    const fence = new Fence(() => leading);
    let limiter: RateLimitedPatcher | undefined;
    const t = setup(2, {
      maxPatchesInFlight: 1,
      patcher: (api) => (limiter = new RateLimitedPatcher(new FencedPatcher(api, fence), 100)),
    });
    await t.inventory.refresh();
    await t.reconciler.reconcile(keyOf(0));
    await t.reconciler.reconcile(keyOf(1));
    assert.equal(t.compute.sent.length, 1);
    leading = false;
    fence.close('lost the Lease');
    limiter!.dropQueued('lost the Lease');
    await tick();
    assert.equal(t.reconciler.patchesInFlight, 0, 'the waits are abandoned');
    assert.equal(t.compute.sent.length, 1, 'the patch waiting for a slot never leaves');
    assert.deepEqual(t.settled, []);
  });
});

describe('inventory: the coalesced re-list for re-verifies', () => {
  it('is shared by every caller, counts only lists that started since it was asked for, and keeps the interval', async () => {
    const compute = new Fleet(2);
    const inv = new HealthCheckInventory(compute, { minRefreshIntervalMs: 30 });
    await inv.refresh();
    const since = Date.now() + 1;
    assert.equal(inv.listedSince(since), false, 'the list made before does not count');
    const started = performance.now();
    await Promise.all([inv.relistSince(since), inv.relistSince(since), inv.relistSince(Date.now())]);
    assert.equal(compute.lists, 2, 'one list for all three callers');
    assert.ok(performance.now() - started >= 25, 'not sooner than the interval after the last list');
    assert.equal(inv.listedSince(since), true);
    await inv.relistSince(since);
    assert.equal(compute.lists, 2, 'already done: no list');
  });
});
