// GkeIngressStandIn: a small stand-in for GKE's ingress controller (ingress-gce) for tests and the
// demo. Each sync lists Ingresses, Services and Pods, then for every backend Service port ensures
// the NEG (+ endpoints), the health check and the backend service, then a URL map per Ingress, the
// Ingress status and the annotations ingress-gce writes, then garbage-collects. The health check
// rules are ingress-gce's exactly (see probe-to-check.ts, merge.ts); everything else is only as
// faithful as hcsync's tests need. No informers: plain lists per sync, it is a test double.
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  NetworkingV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Ingress,
  type V1IngressBackend,
  type V1Pod,
  type V1Service,
  type V1ServicePort,
} from '@kubernetes/client-node';
import type { protos } from '@google-cloud/compute';
import { createHash } from 'node:crypto';
import { backendConfigNameFor, backendConfigsOf, healthCheckOf, type BackendConfigHealthCheck } from './backend-config.js';
import { clientOptionsForEndpoint, ComputeClients, sameResource, type ComputeClientOptions } from './compute-clients.js';
import { GkeCompute, podEndpoints, SyncLoop } from '../gke-compute.js';
import { planExisting } from './merge.js';
import { cloneModel, fromCompute, isRegional, toCompute, type AppProtocol, type BackendKind } from './model.js';
import { igBackendName, negName, ownedBackendName, ownedUrlMapName, rxlbBackendName, urlMapName } from './naming.js';
import {
  appProtocolOf,
  applyBackendConfig,
  DEFAULT_BACKEND,
  desiredBeforeBackendConfig,
  findReadinessProbe,
  podsSelectedBy,
  targetPortOf,
} from './probe-to-check.js';

type IBackendService = protos.google.cloud.compute.v1.IBackendService;
type IUrlMap = protos.google.cloud.compute.v1.IUrlMap;

export const BACKENDS_ANNOTATION = 'ingress.kubernetes.io/backends';
export const URL_MAP_ANNOTATION = 'ingress.kubernetes.io/url-map';
const INGRESS_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
const NEG_ANNOTATION = 'cloud.google.com/neg';
const NEG_STATUS_ANNOTATION = 'cloud.google.com/neg-status';
/** Where GKE keeps the cluster UID that every ingress-gce name embeds (namer: ConfigMap kube-system/ingress-uid). */
const INGRESS_UID_CONFIGMAP = { namespace: 'kube-system', name: 'ingress-uid' } as const;

/** The shape of the Compute stand-in's computeClientOptions(), which lacks gax's index signature. */
interface EndpointClientOptions {
  apiEndpoint: string;
  port: number;
  protocol: string;
  fallback?: boolean;
  authClient: unknown;
}

export type IngressClass = 'gce' | 'gce-internal' | 'gce-regional-external';

export interface GkeIngressStandInOptions {
  kubeConfig: KubeConfig;
  /**
   * A Compute endpoint such as 'http://127.0.0.1:PORT', or client options (e.g. the Compute
   * stand-in's computeClientOptions(endpoint)).
   */
  compute: string | ComputeClientOptions | EndpointClientOptions;
  project: string;
  zone: string;
  region: string;
  /** kube-system/ingress-uid `uid`: 16 hex characters on GKE. */
  clusterUid: string;
  /** Backends of class `gce`: container-native (NEG) or instance groups. Regional classes are always NEG. */
  mode: 'neg' | 'ig';
  syncPeriodMs: number;
  /** The Compute stand-in's load balancer for a URL map ('127.0.0.1:PORT'), for the Ingress status. */
  loadBalancerAddress?: (urlMapName: string) => string | undefined;
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

export interface HealthCheckUpdate {
  name: string;
  /** calculateDiff's entries, e.g. 'Protocol:HTTPS -> HTTP'. */
  diffs: string[];
  at: Date;
}

export interface SyncReport {
  /** Per-object failures; ingress-gce logs them and carries on with the rest. */
  errors: string[];
  healthChecksCreated: string[];
  healthChecksUpdated: string[];
}

interface BackendPlan {
  key: string;
  name: string;
  kind: BackendKind;
  service: V1Service;
  port: V1ServicePort;
  /** The port as the Ingress names it (number or name), for the backend service description. */
  ingressPort: string;
  protocol: AppProtocol;
  nodePort: number;
  backendConfig: BackendConfigHealthCheck | undefined;
  /** Filled by the backend sync. */
  selfLink?: string;
  groups?: string[];
  ok?: boolean;
}

interface IngressPlan {
  ingress: V1Ingress;
  cls: IngressClass;
  urlMap: string;
  defaultBackend: string | undefined;
  rules: { host: string; paths: { paths: string[]; backend: string }[] }[];
  backends: string[];
}

/** The Service or its port is gone: its backend may be garbage-collected. Any other planning error keeps it. */
class MissingBackendError extends Error {}

function namespaceOf(o: { metadata?: { namespace?: string } }): string {
  return o.metadata?.namespace ?? 'default';
}
function nameOf(o: { metadata?: { name?: string } }): string {
  return o.metadata?.name ?? '';
}
function message(e: unknown): string {
  if (e instanceof ApiException) return `HTTP ${e.code}: ${typeof e.body === 'string' ? e.body : JSON.stringify(e.body)}`;
  return e instanceof Error ? e.message : String(e);
}
function hash8(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 8);
}

export class GkeIngressStandIn {
  private readonly core: CoreV1Api;
  private readonly networking: NetworkingV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly gce: ComputeClients;
  private readonly compute: GkeCompute;
  private readonly log: (message: string, fields?: Record<string, unknown>) => void;
  private readonly loop: SyncLoop<SyncReport>;
  private readonly updates: HealthCheckUpdate[] = [];
  private created = 0;
  /** Last state seen per backend service, for the backends annotation ("else the last seen state"). */
  private readonly lastHealth = new Map<string, string>();

  constructor(private readonly opts: GkeIngressStandInOptions) {
    this.core = opts.kubeConfig.makeApiClient(CoreV1Api);
    this.networking = opts.kubeConfig.makeApiClient(NetworkingV1Api);
    this.custom = opts.kubeConfig.makeApiClient(CustomObjectsApi);
    // Option objects without gax's index signature are still plain client options.
    this.gce = new ComputeClients(
      typeof opts.compute === 'string' ? clientOptionsForEndpoint(opts.compute) : (opts.compute as ComputeClientOptions),
    );
    this.compute = new GkeCompute(this.gce, opts);
    this.log = opts.log ?? (() => undefined);
    this.loop = new SyncLoop(
      () => this.syncOnce(),
      opts.syncPeriodMs,
      (e) => this.log('periodic sync failed', { error: message(e) }),
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

  /** Health check updates (full PUTs) this stand-in made: proof that nobody fights. */
  updatesMade(): number {
    return this.updates.length;
  }

  updateLog(): readonly HealthCheckUpdate[] {
    return this.updates;
  }

  healthChecksCreated(): number {
    return this.created;
  }

  /**
   * Test helper for "ingress-gce recreated the check": unlinks the check from its backend service
   * (GCE refuses to delete a check in use), deletes it, and syncs, which creates it afresh from
   * defaults, probe and BackendConfig and links it again.
   */
  async recreateHealthCheck(name: string, regional = false): Promise<SyncReport> {
    await this.loop.serialized(async () => {
      const bs = await this.compute.getBackendService(name, regional);
      if (bs === undefined) throw new Error(`backend service ${name} not found`);
      await this.compute.updateBackendService(name, { ...bs, healthChecks: [] }, regional);
      await this.compute.deleteHealthCheck(name, regional);
    });
    return this.syncNow();
  }

  // ---------------------------------------------------------------------------------------------

  private async syncOnce(): Promise<SyncReport> {
    const report: SyncReport = { errors: [], healthChecksCreated: [], healthChecksUpdated: [] };
    const fail = (what: string, e: unknown): void => {
      const line = `${what}: ${message(e)}`;
      report.errors.push(line);
      this.log('sync error', { what, error: message(e) });
    };

    try {
      await this.ensureUidConfigMap();
    } catch (e) {
      fail(`ConfigMap ${INGRESS_UID_CONFIGMAP.namespace}/${INGRESS_UID_CONFIGMAP.name}`, e);
    }

    const [ingressList, serviceList, podList] = await Promise.all([
      this.networking.listIngressForAllNamespaces(),
      this.core.listServiceForAllNamespaces(),
      this.core.listPodForAllNamespaces(),
    ]);
    const services = new Map(serviceList.items.map((s) => [`${namespaceOf(s)}/${nameOf(s)}`, s]));
    const pods = podList.items;
    const backendConfigs = new Map<string, unknown>();

    const backends = new Map<string, BackendPlan>();
    const ingresses: IngressPlan[] = [];
    // A backend that could not be planned for a passing reason (a bad annotation, an API error)
    // must not be garbage-collected: that would wipe its check and everything patched into it.
    let gcSafe = true;
    for (const ing of ingressList.items) {
      const cls = this.classOf(ing);
      if (cls === undefined) continue;
      const ns = namespaceOf(ing);
      const plan: IngressPlan = {
        ingress: ing,
        cls,
        urlMap: urlMapName(this.opts.clusterUid, ns, nameOf(ing)),
        defaultBackend: undefined,
        rules: [],
        backends: [],
      };
      const resolve = async (b: V1IngressBackend | undefined): Promise<string | undefined> => {
        if (b?.service === undefined) return undefined;
        try {
          const bp = await this.planBackend(cls, ns, b.service, services, backendConfigs);
          const existing = backends.get(bp.key);
          if (existing === undefined) backends.set(bp.key, bp);
          if (!plan.backends.includes(bp.key)) plan.backends.push(bp.key);
          return bp.key;
        } catch (e) {
          if (!(e instanceof MissingBackendError)) gcSafe = false;
          fail(`ingress ${ns}/${nameOf(ing)} backend ${b.service.name}:${b.service.port?.number ?? b.service.port?.name ?? '?'}`, e);
          return undefined;
        }
      };
      plan.defaultBackend = await resolve(ing.spec?.defaultBackend);
      for (const rule of ing.spec?.rules ?? []) {
        const r = { host: rule.host ?? '', paths: [] as { paths: string[]; backend: string }[] };
        for (const p of rule.http?.paths ?? []) {
          const key = await resolve(p.backend);
          if (key !== undefined) r.paths.push({ paths: gcePaths(p.path ?? '/', p.pathType), backend: key });
        }
        plan.rules.push(r);
      }
      ingresses.push(plan);
    }

    // Backends one at a time: deterministic request order makes test failures readable.
    for (const b of backends.values()) {
      try {
        await this.syncBackend(b, pods, report);
        b.ok = true;
      } catch (e) {
        fail(`backend ${b.key}`, e);
      }
    }

    try {
      await this.syncNegStatus(serviceList.items, backends);
    } catch (e) {
      fail('neg-status annotations', e);
    }

    for (const plan of ingresses) {
      try {
        await this.syncIngress(plan, backends);
      } catch (e) {
        fail(`ingress ${namespaceOf(plan.ingress)}/${nameOf(plan.ingress)}`, e);
      }
    }

    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- resolve() above clears gcSafe; TS does not see assignments in closures
    if (!gcSafe) {
      this.log('garbage collection skipped: some backends could not be planned');
      return report;
    }
    try {
      await this.gc(new Set(backends.keys()), new Set(ingresses.map((i) => `${isRegionalClass(i.cls) ? 'r' : 'g'}/${i.urlMap}`)), backends);
    } catch (e) {
      fail('garbage collection', e);
    }
    return report;
  }

  /** GKE stores the UID in kube-system/ingress-uid; hcsync reads it to compute IG names. */
  private async ensureUidConfigMap(): Promise<void> {
    const { namespace, name } = INGRESS_UID_CONFIGMAP;
    const data = { uid: this.opts.clusterUid, 'provider-uid': this.opts.clusterUid };
    try {
      const cm = await this.core.readNamespacedConfigMap({ name, namespace });
      if (cm.data?.['uid'] === data.uid) return;
      await this.core.patchNamespacedConfigMap(
        { name, namespace, body: { data } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch (e) {
      if (!(e instanceof ApiException && e.code === 404)) throw e;
      await this.core.createNamespacedConfigMap({ namespace, body: { metadata: { name, namespace }, data } });
    }
  }

  /**
   * The NEG controller's Service annotation, e.g.
   * {"network_endpoint_groups":{"80":"k8s1-…"},"zones":["us-central1-a"]}; removed when a Service
   * no longer backs any NEG.
   */
  private async syncNegStatus(services: readonly V1Service[], backends: Map<string, BackendPlan>): Promise<void> {
    const byService = new Map<string, Record<string, string>>();
    for (const b of backends.values()) {
      if (b.kind === 'ig') continue;
      const key = `${namespaceOf(b.service)}/${nameOf(b.service)}`;
      const groups = byService.get(key) ?? {};
      groups[String(b.port.port)] = negName(this.opts.clusterUid, namespaceOf(b.service), nameOf(b.service), b.port.port);
      byService.set(key, groups);
    }
    for (const svc of services) {
      const groups = byService.get(`${namespaceOf(svc)}/${nameOf(svc)}`);
      const want =
        groups === undefined
          ? undefined
          : JSON.stringify({ network_endpoint_groups: Object.fromEntries(Object.entries(groups).sort()), zones: [this.opts.zone] });
      const have = svc.metadata?.annotations?.[NEG_STATUS_ANNOTATION];
      if (have === want) continue;
      await this.core.patchNamespacedService(
        { name: nameOf(svc), namespace: namespaceOf(svc), body: { metadata: { annotations: { [NEG_STATUS_ANNOTATION]: want ?? null } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    }
  }

  /**
   * ingress-gce's IsGCEIngress (pkg/utils/utils.go, master): the annotation decides when set (an
   * empty value reads as unset); without it the Ingress is GKE's only when spec.ingressClassName
   * is unset — ingress-gce serves no IngressClass, so even `ingressClassName: gce` is ignored.
   */
  private classOf(ing: V1Ingress): IngressClass | undefined {
    const annotation = ing.metadata?.annotations?.[INGRESS_CLASS_ANNOTATION];
    if (annotation === undefined || annotation === '') return ing.spec?.ingressClassName == null ? 'gce' : undefined;
    return annotation === 'gce' || annotation === 'gce-internal' || annotation === 'gce-regional-external' ? annotation : undefined;
  }

  private negEnabled(service: V1Service): boolean {
    const raw = service.metadata?.annotations?.[NEG_ANNOTATION];
    if (raw !== undefined) {
      try {
        const v = JSON.parse(raw) as { ingress?: unknown };
        if (typeof v.ingress === 'boolean') return v.ingress;
      } catch {
        // An unparsable annotation is ignored, as ingress-gce's NEGEnabledForIngress does.
      }
    }
    return this.opts.mode === 'neg';
  }

  private async planBackend(
    cls: IngressClass,
    ns: string,
    ref: NonNullable<V1IngressBackend['service']>,
    services: Map<string, V1Service>,
    backendConfigs: Map<string, unknown>,
  ): Promise<BackendPlan> {
    const service = services.get(`${ns}/${ref.name}`);
    if (service === undefined) throw new MissingBackendError(`Service ${ns}/${ref.name} not found`);
    const portRef = ref.port?.number ?? ref.port?.name;
    const port = (service.spec?.ports ?? []).find((p) => (typeof portRef === 'number' ? p.port === portRef : p.name === portRef));
    if (port === undefined) throw new MissingBackendError(`Service ${ns}/${ref.name} has no port ${String(portRef)}`);
    const kind: BackendKind =
      cls === 'gce-internal' ? 'ilb' : cls === 'gce-regional-external' ? 'rxlb' : this.negEnabled(service) ? 'neg' : 'ig';
    const nodePort = port.nodePort ?? 0;
    if (kind === 'ig' && nodePort === 0)
      throw new Error(`Service ${ns}/${ref.name} is not of type NodePort or LoadBalancer (IG backends need a nodePort)`);
    const uid = this.opts.clusterUid;
    const name =
      kind === 'ig'
        ? igBackendName(uid, nodePort)
        : kind === 'rxlb'
          ? rxlbBackendName(uid, ns, ref.name, port.port)
          : negName(uid, ns, ref.name, port.port);
    const protocol = appProtocolOf(service, port);
    const backendConfig = await this.backendConfigFor(service, port, backendConfigs);
    return {
      key: `${isRegional(kind) ? 'r' : 'g'}/${name}`,
      name,
      kind,
      service,
      port,
      ingressPort: String(portRef),
      protocol,
      nodePort,
      backendConfig,
    };
  }

  /** The BackendConfig `healthCheck` for a Service port. A missing CRD or object counts as none. */
  private async backendConfigFor(
    service: V1Service,
    port: V1ServicePort,
    cache: Map<string, unknown>,
  ): Promise<BackendConfigHealthCheck | undefined> {
    const configs = backendConfigsOf(service);
    if (configs === undefined) return undefined;
    const name = backendConfigNameFor(configs, port);
    if (name === undefined) return undefined;
    const namespace = namespaceOf(service);
    const key = `${namespace}/${name}`;
    if (!cache.has(key)) {
      let found: unknown;
      for (const version of ['v1', 'v1beta1']) {
        try {
          found = await this.custom.getNamespacedCustomObject({
            group: 'cloud.google.com',
            version,
            namespace,
            plural: 'backendconfigs',
            name,
          });
          break;
        } catch (e) {
          if (!(e instanceof ApiException && e.code === 404)) throw e;
        }
      }
      if (found === undefined) this.log('BackendConfig not found; treated as none', { namespace, name });
      cache.set(key, found);
    }
    return healthCheckOf(cache.get(key));
  }

  // --- one backend: NEG, health check, backend service ------------------------------------------

  private async syncBackend(b: BackendPlan, pods: readonly V1Pod[], report: SyncReport): Promise<void> {
    let negLink: string | undefined;
    if (b.kind !== 'ig') {
      negLink = await this.ensureNeg(b);
      await this.syncEndpoints(b, pods);
    }
    const hcLink = await this.ensureHealthCheck(b, pods, report);
    await this.ensureBackendService(b, hcLink, negLink);
  }

  private ensureNeg(b: BackendPlan): Promise<string> {
    // The NEG keeps the plain NEG name even for regional external backends (namer.NEG).
    const name = negName(this.opts.clusterUid, namespaceOf(b.service), nameOf(b.service), b.port.port);
    return this.compute.ensureNeg(
      name,
      JSON.stringify({
        'cluster-uid': this.opts.clusterUid,
        namespace: namespaceOf(b.service),
        'service-name': nameOf(b.service),
        port: String(b.port.port),
      }),
    );
  }

  /** Endpoints = selected Pods with an IP that are not terminating, at the target container port. */
  private syncEndpoints(b: BackendPlan, pods: readonly V1Pod[]): Promise<void> {
    const name = negName(this.opts.clusterUid, namespaceOf(b.service), nameOf(b.service), b.port.port);
    return this.compute.syncNegEndpoints(name, podEndpoints(podsSelectedBy(b.service, pods), targetPortOf(b.port)));
  }

  /** healthchecks.go: SyncServicePort + sync. The probe is read on every sync but only matters at creation. */
  private async ensureHealthCheck(b: BackendPlan, pods: readonly V1Pod[], report: SyncReport): Promise<string> {
    const regional = isRegional(b.kind);
    const probe = findReadinessProbe(b.service, b.port, b.protocol, pods);
    const isDefaultBackend = namespaceOf(b.service) === DEFAULT_BACKEND.namespace && nameOf(b.service) === DEFAULT_BACKEND.name;
    const desired = desiredBeforeBackendConfig({
      kind: b.kind,
      name: b.name,
      protocol: b.protocol,
      nodePort: b.nodePort,
      probe,
      isDefaultBackend,
    });

    const live = await this.compute.getHealthCheck(b.name, regional);
    if (live === undefined) {
      const created = cloneModel(desired);
      if (b.backendConfig !== undefined) applyBackendConfig(created, b.backendConfig);
      await this.compute.insertHealthCheck(toCompute(created), regional);
      this.created++;
      report.healthChecksCreated.push(b.name);
      this.log('health check created', { health_check: b.name, probe: probe !== undefined });
      const after = await this.compute.getHealthCheck(b.name, regional);
      if (after?.selfLink == null) throw new Error(`health check ${b.name} missing right after insert`);
      return after.selfLink;
    }

    const { merged, diffs } = planExisting(fromCompute(live, desired.forNEG), desired, b.backendConfig);
    if (diffs.length > 0) {
      await this.compute.updateHealthCheck(b.name, toCompute(merged), regional);
      this.updates.push({ name: b.name, diffs, at: new Date() });
      report.healthChecksUpdated.push(b.name);
      this.log('health check updated', { health_check: b.name, diffs });
    }
    return live.selfLink ?? b.name;
  }

  private backendServiceResource(b: BackendPlan, hcLink: string, negLink: string | undefined): IBackendService {
    const features: string[] = [];
    if (b.protocol === 'HTTP2') features.push('HTTP2');
    if (b.kind !== 'ig') features.push('NEG');
    if (b.kind === 'ilb') features.push('L7ILB');
    if (b.kind === 'rxlb') features.push('L7XLBRegional');
    const description = JSON.stringify({
      'kubernetes.io/service-name': `${namespaceOf(b.service)}/${nameOf(b.service)}`,
      'kubernetes.io/service-port': b.ingressPort,
      ...(features.length > 0 ? { 'x-features': features } : {}),
    });
    return {
      name: b.name,
      description,
      protocol: b.protocol,
      port: b.kind === 'ig' ? b.nodePort : 80,
      portName: b.kind === 'ig' ? `port${b.nodePort}` : 'http',
      timeoutSec: 30,
      loadBalancingScheme: b.kind === 'ilb' ? 'INTERNAL_MANAGED' : b.kind === 'rxlb' ? 'EXTERNAL_MANAGED' : 'EXTERNAL',
      healthChecks: [hcLink],
      backends: negLink !== undefined ? [{ group: negLink, balancingMode: 'RATE', maxRatePerEndpoint: 1, capacityScaler: 1 }] : [],
    };
  }

  /** Creates the backend service, or fixes its health check link (ensureHealthCheckLink), groups and description. */
  private async ensureBackendService(b: BackendPlan, hcLink: string, negLink: string | undefined): Promise<void> {
    const regional = isRegional(b.kind);
    const want = this.backendServiceResource(b, hcLink, negLink);
    let live = await this.compute.getBackendService(b.name, regional);
    if (live === undefined) {
      await this.compute.insertBackendService(want, regional);
      live = await this.compute.getBackendService(b.name, regional);
      if (live === undefined) throw new Error(`backend service ${b.name} missing right after insert`);
    } else {
      const links = live.healthChecks ?? [];
      const groups = (live.backends ?? []).map((x) => x.group ?? '');
      const wantGroups = (want.backends ?? []).map((x) => x.group ?? '');
      const linkOk = links.length === 1 && sameResource(links[0], hcLink);
      const groupsOk = groups.length === wantGroups.length && wantGroups.every((g) => groups.some((h) => sameResource(g, h)));
      if (!linkOk || !groupsOk || live.description !== want.description || live.protocol !== want.protocol) {
        // A full PUT carrying the live fingerprint, as ingress-gce's backend syncer does.
        await this.compute.updateBackendService(b.name, { ...live, ...want, fingerprint: live.fingerprint ?? null }, regional);
        this.log('backend service updated', { backend_service: b.name, linkOk, groupsOk });
      }
    }
    b.selfLink = live.selfLink ?? b.name;
    b.groups = (want.backends ?? []).map((x) => x.group ?? '').filter((g) => g !== '');
  }

  // --- one Ingress: URL map, status, annotations ------------------------------------------------

  private async syncIngress(plan: IngressPlan, backends: Map<string, BackendPlan>): Promise<void> {
    const regional = isRegionalClass(plan.cls);
    const link = (key: string | undefined): string | undefined => {
      const b = key === undefined ? undefined : backends.get(key);
      return b?.ok ? b.selfLink : undefined;
    };
    // Without a defaultBackend ingress-gce uses kube-system/default-http-backend; this stand-in
    // has none, so the first rule backend serves unmatched requests.
    const defaultService = link(plan.defaultBackend) ?? plan.backends.map((k) => link(k)).find((l) => l !== undefined);
    if (defaultService !== undefined) {
      const hostRules: NonNullable<IUrlMap['hostRules']> = [];
      const pathMatchers: NonNullable<IUrlMap['pathMatchers']> = [];
      for (const rule of plan.rules) {
        const pathRules = rule.paths
          .map((p) => ({ paths: p.paths, service: link(p.backend) }))
          .filter((p): p is { paths: string[]; service: string } => p.service !== undefined);
        const host = rule.host === '' ? '*' : rule.host;
        const matcher = `host${hash8(host)}`;
        hostRules.push({ hosts: [host], pathMatcher: matcher });
        pathMatchers.push({ name: matcher, defaultService, pathRules });
      }
      await this.compute.ensureUrlMap({ name: plan.urlMap, defaultService, hostRules, pathMatchers }, regional);
    }

    const ns = namespaceOf(plan.ingress);
    const name = nameOf(plan.ingress);
    const address = defaultService !== undefined ? this.opts.loadBalancerAddress?.(plan.urlMap) : undefined;
    if (address !== undefined) {
      const port = Number(address.slice(address.lastIndexOf(':') + 1));
      const want = [{ ip: '127.0.0.1', ports: [{ port, protocol: 'TCP' }] }];
      const have = plan.ingress.status?.loadBalancer?.ingress ?? [];
      const same = have.length === 1 && have[0]?.ip === '127.0.0.1' && have[0].ports?.length === 1 && have[0].ports[0]?.port === port;
      if (!same) {
        await this.networking.patchNamespacedIngressStatus(
          { name, namespace: ns, body: { status: { loadBalancer: { ingress: want } } } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
      }
    }

    const states: Record<string, string> = {};
    for (const key of [...plan.backends].sort()) {
      const b = backends.get(key);
      if (b === undefined) continue;
      states[b.name] = await this.backendHealth(b);
    }
    const annotations: Record<string, string> = { [BACKENDS_ANNOTATION]: JSON.stringify(sortKeys(states)) };
    if (defaultService !== undefined) annotations[URL_MAP_ANNOTATION] = plan.urlMap;
    const current = plan.ingress.metadata?.annotations ?? {};
    const changed = Object.fromEntries(Object.entries(annotations).filter(([k, v]) => current[k] !== v));
    if (Object.keys(changed).length > 0) {
      await this.networking.patchNamespacedIngress(
        { name, namespace: ns, body: { metadata: { annotations: changed } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    }
  }

  /** backends.go: Health — HEALTHY if any endpoint in any group is, else the last seen state, else Unknown. */
  private async backendHealth(b: BackendPlan): Promise<string> {
    const { project, region } = this.opts;
    if (!b.ok || (b.groups ?? []).length === 0) return this.lastHealth.get(b.key) ?? 'Unknown';
    let state: string | undefined;
    for (const group of b.groups ?? []) {
      try {
        const [res] = isRegional(b.kind)
          ? await this.gce.regionBackendServices.getHealth({
              project,
              region,
              backendService: b.name,
              resourceGroupReferenceResource: { group },
            })
          : await this.gce.backendServices.getHealth({ project, backendService: b.name, resourceGroupReferenceResource: { group } });
        for (const s of res.healthStatus ?? []) {
          if (s.healthState === 'HEALTHY') state = 'HEALTHY';
          else if (state === undefined && s.healthState) state = s.healthState;
        }
      } catch (e) {
        this.log('getHealth failed', { backend_service: b.name, error: message(e) });
      }
      if (state === 'HEALTHY') break;
    }
    const result = state ?? this.lastHealth.get(b.key) ?? 'Unknown';
    this.lastHealth.set(b.key, result);
    return result;
  }

  // --- garbage collection -----------------------------------------------------------------------

  /** syncer.go: gc — a Service port that left every Ingress loses its backend service, check and NEG. */
  private gc(wantBackends: Set<string>, wantUrlMaps: Set<string>, backends: Map<string, BackendPlan>): Promise<void> {
    const { clusterUid } = this.opts;
    const wantNegs = new Set(
      [...backends.values()]
        .filter((b) => b.kind !== 'ig')
        .map((b) => negName(clusterUid, namespaceOf(b.service), nameOf(b.service), b.port.port)),
    );
    return this.compute.collect(
      {
        wantUrlMaps,
        wantBackends,
        ownsUrlMap: (name) => ownedUrlMapName(clusterUid, name),
        ownsBackend: (name) => ownedBackendName(clusterUid, name),
        deleteNeg: (name) => name.startsWith('k8s1-') && !wantNegs.has(name),
      },
      this.log,
    );
  }
}

function isRegionalClass(cls: IngressClass): boolean {
  return cls !== 'gce';
}

/** Ingress path → GCE path rules: Prefix /foo matches /foo and /foo/*; "/" becomes "/*". */
export function gcePaths(path: string, pathType: string): string[] {
  if (pathType === 'Exact') return [path];
  if (pathType === 'Prefix') {
    if (path === '/' || path === '') return ['/*'];
    const base = path.endsWith('/') ? path.slice(0, -1) : path;
    return [base, `${base}/*`];
  }
  return [path === '' ? '/*' : path];
}

function sortKeys(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
