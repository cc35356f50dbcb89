// How ingress-gce builds a health check when it CREATES one: defaults (translator/healthchecks.go),
// then the readinessProbe read with GKE's rules (controller/translator/translator.go: getHTTPProbe,
// isSimpleHTTPProbe, getProbeScheme; ApplyProbeSettingsToHC), then the BackendConfig fields that are
// set (UpdateFromBackendConfig). Pure functions, so the rules can be table-tested.
import type { V1Pod, V1Probe, V1Service, V1ServicePort } from '@kubernetes/client-node';
import type { BackendConfigHealthCheck } from './backend-config.js';
import { emptyHttpSettings, type AppProtocol, type BackendKind, type HealthCheckModel } from './model.js';

const SERVICE_APP_PROTOCOLS_KEY = 'service.alpha.kubernetes.io/app-protocols';
const GOOGLE_APP_PROTOCOLS_KEY = 'cloud.google.com/app-protocols';

const DESCRIPTION_DEFAULT = 'Default kubernetes L7 Loadbalancing health check.';
export const DESCRIPTION_DEFAULT_NEG = 'Default kubernetes L7 Loadbalancing health check for NEG.';
const DESCRIPTION_DEFAULT_ILB = 'Default kubernetes L7 Loadbalancing health check for ILB.';
const DESCRIPTION_DEFAULT_RXLB = 'Default kubernetes L7 Loadbalancing health check for Regional XLB.';
export const DESCRIPTION_FROM_PROBE = 'Kubernetes L7 health check generated with readiness probe settings.';

/** The +60 s ingress-gce adds to probe-derived intervals on IG backends ("flooding", #772). */
const IG_INTERVAL_SEC = 60;

/** ingress-gce's default backend Service, whose checks use /healthz (flag --default-backend-health-check-path). */
export const DEFAULT_BACKEND = { namespace: 'kube-system', name: 'default-http-backend' } as const;

/**
 * The app protocol of a Service port (annotations/service.go: ApplicationProtocols +
 * translator.go: setAppProtocol). The legacy key is read first and wins; the map is keyed by port
 * NAME only, so an unnamed port is always HTTP. Invalid JSON or values are sync errors.
 */
export function appProtocolOf(service: V1Service, port: V1ServicePort): AppProtocol {
  const ann = service.metadata?.annotations ?? {};
  const raw = ann[SERVICE_APP_PROTOCOLS_KEY] ?? ann[GOOGLE_APP_PROTOCOLS_KEY];
  if (raw === undefined) return 'HTTP';
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error(`invalid app-protocols annotation: ${raw}`);
  }
  if (typeof parsed !== 'object' || parsed === null) throw new Error(`invalid app-protocols annotation: ${raw}`);
  const map = parsed as Record<string, unknown>;
  for (const v of Object.values(map)) {
    if (v !== 'HTTP' && v !== 'HTTPS' && v !== 'HTTP2') throw new Error(`invalid port application protocol: ${String(v)}`);
  }
  const p = port.name !== undefined && port.name !== '' ? map[port.name] : undefined;
  return (p as AppProtocol | undefined) ?? 'HTTP';
}

/** translator.go: getProbeScheme — HTTP2 ports need an HTTPS probe. */
function probeSchemeFor(protocol: AppProtocol): 'HTTP' | 'HTTPS' {
  return protocol === 'HTTP' ? 'HTTP' : 'HTTPS';
}

/** translator.go: isSimpleHTTPProbe. Host header name compared case-sensitively, as in Go. */
export function isSimpleHttpProbe(probe: V1Probe | undefined): boolean {
  const g = probe?.httpGet;
  if (g === undefined) return false;
  if (g.host !== undefined && g.host !== '') return false;
  const headers = g.httpHeaders ?? [];
  return headers.length === 0 || (headers.length === 1 && headers[0]?.name === 'Host');
}

function selectorMatches(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  // labels.SelectorFromSet: an empty/absent selector matches every Pod.
  for (const [k, v] of Object.entries(selector ?? {})) {
    if (labels?.[k] !== v) return false;
  }
  return true;
}

function timestampMs(t: Date | string | undefined): number {
  if (t === undefined) return 0;
  // Listed objects carry Dates, raw JSON carries strings: accept both.
  return t instanceof Date ? t.getTime() : Date.parse(t);
}

/** Pods of the Service's namespace that its selector matches (no phase/readiness/deletion filter). */
export function podsSelectedBy(service: V1Service, pods: readonly V1Pod[]): V1Pod[] {
  return pods.filter(
    (p) => p.metadata?.namespace === service.metadata?.namespace && selectorMatches(service.spec?.selector, p.metadata?.labels),
  );
}

/** translator.go: orderedPods — oldest creationTimestamp first, ties broken by name. */
function orderPods(pods: readonly V1Pod[]): V1Pod[] {
  return [...pods].sort((a, b) => {
    const ta = timestampMs(a.metadata?.creationTimestamp);
    const tb = timestampMs(b.metadata?.creationTimestamp);
    if (ta !== tb) return ta - tb;
    const na = a.metadata?.name ?? '';
    const nb = b.metadata?.name ?? '';
    return na < nb ? -1 : na > nb ? 1 : 0;
  });
}

/** The API server defaults targetPort to port; a test double may see objects that skipped that. */
export function targetPortOf(port: V1ServicePort): number | string {
  return port.targetPort ?? port.port;
}

/**
 * translator.go: getHTTPProbe — the readinessProbe of the first qualifying container of the first
 * qualifying Pod (oldest first). Only spec.containers; the container must declare the port that
 * targetPort names/numbers, and the probe must use that same port.
 */
export function findReadinessProbe(
  service: V1Service,
  port: V1ServicePort,
  protocol: AppProtocol,
  pods: readonly V1Pod[],
): V1Probe | undefined {
  const targetPort = targetPortOf(port);
  for (const pod of orderPods(podsSelectedBy(service, pods))) {
    for (const c of pod.spec?.containers ?? []) {
      const probe = c.readinessProbe;
      if (!isSimpleHttpProbe(probe) || probe?.httpGet === undefined) continue;
      // The API server defaults scheme to HTTP.
      if ((probe.httpGet.scheme ?? 'HTTP') !== probeSchemeFor(protocol)) continue;
      for (const p of c.ports ?? []) {
        const matchesTarget = typeof targetPort === 'number' ? targetPort === p.containerPort : targetPort === p.name;
        if (!matchesTarget) continue;
        const probePort = probe.httpGet.port;
        if (typeof probePort === 'number' ? probePort === p.containerPort : probePort === p.name) return probe;
      }
    }
  }
  return undefined;
}

/** healthchecks.go: new + translator Default*HealthCheck + pathFromSvcPort. */
function defaultHealthCheck(
  kind: BackendKind,
  name: string,
  protocol: string,
  nodePort: number,
  isDefaultBackend = false,
): HealthCheckModel {
  const neg = kind !== 'ig';
  const description =
    kind === 'ig'
      ? DESCRIPTION_DEFAULT
      : kind === 'neg'
        ? DESCRIPTION_DEFAULT_NEG
        : kind === 'ilb'
          ? DESCRIPTION_DEFAULT_ILB
          : DESCRIPTION_DEFAULT_RXLB;
  return {
    name,
    type: protocol,
    description,
    checkIntervalSec: neg ? 15 : 60,
    timeoutSec: neg ? 15 : 60,
    healthyThreshold: 1,
    unhealthyThreshold: neg ? 2 : 10,
    // new() sets Port = NodePort for every kind; for NEG the serving-port spec zeroes it on the wire.
    http: {
      ...emptyHttpSettings(),
      port: nodePort,
      portSpecification: neg ? 'USE_SERVING_PORT' : '',
      requestPath: isDefaultBackend ? '/healthz' : '/',
    },
    forNEG: neg,
  };
}

/** translator/healthchecks.go: ApplyProbeSettingsToHC. */
function applyProbe(hc: HealthCheckModel, probe: V1Probe): void {
  const g = probe.httpGet;
  if (g === undefined) return;
  const path = g.path ?? '';
  hc.http.requestPath = path.startsWith('/') ? path : `/${path}`;
  let host = g.host ?? '';
  for (const h of g.httpHeaders ?? []) {
    if (h.name === 'Host') {
      host = h.value;
      break;
    }
  }
  hc.http.host = host;
  // Kubernetes defaults: timeoutSeconds 1, periodSeconds 10 (the API server fills them in).
  hc.timeoutSec = probe.timeoutSeconds ?? 1;
  const period = probe.periodSeconds ?? 10;
  hc.checkIntervalSec = hc.forNEG ? period : period + IG_INTERVAL_SEC;
  hc.description = DESCRIPTION_FROM_PROBE;
}

/** translator/healthchecks.go: UpdateFromBackendConfig — set fields win; `port` forces USE_FIXED_PORT. */
export function applyBackendConfig(hc: HealthCheckModel, c: BackendConfigHealthCheck): void {
  if (c.checkIntervalSec !== undefined) hc.checkIntervalSec = c.checkIntervalSec;
  if (c.timeoutSec !== undefined) hc.timeoutSec = c.timeoutSec;
  if (c.healthyThreshold !== undefined) hc.healthyThreshold = c.healthyThreshold;
  if (c.unhealthyThreshold !== undefined) hc.unhealthyThreshold = c.unhealthyThreshold;
  if (c.type !== undefined) hc.type = c.type;
  if (c.requestPath !== undefined) hc.http.requestPath = c.requestPath;
  if (c.port !== undefined) {
    hc.http.port = c.port;
    hc.http.portSpecification = 'USE_FIXED_PORT';
  }
}

export interface DesiredInputs {
  kind: BackendKind;
  name: string;
  protocol: AppProtocol;
  /** Service nodePort (IG); 0 when none. */
  nodePort: number;
  probe?: V1Probe | undefined;
  isDefaultBackend?: boolean;
}

/** SyncServicePort before sync(): defaults, then the probe. BackendConfig is applied by the caller's path. */
export function desiredBeforeBackendConfig(i: DesiredInputs): HealthCheckModel {
  const hc = defaultHealthCheck(i.kind, i.name, i.protocol, i.nodePort, i.isDefaultBackend ?? false);
  if (i.probe !== undefined) applyProbe(hc, i.probe);
  return hc;
}

/** The check ingress-gce inserts when none exists (healthchecks.go: create). */
export function healthCheckAtCreation(i: DesiredInputs, backendConfig?: BackendConfigHealthCheck): HealthCheckModel {
  const hc = desiredBeforeBackendConfig(i);
  if (backendConfig !== undefined) applyBackendConfig(hc, backendConfig);
  return hc;
}
