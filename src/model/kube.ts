// Slim views of the Kubernetes objects hcsync reads. Informer caches hold only these shapes, so
// memory grows with what hcsync needs, not with whole Pod specs and managedFields.
import type { ConditionStatus } from './report.js';

export interface ObjectRef {
  readonly namespace: string;
  readonly name: string;
}

/**
 * The metadata hcsync keeps. No uid: hcsync names no Pod, Ingress or BackendConfig by uid (36
 * characters on every cached object, issue 11); the objects it does (SlimUidMeta) keep theirs.
 */
export interface SlimMeta extends ObjectRef {
  readonly resourceVersion: string;
  readonly generation?: number;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly creationTimestamp?: string;
  readonly deletionTimestamp?: string;
}

/** The metadata of an object hcsync refers to by uid: a Service (Event `regarding`, a HealthCheckPolicy's ownerReference), a HealthCheckPolicy (delete precondition). */
export interface SlimUidMeta extends SlimMeta {
  readonly uid: string;
}

export interface SlimServicePort {
  readonly name?: string;
  readonly port: number;
  /** Defaulted by the API server to `port` when absent. */
  readonly targetPort: number | string;
  readonly nodePort?: number;
  /** `spec.ports[].appProtocol`: GKE's Gateway reads the backend protocol from it (contract "Gateway API"). */
  readonly appProtocol?: string;
}

export interface SlimCondition {
  readonly type: string;
  readonly status: ConditionStatus;
  readonly reason: string;
  readonly message: string;
  readonly observedGeneration?: number;
  readonly lastTransitionTime: string;
}

export interface SlimService {
  readonly metadata: SlimUidMeta;
  readonly spec: { readonly selector?: Readonly<Record<string, string>>; readonly ports: readonly SlimServicePort[] };
  readonly status: { readonly conditions: readonly SlimCondition[] };
}

interface HttpHeader {
  readonly name: string;
  readonly value: string;
}

/** A probe reduced to what GKE and hcsync read; `handler` says which of the four kinds it is. */
export interface SlimProbe {
  readonly handler: 'httpGet' | 'tcpSocket' | 'exec' | 'grpc' | 'none';
  readonly httpGet?: {
    readonly path?: string;
    readonly port: number | string;
    readonly host?: string;
    readonly scheme?: string;
    readonly httpHeaders?: readonly HttpHeader[];
  };
  readonly timeoutSeconds?: number;
  readonly periodSeconds?: number;
}

export interface SlimContainer {
  readonly name: string;
  readonly ports: readonly { readonly name?: string; readonly containerPort: number }[];
  readonly readinessProbe?: SlimProbe;
  readonly livenessProbe?: SlimProbe;
}

export interface SlimPod {
  readonly metadata: SlimMeta;
  readonly spec: { readonly containers: readonly SlimContainer[] };
  readonly status: { readonly phase?: string };
}

export interface IngressBackendRef {
  readonly service: string;
  /** Port number, or port name, as the Ingress names it. */
  readonly port: number | string;
}

export interface SlimIngress {
  readonly metadata: SlimMeta;
  /** `spec.ingressClassName`, kept apart from the `kubernetes.io/ingress.class` annotation: GKE reads them differently (parse/ingress-class.ts). */
  readonly ingressClassName?: string;
  readonly backends: readonly IngressBackendRef[];
}

/** The `spec.healthCheck` fields of a BackendConfig that overlap what hcsync may patch (the rest is ingress-gce's alone). */
export interface BackendConfigHealthCheck {
  readonly checkIntervalSec?: number;
  readonly timeoutSec?: number;
  readonly requestPath?: string;
  /**
   * A fixed port for the check (ingress-gce sets `portSpecification: USE_FIXED_PORT`, docs §3.2):
   * the probe's or annotation's path belongs to the serving port, so hcsync leaves the check to
   * the BackendConfig then.
   */
  readonly port?: number;
}

export interface SlimBackendConfig {
  readonly metadata: SlimMeta;
  readonly healthCheck?: BackendConfigHealthCheck;
}

/**
 * The work-queue and cache key of an object: `namespace/name`. Joined, not a template literal: V8
 * makes a concatenation of 13 characters or more a ConsString, and one used as a Map key is
 * flattened in place — the flat copy plus the 32 B cons around it for as long as the index keeps
 * the key (issue 11); Array.prototype.join builds the flat string directly.
 */
export function keyOf(ref: ObjectRef): string {
  return [ref.namespace, ref.name].join('/');
}

/** The inverse of keyOf — the one place a key is split. */
export function refOfKey(key: string): ObjectRef {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** How users see a Service port everywhere (condition, Events, metrics, plan, diagnose, intent errors): `http/80`, or `80` when unnamed. */
export function portLabel(port: { readonly name?: string; readonly port: number }): string {
  return port.name ? `${port.name}/${port.port}` : String(port.port);
}
