// setServiceReport skips a report equal to the Service's last one: the series must still follow every change.
import assert from 'node:assert/strict';
import { Gauge, Registry } from 'prom-client';
import { Metrics } from '../../src/observability/metrics.js';

const labels = (port: string) => ({ namespace: 'default', service: 'web', port, health_check: `hc-${port}` });
const series = async (m: Metrics) => (await m.drift.get()).values.map((v) => `${String(v.labels.port)}=${v.value}`).sort();
const tally = async (m: Metrics) =>
  Object.fromEntries((await m.healthChecks.get()).values.filter((v) => v.value > 0).map((v) => [String(v.labels.state), v.value]));

describe('metrics: per-Service report', () => {
  it('a repeated report changes nothing; a changed drift, state or port set is reflected; an empty one removes the series', async () => {
    const m = new Metrics({ defaultMetrics: false });
    m.setServiceReport('default/web', [{ labels: labels('80'), drift: false, state: 'in_sync' }]);
    m.setServiceReport('default/web', [{ labels: labels('80'), drift: false, state: 'in_sync' }]);
    assert.deepEqual(await series(m), ['80=0']);
    assert.deepEqual(await tally(m), { in_sync: 1 });
    m.setServiceReport('default/web', [{ labels: labels('80'), drift: true, state: 'drifted' }]);
    assert.deepEqual(await series(m), ['80=1']);
    assert.deepEqual(await tally(m), { drifted: 1 });
    m.setServiceReport('default/web', [
      { labels: labels('80'), drift: true, state: 'drifted' },
      { labels: labels('81'), drift: false, state: 'in_sync' },
    ]);
    assert.deepEqual(await series(m), ['80=1', '81=0']);
    m.setServiceReport('default/web', [{ labels: labels('81'), drift: false, state: 'in_sync' }]);
    assert.deepEqual(await series(m), ['81=0']);
    assert.deepEqual(await tally(m), { in_sync: 1 });
    m.setServiceReport('default/web', []);
    assert.deepEqual(await series(m), []);
    assert.deepEqual(await tally(m), {});
  });

  it('a scrape formats the per-port drift series again only after a report changed them, and shows every change', async () => {
    // prom-client's per-metric formatting step, counted for the drift gauge only.
    const proto = Registry.prototype as unknown as { getMetricsAsString: (this: Registry, metric: { name: string }) => Promise<string> };
    const format = proto.getMetricsAsString;
    let formatted = 0;
    proto.getMetricsAsString = function (metric) {
      if (metric.name === 'hcsync_health_check_drift') formatted += 1;
      return format.call(this, metric);
    };
    try {
      const m = new Metrics({ defaultMetrics: false });
      const line = /^hcsync_health_check_drift\{.*port="(\d+)".*\} (\d)$/gm;
      const scrape = async () => [...(await m.registry.metrics()).matchAll(line)].map((x) => `${x[1] ?? ''}=${x[2] ?? ''}`).sort();
      for (let i = 0; i < 100; i++)
        m.setServiceReport(`default/web-${i}`, [{ labels: labels(String(8000 + i)), drift: false, state: 'in_sync' }]);
      assert.equal((await scrape()).length, 100);
      // A steady resync reports the same again: the next scrapes reuse the formatted text.
      m.setServiceReport('default/web-0', [{ labels: labels('8000'), drift: false, state: 'in_sync' }]);
      assert.equal((await scrape()).length, 100);
      assert.equal((await scrape()).length, 100);
      assert.equal(formatted, 1);
      m.setServiceReport('default/web-0', [{ labels: labels('8000'), drift: true, state: 'drifted' }]);
      assert.ok((await scrape()).includes('8000=1'));
      m.setServiceReport('default/web-1', []);
      const after = await scrape();
      assert.equal(after.length, 99);
      assert.ok(!after.some((s) => s.startsWith('8001=')));
      assert.equal(formatted, 3);
    } finally {
      proto.getMetricsAsString = format;
    }
  });

  it('scrapes the drift series exactly as a prom-client Gauge fed remove + set per changed report did (order, values, escaping)', async () => {
    // The reference: the Gauge and the update rule setServiceReport had before the series were read from the reports.
    interface Report {
      labels: ReturnType<typeof labels>;
      drift: boolean;
      state: 'in_sync' | 'drifted';
    }
    const registry = new Registry();
    const gauge = new Gauge({
      name: 'hcsync_health_check_drift',
      help: '1 while the live health check differs from the intended one',
      labelNames: ['namespace', 'service', 'port', 'health_check'] as const,
      registers: [registry],
    });
    const last = new Map<string, readonly Report[]>();
    const same = (a: readonly Report[], b: readonly Report[]) => JSON.stringify(a) === JSON.stringify(b);
    const reference = (key: string, ports: readonly Report[]) => {
      const before = last.get(key) ?? [];
      if (same(before, ports)) return;
      for (const old of before) gauge.remove(old.labels);
      for (const p of ports) gauge.set(p.labels, p.drift ? 1 : 0);
      if (ports.length > 0) last.set(key, ports);
      else last.delete(key);
    };
    const m = new Metrics({ defaultMetrics: false });
    const port = (service: string, p: string, drift = false, hc = `hc-${p}`): Report => ({
      labels: { namespace: 'default', service, port: p, health_check: hc },
      drift,
      state: drift ? 'drifted' : 'in_sync',
    });
    const steps: [string, Report[]][] = [
      ['default/a', [port('a', 'http/80')]],
      ['default/b', [port('b', 'http/80'), port('b', '8443')]],
      ['default/c', [port('c', 'web/8080', false, 'k8s1-x"y\\z')]],
      ['default/a', [port('a', 'http/80', true)]], // a changed: moves after b and c
      ['default/b', [port('b', 'http/80'), port('b', '8443')]], // unchanged: stays
      ['default/b', [port('b', '8443'), port('b', 'http/80')]], // reordered ports
      ['default/d', [port('d', '80'), port('d', '80', true)]], // the same labels twice: one series, the last value
      ['default/c', []],
      ['default/a', [port('a', 'http/80', true), port('a', '9090')]],
    ];
    for (const [key, ports] of steps) {
      reference(key, ports);
      m.setServiceReport(key, ports);
      assert.equal(
        await m.registry.getSingleMetricAsString('hcsync_health_check_drift'),
        await registry.metrics().then((t) => t.trimEnd()),
      );
    }
    assert.equal(
      m.registry.getMetricsAsArray()[0]?.name,
      'hcsync_health_check_drift',
      'the drift gauge keeps its place (first) in the scrape',
    );
  });
});
