// What reconcile reads from the cluster: a read-only view, backed by informer caches in the
// controller and by plain arrays in tests and in the one-shot commands.
import type { SlimBackendConfig, SlimIngress, SlimPod, SlimService } from '../model/kube.js';

export interface ClusterView {
  service(namespace: string, name: string): SlimService | undefined;
  /** Pods the Service's selector matches (any phase; intent decides which count). */
  podsFor(service: SlimService): SlimPod[];
  /** Ingresses with a backend on this Service. */
  ingressesFor(namespace: string, serviceName: string): SlimIngress[];
  backendConfig(namespace: string, name: string): SlimBackendConfig | undefined;
}

export function selectorMatches(selector: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>> | undefined): boolean {
  // A Service without a selector has no Pods of its own (its endpoints are managed by hand).
  if (!selector || Object.keys(selector).length === 0) return false;
  for (const [k, v] of Object.entries(selector)) if (labels?.[k] !== v) return false;
  return true;
}

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
    return this.objects.pods.filter((p) => p.metadata.namespace === service.metadata.namespace && selectorMatches(service.spec.selector, p.metadata.labels));
  }

  ingressesFor(namespace: string, serviceName: string): SlimIngress[] {
    return this.objects.ingresses.filter((i) => i.metadata.namespace === namespace && i.backends.some((b) => b.service === serviceName));
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
