// No event-loop stall from one object (issue 8, item 13): a tenant's Service with thousands of
// ports behind a GKE Ingress is reconciled through the real reconciler (fakes at its edges) while
// perf_hooks measures how long the event loop is blocked. A Lease is renewed every --retry-period
// (2 s) within --renew-deadline (10 s): one reconcile must stay far below that.
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ServiceReconciler } from '../../src/controller/reconcile.js';
import { HealthCheckInventory } from '../../src/gcp/inventory.js';
import type { HealthCheckApi } from '../../src/gcp/compute-adapter.js';
import { StaticClusterView } from '../../src/kube/cluster-view.js';
import type { BackendServiceRef, LiveHealthCheck } from '../../src/model/health-check.js';
import { negBackendName } from '../../src/model/ingress-gce-names.js';
import type { SlimCondition, SlimServicePort } from '../../src/model/kube.js';
import { silentLogger } from '../../src/observability/log.js';
import { Metrics } from '../../src/observability/metrics.js';
import { MAX_PORTS_PER_SERVICE } from '../../src/plan/assess.js';
import { container, httpProbe, ingress, liveCheck, pod, service } from '../support/fixtures.js';

const UID8 = '9410637b';

function world(nPorts: number) {
  const ports: SlimServicePort[] = Array.from({ length: nPorts }, (_, i) => ({ name: `p${i}`, port: 10_000 + i, targetPort: 20_000 + i }));
  const svc = service({ ports, annotations: { 'hcsync.io/health-path': '/healthz' } });
  const names = ports.map((p) => negBackendName(UID8, 'default', 'web', p.port));
  const bss: BackendServiceRef[] = names.map((name, i) => ({
    name,
    scope: { kind: 'global' },
    healthCheck: { name, scope: { kind: 'global' } },
    service: { namespace: 'default', name: 'web', port: String(ports[i]?.port) },
    backendKind: 'neg',
  }));
  const checks: LiveHealthCheck[] = names.map((name, i) => liveCheck({ name, id: String(i) }));
  const ing = ingress({
    name: 'big',
    backends: ports.map((p) => ({ service: 'web', port: p.port })),
    gkeBackends: Object.fromEntries(names.map((n) => [n, 'HEALTHY'])),
  });
  // Pods that declare every port and a probe: read once per port, as assessment does.
  const pods = [1, 2, 3].map(() =>
    pod([
      container({
        ports: ports.map((p) => ({ name: p.name, containerPort: Number(p.targetPort) })),
        readinessProbe: httpProbe('/ready', 20_000),
      }),
    ]),
  );
  const view = new StaticClusterView({ services: [svc], pods, ingresses: [ing], backendConfigs: [] });
  let patches = 0;
  const api = {
    listBackendServices: () => Promise.resolve(bss),
    listHealthChecks: () => Promise.resolve(checks),
    getHealthCheck: () => Promise.resolve(undefined),
    patchHealthCheck: () => {
      patches++;
      return Promise.resolve();
    },
  } as HealthCheckApi;
  const writes: SlimCondition[] = [];
  const reconciler = new ServiceReconciler({
    view,
    backends: new HealthCheckInventory(api, { minRefreshIntervalMs: 60_000 }),
    patcher: api,
    status: {
      writeCondition: (_s, c) => {
        writes.push(c);
        return Promise.resolve();
      },
    },
    events: { emit: () => Promise.resolve() },
    metrics: new Metrics({ defaultMetrics: false }),
    log: silentLogger(),
    mode: 'enforce',
    inferFromLiveness: true,
    notReadyRequeueMs: 1000,
  });
  return { reconciler, writes, patches: () => patches };
}

/** Runs one reconcile of default/web and returns the largest event-loop delay seen, in ms. */
async function maxLagDuring(run: () => Promise<unknown>): Promise<{ maxLagMs: number; wallMs: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  // The histogram measures from its first tick: let it tick before the reconcile starts.
  await new Promise((r) => setTimeout(r, 20));
  const start = performance.now();
  await run();
  const wallMs = performance.now() - start;
  // Let the histogram take its sample after the last synchronous stretch.
  await new Promise((r) => setTimeout(r, 30));
  h.disable();
  return { maxLagMs: h.max / 1e6, wallMs };
}

describe('event-loop lag: one Service with thousands of ports', function () {
  this.timeout(120_000);

  it(`5,000 ports (over the cap of ${MAX_PORTS_PER_SERVICE}): one InvalidIntent naming the Service and the cap, no patch, max lag < 1 s`, async () => {
    const w = world(5000);
    const { maxLagMs, wallMs } = await maxLagDuring(() => w.reconciler.reconcile('default/web'));
    process.stdout.write(`      5,000 ports: max event-loop lag ${maxLagMs.toFixed(1)} ms, reconcile ${wallMs.toFixed(0)} ms\n`);
    assert.equal(w.patches(), 0, 'nothing written to GCP');
    assert.equal(w.writes.length, 1);
    assert.equal(w.writes[0]?.reason, 'InvalidIntent');
    assert.match(w.writes[0]?.message ?? '', /Service default\/web has 5000 ports behind GKE Ingresses; hcsync assesses at most 1000/);
    assert.ok(maxLagMs < 1000, `max lag ${maxLagMs} ms`);
  });

  it(`${MAX_PORTS_PER_SERVICE} ports (at the cap): every port assessed and patched, max lag < 1 s`, async () => {
    const w = world(MAX_PORTS_PER_SERVICE);
    const { maxLagMs, wallMs } = await maxLagDuring(() => w.reconciler.reconcile('default/web'));
    process.stdout.write(
      `      ${MAX_PORTS_PER_SERVICE} ports: max event-loop lag ${maxLagMs.toFixed(1)} ms, reconcile ${wallMs.toFixed(0)} ms (${w.patches()} patches)\n`,
    );
    assert.equal(w.patches(), MAX_PORTS_PER_SERVICE);
    assert.equal(w.writes[0]?.reason, 'Patched');
    const message = w.writes[0]?.message ?? '';
    assert.ok(
      Buffer.byteLength(message) <= 32 * 1024,
      `condition message of ${Buffer.byteLength(message)} bytes: the API server takes at most 32 KiB`,
    );
    assert.match(message, /… and \d+ more \(hcsync plan lists them all\)$/);
    assert.ok(maxLagMs < 1000, `max lag ${maxLagMs} ms`);
  });
});
