// Start-up on caches that cannot list: hcsync's ClusterRole lacks backendconfigs at first, so the
// BackendConfig list answers 403 (a real API server cannot be told to fail one list; revoking the
// right is the same answer hcsync would get from a misconfigured cluster). hcsync must reconcile
// nothing — no GCP patch, no condition — and /readyz must say which informer and why; once the
// right is granted it converges without touching the field the BackendConfig owns.
// Also: SIGTERM while the caches cannot sync exits 0 promptly and takes no Lease.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CoordinationV1Api, type KubernetesObject } from '@kubernetes/client-node';
import { HealthChecksClient } from '@google-cloud/compute';
import { REPO_ROOT, TestBed, httpGet, until, type HcsyncProcess } from '../../testbed/bed.js';
import { computeClientOptions } from '../../testbed/compute/index.js';

const NS = 'unsynced';
const SVC = 'web';
const CLUSTERROLE = join(REPO_ROOT, 'deploy/base/clusterrole.yaml');

interface Rule {
  resources?: string[];
}
/** The shipped ClusterRole without its backendconfigs rule. */
const withoutBackendConfigs = (o: KubernetesObject): KubernetesObject =>
  o.kind === 'ClusterRole'
    ? ({ ...o, rules: ((o as { rules?: Rule[] }).rules ?? []).filter((r) => !r.resources?.includes('backendconfigs')) } as KubernetesObject)
    : o;

describe('e2e: start-up while an informer cannot list (BackendConfig list forbidden)', function () {
  this.timeout(180_000);
  let bed: TestBed;
  let hcs: HealthChecksClient;
  let kubeconfig: string;
  const livePath = async () =>
    (await hcs.get({ project: bed.project, healthCheck: bed.checkName(NS, SVC, 80) }))[0].httpHealthCheck?.requestPath;

  before(async () => {
    bed = await TestBed.start();
    hcs = new HealthChecksClient(computeClientOptions(bed.compute.endpoint));
    await bed.ensureNamespace(NS);
    const app = await bed.startApp('127.0.0.60', ['/ready', '/bc']);
    // The probe says /ready, the BackendConfig says /bc: ingress-gce owns the path (it re-imposes
    // the BackendConfig's). An hcsync blind to BackendConfigs would "repair" it to /ready.
    await bed.createService(NS, SVC, 80, { 'cloud.google.com/backend-config': '{"default":"bc"}' });
    await bed.createBackendConfig(NS, 'bc', { requestPath: '/bc' });
    await bed.createPod(NS, 'web-1', {
      ip: app.ip,
      port: app.port,
      labels: { app: SVC },
      readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 5, timeoutSeconds: 2 },
    });
    await bed.createIngress(NS, 'web', SVC, 80);
    await bed.gke.start();
    await until('GKE created the check from the BackendConfig', async () => ((await livePath()) === '/bc' ? true : undefined), 30_000);
    kubeconfig = await bed.hcsyncKubeconfig();
    await bed.applyFile(CLUSTERROLE, withoutBackendConfigs); // revoke list/watch on backendconfigs
  });

  after(async () => {
    await hcs?.close();
    await bed?.stop();
  });

  it('SIGTERM while the caches cannot sync: exits 0 promptly and never takes the Lease', async () => {
    const p = await bed.spawnHcsync(
      ['run', '--leader-elect', 'true', '--leader-election-namespace', 'hcsync-system'], // the shipped Role allows Lease "hcsync" only
      kubeconfig,
    );
    await until('/readyz answers', async () =>
      (await httpGet(`${p.healthUrl}/readyz`).catch(() => undefined))?.status ? true : undefined,
    );
    await new Promise((r) => setTimeout(r, 1500));
    const started = Date.now();
    assert.equal(await p.stop(), 0, 'exit code after SIGTERM during start-up');
    assert.ok(Date.now() - started < 5_000, `exited after ${Date.now() - started} ms`);
    const leases = bed.kc.makeApiClient(CoordinationV1Api);
    // Campaigning waits for synced caches: the Lease was never even created.
    const lease = await leases.readNamespacedLease({ name: 'hcsync', namespace: 'hcsync-system' }).catch(() => undefined);
    assert.equal(lease, undefined, `Lease ${JSON.stringify(lease?.spec)} taken by a replica whose caches never synced`);
  });

  it('holds every write while the BackendConfig list is forbidden, says why on /readyz, then converges without touching the path', async () => {
    bed.compute.resetCounts();
    const hcsync: HcsyncProcess = await bed.spawnHcsync(['run', '--resync', '2s'], kubeconfig);
    await until('/readyz answers', async () =>
      (await httpGet(`${hcsync.healthUrl}/readyz`).catch(() => undefined))?.status ? true : undefined,
    );
    // Several resync periods: nothing may be written on a guess.
    await new Promise((r) => setTimeout(r, 8_000));
    assert.equal(bed.compute.requestCounts()['healthChecks.patch'] ?? 0, 0, 'no GCP patch while a cache is not synced');
    assert.equal(await livePath(), '/bc');
    assert.equal(await bed.serviceCondition(NS, SVC), undefined, 'no condition written while a cache is not synced');
    const readyz = await httpGet(`${hcsync.healthUrl}/readyz`);
    assert.equal(readyz.status, 503);
    assert.match(readyz.body, /not synced/);
    assert.match(readyz.body, /backendconfigs: [^;]*403/, `names the informer and the reason: ${readyz.body}`);
    assert.doesNotMatch(readyz.body, /(services|pods|ingresses):/, `only the BackendConfig informer is unsynced: ${readyz.body}`);

    await bed.applyFile(CLUSTERROLE); // grant it back
    // The informer retries with backoff (1, 2, 4, 8, 16 s …): then hcsync reconciles.
    const c = await until(
      'the condition once the caches synced',
      async () => {
        const cond = await bed.serviceCondition(NS, SVC);
        return cond?.reason === 'InSync' ? cond : undefined;
      },
      60_000,
      500,
    );
    assert.match(c.message, /BackendConfig bc/);
    assert.equal(await hcsync.ready(), true);
    await new Promise((r) => setTimeout(r, 4_000)); // two more resyncs
    assert.equal(await livePath(), '/bc', 'the BackendConfig-owned path is left alone');
    assert.equal(
      bed.compute.requestCounts()['healthChecks.patch'] ?? 0,
      0,
      'no patch at all: the only difference is owned by the BackendConfig',
    );
    assert.equal(await hcsync.stop(), 0);
  });
});
