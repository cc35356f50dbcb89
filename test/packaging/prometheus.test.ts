// A real Prometheus (Debian's binary, from scripts/build-tools.sh) scrapes hcsync in observe mode
// on the test bed, and the shipped HealthCheckDrifted alert fires (a test copy with a short `for:`).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, TestBed, httpGet, until, type HcsyncProcess } from '../../testbed/bed.js';
import { freeLoopbackPort } from '../../testbed/loopback-http.js';

const NS = 'observed';
const SVC = 'spacejam';

interface Alert {
  labels: Record<string, string>;
  state: string;
}

describe('e2e: Prometheus scrapes hcsync and HealthCheckDrifted fires', function () {
  this.timeout(180_000);
  let bed: TestBed;
  let hcsync: HcsyncProcess;
  let prometheus: ChildProcess | undefined;
  let promUrl = '';
  const dir = mkdtempSync(join(tmpdir(), 'hcsync-prom-'));

  before(async () => {
    bed = await TestBed.start();
    await bed.deployBlogApp(NS, { service: SVC, ingress: 'site', ip: '127.0.0.30' });
    await bed.gke.start();
    hcsync = await bed.spawnHcsync(['run', '--mode', 'observe', '--resync', '5s'], await bed.hcsyncKubeconfig());
    await until(
      'drift reported',
      async () => ((await hcsync.metric('hcsync_health_check_drift', { service: SVC })) === 1 ? true : undefined),
      30_000,
    );

    // The shipped rules, with the 10-minute hold shortened so the test sees the alert fire.
    const rules = readFileSync(join(REPO_ROOT, 'deploy/prometheus/hcsync.rules.yaml'), 'utf8');
    const shortened = rules.replace(/(alert: HealthCheckDrifted[\s\S]*?for: )10m/, '$12s');
    assert.notEqual(shortened, rules, 'the test copy shortens HealthCheckDrifted’s for:');
    writeFileSync(join(dir, 'rules.yaml'), shortened);
    const target = hcsync.metricsUrl.replace('http://', '');
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global: {scrape_interval: 1s, evaluation_interval: 1s}\nrule_files: [rules.yaml]\nscrape_configs:\n  - job_name: hcsync\n    honor_labels: true\n    static_configs: [{targets: ['${target}']}]\n`,
    );
    const port = await freeLoopbackPort();
    promUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      join(REPO_ROOT, '.cache/tools/prometheus'),
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: 'ignore' },
    );
  });

  after(async () => {
    prometheus?.kill('SIGTERM');
    await bed?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('scrapes hcsync: the target is up and the drift series is 1', async () => {
    await until(
      'target up',
      async () => {
        const r = JSON.parse((await httpGet(`${promUrl}/api/v1/query?query=up{job="hcsync"}`)).body) as {
          data: { result: { value: [number, string] }[] };
        };
        return r.data.result[0]?.value[1] === '1' ? true : undefined;
      },
      30_000,
    );
    const r = JSON.parse((await httpGet(`${promUrl}/api/v1/query?query=hcsync_health_check_drift`)).body) as {
      data: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    const series = r.data.result.find((s) => s.metric['service'] === SVC);
    assert.equal(series?.value[1], '1');
    assert.equal(series?.metric['namespace'], NS, 'honor_labels keeps the Service’s namespace');
  });

  it('HealthCheckDrifted goes pending, then firing, naming the Service and its check', async () => {
    const firing = await until(
      'HealthCheckDrifted firing',
      async () => {
        const body = JSON.parse((await httpGet(`${promUrl}/api/v1/alerts`)).body) as { data: { alerts: Alert[] } };
        return body.data.alerts.find((a) => a.labels['alertname'] === 'HealthCheckDrifted' && a.state === 'firing');
      },
      60_000,
      500,
    );
    assert.equal(firing.labels['service'], SVC);
    assert.equal(firing.labels['health_check'], bed.checkName(NS, SVC, 8000));
    assert.equal(firing.labels['severity'], 'warning');
  });

  it('the alert clears when hcsync enforces', async () => {
    assert.equal(await hcsync.stop(), 0);
    const enforcing = await bed.spawnHcsync(['run', '--resync', '5s'], await bed.hcsyncKubeconfig());
    const target = enforcing.metricsUrl.replace('http://', '');
    writeFileSync(
      join(dir, 'prometheus.yml'),
      readFileSync(join(dir, 'prometheus.yml'), 'utf8').replace(/targets: \['[^']+'\]/, `targets: ['${target}']`),
    );
    prometheus?.kill('SIGHUP'); // reload the config with the new target
    await until(
      'no HealthCheckDrifted alert',
      async () => {
        const body = JSON.parse((await httpGet(`${promUrl}/api/v1/alerts`)).body) as { data: { alerts: Alert[] } };
        return body.data.alerts.some((a) => a.labels['alertname'] === 'HealthCheckDrifted') ? undefined : true;
      },
      60_000,
      500,
    );
  });
});
