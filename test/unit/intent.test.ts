// One case per intent rule of the contract and per kind of bad input, named after the rule.
import assert from 'node:assert/strict';
import { intentForPort, type IntentInput, type PortIntent } from '../../src/intent/intent.js';
import type { SlimPod, SlimServicePort, SlimBackendConfig } from '../../src/model/kube.js';
import { backendConfig, container, httpProbe, pod, service } from '../support/fixtures.js';

interface Case {
  readonly name: string;
  readonly annotations?: Record<string, string>;
  readonly port?: SlimServicePort;
  readonly pods: SlimPod[];
  readonly backendConfigs?: SlimBackendConfig[];
  readonly backendKind?: IntentInput['backendKind'];
  readonly inferFromLiveness?: boolean;
  readonly expect: (i: PortIntent) => void;
}

const desired = (i: PortIntent) => {
  assert.equal(i.kind, 'desired', JSON.stringify(i));
  return i;
};
const kind = (k: PortIntent['kind'], includes?: string) => (i: PortIntent) => {
  assert.equal(i.kind, k, JSON.stringify(i));
  if (includes) assert.match(JSON.stringify(i), new RegExp(includes.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
};
const readyPod = (probe = httpProbe('/ready')) => pod([container({ readinessProbe: probe })]);

const cases: Case[] = [
  // --- rule 4: readinessProbe, read with GKE's rules
  {
    name: 'readinessProbe: path, Host header → host, timeout, period (NEG: no +60)',
    pods: [
      readyPod(httpProbe('/ready', 8000, { httpHeaders: [{ name: 'Host', value: 'example.com' }], timeoutSeconds: 3, periodSeconds: 7 })),
    ],
    expect: (i) => assert.deepEqual(desired(i).desired, { requestPath: '/ready', host: 'example.com', timeoutSec: 3, checkIntervalSec: 7 }),
  },
  {
    name: 'readinessProbe: Kubernetes defaults timeout 1 s and period 10 s; no Host header → no host (a hand-set host stays)',
    pods: [readyPod(httpProbe('/ready'))],
    expect: (i) => assert.deepEqual(desired(i).desired, { requestPath: '/ready', timeoutSec: 1, checkIntervalSec: 10 }),
  },
  {
    name: 'readinessProbe: instance-group backends get period + 60 s',
    backendKind: 'ig',
    pods: [readyPod(httpProbe('/ready', 8000, { periodSeconds: 5 }))],
    expect: (i) => assert.equal(desired(i).desired.checkIntervalSec, 65),
  },
  {
    name: 'readinessProbe: a path without a leading slash gets one; an empty path is "/"',
    pods: [readyPod(httpProbe('ready'))],
    expect: (i) => assert.equal(desired(i).desired.requestPath, '/ready'),
  },
  {
    name: 'readinessProbe: probe port by name matches the targetPort container port',
    pods: [readyPod(httpProbe('/named', 'http'))],
    expect: (i) => assert.equal(desired(i).desired.requestPath, '/named'),
  },
  {
    name: 'readinessProbe: string targetPort matches the container port name',
    port: { name: 'http', port: 80, targetPort: 'http' },
    pods: [readyPod(httpProbe('/by-name', 8000))],
    expect: (i) => assert.equal(desired(i).desired.requestPath, '/by-name'),
  },
  // A named targetPort declared twice: the first declaration is the serving port, whether the
  // container's ports are scanned (few) or indexed (more than 16, intent/probe.ts INDEXED_PORTS).
  ...[0, 20].flatMap((filler): Case[] => {
    const ports = [
      ...Array.from({ length: filler }, (_, n) => ({ name: `p${n}`, containerPort: 10_000 + n })),
      { name: 'web', containerPort: 8000 },
      { name: 'web', containerPort: 9000 },
    ];
    const port: SlimServicePort = { name: 'http', port: 80, targetPort: 'web' };
    return [
      {
        name: `readinessProbe: a targetPort name declared twice is its first declaration (${ports.length} ports)`,
        port,
        pods: [pod([container({ ports, readinessProbe: httpProbe('/first', 8000) })])],
        expect: (i) => assert.equal(desired(i).desired.requestPath, '/first'),
      },
      {
        name: `readinessProbe ignored: on the second declaration of a targetPort name (${ports.length} ports)`,
        port,
        inferFromLiveness: false,
        pods: [pod([container({ ports, readinessProbe: httpProbe('/second', 9000) })])],
        expect: kind('none', 'on port 9000, not the serving port 8000'),
      },
    ];
  }),
  {
    name: 'readinessProbe ignored: probe on another port than the serving port',
    inferFromLiveness: false,
    pods: [
      pod([
        container({
          ports: [
            { name: 'http', containerPort: 8000 },
            { name: 'admin', containerPort: 9090 },
          ],
          readinessProbe: httpProbe('/ready', 9090),
        }),
      ]),
    ],
    expect: kind('none', 'on port 9090, not the serving port 8000'),
  },
  {
    name: 'readinessProbe ignored: container does not declare the targetPort',
    inferFromLiveness: false,
    pods: [pod([container({ ports: [], readinessProbe: httpProbe('/ready') })])],
    expect: kind('none', 'does not declare port 8000'),
  },
  {
    name: 'readinessProbe ignored: httpGet.host is set',
    inferFromLiveness: false,
    pods: [readyPod(httpProbe('/ready', 8000, { host: '10.0.0.1' }))],
    expect: kind('none', 'sets httpGet.host'),
  },
  {
    name: 'readinessProbe ignored: a header other than Host',
    inferFromLiveness: false,
    pods: [readyPod(httpProbe('/ready', 8000, { httpHeaders: [{ name: 'Authorization', value: 'x' }] }))],
    expect: kind('none', 'accepts only a header named exactly Host'),
  },
  {
    name: 'readinessProbe ignored: header name "host" (GKE compares case-sensitively)',
    inferFromLiveness: false,
    pods: [readyPod(httpProbe('/ready', 8000, { httpHeaders: [{ name: 'host', value: 'x' }] }))],
    expect: kind('none', 'named exactly Host'),
  },
  {
    name: 'readinessProbe ignored: more than one header',
    inferFromLiveness: false,
    pods: [
      readyPod(
        httpProbe('/ready', 8000, {
          httpHeaders: [
            { name: 'Host', value: 'a' },
            { name: 'X', value: 'b' },
          ],
        }),
      ),
    ],
    expect: kind('none', 'has 2 httpHeaders'),
  },
  {
    name: 'readinessProbe ignored: tcpSocket probe',
    inferFromLiveness: false,
    pods: [pod([container({ readinessProbe: { handler: 'tcpSocket' } })])],
    expect: kind('none', 'uses tcpSocket'),
  },
  {
    name: 'readinessProbe ignored: scheme HTTPS on an HTTP port',
    inferFromLiveness: false,
    pods: [readyPod(httpProbe('/ready', 8000, { scheme: 'HTTPS' }))],
    expect: kind('none', 'scheme HTTPS does not match'),
  },
  {
    name: 'readinessProbe: scheme HTTPS on a port annotated HTTPS (app-protocols)',
    annotations: { 'cloud.google.com/app-protocols': '{"http":"HTTPS"}' },
    pods: [readyPod(httpProbe('/secure', 8000, { scheme: 'HTTPS' }))],
    expect: (i) => assert.equal(desired(i).desired.requestPath, '/secure'),
  },
  {
    name: 'readinessProbe: HTTP2 ports need scheme HTTPS too',
    annotations: { 'cloud.google.com/app-protocols': '{"http":"HTTP2"}' },
    inferFromLiveness: false,
    pods: [readyPod(httpProbe('/h2', 8000))],
    expect: kind('none', 'needs HTTPS'),
  },
  {
    name: 'readinessProbe: the first qualifying container wins (sidecar without the port is skipped)',
    pods: [
      pod([
        container({ name: 'sidecar', ports: [], readinessProbe: httpProbe('/sidecar', 15020) }),
        container({ name: 'app', readinessProbe: httpProbe('/app') }),
      ]),
    ],
    expect: (i) => assert.equal(desired(i).desired.requestPath, '/app'),
  },
  // --- rollout hold
  {
    name: 'rollout: non-terminating Pods disagree → hold',
    pods: [readyPod(httpProbe('/old')), readyPod(httpProbe('/new'))],
    expect: kind('hold', 'Pods disagree'),
  },
  {
    name: 'rollout: terminating Pods do not count',
    pods: [pod([container({ readinessProbe: httpProbe('/old') })], { deleting: true }), readyPod(httpProbe('/new'))],
    expect: (i) => assert.equal(desired(i).desired.requestPath, '/new'),
  },
  {
    name: 'rollout: finished (Succeeded/Failed) Pods do not count',
    pods: [pod([container({ readinessProbe: httpProbe('/old') })], { phase: 'Failed' }), readyPod(httpProbe('/new'))],
    expect: (i) => assert.equal(desired(i).desired.requestPath, '/new'),
  },
  // --- rule 5: liveness fallback
  {
    name: 'livenessProbe fallback: path only, with a warning to add a readinessProbe (the blog case)',
    pods: [pod([container({ livenessProbe: httpProbe('/health-check', 8000, { timeoutSeconds: 5 }) })])],
    expect: (i) => {
      const d = desired(i);
      assert.equal(d.source, 'livenessProbe');
      assert.deepEqual(d.desired, { requestPath: '/health-check' });
      assert.match(d.warnings.join(), /add a readinessProbe/);
    },
  },
  {
    name: 'livenessProbe fallback off (--infer-from-liveness=false) → no intent',
    inferFromLiveness: false,
    pods: [pod([container({ livenessProbe: httpProbe('/health-check') })])],
    expect: kind('none'),
  },
  {
    name: 'livenessProbe on another port is not used',
    pods: [
      pod([
        container({ ports: [{ name: 'http', containerPort: 8000 }, { containerPort: 9090 }], livenessProbe: httpProbe('/live', 9090) }),
      ]),
    ],
    expect: kind('none'),
  },
  // --- rule 6
  { name: 'no annotation and no Pods → no intent', pods: [], expect: kind('none', 'no running Pod') },
  // --- rules 2 and 3: annotations
  {
    name: 'hcsync.io/health-path beats the readinessProbe',
    annotations: { 'hcsync.io/health-path': '/declared' },
    pods: [readyPod(httpProbe('/ready'))],
    expect: (i) => {
      assert.equal(desired(i).source, 'hcsync.io/health-path');
      assert.deepEqual(desired(i).desired, { requestPath: '/declared' });
    },
  },
  {
    name: 'hcsync.io/health-paths by port name beats hcsync.io/health-path',
    annotations: { 'hcsync.io/health-paths': '{"http":"/by-name"}', 'hcsync.io/health-path': '/all' },
    pods: [],
    expect: (i) => assert.deepEqual(desired(i).desired, { requestPath: '/by-name' }),
  },
  {
    name: 'hcsync.io/health-paths by port number',
    annotations: { 'hcsync.io/health-paths': '{"80":"/by-number"}' },
    pods: [],
    expect: (i) => assert.deepEqual(desired(i).desired, { requestPath: '/by-number' }),
  },
  {
    name: 'hcsync.io/health-paths without this port falls through to the probe',
    annotations: { 'hcsync.io/health-paths': '{"8443":"/other"}' },
    pods: [readyPod(httpProbe('/ready'))],
    expect: (i) => assert.equal(desired(i).source, 'readinessProbe'),
  },
  // --- rule 1: BackendConfig
  {
    name: 'BackendConfig requestPath is owned by ingress-gce: reported, not patched',
    annotations: { 'cloud.google.com/backend-config': '{"default":"bc"}' },
    backendConfigs: [backendConfig('bc', { requestPath: '/bc', checkIntervalSec: 20 })],
    pods: [readyPod(httpProbe('/ready'))],
    expect: (i) => {
      const d = desired(i);
      assert.deepEqual(d.backendConfig, { name: 'bc', fields: { requestPath: '/bc', checkIntervalSec: 20 } });
      assert.equal(d.desired.requestPath, undefined);
      assert.equal(d.desired.checkIntervalSec, undefined);
      assert.equal(d.desired.timeoutSec, 1, 'the probe still gives the fields the BackendConfig leaves');
    },
  },
  {
    name: 'BackendConfig by port name beats by number beats default',
    annotations: { 'cloud.google.com/backend-config': '{"default":"d","ports":{"http":"byname","80":"bynumber"}}' },
    backendConfigs: [
      backendConfig('d', { requestPath: '/d' }),
      backendConfig('byname', { requestPath: '/name' }),
      backendConfig('bynumber', { requestPath: '/number' }),
    ],
    pods: [],
    expect: (i) => assert.equal(desired(i).backendConfig?.name, 'byname'),
  },
  {
    name: 'BackendConfig: the GA annotation wins over the beta one',
    annotations: { 'cloud.google.com/backend-config': '{"default":"ga"}', 'beta.cloud.google.com/backend-config': '{"default":"beta"}' },
    backendConfigs: [backendConfig('ga', { requestPath: '/ga' }), backendConfig('beta', { requestPath: '/beta' })],
    pods: [],
    expect: (i) => assert.equal(desired(i).backendConfig?.name, 'ga'),
  },
  {
    name: 'Conflict: an hcsync annotation disagrees with the BackendConfig',
    annotations: { 'cloud.google.com/backend-config': '{"default":"bc"}', 'hcsync.io/health-path': '/mine' },
    backendConfigs: [backendConfig('bc', { requestPath: '/bc' })],
    pods: [],
    expect: (i) => assert.match(desired(i).conflict ?? '', /BackendConfig bc sets "\/bc"/),
  },
  {
    name: 'BackendConfig without healthCheck leaves intent to the lower rules',
    annotations: { 'cloud.google.com/backend-config': '{"default":"bc"}' },
    backendConfigs: [backendConfig('bc')],
    pods: [readyPod(httpProbe('/ready'))],
    expect: (i) => {
      assert.equal(desired(i).source, 'readinessProbe');
      assert.equal(desired(i).backendConfig, undefined);
    },
  },
  {
    name: 'BackendConfig referenced but not known (not synced, list failed, or missing) → hold naming it, never the lower rules',
    annotations: { 'cloud.google.com/backend-config': '{"default":"gone"}' },
    pods: [readyPod(httpProbe('/ready'))],
    expect: kind('hold', 'BackendConfig default/gone'),
  },
  {
    name: 'BackendConfig named for this port (by name) not known → hold, even when the default one is there',
    annotations: { 'cloud.google.com/backend-config': '{"default":"bc","ports":{"http":"gone"}}' },
    backendConfigs: [backendConfig('bc', { requestPath: '/bc' })],
    pods: [readyPod(httpProbe('/ready'))],
    expect: kind('hold', 'gone'),
  },
  {
    name: 'BackendConfig for another port only: this port has none, lower rules apply',
    annotations: { 'cloud.google.com/backend-config': '{"ports":{"9999":"gone"}}' },
    pods: [readyPod(httpProbe('/ready'))],
    expect: (i) => assert.equal(desired(i).source, 'readinessProbe'),
  },
  // --- a BackendConfig port: the check probes that port, the probe's path is not for it
  {
    name: 'BackendConfig port: requestPath/host/timing left to it; only its own fields reported',
    annotations: { 'cloud.google.com/backend-config': '{"default":"bc"}' },
    backendConfigs: [backendConfig('bc', { port: 9000, checkIntervalSec: 20 })],
    pods: [readyPod(httpProbe('/ready', 8000, { httpHeaders: [{ name: 'Host', value: 'a.example' }] }))],
    expect: (i) => {
      const d = desired(i);
      assert.deepEqual(d.desired, {}, 'nothing from the probe');
      assert.equal(d.source, 'BackendConfig');
      assert.deepEqual(d.backendConfig, { name: 'bc', fields: { checkIntervalSec: 20 }, port: 9000 });
      assert.equal(d.conflict, undefined);
    },
  },
  {
    name: 'BackendConfig port + hcsync.io/health-path → conflict (the path cannot apply to that port)',
    annotations: { 'cloud.google.com/backend-config': '{"default":"bc"}', 'hcsync.io/health-path': '/healthz' },
    backendConfigs: [backendConfig('bc', { port: 9000 })],
    pods: [],
    expect: (i) => assert.match(desired(i).conflict ?? '', /sets port 9000/),
  },
  // --- GKE's transparent health checks
  {
    name: "transparent-health-checker enabled (NEG) → no intent: the check is not the app's",
    annotations: { 'networking.gke.io/transparent-health-checker': '{"enabled":true}' },
    pods: [readyPod(httpProbe('/ready'))],
    expect: kind('none', 'transparent health check'),
  },
  {
    name: 'transparent-health-checker enabled on an IG backend: GKE ignores it (NEG only), probe applies',
    annotations: { 'networking.gke.io/transparent-health-checker': '{"enabled":true}' },
    backendKind: 'ig',
    pods: [readyPod(httpProbe('/ready'))],
    expect: (i) => assert.equal(desired(i).source, 'readinessProbe'),
  },
  {
    name: 'transparent-health-checker enabled false → probe applies',
    annotations: { 'networking.gke.io/transparent-health-checker': '{"enabled":false}' },
    pods: [readyPod(httpProbe('/ready'))],
    expect: (i) => assert.equal(desired(i).source, 'readinessProbe'),
  },
  {
    name: 'transparent-health-checker with a BackendConfig healthCheck: GKE ignores THC, BackendConfig applies',
    annotations: {
      'networking.gke.io/transparent-health-checker': '{"enabled":true}',
      'cloud.google.com/backend-config': '{"default":"bc"}',
    },
    backendConfigs: [backendConfig('bc', { requestPath: '/bc' })],
    pods: [],
    expect: (i) => assert.equal(desired(i).backendConfig?.name, 'bc'),
  },
  {
    name: 'bad input: transparent-health-checker is not JSON → invalid, named',
    annotations: { 'networking.gke.io/transparent-health-checker': 'yes' },
    pods: [readyPod()],
    expect: kind('invalid', 'networking.gke.io/transparent-health-checker'),
  },
  // --- bad input: clear, specific errors, never a throw
  {
    name: 'bad input: hcsync.io/health-paths is not JSON',
    annotations: { 'hcsync.io/health-paths': '{http:/x}' },
    pods: [],
    expect: kind('invalid', 'hcsync.io/health-paths: invalid JSON'),
  },
  {
    name: 'bad input: hcsync.io/health-paths is a JSON array',
    annotations: { 'hcsync.io/health-paths': '["/x"]' },
    pods: [],
    expect: kind('invalid', 'expected a JSON object, got an array'),
  },
  {
    name: 'bad input: hcsync.io/health-paths maps a port to a number',
    annotations: { 'hcsync.io/health-paths': '{"http":5}' },
    pods: [],
    expect: kind('invalid', 'port \\"http\\" maps to 5'),
  },
  {
    name: 'bad input: a path without a leading slash',
    annotations: { 'hcsync.io/health-path': 'healthz' },
    pods: [],
    expect: kind('invalid', 'must start with'),
  },
  {
    name: 'bad input: a path with a space',
    annotations: { 'hcsync.io/health-path': '/health check' },
    pods: [],
    expect: kind('invalid', 'not an RFC 3986 path or query character'),
  },
  {
    name: 'bad input: the error names the port as everywhere else (http/80)',
    annotations: { 'hcsync.io/health-path': '/health check' },
    pods: [],
    expect: kind('invalid', 'Service default/web port http/80: requestPath'),
  },
  {
    name: 'bad input: a path over 1024 characters',
    annotations: { 'hcsync.io/health-path': `/${'a'.repeat(1024)}` },
    pods: [],
    expect: kind('invalid', 'at most 1024'),
  },
  {
    name: 'bad input: a stray % in the path',
    annotations: { 'hcsync.io/health-path': '/100%' },
    pods: [],
    expect: kind('invalid', 'percent-encoding'),
  },
  {
    name: 'bad input: probe Host header that is not a DNS name',
    pods: [readyPod(httpProbe('/ready', 8000, { httpHeaders: [{ name: 'Host', value: 'bad host!' }] }))],
    expect: kind('invalid', 'is not a DNS name'),
  },
  {
    name: 'bad input: probe period over 300 s',
    pods: [readyPod(httpProbe('/ready', 8000, { periodSeconds: 301 }))],
    expect: kind('invalid', 'checkIntervalSec 301 is outside 1..300'),
  },
  {
    name: 'bad input: the backend-config annotation is not JSON',
    annotations: { 'cloud.google.com/backend-config': 'bc' },
    pods: [],
    expect: kind('invalid', 'cloud.google.com/backend-config: invalid JSON'),
  },
  {
    name: 'bad input: the backend-config annotation has neither default nor ports',
    annotations: { 'cloud.google.com/backend-config': '{}' },
    pods: [],
    expect: kind('invalid', 'neither \\"default\\" nor \\"ports\\"'),
  },
  {
    name: 'bad input: app-protocols names an unknown protocol',
    annotations: { 'cloud.google.com/app-protocols': '{"http":"GRPC"}' },
    pods: [readyPod()],
    expect: kind('invalid', 'expected HTTP, HTTPS or HTTP2'),
  },
];

describe('intent: the contract precedence, rule by rule', () => {
  for (const c of cases) {
    it(c.name, () => {
      const bcs = c.backendConfigs ?? [];
      const svc = service({ ...(c.annotations ? { annotations: c.annotations } : {}), ...(c.port ? { ports: [c.port] } : {}) });
      const input: IntentInput = {
        service: svc,
        port: svc.spec.ports[0]!,
        pods: c.pods,
        backendConfig: (n) => bcs.find((b) => b.metadata.name === n),
        backendKind: c.backendKind ?? 'neg',
        inferFromLiveness: c.inferFromLiveness ?? true,
      };
      c.expect(intentForPort(input));
    });
  }
});
