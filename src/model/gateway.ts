// Slim views of the Gateway API objects (gateway.networking.k8s.io) and GKE's HealthCheckPolicy
// (networking.gke.io/v1) that hcsync reads for GKE Gateway backends (docs/gke-gateway-healthchecks.md
// §2, §3; contract "Gateway API"). Plain data only: kube/slim.ts fills them, plan/ reads them.
import type { SlimMeta, SlimUidMeta } from './kube.js';

/** The Gateway API's group: the default of a parentRef's group and the `from.group` of a ReferenceGrant. */
export const GATEWAY_GROUP = 'gateway.networking.k8s.io';
/** GKE's Gateway controller, as GKE's GatewayClasses name it in `spec.controllerName` (docs §3). */
export const GKE_GATEWAY_CONTROLLER = 'networking.gke.io/gateway';
/** The label that marks a HealthCheckPolicy as hcsync's own (contract "Gateway API"). */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_HCSYNC = 'hcsync';

export type RouteKind = 'HTTPRoute' | 'GRPCRoute';

export interface SlimGatewayClass {
  /** Cluster-scoped: `namespace` is ''. */
  readonly metadata: SlimMeta;
  readonly controllerName: string;
}

export interface SlimGateway {
  readonly metadata: SlimMeta;
  readonly gatewayClassName: string;
}

/** A route's `spec.parentRefs[]` entry, or the `parentRef` of a `status.parents[]` entry; defaults are applied by readers. */
export interface RouteParentRef {
  readonly group?: string;
  readonly kind?: string;
  readonly namespace?: string;
  readonly name: string;
}

export interface RouteBackendRef {
  readonly group?: string;
  readonly kind?: string;
  readonly name: string;
  readonly namespace?: string;
  readonly port?: number;
}

export interface RouteParentStatus {
  readonly parentRef: RouteParentRef;
  readonly controllerName: string;
  readonly conditions: readonly { readonly type: string; readonly status: string; readonly reason?: string }[];
}

export interface SlimRoute {
  readonly kind: RouteKind;
  readonly metadata: SlimMeta;
  readonly parentRefs: readonly RouteParentRef[];
  /** Every `spec.rules[].backendRefs[]` entry (deduplicated). */
  readonly backendRefs: readonly RouteBackendRef[];
  /** `status.parents`: each controller's verdict per parent. */
  readonly parents: readonly RouteParentStatus[];
}

export interface SlimReferenceGrant {
  readonly metadata: SlimMeta;
  readonly from: readonly { readonly group: string; readonly kind: string; readonly namespace: string }[];
  readonly to: readonly { readonly group: string; readonly kind: string; readonly name?: string }[];
}

/** The protocol block of a HealthCheckPolicy's `default.config` reduced to what hcsync writes or compares. */
interface PolicyCheckConfig {
  /** TCP, HTTP, HTTPS, HTTP2, GRPC (GKE's default HTTP). */
  readonly type?: string;
  readonly requestPath?: string;
  readonly host?: string;
  readonly portSpecification?: string;
  readonly port?: number;
}

export interface PolicyDefault {
  readonly checkIntervalSec?: number;
  readonly timeoutSec?: number;
  readonly config?: PolicyCheckConfig;
}

interface PolicyCondition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
}

export interface SlimHealthCheckPolicy {
  /** Labels are kept (the managed-by label tells hcsync's own policy from a user's); the uid guards hcsync's delete. */
  readonly metadata: SlimUidMeta;
  readonly targetRef: { readonly group: string; readonly kind: string; readonly name: string };
  readonly default?: PolicyDefault;
  readonly conditions: readonly PolicyCondition[];
  /** `metadata.ownerReferences[].uid`. */
  readonly ownerUids: readonly string[];
}

/** The policy hcsync applies for one Service (contract "Gateway API": name, label, ownerReference, targetRef). */
export interface DesiredPolicy {
  readonly namespace: string;
  readonly name: string;
  readonly service: { readonly name: string; readonly uid: string };
  readonly default: PolicyDefault & { readonly config: PolicyCheckConfig & { readonly type: string } };
}

/** The name of hcsync's own policy for a Service: `hcsync-<service>` (contract). */
export function ownPolicyName(service: string): string {
  return `hcsync-${service}`;
}

/** Whether hcsync labelled this policy as its own. */
export function isHcsyncPolicy(p: SlimHealthCheckPolicy): boolean {
  return p.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_HCSYNC;
}
