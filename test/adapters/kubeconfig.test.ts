// Requests through hcsync's KubeConfig share one connection pool: client-node alone builds a new
// undici Agent (its own TLS connection and context) for every request.
import assert from 'node:assert/strict';
import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import { SharedPoolKubeConfig } from '../../src/kube/kubeconfig.js';

function load(kc: KubeConfig, token: string): KubeConfig {
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://k8s.test', skipTLSVerify: true }],
    users: [{ name: 'u', token }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

async function authenticated(kc: KubeConfig): Promise<RequestContext> {
  const ctx = new RequestContext('https://k8s.test/api/v1/pods', HttpMethod.GET);
  await kc.applySecurityAuthentication(ctx);
  return ctx;
}

describe('SharedPoolKubeConfig', () => {
  it('gives every request the same dispatcher, and still authenticates each one', async () => {
    const kc = load(new SharedPoolKubeConfig(), 't1');
    const [a, b] = [await authenticated(kc), await authenticated(kc)];
    assert.ok(a.getDispatcher());
    assert.equal(a.getDispatcher(), b.getDispatcher());
    assert.equal(b.getHeaders()['Authorization'], 'Bearer t1');
  });

  it('client-node alone: a new dispatcher per request (what this replaces)', async () => {
    const kc = load(new KubeConfig(), 't1');
    const [a, b] = [await authenticated(kc), await authenticated(kc)];
    assert.notEqual(a.getDispatcher(), b.getDispatcher());
  });
});
