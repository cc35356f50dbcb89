// The contract between deploy/ and the built hcsync: the Deployment's own container args and env
// (kustomize base), run against the real API server under the shipped ServiceAccount and RBAC,
// give a process whose liveness and readiness probe paths answer 200, whose metrics port serves
// every contract metric the alerts and dashboard use, that leads on the Lease the Role allows in
// POD_NAMESPACE, and that on SIGTERM exits 0 within terminationGracePeriodSeconds and releases the
// Lease. Only what cannot be the same on a shared test machine is overridden: the kubeconfig, the
// project, the Compute endpoint, and loopback ports instead of :8080/:8081.
import assert from 'node:assert/strict';
import { CoordinationV1Api } from '@kubernetes/client-node';
import nock from 'nock';
import { httpGet, TestBed, until, type HcsyncProcess } from '../../testbed/bed.js';
import { kustomizeBuild, type KubeObject } from '../support/packaging-tools.js';
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
    nock.enableNetConnect((host: string) => /^(127\.\d+\.\d+\.\d+|localhost)(:\d+)?$/.test(host));
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
        process.env[e.name] = e.value ?? (fieldPath === 'metadata.namespace' ? 'hcsync-system' : fieldPath === 'metadata.name' ? POD_NAME : '');
      }
      hcsync = await bed.spawnHcsync(container.args, kubeconfig);
    } finally {
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
        async () => ((await httpGet(`${hcsync.healthUrl}${probe.httpGet.path}`).catch(() => ({ status: 0 }))).status === 200 ? true : undefined),
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
