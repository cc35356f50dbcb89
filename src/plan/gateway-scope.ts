// Which ports of a Service sit behind a GKE Gateway, and through which routes and Gateways
// (contract "Gateway API" scope rules; docs/gke-gateway-healthchecks.md §3). Pure: it reads the
// cluster view as it is. A port is in scope when a backendRef of an HTTPRoute or GRPCRoute names
// it and the route is attached to a Gateway of a GKE class.
import {
  GATEWAY_GROUP,
  GKE_GATEWAY_CONTROLLER,
  type RouteBackendRef,
  type RouteParentRef,
  type SlimGateway,
  type SlimRoute,
} from '../model/gateway.js';
import type { SlimService, SlimServicePort } from '../model/kube.js';
import type { ClusterView } from '../model/ports.js';

/** One Service port behind GKE Gateways. */
export interface GatewayPortScope {
  readonly port: SlimServicePort;
  /** `HTTPRoute ns/name`, in the order first seen. */
  readonly routes: readonly string[];
  /** `ns/name` of the GKE Gateways the routes are attached to. */
  readonly gateways: readonly string[];
}

export interface GatewayScope {
  readonly ports: readonly GatewayPortScope[];
  /** Why a backendRef naming this Service did not count (no port, no ReferenceGrant, unknown port, not attached): for diagnose and logs. */
  readonly ignored: readonly string[];
}

/** GKE's GatewayClass name prefix, the fallback when the GatewayClass cannot be read (contract). */
const GKE_CLASS_PREFIX = 'gke-l7-';

/**
 * Whether GKE's Gateway controller serves this Gateway: its GatewayClass's `spec.controllerName`
 * is GKE's; when the GatewayClass cannot be read (namespaced mode, not there), a `gke-l7-` class
 * name counts (contract "Gateway API"; docs §3 lists GKE's classes).
 */
export function isGkeGateway(gw: SlimGateway, view: Pick<ClusterView, 'gatewayClass'>): boolean {
  const cls = view.gatewayClass?.(gw.gatewayClassName);
  if (cls) return cls.controllerName === GKE_GATEWAY_CONTROLLER;
  return gw.gatewayClassName.startsWith(GKE_CLASS_PREFIX);
}

/** A parentRef to a Gateway (group and kind default to the Gateway API's), with its namespace defaulted to the route's. */
function gatewayOfParent(ref: RouteParentRef, routeNamespace: string): { namespace: string; name: string } | undefined {
  if ((ref.group ?? GATEWAY_GROUP) !== GATEWAY_GROUP || (ref.kind ?? 'Gateway') !== 'Gateway') return undefined;
  return { namespace: ref.namespace ?? routeNamespace, name: ref.name };
}

/** Whether GKE's controller rejected the route on this Gateway (`Accepted=False` in its `status.parents` entry). */
function rejectedByGke(route: SlimRoute, gw: { namespace: string; name: string }): boolean {
  return route.parents.some((p) => {
    if (p.controllerName !== GKE_GATEWAY_CONTROLLER) return false;
    const parent = gatewayOfParent(p.parentRef, route.metadata.namespace);
    return (
      parent?.namespace === gw.namespace &&
      parent.name === gw.name &&
      p.conditions.some((c) => c.type === 'Accepted' && c.status === 'False')
    );
  });
}

/** The GKE Gateways this route is attached to: named in parentRefs, present, of a GKE class, not rejected by GKE. */
export function gkeGatewaysOf(route: SlimRoute, view: ClusterView): string[] {
  const out: string[] = [];
  for (const ref of route.parentRefs) {
    const parent = gatewayOfParent(ref, route.metadata.namespace);
    if (!parent) continue;
    const gw = view.gateway?.(parent.namespace, parent.name);
    if (!gw || !isGkeGateway(gw, view) || rejectedByGke(route, parent)) continue;
    const key = `${parent.namespace}/${parent.name}`;
    if (!out.includes(key)) out.push(key);
  }
  return out;
}

/**
 * Whether a backendRef of `route` to a Service in `serviceNamespace` is allowed: same namespace,
 * or a ReferenceGrant in the Service's namespace lets that route kind from the route's namespace
 * refer to this Service (Gateway API ReferenceGrant semantics).
 */
function referenceAllowed(route: SlimRoute, serviceNamespace: string, serviceName: string, view: ClusterView): boolean {
  const from = route.metadata.namespace;
  if (from === serviceNamespace) return true;
  return (view.referenceGrants?.(serviceNamespace) ?? []).some(
    (g) =>
      g.from.some((f) => f.group === GATEWAY_GROUP && f.kind === route.kind && f.namespace === from) &&
      g.to.some((t) => t.group === '' && t.kind === 'Service' && (t.name === undefined || t.name === '' || t.name === serviceName)),
  );
}

/** Whether the backendRef names this Service (kind Service, core group; namespace defaulting to the route's). */
export function refNamesService(ref: RouteBackendRef, routeNamespace: string, svc: SlimService): boolean {
  return (
    (ref.group ?? '') === '' &&
    (ref.kind ?? 'Service') === 'Service' &&
    ref.name === svc.metadata.name &&
    (ref.namespace ?? routeNamespace) === svc.metadata.namespace
  );
}

const routeLabel = (r: SlimRoute) => `${r.kind} ${r.metadata.namespace}/${r.metadata.name}`;

/**
 * The Service's ports behind GKE Gateways (contract "Gateway API" scope): backendRefs of
 * HTTPRoutes and GRPCRoutes that name the Service with a port (required for Service refs), from
 * the Service's namespace or allowed by a ReferenceGrant, on routes attached to a GKE Gateway.
 * What did not count is listed with the reason, never guessed into scope.
 */
export function gatewayScope(svc: SlimService, view: ClusterView): GatewayScope {
  const { namespace, name } = svc.metadata;
  const routes = view.routesTo?.(namespace, name) ?? [];
  const byPort = new Map<SlimServicePort, { routes: string[]; gateways: string[] }>();
  const ignored: string[] = [];
  for (const route of routes) {
    const refs = route.backendRefs.filter((r) => refNamesService(r, route.metadata.namespace, svc));
    if (refs.length === 0) continue;
    const label = routeLabel(route);
    const gateways = gkeGatewaysOf(route, view);
    if (gateways.length === 0) {
      ignored.push(`${label} is not attached to a GKE Gateway`);
      continue;
    }
    if (!referenceAllowed(route, namespace, name, view)) {
      ignored.push(
        `${label} refers to Service ${namespace}/${name} from namespace ${route.metadata.namespace} without a ReferenceGrant allowing it`,
      );
      continue;
    }
    for (const ref of refs) {
      if (ref.port === undefined) {
        ignored.push(`${label} has a backendRef to Service ${name} without a port (required for Service backends)`);
        continue;
      }
      const port = svc.spec.ports.find((p) => p.port === ref.port);
      if (!port) {
        ignored.push(`${label} refers to port ${ref.port}, which Service ${namespace}/${name} does not have`);
        continue;
      }
      let entry = byPort.get(port);
      if (!entry) byPort.set(port, (entry = { routes: [], gateways: [] }));
      if (!entry.routes.includes(label)) entry.routes.push(label);
      for (const g of gateways) if (!entry.gateways.includes(g)) entry.gateways.push(g);
    }
  }
  // In the Service's port order, so reports read the same on every pass.
  const ports = svc.spec.ports.flatMap((p) => {
    const e = byPort.get(p);
    return e ? [{ port: p, routes: e.routes, gateways: e.gateways }] : [];
  });
  return { ports, ignored };
}
