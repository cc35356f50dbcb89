// Informers for the Gateway API (GatewayClasses, Gateways, HTTPRoutes, GRPCRoutes, ReferenceGrants)
// and GKE's HealthCheckPolicies, and the Gateway half of the ClusterView over their caches.
// Each kind is optional exactly like BackendConfig: a 404 on its list (CRD not installed) counts
// as synced-empty and the informer keeps retrying, so CRDs installed later are picked up without
// a restart. GatewayClass is cluster-scoped: in namespaced mode (--namespaces) it is not watched
// and a Gateway counts as GKE's by its `gke-l7-` class name (contract "Gateway API").
// ClusterState composes this; events become Service keys through gateway-index.ts.
import type { KubeConfig } from '@kubernetes/client-node';
import type { SlimGateway, SlimGatewayClass, SlimHealthCheckPolicy, SlimReferenceGrant, SlimRoute } from '../model/gateway.js';
import { keyOf, refOfKey } from '../model/kube.js';
import type { Logger } from '../observability/log.js';
import { SlimInformer, rawPageLister } from './informer.js';
import { Family } from './informer-family.js';
import { GatewayRouteIndex, policyServiceKeys } from './gateway-index.js';
import { slimGateway, slimGatewayClass, slimHealthCheckPolicy, slimReferenceGrant, slimRoute } from './slim.js';

const GW = { group: 'gateway.networking.k8s.io', version: 'v1' } as const;
/** ReferenceGrant is served as v1beta1 by every Gateway API release (v1.6.3's standard channel stores v1beta1; older ones have no v1). */
const GW_BETA = { group: 'gateway.networking.k8s.io', version: 'v1beta1' } as const;
export const HEALTHCHECKPOLICY = { group: 'networking.gke.io', version: 'v1', plural: 'healthcheckpolicies' } as const;
/** The Gateway API kinds hcsync reads, for the one-shot snapshot (kube/snapshot.ts). */
export const GATEWAY_KINDS = {
  gatewayclasses: { ...GW, plural: 'gatewayclasses' },
  gateways: { ...GW, plural: 'gateways' },
  httproutes: { ...GW, plural: 'httproutes' },
  grpcroutes: { ...GW, plural: 'grpcroutes' },
  referencegrants: { ...GW_BETA, plural: 'referencegrants' },
} as const;

interface Meta {
  metadata: { namespace: string; name: string; resourceVersion: string };
}

export class GatewayState {
  private readonly classes: Family<SlimGatewayClass> | undefined;
  private readonly gateways: Family<SlimGateway>;
  private readonly httpRoutes: Family<SlimRoute>;
  private readonly grpcRoutes: Family<SlimRoute>;
  private readonly grants: Family<SlimReferenceGrant>;
  private readonly policies: Family<SlimHealthCheckPolicy>;
  private readonly index = new GatewayRouteIndex();

  constructor(
    kc: KubeConfig,
    namespaces: readonly string[],
    log: Logger,
    private readonly notify: (keys: Iterable<string>) => void,
  ) {
    const scopes = namespaces.length > 0 ? namespaces : [''];
    const kind = <T extends Meta>(api: { group: string; version: string }, plural: string, slim: (raw: unknown) => T, inScopes = scopes) =>
      new Family<T>(
        new Map(
          inScopes.map((ns) => {
            const path = `/apis/${api.group}/${api.version}${ns ? `/namespaces/${ns}` : ''}/${plural}`;
            return [
              ns,
              new SlimInformer<T>(
                kc,
                `${plural}${ns ? ` in ${ns}` : ''}`,
                path,
                rawPageLister(kc, path), // plain JSON pages, as for the core kinds
                slim,
                log,
                true, // CRD not installed: no objects of this kind (a 403/429/5xx is not that)
              ),
            ];
          }),
        ),
      );
    this.classes = namespaces.length === 0 ? kind(GW, 'gatewayclasses', slimGatewayClass) : undefined;
    this.gateways = kind(GW, 'gateways', slimGateway);
    this.httpRoutes = kind(GW, 'httproutes', slimRoute('HTTPRoute'));
    this.grpcRoutes = kind(GW, 'grpcroutes', slimRoute('GRPCRoute'));
    this.grants = kind(GW_BETA, 'referencegrants', slimReferenceGrant);
    this.policies = kind(HEALTHCHECKPOLICY, 'healthcheckpolicies', slimHealthCheckPolicy);

    for (const inf of [...this.httpRoutes.informers, ...this.grpcRoutes.informers]) {
      // Every Service the route left or joined, in scope or not: joining is what brings it in.
      inf.on('add', (r) => this.notify(this.index.routeChanged(r, false)));
      inf.on('update', (r) => this.notify(this.index.routeChanged(r, false)));
      inf.on('delete', (r) => this.notify(this.index.routeChanged(r, true)));
    }
    for (const inf of this.gateways.informers) {
      const onGateway = (g: SlimGateway) => this.notify(this.index.servicesOfGateway(keyOf(g.metadata)));
      inf.on('add', onGateway);
      inf.on('update', onGateway);
      inf.on('delete', onGateway);
    }
    for (const inf of this.classes?.informers ?? []) {
      const onClass = (c: SlimGatewayClass) => this.notify(this.index.servicesOfGatewayClass(c.metadata.name, this.gateways.all()));
      inf.on('add', onClass);
      inf.on('update', onClass);
      inf.on('delete', onClass);
    }
    for (const inf of this.grants.informers) {
      const onGrant = (g: SlimReferenceGrant) => this.notify(this.index.servicesOfReferenceGrant(g));
      inf.on('add', onGrant);
      inf.on('update', onGrant);
      inf.on('delete', onGrant);
    }
    for (const inf of this.policies.informers) {
      const onPolicy = (p: SlimHealthCheckPolicy) => this.notify(policyServiceKeys(p));
      inf.on('add', onPolicy);
      inf.on('update', onPolicy);
      inf.on('delete', onPolicy);
    }
  }

  /** Every informer, for start, stop and the sync gate. */
  informers(): SlimInformer<Meta>[] {
    return [
      ...(this.classes?.informers ?? []),
      ...this.gateways.informers,
      ...this.httpRoutes.informers,
      ...this.grpcRoutes.informers,
      ...this.grants.informers,
      ...this.policies.informers,
    ] as never;
  }

  /** Services a route refers to, and those hcsync has a policy for (so it is deleted when they leave scope). */
  serviceKeys(): string[] {
    const keys = new Set(this.index.backedServiceKeys());
    for (const p of this.policies.all()) for (const k of policyServiceKeys(p)) keys.add(k);
    return [...keys];
  }

  isRouted(serviceKey: string): boolean {
    return this.index.isBacked(serviceKey);
  }

  // --- the Gateway half of ClusterView ---

  routesTo(namespace: string, serviceName: string): SlimRoute[] {
    return this.index.routesOf(keyOf({ namespace, name: serviceName })).flatMap((rk) => {
      const slash = rk.indexOf('/');
      const ref = refOfKey(rk.slice(slash + 1));
      const kind = rk.slice(0, slash) === 'GRPCRoute' ? this.grpcRoutes : this.httpRoutes;
      return kind.get(ref.namespace, ref.name) ?? [];
    });
  }

  gateway(namespace: string, name: string): SlimGateway | undefined {
    return this.gateways.get(namespace, name);
  }

  gatewayClass(name: string): SlimGatewayClass | undefined {
    return this.classes?.get('', name);
  }

  referenceGrants(namespace: string): SlimReferenceGrant[] {
    return [...this.grants.list(namespace)];
  }

  healthCheckPolicies(namespace: string): SlimHealthCheckPolicy[] {
    return [...this.policies.list(namespace)];
  }
}
