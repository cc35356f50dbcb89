// The interfaces between the pure core and the outside world (hexagonal "ports"; not Service
// ports): what assessment reads, and what reconcile writes. kube/ and gcp/ implement them,
// controller/ wires them, tests fake them. Plain types only, so every layer may import this.
import type { BackendServiceRef, IngressScope, LiveHealthCheck, OwnedFields, Scope } from './health-check.js';
import type { SlimBackendConfig, SlimCondition, SlimIngress, SlimPod, SlimService } from './kube.js';
import type { PlannedEvent } from './report.js';
import type { DesiredPolicy, SlimGateway, SlimGatewayClass, SlimHealthCheckPolicy, SlimReferenceGrant, SlimRoute } from './gateway.js';

/** A read-only view of the cluster: informer caches in the controller, plain arrays in `plan`, `diagnose` and tests. */
export interface ClusterView {
  service(namespace: string, name: string): SlimService | undefined;
  /** Pods the Service's selector matches (any phase; intent decides which count). */
  podsFor(service: SlimService): SlimPod[];
  /** GKE's Ingresses with a backend on this Service (other classes have no Google Cloud check: parse/ingress-class.ts). */
  ingressesFor(namespace: string, serviceName: string): SlimIngress[];
  backendConfig(namespace: string, name: string): SlimBackendConfig | undefined;
  /**
   * When this replica saw the BackendConfig change (ms since the epoch; informer caches record
   * it, one-shot views do not): ingress-gce applies a change on its next sync, so until then the
   * live check may differ.
   */
  backendConfigChangedAt?(namespace: string, name: string): number | undefined;

  // Gateway API and HealthCheckPolicy (docs/gke-gateway-healthchecks.md): optional, so views
  // without them (and clusters without the CRDs) read as "no Gateway".
  /** HTTPRoutes and GRPCRoutes (of any namespace) with a backendRef naming this Service. */
  routesTo?(namespace: string, serviceName: string): SlimRoute[];
  gateway?(namespace: string, name: string): SlimGateway | undefined;
  /** Undefined when not readable (namespaced mode has no GatewayClass informer) or not there. */
  gatewayClass?(name: string): SlimGatewayClass | undefined;
  referenceGrants?(namespace: string): SlimReferenceGrant[];
  healthCheckPolicies?(namespace: string): SlimHealthCheckPolicy[];
}

/** What assessment reads of GCP: an in-memory inventory, read synchronously (never a request). */
export interface BackendReader {
  /** The backend service of that name, preferring the expected scope; undefined when not (yet) seen. */
  backendService(name: string, scope: IngressScope): BackendServiceRef | undefined;
  healthCheck(name: string, scope: Scope): LiveHealthCheck | undefined;
  /** Every `gkegw1-…` backend service GKE's Gateway controller made (docs/gke-gateway-healthchecks.md §4). */
  gatewayBackendServices?(): readonly BackendServiceRef[];
}

/** What assessment found missing from the inventory: backend services an Ingress names, checks a backend links. */
export interface WantedFromGcp {
  readonly backendServices: readonly string[];
  readonly healthChecks: readonly { readonly name: string; readonly scope: Scope }[];
  /** Gateway backends (`namespace/service/port`) no `gkegw1-…` backend service was found for. */
  readonly gatewayBackends?: readonly string[];
}

/** What reconcile needs of the inventory besides reading it: a re-list on demand, and keeping it current after a write. */
export interface BackendLookup extends BackendReader {
  /** Re-lists GCP for what is missing, unless that is known not to help or was done recently; true when it did. */
  refreshIfDue(wanted: WantedFromGcp): Promise<boolean>;
  recordPatch(name: string, scope: Scope, fields: OwnedFields): void;
  forgetHealthCheck(name: string, scope: Scope): void;
  /** Re-reads one check (a single GET) into the inventory; undefined when it is gone. */
  reread(name: string, scope: Scope): Promise<LiveHealthCheck | undefined>;
  /**
   * Re-verifies in bulk (a lookup without them gets a GET per re-read): whether a list that started
   * at or after `since` (ms, the controller's clock) has completed, and a promise of one — one
   * coalesced, rate-bounded list shared by every caller.
   */
  listedSince?(since: number): boolean;
  relistSince?(since: number): Promise<void>;
}

/** The check a patch goes to (its type picks the protocol block). */
export interface PatchTarget {
  readonly name: string;
  readonly scope: Scope;
  readonly type: string;
}

export interface HealthCheckPatcher {
  /** Merge-patches `fields` into the check and resolves once GCP has applied them. */
  patchHealthCheck(target: PatchTarget, fields: OwnedFields, requestId: string): Promise<void>;
}

export interface StatusWriter {
  writeCondition(service: SlimService, condition: SlimCondition): Promise<void>;
}

export interface EventRecorder {
  emit(service: SlimService, event: PlannedEvent): Promise<void>;
}

/** Writes hcsync's own HealthCheckPolicy (server-side apply, never forced) and deletes it (only hcsync's, by uid). */
export interface PolicyWriter {
  apply(policy: DesiredPolicy): Promise<void>;
  delete(namespace: string, name: string, uid: string): Promise<void>;
}
