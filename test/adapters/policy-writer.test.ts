// hcsync's HealthCheckPolicy writer against a scripted API server (nock): server-side apply with
// the apply-patch content type, field manager hcsync and no force; the label, ownerReference and
// targetRef the contract fixes; only the intent's fields; delete with a uid precondition; the API
// server's 409/422 reported in words, not taken over; a non-leader sends nothing.
import assert from 'node:assert/strict';
import nock from 'nock';
import { KubeConfig } from '@kubernetes/client-node';
import { KubePolicyWriter, PolicyWriteRefused } from '../../src/kube/policy-writer.js';
import { Fence, FencedPolicyWriter, NotLeaderError } from '../../src/controller/fence.js';
import type { DesiredPolicy } from '../../src/model/gateway.js';

const SERVER = 'https://k8s.test';
const PATH = '/apis/networking.gke.io/v1/namespaces/shop/healthcheckpolicies/hcsync-web';

function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: SERVER, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

const policy: DesiredPolicy = {
  namespace: 'shop',
  name: 'hcsync-web',
  service: { name: 'web', uid: 'svc-uid-1' },
  default: { checkIntervalSec: 10, timeoutSec: 2, config: { type: 'HTTP', requestPath: '/ready' } },
};

describe('HealthCheckPolicy writer (nock)', () => {
  // test/setup.ts already refuses everything but loopback; nock.enableNetConnect() here would
  // have opened the network to every file after this one.
  afterEach(() => nock.cleanAll());

  it('applies by server-side apply: apply-patch content type, fieldManager hcsync, no force, the contract’s object', async () => {
    let body: unknown;
    const scope = nock(SERVER)
      .matchHeader('content-type', /^application\/apply-patch\+yaml/)
      .patch(PATH, (b: unknown) => ((body = b), true))
      .query((q) => {
        assert.deepEqual({ ...q }, { fieldManager: 'hcsync' }, 'no force, no other parameter');
        return true;
      })
      .reply(200, {});
    await new KubePolicyWriter(kubeConfig()).apply(policy);
    scope.done();
    assert.deepEqual(body, {
      apiVersion: 'networking.gke.io/v1',
      kind: 'HealthCheckPolicy',
      metadata: {
        name: 'hcsync-web',
        namespace: 'shop',
        labels: { 'app.kubernetes.io/managed-by': 'hcsync' },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'svc-uid-1' }],
      },
      spec: {
        targetRef: { group: '', kind: 'Service', name: 'web' },
        default: { checkIntervalSec: 10, timeoutSec: 2, config: { type: 'HTTP', httpHealthCheck: { requestPath: '/ready' } } },
      },
    });
  });

  it('the block matches the type (HTTPS → httpsHealthCheck), and fields the intent lacks are left out', async () => {
    let body: { spec: { default: unknown } } | undefined;
    nock(SERVER)
      .patch(PATH, (b: { spec: { default: unknown } }) => ((body = b), true))
      .query(true)
      .reply(200, {});
    await new KubePolicyWriter(kubeConfig()).apply({ ...policy, default: { config: { type: 'HTTPS', requestPath: '/h' } } });
    assert.deepEqual(body?.spec.default, { config: { type: 'HTTPS', httpsHealthCheck: { requestPath: '/h' } } });
  });

  it('a 409 conflict (another manager owns a field) is reported in words and not forced', async () => {
    const scope = nock(SERVER)
      .patch(PATH)
      .query((q) => q['force'] === undefined)
      .reply(409, {
        kind: 'Status',
        status: 'Failure',
        reason: 'Conflict',
        code: 409,
        message: 'Apply failed with 1 conflict: conflict with "kubectl": .spec.default.config',
      });
    await assert.rejects(new KubePolicyWriter(kubeConfig()).apply(policy), (e: unknown) => {
      assert.ok(e instanceof PolicyWriteRefused);
      assert.match(
        e.message,
        /HealthCheckPolicy shop\/hcsync-web: the API server answered 409 Conflict .*conflict with "kubectl".*without force/,
      );
      return true;
    });
    scope.done();
  });

  it('a 422 (the schema refused the policy) is reported with the API server’s message', async () => {
    nock(SERVER)
      .patch(PATH)
      .query(true)
      .reply(422, { kind: 'Status', code: 422, message: 'spec.default.config.httpHealthCheck.requestPath: Invalid value' });
    await assert.rejects(
      new KubePolicyWriter(kubeConfig()).apply(policy),
      /rejected the policy as invalid, 422 .*requestPath: Invalid value/,
    );
  });

  it('deletes with a uid precondition; 404 (already gone) is success; 409 (recreated since) is reported', async () => {
    let body: unknown;
    nock(SERVER)
      .delete(PATH, (b: unknown) => ((body = b), true))
      .reply(200, {});
    await new KubePolicyWriter(kubeConfig()).delete('shop', 'hcsync-web', 'pol-uid-7');
    assert.deepEqual(body, { preconditions: { uid: 'pol-uid-7' } });

    nock(SERVER).delete(PATH).reply(404, { kind: 'Status', code: 404, message: 'not found' });
    await new KubePolicyWriter(kubeConfig()).delete('shop', 'hcsync-web', 'pol-uid-7');

    nock(SERVER).delete(PATH).reply(409, { kind: 'Status', code: 409, message: 'Precondition failed: UID in precondition: pol-uid-7' });
    await assert.rejects(
      new KubePolicyWriter(kubeConfig()).delete('shop', 'hcsync-web', 'pol-uid-7'),
      /409 Conflict .*Precondition failed/,
    );
  });

  it('fenced: a replica that is not the leader sends neither apply nor delete', async () => {
    const writer = new FencedPolicyWriter(new KubePolicyWriter(kubeConfig()), new Fence(() => false));
    await assert.rejects(writer.apply(policy), NotLeaderError);
    await assert.rejects(writer.delete('shop', 'hcsync-web', 'u'), NotLeaderError);
    assert.equal(nock.pendingMocks().length, 0);
  });
});
