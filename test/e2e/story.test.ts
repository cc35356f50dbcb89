// The story hcsync exists for (the blog post "GKE Ingress: How to fix a 502 bad gateway error"), end to end: the
// built hcsync as its own process, with the production RBAC, against a real kube-apiserver, the
// Compute API stand-in that really probes the app, and the ingress-gce stand-in.
import assert from 'node:assert/strict';
import { HealthChecksClient } from '@google-cloud/compute';
import { TestBed, httpGet, until, type HcsyncProcess } from '../../testbed/bed.js';
import { computeClientOptions } from '../../testbed/compute/index.js';

const NS = 'production';
const SVC = 'spacejam-np-service';

describe('e2e: the GKE Ingress 502 story', function () {
  this.timeout(180_000);
  let bed: TestBed;
  let hcsync: HcsyncProcess;
  let hcs: HealthChecksClient;
  let lb: string;
  const check = () => bed.checkName(NS, SVC, 8000);
  const livePath = async () => (await hcs.get({ project: bed.project, healthCheck: check() }))[0].httpHealthCheck?.requestPath;

  before(async () => {
    // Pods live on 127.0.0.N; the stand-in's prober and load balancer must reach them.
    bed = await TestBed.start();
    hcs = new HealthChecksClient(computeClientOptions(bed.compute.endpoint));
    await bed.deployBlogApp(NS, { service: SVC, ingress: 'sample-ingress', ip: '127.0.0.10' });
    await bed.gke.start();
    lb = await bed.loadBalancer(NS, 'sample-ingress');
  });

  after(async () => {
    await hcs?.close();
    await bed?.stop();
  });

  it('before hcsync: GKE built the check from / and the load balancer answers 502', async () => {
    assert.equal(await livePath(), '/');
    await until('UNHEALTHY backend and a 502', async () => ((await httpGet(`http://${lb}/`)).status === 502 ? true : undefined), 30_000);
  });

  it('hcsync diagnose names the cause and exits 1; hcsync plan shows the one patch enforce would make', async () => {
    const diag = await bed.hcsyncCommand(['diagnose', 'ingress', 'sample-ingress', '-n', NS, '-o', 'json']);
    assert.equal(diag.code, 1, diag.stderr);
    assert.notEqual(diag.stdout.trim(), '', `diagnose printed nothing; stderr: ${diag.stderr}`);
    const report = JSON.parse(diag.stdout) as {
      backends: { gkeState: string; text: string; livePath: string; intendedPath: string; source: string }[];
    };
    assert.equal(report.backends[0]?.gkeState, 'UNHEALTHY');
    assert.equal(
      report.backends[0]?.text,
      'UNHEALTHY: the check probes / but the app serves /health-check (livenessProbe); add a readinessProbe or annotate hcsync.io/health-path',
    );
    const plan = await bed.hcsyncCommand(['plan', '-n', NS, '-o', 'json']);
    assert.equal(plan.code, 0, plan.stderr);
    assert.notEqual(plan.stdout.trim(), '', `plan printed nothing; stderr: ${plan.stderr}`);
    const rows = (JSON.parse(plan.stdout) as { ports: { service: string; action: string; detail: string }[] }).ports;
    assert.deepEqual(
      rows.map((r) => [r.service, r.action]),
      [[SVC, 'patch']],
    );
    assert.match(rows[0]!.detail, /would patch requestPath "\/" → "\/health-check" \(from livenessProbe\)/);
    assert.equal(await livePath(), '/', 'plan and diagnose are read-only');
  });

  it('hcsync (ServiceAccount with the shipped ClusterRole) patches the check to /health-check', async () => {
    const kubeconfig = await bed.hcsyncKubeconfig();
    hcsync = await bed.spawnHcsync(['run', '--resync', '5s'], kubeconfig);
    await until('hcsync ready', async () => ((await hcsync.ready()) ? true : undefined), 30_000);
    await until('check patched', async () => ((await livePath()) === '/health-check' ? true : undefined), 30_000);
  });

  it('the load balancer answers 200 once the endpoint is HEALTHY', async () => {
    await until(
      'a 200 through the load balancer',
      async () => ((await httpGet(`http://${lb}/health-check`)).status === 200 ? true : undefined),
      30_000,
    );
    await until('GKE says HEALTHY', async () => {
      const ing = await bed.net.readNamespacedIngress({ namespace: NS, name: 'sample-ingress' });
      return ing.metadata?.annotations?.['ingress.kubernetes.io/backends']?.includes('HEALTHY') &&
        !ing.metadata.annotations['ingress.kubernetes.io/backends'].includes('UNHEALTHY')
        ? true
        : undefined;
    });
  });

  it('the Service condition says Patched, from the livenessProbe, and Events tell the same', async () => {
    const c = await until('condition', () => bed.serviceCondition(NS, SVC));
    assert.equal(c.status, 'True');
    assert.equal(c.reason, 'Patched');
    assert.match(c.message, /requestPath "\/" → "\/health-check" \(from livenessProbe\)/);
    const reasons = (
      await until('events', async () => {
        const evs = await bed.serviceEvents(NS, SVC);
        return evs.length >= 2 ? evs : undefined;
      })
    ).map((e) => e.reason);
    assert.ok(reasons.includes('HealthCheckPatched'), reasons.join());
    assert.ok(reasons.includes('LivenessProbeFallback'), reasons.join());
  });

  it('the drift gauge is back to 0 and no request was refused (no 403 anywhere)', async () => {
    assert.equal(await hcsync.metric('hcsync_health_check_drift', { namespace: NS, service: SVC }), 0);
    assert.equal(await hcsync.metric('hcsync_health_check_patches_total', { result: 'success' }), 1);
    assert.equal(await hcsync.metric('hcsync_health_checks', { state: 'in_sync' }), 1);
    const forbidden = hcsync.lines.filter((l) => /forbidden|\b403\b/i.test(l));
    assert.deepEqual(forbidden, []);
  });

  it('steady state: further resyncs make no write and no per-Service GET, only one re-verify GET per patch (hcsync’s own request counts)', async () => {
    const count = (method: string, code = '200') => hcsync.metric('hcsync_gcp_requests_total', { method, code }).then((v) => v ?? 0);
    const before = { patch: await count('healthChecks.patch'), list: await count('healthChecks.aggregatedList') };
    await new Promise((r) => setTimeout(r, 11_000)); // two resyncs of 5 s
    assert.equal(await count('healthChecks.patch'), before.patch, 'no patch when nothing differs');
    // The only GET: one re-verify per patch (docs/gke-ingress-healthchecks.md §5.7), none per Service or resync.
    assert.ok((await count('healthChecks.get')) <= (await count('healthChecks.patch')), 'at most one health-check GET per patch');
    assert.equal(await count('backendServices.get'), 0, 'no backend-service GET at all');
    assert.ok((await count('healthChecks.aggregatedList')) >= before.list + 2, 'one list per resync serves every Service');
  });

  it('diagnose of an Ingress that does not exist says so and exits 2', async () => {
    const diag = await bed.hcsyncCommand(['diagnose', 'ingress', 'nope', '-n', NS]);
    assert.equal(diag.code, 2);
    assert.match(diag.stderr, /Ingress production\/nope not found/);
  });

  it('afterwards diagnose says OK and exits 0', async () => {
    const diag = await bed.hcsyncCommand(['diagnose', 'ingress', 'sample-ingress', '-n', NS]);
    assert.equal(diag.code, 0, diag.stdout + diag.stderr);
    assert.match(diag.stdout, /OK: GKE says HEALTHY; the check probes \/health-check as intended \(livenessProbe\)/);
  });

  it('SIGTERM: hcsync exits 0', async () => {
    assert.equal(await hcsync.stop(), 0);
  });
});
