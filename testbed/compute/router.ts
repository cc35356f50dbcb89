// Maps an HTTP request onto a Compute API method: which collection, scope, resource and verb, and
// the method name used for request counting and failure injection ('healthChecks.patch',
// 'regionOperations.wait', ...). Pure parsing; no state.
import type { Scope } from './store.js';

type Action = 'list' | 'aggregatedList' | 'get' | 'insert' | 'patch' | 'update' | 'delete' | 'verb';

export interface Route {
  /** API method name as in the Compute discovery document, e.g. 'regionHealthChecks.get'. */
  api: string;
  project: string;
  /** Undefined for aggregatedList. */
  scope: Scope | undefined;
  collection: string;
  name: string | undefined;
  action: Action;
  /** Custom method such as 'getHealth', 'wait', 'attachNetworkEndpoints'. */
  verb: string | undefined;
  query: URLSearchParams;
}

const PREFIX = /^\/compute\/(?:v1|beta)\/projects\/([^/]+)\/(.*)$/;

export function parseRoute(method: string, rawUrl: string): Route | undefined {
  // Clients send a trailing '?' even with no query, so always parse rather than compare strings.
  const url = new URL(rawUrl, 'http://stand-in');
  const m = PREFIX.exec(url.pathname);
  if (!m) return undefined;
  const project = decodeURIComponent(m[1] as string);
  const parts = (m[2] as string)
    .split('/')
    .filter((p) => p !== '')
    .map(decodeURIComponent);

  let scope: Scope | undefined;
  let rest: string[];
  if (parts[0] === 'aggregated' && parts.length === 2 && method === 'GET') {
    const collection = parts[1] as string;
    return {
      api: `${apiPrefix(undefined, collection)}.aggregatedList`,
      project,
      scope: undefined,
      collection,
      name: undefined,
      action: 'aggregatedList',
      verb: undefined,
      query: url.searchParams,
    };
  }
  if (parts[0] === 'global') {
    scope = 'global';
    rest = parts.slice(1);
  } else if ((parts[0] === 'regions' || parts[0] === 'zones') && parts.length >= 3) {
    scope = `${parts[0]}/${parts[1] as string}`;
    rest = parts.slice(2);
  } else {
    return undefined;
  }
  const [collection, name, verb, ...extra] = rest;
  if (!collection || extra.length > 0) return undefined;

  let action: Action;
  if (name === undefined) {
    if (method === 'GET') action = 'list';
    else if (method === 'POST') action = 'insert';
    else return undefined;
  } else if (verb !== undefined) {
    if (method !== 'POST' && method !== 'GET') return undefined;
    action = 'verb';
  } else if (method === 'GET') action = 'get';
  else if (method === 'PATCH') action = 'patch';
  else if (method === 'PUT') action = 'update';
  else if (method === 'DELETE') action = 'delete';
  else return undefined;

  const methodName = action === 'verb' ? (verb as string) : action;
  return { api: `${apiPrefix(scope, collection)}.${methodName}`, project, scope, collection, name, action, verb, query: url.searchParams };
}

/** 'healthChecks' in regions → 'regionHealthChecks'; operations → global/region/zoneOperations. */
function apiPrefix(scope: Scope | undefined, collection: string): string {
  const kind = scope === undefined ? 'aggregated' : scope === 'global' ? 'global' : scope.startsWith('regions/') ? 'region' : 'zone';
  const cap = collection.charAt(0).toUpperCase() + collection.slice(1);
  if (collection === 'operations') return kind === 'aggregated' ? 'globalOperations' : `${kind}Operations`;
  if (kind === 'region') return `region${cap}`;
  // Global NEGs are their own API (globalNetworkEndpointGroups); zonal NEGs are the plain one.
  if (kind === 'global' && collection === 'networkEndpointGroups') return `global${cap}`;
  return collection;
}
