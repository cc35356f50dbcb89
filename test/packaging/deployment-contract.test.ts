// The contract between deploy/ and the built hcsync: the Deployment's own container args and env
// (kustomize base), run against the real API server under the shipped ServiceAccount and RBAC,
// give a process whose liveness and readiness probe paths answer 200, whose metrics port serves
// every contract metric the alerts and dashboard use, that leads on the Lease the Role allows in
// POD_NAMESPACE, and that on SIGTERM exits 0 within terminationGracePeriodSeconds and releases the
// Lease. Only what cannot be the same on a shared test machine is overridden: the kubeconfig, the
// project, the Compute endpoint, and loopback ports instead of :8080/:8081.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CoordinationV1Api, CoreV1Api, PatchStrategy, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { HealthChecksClient } from '@google-cloud/compute';
import { httpGet, TestBed, until, type HcsyncProcess } from '../../testbed/bed.js';
import { computeClientOptions } from '../../testbed/compute/index.js';
import { kustomizeBuild, readObjects, type KubeObject } from '../support/packaging-tools.js';
import { CONTRACT_METRICS } from '../support/contract.js';

interface Probe {
  httpGet: { path: string; port: string };
}
interface Container {
  args: string[];
  env: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  livenessProbe: Probe;
  readinessProbe: Probe;
}
interface PodSpec {
  terminationGracePeriodSeconds: number;
  containers: Container[];
}

describe('e2e: the Deployment in deploy/base runs hcsync as its manifests say', function () {
  this.timeout(120_000);
  const POD_NAME = 'hcsync-7c9f8d6b5-x2k4q';
  let bed: TestBed;
  let hcsync: HcsyncProcess;
  let spec: PodSpec;
  let container: Container;

  before(async () => {
    const deployment = kustomizeBuild('deploy/base').find((o: KubeObject) => o.kind === 'Deployment');
    assert.ok(deployment);
    spec = (deployment.spec as { template: { spec: PodSpec } }).template.spec;
    const [c] = spec.containers;
    assert.ok(c);
    container = c;
    bed = await TestBed.start();
    const kubeconfig = await bed.hcsyncKubeconfig();

    // The container's env as the kubelet would set it (downward API resolved for this Pod).
    const saved = { ...process.env };
    try {
      for (const e of container.env) {
        const fieldPath = e.valueFrom?.fieldRef?.fieldPath;
        process.env[e.name] =
          e.value ?? (fieldPath === 'metadata.namespace' ? 'hcsync-system' : fieldPath === 'metadata.name' ? POD_NAME : '');
      }
      hcsync = await bed.spawnHcsync(container.args, kubeconfig);
    } finally {
      // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- process.env is a record: `delete` unsets a variable
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });

  after(async () => {
    await bed?.stop();
  });

  it('its liveness and readiness probe paths answer 200', async () => {
    assert.equal(container.livenessProbe.httpGet.port, 'health');
    assert.equal(container.readinessProbe.httpGet.port, 'health');
    for (const probe of [container.livenessProbe, container.readinessProbe]) {
      await until(
        `${probe.httpGet.path} answers 200`,
        async () =>
          (await httpGet(`${hcsync.healthUrl}${probe.httpGet.path}`).catch(() => ({ status: 0 }))).status === 200 ? true : undefined,
        30_000,
      );
    }
  });

  it('its metrics port serves every contract metric', async () => {
    const text = await hcsync.metrics();
    for (const name of CONTRACT_METRICS) assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), `${name} is exposed`);
  });

  it('it leads on the Lease its Role allows, in POD_NAMESPACE, as POD_NAME', async () => {
    await until('hcsync_leader 1', async () => ((await hcsync.metric('hcsync_leader')) === 1 ? true : undefined), 30_000);
    const id = /^--leader-election-id=(.+)$/.exec(container.args.find((a) => a.startsWith('--leader-election-id=')) ?? '')?.[1];
    assert.equal(id, 'hcsync');
    const lease = await bed.kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: id, namespace: 'hcsync-system' });
    assert.ok(lease.spec?.holderIdentity?.startsWith(POD_NAME), `holder ${lease.spec?.holderIdentity}`);
  });

  it('on SIGTERM it exits 0 within terminationGracePeriodSeconds and releases the Lease', async () => {
    const started = Date.now();
    const code = await hcsync.stop();
    const took = Date.now() - started;
    assert.equal(code, 0, hcsync.lines.slice(-20).join('\n'));
    assert.ok(took < spec.terminationGracePeriodSeconds * 1000, `took ${took} ms`);
    const lease = await bed.kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: 'hcsync', namespace: 'hcsync-system' });
    assert.ok([undefined, ''].includes(lease.spec?.holderIdentity), `holder after SIGTERM: ${lease.spec?.holderIdentity}`);
  });
});

/** Applies rendered objects for real with server-side apply, as `kubectl apply --server-side`. */
async function applyAll(bed: TestBed, objects: readonly KubeObject[]): Promise<void> {
  for (const o of objects) await bed.objects.patch(o, undefined, undefined, 'test', true, PatchStrategy.ServerSideApply);
}

function containerOf(objects: readonly KubeObject[]): Container {
  const d = objects.find((o) => o.kind === 'Deployment');
  assert.ok(d);
  const [c] = (d.spec as { template: { spec: PodSpec } }).template.spec.containers;
  assert.ok(c);
  return c;
}

const forbidden = (lines: readonly string[]): string[] => lines.filter((l) => /\b403\b|forbidden/i.test(l));

describe('e2e: deploy/overlays/namespaced — hcsync with --namespaces under namespaced Roles only', function () {
  this.timeout(120_000);
  let bed: TestBed;
  let hcsync: HcsyncProcess;

  before(async () => {
    const objects = kustomizeBuild('deploy/overlays/namespaced');
    assert.deepEqual(
      objects.filter((o) => o.kind.startsWith('Cluster')),
      [],
      'no cluster-wide RBAC at all',
    );
    bed = await TestBed.start();
    for (const ns of ['hcsync-system', 'shop', 'payments', 'elsewhere']) await bed.ensureNamespace(ns);
    // Exactly the overlay's ServiceAccount, Roles and RoleBindings: nothing else grants hcsync access.
    await applyAll(
      bed,
      objects.filter((o) => ['ServiceAccount', 'Role', 'RoleBinding'].includes(o.kind)),
    );
    const kubeconfig = join(bed.cp.kubeconfigPath, '..', 'hcsync-namespaced.kubeconfig');
    bed.cp.writeKubeconfig(kubeconfig, { impersonate: 'system:serviceaccount:hcsync-system:hcsync' });
    const c = containerOf(objects);
    assert.ok(c.args.includes('--namespaces=shop,payments'), c.args.join(' '));
    const saved = { ...process.env };
    try {
      process.env.POD_NAMESPACE = 'hcsync-system';
      process.env.POD_NAME = 'hcsync-ns-0';
      hcsync = await bed.spawnHcsync([...c.args, '--resync=3s'], kubeconfig);
    } finally {
      // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- process.env is a record: `delete` unsets a variable
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });

  after(async () => {
    await bed?.stop();
  });

  it('converges a Service in a watched namespace, leaves an unwatched one alone, and logs no 403', async () => {
    await bed.deployBlogApp('shop', { service: 'web', ingress: 'web', ip: '127.0.0.61' });
    await bed.deployBlogApp('elsewhere', { service: 'web', ingress: 'web', ip: '127.0.0.62' });
    await bed.gke.start(); // ingress-gce's stand-in builds both load balancers and their checks from /
    await bed.loadBalancer('shop', 'web');
    await bed.loadBalancer('elsewhere', 'web');
    await until('hcsync ready', async () => ((await hcsync.ready()) ? true : undefined), 30_000);
    const cond = await until(
      'shop/web Patched',
      async () => {
        const c = await bed.serviceCondition('shop', 'web');
        return c?.reason === 'Patched' ? c : undefined;
      },
      30_000,
    );
    assert.equal(cond.status, 'True');
    const hcs = new HealthChecksClient(computeClientOptions(bed.compute.endpoint));
    try {
      const live = async (ns: string) =>
        (await hcs.get({ project: bed.project, healthCheck: bed.checkName(ns, 'web', 8000) }))[0].httpHealthCheck?.requestPath;
      assert.equal(await live('shop'), '/health-check');
      assert.equal(await live('elsewhere'), '/', "the unwatched namespace keeps GKE's check");
    } finally {
      await hcs.close();
    }
    assert.ok(
      (await bed.serviceEvents('shop', 'web')).some((e) => e.reason === 'HealthCheckPatched'),
      'the Event was created under the Role',
    );
    assert.equal(await bed.serviceCondition('elsewhere', 'web'), undefined, 'a namespace not in --namespaces is never touched');
    assert.equal(await hcsync.metric('hcsync_leader'), 1, 'it leads on the Lease under the Lease Role');
    assert.deepEqual(forbidden(hcsync.lines), []);
  });
});

describe('e2e: --metrics-auth on the real API server (TokenReview, SubjectAccessReview)', function () {
  this.timeout(120_000);
  let bed: TestBed;
  let hcsync: HcsyncProcess;
  const tokens: Record<'reader' | 'stranger', string> = { reader: '', stranger: '' };

  before(async () => {
    bed = await TestBed.start();
    const kubeconfig = await bed.hcsyncKubeconfig(); // the base RBAC
    await applyAll(bed, readObjects('deploy/components/metrics-auth/rbac.yaml')); // + what the component adds
    // Two scrapers with real ServiceAccount tokens from the TokenRequest API (no token controller
    // needed: the API server signs them with its --service-account-signing-key-file).
    await bed.ensureNamespace('monitoring');
    const core = bed.kc.makeApiClient(CoreV1Api);
    for (const name of ['reader', 'stranger'] as const) {
      await core.createNamespacedServiceAccount({ namespace: 'monitoring', body: { metadata: { name } } });
      const tr = await core.createNamespacedServiceAccountToken({
        namespace: 'monitoring',
        name,
        body: { spec: { expirationSeconds: 3600 } },
      });
      tokens[name] = tr.status?.token ?? '';
      assert.ok(tokens[name]);
    }
    await bed.kc.makeApiClient(RbacAuthorizationV1Api).createClusterRoleBinding({
      body: {
        metadata: { name: 'reader-reads-hcsync-metrics' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'hcsync-metrics-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: 'monitoring' }],
      },
    });
    hcsync = await bed.spawnHcsync(['run', '--metrics-auth=true'], kubeconfig);
    await until('hcsync ready', async () => ((await hcsync.ready()) ? true : undefined), 30_000);
  });

  after(async () => {
    await bed?.stop();
  });

  const get = (headers: Record<string, string> = {}) => httpGet(`${hcsync.metricsUrl}/metrics`, headers);

  it('401 without a token and with a token the API server does not accept', async () => {
    assert.equal((await get()).status, 401);
    assert.equal((await get({ authorization: 'Bearer not-a-token' })).status, 401);
    const forged = `${tokens.reader.slice(0, -4)}AAAA`; // signature broken
    assert.equal((await get({ authorization: `Bearer ${forged}` })).status, 401);
  });

  it('403 for a valid ServiceAccount token without hcsync-metrics-reader', async () => {
    const r = await get({ authorization: `Bearer ${tokens.stranger}` });
    assert.equal(r.status, 403, r.body);
    assert.match(r.body, /system:serviceaccount:monitoring:stranger may not get \/metrics/);
  });

  it('200 with the metrics for a ServiceAccount bound to hcsync-metrics-reader', async () => {
    const r = await get({ authorization: `Bearer ${tokens.reader}` });
    assert.equal(r.status, 200, r.body);
    assert.match(r.body, /^# TYPE hcsync_leader gauge/m);
  });

  it('the probes stay open (the kubelet sends no token), and hcsync logged no 403', async () => {
    assert.equal((await httpGet(`${hcsync.healthUrl}/healthz`)).status, 200);
    assert.equal((await httpGet(`${hcsync.healthUrl}/readyz`)).status, 200);
    assert.deepEqual(forbidden(hcsync.lines), []);
  });
});
