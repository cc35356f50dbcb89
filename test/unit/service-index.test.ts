// The event → Service-key mappers and the index that remembers what each Ingress pointed at (Pods: selector-index.test.ts).
import assert from 'node:assert/strict';
import { backendConfigServiceKeys, ingressServiceKeys, sameServiceApartFromStatus, selectorMatches } from '../../src/kube/service-index.js';
import type { SlimIngress, SlimService } from '../../src/model/kube.js';
import { backendConfig, informedIngresses, ingress, service } from '../support/fixtures.js';

const inNamespace = <T extends SlimIngress | SlimService>(o: T, namespace: string): T => ({
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
    const { index, changed } = informedIngresses();
    assert.deepEqual(sorted(changed(ingress({ backends: [{ service: 'a', port: 80 }] }), false)), ['default/a']);
    assert.deepEqual(sorted(changed(ingress({ backends: [{ service: 'b', port: 80 }] }), false)), ['default/a', 'default/b']);
    assert.equal(index.isBacked('default/a'), false);
    assert.equal(index.isBacked('default/b'), true);
    assert.deepEqual(index.ingressesOf('default/b'), [{ namespace: 'default', name: 'web' }]);
  });

  it('a deleted Ingress notifies its Services and no longer backs them', () => {
    const { index, changed } = informedIngresses();
    changed(ingress(), false);
    assert.deepEqual(sorted(changed(ingress(), true)), ['default/web']);
    assert.deepEqual(index.backedServiceKeys(), []);
    assert.deepEqual(index.ingressesOf('default/web'), []);
  });

  it('a Service backed by two Ingresses stays backed while one remains', () => {
    const { index, changed } = informedIngresses();
    changed(ingress({ name: 'one' }), false);
    changed(ingress({ name: 'two' }), false);
    changed(ingress({ name: 'one' }), true);
    assert.equal(index.isBacked('default/web'), true);
    assert.deepEqual(index.ingressesOf('default/web'), [{ namespace: 'default', name: 'two' }]);
  });
});

describe("service index: sameServiceApartFromStatus (the echo of hcsync's own condition write)", () => {
  const base = service({ annotations: { 'hcsync.io/health-path': '/a' } });
  const cases: { name: string; next: SlimService; same: boolean }[] = [
    {
      name: 'a new resourceVersion and condition only',
      next: { ...base, metadata: { ...base.metadata, resourceVersion: '9' }, status: { conditions: [] } },
      same: true,
    },
    {
      name: 'an annotation changed',
      next: { ...base, metadata: { ...base.metadata, annotations: { 'hcsync.io/health-path': '/b' } } },
      same: false,
    },
    { name: 'the generation moved', next: { ...base, metadata: { ...base.metadata, generation: 2 } }, same: false },
    { name: 'the selector changed', next: { ...base, spec: { ...base.spec, selector: { app: 'api' } } }, same: false },
    { name: 'a port changed', next: { ...base, spec: { ...base.spec, ports: [{ port: 81, targetPort: 8000 }] } }, same: false },
    { name: 'recreated (new uid)', next: { ...base, metadata: { ...base.metadata, uid: 'other' } }, same: false },
  ];
  for (const c of cases) it(c.name, () => assert.equal(sameServiceApartFromStatus(base, c.next), c.same));
});
