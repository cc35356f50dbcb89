// Shared slim parts (src/kube/intern.ts, used by src/kube/slim.ts): replicas of one workload share
// one labels object and one container spec, different ones never share, an update gets its own
// part, and parts no object holds any more leave the table.
import assert from 'node:assert/strict';
import { Interner, type Ref } from '../../src/kube/intern.js';
import { StringTable } from '../../src/lib/string-table.js';
import { slimPod, slimService } from '../../src/kube/slim.js';

const pod = (name: string, labels: Record<string, string>, path = '/ready', phase = 'Running') => ({
  metadata: { namespace: 'shop', name, uid: `u-${name}`, resourceVersion: '1', labels, creationTimestamp: '2026-11-30T10:00:00Z' },
  spec: {
    containers: [
      { name: 'app', ports: [{ name: 'http', containerPort: 8080 }], readinessProbe: { httpGet: { path, port: 8080 }, periodSeconds: 10 } },
    ],
  },
  status: { phase, podIP: '10.0.0.1' },
});
const web = { app: 'web', 'pod-template-hash': '5d8f' };

/** A Ref the test collects by hand (a WeakRef's target is collected only when the GC decides). */
class HandRef<T> implements Ref<T> {
  constructor(public target: T | undefined) {}
  deref(): T | undefined {
    return this.target;
  }
}

describe('interning of slim parts', () => {
  const cases: { name: string; a: ReturnType<typeof pod>; b: ReturnType<typeof pod>; labels: boolean; spec: boolean; status: boolean }[] = [
    {
      name: 'two replicas of one workload share labels, spec and status',
      a: pod('web-1', web),
      b: pod('web-2', { ...web }),
      labels: true,
      spec: true,
      status: true,
    },
    {
      name: 'different labels do not share',
      a: pod('web-1', web),
      b: pod('api-1', { app: 'api', 'pod-template-hash': '5d8f' }),
      labels: false,
      spec: true,
      status: true,
    },
    {
      name: 'a changed probe (a rollout) does not share the spec',
      a: pod('web-1', web),
      b: pod('web-3', web, '/healthz'),
      labels: true,
      spec: false,
      status: true,
    },
    {
      name: 'another phase does not share the status',
      a: pod('web-1', web),
      b: pod('web-4', web, '/ready', 'Pending'),
      labels: true,
      spec: true,
      status: false,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const a = slimPod(JSON.parse(JSON.stringify(c.a)));
      const b = slimPod(JSON.parse(JSON.stringify(c.b)));
      assert.equal(a.metadata.labels === b.metadata.labels, c.labels, 'labels shared');
      assert.equal(a.spec === b.spec, c.spec, 'spec shared');
      assert.equal(a.status === b.status, c.status, 'status shared');
      // Sharing never changes what a Pod says.
      assert.deepEqual(a.metadata.labels, c.a.metadata.labels);
      assert.deepEqual(b.spec.containers[0]?.readinessProbe?.httpGet?.path, c.b.spec.containers[0]?.readinessProbe.httpGet.path);
      assert.equal(b.status.phase, c.b.status.phase);
    });
  }

  it('a Pod update gets the part of its new version; the other replicas keep theirs', () => {
    const r1 = slimPod(pod('web-1', web));
    const r2 = slimPod(pod('web-2', web));
    const r1v2 = slimPod({ ...pod('web-1', web, '/v2/ready'), metadata: { ...pod('web-1', web).metadata, resourceVersion: '2' } });
    assert.notEqual(r1v2.spec, r1.spec);
    assert.equal(r1v2.spec.containers[0]?.readinessProbe?.httpGet?.path, '/v2/ready');
    assert.equal(r2.spec, r1.spec);
    assert.equal(r2.spec.containers[0]?.readinessProbe?.httpGet?.path, '/ready');
  });

  it('Services with the same ports share one ports list; other ports do not', () => {
    const svc = (name: string, port: number) => ({
      metadata: { namespace: 'shop', name, uid: name, resourceVersion: '1' },
      spec: { selector: { app: name }, ports: [{ name: 'http', port, targetPort: 8080 }] },
    });
    const a = slimService(svc('a', 80));
    assert.equal(slimService(svc('b', 80)).spec.ports, a.spec.ports);
    assert.notEqual(slimService(svc('c', 81)).spec.ports, a.spec.ports);
    assert.deepEqual(slimService(svc('c', 81)).spec.ports, [{ name: 'http', port: 81, targetPort: 8080 }]);
  });

  it('a hash collision never shares unequal parts', () => {
    const t = new Interner<object>();
    // Equal JSON text hashes equally; these differ: each stays itself, and equal ones share.
    const parts = Array.from({ length: 3000 }, (_, i) => ({ v: `x${i}` }));
    const interned = parts.map((p) => t.intern(p));
    interned.forEach((p, i) => assert.equal(p, parts[i]));
    parts.forEach((p) => assert.equal(t.intern({ ...p }), p));
  });

  it("a deleted workload's parts leave the table once collected", () => {
    const refs: HandRef<object>[] = [];
    const t = new Interner<object>((v) => {
      const r = new HandRef(v);
      refs.push(r);
      return r;
    });
    const first = t.intern({ app: 'gone' });
    assert.equal(t.intern({ app: 'gone' }), first);
    for (const r of refs) r.target = undefined; // the GC collected it: no Pod holds it any more
    const again = { app: 'gone' };
    assert.equal(t.intern(again), again, 'a collected part is not handed out; the new one is shared from now on');
    assert.equal(t.intern({ app: 'gone' }), again);
    for (const r of refs) r.target = undefined;
    t.sweep();
    assert.equal(t.size, 0);
  });

  it('the table is swept as it grows, so a churn of workloads does not grow it for ever', () => {
    const refs: HandRef<object>[] = [];
    const t = new Interner<object>((v) => {
      const r = new HandRef(v);
      refs.push(r);
      return r;
    });
    for (let i = 0; i < 100_000; i++) {
      t.intern({ app: `w${i}` });
      // Workloads come and go: at most the last 10 are still held by some Pod.
      const old = refs[refs.length - 11];
      if (old) old.target = undefined;
    }
    assert.ok(t.size <= 512, `table size ${t.size}`);
  });

  it('the string table hands out one copy per string and starts over past its limit', () => {
    const t = new StringTable(2);
    const a = ['ns', '-a'].join('');
    assert.equal(t.intern(a), a);
    assert.equal(t.intern(['ns', '-a'].join('')), a);
    t.intern('b');
    const c = t.intern('c'); // third distinct string: the table started over
    assert.equal(c, 'c');
    const a2 = ['ns', '-a'].join('');
    assert.equal(t.intern(a2), a2);
  });
});
