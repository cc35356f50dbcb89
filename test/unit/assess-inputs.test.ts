// assessService reads intent from the objects as they are on each pass: a new version of a Pod or
// a BackendConfig, or another --infer-from-liveness, gives the intent it implies. (It kept an
// intent memo per Service object until issue 11's settled-pass reuse, controller/pass-reads.ts,
// made it unneeded; these cases guard that nothing stale is ever reused.)
import assert from 'node:assert/strict';
import { StaticClusterView } from '../../src/kube/cluster-view.js';
import type { BackendServiceRef, LiveHealthCheck } from '../../src/model/health-check.js';
import type { SlimBackendConfig, SlimPod, SlimService } from '../../src/model/kube.js';
import type { BackendReader } from '../../src/model/ports.js';
import { assessService, sliceOf } from '../../src/plan/assess.js';
import type { PortIntent } from '../../src/intent/intent.js';
import { backendConfig, container, httpProbe, ingress, liveCheck, pod, service } from '../support/fixtures.js';

const HC = 'k8s1-abcdef12-default-web-80-12345678';
const bs: BackendServiceRef = {
  name: HC,
  scope: { kind: 'global' },
  healthCheck: { name: HC, scope: { kind: 'global' } },
  service: { namespace: 'default', name: 'web', port: '80' },
  backendKind: 'neg',
};
const live: LiveHealthCheck = liveCheck({ name: HC });
const backends: BackendReader = { backendService: () => bs, healthCheck: () => live };
const ing = ingress({ classAnnotation: 'gce', gkeBackends: { [HC]: 'HEALTHY' } });

function intentOf(svc: SlimService, pods: SlimPod[], bcs: SlimBackendConfig[], inferFromLiveness = true): PortIntent {
  const view = new StaticClusterView({ services: [svc], pods, ingresses: [ing], backendConfigs: bcs });
  const a = assessService(svc, view, backends, { mode: 'enforce', inferFromLiveness });
  assert.ok(a.managed, 'managed');
  const p = a.ports[0];
  assert.ok(p, 'one port');
  return p.intent;
}
const pathOf = (i: PortIntent) => (i.kind === 'desired' ? i.desired.requestPath : i.kind);

describe('assessService: intent from the current objects', () => {
  it('derives again when a Pod is replaced, added or removed', () => {
    const svc = service();
    const a = pod([container({ readinessProbe: httpProbe('/ready') })], { name: 'a', created: '2026-01-01T00:00:01Z' });
    const b = pod([container({ readinessProbe: httpProbe('/ready') })], { name: 'b', created: '2026-01-01T00:00:02Z' });
    const b2 = { ...b, spec: { containers: [container({ readinessProbe: httpProbe('/v2') })] } };
    const cases: { pods: SlimPod[]; want: string | undefined }[] = [
      { pods: [a, b], want: '/ready' },
      { pods: [a, b2], want: 'hold' }, // a rollout: the Pods disagree
      { pods: [b2], want: '/v2' },
      { pods: [], want: 'none' },
      { pods: [a], want: '/ready' },
    ];
    for (const c of cases) assert.equal(pathOf(intentOf(svc, c.pods, [])), c.want, c.pods.map((p) => p.metadata.name).join(','));
  });

  it('derives again when a BackendConfig it looked up appears or changes', () => {
    const svc = service({ annotations: { 'cloud.google.com/backend-config': '{"default":"bc"}' } });
    const pods = [pod([container({ readinessProbe: httpProbe('/ready') })])];
    assert.equal(intentOf(svc, pods, []).kind, 'hold', 'not in the cache yet: hold');
    const withPath = intentOf(svc, pods, [backendConfig('bc', { requestPath: '/bc' })]);
    assert.ok(withPath.kind === 'desired');
    assert.deepEqual(withPath.backendConfig?.fields, { requestPath: '/bc' });
    const withInterval = intentOf(svc, pods, [backendConfig('bc', { checkIntervalSec: 30 })]);
    assert.ok(withInterval.kind === 'desired');
    assert.deepEqual(withInterval.backendConfig?.fields, { checkIntervalSec: 30 });
    assert.equal(intentOf(svc, pods, []).kind, 'hold', 'gone again: hold');
  });

  it('derives again when --infer-from-liveness differs', () => {
    const svc = service();
    const pods = [pod([container({ livenessProbe: httpProbe('/live') })])];
    assert.equal(pathOf(intentOf(svc, pods, [], true)), '/live');
    assert.equal(pathOf(intentOf(svc, pods, [], false)), 'none');
    assert.equal(pathOf(intentOf(svc, pods, [], true)), '/live');
  });
});

describe('assessService intents, many ports', () => {
  // Intents are derived per (port, kind) within a pass (plan/assess.ts): every port must get its
  // own intent, and a second pass over the same objects the same intents.
  for (const n of [1, 8, 9, 30]) {
    it(`${n} ports: each port gets its own intent, the same on the next pass`, () => {
      const ports = Array.from({ length: n }, (_, i) => ({ name: `p${i}`, port: 8000 + i, targetPort: 9000 + i }));
      const paths = Object.fromEntries(ports.map((p) => [p.name, `/health/${p.name}`]));
      const svc = service({ ports, annotations: { 'hcsync.io/health-paths': JSON.stringify(paths) } });
      const names = ports.map((p) => `k8s1-abcdef12-default-web-${p.port}-12345678`);
      const byName = new Map(
        ports.map((p, i): [string, BackendServiceRef] => [
          names[i] ?? '',
          {
            name: names[i] ?? '',
            scope: { kind: 'global' },
            service: { namespace: 'default', name: 'web', port: String(p.port) },
            backendKind: 'neg',
          },
        ]),
      );
      const reader: BackendReader = { backendService: (name) => byName.get(name), healthCheck: () => undefined };
      const many = ingress({
        classAnnotation: 'gce',
        backends: ports.map((p) => ({ service: 'web', port: p.port })),
        gkeBackends: Object.fromEntries(names.map((x) => [x, 'HEALTHY'])),
      });
      const view = new StaticClusterView({ services: [svc], pods: [], ingresses: [many], backendConfigs: [] });
      const pass = () => {
        const a = assessService(svc, view, reader, { mode: 'enforce', inferFromLiveness: true });
        assert.ok(a.managed);
        return new Map(a.ports.map((p) => [p.port.name, p.intent]));
      };
      const first = pass();
      assert.equal(first.size, n);
      for (const p of ports) assert.equal(pathOf(first.get(p.name) as PortIntent), `/health/${p.name}`, p.name);
      const second = pass();
      for (const p of ports) assert.deepEqual(second.get(p.name), first.get(p.name), `${p.name}: the same intent`);
    });
  }
});

describe('assess: a parsed backend name is kept as a slice of the annotation (sliceOf)', () => {
  const raw = '{"k8s1-abcdef12-default-web-80-1a2b3c4d":"HEALTHY","k8s-be-30001--abcdef12":"UNHEALTHY"}';
  const cases: { name: string; of: string; want: string }[] = [
    { name: 'the first name', of: 'k8s1-abcdef12-default-web-80-1a2b3c4d', want: 'k8s1-abcdef12-default-web-80-1a2b3c4d' },
    { name: 'a later name', of: 'k8s-be-30001--abcdef12', want: 'k8s-be-30001--abcdef12' },
    { name: 'a name only part of another is not matched inside it', of: 'k8s-be-30001', want: 'k8s-be-30001' },
    { name: 'a name the text lacks (written escaped): the name itself', of: 'a"b', want: 'a"b' },
  ];
  for (const c of cases) it(c.name, () => assert.equal(sliceOf(raw, c.of), c.want));
});
