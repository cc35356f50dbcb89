// The event → Service-key mappers and the index that remembers what each Ingress and Pod pointed at.
import assert from 'node:assert/strict';
import {
  ServiceKeyIndex,
  backendConfigServiceKeys,
  ingressServiceKeys,
  podServiceKeys,
  selectorMatches,
} from '../../src/kube/service-index.js';
import type { SlimIngress, SlimPod, SlimService } from '../../src/model/kube.js';
import { backendConfig, container, ingress, pod, service } from '../support/fixtures.js';

const inNamespace = <T extends SlimPod | SlimIngress | SlimService>(o: T, namespace: string): T => ({
  ...o,
  metadata: { ...o.metadata, namespace },
});
const sorted = (keys: Iterable<string>) => [...keys].sort();

describe('service index: selectorMatches', () => {
  const cases: { name: string; selector?: Record<string, string>; labels?: Record<string, string>; want: boolean }[] = [
    { name: 'every selector label matches', selector: { app: 'web' }, labels: { app: 'web', tier: 'x' }, want: true },
    { name: 'a label differs', selector: { app: 'web' }, labels: { app: 'api' }, want: false },
    { name: 'a selector label is missing', selector: { app: 'web', tier: 'x' }, labels: { app: 'web' }, want: false },
    { name: 'no selector selects nothing', labels: { app: 'web' }, want: false },
    { name: 'an empty selector selects nothing', selector: {}, labels: { app: 'web' }, want: false },
    { name: 'a Pod without labels', selector: { app: 'web' }, want: false },
  ];
  for (const c of cases) it(c.name, () => assert.equal(selectorMatches(c.selector, c.labels), c.want));
});

describe('service index: Ingress → Services', () => {
  const cases: { name: string; ing: SlimIngress; want: string[] }[] = [
    { name: 'one backend', ing: ingress(), want: ['default/web'] },
    {
      name: 'several backends, deduplicated',
      ing: ingress({
        backends: [
          { service: 'web', port: 80 },
          { service: 'web', port: 'http' },
          { service: 'api', port: 8080 },
        ],
      }),
      want: ['default/api', 'default/web'],
    },
    { name: 'keys are in the Ingress namespace', ing: inNamespace(ingress(), 'shop'), want: ['shop/web'] },
    { name: 'no backends', ing: ingress({ backends: [] }), want: [] },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(sorted(ingressServiceKeys(c.ing)), c.want));
});

describe('service index: Pod → Services by selector', () => {
  const web = service({ name: 'web', selector: { app: 'web' } });
  const all = service({ name: 'all', selector: { tier: 'front' } });
  const other = inNamespace(service({ name: 'web2', selector: { app: 'web' } }), 'shop');
  const cases: { name: string; labels: Record<string, string>; want: string[] }[] = [
    { name: 'selected by one Service', labels: { app: 'web' }, want: ['default/web'] },
    { name: 'selected by two Services', labels: { app: 'web', tier: 'front' }, want: ['default/all', 'default/web'] },
    { name: 'selected by none', labels: { app: 'db' }, want: [] },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(sorted(podServiceKeys(pod([container()], { labels: c.labels }), [web, all, other])), c.want));
  }
  it('a Service of another namespace never selects the Pod', () => {
    assert.deepEqual(sorted(podServiceKeys(pod([container()], { labels: { app: 'web' } }), [other])), []);
  });
});

describe('service index: BackendConfig → Services', () => {
  const bc = backendConfig('hc-config');
  const cases: { name: string; annotations?: Record<string, string>; namespace?: string; want: string[] }[] = [
    { name: 'named as default', annotations: { 'cloud.google.com/backend-config': '{"default":"hc-config"}' }, want: ['default/web'] },
    {
      name: 'named for a port',
      annotations: { 'cloud.google.com/backend-config': '{"ports":{"http":"hc-config"}}' },
      want: ['default/web'],
    },
    {
      name: 'named by the beta key',
      annotations: { 'beta.cloud.google.com/backend-config': '{"default":"hc-config"}' },
      want: ['default/web'],
    },
    { name: 'another BackendConfig named', annotations: { 'cloud.google.com/backend-config': '{"default":"other"}' }, want: [] },
    { name: 'an unreadable annotation', annotations: { 'cloud.google.com/backend-config': 'not json' }, want: [] },
    { name: 'no annotation', want: [] },
    {
      name: 'same name, other namespace',
      annotations: { 'cloud.google.com/backend-config': '{"default":"hc-config"}' },
      namespace: 'shop',
      want: [],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const svc = service(c.annotations ? { annotations: c.annotations } : {});
      assert.deepEqual(backendConfigServiceKeys(bc, [c.namespace ? inNamespace(svc, c.namespace) : svc]), c.want);
    });
  }
});

describe('service index: ServiceKeyIndex', () => {
  it('an Ingress that changes backends notifies the Services it left and joined', () => {
    const index = new ServiceKeyIndex();
    assert.deepEqual(sorted(index.ingressChanged(ingress({ backends: [{ service: 'a', port: 80 }] }), false)), ['default/a']);
    assert.deepEqual(sorted(index.ingressChanged(ingress({ backends: [{ service: 'b', port: 80 }] }), false)), ['default/a', 'default/b']);
    assert.equal(index.isBacked('default/a'), false);
    assert.equal(index.isBacked('default/b'), true);
    assert.deepEqual(index.ingressesOf('default/b'), [{ namespace: 'default', name: 'web' }]);
  });

  it('a deleted Ingress notifies its Services and no longer backs them', () => {
    const index = new ServiceKeyIndex();
    index.ingressChanged(ingress(), false);
    assert.deepEqual(sorted(index.ingressChanged(ingress(), true)), ['default/web']);
    assert.deepEqual(index.backedServiceKeys(), []);
    assert.deepEqual(index.ingressesOf('default/web'), []);
  });

  it('a Service backed by two Ingresses stays backed while one remains', () => {
    const index = new ServiceKeyIndex();
    index.ingressChanged(ingress({ name: 'one' }), false);
    index.ingressChanged(ingress({ name: 'two' }), false);
    index.ingressChanged(ingress({ name: 'one' }), true);
    assert.equal(index.isBacked('default/web'), true);
    assert.deepEqual(index.ingressesOf('default/web'), [{ namespace: 'default', name: 'two' }]);
  });

  it('a relabelled Pod notifies the Service it left and the one it joined; a deleted one its last', () => {
    const index = new ServiceKeyIndex();
    const services = [service({ name: 'web', selector: { app: 'web' } }), service({ name: 'api', selector: { app: 'api' } })];
    const p = pod([container()], { name: 'p', labels: { app: 'web' } });
    assert.deepEqual(sorted(index.podChanged(p, false, services)), ['default/web']);
    const relabelled = { ...p, metadata: { ...p.metadata, labels: { app: 'api' } } };
    assert.deepEqual(sorted(index.podChanged(relabelled, false, services)), ['default/api', 'default/web']);
    assert.deepEqual(sorted(index.podChanged(relabelled, true, services)), ['default/api']);
    assert.deepEqual(sorted(index.podChanged(relabelled, true, services)), [], 'forgotten after deletion');
  });
});
