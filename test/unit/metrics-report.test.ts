// setServiceReport skips a report equal to the Service's last one: the series must still follow every change.
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
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
});
