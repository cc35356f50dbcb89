// The collections the stand-in serves and what differs between them: kinds, scopes, write rules.
import type { JsonObject } from './store.js';
import { normaliseBackendService, normaliseHealthCheck, normaliseNeg, normaliseUrlMap } from './validation.js';

export interface CollectionSpec {
  kind: string;
  listKind: string;
  aggregatedKind: string;
  /** Which scope kinds the collection lives in. */
  scopes: readonly ('global' | 'regions' | 'zones')[];
  normalise: (r: JsonObject) => JsonObject;
  /** Backend services and URL maps carry a fingerprint for optimistic concurrency; HCs do not. */
  fingerprint: boolean;
  /** Singular noun for "already being used by" messages. */
  noun: string;
}

export const COLLECTIONS: Record<string, CollectionSpec> = {
  healthChecks: {
    kind: 'compute#healthCheck',
    listKind: 'compute#healthCheckList',
    aggregatedKind: 'compute#healthChecksAggregatedList',
    scopes: ['global', 'regions'],
    normalise: normaliseHealthCheck,
    fingerprint: false,
    noun: 'health_check',
  },
  backendServices: {
    kind: 'compute#backendService',
    listKind: 'compute#backendServiceList',
    aggregatedKind: 'compute#backendServiceAggregatedList',
    scopes: ['global', 'regions'],
    normalise: normaliseBackendService,
    fingerprint: true,
    noun: 'backend_service',
  },
  urlMaps: {
    kind: 'compute#urlMap',
    listKind: 'compute#urlMapList',
    aggregatedKind: 'compute#urlMapsAggregatedList',
    scopes: ['global', 'regions'],
    normalise: normaliseUrlMap,
    fingerprint: true,
    noun: 'url_map',
  },
  networkEndpointGroups: {
    kind: 'compute#networkEndpointGroup',
    listKind: 'compute#networkEndpointGroupList',
    aggregatedKind: 'compute#networkEndpointGroupAggregatedList',
    scopes: ['zones'],
    normalise: normaliseNeg,
    fingerprint: false,
    noun: 'network_endpoint_group',
  },
};
