// Pods ↔ Services by label selector, kept up to date event by event, so that neither direction
// scans a namespace: `podsFor(service)` reads the Pods carrying the rarest pair of the selector,
// and a Pod event reads the Services anchored on one of its labels. A Service selector is a plain
// map of equality requirements (core/v1 ServiceSpec.selector; no set-based expressions), so a Pod
// matches iff it carries every pair, and any one pair of a selector is a sound place to look the
// Service up from. Pure: plain objects in, keys and Pods out; ClusterState feeds it the informers'
// events. It also remembers each Pod as last seen, so a Pod event that changes nothing hcsync
// reads (a new resourceVersion, a status field other than the phase) notifies no Service.
import { keyOf, type SlimPod, type SlimService } from '../model/kube.js';
import { jsonEqual } from '../lib/json-equal.js';
import { selectorMatches } from './service-index.js';
import { addMember, memberCount, membersOf, removeMember, type Members } from './key-sets.js';

/** The index key of one label pair in one namespace (NUL cannot occur in a namespace or label key). */
const pairKey = (namespace: string, key: string, value: string) => `${namespace}\0${key}\0${value}`;

/**
 * The parts of a slim Pod that hcsync reads, compared: everything but resourceVersion and
 * generation (src/intent/ reads labels, timestamps, containers and phase). A Pod recreated under
 * its name differs in what hcsync reads or is the same to it (slim Pods keep no uid).
 */
export function samePodForHcsync(a: SlimPod, b: SlimPod): boolean {
  const m = a.metadata;
  const n = b.metadata;
  return (
    m.creationTimestamp === n.creationTimestamp &&
    m.deletionTimestamp === n.deletionTimestamp &&
    a.status.phase === b.status.phase &&
    jsonEqual(m.labels, n.labels) &&
    jsonEqual(m.annotations, n.annotations) &&
    jsonEqual(a.spec, b.spec)
  );
}

/** The index keys of a selector's pairs, in key order (so that ties between pairs are broken the same way every time). */
function selectorPairs(namespace: string, selector: Readonly<Record<string, string>>): string[] {
  return Object.keys(selector)
    .sort()
    .map((k) => pairKey(namespace, k, selector[k] ?? ''));
}

/**
 * The pair with the lowest weight (ties: the first). Any pair of a selector is correct; the rarest
 * keeps lookups short (`{app: web-17, tier: frontend}` is found through `app`, not through the
 * pair every Pod has).
 */
function rarest(pairs: readonly string[], weight: (pair: string) => number): string {
  let best = pairs[0] ?? '';
  let bestWeight = Infinity;
  for (const p of pairs) {
    const w = weight(p);
    if (w < bestWeight) [best, bestWeight] = [p, w];
  }
  return best;
}

/**
 * The selector links between the Pods and Services of a cluster (or of the namespaces watched).
 * Memory: one map entry per Pod, one set entry per Pod label and one per Service. Pods are held
 * by namespace and name, and a pair's Pods by name (a pair key names its namespace): the strings
 * are the Pod's own, where `namespace/name` keys cost a string per Pod (~56 B, issue 11).
 */
export class SelectorIndex {
  /** Pods as last seen, by namespace, then name. */
  private readonly pods = new Map<string, Map<string, SlimPod>>();
  /** namespace/label pair → names of the Pods (of that namespace) carrying it. */
  private readonly podsByPair = new Map<string, Members>();
  /** Each Service with a selector: the selector, its pairs' index keys (in key order), and the one pair it is anchored on. */
  private readonly services = new Map<
    string,
    { readonly selector: Readonly<Record<string, string>>; readonly pairs: readonly string[]; readonly anchor: string }
  >();
  /** namespace/label pair → keys of the Services anchored on it. */
  private readonly servicesByAnchor = new Map<string, Members>();

  /**
   * Records a Service (or its deletion). Only the Service itself is affected by its own selector
   * change (the Pods it selects are read when it is reconciled), so nothing is returned.
   */
  serviceChanged(service: SlimService, deleted: boolean): void {
    const key = keyOf(service.metadata);
    const before = this.services.get(key);
    const selector = deleted ? undefined : service.spec.selector;
    if (before && selector && jsonEqual(before.selector, selector)) {
      this.services.set(key, { ...before, selector }); // this version's object, so podsFor knows it by identity
      return;
    }
    if (before) {
      removeMember(this.servicesByAnchor, before.anchor, key);
      this.services.delete(key);
    }
    // A Service without a selector selects no Pod (its endpoints are managed by hand): not indexed.
    if (!selector || Object.keys(selector).length === 0) return;
    const pairs = selectorPairs(service.metadata.namespace, selector);
    const anchor = rarest(pairs, (p) => memberCount(this.podsByPair, p) + memberCount(this.servicesByAnchor, p));
    this.services.set(key, { selector, pairs, anchor });
    addMember(this.servicesByAnchor, anchor, key);
  }

  /**
   * Records a Pod (or its deletion); returns the keys of the Services it affects: those whose
   * selector matched it before or matches it now (a relabel notifies both). None when the Pod
   * changed nothing hcsync reads (samePodForHcsync).
   */
  podChanged(pod: SlimPod, deleted: boolean): Set<string> {
    const { namespace, name } = pod.metadata;
    let inNamespace = this.pods.get(namespace);
    const before = inNamespace?.get(name);
    if (!deleted && before && samePodForHcsync(before, pod)) {
      inNamespace?.set(name, pod); // the newest object, with its resourceVersion
      return new Set();
    }
    const affected = before ? this.servicesSelecting(before) : new Set<string>();
    if (before) for (const p of this.pairsOf(before)) removeMember(this.podsByPair, p, before.metadata.name);
    if (deleted) {
      inNamespace?.delete(name);
      if (inNamespace?.size === 0) this.pods.delete(namespace);
      return affected;
    }
    if (!inNamespace) this.pods.set(namespace, (inNamespace = new Map<string, SlimPod>()));
    inNamespace.set(name, pod);
    for (const p of this.pairsOf(pod)) addMember(this.podsByPair, p, name);
    for (const s of this.servicesSelecting(pod)) affected.add(s);
    return affected;
  }

  /** The Pods (of the Service's namespace) its selector selects, read from the Pods carrying its rarest pair. */
  podsFor(service: SlimService): SlimPod[] {
    const selector = service.spec.selector;
    if (!selector || Object.keys(selector).length === 0) return [];
    // The pairs as indexed when the Service's event was seen; computed here only for a Service the index has not seen (or not in this version).
    const indexed = this.services.get(keyOf(service.metadata));
    const pairs = indexed?.selector === selector ? indexed.pairs : selectorPairs(service.metadata.namespace, selector);
    const candidates = membersOf(
      this.podsByPair,
      rarest(pairs, (p) => memberCount(this.podsByPair, p)),
    );
    const inNamespace = this.pods.get(service.metadata.namespace);
    const out: SlimPod[] = [];
    for (const k of candidates) {
      const pod = inNamespace?.get(k);
      if (pod && selectorMatches(selector, pod.metadata.labels)) out.push(pod);
    }
    return out;
  }

  /** Keys of the Services whose selector matches this Pod: those anchored on one of its labels, checked in full. */
  private servicesSelecting(pod: SlimPod): Set<string> {
    const keys = new Set<string>();
    for (const p of this.pairsOf(pod)) {
      for (const k of membersOf(this.servicesByAnchor, p)) {
        const s = this.services.get(k);
        if (s && selectorMatches(s.selector, pod.metadata.labels)) keys.add(k);
      }
    }
    return keys;
  }

  private pairsOf(pod: SlimPod): string[] {
    const labels = pod.metadata.labels ?? {};
    return Object.keys(labels).map((k) => pairKey(pod.metadata.namespace, k, labels[k] ?? ''));
  }
}
