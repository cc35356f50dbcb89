// Reads a Pod's probes the way GKE's ingress controller does (docs/gke-ingress-healthchecks.md §1.4–1.5), so that the
// intended check is exactly what GKE would have built at creation — but for the Pods of today.
import type { BackendKind } from '../model/health-check.js';
import type { SlimContainer, SlimPod, SlimProbe, SlimServicePort } from '../model/kube.js';
import type { AppProtocol } from '../parse/annotations.js';

export interface ProbeFields {
  readonly requestPath: string;
  /**
   * Only when the probe sends a `Host` header. Decision (docs §1.5 vs §5.3): at creation
   * ingress-gce writes the header's value or "" — but hcsync runs continuously, and a probe that
   * says nothing about Host must not clear a host someone set by hand for a virtual-host backend
   * (that turns its 200 into 404/421, and the load balancer into 502s). So hcsync sets `host` only
   * when the source declares one, and otherwise leaves it alone: here it differs from ingress-gce's
   * creation-time rule on purpose.
   */
  readonly host?: string;
  readonly timeoutSec: number;
  readonly checkIntervalSec: number;
}

export type ProbeReading =
  { readonly ok: true; readonly container: string; readonly fields: ProbeFields } | { readonly ok: false; readonly why: string };

/** Kubernetes API defaults for probe timing. */
const DEFAULT_TIMEOUT_SECONDS = 1;
const DEFAULT_PERIOD_SECONDS = 10;
/** GKE adds 60 s to the probe period for instance-group backends ("flooding", ingress-gce #772). */
const IG_INTERVAL_EXTRA_SEC = 60;

type ContainerPort = SlimContainer['ports'][number];
/**
 * Containers with more ports than this get their ports indexed by number and by name, built once:
 * a container with thousands of ports reads each in O(1). Below it a scan is as fast and costs no
 * memory — two Maps per cached container were ~6 MB of live heap at 15,000 Pods (bench:steady).
 */
const INDEXED_PORTS = 16;
const portIndex = new WeakMap<SlimContainer, { byNumber: Map<number, ContainerPort>; byName: Map<string, ContainerPort> }>();

/** The container port a Service targetPort names (by number or by name); the first declaration wins, as Array.find. */
function servingContainerPort(container: SlimContainer, targetPort: number | string): ContainerPort | undefined {
  if (container.ports.length <= INDEXED_PORTS) {
    return container.ports.find((p) => (typeof targetPort === 'number' ? p.containerPort === targetPort : p.name === targetPort));
  }
  let index = portIndex.get(container);
  if (!index) {
    index = { byNumber: new Map(), byName: new Map() };
    for (const p of container.ports) {
      if (!index.byNumber.has(p.containerPort)) index.byNumber.set(p.containerPort, p);
      if (p.name !== undefined && !index.byName.has(p.name)) index.byName.set(p.name, p);
    }
    portIndex.set(container, index);
  }
  return typeof targetPort === 'number' ? index.byNumber.get(targetPort) : index.byName.get(targetPort);
}

function probeOnPort(probePort: number | string, cp: { name?: string; containerPort: number }): boolean {
  return typeof probePort === 'number' ? probePort === cp.containerPort : probePort === cp.name;
}

/** Why GKE would not read this probe, or undefined when it would (isSimpleHTTPProbe + scheme). */
function readinessDisqualification(probe: SlimProbe, appProtocol: AppProtocol): string | undefined {
  if (probe.handler !== 'httpGet' || !probe.httpGet) return `uses ${probe.handler}; GKE reads httpGet probes only`;
  const get = probe.httpGet;
  if (get.host) return `sets httpGet.host "${get.host}"; GKE rejects such probes (use a Host header instead)`;
  const headers = get.httpHeaders ?? [];
  if (headers.length > 1) return `has ${headers.length} httpHeaders; GKE accepts at most one, named Host`;
  if (headers.length === 1 && headers[0]?.name !== 'Host')
    return `has header "${headers[0]?.name}"; GKE accepts only a header named exactly Host`;
  const scheme = (get.scheme ?? 'HTTP').toUpperCase();
  const wanted = appProtocol === 'HTTP' ? 'HTTP' : 'HTTPS';
  if (scheme !== wanted) return `scheme ${scheme} does not match the port's app protocol ${appProtocol} (needs ${wanted})`;
  return undefined;
}

function normalisePath(path: string | undefined): string {
  if (!path) return '/';
  return path.startsWith('/') ? path : `/${path}`;
}

/**
 * The first container of the Pod whose readinessProbe GKE would use for this Service port, and the
 * check fields GKE would derive from it; or why none qualifies (every container's reason), so the
 * user learns why the probe was not used.
 */
export function readReadinessProbe(
  pod: SlimPod,
  servicePort: SlimServicePort,
  appProtocol: AppProtocol,
  backendKind: BackendKind,
): ProbeReading {
  const reasons: string[] = [];
  for (const c of pod.spec.containers) {
    const cp = servingContainerPort(c, servicePort.targetPort);
    if (!cp) {
      reasons.push(`container ${c.name} does not declare port ${JSON.stringify(servicePort.targetPort)} (the Service targetPort)`);
      continue;
    }
    const probe = c.readinessProbe;
    if (!probe) {
      reasons.push(`container ${c.name} has no readinessProbe`);
      continue;
    }
    const bad = readinessDisqualification(probe, appProtocol);
    const get = probe.httpGet;
    if (bad || !get) {
      reasons.push(`readinessProbe of container ${c.name} ${bad ?? 'has no httpGet'}`);
      continue;
    }
    if (!probeOnPort(get.port, cp)) {
      reasons.push(
        `readinessProbe of container ${c.name} is on port ${JSON.stringify(get.port)}, not the serving port ${cp.containerPort}`,
      );
      continue;
    }
    const period = probe.periodSeconds ?? DEFAULT_PERIOD_SECONDS;
    const hostHeader = get.httpHeaders?.[0];
    return {
      ok: true,
      container: c.name,
      fields: {
        requestPath: normalisePath(get.path),
        // A Host header only (readinessDisqualification admits no other); see ProbeFields.host.
        ...(hostHeader ? { host: hostHeader.value } : {}),
        timeoutSec: probe.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
        checkIntervalSec: period + (backendKind === 'ig' ? IG_INTERVAL_EXTRA_SEC : 0),
      },
    };
  }
  if (pod.spec.containers.length === 0) reasons.push('the Pod has no containers');
  return { ok: false, why: reasons.join('; ') };
}

/**
 * The livenessProbe fallback (contract rule 5): the path of an httpGet livenessProbe on the same
 * serving port. GKE never reads liveness probes; hcsync uses it because in the 502 story it is the
 * only place the app says which path is healthy.
 */
export function readLivenessPath(pod: SlimPod, servicePort: SlimServicePort): { container: string; requestPath: string } | undefined {
  for (const c of pod.spec.containers) {
    const cp = servingContainerPort(c, servicePort.targetPort);
    const get = c.livenessProbe?.handler === 'httpGet' ? c.livenessProbe.httpGet : undefined;
    if (cp && get && probeOnPort(get.port, cp)) return { container: c.name, requestPath: normalisePath(get.path) };
  }
  return undefined;
}
