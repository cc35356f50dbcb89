// Issue 11, end to end: after a burst of patches, hcsync re-verifies the patched checks (docs
// §5.7: ingress-gce's GET → merge → PUT may silently revert a patch) through one coalesced list
// instead of a GET per check — and still finds and re-applies a reverted one. The built hcsync
// with the shipped RBAC on the real kube-apiserver, the Compute stand-in and the ingress-gce
// stand-in; --resync is 10 min, so every list after start-up is one the re-verifies asked for.
import assert from 'node:assert/strict';
import { GlobalOperationsClient, HealthChecksClient, type protos } from '@google-cloud/compute';
import { TestBed, until, type HcsyncProcess } from '../../testbed/bed.js';
import { computeClientOptions } from '../../testbed/compute/index.js';

type IHealthCheck = protos.google.cloud.compute.v1.IHealthCheck;
type IOperation = protos.google.cloud.compute.v1.IOperation;

const NS = 'reverify-lists';
/** More than reconcile's 20 pending re-reads, so they go to a list. */
const SERVICES = 30;
const PORT = 80;

describe('e2e: re-verify after a burst of patches through one list (issue 11)', function () {
  this.timeout(240_000);
  let bed: TestBed;
  let hcs: HealthChecksClient;
  let ops: GlobalOperationsClient;
  let hcsync: HcsyncProcess;

  const names = Array.from({ length: SERVICES }, (_, i) => `s${i}`);
  const getHc = async (svc: string): Promise<IHealthCheck | undefined> => {
    try {
      return (await hcs.get({ project: bed.project, healthCheck: bed.checkName(NS, svc, PORT) }))[0];
    } catch {
      return undefined;
    }
  };
  const livePath = async (svc: string) => (await getHc(svc))?.httpHealthCheck?.requestPath;
  const hcsyncCount = async (method: string) => (await hcsync.metric('hcsync_gcp_requests_total', { method, code: '200' })) ?? 0;
  /** PATCHes of a check, from the stand-in's own log (only hcsync patches; the test's stale write is a PUT). */
  const patchesTo = (svc: string) =>
    bed.compute.requestLog().filter((r) => r.api === 'healthChecks.patch' && r.resource === bed.checkName(NS, svc, PORT)).length;

  before(async () => {
    bed = await TestBed.start();
    hcs = new HealthChecksClient(computeClientOptions(bed.compute.endpoint));
    ops = new GlobalOperationsClient(computeClientOptions(bed.compute.endpoint));
    await bed.gke.start();
    await bed.ensureNamespace(NS);
    for (const s of names) await bed.createService(NS, s, PORT, { 'hcsync.io/health-path': '/ready' });
    await bed.net.createNamespacedIngress({
      namespace: NS,
      body: {
        metadata: { name: 'ing' },
        spec: {
          defaultBackend: { service: { name: 's0', port: { number: PORT } } },
          rules: [
            {
              http: {
                paths: names.map((s) => ({ path: `/${s}`, pathType: 'Prefix', backend: { service: { name: s, port: { number: PORT } } } })),
              },
            },
          ],
        },
      },
    });
    // Set-up: GKE's checks exist (at "/") before hcsync starts.
    await until(
      'GKE created the checks',
      async () => ((await Promise.all(names.map(getHc))).every(Boolean) ? true : undefined),
      120_000,
      250,
    );
  });

  after(async () => {
    await hcs?.close();
    await ops?.close();
    await bed?.stop();
  });

  it('no GET per patched check: one list re-verifies them all, and the check a stale PUT reverted is re-applied once', async () => {
    hcsync = await bed.spawnHcsync(['run', '--resync', '10m', '--gcp-write-qps', '50'], await bed.hcsyncKubeconfig());
    // Right after hcsync patched s3, ingress-gce's PUT built from a GET made before the patch lands: back to "/".
    await until('s3 patched', async () => ((await livePath('s3')) === '/ready' ? true : undefined), 60_000, 20);
    const stale = (await getHc('s3'))!;
    const [op] = await hcs.update({
      project: bed.project,
      healthCheck: bed.checkName(NS, 's3', PORT),
      healthCheckResource: { ...stale, httpHealthCheck: { ...stale.httpHealthCheck, requestPath: '/' } },
    });
    for (;;) {
      const [o] = await ops.wait({ project: bed.project, operation: (op.latestResponse as IOperation).name ?? '' });
      if (o.status === 'DONE') break;
    }
    assert.equal(await livePath('s3'), '/');
    await until(
      'every check at /ready',
      async () => ((await Promise.all(names.map(livePath))).every((p) => p === '/ready') ? true : undefined),
      60_000,
    );
    // Re-verifies fall due 10 s after each patch; the coalesced list starts at most 15 s after the last list.
    await until('s3 re-applied', async () => ((await livePath('s3')) === '/ready' && patchesTo('s3') === 2 ? true : undefined), 60_000);
    // Let every re-verify run (due 10 s after its patch, then a list at most one 15 s interval later).
    await new Promise((r) => setTimeout(r, 30_000));
    assert.equal(await hcsyncCount('healthChecks.get'), 0, 'no re-verify GET');
    const lists = await hcsyncCount('healthChecks.aggregatedList');
    assert.ok(lists >= 2 && lists <= 4, `the start-up list plus one to three re-verify lists, got ${lists}`);
    assert.deepEqual(
      names.map(patchesTo),
      names.map((s) => (s === 's3' ? 2 : 1)),
      'one PATCH per check, two for the reverted one (a re-apply is not re-verified again)',
    );
    assert.equal(await hcsync.stop(), 0);
  });
});
