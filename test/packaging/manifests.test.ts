// deploy/ and crds/ against a real kube-apiserver: everything kustomize and Helm render applies
// with server-side dry run and strict field validation (the Prometheus Operator's CRDs are
// generated from its Go types by scripts/build-tools.sh, so ServiceMonitor and PrometheusRule are
// validated against their real schemas), the Pod template is admitted where Pod Security
// "restricted" is enforced, the Helm chart renders what kustomize renders, and RBAC grants
// exactly the access hcsync uses.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startControlPlane, type ControlPlane } from '../../testbed/control-plane.js';
import { describeFailure, KubeRest, type RestResponse } from '../support/kube-rest.js';
import {
  helmTemplate,
  kustomizeBuild,
  objectKey,
  parseObjects,
  readObjects,
  repoRoot,
  runTool,
  toolsDir,
  type KubeObject,
} from '../support/packaging-tools.js';

const NS = 'hcsync-system';
const SA_USER = `system:serviceaccount:${NS}:hcsync`;
/** Labels only Helm adds; everything else must match kustomize exactly. */
const HELM_ONLY_LABELS = ['helm.sh/chart', 'app.kubernetes.io/managed-by', 'app.kubernetes.io/version'];
const ALL_TOGGLES = ['createNamespace=true', 'serviceMonitor.enabled=true', 'prometheusRule.enabled=true', 'grafanaDashboard.enabled=true'];

/**
 * Every Kubernetes API call hcsync makes, the permission it needs (group|resource|verb|resourceName)
 * and where it is made today. The expected RBAC is derived from this table and nothing else, and
 * the table is checked against src/: every call it names must be in the code, and every
 * client-node API call in the code must be in the table. So a verb no code uses, or a call no
 * rule covers, fails the test.
 */
interface NeededAccess {
  /** A client-node method (or an informer) as it appears in src/. */
  readonly call: string;
  readonly where: string;
  readonly needs: readonly string[];
  /** Which role carries it: the workload role (ClusterRole, or a Role per watched namespace), the Lease Role, or the metrics-auth role. */
  readonly role: 'watch' | 'lease' | 'metricsAuth';
}
const NEEDED_ACCESS: readonly NeededAccess[] = [
  // Informers are client-node ListWatches: a paged list, then a watch, per resource.
  {
    call: 'listServiceForAllNamespaces',
    where: 'kube/cluster-state.ts informer, kube/snapshot.ts',
    needs: ['|services|list|*'],
    role: 'watch',
  },
  { call: 'listNamespacedService', where: 'the same, with --namespaces', needs: ['|services|list|*'], role: 'watch' },
  { call: "family('services'", where: 'kube/cluster-state.ts: the Service informer watches', needs: ['|services|watch|*'], role: 'watch' },
  { call: 'listPodForAllNamespaces', where: 'kube/cluster-state.ts, kube/snapshot.ts', needs: ['|pods|list|*'], role: 'watch' },
  { call: 'listNamespacedPod', where: 'the same, with --namespaces', needs: ['|pods|list|*'], role: 'watch' },
  { call: "family('pods'", where: 'kube/cluster-state.ts: the Pod informer watches', needs: ['|pods|watch|*'], role: 'watch' },
  {
    call: 'listIngressForAllNamespaces',
    where: 'kube/cluster-state.ts, kube/snapshot.ts',
    needs: ['networking.k8s.io|ingresses|list|*'],
    role: 'watch',
  },
  { call: 'listNamespacedIngress', where: 'the same, with --namespaces', needs: ['networking.k8s.io|ingresses|list|*'], role: 'watch' },
  {
    call: "family('ingresses'",
    where: 'kube/cluster-state.ts: the Ingress informer watches',
    needs: ['networking.k8s.io|ingresses|watch|*'],
    role: 'watch',
  },
  {
    call: 'listClusterCustomObject',
    where: 'kube/cluster-state.ts, kube/snapshot.ts (BackendConfigs)',
    needs: ['cloud.google.com|backendconfigs|list|*'],
    role: 'watch',
  },
  {
    call: 'listNamespacedCustomObject',
    where: 'the same, with --namespaces',
    needs: ['cloud.google.com|backendconfigs|list|*'],
    role: 'watch',
  },
  {
    call: "family('backendconfigs'",
    where: 'kube/cluster-state.ts: the BackendConfig informer watches',
    needs: ['cloud.google.com|backendconfigs|watch|*'],
    role: 'watch',
  },
  // GKE Gateway (contract "Gateway API"): informers in kube/gateway-state.ts, each a list then a watch.
  ...(
    [
      ['GW', 'gatewayclasses'],
      ['GW', 'gateways'],
      ['GW', 'httproutes'],
      ['GW', 'grpcroutes'],
      ['GW_BETA', 'referencegrants'],
    ] as const
  ).map(([api, res]): NeededAccess => ({
    call: `kind(${api}, '${res}'`,
    where: 'kube/gateway-state.ts informer (gatewayclasses only without --namespaces)',
    needs: [`gateway.networking.k8s.io|${res}|list|*`, `gateway.networking.k8s.io|${res}|watch|*`],
    role: 'watch',
  })),
  {
    call: "kind(HEALTHCHECKPOLICY, 'healthcheckpolicies'",
    where: 'kube/gateway-state.ts informer',
    needs: ['networking.gke.io|healthcheckpolicies|list|*', 'networking.gke.io|healthcheckpolicies|watch|*'],
    role: 'watch',
  },
  // hcsync's own policy: server-side apply is a PATCH that creates the object when it is not there yet.
  {
    call: 'patchNamespacedCustomObject',
    where: 'kube/policy-writer.ts (server-side apply, no force)',
    needs: ['networking.gke.io|healthcheckpolicies|patch|*', 'networking.gke.io|healthcheckpolicies|create|*'],
    role: 'watch',
  },
  {
    call: 'deleteNamespacedCustomObject',
    where: 'kube/policy-writer.ts (own policy only, uid precondition)',
    needs: ['networking.gke.io|healthcheckpolicies|delete|*'],
    role: 'watch',
  },
  // `get`, as the contract fixes it for every Gateway kind: diagnose gateway reads the named Gateway.
  {
    call: 'getNamespacedCustomObject',
    where: 'cli/diagnose.ts (diagnose gateway NAME); the contract grants get on every Gateway kind and HealthCheckPolicies',
    needs: [
      ...['gatewayclasses', 'gateways', 'httproutes', 'grpcroutes', 'referencegrants'].map((r) => `gateway.networking.k8s.io|${r}|get|*`),
      'networking.gke.io|healthcheckpolicies|get|*',
    ],
    role: 'watch',
  },
  // Server-side apply of the condition is a PATCH on the status subresource.
  { call: 'patchNamespacedServiceStatus', where: 'kube/status-writer.ts', needs: ['|services/status|patch|*'], role: 'watch' },
  {
    call: 'createNamespacedEvent',
    where: 'kube/event-recorder.ts (events.k8s.io/v1; never updated)',
    needs: ['events.k8s.io|events|create|*'],
    role: 'watch',
  },
  // Leader election, in hcsync's namespace, on the one Lease (create cannot be limited by name).
  { call: 'createNamespacedLease', where: 'kube/leader-election.ts', needs: ['coordination.k8s.io|leases|create|*'], role: 'lease' },
  { call: 'readNamespacedLease', where: 'kube/leader-election.ts', needs: ['coordination.k8s.io|leases|get|hcsync'], role: 'lease' },
  { call: 'replaceNamespacedLease', where: 'kube/leader-election.ts', needs: ['coordination.k8s.io|leases|update|hcsync'], role: 'lease' },
  // --metrics-auth=true only.
  {
    call: 'createTokenReview',
    where: 'server/metrics-auth.ts',
    needs: ['authentication.k8s.io|tokenreviews|create|*'],
    role: 'metricsAuth',
  },
  {
    call: 'createSubjectAccessReview',
    where: 'server/metrics-auth.ts',
    needs: ['authorization.k8s.io|subjectaccessreviews|create|*'],
    role: 'metricsAuth',
  },
];
const expectedRules = (role: NeededAccess['role']): string[] =>
  [...new Set(NEEDED_ACCESS.filter((a) => a.role === role).flatMap((a) => a.needs))].sort();
const EXPECTED_CLUSTER_RULES = expectedRules('watch');
const EXPECTED_LEASE_RULES = expectedRules('lease');
const EXPECTED_METRICS_AUTH_RULES = expectedRules('metricsAuth');

/** Production sources (src/ without the test bed's stand-ins), concatenated. */
function productionSource(): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(path.join(repoRoot, dir), { withFileTypes: true })) {
      const rel = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (rel !== path.join('src', 'testbed')) walk(rel);
      } else if (e.name.endsWith('.ts')) out.push({ file: rel, text: readFileSync(path.join(repoRoot, rel), 'utf8') });
    }
  };
  walk('src');
  return out;
}

interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

function flattenRules(rules: PolicyRule[]): string[] {
  const out: string[] = [];
  for (const r of rules) {
    assert.equal(r.nonResourceURLs, undefined, 'no non-resource URLs');
    for (const g of r.apiGroups ?? []) {
      for (const res of r.resources ?? []) {
        for (const v of r.verbs) {
          for (const n of r.resourceNames ?? ['*']) out.push(`${g}|${res}|${v}|${n}`);
        }
      }
    }
  }
  for (const entry of out) assert.doesNotMatch(entry, /(^|\|)\*\|/, `no wildcard group, resource or verb: ${entry}`);
  return out.sort();
}

/** kustomize build of a throw-away overlay: deploy/base plus the given components (paths under deploy/components). */
function overlayWith(components: readonly string[]): KubeObject[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hcsync-overlay-'));
  try {
    const rel = (p: string) => path.relative(dir, path.join(repoRoot, 'deploy', p));
    writeFileSync(
      path.join(dir, 'kustomization.yaml'),
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        `resources: [${rel('base')}]`,
        `components: [${components.map((c) => rel(path.join('components', c))).join(', ')}]`,
        '',
      ].join('\n'),
    );
    return kustomizeBuild(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function rulesOf(o: KubeObject | undefined): PolicyRule[] {
  assert.ok(o, 'role rendered');
  return (o as unknown as { rules: PolicyRule[] }).rules;
}

function stripHelmLabels(o: KubeObject): KubeObject {
  const copy = structuredClone(o);
  const strip = (labels: Record<string, string> | undefined): void => {
    for (const k of HELM_ONLY_LABELS) if (labels) delete labels[k]; // eslint-disable-line @typescript-eslint/no-dynamic-delete -- labels is a manifest's plain JSON map
  };
  strip(copy.metadata.labels);
  const template = (copy.spec as { template?: { metadata?: { labels?: Record<string, string> } } } | undefined)?.template;
  strip(template?.metadata?.labels);
  return copy;
}

function byKey(objects: KubeObject[]): Map<string, KubeObject> {
  const m = new Map<string, KubeObject>();
  for (const o of objects) {
    assert.ok(!m.has(objectKey(o)), `duplicate ${objectKey(o)}`);
    m.set(objectKey(o), o);
  }
  return m;
}

function ok(r: RestResponse, o: KubeObject): void {
  assert.ok(r.status >= 200 && r.status < 300, describeFailure(o, r));
}

function deploymentOf(objects: KubeObject[]): KubeObject {
  const d = objects.find((o) => o.kind === 'Deployment');
  assert.ok(d, 'a Deployment is rendered');
  return d;
}

interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: {
    securityContext?: unknown;
    containers: {
      name: string;
      args: string[];
      securityContext?: unknown;
      env: { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
    }[];
  };
}

function podTemplate(d: KubeObject): PodTemplate {
  return (d.spec as { template: PodTemplate }).template;
}

describe('deploy/ and crds/ on a real API server', function () {
  this.timeout(120_000);
  let cp: ControlPlane;
  let rest: KubeRest;
  let base: KubeObject[];
  let monitoring: KubeObject[];

  async function waitEstablished(crdName: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const r = await rest.get(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crdName}`);
      const conditions = (r.body as { status?: { conditions?: { type: string; status: string }[] } }).status?.conditions ?? [];
      if (conditions.some((c) => c.type === 'Established' && c.status === 'True')) return;
      if (Date.now() > deadline) throw new Error(`CRD ${crdName} not Established`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  before(async function () {
    this.timeout(120_000);
    base = kustomizeBuild('deploy/base');
    monitoring = kustomizeBuild('deploy/overlays/monitoring');
    cp = await startControlPlane();
    rest = new KubeRest(cp.kubeConfig());
    // The Prometheus Operator's own CRDs, as its users' clusters have them.
    for (const file of ['monitoring.coreos.com_servicemonitors.yaml', 'monitoring.coreos.com_prometheusrules.yaml']) {
      const [crd] = parseObjects(readFileSync(path.join(toolsDir, 'monitoring-crds', file), 'utf8'));
      assert.ok(crd);
      ok(await rest.apply(crd, { dryRun: false }), crd);
      await waitEstablished(crd.metadata.name);
    }
    // The Namespace for real (namespaced objects cannot be dry-run into a namespace that does not
    // exist); it is also what makes Pod Security "restricted" enforced for the admission test.
    const ns = base.find((o) => o.kind === 'Namespace');
    assert.ok(ns);
    ok(await rest.apply(ns, { dryRun: false }), ns);
  });

  after(async () => {
    await cp?.stop();
  });

  it('kustomize renders the base and the monitoring overlay (with the Grafana dashboard ConfigMap)', () => {
    assert.deepEqual(base.map((o) => o.kind).sort(), [
      'ClusterRole',
      'ClusterRoleBinding',
      'Deployment',
      'Namespace',
      'PodDisruptionBudget',
      'Role',
      'RoleBinding',
      'Service',
      'ServiceAccount',
    ]);
    assert.deepEqual(
      monitoring.map(objectKey).sort(),
      [...base.map(objectKey), `PrometheusRule/${NS}/hcsync`, `ServiceMonitor/${NS}/hcsync`, `ConfigMap/${NS}/hcsync-dashboard`].sort(),
    );
    for (const o of monitoring)
      if (o.kind !== 'Namespace' && !o.kind.startsWith('Cluster')) assert.equal(o.metadata.namespace, NS, objectKey(o));
    const dashboard = monitoring.find((o) => o.kind === 'ConfigMap') as unknown as { data: Record<string, string> };
    assert.equal(
      dashboard.data['hcsync-dashboard.json'],
      readFileSync(path.join(repoRoot, 'deploy/grafana/hcsync-dashboard.json'), 'utf8'),
    );
  });

  it('every object kustomize renders applies with server-side dry run, strict fields, no warnings', async () => {
    for (const o of monitoring) {
      const r = await rest.apply(o, { dryRun: true });
      ok(r, o);
      assert.deepEqual(r.warnings, [], `${objectKey(o)} warnings`);
    }
  });

  it('crds/backendconfig.yaml applies, then serves v1 and v1beta1 with a structural spec.healthCheck', async () => {
    const files = readdirSync(path.join(repoRoot, 'crds')).filter((f) => f.endsWith('.yaml'));
    assert.deepEqual(files, ['backendconfig.yaml', 'healthcheckpolicy.yaml']);
    const [crd] = readObjects('crds/backendconfig.yaml');
    assert.ok(crd);
    ok(await rest.apply(crd, { dryRun: true }), crd);
    ok(await rest.apply(crd, { dryRun: false }), crd);
    await waitEstablished('backendconfigs.cloud.google.com');

    const healthCheck = {
      checkIntervalSec: 15,
      timeoutSec: 5,
      healthyThreshold: 2,
      unhealthyThreshold: 3,
      type: 'HTTP',
      requestPath: '/healthz',
      port: 8080,
    };
    const bc = (apiVersion: string, name: string, spec: unknown): KubeObject => ({
      apiVersion,
      kind: 'BackendConfig',
      metadata: { name, namespace: 'default' },
      spec,
    });
    // v1, with fields hcsync does not model kept as written.
    ok(
      await rest.create(bc('cloud.google.com/v1', 'web', { healthCheck, cdn: { enabled: true }, timeoutSec: 40 }), { dryRun: false }),
      bc('cloud.google.com/v1', 'web', {}),
    );
    const viaBeta = await rest.get('/apis/cloud.google.com/v1beta1/namespaces/default/backendconfigs/web');
    assert.equal(viaBeta.status, 200);
    assert.deepEqual((viaBeta.body as { spec: unknown }).spec, { healthCheck, cdn: { enabled: true }, timeoutSec: 40 });
    ok(
      await rest.create(bc('cloud.google.com/v1beta1', 'api', { healthCheck: { requestPath: '/ready' } }), { dryRun: false }),
      bc('cloud.google.com/v1beta1', 'api', {}),
    );

    // healthCheck is typed: a wrong type and an unknown field are both refused.
    const wrongType = await rest.create(bc('cloud.google.com/v1', 'bad1', { healthCheck: { requestPath: 5 } }), { dryRun: true });
    assert.equal(wrongType.status, 422, JSON.stringify(wrongType.body));
    const unknownField = await rest.create(bc('cloud.google.com/v1', 'bad2', { healthCheck: { requestpath: '/typo' } }), { dryRun: true });
    assert.equal(unknownField.status, 400, JSON.stringify(unknownField.body)); // strict decoding
    assert.match(JSON.stringify(unknownField.body), /unknown field \\"spec\.healthCheck\.requestpath\\"/);
    const wrongInt = await rest.create(bc('cloud.google.com/v1', 'bad3', { healthCheck: { port: '8080' } }), { dryRun: true });
    assert.equal(wrongInt.status, 422, JSON.stringify(wrongInt.body));
  });

  it('crds/healthcheckpolicy.yaml applies, serves networking.gke.io/v1 with its enums, ranges and patterns, and a status subresource', async () => {
    const [crd] = readObjects('crds/healthcheckpolicy.yaml');
    assert.ok(crd);
    ok(await rest.apply(crd, { dryRun: true }), crd);
    ok(await rest.apply(crd, { dryRun: false }), crd);
    await waitEstablished('healthcheckpolicies.networking.gke.io');

    const hcp = (name: string, spec: unknown): KubeObject => ({
      apiVersion: 'networking.gke.io/v1',
      kind: 'HealthCheckPolicy',
      metadata: { name, namespace: 'default' },
      spec,
    });
    const targetRef = { group: '', kind: 'Service', name: 'web' };
    const spec = {
      targetRef,
      default: {
        checkIntervalSec: 15,
        timeoutSec: 5,
        healthyThreshold: 2,
        unhealthyThreshold: 3,
        logConfig: { enabled: true },
        config: {
          type: 'HTTP',
          httpHealthCheck: { portSpecification: 'USE_SERVING_PORT', requestPath: '/healthz', host: 'web.example.com' },
        },
      },
    };
    const created = await rest.create(hcp('web', spec), { dryRun: false });
    ok(created, hcp('web', {}));
    assert.deepEqual(created.warnings, []);
    const got = await rest.get('/apis/networking.gke.io/v1/namespaces/default/healthcheckpolicies/web');
    assert.deepEqual((got.body as { spec: unknown }).spec, spec);

    // Each documented constraint refuses what breaks it (422), and unknown fields are refused (strict decoding).
    const refused: [string, unknown, number][] = [
      ['no-target', { default: {} }, 422],
      ['interval-0', { targetRef, default: { checkIntervalSec: 0 } }, 422],
      ['interval-301', { targetRef, default: { checkIntervalSec: 301 } }, 422],
      ['threshold-11', { targetRef, default: { unhealthyThreshold: 11 } }, 422],
      ['bad-type', { targetRef, default: { config: { type: 'UDP', httpHealthCheck: {} } } }, 422],
      ['type-only', { targetRef, default: { config: { type: 'HTTP' } } }, 422],
      ['relative-path', { targetRef, default: { config: { type: 'HTTP', httpHealthCheck: { requestPath: 'healthz' } } } }, 422],
      ['port-0', { targetRef, default: { config: { type: 'GRPC', grpcHealthCheck: { port: 0 } } } }, 422],
      ['bad-spec', { targetRef, default: { config: { type: 'TCP', tcpHealthCheck: { portSpecification: 'USE_ANY_PORT' } } } }, 422],
      ['typo', { targetRef, default: { config: { type: 'HTTP', httpHealthCheck: { requestpath: '/x' } } } }, 400],
    ];
    for (const [name, badSpec, status] of refused) {
      const r = await rest.create(hcp(name, badSpec), { dryRun: true });
      assert.equal(r.status, status, `${name}: ${JSON.stringify(r.body)}`);
    }

    const MERGE = 'application/merge-patch+json';
    // status is a subresource: conditions written there stick, and a spec write cannot set them.
    const status = {
      conditions: [{ type: 'Attached', status: 'True', reason: 'Attached', message: '', lastTransitionTime: '2026-11-29T00:00:00Z' }],
    };
    const put = await rest.request(
      'PATCH',
      '/apis/networking.gke.io/v1/namespaces/default/healthcheckpolicies/web/status',
      { status },
      MERGE,
    );
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const ignored = await rest.request(
      'PATCH',
      '/apis/networking.gke.io/v1/namespaces/default/healthcheckpolicies/web',
      { status: { conditions: [] } },
      MERGE,
    );
    assert.equal(ignored.status, 200, JSON.stringify(ignored.body));
    const after = await rest.get('/apis/networking.gke.io/v1/namespaces/default/healthcheckpolicies/web');
    assert.deepEqual((after.body as { status: unknown }).status, status);
  });

  it("the Deployment's Pod template is admitted where Pod Security 'restricted' is enforced", async () => {
    const ns = await rest.get(`/api/v1/namespaces/${NS}`);
    const labels = (ns.body as { metadata: { labels: Record<string, string> } }).metadata.labels;
    assert.equal(labels['pod-security.kubernetes.io/enforce'], 'restricted');

    const template = podTemplate(deploymentOf(base));
    const pod = (name: string, spec: unknown): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: NS, labels: template.metadata.labels },
      spec,
    });
    const admitted = await rest.create(pod('hcsync-admission-check', template.spec), { dryRun: true });
    ok(admitted, pod('hcsync-admission-check', {}));
    assert.deepEqual(admitted.warnings, []);

    // Control: the same Pod without its security contexts is refused, so enforcement is real.
    const weakened = structuredClone(template.spec);
    delete weakened.securityContext;
    for (const c of weakened.containers) delete c.securityContext;
    const refused = await rest.create(pod('hcsync-admission-control', weakened), { dryRun: true });
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.match((refused.body as { message: string }).message, /violates PodSecurity "restricted/);
  });

  it('the Deployment runs 2 leader-electing replicas with probes, limits and POD_NAMESPACE', () => {
    const d = deploymentOf(base);
    const spec = d.spec as { replicas: number };
    assert.equal(spec.replicas, 2);
    const [c] = podTemplate(d).spec.containers;
    assert.ok(c);
    assert.equal(c.args[0], 'run');
    assert.ok(c.args.includes('--leader-elect=true'));
    assert.ok(c.args.includes('--leader-election-id=hcsync'), 'the Lease the Role allows');
    assert.equal(c.env.find((e) => e.name === 'POD_NAMESPACE')?.valueFrom?.fieldRef?.fieldPath, 'metadata.namespace');
    const container = c as unknown as Record<string, { httpGet?: { path: string } } & Record<string, unknown>>;
    assert.equal(container.livenessProbe?.httpGet?.path, '/healthz');
    assert.equal(container.readinessProbe?.httpGet?.path, '/readyz');
    const resources = container.resources as { requests?: Record<string, string>; limits?: Record<string, string> };
    assert.ok(resources.requests?.cpu && resources.requests.memory && resources.limits?.memory);
  });

  it('helm lint passes, with default values and with every toggle on', () => {
    runTool('helm', ['lint', '--strict', 'deploy/helm/hcsync']);
    runTool('helm', ['lint', '--strict', 'deploy/helm/hcsync', '--namespace', NS, ...ALL_TOGGLES.flatMap((s) => ['--set', s])]);
  });

  it('helm template renders the same objects as kustomize, apart from Helm-only labels', () => {
    const helm = byKey(helmTemplate(ALL_TOGGLES).map(stripHelmLabels));
    const kustomize = byKey(monitoring);
    assert.deepEqual([...helm.keys()].sort(), [...kustomize.keys()].sort());
    for (const [key, o] of kustomize) assert.deepEqual(helm.get(key), o, key);
    // Defaults: no Namespace (helm --create-namespace), no Prometheus Operator objects.
    assert.deepEqual(
      helmTemplate().map(objectKey).sort(),
      base
        .filter((o) => o.kind !== 'Namespace')
        .map(objectKey)
        .sort(),
    );
  });

  it('helm-rendered objects apply with server-side dry run, also with project, namespaces and observe mode', async () => {
    const objects = helmTemplate([
      ...ALL_TOGGLES,
      'project=my-project',
      'mode=observe',
      'namespaces={shop,payments}',
      'resync=10m',
      'replicas=3',
      'gcpWriteQps=5',
      'inferFromLiveness=false',
      'image.repository=us-docker.pkg.dev/my-project/hcsync/hcsync',
      'image.tag=0.1.1',
      'serviceMonitor.labels.release=kube-prometheus-stack',
    ]);
    const d = deploymentOf(objects);
    const [c] = podTemplate(d).spec.containers;
    for (const flag of [
      '--project=my-project',
      '--mode=observe',
      '--namespaces=shop,payments',
      '--resync=10m',
      '--gcp-write-qps=5',
      '--infer-from-liveness=false',
    ]) {
      assert.ok(c?.args.includes(flag), `${flag} in ${c?.args.join(' ')}`);
    }
    assert.equal((d.spec as { replicas: number }).replicas, 3);
    assert.equal((c as unknown as { image: string }).image, 'us-docker.pkg.dev/my-project/hcsync/hcsync:0.1.1');
    assert.equal(objects.find((o) => o.kind === 'ServiceMonitor')?.metadata.labels?.release, 'kube-prometheus-stack');
    for (const o of objects) {
      const r = await rest.apply(o, { dryRun: true });
      ok(r, o);
      assert.deepEqual(r.warnings, [], `${objectKey(o)} warnings`);
    }
  });

  it('the access table matches the code: every call it names is made, every Kubernetes API call made is in it', () => {
    const sources = productionSource();
    // Formatting may break a call after its parenthesis: compare with that whitespace removed.
    const all = sources.map((x) => x.text.replace(/\(\s+/g, '(')).join('\n');
    for (const a of NEEDED_ACCESS) assert.ok(all.includes(a.call), `${a.call} (${a.where}) is no longer in src/: drop its permission`);
    const apiCall =
      /\.((?:list|read|create|patch|replace|delete|watch)\w*(?:Namespaced|ForAllNamespaces|Cluster|TokenReview|SubjectAccessReview)\w*)\(/g;
    const informer = /family\(\s*'(\w+)'/g;
    for (const { file, text } of sources) {
      for (const m of text.matchAll(apiCall))
        assert.ok(
          NEEDED_ACCESS.some((a) => a.call === m[1]),
          `${file} calls ${m[1]}: add it and the permission it needs to NEEDED_ACCESS`,
        );
      for (const m of text.matchAll(informer))
        assert.ok(
          NEEDED_ACCESS.some((a) => a.call === `family('${m[1]}'`),
          `${file} has an informer on ${m[1]}: add its watch to NEEDED_ACCESS`,
        );
    }
    // The informer is client-node's ListWatch (a list, then a watch), in one place.
    assert.deepEqual(
      sources.filter((x) => x.text.includes('new ListWatch(')).map((x) => path.basename(x.file)),
      ['informer.ts'],
    );
  });

  it('the ClusterRole grants exactly the access hcsync uses, the Role only its Lease', () => {
    for (const [source, objects] of [
      ['kustomize', base],
      ['helm', helmTemplate()],
    ] as const) {
      const roles = objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role');
      assert.deepEqual(roles.map((o) => o.kind).sort(), ['ClusterRole', 'Role'], source);
      const cluster = roles.find((o) => o.kind === 'ClusterRole') as unknown as { rules: PolicyRule[]; aggregationRule?: unknown };
      const lease = roles.find((o) => o.kind === 'Role') as unknown as { rules: PolicyRule[] };
      assert.equal(cluster.aggregationRule, undefined);
      assert.deepEqual(flattenRules(cluster.rules), [...EXPECTED_CLUSTER_RULES].sort(), `${source} ClusterRole`);
      assert.deepEqual(flattenRules(lease.rules), [...EXPECTED_LEASE_RULES].sort(), `${source} Role`);
      // Bound to hcsync's ServiceAccount and nothing else.
      for (const b of objects.filter((o) => o.kind.endsWith('RoleBinding'))) {
        assert.deepEqual(
          (b as unknown as { subjects: unknown[] }).subjects,
          [{ kind: 'ServiceAccount', name: 'hcsync', namespace: NS }],
          `${source} ${b.kind}`,
        );
      }
    }
  });

  it('namespaced RBAC: kustomize (deploy/overlays/namespaced) and Helm (rbac.namespaced) render a Role per watched namespace, no ClusterRole, and --namespaces', () => {
    const kustomize = kustomizeBuild('deploy/overlays/namespaced');
    const helm = helmTemplate(['rbac.namespaced=true', 'namespaces={shop,payments}']).map(stripHelmLabels);
    for (const [source, objects] of [
      ['kustomize', kustomize],
      ['helm', helm],
    ] as const) {
      assert.deepEqual(objects.filter((o) => o.kind.startsWith('Cluster')).map(objectKey), [], `${source}: nothing cluster-wide`);
      const roles = objects.filter((o) => o.kind === 'Role');
      assert.deepEqual(
        roles.map(objectKey).sort(),
        [`Role/${NS}/hcsync-leader-election`, 'Role/payments/hcsync', 'Role/shop/hcsync'],
        source,
      );
      for (const ns of ['shop', 'payments']) {
        assert.deepEqual(
          flattenRules(rulesOf(objects.find((o) => o.kind === 'Role' && o.metadata.namespace === ns))),
          EXPECTED_CLUSTER_RULES,
          `${source} Role in ${ns}`,
        );
        const binding = objects.find((o) => o.kind === 'RoleBinding' && o.metadata.namespace === ns) as unknown as {
          roleRef: unknown;
          subjects: unknown;
        };
        assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'hcsync' }, `${source} ${ns}`);
        assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'hcsync', namespace: NS }], `${source} ${ns}`);
      }
      assert.deepEqual(
        flattenRules(rulesOf(objects.find((o) => o.kind === 'Role' && o.metadata.namespace === NS))),
        EXPECTED_LEASE_RULES,
        `${source} Lease Role`,
      );
      assert.ok(podTemplate(deploymentOf(objects)).spec.containers[0]?.args.includes('--namespaces=shop,payments'), source);
    }
    // The same objects either way (Helm has no Namespace by default).
    const h = byKey(helm);
    const k = byKey(kustomize.filter((o) => o.kind !== 'Namespace'));
    assert.deepEqual([...h.keys()].sort(), [...k.keys()].sort());
    for (const [key, o] of k) assert.deepEqual(h.get(key), o, key);
    assert.throws(() => helmTemplate(['rbac.namespaced=true']), /rbac.namespaced needs namespaces/);
  });

  it('namespaced RBAC applies with server-side dry run in the watched namespaces', async () => {
    for (const ns of ['shop', 'payments'])
      ok(await rest.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, { dryRun: false }), {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: ns },
      });
    for (const o of [
      ...kustomizeBuild('deploy/overlays/namespaced'),
      ...helmTemplate(['rbac.namespaced=true', 'namespaces={shop,payments}']),
    ]) {
      const r = await rest.apply(o, { dryRun: true });
      ok(r, o);
      assert.deepEqual(r.warnings, [], `${objectKey(o)} warnings`);
    }
  });

  it('metrics-auth and networkpolicy: kustomize components and Helm toggles render the same objects, which dry-run apply', async () => {
    const kustomize = overlayWith(['servicemonitor', 'metrics-auth', 'networkpolicy']);
    const helm = helmTemplate([
      'createNamespace=true',
      'serviceMonitor.enabled=true',
      'metrics.auth.enabled=true',
      'networkPolicy.enabled=true',
    ]).map(stripHelmLabels);
    const h = byKey(helm);
    const k = byKey(kustomize);
    assert.deepEqual([...h.keys()].sort(), [...k.keys()].sort());
    for (const [key, o] of k) assert.deepEqual(h.get(key), o, key);
    // --metrics-auth on; the token-checking role is exactly the two reviews; the reader role only get /metrics.
    assert.ok(podTemplate(deploymentOf(kustomize)).spec.containers[0]?.args.includes('--metrics-auth=true'));
    const auth = kustomize.find((o) => o.kind === 'ClusterRole' && o.metadata.name === 'hcsync-metrics-auth');
    assert.deepEqual(flattenRules(rulesOf(auth)), EXPECTED_METRICS_AUTH_RULES);
    assert.deepEqual(
      (
        kustomize.find((o) => o.kind === 'ClusterRoleBinding' && o.metadata.name === 'hcsync-metrics-auth') as unknown as {
          subjects: unknown;
        }
      ).subjects,
      [{ kind: 'ServiceAccount', name: 'hcsync', namespace: NS }],
    );
    assert.deepEqual(rulesOf(kustomize.find((o) => o.metadata.name === 'hcsync-metrics-reader')), [
      { nonResourceURLs: ['/metrics'], verbs: ['get'] },
    ]);
    const sm = kustomize.find((o) => o.kind === 'ServiceMonitor') as unknown as { spec: { endpoints: { bearerTokenFile?: string }[] } };
    assert.equal(sm.spec.endpoints[0]?.bearerTokenFile, '/var/run/secrets/kubernetes.io/serviceaccount/token');
    // The NetworkPolicy admits the metrics and health ports only, from Pods in any namespace; egress is not restricted.
    const np = kustomize.find((o) => o.kind === 'NetworkPolicy') as unknown as {
      spec: { podSelector: unknown; policyTypes: string[]; ingress: { from: unknown[]; ports: { port: string }[] }[] };
    };
    assert.deepEqual(np.spec.podSelector, { matchLabels: { 'app.kubernetes.io/name': 'hcsync', 'app.kubernetes.io/instance': 'hcsync' } });
    assert.deepEqual(np.spec.policyTypes, ['Ingress']);
    assert.deepEqual(np.spec.ingress.flatMap((r) => r.ports.map((p) => p.port)).sort(), ['health', 'metrics']);
    const ports = (podTemplate(deploymentOf(kustomize)).spec.containers[0] as unknown as { ports: { name: string }[] }).ports
      .map((p) => p.name)
      .sort();
    assert.deepEqual(ports, ['health', 'metrics'], 'the policy names ports the container has');
    // Helm: metrics narrowed to a monitoring namespace by selector.
    const narrowed = helmTemplate([
      'networkPolicy.enabled=true',
      'networkPolicy.metricsNamespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name=monitoring',
    ]).find((o) => o.kind === 'NetworkPolicy') as unknown as typeof np;
    assert.deepEqual(narrowed.spec.ingress, [
      {
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
        ports: [{ port: 'metrics', protocol: 'TCP' }],
      },
      { from: [{ namespaceSelector: {} }], ports: [{ port: 'health', protocol: 'TCP' }] },
    ]);
    for (const o of [
      ...kustomize,
      ...helmTemplate([
        'networkPolicy.enabled=true',
        'networkPolicy.metricsNamespaceSelector.matchLabels.team=monitoring',
        'metrics.auth.enabled=true',
      ]),
    ]) {
      const r = await rest.apply(o, { dryRun: true });
      ok(r, o);
      assert.deepEqual(r.warnings, [], `${objectKey(o)} warnings`);
    }
  });

  it('with the RBAC objects in place, the API server allows what hcsync does and refuses the rest', async () => {
    for (const o of base.filter((x) => /Role|ServiceAccount/.test(x.kind))) ok(await rest.apply(o, { dryRun: false }), o);
    const can = async (
      verb: string,
      group: string,
      resource: string,
      namespace: string,
      opts: { subresource?: string; name?: string } = {},
    ): Promise<boolean> => {
      const review = {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        metadata: {}, // a review has no name: the API server insists on empty metadata
        spec: {
          user: SA_USER,
          groups: ['system:serviceaccounts', `system:serviceaccounts:${NS}`, 'system:authenticated'],
          resourceAttributes: { verb, group, resource, namespace, ...opts },
        },
      };
      const r = await rest.create(review as unknown as KubeObject, { dryRun: false });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return (r.body as { status: { allowed: boolean } }).status.allowed;
    };
    const allowed: [string, string, string, string, { subresource?: string; name?: string }?][] = [
      ['list', '', 'services', 'shop'],
      ['watch', '', 'services', ''],
      ['patch', '', 'services', 'shop', { subresource: 'status' }],
      ['list', '', 'pods', ''],
      ['watch', 'networking.k8s.io', 'ingresses', ''],
      ['list', 'cloud.google.com', 'backendconfigs', 'shop'],
      ['create', 'events.k8s.io', 'events', 'shop'],
      ['create', 'coordination.k8s.io', 'leases', NS],
      ['update', 'coordination.k8s.io', 'leases', NS, { name: 'hcsync' }],
    ];
    const refused: [string, string, string, string, { subresource?: string; name?: string }?][] = [
      ['get', '', 'services', 'shop'],
      ['patch', 'events.k8s.io', 'events', 'shop'],
      ['update', 'events.k8s.io', 'events', 'shop'],
      ['create', 'authentication.k8s.io', 'tokenreviews', ''],
      ['patch', '', 'services', 'shop'],
      ['update', '', 'services', 'shop', { subresource: 'status' }],
      ['delete', '', 'services', 'shop'],
      ['get', '', 'pods', 'shop'],
      ['get', '', 'secrets', 'shop'],
      ['list', '', 'configmaps', ''],
      ['update', 'networking.k8s.io', 'ingresses', 'shop'],
      ['update', 'cloud.google.com', 'backendconfigs', 'shop'],
      ['create', '', 'events', 'shop'],
      ['update', 'coordination.k8s.io', 'leases', NS, { name: 'other' }],
      ['update', 'coordination.k8s.io', 'leases', 'kube-system', { name: 'hcsync' }],
      ['delete', 'coordination.k8s.io', 'leases', NS, { name: 'hcsync' }],
    ];
    for (const [verb, group, resource, namespace, opts] of allowed) {
      assert.equal(
        await can(verb, group, resource, namespace, opts),
        true,
        `${verb} ${group}/${resource} ${JSON.stringify(opts ?? {})} in "${namespace}" should be allowed`,
      );
    }
    for (const [verb, group, resource, namespace, opts] of refused) {
      assert.equal(
        await can(verb, group, resource, namespace, opts),
        false,
        `${verb} ${group}/${resource} ${JSON.stringify(opts ?? {})} in "${namespace}" should be refused`,
      );
    }
  });
});
