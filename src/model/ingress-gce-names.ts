// The names ingress-gce gives the Google Cloud resources it creates, and the one place hcsync
// knows them (docs/gke-ingress-healthchecks.md §4.2; upstream kubernetes/ingress-gce:pkg/utils/namer/namer.go).
// A backend service and its health check share the name:
//   k8s-be-<nodePort>--<cluster uid>                              instance groups (IG)
//   k8s1-<uid8>-<namespace>-<service>-<port>-<hash8>             NEG (gce, gce-internal)
//   k8s1-<uid8>-e-<namespace>-<service>-<port>-<hash8>           gce-regional-external (RXLBBackendName)
//   k8s2-…                                                       v2 frontend naming (never a backend)
//
// Tenant isolation: a name is matched to a Service port only by evidence that cannot collide.
// The readable middle of a NEG name can: `ns a`/`svc b-c` and `ns a-b`/`svc c` both read
// `k8s1-<uid8>-a-b-c-80-…`, and long fields are trimmed. The hash suffix cannot: it is recomputed
// here exactly as ingress-gce computes it (namer.go negSuffix), from the untrimmed namespace,
// Service name and port, and the whole name must then be exactly the one ingress-gce would build.
import { createHash } from 'node:crypto';

const ANY_BACKEND = /^k8s\d?-/;
const IG_PREFIX = 'k8s-be-';
const NEG_PREFIX = 'k8s1-';
/** namer.go maxNEGDescriptiveLabel: namespace, name and port share 38 characters. */
const MAX_NEG_DESCRIPTIVE_LABEL = 38;

/** Whether ingress-gce made this backend service (any naming scheme). */
export function isIngressGceBackendName(name: string): boolean {
  return ANY_BACKEND.test(name);
}

/** Whether the name is ingress-gce's instance-group backend naming. */
export function isInstanceGroupBackendName(name: string): boolean {
  return name.startsWith(IG_PREFIX);
}

/** Whether the name is ingress-gce's (v1) NEG backend naming. */
export function isNegBackendName(name: string): boolean {
  return name.startsWith(NEG_PREFIX);
}

/**
 * ingress-gce's TrimFieldsEvenly (pkg/utils/namer/utils.go): shortens the fields so that together
 * they are at most `max` characters, cutting longer fields more. Go's integer division truncates.
 */
export function trimFieldsEvenly(max: number, ...fields: string[]): string[] {
  if (max <= 0) return fields;
  const total = fields.reduce((n, s) => n + s.length, 0);
  if (total <= max) return fields;
  const excess = total - max;
  let remaining = max;
  const lengths = fields.map((s) => {
    const l = s.length - Math.trunc((s.length * excess) / total) - 1;
    remaining -= l;
    return l;
  });
  for (let i = 0; i < remaining; i++) lengths[i] = (lengths[i] ?? 0) + 1;
  return fields.map((s, i) => s.slice(0, lengths[i]));
}

/** namer.go negSuffix: the first 8 hex characters of sha256("<uid8>;<namespace>;<service>;<port>"). */
function negHash8(uid8: string, namespace: string, service: string, port: number): string {
  return createHash('sha256').update(`${uid8};${namespace};${service};${port}`).digest('hex').slice(0, 8);
}

/** namer.go NEG: the NEG (and backend service and health check) name of a Service port for classes gce and gce-internal. */
export function negBackendName(uid8: string, namespace: string, service: string, port: number): string {
  const [ns, svc, p] = trimFieldsEvenly(MAX_NEG_DESCRIPTIVE_LABEL, namespace, service, String(port));
  return `${NEG_PREFIX}${uid8}-${ns}-${svc}-${p}-${negHash8(uid8, namespace, service, port)}`;
}

/** namer.go RXLBBackendName: the backend service and health check name for class gce-regional-external. */
export function rxlbBackendName(uid8: string, namespace: string, service: string, port: number): string {
  const [ns, svc, p] = trimFieldsEvenly(MAX_NEG_DESCRIPTIVE_LABEL - 2, namespace, service, String(port));
  return `${NEG_PREFIX}${uid8}-e-${ns}-${svc}-${p}-${negHash8(uid8, namespace, service, port)}`;
}

/** The cluster's short uid written in a `k8s1-<uid8>-…` name (ingress-gce's shortUID: at most 8 characters, no "-"). */
function negUid8(name: string): string | undefined {
  if (!isNegBackendName(name)) return undefined;
  const end = name.indexOf('-', NEG_PREFIX.length);
  if (end <= NEG_PREFIX.length || end - NEG_PREFIX.length > 8) return undefined;
  return name.slice(NEG_PREFIX.length, end);
}

/** The instance-group backend names of a nodePort: `k8s-be-<nodePort>--<uid>`, or `k8s-be-<nodePort>` on legacy clusters without a uid. */
function isIgBackendOfNodePort(name: string, nodePort: number): boolean {
  const base = `${IG_PREFIX}${nodePort}`;
  return name === base || name.startsWith(`${base}--`);
}

/**
 * Whether `name` is the backend ingress-gce gives this Service port — used only when the
 * backend's description does not name the Service. IG: `k8s-be-<nodePort>--` with this port's own
 * nodePort (nodePorts are unique in a cluster). NEG: exactly the name ingress-gce builds for this
 * namespace, Service and port, hash suffix included; a name that merely reads alike never matches.
 */
export function backendNameServesPort(
  name: string,
  service: { readonly namespace: string; readonly name: string },
  port: { readonly port: number; readonly nodePort?: number },
): boolean {
  if (port.nodePort !== undefined && isIgBackendOfNodePort(name, port.nodePort)) return true;
  const uid8 = negUid8(name);
  if (uid8 === undefined) return false;
  return (
    name === negBackendName(uid8, service.namespace, service.name, port.port) ||
    name === rxlbBackendName(uid8, service.namespace, service.name, port.port)
  );
}

/**
 * For one Service, which of its ports a backend name belongs to, by the same evidence as
 * backendNameServesPort, but with each port's expected names computed once per cluster uid: a
 * Service with thousands of ports resolves each backend name in O(1).
 */
export class BackendNameIndex<P extends { readonly port: number; readonly nodePort?: number }> {
  private readonly byNodePort = new Map<number, P>();
  private readonly byNegName = new Map<string, Map<string, P>>();

  constructor(
    private readonly service: { readonly namespace: string; readonly name: string },
    private readonly ports: readonly P[],
  ) {
    for (const p of ports) if (p.nodePort !== undefined) this.byNodePort.set(p.nodePort, p);
  }

  /** The Service port this backend name was made for, or undefined. */
  portOf(name: string): P | undefined {
    if (isInstanceGroupBackendName(name)) {
      const rest = name.slice(IG_PREFIX.length);
      const nodePort = Number(/^\d+/.exec(rest)?.[0]);
      const p = Number.isInteger(nodePort) ? this.byNodePort.get(nodePort) : undefined;
      return p && isIgBackendOfNodePort(name, nodePort) ? p : undefined;
    }
    const uid8 = negUid8(name);
    if (uid8 === undefined) return undefined;
    let names = this.byNegName.get(uid8);
    if (!names) {
      names = new Map();
      const { namespace, name: svc } = this.service;
      for (const p of this.ports) {
        names.set(negBackendName(uid8, namespace, svc, p.port), p);
        names.set(rxlbBackendName(uid8, namespace, svc, p.port), p);
      }
      this.byNegName.set(uid8, names);
    }
    return names.get(name);
  }
}
