// Pipelined writes end to end (issue 11): the built hcsync against the real kube-apiserver and a
// Compute stand-in whose Operations stay RUNNING for 2 s. Convergence is set by --gcp-write-qps,
// not by Operation latency × workers (before: four workers each blocked on one Operation, so 150
// checks took 150 × 2 s / 4 = 75 s against a 10 s quota bound), every check is patched exactly
// once, and every Service ends Patched (reported only once its Operation is DONE).
import assert from 'node:assert/strict';
import { EventsV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { TestBed, until, type HcsyncProcess } from '../../testbed/bed.js';
import type { RequestRecord } from '../../testbed/compute/index.js';

const S = 150;
const QPS = 15;
const OP_LATENCY_MS = 2000;
const NS = 'pipeline';
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const svcOf = (i: number) => `svc-${i}`;
const isPatch = (r: RequestRecord) => /[hH]ealthChecks\.patch$/.test(r.api) && r.status === 200;

describe('e2e: pipelined writes (2 s Operations)', function () {
  this.timeout(240_000);
  let bed: TestBed;
  let hcsync: HcsyncProcess;
  let names: string[];
  let logStart = 0;

  const log = () => bed.compute.requestLog().slice(logStart);
  const inSync = (name: string) => {
    const hc = bed.compute.resource('global', 'healthChecks', name) as
      { checkIntervalSec?: number; timeoutSec?: number; httpHealthCheck?: { requestPath?: string } } | undefined;
    return hc?.httpHealthCheck?.requestPath === '/ready' && hc.checkIntervalSec === 10 && hc.timeoutSec === 2;
  };

  before(async () => {
    bed = await TestBed.start({ operationDelayMs: OP_LATENCY_MS, compute: { probe: false } });
    await bed.ensureNamespace(NS);
    names = Array.from({ length: S }, (_, i) => bed.checkName(NS, svcOf(i), 80));
    // S headless Services (the bed's Service CIDR is small), each with an Ingress ingress-gce has
    // synced and one ready Pod whose readinessProbe is /ready every 10 s with a 2 s timeout.
    for (let i = 0; i < S; i += 10) {
      await Promise.all(
        Array.from({ length: Math.min(10, S - i) }, async (_, k) => {
          const n = i + k;
          const svc = svcOf(n);
          await bed.core.createNamespacedService({
            namespace: NS,
            body: {
              metadata: { name: svc, annotations: { 'cloud.google.com/neg': '{"ingress":true}' } },
              spec: { clusterIP: 'None', selector: { app: svc }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
            },
          });
          await bed.net.createNamespacedIngress({
            namespace: NS,
            body: {
              metadata: { name: `ing-${n}`, annotations: { 'ingress.kubernetes.io/backends': JSON.stringify({ [names[n]!]: 'HEALTHY' }) } },
              spec: { defaultBackend: { service: { name: svc, port: { number: 80 } } } },
            },
          });
          await bed.core.createNamespacedPod({
            namespace: NS,
            body: {
              metadata: { name: `${svc}-0`, labels: { app: svc } },
              spec: {
                containers: [
                  {
                    name: 'app',
                    image: 'example/app',
                    ports: [{ name: 'http', containerPort: 8080 }],
                    readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 10, timeoutSeconds: 2 },
                  },
                ],
              },
            },
          });
          const ip = `10.1.${n >> 8}.${n & 255}`;
          await bed.core.patchNamespacedPodStatus(
            {
              namespace: NS,
              name: `${svc}-0`,
              body: { status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: 'True' }] } },
            },
            merge,
          );
        }),
      );
    }
    // The checks ingress-gce built before the readinessProbe existed ("/", 15 s / 15 s), and their backend services.
    const link = (n: string) => `https://www.googleapis.com/compute/v1/projects/${bed.project}/global/healthChecks/${n}`;
    bed.compute.seed(
      'global',
      'healthChecks',
      names.map((name) => ({
        name,
        type: 'HTTP',
        checkIntervalSec: 15,
        timeoutSec: 15,
        httpHealthCheck: { portSpecification: 'USE_SERVING_PORT', requestPath: '/' },
      })),
    );
    bed.compute.seed(
      'global',
      'backendServices',
      names.map((name, n) => ({
        name,
        description: JSON.stringify({ 'kubernetes.io/service-name': `${NS}/${svcOf(n)}`, 'kubernetes.io/service-port': '80' }),
        healthChecks: [link(name)],
        backends: [
          { group: `https://www.googleapis.com/compute/v1/projects/${bed.project}/zones/${bed.zone}/networkEndpointGroups/${name}` },
        ],
      })),
    );
    logStart = bed.compute.requestLog().length;
    hcsync = await bed.spawnHcsync(
      ['run', '--mode=enforce', '--resync=30s', `--gcp-write-qps=${QPS}`, '--log-level=info'],
      await bed.hcsyncKubeconfig(),
    );
  });

  after(async () => {
    await bed?.stop();
  });

  it(`converges ${S} checks in ≈ S/qps (${S / QPS} s), not Operation latency × S / workers`, async () => {
    await until('every check in sync', () => (names.every(inSync) ? true : undefined), 120_000, 250);
    const patches = log().filter(isPatch);
    const first = patches[0]!.at;
    const seconds = (Date.now() - first) / 1000;
    const bound = S / QPS;
    console.log(
      `      ${S} checks, ${OP_LATENCY_MS} ms Operations, --gcp-write-qps ${QPS}: ${seconds.toFixed(1)} s from the first PATCH vs ${bound} s bound (${(seconds / bound).toFixed(2)}×)`,
    );
    // S/qps for the sends, plus one Operation latency for the last one, plus the 250 ms poll above.
    assert.ok(seconds <= bound + OP_LATENCY_MS / 1000 + 3, `${seconds} s for ${S} checks at ${QPS}/s (bound ${bound} s)`);
  });

  it('every check is patched exactly once, also across the resync after', async () => {
    await sleep(35_000); // one --resync with nothing to do
    const per = new Map<string, number>();
    for (const r of log().filter(isPatch)) per.set(r.resource ?? '?', (per.get(r.resource ?? '?') ?? 0) + 1);
    assert.equal(per.size, S);
    assert.deepEqual(
      [...per].filter(([, n]) => n !== 1),
      [],
    );
  });

  it('every Service says Patched, reported after its Operation was DONE, with one HealthCheckPatched each', async () => {
    const list = await bed.core.listNamespacedService({ namespace: NS });
    const reasons = list.items.map((s) => s.status?.conditions?.find((c) => c.type === 'HealthCheckInSync')?.reason);
    assert.deepEqual(
      reasons.filter((r) => r !== 'Patched'),
      [],
    );
    const events = await bed.kc.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: NS });
    const patched = new Map<string, number>();
    for (const e of events.items) {
      if (e.reason !== 'HealthCheckPatched') continue;
      const svc = e.regarding?.name ?? '';
      patched.set(svc, (patched.get(svc) ?? 0) + (e.series?.count ?? 1));
    }
    assert.equal(patched.size, S);
    assert.deepEqual(
      [...patched].filter(([, n]) => n !== 1),
      [],
    );
    // hcsync's own count agrees: S successful patches, none failed.
    assert.equal(await hcsync.metric('hcsync_health_check_patches_total', { result: 'success' }), S);
  });
});
