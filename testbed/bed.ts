// The whole local test bed in one object: a real kube-apiserver + etcd, the Compute API stand-in
// (really probing the apps and fronting a load balancer), the ingress-gce stand-in, loopback
// "Pods" (HTTP servers on 127.0.0.N), and hcsync run as its own process. Used by the end-to-end
// tests and by the demo (`npm run demo`, testbed/demo.ts).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  KubernetesObjectApi,
  NetworkingV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
  type V1Probe,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { startControlPlane, type ControlPlane } from './control-plane.js';
import { computeClientOptions, startComputeStandIn, type ComputeStandIn, type ComputeStandInOptions } from './compute/index.js';
import { GkeGatewayStandIn } from './gke-gateway/index.js';
import { GkeIngressStandIn, negName } from './gke-ingress/index.js';
import { freeLoopbackPort } from './loopback-http.js';

/** The repository root: testbed/ sits directly below it (and always runs from source, with tsx). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The Gateway API's standard CRDs, from sigs.k8s.io/gateway-api (scripts/build-tools.sh puts them here). */
const GATEWAY_API_CRDS = join(REPO_ROOT, '.cache/tools/gateway-api-crds');
const GATEWAY_GROUP = 'gateway.networking.k8s.io';
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export interface TestBedOptions {
  readonly log?: (line: string) => void;
  /** How often the ingress-gce stand-in syncs (GKE: minutes; here: fast). */
  readonly gkeSyncPeriodMs?: number;
  /** Scales health-check intervals in the Compute stand-in (0.02: a 15 s interval probes every 0.3 s). */
  readonly timeScale?: number;
  /** Install the BackendConfig CRD at start (default true); false plays a cluster without it. */
  readonly backendConfigCrd?: boolean;
  /** How long the Compute stand-in's operations.wait blocks at most (GCE: about 2 min). */
  readonly operationWaitCapMs?: number;
  /** Time from a write to its Operation being DONE (default 20 ms). */
  readonly operationDelayMs?: number;
  /** More Compute stand-in options (the scale benchmark: no prober, a per-second write quota). */
  readonly compute?: Pick<ComputeStandInOptions, 'probe' | 'writeQuotaPerSecond'>;
  /**
   * Install the Gateway API CRDs and the HealthCheckPolicy CRD at start (default false: most tests
   * play a cluster without them; installGatewayApiCrds() adds them later, as a cluster upgrade would).
   */
  readonly gatewayApiCrds?: boolean;
}

/** One backendRef of a route: a Service port, in another namespace when `namespace` is given. */
export interface RouteBackend {
  readonly service: string;
  readonly port: number;
  readonly namespace?: string;
}

export interface App {
  readonly ip: string;
  readonly port: number;
  setOkPaths(paths: readonly string[]): void;
  close(): Promise<void>;
}

export interface PodSpec {
  readonly ip: string;
  readonly port: number;
  readonly labels?: Record<string, string>;
  readonly readinessProbe?: V1Probe;
  readonly livenessProbe?: V1Probe;
}

/** A HealthCheckPolicy as read from the API server. */
export interface HealthCheckPolicyObject {
  metadata: {
    name: string;
    namespace: string;
    labels?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
    managedFields?: { manager?: string; operation?: string }[];
    resourceVersion?: string;
    generation?: number;
  };
  spec: { targetRef: { group: string; kind: string; name: string }; default?: Record<string, unknown> };
  status?: { conditions?: { type: string; status: string; reason: string; message: string }[] };
}

export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last instanceof Error ? String(last) : JSON.stringify(last)}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export function httpGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolveGet, reject) => {
    const req = http.get(url, { timeout: 3000, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolveGet({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout on ${url}`)));
    req.on('error', reject);
  });
}

/** hcsync running as its own process, the way a Pod would run it. */
export class HcsyncProcess {
  readonly lines: string[] = [];
  private readonly exited: Promise<number>;

  constructor(
    private readonly child: ChildProcess,
    readonly metricsUrl: string,
    readonly healthUrl: string,
  ) {
    // A pipe read can end inside a line (a long condition message) or inside a multi-byte
    // character ("→"): decode per stream and keep the unfinished tail for the next chunk.
    const collector = () => {
      const decoder = new StringDecoder('utf8');
      let tail = '';
      return {
        data: (chunk: Buffer) => {
          const parts = (tail + decoder.write(chunk)).split('\n');
          tail = parts.pop() ?? '';
          this.lines.push(...parts.filter(Boolean));
        },
        end: () => {
          const rest = tail + decoder.end();
          tail = '';
          if (rest !== '') this.lines.push(rest);
        },
      };
    };
    for (const stream of [child.stdout, child.stderr]) {
      const c = collector();
      stream?.on('data', c.data);
      stream?.on('end', c.end);
    }
    this.exited = new Promise((r) => child.once('exit', (code, signal) => r(code ?? (signal ? 128 : 1))));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  async metrics(): Promise<string> {
    return (await httpGet(`${this.metricsUrl}/metrics`)).body;
  }

  /** The value of one series, e.g. metric('hcsync_health_check_drift', {service: 'web'}). */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
    for (const line of (await this.metrics()).split('\n')) {
      if (!line.startsWith(name)) continue;
      const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
      if (m?.[1] !== name) continue;
      const have = Object.fromEntries(
        [...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x): [string, string] => [x[1] ?? '', x[2] ?? '']),
      );
      if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
    }
    return undefined;
  }

  async ready(): Promise<boolean> {
    try {
      return (await httpGet(`${this.healthUrl}/readyz`)).status === 200;
    } catch {
      return false;
    }
  }

  /** SIGTERM, then the exit code (hcsync finishes in-flight work and exits 0). */
  async stop(): Promise<number> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

export class TestBed {
  readonly project = 'hcsync-demo';
  readonly zone = 'us-central1-a';
  readonly region = 'us-central1';
  readonly clusterUid = '9410637bf984f3ee';
  readonly core: CoreV1Api;
  readonly net: NetworkingV1Api;
  readonly objects: KubernetesObjectApi;
  private readonly apps: App[] = [];
  private readonly hcsyncs: HcsyncProcess[] = [];
  private readonly workDir = mkdtempSync(join(tmpdir(), 'hcsync-bed-'));

  private constructor(
    readonly cp: ControlPlane,
    readonly kc: KubeConfig,
    readonly compute: ComputeStandIn,
    readonly gke: GkeIngressStandIn,
    /** The GKE Gateway controller stand-in; not started until a test calls gateway.start(). */
    readonly gateway: GkeGatewayStandIn,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.net = kc.makeApiClient(NetworkingV1Api);
    this.objects = KubernetesObjectApi.makeApiClient(kc);
  }

  static async start(opts: TestBedOptions = {}): Promise<TestBed> {
    const cp = await startControlPlane(opts.log ? { log: opts.log } : {});
    try {
      const kc = cp.kubeConfig();
      const compute = await startComputeStandIn({
        project: 'hcsync-demo',
        timeScale: opts.timeScale ?? 0.02,
        operationDelayMs: opts.operationDelayMs ?? 20,
        ...opts.compute,
        ...(opts.operationWaitCapMs !== undefined ? { operationWaitCapMs: opts.operationWaitCapMs } : {}),
      });
      const gke = new GkeIngressStandIn({
        kubeConfig: kc,
        compute: computeClientOptions(compute.endpoint),
        project: 'hcsync-demo',
        zone: 'us-central1-a',
        region: 'us-central1',
        clusterUid: '9410637bf984f3ee',
        mode: 'neg',
        syncPeriodMs: opts.gkeSyncPeriodMs ?? 1000,
        loadBalancerAddress: (um) => compute.loadBalancerAddress(um),
      });
      const gateway = new GkeGatewayStandIn({
        kubeConfig: kc,
        compute: computeClientOptions(compute.endpoint),
        project: 'hcsync-demo',
        zone: 'us-central1-a',
        region: 'us-central1',
        clusterUid: '9410637bf984f3ee',
        syncPeriodMs: opts.gkeSyncPeriodMs ?? 1000,
      });
      const bed = new TestBed(cp, kc, compute, gke, gateway);
      if (opts.backendConfigCrd ?? true) await bed.installBackendConfigCrd();
      if (opts.gatewayApiCrds ?? false) {
        await bed.installGatewayApiCrds();
        await bed.installHealthCheckPolicyCrd();
      }
      return bed;
    } catch (e) {
      await cp.stop();
      throw e;
    }
  }

  /** A BackendConfig `name` in `namespace` with that `spec.healthCheck` (the CRD must be installed). */
  async createBackendConfig(namespace: string, name: string, healthCheck: Record<string, unknown>): Promise<void> {
    await this.kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      group: 'cloud.google.com',
      version: 'v1',
      plural: 'backendconfigs',
      namespace,
      body: { apiVersion: 'cloud.google.com/v1', kind: 'BackendConfig', metadata: { name }, spec: { healthCheck } },
    });
  }

  async installBackendConfigCrd(): Promise<void> {
    await this.applyFile(join(REPO_ROOT, 'crds/backendconfig.yaml'));
    await this.waitForBackendConfigs();
  }

  /** Until the BackendConfig CRD serves lists (a new CRD answers 429 while its storage starts). */
  async waitForBackendConfigs(): Promise<void> {
    const custom = this.kc.makeApiClient(CustomObjectsApi);
    await until('BackendConfig CRD serving', async () => {
      await custom.listClusterCustomObject({ group: 'cloud.google.com', version: 'v1', plural: 'backendconfigs' });
      return true;
    });
  }

  /**
   * Installs the Gateway API's standard-channel CRDs (sigs.k8s.io/gateway-api v1.6.3,
   * config/crd/standard; run scripts/build-tools.sh first) and waits until the kinds hcsync reads
   * serve lists. The ValidatingAdmissionPolicy file beside them is not a CRD and is left out.
   */
  async installGatewayApiCrds(): Promise<void> {
    let files: string[];
    try {
      files = readdirSync(GATEWAY_API_CRDS).filter((f) => f.endsWith('.yaml') && !f.includes('_vap_'));
    } catch {
      throw new Error(`no Gateway API CRDs in ${GATEWAY_API_CRDS}: run scripts/build-tools.sh`);
    }
    for (const f of files) await this.applyFile(join(GATEWAY_API_CRDS, f));
    const custom = this.kc.makeApiClient(CustomObjectsApi);
    for (const [version, plural] of [
      ['v1', 'gatewayclasses'],
      ['v1', 'gateways'],
      ['v1', 'httproutes'],
      ['v1', 'grpcroutes'],
      ['v1beta1', 'referencegrants'],
    ] as const) {
      await until(`Gateway API ${plural} serving`, async () => {
        await custom.listClusterCustomObject({ group: GATEWAY_GROUP, version, plural });
        return true;
      });
    }
  }

  /** Installs crds/healthcheckpolicy.yaml and waits until it serves lists. */
  async installHealthCheckPolicyCrd(): Promise<void> {
    await this.applyFile(join(REPO_ROOT, 'crds/healthcheckpolicy.yaml'));
    const custom = this.kc.makeApiClient(CustomObjectsApi);
    await until('HealthCheckPolicy CRD serving', async () => {
      await custom.listClusterCustomObject({ group: 'networking.gke.io', version: 'v1', plural: 'healthcheckpolicies' });
      return true;
    });
  }

  /** A Gateway of `className` with one HTTP listener (routes from its own namespace). */
  async createGateway(namespace: string, name: string, className: string): Promise<void> {
    await this.kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      group: GATEWAY_GROUP,
      version: 'v1',
      namespace,
      plural: 'gateways',
      body: {
        apiVersion: `${GATEWAY_GROUP}/v1`,
        kind: 'Gateway',
        metadata: { name, namespace },
        spec: { gatewayClassName: className, listeners: [{ name: 'http', protocol: 'HTTP', port: 80 }] },
      },
    });
  }

  /** A GatewayClass not served by GKE (another implementation's controller). */
  async createGatewayClass(name: string, controllerName: string): Promise<void> {
    await this.kc.makeApiClient(CustomObjectsApi).createClusterCustomObject({
      group: GATEWAY_GROUP,
      version: 'v1',
      plural: 'gatewayclasses',
      body: { apiVersion: `${GATEWAY_GROUP}/v1`, kind: 'GatewayClass', metadata: { name }, spec: { controllerName } },
    });
  }

  /** An HTTPRoute (or GRPCRoute) attached to `gateway` (same namespace), one rule sending every path to `backends`. */
  async createRoute(
    namespace: string,
    name: string,
    gateway: string,
    backends: readonly RouteBackend[],
    kind: 'HTTPRoute' | 'GRPCRoute' = 'HTTPRoute',
  ): Promise<void> {
    const backendRefs = backends.map((b) => ({ name: b.service, port: b.port, ...(b.namespace ? { namespace: b.namespace } : {}) }));
    await this.kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      group: GATEWAY_GROUP,
      version: 'v1',
      namespace,
      plural: kind === 'HTTPRoute' ? 'httproutes' : 'grpcroutes',
      body: {
        apiVersion: `${GATEWAY_GROUP}/v1`,
        kind,
        metadata: { name, namespace },
        spec: { parentRefs: [{ name: gateway }], rules: [{ backendRefs }] },
      },
    });
  }

  async deleteRoute(namespace: string, name: string, kind: 'HTTPRoute' | 'GRPCRoute' = 'HTTPRoute'): Promise<void> {
    await this.kc.makeApiClient(CustomObjectsApi).deleteNamespacedCustomObject({
      group: GATEWAY_GROUP,
      version: 'v1',
      namespace,
      plural: kind === 'HTTPRoute' ? 'httproutes' : 'grpcroutes',
      name,
    });
  }

  /** A ReferenceGrant in `toNamespace` letting HTTPRoutes of `fromNamespace` reach its Services. */
  async createReferenceGrant(toNamespace: string, name: string, fromNamespace: string): Promise<void> {
    await this.kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      group: GATEWAY_GROUP,
      version: 'v1beta1',
      namespace: toNamespace,
      plural: 'referencegrants',
      body: {
        apiVersion: `${GATEWAY_GROUP}/v1beta1`,
        kind: 'ReferenceGrant',
        metadata: { name, namespace: toNamespace },
        spec: { from: [{ group: GATEWAY_GROUP, kind: 'HTTPRoute', namespace: fromNamespace }], to: [{ group: '', kind: 'Service' }] },
      },
    });
  }

  /** A HealthCheckPolicy as a user writes it (no hcsync label) for Service `service`. */
  async createHealthCheckPolicy(namespace: string, name: string, service: string, spec: Record<string, unknown>): Promise<void> {
    await this.kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      group: 'networking.gke.io',
      version: 'v1',
      namespace,
      plural: 'healthcheckpolicies',
      body: {
        apiVersion: 'networking.gke.io/v1',
        kind: 'HealthCheckPolicy',
        metadata: { name, namespace },
        spec: { targetRef: { group: '', kind: 'Service', name: service }, ...spec },
      },
    });
  }

  /** A HealthCheckPolicy, or undefined when it does not exist. */
  async healthCheckPolicy(namespace: string, name: string): Promise<HealthCheckPolicyObject | undefined> {
    try {
      return (await this.kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
        group: 'networking.gke.io',
        version: 'v1',
        namespace,
        plural: 'healthcheckpolicies',
        name,
      })) as HealthCheckPolicyObject;
    } catch (e) {
      if (e instanceof ApiException && e.code === 404) return undefined;
      throw e;
    }
  }

  /** Every HealthCheckPolicy in a namespace. */
  async healthCheckPolicies(namespace: string): Promise<HealthCheckPolicyObject[]> {
    const list = (await this.kc.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({
      group: 'networking.gke.io',
      version: 'v1',
      namespace,
      plural: 'healthcheckpolicies',
    })) as { items: HealthCheckPolicyObject[] };
    return list.items;
  }

  /** The `gkegw1-…` backend service / health check name GKE's Gateway controller gives a Service port. */
  gatewayCheckName(namespace: string, service: string, port: number): string {
    return this.gateway.backendName(namespace, service, port);
  }

  /** The load balancer ('127.0.0.1:PORT') of a Gateway of a global GKE class, once GKE programmed it. */
  async gatewayLoadBalancer(namespace: string, gateway: string): Promise<string> {
    const urlMap = this.gateway.urlMapName(namespace, gateway);
    return until(`load balancer of Gateway ${namespace}/${gateway}`, () => this.compute.loadBalancerAddress(urlMap));
  }

  /** The NEG-mode check name ingress-gce gives a Service port. */
  checkName(namespace: string, service: string, port: number): string {
    return negName(this.clusterUid, namespace, service, port);
  }

  /** Applies every object of a YAML file with server-side apply, as `kubectl apply --server-side`. */
  async applyFile(path: string, transform: (o: KubernetesObject) => KubernetesObject = (o) => o): Promise<void> {
    for (const doc of parseAllDocuments(readFileSync(path, 'utf8'))) {
      const obj = doc.toJS() as KubernetesObject | null;
      if (!obj?.kind) continue;
      await this.objects.patch(transform(obj), undefined, undefined, 'testbed', true, PatchStrategy.ServerSideApply);
    }
  }

  /**
   * Creates hcsync's ServiceAccount with the ClusterRole shipped in deploy/ and returns a
   * kubeconfig that impersonates it: hcsync then runs with exactly the production permissions.
   */
  async hcsyncKubeconfig(opts: { server?: string; file?: string } = {}): Promise<string> {
    await this.ensureNamespace('hcsync-system');
    for (const f of ['serviceaccount.yaml', 'clusterrole.yaml', 'clusterrolebinding.yaml', 'role.yaml', 'rolebinding.yaml']) {
      await this.applyFile(join(REPO_ROOT, 'deploy/base', f));
    }
    const path = join(this.workDir, opts.file ?? 'hcsync.kubeconfig');
    this.cp.writeKubeconfig(path, {
      impersonate: 'system:serviceaccount:hcsync-system:hcsync',
      ...(opts.server ? { server: opts.server } : {}),
    });
    return path;
  }

  async ensureNamespace(name: string): Promise<void> {
    try {
      await this.core.createNamespace({ body: { metadata: { name } } });
    } catch (e) {
      if (!(e instanceof ApiException && e.code === 409)) throw e;
    }
  }

  /** An app on its own loopback IP: 200 on okPaths, 404 elsewhere — a stand-in for a container. */
  async startApp(ip: string, okPaths: readonly string[], port = 0): Promise<App> {
    let ok = new Set(okPaths);
    const server = http.createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      res.writeHead(ok.has(path) ? 200 : 404, { 'content-type': 'text/plain' }).end(ok.has(path) ? `ok from ${ip}\n` : 'not found\n');
    });
    await new Promise<void>((r) => server.listen(port, ip, r));
    const app: App = {
      ip,
      port: (server.address() as AddressInfo).port,
      setOkPaths: (paths) => (ok = new Set(paths)),
      close: () =>
        new Promise<void>((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
    };
    this.apps.push(app);
    return app;
  }

  /** Creates a Pod and plays its kubelet: Running, Ready, with the app's loopback IP. */
  async createPod(namespace: string, name: string, spec: PodSpec): Promise<void> {
    await this.core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name, labels: spec.labels ?? { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'app',
              image: 'example/app',
              ports: [{ name: 'http', containerPort: spec.port }],
              ...(spec.readinessProbe ? { readinessProbe: spec.readinessProbe } : {}),
              ...(spec.livenessProbe ? { livenessProbe: spec.livenessProbe } : {}),
            },
          ],
        },
      },
    });
    await this.core.patchNamespacedPodStatus(
      {
        name,
        namespace,
        body: { status: { phase: 'Running', podIP: spec.ip, podIPs: [{ ip: spec.ip }], conditions: [{ type: 'Ready', status: 'True' }] } },
      },
      merge,
    );
  }

  async deletePod(namespace: string, name: string): Promise<void> {
    await this.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 });
    await until(`Pod ${namespace}/${name} gone`, async () => {
      try {
        await this.core.readNamespacedPod({ name, namespace });
        return undefined;
      } catch (e) {
        return e instanceof ApiException && e.code === 404 ? true : undefined;
      }
    });
  }

  async createService(namespace: string, name: string, port: number, annotations: Record<string, string> = {}): Promise<void> {
    await this.core.createNamespacedService({
      namespace,
      body: { metadata: { name, annotations }, spec: { selector: { app: name }, ports: [{ name: 'http', port, targetPort: 'http' }] } },
    });
  }

  async createIngress(namespace: string, name: string, service: string, port: number): Promise<void> {
    await this.net.createNamespacedIngress({
      namespace,
      body: { metadata: { name }, spec: { defaultBackend: { service: { name: service, port: { number: port } } } } },
    });
  }

  /**
   * The blog's deployment (user-story-gke-ingress-502.md): Service port 8000, one Pod whose only
   * probe is a livenessProbe on /health-check, an app that answers 404 on "/", and an Ingress.
   */
  async deployBlogApp(namespace: string, o: { service: string; ingress: string; ip: string }): Promise<App> {
    await this.ensureNamespace(namespace);
    const app = await this.startApp(o.ip, ['/health-check']);
    await this.createService(namespace, o.service, 8000);
    await this.createPod(namespace, `${o.service}-1`, {
      ip: app.ip,
      port: app.port,
      labels: { app: o.service },
      livenessProbe: { httpGet: { path: '/health-check', port: app.port }, initialDelaySeconds: 10, timeoutSeconds: 5 },
    });
    await this.createIngress(namespace, o.ingress, o.service, 8000);
    return app;
  }

  /** The load balancer address GKE wrote into the Ingress status ("127.0.0.1:PORT"). */
  async loadBalancer(namespace: string, ingress: string): Promise<string> {
    return until(`load balancer of Ingress ${namespace}/${ingress}`, async () => {
      const ing = await this.net.readNamespacedIngress({ namespace, name: ingress });
      const lb = ing.status?.loadBalancer?.ingress?.[0];
      const port = lb?.ports?.[0]?.port;
      return lb?.ip && port ? `${lb.ip}:${port}` : undefined;
    });
  }

  async serviceCondition(namespace: string, name: string): Promise<{ status: string; reason: string; message: string } | undefined> {
    const svc = await this.core.readNamespacedService({ namespace, name });
    const c = svc.status?.conditions?.find((x) => x.type === 'HealthCheckInSync');
    return c ? { status: c.status, reason: c.reason, message: c.message } : undefined;
  }

  async serviceEvents(namespace: string, name: string): Promise<{ reason: string; type: string; note: string }[]> {
    const list = await this.kc.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace });
    return list.items
      .filter((e) => e.regarding?.kind === 'Service' && e.regarding.name === name)
      .map((e) => ({ reason: e.reason ?? '', type: e.type ?? '', note: e.note ?? '' }));
  }

  /** Runs the built hcsync (`node dist/cli/main.js`) against this bed. */
  async spawnHcsync(
    args: readonly string[],
    kubeconfig?: string,
    opts: { computeEndpoint?: string; env?: Record<string, string>; main?: string } = {},
  ): Promise<HcsyncProcess> {
    const metricsPort = await freeLoopbackPort();
    const healthPort = await freeLoopbackPort();
    const main = opts.main ?? join(REPO_ROOT, 'dist/cli/main.js');
    const child = spawn(
      process.execPath,
      [
        main,
        ...args,
        '--kubeconfig',
        kubeconfig ?? this.cp.kubeconfigPath,
        '--project',
        this.project,
        '--gcp-api-endpoint',
        opts.computeEndpoint ?? this.compute.endpoint,
        '--metrics-addr',
        `127.0.0.1:${metricsPort}`,
        '--health-addr',
        `127.0.0.1:${healthPort}`,
      ],
      { env: { ...process.env, METADATA_SERVER_DETECTION: 'none', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const p = new HcsyncProcess(child, `http://127.0.0.1:${metricsPort}`, `http://127.0.0.1:${healthPort}`);
    this.hcsyncs.push(p);
    return p;
  }

  /** Runs a one-shot command of the built hcsync (`plan`, `diagnose …`) against this bed; resolves with its exit code and output. */
  hcsyncCommand(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const flags = ['--kubeconfig', this.cp.kubeconfigPath, '--project', this.project, '--gcp-api-endpoint', this.compute.endpoint];
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [join(REPO_ROOT, 'dist/cli/main.js'), ...args, ...flags],
        { env: { ...process.env, METADATA_SERVER_DETECTION: 'none' } },
        (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  }

  async stop(): Promise<void> {
    await Promise.all(this.hcsyncs.map((h) => h.stop().catch(() => 0)));
    await this.gke.stop();
    await this.gateway.stop();
    await this.compute.stop();
    await Promise.all(this.apps.map((a) => a.close()));
    await this.cp.stop();
    rmSync(this.workDir, { recursive: true, force: true });
  }
}
