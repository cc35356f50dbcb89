// The names GKE's Gateway controller gives the backend services and health checks of a Service
// port behind a GKE Gateway: `gkegw1-<4>-<namespace>-<service>-<port>-<12>`, namespace and
// service truncated when the name would pass GCE's 63 characters (docs/gke-gateway-healthchecks.md §4).
// The 4- and 12-character parts are GKE's own (not documented, so not recomputed here): a name
// is matched to a Service port only by its readable middle, conservatively — exactly when the
// name is shorter than the limit (nothing was cut), by prefix only when it is at the limit.
// Ingress names live in ingress-gce-names.ts; the two schemes never overlap (`gkegw1-` vs `k8s`).

const GATEWAY_NAME = /^gkegw1-[a-z0-9]{4}-(.+)-(\d{1,5})-[a-z0-9]{12}$/;
/** GCE resource names are at most 63 characters: only a name that long may have been cut. */
const MAX_NAME = 63;

/** Whether GKE's Gateway controller made this backend service (or check). */
export function isGatewayBackendName(name: string): boolean {
  return GATEWAY_NAME.test(name);
}

/**
 * Whether the `gkegw1-…` name can be that of this Service port: the port must be equal, and the
 * middle must split at a `-` into exactly the namespace and the Service — or, for a name at the
 * 63-character limit, into non-empty prefixes of them. A name may therefore match more than one
 * Service (`a`/`b-c` and `a-b`/`c` read alike): callers treat several candidates as "cannot tell".
 */
export function gatewayNameServes(name: string, namespace: string, service: string, port: number): boolean {
  const m = GATEWAY_NAME.exec(name);
  if (!m || Number(m[2]) !== port) return false;
  const middle = m[1] ?? '';
  const truncated = name.length >= MAX_NAME;
  for (let i = middle.indexOf('-'); i > 0; i = middle.indexOf('-', i + 1)) {
    const ns = middle.slice(0, i);
    const svc = middle.slice(i + 1);
    if (ns === namespace && svc === service) return true;
    if (truncated && ns.length > 0 && svc.length > 0 && namespace.startsWith(ns) && service.startsWith(svc)) return true;
  }
  return false;
}
