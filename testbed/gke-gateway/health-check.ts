// The health check GKE's Gateway controller gives a Service port's backend service: GKE's defaults
// (HTTP, `/`, the serving port, interval 5 s, timeout 5 s, thresholds 2 — it never reads
// readinessProbes), overlaid with the `spec.default` of the Service's HealthCheckPolicy
// (networking.gke.io/v1; docs/gke-gateway-healthchecks.md §1–§2).
import type { protos } from '@google-cloud/compute';

type IHealthCheck = protos.google.cloud.compute.v1.IHealthCheck;

/** HealthCheckPolicy `spec.default`, as far as this stand-in applies it. */
export interface PolicyDefault {
  checkIntervalSec?: number;
  timeoutSec?: number;
  healthyThreshold?: number;
  unhealthyThreshold?: number;
  logConfig?: { enabled?: boolean };
  config?: { type?: string } & Record<string, unknown>;
}

const BLOCKS: Record<string, string> = {
  HTTP: 'httpHealthCheck',
  HTTPS: 'httpsHealthCheck',
  HTTP2: 'http2HealthCheck',
  GRPC: 'grpcHealthCheck',
  TCP: 'tcpHealthCheck',
};
const HTTP_LIKE = new Set(['HTTP', 'HTTPS', 'HTTP2']);
/** Every field a protocol block can carry; one the policy leaves out is unset on the check. */
const BLOCK_FIELDS = [
  'portSpecification',
  'port',
  'portName',
  'host',
  'requestPath',
  'proxyHeader',
  'response',
  'grpcServiceName',
  'request',
];

/** The block a check of this type carries (`httpHealthCheck` for HTTP, ...). */
function blockName(type: string): string {
  return BLOCKS[type] ?? 'httpHealthCheck';
}

/**
 * The check for one backend: defaults, then the policy's fields. The block gets GCE's own
 * defaults spelled out (serving port when no port is named, `/`, proxy header NONE), so that the
 * live check read back compares equal and a sync makes no write when nothing changed.
 */
export function desiredHealthCheck(name: string, description: string, policy: PolicyDefault | undefined): IHealthCheck {
  const type = policy?.config?.type ?? 'HTTP';
  const given = (policy?.config?.[blockName(type)] ?? {}) as Record<string, unknown>;
  const block: Record<string, unknown> = {};
  for (const f of BLOCK_FIELDS) if (given[f] !== undefined && given[f] !== '') block[f] = given[f];
  if (block['portSpecification'] === undefined) {
    block['portSpecification'] =
      block['port'] !== undefined ? 'USE_FIXED_PORT' : block['portName'] !== undefined ? 'USE_NAMED_PORT' : 'USE_SERVING_PORT';
  }
  if (block['portSpecification'] !== 'USE_SERVING_PORT' && block['port'] === undefined) block['port'] = 80;
  if (HTTP_LIKE.has(type)) {
    block['requestPath'] ??= '/';
    block['proxyHeader'] ??= 'NONE';
  }
  return {
    name,
    description,
    type,
    checkIntervalSec: policy?.checkIntervalSec ?? 5,
    timeoutSec: policy?.timeoutSec ?? 5,
    healthyThreshold: policy?.healthyThreshold ?? 2,
    unhealthyThreshold: policy?.unhealthyThreshold ?? 2,
    ...(policy?.logConfig?.enabled !== undefined ? { logConfig: { enable: policy.logConfig.enabled } } : {}),
    [blockName(type)]: block,
  };
}

const blank = (v: unknown): boolean => v === undefined || v === null || v === '';

/** The fields where the live check differs from the desired one, e.g. `httpHealthCheck.requestPath`. */
export function checkDiffs(live: IHealthCheck, want: IHealthCheck): string[] {
  const diffs: string[] = [];
  const l = live as Record<string, unknown>;
  const w = want as Record<string, unknown>;
  for (const f of ['type', 'checkIntervalSec', 'timeoutSec', 'healthyThreshold', 'unhealthyThreshold']) {
    if (Number.isNaN(Number(w[f])) ? l[f] !== w[f] : String(l[f]) !== String(w[f])) diffs.push(f);
  }
  if (want.logConfig && Boolean(live.logConfig?.enable) !== Boolean(want.logConfig.enable)) diffs.push('logConfig.enable');
  const name = blockName(String(want.type));
  const lb = (l[name] ?? {}) as Record<string, unknown>;
  const wb = (w[name] ?? {}) as Record<string, unknown>;
  for (const f of BLOCK_FIELDS) {
    if (blank(lb[f]) && blank(wb[f])) continue;
    if (String(lb[f]) !== String(wb[f])) diffs.push(`${name}.${f}`);
  }
  return diffs;
}
