// The shipped alert rules, checked and unit-tested by promtool (Debian's prometheus package,
// fetched by scripts/build-tools.sh) on synthetic series in deploy/prometheus/hcsync.rules.test.yaml,
// and proven to be the same rules in the kustomize component and the Helm chart.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { CONTRACT_ALERTS } from '../support/contract.js';
import { helmTemplate, kustomizeBuild, repoRoot, runTool } from '../support/packaging-tools.js';

const RULES = 'deploy/prometheus/hcsync.rules.yaml';
const RULE_TESTS = 'deploy/prometheus/hcsync.rules.test.yaml';

interface Rule {
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: { name: string; rules: Rule[] }[];
}

function sourceGroups(): RuleFile['groups'] {
  return (parse(readFileSync(path.join(repoRoot, RULES), 'utf8')) as RuleFile).groups;
}

describe('alert rules', function () {
  this.timeout(60_000);

  it('are the four contract alerts, each with severity, summary, description and runbook', () => {
    const rules = sourceGroups().flatMap((g) => g.rules);
    assert.deepEqual(
      rules.map((r) => r.alert),
      [...CONTRACT_ALERTS],
    );
    for (const r of rules) {
      assert.match(r.labels?.severity ?? '', /^(warning|critical)$/, `${r.alert} severity`);
      for (const a of ['summary', 'description', 'runbook']) assert.ok(r.annotations?.[a], `${r.alert} lacks ${a}`);
    }
    assert.equal(rules.find((r) => r.alert === 'HealthCheckDrifted')?.for, '10m');
  });

  it('pass promtool check rules', () => {
    const out = runTool('promtool', ['check', 'rules', RULES]);
    assert.match(out, /SUCCESS: 4 rules found/);
  });

  it('fire and stay quiet as intended on synthetic series (promtool test rules)', () => {
    const out = runTool('promtool', ['test', 'rules', RULE_TESTS]);
    assert.match(out, /SUCCESS/);
  });

  it('the kustomize component and the Helm chart carry copies identical to the source', () => {
    // The generator's own check: byte-identical Helm copy, PrometheusRule wrapping the same text.
    execFileSync(path.join(repoRoot, 'node_modules', '.bin', 'tsx'), ['scripts/sync-alert-rules.ts', '--check'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // And what the tools render is the same rule set.
    const fromKustomize = kustomizeBuild('deploy/overlays/monitoring').find((o) => o.kind === 'PrometheusRule');
    const fromHelm = helmTemplate(['prometheusRule.enabled=true']).find((o) => o.kind === 'PrometheusRule');
    assert.ok(fromKustomize && fromHelm, 'both render a PrometheusRule');
    assert.deepEqual((fromKustomize.spec as RuleFile).groups, sourceGroups());
    assert.deepEqual((fromHelm.spec as RuleFile).groups, sourceGroups());
  });
});
