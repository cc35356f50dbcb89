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
/** A cluster without the Gateway API and HealthCheckPolicy CRDs: their six lists answer 404. */
const GATEWAY_PATHS = /^\/apis\/(gateway\.networking\.k8s\.io|networking\.gke\.io)\//;
const noGatewayCrds = () => nock(SERVER).get(GATEWAY_PATHS).times(6).reply(404, { kind: 'Status', code: 404 });

describe('cluster snapshot for plan and diagnose (nock)', () => {
  afterEach(() => nock.cleanAll());

  it('retries a 429 ("storage is (re)initializing") and a 503, then reads', async () => {
    noGatewayCrds();
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
    noGatewayCrds();
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
    noGatewayCrds();
    nock(SERVER)
      .get('/api/v1/services')
      .reply(403, { kind: 'Status', code: 403, message: 'forbidden' })
      .get(/.*/)
      .times(3)
      .reply(200, list('List'));
    await assert.rejects(loadSnapshot(kubeConfig()), (e: unknown) => (e as { code?: number }).code === 403);
  });

  it('reads the Gateway kinds (ReferenceGrant v1beta1) and policies; a GatewayClass list refused (403) reads as "cannot be read"', async () => {
    nock(SERVER)
      .get('/api/v1/namespaces/ns/services')
      .reply(200, list('ServiceList'))
      .get('/api/v1/namespaces/ns/pods')
      .reply(200, list('PodList'))
      .get('/apis/networking.k8s.io/v1/namespaces/ns/ingresses')
      .reply(200, list('IngressList'))
      .get('/apis/cloud.google.com/v1/namespaces/ns/backendconfigs')
      .reply(404, { kind: 'Status', code: 404 })
      .get('/apis/gateway.networking.k8s.io/v1/gatewayclasses')
      .reply(403, { kind: 'Status', code: 403, message: 'forbidden' })
      .get('/apis/gateway.networking.k8s.io/v1/namespaces/ns/gateways')
      .reply(200, { items: [{ metadata: { name: 'gw', namespace: 'ns' }, spec: { gatewayClassName: 'gke-l7-rilb' } }] })
      .get('/apis/gateway.networking.k8s.io/v1/namespaces/ns/httproutes')
      .reply(200, {
        items: [
          {
            metadata: { name: 'r', namespace: 'ns' },
            spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] },
          },
        ],
      })
      .get('/apis/gateway.networking.k8s.io/v1/namespaces/ns/grpcroutes')
      .reply(404, { kind: 'Status', code: 404 })
      .get('/apis/gateway.networking.k8s.io/v1beta1/namespaces/ns/referencegrants')
      .reply(200, { items: [] })
      .get('/apis/networking.gke.io/v1/namespaces/ns/healthcheckpolicies')
      .reply(200, {
        items: [
          {
            metadata: { name: 'hcsync-web', namespace: 'ns', uid: 'p1', labels: { 'app.kubernetes.io/managed-by': 'hcsync' } },
            spec: {
              targetRef: { group: '', kind: 'Service', name: 'web' },
              default: { config: { type: 'HTTP', httpHealthCheck: { requestPath: '/ready' } } },
            },
            status: { conditions: [{ type: 'Attached', status: 'True' }] },
          },
        ],
      });
    const view = await loadSnapshot(kubeConfig(), 'ns');
    assert.equal(view.gatewayClass('gke-l7-rilb'), undefined);
    assert.equal(view.gateway('ns', 'gw')?.gatewayClassName, 'gke-l7-rilb');
    assert.deepEqual(
      view.routesTo('ns', 'web').map((r) => [r.kind, r.metadata.name, r.backendRefs]),
      [['HTTPRoute', 'r', [{ name: 'web', port: 80 }]]],
    );
    assert.deepEqual(view.healthCheckPolicies('ns')[0]?.default, { config: { type: 'HTTP', requestPath: '/ready' } });
    assert.ok(nock.isDone());
  });
});
