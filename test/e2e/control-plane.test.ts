// The test bed itself: a real etcd + kube-apiserver, RBAC enforced, impersonation honoured,
// and no server left behind however the test run ends.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ApiException,
  AuthenticationV1Api,
  CoreV1Api,
  PatchStrategy,
  RbacAuthorizationV1Api,
  VersionApi,
  setHeaderOptions,
  KubeConfig,
} from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../../testbed/control-plane.js';
import { processesUsingDir, waitUntilNoProcessUses } from './testbed-processes.js';

const SA_USER = 'system:serviceaccount:hcsync:hcsync';

function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

async function statusCodeOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return 200;
  } catch (error) {
    if (error instanceof ApiException) return error.code;
    throw error;
  }
}

/** True when we can bind the server's port ourselves. (A connect probe would not do: nock's
 * interceptor in test/setup.ts answers socket connects itself.) */
function portIsFree(server: string): Promise<boolean> {
  const port = Number(new URL(server).port);
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

describe('test bed: real kube-apiserver + etcd', function () {
  this.timeout(120_000);
  let controlPlane: ControlPlane;
  let admin: KubeConfig;

  before(async function () {
    const startedAt = Date.now();
    controlPlane = await startControlPlane({ log: (line) => console.log(`      ${line}`) });
    console.log(`      (startControlPlane took ${Date.now() - startedAt} ms)`);
    admin = controlPlane.kubeConfig();
  });

  after(async function () {
    await controlPlane?.stop();
  });

  it('serves the pinned Kubernetes version over TLS on loopback', async function () {
    assert.match(controlPlane.server, /^https:\/\/127\.0\.0\.1:\d+$/);
    const version = await admin.makeApiClient(VersionApi).getCode();
    assert.equal(version.gitVersion, 'v1.36.3');
    // The admin kubeconfig file works on its own, e.g. for a child process.
    const fromFile = new KubeConfig();
    fromFile.loadFromFile(controlPlane.kubeconfigPath);
    const namespaces = await fromFile.makeApiClient(CoreV1Api).listNamespace();
    assert.ok(namespaces.items.some((ns) => ns.metadata?.name === 'default'));
  });

  it('authenticates the admin in system:masters and impersonates the ServiceAccount', async function () {
    const asAdmin = await admin.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} });
    assert.ok(asAdmin.status?.userInfo?.groups?.includes('system:masters'), JSON.stringify(asAdmin.status));

    const asSa = await controlPlane
      .kubeConfig({ impersonate: SA_USER })
      .makeApiClient(AuthenticationV1Api)
      .createSelfSubjectReview({ body: {} });
    assert.equal(asSa.status?.userInfo?.username, SA_USER);
    // The API server adds the SA's groups itself when none are impersonated.
    assert.ok(asSa.status?.userInfo?.groups?.includes('system:serviceaccounts:hcsync'), JSON.stringify(asSa.status));
    assert.ok(!asSa.status?.userInfo?.groups?.includes('system:masters'));
  });

  it('lets a kubelet-like client write podIP and Ready through the status subresource', async function () {
    const core = admin.makeApiClient(CoreV1Api);
    const namespace = uniqueName('pod-status');
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    const name = 'web';
    await core.createNamespacedPod({
      namespace,
      body: { metadata: { name }, spec: { containers: [{ name: 'app', image: 'example.invalid/app:1' }] } },
    });
    const created = await core.readNamespacedPod({ name, namespace });
    assert.equal(created.status?.podIP, undefined, 'nothing runs pods here, so no IP yet');

    // TEST-NET-1 address: only data in etcd, nothing ever connects to it.
    const podIP = '192.0.2.10';
    await core.patchNamespacedPodStatus(
      {
        name,
        namespace,
        body: {
          status: {
            phase: 'Running',
            podIP,
            podIPs: [{ ip: podIP }],
            conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date() }],
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );

    const pod = await core.readNamespacedPod({ name, namespace });
    assert.equal(pod.status?.podIP, podIP);
    assert.equal(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  });

  it('enforces RBAC on the impersonated ServiceAccount until a ClusterRole grants it', async function () {
    const asSa = controlPlane.kubeConfig({ impersonate: SA_USER }).makeApiClient(CoreV1Api);
    assert.equal(await statusCodeOf(asSa.listServiceForAllNamespaces()), 403);

    const role = uniqueName('service-reader');
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createClusterRole({
      body: { metadata: { name: role }, rules: [{ apiGroups: [''], resources: ['services'], verbs: ['list'] }] },
    });
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: role },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
        subjects: [{ kind: 'ServiceAccount', name: 'hcsync', namespace: 'hcsync' }],
      },
    });

    // The RBAC authorizer learns of new bindings through a watch: allow it a moment.
    let code = 0;
    for (let tries = 0; tries < 50 && code !== 200; tries++) {
      code = await statusCodeOf(asSa.listServiceForAllNamespaces());
      if (code !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(code, 200);
    // The grant is exactly what the role says: still no Pods.
    assert.equal(await statusCodeOf(asSa.listPodForAllNamespaces()), 403);
  });
});

describe('test bed lifecycle', function () {
  this.timeout(180_000);

  it('starts again after a stop, and stop leaves no server, port or temp dir behind', async function () {
    for (let round = 1; round <= 2; round++) {
      const controlPlane = await startControlPlane();
      const dir = path.dirname(controlPlane.kubeconfigPath);
      const ours = processesUsingDir(dir).map((p) => p.command);
      assert.equal(ours.length, 2, `round ${round}: expected etcd and kube-apiserver, saw ${ours.join(' | ')}`);
      assert.ok(ours.some((c) => c.includes('/etcd ')) && ours.some((c) => c.includes('/kube-apiserver ')), ours.join('\n'));
      const namespaces = await controlPlane.kubeConfig().makeApiClient(CoreV1Api).listNamespace();
      assert.ok(namespaces.items.length > 0);

      await controlPlane.stop();
      await controlPlane.stop(); // idempotent

      assert.deepEqual(processesUsingDir(dir), []);
      assert.ok(await portIsFree(controlPlane.server), `round ${round}: port of ${controlPlane.server} still taken`);
      assert.ok(!existsSync(dir), `round ${round}: ${dir} still exists`);
    }
  });

  for (const how of ['exit', 'kill'] as const) {
    it(`takes both servers down when the test process dies (${how === 'kill' ? 'SIGKILL' : 'process.exit'})`, async function () {
      const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'start-then-die.ts');
      const child = spawn(process.execPath, ['--import', 'tsx', fixture, how], { stdio: ['ignore', 'pipe', 'inherit'] });
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      await new Promise((resolve) => child.once('exit', resolve));
      const dir = stdout.trim();
      assert.match(dir, /hcsync-testbed-/, `the fixture should print its temp dir, printed: ${stdout}`);
      try {
        const left = await waitUntilNoProcessUses(dir, 5_000);
        assert.deepEqual(left, [], `left running: ${left.map((p) => `${p.pid} ${p.command}`).join('\n')}`);
        // An exiting process still runs JavaScript: its exit hook removes the temp dir too.
        if (how === 'exit') assert.ok(!existsSync(dir), `${dir} left behind after process.exit`);
      } finally {
        // After SIGKILL nobody could remove the temp dir: it is ours to remove.
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
