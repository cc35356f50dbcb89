// Which Service keys a Gateway API or HealthCheckPolicy event touches, in the pure style of
// service-index.ts: route → its backend Services (and those it referred to before), Gateway →
// the Services of its routes, GatewayClass → those of its Gateways, ReferenceGrant → the routed
// Services of its namespace, HealthCheckPolicy → its target. GatewayRouteIndex remembers what each
// route pointed at last, so a change notifies the Services it left as well as those it joined.
import { GATEWAY_GROUP, type SlimGateway, type SlimHealthCheckPolicy, type SlimReferenceGrant, type SlimRoute } from '../model/gateway.js';
import { keyOf, refOfKey } from '../model/kube.js';

/** Keys of the Services a route's backendRefs name (kind Service, core group; namespace defaulting to the route's). */
export function routeServiceKeys(route: SlimRoute): Set<string> {
  const keys = new Set<string>();
  for (const b of route.backendRefs) {
    if ((b.group ?? '') !== '' || (b.kind ?? 'Service') !== 'Service') continue;
    keys.add(keyOf({ namespace: b.namespace ?? route.metadata.namespace, name: b.name }));
  }
  return keys;
}

/** Keys of the Gateways a route names in parentRefs (namespace defaulting to the route's). */
function routeGatewayKeys(route: SlimRoute): Set<string> {
  const keys = new Set<string>();
  for (const p of route.parentRefs) {
    if ((p.group ?? GATEWAY_GROUP) !== GATEWAY_GROUP || (p.kind ?? 'Gateway') !== 'Gateway') continue;
    keys.add(keyOf({ namespace: p.namespace ?? route.metadata.namespace, name: p.name }));
  }
  return keys;
}

/** The key of the Service a HealthCheckPolicy targets (same namespace), if it targets one. */
export function policyServiceKeys(policy: SlimHealthCheckPolicy): string[] {
  const t = policy.targetRef;
  return t.group === '' && t.kind === 'Service' && t.name ? [keyOf({ namespace: policy.metadata.namespace, name: t.name })] : [];
}

interface RouteLinks {
  readonly services: Set<string>;
  readonly gateways: Set<string>;
}

/** The last-seen links route → Services and route → Gateways, updated event by event. */
export class GatewayRouteIndex {
  private readonly routes = new Map<string, RouteLinks>();
  private readonly serviceRoutes = new Map<string, Set<string>>();

  private static routeKey(route: SlimRoute): string {
    return `${route.kind}/${keyOf(route.metadata)}`;
  }

  /** Records a route (or its deletion); returns the Services it referred to before or refers to now. */
  routeChanged(route: SlimRoute, deleted: boolean): Set<string> {
    const rk = GatewayRouteIndex.routeKey(route);
    const before = this.routes.get(rk)?.services ?? new Set<string>();
    const after = deleted ? new Set<string>() : routeServiceKeys(route);
    for (const k of before) {
      if (after.has(k)) continue;
      const set = this.serviceRoutes.get(k);
      set?.delete(rk);
      if (set?.size === 0) this.serviceRoutes.delete(k);
    }
    for (const k of after) {
      let set = this.serviceRoutes.get(k);
      if (!set) this.serviceRoutes.set(k, (set = new Set()));
      set.add(rk);
    }
    if (deleted) this.routes.delete(rk);
    else this.routes.set(rk, { services: after, gateways: routeGatewayKeys(route) });
    return new Set([...before, ...after]);
  }

  /** The Services of the routes that name this Gateway. */
  servicesOfGateway(gatewayKey: string): Set<string> {
    const keys = new Set<string>();
    for (const links of this.routes.values()) if (links.gateways.has(gatewayKey)) for (const s of links.services) keys.add(s);
    return keys;
  }

  /** The Services of the routes of every Gateway of this class. */
  servicesOfGatewayClass(className: string, gateways: readonly SlimGateway[]): Set<string> {
    const keys = new Set<string>();
    for (const g of gateways) if (g.gatewayClassName === className) for (const s of this.servicesOfGateway(keyOf(g.metadata))) keys.add(s);
    return keys;
  }

  /** The routed Services in the grant's namespace (a grant lets routes of other namespaces reach them). */
  servicesOfReferenceGrant(grant: SlimReferenceGrant): string[] {
    return this.backedServiceKeys().filter((k) => refOfKey(k).namespace === grant.metadata.namespace);
  }

  /** `Kind/namespace/name` of the routes with a backendRef to this Service. */
  routesOf(serviceKey: string): string[] {
    return [...(this.serviceRoutes.get(serviceKey) ?? [])];
  }

  /** Whether a route refers to this Service. */
  isBacked(serviceKey: string): boolean {
    return this.serviceRoutes.has(serviceKey);
  }

  /** Every Service key a route refers to. */
  backedServiceKeys(): string[] {
    return [...this.serviceRoutes.keys()];
  }
}
