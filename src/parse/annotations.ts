// The annotations hcsync reads, and their parsers. Names are fixed by the public contract and by
// GKE's ingress controller (docs/gke-ingress-healthchecks.md §2, §3.3, §4.4).
import type { IngressBackendRef } from '../model/kube.js';
import { fail, ok, type Parsed } from './result.js';

/** Every annotation hcsync reads; slim objects keep only these (the rest can be 100 KB). */
export const ANNOTATION = {
  healthPath: 'hcsync.io/health-path',
  healthPaths: 'hcsync.io/health-paths',
  mode: 'hcsync.io/mode',
  backendConfig: 'cloud.google.com/backend-config',
  backendConfigBeta: 'beta.cloud.google.com/backend-config',
  appProtocols: 'cloud.google.com/app-protocols',
  appProtocolsLegacy: 'service.alpha.kubernetes.io/app-protocols',
  ingressBackends: 'ingress.kubernetes.io/backends',
  ingressClass: 'kubernetes.io/ingress.class',
  /** GKE's transparent health checks (docs/gke-ingress-healthchecks.md §2 "Transparent HC"). */
  transparentHealthChecker: 'networking.gke.io/transparent-health-checker',
} as const;

export type Mode = 'enforce' | 'observe' | 'ignore';
/** The modes of a Service hcsync manages (`ignore` means it does not). */
export type ActiveMode = Exclude<Mode, 'ignore'>;
export type AppProtocol = 'HTTP' | 'HTTPS' | 'HTTP2';
type Annotations = Readonly<Record<string, string>> | undefined;

function parseJsonObject(raw: string, where: string): Parsed<Record<string, unknown>> {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (e) {
    return fail(`${where}: invalid JSON (${(e as Error).message}); expected a JSON object`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return fail(`${where}: expected a JSON object, got ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`);
  }
  return ok(value as Record<string, unknown>);
}

/** `hcsync.io/mode`; undefined when absent (the global `--mode` applies). */
export function parseMode(annotations: Annotations): Parsed<Mode | undefined> {
  const raw = annotations?.[ANNOTATION.mode];
  if (raw === undefined) return ok(undefined);
  const v = raw.trim();
  if (v === 'enforce' || v === 'observe' || v === 'ignore') return ok(v);
  return fail(`annotation ${ANNOTATION.mode}: "${raw}" is not one of enforce, observe, ignore`);
}

/** `hcsync.io/health-paths`: port name or number (as a string) → path. */
export function parseHealthPaths(annotations: Annotations): Parsed<ReadonlyMap<string, string> | undefined> {
  const raw = annotations?.[ANNOTATION.healthPaths];
  if (raw === undefined) return ok(undefined);
  const obj = parseJsonObject(raw, `annotation ${ANNOTATION.healthPaths}`);
  if (!obj.ok) return obj;
  const paths = new Map<string, string>();
  for (const [port, path] of Object.entries(obj.value)) {
    if (typeof path !== 'string') {
      return fail(`annotation ${ANNOTATION.healthPaths}: port "${port}" maps to ${JSON.stringify(path)}; expected a path string`);
    }
    paths.set(port, path);
  }
  return ok(paths);
}

export interface BackendConfigRef {
  readonly default?: string;
  readonly ports: ReadonlyMap<string, string>;
}

/** `cloud.google.com/backend-config` (wins) or the beta key, as ingress-gce reads them. */
export function parseBackendConfigRef(annotations: Annotations): Parsed<BackendConfigRef | undefined> {
  const key = annotations?.[ANNOTATION.backendConfig] !== undefined ? ANNOTATION.backendConfig : ANNOTATION.backendConfigBeta;
  const raw = annotations?.[key];
  if (raw === undefined) return ok(undefined);
  const obj = parseJsonObject(raw, `annotation ${key}`);
  if (!obj.ok) return obj;
  const { default: def, ports } = obj.value;
  if (def !== undefined && typeof def !== 'string') return fail(`annotation ${key}: "default" must be a BackendConfig name`);
  const portMap = new Map<string, string>();
  if (ports !== undefined) {
    if (ports === null || typeof ports !== 'object' || Array.isArray(ports)) {
      return fail(`annotation ${key}: "ports" must be an object of port name or number → BackendConfig name`);
    }
    for (const [port, name] of Object.entries(ports)) {
      if (typeof name !== 'string') return fail(`annotation ${key}: ports["${port}"] must be a BackendConfig name`);
      portMap.set(port, name);
    }
  }
  if (def === undefined && portMap.size === 0) return fail(`annotation ${key}: neither "default" nor "ports" is set`);
  return ok({ default: def, ports: portMap });
}

/** App protocol per Service port name; the legacy key wins when both exist (as in ingress-gce). */
export function parseAppProtocols(annotations: Annotations): Parsed<ReadonlyMap<string, AppProtocol>> {
  const key = annotations?.[ANNOTATION.appProtocolsLegacy] !== undefined ? ANNOTATION.appProtocolsLegacy : ANNOTATION.appProtocols;
  const raw = annotations?.[key];
  const result = new Map<string, AppProtocol>();
  if (raw === undefined) return ok(result);
  const obj = parseJsonObject(raw, `annotation ${key}`);
  if (!obj.ok) return obj;
  for (const [port, proto] of Object.entries(obj.value)) {
    if (proto !== 'HTTP' && proto !== 'HTTPS' && proto !== 'HTTP2') {
      return fail(`annotation ${key}: port "${port}" has protocol ${JSON.stringify(proto)}; expected HTTP, HTTPS or HTTP2`);
    }
    result.set(port, proto);
  }
  return ok(result);
}

/** `ingress.kubernetes.io/backends`: backend service name → GKE's health state. */
export function parseIngressBackends(annotations: Annotations): Parsed<ReadonlyMap<string, string>> {
  const raw = annotations?.[ANNOTATION.ingressBackends];
  const result = new Map<string, string>();
  if (raw === undefined) return ok(result);
  const obj = parseJsonObject(raw, `annotation ${ANNOTATION.ingressBackends}`);
  if (!obj.ok) return obj;
  for (const [name, state] of Object.entries(obj.value)) result.set(name, typeof state === 'string' ? state : 'Unknown');
  return ok(result);
}

/** Which Ingress backends name this Service port (by number or by name). */
export function backendRefersToPort(ref: IngressBackendRef, port: { name?: string; port: number }): boolean {
  return typeof ref.port === 'number' ? ref.port === port.port : ref.port === port.name;
}

/**
 * `networking.gke.io/transparent-health-checker: {"enabled":true}`: GKE's transparent health check
 * (NEG only; a fixed port 7877 and path /api/podhealth, rewritten by ingress-gce on every sync,
 * docs §2 and §5.4 (a)). True when enabled; false when absent or `enabled` is false.
 */
export function parseTransparentHealthCheck(annotations: Annotations): Parsed<boolean> {
  const raw = annotations?.[ANNOTATION.transparentHealthChecker];
  if (raw === undefined) return ok(false);
  const obj = parseJsonObject(raw, `annotation ${ANNOTATION.transparentHealthChecker}`);
  if (!obj.ok) return obj;
  const enabled = obj.value['enabled'];
  if (enabled !== undefined && typeof enabled !== 'boolean')
    return fail(`annotation ${ANNOTATION.transparentHealthChecker}: "enabled" is ${JSON.stringify(enabled)}; expected true or false`);
  return ok(enabled === true);
}
