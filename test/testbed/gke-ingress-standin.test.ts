// The ingress-gce stand-in: its pure rules (names, probe → check, merge/diff) table-tested against
// ingress-gce's documented behaviour, then the whole loop against a real kube-apiserver and the
// Compute stand-in (NEG endpoints really probed, a real load balancer answering).
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ApiextensionsV1Api,
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  NetworkingV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1CustomResourceDefinition,
  type V1Pod,
  type V1Probe,
  type V1Service,
} from '@kubernetes/client-node';
import {
  GlobalOperationsClient,
  HealthChecksClient,
  NetworkEndpointGroupsClient,
  RegionBackendServicesClient,
  RegionHealthChecksClient,
  type protos,
} from '@google-cloud/compute';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { computeClientOptions, startComputeStandIn, type ComputeStandIn } from '../../testbed/compute/index.js';
import { startControlPlane, type ControlPlane } from '../../testbed/control-plane.js';
import { until } from '../../testbed/bed.js';
import { BACKENDS_ANNOTATION, gcePaths, GkeIngressStandIn, URL_MAP_ANNOTATION } from '../../testbed/gke-ingress/index.js';
import { sameResource } from '../../testbed/gke-ingress/compute-clients.js';
import { backendConfigNameFor, backendConfigsOf, healthCheckOf } from '../../testbed/gke-ingress/backend-config.js';
import { planExisting } from '../../testbed/gke-ingress/merge.js';
import { fromCompute, toCompute, type HealthCheckModel } from '../../testbed/gke-ingress/model.js';
import { igBackendName, negHash8, negName, rxlbBackendName, trimFieldsEvenly, urlMapName } from '../../testbed/gke-ingress/naming.js';
import {
  appProtocolOf,
  DESCRIPTION_DEFAULT_NEG,
  DESCRIPTION_FROM_PROBE,
  findReadinessProbe,
  healthCheckAtCreation,
  isSimpleHttpProbe,
} from '../../testbed/gke-ingress/probe-to-check.js';

const UID = '235fca81d0c4e9aa';

describe('gke-ingress stand-in: naming (ingress-gce namer)', () => {
  it('reproduces the documented NEG backend name, sha256 hash included', () => {
    assert.equal(negHash8('235fca81', 'default', 'videos-catalog', 80), 'ffe68e8f');
    // Only the first 8 characters of the UID enter both the prefix and the hash.
    assert.equal(negName(UID, 'default', 'videos-catalog', 80), 'k8s1-235fca81-default-videos-catalog-80-ffe68e8f');
  });

  it('trims ns/svc/port evenly to 38 characters and keeps the full-input hash', () => {
    const ns = 'a-very-long-namespace-name-for-testing';
    const svc = 'an-even-longer-service-name-that-goes-on-and-on';
    const name = negName(UID, ns, svc, 8080);
    assert.ok(name.length <= 63, `${name} (${name.length})`);
    const [tns, tsvc, tport] = trimFieldsEvenly(38, ns, svc, '8080');
    assert.equal(name, `k8s1-235fca81-${tns}-${tsvc}-${tport}-${negHash8(UID, ns, svc, 8080)}`);
    assert.equal((tns ?? '').length + (tsvc ?? '').length + (tport ?? '').length, 38);
  });

  it('trimFieldsEvenly mirrors Go integer arithmetic', () => {
    assert.deepEqual(trimFieldsEvenly(10, 'abc', 'de'), ['abc', 'de']);
    // total 20, max 10, excess 10: 12-6-1=5, 8-4-1=3, remaining 2 → +1 to the first two.
    assert.deepEqual(trimFieldsEvenly(10, 'aaaaaaaaaaaa', 'bbbbbbbb'), ['aaaaaa', 'bbbb']);
  });

  it('IG, regional external and URL map names', () => {
    assert.equal(igBackendName('9410637bf984f3ee', 31963), 'k8s-be-31963--9410637bf984f3ee');
    assert.match(rxlbBackendName(UID, 'default', 'web', 80), /^k8s1-235fca81-e-default-web-80-[0-9a-f]{8}$/);
    assert.equal(urlMapName(UID, 'default', 'shop'), `k8s-um-default-shop--${UID}`);
    const long = urlMapName(UID, 'namespace-with-quite-a-long-name', 'ingress-with-a-long-name-too');
    assert.equal(long.length, 63);
    assert.ok(long.endsWith('0'));
  });
});

function svc(annotations: Record<string, string> = {}, targetPort: number | string = 8080, portName = 'http'): V1Service {
  return {
    metadata: { namespace: 'default', name: 'web', annotations },
    spec: { selector: { app: 'web' }, ports: [{ name: portName, port: 80, targetPort }] },
  };
}

function pod(
  name: string,
  created: string,
  probe: V1Probe | undefined,
  ports = [{ name: 'http', containerPort: 8080 }],
  labels = { app: 'web' },
): V1Pod {
  return {
    metadata: { namespace: 'default', name, labels, creationTimestamp: new Date(created) },
    spec: { containers: [{ name: 'app', image: 'x', ports, ...(probe ? { readinessProbe: probe } : {}) }] },
  };
}

const probe = (path: string, extra: Partial<NonNullable<V1Probe['httpGet']>> = {}, p: Partial<V1Probe> = {}): V1Probe => ({
  httpGet: { path, port: 8080, scheme: 'HTTP', ...extra },
  periodSeconds: 5,
  timeoutSeconds: 2,
  ...p,
});

describe('gke-ingress stand-in: readinessProbe → health check at creation', () => {
  it('NEG defaults when no Pod qualifies', () => {
    const hc = healthCheckAtCreation({ kind: 'neg', name: 'n', protocol: 'HTTP', nodePort: 0 });
    assert.deepEqual(
      {
        i: hc.checkIntervalSec,
        t: hc.timeoutSec,
        h: hc.healthyThreshold,
        u: hc.unhealthyThreshold,
        p: hc.http.requestPath,
        d: hc.description,
      },
      { i: 15, t: 15, h: 1, u: 2, p: '/', d: DESCRIPTION_DEFAULT_NEG },
    );
    assert.deepEqual(toCompute(hc).httpHealthCheck, { portSpecification: 'USE_SERVING_PORT', requestPath: '/' });
  });

  it('IG defaults: 60/60, thresholds 1/10, port = nodePort, no port specification', () => {
    const hc = healthCheckAtCreation({ kind: 'ig', name: 'k8s-be-30001--x', protocol: 'HTTP', nodePort: 30001 });
    const c = toCompute(hc);
    assert.deepEqual([c.checkIntervalSec, c.timeoutSec, c.healthyThreshold, c.unhealthyThreshold], [60, 60, 1, 10]);
    assert.deepEqual(c.httpHealthCheck, { port: 30001, requestPath: '/' });
  });

  it('copies path, Host header, timeout and period (+60 s on IG)', () => {
    const p = probe('healthz', { httpHeaders: [{ name: 'Host', value: 'example.com' }] });
    const neg = healthCheckAtCreation({ kind: 'neg', name: 'n', protocol: 'HTTP', nodePort: 0, probe: p });
    assert.deepEqual(
      [neg.http.requestPath, neg.http.host, neg.timeoutSec, neg.checkIntervalSec, neg.unhealthyThreshold],
      ['/healthz', 'example.com', 2, 5, 2],
    );
    assert.equal(neg.description, DESCRIPTION_FROM_PROBE);
    const ig = healthCheckAtCreation({ kind: 'ig', name: 'i', protocol: 'HTTP', nodePort: 30001, probe: p });
    assert.deepEqual([ig.checkIntervalSec, ig.timeoutSec, ig.unhealthyThreshold, ig.http.port], [65, 2, 10, 30001]);
  });

  it('Kubernetes probe defaults (timeout 1, period 10) apply when unset', () => {
    const hc = healthCheckAtCreation({
      kind: 'neg',
      name: 'n',
      protocol: 'HTTP',
      nodePort: 0,
      probe: { httpGet: { path: '/r', port: 8080 } },
    });
    assert.deepEqual([hc.timeoutSec, hc.checkIntervalSec], [1, 10]);
  });

  const cases: { name: string; pods: V1Pod[]; svc?: V1Service; want: string | undefined }[] = [
    {
      name: 'oldest Pod wins',
      pods: [pod('b', '2026-01-02T00:00:00Z', probe('/new')), pod('a', '2026-01-01T00:00:00Z', probe('/old'))],
      want: '/old',
    },
    {
      name: 'tie broken by name',
      pods: [pod('b', '2026-01-01T00:00:00Z', probe('/b')), pod('a', '2026-01-01T00:00:00Z', probe('/a'))],
      want: '/a',
    },
    {
      name: 'first Pod without a probe is skipped',
      pods: [pod('a', '2026-01-01T00:00:00Z', undefined), pod('b', '2026-01-02T00:00:00Z', probe('/b'))],
      want: '/b',
    },
    { name: 'exec probe ignored', pods: [pod('a', '2026-01-01T00:00:00Z', { exec: { command: ['true'] } })], want: undefined },
    { name: 'host set → rejected', pods: [pod('a', '2026-01-01T00:00:00Z', probe('/h', { host: 'x' }))], want: undefined },
    {
      name: 'lower-case host header → rejected',
      pods: [pod('a', '2026-01-01T00:00:00Z', probe('/h', { httpHeaders: [{ name: 'host', value: 'x' }] }))],
      want: undefined,
    },
    {
      name: 'other header → rejected',
      pods: [pod('a', '2026-01-01T00:00:00Z', probe('/h', { httpHeaders: [{ name: 'Authorization', value: 'x' }] }))],
      want: undefined,
    },
    {
      name: 'two headers → rejected',
      pods: [
        pod(
          'a',
          '2026-01-01T00:00:00Z',
          probe('/h', {
            httpHeaders: [
              { name: 'Host', value: 'x' },
              { name: 'Host', value: 'y' },
            ],
          }),
        ),
      ],
      want: undefined,
    },
    { name: 'probe on another port → ignored', pods: [pod('a', '2026-01-01T00:00:00Z', probe('/h', { port: 9090 }))], want: undefined },
    { name: 'probe port by name', pods: [pod('a', '2026-01-01T00:00:00Z', probe('/named', { port: 'http' }))], want: '/named' },
    { name: 'container without ports[] never qualifies', pods: [pod('a', '2026-01-01T00:00:00Z', probe('/h'), [])], want: undefined },
    {
      name: 'HTTPS scheme on an HTTP port → ignored',
      pods: [pod('a', '2026-01-01T00:00:00Z', probe('/h', { scheme: 'HTTPS' }))],
      want: undefined,
    },
    {
      name: 'other labels → not selected',
      pods: [pod('a', '2026-01-01T00:00:00Z', probe('/h'), undefined, { app: 'other' })],
      want: undefined,
    },
    { name: 'named targetPort', svc: svc({}, 'http'), pods: [pod('a', '2026-01-01T00:00:00Z', probe('/t'))], want: '/t' },
    {
      name: 'named targetPort, container port named otherwise',
      svc: svc({}, 'web'),
      pods: [pod('a', '2026-01-01T00:00:00Z', probe('/t'))],
      want: undefined,
    },
  ];
  for (const c of cases) {
    it(`probe selection: ${c.name}`, () => {
      const s = c.svc ?? svc();
      const found = findReadinessProbe(s, s.spec!.ports![0]!, 'HTTP', c.pods);
      assert.equal(found?.httpGet?.path, c.want);
    });
  }

  it('HTTPS and HTTP2 ports need an HTTPS probe; app protocol by port name, legacy key wins', () => {
    const s = svc({
      'service.alpha.kubernetes.io/app-protocols': '{"http":"HTTP2"}',
      'cloud.google.com/app-protocols': '{"http":"HTTPS"}',
    });
    const p = s.spec!.ports![0]!;
    assert.equal(appProtocolOf(s, p), 'HTTP2');
    assert.equal(
      findReadinessProbe(s, p, 'HTTP2', [pod('a', '2026-01-01T00:00:00Z', probe('/s', { scheme: 'HTTPS' }))])?.httpGet?.path,
      '/s',
    );
    assert.equal(findReadinessProbe(s, p, 'HTTP2', [pod('a', '2026-01-01T00:00:00Z', probe('/s'))]), undefined);
    assert.equal(appProtocolOf(svc({ 'cloud.google.com/app-protocols': '{"80":"HTTPS"}' }), p), 'HTTP', 'keyed by name only');
    assert.throws(() => appProtocolOf(svc({ 'cloud.google.com/app-protocols': '{"http":"TCP"}' }), p));
    assert.equal(isSimpleHttpProbe(undefined), false);
  });

  it('BackendConfig fields override probe and defaults; port forces USE_FIXED_PORT', () => {
    const hc = healthCheckAtCreation(
      { kind: 'neg', name: 'n', protocol: 'HTTP', nodePort: 0, probe: probe('/probe') },
      { requestPath: '/bc', port: 9000, type: 'HTTPS', checkIntervalSec: 20 },
    );
    const c = toCompute(hc);
    assert.equal(c.type, 'HTTPS');
    assert.equal(c.checkIntervalSec, 20);
    assert.equal(c.timeoutSec, 2);
    assert.deepEqual(c.httpsHealthCheck, { port: 9000, portSpecification: 'USE_FIXED_PORT', requestPath: '/bc' });
  });
});

describe('gke-ingress stand-in: BackendConfig annotation', () => {
  const port = { name: 'http', port: 80 };
  it('ports by name, then number, then default; GA key wins', () => {
    assert.equal(backendConfigNameFor({ ports: { http: 'a', '80': 'b' }, default: 'c' }, port), 'a');
    assert.equal(backendConfigNameFor({ ports: { '80': 'b' }, default: 'c' }, port), 'b');
    assert.equal(backendConfigNameFor({ default: 'c' }, port), 'c');
    assert.equal(backendConfigNameFor({ ports: { '443': 'b' } }, port), undefined);
    const s = svc({ 'cloud.google.com/backend-config': '{"default":"ga"}', 'beta.cloud.google.com/backend-config': '{"default":"beta"}' });
    assert.deepEqual(backendConfigsOf(s), { default: 'ga' });
    assert.throws(() => backendConfigsOf(svc({ 'cloud.google.com/backend-config': 'nope' })), /invalid json/);
    assert.throws(() => backendConfigsOf(svc({ 'cloud.google.com/backend-config': '{}' })), /no BackendConfig/);
    assert.deepEqual(healthCheckOf({ spec: { healthCheck: { requestPath: '/x', timeoutSec: 3, bogus: 1 } } }), {
      requestPath: '/x',
      timeoutSec: 3,
    });
    assert.equal(healthCheckOf({ spec: {} }), undefined);
  });
});

describe('gke-ingress stand-in: existing check (mergeUserSettings + calculateDiff)', () => {
  const desiredNeg = (): HealthCheckModel =>
    healthCheckAtCreation({ kind: 'neg', name: 'n', protocol: 'HTTP', nodePort: 0, probe: probe('/probe') });
  const live = (over: object = {}, block: object = {}) =>
    fromCompute(
      {
        name: 'n',
        type: 'HTTP',
        description: 'anything',
        checkIntervalSec: 7,
        timeoutSec: 3,
        healthyThreshold: 2,
        unhealthyThreshold: 4,
        httpHealthCheck: { portSpecification: 'USE_SERVING_PORT', requestPath: '/user', host: 'h.example', proxyHeader: 'NONE', ...block },
        ...over,
      },
      true,
    );

  it('keeps the user path, host, interval, timeout and thresholds: no update', () => {
    const { merged, diffs } = planExisting(live(), desiredNeg(), undefined);
    assert.deepEqual(diffs, []);
    assert.deepEqual(
      [
        merged.http.requestPath,
        merged.http.host,
        merged.checkIntervalSec,
        merged.timeoutSec,
        merged.healthyThreshold,
        merged.unhealthyThreshold,
      ],
      ['/user', 'h.example', 7, 3, 2, 4],
    );
  });

  it('a changed probe alone never causes an update (the GKE bug)', () => {
    const desired = healthCheckAtCreation({
      kind: 'neg',
      name: 'n',
      protocol: 'HTTP',
      nodePort: 0,
      probe: probe('/changed', {}, { periodSeconds: 30 }),
    });
    assert.deepEqual(planExisting(live(), desired, undefined).diffs, []);
  });

  it('re-imposes type (keeping user settings across the protocol change)', () => {
    const existing = fromCompute(
      {
        name: 'n',
        type: 'HTTPS',
        checkIntervalSec: 7,
        timeoutSec: 3,
        httpsHealthCheck: { portSpecification: 'USE_SERVING_PORT', requestPath: '/user' },
      },
      true,
    );
    const { merged, diffs } = planExisting(existing, desiredNeg(), undefined);
    assert.deepEqual(diffs, ['Protocol:HTTPS -> HTTP']);
    const put = toCompute(merged);
    assert.equal(put.type, 'HTTP');
    assert.deepEqual(put.httpHealthCheck, { portSpecification: 'USE_SERVING_PORT', requestPath: '/user' });
    assert.equal(put.httpsHealthCheck, undefined);
    assert.equal(put.checkIntervalSec, 7);
  });

  it('re-imposes the NEG port model when someone sets a fixed port', () => {
    const { merged, diffs } = planExisting(live({}, { portSpecification: 'USE_FIXED_PORT', port: 9999 }), desiredNeg(), undefined);
    assert.deepEqual(diffs, ['PortSpecification:USE_FIXED_PORT -> USE_SERVING_PORT']);
    assert.deepEqual(toCompute(merged).httpHealthCheck, {
      portSpecification: 'USE_SERVING_PORT',
      requestPath: '/user',
      host: 'h.example',
      proxyHeader: 'NONE',
    });
  });

  it('IG: a port change alone is not compared; it is reset when another diff triggers an update', () => {
    const desired = healthCheckAtCreation({ kind: 'ig', name: 'i', protocol: 'HTTP', nodePort: 30001 });
    const existing = fromCompute(
      { name: 'i', type: 'HTTP', checkIntervalSec: 60, timeoutSec: 60, httpHealthCheck: { port: 8080, requestPath: '/user' } },
      false,
    );
    const quiet = planExisting(existing, desired, undefined);
    assert.deepEqual(quiet.diffs, []);
    const typeChanged = fromCompute({ name: 'i', type: 'HTTPS', httpsHealthCheck: { port: 8080, requestPath: '/user' } }, false);
    const loud = planExisting(typeChanged, desired, undefined);
    assert.deepEqual(loud.diffs, ['Protocol:HTTPS -> HTTP']);
    assert.deepEqual(toCompute(loud.merged).httpHealthCheck, { port: 30001, requestPath: '/user' });
  });

  it('a BackendConfig-set field is re-imposed; unset ones stay the user’s', () => {
    const { merged, diffs } = planExisting(live(), desiredNeg(), { requestPath: '/bc' });
    assert.deepEqual(diffs, ['RequestPath:/user -> /bc']);
    assert.equal(merged.http.requestPath, '/bc');
    assert.equal(merged.checkIntervalSec, 7);
    assert.deepEqual(planExisting(live({}, { requestPath: '/bc' }), desiredNeg(), { requestPath: '/bc' }).diffs, []);
  });

  it('BackendConfig port: USE_FIXED_PORT and the port are enforced', () => {
    const { diffs } = planExisting(live(), desiredNeg(), { port: 9000 });
    assert.deepEqual(diffs, ['PortSpecification:USE_SERVING_PORT -> USE_FIXED_PORT', 'Port:0 -> 9000']);
  });
});

describe('gke-ingress stand-in: URL map paths and links', () => {
  it('maps Ingress path types to GCE path rules', () => {
    assert.deepEqual(gcePaths('/', 'Prefix'), ['/*']);
    assert.deepEqual(gcePaths('/api', 'Prefix'), ['/api', '/api/*']);
    assert.deepEqual(gcePaths('/api/', 'Prefix'), ['/api', '/api/*']);
    assert.deepEqual(gcePaths('/exact', 'Exact'), ['/exact']);
    assert.deepEqual(gcePaths('/static/*', 'ImplementationSpecific'), ['/static/*']);
  });

  it('compares resource links ignoring host and API version (utils.EqualResourceIDs)', () => {
    assert.ok(
      sameResource(
        'https://www.googleapis.com/compute/beta/projects/p/global/healthChecks/a',
        'https://compute.googleapis.com/compute/v1/projects/p/global/healthChecks/a',
      ),
    );
    assert.ok(sameResource('https://www.googleapis.com/compute/v1/projects/p/global/healthChecks/a', 'projects/p/global/healthChecks/a'));
    assert.ok(!sameResource('projects/p/global/healthChecks/a', 'projects/p/regions/r/healthChecks/a'));
    assert.ok(!sameResource(undefined, undefined));
  });
});

// ---------------------------------------------------------------------------------------------
// Integration: real kube-apiserver + Compute stand-in.

process.env.METADATA_SERVER_DETECTION = 'none';

const PROJECT = 'hcsync-test';
const ZONE = 'us-central1-a';
const REGION = 'us-central1';
const CLUSTER_UID = '9410637bf984f3ee';
const NS = 'default';
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** An app bound to one loopback IP: 200 on the given paths, 404 elsewhere. */
async function startApp(ip: string, okPaths: Set<string>): Promise<{ port: number; hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    res.writeHead(okPaths.has(path) ? 200 : 404, { 'content-type': 'text/plain' }).end(`${ip} ${path}`);
  });
  await new Promise<void>((r) => server.listen(0, ip, r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    hits,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function httpGetStatus(address: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(`http://${address}${path}`, { timeout: 2_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout on ${address}${path}`)));
    req.on('error', reject);
  });
}

describe('gke-ingress stand-in: against a real API server and the Compute stand-in', function () {
  this.timeout(120_000);
  let cp: ControlPlane;
  let kc: KubeConfig;
  let compute: ComputeStandIn;
  let gke: GkeIngressStandIn;
  let core: CoreV1Api;
  let net: NetworkingV1Api;
  let hcs: HealthChecksClient;
  let negs: NetworkEndpointGroupsClient;
  let ops: GlobalOperationsClient;
  const apps: { close(): Promise<void> }[] = [];
  let appPort = 0;
  const hcName = negName(CLUSTER_UID, NS, 'web', 80);

  const getHc = async (name = hcName): Promise<protos.google.cloud.compute.v1.IHealthCheck> =>
    (await hcs.get({ project: PROJECT, healthCheck: name }))[0];
  const waitOp = async (started: [{ latestResponse?: unknown }, ...unknown[]]): Promise<void> => {
    const op = started[0].latestResponse as protos.google.cloud.compute.v1.IOperation;
    await until('operation', async () => {
      const [o] = await ops.wait({ project: PROJECT, operation: op.name ?? '' });
      if (o.error?.errors?.length) throw new Error(JSON.stringify(o.error));
      return o.status === 'DONE' ? true : undefined;
    });
  };
  const ingressAnnotations = async (name = 'shop'): Promise<Record<string, string>> =>
    (await net.readNamespacedIngress({ name, namespace: NS })).metadata?.annotations ?? {};

  async function createPod(name: string, ip: string, probePath: string, port: number): Promise<void> {
    await core.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name, labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'app',
              image: 'example/app',
              ports: [{ name: 'http', containerPort: port }],
              readinessProbe: { httpGet: { path: probePath, port: 'http' }, periodSeconds: 5, timeoutSeconds: 2 },
            },
          ],
        },
      },
    });
    // No kubelet here: the test plays it and reports the Pod IP through pods/status.
    await core.patchNamespacedPodStatus(
      { name, namespace: NS, body: { status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] } } },
      merge,
    );
  }

  async function deletePod(name: string): Promise<void> {
    // No kubelet to confirm termination: delete immediately.
    await core.deleteNamespacedPod({ name, namespace: NS, gracePeriodSeconds: 0 });
    await until(`pod ${name} gone`, async () => {
      try {
        await core.readNamespacedPod({ name, namespace: NS });
        return undefined;
      } catch (e) {
        return e instanceof ApiException && e.code === 404 ? true : undefined;
      }
    });
  }

  async function negEndpoints(name = hcName): Promise<string[]> {
    const out: string[] = [];
    const request = { project: PROJECT, zone: ZONE, networkEndpointGroup: name, networkEndpointGroupsListEndpointsRequestResource: {} };
    for await (const e of negs.listNetworkEndpointsAsync(request, { autoPaginate: false })) {
      out.push(`${e.networkEndpoint?.ipAddress ?? ''}:${e.networkEndpoint?.port ?? 0}`);
    }
    return out.sort();
  }

  before(async function () {
    cp = await startControlPlane();
    kc = cp.kubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    net = kc.makeApiClient(NetworkingV1Api);
    // HCSYNC_TESTBED_LOG=1 prints every Compute request: the quickest way to see a sync's calls.
    const log = process.env['HCSYNC_TESTBED_LOG'] ? (line: string) => console.log(`      ${line}`) : undefined;
    compute = await startComputeStandIn({ project: PROJECT, timeScale: 0.02, operationDelayMs: 5, ...(log ? { log } : {}) });
    const options = computeClientOptions(compute.endpoint) as never;
    hcs = new HealthChecksClient(options);
    negs = new NetworkEndpointGroupsClient(options);
    ops = new GlobalOperationsClient(options);
    gke = new GkeIngressStandIn({
      kubeConfig: kc,
      compute: computeClientOptions(compute.endpoint),
      project: PROJECT,
      zone: ZONE,
      region: REGION,
      clusterUid: CLUSTER_UID,
      mode: 'neg',
      syncPeriodMs: 3_600_000, // the tests drive every sync
      loadBalancerAddress: (um) => compute.loadBalancerAddress(um),
    });

    // Both app replicas listen on the same port, each on its own loopback IP, as Pods would.
    const a = await startApp('127.0.0.5', new Set(['/', '/ready', '/changed-ready']));
    appPort = a.port;
    apps.push(a);
    await core.createNamespacedService({
      namespace: NS,
      body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } },
    });
    await createPod('web-1', '127.0.0.5', '/ready', appPort);
    await net.createNamespacedIngress({
      namespace: NS,
      body: { metadata: { name: 'shop' }, spec: { defaultBackend: { service: { name: 'web', port: { number: 80 } } } } },
    });
  });

  after(async function () {
    await gke?.stop();
    await hcs?.close();
    await negs?.close();
    await ops?.close();
    await compute?.stop();
    await Promise.all(apps.map((a) => a.close()));
    await cp?.stop();
  });

  it('creates the check from the readinessProbe, the NEG with the Pod endpoint, and the backend service', async () => {
    const report = await gke.syncNow();
    assert.deepEqual(report.errors, []);
    assert.deepEqual(report.healthChecksCreated, [hcName]);
    const hc = await getHc();
    assert.equal(hc.type, 'HTTP');
    assert.equal(hc.checkIntervalSec, 5);
    assert.equal(hc.timeoutSec, 2);
    assert.equal(hc.unhealthyThreshold, 2);
    assert.equal(hc.httpHealthCheck?.requestPath, '/ready');
    assert.equal(hc.httpHealthCheck?.portSpecification, 'USE_SERVING_PORT');
    assert.equal(hc.description, 'Kubernetes L7 health check generated with readiness probe settings.');
    assert.deepEqual(await negEndpoints(), [`127.0.0.5:${appPort}`]);
    assert.equal(gke.updatesMade(), 0);
    // What hcsync may read to find names without the Ingress annotation (docs/gke-ingress-healthchecks.md §4.1, §4.3).
    const cm = await core.readNamespacedConfigMap({ name: 'ingress-uid', namespace: 'kube-system' });
    assert.equal(cm.data?.['uid'], CLUSTER_UID);
    const svc = await core.readNamespacedService({ name: 'web', namespace: NS });
    assert.deepEqual(JSON.parse(svc.metadata?.annotations?.['cloud.google.com/neg-status'] ?? '{}'), {
      network_endpoint_groups: { '80': hcName },
      zones: [ZONE],
    });
  });

  it('writes status and annotations; backends turns HEALTHY once the app answers the path; the LB serves', async () => {
    const annotations = await until('HEALTHY', async () => {
      await gke.syncNow();
      const a = await ingressAnnotations();
      return a[BACKENDS_ANNOTATION] === JSON.stringify({ [hcName]: 'HEALTHY' }) ? a : undefined;
    });
    assert.equal(annotations[URL_MAP_ANNOTATION], `k8s-um-default-shop--${CLUSTER_UID}`);
    const ing = await net.readNamespacedIngress({ name: 'shop', namespace: NS });
    const lb = ing.status?.loadBalancer?.ingress?.[0];
    assert.equal(lb?.ip, '127.0.0.1');
    const address = `127.0.0.1:${lb?.ports?.[0]?.port ?? 0}`;
    assert.equal(address, compute.loadBalancerAddress(`k8s-um-default-shop--${CLUSTER_UID}`));
    assert.equal(await httpGetStatus(address, '/anything'), 404, 'proxied to the app, which 404s this path');
    assert.equal(await httpGetStatus(address, '/'), 200);
  });

  it('a Pod rollout with a changed probe moves the NEG endpoints but NOT the check (the GKE bug)', async () => {
    const b = await startApp('127.0.0.6', new Set(['/', '/ready', '/changed-ready']));
    apps.push(b);
    // Same port on another IP is not guaranteed free; use the new app's own port for this Pod.
    await createPod('web-2', '127.0.0.6', '/changed-ready', b.port);
    await deletePod('web-1');
    const report = await gke.syncNow();
    assert.deepEqual(report.errors, []);
    assert.deepEqual(await negEndpoints(), [`127.0.0.6:${b.port}`]);
    const hc = await getHc();
    assert.equal(hc.httpHealthCheck?.requestPath, '/ready');
    assert.equal(gke.updatesMade(), 0);
  });

  it('every field hcsync may patch survives syncs with zero updates; the LB then answers 502 on a 404 path', async () => {
    // The contract's owned fields: requestPath, host, checkIntervalSec, timeoutSec.
    await waitOp(
      await hcs.patch({
        project: PROJECT,
        healthCheck: hcName,
        healthCheckResource: { checkIntervalSec: 6, timeoutSec: 3, httpHealthCheck: { requestPath: '/missing', host: 'shop.example.com' } },
      }),
    );
    for (let i = 0; i < 3; i++) assert.deepEqual((await gke.syncNow()).errors, []);
    const hc = await getHc();
    assert.deepEqual(
      [hc.httpHealthCheck?.requestPath, hc.httpHealthCheck?.host, hc.checkIntervalSec, hc.timeoutSec],
      ['/missing', 'shop.example.com', 6, 3],
    );
    assert.equal(gke.updatesMade(), 0);
    const address = compute.loadBalancerAddress(`k8s-um-default-shop--${CLUSTER_UID}`) ?? '';
    await until('502 from the LB', async () => ((await httpGetStatus(address, '/')) === 502 ? true : undefined));
    await until('UNHEALTHY annotation', async () => {
      await gke.syncNow();
      return (await ingressAnnotations())[BACKENDS_ANNOTATION] === JSON.stringify({ [hcName]: 'UNHEALTHY' }) ? true : undefined;
    });
  });

  it('a manual change of type, or of the port model, is reverted by exactly one update each, keeping the user path', async () => {
    const hc = await getHc();
    const https: protos.google.cloud.compute.v1.IHealthCheck = {
      ...hc,
      type: 'HTTPS',
      httpHealthCheck: null,
      httpsHealthCheck: { ...hc.httpHealthCheck },
    };
    await waitOp(await hcs.update({ project: PROJECT, healthCheck: hcName, healthCheckResource: https }));
    await gke.syncNow();
    await gke.syncNow();
    assert.equal(gke.updatesMade(), 1);
    assert.deepEqual(gke.updateLog()[0]?.diffs, ['Protocol:HTTPS -> HTTP']);
    let now = await getHc();
    assert.equal(now.type, 'HTTP');
    assert.equal(now.httpHealthCheck?.requestPath, '/missing');

    await waitOp(
      await hcs.patch({
        project: PROJECT,
        healthCheck: hcName,
        healthCheckResource: { httpHealthCheck: { portSpecification: 'USE_FIXED_PORT', port: 9999 } },
      }),
    );
    await gke.syncNow();
    await gke.syncNow();
    assert.equal(gke.updatesMade(), 2);
    now = await getHc();
    assert.equal(now.httpHealthCheck?.portSpecification, 'USE_SERVING_PORT');
    assert.ok(!now.httpHealthCheck?.port, `port cleared, got ${String(now.httpHealthCheck?.port)}`);
    assert.equal(now.httpHealthCheck?.requestPath, '/missing');
  });

  it('a deleted check is recreated from the current probe; without Pods, from the defaults', async () => {
    const before = await getHc();
    await gke.recreateHealthCheck(hcName);
    let hc = await getHc();
    assert.notEqual(hc.id, before.id);
    assert.equal(hc.httpHealthCheck?.requestPath, '/changed-ready');
    assert.equal(hc.checkIntervalSec, 5);

    await deletePod('web-2');
    await gke.recreateHealthCheck(hcName);
    hc = await getHc();
    assert.deepEqual(
      [hc.httpHealthCheck?.requestPath, hc.checkIntervalSec, hc.timeoutSec, hc.healthyThreshold, hc.unhealthyThreshold, hc.description],
      ['/', 15, 15, 1, 2, 'Default kubernetes L7 Loadbalancing health check for NEG.'],
    );
    assert.deepEqual(await negEndpoints(), []);
    assert.equal(gke.updatesMade(), 2);
  });

  it('a BackendConfig healthCheck field is set at creation and re-imposed; other fields stay the user’s', async () => {
    const crd = parseYaml(readFileSync(new URL('../../crds/backendconfig.yaml', import.meta.url), 'utf8')) as V1CustomResourceDefinition;
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    await ext.createCustomResourceDefinition({ body: crd });
    const custom = kc.makeApiClient(CustomObjectsApi);
    await until('BackendConfig API', async () => {
      await custom.listNamespacedCustomObject({ group: 'cloud.google.com', version: 'v1', namespace: NS, plural: 'backendconfigs' });
      return true;
    });
    await custom.createNamespacedCustomObject({
      group: 'cloud.google.com',
      version: 'v1',
      namespace: NS,
      plural: 'backendconfigs',
      body: {
        apiVersion: 'cloud.google.com/v1',
        kind: 'BackendConfig',
        metadata: { name: 'api-bc' },
        spec: { healthCheck: { requestPath: '/bc', checkIntervalSec: 20 } },
      },
    });
    await core.createNamespacedService({
      namespace: NS,
      body: {
        metadata: { name: 'api', annotations: { 'cloud.google.com/backend-config': '{"ports":{"8080":"api-bc"}}' } },
        spec: { selector: { app: 'api' }, ports: [{ port: 8080, targetPort: 8080 }] },
      },
    });
    await net.patchNamespacedIngress(
      {
        name: 'shop',
        namespace: NS,
        body: {
          spec: {
            rules: [
              { http: { paths: [{ path: '/api', pathType: 'Prefix', backend: { service: { name: 'api', port: { number: 8080 } } } }] } },
            ],
          },
        },
      },
      merge,
    );
    const apiHc = negName(CLUSTER_UID, NS, 'api', 8080);
    assert.deepEqual((await gke.syncNow()).errors, []);
    let hc = await getHc(apiHc);
    // Interval from the BackendConfig, timeout still the NEG default (no Pods behind 'api').
    assert.deepEqual([hc.httpHealthCheck?.requestPath, hc.checkIntervalSec, hc.timeoutSec], ['/bc', 20, 15]);

    const updates = gke.updatesMade();
    await waitOp(
      await hcs.patch({
        project: PROJECT,
        healthCheck: apiHc,
        healthCheckResource: { timeoutSec: 3, httpHealthCheck: { requestPath: '/mine' } },
      }),
    );
    await gke.syncNow();
    assert.equal(gke.updatesMade(), updates + 1);
    assert.deepEqual(gke.updateLog().at(-1)?.diffs, ['RequestPath:/mine -> /bc']);
    hc = await getHc(apiHc);
    assert.deepEqual([hc.httpHealthCheck?.requestPath, hc.timeoutSec, hc.checkIntervalSec], ['/bc', 3, 20]);
    await gke.syncNow();
    assert.equal(gke.updatesMade(), updates + 1, 'converged: no ping-pong');

    // A broken annotation is a sync error for that port, never a reason to delete its check.
    const annotate = (value: string) =>
      core.patchNamespacedService(
        { name: 'api', namespace: NS, body: { metadata: { annotations: { 'cloud.google.com/backend-config': value } } } },
        merge,
      );
    await annotate('{not json');
    const broken = await gke.syncNow();
    assert.match(broken.errors.join('\n'), /BackendConfig annotation is invalid json/);
    assert.equal((await getHc(apiHc)).id, hc.id);
    await annotate('{"ports":{"8080":"api-bc"}}');
    assert.deepEqual((await gke.syncNow()).errors, []);
  });

  it('IG backends: k8s-be-<nodePort>--<uid>, port = nodePort, probe period + 60 s', async () => {
    await core.createNamespacedService({
      namespace: NS,
      body: {
        metadata: { name: 'legacy', annotations: { 'cloud.google.com/neg': '{"ingress":false}' } },
        spec: { type: 'NodePort', selector: { app: 'legacy' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
      },
    });
    await core.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name: 'legacy-1', labels: { app: 'legacy' } },
        spec: {
          containers: [
            {
              name: 'app',
              image: 'x',
              ports: [{ containerPort: 8080 }],
              readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 10 },
            },
          ],
        },
      },
    });
    const svc = await core.readNamespacedService({ name: 'legacy', namespace: NS });
    const nodePort = svc.spec?.ports?.[0]?.nodePort ?? 0;
    await net.createNamespacedIngress({
      namespace: NS,
      body: { metadata: { name: 'legacy' }, spec: { defaultBackend: { service: { name: 'legacy', port: { name: 'http' } } } } },
    });
    assert.deepEqual((await gke.syncNow()).errors, []);
    const name = igBackendName(CLUSTER_UID, nodePort);
    const hc = await getHc(name);
    assert.deepEqual(
      [
        hc.httpHealthCheck?.port,
        hc.httpHealthCheck?.portSpecification ?? undefined,
        hc.httpHealthCheck?.requestPath,
        hc.checkIntervalSec,
        hc.timeoutSec,
        hc.unhealthyThreshold,
      ],
      [nodePort, undefined, '/healthz', 70, 1, 10],
    );
    const updates = gke.updatesMade();
    await gke.syncNow();
    assert.equal(gke.updatesMade(), updates, 'an IG check as GCE echoes it causes no update');
    assert.equal((await ingressAnnotations('legacy'))[BACKENDS_ANNOTATION], JSON.stringify({ [name]: 'Unknown' }));
  });

  it('gce-internal: a regional check and backend service with the NEG name, ILB defaults, regional URL map', async () => {
    await net.createNamespacedIngress({
      namespace: NS,
      body: {
        metadata: { name: 'internal', annotations: { 'kubernetes.io/ingress.class': 'gce-internal' } },
        spec: { defaultBackend: { service: { name: 'web', port: { number: 80 } } } },
      },
    });
    assert.deepEqual((await gke.syncNow()).errors, []);
    const rhcs = new RegionHealthChecksClient(computeClientOptions(compute.endpoint));
    const rbs = new RegionBackendServicesClient(computeClientOptions(compute.endpoint));
    try {
      const [hc] = await rhcs.get({ project: PROJECT, region: REGION, healthCheck: hcName });
      assert.deepEqual(
        [hc.checkIntervalSec, hc.timeoutSec, hc.unhealthyThreshold, hc.httpHealthCheck?.portSpecification, hc.description],
        [15, 15, 2, 'USE_SERVING_PORT', 'Default kubernetes L7 Loadbalancing health check for ILB.'],
      );
      const [bs] = await rbs.get({ project: PROJECT, region: REGION, backendService: hcName });
      assert.equal(bs.loadBalancingScheme, 'INTERNAL_MANAGED');
      assert.match(bs.healthChecks?.[0] ?? '', /\/regions\/us-central1\/healthChecks\//);
      assert.deepEqual(JSON.parse(bs.description ?? '{}'), {
        'kubernetes.io/service-name': 'default/web',
        'kubernetes.io/service-port': '80',
        'x-features': ['NEG', 'L7ILB'],
      });
    } finally {
      await rhcs.close();
      await rbs.close();
    }
    assert.equal((await ingressAnnotations('internal'))[URL_MAP_ANNOTATION], `k8s-um-default-internal--${CLUSTER_UID}`);
  });

  it('GC: a Service port that leaves every Ingress loses its backend service, check and NEG', async () => {
    await net.deleteNamespacedIngress({ name: 'shop', namespace: NS });
    assert.deepEqual((await gke.syncNow()).errors, []);
    await assert.rejects(getHc(hcName), (e: { code?: number }) => e.code === 5);
    const api = negName(CLUSTER_UID, NS, 'api', 8080);
    await assert.rejects(getHc(api), (e: { code?: number }) => e.code === 5);
    await assert.rejects(negs.get({ project: PROJECT, zone: ZONE, networkEndpointGroup: api }), (e: { code?: number }) => e.code === 5);
    assert.equal(compute.loadBalancerAddress(`k8s-um-default-shop--${CLUSTER_UID}`), undefined);
    // Other Ingresses' backends are untouched, and the NEG the regional backend still uses stays.
    assert.deepEqual(await negEndpoints(hcName), []);
    const rhcs = new RegionHealthChecksClient(computeClientOptions(compute.endpoint));
    await rhcs.get({ project: PROJECT, region: REGION, healthCheck: hcName }).finally(() => rhcs.close());
    const svc = await core.readNamespacedService({ name: 'legacy', namespace: NS });
    await getHc(igBackendName(CLUSTER_UID, svc.spec?.ports?.[0]?.nodePort ?? 0));
  });
  it('start() syncs at once and then every syncPeriodMs until stop()', async () => {
    const periodic = new GkeIngressStandIn({
      kubeConfig: kc,
      compute: compute.endpoint,
      project: PROJECT,
      zone: ZONE,
      region: REGION,
      clusterUid: CLUSTER_UID,
      mode: 'neg',
      syncPeriodMs: 100,
    });
    try {
      const first = await periodic.start();
      assert.deepEqual(first.errors, []);
      await net.createNamespacedIngress({
        namespace: NS,
        body: { metadata: { name: 'later' }, spec: { defaultBackend: { service: { name: 'api', port: { number: 8080 } } } } },
      });
      const name = negName(CLUSTER_UID, NS, 'api', 8080);
      await until('the periodic sync to pick up the new Ingress', async () =>
        (await ingressAnnotations('later'))[BACKENDS_ANNOTATION]?.includes(name) ? true : undefined,
      );
      await getHc(name);
    } finally {
      await periodic.stop();
    }
    // Two instances with the same rules never disagreed about a check.
    assert.equal(periodic.updatesMade(), 0);
  });
});
