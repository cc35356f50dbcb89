// hcsync must never cause the 502 it exists to prevent (issue 8), end to end: the built hcsync
// with the shipped RBAC on the real kube-apiserver, the Compute stand-in and the ingress-gce
// stand-in. --resync is long (30 s), and each timed scenario starts right after a resync, so what
// happens within the asserted time is hcsync's own doing and not the next resync's.
import assert from 'node:assert/strict';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { GlobalOperationsClient, HealthChecksClient, type protos } from '@google-cloud/compute';
import { TestBed, until, type HcsyncProcess } from '../../testbed/bed.js';
import { computeClientOptions } from '../../testbed/compute/index.js';

type IHealthCheck = protos.google.cloud.compute.v1.IHealthCheck;
type IOperation = protos.google.cloud.compute.v1.IOperation;

const RESYNC_MS = 30_000;
const PORT = 80;
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('e2e: trust (404 repair, re-verify, stale list, BackendConfig grace)', function () {
  this.timeout(180_000);
  let bed: TestBed;
  let hcs: HealthChecksClient;
  let ops: GlobalOperationsClient;
  let hcsync: HcsyncProcess;
  let nextIp = 120;

  const name = (ns: string) => bed.checkName(ns, 'web', PORT);
  const getHc = async (ns: string): Promise<IHealthCheck> => (await hcs.get({ project: bed.project, healthCheck: name(ns) }))[0];
  const livePath = async (ns: string) => (await getHc(ns)).httpHealthCheck?.requestPath;
  const waitPath = (ns: string, path: string, timeoutMs: number) =>
    until(`check of ${ns}/web at ${path}`, async () => ((await livePath(ns)) === path ? true : undefined), timeoutMs);
  const waitReason = (ns: string, reason: string, timeoutMs = 20_000) =>
    until(
      `condition ${reason} on ${ns}/web`,
      async () => ((await bed.serviceCondition(ns, 'web'))?.reason === reason ? true : undefined),
      timeoutMs,
    );
  const patchedEvents = async (ns: string) => (await bed.serviceEvents(ns, 'web')).filter((e) => e.reason === 'HealthCheckPatched');
  const setAnnotation = (ns: string, key: string, value: string) =>
    bed.core.patchNamespacedService({ namespace: ns, name: 'web', body: { metadata: { annotations: { [key]: value } } } }, merge);
  const waitOp = async (op: IOperation | null | undefined) => {
    for (;;) {
      const [o] = await ops.wait({ project: bed.project, operation: op?.name ?? '' });
      if (o.status === 'DONE') return;
    }
  };
  /** Resolves right after hcsync's next scheduled GCP resync: the one after is RESYNC_MS away. */
  const afterResync = async () => {
    const before = await hcsync.metric('hcsync_last_gcp_resync_timestamp_seconds');
    await until(
      'a scheduled resync',
      async () => {
        const now = await hcsync.metric('hcsync_last_gcp_resync_timestamp_seconds');
        return now !== undefined && now !== before ? true : undefined;
      },
      RESYNC_MS + 10_000,
    );
  };

  async function scenario(ns: string, annotations: Record<string, string>, readinessProbe?: string): Promise<void> {
    await bed.ensureNamespace(ns);
    await bed.createService(ns, 'web', PORT, annotations);
    const app = await bed.startApp(`127.0.0.${nextIp++}`, ['/a', '/b', '/ready', '/bc1', '/bc2']);
    await bed.createPod(ns, 'web-1', {
      ip: app.ip,
      port: app.port,
      labels: { app: 'web' },
      ...(readinessProbe
        ? { readinessProbe: { httpGet: { path: readinessProbe, port: app.port }, periodSeconds: 10, timeoutSeconds: 2 } }
        : {}),
    });
    await bed.createIngress(ns, 'ing', 'web', PORT);
    await until(`GKE created the check of ${ns}/web`, () => getHc(ns), 30_000);
  }

  before(async () => {
    bed = await TestBed.start();
    hcs = new HealthChecksClient(computeClientOptions(bed.compute.endpoint));
    ops = new GlobalOperationsClient(computeClientOptions(bed.compute.endpoint));
    await bed.gke.start();
    hcsync = await bed.spawnHcsync(['run', '--resync', `${RESYNC_MS / 1000}s`], await bed.hcsyncKubeconfig());
    await until('hcsync ready', async () => ((await hcsync.ready()) ? true : undefined), 30_000);
  });

  after(async () => {
    await hcs?.close();
    await ops?.close();
    await bed?.stop();
  });

  it('a resync list read before a patch completed does not undo it: one intent change, one PATCH, one HealthCheckPatched', async () => {
    const NS = 'stale-list';
    await scenario(NS, { 'hcsync.io/health-path': '/a' });
    await waitPath(NS, '/a', 20_000);
    await waitReason(NS, 'Patched');
    // The next resync's health check list reads GCP now and answers 3 s later; the patch lands in between.
    const lists = () => bed.compute.requestCounts()['healthChecks.aggregatedList'] ?? 0;
    const listsBefore = lists();
    bed.compute.injectDelay('healthChecks.aggregatedList', 3000);
    await until('the resync list arrived', () => (lists() > listsBefore ? true : undefined), RESYNC_MS + 10_000, 20);
    const patchesBefore = bed.compute.requestCounts()['healthChecks.patch'] ?? 0;
    await setAnnotation(NS, 'hcsync.io/health-path', '/b');
    await waitPath(NS, '/b', 3000);
    // The slow list answers, the resync re-enqueues every Service, and the re-verify reads once.
    await sleep(3000 + 12_000);
    assert.equal((bed.compute.requestCounts()['healthChecks.patch'] ?? 0) - patchesBefore, 1, 'exactly one PATCH for /a → /b');
    const toB = (await patchedEvents(NS)).filter((e) => e.note.includes('"/b"'));
    assert.equal(toB.length, 1, `exactly one HealthCheckPatched for /b: ${JSON.stringify(toB)}`);
  });

  it('a 404 on patch (GKE recreating the check) is repaired within one not-ready requeue (15 s), not one --resync', async () => {
    const NS = 'recreate-404';
    await scenario(NS, { 'hcsync.io/health-path': '/a' });
    await waitPath(NS, '/a', 20_000);
    await afterResync();
    // GKE recreates the check from defaults; hcsync's next patch falls into the window where it is gone.
    await bed.gke.recreateHealthCheck(name(NS));
    bed.compute.injectFailure('healthChecks.patch', {
      status: 404,
      reason: 'notFound',
      message: `The resource '${name(NS)}' was not found`,
    });
    const t0 = Date.now();
    await setAnnotation(NS, 'hcsync.io/health-path', '/b');
    await waitReason(NS, 'BackendNotReady', 5000);
    await waitPath(NS, '/b', 15_000 + 6000);
    const took = Date.now() - t0;
    assert.ok(took < RESYNC_MS - 5000, `repaired after ${took} ms; --resync is ${RESYNC_MS} ms`);
    await waitReason(NS, 'Patched');
  });

  it('a patch reverted by ingress-gce’s stale PUT (GET → merge → PUT, docs §5.7) is re-verified and re-applied', async () => {
    const NS = 'reverify';
    await scenario(NS, { 'hcsync.io/health-path': '/a' });
    await waitPath(NS, '/a', 20_000);
    await afterResync();
    const hcsyncGets = async () => (await hcsync.metric('hcsync_gcp_requests_total', { method: 'healthChecks.get', code: '200' })) ?? 0;
    const t0 = Date.now();
    await setAnnotation(NS, 'hcsync.io/health-path', '/b');
    await waitPath(NS, '/b', 5000);
    // A full PUT of the check as read before hcsync's patch: the path goes back to /a.
    const stale = await getHc(NS);
    const getsBefore = await hcsyncGets();
    const [op] = await hcs.update({
      project: bed.project,
      healthCheck: name(NS),
      healthCheckResource: { ...stale, httpHealthCheck: { ...stale.httpHealthCheck, requestPath: '/a' } },
    });
    await waitOp(op.latestResponse as IOperation);
    assert.equal(await livePath(NS), '/a');
    await waitPath(NS, '/b', 10_000 + 6000);
    const took = Date.now() - t0;
    assert.ok(took < RESYNC_MS - 5000, `re-applied after ${took} ms; --resync is ${RESYNC_MS} ms`);
    // One re-verify GET, counted; the re-apply is not re-verified again.
    await sleep(12_000);
    assert.equal((await hcsyncGets()) - getsBefore, 1, 'one re-verify GET in hcsync_gcp_requests_total');
    assert.equal(await livePath(NS), '/b');
  });

  it('right after a BackendConfig edit: no Drifted while ingress-gce applies it, then InSync', async () => {
    const NS = 'bc-edit';
    await bed.ensureNamespace(NS);
    await bed.objects.create({
      apiVersion: 'cloud.google.com/v1',
      kind: 'BackendConfig',
      metadata: { name: 'bc', namespace: NS },
      spec: { healthCheck: { requestPath: '/bc1' } },
    } as never);
    await scenario(NS, { 'cloud.google.com/backend-config': JSON.stringify({ default: 'bc' }) }, '/ready');
    await waitReason(NS, 'InSync', 30_000);
    const seen = new Set<string>();
    await bed.objects.patch(
      {
        apiVersion: 'cloud.google.com/v1',
        kind: 'BackendConfig',
        metadata: { name: 'bc', namespace: NS },
        spec: { healthCheck: { requestPath: '/bc2' } },
      } as never,
      undefined,
      undefined,
      undefined,
      undefined,
      PatchStrategy.MergePatch,
    );
    await waitPath(NS, '/bc2', 10_000); // the ingress-gce stand-in applies it on its next sync
    // hcsync learns the new live path at its next resync; until then it must not call it drift.
    await until(
      'InSync after the edit',
      async () => {
        const c = await bed.serviceCondition(NS, 'web');
        if (c) seen.add(c.reason);
        return c?.reason === 'InSync' && seen.has('RolloutInProgress') ? true : undefined;
      },
      RESYNC_MS + 15_000,
      50,
    );
    assert.ok(!seen.has('Drifted'), `reasons seen: ${[...seen].join(', ')}`);
    assert.deepEqual(
      (await bed.serviceEvents(NS, 'web')).filter((e) => e.reason === 'HealthCheckDrifted'),
      [],
    );
  });
});
