// BackendConfig lookup as ingress-gce does it (pkg/annotations/service.go,
// pkg/backendconfig/utils.go): which BackendConfig, if any, applies to one Service port, and its
// spec.healthCheck read from the untyped CRD object.
import type { V1Service, V1ServicePort } from '@kubernetes/client-node';

const BACKEND_CONFIG_KEY = 'cloud.google.com/backend-config';
const BETA_BACKEND_CONFIG_KEY = 'beta.cloud.google.com/backend-config';

/** backendconfigv1.HealthCheckConfig: every field optional; set ones override and are enforced. */
export interface BackendConfigHealthCheck {
  checkIntervalSec?: number;
  timeoutSec?: number;
  healthyThreshold?: number;
  unhealthyThreshold?: number;
  type?: string;
  requestPath?: string;
  port?: number;
}

export interface BackendConfigsAnnotation {
  default?: string;
  ports?: Record<string, string>;
}

class BackendConfigError extends Error {}

/**
 * The parsed annotation, undefined when the Service has none. The GA key wins over the beta key.
 * Errors mirror ErrBackendConfigInvalidJSON / ErrBackendConfigNoneFound: a sync error for the port.
 */
export function backendConfigsOf(service: V1Service): BackendConfigsAnnotation | undefined {
  const ann = service.metadata?.annotations ?? {};
  const raw = ann[BACKEND_CONFIG_KEY] ?? ann[BETA_BACKEND_CONFIG_KEY];
  if (raw === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new BackendConfigError('BackendConfig annotation is invalid json');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new BackendConfigError('BackendConfig annotation is invalid json');
  }
  const o = parsed as Record<string, unknown>;
  const out: BackendConfigsAnnotation = {};
  if (typeof o['default'] === 'string') out.default = o['default'];
  if (typeof o['ports'] === 'object' && o['ports'] !== null) {
    out.ports = {};
    for (const [k, v] of Object.entries(o['ports'] as Record<string, unknown>)) {
      if (typeof v === 'string') out.ports[k] = v;
    }
  }
  if (out.default === undefined && out.ports === undefined) throw new BackendConfigError("no BackendConfig's found in annotation");
  return out;
}

/** utils.go: BackendConfigName — by port name, then by port number, then default. */
export function backendConfigNameFor(configs: BackendConfigsAnnotation, port: V1ServicePort): string | undefined {
  const ports = configs.ports ?? {};
  const byName = ports[port.name ?? ''];
  if (byName !== undefined) return byName;
  const byNumber = ports[String(port.port)];
  if (byNumber !== undefined) return byNumber;
  return configs.default !== undefined && configs.default !== '' ? configs.default : undefined;
}

function int(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v);
  // int64 fields may arrive as strings from some clients; accept them like Go's decoder would not,
  // because a test double should be lenient about the encoding, not about the meaning.
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  return undefined;
}

/** spec.healthCheck of a BackendConfig object, or undefined when it has none. */
export function healthCheckOf(backendConfig: unknown): BackendConfigHealthCheck | undefined {
  if (typeof backendConfig !== 'object' || backendConfig === null) return undefined;
  const spec = (backendConfig as Record<string, unknown>)['spec'];
  if (typeof spec !== 'object' || spec === null) return undefined;
  const hc = (spec as Record<string, unknown>)['healthCheck'];
  if (typeof hc !== 'object' || hc === null) return undefined;
  const h = hc as Record<string, unknown>;
  const out: BackendConfigHealthCheck = {};
  for (const k of ['checkIntervalSec', 'timeoutSec', 'healthyThreshold', 'unhealthyThreshold', 'port'] as const) {
    const v = int(h[k]);
    if (v !== undefined) out[k] = v;
  }
  if (typeof h['type'] === 'string') out.type = h['type'];
  if (typeof h['requestPath'] === 'string') out.requestPath = h['requestPath'];
  return out;
}
