// GCE names the GKE Gateway controller stand-in gives its resources. GKE's own scheme is
// `gkegw1-<4>-<namespace>-<service>-<port>-<12>` for a Service port's backend service, health
// check and NEG, namespace and service cut when the name would pass 63 characters
// (docs/gke-gateway-healthchecks.md §4). GKE does not document how it makes the 4- and
// 12-character parts; here they are hashes of the cluster UID and of the backend, so the names
// have GKE's shape without claiming GKE's values.
import { createHash } from 'node:crypto';

const PREFIX = 'gkegw1';
/** GCE names are at most 63 characters. */
const MAX_NAME = 63;

function hash(s: string, n: number): string {
  return createHash('sha256').update(s).digest('hex').slice(0, n);
}

/** The 4 characters every name of this cluster's Gateway resources carries. */
export function clusterTag(clusterUid: string): string {
  return hash(`gkegw1;${clusterUid}`, 4);
}

/** True for a resource this cluster's Gateway controller (stand-in) owns. */
export function ownedName(clusterUid: string, name: string): boolean {
  return name.startsWith(`${PREFIX}-${clusterTag(clusterUid)}-`);
}

/**
 * Cuts `a` and `b` so that their lengths add up to at most `budget`, each losing in proportion to
 * its length (the longer one loses more), as GKE's names show for long namespaces and Services.
 */
function trimPair(budget: number, a: string, b: string): [string, string] {
  const total = a.length + b.length;
  if (total <= budget) return [a, b];
  const keepA = Math.max(1, Math.round((a.length * budget) / total));
  const keepB = Math.max(1, budget - keepA);
  return [a.slice(0, keepA), b.slice(0, keepB)];
}

/** Backend service, health check and NEG name of one Service port behind a GKE Gateway. */
export function backendName(clusterUid: string, namespace: string, service: string, port: number): string {
  const tail = hash(`${clusterUid};${namespace};${service};${port}`, 12);
  const fixed = `${PREFIX}-${clusterTag(clusterUid)}---${port}-${tail}`.length;
  const [ns, svc] = trimPair(MAX_NAME - fixed, namespace, service);
  return `${PREFIX}-${clusterTag(clusterUid)}-${ns}-${svc}-${port}-${tail}`;
}

/** URL map name of one Gateway. */
export function urlMapName(clusterUid: string, namespace: string, gateway: string): string {
  const tail = hash(`${clusterUid};${namespace};${gateway};urlmap`, 12);
  const fixed = `${PREFIX}-${clusterTag(clusterUid)}---${tail}`.length;
  const [ns, gw] = trimPair(MAX_NAME - fixed, namespace, gateway);
  return `${PREFIX}-${clusterTag(clusterUid)}-${ns}-${gw}-${tail}`;
}
