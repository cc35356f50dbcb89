// Informers for Services, Pods, Ingresses and BackendConfigs, and the ClusterView over their
// caches. Each event becomes exactly the Service keys it affects (the mappers of
// service-index.ts; Pods ↔ Services through selector-index.ts, with no namespace scan either way),
// of which only those hcsync manages are handed on. A Pod event that changes nothing hcsync
// reads hands on nothing.
import type { KubeConfig } from '@kubernetes/client-node';
import { keyOf, refOfKey, type SlimBackendConfig, type SlimIngress, type SlimPod, type SlimService } from '../model/kube.js';
import type { ClusterView } from '../model/ports.js';
import type { Logger } from '../observability/log.js';
import { SlimInformer, rawPageLister } from './informer.js';
import { Family } from './informer-family.js';
import { slimBackendConfig, slimIngress, slimPod, slimService } from './slim.js';
import { ServiceKeyIndex, backendConfigServiceKeys, hasHcsyncCondition, sameServiceApartFromStatus } from './service-index.js';
import { SelectorIndex } from './selector-index.js';
import { GatewayState } from './gateway-state.js';
import type { SlimGateway, SlimGatewayClass, SlimHealthCheckPolicy, SlimReferenceGrant, SlimRoute } from '../model/gateway.js';

export type ServiceKeysHandler = (keys: Iterable<string>) => void;

export const BACKENDCONFIG = { group: 'cloud.google.com', version: 'v1', plural: 'backendconfigs' } as const;

export class ClusterState implements ClusterView {
  private readonly services: Family<SlimService>;
  private readonly pods: Family<SlimPod>;
  private readonly ingresses: Family<SlimIngress>;
  private readonly backendConfigs: Family<SlimBackendConfig>;
  private readonly index = new ServiceKeyIndex();
  /** Reads the Pods from the Pod informers' cache (assigned in the constructor, before any event). */
  private readonly selectors: SelectorIndex;
  /** Gateway API and HealthCheckPolicy caches (gateway-state.ts), each optional like BackendConfig. */
  private readonly gateways: GatewayState;
  /** When each BackendConfig last changed (its resourceVersion moved), as this replica saw it; bounded by the BackendConfigs that exist. */
  private readonly backendConfigChanges = new Map<string, { resourceVersion: string; at: number }>();
  /** Service key → hcsync's own last status write (the version it produced, the Service it was made for), until the next event of that Service; bounded by the Services. */
  private readonly ownStatusWrites = new Map<string, { readonly resourceVersion: string; readonly service: SlimService }>();
  /** After the first lists: an added object is new, not one that existed before hcsync started. */
  private started = false;

  constructor(
    kc: KubeConfig,
    namespaces: readonly string[],
    log: Logger,
    private readonly notify: ServiceKeysHandler,
  ) {
    const scopes = namespaces.length > 0 ? namespaces : [''];
    const family = <T extends { metadata: { namespace: string; name: string; resourceVersion: string } }>(
      what: string,
      path: (ns: string) => string,
      slim: (raw: unknown) => T,
      missingMeansEmpty = false,
    ) =>
      new Family<T>(
        new Map(
          scopes.map((ns) => [
            ns,
            new SlimInformer<T>(kc, `${what}${ns ? ` in ${ns}` : ''}`, path(ns), rawPageLister(kc, path(ns)), slim, log, missingMeansEmpty),
          ]),
        ),
      );
    const nsPath = (ns: string) => (ns ? `/namespaces/${ns}` : '');
    this.services = family('services', (ns) => `/api/v1${nsPath(ns)}/services`, slimService);
    this.pods = family('pods', (ns) => `/api/v1${nsPath(ns)}/pods`, slimPod);
    const [services, pods] = [this.services, this.pods];
    this.selectors = new SelectorIndex({
      pod: (ns, name) => pods.get(ns, name),
      pods: (ns) => pods.list(ns),
      service: (ns, name) => services.get(ns, name),
    });
    this.ingresses = family('ingresses', (ns) => `/apis/networking.k8s.io/v1${nsPath(ns)}/ingresses`, slimIngress);
    this.backendConfigs = family(
      'backendconfigs',
      (ns) => `/apis/${BACKENDCONFIG.group}/${BACKENDCONFIG.version}${nsPath(ns)}/${BACKENDCONFIG.plural}`,
      slimBackendConfig,
      true, // no CRD on the cluster: no BackendConfigs (a 403/429/5xx is not that)
    );

    this.gateways = new GatewayState(kc, namespaces, log, (keys) => this.notify(keys));

    for (const inf of this.services.informers) {
      inf.on('add', (s, before) => this.onService(s, before));
      inf.on('update', (s, before) => this.onService(s, before));
      inf.on('delete', (s, before) => {
        this.selectors.serviceChanged(s, before, true);
        this.ownStatusWrites.delete(keyOf(s.metadata));
        this.notify([keyOf(s.metadata)]);
      });
    }
    for (const inf of this.ingresses.informers) {
      inf.on('add', (i, before) => this.onIngress(i, before, false));
      inf.on('update', (i, before) => this.onIngress(i, before, false));
      inf.on('delete', (i, before) => this.onIngress(i, before, true));
    }
    for (const inf of this.pods.informers) {
      inf.on('add', (p, before) => this.onPod(p, before, false));
      inf.on('update', (p, before) => this.onPod(p, before, false));
      inf.on('delete', (p, before) => this.onPod(p, before, true));
    }
    for (const inf of this.backendConfigs.informers) {
      // A BackendConfig created or changed after the first list: remember when (ClusterView.backendConfigChangedAt).
      inf.on('add', (b) => this.onBackendConfig(b, this.started ? 'changed' : 'listed'));
      inf.on('update', (b) => this.onBackendConfig(b, 'changed'));
      inf.on('delete', (b) => this.onBackendConfig(b, 'deleted'));
    }
  }

  private all(): SlimInformer<{ metadata: { namespace: string; name: string; resourceVersion: string } }>[] {
    return [
      ...this.services.informers,
      ...this.pods.informers,
      ...this.ingresses.informers,
      ...this.backendConfigs.informers,
      ...this.gateways.informers(),
    ] as never;
  }

  /** Starts every informer; resolves when each has listed once (or failed and is retrying). */
  async start(): Promise<void> {
    await Promise.all(this.all().map((i) => i.start()));
    this.started = true;
  }

  hasSynced(): boolean {
    return this.all().every((i) => i.hasSynced());
  }

  /** The informers not synced yet and why ("backendconfigs: 403: Forbidden"), for /readyz and logs. */
  notSynced(): string[] {
    return this.all().flatMap((i) => {
      const why = i.notSyncedBecause();
      return why === undefined ? [] : [`${i.description}: ${why}`];
    });
  }

  async stop(): Promise<void> {
    await Promise.all(this.all().map((i) => i.stop()));
  }

  /** Services an Ingress backs, plus those carrying hcsync's condition (to be told they left). */
  managedServiceKeys(): string[] {
    const keys = new Set([...this.index.backedServiceKeys(), ...this.gateways.serviceKeys()]);
    for (const s of this.services.all()) if (hasHcsyncCondition(s)) keys.add(keyOf(s.metadata));
    return [...keys];
  }

  /**
   * hcsync wrote the condition of `service` (the version its reconcile assessed), producing
   * `resourceVersion`. The event carrying exactly that version is the echo of the write; unless
   * the Service also differs from what was assessed (a re-list after a broken watch folds several
   * changes into one event), it enqueues nothing: a condition write does not cost a second
   * reconcile. If the echo arrived before the write's response (common on a near API server), the
   * cache already holds that version and nothing is noted: a note then waited for the Service's
   * next event, holding the assessed version of the Service meanwhile — at 5,000 Services a heap
   * snapshot after converging held ~3,400 such notes, each with its own copy of the Service.
   */
  ownStatusWritten(service: SlimService, resourceVersion: string): void {
    const key = keyOf(service.metadata);
    if (this.services.get(service.metadata.namespace, service.metadata.name)?.metadata.resourceVersion === resourceVersion) {
      this.ownStatusWrites.delete(key);
      return;
    }
    this.ownStatusWrites.set(key, { resourceVersion, service });
  }

  // --- ClusterView ---

  service(namespace: string, name: string): SlimService | undefined {
    return this.services.get(namespace, name);
  }

  podsFor(service: SlimService): SlimPod[] {
    return this.selectors.podsFor(service);
  }

  ingressesFor(namespace: string, serviceName: string): SlimIngress[] {
    return this.index
      .ingressesOf(keyOf({ namespace, name: serviceName }))
      .map((ref) => this.ingresses.get(ref.namespace, ref.name))
      .filter((i): i is SlimIngress => i !== undefined);
  }

  backendConfig(namespace: string, name: string): SlimBackendConfig | undefined {
    return this.backendConfigs.get(namespace, name);
  }

  backendConfigChangedAt(namespace: string, name: string): number | undefined {
    return this.backendConfigChanges.get(keyOf({ namespace, name }))?.at;
  }

  routesTo(namespace: string, serviceName: string): SlimRoute[] {
    return this.gateways.routesTo(namespace, serviceName);
  }

  gateway(namespace: string, name: string): SlimGateway | undefined {
    return this.gateways.gateway(namespace, name);
  }

  gatewayClass(name: string): SlimGatewayClass | undefined {
    return this.gateways.gatewayClass(name);
  }

  referenceGrants(namespace: string): SlimReferenceGrant[] {
    return this.gateways.referenceGrants(namespace);
  }

  healthCheckPolicies(namespace: string): SlimHealthCheckPolicy[] {
    return this.gateways.healthCheckPolicies(namespace);
  }

  // --- event → affected Service keys ---

  private isManaged(key: string, s?: SlimService): boolean {
    if (this.index.isBacked(key) || this.gateways.isRouted(key)) return true;
    const ref = refOfKey(key);
    const svc = s ?? this.services.get(ref.namespace, ref.name);
    return svc !== undefined && hasHcsyncCondition(svc);
  }

  private notifyManaged(keys: Iterable<string>): void {
    const managed = [...keys].filter((k) => this.isManaged(k));
    if (managed.length > 0) this.notify(managed);
  }

  private onService(s: SlimService, before: SlimService | undefined): void {
    this.selectors.serviceChanged(s, before, false);
    const key = keyOf(s.metadata);
    const own = this.ownStatusWrites.get(key);
    if (own !== undefined) {
      this.ownStatusWrites.delete(key);
      if (own.resourceVersion === s.metadata.resourceVersion && sameServiceApartFromStatus(own.service, s)) return;
    }
    if (this.isManaged(key, s)) this.notify([key]);
  }

  private onIngress(ing: SlimIngress, before: SlimIngress | undefined, deleted: boolean): void {
    // Every Service the Ingress left or joined, managed or not: joining is what makes it managed.
    this.notify(this.index.ingressChanged(ing, before, deleted));
  }

  private onPod(pod: SlimPod, before: SlimPod | undefined, deleted: boolean): void {
    this.notifyManaged(this.selectors.podChanged(pod, before, deleted));
  }

  private onBackendConfig(bc: SlimBackendConfig, what: 'listed' | 'changed' | 'deleted'): void {
    const key = keyOf(bc.metadata);
    if (what === 'deleted') this.backendConfigChanges.delete(key);
    else if (what === 'changed' && this.backendConfigChanges.get(key)?.resourceVersion !== bc.metadata.resourceVersion) {
      this.backendConfigChanges.set(key, { resourceVersion: bc.metadata.resourceVersion, at: Date.now() });
    }
    this.notifyManaged(backendConfigServiceKeys(bc, this.services.list(bc.metadata.namespace)));
  }
}
