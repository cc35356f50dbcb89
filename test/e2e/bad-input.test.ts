// Generated bad input through the real API server with hcsync running: 200+ generated Services
// (annotations, ports) with Pods (probes of any kind, ports by name or number, headers, hosts,
// timings) behind Ingresses. The API server rejects some (they do not count); the rest are applied.
// Goals: hcsync stays alive with no unhandled error in its log, sends GCP no write it rejects
// (the Compute stand-in validates like GCE: any 400 to hcsync is an invalid write), and every
// InvalidIntent condition names the object and the field.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ApiException, PatchStrategy, setHeaderOptions, type V1Probe } from '@kubernetes/client-node';
import { TestBed, until, type HcsyncProcess } from '../../testbed/bed.js';

/** Generated; the API server rejects some, at least 200 must be applied. */
const SERVICES = 300;
const PER_INGRESS = 20;
const NS = 'generated';
const SEED = 20261129;

const path = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('/healthz', '/ready', '/a;b', '/%41') },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
  fc.constantFrom('', 'no-slash', '/a b', '/ä', '/%zz', '/x?y=1#f', `/${'a'.repeat(1030)}`),
);
const smallInt = fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 1, max: 30 }) }, fc.constantFrom(0, -1, 301, 100000, 2 ** 31 - 1));
const probe: fc.Arbitrary<V1Probe | undefined> = fc.option(
  fc.record(
    {
      httpGet: fc.record(
        {
          path,
          port: fc.oneof(fc.constantFrom<number | string>('http', 'web', 8080, 0, 65536, 'Bad_Name'), fc.integer({ min: -1, max: 70000 })),
          host: fc.oneof(fc.constantFrom('example.com', '-bad', 'a..b'), fc.domain()),
          scheme: fc.constantFrom('HTTP', 'HTTPS', 'TCP'),
          httpHeaders: fc.array(fc.record({ name: fc.constantFrom('Host', 'X-A', 'bad header'), value: fc.oneof(fc.domain(), path) }), {
            maxLength: 2,
          }),
        },
        { requiredKeys: ['port'] },
      ),
      timeoutSeconds: smallInt,
      periodSeconds: smallInt,
    },
    { requiredKeys: ['httpGet'] },
  ),
  { freq: 4 },
);
const annotations = fc.dictionary(
  fc.constantFrom(
    'hcsync.io/health-path',
    'hcsync.io/health-paths',
    'hcsync.io/mode',
    'cloud.google.com/backend-config',
    'cloud.google.com/app-protocols',
  ),
  fc.oneof(
    path,
    fc.json({ maxDepth: 2 }),
    fc.constantFrom('enforce', 'observe', 'ignore', 'bogus', '{"http":"/x"}', '{"default":"missing"}', '{"http":"HTTPS"}'),
  ),
  { maxKeys: 3 },
);
const generated = fc.record({
  annotations,
  portName: fc.constantFrom('http', 'web', 'Bad_Name', ''),
  port: fc.oneof(fc.constant(80), fc.integer({ min: -1, max: 70000 })),
  targetPort: fc.constantFrom<number | string>('http', 'web', 8080, 0),
  containerPortName: fc.constantFrom('http', 'web', 'x'),
  readinessProbe: probe,
  livenessProbe: probe,
});

describe('e2e: generated bad input through the real API server, hcsync running', function () {
  this.timeout(400_000);
  let bed: TestBed;
  let hcsync: HcsyncProcess;

  before(async () => {
    bed = await TestBed.start({ gkeSyncPeriodMs: 2000 });
    await bed.gke.start();
    const kubeconfig = await bed.hcsyncKubeconfig();
    const endpoint = await bed.compute.endpointFor('hcsync');
    hcsync = await bed.spawnHcsync(['run', '--resync', '5s', '--gcp-write-qps', '50', '--namespaces', NS], kubeconfig, {
      computeEndpoint: endpoint,
    });
    await until('hcsync ready', async () => ((await hcsync.ready()) ? true : undefined), 60_000);
  });

  after(async () => {
    await bed?.stop();
  });

  it(`${SERVICES} generated Services: no crash, no invalid write to GCP, every InvalidIntent names object and field`, async () => {
    await bed.ensureNamespace(NS);
    const app = await bed.startApp('127.0.0.90', ['/healthz', '/ready']);
    const samples = fc.sample(generated, { numRuns: SERVICES, seed: SEED });
    const applied: string[] = [];
    let rejected = 0;
    for (const [i, g] of samples.entries()) {
      const name = `g${i}`;
      try {
        await bed.core.createNamespacedService({
          namespace: NS,
          body: {
            metadata: { name, annotations: g.annotations },
            spec: {
              selector: { app: name },
              ports: [{ ...(g.portName ? { name: g.portName } : {}), port: g.port, targetPort: g.targetPort }],
            },
          },
        });
      } catch (e) {
        if (e instanceof ApiException && (e.code === 422 || e.code === 400)) {
          rejected++;
          continue;
        }
        throw e;
      }
      applied.push(name);
      try {
        await bed.core.createNamespacedPod({
          namespace: NS,
          body: {
            metadata: { name: `${name}-1`, labels: { app: name } },
            spec: {
              containers: [
                {
                  name: 'app',
                  image: 'example/app',
                  ports: [{ name: g.containerPortName, containerPort: 8080 }],
                  ...(g.readinessProbe ? { readinessProbe: g.readinessProbe } : {}),
                  ...(g.livenessProbe ? { livenessProbe: g.livenessProbe } : {}),
                },
              ],
            },
          },
        });
        await bed.core.patchNamespacedPodStatus(
          {
            name: `${name}-1`,
            namespace: NS,
            body: {
              status: { phase: 'Running', podIP: app.ip, podIPs: [{ ip: app.ip }], conditions: [{ type: 'Ready', status: 'True' }] },
            },
          },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
      } catch (e) {
        if (!(e instanceof ApiException && (e.code === 422 || e.code === 400))) throw e;
        rejected++; // the Pod was rejected; its Service stays (no intent from Pods)
      }
    }
    const services = await bed.core.listNamespacedService({ namespace: NS });
    const ports = new Map(services.items.map((s) => [s.metadata?.name ?? '', s.spec?.ports?.[0]?.port ?? 80]));
    for (let k = 0; k * PER_INGRESS < applied.length; k++) {
      const chunk = applied.slice(k * PER_INGRESS, (k + 1) * PER_INGRESS);
      await bed.net.createNamespacedIngress({
        namespace: NS,
        body: {
          metadata: { name: `ing-${k}` },
          spec: {
            rules: [
              {
                http: {
                  paths: chunk.map((s) => ({
                    path: `/${s}`,
                    pathType: 'Prefix',
                    backend: { service: { name: s, port: { number: ports.get(s) ?? 80 } } },
                  })),
                },
              },
            ],
          },
        },
      });
    }
    // Let GKE create the checks and hcsync go over all of them a few times.
    await new Promise((r) => setTimeout(r, 45_000));

    const hcsyncCalls = bed.compute.requestLog().filter((r) => r.caller === 'hcsync');
    const writes = hcsyncCalls.filter((r) => r.api.endsWith('ealthChecks.patch'));
    const invalidWrites = writes.filter((r) => r.status === 400);
    const alive = await hcsync.ready(); // /readyz answers only while the process lives
    const unhandled = hcsync.lines.filter((l) => /unhandled|uncaught|TypeError|RangeError|SyntaxError/i.test(l) || !l.startsWith('{'));
    const after = await bed.core.listNamespacedService({ namespace: NS });
    const conditions = after.items.flatMap((s) =>
      (s.status?.conditions ?? []).filter((c) => c.type === 'HealthCheckInSync').map((c) => ({ name: s.metadata?.name ?? '', ...c })),
    );
    const invalidIntent = conditions.filter((c) => c.reason === 'InvalidIntent');
    const vague = invalidIntent.filter(
      (c) =>
        !(c.message.includes(`${NS}/${c.name}`) || c.message.includes('port ')) ||
        !/hcsync\.io\/|cloud\.google\.com\/|requestPath|host|timeoutSec|checkIntervalSec|probe|path|port|header|scheme|mode/i.test(
          c.message,
        ),
    );
    const byReason = new Map<string, number>();
    for (const c of conditions) byReason.set(c.reason, (byReason.get(c.reason) ?? 0) + 1);
    process.stdout.write(
      `      ${SERVICES} generated (seed ${SEED}): ${applied.length} Services applied, ${rejected} objects rejected by the API server; ` +
        `hcsync ${alive ? 'alive' : 'DEAD'}, ${unhandled.length} unhandled-error log lines; ${writes.length} patches, ${invalidWrites.length} answered 400; ` +
        `conditions: ${[...byReason].map(([k, v]) => `${k} ${v}`).join(', ')}; InvalidIntent without object/field: ${vague.length}\n`,
    );
    if (vague[0]) process.stdout.write(`      e.g. ${vague[0].name}: ${vague[0].message}\n`);
    if (invalidWrites[0]) process.stdout.write(`      e.g. 400 for ${JSON.stringify(invalidWrites[0].body)}\n`);
    assert.ok(applied.length >= 200, `only ${applied.length} applied`);
    assert.ok(alive, 'hcsync exited');
    assert.deepEqual(unhandled.slice(0, 3), []);
    assert.equal(invalidWrites.length, 0);
    assert.equal(vague.length, 0, vague.map((c) => c.message).join('\n'));
  });
});
