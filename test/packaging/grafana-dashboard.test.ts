// deploy/grafana/hcsync-dashboard.json: well-formed, built only on the contract's metrics (each of
// which it shows), and every query is valid PromQL (promtool parses them as recording rules).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { repoRoot, runTool } from '../support/packaging-tools.js';
import { CONTRACT_METRICS } from '../support/contract.js';

interface Target {
  expr: string;
  datasource: { uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: Target[];
  gridPos: { x: number; y: number; w: number; h: number };
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  annotations: { list: { expr: string }[] };
  templating: { list: { name: string; type: string }[] };
}

describe('Grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync(path.join(repoRoot, 'deploy/grafana/hcsync-dashboard.json'), 'utf8')) as Dashboard;
  const queryPanels = dashboard.panels.filter((p) => p.type !== 'row');
  const exprs = [...queryPanels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)), ...dashboard.annotations.list.map((a) => a.expr)];

  it('has a stable uid, unique panel ids, panels inside the 24-column grid, and a data-source variable', () => {
    assert.equal(dashboard.uid, 'hcsync-overview');
    const ids = dashboard.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const p of dashboard.panels) assert.ok(p.gridPos.x >= 0 && p.gridPos.x + p.gridPos.w <= 24, `${p.title} fits the grid`);
    assert.ok(dashboard.templating.list.some((v) => v.name === 'datasource' && v.type === 'datasource'));
    for (const p of queryPanels) {
      assert.equal(p.datasource?.uid, '${datasource}', `${p.title} uses the data-source variable`);
      assert.ok((p.targets ?? []).length > 0, `${p.title} has a query`);
    }
  });

  it('queries only the contract metrics, and shows every one of them', () => {
    const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\bhcsync_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, ''))));
    const contract: readonly string[] = CONTRACT_METRICS;
    for (const m of used) assert.ok(contract.includes(m), `${m} is not a contract metric`);
    for (const m of CONTRACT_METRICS) assert.ok(used.has(m), `${m} is not on the dashboard`);
  });

  it('every query is valid PromQL (promtool check rules)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hcsync-dashboard-'));
    try {
      const rules = exprs.map((expr, i) => ({
        record: `dashboard:query_${i}`,
        expr: expr.replaceAll('$__rate_interval', '5m').replaceAll('$job', 'hcsync'),
      }));
      const file = path.join(dir, 'dashboard.rules.yaml');
      writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules }] }));
      assert.match(runTool('promtool', ['check', 'rules', file]), new RegExp(`SUCCESS: ${rules.length} rules found`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
