// Reconcile of a Service behind a GKE Gateway, over fakes: the policy is the only write (never a
// Compute patch), Patched + HealthCheckPatched once the API server accepted it, held while GKE has
// not applied it, InSync once the live check matches; a refused apply is PatchFailed and terminal;
// observe mode writes nothing; a Service gone takes its own policy with it.
import assert from 'node:assert/strict';
import { ServiceReconciler, type ReconcileDeps } from '../../src/controller/reconcile.js';
import { PolicyWriteRefused } from '../../src/kube/policy-writer.js';
import type { DesiredPolicy, SlimHealthCheckPolicy } from '../../src/model/gateway.js';
import type { SlimCondition } from '../../src/model/kube.js';
import type { PlannedEvent } from '../../src/model/report.js';
import type { PolicyWriter } from '../../src/model/ports.js';
import { isTerminal } from '../../src/controller/outcome.js';
import { PacedPolicyWriter } from '../../src/controller/policy-pacing.js';
import { Metrics } from '../../src/observability/metrics.js';
import { silentLogger } from '../../src/observability/log.js';
import { container, httpProbe, ingress, liveCheck, pod, service } from '../support/fixtures.js';
import { gateway, gatewayBackend, gatewayView, policy, route, type GatewayWorld } from '../support/gateway-fixtures.js';

const BACKEND = 'gkegw1-ab12-default-web-80-abcdefghijkl';
const INGRESS_CHECK = 'k8s1-abcdef12-default-web-80-12345678';

/**
 * `ingress`: the Service is behind an Ingress too, whose check (path `/`) hcsync patches through a
 * Compute fake whose Operation settles when the test calls `settleIngressPatch()`.
 */
function setup(o: { mode?: 'enforce' | 'observe'; refuse?: boolean; now?: () => Date; ingress?: boolean; failWrites?: number } = {}) {
  let failWrites = o.failWrites ?? 0;
  let svc = service();
  let ingressCheck = liveCheck({ name: INGRESS_CHECK, requestPath: '/' });
  const ingressPatches: (() => void)[] = [];
  const settled: string[] = [];
  const w: GatewayWorld = {
    pods: [pod([container({ readinessProbe: httpProbe('/healthz', 'http') })])],
    gateways: [gateway('gw')],
    routes: [route()],
    backends: [gatewayBackend(BACKEND)],
    policies: [],
  };
  const applied: DesiredPolicy[] = [];
  const deleted: string[] = [];
  const conditions: SlimCondition[] = [];
  const events: PlannedEvent[] = [];
  const policies: PolicyWriter = {
    apply: (p) => {
      if (o.refuse)
        return Promise.reject(
          new PolicyWriteRefused('applying HealthCheckPolicy default/hcsync-web: the API server answered 409 Conflict'),
        );
      applied.push(p);
      // As the API server would store it (labelled, so hcsync's own).
      w.policies = [policy(p.name, { managed: true, default: p.default })];
      return Promise.resolve();
    },
    delete: (_ns, name) => {
      deleted.push(name);
      w.policies = (w.policies ?? []).filter((x: SlimHealthCheckPolicy) => x.metadata.name !== name);
      return Promise.resolve();
    },
  };
  const view = () => gatewayView({ ...w, services: svc ? [svc] : [] });
  const gone = { value: false };
  const deps: ReconcileDeps = {
    view: {
      service: (ns, n) => (gone.value ? undefined : view().service(ns, n)),
      podsFor: (s) => view().podsFor(s),
      ingressesFor: () => (o.ingress ? [ingress({ gkeBackends: { [INGRESS_CHECK]: 'UNHEALTHY' } })] : []),
      backendConfig: () => undefined,
      routesTo: (ns, n) => view().routesTo?.(ns, n) ?? [],
      gateway: (ns, n) => view().gateway?.(ns, n),
      gatewayClass: () => undefined,
      referenceGrants: () => [],
      healthCheckPolicies: (ns) => view().healthCheckPolicies?.(ns) ?? [],
    },
    backends: {
      backendService: (name) =>
        o.ingress && name === INGRESS_CHECK
          ? {
              name,
              scope: { kind: 'global' },
              healthCheck: { name, scope: { kind: 'global' } },
              service: { namespace: 'default', name: 'web', port: '80' },
              backendKind: 'neg',
            }
          : undefined,
      healthCheck: (name, scope) => (o.ingress && name === INGRESS_CHECK ? ingressCheck : view().healthCheck(name, scope)),
      gatewayBackendServices: () => view().gatewayBackendServices?.() ?? [],
      refreshIfDue: () => Promise.resolve(false),
      recordPatch: () => undefined,
      forgetHealthCheck: () => undefined,
      reread: (name, scope) => Promise.resolve(view().healthCheck(name, scope)),
    },
    patcher: {
      patchHealthCheck: (ref, fields) =>
        o.ingress && ref.name === INGRESS_CHECK
          ? new Promise<void>((resolve) =>
              ingressPatches.push(() => {
                const { requestPath, host, ...rest } = fields;
                ingressCheck = {
                  ...ingressCheck,
                  ...rest,
                  block: {
                    ...ingressCheck.block!,
                    ...(requestPath !== undefined ? { requestPath } : {}),
                    ...(host !== undefined ? { host } : {}),
                  },
                };
                resolve();
              }),
            )
          : Promise.reject(new Error('no Compute write for Gateway backends')),
    },
    policies,
    status: {
      writeCondition: (_s, c) => {
        if (failWrites-- > 0) return Promise.reject(new Error('etcdserver: request timed out'));
        conditions.push(c);
        svc = { ...svc, status: { conditions: [c] } };
        return Promise.resolve();
      },
    },
    events: { emit: (_s, e) => (events.push(e), Promise.resolve()) },
    metrics: new Metrics({ defaultMetrics: false }),
    log: silentLogger(),
    mode: o.mode ?? 'enforce',
    inferFromLiveness: true,
    notReadyRequeueMs: 1000,
    onPatchSettled: (keys) => settled.push(...keys),
    ...(o.now ? { now: o.now } : {}),
  };
  const settleIngressPatch = async () => {
    for (const done of ingressPatches.splice(0)) done();
    await new Promise((r) => setTimeout(r, 5)); // the settle callbacks run
  };
  return { w, applied, deleted, conditions, events, gone, settled, settleIngressPatch, reconciler: new ServiceReconciler(deps) };
}

describe('reconcile: Services behind a GKE Gateway', () => {
  it('writes the policy (no Compute write): Patched + HealthCheckPatched, then held, then InSync once GKE applied it', async () => {
    const t = setup();
    const first = await t.reconciler.reconcile('default/web');
    assert.equal(first.kind, 'requeueAfter');
    assert.equal(t.applied.length, 1);
    assert.equal(t.conditions.at(-1)?.reason, 'Patched');
    assert.match(
      t.conditions.at(-1)?.message ?? '',
      /port http\/80 \(gkegw1-ab12-default-web-80-abcdefghijkl, HealthCheckPolicy default\/hcsync-web\)/,
    );
    assert.deepEqual(
      t.events.map((e) => e.reason),
      ['HealthCheckPatched'],
    );

    await t.reconciler.reconcile('default/web');
    assert.equal(t.applied.length, 1, 'not written again');
    assert.equal(t.conditions.at(-1)?.reason, 'RolloutInProgress');

    t.w.backends = [gatewayBackend(BACKEND, { requestPath: '/healthz', checkIntervalSec: 10, timeoutSec: 1 })];
    assert.deepEqual(await t.reconciler.reconcile('default/web'), { kind: 'done' });
    assert.equal(t.conditions.at(-1)?.reason, 'InSync');
    assert.equal(t.applied.length, 1);
  });

  it('a policy written in a pass that waits on an Ingress patch is still reported Patched, with its HealthCheckPatched Event', async () => {
    const t = setup({ ingress: true });
    // One pass: the Ingress check's PATCH goes out (its Operation runs on), and the policy is written.
    await t.reconciler.reconcile('default/web');
    assert.equal(t.applied.length, 1, 'the policy is written');
    assert.deepEqual([t.conditions.length, t.events.length], [0, 0], 'nothing reported while the Ingress patch is in flight');

    // The Ingress Operation settles; the pass it brings back reports both writes.
    await t.settleIngressPatch();
    assert.deepEqual(t.settled, ['default/web']);
    const out = await t.reconciler.reconcile('default/web');
    assert.equal(out.kind, 'requeueAfter', 'comes back to see GKE apply the policy');
    assert.equal(t.conditions.at(-1)?.reason, 'Patched');
    const message = t.conditions.at(-1)?.message ?? '';
    assert.match(message, /k8s1-abcdef12-default-web-80-12345678[^;]*patched/);
    assert.match(message, /gkegw1-ab12-default-web-80-abcdefghijkl, HealthCheckPolicy default\/hcsync-web\): patched/);
    assert.doesNotMatch(message, /has not applied it/);
    const patched = t.events.filter((e) => e.reason === 'HealthCheckPatched');
    assert.equal(patched.length, 2, JSON.stringify(t.events));
    assert.ok(
      patched.some((e) => e.note.includes('HealthCheckPolicy default/hcsync-web')),
      'the policy write has its own Event',
    );

    // Reported once: the next pass sees the policy waiting on GKE.
    await t.reconciler.reconcile('default/web');
    assert.equal(t.conditions.at(-1)?.reason, 'RolloutInProgress');
    assert.equal(t.events.filter((e) => e.reason === 'HealthCheckPatched').length, 2);
    assert.equal(t.applied.length, 1, 'not written again');
  });

  it('a policy written in a pass whose condition write failed is reported Patched by the retry, once', async () => {
    const t = setup({ failWrites: 1 });
    assert.equal((await t.reconciler.reconcile('default/web')).kind, 'error');
    assert.equal(t.applied.length, 1);
    assert.deepEqual([t.conditions.length, t.events.length], [0, 0]);

    await t.reconciler.reconcile('default/web');
    assert.equal(t.applied.length, 1, 'not written again');
    assert.equal(t.conditions.at(-1)?.reason, 'Patched');
    assert.deepEqual(
      t.events.map((e) => e.reason),
      ['HealthCheckPatched'],
    );
    await t.reconciler.reconcile('default/web');
    assert.equal(t.conditions.at(-1)?.reason, 'RolloutInProgress');
  });

  it('a policy GKE never applies is held for 2 minutes, then Drifted (HealthCheckDrifted), and never re-written', async () => {
    let nowMs = Date.parse('2026-11-29T00:00:00Z');
    const t = setup({ now: () => new Date(nowMs) });
    await t.reconciler.reconcile('default/web');
    assert.equal(t.conditions.at(-1)?.reason, 'Patched');
    nowMs += 1_000;
    await t.reconciler.reconcile('default/web');
    assert.equal(t.conditions.at(-1)?.reason, 'RolloutInProgress');
    nowMs += 120_000; // the clock starts at the first pass that sees the written policy not applied
    await t.reconciler.reconcile('default/web');
    assert.equal(t.conditions.at(-1)?.reason, 'Drifted');
    assert.match(t.conditions.at(-1)?.message ?? '', /has not applied it to gkegw1-ab12-default-web-80-abcdefghijkl for 120 s/);
    assert.ok(t.events.some((e) => e.reason === 'HealthCheckDrifted'));
    assert.equal(t.applied.length, 1, 'drift of an unapplied policy is reported, not re-written');
  });

  it('an apply the API server refuses (409 without force) is PatchFailed with its words, and terminal', async () => {
    const t = setup({ refuse: true });
    const out = await t.reconciler.reconcile('default/web');
    assert.equal(out.kind, 'error');
    if (out.kind === 'error') assert.ok(isTerminal(out.error), out.error.message);
    assert.equal(t.conditions.at(-1)?.reason, 'PatchFailed');
    assert.match(t.conditions.at(-1)?.message ?? '', /409 Conflict/);
  });

  it('observe mode writes nothing and says what it would write', async () => {
    const t = setup({ mode: 'observe' });
    await t.reconciler.reconcile('default/web');
    assert.deepEqual([t.applied.length, t.deleted.length], [0, 0]);
    assert.equal(t.conditions.at(-1)?.reason, 'Drifted');
    assert.match(t.conditions.at(-1)?.message ?? '', /would write HealthCheckPolicy default\/hcsync-web/);
  });

  it('settled in sync: the next pass is skipped while every Gateway object is the same, and a route leaving is seen', async () => {
    const t = setup();
    await t.reconciler.reconcile('default/web');
    await t.reconciler.reconcile('default/web');
    t.w.backends = [gatewayBackend(BACKEND, { requestPath: '/healthz', checkIntervalSec: 10, timeoutSec: 1 })];
    await t.reconciler.reconcile('default/web'); // InSync written
    assert.deepEqual(await t.reconciler.reconcile('default/web'), { kind: 'done' }); // settled, kept
    const writes = t.conditions.length;
    // Changed in place behind the reconciler's back: only a full pass could see it.
    (t.w.backends[0]!.hc.block as { requestPath: string }).requestPath = '/elsewhere';
    assert.deepEqual(await t.reconciler.reconcile('default/web'), { kind: 'done' });
    assert.equal(t.conditions.length, writes, 'skipped: every object the last pass read is the same');
    t.w.routes = [];
    await t.reconciler.reconcile('default/web');
    assert.deepEqual(t.deleted, ['hcsync-web']);
    assert.equal(t.conditions.at(-1)?.reason, 'NotManaged');
  });

  it('leaving scope deletes the own policy and reports NotManaged; a Service gone takes its policy too', async () => {
    const t = setup();
    await t.reconciler.reconcile('default/web');
    t.w.routes = [];
    await t.reconciler.reconcile('default/web');
    assert.deepEqual(t.deleted, ['hcsync-web']);
    assert.equal(t.conditions.at(-1)?.reason, 'NotManaged');

    const u = setup();
    await u.reconciler.reconcile('default/web');
    u.gone.value = true;
    assert.deepEqual(await u.reconciler.reconcile('default/web'), { kind: 'done' });
    assert.deepEqual(u.deleted, ['hcsync-web']);
  });
});

describe('HealthCheckPolicy writes are paced', () => {
  it('one at a time, at least the interval apart; a failed write does not stall the next', async () => {
    const started: number[] = [];
    const t0 = performance.now();
    let n = 0;
    const inner: PolicyWriter = {
      apply: () => {
        started.push(performance.now() - t0);
        return ++n === 2 ? Promise.reject(new Error('refused')) : Promise.resolve();
      },
      delete: () => {
        started.push(performance.now() - t0);
        return Promise.resolve();
      },
    };
    const paced = new PacedPolicyWriter(inner, 50);
    const p: DesiredPolicy = { namespace: 'd', name: 'hcsync-a', service: { name: 'a', uid: 'u' }, default: { config: { type: 'HTTP' } } };
    const results = await Promise.allSettled([paced.apply(p), paced.apply(p), paced.delete('d', 'hcsync-a', 'u')]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.equal(started.length, 3);
    for (let i = 1; i < started.length; i++) assert.ok((started[i] ?? 0) - (started[i - 1] ?? 0) >= 45, JSON.stringify(started));
  });
});
