// setServiceReport skips a report equal to the Service's last one: the series must still follow every change.
import assert from 'node:assert/strict';
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
});
