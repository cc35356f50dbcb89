// Issue 10, GKE Gateway: which Service ports are in scope (contract "Gateway API"), which gkegw1
// backend is whose (docs/gke-gateway-healthchecks.md §4), and the one HealthCheckPolicy per Service
// (owner rules, conflicts, observe mode, live verification). Pure, table-driven.
import assert from 'node:assert/strict';
import { gatewayNameServes, isGatewayBackendName } from '../../src/model/gke-gateway-names.js';
import type { SlimServicePort } from '../../src/model/kube.js';
import { gatewayScope } from '../../src/plan/gateway-scope.js';
import { assessGateway, POLICY_APPLY_GRACE_MS, type GatewayAssessment } from '../../src/plan/gateway.js';
import { GatewayRouteIndex, policyServiceKeys, routeServiceKeys } from '../../src/kube/gateway-index.js';
import { container, httpProbe, pod, service } from '../support/fixtures.js';
import {
  gateway,
  gatewayBackend,
  gatewayClass,
  gatewayView,
  policy,
  referenceGrant,
  route,
  type GatewayWorld,
} from '../support/gateway-fixtures.js';

const web = service();
const readyPod = (path = '/healthz') => pod([container({ readinessProbe: httpProbe(path, 'http') })]);
const BACKEND = 'gkegw1-ab12-default-web-80-abcdefghijkl';

function world(o: GatewayWorld = {}): GatewayWorld {
  return {
    services: [web],
    pods: [readyPod()],
    gateways: [gateway('gw')],
    routes: [route()],
    backends: [gatewayBackend(BACKEND)],
    ...o,
  };
}
const scopePorts = (w: GatewayWorld, svc = web) => gatewayScope(svc, gatewayView(w)).ports.map((p) => p.port.port);
const assess = (w: GatewayWorld, mode: 'enforce' | 'observe' = 'enforce', svc = web): GatewayAssessment =>
  assessGateway(svc, gatewayView(w), gatewayView(w), { mode, inferFromLiveness: true });
function managed(a: GatewayAssessment) {
  assert.ok(a.managed, `expected managed, got ${JSON.stringify(a)}`);
  return a;
}
const states = (a: GatewayAssessment) => managed(a).ports.map((p) => p.plan.state);
/** The Service `web` with ports http/80 and admin/9000 (annotated as given), one route sending traffic to both. */
function twoPorts(annotations: Record<string, string>, o: GatewayWorld = {}) {
  const svc = service({
    ports: [
      { name: 'http', port: 80, targetPort: 8000 },
      { name: 'admin', port: 9000, targetPort: 9000 },
    ],
    annotations,
  });
  const backendRefs = [
    { name: 'web', port: 80 },
    { name: 'web', port: 9000 },
  ];
  return { svc, w: world({ services: [svc], routes: [route({ backendRefs })], ...o }) };
}

describe('Gateway scope: which Service ports sit behind a GKE Gateway', () => {
  const cases: { name: string; w: GatewayWorld; want: number[]; ignored?: RegExp }[] = [
    { name: 'a gke-l7- Gateway whose class cannot be read (namespaced mode) → in scope', w: world(), want: [80] },
    {
      name: 'a class whose controllerName is GKE’s, whatever its name → in scope',
      w: world({ classes: [gatewayClass('corp-lb')], gateways: [gateway('gw', 'corp-lb')] }),
      want: [80],
    },
    {
      name: 'a readable class of another controller decides, even with a gke-l7- name → not GKE’s',
      w: world({ classes: [gatewayClass('gke-l7-fake', 'istio.io/gateway-controller')], gateways: [gateway('gw', 'gke-l7-fake')] }),
      want: [],
    },
    {
      name: 'an unreadable class not named gke-l7- (istio) → not GKE’s',
      w: world({ gateways: [gateway('gw', 'istio')] }),
      want: [],
      ignored: /not attached to a GKE Gateway/,
    },
    { name: 'the route names another Gateway', w: world({ routes: [route({ parentRefs: [{ name: 'other' }] })] }), want: [] },
    { name: 'the named Gateway does not exist', w: world({ gateways: [] }), want: [] },
    {
      name: 'the parentRef namespace defaults to the route’s (route and Gateway in infra, Service in default, granted)',
      w: world({
        gateways: [gateway('gw', 'gke-l7-rilb', 'infra')],
        routes: [route({ namespace: 'infra', backendRefs: [{ name: 'web', namespace: 'default', port: 80 }] })],
        grants: [referenceGrant('default', 'infra')],
      }),
      want: [80],
    },
    {
      name: 'GKE rejected the route on that Gateway (Accepted=False from networking.gke.io/gateway) → not attached',
      w: world({
        routes: [
          route({
            parents: [
              {
                parentRef: { name: 'gw' },
                controllerName: 'networking.gke.io/gateway',
                conditions: [{ type: 'Accepted', status: 'False' }],
              },
            ],
          }),
        ],
      }),
      want: [],
    },
    {
      name: 'Accepted=False from another controller does not count',
      w: world({
        routes: [
          route({
            parents: [{ parentRef: { name: 'gw' }, controllerName: 'istio.io/x', conditions: [{ type: 'Accepted', status: 'False' }] }],
          }),
        ],
      }),
      want: [80],
    },
    {
      name: 'a cross-namespace backendRef without a ReferenceGrant does not count',
      w: world({
        gateways: [gateway('gw', 'gke-l7-rilb', 'infra')],
        routes: [route({ namespace: 'infra', backendRefs: [{ name: 'web', namespace: 'default', port: 80 }] })],
      }),
      want: [],
      ignored: /without a ReferenceGrant/,
    },
    {
      name: 'a ReferenceGrant for GRPCRoutes does not allow an HTTPRoute',
      w: world({
        gateways: [gateway('gw', 'gke-l7-rilb', 'infra')],
        routes: [route({ namespace: 'infra', backendRefs: [{ name: 'web', namespace: 'default', port: 80 }] })],
        grants: [referenceGrant('default', 'infra', 'GRPCRoute')],
      }),
      want: [],
    },
    {
      name: 'a ReferenceGrant to another Service name does not allow this one',
      w: world({
        gateways: [gateway('gw', 'gke-l7-rilb', 'infra')],
        routes: [route({ namespace: 'infra', backendRefs: [{ name: 'web', namespace: 'default', port: 80 }] })],
        grants: [referenceGrant('default', 'infra', 'HTTPRoute', 'api')],
      }),
      want: [],
    },
    { name: 'a GRPCRoute counts like an HTTPRoute', w: world({ routes: [route({ kind: 'GRPCRoute' })] }), want: [80] },
    {
      name: 'a backendRef of another kind (ServiceImport) does not count',
      w: world({ routes: [route({ backendRefs: [{ name: 'web', kind: 'ServiceImport', group: 'net.gke.io', port: 80 }] })] }),
      want: [],
    },
    {
      name: 'a backendRef without a port is ignored and said so',
      w: world({ routes: [route({ backendRefs: [{ name: 'web' }] })] }),
      want: [],
      ignored: /without a port/,
    },
    {
      name: 'a port the Service does not have is ignored and said so',
      w: world({ routes: [route({ backendRefs: [{ name: 'web', port: 81 }] })] }),
      want: [],
      ignored: /port 81/,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(scopePorts(c.w), c.want);
      if (c.ignored) assert.match(gatewayScope(web, gatewayView(c.w)).ignored.join('\n'), c.ignored);
    });
  }
});

describe('gkegw1 names: matched conservatively (docs/gke-gateway-healthchecks.md §4)', () => {
  const cases: { name: string; bs: string; ns: string; svc: string; port: number; want: boolean }[] = [
    { name: 'exact', bs: BACKEND, ns: 'default', svc: 'web', port: 80, want: true },
    { name: 'another port', bs: BACKEND, ns: 'default', svc: 'web', port: 8080, want: false },
    {
      name: 'a short name is never a prefix: webshop does not claim web’s backend',
      bs: BACKEND,
      ns: 'default',
      svc: 'webshop',
      port: 80,
      want: false,
    },
    { name: 'hyphens read alike: a/b-c', bs: 'gkegw1-ab12-a-b-c-80-abcdefghijkl', ns: 'a', svc: 'b-c', port: 80, want: true },
    {
      name: 'hyphens read alike: a-b/c (so assessment sees two candidates)',
      bs: 'gkegw1-ab12-a-b-c-80-abcdefghijkl',
      ns: 'a-b',
      svc: 'c',
      port: 80,
      want: true,
    },
    {
      name: 'a 63-character name may carry truncated namespace and service',
      bs: `gkegw1-ab12-${'n'.repeat(15)}-${'s'.repeat(17)}-8080-abcdefghijkl`,
      ns: 'n'.repeat(30),
      svc: 's'.repeat(40),
      port: 8080,
      want: true,
    },
    {
      name: 'an Ingress name is not a Gateway name',
      bs: 'k8s1-abcdef12-default-web-80-12345678',
      ns: 'default',
      svc: 'web',
      port: 80,
      want: false,
    },
  ];
  for (const c of cases) it(c.name, () => assert.equal(gatewayNameServes(c.bs, c.ns, c.svc, c.port), c.want));
  it('the 63-character case is at the limit, and only gkegw1- names are Gateway names', () => {
    assert.equal(cases[5]?.bs.length, 63);
    assert.equal(isGatewayBackendName(BACKEND), true);
    assert.equal(isGatewayBackendName('k8s1-abcdef12-default-web-80-12345678'), false);
  });
});

describe('HealthCheckPolicy planning: one policy per Service, only the intent’s fields', () => {
  it('no policy, a readinessProbe → apply hcsync-web (label, owner, targetRef by the writer) with the probe’s fields', () => {
    const a = managed(assess(world()));
    assert.deepEqual(states(a), ['patch']);
    assert.equal(a.action.kind, 'apply');
    if (a.action.kind !== 'apply') return;
    assert.equal(a.action.policy.name, 'hcsync-web');
    assert.deepEqual(a.action.policy.service, { name: 'web', uid: 'uid-web' });
    assert.deepEqual(a.action.policy.default, { checkIntervalSec: 10, timeoutSec: 1, config: { type: 'HTTP', requestPath: '/healthz' } });
    assert.match(a.ports[0]?.via ?? '', /HealthCheckPolicy default\/hcsync-web/);
  });

  it('an annotation gives the path only: the policy leaves interval and timeout to GKE', () => {
    const svc = service({ annotations: { 'hcsync.io/health-path': '/ready' } });
    const a = managed(assess(world({ services: [svc], pods: [] }), 'enforce', svc));
    assert.equal(
      a.action.kind === 'apply' && JSON.stringify(a.action.policy.default),
      JSON.stringify({ config: { type: 'HTTP', requestPath: '/ready' } }),
    );
  });

  const typeCases: { appProtocol?: string; want: string }[] = [
    { want: 'HTTP' },
    { appProtocol: 'HTTPS', want: 'HTTPS' },
    { appProtocol: 'kubernetes.io/h2c', want: 'HTTP2' },
    { appProtocol: 'HTTP2', want: 'HTTP2' },
    { appProtocol: 'kubernetes.io/ws', want: 'HTTP' },
  ];
  for (const c of typeCases) {
    it(`default.config.type from appProtocol ${c.appProtocol ?? '(none)'} → ${c.want}`, () => {
      const port: SlimServicePort = { name: 'http', port: 80, targetPort: 8000, ...(c.appProtocol ? { appProtocol: c.appProtocol } : {}) };
      const svc = service({ ports: [port], annotations: { 'hcsync.io/health-path': '/ready' } });
      const a = managed(assess(world({ services: [svc] }), 'enforce', svc));
      assert.equal(a.action.kind === 'apply' ? a.action.policy.default.config.type : a.action.kind, c.want);
    });
  }

  it('observe mode: plans and reports what it would write, writes nothing', () => {
    const a = managed(assess(world(), 'observe'));
    assert.deepEqual(states(a), ['drifted']);
    assert.equal(a.action.kind, 'none');
    const plan = a.ports[0]?.plan;
    assert.match(plan?.state === 'drifted' ? plan.why : '', /observe mode: hcsync would write HealthCheckPolicy default\/hcsync-web/);
  });

  it('observe mode without a live gkegw1 check: BackendNotReady that says what it would write (drift only against a check it can name)', () => {
    const a = managed(assess(world({ backends: [] }), 'observe'));
    assert.deepEqual(states(a), ['not_ready']);
    const plan = a.ports[0]?.plan;
    assert.match(
      plan?.state === 'not_ready' ? plan.why : '',
      /has not created .*; observe mode: hcsync would write HealthCheckPolicy default\/hcsync-web/,
    );
  });

  const ownSame = policy('hcsync-web', {
    managed: true,
    default: { checkIntervalSec: 10, timeoutSec: 1, config: { type: 'HTTP', requestPath: '/healthz' } },
  });
  it('own policy written, live check not yet applied → held (RolloutInProgress), nothing written again', () => {
    const a = managed(assess(world({ policies: [ownSame] })));
    assert.deepEqual(states(a), ['hold']);
    assert.equal(a.action.kind, 'none');
    const plan = a.ports[0]?.plan;
    assert.match(
      plan?.state === 'hold' ? plan.why : '',
      /not applied it to gkegw1-ab12-default-web-80-abcdefghijkl yet \(requestPath "\/" ≠ "\/healthz"/,
    );
  });

  const waitCases = [
    { waitedMs: 0, want: 'hold' },
    { waitedMs: POLICY_APPLY_GRACE_MS - 1, want: 'hold' },
    { waitedMs: POLICY_APPLY_GRACE_MS, want: 'drifted' },
  ];
  for (const c of waitCases) {
    it(`own policy not applied by GKE for ${String(c.waitedMs)} ms → ${c.want} (the rollout hold is bounded), nothing written again`, () => {
      const now = 1_000_000_000;
      const w = world({ policies: [ownSame] });
      const a = managed(
        assessGateway(web, gatewayView(w), gatewayView(w), {
          mode: 'enforce',
          inferFromLiveness: true,
          unappliedSince: now - c.waitedMs,
          now,
        }),
      );
      assert.deepEqual(states(a), [c.want]);
      assert.equal(a.action.kind, 'none');
      const p = a.ports[0];
      assert.equal(p?.awaitingGke === true, c.want === 'hold', 'a held port is re-read; a drifted one is not (no GET per pass)');
      assert.equal(p?.unapplied === true, c.want === 'drifted');
      if (p?.plan.state === 'drifted') assert.match(p.plan.why, /has not applied it to gkegw1-ab12-default-web-80-abcdefghijkl for 120 s/);
    });
  }

  it('own policy written and the live check matches → in sync, naming the policy and the gkegw1 check', () => {
    const a = managed(
      assess(
        world({
          policies: [ownSame],
          backends: [gatewayBackend(BACKEND, { requestPath: '/healthz', checkIntervalSec: 10, timeoutSec: 1 })],
        }),
      ),
    );
    assert.deepEqual(states(a), ['in_sync']);
    assert.equal(a.ports[0]?.live?.name, BACKEND);
  });

  it('own policy with an old path → apply (update); its status is reported (not attached)', () => {
    const old = policy('hcsync-web', {
      managed: true,
      default: { config: { type: 'HTTP', requestPath: '/old' } },
      conditions: [{ type: 'Attached', status: 'False', reason: 'NoTarget' }],
    });
    const a = managed(assess(world({ policies: [old] })));
    assert.equal(a.action.kind, 'apply');
    assert.match(a.ports[0]?.via ?? '', /policy status: Attached=False \(NoTarget\)/);
  });

  it('two ports whose intents differ → Conflict on both, nothing written', () => {
    const { svc, w } = twoPorts({ 'hcsync.io/health-paths': '{"http":"/healthz","admin":"/admin/health"}' });
    const a = managed(assess(w, 'enforce', svc));
    assert.deepEqual(states(a), ['conflict', 'conflict']);
    assert.equal(a.action.kind, 'none');
    const plan = a.ports[0]?.plan;
    assert.match(plan?.state === 'conflict' ? plan.why : '', /one HealthCheckPolicy covers every port/);
  });

  it('two ports with the same intent share one policy', () => {
    const { svc, w } = twoPorts({ 'hcsync.io/health-path': '/healthz' });
    const a = managed(assess(w, 'enforce', svc));
    assert.equal(a.action.kind, 'apply');
  });

  it('one port with intent and one without → Conflict (one policy would set the other port’s path on a guess)', () => {
    const { svc, w } = twoPorts({ 'hcsync.io/health-paths': '{"http":"/healthz"}' }, { pods: [] });
    assert.deepEqual(states(assess(w, 'enforce', svc)), ['conflict', 'conflict']);
  });

  it('a rollout (Pods disagree) holds and writes nothing', () => {
    assert.deepEqual(states(assess(world({ pods: [readyPod('/a'), readyPod('/b')] }))), ['hold']);
  });

  it('no intent any more → NoIntent, and hcsync deletes its own policy (by uid)', () => {
    const a = managed(assess(world({ pods: [pod([container()])], policies: [ownSame] })));
    assert.deepEqual(states(a), ['no_intent']);
    assert.deepEqual(a.action, {
      kind: 'delete',
      namespace: 'default',
      name: 'hcsync-web',
      uid: 'uid-default-hcsync-web',
      why: 'no port of the Service gives intent any more',
    });
  });

  it('a BackendConfig annotation plays no part (GKE’s Gateway does not read BackendConfigs)', () => {
    const svc = service({ annotations: { 'cloud.google.com/backend-config': '{"default":"missing"}' } });
    assert.equal(
      assess(world({ services: [svc] }), 'enforce', svc).managed && assess(world({ services: [svc] }), 'enforce', svc).action.kind,
      'apply',
    );
  });

  it('Service leaves every GKE Gateway → not managed; its own policy is deleted, a user’s never', () => {
    const a = assess(world({ routes: [], policies: [ownSame] }));
    assert.equal(a.managed, false);
    assert.equal(a.action.kind, 'delete');
    const unlabelled = policy('hcsync-web', { default: { config: { type: 'HTTP', requestPath: '/x' } } });
    assert.equal(assess(world({ routes: [], policies: [unlabelled] })).action.kind, 'none');
  });

  it('observe mode never deletes either', () => {
    assert.equal(assess(world({ routes: [], policies: [ownSame] }), 'observe').action.kind, 'none');
  });

  it('a non-GKE Gateway → not managed, nothing to do', () => {
    const a = assess(world({ gateways: [gateway('gw', 'istio')] }));
    assert.deepEqual([a.managed, a.action.kind], [false, 'none']);
  });

  it('several gkegw1 backends could be the port → say so, never guess (BackendNotReady, no verification)', () => {
    const svc = service({ namespace: 'a', name: 'b-c' });
    const other = service({ namespace: 'a-b', name: 'c' });
    const w = world({
      services: [svc, other],
      pods: [],
      gateways: [gateway('gw', 'gke-l7-rilb', 'a')],
      routes: [route({ namespace: 'a', backendRefs: [{ name: 'b-c', port: 80 }] })],
      backends: [gatewayBackend('gkegw1-ab12-a-b-c-80-abcdefghijkl'), gatewayBackend('gkegw1-cd34-a-b-c-80-abcdefghijkl')],
      policies: [],
    });
    const svcAnnotated = service({ namespace: 'a', name: 'b-c', annotations: { 'hcsync.io/health-path': '/h' } });
    const w2 = {
      ...w,
      services: [svcAnnotated, other],
      policies: [
        {
          ...policy('hcsync-b-c', { managed: true, target: 'b-c', default: { config: { type: 'HTTP', requestPath: '/h' } } }),
          metadata: {
            namespace: 'a',
            name: 'hcsync-b-c',
            uid: 'u',
            resourceVersion: '1',
            labels: { 'app.kubernetes.io/managed-by': 'hcsync' },
          },
        },
      ],
    };
    const a = managed(assess(w2, 'enforce', svcAnnotated));
    assert.deepEqual(states(a), ['not_ready']);
    const plan = a.ports[0]?.plan;
    assert.match(plan?.state === 'not_ready' ? plan.why : '', /2 gkegw1-… backend services could be port http\/80's .* cannot tell which/);
  });
});

describe('a user’s HealthCheckPolicy owns the check (rule 1 for Gateway)', () => {
  const user = (path: string) => policy('mine', { default: { config: { type: 'HTTP', requestPath: path } } });
  it('never written; hcsync’s own policy for the Service is deleted', () => {
    const own = policy('hcsync-web', { managed: true, default: { config: { type: 'HTTP', requestPath: '/healthz' } } });
    const a = managed(assess(world({ policies: [user('/healthz'), own] })));
    assert.equal(a.action.kind, 'delete');
    assert.match(a.ports[0]?.via ?? '', /HealthCheckPolicy default\/mine .*not hcsync's/);
  });
  it('live check differs from the user’s policy → Drifted (from HealthCheckPolicy)', () => {
    const a = managed(assess(world({ policies: [user('/healthz')] })));
    assert.deepEqual(states(a), ['drifted']);
    assert.equal(a.action.kind, 'none');
  });
  it('live check matches the user’s policy → InSync', () => {
    const a = assess(world({ policies: [user('/healthz')], backends: [gatewayBackend(BACKEND, { requestPath: '/healthz' })] }));
    assert.deepEqual(states(a), ['in_sync']);
  });
  it('an hcsync annotation that disagrees with it → Conflict', () => {
    const svc = service({ annotations: { 'hcsync.io/health-path': '/other' } });
    const a = managed(assess(world({ services: [svc], policies: [user('/healthz')] }), 'enforce', svc));
    assert.deepEqual(states(a), ['conflict']);
    const plan = a.ports[0]?.plan;
    assert.match(
      plan?.state === 'conflict' ? plan.why : '',
      /hcsync\.io\/health-path says requestPath "\/other" but HealthCheckPolicy default\/mine/,
    );
  });
  it('a readinessProbe that differs is not a conflict: the policy simply owns the check', () => {
    assert.deepEqual(
      states(assess(world({ policies: [user('/other')], backends: [gatewayBackend(BACKEND, { requestPath: '/other' })] }))),
      ['in_sync'],
    );
  });
});

describe('Gateway event → Service keys (kube/gateway-index.ts)', () => {
  it('a route change enqueues the Services it refers to now and those it referred to before', () => {
    const index = new GatewayRouteIndex();
    assert.deepEqual([...index.routeChanged(route({ backendRefs: [{ name: 'web', port: 80 }] }), false)], ['default/web']);
    assert.deepEqual([...index.routeChanged(route({ backendRefs: [{ name: 'api', port: 80 }] }), false)].sort(), [
      'default/api',
      'default/web',
    ]);
    assert.equal(index.isBacked('default/web'), false);
    assert.deepEqual([...index.routeChanged(route({ backendRefs: [{ name: 'api', port: 80 }] }), true)], ['default/api']);
    assert.deepEqual(index.backedServiceKeys(), []);
  });
  it('cross-namespace and non-Service backendRefs: the Service’s own namespace; other kinds are not Services', () => {
    const r = route({
      namespace: 'infra',
      backendRefs: [
        { name: 'web', namespace: 'shop', port: 80 },
        { name: 'web', kind: 'ServiceImport', group: 'net.gke.io', port: 80 },
      ],
    });
    assert.deepEqual([...routeServiceKeys(r)], ['shop/web']);
  });
  it('a Gateway change enqueues the Services of the routes naming it; a class change those of its Gateways', () => {
    const index = new GatewayRouteIndex();
    index.routeChanged(route({ name: 'a', backendRefs: [{ name: 'web', port: 80 }] }), false);
    index.routeChanged(route({ name: 'b', parentRefs: [{ name: 'other' }], backendRefs: [{ name: 'api', port: 80 }] }), false);
    assert.deepEqual([...index.servicesOfGateway('default/gw')], ['default/web']);
    assert.deepEqual([...index.servicesOfGatewayClass('gke-l7-rilb', [gateway('other', 'gke-l7-rilb')])], ['default/api']);
  });
  it('a ReferenceGrant enqueues the routed Services of its namespace; a policy its target', () => {
    const index = new GatewayRouteIndex();
    index.routeChanged(route({ namespace: 'infra', backendRefs: [{ name: 'web', namespace: 'shop', port: 80 }] }), false);
    assert.deepEqual(index.servicesOfReferenceGrant(referenceGrant('shop', 'infra')), ['shop/web']);
    assert.deepEqual(index.servicesOfReferenceGrant(referenceGrant('default', 'infra')), []);
    assert.deepEqual(policyServiceKeys(policy('mine')), ['default/web']);
  });
});
