// A cluster without the BackendConfig CRD: hcsync runs and becomes ready, holds a Service whose
// BackendConfig it cannot read, and picks BackendConfigs up once the CRD appears (its informer keeps
// retrying quietly on 404).
import assert from 'node:assert/strict';
import { TestBed, until, type HcsyncProcess } from '../../testbed/bed.js';

const NS = 'nocrd';
const SVC = 'web';

describe('e2e: a cluster without the BackendConfig CRD', function () {
  this.timeout(180_000);
  let bed: TestBed;
  let hcsync: HcsyncProcess;

  before(async () => {
    bed = await TestBed.start({ backendConfigCrd: false });
    await bed.ensureNamespace(NS);
    const app = await bed.startApp('127.0.0.40', ['/ready', '/bc']);
    await bed.createService(NS, SVC, 80, { 'cloud.google.com/backend-config': '{"default":"bc"}' });
    await bed.createPod(NS, 'web-1', {
      ip: app.ip,
      port: app.port,
      labels: { app: SVC },
      readinessProbe: { httpGet: { path: '/ready', port: 'http' } },
    });
    await bed.createIngress(NS, 'web', SVC, 80);
    await bed.gke.start();
  });

  after(async () => {
    await bed?.stop();
  });

  it('hcsync starts, becomes ready, and holds the Service whose BackendConfig it cannot read (never the probe instead)', async () => {
    hcsync = await bed.spawnHcsync(['run', '--resync', '3s'], await bed.hcsyncKubeconfig());
    await until('ready without the CRD', async () => ((await hcsync.ready()) ? true : undefined), 30_000);
    const c = await until(
      'condition',
      async () => {
        const cond = await bed.serviceCondition(NS, SVC);
        return cond?.reason === 'RolloutInProgress' ? cond : undefined;
      },
      30_000,
    );
    assert.match(
      c.message,
      /BackendConfig nocrd\/bc, which annotation cloud.google.com\/backend-config names for port http\/80, is not known to hcsync/,
    );
    assert.equal((await hcsync.metric('hcsync_health_check_patches_total', { result: 'success' })) ?? 0, 0, 'nothing patched on a guess');
    assert.equal(
      hcsync.lines.filter((l) => /"level":"(warn|error)"/.test(l) && /backendconfigs/i.test(l)).length,
      0,
      'a missing CRD is not a warning',
    );
  });

  it('once the CRD and the BackendConfig appear, hcsync treats its requestPath as ingress-gce’s', async () => {
    await bed.installBackendConfigCrd();
    await bed.createBackendConfig(NS, 'bc', { requestPath: '/bc' });
    // The informer retries with backoff up to 30 s; then the Service is reconciled again.
    const c = await until(
      'BackendConfig picked up',
      async () => {
        const cond = await bed.serviceCondition(NS, SVC);
        return cond && cond.message.includes('BackendConfig bc') && !cond.message.includes('not known') ? cond : undefined;
      },
      60_000,
      500,
    );
    // Drifted until the ingress-gce stand-in re-imposes /bc, then in sync: either way the message
    // names the BackendConfig, and hcsync never patches the field it owns.
    assert.match(c.message, /BackendConfig bc/);
    assert.equal((await hcsync.metric('hcsync_health_check_patches_total', { result: 'success' })) ?? 0, 0);
    assert.equal(await hcsync.stop(), 0);
  });
});
