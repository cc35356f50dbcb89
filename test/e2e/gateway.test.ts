// The Gateway story and its scenarios, end to end, written from the public contract
// (docs/contract.md, "Gateway API"): the built hcsync as its own process under the shipped RBAC, on
// the real kube-apiserver, the Compute stand-in (really probing the Pods, fronting a load balancer)
// and the GKE Gateway controller stand-in (testbed/gke-gateway/, which builds checks from GKE's
// defaults or the Service's HealthCheckPolicy, never from probes).
//
// One bed for the file, started WITHOUT the Gateway API and HealthCheckPolicy CRDs: the first
// hcsync (observe mode) runs before they exist, so the first scenario is also "CRDs installed later
// are picked up without a restart". Each scenario has its own namespace.
import assert from 'node:assert/strict';
import { PatchStrategy, setHeaderOptions, type V1Probe } from '@kubernetes/client-node';
import { HealthChecksClient, type protos } from '@google-cloud/compute';
import { TestBed, httpGet, until, type HcsyncProcess } from '../../testbed/bed.js';
import { computeClientOptions } from '../../testbed/compute/index.js';

type IHealthCheck = protos.google.cloud.compute.v1.IHealthCheck;
/** One backend of `hcsync diagnose gateway -o json`. */
interface DiagnosedBackend {
  route: string;
  service: string;
  healthCheck?: string;
  livePath?: string;
  intendedPath?: string;
  policy?: string;
  problem: boolean;
}

const RESYNC_MS = 5_000;
/** One resync, its reconcile, one stand-in sync and slack for 2 cores. */
const SETTLE_MS = 3 * RESYNC_MS;
const GKE_CLASS = 'gke-l7-global-external-managed';
const MANAGED_BY = 'app.kubernetes.io/managed-by';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const readiness = (path: string, port: number): V1Probe => ({ httpGet: { path, port }, periodSeconds: 10, timeoutSeconds: 2 });
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

describe('e2e: GKE Gateway (HealthCheckPolicy written, never a Compute write)', function () {
  this.timeout(180_000);
  let bed: TestBed;
  let kubeconfig: string;
  let hcs: HealthChecksClient;
  /** The observer started before the CRDs existed, then the enforcing hcsync for the rest. */
  let observer: HcsyncProcess;
  let hcsync: HcsyncProcess;
  let nextIp = 80;
  let failed = false;
  const processes: HcsyncProcess[] = [];
  /** Set at the end of before(): a failing before() prints hcsync's logs too. */
  let started = false;

  const check = async (ns: string, svc: string, port: number): Promise<IHealthCheck | undefined> => {
    try {
      return (await hcs.get({ project: bed.project, healthCheck: bed.gatewayCheckName(ns, svc, port) }))[0];
    } catch {
      return undefined;
    }
  };
  const waitPath = (ns: string, svc: string, port: number, path: string, timeoutMs = SETTLE_MS) =>
    until(
      `gkegw1 check of ${ns}/${svc}:${port} at ${path}`,
      async () => ((await check(ns, svc, port))?.httpHealthCheck?.requestPath === path ? true : undefined),
      timeoutMs,
    );
  const waitCondition = (ns: string, svc: string, reason: string, timeoutMs = SETTLE_MS) =>
    until(
      `condition ${reason} on ${ns}/${svc}`,
      async () => {
        const c = await bed.serviceCondition(ns, svc);
        return c?.reason === reason ? c : undefined;
      },
      timeoutMs,
    );
  const waitPolicy = (ns: string, name: string, timeoutMs = SETTLE_MS) =>
    until(`HealthCheckPolicy ${ns}/${name}`, () => bed.healthCheckPolicy(ns, name), timeoutMs);
  const waitNoPolicy = (ns: string, name: string, timeoutMs = SETTLE_MS) =>
    until(
      `HealthCheckPolicy ${ns}/${name} deleted`,
      async () => ((await bed.healthCheckPolicy(ns, name)) === undefined ? true : undefined),
      timeoutMs,
    );
  /** Writes (anything but GET/list/wait) hcsync processes sent to the Compute API. */
  const hcsyncComputeWrites = () =>
    bed.compute
      .requestLog()
      .filter((r) => r.caller.startsWith('hcsync') && !/\.(get|list|aggregatedList|getHealth|wait|listNetworkEndpoints)$/.test(r.api));

  /** A Service (port 80 → the container port "http") and one Ready Pod whose app answers 200 only on okPaths. */
  const deploy = async (ns: string, svc: string, okPaths: string[], probe?: string, annotations: Record<string, string> = {}) => {
    await bed.ensureNamespace(ns);
    const app = await bed.startApp(`127.0.0.${nextIp++}`, okPaths);
    await bed.createService(ns, svc, 80, annotations);
    await bed.createPod(ns, `${svc}-1`, {
      ip: app.ip,
      port: app.port,
      labels: { app: svc },
      ...(probe ? { readinessProbe: readiness(probe, app.port) } : {}),
    });
    return app;
  };
  const spawn = async (mode: 'enforce' | 'observe', caller: string) => {
    const p = await bed.spawnHcsync(['run', '--resync', `${RESYNC_MS / 1000}s`, '--mode', mode], kubeconfig, {
      computeEndpoint: await bed.compute.endpointFor(caller),
    });
    processes.push(p);
    await until(`${caller} ready`, async () => ((await p.ready()) ? true : undefined), 30_000);
    return p;
  };

  before(async () => {
    bed = await TestBed.start();
    hcs = new HealthChecksClient(computeClientOptions(bed.compute.endpoint));
    kubeconfig = await bed.hcsyncKubeconfig();
    await bed.gateway.start(); // GKE's Gateway controller runs; the cluster has no Gateway API yet
    observer = await spawn('observe', 'hcsync-observer');
    started = true;
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') failed = true;
  });

  after(async () => {
    // On failure (before-all included), hcsync's warnings are the first thing to read.
    if (failed || !started) {
      for (const p of processes)
        for (const l of p.lines)
          if (!l.includes('"level":"info"') && !l.includes('"level":"debug"')) process.stderr.write(`hcsync[${String(p.pid)}] ${l}\n`);
    }
    await hcs?.close();
    await bed?.stop();
  });

  describe('1. the 502 story on a Gateway', () => {
    const NS = 'shop';
    let lb: string;

    it('CRDs installed after hcsync started: the observer picks them up, reports what it would write, and writes nothing', async () => {
      await bed.installGatewayApiCrds();
      await bed.installHealthCheckPolicyCrd();
      await deploy(NS, 'web', ['/ready'], '/ready');
      await bed.createGateway(NS, 'external', GKE_CLASS);
      await bed.createRoute(NS, 'web', 'external', [{ service: 'web', port: 80 }]);

      // GKE's controller read no probe: the check probes "/", the app answers 404 there, 502.
      await waitPath(NS, 'web', 80, '/');
      lb = await bed.gatewayLoadBalancer(NS, 'external');
      await until('502', async () => ((await httpGet(`http://${lb}/ready`)).status === 502 ? true : undefined), 30_000);

      // The observer (running since before the CRDs existed, never restarted) reports the gap.
      // The message names the live gkegw1 check once hcsync has read it (a resync after GKE built it).
      const checkName = bed.gatewayCheckName(NS, 'web', 80);
      const c = await until(
        'Drifted naming the live check',
        async () => {
          const x = await bed.serviceCondition(NS, 'web');
          return x?.reason === 'Drifted' && x.message.includes(checkName) ? x : undefined;
        },
        SETTLE_MS * 2,
      ).catch(async (e: unknown) => {
        throw new Error(`${String(e)}; last condition: ${JSON.stringify(await bed.serviceCondition(NS, 'web'))}`);
      });
      assert.equal(c.status, 'False');
      assert.match(c.message, /hcsync-web/, `names the policy it would write: ${c.message}`);
      assert.match(c.message, /\/ready/, `names the intended path: ${c.message}`);
      await sleep(RESYNC_MS + 1000);
      assert.equal(await bed.healthCheckPolicy(NS, 'hcsync-web'), undefined, 'observe mode writes no policy');
      assert.deepEqual(await bed.healthCheckPolicies(NS), []);
      assert.equal((await check(NS, 'web', 80))?.httpHealthCheck?.requestPath, '/');
      assert.deepEqual(hcsyncComputeWrites(), []);
      assert.ok(observer.pid !== undefined && (await observer.ready()), 'the same process, still serving');
      assert.equal(await observer.stop(), 0);
    });

    it('hcsync diagnose gateway names the drifted gkegw1 check and the intended path, and exits 1; plan shows the policy write (read-only)', async () => {
      const diag = await bed.hcsyncCommand(['diagnose', 'gateway', 'external', '-n', NS, '-o', 'json']);
      assert.equal(diag.code, 1, diag.stderr);
      const report = JSON.parse(diag.stdout) as { gateway: string; problems: number; backends: DiagnosedBackend[] };
      assert.equal(report.gateway, `${NS}/external`);
      assert.equal(report.problems, 1);
      assert.deepEqual(
        report.backends.map((b) => [b.route, b.service, b.healthCheck, b.livePath, b.intendedPath, b.problem]),
        [[`HTTPRoute ${NS}/web`, `${NS}/web`, bed.gatewayCheckName(NS, 'web', 80), '/', '/ready', true]],
        diag.stdout,
      );
      assert.match(report.backends[0]?.policy ?? '', /hcsync-web/);

      // hcsync plan: the one policy write enforce would make, for that port.
      const plan = await bed.hcsyncCommand(['plan', '-n', NS, '-o', 'json']);
      assert.equal(plan.code, 0, plan.stderr);
      const planned = JSON.parse(plan.stdout) as {
        changes: number;
        ports: { service: string; healthCheck: string; action: string; detail: string }[];
      };
      assert.equal(planned.changes, 1, plan.stdout);
      const row = planned.ports.find((r) => r.service === 'web');
      assert.deepEqual([row?.healthCheck, row?.action], [bed.gatewayCheckName(NS, 'web', 80), 'patch'], plan.stdout);
      assert.match(row?.detail ?? '', /\/ready/);
      assert.match(row?.detail ?? '', /hcsync-web/);
      assert.deepEqual(hcsyncComputeWrites(), []);
      assert.deepEqual(await bed.healthCheckPolicies(NS), [], 'diagnose and plan write no policy');
    });

    it('enforce: hcsync writes hcsync-web by server-side apply (label, ownerReference, targetRef, only the intended fields)', async () => {
      hcsync = await spawn('enforce', 'hcsync');
      const policy = await waitPolicy(NS, 'hcsync-web');
      const svc = await bed.core.readNamespacedService({ namespace: NS, name: 'web' });
      assert.equal(policy.metadata.labels?.[MANAGED_BY], 'hcsync');
      assert.deepEqual(
        policy.metadata.ownerReferences?.map((o) => [o.apiVersion, o.kind, o.name, o.uid]),
        [['v1', 'Service', 'web', svc.metadata?.uid]],
      );
      assert.ok(
        policy.metadata.managedFields?.some((f) => f.manager === 'hcsync' && f.operation === 'Apply'),
        JSON.stringify(policy.metadata.managedFields),
      );
      assert.deepEqual(policy.spec.targetRef, { group: '', kind: 'Service', name: 'web' });
      const config = policy.spec.default?.['config'] as { type: string; httpHealthCheck?: Record<string, unknown> };
      assert.equal(config.type, 'HTTP');
      assert.equal(config.httpHealthCheck?.['requestPath'], '/ready');
      // Fields no source gives are left out, so GKE's defaults apply.
      assert.equal(policy.spec.default?.['healthyThreshold'], undefined);
      assert.equal(policy.spec.default?.['unhealthyThreshold'], undefined);
    });

    it('GKE applies the policy, the load balancer answers 200; Patched then InSync; Event HealthCheckPatched', async () => {
      await waitPath(NS, 'web', 80, '/ready');
      const ok = await until(
        '200',
        async () => {
          const r = await httpGet(`http://${lb}/ready`);
          return r.status === 200 ? r : undefined;
        },
        30_000,
      );
      assert.equal(ok.status, 200);
      await until('Patched or InSync', async () => {
        const c = await bed.serviceCondition(NS, 'web');
        return c?.status === 'True' && ['Patched', 'InSync'].includes(c.reason) ? c : undefined;
      });
      const insync = await waitCondition(NS, 'web', 'InSync', 30_000);
      assert.equal(insync.status, 'True');
      assert.match(insync.message, /hcsync-web/, insync.message);
      assert.ok(insync.message.includes(bed.gatewayCheckName(NS, 'web', 80)), `names the live gkegw1 check: ${insync.message}`);
      const events = await bed.serviceEvents(NS, 'web');
      assert.ok(
        events.some((e) => e.reason === 'HealthCheckPatched' && e.type === 'Normal'),
        JSON.stringify(events),
      );
      const attached = (await bed.healthCheckPolicy(NS, 'hcsync-web'))?.status?.conditions?.find((c) => c.type === 'Attached');
      assert.equal(attached?.status, 'True');
    });

    it('hcsync diagnose gateway then finds no problem and exits 0', async () => {
      const diag = await bed.hcsyncCommand(['diagnose', 'gateway', 'external', '-n', NS]);
      assert.equal(diag.code, 0, `${diag.stdout}${diag.stderr}`);
      assert.ok(diag.stdout.includes(bed.gatewayCheckName(NS, 'web', 80)), diag.stdout);
      assert.match(diag.stdout, /\/ready/);
    });

    it('settled: another resync leaves the policy spec as it is (generation unchanged)', async () => {
      const gen = (await bed.healthCheckPolicy(NS, 'hcsync-web'))?.metadata.generation;
      assert.ok(gen !== undefined);
      await sleep(RESYNC_MS + 1000);
      assert.equal((await bed.healthCheckPolicy(NS, 'hcsync-web'))?.metadata.generation, gen);
    });

    it('the intent changes (annotation): hcsync updates its policy and GKE re-applies it', async () => {
      const app = await deploy('shop2', 'web', ['/livez'], '/ready', { 'hcsync.io/health-path': '/livez' });
      await bed.createGateway('shop2', 'external', GKE_CLASS);
      await bed.createRoute('shop2', 'web', 'external', [{ service: 'web', port: 80 }]);
      const p = await waitPolicy('shop2', 'hcsync-web');
      assert.equal((p.spec.default?.['config'] as { httpHealthCheck?: { requestPath?: string } }).httpHealthCheck?.requestPath, '/livez');
      await bed.core.patchNamespacedService(
        { namespace: 'shop2', name: 'web', body: { metadata: { annotations: { 'hcsync.io/health-path': '/ready' } } } },
        merge,
      );
      app.setOkPaths(['/ready']);
      await until('policy updated to /ready', async () => {
        const q = await bed.healthCheckPolicy('shop2', 'hcsync-web');
        return (q?.spec.default?.['config'] as { httpHealthCheck?: { requestPath?: string } } | undefined)?.httpHealthCheck?.requestPath ===
          '/ready'
          ? true
          : undefined;
      });
      await waitPath('shop2', 'web', 80, '/ready');
    });
  });

  describe('2. owner rules and conflicts', () => {
    it("a user's policy is never touched; a disagreeing hcsync.io/health-path gives Conflict", async () => {
      const NS = 'owned';
      await deploy(NS, 'api', ['/mine', '/other'], '/mine', { 'hcsync.io/health-path': '/other' });
      await bed.createHealthCheckPolicy(NS, 'api-hc', 'api', {
        default: { config: { type: 'HTTP', httpHealthCheck: { requestPath: '/mine' } } },
      });
      await bed.createGateway(NS, 'external', GKE_CLASS);
      await bed.createRoute(NS, 'api', 'external', [{ service: 'api', port: 80 }]);
      await waitPath(NS, 'api', 80, '/mine'); // GKE applied the user's policy
      const before = await bed.healthCheckPolicy(NS, 'api-hc');
      const c = await waitCondition(NS, 'api', 'Conflict');
      assert.equal(c.status, 'False');
      assert.match(c.message, /api-hc/);
      await until('HealthCheckConflict Event', async () =>
        (await bed.serviceEvents(NS, 'api')).find((e) => e.reason === 'HealthCheckConflict' && e.type === 'Warning'),
      );
      await sleep(RESYNC_MS + 1000);
      const after = await bed.healthCheckPolicy(NS, 'api-hc');
      assert.deepEqual(after?.spec, before?.spec);
      assert.equal(after?.metadata.generation, before?.metadata.generation);
      assert.ok(!after?.metadata.managedFields?.some((f) => f.manager === 'hcsync'), 'hcsync never wrote the user’s policy');
      assert.deepEqual(
        (await bed.healthCheckPolicies(NS)).map((p) => p.metadata.name),
        ['api-hc'],
        'no hcsync policy beside the user’s',
      );
      assert.equal((await check(NS, 'api', 80))?.httpHealthCheck?.requestPath, '/mine');
    });

    it('a multi-port Service whose referenced ports intend different paths: Conflict, no policy', async () => {
      const NS = 'multi';
      await bed.ensureNamespace(NS);
      const app = await bed.startApp(`127.0.0.${nextIp++}`, ['/a', '/b']);
      await bed.core.createNamespacedService({
        namespace: NS,
        body: {
          metadata: { name: 'both', annotations: { 'hcsync.io/health-paths': JSON.stringify({ http: '/a', admin: '/b' }) } },
          spec: {
            selector: { app: 'both' },
            ports: [
              { name: 'http', port: 80, targetPort: 'http' },
              { name: 'admin', port: 81, targetPort: 'http' },
            ],
          },
        },
      });
      await bed.createPod(NS, 'both-1', { ip: app.ip, port: app.port, labels: { app: 'both' } });
      await bed.createGateway(NS, 'external', GKE_CLASS);
      await bed.createRoute(NS, 'both', 'external', [
        { service: 'both', port: 80 },
        { service: 'both', port: 81 },
      ]);
      const c = await waitCondition(NS, 'both', 'Conflict');
      assert.equal(c.status, 'False');
      assert.match(c.message, /\/a/);
      assert.match(c.message, /\/b/);
      await sleep(RESYNC_MS + 1000);
      assert.deepEqual(await bed.healthCheckPolicies(NS), []);
      assert.equal((await check(NS, 'both', 80))?.httpHealthCheck?.requestPath, '/');
    });
  });

  describe('3. scope', () => {
    it('a Gateway of a non-GKE class: no policy, no condition; diagnose gateway says it is not GKE’s and exits 0', async () => {
      const NS = 'mesh';
      await deploy(NS, 'api', ['/ready'], '/ready');
      await bed.createGatewayClass('istio', 'istio.io/gateway-controller');
      await bed.createGateway(NS, 'internal', 'istio');
      await bed.createRoute(NS, 'api', 'internal', [{ service: 'api', port: 80 }]);
      await sleep(RESYNC_MS * 2);
      assert.deepEqual(await bed.healthCheckPolicies(NS), []);
      assert.equal(await bed.serviceCondition(NS, 'api'), undefined);
      // diagnose says the Gateway is not GKE's (no Google Cloud check), and that is no problem.
      const diag = await bed.hcsyncCommand(['diagnose', 'gateway', 'internal', '-n', NS, '-o', 'json']);
      assert.equal(diag.code, 0, diag.stderr);
      const report = JSON.parse(diag.stdout) as { gateway: string; gke: boolean; message: string };
      assert.deepEqual([report.gateway, report.gke], [`${NS}/internal`, false]);
      assert.match(report.message, /not served by GKE's Gateway controller/);
    });

    it('a cross-namespace backendRef counts only once a ReferenceGrant allows it', async () => {
      await deploy('backend', 'api', ['/ready'], '/ready');
      await bed.ensureNamespace('edge');
      await bed.createGateway('edge', 'external', GKE_CLASS);
      await bed.createRoute('edge', 'to-backend', 'external', [{ service: 'api', port: 80, namespace: 'backend' }]);
      await sleep(RESYNC_MS * 2);
      assert.deepEqual(await bed.healthCheckPolicies('backend'), [], 'no ReferenceGrant: not in scope');
      assert.equal(await bed.serviceCondition('backend', 'api'), undefined);
      await bed.createReferenceGrant('backend', 'from-edge', 'edge');
      const p = await waitPolicy('backend', 'hcsync-api');
      assert.deepEqual(p.spec.targetRef, { group: '', kind: 'Service', name: 'api' });
      await waitPath('backend', 'api', 80, '/ready');
    });
  });

  describe('4. leaving scope', () => {
    it('the route removed: hcsync deletes its policy and the Service reports NotManaged', async () => {
      await bed.deleteRoute('shop2', 'web');
      await waitNoPolicy('shop2', 'hcsync-web');
      const c = await waitCondition('shop2', 'web', 'NotManaged');
      assert.equal(c.status, 'Unknown');
    });

    it('the Service deleted: its policy carries the ownerReference the garbage collector follows, and it goes', async () => {
      // The test bed runs no kube-controller-manager (testbed/control-plane.ts), so no garbage
      // collector: the ownerReference is asserted, and hcsync itself must delete the policy of a
      // Service that left scope (contract: "deletes its own policy when the Service is no longer in scope").
      const svc = await bed.core.readNamespacedService({ namespace: 'backend', name: 'api' });
      const p = await waitPolicy('backend', 'hcsync-api');
      const owner = p.metadata.ownerReferences?.find((o) => o.kind === 'Service');
      assert.equal(owner?.uid, svc.metadata?.uid);
      assert.equal(owner?.name, 'api');
      await bed.core.deleteNamespacedService({ namespace: 'backend', name: 'api' });
      await waitNoPolicy('backend', 'hcsync-api');
    });
  });

  describe('5. across the file', () => {
    it('hcsync made no Compute write at all: Gateway checks are changed only through the policy', () => {
      assert.deepEqual(hcsyncComputeWrites(), []);
      assert.ok(
        bed.compute.requestLog().some((r) => r.caller === 'hcsync' && r.api.endsWith('aggregatedList')),
        'hcsync did read the live checks',
      );
    });

    it('hcsync stops cleanly', async () => {
      assert.equal(await hcsync.stop(), 0);
    });
  });
});
