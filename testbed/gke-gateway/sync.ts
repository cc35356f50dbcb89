// GkeGatewayStandIn: a small stand-in for GKE's Gateway controller (networking.gke.io/gateway) for
// tests and the demo. Each sync lists GatewayClasses, Gateways, HTTPRoutes, GRPCRoutes,
// ReferenceGrants, HealthCheckPolicies, Services and Pods; for every Service port a route of a
// GKE-class Gateway sends traffic to, it ensures a `gkegw1-…` NEG (+ endpoints), health check and
// backend service in the Compute stand-in, the health check built from GKE's defaults and the
// Service's HealthCheckPolicy (never from probes: docs/gke-gateway-healthchecks.md §1); then a URL
// map per Gateway (global ones get the Compute stand-in's load balancer), the statuses GKE writes
// (GatewayClass, Gateway, route parents, policy `Attached`), and garbage collection. Like the
// ingress-gce stand-in next door it uses plain lists per sync, no informers: it is a test double.
// It shares no code with src/ (it must not agree with hcsync by construction).
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Pod,
  type V1Service,
  type V1ServicePort,
} from '@kubernetes/client-node';
import type { protos } from '@google-cloud/compute';
import { clientOptionsForEndpoint, ComputeClients, sameResource, type ComputeClientOptions } from '../gke-ingress/compute-clients.js';
import { GkeCompute, podEndpoints, SyncLoop } from '../gke-compute.js';
import { checkDiffs, desiredHealthCheck, type PolicyDefault } from './health-check.js';
import { backendName, ownedName, urlMapName } from './naming.js';

type IBackendService = protos.google.cloud.compute.v1.IBackendService;
type IUrlMap = protos.google.cloud.compute.v1.IUrlMap;

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

const GKE_CONTROLLER = 'networking.gke.io/gateway';
const GATEWAY_GROUP = 'gateway.networking.k8s.io';
/** GKE's single-cluster classes this stand-in installs, and whether their resources are regional. */
const GKE_CLASSES: Readonly<Record<string, boolean>> = {
  'gke-l7-global-external-managed': false,
  'gke-l7-gxlb': false,
  'gke-l7-regional-external-managed': true,
  'gke-l7-rilb': true,
};
/** Annotations GKE writes on a Gateway naming its Compute resources. */
const URL_MAPS_ANNOTATION = 'networking.gke.io/url-maps';
const BACKEND_SERVICES_ANNOTATION = 'networking.gke.io/backend-services';
const HEALTH_CHECKS_ANNOTATION = 'networking.gke.io/health-checks';

/** The shape of the Compute stand-in's computeClientOptions(), which lacks gax's index signature. */
interface EndpointClientOptions {
  apiEndpoint: string;
  port: number;
  protocol: string;
  fallback?: boolean;
  authClient: unknown;
}

export interface GkeGatewayStandInOptions {
  kubeConfig: KubeConfig;
  compute: string | ComputeClientOptions | EndpointClientOptions;
  project: string;
  zone: string;
  region: string;
  /** Part of every name (GKE: per cluster); 16 hex like the ingress-gce stand-in's. */
  clusterUid: string;
  syncPeriodMs: number;
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

export interface SyncReport {
  errors: string[];
  healthChecksCreated: string[];
  healthChecksUpdated: string[];
}

export interface HealthCheckUpdate {
  name: string;
  diffs: string[];
  at: Date;
}

interface Meta {
  name?: string;
  namespace?: string;
  generation?: number;
  creationTimestamp?: string | Date;
  annotations?: Record<string, string>;
}
interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime?: string;
}
interface Obj {
  metadata: Meta;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}
interface ParentRef {
  group?: string;
  kind?: string;
  namespace?: string;
  name: string;
  sectionName?: string;
  port?: number;
}
interface BackendRef {
  group?: string;
  kind?: string;
  namespace?: string;
  name: string;
  port?: number;
}
interface RouteStatusParent {
  parentRef: ParentRef;
  controllerName: string;
  conditions: Condition[];
}

interface Backend {
  key: string;
  regional: boolean;
  name: string;
  service: V1Service;
  port: V1ServicePort;
  selfLink?: string;
  ok?: boolean;
}

interface GatewayPlan {
  gateway: Obj;
  regional: boolean;
  urlMap: string;
  /** host → [paths, backend key] in route order; the first backend also serves unmatched requests. */
  rules: { host: string; paths: string[]; backend: string }[];
  backends: string[];
  /** Set by syncGateway: the URL map exists (some backend is ready); else it is collected. */
  programmed?: boolean;
}

interface RouteKind {
  kind: 'HTTPRoute' | 'GRPCRoute';
  plural: string;
}
const ROUTE_KINDS: readonly RouteKind[] = [
  { kind: 'HTTPRoute', plural: 'httproutes' },
  { kind: 'GRPCRoute', plural: 'grpcroutes' },
];

const ns = (o: { metadata?: Meta }): string => o.metadata?.namespace ?? 'default';
const nm = (o: { metadata?: Meta }): string => o.metadata?.name ?? '';
function message(e: unknown): string {
  if (e instanceof ApiException) return `HTTP ${e.code}: ${typeof e.body === 'string' ? e.body : JSON.stringify(e.body)}`;
  return e instanceof Error ? e.message : String(e);
}
const text = (v: unknown): string => (typeof v === 'string' ? v : '');
function time(t: string | Date | undefined): number {
  return t === undefined ? 0 : new Date(t).getTime();
}

export class GkeGatewayStandIn {
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly gce: ComputeClients;
  private readonly compute: GkeCompute;
  private readonly log: (message: string, fields?: Record<string, unknown>) => void;
  private readonly loop: SyncLoop<SyncReport>;
  private readonly updates: HealthCheckUpdate[] = [];

  constructor(private readonly opts: GkeGatewayStandInOptions) {
    this.core = opts.kubeConfig.makeApiClient(CoreV1Api);
    this.custom = opts.kubeConfig.makeApiClient(CustomObjectsApi);
    this.gce = new ComputeClients(
      typeof opts.compute === 'string' ? clientOptionsForEndpoint(opts.compute) : (opts.compute as ComputeClientOptions),
    );
    this.compute = new GkeCompute(this.gce, opts);
    this.log = opts.log ?? (() => undefined);
    this.loop = new SyncLoop(
      () => this.syncOnce(),
      opts.syncPeriodMs,
      (e) => this.log('gateway: periodic sync failed', { error: message(e) }),
    );
  }

  /** Runs a first sync, then one every syncPeriodMs until stop(). */
  start(): Promise<SyncReport> {
    return this.loop.start();
  }

  /** One full sync, after any sync already running. Rejects only when listing itself fails. */
  syncNow(): Promise<SyncReport> {
    return this.loop.syncNow();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    await this.gce.close();
  }

  /** The backend service / health check / NEG name of a Service port behind a GKE Gateway. */
  backendName(namespace: string, service: string, port: number): string {
    return backendName(this.opts.clusterUid, namespace, service, port);
  }

  /** The URL map (and so the load balancer) of a Gateway. */
  urlMapName(namespace: string, gateway: string): string {
    return urlMapName(this.opts.clusterUid, namespace, gateway);
  }

  /** Health check updates (full PUTs) made so far, e.g. after a policy change. */
  updateLog(): readonly HealthCheckUpdate[] {
    return this.updates;
  }

  // ---------------------------------------------------------------------------------------------

  /** Lists one kind; a kind whose CRD is not installed (404) lists as nothing, so CRDs may come later. */
  private async list(group: string, version: string, plural: string): Promise<Obj[] | undefined> {
    try {
      const r = (await this.custom.listClusterCustomObject({ group, version, plural })) as { items?: Obj[] };
      return r.items ?? [];
    } catch (e) {
      if (e instanceof ApiException && e.code === 404) return undefined;
      throw e;
    }
  }

  private async syncOnce(): Promise<SyncReport> {
    const report: SyncReport = { errors: [], healthChecksCreated: [], healthChecksUpdated: [] };
    const fail = (what: string, e: unknown): void => {
      report.errors.push(`${what}: ${message(e)}`);
      this.log('gateway: sync error', { what, error: message(e) });
    };

    const classes = await this.list(GATEWAY_GROUP, 'v1', 'gatewayclasses');
    if (classes === undefined) {
      // No Gateway API: nothing is GKE's. Resources from an earlier life are collected.
      await this.gc(new Set(), new Set());
      return report;
    }
    try {
      classes.push(...(await this.ensureClasses(classes)));
    } catch (e) {
      fail('GatewayClasses', e);
    }
    const [gateways, grants, policies, serviceList, podList, ...routeLists] = await Promise.all([
      this.list(GATEWAY_GROUP, 'v1', 'gateways'),
      this.list(GATEWAY_GROUP, 'v1beta1', 'referencegrants'),
      this.list('networking.gke.io', 'v1', 'healthcheckpolicies'),
      this.core.listServiceForAllNamespaces(),
      this.core.listPodForAllNamespaces(),
      ...ROUTE_KINDS.map((k) => this.list(GATEWAY_GROUP, 'v1', k.plural)),
    ]);
    const controllerOf = new Map(classes.map((c) => [nm(c), text(c.spec?.['controllerName'])]));
    const services = new Map(serviceList.items.map((s) => [`${ns(s)}/${nm(s)}`, s]));

    // GKE Gateways: their class is served by GKE's controller.
    const plans = new Map<string, GatewayPlan>();
    for (const gw of gateways ?? []) {
      const cls = text(gw.spec?.['gatewayClassName']);
      if (controllerOf.get(cls) !== GKE_CONTROLLER) continue;
      plans.set(`${ns(gw)}/${nm(gw)}`, {
        gateway: gw,
        regional: GKE_CLASSES[cls] ?? false,
        urlMap: urlMapName(this.opts.clusterUid, ns(gw), nm(gw)),
        rules: [],
        backends: [],
      });
    }

    const backends = new Map<string, Backend>();
    for (const [i, kind] of ROUTE_KINDS.entries()) {
      for (const route of routeLists[i] ?? []) {
        try {
          await this.syncRoute(kind, route, plans, services, grants ?? [], backends);
        } catch (e) {
          fail(`${kind.kind} ${ns(route)}/${nm(route)}`, e);
        }
      }
    }

    // The policy of each Service: same namespace, targetRef Service by name; the oldest wins.
    const policyOf = new Map<string, Obj>();
    for (const p of [...(policies ?? [])].sort(
      (a, b) => time(a.metadata.creationTimestamp) - time(b.metadata.creationTimestamp) || nm(a).localeCompare(nm(b)),
    )) {
      const key = targetKey(p);
      if (key !== undefined && !policyOf.has(key)) policyOf.set(key, p);
    }

    const policyErrors = new Map<string, string>();
    for (const b of backends.values()) {
      const svcKey = `${ns(b.service)}/${nm(b.service)}`;
      const policy = policyOf.get(svcKey);
      try {
        const negLink = await this.ensureNeg(b);
        await this.syncEndpoints(b, podList.items);
        const hcLink = await this.ensureHealthCheck(b, policy, report, (e) => policyErrors.set(svcKey, e));
        await this.ensureBackendService(b, hcLink, negLink);
        b.ok = true;
      } catch (e) {
        fail(`backend ${b.name}`, e);
      }
    }

    for (const plan of plans.values()) {
      try {
        await this.syncGateway(plan, backends);
      } catch (e) {
        fail(`Gateway ${ns(plan.gateway)}/${nm(plan.gateway)}`, e);
      }
    }

    const servedServices = new Set([...backends.values()].map((b) => `${ns(b.service)}/${nm(b.service)}`));
    for (const p of policies ?? []) {
      try {
        await this.syncPolicyStatus(p, policyOf, services, servedServices, policyErrors);
      } catch (e) {
        fail(`HealthCheckPolicy ${ns(p)}/${nm(p)}`, e);
      }
    }

    try {
      await this.gc(
        new Set([...backends.values()].map((b) => `${b.regional ? 'r' : 'g'}/${b.name}`)),
        new Set([...plans.values()].filter((p) => p.programmed).map((p) => `${p.regional ? 'r' : 'g'}/${p.urlMap}`)),
      );
    } catch (e) {
      fail('garbage collection', e);
    }
    return report;
  }

  /** GKE installs its GatewayClasses with the Gateway API and reports them Accepted. Returns those it created. */
  private async ensureClasses(existing: readonly Obj[]): Promise<Obj[]> {
    const created: Obj[] = [];
    for (const name of Object.keys(GKE_CLASSES)) {
      const cls =
        existing.find((c) => nm(c) === name) ??
        ((await this.custom.createClusterCustomObject({
          group: GATEWAY_GROUP,
          version: 'v1',
          plural: 'gatewayclasses',
          body: { apiVersion: `${GATEWAY_GROUP}/v1`, kind: 'GatewayClass', metadata: { name }, spec: { controllerName: GKE_CONTROLLER } },
        })) as Obj);
      if (!existing.includes(cls)) created.push(cls);
      if (cls.spec?.['controllerName'] !== GKE_CONTROLLER) continue;
      const conditions = withConditions(cls, [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: '' }]);
      if (conditions !== undefined) {
        await this.custom.patchClusterCustomObjectStatus(
          { group: GATEWAY_GROUP, version: 'v1', plural: 'gatewayclasses', name, body: { status: { conditions } } },
          merge,
        );
      }
    }
    return created;
  }

  /** One route: its GKE parents, their status entries, and the backends it adds to their Gateways. */
  private async syncRoute(
    kind: RouteKind,
    route: Obj,
    plans: Map<string, GatewayPlan>,
    services: Map<string, V1Service>,
    grants: readonly Obj[],
    backends: Map<string, Backend>,
  ): Promise<void> {
    const routeNs = ns(route);
    const parentRefs = (route.spec?.['parentRefs'] ?? []) as ParentRef[];
    const rules = (route.spec?.['rules'] ?? []) as {
      matches?: { path?: { type?: string; value?: string } }[];
      backendRefs?: BackendRef[];
    }[];
    const hostnames = (route.spec?.['hostnames'] ?? []) as string[];
    const ours: RouteStatusParent[] = [];
    for (const ref of parentRefs) {
      if ((ref.group ?? GATEWAY_GROUP) !== GATEWAY_GROUP || (ref.kind ?? 'Gateway') !== 'Gateway') continue;
      const plan = plans.get(`${ref.namespace ?? routeNs}/${ref.name}`);
      if (plan === undefined) continue;
      const gen = route.metadata.generation;
      if (!routesAllowed(plan.gateway, routeNs)) {
        ours.push({
          parentRef: ref,
          controllerName: GKE_CONTROLLER,
          conditions: [
            cond(
              'Accepted',
              'False',
              'NotAllowedByListeners',
              `Gateway ${ns(plan.gateway)}/${nm(plan.gateway)} allows no routes from ${routeNs}`,
              gen,
            ),
          ],
        });
        continue;
      }
      const unresolved: string[] = [];
      let refusedReason = 'BackendNotFound';
      for (const rule of rules) {
        for (const br of rule.backendRefs ?? []) {
          if ((br.group ?? '') !== '' || (br.kind ?? 'Service') !== 'Service') continue;
          const svcNs = br.namespace ?? routeNs;
          if (svcNs !== routeNs && !granted(grants, kind.kind, routeNs, svcNs, br.name)) {
            unresolved.push(`${svcNs}/${br.name}: no ReferenceGrant`);
            refusedReason = 'RefNotPermitted';
            continue;
          }
          const svc = services.get(`${svcNs}/${br.name}`);
          const port = svc?.spec?.ports?.find((p) => p.port === br.port);
          if (svc === undefined || port === undefined) {
            unresolved.push(`${svcNs}/${br.name}:${String(br.port)} not found`);
            continue;
          }
          const key = `${plan.regional ? 'r' : 'g'}/${svcNs}/${br.name}/${port.port}`;
          if (!backends.has(key)) {
            backends.set(key, {
              key,
              regional: plan.regional,
              name: backendName(this.opts.clusterUid, svcNs, br.name, port.port),
              service: svc,
              port,
            });
          }
          if (!plan.backends.includes(key)) plan.backends.push(key);
          const paths =
            (rule.matches ?? []).length === 0
              ? ['/*']
              : (rule.matches ?? []).flatMap((m) => gcePaths(m.path?.value ?? '/', m.path?.type ?? 'PathPrefix'));
          for (const host of hostnames.length > 0 ? hostnames : ['*']) plan.rules.push({ host, paths, backend: key });
        }
      }
      ours.push({
        parentRef: ref,
        controllerName: GKE_CONTROLLER,
        conditions: [
          cond('Accepted', 'True', 'Accepted', '', gen),
          unresolved.length === 0
            ? cond('ResolvedRefs', 'True', 'ResolvedRefs', '', gen)
            : cond('ResolvedRefs', 'False', refusedReason, unresolved.join('; '), gen),
        ],
      });
    }
    // Keep what other controllers wrote; replace GKE's own entries.
    const have = ((route.status?.['parents'] ?? []) as RouteStatusParent[]).filter((p) => p.controllerName !== GKE_CONTROLLER);
    const previous = ((route.status?.['parents'] ?? []) as RouteStatusParent[]).filter((p) => p.controllerName === GKE_CONTROLLER);
    const merged = ours.map((p) => {
      const before = previous.find((q) => JSON.stringify(q.parentRef) === JSON.stringify(p.parentRef));
      return { ...p, conditions: keepTransitionTimes(before?.conditions ?? [], p.conditions) };
    });
    if (JSON.stringify(stripTimes(previous)) !== JSON.stringify(stripTimes(merged))) {
      await this.custom.patchNamespacedCustomObjectStatus(
        {
          group: GATEWAY_GROUP,
          version: 'v1',
          namespace: routeNs,
          plural: kind.plural,
          name: nm(route),
          body: { status: { parents: [...have, ...merged] } },
        },
        merge,
      );
    }
  }

  // --- one backend: NEG, health check, backend service ------------------------------------------

  private ensureNeg(b: Backend): Promise<string> {
    return this.compute.ensureNeg(
      b.name,
      JSON.stringify({ namespace: ns(b.service), 'service-name': nm(b.service), port: String(b.port.port) }),
    );
  }

  /** Endpoints = Pods the Service selects that have an IP and are not terminating, at the target port. */
  private syncEndpoints(b: Backend, pods: readonly V1Pod[]): Promise<void> {
    const selector = b.service.spec?.selector;
    const selected = pods.filter(
      (pod) =>
        pod.metadata?.namespace === ns(b.service) &&
        selector !== undefined &&
        Object.entries(selector).every(([k, v]) => pod.metadata?.labels?.[k] === v),
    );
    return this.compute.syncNegEndpoints(b.name, podEndpoints(selected, b.port.targetPort ?? b.port.port));
  }

  /**
   * Creates the check from defaults + policy, or re-applies the policy when the live check differs
   * (a full PUT). A write Compute refuses (e.g. timeoutSec > checkIntervalSec) is the policy's
   * fault: reported through `policyError` (→ Attached False, Invalid); the check keeps its values.
   */
  private async ensureHealthCheck(
    b: Backend,
    policy: Obj | undefined,
    report: SyncReport,
    policyError: (e: string) => void,
  ): Promise<string> {
    const description = JSON.stringify({ 'networking.gke.io/service': `${ns(b.service)}/${nm(b.service)}`, port: b.port.port });
    const want = desiredHealthCheck(b.name, description, policy?.spec?.['default'] as PolicyDefault | undefined);
    const live = await this.compute.getHealthCheck(b.name, b.regional);
    const write = async (fn: () => Promise<void>): Promise<boolean> => {
      try {
        await fn();
        return true;
      } catch (e) {
        if (policy === undefined || !/invalid|400/i.test(message(e))) throw e;
        policyError(message(e));
        return false;
      }
    };
    if (live === undefined) {
      const ok = await write(() => this.compute.insertHealthCheck(want, b.regional));
      if (!ok) {
        // The policy cannot be applied: GKE's defaults stand meanwhile.
        await this.compute.insertHealthCheck(desiredHealthCheck(b.name, description, undefined), b.regional);
      }
      report.healthChecksCreated.push(b.name);
      this.log('gateway: health check created', { health_check: b.name, policy: policy ? `${ns(policy)}/${nm(policy)}` : null });
      const after = await this.compute.getHealthCheck(b.name, b.regional);
      if (after?.selfLink == null) throw new Error(`health check ${b.name} missing right after insert`);
      return after.selfLink;
    }
    const diffs = checkDiffs(live, want);
    if (diffs.length > 0) {
      const ok = await write(() => this.compute.updateHealthCheck(b.name, want, b.regional));
      if (ok) {
        this.updates.push({ name: b.name, diffs, at: new Date() });
        report.healthChecksUpdated.push(b.name);
        this.log('gateway: health check updated', { health_check: b.name, diffs });
      }
    }
    return live.selfLink ?? b.name;
  }

  private async ensureBackendService(b: Backend, hcLink: string, negLink: string): Promise<void> {
    const want: IBackendService = {
      name: b.name,
      description: JSON.stringify({ 'networking.gke.io/service': `${ns(b.service)}/${nm(b.service)}`, port: b.port.port }),
      protocol: 'HTTP',
      portName: 'http',
      timeoutSec: 30,
      loadBalancingScheme: 'EXTERNAL_MANAGED',
      healthChecks: [hcLink],
      backends: [{ group: negLink, balancingMode: 'RATE', maxRatePerEndpoint: 1, capacityScaler: 1 }],
    };
    let live = await this.compute.getBackendService(b.name, b.regional);
    if (live === undefined) {
      await this.compute.insertBackendService(want, b.regional);
      live = await this.compute.getBackendService(b.name, b.regional);
    } else {
      const links = live.healthChecks ?? [];
      const groups = (live.backends ?? []).map((x) => x.group ?? '');
      if (links.length !== 1 || !sameResource(links[0], hcLink) || groups.length !== 1 || !sameResource(groups[0], negLink)) {
        await this.compute.updateBackendService(b.name, { ...live, ...want, fingerprint: live.fingerprint ?? null }, b.regional);
      }
    }
    b.selfLink = live?.selfLink ?? b.name;
  }

  // --- one Gateway: URL map, status, annotations ------------------------------------------------

  private async syncGateway(plan: GatewayPlan, backends: Map<string, Backend>): Promise<void> {
    const link = (key: string): string | undefined => {
      const b = backends.get(key);
      return b?.ok ? b.selfLink : undefined;
    };
    const defaultService = plan.backends.map(link).find((l) => l !== undefined);
    if (defaultService !== undefined) {
      const byHost = new Map<string, { paths: string[]; service: string }[]>();
      for (const r of plan.rules) {
        const service = link(r.backend);
        if (service === undefined) continue;
        byHost.set(r.host, [...(byHost.get(r.host) ?? []), { paths: r.paths, service }]);
      }
      const hostRules: NonNullable<IUrlMap['hostRules']> = [];
      const pathMatchers: NonNullable<IUrlMap['pathMatchers']> = [];
      for (const [i, [host, pathRules]] of [...byHost].entries()) {
        hostRules.push({ hosts: [host], pathMatcher: `m${i}` });
        pathMatchers.push({ name: `m${i}`, defaultService, pathRules });
      }
      await this.compute.ensureUrlMap({ name: plan.urlMap, defaultService, hostRules, pathMatchers }, plan.regional);
    }

    const gw = plan.gateway;
    const gen = gw.metadata.generation;
    const programmed = defaultService !== undefined;
    plan.programmed = programmed;
    const conditions = withConditions(gw, [
      cond('Accepted', 'True', 'Accepted', '', gen),
      programmed
        ? cond('Programmed', 'True', 'Programmed', '', gen)
        : cond('Programmed', 'False', 'Pending', 'no backend is ready yet', gen),
    ]);
    const addresses = programmed ? [{ type: 'IPAddress', value: '127.0.0.1' }] : [];
    const sameAddresses = JSON.stringify(gw.status?.['addresses'] ?? []) === JSON.stringify(addresses);
    if (conditions !== undefined || !sameAddresses) {
      await this.custom.patchNamespacedCustomObjectStatus(
        {
          group: GATEWAY_GROUP,
          version: 'v1',
          namespace: ns(gw),
          plural: 'gateways',
          name: nm(gw),
          body: { status: { addresses, conditions: conditions ?? gw.status?.['conditions'] } },
        },
        merge,
      );
    }
    const names = plan.backends
      .map((k) => backends.get(k)?.name)
      .filter((n): n is string => n !== undefined)
      .sort();
    const annotations: Record<string, string> = {
      [URL_MAPS_ANNOTATION]: programmed ? plan.urlMap : '',
      [BACKEND_SERVICES_ANNOTATION]: names.join(','),
      [HEALTH_CHECKS_ANNOTATION]: names.join(','),
    };
    const current = gw.metadata.annotations ?? {};
    const changed = Object.fromEntries(Object.entries(annotations).filter(([k, v]) => (current[k] ?? '') !== v));
    if (Object.keys(changed).length > 0) {
      await this.custom.patchNamespacedCustomObject(
        {
          group: GATEWAY_GROUP,
          version: 'v1',
          namespace: ns(gw),
          plural: 'gateways',
          name: nm(gw),
          body: { metadata: { annotations: changed } },
        },
        merge,
      );
    }
  }

  /** The policy's `Attached` condition, written only when it changes. */
  private async syncPolicyStatus(
    p: Obj,
    policyOf: Map<string, Obj>,
    services: Map<string, V1Service>,
    served: Set<string>,
    errors: Map<string, string>,
  ): Promise<void> {
    const key = targetKey(p);
    const gen = p.metadata.generation;
    const target = p.spec?.['targetRef'] as { kind?: string; name?: string } | undefined;
    let c: Condition;
    if (key === undefined)
      c = cond('Attached', 'False', 'Invalid', `targetRef ${JSON.stringify(target)} is not a Service in ${ns(p)}`, gen);
    else if (!services.has(key)) c = cond('Attached', 'False', 'TargetNotFound', `Service ${key} does not exist`, gen);
    else if (policyOf.get(key) !== p)
      c = cond(
        'Attached',
        'False',
        'Conflicted',
        `HealthCheckPolicy ${nm(policyOf.get(key) ?? p)} is older and applies to Service ${key}`,
        gen,
      );
    else if (!served.has(key)) c = cond('Attached', 'False', 'TargetNotFound', `Service ${key} is not a backend of any GKE Gateway`, gen);
    else if (errors.has(key)) c = cond('Attached', 'False', 'Invalid', `Compute refused the health check: ${errors.get(key) ?? ''}`, gen);
    else c = cond('Attached', 'True', 'Attached', `Applied to Service ${key}`, gen);
    const conditions = withConditions(p, [c]);
    if (conditions === undefined) return;
    await this.custom.patchNamespacedCustomObjectStatus(
      {
        group: 'networking.gke.io',
        version: 'v1',
        namespace: ns(p),
        plural: 'healthcheckpolicies',
        name: nm(p),
        body: { status: { conditions } },
      },
      merge,
    );
  }

  // --- garbage collection -----------------------------------------------------------------------

  /** Everything named `gkegw1-<this cluster>-…` that no Gateway uses any more: URL maps, then backend services, checks, NEGs. */
  private gc(wantBackends: Set<string>, wantUrlMaps: Set<string>): Promise<void> {
    const { clusterUid } = this.opts;
    const keptNegs = new Set([...wantBackends].map((k) => k.slice(2)));
    return this.compute.collect(
      {
        wantUrlMaps,
        wantBackends,
        ownsUrlMap: (name) => ownedName(clusterUid, name),
        ownsBackend: (name) => ownedName(clusterUid, name),
        deleteNeg: (name) => !keptNegs.has(name),
      },
      (m, fields) => this.log(`gateway: ${m}`, fields),
    );
  }
}

/** `namespace/name` of the Service a policy targets (same namespace only), or undefined. */
function targetKey(p: Obj): string | undefined {
  const t = p.spec?.['targetRef'] as { group?: string; kind?: string; name?: string; namespace?: string } | undefined;
  if (t === undefined || (t.group ?? '') !== '' || t.kind !== 'Service' || !t.name) return undefined;
  if (t.namespace !== undefined && t.namespace !== ns(p)) return undefined;
  return `${ns(p)}/${t.name}`;
}

/** Listener `allowedRoutes.namespaces.from`: Same (the default) or All; Selector is treated as All. */
function routesAllowed(gw: Obj, routeNs: string): boolean {
  if (routeNs === ns(gw)) return true;
  const listeners = (gw.spec?.['listeners'] ?? []) as { allowedRoutes?: { namespaces?: { from?: string } } }[];
  return listeners.some((l) => ['All', 'Selector'].includes(l.allowedRoutes?.namespaces?.from ?? 'Same'));
}

/** A ReferenceGrant in the Service's namespace lets routes of `kind` from `fromNs` reach it. */
function granted(grants: readonly Obj[], kind: string, fromNs: string, svcNs: string, svc: string): boolean {
  return grants.some((g) => {
    if (ns(g) !== svcNs) return false;
    const from = (g.spec?.['from'] ?? []) as { group?: string; kind?: string; namespace?: string }[];
    const to = (g.spec?.['to'] ?? []) as { group?: string; kind?: string; name?: string }[];
    return (
      from.some((f) => f.group === GATEWAY_GROUP && f.kind === kind && f.namespace === fromNs) &&
      to.some((t) => (t.group ?? '') === '' && t.kind === 'Service' && (t.name === undefined || t.name === '' || t.name === svc))
    );
  });
}

/** Route path match → GCE path rules: PathPrefix /a matches /a and /a/*; "/" becomes "/*". */
function gcePaths(path: string, type: string): string[] {
  if (type === 'Exact') return [path];
  if (path === '/' || path === '') return ['/*'];
  const base = path.endsWith('/') ? path.slice(0, -1) : path;
  return [base, `${base}/*`];
}

function cond(type: string, status: string, reason: string, msg: string, generation: number | undefined): Condition {
  return { type, status, reason, message: msg, ...(generation !== undefined ? { observedGeneration: generation } : {}) };
}

function keepTransitionTimes(before: readonly Condition[], after: readonly Condition[]): Condition[] {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return after.map((c) => {
    const prev = before.find((b) => b.type === c.type);
    return { ...c, lastTransitionTime: prev?.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : now };
  });
}

function stripTimes<T>(v: T): T {
  return JSON.parse(JSON.stringify(v, (k, x: unknown) => (k === 'lastTransitionTime' ? undefined : x))) as T;
}

/** The object's conditions with `want` set (others kept), or undefined when nothing changes. */
function withConditions(o: Obj, want: readonly Condition[]): Condition[] | undefined {
  const have = (o.status?.['conditions'] ?? []) as Condition[];
  const next = [...have.filter((c) => !want.some((w) => w.type === c.type)), ...keepTransitionTimes(have, want)];
  const key = (cs: readonly Condition[]): string => JSON.stringify(stripTimes([...cs].sort((a, b) => a.type.localeCompare(b.type))));
  return key(have) === key(next) ? undefined : next;
}
