// The ingress-gce stand-in: its pure rules (names, probe → check, merge/diff) table-tested against
// ingress-gce's documented behaviour; the live integration is in gke-ingress-standin.e2e.test.ts.
import assert from 'node:assert/strict';
import type { V1Pod, V1Probe, V1Service } from '@kubernetes/client-node';
import { backendConfigNameFor, backendConfigsOf, healthCheckOf } from '../../src/testbed/gke-ingress/backend-config.js';
import { planExisting } from '../../src/testbed/gke-ingress/merge.js';
import { fromCompute, toCompute, type HealthCheckModel } from '../../src/testbed/gke-ingress/model.js';
import {
  igBackendName,
  negHash8,
  negName,
  rxlbBackendName,
  trimFieldsEvenly,
  urlMapName,
} from '../../src/testbed/gke-ingress/naming.js';
import {
  appProtocolOf,
  DESCRIPTION_DEFAULT_NEG,
  DESCRIPTION_FROM_PROBE,
  findReadinessProbe,
  healthCheckAtCreation,
  isSimpleHttpProbe,
} from '../../src/testbed/gke-ingress/probe-to-check.js';

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

function pod(name: string, created: string, probe: V1Probe | undefined, ports = [{ name: 'http', containerPort: 8080 }], labels = { app: 'web' }): V1Pod {
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
  const port = svc().spec!.ports![0]!;

  it('NEG defaults when no Pod qualifies', () => {
    const hc = healthCheckAtCreation({ kind: 'neg', name: 'n', protocol: 'HTTP', nodePort: 0 });
    assert.deepEqual(
      { i: hc.checkIntervalSec, t: hc.timeoutSec, h: hc.healthyThreshold, u: hc.unhealthyThreshold, p: hc.http.requestPath, d: hc.description },
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
    assert.deepEqual([neg.http.requestPath, neg.http.host, neg.timeoutSec, neg.checkIntervalSec, neg.unhealthyThreshold], ['/healthz', 'example.com', 2, 5, 2]);
    assert.equal(neg.description, DESCRIPTION_FROM_PROBE);
    const ig = healthCheckAtCreation({ kind: 'ig', name: 'i', protocol: 'HTTP', nodePort: 30001, probe: p });
    assert.deepEqual([ig.checkIntervalSec, ig.timeoutSec, ig.unhealthyThreshold, ig.http.port], [65, 2, 10, 30001]);
  });

  it('Kubernetes probe defaults (timeout 1, period 10) apply when unset', () => {
    const hc = healthCheckAtCreation({ kind: 'neg', name: 'n', protocol: 'HTTP', nodePort: 0, probe: { httpGet: { path: '/r', port: 8080 } } });
    assert.deepEqual([hc.timeoutSec, hc.checkIntervalSec], [1, 10]);
  });

  const cases: Array<{ name: string; pods: V1Pod[]; svc?: V1Service; want: string | undefined }> = [
    { name: 'oldest Pod wins', pods: [pod('b', '2026-01-02T00:00:00Z', probe('/new')), pod('a', '2026-01-01T00:00:00Z', probe('/old'))], want: '/old' },
    { name: 'tie broken by name', pods: [pod('b', '2026-01-01T00:00:00Z', probe('/b')), pod('a', '2026-01-01T00:00:00Z', probe('/a'))], want: '/a' },
    { name: 'first Pod without a probe is skipped', pods: [pod('a', '2026-01-01T00:00:00Z', undefined), pod('b', '2026-01-02T00:00:00Z', probe('/b'))], want: '/b' },
    { name: 'exec probe ignored', pods: [pod('a', '2026-01-01T00:00:00Z', { exec: { command: ['true'] } })], want: undefined },
    { name: 'host set → rejected', pods: [pod('a', '2026-01-01T00:00:00Z', probe('/h', { host: 'x' }))], want: undefined },
    { name: 'lower-case host header → rejected', pods: [pod('a', '2026-01-01T00:00:00Z', probe('/h', { httpHeaders: [{ name: 'host', value: 'x' }] }))], want: undefined },
    { name: 'other header → rejected', pods: [pod('a', '2026-01-01T00:00:00Z', probe('/h', { httpHeaders: [{ name: 'Authorization', value: 'x' }] }))], want: undefined },
    { name: 'two headers → rejected', pods: [pod('a', '2026-01-01T00:00:00Z', probe('/h', { httpHeaders: [{ name: 'Host', value: 'x' }, { name: 'Host', value: 'y' }] }))], want: undefined },
    { name: 'probe on another port → ignored', pods: [pod('a', '2026-01-01T00:00:00Z', probe('/h', { port: 9090 }))], want: undefined },
    { name: 'probe port by name', pods: [pod('a', '2026-01-01T00:00:00Z', probe('/named', { port: 'http' }))], want: '/named' },
    { name: 'container without ports[] never qualifies', pods: [pod('a', '2026-01-01T00:00:00Z', probe('/h'), [])], want: undefined },
    { name: 'HTTPS scheme on an HTTP port → ignored', pods: [pod('a', '2026-01-01T00:00:00Z', probe('/h', { scheme: 'HTTPS' }))], want: undefined },
    { name: 'other labels → not selected', pods: [pod('a', '2026-01-01T00:00:00Z', probe('/h'), undefined, { app: 'other' } as { app: string })], want: undefined },
    { name: 'named targetPort', svc: svc({}, 'http'), pods: [pod('a', '2026-01-01T00:00:00Z', probe('/t'))], want: '/t' },
    { name: 'named targetPort, container port named otherwise', svc: svc({}, 'web'), pods: [pod('a', '2026-01-01T00:00:00Z', probe('/t'))], want: undefined },
  ];
  for (const c of cases) {
    it(`probe selection: ${c.name}`, () => {
      const s = c.svc ?? svc();
      const found = findReadinessProbe(s, s.spec!.ports![0]!, 'HTTP', c.pods);
      assert.equal(found?.httpGet?.path, c.want);
    });
  }

  it('HTTPS and HTTP2 ports need an HTTPS probe; app protocol by port name, legacy key wins', () => {
    const s = svc({ 'service.alpha.kubernetes.io/app-protocols': '{"http":"HTTP2"}', 'cloud.google.com/app-protocols': '{"http":"HTTPS"}' });
    const p = s.spec!.ports![0]!;
    assert.equal(appProtocolOf(s, p), 'HTTP2');
    assert.equal(findReadinessProbe(s, p, 'HTTP2', [pod('a', '2026-01-01T00:00:00Z', probe('/s', { scheme: 'HTTPS' }))])?.httpGet?.path, '/s');
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
    assert.deepEqual(healthCheckOf({ spec: { healthCheck: { requestPath: '/x', timeoutSec: 3, bogus: 1 } } }), { requestPath: '/x', timeoutSec: 3 });
    assert.equal(healthCheckOf({ spec: {} }), undefined);
  });
});

describe('gke-ingress stand-in: existing check (mergeUserSettings + calculateDiff)', () => {
  const desiredNeg = (): HealthCheckModel => healthCheckAtCreation({ kind: 'neg', name: 'n', protocol: 'HTTP', nodePort: 0, probe: probe('/probe') });
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
      [merged.http.requestPath, merged.http.host, merged.checkIntervalSec, merged.timeoutSec, merged.healthyThreshold, merged.unhealthyThreshold],
      ['/user', 'h.example', 7, 3, 2, 4],
    );
  });

  it('a changed probe alone never causes an update (the GKE bug)', () => {
    const desired = healthCheckAtCreation({ kind: 'neg', name: 'n', protocol: 'HTTP', nodePort: 0, probe: probe('/changed', {}, { periodSeconds: 30 }) });
    assert.deepEqual(planExisting(live(), desired, undefined).diffs, []);
  });

  it('re-imposes type (keeping user settings across the protocol change)', () => {
    const existing = fromCompute({ name: 'n', type: 'HTTPS', checkIntervalSec: 7, timeoutSec: 3, httpsHealthCheck: { portSpecification: 'USE_SERVING_PORT', requestPath: '/user' } }, true);
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
    assert.deepEqual(toCompute(merged).httpHealthCheck, { portSpecification: 'USE_SERVING_PORT', requestPath: '/user', host: 'h.example', proxyHeader: 'NONE' });
  });

  it('IG: a port change alone is not compared; it is reset when another diff triggers an update', () => {
    const desired = healthCheckAtCreation({ kind: 'ig', name: 'i', protocol: 'HTTP', nodePort: 30001 });
    const existing = fromCompute({ name: 'i', type: 'HTTP', checkIntervalSec: 60, timeoutSec: 60, httpHealthCheck: { port: 8080, requestPath: '/user' } }, false);
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
