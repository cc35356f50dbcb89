// Pods ↔ Services by label selector, kept up to date event by event, so that neither direction
// scans a namespace: `podsFor(service)` reads the Pods carrying the rarest pair of the selector,
// and a Pod event reads the Services anchored on one of its labels. A Service selector is a plain
// map of equality requirements (core/v1 ServiceSpec.selector; no set-based expressions), so a Pod
// matches iff it carries every pair, and any one pair of a selector is a sound place to look the
// Service up from. Pure: plain objects in, keys and Pods out; ClusterState feeds it the informers'
// events, each Pod event with the version it replaces (informer.ts Handler), and reads the Pods
// and Services themselves from the informer caches (ObjectCache), so a Pod is held once. A Pod event that changes
// nothing hcsync reads (a new resourceVersion, a status field other than the phase) notifies no Service.
import { keyOf, type SlimPod, type SlimService } from '../model/kube.js';
import { jsonEqual } from '../lib/json-equal.js';
import { selectorMatches } from './service-index.js';
import { addMember, memberCount, membersOf, removeMember, type Members } from './key-sets.js';

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

type Labels = Readonly<Record<string, string>>;
/** label key → label value → the names carrying that pair (Pods, or Services anchored on it). */
type ByPair = Map<string, Map<string, Members>>;

function addPair(index: ByPair, key: string, value: string, name: string): void {
  let byValue = index.get(key);
  if (!byValue) index.set(key, (byValue = new Map<string, Members>()));
  addMember(byValue, value, name);
}

function removePair(index: ByPair, key: string, value: string, name: string): void {
  const byValue = index.get(key);
  if (!byValue) return;
  removeMember(byValue, value, name);
  if (byValue.size === 0) index.delete(key);
}

const pairCount = (index: ByPair, key: string, value: string): number => {
  const byValue = index.get(key);
  return byValue ? memberCount(byValue, value) : 0;
};

const pairMembers = (index: ByPair, key: string, value: string): Iterable<string> => {
  const byValue = index.get(key);
  return byValue ? membersOf(byValue, value) : [];
};

/**
 * The key of the selector's pair with the lowest weight; ties go to the lowest key (so that they
 * are broken the same way every time). Any pair of a selector is correct; the rarest keeps lookups
 * short (`{app: web-17, tier: frontend}` is found through `app`, not through the pair every Pod has).
 * Undefined for an empty selector.
 */
export function rarestKey(selector: Labels, weight: (key: string, value: string) => number): string | undefined {
  let best: string | undefined;
  let bestWeight = Infinity;
  // No Object.keys: called for every Service on every pass, it allocates nothing.
  for (const k in selector) {
    if (!Object.hasOwn(selector, k)) continue;
    const w = weight(k, selector[k] ?? '');
    if (best === undefined || w < bestWeight || (w === bestWeight && k < best)) [best, bestWeight] = [k, w];
  }
  return best;
}

/** Where the index reads Pods and Services: the informer caches, which hold each as last seen (ClusterState). */
export interface ObjectCache {
  pod(namespace: string, name: string): SlimPod | undefined;
  pods(namespace: string): readonly SlimPod[];
  service(namespace: string, name: string): SlimService | undefined;
}

/** The Services of one namespace, its Pods' count, and the label pairs linking them. */
class NamespaceIndex {
  /** How many Pods of the namespace the index has seen (the Pods are the cache's). */
  pods = 0;
  /**
   * label pair → names of the Pods carrying it, for the label keys some indexed Service selects on
   * (`selectorKeys`) only: a Pod's other labels (pod-template-hash, version, chart, …) are never
   * looked up, and indexing them cost a member and often a map entry per workload and label.
   */
  readonly podsByPair: ByPair = new Map();
  /** label key → how many indexed Services select on it. */
  readonly selectorKeys = new Map<string, number>();
  /** Each Service with a selector, by name: the key of the pair it is anchored on (its selector is the cached Service's). */
  readonly services = new Map<string, string>();
  /** label pair → names of the Services anchored on it. */
  readonly servicesByAnchor: ByPair = new Map();

  get empty(): boolean {
    return this.pods === 0 && this.services.size === 0;
  }

  /**
   * A Service selects on these keys: the first to use a key indexes the namespace's Pods by it.
   * `podsOf` is called only then (the cache's list is a fresh array of every Pod of the namespace:
   * at start-up, Services whose keys are already indexed must not copy it once each).
   */
  useKeys(selector: Labels, podsOf: () => readonly SlimPod[]): void {
    let pods: readonly SlimPod[] | undefined;
    for (const k in selector) {
      if (!Object.hasOwn(selector, k)) continue;
      const n = this.selectorKeys.get(k) ?? 0;
      this.selectorKeys.set(k, n + 1);
      if (n > 0) continue;
      for (const pod of (pods ??= podsOf())) {
        const labels = pod.metadata.labels;
        if (labels && Object.hasOwn(labels, k)) addPair(this.podsByPair, k, labels[k] ?? '', pod.metadata.name);
      }
    }
  }

  /** A Service no longer selects on these keys: the last to use a key drops the Pods' index by it. */
  releaseKeys(selector: Labels): void {
    for (const k in selector) {
      if (!Object.hasOwn(selector, k)) continue;
      const n = (this.selectorKeys.get(k) ?? 1) - 1;
      if (n > 0) this.selectorKeys.set(k, n);
      else {
        this.selectorKeys.delete(k);
        this.podsByPair.delete(k);
      }
    }
  }

  /** Drops a Service anchored on `key` whose selector is not known any more: from every value of that key. */
  forgetService(key: string, name: string): void {
    const byValue = this.servicesByAnchor.get(key);
    for (const value of [...(byValue?.keys() ?? [])]) removePair(this.servicesByAnchor, key, value, name);
    // Its keys stay counted as used: the Pods stay indexed by them (lookups stay right).
  }

  /** Indexes (or, with `add` false, unindexes) a Pod under its labels whose keys a selector uses. */
  indexPod(pod: SlimPod, add: boolean): void {
    const labels = pod.metadata.labels;
    const name = pod.metadata.name;
    for (const k in labels) {
      if (!Object.hasOwn(labels, k) || !this.selectorKeys.has(k)) continue;
      if (add) addPair(this.podsByPair, k, labels[k] ?? '', name);
      else removePair(this.podsByPair, k, labels[k] ?? '', name);
    }
  }
}

/**
 * The selector links between the Pods and Services of a cluster (or of the namespaces watched).
 * Memory: one map entry per Pod, one member per Pod label a selector uses and one per Service.
 * Everything is held by namespace, then label key, then value, then name: the strings are the
 * objects' own (a workload's labels object is shared, slim.ts), where `namespace/key/value` pair
 * keys and `namespace/name` object keys cost a string each per Pod label and per Service (issue 11).
 */
export class SelectorIndex {
  private readonly namespaces = new Map<string, NamespaceIndex>();

  constructor(private readonly cache: ObjectCache) {}

  private namespace(namespace: string): NamespaceIndex {
    let ns = this.namespaces.get(namespace);
    if (!ns) this.namespaces.set(namespace, (ns = new NamespaceIndex()));
    return ns;
  }

  private dropIfEmpty(namespace: string, ns: NamespaceIndex): void {
    if (ns.empty) this.namespaces.delete(namespace);
  }

  /** The label keys by which the Pods of a namespace are indexed (for tests: only keys some selector uses). */
  indexedLabelKeys(namespace: string): string[] {
    return [...(this.namespaces.get(namespace)?.podsByPair.keys() ?? [])].sort();
  }

  /**
   * Records a Service (or its deletion). Only the Service itself is affected by its own selector
   * change (the Pods it selects are read when it is reconciled), so nothing is returned.
   */
  serviceChanged(service: SlimService, before: SlimService | undefined, deleted: boolean): void {
    const { namespace, name } = service.metadata;
    const selector = deleted ? undefined : service.spec.selector;
    let ns = this.namespaces.get(namespace);
    const anchorBefore = ns?.services.get(name);
    // The selector indexed for this Service is its previous version's (every version passes here).
    const selectorBefore = anchorBefore === undefined ? undefined : before?.spec.selector;
    if (anchorBefore !== undefined && selector && selectorBefore && jsonEqual(selectorBefore, selector)) return;
    // A Service without a selector selects no Pod (its endpoints are managed by hand): not indexed.
    const indexed = selector !== undefined && Object.keys(selector).length > 0;
    if (indexed) {
      ns ??= this.namespace(namespace);
      // The new keys are used before the old ones are released, so a key both use is not re-indexed.
      ns.useKeys(selector, () => this.cache.pods(namespace));
    }
    if (ns && anchorBefore !== undefined) {
      ns.services.delete(name);
      if (selectorBefore) {
        removePair(ns.servicesByAnchor, anchorBefore, selectorBefore[anchorBefore] ?? '', name);
        ns.releaseKeys(selectorBefore);
      } else ns.forgetService(anchorBefore, name); // no previous version to read (not expected): found by scanning
    }
    if (!indexed) {
      if (ns) this.dropIfEmpty(namespace, ns);
      return;
    }
    const into = ns ?? this.namespace(namespace);
    const anchor = rarestKey(selector, (k, v) => pairCount(into.podsByPair, k, v) + pairCount(into.servicesByAnchor, k, v)) ?? '';
    into.services.set(name, anchor);
    addPair(into.servicesByAnchor, anchor, selector[anchor] ?? '', name);
  }

  /**
   * Records a Pod (or its deletion), `before` being the version the cache held until this event
   * (the deleted one, for a deletion); returns the keys of the Services it affects: those whose
   * selector matched it before or matches it now (a relabel notifies both). None when the Pod
   * changed nothing hcsync reads (samePodForHcsync).
   */
  podChanged(pod: SlimPod, before: SlimPod | undefined, deleted: boolean): Set<string> {
    const { namespace } = pod.metadata;
    const ns = this.namespaces.get(namespace);
    if (!deleted && before && samePodForHcsync(before, pod)) return new Set();
    const affected = new Set<string>();
    if (ns && before) {
      this.servicesSelecting(ns, before, affected);
      ns.indexPod(before, false);
    }
    if (deleted) {
      if (ns && before) {
        ns.pods -= 1;
        this.dropIfEmpty(namespace, ns);
      }
      return affected;
    }
    const into = ns ?? this.namespace(namespace);
    if (!before) into.pods += 1;
    into.indexPod(pod, true);
    this.servicesSelecting(into, pod, affected);
    return affected;
  }

  /**
   * The Pods (of the Service's namespace) its selector selects, read from the Pods carrying its
   * rarest pair; a selector the index has not seen (no Pod indexed by any of its keys) is matched
   * against every Pod of the namespace.
   */
  podsFor(service: SlimService): SlimPod[] {
    const selector = service.spec.selector;
    const ns = this.namespaces.get(service.metadata.namespace);
    if (!selector || !ns) return [];
    const key = rarestKey(selector, (k, v) => (ns.selectorKeys.has(k) ? pairCount(ns.podsByPair, k, v) : Infinity));
    if (key === undefined) return [];
    const out: SlimPod[] = [];
    const namespace = service.metadata.namespace;
    if (!ns.selectorKeys.has(key)) {
      for (const pod of this.cache.pods(namespace)) if (selectorMatches(selector, pod.metadata.labels)) out.push(pod);
      return out;
    }
    for (const n of pairMembers(ns.podsByPair, key, selector[key] ?? '')) {
      const pod = this.cache.pod(namespace, n);
      if (pod && selectorMatches(selector, pod.metadata.labels)) out.push(pod);
    }
    return out;
  }

  /** Adds to `keys` the keys of the Services whose selector matches this Pod: those anchored on one of its labels, checked in full. */
  private servicesSelecting(ns: NamespaceIndex, pod: SlimPod, keys: Set<string>): void {
    const labels = pod.metadata.labels;
    for (const k in labels) {
      if (!Object.hasOwn(labels, k)) continue;
      for (const name of pairMembers(ns.servicesByAnchor, k, labels[k] ?? '')) {
        const s = this.cache.service(pod.metadata.namespace, name);
        if (s && selectorMatches(s.spec.selector, labels)) keys.add(keyOf({ namespace: pod.metadata.namespace, name }));
      }
    }
  }
}
