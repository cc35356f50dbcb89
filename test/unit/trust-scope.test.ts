// Issue 8, "hcsync must never cause the 502 it exists to prevent": which Ingresses are GKE's, which
// backend is whose, several checks per port, checks on another port, host, unknown BackendConfigs,
// the port cap. Pure, table-driven.
import assert from 'node:assert/strict';
import { gkeIngressClassOf } from '../../src/parse/ingress-class.js';
import {
  BackendNameIndex,
  backendNameServesPort,
  negBackendName,
  rxlbBackendName,
  trimFieldsEvenly,
} from '../../src/model/ingress-gce-names.js';
import type { BackendServiceRef, LiveHealthCheck, Scope } from '../../src/model/health-check.js';
import type { SlimIngress, SlimService } from '../../src/model/kube.js';
import type { BackendReader } from '../../src/model/ports.js';
import { assessService, backendServesPort, type ServiceAssessment } from '../../src/plan/assess.js';
import { planPort, portNotServing } from '../../src/plan/port-plan.js';
import { StaticClusterView } from '../../src/kube/cluster-view.js';
import { ingressServiceKeys } from '../../src/kube/service-index.js';
import { container, httpProbe, informedIngresses, ingress, liveCheck, pod, service } from '../support/fixtures.js';

describe('only GKE’s Ingresses (ingress-gce IsGCEIngress)', () => {
  const cases: { name: string; annotation?: string; ingressClassName?: string; want: string | undefined }[] = [
    { name: 'no annotation, no ingressClassName → gce', want: 'gce' },
    { name: 'annotation gce', annotation: 'gce', want: 'gce' },
    { name: 'annotation gce-internal', annotation: 'gce-internal', want: 'gce-internal' },
    { name: 'annotation gce-regional-external', annotation: 'gce-regional-external', want: 'gce-regional-external' },
    { name: 'annotation nginx', annotation: 'nginx', want: undefined },
    { name: 'annotation traefik', annotation: 'traefik', want: undefined },
    { name: 'annotation gce-multi-cluster (not this controller)', annotation: 'gce-multi-cluster', want: undefined },
    { name: 'ingressClassName nginx, no annotation', ingressClassName: 'nginx', want: undefined },
    { name: 'ingressClassName gce, no annotation: GKE serves no IngressClass → not GKE’s', ingressClassName: 'gce', want: undefined },
    { name: 'the annotation wins over ingressClassName (gce + nginx)', annotation: 'gce', ingressClassName: 'nginx', want: 'gce' },
    { name: 'the annotation wins over ingressClassName (nginx + gce)', annotation: 'nginx', ingressClassName: 'gce', want: undefined },
    { name: 'an empty annotation reads as absent (no class name → gce)', annotation: '', want: 'gce' },
    { name: 'an empty annotation reads as absent (with a class name → not)', annotation: '', ingressClassName: 'x', want: undefined },
  ];
  for (const c of cases) {
    it(c.name, () =>
      assert.equal(
        gkeIngressClassOf({
          ...(c.annotation !== undefined ? { annotations: { 'kubernetes.io/ingress.class': c.annotation } } : {}),
          ...(c.ingressClassName !== undefined ? { ingressClassName: c.ingressClassName } : {}),
        }),
        c.want,
      ),
    );
  }

  it('a non-GKE Ingress never enters the Service index: no key, so no reconcile, condition or requeue', () => {
    for (const ing of [
      ingress({ classAnnotation: 'nginx' }),
      ingress({ ingressClassName: 'nginx' }),
      ingress({ ingressClassName: 'gce' }),
    ]) {
      assert.deepEqual([...ingressServiceKeys(ing)], [], JSON.stringify(ing));
      const { index, changed } = informedIngresses();
      assert.deepEqual([...changed(ing, false)], []);
      assert.equal(index.isBacked('default/web'), false);
    }
  });

  it('an Ingress that turns from gce to nginx notifies the Service it left, which is then no longer backed', () => {
    const { index, changed } = informedIngresses();
    changed(ingress(), false);
    assert.equal(index.isBacked('default/web'), true);
    assert.deepEqual([...changed(ingress({ classAnnotation: 'nginx' }), false)], ['default/web']);
    assert.equal(index.isBacked('default/web'), false);
  });
});

describe('tenant isolation: a backend matches a Service port only by evidence that cannot collide', () => {
  const uid8 = '9410637b';
  const aBC = { namespace: 'a', name: 'b-c' };
  const abC = { namespace: 'a-b', name: 'c' };
  const nameOfABC = negBackendName(uid8, aBC.namespace, aBC.name, 80);
  const nameOfAbC = negBackendName(uid8, abC.namespace, abC.name, 80);

  it('the colliding pair reads alike but differs in its hash suffix', () => {
    assert.equal(nameOfABC.slice(0, -9), nameOfAbC.slice(0, -9), 'k8s1-<uid8>-a-b-c-80- for both');
    assert.notEqual(nameOfABC, nameOfAbC);
  });

  const cases: {
    name: string;
    backend: string;
    svc: { namespace: string; name: string };
    port: { port: number; nodePort?: number };
    want: boolean;
  }[] = [
    { name: 'ns a / svc b-c: its own name', backend: nameOfABC, svc: aBC, port: { port: 80 }, want: true },
    { name: 'ns a / svc b-c: NOT ns a-b / svc c’s backend', backend: nameOfAbC, svc: aBC, port: { port: 80 }, want: false },
    { name: 'ns a-b / svc c: its own name', backend: nameOfAbC, svc: abC, port: { port: 80 }, want: true },
    { name: 'ns a-b / svc c: NOT ns a / svc b-c’s backend', backend: nameOfABC, svc: abC, port: { port: 80 }, want: false },
    {
      name: 'real GKE name (docs §4.2): default/videos-catalog:80',
      backend: 'k8s1-235fca81-default-videos-catalog-80-ffe68e8f',
      svc: { namespace: 'default', name: 'videos-catalog' },
      port: { port: 80 },
      want: true,
    },
    {
      name: 'real GKE name (docs §5.5): tekton-pipelines/tekton-dashboard:9097',
      backend: 'k8s1-b713ed67-tekton-pipelines-tekton-dashboard-9097-941d933e',
      svc: { namespace: 'tekton-pipelines', name: 'tekton-dashboard' },
      port: { port: 9097 },
      want: true,
    },
    {
      name: 'trimmed long names (TrimFieldsEvenly) match by the full hash',
      backend: negBackendName(uid8, 'a-very-long-namespace-name-for-tenants', 'a-very-long-service-name-that-is-trimmed', 8080),
      svc: { namespace: 'a-very-long-namespace-name-for-tenants', name: 'a-very-long-service-name-that-is-trimmed' },
      port: { port: 8080 },
      want: true,
    },
    {
      name: 'a trimmed name does not match another Service that trims alike',
      backend: negBackendName(uid8, 'a-very-long-namespace-name-for-tenants', 'a-very-long-service-name-that-is-trimmed', 8080),
      svc: { namespace: 'a-very-long-namespace-name-for-tenants', name: 'a-very-long-service-name-that-is-trimmed-too' },
      port: { port: 8080 },
      want: false,
    },
    {
      name: 'regional external (k8s1-<uid8>-e-…)',
      backend: rxlbBackendName(uid8, 'a', 'b-c', 80),
      svc: aBC,
      port: { port: 80 },
      want: true,
    },
    {
      name: 'regional external of the other tenant',
      backend: rxlbBackendName(uid8, 'a-b', 'c', 80),
      svc: aBC,
      port: { port: 80 },
      want: false,
    },
    {
      name: 'IG: k8s-be-<nodePort>--<uid> with the port’s own nodePort',
      backend: 'k8s-be-31000--9410637bf984f3ee',
      svc: aBC,
      port: { port: 80, nodePort: 31000 },
      want: true,
    },
    { name: 'IG: legacy k8s-be-<nodePort> (no uid)', backend: 'k8s-be-31000', svc: aBC, port: { port: 80, nodePort: 31000 }, want: true },
    {
      name: 'IG: nodePort 3100 is not 31000',
      backend: 'k8s-be-31000--9410637bf984f3ee',
      svc: aBC,
      port: { port: 80, nodePort: 3100 },
      want: false,
    },
    {
      name: 'IG: another port’s nodePort',
      backend: 'k8s-be-31001--9410637bf984f3ee',
      svc: aBC,
      port: { port: 80, nodePort: 31000 },
      want: false,
    },
    {
      name: 'IG name without a nodePort on the Service port',
      backend: 'k8s-be-31000--9410637bf984f3ee',
      svc: aBC,
      port: { port: 80 },
      want: false,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(backendNameServesPort(c.backend, c.svc, c.port), c.want);
      const index = new BackendNameIndex(c.svc, [c.port]);
      assert.equal(index.portOf(c.backend) === c.port, c.want, 'the index agrees');
    });
  }

  it('TrimFieldsEvenly keeps short fields and cuts long ones to the budget', () => {
    assert.deepEqual(trimFieldsEvenly(38, 'a', 'b', '80'), ['a', 'b', '80']);
    assert.equal(trimFieldsEvenly(38, 'x'.repeat(40), 'y'.repeat(40), '8080').join('').length, 38);
  });

  const svcABC = service({ namespace: 'a', name: 'b-c' });
  const port80 = svcABC.spec.ports[0]!;
  const bs = (o: Partial<BackendServiceRef>): BackendServiceRef => ({
    name: nameOfABC,
    scope: { kind: 'global' },
    backendKind: 'neg',
    ...o,
  });
  const descCases: { name: string; ref: BackendServiceRef; want: boolean }[] = [
    { name: 'description names this Service and port', ref: bs({ service: { namespace: 'a', name: 'b-c', port: '80' } }), want: true },
    {
      name: 'description names this Service by port name',
      ref: bs({ service: { namespace: 'a', name: 'b-c', port: 'http' } }),
      want: true,
    },
    {
      name: 'description names the other tenant: no match, even though the name is ours',
      ref: bs({ service: { namespace: 'a-b', name: 'c', port: '80' } }),
      want: false,
    },
    { name: 'no description: the other tenant’s name never matches', ref: bs({ name: nameOfAbC }), want: false },
    { name: 'no description: our own exact name matches', ref: bs({}), want: true },
  ];
  for (const c of descCases) it(c.name, () => assert.equal(backendServesPort(c.ref, svcABC, port80), c.want));
});

/** A BackendReader over plain lists. */
class FakeBackends implements BackendReader {
  constructor(
    private readonly bss: BackendServiceRef[],
    private readonly checks: LiveHealthCheck[],
  ) {}
  backendService(name: string, scope: 'global' | 'regional'): BackendServiceRef | undefined {
    const all = this.bss.filter((b) => b.name === name);
    return all.find((b) => (scope === 'global') === (b.scope.kind === 'global')) ?? all[0];
  }
  healthCheck(name: string, scope: Scope): LiveHealthCheck | undefined {
    return this.checks.find((c) => c.name === name && JSON.stringify(c.scope) === JSON.stringify(scope));
  }
}

const REGION: Scope = { kind: 'region', region: 'us-central1' };
const HC = negBackendName('9410637b', 'default', 'web', 80);
const backendRef = (scope: Scope): BackendServiceRef => ({
  name: HC,
  scope,
  healthCheck: { name: HC, scope },
  service: { namespace: 'default', name: 'web', port: '80' },
  backendKind: 'neg',
});

function assess(o: {
  ingresses: SlimIngress[];
  svc?: SlimService;
  checks?: LiveHealthCheck[];
  bss?: BackendServiceRef[];
  maxPorts?: number;
}): ServiceAssessment {
  const svc = o.svc ?? service();
  const pods = [pod([container({ readinessProbe: httpProbe('/ready') })])];
  const view = new StaticClusterView({ services: [svc], pods, ingresses: o.ingresses, backendConfigs: [] });
  const backends = new FakeBackends(
    o.bss ?? [backendRef({ kind: 'global' }), backendRef(REGION)],
    o.checks ?? [liveCheck({ name: HC }), liveCheck({ name: HC, scope: REGION, id: '2002' })],
  );
  return assessService(svc, view, backends, { mode: 'enforce', inferFromLiveness: true, ...(o.maxPorts ? { maxPorts: o.maxPorts } : {}) });
}
const managed = (a: ServiceAssessment) => {
  assert.ok(a.managed, JSON.stringify(a));
  return a;
};

describe('assessment: one entry per (Service port, health check)', () => {
  const ext = ingress({ name: 'ext', gkeBackends: { [HC]: 'HEALTHY' } });
  const internal = ingress({ name: 'int', classAnnotation: 'gce-internal', gkeBackends: { [HC]: 'UNHEALTHY' } });
  const ext2 = ingress({ name: 'ext2', gkeBackends: { [HC]: 'HEALTHY' } });

  it('a port behind a gce and a gce-internal Ingress: two entries, the global and the regional check, both planned', () => {
    const a = managed(assess({ ingresses: [ext, internal] }));
    assert.deepEqual(
      a.ports.map((p) => [p.id, p.ingresses, p.gkeState, p.plan.state, p.live?.id]),
      [
        [`global/${HC}`, ['ext'], 'HEALTHY', 'patch', '1001'],
        [`regions/us-central1/${HC}`, ['int'], 'UNHEALTHY', 'patch', '2002'],
      ],
    );
  });

  it('two gce Ingresses sharing one backend: one entry naming both', () => {
    const a = managed(assess({ ingresses: [ext, ext2] }));
    assert.deepEqual(
      a.ports.map((p) => [p.id, p.ingresses]),
      [[`global/${HC}`, ['ext', 'ext2']]],
    );
  });

  it('an Ingress GKE has not synced yet beside a synced one: the synced check, and a pending (not ready) entry', () => {
    const a = managed(assess({ ingresses: [ext, ingress({ name: 'new', classAnnotation: 'gce-internal' })] }));
    assert.deepEqual(
      a.ports.map((p) => [p.id, p.ingresses, p.plan.state]),
      [
        [`global/${HC}`, ['ext'], 'patch'],
        ['pending/80', ['new'], 'not_ready'],
      ],
    );
  });

  it('only non-GKE Ingresses on the Service → not managed (nginx annotation, ingressClassName nginx, ingressClassName gce)', () => {
    const a = assess({
      ingresses: [
        ingress({ name: 'n1', classAnnotation: 'nginx', gkeBackends: { [HC]: 'HEALTHY' } }),
        ingress({ name: 'n2', ingressClassName: 'nginx' }),
        ingress({ name: 'n3', ingressClassName: 'gce' }),
      ],
    });
    assert.deepEqual(a, { managed: false, why: 'no GKE Ingress has a backend on this Service' });
  });

  it('a non-GKE Ingress beside a GKE one is ignored (its stale backends annotation included)', () => {
    const a = managed(
      assess({
        ingresses: [ext, ingress({ name: 'nginx', classAnnotation: 'nginx', gkeBackends: { 'k8s1-9410637b-unseen-1-abcdef12': 'x' } })],
      }),
    );
    assert.deepEqual(
      a.ports.map((p) => p.ingresses),
      [['ext']],
    );
    assert.deepEqual(a.unseenBackends, [], 'no re-list asked for on its behalf');
  });

  it('another tenant’s backend named in our Ingress annotation never becomes our check', () => {
    const other = negBackendName('9410637b', 'default-web', 'x', 80); // some other Service's backend, described as such
    const a = managed(
      assess({
        ingresses: [ingress({ name: 'ext', gkeBackends: { [other]: 'HEALTHY' } })],
        bss: [{ name: other, scope: { kind: 'global' }, healthCheck: { name: other, scope: { kind: 'global' } }, backendKind: 'neg' }],
        checks: [liveCheck({ name: other })],
      }),
    );
    assert.deepEqual(
      a.ports.map((p) => [p.id, p.plan.state]),
      [['pending/80', 'not_ready']],
    );
  });

  it('over the port cap: one Service-wide InvalidIntent naming the Service and the cap, nothing planned per port', () => {
    const ports = Array.from({ length: 5 }, (_, i) => ({ name: `p${i}`, port: 1000 + i, targetPort: 8000 }));
    const svc = service({ ports });
    const a = managed(
      assess({ svc, maxPorts: 3, ingresses: [ingress({ name: 'ext', backends: ports.map((p) => ({ service: 'web', port: p.port })) })] }),
    );
    assert.equal(a.ports.length, 1);
    assert.equal(a.ports[0]?.serviceWide, true);
    assert.equal(a.ports[0]?.plan.state, 'invalid');
    assert.match(JSON.stringify(a.ports[0]?.plan), /Service default\/web has 5 ports behind GKE Ingresses; hcsync assesses at most 3/);
  });
});

describe('checks that probe another port than the serving one are not the app’s', () => {
  const port = { name: 'http', port: 80, targetPort: 8000, nodePort: 31000 };
  const cases: { name: string; live: LiveHealthCheck; kind: 'neg' | 'ig'; notServing: boolean }[] = [
    { name: 'NEG, USE_SERVING_PORT', live: liveCheck(), kind: 'neg', notServing: false },
    {
      name: 'NEG, USE_FIXED_PORT 7877 (transparent health check)',
      live: liveCheck({ portSpecification: 'USE_FIXED_PORT', port: 7877 }),
      kind: 'neg',
      notServing: true,
    },
    {
      name: 'NEG, a port without a specification (fixed)',
      live: liveCheck({ portSpecification: '', port: 9000 }),
      kind: 'neg',
      notServing: true,
    },
    { name: 'NEG, USE_NAMED_PORT', live: liveCheck({ portSpecification: 'USE_NAMED_PORT' }), kind: 'neg', notServing: true },
    {
      name: 'IG, port = the nodePort (no specification)',
      live: liveCheck({ portSpecification: '', port: 31000 }),
      kind: 'ig',
      notServing: false,
    },
    {
      name: 'IG, USE_FIXED_PORT = the nodePort',
      live: liveCheck({ portSpecification: 'USE_FIXED_PORT', port: 31000 }),
      kind: 'ig',
      notServing: false,
    },
    { name: 'IG, another port', live: liveCheck({ portSpecification: 'USE_FIXED_PORT', port: 9000 }), kind: 'ig', notServing: true },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.notServing ? 'left alone (no_intent, why)' : 'managed'}`, () => {
      assert.equal(portNotServing(c.live, { port, backendKind: c.kind }) !== undefined, c.notServing);
      const plan = planPort({
        intent: { kind: 'desired', source: 'readinessProbe', desired: { requestPath: '/ready' }, warnings: [] },
        live: { ...c.live, block: { ...c.live.block!, requestPath: '/' } },
        mode: 'enforce',
        serving: { port, backendKind: c.kind },
      });
      if (c.notServing) {
        assert.equal(plan.state, 'no_intent');
        assert.match(plan.state === 'no_intent' ? plan.why : '', /not the serving port|named port/);
      } else assert.equal(plan.state, 'patch');
    });
  }

  it('a BackendConfig port: only its own fields are compared (drift reported, never patched)', () => {
    const plan = planPort({
      intent: {
        kind: 'desired',
        source: 'BackendConfig',
        desired: {},
        backendConfig: { name: 'bc', fields: { checkIntervalSec: 20 }, port: 9000 },
        warnings: [],
      },
      live: liveCheck({ portSpecification: 'USE_FIXED_PORT', port: 9000, requestPath: '/whatever', checkIntervalSec: 15 }),
      mode: 'enforce',
      serving: { port, backendKind: 'neg' },
    });
    assert.equal(plan.state, 'drifted');
    assert.deepEqual(plan.state === 'drifted' && plan.changes.map((c) => c.field), ['checkIntervalSec']);
  });
});

describe('host: only set when the source declares one', () => {
  it('a probe without a Host header leaves a hand-set host alone (no host in the patch)', () => {
    const a = managed(
      assess({
        ingresses: [ingress({ name: 'ext', gkeBackends: { [HC]: 'HEALTHY' } })],
        checks: [liveCheck({ name: HC, host: 'vhost.example.com', requestPath: '/' })],
      }),
    );
    const plan = a.ports[0]!.plan;
    assert.equal(plan.state, 'patch');
    assert.deepEqual(plan.state === 'patch' && plan.patch, { requestPath: '/ready', timeoutSec: 1, checkIntervalSec: 10 });
  });
});
