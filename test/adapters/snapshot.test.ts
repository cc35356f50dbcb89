// The one-shot cluster read behind plan and diagnose (nock): it retries what the API server asks
// to be retried, and treats a missing BackendConfig CRD as "no BackendConfigs".
import assert from 'node:assert/strict';
import nock from 'nock';
import { KubeConfig } from '@kubernetes/client-node';
import { loadSnapshot } from '../../src/kube/snapshot.js';

const SERVER = 'https://k8s.test';

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
const list = (kind: string, items: unknown[] = []) => ({ kind, apiVersion: 'v1', metadata: { resourceVersion: '1' }, items });

describe('cluster snapshot for plan and diagnose (nock)', () => {
  it('retries a 429 ("storage is (re)initializing") and a 503, then reads', async () => {
    nock(SERVER)
      .get('/api/v1/namespaces/ns/services')
      .reply(200, list('ServiceList', [{ metadata: { name: 's', namespace: 'ns' }, spec: { ports: [{ port: 80 }] } }]))
      .get('/api/v1/namespaces/ns/pods')
      .reply(503, { kind: 'Status', code: 503, message: 'unavailable' })
      .get('/api/v1/namespaces/ns/pods')
      .reply(200, list('PodList'))
      .get('/apis/networking.k8s.io/v1/namespaces/ns/ingresses')
      .reply(200, list('IngressList'))
      .get('/apis/cloud.google.com/v1/namespaces/ns/backendconfigs')
      .reply(429, { kind: 'Status', code: 429, message: 'storage is (re)initializing' }, { 'Retry-After': '1' })
      .get('/apis/cloud.google.com/v1/namespaces/ns/backendconfigs')
      .reply(200, { items: [{ metadata: { name: 'bc', namespace: 'ns' }, spec: { healthCheck: { requestPath: '/bc' } } }] });
    const view = await loadSnapshot(kubeConfig(), 'ns');
    assert.equal(view.service('ns', 's')?.spec.ports[0]?.port, 80);
    assert.equal(view.backendConfig('ns', 'bc')?.healthCheck?.requestPath, '/bc');
    assert.ok(nock.isDone());
  });

  it('a cluster without the BackendConfig CRD has no BackendConfigs; a 403 is not retried', async () => {
    nock(SERVER)
      .get('/api/v1/services')
      .reply(200, list('ServiceList'))
      .get('/api/v1/pods')
      .reply(200, list('PodList'))
      .get('/apis/networking.k8s.io/v1/ingresses')
      .reply(200, list('IngressList'))
      .get('/apis/cloud.google.com/v1/backendconfigs')
      .reply(404, { kind: 'Status', code: 404 });
    const view = await loadSnapshot(kubeConfig());
    assert.deepEqual(view.services(), []);
    nock(SERVER)
      .get('/api/v1/services')
      .reply(403, { kind: 'Status', code: 403, message: 'forbidden' })
      .get(/.*/)
      .times(3)
      .reply(200, list('List'));
    await assert.rejects(loadSnapshot(kubeConfig()), (e: unknown) => (e as { code?: number }).code === 403);
  });
});
