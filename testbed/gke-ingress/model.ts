// ingress-gce's internal health check shape (pkg/translator/healthchecks.go: HealthCheck): the
// HTTP/HTTPS/HTTP2 block is kept flat next to the top-level fields, because the three blocks are
// identical and ingress-gce merges/diffs them as one. Go zero values ('' / 0) stand for "unset".
import type { protos } from '@google-cloud/compute';

export type ComputeHealthCheck = protos.google.cloud.compute.v1.IHealthCheck;

/**
 * ig: instance groups (class gce without NEG); neg: container-native (class gce);
 * ilb: class gce-internal; rxlb: class gce-regional-external. ilb and rxlb are regional.
 */
export type BackendKind = 'ig' | 'neg' | 'ilb' | 'rxlb';

export type AppProtocol = 'HTTP' | 'HTTPS' | 'HTTP2';

export interface HttpSettings {
  port: number;
  portName: string;
  portSpecification: string;
  host: string;
  requestPath: string;
  proxyHeader: string;
  response: string;
}

export interface HealthCheckModel {
  name: string;
  type: string;
  description: string;
  checkIntervalSec: number;
  timeoutSec: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  logConfig?: { enable: boolean };
  http: HttpSettings;
  /** ingress-gce's ForNEG: selects the NEG port model (USE_SERVING_PORT) over the IG one (nodePort). */
  forNEG: boolean;
}

export function isRegional(kind: BackendKind): boolean {
  return kind === 'ilb' || kind === 'rxlb';
}

export function emptyHttpSettings(): HttpSettings {
  return { port: 0, portName: '', portSpecification: '', host: '', requestPath: '', proxyHeader: '', response: '' };
}

type BlockKey = 'httpHealthCheck' | 'httpsHealthCheck' | 'http2HealthCheck';

function blockKey(type: string): BlockKey | undefined {
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

/**
 * translator.NewHealthCheck: reads a live check into the flat model. Like ingress-gce it fails when
 * the block for `type` is missing (its "application protocol change" error), and it does not
 * support TCP/SSL/GRPC checks.
 */
export function fromCompute(hc: ComputeHealthCheck, forNEG: boolean): HealthCheckModel {
  const type = hc.type ?? '';
  const key = blockKey(type);
  if (key === undefined) throw new Error(`health check ${hc.name ?? '?'}: unsupported type ${JSON.stringify(type)}`);
  const b = hc[key];
  if (b === undefined || b === null) {
    throw new Error(`the ${type} health check configuration on the existing health check ${hc.name ?? '?'} is nil`);
  }
  return {
    name: hc.name ?? '',
    type,
    description: hc.description ?? '',
    checkIntervalSec: hc.checkIntervalSec ?? 0,
    timeoutSec: hc.timeoutSec ?? 0,
    healthyThreshold: hc.healthyThreshold ?? 0,
    unhealthyThreshold: hc.unhealthyThreshold ?? 0,
    ...(hc.logConfig ? { logConfig: { enable: hc.logConfig.enable ?? false } } : {}),
    http: {
      port: b.port ?? 0,
      portName: b.portName ?? '',
      portSpecification: b.portSpecification ?? '',
      host: b.host ?? '',
      requestPath: b.requestPath ?? '',
      proxyHeader: b.proxyHeader ?? '',
      response: b.response ?? '',
    },
    forNEG,
  };
}

/**
 * translator.HealthCheck.merge + ToComputeHealthCheck: the object ingress-gce sends on insert and
 * on update (a full PUT). Zero values are omitted as Go's `omitempty` does; `port` is dropped
 * unless the port specification allows one (GCE rejects both together).
 */
export function toCompute(m: HealthCheckModel): ComputeHealthCheck {
  const key = blockKey(m.type);
  if (key === undefined) throw new Error(`Protocol ${JSON.stringify(m.type)} is not valid, must be one of ["HTTP","HTTPS","HTTP2"]`);
  const h = m.http;
  const port = h.portSpecification !== '' && h.portSpecification !== 'USE_FIXED_PORT' ? 0 : h.port;
  const block: protos.google.cloud.compute.v1.IHTTPHealthCheck = {
    ...(port !== 0 ? { port } : {}),
    ...(h.portName !== '' ? { portName: h.portName } : {}),
    ...(h.portSpecification !== '' ? { portSpecification: h.portSpecification } : {}),
    ...(h.host !== '' ? { host: h.host } : {}),
    ...(h.requestPath !== '' ? { requestPath: h.requestPath } : {}),
    ...(h.proxyHeader !== '' ? { proxyHeader: h.proxyHeader } : {}),
    ...(h.response !== '' ? { response: h.response } : {}),
  };
  return {
    name: m.name,
    type: m.type,
    ...(m.description !== '' ? { description: m.description } : {}),
    ...(m.checkIntervalSec !== 0 ? { checkIntervalSec: m.checkIntervalSec } : {}),
    ...(m.timeoutSec !== 0 ? { timeoutSec: m.timeoutSec } : {}),
    ...(m.healthyThreshold !== 0 ? { healthyThreshold: m.healthyThreshold } : {}),
    ...(m.unhealthyThreshold !== 0 ? { unhealthyThreshold: m.unhealthyThreshold } : {}),
    ...(m.logConfig ? { logConfig: { enable: m.logConfig.enable } } : {}),
    [key]: block,
  };
}

export function cloneModel(m: HealthCheckModel): HealthCheckModel {
  return { ...m, http: { ...m.http }, ...(m.logConfig ? { logConfig: { ...m.logConfig } } : {}) };
}
