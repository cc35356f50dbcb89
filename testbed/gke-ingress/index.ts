// Entry point of the ingress-gce stand-in: naming.ts (GCE names), probe-to-check.ts (the check
// built at creation), merge.ts (what happens to an existing check), sync.ts (the loop).
export {
  GkeIngressStandIn,
  BACKENDS_ANNOTATION,
  URL_MAP_ANNOTATION,
  NEG_STATUS_ANNOTATION,
  INGRESS_UID_CONFIGMAP,
  gcePaths,
  type GkeIngressStandInOptions,
  type EndpointClientOptions,
  type HealthCheckUpdate,
  type IngressClass,
  type SyncReport,
} from './sync.js';
export { igBackendName, negName, rxlbBackendName, urlMapName, negHash8 } from './naming.js';
export { clientOptionsForEndpoint, type ComputeClientOptions } from './compute-clients.js';
