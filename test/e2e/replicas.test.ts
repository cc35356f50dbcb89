// Two replicas of the built hcsync with leader election on the real API server: one leads and
// writes; when it is killed, the other takes over within the lease duration; no patch is doubled.
import assert from 'node:assert/strict';
import { GlobalOperationsClient, HealthChecksClient } from '@google-cloud/compute';
import { TestBed, until, type HcsyncProcess } from '../../testbed/bed.js';
import { computeClientOptions } from '../../testbed/compute/index.js';

const NS = 'replicas';
const SVC = 'web';
const LEASE_MS = 4000;

describe('e2e: two replicas with leader election', function () {
  this.timeout(180_000);
  let bed: TestBed;
  let hcs: HealthChecksClient;
  let ops: GlobalOperationsClient;
  let a: HcsyncProcess;
  let b: HcsyncProcess;
  const check = () => bed.checkName(NS, SVC, 80);
  const livePath = async () => (await hcs.get({ project: bed.project, healthCheck: check() }))[0].httpHealthCheck?.requestPath;
  const handEdit = async (path: string) => {
    const [lro] = await hcs.patch({
      project: bed.project,
      healthCheck: check(),
      healthCheckResource: { httpHealthCheck: { requestPath: path } },
    });
    const name = (lro as { latestResponse?: { name?: string } }).latestResponse?.name ?? '';
    await until('hand edit applied', async () =>
      (await ops.wait({ project: bed.project, operation: name }))[0].status === 'DONE' ? true : undefined,
    );
  };
  const leader = async (p: HcsyncProcess) => (await p.metric('hcsync_leader').catch(() => undefined)) === 1;
  const replicaArgs = [
    'run',
    '--resync',
    '3s',
    '--leader-elect',
    'true',
    '--leader-election-namespace',
    'hcsync-system',
    '--lease-duration',
    `${LEASE_MS / 1000}s`,
    '--renew-deadline',
    '3s',
    '--retry-period',
    '500ms',
  ];

  before(async () => {
    bed = await TestBed.start();
    hcs = new HealthChecksClient(computeClientOptions(bed.compute.endpoint));
    ops = new GlobalOperationsClient(computeClientOptions(bed.compute.endpoint));
    await bed.ensureNamespace(NS);
    const app = await bed.startApp('127.0.0.20', ['/ready']);
    await bed.createService(NS, SVC, 80);
    await bed.createPod(NS, 'web-1', {
      ip: app.ip,
      port: app.port,
      labels: { app: SVC },
      readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 5, timeoutSeconds: 2 },
    });
    await bed.createIngress(NS, 'web', SVC, 80);
    await bed.gke.start();
    await until('GKE created the check', async () => ((await livePath()) === '/ready' ? true : undefined));
    await handEdit('/'); // the drift hcsync must repair
  });

  // A takeover that does not happen is only explained by the replicas' own logs.
  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    for (const p of [a, b] as (HcsyncProcess | undefined)[])
      if (p) console.log(`--- hcsync pid ${p.pid}\n${p.lines.slice(-25).join('\n')}`);
  });
  after(async () => {
    await hcs?.close();
    await ops?.close();
    await bed?.stop();
  });

  it('exactly one of two replicas leads, and only the leader patches', async () => {
    const kubeconfig = await bed.hcsyncKubeconfig();
    bed.compute.resetCounts();
    a = await bed.spawnHcsync(replicaArgs, kubeconfig);
    b = await bed.spawnHcsync(replicaArgs, kubeconfig);
    await until('a leader', async () => ((await leader(a)) || (await leader(b)) ? true : undefined), 30_000);
    await until('the drift repaired', async () => ((await livePath()) === '/ready' ? true : undefined), 30_000);
    await new Promise((r) => setTimeout(r, 4000)); // another resync on both replicas
    assert.notEqual(await leader(a), await leader(b), 'one leader, one standby');
    assert.equal(bed.compute.requestCounts()['healthChecks.patch'], 1, 'one patch, by the leader only');
    assert.equal(await b.ready(), true, 'the standby is ready too (warm caches)');
  });

  it('killing the leader: the standby takes over within the lease duration and repairs new drift once', async () => {
    const [dead, survivor] = (await leader(a)) ? [a, b] : [b, a];
    dead.kill(); // no chance to release the Lease: the survivor must wait it out
    const killedAt = Date.now();
    await until('the survivor leads', async () => ((await leader(survivor)) ? true : undefined), 30_000, 100);
    const takeover = Date.now() - killedAt;
    assert.ok(takeover <= LEASE_MS + 3000, `took over after ${takeover} ms (lease ${LEASE_MS} ms + jittered retry)`);
    bed.compute.resetCounts();
    await handEdit('/');
    await until('the new leader repaired the drift', async () => ((await livePath()) === '/ready' ? true : undefined), 30_000);
    await new Promise((r) => setTimeout(r, 4000));
    assert.equal(bed.compute.requestCounts()['healthChecks.patch'], 2, 'the hand edit and one repair: no duplicate patch');
    assert.equal(await survivor.stop(), 0);
  });
});
