// Which Service keys an event touches — the trigger mappers of the controller (kube-rs
// `watches(.., mapper)`, controller-runtime `handler.EnqueueRequestsFromMapFunc`): Ingress →
// the Services it backs, BackendConfig → the Services naming it (Pod → the Services selecting
// it: selector-index.ts). Pure: plain objects in, keys out; ServiceKeyIndex remembers what each
// Ingress pointed at last, so a change notifies the Services it left as well as those it joined.
import { jsonEqual } from '../lib/json-equal.js';
import { CONDITION_TYPE } from '../model/report.js';
import { keyOf, refOfKey, type SlimBackendConfig, type SlimIngress, type SlimService } from '../model/kube.js';
import { parseBackendConfigRef } from '../parse/annotations.js';
import { isGkeIngress } from '../parse/ingress-class.js';
import { addMember, membersOf, removeMember, type Members } from './key-sets.js';

/** Whether a Service selector selects these labels. A Service without a selector selects no Pod (its endpoints are managed by hand). */
export function selectorMatches(
  selector: Readonly<Record<string, string>> | undefined,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  // No Object.keys/entries: called per candidate Pod on every pass, it allocates nothing (issue 11).
  let pairs = 0;
  for (const k in selector) {
    if (!Object.hasOwn(selector, k)) continue;
    pairs++;
    if (labels?.[k] !== selector[k]) return false;
  }
  return pairs > 0;
}

/**
 * Keys of the Services a GKE Ingress has backends on (in the Ingress's namespace). An Ingress of
 * another class (nginx, traefik, …) has no Google Cloud health check: it backs no Service for
 * hcsync, so it never causes a reconcile, a condition, a requeue or a GCP call (parse/ingress-class.ts).
 */
export function ingressServiceKeys(ingress: SlimIngress): Set<string> {
  if (!isGkeIngress({ annotations: ingress.metadata.annotations, ingressClassName: ingress.ingressClassName })) return new Set();
  return new Set(ingress.backends.map((b) => keyOf({ namespace: ingress.metadata.namespace, name: b.service })));
}

/** Keys of the Services (of the BackendConfig's namespace) whose backend-config annotation names it, by default or for a port. */
export function backendConfigServiceKeys(backendConfig: SlimBackendConfig, services: readonly SlimService[]): string[] {
  const keys: string[] = [];
  for (const s of services) {
    if (s.metadata.namespace !== backendConfig.metadata.namespace) continue;
    const ref = parseBackendConfigRef(s.metadata.annotations);
    if (!ref.ok || !ref.value) continue;
    if (ref.value.default === backendConfig.metadata.name || [...ref.value.ports.values()].includes(backendConfig.metadata.name))
      keys.push(keyOf(s.metadata));
  }
  return keys;
}

/**
 * Whether two versions of a Service differ at most in their status and resourceVersion: what
 * hcsync reads of a Service (selector, ports, annotations, generation) is the same.
 */
export function sameServiceApartFromStatus(a: SlimService, b: SlimService): boolean {
  const { resourceVersion: _a, ...ma } = a.metadata;
  const { resourceVersion: _b, ...mb } = b.metadata;
  return jsonEqual(ma, mb) && jsonEqual(a.spec, b.spec);
}

/** Whether hcsync has reported on this Service (so it must be told when it leaves hcsync's scope). */
export function hasHcsyncCondition(service: SlimService): boolean {
  return service.status.conditions.some((c) => c.type === CONDITION_TYPE);
}

/**
 * The links Ingress → Services, updated event by event from each Ingress event and the version it
 * replaces (informer.ts Handler), so a change notifies the Services it left as well as those it
 * joined. Held as Service key → the names of the Ingresses (of the Service's namespace: an Ingress
 * backend names a Service of its own namespace) with a backend on it: no Ingress key strings, and
 * no second map from each Ingress to its Services (its previous version says which, issue 11).
 */
export class ServiceKeyIndex {
  /** Service key → the names of the Ingresses with a backend on it. */
  private readonly serviceIngresses = new Map<string, Members>();

  /** Records an Ingress (or its deletion) replacing `before`; returns the Services it backed before or backs now (a class change to or from GKE's notifies them). */
  ingressChanged(ingress: SlimIngress, before: SlimIngress | undefined, deleted: boolean): Set<string> {
    const name = ingress.metadata.name;
    const was = before ? ingressServiceKeys(before) : new Set<string>();
    const now = deleted ? new Set<string>() : ingressServiceKeys(ingress);
    for (const k of was) if (!now.has(k)) removeMember(this.serviceIngresses, k, name);
    for (const k of now) addMember(this.serviceIngresses, k, name);
    return new Set([...was, ...now]);
  }

  /** Refs of the Ingresses with a backend on this Service. */
  ingressesOf(serviceKey: string): { namespace: string; name: string }[] {
    const { namespace } = refOfKey(serviceKey);
    return [...membersOf(this.serviceIngresses, serviceKey)].map((name) => ({ namespace, name }));
  }

  /** Whether an Ingress backs this Service. */
  isBacked(serviceKey: string): boolean {
    return this.serviceIngresses.has(serviceKey);
  }

  /** Every Service key an Ingress backs. */
  backedServiceKeys(): string[] {
    return [...this.serviceIngresses.keys()];
  }
}
