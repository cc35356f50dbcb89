// The ClusterView (model/ports.ts) over plain arrays: for the one-shot commands and tests. The
// controller's view is ClusterState, over informer caches.
import { keyOf, type SlimBackendConfig, type SlimIngress, type SlimPod, type SlimService } from '../model/kube.js';
import type { ClusterView } from '../model/ports.js';
import { ingressServiceKeys, selectorMatches } from './service-index.js';

/** A ClusterView over plain arrays: for `plan`, `diagnose` and tests. */
export class StaticClusterView implements ClusterView {
  constructor(
    private readonly objects: {
      services: readonly SlimService[];
      pods: readonly SlimPod[];
      ingresses: readonly SlimIngress[];
      backendConfigs: readonly SlimBackendConfig[];
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
}
