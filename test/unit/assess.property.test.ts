// Generated bad input through the pure core (parse → intent → plan, via assessService): whatever a
// tenant writes into Service annotations, probes, BackendConfigs and Ingress annotations, and
// whatever GCP holds, assessment never throws; a plan that would patch carries only fields GCE
// accepts; every rejection names the object, the field and what was expected.
// fast-check generates the inputs (seeded, so a failure reproduces); table tests elsewhere cover
// the cases someone thought of.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { assessService, type ServiceAssessment } from '../../src/plan/assess.js';
import type { ClusterView, BackendReader } from '../../src/model/ports.js';
import type { SlimBackendConfig, SlimIngress, SlimPod, SlimProbe, SlimService, SlimServicePort } from '../../src/model/kube.js';
import type { BackendServiceRef, LiveHealthCheck } from '../../src/model/health-check.js';

const RUNS = 1500;
const SEED = 20261129;

// ---- oracles, written from GCE's rules (docs/gke-ingress-healthchecks.md §1.8), not from src/ ----
/** RFC 3986 path characters, starting with '/', at most 1024 (hcsync's stricter cap; GCE takes 2048). */
const PATH_OK = /^\/[A-Za-z0-9/\-._~%!$&'()*+,;=:@]*$/;
/** RFC 1123 DNS name. */
const HOST_OK = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/i;
/** A rejection names a field or annotation. */
const FIELD_WORD =
  /hcsync\.io\/|cloud\.google\.com\/|app-protocols|ingress\.kubernetes\.io|requestPath|host|timeoutSec|checkIntervalSec|timeoutSeconds|periodSeconds|readinessProbe|livenessProbe|path|port|header|scheme|mode/i;
/** …and what was expected. */
const EXPECTED_WORD =
  /must|expect|should|at most|at least|between|one of|greater|less|not a|only|allowed|valid|JSON|object|number|is set|need|require|\d+\.\.\d+/i;

// ---- generators ------------------------------------------------------------------------------
const weird = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('/healthz', '/ready', '/v1/health?full=1', '/a;b', '/%41') },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  fc.constantFrom(
    '',
    ' ',
    '/',
    '//',
    '/a b',
    '/ä',
    '/%zz',
    '/x?y=1#f',
    'no-slash',
    '/\n',
    '/\u0000',
    '/'.repeat(1100),
    `/${'a'.repeat(1030)}`,
  ),
  fc.webPath(),
);
const jsonText = fc.oneof(
  fc.json({ maxDepth: 3 }),
  fc
    .dictionary(fc.oneof(fc.constantFrom('http', '80', '8080', 'default', 'ports', 'x'), fc.string({ maxLength: 6 })), weird, {
      maxKeys: 4,
    })
    .map((o) => JSON.stringify(o)),
  fc
    .record(
      {
        default: fc.oneof(fc.constantFrom('bc', 'missing'), fc.string({ maxLength: 8 })),
        ports: fc.dictionary(fc.string({ maxLength: 5 }), fc.constantFrom('bc', 'other')),
      },
      { requiredKeys: [] },
    )
    .map((o) => JSON.stringify(o)),
  fc.string({ maxLength: 30 }),
);
const number = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 30 }) },
  fc.integer({ min: -5, max: 400 }),
  fc.constantFrom(0, -1, 1, 300, 301, 65535, 65536, 2 ** 31, Number.MAX_SAFE_INTEGER),
  fc.double({ noNaN: false }),
);
const portRef = fc.oneof(number, fc.constantFrom('http', 'web', 'metrics', ''), fc.string({ maxLength: 16 }));
const annotations = fc.oneof(
  { weight: 2, arbitrary: fc.constant({}) },
  {
    weight: 3,
    arbitrary: fc.constantFrom<Record<string, string>>(
      { 'hcsync.io/health-path': '/healthz' },
      { 'hcsync.io/health-paths': '{"http":"/a","8080":"/b"}' },
      { 'hcsync.io/mode': 'observe' },
    ),
  },
  {
    weight: 3,
    arbitrary: fc.dictionary(
      fc.constantFrom(
        'hcsync.io/health-path',
        'hcsync.io/health-paths',
        'hcsync.io/mode',
        'cloud.google.com/backend-config',
        'beta.cloud.google.com/backend-config',
        'cloud.google.com/app-protocols',
        'service.alpha.kubernetes.io/app-protocols',
        'cloud.google.com/neg',
      ),
      fc.oneof(
        weird,
        jsonText,
        fc.constantFrom('enforce', 'observe', 'ignore', 'Enforce', '{"http":"HTTPS"}', '{"http":"HTTP2","80":"gRPC"}'),
      ),
      { maxKeys: 4 },
    ),
  },
);
const servicePort: fc.Arbitrary<SlimServicePort> = fc.record(
  {
    name: fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom('http', 'web', 'https') },
      { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
    ),
    port: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(80, 443, 8080) }, { weight: 1, arbitrary: number }),
    targetPort: fc.oneof({ weight: 3, arbitrary: fc.constantFrom('http', 'web', 8000, 8080) }, { weight: 1, arbitrary: portRef }),
  },
  { requiredKeys: ['port', 'targetPort'] },
);
const probe: fc.Arbitrary<SlimProbe> = fc.record(
  {
    handler: fc.constantFrom('httpGet', 'httpGet', 'httpGet', 'tcpSocket', 'exec', 'grpc', 'none'),
    httpGet: fc
      .record(
        {
          path: weird,
          port: fc.oneof({ weight: 3, arbitrary: fc.constantFrom('http', 'web', 8000, 8080) }, { weight: 1, arbitrary: portRef }),
          host: fc.oneof(
            fc.constantFrom('', 'example.com', 'EXAMPLE.com', '-bad', 'a..b', 'x'.repeat(300)),
            fc.domain(),
            fc.string({ maxLength: 20 }),
          ),
          scheme: fc.oneof(fc.constantFrom('HTTP', 'HTTPS', 'http', 'TCP'), fc.string({ maxLength: 6 })),
          httpHeaders: fc.array(
            fc.record({
              name: fc.oneof(fc.constantFrom('Host', 'host', 'X-A', ''), fc.string({ maxLength: 10 })),
              value: fc.oneof(fc.domain(), weird),
            }),
            { maxLength: 3 },
          ),
        },
        { requiredKeys: ['port'] },
      )
      .map((g) => (g.path?.startsWith('/h') ? { port: g.port, path: g.path } : g)),
    timeoutSeconds: number,
    periodSeconds: number,
  },
  { requiredKeys: ['handler'] },
);
const pod = (i: number): fc.Arbitrary<SlimPod> =>
  fc
    .record({
      containers: fc.array(
        fc.record(
          {
            name: fc.constantFrom('app', 'side'),
            ports: fc.array(
              fc.record(
                {
                  name: fc.oneof(
                    { weight: 3, arbitrary: fc.constantFrom('http', 'web') },
                    { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
                  ),
                  containerPort: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(8000, 8080) }, { weight: 1, arbitrary: number }),
                },
                { requiredKeys: ['containerPort'] },
              ),
              {
                maxLength: 3,
              },
            ),
            readinessProbe: probe,
            livenessProbe: probe,
          },
          { requiredKeys: ['name', 'ports'] },
        ),
        { minLength: 1, maxLength: 2 },
      ),
      phase: fc.constantFrom('Running', 'Pending', 'Succeeded', undefined),
      deleting: fc.boolean(),
      created: fc.constantFrom('2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', 'garbage', undefined),
    })
    .map(({ containers, phase, deleting, created }) => ({
      metadata: {
        namespace: 'tenant-a',
        name: `web-${i}`,
        uid: `pod-${i}`,
        resourceVersion: '1',
        labels: { app: 'web' },
        ...(created ? { creationTimestamp: created } : {}),
        ...(deleting ? { deletionTimestamp: '2026-01-03T00:00:00Z' } : {}),
      },
      spec: { containers },
      status: phase ? { phase } : {},
    }));
const backendConfig = (name: string): fc.Arbitrary<SlimBackendConfig> =>
  fc
    .record({ requestPath: weird, checkIntervalSec: number, timeoutSec: number }, { requiredKeys: [] })
    .chain((hc) => fc.constantFrom<SlimBackendConfig['healthCheck']>(hc, undefined))
    .map((healthCheck) => ({
      metadata: { namespace: 'tenant-a', name, uid: `bc-${name}`, resourceVersion: '1' },
      ...(healthCheck ? { healthCheck } : {}),
    }));
const ingressOf = (svcName: string, ports: readonly SlimServicePort[]): fc.Arbitrary<SlimIngress> =>
  fc
    .record({
      className: fc.constantFrom(undefined, 'gce', 'gce-internal', 'gce-regional-external', 'nginx', ''),
      // Mostly a backend on one of the Service's ports (by number or name), so most inputs reach intent and plan.
      backends: fc.array(
        fc.record({
          service: fc.constantFrom(svcName, svcName, svcName, 'other'),
          port: fc.oneof(
            { weight: 4, arbitrary: fc.constantFrom(...ports.flatMap((p) => (p.name ? [p.port, p.name] : [p.port]))) },
            { weight: 1, arbitrary: portRef },
          ),
        }),
        { minLength: 1, maxLength: 3 },
      ),
      // GKE's backends annotation: mostly one backend service per Service port (bs-<index>), sometimes junk.
      gke: fc.oneof(
        { weight: 4, arbitrary: fc.constant(JSON.stringify(Object.fromEntries(ports.map((_, i) => [`bs-${i}`, 'HEALTHY'])))) },
        { weight: 1, arbitrary: fc.oneof(fc.constant(undefined), jsonText) },
      ),
    })
    .map(({ className, backends, gke }) => ({
      metadata: {
        namespace: 'tenant-a',
        name: 'ing',
        uid: 'uid-ing',
        resourceVersion: '1',
        ...(gke !== undefined ? { annotations: { 'ingress.kubernetes.io/backends': gke } } : {}),
      },
      ...(className !== undefined ? { className } : {}),
      backends,
    }));
const live: fc.Arbitrary<LiveHealthCheck | undefined> = fc.option(
  fc
    .record({
      type: fc.constantFrom('HTTP', 'HTTP', 'HTTP', 'HTTPS', 'HTTP2', 'TCP', 'GRPC'),
      checkIntervalSec: fc.integer({ min: 1, max: 300 }),
      timeoutSec: fc.integer({ min: 1, max: 300 }),
      requestPath: fc.constantFrom('/', '', '/healthz'),
      host: fc.constantFrom('', 'example.com'),
    })
    .map((l) => ({
      name: 'k8s1-abc-tenant-a-web-80-x',
      scope: { kind: 'global' as const },
      id: '1',
      type: l.type,
      checkIntervalSec: l.checkIntervalSec,
      timeoutSec: l.timeoutSec,
      block: { requestPath: l.requestPath, host: l.host },
    })),
  { nil: undefined, freq: 12 },
);

const world = fc
  .record({
    name: fc.oneof(fc.constant('web'), fc.string({ minLength: 1, maxLength: 12 })),
    annotations,
    ports: fc.array(servicePort, { minLength: 1, maxLength: 3 }),
    pods: fc.tuple(pod(1), pod(2), pod(3)).chain((ps) => fc.subarray(ps)),
    bcs: fc.tuple(backendConfig('bc'), backendConfig('other')),
    ingresses: fc.constant(null),
    live,
    backendKind: fc.constantFrom('neg', 'ig', 'unknown'),
    inferFromLiveness: fc.boolean(),
    mode: fc.constantFrom('enforce', 'observe'),
    allowServiceEnforce: fc.boolean(),
  })
  .chain((w) => fc.array(ingressOf(w.name, w.ports), { minLength: 1, maxLength: 2 }).map((ingresses) => ({ ...w, ingresses })));

type World = typeof world extends fc.Arbitrary<infer T> ? T : never;

function assess(w: World): { svc: SlimService; result: ServiceAssessment } {
  const svc: SlimService = {
    metadata: { namespace: 'tenant-a', name: w.name, uid: 'uid-svc', resourceVersion: '1', annotations: w.annotations },
    spec: { selector: { app: 'web' }, ports: w.ports },
    status: { conditions: [] },
  };
  const view: ClusterView = {
    service: (ns, n) => (ns === 'tenant-a' && n === w.name ? svc : undefined),
    podsFor: () => w.pods,
    ingressesFor: (ns, n) => (ns === 'tenant-a' ? w.ingresses.filter((i) => i.backends.some((b) => b.service === n)) : []),
    backendConfig: (ns, n) => (ns === 'tenant-a' ? w.bcs.find((b) => b.metadata.name === n) : undefined),
  };
  const backends: BackendReader = {
    backendService: (name): BackendServiceRef | undefined => {
      const port = w.ports[Number(/^bs-(\d+)$/.exec(name)?.[1] ?? -1)];
      if (!port) return undefined;
      return {
        name,
        scope: { kind: 'global' },
        healthCheck: { name: `hc-${name}`, scope: { kind: 'global' } },
        service: { namespace: 'tenant-a', name: w.name, port: String(port.port) },
        backendKind: w.backendKind,
      };
    },
    healthCheck: () => w.live,
  };
  const result = assessService(svc, view, backends, {
    mode: w.mode,
    inferFromLiveness: w.inferFromLiveness,
    allowServiceEnforce: w.allowServiceEnforce,
  });
  return { svc, result };
}

interface Finding {
  readonly what: string;
  readonly example: string;
}

/** Runs one generated world; returns its violations (a throw is one too). */
function check(w: World, figures: Figures): Finding[] {
  const out: Finding[] = [];
  let svc: SlimService;
  let result: ServiceAssessment;
  try {
    ({ svc, result } = assess(w));
  } catch (e) {
    return [{ what: 'throw', example: String(e instanceof Error ? e.stack : e).slice(0, 400) }];
  }
  if (!result.managed) return out;
  for (const p of result.ports) {
    figures.ports++;
    figures.states.set(p.plan.state, (figures.states.get(p.plan.state) ?? 0) + 1);
    if (p.plan.state === 'patch') {
      figures.patch++;
      const patch = p.plan.patch;
      const liveNow = w.live!;
      if (patch.requestPath !== undefined && !(patch.requestPath.length <= 1024 && PATH_OK.test(patch.requestPath))) {
        out.push({ what: 'invalid patch: requestPath', example: JSON.stringify(patch) });
      }
      if (patch.host !== undefined && patch.host !== '' && !HOST_OK.test(patch.host))
        out.push({ what: 'invalid patch: host', example: JSON.stringify(patch) });
      const timeout = patch.timeoutSec ?? liveNow.timeoutSec;
      const interval = patch.checkIntervalSec ?? liveNow.checkIntervalSec;
      if (!(Number.isInteger(timeout) && Number.isInteger(interval) && 1 <= timeout && timeout <= interval && interval <= 300)) {
        out.push({
          what: 'invalid patch: timing',
          example: `${JSON.stringify(patch)} over live ${liveNow.timeoutSec}/${liveNow.checkIntervalSec}`,
        });
      }
    }
    const rejection = p.intent.kind === 'invalid' ? p.intent.error : p.plan.state === 'invalid' ? p.plan.why : undefined;
    if (rejection !== undefined) {
      figures.invalid++;
      const object = `${svc.metadata.namespace}/${svc.metadata.name}`;
      if (!rejection.includes(object))
        out.push({ what: `rejection without the object (${p.intent.kind === 'invalid' ? 'intent' : 'plan'})`, example: rejection });
      else if (!FIELD_WORD.test(rejection)) out.push({ what: 'rejection without a field', example: rejection });
      else if (!EXPECTED_WORD.test(rejection)) out.push({ what: 'rejection without what was expected', example: rejection });
    }
  }
  return out;
}

interface Figures {
  ports: number;
  patch: number;
  invalid: number;
  states: Map<string, number>;
}

describe('property: generated bad input through parse → intent → plan (assessService)', function () {
  this.timeout(120_000);
  const figures: Figures = { ports: 0, patch: 0, invalid: 0, states: new Map() };
  const findings = new Map<string, { count: number; example: string }>();
  const count = (prefix: string) => [...findings].filter(([k]) => k.startsWith(prefix)).reduce((n, [, v]) => n + v.count, 0);
  const examples = (prefix: string) =>
    [...findings]
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, v]) => `${k}: ${v.count}, e.g. ${v.example}`)
      .join('\n');

  before(() => {
    for (const w of fc.sample(world, { numRuns: RUNS, seed: SEED })) {
      for (const f of check(w, figures)) {
        const have = findings.get(f.what);
        findings.set(f.what, { count: (have?.count ?? 0) + 1, example: have?.example ?? f.example });
      }
    }
    const states = [...figures.states].map(([k, v]) => `${k} ${v}`).join(', ');
    process.stdout.write(
      `      ${RUNS} generated Services (seed ${SEED}), ${figures.ports} assessed ports: ${figures.patch} patch plans, ${figures.invalid} rejections; states: ${states}\n` +
        `      findings: ${[...findings].map(([k, v]) => `${k} ${v.count}`).join(', ') || 'none'}\n`,
    );
  });

  it(`${RUNS} generated Services: assessment never throws (shrunk by fast-check if it does)`, () => {
    fc.assert(
      fc.property(world, (w) => {
        assess(w);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('every plan that would patch carries only fields GCE accepts (path, host, 1 ≤ timeout ≤ interval ≤ 300)', () => {
    assert.equal(count('invalid patch'), 0, examples('invalid patch'));
  });

  it('every rejection names the object (namespace/name), the field and what was expected', () => {
    assert.equal(count('rejection'), 0, examples('rejection'));
  });
});
