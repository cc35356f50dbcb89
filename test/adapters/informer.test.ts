// The slim informer against a scripted API server (nock): it caches slim objects only, relists on
// 410, and — unlike client-node's ListWatch alone — restarts itself after any other error.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import nock from 'nock';
import { KubeConfig } from '@kubernetes/client-node';
import { SlimInformer, rawPageLister } from '../../src/kube/informer.js';
import { slimPod } from '../../src/kube/slim.js';
import { silentLogger } from '../../src/observability/log.js';
import type { SlimPod } from '../../src/model/kube.js';

// A hostname, not loopback: nock 15 intercepts client-node's undici requests by host.
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

const fullPod = (name: string, rv: string, path = '/ready') => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name,
    namespace: 'default',
    uid: `uid-${name}`,
    resourceVersion: rv,
    labels: { app: 'web' },
    annotations: { 'kubectl.kubernetes.io/last-applied-configuration': 'x'.repeat(5000), 'hcsync.io/health-path': '/kept' },
    managedFields: [{ manager: 'kubectl', operation: 'Apply', fieldsV1: { 'f:spec': {} } }],
  },
  spec: {
    volumes: [{ name: 'v', emptyDir: {} }],
    containers: [
      {
        name: 'app',
        image: 'i',
        env: [{ name: 'SECRET_LOOKING', value: 'x' }],
        ports: [{ containerPort: 8000 }],
        readinessProbe: { httpGet: { path, port: 8000 } },
      },
    ],
  },
  status: { phase: 'Running', podIP: '10.0.0.1' },
});

function informer(slim: (raw: unknown) => SlimPod = slimPod) {
  const kc = kubeConfig();
  return new SlimInformer<SlimPod>(kc, 'pods', '/api/v1/pods', rawPageLister(kc, '/api/v1/pods'), slim, silentLogger());
}

describe('slim informer (nock)', function () {
  this.timeout(15_000);

  it('pages the list, caches slim objects and applies watch events', async () => {
    const stream = new PassThrough();
    nock(SERVER)
      .get('/api/v1/pods')
      .query({ limit: '500' })
      .reply(200, { kind: 'PodList', metadata: { resourceVersion: '10', continue: 'page2' }, items: [fullPod('a', '5')] })
      .get('/api/v1/pods')
      .query({ limit: '500', continue: 'page2' })
      .reply(200, { kind: 'PodList', metadata: { resourceVersion: '10' }, items: [fullPod('b', '6')] })
      .get('/api/v1/pods')
      .query((q) => q['watch'] === 'true' && q['resourceVersion'] === '10')
      .reply(200, () => stream);
    const seen: unknown[] = [];
    const inf = informer((raw) => {
      seen.push(raw);
      return slimPod(raw);
    });
    const updates: string[] = [];
    inf.on('update', (p) => updates.push(p.metadata.name));
    // start() resolves when the watch answers; nock's streamed reply answers with its first chunk.
    const started = inf.start();
    for (let i = 0; i < 100 && !inf.hasSynced(); i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(inf.hasSynced(), true);
    assert.deepEqual(
      inf
        .list()
        .map((p) => p.metadata.name)
        .sort(),
      ['a', 'b'],
    );
    const a = inf.get('default', 'a')!;
    assert.deepEqual(a.metadata.annotations, { 'hcsync.io/health-path': '/kept' }, 'only annotations hcsync reads are kept');
    assert.equal(JSON.stringify(a).includes('managedFields'), false);
    assert.equal(JSON.stringify(a).includes('SECRET_LOOKING'), false, 'env and the rest of the Pod spec are dropped');
    // Pages are plain parsed JSON, not client-node model objects (no V1Pod copy with Dates made per object).
    assert.equal(Object.getPrototypeOf(seen[0]), Object.prototype);
    assert.equal((seen[0] as { apiVersion?: string }).apiVersion, 'v1');
    stream.write(`${JSON.stringify({ type: 'MODIFIED', object: fullPod('a', '11', '/changed') })}\n`);
    await started;
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(updates, ['a']);
    assert.equal(inf.get('default', 'a')?.spec.containers[0]?.readinessProbe?.httpGet?.path, '/changed');
    assert.equal(JSON.stringify(inf.get('default', 'a')).includes('managedFields'), false, 'watch events are slimmed too');
    await inf.stop();
    stream.end();
  });

  it('restarts after a non-410 error (client-node’s ListWatch alone would stop for good)', async () => {
    nock(SERVER)
      .get('/api/v1/pods')
      .query({ limit: '500' })
      .reply(500, { kind: 'Status', code: 500, message: 'etcd is down' })
      .get('/api/v1/pods')
      .query({ limit: '500' })
      .reply(200, { kind: 'PodList', metadata: { resourceVersion: '20' }, items: [fullPod('c', '20')] })
      .get('/api/v1/pods')
      .query((q) => q['watch'] === 'true')
      .reply(200, () => new PassThrough());
    const inf = informer();
    await inf.start();
    assert.equal(inf.hasSynced(), false, 'the first list failed');
    const deadline = Date.now() + 5000;
    while (!inf.hasSynced() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(inf.hasSynced(), true, 'restarted and listed');
    assert.deepEqual(
      inf.list().map((p) => p.metadata.name),
      ['c'],
    );
    await inf.stop();
  });

  it('hands each handler the version it replaces: watch updates and deletes the cached one, a re-list (after a 410) too, an add none', async () => {
    const first = new PassThrough();
    nock(SERVER)
      .get('/api/v1/pods')
      .query({ limit: '500' })
      .reply(200, {
        kind: 'PodList',
        metadata: { resourceVersion: '10' },
        items: [fullPod('a', '5'), fullPod('b', '6'), fullPod('d', '7')],
      })
      .get('/api/v1/pods')
      .query((q) => q['watch'] === 'true' && q['resourceVersion'] === '10')
      .reply(200, () => first)
      .get('/api/v1/pods')
      .query({ limit: '500' })
      .reply(200, { kind: 'PodList', metadata: { resourceVersion: '30' }, items: [fullPod('a', '20', '/relisted'), fullPod('c', '12')] })
      .get('/api/v1/pods')
      .query((q) => q['watch'] === 'true' && q['resourceVersion'] === '30')
      .reply(200, () => new PassThrough());
    const inf = informer();
    const events: string[] = [];
    const rv = (p: SlimPod | undefined) => p?.metadata.resourceVersion ?? '-';
    for (const verb of ['add', 'update', 'delete'] as const)
      inf.on(verb, (p, previous) => events.push(`${verb} ${p.metadata.name}@${rv(p)} previous ${rv(previous)}`));
    const started = inf.start();
    for (let i = 0; i < 100 && !inf.hasSynced(); i++) await new Promise((r) => setTimeout(r, 20));
    first.write(`${JSON.stringify({ type: 'MODIFIED', object: fullPod('a', '11', '/changed') })}\n`);
    first.write(`${JSON.stringify({ type: 'DELETED', object: fullPod('b', '13') })}\n`);
    first.write(`${JSON.stringify({ type: 'ADDED', object: fullPod('c', '12') })}\n`);
    first.write(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, message: 'too old resource version' } })}\n`);
    first.end();
    await started;
    for (let i = 0; i < 100 && events.length < 8; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(events, [
      'add a@5 previous -',
      'add b@6 previous -',
      'add d@7 previous -',
      'update a@11 previous 5',
      'delete b@13 previous 6',
      'add c@12 previous -',
      'delete d@7 previous 7', // gone from the re-list: the cached object is its own previous version
      'update a@20 previous 11',
    ]);
    await inf.stop();
  });
});
