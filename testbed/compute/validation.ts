// Server-side rules GCE applies to the resources we serve: defaults it fills in on write, and the
// 400 `invalid` errors it returns. Messages follow GCE's "Invalid value for field ..." form.
import { invalid, badRequest } from './errors.js';
import { isObject } from './merge-patch.js';
import type { JsonObject } from './store.js';

const NAME_RE = /^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
// The GKE HealthCheckPolicy CRD mirrors GCE's accepted request path characters (RFC 3986 path).
const REQUEST_PATH_RE = /^\/[A-Za-z0-9/\-._~%!?$&'()*+,;=:@]*$/;
const HOST_RE = /^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?$/;

/** Health check type → the one protocol block that must accompany it. */
const PROTOCOL_BLOCKS: Record<string, string> = {
  TCP: 'tcpHealthCheck',
  SSL: 'sslHealthCheck',
  HTTP: 'httpHealthCheck',
  HTTPS: 'httpsHealthCheck',
  HTTP2: 'http2HealthCheck',
  GRPC: 'grpcHealthCheck',
  GRPC_WITH_TLS: 'grpcTlsHealthCheck',
};
const HTTP_LIKE = new Set(['httpHealthCheck', 'httpsHealthCheck', 'http2HealthCheck']);
const PORT_SPECS = new Set(['USE_FIXED_PORT', 'USE_NAMED_PORT', 'USE_SERVING_PORT']);

/** Output-only fields a client may echo back; GCE ignores them on write. */
const OUTPUT_ONLY = ['id', 'creationTimestamp', 'selfLink', 'kind', 'region', 'zone'];

export function stripOutputOnly(resource: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(resource).filter(([k]) => !OUTPUT_ONLY.includes(k)));
}

export function validateName(name: unknown): string {
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    throw invalid('resource.name', name, "Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'");
  }
  return name;
}

function intField(hc: JsonObject, field: string, path: string, min: number, max: number, dflt: number): number {
  const raw = hc[field] ?? dflt;
  const value = typeof raw === 'string' ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(`resource.${path}`, raw, `Must be between ${min} and ${max}.`);
  }
  return value;
}

/** Validates a complete health check and returns it with GCE's defaults applied. */
export function normaliseHealthCheck(input: JsonObject): JsonObject {
  const hc: JsonObject = { ...input };
  const type = hc['type'];
  if (typeof type !== 'string' || !(type in PROTOCOL_BLOCKS)) {
    throw invalid('resource.type', type, 'Must be one of TCP, SSL, HTTP, HTTPS, HTTP2, GRPC, GRPC_WITH_TLS.');
  }
  const present = Object.values(PROTOCOL_BLOCKS).filter((b) => hc[b] !== undefined);
  const wanted = PROTOCOL_BLOCKS[type] as string;
  if (present.length !== 1 || present[0] !== wanted) {
    throw invalid(
      'resource.type',
      type,
      `Exactly one protocol-specific health check must be set and it must match the type; expected '${wanted}', found [${present.join(', ')}].`,
    );
  }
  hc['checkIntervalSec'] = intField(hc, 'checkIntervalSec', 'checkIntervalSec', 1, 300, 5);
  hc['timeoutSec'] = intField(hc, 'timeoutSec', 'timeoutSec', 1, 300, 5);
  hc['healthyThreshold'] = intField(hc, 'healthyThreshold', 'healthyThreshold', 1, 10, 2);
  hc['unhealthyThreshold'] = intField(hc, 'unhealthyThreshold', 'unhealthyThreshold', 1, 10, 2);
  if (hc['timeoutSec'] > hc['checkIntervalSec']) {
    // Verbatim GCE message (docs/gke-ingress-healthchecks.md §1.8); equality is accepted.
    throw invalid('resource.timeoutSec', hc['timeoutSec'], 'TimeoutSec should be less than checkIntervalSec.');
  }
  const block = hc[wanted];
  if (!isObject(block)) throw invalid(`resource.${wanted}`, JSON.stringify(block), 'Must be an object.');
  hc[wanted] = HTTP_LIKE.has(wanted) ? normaliseHttpBlock(block, wanted) : normalisePortBlock(block, wanted);
  return hc;
}

function normalisePortBlock(input: JsonObject, name: string): JsonObject {
  const block: JsonObject = { ...input };
  const spec = block['portSpecification'];
  if (spec !== undefined && (typeof spec !== 'string' || !PORT_SPECS.has(spec))) {
    throw invalid(`resource.${name}.portSpecification`, spec, 'Must be one of USE_FIXED_PORT, USE_NAMED_PORT, USE_SERVING_PORT.');
  }
  // GCE omits the port for serving-port checks and defaults it to 80 otherwise.
  if (spec !== 'USE_SERVING_PORT' || block['port'] !== undefined) {
    block['port'] = intField(block, 'port', `${name}.port`, 1, 65535, 80);
  }
  return block;
}

function normaliseHttpBlock(input: JsonObject, name: string): JsonObject {
  const block = normalisePortBlock(input, name);
  const path = block['requestPath'] ?? '/';
  if (typeof path !== 'string' || path.length > 2048 || !REQUEST_PATH_RE.test(path)) {
    throw invalid(`resource.${name}.requestPath`, path, "Must be a valid RFC 3986 path that starts with '/'.");
  }
  block['requestPath'] = path;
  const host = block['host'];
  if (host !== undefined && host !== '' && (typeof host !== 'string' || host.length > 2048 || !HOST_RE.test(host))) {
    throw invalid(`resource.${name}.host`, host, 'Must be a valid RFC 1123 hostname.');
  }
  const proxy = block['proxyHeader'] ?? 'NONE';
  if (proxy !== 'NONE' && proxy !== 'PROXY_V1') {
    throw invalid(`resource.${name}.proxyHeader`, proxy, 'Must be one of NONE, PROXY_V1.');
  }
  block['proxyHeader'] = proxy;
  return block;
}

export function normaliseBackendService(input: JsonObject): JsonObject {
  const bs: JsonObject = {
    protocol: 'HTTP',
    port: 80,
    portName: 'http',
    timeoutSec: 30,
    loadBalancingScheme: 'EXTERNAL',
    connectionDraining: { drainingTimeoutSec: 0 },
    ...input,
  };
  const hcs = bs['healthChecks'];
  if (hcs !== undefined && (!Array.isArray(hcs) || hcs.length > 1)) {
    throw invalid('resource.healthChecks', JSON.stringify(hcs), 'At most one health check can be specified.');
  }
  const backends = bs['backends'] ?? [];
  if (!Array.isArray(backends) || backends.some((b) => !isObject(b) || typeof b['group'] !== 'string')) {
    throw invalid('resource.backends', JSON.stringify(backends), 'Every backend needs a group.');
  }
  return bs;
}

export function normaliseUrlMap(input: JsonObject): JsonObject {
  const um: JsonObject = { ...input };
  if (um['defaultService'] === undefined) throw badRequest('required', "Required field 'resource.defaultService' not specified");
  return um;
}

export function normaliseNeg(input: JsonObject): JsonObject {
  return { networkEndpointType: 'GCE_VM_IP_PORT', size: 0, ...input };
}
