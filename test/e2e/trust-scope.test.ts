// Issue 8, end to end: hcsync must never cause the 502 it exists to prevent. The built hcsync as
// its own process, with the production RBAC, on the real API server, the Compute stand-in and
// the ingress-gce stand-in:
//   - Ingresses that are not GKE's (nginx annotation, ingressClassName nginx, ingressClassName gce
//     without annotation) get no check from GKE and nothing from hcsync: no condition, no patch,
//     no GCP request (not even the re-list a stale backends annotation would ask for);
//   - a Service port behind a gce and a gce-internal Ingress: both checks (global and regional)
//     patched, the condition names both, `diagnose` shows each Ingress its own;
//   - a probe without a Host header never clears a host set by hand.
// Everything is set up before hcsync starts, and hcsync re-reads GCP only every 10 minutes, so
// any further aggregatedList would be one a reconcile asked for.
import assert from 'node:assert/strict';
import { GlobalOperationsClient, HealthChecksClient, RegionHealthChecksClient, type protos } from '@google-cloud/compute';
import { TestBed, until, type HcsyncProcess } from '../../testbed/bed.js';
import { computeClientOptions } from '../../testbed/compute/index.js';

const PORT = 80;

describe('e2e: trust scope (non-GKE Ingresses, two load balancers on one port, hand-set host)', function () {
  this.timeout(180_000);
  let bed: TestBed;
  let hcs: HealthChecksClient;
  let rhcs: RegionHealthChecksClient;
  let ops: GlobalOperationsClient;
  let hcsync: HcsyncProcess;
  let nextIp = 120;

  const globalCheck = async (ns: string, svc: string): Promise<protos.google.cloud.compute.v1.IHealthCheck | undefined> => {
    try {
      return (await hcs.get({ project: bed.project, healthCheck: bed.checkName(ns, svc, PORT) }))[0];
    } catch {
      return undefined;
    }
  };
  const regionalCheck = async (ns: string, svc: string) => {
    try {
      return (await rhcs.get({ project: bed.project, region: bed.region, healthCheck: bed.checkName(ns, svc, PORT) }))[0];
    } catch {
      return undefined;
    }
  };

  async function serviceWithPod(ns: string, opts: { pod: boolean }): Promise<void> {
    await bed.ensureNamespace(ns);
    await bed.createService(ns, 'web', PORT);
    if (opts.pod) await addPod(ns);
  }
  async function addPod(ns: string): Promise<void> {
    const app = await bed.startApp(`127.0.0.${nextIp++}`, ['/ready']);
    await bed.createPod(ns, 'web-1', {
      ip: app.ip,
      port: app.port,
      labels: { app: 'web' },
      readinessProbe: { httpGet: { path: '/ready', port: app.port }, periodSeconds: 10, timeoutSeconds: 2 },
    });
  }
  async function createIngress(
    ns: string,
    name: string,
    o: { annotations?: Record<string, string>; ingressClassName?: string } = {},
  ): Promise<void> {
    await bed.net.createNamespacedIngress({
      namespace: ns,
      body: {
        metadata: { name, ...(o.annotations ? { annotations: o.annotations } : {}) },
        spec: {
          ...(o.ingressClassName ? { ingressClassName: o.ingressClassName } : {}),
          defaultBackend: { service: { name: 'web', port: { number: PORT } } },
        },
      },
    });
  }
  const backendsAnnotation = async (ns: string, ing: string) =>
    (await bed.net.readNamespacedIngress({ namespace: ns, name: ing })).metadata?.annotations?.['ingress.kubernetes.io/backends'];

  before(async () => {
    bed = await TestBed.start({ gkeSyncPeriodMs: 500 });
    hcs = new HealthChecksClient(computeClientOptions(bed.compute.endpoint));
    rhcs = new RegionHealthChecksClient(computeClientOptions(bed.compute.endpoint));
    ops = new GlobalOperationsClient(computeClientOptions(bed.compute.endpoint));
    await bed.gke.start();

    // Not GKE's: three Ingresses GKE ignores, one with the stale backends annotation of a check.
    await serviceWithPod('t-class', { pod: true });
    await createIngress('t-class', 'nginx-annotation', {
      annotations: {
        'kubernetes.io/ingress.class': 'nginx',
        'ingress.kubernetes.io/backends': JSON.stringify({ [bed.checkName('t-class', 'web', PORT)]: 'HEALTHY' }),
      },
    });
    await createIngress('t-class', 'nginx-class', { ingressClassName: 'nginx' });
    await createIngress('t-class', 'gce-class-name', { ingressClassName: 'gce' });

    // One port behind an external (gce) and an internal (gce-internal) load balancer. The Pod comes
    // after GKE made both checks, so both probe GKE's default "/".
    await serviceWithPod('t-multi', { pod: false });
    await createIngress('t-multi', 'ext');
    await createIngress('t-multi', 'int', { annotations: { 'kubernetes.io/ingress.class': 'gce-internal' } });
    await until('GKE made the global and the regional check', async () =>
      (await globalCheck('t-multi', 'web')) && (await regionalCheck('t-multi', 'web')) ? true : undefined,
    );
    await until('GKE annotated both Ingresses', async () =>
      (await backendsAnnotation('t-multi', 'ext')) && (await backendsAnnotation('t-multi', 'int')) ? true : undefined,
    );
    await addPod('t-multi');

    // A virtual-host backend: someone set the check's host by hand; the probe has no Host header.
    await serviceWithPod('t-host', { pod: false });
    await createIngress('t-host', 'ing');
    await until('GKE made the check of t-host', () => globalCheck('t-host', 'web'));
    await until('GKE annotated the Ingress', () => backendsAnnotation('t-host', 'ing'));
    const [started] = await hcs.patch({
      project: bed.project,
      healthCheck: bed.checkName('t-host', 'web', PORT),
      healthCheckResource: { httpHealthCheck: { host: 'vhost.example.com' } },
    });
    const op = started.latestResponse as protos.google.cloud.compute.v1.IOperation;
    await until('hand edit done', async () =>
      (await ops.wait({ project: bed.project, operation: op.name ?? '' }))[0].status === 'DONE' ? true : undefined,
    );
    await addPod('t-host');
    await until('the hand-set host is in place', async () =>
      (await globalCheck('t-host', 'web'))?.httpHealthCheck?.host === 'vhost.example.com' ? true : undefined,
    );

    hcsync = await bed.spawnHcsync(['run', '--resync', '600s'], await bed.hcsyncKubeconfig());
    await until('hcsync ready', async () => ((await hcsync.ready()) ? true : undefined), 30_000);
  });

  after(async () => {
    await Promise.all([hcs?.close(), rhcs?.close(), ops?.close()]);
    await bed?.stop();
  });

  it('a port behind gce and gce-internal Ingresses: both checks patched, the condition names both', async () => {
    await until('both checks at /ready', async () =>
      (await globalCheck('t-multi', 'web'))?.httpHealthCheck?.requestPath === '/ready' &&
      (await regionalCheck('t-multi', 'web'))?.httpHealthCheck?.requestPath === '/ready'
        ? true
        : undefined,
    );
    const c = await until('condition Patched naming both checks', async () => {
      const cond = await bed.serviceCondition('t-multi', 'web');
      return cond?.reason === 'Patched' && cond.message.includes(`regions/${bed.region}/`) ? cond : undefined;
    });
    const name = bed.checkName('t-multi', 'web', PORT);
    assert.ok(c.message.includes(`(${name})`), c.message);
    assert.ok(c.message.includes(`(regions/${bed.region}/${name})`), c.message);
  });

  it('diagnose ingress shows each Ingress its own check', async () => {
    const ext = JSON.parse((await bed.hcsyncCommand(['diagnose', 'ingress', 'ext', '-n', 't-multi', '-o', 'json'])).stdout) as {
      backends: { healthCheck?: string }[];
    };
    const int = JSON.parse((await bed.hcsyncCommand(['diagnose', 'ingress', 'int', '-n', 't-multi', '-o', 'json'])).stdout) as {
      backends: { healthCheck?: string }[];
    };
    const name = bed.checkName('t-multi', 'web', PORT);
    assert.deepEqual(
      ext.backends.map((b) => b.healthCheck),
      [name],
    );
    assert.deepEqual(
      int.backends.map((b) => b.healthCheck),
      [`regions/${bed.region}/${name}`],
    );
  });

  it('a probe without a Host header: the path is patched, the hand-set host stays', async () => {
    await until('t-host at /ready', async () =>
      (await globalCheck('t-host', 'web'))?.httpHealthCheck?.requestPath === '/ready' ? true : undefined,
    );
    assert.equal((await globalCheck('t-host', 'web'))?.httpHealthCheck?.host, 'vhost.example.com');
    const c = await until('condition Patched', async () => {
      const cond = await bed.serviceCondition('t-host', 'web');
      return cond?.reason === 'Patched' ? cond : undefined;
    });
    assert.doesNotMatch(c.message, /host "/, 'no host change in the message');
  });

  it('Ingresses that are not GKE’s: no check from GKE, and from hcsync no condition, no patch, no GCP request', async () => {
    // Let hcsync settle, then watch a while longer than its 15 s re-list interval.
    const t0 = Date.now();
    const mark = (what: string) => process.stdout.write(`      ${what}: ${Date.now() - t0} ms\n`);
    await new Promise((r) => setTimeout(r, 20_000));
    mark('waited');
    assert.equal(await globalCheck('t-class', 'web'), undefined, 'the ingress-gce stand-in made no check for them');
    assert.equal(await regionalCheck('t-class', 'web'), undefined);
    mark('checks read');
    assert.equal(await bed.serviceCondition('t-class', 'web'), undefined, 'no condition on the Service');
    assert.equal(
      await hcsync.metric('hcsync_gcp_requests_total', { method: 'backendServices.aggregatedList' }),
      1,
      'only the start-up list: the stale backends annotation asked for no re-list',
    );
    assert.equal((await hcsync.metric('hcsync_health_checks', { state: 'not_ready' })) ?? 0, 0, 'no port waiting (no requeue)');
    const lines = hcsync.lines.filter((l) => l.includes('t-class'));
    assert.deepEqual(lines, [], 'hcsync logged nothing about the namespace');
    mark('asserted');
    assert.equal(await hcsync.stop(), 0);
    mark('stopped');
  });
});
