// The stand-in's state as plain data: resources are the JSON objects the API returns, keyed by
// scope and collection. Functions here only read and write that data; no HTTP, no timers.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = Record<string, Json>;

/** A scalar field as text, as String() prints it; an object or array (not a scalar) as its JSON. */
export function jsonText(v: Json | undefined): string {
  return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
}

/** 'global', 'regions/us-central1' or 'zones/us-central1-a', exactly as in URLs and aggregatedList keys. */
export type Scope = string;

export interface NetworkEndpoint {
  ipAddress: string;
  port: number;
  instance?: string;
}

/** What the prober has observed for one endpoint behind one backend service. */
export interface EndpointHealth {
  state: 'UNKNOWN' | 'HEALTHY' | 'UNHEALTHY';
  consecutiveSuccesses: number;
  consecutiveFailures: number;
  lastDetail: string;
}

export interface Store {
  project: string;
  nextId: bigint;
  /** `${scope}/${collection}` → name → resource JSON. */
  resources: Map<string, Map<string, JsonObject>>;
  /** NEG selfLink → attached endpoints. Kept apart because the API never returns them inline. */
  negEndpoints: Map<string, NetworkEndpoint[]>;
  /** `healthKey(backendServiceLink, endpoint)` → prober observations. */
  health: Map<string, EndpointHealth>;
  /** `${scope}/operations/${name}` → Operation JSON. */
  operations: Map<string, JsonObject>;
  /** Write `requestId` → `${scope}/operations/${name}` of the operation it started. */
  requestIds: Map<string, string>;
  /** Regions that aggregatedList always reports, even when empty (GCE reports every region). */
  knownRegions: string[];
}

export const SELF_LINK_BASE = 'https://www.googleapis.com/compute/v1/projects/';

export function createStore(project: string): Store {
  return {
    project,
    // GCE ids are large uint64s; starting high makes code that assumes small numbers fail here.
    nextId: 1_000_000_000_000_000_000n + BigInt(Math.floor(Math.random() * 1e15)),
    resources: new Map(),
    negEndpoints: new Map(),
    health: new Map(),
    operations: new Map(),
    requestIds: new Map(),
    knownRegions: ['us-central1', 'europe-west1'],
  };
}

export function allocateId(store: Store): string {
  store.nextId += 1n + BigInt(Math.floor(Math.random() * 1000));
  return store.nextId.toString();
}

export function scopeLink(store: Store, scope: Scope): string {
  return `${SELF_LINK_BASE}${store.project}/${scope}`;
}

export function selfLink(store: Store, scope: Scope, collection: string, name: string): string {
  return `${scopeLink(store, scope)}/${collection}/${name}`;
}

/** 'projects/p/global/healthChecks/x': the form Compute uses inside error messages. */
export function resourcePath(store: Store, scope: Scope, collection: string, name: string): string {
  return `projects/${store.project}/${scope}/${collection}/${name}`;
}

export function getResource(store: Store, scope: Scope, collection: string, name: string): JsonObject | undefined {
  return store.resources.get(`${scope}/${collection}`)?.get(name);
}

export function putResource(store: Store, scope: Scope, collection: string, resource: JsonObject): void {
  const key = `${scope}/${collection}`;
  let byName = store.resources.get(key);
  if (!byName) {
    byName = new Map();
    store.resources.set(key, byName);
  }
  byName.set(jsonText(resource['name']), resource);
}

export function deleteResource(store: Store, scope: Scope, collection: string, name: string): boolean {
  return store.resources.get(`${scope}/${collection}`)?.delete(name) ?? false;
}

/** Resources of one collection in one scope, sorted by name like GCE's default list order. */
export function listResources(store: Store, scope: Scope, collection: string): JsonObject[] {
  const byName = store.resources.get(`${scope}/${collection}`);
  if (!byName) return [];
  return [...byName.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
}

/** Every scope that holds (or could hold) a collection, in aggregatedList order. */
export function scopesFor(store: Store, collection: string): Scope[] {
  const scopes = new Set<Scope>();
  // Zonal collections (NEGs) have no global or regional scopes to report.
  if (collection !== 'networkEndpointGroups') {
    scopes.add('global');
    for (const r of store.knownRegions) scopes.add(`regions/${r}`);
  }
  for (const key of store.resources.keys()) {
    if (key.endsWith(`/${collection}`)) scopes.add(key.slice(0, -collection.length - 1));
  }
  return [...scopes].sort((a, b) => (a === 'global' ? -1 : b === 'global' ? 1 : a < b ? -1 : a > b ? 1 : 0));
}

/** Finds the resource a full or partial Compute URL points at, ignoring the API version. */
export function resolveLink(
  store: Store,
  link: string,
): { scope: Scope; collection: string; name: string; resource: JsonObject } | undefined {
  const m = /projects\/([^/]+)\/((?:global)|(?:regions|zones)\/[^/]+)\/([^/]+)\/([^/?]+)$/.exec(link);
  if (m?.[1] !== store.project) return undefined;
  const [, , scope, collection, name] = m as unknown as [string, string, string, string, string];
  const resource = getResource(store, scope, collection, name);
  return resource ? { scope, collection, name, resource } : undefined;
}

/** Links of other resources that reference `link`, for GCE's "already being used by" check. */
export function referencesTo(store: Store, link: string): string[] {
  const target = normaliseLink(link);
  const users: string[] = [];
  for (const byName of store.resources.values()) {
    for (const r of byName.values()) {
      if (normaliseLink(jsonText(r['selfLink'])) === target) continue;
      if (mentions(r, target)) users.push(jsonText(r['selfLink']));
    }
  }
  return users;
}

/** Strips host and API version so v1, beta and partial URLs compare equal. */
export function normaliseLink(link: string): string {
  const i = link.indexOf('projects/');
  return i < 0 ? link : link.slice(i);
}

function mentions(value: Json, target: string): boolean {
  if (typeof value === 'string') return value.includes('projects/') && normaliseLink(value) === target;
  if (Array.isArray(value)) return value.some((v) => mentions(v, target));
  if (value && typeof value === 'object') return Object.entries(value).some(([k, v]) => k !== 'selfLink' && mentions(v, target));
  return false;
}
