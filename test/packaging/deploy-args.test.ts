// The command line that deploy/ gives hcsync is one that hcsync accepts and reads as intended:
// the container args of the kustomize base and of the Helm chart (defaults and every value set)
// go through the CLI's own parser with the env the Pod gets.
import assert from 'node:assert/strict';
import { parseCommandLine } from '../../src/config/flags.js';
import { helmTemplate, kustomizeBuild, runTool, type KubeObject } from '../support/packaging-tools.js';

interface Container {
  args: string[];
  ports: { name: string; containerPort: number }[];
  env: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  livenessProbe: { httpGet: { port: string } };
}

function container(objects: KubeObject[]): Container {
  const d = objects.find((o) => o.kind === 'Deployment');
  assert.ok(d);
  const [c] = (d.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers;
  assert.ok(c);
  return c;
}

/** The env the kubelet gives the container: downward-API fields resolved for a Pod in hcsync-system. */
function podEnv(c: Container): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const e of c.env) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') env[e.name] = 'hcsync-system';
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[e.name] = 'hcsync-5d9c7b7f9-abcde';
  }
  return env;
}

describe('deploy/ command line', function () {
  this.timeout(30_000);

  for (const [name, render] of [
    ['kustomize base', () => kustomizeBuild('deploy/base')],
    ['helm defaults', () => helmTemplate()],
  ] as const) {
    it(`${name}: hcsync run, enforce, leader election on the Lease the Role allows, ports as probed and scraped`, () => {
      const c = container(render());
      const { positionals, config } = parseCommandLine(c.args, podEnv(c));
      assert.deepEqual(positionals, ['run']);
      assert.equal(config.mode, 'enforce');
      assert.equal(config.leaderElect, true);
      assert.equal(config.leaderElectionId, 'hcsync');
      assert.equal(config.leaderElectionNamespace, 'hcsync-system');
      assert.equal(config.leaseDurationMs, 15_000);
      assert.equal(config.renewDeadlineMs, 10_000);
      assert.equal(config.retryPeriodMs, 2_000);
      assert.equal(config.resyncMs, 5 * 60_000);
      assert.equal(config.project, undefined, 'project from the metadata server');
      assert.deepEqual(config.namespaces, []);
      const port = (n: string): number | undefined => c.ports.find((p) => p.name === n)?.containerPort;
      assert.equal(config.metricsAddr, `:${port('metrics')}`);
      assert.equal(config.healthAddr, `:${port('health')}`);
      assert.equal(c.livenessProbe.httpGet.port, 'health');
    });
  }

  it('helm values reach the flags: project, mode, namespaces, resync, QPS, liveness inference', () => {
    const c = container(
      helmTemplate([
        'project=my-project',
        'mode=observe',
        'namespaces={shop,payments}',
        'resync=10m',
        'gcpWriteQps=5',
        'inferFromLiveness=false',
        'logLevel=debug',
        'leaderElection.id=hcsync-blue',
      ]),
    );
    const { config } = parseCommandLine(c.args, podEnv(c));
    assert.equal(config.project, 'my-project');
    assert.equal(config.mode, 'observe');
    assert.deepEqual(config.namespaces, ['shop', 'payments']);
    assert.equal(config.resyncMs, 10 * 60_000);
    assert.equal(config.gcpWriteQps, 5);
    assert.equal(config.inferFromLiveness, false);
    assert.equal(config.logLevel, 'debug');
    assert.equal(config.leaderElectionId, 'hcsync-blue');
  });

  it('security values reach the flags: metrics.auth, allowServiceEnforce; the namespaced overlay passes --namespaces', () => {
    const defaults = parseCommandLine(container(helmTemplate()).args, {}).config;
    assert.equal(defaults.metricsAuth, false);
    assert.equal(defaults.allowServiceEnforce, true);
    const c = container(helmTemplate(['metrics.auth.enabled=true', 'allowServiceEnforce=false', 'mode=observe']));
    const { config } = parseCommandLine(c.args, podEnv(c));
    assert.equal(config.metricsAuth, true);
    assert.equal(config.allowServiceEnforce, false);
    const ns = container(kustomizeBuild('deploy/overlays/namespaced'));
    assert.deepEqual(parseCommandLine(ns.args, podEnv(ns)).config.namespaces, ['shop', 'payments']);
  });

  it('the chart refuses values hcsync would refuse, and misspelt keys (values.schema.json)', () => {
    for (const bad of [
      'mode=enforcing',
      'logLevel=verbose',
      'resync=5 minutes',
      'replicas=0',
      'replica=3',
      'namespaces={Shop}',
      'gcpWriteQps=0',
      'metrics.auth=true',
      'metrics.auth.enabled=yes',
      'rbac.namespace=true',
      'networkPolicy.enable=true',
      'allowServiceEnforce=sometimes',
    ]) {
      assert.throws(() => helmTemplate([bad]), /values don't meet the specifications of the schema/, bad);
    }
    runTool('helm', ['lint', '--strict', 'deploy/helm/hcsync']);
  });
});
