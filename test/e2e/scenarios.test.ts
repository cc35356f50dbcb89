// The scenarios around the story, end to end: the built hcsync as its own process with the
// production RBAC, on the real kube-apiserver, the Compute stand-in and the ingress-gce stand-in.
// One bed for the file; each scenario has its own namespace (and so its own check), and runs only
// after the previous one has settled, so hcsync's global counters can be read per scenario.
import assert from 'node:assert/strict';
import { PatchStrategy, setHeaderOptions, type V1Probe } from '@kubernetes/client-node';
import { GlobalOperationsClient, HealthChecksClient, type protos } from '@google-cloud/compute';
import { TestBed, until, type HcsyncProcess } from '../../testbed/bed.js';
import { computeClientOptions } from '../../testbed/compute/index.js';

type IHealthCheck = protos.google.cloud.compute.v1.IHealthCheck;

const RESYNC_MS = 5_000;
/** Long enough for hcsync to see a change made in GCP: one resync, its reconcile, and slack for 2 cores. */
const ONE_RESYNC_AND_SLACK = 3 * RESYNC_MS;
const PORT = 80;
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const readiness = (path: string, port: number): V1Probe => ({ httpGet: { path, port }, periodSeconds: 10, timeoutSeconds: 2 });

describe('e2e: scenarios (rollout, annotation, BackendConfig, hand edit, recreate, RBAC)', function () {
  this.timeout(120_000);
  let bed: TestBed;
  let kubeconfig: string;
  let hcs: HealthChecksClient;
  let ops: GlobalOperationsClient;
  /** Every hcsync this file ran, for the log checks at the end. */
  const processes: HcsyncProcess[] = [];
  let hcsync: HcsyncProcess;
  let nextIp = 40;
  let failed = false;

  const getHc = async (ns: string, svc: string): Promise<IHealthCheck> =>
    (await hcs.get({ project: bed.project, healthCheck: bed.checkName(ns, svc, PORT) }))[0];
  const livePath = async (ns: string, svc: string) => (await getHc(ns, svc)).httpHealthCheck?.requestPath;
  const waitPath = (ns: string, svc: string, path: string, timeoutMs = ONE_RESYNC_AND_SLACK) =>
    until(`check of ${ns}/${svc} at ${path}`, async () => ((await livePath(ns, svc)) === path ? true : undefined), timeoutMs);
  const waitCondition = (ns: string, svc: string, reason: string, timeoutMs = ONE_RESYNC_AND_SLACK) =>
    until(
      `condition ${reason} on ${ns}/${svc}`,
      async () => {
        const c = await bed.serviceCondition(ns, svc);
        return c?.reason === reason ? c : undefined;
      },
      timeoutMs,
    );
  const waitOp = async (started: [{ latestResponse?: unknown }, ...unknown[]]): Promise<void> => {
    const op = started[0].latestResponse as protos.google.cloud.compute.v1.IOperation;
    await until('operation', async () => {
      const [o] = await ops.wait({ project: bed.project, operation: op.name ?? '' });
      if (o.error?.errors?.length) throw new Error(JSON.stringify(o.error));
      return o.status === 'DONE' ? true : undefined;
    });
  };
  /** A hand edit through the Compute API, as someone with the console or gcloud would make it. */
  const handEdit = async (ns: string, svc: string, requestPath: string) =>
    waitOp(
      await hcs.patch({
        project: bed.project,
        healthCheck: bed.checkName(ns, svc, PORT),
        healthCheckResource: { httpHealthCheck: { requestPath } },
      }),
    );

  /** hcsync's JSON log lines, parsed (non-JSON lines are kept as a message). */
  const logs = (p: HcsyncProcess): Record<string, unknown>[] =>
    p.lines.map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return { message: l };
      }
    });
  /** Patches hcsync made to one check, by its own log ("health check patched" carries health_check). */
  const patchesOf = (p: HcsyncProcess, ns: string, svc: string) =>
    logs(p).filter((l) => l['message'] === 'health check patched' && l['health_check'] === bed.checkName(ns, svc, PORT));
  /** Waits for hcsync to log n patches of the check (the log line can trail GCP's change by a moment), then checks it stays at n. */
  const expectPatches = async (p: HcsyncProcess, ns: string, svc: string, n: number, why: string) => {
    await until(`${n} patch(es) of ${ns}/${svc} logged`, () => (patchesOf(p, ns, svc).length >= n ? true : undefined), 5_000).catch(
      () => undefined,
    );
    assert.equal(patchesOf(p, ns, svc).length, n, why);
  };
  const successPatches = async (p: HcsyncProcess) => (await p.metric('hcsync_health_check_patches_total', { result: 'success' })) ?? 0;

  /** Namespace, Service (selector app=<svc>, port 80 → named container port http), Pods, optional Ingress. */
  async function scenario(
    ns: string,
    svc: string,
    opts: {
      annotations?: Record<string, string>;
      pods?: { name: string; okPaths: string[]; readinessProbe?: string }[];
      ingress?: boolean;
    },
  ): Promise<void> {
    await bed.ensureNamespace(ns);
    await bed.createService(ns, svc, PORT, opts.annotations ?? {});
    for (const p of opts.pods ?? []) await addPod(ns, svc, p);
    if (opts.ingress ?? true) {
      await bed.createIngress(ns, 'ing', svc, PORT);
      await until(`GKE created the check of ${ns}/${svc}`, () => getHc(ns, svc), 30_000);
    }
  }
  async function addPod(ns: string, svc: string, p: { name: string; okPaths: string[]; readinessProbe?: string }): Promise<void> {
    const app = await bed.startApp(`127.0.0.${nextIp++}`, p.okPaths);
    await bed.createPod(ns, p.name, {
      ip: app.ip,
      port: app.port,
      labels: { app: svc },
      ...(p.readinessProbe ? { readinessProbe: readiness(p.readinessProbe, app.port) } : {}),
    });
  }

  before(async () => {
    bed = await TestBed.start();
    hcs = new HealthChecksClient(computeClientOptions(bed.compute.endpoint));
    ops = new GlobalOperationsClient(computeClientOptions(bed.compute.endpoint));
    await bed.gke.start();
    kubeconfig = await bed.hcsyncKubeconfig();
    hcsync = await bed.spawnHcsync(['run', '--resync', `${RESYNC_MS / 1000}s`], kubeconfig);
    processes.push(hcsync);
    await until('hcsync ready', async () => ((await hcsync.ready()) ? true : undefined), 30_000);
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') failed = true;
  });

  after(async () => {
    // On failure, hcsync's warnings are the first thing to read.
    if (failed) {
      for (const p of processes)
        for (const l of logs(p))
          if (l['level'] !== 'info' && l['level'] !== 'debug') process.stderr.write(`hcsync[${p.pid}] ${JSON.stringify(l)}\n`);
    }
    await hcs?.close();
    await ops?.close();
    await bed?.stop();
  });

  describe('1. rollout', () => {
    const NS = 'rollout';
    const SVC = 'web';

    it('the check follows the readinessProbe of the Service’s Pods to /v1', async () => {
      // The Ingress comes first, so GKE builds the check from defaults ("/") and only hcsync can move it.
      await scenario(NS, SVC, {});
      assert.equal(await livePath(NS, SVC), '/');
      await addPod(NS, SVC, { name: 'web-old-1', okPaths: ['/v1', '/v2'], readinessProbe: '/v1' });
      await addPod(NS, SVC, { name: 'web-old-2', okPaths: ['/v1', '/v2'], readinessProbe: '/v1' });
      await waitPath(NS, SVC, '/v1');
      const hc = await getHc(NS, SVC);
      // The probe's timing comes along, as GKE would have taken it at creation (NEG: no +60 s).
      assert.equal(hc.checkIntervalSec, 10);
      assert.equal(hc.timeoutSec, 2);
      const c = await waitCondition(NS, SVC, 'Patched');
      assert.equal(c.status, 'True');
      assert.match(c.message, /from readinessProbe/);
    });

    it('while old and new Pods disagree, the check stays /v1 and the condition is False/RolloutInProgress', async () => {
      await addPod(NS, SVC, { name: 'web-new-1', okPaths: ['/v1', '/v2'], readinessProbe: '/v2' });
      const c = await waitCondition(NS, SVC, 'RolloutInProgress');
      assert.equal(c.status, 'False');
      assert.match(c.message, /Pods disagree/);
      // A whole resync later hcsync still holds (it re-reads GCP and re-plans every resync).
      await sleep(RESYNC_MS + 1000);
      assert.equal(await livePath(NS, SVC), '/v1');
      assert.equal((await bed.serviceCondition(NS, SVC))?.reason, 'RolloutInProgress');
    });

    it('once the old Pods are gone, the check moves to /v2', async () => {
      await bed.deletePod(NS, 'web-old-1');
      await bed.deletePod(NS, 'web-old-2');
      await waitPath(NS, SVC, '/v2');
      const c = await waitCondition(NS, SVC, 'Patched');
      assert.match(c.message, /"\/v1" → "\/v2"/);
      await expectPatches(hcsync, NS, SVC, 2, 'one patch to /v1, one to /v2, nothing in between');
    });
  });

  describe('2. hcsync.io/health-path', () => {
    const NS = 'annotated';
    const SVC = 'api';

    it('a Service whose Pods have no probe gets the annotation’s path; the condition names the annotation', async () => {
      await scenario(NS, SVC, {
        annotations: { 'hcsync.io/health-path': '/annotated' },
        pods: [{ name: 'api-1', okPaths: ['/annotated'] }],
      });
      await waitPath(NS, SVC, '/annotated');
      const c = await waitCondition(NS, SVC, 'Patched');
      assert.equal(c.status, 'True');
      assert.match(c.message, /requestPath "\/" → "\/annotated" \(from hcsync\.io\/health-path\)/);
      assert.ok((await bed.serviceEvents(NS, SVC)).some((e) => e.reason === 'HealthCheckPatched'));
    });
  });

  describe('3. BackendConfig', () => {
    const NS = 'backendconfig';
    const SVC = 'shop';
    let patchesBefore = 0;

    it('GKE creates the check with the BackendConfig path and hcsync never patches it, though the readinessProbe says otherwise', async () => {
      patchesBefore = await successPatches(hcsync);
      await bed.ensureNamespace(NS);
      await bed.objects.create({
        apiVersion: 'cloud.google.com/v1',
        kind: 'BackendConfig',
        metadata: { name: 'shop-bc', namespace: NS },
        spec: { healthCheck: { requestPath: '/bc' } },
      } as never);
      // The Pod exists before the Ingress, so GKE takes the probe's timing at creation, then the
      // BackendConfig's path: only the path differs from what the probe says.
      await scenario(NS, SVC, {
        annotations: { 'cloud.google.com/backend-config': JSON.stringify({ default: 'shop-bc' }) },
        pods: [{ name: 'shop-1', okPaths: ['/bc', '/ready'], readinessProbe: '/ready' }],
      });
      assert.equal(await livePath(NS, SVC), '/bc');
      const c = await waitCondition(NS, SVC, 'InSync');
      assert.equal(c.status, 'True');
      // Two resyncs: hcsync has seen the check and decided, more than once.
      await sleep(2 * RESYNC_MS + 1000);
      assert.equal(await livePath(NS, SVC), '/bc');
      assert.deepEqual(patchesOf(hcsync, NS, SVC), []);
      assert.equal(await successPatches(hcsync), patchesBefore, 'hcsync_health_check_patches_total did not move');
      assert.equal(await hcsync.metric('hcsync_health_check_drift', { namespace: NS, service: SVC }), 0);
    });

    it('hcsync.io/health-path disagreeing with the BackendConfig: False/Conflict and a HealthCheckConflict Event, still no patch', async () => {
      await bed.core.patchNamespacedService(
        { namespace: NS, name: SVC, body: { metadata: { annotations: { 'hcsync.io/health-path': '/other' } } } },
        merge,
      );
      const c = await waitCondition(NS, SVC, 'Conflict');
      assert.equal(c.status, 'False');
      assert.match(c.message, /hcsync\.io\/health-path says requestPath "\/other" but BackendConfig shop-bc sets "\/bc"/);
      const ev = await until('HealthCheckConflict Event', async () =>
        (await bed.serviceEvents(NS, SVC)).find((e) => e.reason === 'HealthCheckConflict'),
      );
      assert.equal(ev.type, 'Warning');
      await sleep(RESYNC_MS + 1000);
      assert.equal(await livePath(NS, SVC), '/bc');
      assert.deepEqual(patchesOf(hcsync, NS, SVC), []);
      assert.equal(await successPatches(hcsync), patchesBefore);
      // Events are not repeated for a state that has not changed.
      assert.equal((await bed.serviceEvents(NS, SVC)).filter((e) => e.reason === 'HealthCheckConflict').length, 1);
    });
  });

  describe('4. hand edit', () => {
    const NS = 'handedit';
    const SVC = 'cart';

    it('enforce: a path changed by hand through the Compute API is reverted within a resync', async () => {
      await scenario(NS, SVC, { pods: [{ name: 'cart-1', okPaths: ['/ready'], readinessProbe: '/ready' }] });
      // GKE took the probe at creation: nothing for hcsync to do yet.
      assert.equal(await livePath(NS, SVC), '/ready');
      await waitCondition(NS, SVC, 'InSync');
      assert.deepEqual(patchesOf(hcsync, NS, SVC), []);
      // Two resyncs with nothing to do first: the pass after the condition write's echo is kept as
      // settled, and the next ones are skipped (controller/pass-reads.ts). The hand edit must still
      // be seen at the next resync: the re-listed check is a new object, so the pass is a full one.
      await sleep(2 * RESYNC_MS + 1000);
      assert.deepEqual(patchesOf(hcsync, NS, SVC), []);

      await handEdit(NS, SVC, '/hand');
      const t0 = Date.now();
      await waitPath(NS, SVC, '/ready');
      const took = Date.now() - t0;
      assert.ok(took < RESYNC_MS + 5000, `reverted after ${took} ms, resync is ${RESYNC_MS} ms`);
      const c = await waitCondition(NS, SVC, 'Patched');
      assert.match(c.message, /requestPath "\/hand" → "\/ready" \(from readinessProbe\)/);
      await expectPatches(hcsync, NS, SVC, 1, 'one revert');
    });
  });

  describe('5. recreate', () => {
    const NS = 'annotated';
    const SVC = 'api';

    it('a check deleted and recreated by ingress-gce from defaults gets the intended path again', async () => {
      const before = await getHc(NS, SVC);
      assert.equal(before.httpHealthCheck?.requestPath, '/annotated');
      const createdBefore = bed.gke.healthChecksCreated();
      // GCE refuses to delete a check in use: the stand-in unlinks, deletes, and syncs (a 404 → create).
      // Its periodic sync may get there first, so the count tells, not this sync's report.
      await bed.gke.recreateHealthCheck(bed.checkName(NS, SVC, PORT));
      assert.equal(bed.gke.healthChecksCreated(), createdBefore + 1);
      const fresh = await getHc(NS, SVC);
      assert.notEqual(String(fresh.id), String(before.id), 'a new check, not the old one');
      // Recreated from defaults: hcsync's patch is lost at this point.
      assert.equal(fresh.httpHealthCheck?.requestPath, '/');
      await waitPath(NS, SVC, '/annotated');
      await expectPatches(hcsync, NS, SVC, 2, 'the first patch, and one re-apply after the recreate');
      const c = await waitCondition(NS, SVC, 'Patched');
      assert.equal(c.status, 'True');
    });
  });

  describe('4b. hand edit, observe mode', () => {
    const NS = 'handedit';
    const SVC = 'cart';
    let observer: HcsyncProcess;

    it('the enforcing hcsync made exactly the patches the scenarios call for, none failed, and stops cleanly (SIGTERM → exit 0)', async () => {
      // rollout /v1 and /v2, the annotation and its re-apply after the recreate, the hand-edit revert.
      const ok = await successPatches(hcsync);
      const failedPatches = (await hcsync.metric('hcsync_health_check_patches_total', { result: 'error' })) ?? 0;
      // Stopped before asserting: a still-enforcing hcsync would spoil the observe scenario.
      assert.equal(await hcsync.stop(), 0);
      assert.equal(ok, 5);
      assert.equal(failedPatches, 0);
    });

    it('hcsync --mode observe reports a hand edit as drift (gauge 1, Drifted, HealthCheckDrifted) and leaves the check alone', async () => {
      observer = await bed.spawnHcsync(['run', '--resync', `${RESYNC_MS / 1000}s`, '--mode', 'observe'], kubeconfig);
      processes.push(observer);
      await until('observer ready', async () => ((await observer.ready()) ? true : undefined), 30_000);
      await handEdit(NS, SVC, '/hand2');
      await until(
        'drift gauge 1',
        async () => ((await observer.metric('hcsync_health_check_drift', { namespace: NS, service: SVC })) === 1 ? true : undefined),
        ONE_RESYNC_AND_SLACK,
      );
      const c = await waitCondition(NS, SVC, 'Drifted');
      assert.equal(c.status, 'False');
      assert.match(c.message, /requestPath "\/hand2" ≠ intended "\/ready"/);
      await until('HealthCheckDrifted Event', async () =>
        (await bed.serviceEvents(NS, SVC)).find((e) => e.reason === 'HealthCheckDrifted' && e.type === 'Warning'),
      );
      // Another full resync: still untouched, still drifted.
      await sleep(RESYNC_MS + 1000);
      assert.equal(await livePath(NS, SVC), '/hand2');
      assert.equal(await observer.metric('hcsync_health_check_drift', { namespace: NS, service: SVC }), 1);
      assert.equal(await successPatches(observer), 0);
      assert.equal((await observer.metric('hcsync_health_check_patches_total', { result: 'error' })) ?? 0, 0);
      assert.deepEqual(patchesOf(observer, NS, SVC), []);
      // The other scenarios' checks are in line, so they count as in sync, not drifted.
      assert.equal(await observer.metric('hcsync_health_check_drift', { namespace: 'annotated', service: 'api' }), 0);
      assert.equal(await observer.metric('hcsync_health_check_drift', { namespace: 'rollout', service: 'web' }), 0);
    });

    it('the observer stops cleanly too', async () => {
      assert.equal(await observer.stop(), 0);
    });
  });

  describe('6. across the file', () => {
    it('ingress-gce never had to revert anything hcsync patched (no update ping-pong)', () => {
      // Every check hcsync patched went through at least one ingress-gce sync afterwards (1 s period).
      assert.equal(bed.gke.updatesMade(), 0, JSON.stringify(bed.gke.updateLog()));
    });

    it('no request of hcsync (ServiceAccount with the shipped ClusterRole) was refused: no forbidden/403 in its logs', () => {
      for (const p of processes) {
        assert.ok(p.lines.length > 0, 'hcsync logged something (else this check proves nothing)');
        const refused = p.lines.filter((l) => /forbidden|\b403\b/i.test(l));
        assert.deepEqual(refused, []);
      }
    });
  });
});
