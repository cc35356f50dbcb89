// Read-only views over the store that the prober, the load balancer and getHealth share: which
// endpoints sit behind a backend service, and which health check probes them.
import { isObject } from './merge-patch.js';
import { jsonText, normaliseLink, resolveLink, type JsonObject, type NetworkEndpoint, type Store } from './store.js';

export interface BackendTarget {
  backendServiceLink: string;
  healthCheck: JsonObject | undefined;
  endpoints: NetworkEndpoint[];
}

export function healthKey(backendServiceLink: string, ep: NetworkEndpoint): string {
  return `${normaliseLink(backendServiceLink)}|${ep.ipAddress}:${ep.port}`;
}

/** Endpoints of one backend group (a NEG link). Instance groups are not modelled. */
export function groupEndpoints(store: Store, groupLink: string): NetworkEndpoint[] {
  const neg = resolveLink(store, groupLink);
  if (neg?.collection !== 'networkEndpointGroups') return [];
  return store.negEndpoints.get(normaliseLink(jsonText(neg.resource['selfLink']))) ?? [];
}

export function backendTarget(store: Store, bs: JsonObject): BackendTarget {
  const hcLink = Array.isArray(bs['healthChecks']) ? bs['healthChecks'][0] : undefined;
  const hc = typeof hcLink === 'string' ? resolveLink(store, hcLink)?.resource : undefined;
  const endpoints: NetworkEndpoint[] = [];
  for (const b of Array.isArray(bs['backends']) ? bs['backends'] : []) {
    if (isObject(b) && typeof b['group'] === 'string') endpoints.push(...groupEndpoints(store, b['group']));
  }
  return { backendServiceLink: jsonText(bs['selfLink']), healthCheck: hc, endpoints };
}

/** Every backend service, global and regional. */
export function allBackendTargets(store: Store): BackendTarget[] {
  const targets: BackendTarget[] = [];
  for (const [key, byName] of store.resources) {
    if (!key.endsWith('/backendServices')) continue;
    for (const bs of byName.values()) targets.push(backendTarget(store, bs));
  }
  return targets;
}

/** The protocol block of a health check (httpHealthCheck, ...), whichever is set. */
export function protocolBlock(hc: JsonObject): JsonObject | undefined {
  for (const [key, value] of Object.entries(hc)) {
    if (key.endsWith('HealthCheck') && isObject(value)) return value;
  }
  return undefined;
}
