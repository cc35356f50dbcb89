// Informers for Services, Pods, Ingresses and BackendConfigs, with the indexes that turn each
// event into exactly the Service keys it affects: Pod → Services selecting it; Ingress → its
// backend Services; BackendConfig → Services referencing it.
import { CoreV1Api, CustomObjectsApi, KubeConfig, NetworkingV1Api } from '@kubernetes/client-node';
import { keyOf, type SlimBackendConfig, type SlimIngress, type SlimPod, type SlimService } from '../model/kube.js';
import { parseBackendConfigRef } from '../parse/annotations.js';
import type { Logger } from '../observability/log.js';
import { SlimInformer, type ListPage } from './informer.js';
import { slimBackendConfig, slimIngress, slimPod, slimService } from './slim.js';
import { selectorMatches, type ClusterView } from './cluster-view.js';
import { CONDITION_TYPE } from '../plan/report.js';

export type ServiceKeysHandler = (keys: Iterable<string>) => void;

/** One informer per namespace when --namespaces is set, else one cluster-wide. */
class Family<T extends { metadata: { namespace: string; name: string; resourceVersion: string } }> {
  readonly informers: SlimInformer<T>[];
  constructor(private readonly byNamespace: Map<string, SlimInformer<T>>) {
    this.informers = [...byNamespace.values()];
  }
  private forNamespace(ns: string): SlimInformer<T> | undefined {
    return this.byNamespace.get(ns) ?? this.byNamespace.get('');
  }
  get(ns: string, name: string): T | undefined {
    return this.forNamespace(ns)?.get(ns, name);
  }
  list(ns: string): readonly T[] {
    return this.forNamespace(ns)?.list(ns) ?? [];
  }
  all(): T[] {
    return this.informers.flatMap((i) => i.list());
  }
}

export const BACKENDCONFIG = { group: 'cloud.google.com', version: 'v1', plural: 'backendconfigs' } as const;

export class ClusterState implements ClusterView {
  private readonly services: Family<SlimService>;
  private readonly pods: Family<SlimPod>;
  private readonly ingresses: Family<SlimIngress>;
  private readonly backendConfigs: Family<SlimBackendConfig>;
  /** ingress key → Service keys it backs; and the reverse. */
  private readonly ingressServices = new Map<string, Set<string>>();
  private readonly serviceIngresses = new Map<string, Set<string>>();
  /** Pod key → Service keys that selected it when last seen (a label change must notify both). */
  private readonly podServices = new Map<string, Set<string>>();

  constructor(kc: KubeConfig, namespaces: readonly string[], log: Logger, private readonly notify: ServiceKeysHandler) {
    const core = kc.makeApiClient(CoreV1Api);
    const net = kc.makeApiClient(NetworkingV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const limit = SlimInformer.pageSize;
    const scopes = namespaces.length > 0 ? namespaces : [''];
    const family = <T extends { metadata: { namespace: string; name: string; resourceVersion: string } }>(
      what: string,
      path: (ns: string) => string,
      list: (ns: string, token: string | undefined) => Promise<unknown>,
      slim: (raw: unknown) => T,
    ) =>
      new Family<T>(
        new Map(scopes.map((ns) => [ns, new SlimInformer<T>(kc, `${what}${ns ? ` in ${ns}` : ''}`, path(ns), (token) => list(ns, token) as Promise<ListPage>, slim, log)])),
      );
    const nsPath = (ns: string) => (ns ? `/namespaces/${ns}` : '');
    this.services = family('services', (ns) => `/api/v1${nsPath(ns)}/services`, (ns, token) =>
      ns ? core.listNamespacedService({ namespace: ns, limit, _continue: token }) : core.listServiceForAllNamespaces({ limit, _continue: token }), slimService);
    this.pods = family('pods', (ns) => `/api/v1${nsPath(ns)}/pods`, (ns, token) =>
      ns ? core.listNamespacedPod({ namespace: ns, limit, _continue: token }) : core.listPodForAllNamespaces({ limit, _continue: token }), slimPod);
    this.ingresses = family('ingresses', (ns) => `/apis/networking.k8s.io/v1${nsPath(ns)}/ingresses`, (ns, token) =>
      ns ? net.listNamespacedIngress({ namespace: ns, limit, _continue: token }) : net.listIngressForAllNamespaces({ limit, _continue: token }), slimIngress);
    this.backendConfigs = family('backendconfigs', (ns) => `/apis/${BACKENDCONFIG.group}/${BACKENDCONFIG.version}${nsPath(ns)}/${BACKENDCONFIG.plural}`, (ns, token) =>
      ns ? custom.listNamespacedCustomObject({ ...BACKENDCONFIG, namespace: ns, limit, _continue: token }) : custom.listClusterCustomObject({ ...BACKENDCONFIG, limit, _continue: token }), slimBackendConfig);

    for (const inf of this.services.informers) {
      inf.on('add', (s) => this.onService(s));
      inf.on('update', (s) => this.onService(s));
      inf.on('delete', (s) => this.notify([keyOf(s.metadata)]));
    }
    for (const inf of this.ingresses.informers) {
      inf.on('add', (i) => this.onIngress(i, false));
      inf.on('update', (i) => this.onIngress(i, false));
      inf.on('delete', (i) => this.onIngress(i, true));
    }
    for (const inf of this.pods.informers) {
      inf.on('add', (p) => this.onPod(p, false));
      inf.on('update', (p) => this.onPod(p, false));
      inf.on('delete', (p) => this.onPod(p, true));
    }
    for (const inf of this.backendConfigs.informers) {
      for (const verb of ['add', 'update', 'delete'] as const) inf.on(verb, (b) => this.onBackendConfig(b));
    }
  }

  private all(): SlimInformer<{ metadata: { namespace: string; name: string; resourceVersion: string } }>[] {
    return [...this.services.informers, ...this.pods.informers, ...this.ingresses.informers, ...this.backendConfigs.informers] as never;
  }

  /** Starts every informer; resolves when each has listed once (or failed and is retrying). */
  async start(): Promise<void> {
    await Promise.all(this.all().map((i) => i.start()));
  }

  hasSynced(): boolean {
    return this.all().every((i) => i.hasSynced());
  }

  async stop(): Promise<void> {
    await Promise.all(this.all().map((i) => i.stop()));
  }

  /** Services an Ingress backs, plus those carrying hcsync's condition (to be told they left). */
  managedServiceKeys(): string[] {
    const keys = new Set(this.serviceIngresses.keys());
    for (const s of this.services.all()) if (s.status.conditions.some((c) => c.type === CONDITION_TYPE)) keys.add(keyOf(s.metadata));
    return [...keys];
  }

  // --- ClusterView ---

  service(namespace: string, name: string): SlimService | undefined {
    return this.services.get(namespace, name);
  }

  podsFor(service: SlimService): SlimPod[] {
    return this.pods.list(service.metadata.namespace).filter((p) => selectorMatches(service.spec.selector, p.metadata.labels));
  }

  ingressesFor(namespace: string, serviceName: string): SlimIngress[] {
    const keys = this.serviceIngresses.get(`${namespace}/${serviceName}`) ?? new Set<string>();
    return [...keys].map((k) => this.ingresses.get(namespace, k.slice(namespace.length + 1))).filter((i): i is SlimIngress => i !== undefined);
  }

  backendConfig(namespace: string, name: string): SlimBackendConfig | undefined {
    return this.backendConfigs.get(namespace, name);
  }

  // --- event → affected Service keys ---

  private isManaged(key: string, s?: SlimService): boolean {
    return this.serviceIngresses.has(key) || (s ?? this.serviceByKey(key))?.status.conditions.some((c) => c.type === CONDITION_TYPE) === true;
  }

  private serviceByKey(key: string): SlimService | undefined {
    const slash = key.indexOf('/');
    return this.services.get(key.slice(0, slash), key.slice(slash + 1));
  }

  private onService(s: SlimService): void {
    const key = keyOf(s.metadata);
    if (this.isManaged(key, s)) this.notify([key]);
  }

  private onIngress(ing: SlimIngress, deleted: boolean): void {
    const ingKey = keyOf(ing.metadata);
    const before = this.ingressServices.get(ingKey) ?? new Set<string>();
    const after = new Set(deleted ? [] : ing.backends.map((b) => `${ing.metadata.namespace}/${b.service}`));
    for (const k of before) if (!after.has(k)) this.serviceIngresses.get(k)?.delete(ingKey);
    for (const k of before) if (this.serviceIngresses.get(k)?.size === 0) this.serviceIngresses.delete(k);
    for (const k of after) {
      let set = this.serviceIngresses.get(k);
      if (!set) this.serviceIngresses.set(k, (set = new Set()));
      set.add(ingKey);
    }
    if (after.size > 0) this.ingressServices.set(ingKey, after);
    else this.ingressServices.delete(ingKey);
    this.notify(new Set([...before, ...after]));
  }

  private onPod(pod: SlimPod, deleted: boolean): void {
    const podKey = keyOf(pod.metadata);
    const before = this.podServices.get(podKey) ?? new Set<string>();
    const after = new Set<string>();
    if (!deleted) {
      for (const s of this.services.list(pod.metadata.namespace)) {
        if (selectorMatches(s.spec.selector, pod.metadata.labels)) after.add(keyOf(s.metadata));
      }
    }
    if (after.size > 0) this.podServices.set(podKey, after);
    else this.podServices.delete(podKey);
    const affected = [...new Set([...before, ...after])].filter((k) => this.isManaged(k));
    if (affected.length > 0) this.notify(affected);
  }

  private onBackendConfig(bc: SlimBackendConfig): void {
    const affected: string[] = [];
    for (const s of this.services.list(bc.metadata.namespace)) {
      const ref = parseBackendConfigRef(s.metadata.annotations);
      if (!ref.ok || !ref.value) continue;
      const names = new Set([...(ref.value.default ? [ref.value.default] : []), ...ref.value.ports.values()]);
      const key = keyOf(s.metadata);
      if (names.has(bc.metadata.name) && this.isManaged(key, s)) affected.push(key);
    }
    if (affected.length > 0) this.notify(affected);
  }
}
