// Plain-data view of a Google Cloud health check and the backend service that links it.

export type Scope = { readonly kind: 'global' } | { readonly kind: 'region'; readonly region: string };

/** The one global scope object: every global check and backend service holds this one (~10,000 at 5,000 Services). */
export const GLOBAL_SCOPE: Scope = Object.freeze({ kind: 'global' });

/** Where an Ingress's backends live: regional classes (gce-internal, gce-regional-external) or global. */
export type IngressScope = 'global' | 'regional';

/** Instance-group backends get GKE's +60 s interval rule; NEG backends do not. */
export type BackendKind = 'neg' | 'ig' | 'unknown';

export type ProtocolBlockName = 'httpHealthCheck' | 'httpsHealthCheck' | 'http2HealthCheck';

/** The fields hcsync may change (contract: "Fields hcsync may patch"). */
export interface OwnedFields {
  readonly requestPath?: string;
  readonly host?: string;
  readonly checkIntervalSec?: number;
  readonly timeoutSec?: number;
}

export type OwnedField = keyof OwnedFields;
export const OWNED_FIELDS: readonly OwnedField[] = ['requestPath', 'host', 'checkIntervalSec', 'timeoutSec'];

export interface LiveHealthCheck {
  readonly name: string;
  readonly scope: Scope;
  /** Changes when GKE recreates the check (a rejected patch is re-tried on a new one). */
  readonly id: string;
  /** HTTP, HTTPS, HTTP2, TCP, GRPC… — hcsync only manages the three HTTP kinds. */
  readonly type: string;
  readonly checkIntervalSec: number;
  readonly timeoutSec: number;
  /** The protocol block for `type`, when it is one of the HTTP kinds. */
  readonly block?: {
    readonly requestPath: string;
    readonly host: string;
    /**
     * Which port the check probes (docs §2, §5.3): NEG checks `USE_SERVING_PORT` (the endpoint's
     * port), IG checks the nodePort in `port` (no specification, or `USE_FIXED_PORT`). A fixed port
     * elsewhere (transparent health checks' 7877, a BackendConfig `port`, a hand edit) means the
     * check is not probing the app's serving port: hcsync leaves it alone (plan/port-plan.ts).
     */
    readonly portSpecification?: string;
    readonly port?: number;
  };
}

export interface BackendServiceRef {
  readonly name: string;
  readonly scope: Scope;
  /** Name of the health check in `healthChecks[0]`, with its scope. */
  readonly healthCheck?: { readonly name: string; readonly scope: Scope };
  /** `kubernetes.io/service-name` and `kubernetes.io/service-port` from the JSON description. */
  readonly service?: { readonly namespace: string; readonly name: string; readonly port: string };
  readonly backendKind: BackendKind;
}

/** The protocol block that holds requestPath and host for a check of this type; undefined for non-HTTP kinds. */
export function protocolBlockFor(type: string): ProtocolBlockName | undefined {
  switch (type) {
    case 'HTTP':
      return 'httpHealthCheck';
    case 'HTTPS':
      return 'httpsHealthCheck';
    case 'HTTP2':
      return 'http2HealthCheck';
    default:
      return undefined;
  }
}

/** `global` or `regions/<r>`: the key of an aggregatedList and of the inventory's maps. */
export function scopeKey(scope: Scope): string {
  return scope.kind === 'global' ? 'global' : `regions/${scope.region}`;
}
