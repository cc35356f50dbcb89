// Keeps the copies of hcsync's alert rules identical to the one source,
// deploy/prometheus/hcsync.rules.yaml:
//   deploy/helm/hcsync/files/hcsync.rules.yaml           byte-for-byte (the chart reads it with
//                                                       .Files.Get, which cannot reach outside the chart)
//   deploy/components/prometheusrule/prometheusrule.yaml  the same groups inside a PrometheusRule
// and the Grafana dashboard deploy/grafana/hcsync-dashboard.json into the chart the same way:
//   deploy/helm/hcsync/files/hcsync-dashboard.json        byte-for-byte
// The text is copied, not re-serialised, so Prometheus templates ({{ $labels.x }}) stay as written.
//
//   tsx scripts/sync-alert-rules.ts           rewrite the copies
//   tsx scripts/sync-alert-rules.ts --check   exit 1 if a copy differs (used by the tests)
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE = 'deploy/prometheus/hcsync.rules.yaml';
const HELM_COPY = 'deploy/helm/hcsync/files/hcsync.rules.yaml';
const KUSTOMIZE_COPY = 'deploy/components/prometheusrule/prometheusrule.yaml';
const DASHBOARD = 'deploy/grafana/hcsync-dashboard.json';
const HELM_DASHBOARD_COPY = 'deploy/helm/hcsync/files/hcsync-dashboard.json';

export function expectedCopies(): Map<string, string> {
  const source = readFileSync(join(root, SOURCE), 'utf8');
  // Drop the source's leading comment block; the body starts at `groups:`.
  const body = source.slice(source.indexOf('\ngroups:') + 1);
  const indented = body
    .split('\n')
    .map((line) => (line === '' ? '' : `  ${line}`))
    .join('\n');
  const cr = [
    `# GENERATED from ${SOURCE} by scripts/sync-alert-rules.ts — edit the source, then run it.`,
    'apiVersion: monitoring.coreos.com/v1',
    'kind: PrometheusRule',
    'metadata:',
    '  name: hcsync',
    '  namespace: hcsync-system',
    '  labels:',
    '    app.kubernetes.io/name: hcsync',
    '    app.kubernetes.io/instance: hcsync',
    '    app.kubernetes.io/part-of: hcsync',
    'spec:',
    indented,
  ].join('\n');
  return new Map([
    [HELM_COPY, source],
    [KUSTOMIZE_COPY, cr],
    [HELM_DASHBOARD_COPY, readFileSync(join(root, DASHBOARD), 'utf8')],
  ]);
}

function main(): void {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const [path, want] of expectedCopies()) {
    let have = '';
    try {
      have = readFileSync(join(root, path), 'utf8');
    } catch {
      // missing counts as stale
    }
    if (have === want) continue;
    stale++;
    if (check) console.error(`${path} differs from its source: run tsx scripts/sync-alert-rules.ts`);
    else writeFileSync(join(root, path), want);
  }
  if (check && stale > 0) process.exit(1);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
