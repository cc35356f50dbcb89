// Gateway API objects and a ClusterView + BackendReader over plain arrays, for the Gateway table tests.
import type { BackendServiceRef, LiveHealthCheck } from '../../src/model/health-check.js';
import type {
  PolicyDefault,
  RouteBackendRef,
  RouteParentRef,
  RouteParentStatus,
  SlimGateway,
  SlimGatewayClass,
  SlimHealthCheckPolicy,
  SlimReferenceGrant,
  SlimRoute,
} from '../../src/model/gateway.js';
import type { SlimPod, SlimService } from '../../src/model/kube.js';
import type { BackendReader, ClusterView } from '../../src/model/ports.js';
import { selectorMatches } from '../../src/kube/service-index.js';

const meta = (namespace: string, name: string, extra: Record<string, unknown> = {}) => ({
  namespace,
  name,
  uid: `uid-${namespace}-${name}`,
  resourceVersion: '1',
  ...extra,
});

export function gatewayClass(name: string, controllerName = 'networking.gke.io/gateway'): SlimGatewayClass {
  return { metadata: meta('', name), controllerName };
}

export function gateway(name: string, className = 'gke-l7-global-external-managed', namespace = 'default'): SlimGateway {
  return { metadata: meta(namespace, name), gatewayClassName: className };
}

export function route(
  o: {
    name?: string;
    namespace?: string;
    kind?: SlimRoute['kind'];
    parentRefs?: RouteParentRef[];
    backendRefs?: RouteBackendRef[];
    parents?: RouteParentStatus[];
  } = {},
): SlimRoute {
  return {
    kind: o.kind ?? 'HTTPRoute',
    metadata: meta(o.namespace ?? 'default', o.name ?? 'web-route'),
    parentRefs: o.parentRefs ?? [{ name: 'gw' }],
    backendRefs: o.backendRefs ?? [{ name: 'web', port: 80 }],
    parents: o.parents ?? [],
  };
}

export function referenceGrant(namespace: string, fromNamespace: string, fromKind = 'HTTPRoute', toName?: string): SlimReferenceGrant {
  return {
    metadata: meta(namespace, `allow-${fromNamespace}`),
    from: [{ group: 'gateway.networking.k8s.io', kind: fromKind, namespace: fromNamespace }],
    to: [{ group: '', kind: 'Service', ...(toName !== undefined ? { name: toName } : {}) }],
  };
}

export function policy(
  name: string,
  o: {
    target?: string;
    managed?: boolean;
    default?: PolicyDefault;
    created?: string;
    conditions?: SlimHealthCheckPolicy['conditions'];
  } = {},
): SlimHealthCheckPolicy {
  return {
    metadata: meta('default', name, {
      ...(o.managed ? { labels: { 'app.kubernetes.io/managed-by': 'hcsync' } } : {}),
      ...(o.created ? { creationTimestamp: o.created } : {}),
    }),
    targetRef: { group: '', kind: 'Service', name: o.target ?? 'web' },
    ...(o.default ? { default: o.default } : {}),
    conditions: o.conditions ?? [],
    ownerUids: [],
  };
}

/** A gkegw1 backend service and its check, as GKE's Gateway controller names them (docs/gke-gateway-healthchecks.md §4). */
export function gatewayBackend(
  name: string,
  check: Partial<{ requestPath: string; host: string; checkIntervalSec: number; timeoutSec: number; type: string }> = {},
): { bs: BackendServiceRef; hc: LiveHealthCheck } {
  const scope = { kind: 'global' } as const;
  return {
    bs: { name, scope, healthCheck: { name, scope }, backendKind: 'neg' },
    hc: {
      name,
      scope,
      id: `id-${name}`,
      type: check.type ?? 'HTTP',
      checkIntervalSec: check.checkIntervalSec ?? 5,
      timeoutSec: check.timeoutSec ?? 5,
      block: { requestPath: check.requestPath ?? '/', host: check.host ?? '', portSpecification: 'USE_SERVING_PORT' },
    },
  };
}

export interface GatewayWorld {
  services?: SlimService[];
  pods?: SlimPod[];
  classes?: SlimGatewayClass[];
  gateways?: SlimGateway[];
  routes?: SlimRoute[];
  grants?: SlimReferenceGrant[];
  policies?: SlimHealthCheckPolicy[];
  backends?: { bs: BackendServiceRef; hc: LiveHealthCheck }[];
}

export function gatewayView(w: GatewayWorld): ClusterView & BackendReader {
  return {
    service: (ns, n) => w.services?.find((s) => s.metadata.namespace === ns && s.metadata.name === n),
    podsFor: (svc) =>
      (w.pods ?? []).filter(
        (p) => p.metadata.namespace === svc.metadata.namespace && selectorMatches(svc.spec.selector, p.metadata.labels),
      ),
    ingressesFor: () => [],
    backendConfig: () => undefined,
    routesTo: (ns, n) =>
      (w.routes ?? []).filter((r) => r.backendRefs.some((b) => b.name === n && (b.namespace ?? r.metadata.namespace) === ns)),
    gateway: (ns, n) => w.gateways?.find((g) => g.metadata.namespace === ns && g.metadata.name === n),
    gatewayClass: (n) => w.classes?.find((c) => c.metadata.name === n),
    referenceGrants: (ns) => (w.grants ?? []).filter((g) => g.metadata.namespace === ns),
    healthCheckPolicies: (ns) => (w.policies ?? []).filter((p) => p.metadata.namespace === ns),
    backendService: () => undefined,
    healthCheck: (name) => w.backends?.find((b) => b.hc.name === name)?.hc,
    gatewayBackendServices: () => (w.backends ?? []).map((b) => b.bs),
  };
}
