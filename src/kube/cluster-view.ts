// The ClusterView (model/ports.ts) over plain arrays: for the one-shot commands and tests. The
// controller's view is ClusterState, over informer caches.
import { keyOf, type SlimBackendConfig, type SlimIngress, type SlimPod, type SlimService } from '../model/kube.js';
import type { ClusterView } from '../model/ports.js';
import { ingressServiceKeys, selectorMatches } from './service-index.js';
import type { SlimGateway, SlimGatewayClass, SlimHealthCheckPolicy, SlimReferenceGrant, SlimRoute } from '../model/gateway.js';
import { routeServiceKeys } from './gateway-index.js';

/** A ClusterView over plain arrays: for `plan`, `diagnose` and tests. */
export class StaticClusterView implements ClusterView {
  constructor(
    private readonly objects: {
      services: readonly SlimService[];
      pods: readonly SlimPod[];
      ingresses: readonly SlimIngress[];
      backendConfigs: readonly SlimBackendConfig[];
      /** Gateway API and HealthCheckPolicies (absent: none; GatewayClasses absent: not readable). */
      gatewayClasses?: readonly SlimGatewayClass[];
      gateways?: readonly SlimGateway[];
      routes?: readonly SlimRoute[];
      referenceGrants?: readonly SlimReferenceGrant[];
      policies?: readonly SlimHealthCheckPolicy[];
    },
  ) {}

  service(namespace: string, name: string): SlimService | undefined {
    return this.objects.services.find((s) => s.metadata.namespace === namespace && s.metadata.name === name);
  }

  podsFor(service: SlimService): SlimPod[] {
    return this.objects.pods.filter(
      (p) => p.metadata.namespace === service.metadata.namespace && selectorMatches(service.spec.selector, p.metadata.labels),
    );
  }

  /** GKE's Ingresses with a backend on this Service (as ClusterState's index: other classes back nothing for hcsync). */
  ingressesFor(namespace: string, serviceName: string): SlimIngress[] {
    const key = keyOf({ namespace, name: serviceName });
    return this.objects.ingresses.filter((i) => i.metadata.namespace === namespace && ingressServiceKeys(i).has(key));
  }

  backendConfig(namespace: string, name: string): SlimBackendConfig | undefined {
    return this.objects.backendConfigs.find((b) => b.metadata.namespace === namespace && b.metadata.name === name);
  }

  ingress(namespace: string, name: string): SlimIngress | undefined {
    return this.objects.ingresses.find((i) => i.metadata.namespace === namespace && i.metadata.name === name);
  }

  services(): readonly SlimService[] {
    return this.objects.services;
  }

  routesTo(namespace: string, serviceName: string): SlimRoute[] {
    const key = keyOf({ namespace, name: serviceName });
    return (this.objects.routes ?? []).filter((r) => routeServiceKeys(r).has(key));
  }

  gateway(namespace: string, name: string): SlimGateway | undefined {
    return this.objects.gateways?.find((g) => g.metadata.namespace === namespace && g.metadata.name === name);
  }

  gatewayClass(name: string): SlimGatewayClass | undefined {
    return this.objects.gatewayClasses?.find((c) => c.metadata.name === name);
  }

  referenceGrants(namespace: string): SlimReferenceGrant[] {
    return (this.objects.referenceGrants ?? []).filter((g) => g.metadata.namespace === namespace);
  }

  healthCheckPolicies(namespace: string): SlimHealthCheckPolicy[] {
    return (this.objects.policies ?? []).filter((p) => p.metadata.namespace === namespace);
  }

  /** Every route (for `diagnose gateway`: the routes attached to one Gateway). */
  allRoutes(): readonly SlimRoute[] {
    return this.objects.routes ?? [];
  }
}
