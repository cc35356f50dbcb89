// GCE resource names exactly as ingress-gce's namer builds them (pkg/utils/namer/namer.go), so
// that hcsync, which finds checks by these names, sees what it would see on GKE.
import { createHash } from 'node:crypto';

/** ns, svc and port share this budget in a NEG/backend name (namer.go: maxNEGDescriptiveLabel). */
const MAX_NEG_DESCRIPTIVE_LABEL = 38;
/** GCE allows 63 characters; one is kept back for the trailing alphanumeric (namer.go: nameLenLimit). */
const NAME_LEN_LIMIT = 62;

/**
 * ingress-gce's TrimFieldsEvenly: shortens fields so their total length is at most `max`, cutting
 * longer fields more. Integer arithmetic mirrors Go's truncating division.
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

/** namer.go: truncate — names over 62 characters are cut and end in '0' so they never end in '-'. */
function truncateName(key: string): string {
  return key.length > NAME_LEN_LIMIT ? `${key.slice(0, NAME_LEN_LIMIT)}0` : key;
}

function shortUid(clusterUid: string): string {
  return clusterUid.length <= 8 ? clusterUid : clusterUid.slice(0, 8);
}

/** namer.go: negSuffix — first 8 hex of sha256("<uid8>;<ns>;<svc>;<port>"). */
export function negHash8(clusterUid: string, namespace: string, service: string, port: number): string {
  return createHash('sha256')
    .update([shortUid(clusterUid), namespace, service, String(port)].join(';'))
    .digest('hex')
    .slice(0, 8);
}

/**
 * NEG name, which is also the backend service and health check name for NEG backends of class
 * gce and gce-internal: k8s1-<uid8>-<ns>-<svc>-<port>-<hash8>.
 */
export function negName(clusterUid: string, namespace: string, service: string, port: number): string {
  const [ns, svc, p] = trimFieldsEvenly(MAX_NEG_DESCRIPTIVE_LABEL, namespace, service, String(port));
  return `k8s1-${shortUid(clusterUid)}-${ns}-${svc}-${p}-${negHash8(clusterUid, namespace, service, port)}`;
}

/** gce-regional-external backend/health check name (namer.go: RXLBBackendName). */
export function rxlbBackendName(clusterUid: string, namespace: string, service: string, port: number): string {
  const [ns, svc, p] = trimFieldsEvenly(MAX_NEG_DESCRIPTIVE_LABEL - 2, namespace, service, String(port));
  return `k8s1-${shortUid(clusterUid)}-e-${ns}-${svc}-${p}-${negHash8(clusterUid, namespace, service, port)}`;
}

/** Instance-group backend/health check name (namer.go: IGBackend + decorateName). */
export function igBackendName(clusterUid: string, nodePort: number): string {
  const base = `k8s-be-${nodePort}`;
  return clusterUid === '' ? base : truncateName(`${base}--${clusterUid}`);
}

/** v1 naming scheme URL map: k8s-um-<ns>-<name>--<uid> (namer.go: LoadBalancer + UrlMap). */
export function urlMapName(clusterUid: string, namespace: string, ingress: string): string {
  const lb = clusterUid === '' ? `${namespace}-${ingress}` : truncateName(`${namespace}-${ingress}--${clusterUid}`);
  return truncateName(`k8s-um-${lb}`);
}

/** True for backend service / health check / NEG names this cluster's ingress-gce owns. */
export function ownedBackendName(clusterUid: string, name: string): boolean {
  return name.startsWith(`k8s1-${shortUid(clusterUid)}-`) || (name.startsWith('k8s-be-') && name.endsWith(`--${clusterUid}`));
}

export function ownedUrlMapName(clusterUid: string, name: string): boolean {
  return name.startsWith('k8s-um-') && name.endsWith(`--${clusterUid}`);
}
