// The GKE Gateway controller stand-in on its own (no hcsync): its names and its policy → check rule
// table-tested, then the loop on the real kube-apiserver with the Gateway API CRDs and the Compute
// stand-in — no policy → `/` and a 502; a policy → its fields on the check, Attached, a 200; a
// policy change → re-applied; a non-GKE class → nothing; regional classes, ReferenceGrants and
// garbage collection.
import assert from 'node:assert/strict';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { BackendServicesClient, HealthChecksClient, RegionHealthChecksClient, type protos } from '@google-cloud/compute';
import { TestBed, httpGet, until, type App } from '../../testbed/bed.js';
import { computeClientOptions } from '../../testbed/compute/index.js';
import { checkDiffs, desiredHealthCheck } from '../../testbed/gke-gateway/health-check.js';
import { backendName, clusterTag, ownedName, urlMapName } from '../../testbed/gke-gateway/naming.js';

type IHealthCheck = protos.google.cloud.compute.v1.IHealthCheck;

const UID = '9410637bf984f3ee';
const GW_GROUP = 'gateway.networking.k8s.io';
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

describe('gke-gateway stand-in: names', () => {
  it('gives a Service port a gkegw1-<4>-<ns>-<svc>-<port>-<12> name, at most 63 characters', () => {
    const name = backendName(UID, 'store', 'web', 8080);
    assert.match(name, /^gkegw1-[0-9a-f]{4}-store-web-8080-[0-9a-f]{12}$/);
    assert.equal(name.slice(7, 11), clusterTag(UID));
    assert.ok(ownedName(UID, name));
    assert.ok(!ownedName('0000000000000000', name), 'another cluster’s tag');
    assert.notEqual(backendName(UID, 'store', 'web', 8081), name);
  });

  it('cuts a long namespace and Service to exactly 63 characters, keeping the port and the hash', () => {
    const name = backendName(UID, 'a-namespace-with-a-rather-long-name', 'and-a-service-whose-name-is-long-too', 443);
    assert.equal(name.length, 63, name);
    assert.match(name, /^gkegw1-[0-9a-f]{4}-a-namespace-with-and-a-service-w[a-z-]*-443-[0-9a-f]{12}$/);
    const map = urlMapName(UID, 'a-namespace-with-a-rather-long-name', 'a-gateway-with-a-long-name-as-well');
    assert.equal(map.length, 63, map);
  });
});

describe('gke-gateway stand-in: policy → health check', () => {
  const table: { name: string; policy: Parameters<typeof desiredHealthCheck>[2]; want: Partial<IHealthCheck> }[] = [
    {
      name: 'no policy: GKE defaults — HTTP, "/", serving port, 5 s / 5 s, thresholds 2',
      policy: undefined,
      want: {
        type: 'HTTP',
        checkIntervalSec: 5,
        timeoutSec: 5,
        healthyThreshold: 2,
        unhealthyThreshold: 2,
        httpHealthCheck: { portSpecification: 'USE_SERVING_PORT', requestPath: '/', proxyHeader: 'NONE' },
      },
    },
    {
      name: 'a policy with only a path keeps every other default',
      policy: { config: { type: 'HTTP', httpHealthCheck: { requestPath: '/healthz' } } },
      want: {
        type: 'HTTP',
        checkIntervalSec: 5,
        httpHealthCheck: { portSpecification: 'USE_SERVING_PORT', requestPath: '/healthz', proxyHeader: 'NONE' },
      },
    },
    {
      name: 'every field of an HTTPS policy; a port alone means USE_FIXED_PORT',
      policy: {
        checkIntervalSec: 15,
        timeoutSec: 3,
        healthyThreshold: 1,
        unhealthyThreshold: 4,
        logConfig: { enabled: true },
        config: { type: 'HTTPS', httpsHealthCheck: { port: 8443, requestPath: '/ready', host: 'web.example.com' } },
      },
      want: {
        type: 'HTTPS',
        checkIntervalSec: 15,
        timeoutSec: 3,
        healthyThreshold: 1,
        unhealthyThreshold: 4,
        logConfig: { enable: true },
        httpsHealthCheck: {
          port: 8443,
          portSpecification: 'USE_FIXED_PORT',
          requestPath: '/ready',
          host: 'web.example.com',
          proxyHeader: 'NONE',
        },
      },
    },
    {
      name: 'gRPC: no request path, the service name kept',
      policy: { config: { type: 'GRPC', grpcHealthCheck: { grpcServiceName: 'health' } } },
      want: { type: 'GRPC', grpcHealthCheck: { portSpecification: 'USE_SERVING_PORT', grpcServiceName: 'health' } },
    },
  ];
  for (const t of table) {
    it(t.name, () => {
      const hc = desiredHealthCheck('n', 'd', t.policy);
      for (const [k, v] of Object.entries(t.want)) assert.deepEqual((hc as Record<string, unknown>)[k], v, k);
      assert.deepEqual(checkDiffs(hc, hc), []);
    });
  }

  it('checkDiffs names what a policy change moves, and a field the policy no longer gives', () => {
    const before = desiredHealthCheck('n', 'd', { config: { type: 'HTTP', httpHealthCheck: { requestPath: '/a', host: 'x.example' } } });
    const after = desiredHealthCheck('n', 'd', { checkIntervalSec: 10, config: { type: 'HTTP', httpHealthCheck: { requestPath: '/b' } } });
    assert.deepEqual(checkDiffs(before, after).sort(), ['checkIntervalSec', 'httpHealthCheck.host', 'httpHealthCheck.requestPath']);
  });
});

describe('gke-gateway stand-in: the loop on the test bed', function () {
  this.timeout(120_000);
  let bed: TestBed;
  let hcs: HealthChecksClient;
  let rhcs: RegionHealthChecksClient;
  let bss: BackendServicesClient;
  let custom: CustomObjectsApi;
  let app: App;
  const NS = 'store';

  const check = async (name: string): Promise<IHealthCheck | undefined> => {
    try {
      return (await hcs.get({ project: bed.project, healthCheck: name }))[0];
    } catch {
      return undefined;
    }
  };
  const waitCheck = (name: string, what: string, ok: (hc: IHealthCheck) => boolean) =>
    until(what, async () => {
      const hc = await check(name);
      return hc && ok(hc) ? hc : undefined;
    });
  const attached = (ns: string, name: string) =>
    until(`Attached condition on policy ${ns}/${name}`, async () =>
      (await bed.healthCheckPolicy(ns, name))?.status?.conditions?.find((c) => c.type === 'Attached'),
    );
  const routeParents = async (ns: string, name: string) =>
    (
      (await custom.getNamespacedCustomObject({ group: GW_GROUP, version: 'v1', namespace: ns, plural: 'httproutes', name })) as {
        status?: { parents?: { controllerName: string; conditions: { type: string; status: string; reason: string }[] }[] };
      }
    ).status?.parents ?? [];

  const deploy = async (ns: string, svc: string, ip: string, okPaths: string[]) => {
    await bed.ensureNamespace(ns);
    const a = await bed.startApp(ip, okPaths);
    await bed.createService(ns, svc, 80);
    await bed.createPod(ns, `${svc}-1`, { ip: a.ip, port: a.port, labels: { app: svc } });
    return a;
  };

  before(async () => {
    bed = await TestBed.start({ gatewayApiCrds: true });
    hcs = new HealthChecksClient(computeClientOptions(bed.compute.endpoint));
    rhcs = new RegionHealthChecksClient(computeClientOptions(bed.compute.endpoint));
    bss = new BackendServicesClient(computeClientOptions(bed.compute.endpoint));
    custom = bed.kc.makeApiClient(CustomObjectsApi);
    app = await deploy(NS, 'web', '127.0.0.61', ['/healthz', '/healthz2']);
    await bed.createGateway(NS, 'external', 'gke-l7-global-external-managed');
    await bed.createRoute(NS, 'web', 'external', [{ service: 'web', port: 80 }]);
    await bed.gateway.start();
  });

  after(async () => {
    await Promise.all([hcs?.close(), rhcs?.close(), bss?.close()]);
    await bed?.stop();
  });

  it("installs GKE's GatewayClasses (controllerName networking.gke.io/gateway) and accepts the route", async () => {
    const cls = (await custom.getClusterCustomObject({
      group: GW_GROUP,
      version: 'v1',
      plural: 'gatewayclasses',
      name: 'gke-l7-rilb',
    })) as {
      spec: { controllerName: string };
    };
    assert.equal(cls.spec.controllerName, 'networking.gke.io/gateway');
    const parents = await until('route status', async () => {
      const p = await routeParents(NS, 'web');
      return p.length > 0 ? p : undefined;
    });
    assert.equal(parents[0]?.controllerName, 'networking.gke.io/gateway');
    assert.deepEqual(
      parents[0]?.conditions.map((c) => [c.type, c.status]),
      [
        ['Accepted', 'True'],
        ['ResolvedRefs', 'True'],
      ],
    );
  });

  it('without a policy the check probes "/" on the serving port and the load balancer answers 502', async () => {
    const name = bed.gatewayCheckName(NS, 'web', 80);
    const hc = await waitCheck(name, 'the default check', () => true);
    assert.equal(hc.httpHealthCheck?.requestPath, '/');
    assert.equal(hc.httpHealthCheck?.portSpecification, 'USE_SERVING_PORT');
    assert.deepEqual([hc.checkIntervalSec, hc.timeoutSec, hc.healthyThreshold, hc.unhealthyThreshold], [5, 5, 2, 2]);
    const [bs] = await bss.get({ project: bed.project, backendService: name });
    assert.match(bs.healthChecks?.[0] ?? '', new RegExp(`/global/healthChecks/${name}$`));
    const lb = await bed.gatewayLoadBalancer(NS, 'external');
    await until('502', async () => ((await httpGet(`http://${lb}/healthz`)).status === 502 ? true : undefined));
  });

  it('a HealthCheckPolicy for the Service is applied to the check, reported Attached, and the load balancer answers 200', async () => {
    await bed.createHealthCheckPolicy(NS, 'web-hc', 'web', {
      default: { checkIntervalSec: 2, timeoutSec: 2, config: { type: 'HTTP', httpHealthCheck: { requestPath: '/healthz' } } },
    });
    const name = bed.gatewayCheckName(NS, 'web', 80);
    const hc = await waitCheck(name, 'the policy applied', (h) => h.httpHealthCheck?.requestPath === '/healthz');
    assert.equal(hc.checkIntervalSec, 2);
    const c = await attached(NS, 'web-hc');
    assert.deepEqual([c.status, c.reason], ['True', 'Attached']);
    const lb = await bed.gatewayLoadBalancer(NS, 'external');
    const ok = await until('200', async () => {
      const r = await httpGet(`http://${lb}/healthz`);
      return r.status === 200 ? r : undefined;
    });
    assert.match(ok.body, new RegExp(app.ip.replace(/\./g, '\\.')));
  });

  it('a change to the policy is re-applied on the next sync (a full update of the check)', async () => {
    const updatesBefore = bed.gateway.updateLog().length;
    await custom.patchNamespacedCustomObject(
      {
        group: 'networking.gke.io',
        version: 'v1',
        namespace: NS,
        plural: 'healthcheckpolicies',
        name: 'web-hc',
        body: { spec: { default: { checkIntervalSec: 3, config: { httpHealthCheck: { requestPath: '/healthz2' } } } } },
      },
      merge,
    );
    const hc = await waitCheck(
      bed.gatewayCheckName(NS, 'web', 80),
      'the policy change applied',
      (h) => h.httpHealthCheck?.requestPath === '/healthz2',
    );
    assert.equal(hc.checkIntervalSec, 3);
    const log = bed.gateway.updateLog().slice(updatesBefore);
    assert.ok(
      log.some((u) => u.diffs.includes('httpHealthCheck.requestPath') && u.diffs.includes('checkIntervalSec')),
      JSON.stringify(log),
    );
    // Settled: further syncs change nothing.
    const settled = bed.gateway.updateLog().length;
    await bed.gateway.syncNow();
    await bed.gateway.syncNow();
    assert.equal(bed.gateway.updateLog().length, settled);
  });

  it('a policy Compute refuses (timeout over interval) is reported Attached=False Invalid and the check keeps its values', async () => {
    await bed.ensureNamespace('bad');
    await deploy('bad', 'api', '127.0.0.62', ['/']);
    await bed.createGateway('bad', 'gw', 'gke-l7-global-external-managed');
    await bed.createRoute('bad', 'api', 'gw', [{ service: 'api', port: 80 }]);
    await bed.createHealthCheckPolicy('bad', 'api-hc', 'api', { default: { checkIntervalSec: 2, timeoutSec: 9 } });
    const c = await until('Invalid', async () => {
      const x = (await bed.healthCheckPolicy('bad', 'api-hc'))?.status?.conditions?.find((y) => y.type === 'Attached');
      return x?.reason === 'Invalid' ? x : undefined;
    });
    assert.equal(c.status, 'False');
    assert.match(c.message, /TimeoutSec/);
    const hc = await waitCheck(bed.gatewayCheckName('bad', 'api', 80), 'the default check', () => true);
    assert.deepEqual([hc.checkIntervalSec, hc.timeoutSec], [5, 5]);
  });

  it('a policy whose Service is behind no GKE Gateway is Attached=False; a Gateway of another class gets nothing', async () => {
    await bed.ensureNamespace('mesh');
    await deploy('mesh', 'api', '127.0.0.63', ['/']);
    await bed.createGatewayClass('istio', 'istio.io/gateway-controller');
    await bed.createGateway('mesh', 'internal', 'istio');
    await bed.createRoute('mesh', 'api', 'internal', [{ service: 'api', port: 80 }]);
    await bed.createHealthCheckPolicy('mesh', 'api-hc', 'api', {
      default: { config: { type: 'HTTP', httpHealthCheck: { requestPath: '/' } } },
    });
    const c = await until('TargetNotFound', async () => {
      const x = (await bed.healthCheckPolicy('mesh', 'api-hc'))?.status?.conditions?.find((y) => y.type === 'Attached');
      return x?.reason === 'TargetNotFound' ? x : undefined;
    });
    assert.equal(c.status, 'False');
    assert.match(c.message, /not a backend of any GKE Gateway/);
    await bed.gateway.syncNow();
    assert.equal(await check(bed.gatewayCheckName('mesh', 'api', 80)), undefined);
    assert.deepEqual(await routeParents('mesh', 'api'), [], 'GKE writes no status on routes of other classes');
  });

  it('a regional class gets a regional check; a cross-namespace backendRef counts only with a ReferenceGrant', async () => {
    await bed.ensureNamespace('edge');
    await deploy('shared', 'db-api', '127.0.0.64', ['/']);
    await bed.createGateway('edge', 'regional', 'gke-l7-regional-external-managed');
    await bed.createRoute('edge', 'to-shared', 'regional', [{ service: 'db-api', port: 80, namespace: 'shared' }]);
    const name = bed.gatewayCheckName('shared', 'db-api', 80);
    const refused = await until('ResolvedRefs False', async () => {
      const p = await routeParents('edge', 'to-shared');
      return p[0]?.conditions.find((c) => c.type === 'ResolvedRefs' && c.status === 'False');
    });
    assert.equal(refused.reason, 'RefNotPermitted');
    await assert.rejects(rhcs.get({ project: bed.project, region: bed.region, healthCheck: name }));

    await bed.createReferenceGrant('shared', 'from-edge', 'edge');
    const hc = await until('regional check', async () => {
      try {
        return (await rhcs.get({ project: bed.project, region: bed.region, healthCheck: name }))[0];
      } catch {
        return undefined;
      }
    });
    assert.equal(hc.httpHealthCheck?.requestPath, '/');
    assert.equal(await check(name), undefined, 'no global check for a regional class');
  });

  it('a Service port no route sends traffic to any more loses its backend service and check (and its Gateway its URL map)', async () => {
    const name = bed.gatewayCheckName('bad', 'api', 80);
    assert.ok(await check(name));
    await bed.deleteRoute('bad', 'api');
    await until('check collected', async () => ((await check(name)) === undefined ? true : undefined));
    await assert.rejects(bss.get({ project: bed.project, backendService: name }));
    assert.equal(bed.compute.loadBalancerAddress(bed.gateway.urlMapName('bad', 'gw')), undefined);
  });
});
