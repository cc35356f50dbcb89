// Pods ↔ Services by label selector: which Services a Pod event notifies, which Pods a Service
// selects, and which Pod events change nothing hcsync reads.
import assert from 'node:assert/strict';
import { SelectorIndex, rarestKey, samePodForHcsync } from '../../src/kube/selector-index.js';
import { keyOf, type SlimPod, type SlimService } from '../../src/model/kube.js';
import { container, httpProbe, pod, service } from '../support/fixtures.js';

const inNamespace = <T extends SlimPod | SlimService>(o: T, namespace: string): T => ({ ...o, metadata: { ...o.metadata, namespace } });
const sorted = (keys: Iterable<string>) => [...keys].sort();
const names = (pods: readonly SlimPod[]) => pods.map((p) => p.metadata.name).sort();
const relabel = (p: SlimPod, labels: Record<string, string>): SlimPod => ({
  ...p,
  metadata: { ...p.metadata, resourceVersion: `${p.metadata.resourceVersion}+`, labels },
});
const withSelector = (s: SlimService, selector: Record<string, string> | undefined): SlimService => ({
  ...s,
  metadata: { ...s.metadata, resourceVersion: `${s.metadata.resourceVersion}+` },
  spec: { ...s.spec, ...(selector ? { selector } : { selector: undefined }) },
});

/**
 * The index as ClusterState feeds it: over caches that, like the informers', hold each Pod's and
 * Service's newest version (updated before the index hears of the event), and each event with the
 * version it replaces. A Pod event with the cached resourceVersion is dropped, as ListWatch drops it.
 */
class Informed {
  private readonly pods = new Map<string, SlimPod>();
  private readonly services = new Map<string, SlimService>();
  /** How many times the index listed a namespace's Pods (the informer's list copies them all). */
  podLists = 0;
  readonly index = new SelectorIndex({
    pod: (namespace, name) => this.pods.get(keyOf({ namespace, name })),
    pods: (namespace) => {
      this.podLists++;
      return [...this.pods.values()].filter((p) => p.metadata.namespace === namespace);
    },
    service: (namespace, name) => this.services.get(keyOf({ namespace, name })),
  });
  serviceChanged(s: SlimService, deleted: boolean): void {
    const key = keyOf(s.metadata);
    const before = this.services.get(key);
    if (deleted) this.services.delete(key);
    else this.services.set(key, s);
    this.index.serviceChanged(s, before, deleted);
  }
  podChanged(p: SlimPod, deleted: boolean): Set<string> {
    const key = keyOf(p.metadata);
    const before = this.pods.get(key);
    if (deleted) this.pods.delete(key);
    else if (before?.metadata.resourceVersion === p.metadata.resourceVersion) return new Set();
    else this.pods.set(key, p);
    return this.index.podChanged(p, before, deleted);
  }
  podsFor(s: SlimService): SlimPod[] {
    return this.index.podsFor(s);
  }
  indexedLabelKeys(namespace: string): string[] {
    return this.index.indexedLabelKeys(namespace);
  }
}

function indexOf(services: SlimService[], pods: SlimPod[] = []): Informed {
  const index = new Informed();
  for (const s of services) index.serviceChanged(s, false);
  for (const p of pods) index.podChanged(p, false);
  return index;
}

describe('selector index: Pod → Services', () => {
  const web = service({ name: 'web', selector: { app: 'web' } });
  const all = service({ name: 'all', selector: { tier: 'front' } });
  const both = service({ name: 'both', selector: { app: 'web', tier: 'front' } });
  const other = inNamespace(service({ name: 'web2', selector: { app: 'web' } }), 'shop');
  const cases: { name: string; labels: Record<string, string>; want: string[] }[] = [
    { name: 'selected by one Service', labels: { app: 'web' }, want: ['default/web'] },
    {
      name: 'selected by every Service whose pairs it all carries',
      labels: { app: 'web', tier: 'front' },
      want: ['default/all', 'default/both', 'default/web'],
    },
    { name: 'a selector is not matched by part of its pairs', labels: { tier: 'front' }, want: ['default/all'] },
    { name: 'a label with another value does not match', labels: { app: 'webx', tier: 'back' }, want: [] },
    { name: 'selected by none', labels: { app: 'db' }, want: [] },
    { name: 'a Pod without labels', labels: {}, want: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const index = indexOf([web, all, both, other]);
      assert.deepEqual(sorted(index.podChanged(pod([container()], { labels: c.labels }), false)), c.want);
    });
  }
  it('a Service of another namespace never selects the Pod', () => {
    assert.deepEqual(sorted(indexOf([other]).podChanged(pod([container()], { labels: { app: 'web' } }), false)), []);
  });
  it('a Service without a selector selects no Pod (endpoints managed by hand)', () => {
    const manual = withSelector(service({ name: 'manual' }), undefined);
    const index = indexOf([manual, withSelector(service({ name: 'empty' }), {})]);
    assert.deepEqual(sorted(index.podChanged(pod([container()], { labels: { app: 'web' } }), false)), []);
    assert.deepEqual(index.podsFor(manual), []);
  });
});

describe('selector index: Service → Pods (podsFor)', () => {
  const pods = [
    pod([container()], { name: 'web-1', labels: { app: 'web', tier: 'front' } }),
    pod([container()], { name: 'web-2', labels: { app: 'web', tier: 'front' } }),
    pod([container()], { name: 'api-1', labels: { app: 'api', tier: 'front' } }),
    inNamespace(pod([container()], { name: 'shop-web', labels: { app: 'web', tier: 'front' } }), 'shop'),
  ];
  const cases: { name: string; selector: Record<string, string>; want: string[] }[] = [
    { name: 'one pair', selector: { app: 'web' }, want: ['web-1', 'web-2'] },
    { name: 'two pairs: only Pods carrying both', selector: { app: 'api', tier: 'front' }, want: ['api-1'] },
    { name: 'a pair every Pod has', selector: { tier: 'front' }, want: ['api-1', 'web-1', 'web-2'] },
    { name: 'no Pod carries the pair', selector: { app: 'db' }, want: [] },
    { name: 'one pair matches, the other does not', selector: { app: 'web', tier: 'back' }, want: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const svc = service({ name: 's', selector: c.selector });
      assert.deepEqual(names(indexOf([svc], pods).podsFor(svc)), c.want, 'Service first, then Pods');
      assert.deepEqual(names(indexOf([], pods).podsFor(svc)), c.want, 'Pods first (informers list in any order)');
    });
  }
});

describe('selector index: changes', () => {
  it('a relabelled Pod notifies the Service it left and the one it joined, and moves between them', () => {
    const web = service({ name: 'web', selector: { app: 'web' } });
    const api = service({ name: 'api', selector: { app: 'api' } });
    const index = indexOf([web, api]);
    const p = pod([container()], { name: 'p', labels: { app: 'web' } });
    assert.deepEqual(sorted(index.podChanged(p, false)), ['default/web']);
    const moved = relabel(p, { app: 'api' });
    assert.deepEqual(sorted(index.podChanged(moved, false)), ['default/api', 'default/web']);
    assert.deepEqual(names(index.podsFor(web)), []);
    assert.deepEqual(names(index.podsFor(api)), ['p']);
  });

  it('a deleted Pod notifies the Services that selected it, leaves them, and is forgotten', () => {
    const web = service({ name: 'web', selector: { app: 'web' } });
    const index = indexOf([web]);
    const p = pod([container()], { name: 'p', labels: { app: 'web' } });
    index.podChanged(p, false);
    assert.deepEqual(sorted(index.podChanged(p, true)), ['default/web']);
    assert.deepEqual(index.podsFor(web), []);
    assert.deepEqual(sorted(index.podChanged(p, true)), [], 'forgotten after deletion');
  });

  it('Pods of the same name in two namespaces are two Pods: each selected by its own namespace, deleted apart', () => {
    // The index holds Pods by namespace and name, and a pair's Pods by name (the pair names the namespace).
    const web = service({ name: 'web', selector: { app: 'web' } });
    const shopWeb = inNamespace(service({ name: 'web', selector: { app: 'web' } }), 'shop');
    const index = indexOf([web, shopWeb]);
    const here = pod([container()], { name: 'p', labels: { app: 'web' } });
    const there = inNamespace(pod([container()], { name: 'p', labels: { app: 'web' } }), 'shop');
    assert.deepEqual(sorted(index.podChanged(here, false)), ['default/web']);
    assert.deepEqual(sorted(index.podChanged(there, false)), ['shop/web']);
    assert.deepEqual(index.podsFor(web), [here]);
    assert.deepEqual(index.podsFor(shopWeb), [there]);
    assert.deepEqual(sorted(index.podChanged(here, true)), ['default/web']);
    assert.deepEqual(index.podsFor(web), []);
    assert.deepEqual(index.podsFor(shopWeb), [there], 'the other namespace keeps its Pod');
    assert.deepEqual(sorted(index.podChanged(relabel(there, { app: 'api' }), false)), ['shop/web']);
    assert.deepEqual(index.podsFor(shopWeb), []);
  });

  it("a Service's selector change: it selects the new Pods, and their later events notify it (not the old selector's)", () => {
    const web = service({ name: 'web', selector: { app: 'web' } });
    const oldPod = pod([container()], { name: 'old', labels: { app: 'web' } });
    const newPod = pod([container()], { name: 'new', labels: { app: 'web-v2' } });
    const index = indexOf([web], [oldPod, newPod]);
    const moved = withSelector(web, { app: 'web-v2' });
    index.serviceChanged(moved, false);
    assert.deepEqual(names(index.podsFor(moved)), ['new']);
    assert.deepEqual(sorted(index.podChanged(newPod, true)), ['default/web'], 'a Pod of the new selector deleted');
    assert.deepEqual(sorted(index.podChanged(relabel(oldPod, { app: 'web', x: '1' }), false)), [], 'a Pod of the old selector');
  });

  it('a deleted Service is no longer notified by Pod events', () => {
    const web = service({ name: 'web', selector: { app: 'web' } });
    const p = pod([container()], { name: 'p', labels: { app: 'web' } });
    const index = indexOf([web], [p]);
    index.serviceChanged(web, true);
    assert.deepEqual(sorted(index.podChanged(p, true)), []);
  });

  it('Services sharing a common pair are each found through their rarer one, and all still match', () => {
    const services = Array.from({ length: 50 }, (_, i) => service({ name: `s${i}`, selector: { app: `s${i}`, tier: 'web' } }));
    const index = indexOf(services);
    assert.deepEqual(sorted(index.podChanged(pod([container()], { name: 'p', labels: { app: 's7', tier: 'web' } }), false)), [
      'default/s7',
    ]);
    assert.deepEqual(names(index.podsFor(services[7]!)), ['p']);
  });
});

describe('selector index: Pod events that change nothing hcsync reads', () => {
  const base = pod([container({ readinessProbe: httpProbe('/ready') })], { name: 'p', labels: { app: 'web' } });
  const bump = (p: SlimPod, m: Partial<SlimPod['metadata']> = {}): SlimPod => ({
    ...p,
    metadata: { ...p.metadata, resourceVersion: '2', ...m },
  });
  const cases: { name: string; next: SlimPod; same: boolean }[] = [
    { name: 'only the resourceVersion moved (a status field hcsync drops, e.g. podIP)', next: bump(base), same: true },
    { name: 'the generation moved, containers as before', next: bump(base, { generation: 3 }), same: true },
    {
      name: 'same labels in another key order',
      next: bump({ ...base, metadata: { ...base.metadata, labels: { app: 'web' } } }),
      same: true,
    },
    { name: 'a label changed', next: bump(base, { labels: { app: 'web', v: '2' } }), same: false },
    { name: 'the phase changed', next: { ...bump(base), status: { phase: 'Failed' } }, same: false },
    { name: 'terminating', next: bump(base, { deletionTimestamp: '2026-01-02T00:00:00Z' }), same: false },
    {
      name: 'the readinessProbe path changed',
      next: { ...bump(base), spec: { containers: [container({ readinessProbe: httpProbe('/healthz') })] } },
      same: false,
    },
    {
      name: 'a probe timing changed',
      next: { ...bump(base), spec: { containers: [container({ readinessProbe: httpProbe('/ready', 8000, { periodSeconds: 3 }) })] } },
      same: false,
    },
    {
      name: 'a container port changed',
      next: { ...bump(base), spec: { containers: [container({ readinessProbe: httpProbe('/ready'), ports: [{ containerPort: 9 }] })] } },
      same: false,
    },
    {
      name: 'recreated under the same name (a new creationTimestamp)',
      next: bump(base, { creationTimestamp: '2026-01-03T00:00:00Z' }),
      same: false,
    },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.same ? 'no' : 'its'} Services notified`, () => {
      assert.equal(samePodForHcsync(base, c.next), c.same);
      const index = indexOf([service({ name: 'web', selector: { app: 'web' } })], [base]);
      assert.deepEqual(sorted(index.podChanged(c.next, false)), c.same ? [] : ['default/web']);
    });
  }
  it('a skipped update still leaves the newest Pod object in the index', () => {
    const web = service({ name: 'web', selector: { app: 'web' } });
    const index = indexOf([web], [base]);
    const next = bump(base);
    index.podChanged(next, false);
    assert.equal(index.podsFor(web)[0], next);
  });
});

describe('selector index: the pair a selector is looked up by (rarestKey)', () => {
  const weights: Record<string, number> = { 'app=web': 3, 'tier=front': 40, 'pod-template-hash=abc': 3, 'zone=a': 0 };
  const weight = (k: string, v: string) => weights[`${k}=${v}`] ?? 0;
  const cases: { name: string; selector: Record<string, string>; want: string | undefined }[] = [
    { name: 'the lightest pair', selector: { tier: 'front', app: 'web' }, want: 'app' },
    {
      name: 'a tie goes to the lowest key, whatever the selector order',
      selector: { app: 'web', 'pod-template-hash': 'abc' },
      want: 'app',
    },
    { name: 'a tie, keys written the other way round', selector: { 'pod-template-hash': 'abc', app: 'web' }, want: 'app' },
    { name: 'a pair no Pod carries is the rarest', selector: { app: 'web', zone: 'a' }, want: 'zone' },
    { name: 'an empty selector has none', selector: {}, want: undefined },
  ];
  for (const c of cases) it(c.name, () => assert.equal(rarestKey(c.selector, weight), c.want));
});

describe('selector index: only the label keys some selector uses are indexed', () => {
  const labels = { app: 'web', 'pod-template-hash': '7d4b9c6f5', version: 'v1' };
  const pods = () => [
    pod([container()], { name: 'a', labels }),
    pod([container()], { name: 'b', labels }),
    pod([container()], { name: 'c', labels: { app: 'db' } }),
  ];
  it('Pods seen before any Service: a Service selecting on a key no other uses finds them, and their events notify it', () => {
    const index = indexOf([], pods());
    assert.deepEqual(index.indexedLabelKeys('default'), [], 'no selector yet: no label indexed');
    const web = service({ name: 'web', selector: { app: 'web' } });
    index.serviceChanged(web, false);
    assert.deepEqual(index.indexedLabelKeys('default'), ['app']);
    assert.deepEqual(names(index.podsFor(web)), ['a', 'b']);
    assert.deepEqual(sorted(index.podChanged(relabel(pod([container()], { name: 'a', labels }), { app: 'db' }), false)), ['default/web']);
    assert.deepEqual(names(index.podsFor(web)), ['b']);
  });
  it("the last Service selecting on a key drops that key's index; a Service selecting on it again rebuilds it", () => {
    const web = service({ name: 'web', selector: { app: 'web' } });
    const web2 = service({ name: 'web2', selector: { app: 'web', version: 'v1' } });
    const index = indexOf([web, web2], pods());
    assert.deepEqual(index.indexedLabelKeys('default'), ['app', 'version']);
    index.serviceChanged(web2, true);
    assert.deepEqual(index.indexedLabelKeys('default'), ['app']);
    index.serviceChanged(withSelector(web, { version: 'v1' }), false); // a selector change: the new key in, the old one out
    assert.deepEqual(index.indexedLabelKeys('default'), ['version']);
    assert.deepEqual(names(index.podsFor(withSelector(web, { version: 'v1' }))), ['a', 'b']);
    index.serviceChanged(web, true);
    assert.deepEqual(index.indexedLabelKeys('default'), []);
    index.serviceChanged(web2, false);
    assert.deepEqual(names(index.podsFor(web2)), ['a', 'b']);
  });
  it("a Service whose label keys are indexed already does not list the namespace's Pods (start-up: one list per new key, not per Service)", () => {
    const index = indexOf([], pods());
    index.serviceChanged(service({ name: 'web', selector: { app: 'web' } }), false);
    assert.equal(index.podLists, 1, 'the first Service on key app indexes the Pods by it');
    index.serviceChanged(service({ name: 'db', selector: { app: 'db' } }), false);
    index.serviceChanged(service({ name: 'web-v1', selector: { app: 'web' } }), false);
    assert.equal(index.podLists, 1, 'key app is indexed already: no list');
    index.serviceChanged(service({ name: 'v1', selector: { app: 'web', version: 'v1' } }), false);
    assert.equal(index.podLists, 2, 'a new key (version) lists them once more');
  });
  it('a Service the index has not seen is matched against every Pod of its namespace', () => {
    const index = indexOf([service({ name: 'db', selector: { app: 'db' } })], pods());
    assert.deepEqual(names(index.podsFor(service({ name: 'v1', selector: { version: 'v1' } }))), ['a', 'b']);
    assert.deepEqual(names(index.podsFor(service({ name: 'web', selector: { app: 'web', version: 'v1' } }))), ['a', 'b']);
  });
});
