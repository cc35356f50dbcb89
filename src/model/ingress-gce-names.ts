// The names ingress-gce gives the Google Cloud resources it creates, and the one place hcsync
// knows them (docs/gke-ingress-healthchecks.md §4.2; upstream kubernetes/ingress-gce:pkg/utils/namer).
// A backend service and its health check share the name:
//   k8s-be-<nodePort>--<cluster uid>                              instance groups (IG)
//   k8s1-<uid8>-<namespace>-<service>-<port>-<hash8>             NEG
//   k8s2-…                                                       v2 naming (NEG)

const ANY_BACKEND = /^k8s\d?-/;
const IG_PREFIX = 'k8s-be-';
const NEG_PREFIX = 'k8s1-';

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
 * Whether `name` is the backend ingress-gce would give this Service port — used only when the
 * backend's description does not name the Service (older ingress-gce, or a hand-made backend).
 */
export function backendNameServesPort(
  name: string,
  service: { readonly namespace: string; readonly name: string },
  port: { readonly port: number; readonly nodePort?: number },
): boolean {
  if (port.nodePort !== undefined && name.startsWith(`${IG_PREFIX}${port.nodePort}-`)) return true;
  return (
    isNegBackendName(name) &&
    new RegExp(`^${NEG_PREFIX}[0-9a-f]{8}-${service.namespace}-${service.name}-${port.port}-[0-9a-f]{8}$`).test(name)
  );
}
