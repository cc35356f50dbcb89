// Which Ingresses are GKE's (ingress-gce's): only those get a Google Cloud load balancer and so a
// health check for hcsync to manage. Ingresses of any other class (nginx, traefik, …) are never
// hcsync's: no condition, no requeue, no GCP call.
//
// The rule is ingress-gce's own, `kubernetes/ingress-gce:pkg/utils/utils.go IsGCEIngress` (master),
// which GKE's doc table "GKE Ingress controller behavior"
// (https://cloud.google.com/kubernetes-engine/docs/concepts/ingress) states the same way:
//   - the annotation `kubernetes.io/ingress.class` decides when it is set: `gce`, `gce-internal`,
//     `gce-regional-external` are GKE's; any other value is not;
//   - without the annotation (or with an empty one, which ingress-gce reads as absent), the
//     Ingress is GKE's only when `spec.ingressClassName` is unset. ingress-gce serves no
//     IngressClass, so an Ingress with any `ingressClassName` and no annotation is ignored by GKE —
//     even `ingressClassName: gce`.
// Decision: hcsync does not match IngressClass objects by `spec.controller` (as issue 8 suggested):
// GKE's code never does, so doing it would manage Ingresses GKE ignores. Hence no IngressClass
// informer and no extra RBAC. A consequence worth knowing: when another controller's IngressClass
// is the cluster default, the API server's DefaultIngressClass admission sets `ingressClassName`
// on new unclassed Ingresses, so GKE (and hcsync) ignore them; older ones without a class stay GKE's.
import type { IngressScope } from '../model/health-check.js';
import { ANNOTATION } from './annotations.js';

/** The ingress classes GKE's Ingress controller serves (annotation values). */
export type GkeIngressClass = 'gce' | 'gce-internal' | 'gce-regional-external';

/** What the rule reads of an Ingress: its annotations and `spec.ingressClassName`. */
export interface IngressClassFields {
  readonly annotations?: Readonly<Record<string, string>>;
  readonly ingressClassName?: string;
}

/**
 * GKE's class of this Ingress, or undefined when GKE ignores it (ingress-gce IsGCEIngress; see the
 * file comment). An Ingress with neither annotation nor ingressClassName is `gce`.
 */
export function gkeIngressClassOf(ing: IngressClassFields): GkeIngressClass | undefined {
  const annotation = ing.annotations?.[ANNOTATION.ingressClass];
  if (annotation === undefined || annotation === '') return ing.ingressClassName === undefined ? 'gce' : undefined;
  return annotation === 'gce' || annotation === 'gce-internal' || annotation === 'gce-regional-external' ? annotation : undefined;
}

/** Whether GKE's Ingress controller serves this Ingress (so it has Google Cloud health checks). */
export function isGkeIngress(ing: IngressClassFields): boolean {
  return gkeIngressClassOf(ing) !== undefined;
}

/** gce-internal and gce-regional-external get regional checks; gce global ones (docs/gke-ingress-healthchecks.md §4.5). */
export function ingressScopeOfClass(cls: GkeIngressClass): IngressScope {
  return cls === 'gce' ? 'global' : 'regional';
}
